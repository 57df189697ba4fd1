"""What each charge point of a fleet does, decided without I/O: when its drivers come and go,
what they do at the charger, and how long it waits before dialling its Central System again.

Nothing here reads a clock, sleeps or touches a socket (no asyncio either), so every driver of
a fleet runs the same decisions: the asyncio fleet of `ocppsim fleet` and a gevent one (Locust).
Times are plain seconds on whatever clock the caller uses; randomness is a pure function of
(seed, charge point index, stream, counters), so a run is repeatable with `--seed`, and a charge
point does the same whichever worker process runs it.

* `unit(seed, *keys)`: a uniform number in [0, 1) from a counter-based generator (SplitMix64's
  finalizer over the keys): no per-charge-point generator state (a `random.Random` is 2.5 KB).
* `Backoff`: the reconnection back-off of OCPP 2.0.1 Part 4 ("Reconnecting", the
  OCPPCommCtrlr variables RetryBackOffWaitMinimum, RetryBackOffRandomRange and
  RetryBackOffRepeatTimes): the first retry after the minimum plus a random share of the range,
  the wait doubled after each failed attempt up to the repeat count, a new random share each time.
  With the random share, thousands of charge points that lost their link at once do not dial
  again in lock-step.
* `Sessions` (settings) and `SessionPlan` (one charge point's): charging sessions arrive as a
  Poisson process (exponential gaps at `sessions_per_hour`); each is a driver who plugs in,
  presents a badge, charges for a while, presents the badge again and unplugs (`Step`s).
* `free_points`, `perform`: what a step does to a sans-I/O charge point model
  (`core/station`: a 1.x `ChargePointModel` or a 2.x `ChargingStation`); the model returns the
  CALLs to send, so the answers to the Central System's CALLs keep coming from each model's own
  state.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ocppsim.core.station import ChargePointModel, ChargingStation, Outgoing, StationError

Model = ChargePointModel | ChargingStation

# -- randomness -----------------------------------------------------------------------------------

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15

#: The streams of random numbers a charge point draws from (one key each, so that they never
#: share values).
ARRIVAL_KEY, LENGTH_KEY, BADGE_KEY, PLUG_DELAY_KEY, BADGE_DELAY_KEY, LEAVE_DELAY_KEY, RETRY_KEY = (
    range(1, 8)
)


def _mix(value: int) -> int:
    """SplitMix64's finalizer: a 64-bit value whose bits all depend on every bit of `value`."""
    value = (value + _GOLDEN) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def draw(seed: int, *keys: int) -> int:
    """A 64-bit pseudo-random value determined by `seed` and `keys` (counters, indexes)."""
    value = _mix(seed & _MASK)
    for key in keys:
        value = _mix(value ^ (key & _MASK))
    return value


def unit(seed: int, *keys: int) -> float:
    """A uniform number in [0, 1) determined by `seed` and `keys`."""
    return (draw(seed, *keys) >> 11) * (1.0 / (1 << 53))


# -- reconnecting ------------------------------------------------------------------------------


#: OCPPCommCtrlr's RetryBackOffWaitMinimum, RetryBackOffRandomRange, RetryBackOffRepeatTimes
#: defaults (seconds, seconds, a count).
DEFAULT_WAIT_MINIMUM, DEFAULT_RANDOM_RANGE, DEFAULT_REPEAT_TIMES = 5.0, 10.0, 3


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long a charge point waits before it dials again (OCPP 2.0.1 Part 4, Reconnecting):
    `wait_minimum * 2 ** min(attempt, repeat_times) + random * random_range` seconds, `attempt`
    counting the failed attempts since the link was last up (0: the first try after losing it).
    The defaults are the OCPPCommCtrlr variables' (5 s, 10 s, 3 times)."""

    wait_minimum: float = DEFAULT_WAIT_MINIMUM
    random_range: float = DEFAULT_RANDOM_RANGE
    repeat_times: int = DEFAULT_REPEAT_TIMES

    def __post_init__(self) -> None:
        if self.wait_minimum < 0 or self.random_range < 0 or self.repeat_times < 0:
            raise ValueError("back-off values cannot be negative")
        if not (math.isfinite(self.wait_minimum) and math.isfinite(self.random_range)):
            raise ValueError("back-off values must be finite")

    def delay(self, attempt: int, jitter: float) -> float:
        """Seconds to wait before attempt `attempt + 1`, `jitter` in [0, 1) picking the random
        share."""
        doubled = self.wait_minimum * (1 << min(max(attempt, 0), self.repeat_times))
        return doubled + jitter * self.random_range

    def longest(self) -> float:
        """The longest wait it ever gives."""
        return self.wait_minimum * (1 << self.repeat_times) + self.random_range

    @classmethod
    def parse(cls, text: str) -> Backoff:
        """`5,10,3` (minimum, random range, doublings; the last two may be left out): ValueError
        saying what is wrong."""
        parts = [part.strip() for part in text.split(",")]
        if not 1 <= len(parts) <= 3 or not all(parts):
            raise ValueError(f"`{text}' is not MIN[,RANGE[,TIMES]] (seconds, seconds, a count)")
        try:
            minimum = float(parts[0])
            spread = float(parts[1]) if len(parts) > 1 else DEFAULT_RANDOM_RANGE
            times = int(parts[2]) if len(parts) > 2 else DEFAULT_REPEAT_TIMES
        except ValueError:
            raise ValueError(
                f"`{text}' is not MIN[,RANGE[,TIMES]] (seconds, seconds, a count)"
            ) from None
        return cls(minimum, spread, times)


def retry_jitter(seed: int, index: int, losses: int, attempt: int) -> float:
    """The random share of charge point `index`'s wait before attempt `attempt + 1` after its
    `losses`-th lost link (a different one for every loss and attempt)."""
    return unit(seed, index, RETRY_KEY, losses, attempt)


# -- charging sessions ---------------------------------------------------------------------------

#: What a driver does at the charger, in order: plug the EV in, present the badge (Authorize,
#: then the transaction starts), present it again to stop, unplug. `away`: a driver who found no
#: free connector (1.x) or EVSE (2.x) and left.
PLUG, BADGE, STOP, UNPLUG, AWAY = "plug", "badge", "stop", "unplug", "away"
#: Seconds between two steps of a driver (plugging in and badging, stopping and unplugging):
#: uniform in this range, at most a fifth of the session.
STEP_SECONDS = (5.0, 20.0)


class Step(NamedTuple):
    """One thing a driver does at `at` (seconds on the caller's clock) at connector (1.x) or EVSE
    (2.x) `point`, with badge `id_tag`; `session` numbers the charge point's sessions from 1."""

    at: float
    kind: str
    point: int
    id_tag: str
    session: int


@dataclass(frozen=True, slots=True)
class Sessions:
    """How a fleet's drivers behave: `per_hour` sessions arrive at each charge point per hour
    on average (a Poisson process; 0: none), each lasts `minutes` on average (uniform between
    half and one and a half times it, plugged in), with random numbers from `seed`."""

    per_hour: float = 1.0
    minutes: float = 30.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.per_hour) and self.per_hour >= 0):
            raise ValueError("sessions per hour must be 0 or more")
        if not (math.isfinite(self.minutes) and self.minutes > 0):
            raise ValueError("a session's length must be above 0")

    def plan(self, index: int, start: float) -> SessionPlan:
        """The plan of charge point number `index`, its first driver due after `start`."""
        return SessionPlan(self, index, start)


def badge_of(seed: int, index: int, session: int) -> str:
    """The badge of a session: 8 hexadecimal digits, like an RFID card's UID."""
    return f"{draw(seed, index, BADGE_KEY, session) & 0xFFFFFFFF:08X}"


class SessionPlan:
    """The sessions of one charge point: when the next driver arrives, and the steps of the
    sessions under way (a few tuples: lean enough for ten thousand per process)."""

    __slots__ = ("settings", "index", "count", "next_arrival", "steps")

    def __init__(self, settings: Sessions, index: int, start: float):
        self.settings = settings
        self.index = index
        #: sessions that arrived so far (turned away ones too)
        self.count = 0
        #: when the next driver arrives (None: no sessions)
        self.next_arrival: float | None = start + self._gap(1) if settings.per_hour > 0 else None
        #: the steps to come, in time order
        self.steps: list[Step] = []

    def _gap(self, session: int) -> float:
        """Seconds before session `session` arrives after the one before (exponential)."""
        rate = self.settings.per_hour / 3600.0
        u = unit(self.settings.seed, self.index, ARRIVAL_KEY, session)
        return -math.log(1.0 - u) / rate

    def next_due(self) -> float | None:
        """When something is next due (a driver arriving, a step), None when nothing is."""
        first = self.steps[0].at if self.steps else None
        arrival = self.next_arrival
        if first is None:
            return arrival
        return first if arrival is None or first < arrival else arrival

    def busy(self) -> set[int]:
        """The points a session under way holds."""
        return {step.point for step in self.steps}

    def take_due(self, now: float, free: Callable[[set[int]], int | None]) -> list[Step]:
        """The steps due at `now`, in order. A driver arriving takes the point `free(busy)`
        gives (a point the model can take, not one in `busy`), or leaves (`AWAY`) when it
        gives None."""
        due: list[Step] = []
        while True:
            arrival = self.next_arrival
            first = self.steps[0].at if self.steps else None
            if first is not None and first <= now and (arrival is None or first <= arrival):
                due.append(self.steps.pop(0))
                continue
            if arrival is None or arrival > now:
                return due
            self.count += 1
            session = self.count
            self.next_arrival = arrival + self._gap(session + 1)
            point = free(self.busy())
            tag = badge_of(self.settings.seed, self.index, session)
            if point is None:
                due.append(Step(arrival, AWAY, 0, tag, session))
                continue
            self._schedule(arrival, point, tag, session)

    def _schedule(self, arrival: float, point: int, tag: str, session: int) -> None:
        """The four steps of a session that arrives at `arrival` at `point`."""
        settings, index = self.settings, self.index
        seed = settings.seed
        length = settings.minutes * 60.0 * (0.5 + unit(seed, index, LENGTH_KEY, session))
        low, high = STEP_SECONDS
        most = length / 5.0

        def pause(stream: int) -> float:
            return min(most, low + (high - low) * unit(seed, index, stream, session))

        badge_at = arrival + pause(BADGE_DELAY_KEY)
        stop_at = max(arrival + length, badge_at + pause(PLUG_DELAY_KEY))
        leave_at = stop_at + pause(LEAVE_DELAY_KEY)
        steps = [
            Step(arrival, PLUG, point, tag, session),
            Step(badge_at, BADGE, point, tag, session),
            Step(stop_at, STOP, point, tag, session),
            Step(leave_at, UNPLUG, point, tag, session),
        ]
        self.steps = sorted([*self.steps, *steps], key=lambda step: step.at)


def take_all(plan: SessionPlan, until: float, free: Callable[[set[int]], int | None]) -> list[Step]:
    """Every step of `plan` up to `until` (what a run does, without a model: for tests)."""
    return plan.take_due(until, free)


# -- acting on a model ---------------------------------------------------------------------------


def free_points(model: Model, now: datetime, busy: Iterable[int] = ()) -> list[int]:
    """The connectors (1.x) or EVSEs (2.x) where a driver can start: nothing plugged, no
    transaction or driver waiting, Available, and not in `busy`."""
    taken = set(busy)
    if isinstance(model, ChargingStation):
        return [
            evse.id
            for evse in model.evses.values()
            if evse.id not in taken
            and evse.transaction is None
            and evse.authorization is None
            and not any(c.plugged for c in evse.connectors.values())
            and all(model.connector_status(evse.id, c) == "Available" for c in evse.connectors)
        ]
    return [
        connector.id
        for connector in model.connectors.values()
        if connector.id not in taken
        and connector.transaction is None
        and connector.authorized is None
        and not connector.plugged
        and model.connector_status(connector.id, now) == "Available"
    ]


def first_free(model: Model, now: datetime) -> Callable[[set[int]], int | None]:
    """A `free` function for `SessionPlan.take_due`: the first free point of `model`."""

    def free(busy: set[int]) -> int | None:
        points = free_points(model, now, busy)
        return points[0] if points else None

    return free


def _plugged(model: Model, point: int) -> bool:
    if isinstance(model, ChargingStation):
        evse = model.evses.get(point)
        return evse is not None and any(c.plugged for c in evse.connectors.values())
    connector = model.connectors.get(point)
    return connector is not None and connector.plugged


def _can_badge(model: Model, point: int) -> bool:
    """A driver's badge starts something at `point`: the cable is in and nothing holds it."""
    if not _plugged(model, point):
        return False
    if isinstance(model, ChargingStation):
        evse = model.evses[point]
        tx = evse.transaction
        return evse.authorization is None and (tx is None or not tx.authorized)
    connector = model.connectors[point]
    return connector.transaction is None and connector.authorized is None


def _can_stop(model: Model, point: int, id_tag: str) -> bool:
    """The badge `id_tag` has a transaction running at `point` to stop."""
    if isinstance(model, ChargingStation):
        evse = model.evses.get(point)
        tx = evse.transaction if evse is not None else None
        return (
            tx is not None
            and tx.authorized
            and tx.stop_reason is None
            and (tx.id_token or {}).get("idToken") == id_tag
        )
    connector = model.connectors.get(point)
    running = connector.transaction if connector is not None else None
    return running is not None and running.id_tag == id_tag


def applies(model: Model, step: Step) -> bool:
    """Whether `step` still makes sense at the charger of `model`: a cable to plug in where
    none is, a badge where a cable waits and nothing holds the point, a transaction of that
    badge to stop (not when the badge was refused or the Central System stopped it), a cable
    to unplug."""
    kind, point = step.kind, step.point
    if kind == PLUG:
        return not _plugged(model, point)
    if kind == BADGE:
        return _can_badge(model, point)
    if kind == STOP:
        return _can_stop(model, point, step.id_tag)
    if kind == UNPLUG:
        return _plugged(model, point)
    return False


def perform(model: Model, step: Step, now: datetime) -> list[Outgoing] | None:
    """Do `step` at the charger of `model`: the CALLs the model sends because of it, or None
    when the step no longer applies (`applies`) or the model cannot take it (a driver of the
    asyncio fleet does the same through its ModelDriver, whose CALLs then go out in order)."""
    if not applies(model, step):
        return None
    kind, point = step.kind, step.point
    try:
        if kind == PLUG:
            return model.plug_in(point, now)
        if kind in (BADGE, STOP):
            return model.present_badge(point, step.id_tag, now)
        return model.unplug(point, now)
    except StationError:
        return None


# -- charge point ids -----------------------------------------------------------------------------

#: `{n}` or `{n:05d}` in an id template: the charge point's number.
_FIELD = re.compile(r"\{n(:[^{}]*)?\}")


def id_template_problem(template: str) -> str | None:
    """Why `template` cannot name a fleet's charge points (None when it can): it needs one
    `{n}` field (`cp{n:05d}`), and each id must be non-empty."""
    if len(_FIELD.findall(template)) != 1 or template.count("{") != 1:
        return f"the id template `{template}' needs one {{n}} field, as in cp{{n:05d}}"
    try:
        charge_point_id(template, 0)
    except (ValueError, IndexError, KeyError) as exc:
        return f"the id template `{template}' cannot be formatted: {exc}"
    return None


def charge_point_id(template: str, index: int) -> str:
    """The id of charge point number `index` (from 0): `cp{n:05d}` → `cp00000`."""
    return template.format(n=index)
