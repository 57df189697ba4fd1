"""Runs a sans-I/O charge point model (`core/station/`) for one simulated Charge Point.

A `ModelDriver` stands between a `ChargePoint` and its model, and does what the model asks:

* on connection, `boot` (the first time, after a reboot, and while no boot was accepted); the
  StatusNotifications and heartbeats that follow come from the model;
* a CALL from the Central System: the model's `Reply` is the answer (unless a plugin answered
  first: then the model does not see the CALL), and its `outgoing` CALLs go out once the answer
  has; a `StationRefusal` is a CALLERROR of its kind in the version's dialect;
* the answer to any CALL its Charge Point sent (the model's, the prompt's, a plugin's) goes to
  `on_result`, a CALLERROR or timeout of one of the model's own to `on_failure`, and what
  follows is sent;
* one timer per Charge Point (`loop.call_at`) to the model's `next_due`: an idle Charge Point
  wakes only when something is due (its heartbeat), and holds no task; a task runs only while
  the model's CALLs are going out, one at a time, in order;
* `take_reboot()` (a Reset): once what was returned is sent, the Charge Point closes its
  connection, connects again and boots (over SOAP, where there is no connection to close, it
  boots again).

The clock is injected (`Clock`): real time by default, faster in tests (`FastClock`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import OcppError
from ocppsim.core.station import (
    ChargePointInfo,
    ChargePointModel,
    ChargingStation,
    Outgoing,
    Reboot,
    StationError,
    StationInfo,
    StationRefusal,
)
from ocppsim.core.station import station as station_module
from ocppsim.core.station.shapes import plays
from ocppsim.core.versions import get
from ocppsim.sim.log import ERROR
from ocppsim.sim.peer import CallFailed

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer

Payload = dict[str, Any]
Model = ChargePointModel | ChargingStation
_log = logging.getLogger("ocppsim.sim")

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


def model_for(version: str, identity: str, points: int = DEFAULT_POINTS) -> Model | None:
    """A fresh model of a Charge Point of `version` named `identity` with `points` connectors
    (1.x) or EVSEs (2.x), describing itself as the version's default BootNotification does
    (vendor DBT, model NQC-ACDC, …); None for a version no model plays."""
    if points < 1:
        raise ValueError("a Charge Point needs at least one connector")
    boot = default_payload(version, "BootNotificationRequest")
    if version in station_module.VERSIONS:
        station = boot.get("chargingStation", {})
        described = {name: station[field] for field, name in _INFO_2X.items() if station.get(field)}
        info = StationInfo(identity=identity, evses=(1,) * points, **described)
        return ChargingStation(version, info)
    if plays(get(version)):
        described = {name: boot[field] for field, name in _INFO_1X.items() if boot.get(field)}
        return ChargePointModel(
            version, ChargePointInfo(identity=identity, connectors=points, **described)
        )
    return None


# -- what the driver needs of its Charge Point -------------------------------------------------


class Owner(Protocol):
    """The Charge Point a driver runs the model of."""

    speaker: str
    peer: Peer | None

    @property
    def connected(self) -> bool:
        """True while its link is up."""

    def notice(self, text: str, level: int = ...) -> None:
        """A line about this Charge Point."""

    async def restart(self, reboot: Reboot) -> bool:
        """Reboot: close the link and connect again; False when there is no link to close
        (SOAP): the driver then boots on the same link."""


class ModelDriver:
    """Runs one model for one Charge Point (see the module docstring)."""

    __slots__ = (
        "model",
        "clock",
        "_owner",
        "_outbox",
        "_held",
        "_task",
        "_timer",
        "_reboot",
        "_boot_next",
        "_stopped",
        "_idle",
    )

    def __init__(self, model: Model, owner: Owner, clock: Clock = WALL_CLOCK):
        self.model = model
        self.clock = clock
        self._owner = owner
        self._outbox: deque[Outgoing] = deque()
        self._held: list[Outgoing] = []  # the follow-ups of an answer not sent yet
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._reboot: Reboot | None = None
        self._boot_next = True
        self._stopped = False
        self._idle: asyncio.Event | None = None  # made when someone waits for the outbox

    def __repr__(self) -> str:
        return f"<ModelDriver {self._owner.speaker} {type(self.model).__name__}>"

    @property
    def version(self) -> str:
        return self.model.version

    # -- the link ------------------------------------------------------------------------

    def connected(self) -> None:
        """The link is up: boot (the first time, after a reboot, or while no boot was
        accepted), then whatever waited for the link goes out."""
        if self._boot_next or self.model.registration != "Accepted":
            self._boot_next = False
            self._outbox.extendleft(reversed(self.model.boot(self.clock.now())))
        self._kick()
        self._arm()

    def disconnected(self) -> None:
        """The link is down: no timer until it is up again; what is not about a transaction is
        dropped (the state it reports will be reported anew)."""
        self._cancel_timer()
        kept = [o for o in self._outbox if o.action in TRANSACTION_ACTIONS]
        self._outbox = deque(kept[-MAX_OUTBOX:])

    def stop(self) -> None:
        """The Charge Point stops: no timer, no CALL goes out any more."""
        self._stopped = True
        self._cancel_timer()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self._outbox.clear()
        self._held.clear()
        self._wake_waiters()

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

    def _failed(self, sent: Outgoing, exc: CallFailed) -> None:
        """One of the model's CALLs got no CALLRESULT: a transaction message whose link went
        down waits for the next one; anything else the model hears of."""
        if exc.error is None and exc.reason != "timeout":
            if sent.action in TRANSACTION_ACTIONS and not self._stopped:
                self._outbox.appendleft(sent)
            return
        self._take(self.model.on_failure(sent.action, sent.payload, self.clock.now()))

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

    # -- sending --------------------------------------------------------------------------

    def _take(self, out: Iterable[Outgoing]) -> None:
        """CALLs the model wants sent now."""
        self._outbox.extend(out)
        self._trim()
        self._after()
        self._kick()

    def _after(self) -> None:
        """After any call to the model: a reboot it asks for, and the timer moved to what is
        due next."""
        reboot = getattr(self.model, "take_reboot", lambda: None)()
        if reboot is not None:
            self._reboot = reboot
        self._arm()

    def _trim(self) -> None:
        """At most MAX_OUTBOX CALLs wait: the oldest that is not about a transaction goes."""
        while len(self._outbox) > MAX_OUTBOX:
            for index, item in enumerate(self._outbox):
                if item.action not in TRANSACTION_ACTIONS:
                    del self._outbox[index]
                    break
            else:
                self._outbox.popleft()

    def _kick(self) -> None:
        """Start sending, unless it is under way or there is no link."""
        if self._task is not None or self._stopped:
            return
        if not (self._outbox or self._reboot) or not self._owner.connected:
            self._wake_waiters()
            return
        self._task = asyncio.get_running_loop().create_task(
            self._drain(), name=f"{self._owner.speaker} model"
        )

    async def _drain(self) -> None:
        """Send what waits, one CALL at a time (their answers feed the model and may add
        more), then reboot when the model asked for it."""
        owner = self._owner
        try:
            while self._outbox and owner.connected:
                sent = self._outbox.popleft()
                peer = owner.peer
                assert peer is not None
                try:
                    await peer.call(sent.action, sent.payload)  # its answer: `heard`
                except CallFailed as exc:
                    self._failed(sent, exc)
            reboot, self._reboot = self._reboot, None
            if reboot is not None and owner.connected:
                self._boot_next = reboot.boot_again
                if not await owner.restart(reboot) and reboot.boot_again:
                    self._boot_next = False
                    self._outbox.extendleft(reversed(self.model.boot(self.clock.now())))
                    self._arm()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug of ours: a line, and the Charge Point lives on
            _log.debug("model driver failed", exc_info=True)
            owner.notice(f"Error: the charge point model failed: {exc!r}", ERROR)
        finally:
            self._task = None
        self._kick()

    async def idle(self) -> None:
        """Wait until nothing the model wants sent is waiting (or the link is down)."""
        while self._task is not None or self._held:
            if self._idle is None:
                self._idle = asyncio.Event()
            self._idle.clear()
            await self._idle.wait()

    def _wake_waiters(self) -> None:
        if self._idle is not None:
            self._idle.set()

    # -- the timer ---------------------------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, after_tick: bool = False) -> None:
        """One timer, to when the model next has something to do (none when nothing is due or
        the link is down)."""
        self._cancel_timer()
        if self._stopped or not self._owner.connected:
            return
        now = self.clock.now()
        due = self.model.next_due(now)
        if due is None:
            return
        seconds = (due - now).total_seconds()
        if after_tick and seconds <= 0:
            seconds = SPIN_GUARD
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + max(0.0, self.clock.delay(seconds)), self._fire)

    def _fire(self) -> None:
        """The timer: what time brings (meter values, heartbeats, timeouts) goes out."""
        self._timer = None
        if self._stopped or not self._owner.connected:
            return
        out = self.model.tick(self.clock.now())
        self._outbox.extend(out)
        self._trim()
        reboot = getattr(self.model, "take_reboot", lambda: None)()
        if reboot is not None:
            self._reboot = reboot
        self._arm(after_tick=True)
        self._kick()


# -- configuration views --------------------------------------------------------------------------


class VariablesView:
    """A 2.x station's device model read like configuration keys (`ctx.configuration`): a key
    is `Component.Variable` or a variable's name alone (its first component's)."""

    __slots__ = ("_station",)

    def __init__(self, station: ChargingStation):
        self._station = station

    def _find(self, key: str) -> Any:
        component, _, variable = key.rpartition(".")
        for entry in self._station.model:
            if entry.variable.name.lower() != variable.lower():
                continue
            if component and entry.component.name.lower() != component.lower():
                continue
            return entry
        return None

    def get(self, key: str) -> str | None:
        entry = self._find(key)
        if entry is None or entry.definition.mutability == "WriteOnly":
            return None
        value: str | None = self._station.model.read(entry)
        return value

    def report(self, keys: list[str] | None = None) -> dict[str, Any]:
        entries = [self._find(k) for k in keys] if keys else list(self._station.model)
        known = []
        for entry in entries:
            if entry is None or entry.component.evse is not None:
                continue
            item: dict[str, Any] = {
                "key": f"{entry.component.name}.{entry.variable.name}",
                "readonly": entry.definition.mutability == "ReadOnly",
            }
            if entry.definition.mutability != "WriteOnly":
                item["value"] = self._station.model.read(entry)
            known.append(item)
        unknown = [k for k, e in zip(keys or [], entries, strict=False) if e is None]
        return {"configurationKey": known, "unknownKey": unknown}


# -- what `state` shows --------------------------------------------------------------------------

#: Configuration keys (1.x) and variables (2.x) `state` shows, when the version has them.
HIGHLIGHTS_1X = (
    "HeartbeatInterval",
    "MeterValueSampleInterval",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "LocalPreAuthorize",
    "AuthorizeRemoteTxRequests",
    "StopTransactionOnEVSideDisconnect",
)
HIGHLIGHTS_2X = (
    ("OCPPCommCtrlr", "HeartbeatInterval"),
    ("TxCtrlr", "TxStartPoint"),
    ("TxCtrlr", "TxStopPoint"),
    ("TxCtrlr", "EVConnectionTimeOut"),
    ("SampledDataCtrlr", "TxUpdatedInterval"),
    ("AlignedDataCtrlr", "Interval"),
    ("AuthCtrlr", "Enabled"),
    ("AuthCtrlr", "AuthorizeRemoteStart"),
)


def _clock(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(model: Model, now: datetime) -> list[str]:
    """What a person looking at the Charge Point sees: its connectors (1.x) or EVSEs (2.x)
    with their status, the transactions with their meter reading, reservations, and the
    configuration that drives its behaviour."""
    model.advance(now)
    lines = [f"boot {model.registration}, heartbeat every {model.heartbeat_interval} s"]
    if isinstance(model, ChargingStation):
        for evse in model.evses.values():
            parts = [
                f"connector {c.id} {model.connector_status(evse.id, c.id)}"
                + (" (cable plugged)" if c.plugged else "")
                for c in evse.connectors.values()
            ]
            line = f"EVSE {evse.id}: " + ", ".join(parts) + f"; meter {evse.energy_wh:.1f} Wh"
            tx = evse.transaction
            if tx is not None:
                token = (tx.id_token or {}).get("idToken", "no badge yet")
                line += (
                    f"; transaction {tx.transaction_id} for {token} since {_clock(tx.started_at)}"
                    f" ({'charging' if tx.authorized else 'not authorized'}, seqNo {tx.seq_no})"
                )
            elif evse.authorization is not None:
                token = evse.authorization.id_token.get("idToken")
                line += f"; {token} authorized, waiting for the cable"
            lines.append(line)
        values = []
        for component, variable in HIGHLIGHTS_2X:
            try:
                value = model.model.value(component, variable)
            except KeyError:
                continue
            values.append(f"{component}.{variable}={value}")
        lines.append("variables: " + ", ".join(values))
        return lines
    lines.append(f"connector 0: {model.connector_status(0, now)}")
    for connector in model.connectors.values():
        line = f"connector {connector.id}: {model.connector_status(connector.id, now)}"
        if connector.error_code != "NoError":
            line += f" ({connector.error_code})"
        if connector.plugged:
            line += ", cable plugged"
        line += f"; meter {connector.meter.energy_wh:.1f} Wh"
        running = connector.transaction
        if running is not None:
            ident = running.transaction_id if running.transaction_id is not None else "(id awaited)"
            charged = connector.meter.energy_wh - running.meter_start
            line += (
                f"; transaction {ident} for {running.id_tag} since {_clock(running.started_at)}"
                f" ({charged:.1f} Wh charged)"
            )
        elif connector.authorized is not None:
            line += f"; {connector.authorized.id_tag} authorized, waiting for the cable"
        lines.append(line)
    for reservation in model.reservations.values():
        lines.append(
            f"reservation {reservation.id} on connector {reservation.connector_id} for"
            f" {reservation.id_tag} until {_clock(reservation.expiry)}"
        )
    if len(model.profiles):
        lines.append(f"charging profiles: {len(model.profiles)} kept")
    values = [
        f"{key}={model.configuration.get(key)}"
        for key in HIGHLIGHTS_1X
        if model.configuration.definition(key) is not None
    ]
    lines.append("configuration: " + ", ".join(values))
    return lines
