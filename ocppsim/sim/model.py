"""Runs a sans-I/O charge point model (`core/station/`) for one simulated Charge Point, under
asyncio.

A `ModelDriver` is the asyncio binding of `ModelRunner` (`core/station/runner.py`, where what
the model asks for is decided): it stands between a `ChargePoint` and its model and does it:

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
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.core.station import ChargingStation, Reboot
from ocppsim.core.station.runner import (
    DEFAULT_POINTS,
    MAX_OUTBOX,
    SPIN_GUARD,
    TRANSACTION_ACTIONS,
    WALL_CLOCK,
    Clock,
    FastClock,
    Model,
    ModelRunner,
    WallClock,
    model_for,
)
from ocppsim.sim.log import ERROR
from ocppsim.sim.peer import CallFailed

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer

__all__ = [
    "DEFAULT_POINTS",
    "MAX_OUTBOX",
    "SPIN_GUARD",
    "TRANSACTION_ACTIONS",
    "WALL_CLOCK",
    "Clock",
    "FastClock",
    "Model",
    "ModelDriver",
    "Owner",
    "VariablesView",
    "WallClock",
    "describe",
    "model_for",
]

Payload = dict[str, Any]
_log = logging.getLogger("ocppsim.sim")

#: A timer that fires this close to the moment due ticks the model (a loop's clock may count
#: in milliseconds: waiting on for less could spin); the model tells what is due itself.
LATE_ENOUGH = 0.002


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


class ModelDriver(ModelRunner):
    """Runs one model for one Charge Point under asyncio (see the module docstring)."""

    __slots__ = ("_owner", "_task", "_timer", "_timer_at", "_due", "_idle")

    def __init__(self, model: Model, owner: Owner, clock: Clock = WALL_CLOCK):
        super().__init__(model, clock)
        self._owner = owner
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # the loop time the timer fires at
        self._due = 0.0  # the loop time the model is next due at (the timer may come first)
        self._idle: asyncio.Event | None = None  # made when someone waits for the outbox

    def __repr__(self) -> str:
        return f"<ModelDriver {self._owner.speaker} {type(self.model).__name__}>"

    # -- the link ------------------------------------------------------------------------

    def connected(self) -> None:
        """The link is up: boot (the first time, after a reboot, or while no boot was
        accepted), then whatever waited for the link goes out."""
        self.boot_if_due()
        self._kick()
        self._arm()

    def disconnected(self) -> None:
        """The link is down: no timer until it is up again; what is not about a transaction is
        dropped (the state it reports will be reported anew)."""
        self._cancel_timer()
        self.link_lost()

    def stop(self) -> None:
        """The Charge Point stops: no timer, no CALL goes out any more."""
        self.halt()
        self._cancel_timer()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self._wake_waiters()

    # -- sending --------------------------------------------------------------------------

    def _kick(self) -> None:
        """Start sending, unless it is under way or there is no link."""
        if self._task is not None or self._stopped:
            return
        if not self.has_work() or not self._owner.connected:
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
            while owner.connected and (sent := self.next_call()) is not None:
                peer = owner.peer
                assert peer is not None
                try:
                    await peer.call(sent.action, sent.payload)  # its answer: `heard`
                except CallFailed as exc:
                    self.failed(sent, exc.error is None and exc.reason != "timeout")
                    if exc.error is None and peer.transport == "soap":
                        # no link to lose and no answer: the failed post is all there is to see
                        owner.notice(f"Error: {sent.action} not sent: {exc.reason}.", ERROR)
            reboot = self.take_reboot()
            if reboot is not None and owner.connected:
                if not await owner.restart(reboot) and reboot.boot_again:
                    self.boot_in_place()
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
        the link is down). A timer due no later is kept, and `_fire` waits on from there to
        the moment due: each answer moves the heartbeat a little further (it is counted from
        the last exchange), and a new timer after each answer of a booting charge point (its
        boot, a StatusNotification per connector) cost more than the one wait on."""
        if not self._owner.connected:
            self._cancel_timer()
            return
        seconds = self.delay(after_tick)
        if seconds is None:
            self._cancel_timer()
            return
        loop = asyncio.get_running_loop()
        when = self._due = loop.time() + seconds
        if self._timer is not None:
            if self._timer_at <= when:
                return
            self._timer.cancel()
        # (uvloop's call_at of a moment past is a Handle without when(): the time is kept here)
        self._timer, self._timer_at = loop.call_at(when, self._fire), when

    def _fire(self) -> None:
        """The timer: what time brings (meter values, heartbeats, timeouts) goes out; a timer
        kept from before (`_arm`) waits on to the moment now due."""
        self._timer = None
        if self._stopped or not self._owner.connected:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._due - LATE_ENOUGH:
            self._timer, self._timer_at = loop.call_at(self._due, self._fire), self._due
            return
        self.tick()


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
