"""What every simulated charge point model shares, whatever its OCPP version: the values it
returns (`Outgoing`, `Reply`, `Reboot`), its exceptions, its clock handling, its connectors'
physical state and its energy meter.

The models are sans-I/O: every method takes `now`, an aware datetime, and a model never reads a
clock; what it wants sent comes back as values the simulator sends.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple, TypeVar

from ocppsim.core.errors import OcppSimError

Payload = dict[str, Any]
_T = TypeVar("_T")

#: The measurands every simulated meter gives, and their units (OCPP 1.6 §7.31, 2.0.1 Part 2
#: §3.44).
METER_UNITS = {
    "Energy.Active.Import.Register": "Wh",
    "Power.Active.Import": "W",
    "Current.Import": "A",
    "Voltage": "V",
}


class Outgoing(NamedTuple):
    """A CALL the model wants sent: its action and request payload."""

    action: str
    payload: Payload


class Reply(NamedTuple):
    """The model's answer to a CALL and the CALLs to send after it (in order)."""

    payload: Payload
    outgoing: list[Outgoing]


@dataclass(frozen=True, slots=True)
class Reboot:
    """Not a CALL but an instruction to the simulator: once what was returned is sent, close the
    connection, connect again and call the model's `boot` (a Reset, a new security profile).

    `reason` says why (`HardReset`, `SoftReset`, `SecurityProfile`); `boot_again` is False when
    only the connection is made again (a new security profile needs no BootNotification).
    """

    reason: str
    boot_again: bool = True


class StationError(OcppSimError):
    """A local event the model cannot take (an unknown EVSE or connector, a cable already
    plugged…); the text says why and what to do."""


class StationRefusal(OcppSimError):
    """A CALL the model answers with a CALLERROR rather than a result.

    `kind` is the kind of failure, named on the wire by the version's error dialect
    (`occurrence` → OccurrenceConstraintViolation / OccurenceConstraintViolation, `format` →
    FormatViolation / FormationViolation): too many items, too many bytes, or a payload the
    model cannot read.
    """

    def __init__(self, kind: str, description: str):
        super().__init__(description)
        self.kind = kind
        self.description = description


def wire_time(moment: datetime) -> str:
    """A date-time on the wire: UTC, milliseconds, `Z` (OCPP 2.0.1 Part 2 §2.1.4: at most 3
    decimals; RFC 3339 as the 1.x schemas' `date-time` asks)."""
    if moment.tzinfo is None:
        raise ValueError("the model needs aware datetimes (datetime.now(timezone.utc))")
    # isoformat ends in "+00:00" for UTC; it takes half the time of strftime
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")[:-6] + "Z"


#: the fractional seconds of a date-time (RFC 3339 allows any number of digits; Python reads 6)
_FRACTION = re.compile(r"(\.\d+)")


def parse_time(text: Any) -> datetime:
    """A date-time of a received payload (already schema-checked) as an aware datetime; a
    date-time without offset is taken as UTC, fractions of a second beyond microseconds are
    dropped."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a date-time")
    text = _FRACTION.sub(
        lambda m: (m.group(1) + "00000")[:7], text.replace("Z", "+00:00").replace("z", "+00:00")
    )
    moment = datetime.fromisoformat(text.replace("t", "T"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def next_on_grid(due: datetime, interval: float, now: datetime) -> datetime:
    """The first time on the grid `due + k * interval` after `now`."""
    steps = math.floor((now - due).total_seconds() / interval) + 1
    return due + timedelta(seconds=steps * interval)


def regrid(due: datetime | None, interval: float, now: datetime) -> datetime | None:
    """The next periodic sample once its interval may have changed: None when the interval is
    0 (off); `now + interval` when none is planned or the planned one is further away than one
    interval (a shorter interval set by the Central System counts from now, not from the next
    sample of the old one); else `due`."""
    if interval <= 0:
        return None
    step = timedelta(seconds=interval)
    if due is None or due > now + step:
        return now + step
    return due


def sample_due(due: datetime | None, interval: float, now: datetime) -> datetime:
    """When `tick` must next look at a periodic sample of `interval` > 0: `due`, or `now` when
    `regrid` would move it."""
    if due is None or due > now + timedelta(seconds=interval):
        return now
    return due


@dataclass(slots=True)
class Connector:
    """A connector: whether a cable is plugged, its own availability (and the one waiting for a
    transaction to end), a fault, a fixed cable (no lock to open)."""

    id: int
    plugged: bool = False
    operative: bool = True
    faulted: bool = False
    fixed_cable: bool = False
    pending_operative: bool | None = None


@dataclass(slots=True)
class Meter:
    """An energy meter that runs on the injected clock: the energy (Wh) at the last reading and
    when it was read."""

    energy_wh: float = 0.0
    read_at: datetime | None = None

    def run(self, now: datetime, power_w: float) -> float:
        """Read the meter at `now`, having delivered `power_w` since the last reading; the
        seconds that passed (0 on the first reading, or when the clock went back: nothing
        changes then)."""
        last = self.read_at
        if last is not None and now <= last:
            return 0.0
        self.read_at = now
        if last is None:
            return 0.0
        seconds = (now - last).total_seconds()
        self.energy_wh += power_w * seconds / 3600.0
        return seconds

    def readings(self, power_w: float, voltage: float, phases: int) -> dict[str, float]:
        """What the meter shows, by measurand (units as in METER_UNITS)."""
        return {
            "Energy.Active.Import.Register": round(self.energy_wh, 3),
            "Power.Active.Import": round(power_w, 3),
            "Current.Import": round(power_w / (voltage * phases), 3),
            "Voltage": voltage,
        }


class Liveness:
    """When a model last talked: heartbeats count the silence from there."""

    __slots__ = ("_last_activity",)

    def __init__(self) -> None:
        self._last_activity: datetime | None = None

    def _sent(self, now: datetime, out: list[_T]) -> list[_T]:
        """Note that the model talks now, when it does (the list is returned as it is)."""
        if out:
            self._last_activity = now
        return out

    def _silent(self, now: datetime, interval: float) -> bool:
        """True when the model said nothing for `interval` seconds (> 0) since it last talked."""
        last = self._last_activity
        return interval > 0 and last is not None and (now - last).total_seconds() >= interval

    def _heartbeat_due(self, interval: float) -> datetime | None:
        """When silence becomes long enough for a Heartbeat (None: no heartbeat to send)."""
        last = self._last_activity
        if interval <= 0 or last is None:
            return None
        return last + timedelta(seconds=interval)


def earliest(moments: Iterable[datetime | None]) -> datetime | None:
    """The earliest of the moments given (None ignored), None when there is none."""
    found: datetime | None = None
    for moment in moments:
        if moment is not None and (found is None or moment < found):
            found = moment
    return found


def next_slot(now: datetime, interval: int, slot: int | None) -> datetime | None:
    """When the next clock-aligned reading is due (every `interval` seconds from midnight UTC,
    OCPP 1.6 §3.16.2, 2.0.1 J01): `now` while none was taken yet (the first tick starts the
    grid), None when `interval` is 0 (off)."""
    if interval <= 0:
        return None
    if slot is None:
        return now
    return datetime.fromtimestamp((slot + 1) * interval, timezone.utc)
