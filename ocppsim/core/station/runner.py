"""Running a charge point model, sans-I/O: what every driver of a simulated Charge Point decides,
whatever runs it (asyncio in `sim/model.py`, gevent for Locust in `ocppsim/locust/`).

A `ModelRunner` stands between a link and a model (`core/station/`) and keeps what the model
wants sent:

* on connection, `boot` (the first time, after a reboot, and while no boot was accepted);
* a CALL from the Central System: the model's `Reply` is the answer and its `outgoing` CALLs
  are held until the answer has gone (`answered`); a `StationRefusal` is an `OcppError` of its
  kind in the version's dialect;
* the answer to any CALL its Charge Point sent goes to `heard`; a CALLERROR or timeout of one
  of the model's own to `failed` (a transaction message whose link went down waits for the next
  link instead);
* what time brings (`tick`) when `delay` says the model next has something to do;
* a reboot the model asks for (`take_reboot`, a Reset), for the driver to carry out.

A driver sends what `next_call` gives, one CALL at a time, and calls two hooks it overrides:
`_kick` (something may be waiting to go out) and `_arm` (the time of the next tick may have
moved). The clock is injected (`Clock`): real time by default, faster in tests (`FastClock`).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import OcppError
from ocppsim.core.station.charge_point import ChargePointInfo, ChargePointModel
from ocppsim.core.station.common import Outgoing, Reboot, StationError, StationRefusal
from ocppsim.core.station.shapes import plays
from ocppsim.core.station.station import VERSIONS as STATION_VERSIONS
from ocppsim.core.station.station import ChargingStation
from ocppsim.core.station.variables import StationInfo
from ocppsim.core.versions import get

Payload = dict[str, Any]
Model = ChargePointModel | ChargingStation

#: The connectors (OCPP 1.x) or EVSEs of one connector (2.x) of a simulated Charge Point: two,
#: as the original's charge box had (its default RemoteStartTransaction names connector 2).
DEFAULT_POINTS = 2
#: The most CALLs a Charge Point keeps waiting to go out (a link that stays down); beyond, the
#: oldest that is not about a transaction is dropped.
MAX_OUTBOX = 1000
#: CALLs that are kept while the link is down and sent once it is up again (OCPP 1.6 §4.7,
#: 2.0.1 E04: transaction-related messages are delivered, the rest is current state).
TRANSACTION_ACTIONS = frozenset(
    {"StartTransaction", "StopTransaction", "MeterValues", "TransactionEvent"}
)
#: Model seconds a timer waits at least after a tick that left something due (never a loop
#: that spins on a model that does not move on).
SPIN_GUARD = 1.0


# -- the clock -----------------------------------------------------------------------------------


class Clock(Protocol):
    """What a driver reads the time from: model time, and how long the loop waits for it."""

    def now(self) -> datetime:
        """The time now, as an aware datetime."""

    def delay(self, seconds: float) -> float:
        """Loop seconds until `seconds` of model time have passed."""


class WallClock:
    """Real time (UTC)."""

    __slots__ = ()

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def delay(self, seconds: float) -> float:
        return seconds


class FastClock:
    """Model time that runs `speed` times faster than real time, from `start` (tests: a
    heartbeat interval of a minute passes in a second at speed 60)."""

    __slots__ = ("speed", "_start", "_origin")

    def __init__(self, speed: float, start: datetime | None = None):
        if speed <= 0:
            raise ValueError("a clock's speed must be positive")
        self.speed = speed
        self._start = start if start is not None else datetime.now(timezone.utc)
        self._origin = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=(time.monotonic() - self._origin) * self.speed)

    def delay(self, seconds: float) -> float:
        return seconds / self.speed


WALL_CLOCK = WallClock()


# -- making a model --------------------------------------------------------------------------------

#: BootNotification fields of the 1.x default request and the ChargePointInfo field of each.
_INFO_1X = {
    "chargePointVendor": "vendor",
    "chargePointModel": "model",
    "chargePointSerialNumber": "serial_number",
    "chargeBoxSerialNumber": "charge_box_serial_number",
    "firmwareVersion": "firmware_version",
    "iccid": "iccid",
    "imsi": "imsi",
    "meterType": "meter_type",
    "meterSerialNumber": "meter_serial_number",
}
#: chargingStation fields of the 2.x default BootNotification and the StationInfo field of each.
_INFO_2X = {
    "vendorName": "vendor_name",
    "model": "model",
    "serialNumber": "serial_number",
    "firmwareVersion": "firmware_version",
}


def model_for(
    version: str, identity: str, points: int = DEFAULT_POINTS, **certificates: Any
) -> Model | None:
    """A fresh model of a Charge Point of `version` named `identity` with `points` connectors
    (1.x) or EVSEs (2.x), describing itself as the version's default BootNotification does
    (vendor DBT, model NQC-ACDC, …); None for a version no model plays. `certificates`: what
    its certificates need (`make_csr`, `accept_certificate`, `certificates`: the store)."""
    if points < 1:
        raise ValueError("a Charge Point needs at least one connector")
    boot = default_payload(version, "BootNotificationRequest")
    if version in STATION_VERSIONS:
        station = boot.get("chargingStation", {})
        described = {name: station[field] for field, name in _INFO_2X.items() if station.get(field)}
        info = StationInfo(identity=identity, evses=(1,) * points, **described)
        return ChargingStation(version, info, **certificates)
    if plays(get(version)):
        described = {name: boot[field] for field, name in _INFO_1X.items() if boot.get(field)}
        return ChargePointModel(
            version,
            ChargePointInfo(identity=identity, connectors=points, **described),
            **certificates,
        )
    return None


# -- the runner ------------------------------------------------------------------------------------


class ModelRunner:
    """What one simulated Charge Point's model wants sent, and when (see the module docstring);
    a driver subclasses it and overrides `_kick` and `_arm`."""

    __slots__ = ("model", "clock", "_outbox", "_held", "_reboot", "_boot_next", "_stopped")

    def __init__(self, model: Model, clock: Clock = WALL_CLOCK):
        self.model = model
        self.clock = clock
        self._outbox: deque[Outgoing] = deque()
        self._held: list[Outgoing] = []  # the follow-ups of an answer not sent yet
        self._reboot: Reboot | None = None
        self._boot_next = True
        self._stopped = False

    @property
    def version(self) -> str:
        return self.model.version

    # -- what a driver overrides ----------------------------------------------------------

    def _kick(self) -> None:
        """Something may wait to go out: start sending it (a driver's)."""

    def _arm(self, after_tick: bool = False) -> None:
        """The next tick may have moved: set the timer to `delay(after_tick)` (a driver's)."""

    # -- the link ----------------------------------------------------------------------------

    def boot_if_due(self) -> None:
        """The link is up: boot first (the first time, after a reboot, or while no boot was
        accepted)."""
        if self._boot_next or self.model.registration != "Accepted":
            self._boot_next = False
            self._outbox.extendleft(reversed(self.model.boot(self.clock.now())))

    def link_lost(self) -> None:
        """The link is down: what is not about a transaction is dropped (the state it reports
        will be reported anew)."""
        kept = [o for o in self._outbox if o.action in TRANSACTION_ACTIONS]
        self._outbox = deque(kept[-MAX_OUTBOX:])

    def halt(self) -> None:
        """The Charge Point stops: nothing goes out any more."""
        self._stopped = True
        self._outbox.clear()
        self._held.clear()

    @property
    def stopped(self) -> bool:
        return self._stopped

    # -- what goes out -----------------------------------------------------------------------

    def has_work(self) -> bool:
        """True when a CALL or a reboot waits."""
        return bool(self._outbox or self._reboot)

    def next_call(self) -> Outgoing | None:
        """The next CALL to send, None when none waits."""
        return self._outbox.popleft() if self._outbox else None

    def take_reboot(self) -> Reboot | None:
        """The reboot the model asked for, once what it returned before has been sent; the
        next connection boots when `boot_again`."""
        reboot, self._reboot = self._reboot, None
        if reboot is not None:
            self._boot_next = reboot.boot_again
        return reboot

    def boot_in_place(self) -> None:
        """A reboot with no connection to close (SOAP): boot again on the same link."""
        self._boot_next = False
        self._outbox.extendleft(reversed(self.model.boot(self.clock.now())))
        self._arm()

    # -- CALLs from the Central System ------------------------------------------------------

    def answer(self, action: str, payload: Any) -> Payload | None:
        """The model's answer to a CALL (its follow-ups held until `answered`), None for an
        action it leaves to the default answers; OcppError for a `StationRefusal`."""
        model = self.model
        if not model.handles(action) or not isinstance(payload, dict):
            return None
        try:
            reply = model.on_call(action, payload, self.clock.now())
        except StationRefusal as exc:
            code = get(model.version).errors.code(exc.kind)  # type: ignore[arg-type]
            raise OcppError(code, exc.description) from exc
        if reply is None:
            return None
        self._held += reply.outgoing
        self._after()
        return reply.payload

    def answer_or_default(self, action: str, payload: Any) -> Payload:
        """The model's answer, else the version's default answer (a driver with no plugins);
        OcppError for a `StationRefusal`."""
        answer = self.answer(action, payload)
        if answer is None:
            answer = default_payload(self.model.version, action + "Response")
        return answer

    def answered(self) -> None:
        """The answer to a CALL is on its way: the CALLs the model sends after it go now."""
        if self._held:
            self._outbox.extend(self._held)
            self._held = []
            self._trim()
        self._kick()

    # -- answers to the Charge Point's CALLs -----------------------------------------------

    def heard(self, action: str, request: Any, result: Any) -> None:
        """A CALL the Charge Point sent (whoever sent it) got its CALLRESULT."""
        if not isinstance(request, dict) or not isinstance(result, dict):
            return
        self._take(self.model.on_result(action, request, result, self.clock.now()))

    def failed(self, sent: Outgoing, link_lost: bool) -> None:
        """One of the model's CALLs got no CALLRESULT: a transaction message whose link went
        down (`link_lost`) waits for the next one; a CALLERROR or a timeout the model hears
        of."""
        if link_lost:
            if sent.action in TRANSACTION_ACTIONS and not self._stopped:
                self._outbox.appendleft(sent)
            return
        self._take(self.model.on_failure(sent.action, sent.payload, self.clock.now()))

    # -- time -------------------------------------------------------------------------------

    def delay(self, after_tick: bool = False) -> float | None:
        """Loop seconds until the model next has something to do, None when nothing is due
        (`after_tick`: never 0 right after a tick that left something due)."""
        if self._stopped:
            return None
        now = self.clock.now()
        due = self.model.next_due(now)
        if due is None:
            return None
        seconds = (due - now).total_seconds()
        if after_tick and seconds <= 0:
            seconds = SPIN_GUARD
        return max(0.0, self.clock.delay(seconds))

    def tick(self) -> None:
        """The timer fired: what time brings (meter values, heartbeats, timeouts) goes out."""
        self._outbox.extend(self.model.tick(self.clock.now()))
        self._trim()
        self._note_reboot()
        self._arm(after_tick=True)
        self._kick()

    # -- what the person at the charger does -------------------------------------------------

    def badge(self, id_tag: str, point: int | None = None) -> None:
        """A badge is presented at `point` (a connector in 1.x, an EVSE in 2.x): where its
        transaction or authorization is, else where a cable waits, else the first free one.
        StationError when the model cannot take it."""
        where = point if point is not None else self._point_for_badge(id_tag)
        self._take(self.model.present_badge(where, id_tag, self.clock.now()))

    def plug(self, point: int | None = None) -> None:
        """The EV is plugged in at `point` (else where a driver waits, else the first free
        one)."""
        where = point if point is not None else self._point_to_plug()
        self._take(self.model.plug_in(where, self.clock.now()))

    def unplug(self, point: int | None = None) -> None:
        """The cable is unplugged at `point` (else the first plugged one)."""
        where = point if point is not None else self._plugged_point()
        self._take(self.model.unplug(where, self.clock.now()))

    def faulted(self, point: int, faulted: bool = True, connector: int = 1) -> None:
        """A connector (1.x: `point`; 2.x: `connector` of EVSE `point`) becomes Faulted or
        recovers."""
        model = self.model
        now = self.clock.now()
        if isinstance(model, ChargingStation):
            self._take(model.set_fault(point, connector, now, faulted))
        else:
            self._take(model.set_fault(point, now, faulted))

    def points(self) -> list[int]:
        """The connector ids (1.x) or EVSE ids (2.x)."""
        model = self.model
        if isinstance(model, ChargingStation):
            return list(model.evses)
        return list(model.connectors)

    @property
    def point_name(self) -> str:
        """What a point is called: `connector` (1.x) or `EVSE` (2.x)."""
        return "EVSE" if isinstance(self.model, ChargingStation) else "connector"

    def _point_for_badge(self, id_tag: str) -> int:
        model = self.model
        if isinstance(model, ChargingStation):
            for evse in model.evses.values():
                tx, auth = evse.transaction, evse.authorization
                token = tx.id_token if tx is not None else auth.id_token if auth else None
                if token is not None and token.get("idToken") == id_tag:
                    return evse.id
            for evse in model.evses.values():
                if evse.transaction is None and any(c.plugged for c in evse.connectors.values()):
                    return evse.id
            for evse in model.evses.values():
                if evse.transaction is None and evse.authorization is None:
                    return evse.id
            return next(iter(model.evses))
        for connector in model.connectors.values():
            running, waiting = connector.transaction, connector.authorized
            tag = running.id_tag if running else waiting.id_tag if waiting else None
            if tag == id_tag:
                return connector.id
        for connector in model.connectors.values():
            if connector.transaction is None and connector.plugged:
                return connector.id
        for connector in model.connectors.values():
            if connector.transaction is None and connector.authorized is None:
                return connector.id
        return next(iter(model.connectors))

    def _point_to_plug(self) -> int:
        model = self.model
        if isinstance(model, ChargingStation):
            free = [
                e for e in model.evses.values() if not all(c.plugged for c in e.connectors.values())
            ]
            waiting = [e for e in free if e.authorization is not None or e.transaction is not None]
            chosen = waiting or free
            if not chosen:
                raise StationError("every EVSE is plugged in already")
            return chosen[0].id
        free_connectors = [c for c in model.connectors.values() if not c.plugged]
        waiting_connectors = [
            c for c in free_connectors if c.authorized is not None or c.transaction is not None
        ]
        picked = waiting_connectors or free_connectors
        if not picked:
            raise StationError("every connector is plugged in already")
        return picked[0].id

    def _plugged_point(self) -> int:
        model = self.model
        if isinstance(model, ChargingStation):
            for evse in model.evses.values():
                if any(c.plugged for c in evse.connectors.values()):
                    return evse.id
        else:
            for connector in model.connectors.values():
                if connector.plugged:
                    return connector.id
        raise StationError("nothing is plugged in")

    def take(self, out: Iterable[Outgoing]) -> None:
        """CALLs the model returned to something done to it directly (a fleet's session step):
        they go out, and the timer and a reboot are seen to."""
        self._take(out)

    # -- bookkeeping -------------------------------------------------------------------------

    def _take(self, out: Iterable[Outgoing]) -> None:
        """CALLs the model wants sent now."""
        self._outbox.extend(out)
        self._trim()
        self._after()
        self._kick()

    def _after(self) -> None:
        """After any call to the model: a reboot it asks for, and the timer moved to what is
        due next."""
        self._note_reboot()
        self._arm()

    def _note_reboot(self) -> None:
        reboot = getattr(self.model, "take_reboot", lambda: None)()
        if reboot is not None:
            self._reboot = reboot

    def _trim(self) -> None:
        """At most MAX_OUTBOX CALLs wait: the oldest that is not about a transaction goes."""
        while len(self._outbox) > MAX_OUTBOX:
            for index, item in enumerate(self._outbox):
                if item.action not in TRANSACTION_ACTIONS:
                    del self._outbox[index]
                    break
            else:
                self._outbox.popleft()
