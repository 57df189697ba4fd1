"""OCPP 1.6 smart charging, sans-I/O: the charging profiles a Charge Point keeps and the
composite schedule they make (OCPP 1.6 §3.13, §5.5 ClearChargingProfile, §5.7
GetCompositeSchedule, §5.16 SetChargingProfile, §7.7-7.9 the profile types).

The rules applied:

* purposes (§3.13.1): a ChargePointMaxProfile (on connector 0) caps the whole Charge Point; a
  TxDefaultProfile applies to new transactions, on one connector or (connector 0) on all; a
  TxProfile applies to the running transaction of its connector and overrides the
  TxDefaultProfiles while its schedule runs. The composite is the least of the
  ChargePointMaxProfile's limit, the transaction's limit and the hardware's (§3.13.4).
* stack levels (§3.13.2): at any moment the profile with the highest stackLevel among those
  valid then (validFrom/validTo) whose schedule covers that moment prevails; where its schedule
  has ended (duration) the next lower one does. A TxDefaultProfile of a connector wins over one
  of connector 0 at the same stack level.
* kinds (§7.8, §7.9): an Absolute schedule starts at startSchedule (without it, as a Relative
  one); a Relative one at the start of the transaction (when none runs: at the time asked);
  a Recurring one at startSchedule and again every day (Daily) or week (Weekly), backwards too.
* units: A and W convert at the Charge Point's voltage and the period's numberPhases (the
  Charge Point's phases when absent); a limit given back is rounded down to 0.1 (the schemas'
  multipleOf).
* a duration of 0 is read as no duration (some Central Systems send it for "open-ended").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from ocppsim.core.errors import OcppSimError
from ocppsim.core.station.common import Payload, parse_time

CHARGE_POINT_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX_PROFILE = "TxProfile"
PURPOSES = (CHARGE_POINT_MAX, TX_DEFAULT, TX_PROFILE)
#: seconds between two starts of a Recurring profile (OCPP 1.6 §7.50 RecurrencyKindType)
CYCLES = {"Daily": 86_400, "Weekly": 7 * 86_400}
#: the most periods a composite schedule lists; a longer one ends (duration) where they stop
MAX_COMPOSITE_PERIODS = 1000
#: the most recurrences looked at for one composite schedule (20 years of a Daily profile)
_MAX_CYCLES = 7400
#: ChargingScheduleAllowedChargingRateUnit names (OCPP 1.6 §9.4.2) of each unit
UNIT_NAMES = {"A": "Current", "W": "Power"}


class ProfileRefused(OcppSimError):
    """A SetChargingProfile the Charge Point answers Rejected; the text says why."""


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    """ChargingSchedulePeriod: from `start` seconds into the schedule, at most `limit`."""

    start: int
    limit: float
    phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    """A charging profile as kept by the Charge Point (OCPP 1.6 §7.7), with the connector it
    was set on."""

    connector_id: int
    id: int
    stack_level: int
    purpose: str
    kind: str
    unit: str
    periods: tuple[SchedulePeriod, ...]
    start_schedule: datetime | None = None
    duration: int | None = None
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: int | None = None
    min_rate: float | None = None

    def with_transaction(self, transaction_id: int) -> ChargingProfile:
        """The same TxProfile bound to a transaction (once its id is known)."""
        return replace(self, transaction_id=transaction_id)

    def valid_at(self, moment: datetime) -> bool:
        """True within validFrom (included) and validTo (excluded)."""
        if self.valid_from is not None and moment < self.valid_from:
            return False
        return self.valid_to is None or moment < self.valid_to

    def schedule_start(self, moment: datetime, anchor: datetime) -> datetime:
        """Where the schedule that may cover `moment` started (`anchor`: the start of a Relative
        schedule)."""
        if self.kind == "Recurring" and self.start_schedule is not None:
            cycle = CYCLES[self.recurrency or "Daily"]
            cycles = math.floor((moment - self.start_schedule).total_seconds() / cycle)
            return self.start_schedule + timedelta(seconds=cycles * cycle)
        if self.kind == "Absolute" and self.start_schedule is not None:
            return self.start_schedule
        return anchor

    def period_at(self, moment: datetime, anchor: datetime) -> SchedulePeriod | None:
        """The period in force at `moment`, None when the profile is not valid then or its
        schedule does not cover it."""
        if not self.valid_at(moment):
            return None
        offset = (moment - self.schedule_start(moment, anchor)).total_seconds()
        if offset < 0 or (self.duration is not None and offset >= self.duration):
            return None
        found = None
        for period in self.periods:
            if period.start > offset:
                break
            found = period
        return found

    def changes(self, start: datetime, end: datetime, anchor: datetime) -> Iterator[datetime]:
        """Every moment in [start, end) where what this profile says may change."""
        for moment in (self.valid_from, self.valid_to):
            if moment is not None:
                yield moment
        for begin in self._starts(start, end, anchor):
            for period in self.periods:
                yield begin + timedelta(seconds=period.start)
            if self.duration is not None:
                yield begin + timedelta(seconds=self.duration)

    def _starts(self, start: datetime, end: datetime, anchor: datetime) -> Iterator[datetime]:
        """The schedule's starts that may matter in [start, end)."""
        if self.kind == "Recurring" and self.start_schedule is not None:
            cycle = timedelta(seconds=CYCLES[self.recurrency or "Daily"])
            begin = self.schedule_start(start, anchor)
            for _ in range(_MAX_CYCLES):
                if begin >= end:
                    return
                yield begin
                begin += cycle
            return
        yield self.schedule_start(start, anchor)


def read_profile(connector_id: int, wire: Payload) -> ChargingProfile:
    """A ChargingProfileType payload (schema-checked) as a ChargingProfile; ProfileRefused for
    one the specification does not allow (OCPP 1.6 §7.7-7.10)."""
    schedule = wire["chargingSchedule"]
    raw_periods = schedule["chargingSchedulePeriod"]
    if not raw_periods:
        raise ProfileRefused("the chargingSchedule has no chargingSchedulePeriod")
    periods = []
    for raw in raw_periods:
        phases = raw.get("numberPhases")
        if phases is not None and phases not in (1, 2, 3):
            raise ProfileRefused(f"numberPhases {phases} is not 1, 2 or 3")
        if raw["limit"] < 0:
            raise ProfileRefused(f"limit {raw['limit']} is negative")
        periods.append(SchedulePeriod(int(raw["startPeriod"]), float(raw["limit"]), phases))
    if periods[0].start != 0:
        raise ProfileRefused("the first chargingSchedulePeriod must start at 0 (§7.10)")
    if any(b.start <= a.start for a, b in zip(periods, periods[1:], strict=False)):
        raise ProfileRefused("startPeriod values must increase (§7.10)")
    kind = wire["chargingProfileKind"]
    recurrency = wire.get("recurrencyKind")
    start_schedule = schedule.get("startSchedule")
    if kind == "Recurring" and (recurrency is None or start_schedule is None):
        raise ProfileRefused("a Recurring profile needs recurrencyKind and startSchedule (§7.8)")
    duration = schedule.get("duration")
    if duration is not None and duration < 0:
        raise ProfileRefused(f"duration {duration} is negative")
    valid_from = _time(wire.get("validFrom"))
    valid_to = _time(wire.get("validTo"))
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise ProfileRefused("validTo is not after validFrom")
    minimum = schedule.get("minChargingRate")
    return ChargingProfile(
        connector_id=connector_id,
        id=int(wire["chargingProfileId"]),
        stack_level=int(wire["stackLevel"]),
        purpose=wire["chargingProfilePurpose"],
        kind=kind,
        unit=schedule["chargingRateUnit"],
        periods=tuple(periods),
        start_schedule=_time(start_schedule),
        duration=duration or None,
        recurrency=recurrency if kind == "Recurring" else None,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=wire.get("transactionId"),
        min_rate=float(minimum) if minimum is not None else None,
    )


def _time(value: Any) -> datetime | None:
    return parse_time(value) if value is not None else None


class Electrical(NamedTuple):
    """What converts amperes to watts and bounds every schedule: the supply voltage, the phases
    used when a period does not say, the most current a connector gives."""

    voltage: float
    phases: int
    max_current_a: float

    def convert(self, limit: float, unit: str, wanted: str, phases: int | None) -> float:
        """`limit` in `unit` (A or W) expressed in `wanted`."""
        if unit == wanted:
            return limit
        factor = self.voltage * (phases or self.phases)
        return limit * factor if wanted == "W" else limit / factor


class Limit(NamedTuple):
    """A limit in force: its value (in the unit asked), and the phases its period names."""

    value: float
    phases: int | None


def round_limit(value: float) -> float:
    """A limit rounded down to 0.1 (never above what the profiles allow)."""
    return math.floor(value * 10 + 1e-6) / 10


class ChargingProfiles:
    """The charging profiles of one Charge Point: installed, replaced, cleared, and combined
    into what a connector may draw."""

    __slots__ = ("profiles",)

    def __init__(self) -> None:
        self.profiles: list[ChargingProfile] = []

    def __len__(self) -> int:
        return len(self.profiles)

    def install(self, profile: ChargingProfile) -> None:
        """Keep a profile, replacing one with the same id, or with the same stack level and
        purpose on the same connector (OCPP 1.6 §5.16.2)."""
        self.profiles = [
            p
            for p in self.profiles
            if p.id != profile.id
            and not (
                p.stack_level == profile.stack_level
                and p.purpose == profile.purpose
                and p.connector_id == profile.connector_id
            )
        ]
        self.profiles.append(profile)

    def replaces(self, profile: ChargingProfile) -> bool:
        """True when installing `profile` replaces one already kept (the count stays)."""
        return any(
            p.id == profile.id
            or (
                p.stack_level == profile.stack_level
                and p.purpose == profile.purpose
                and p.connector_id == profile.connector_id
            )
            for p in self.profiles
        )

    def clear(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """ClearChargingProfile (OCPP 1.6 §5.5): the profile of that id, or every one matching
        the criteria given (all of them when none is); True when any was removed."""

        def matches(p: ChargingProfile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return (
                (connector_id is None or p.connector_id == connector_id)
                and (purpose is None or p.purpose == purpose)
                and (stack_level is None or p.stack_level == stack_level)
            )

        kept = [p for p in self.profiles if not matches(p)]
        removed = len(kept) != len(self.profiles)
        self.profiles = kept
        return removed

    def end_transaction(self, connector_id: int) -> None:
        """A transaction ended: its TxProfiles go (OCPP 1.6 §3.13.1)."""
        self.profiles = [
            p
            for p in self.profiles
            if not (p.purpose == TX_PROFILE and p.connector_id == connector_id)
        ]

    def bind(self, connector_id: int, transaction_id: int) -> None:
        """The transaction of a connector got its id: its TxProfiles given without one get it."""
        self.profiles = [
            p.with_transaction(transaction_id)
            if p.purpose == TX_PROFILE
            and p.connector_id == connector_id
            and p.transaction_id is None
            else p
            for p in self.profiles
        ]

    # --- what applies -------------------------------------------------------------------------

    def _layers(
        self, connector_id: int, transaction: bool, transaction_id: int | None
    ) -> list[list[list[ChargingProfile]]]:
        """The layers whose least limit applies to a connector, each a list of tiers (the first
        tier that has something to say wins), each tier ordered by precedence."""

        def ordered(profiles: Iterable[ChargingProfile]) -> list[ChargingProfile]:
            return sorted(profiles, key=lambda p: (-p.stack_level, p.connector_id == 0))

        cp_max = ordered(p for p in self.profiles if p.purpose == CHARGE_POINT_MAX)
        layers = [[cp_max]] if cp_max else []
        if connector_id == 0:
            return layers
        tiers = []
        if transaction:
            tiers.append(
                ordered(
                    p
                    for p in self.profiles
                    if p.purpose == TX_PROFILE
                    and p.connector_id == connector_id
                    and (p.transaction_id is None or p.transaction_id == transaction_id)
                )
            )
        tiers.append(
            ordered(
                p
                for p in self.profiles
                if p.purpose == TX_DEFAULT and p.connector_id in (0, connector_id)
            )
        )
        tiers = [t for t in tiers if t]
        if tiers:
            layers.append(tiers)
        return layers

    def limit_at(
        self,
        moment: datetime,
        connector_id: int,
        anchor: datetime,
        unit: str,
        electrical: Electrical,
        *,
        transaction: bool = False,
        transaction_id: int | None = None,
        hardware: float | None = None,
    ) -> Limit:
        """The limit in force on a connector at `moment`, in `unit`: the least of the hardware's
        and of each layer's prevailing profile."""
        layers = self._layers(connector_id, transaction, transaction_id)
        return _limit(layers, moment, anchor, unit, electrical, hardware)

    def composite(
        self,
        connector_id: int,
        start: datetime,
        duration: int,
        unit: str,
        anchor: datetime,
        electrical: Electrical,
        *,
        transaction: bool = False,
        transaction_id: int | None = None,
        hardware: float | None = None,
    ) -> tuple[int, list[Payload]]:
        """The composite schedule of a connector from `start` for `duration` seconds (OCPP 1.6
        §3.13.4, §5.7): its duration (shorter than asked only when it has more than
        MAX_COMPOSITE_PERIODS periods) and its ChargingSchedulePeriods."""
        layers = self._layers(connector_id, transaction, transaction_id)
        end = start + timedelta(seconds=duration)
        moments = {start}
        for layer in layers:
            for tier in layer:
                for profile in tier:
                    moments.update(
                        m for m in profile.changes(start, end, anchor) if start < m < end
                    )
        periods: list[Payload] = []
        last: Limit | None = None
        for moment in sorted(moments):
            limit = _limit(layers, moment, anchor, unit, electrical, hardware)
            rounded = Limit(round_limit(limit.value), limit.phases)
            if rounded == last:
                continue
            if len(periods) == MAX_COMPOSITE_PERIODS:
                return int((moment - start).total_seconds()), periods
            last = rounded
            period: Payload = {
                "startPeriod": int((moment - start).total_seconds()),
                "limit": rounded.value,
            }
            if rounded.phases is not None:
                period["numberPhases"] = rounded.phases
            periods.append(period)
        return duration, periods


def _prevailing(
    tier: Sequence[ChargingProfile], moment: datetime, anchor: datetime
) -> tuple[ChargingProfile, SchedulePeriod] | None:
    """The profile of highest precedence in a tier whose schedule covers `moment`."""
    for profile in tier:
        period = profile.period_at(moment, anchor)
        if period is not None:
            return profile, period
    return None


def _limit(
    layers: Sequence[Sequence[Sequence[ChargingProfile]]],
    moment: datetime,
    anchor: datetime,
    unit: str,
    electrical: Electrical,
    hardware: float | None,
) -> Limit:
    """The least limit of the layers at `moment` (in `unit`), capped by the hardware (in A)."""
    best: Limit | None = None
    if hardware is not None:
        best = Limit(electrical.convert(hardware, "A", unit, None), None)
    for layer in layers:
        for tier in layer:
            found = _prevailing(tier, moment, anchor)
            if found is None:
                continue
            profile, period = found
            value = electrical.convert(period.limit, profile.unit, unit, period.phases)
            if best is None or value < best.value:
                best = Limit(value, period.phases)
            break
    return best if best is not None else Limit(math.inf, None)
