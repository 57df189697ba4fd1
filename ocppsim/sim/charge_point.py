"""The Charge Point simulator (SPEC §6, §7): reaches its Central System over its transport,
answers the Central System's CALLs and sends its own; an OCPP-J one dials again when its
connection is lost.

One class for every transport: what differs (dialling a WebSocket; a callback server for
SOAP requests and posting to the CS's URL) is a small client side picked by name
(`CLIENTS`). Once connected, nothing runs for an idle charge point: its link delivers
frames from the reading callback and tells its peer when it ends.

It is the public `ocppsim.ChargePoint`: the prompt runs them, and so does a user's test
(`async with ChargePoint(url, "cp01", version=…) as cp:`).
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable
from datetime import datetime, timezone
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.core import events, observe
from ocppsim.core.configuration import Configuration
from ocppsim.core.errors import OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import RpcSession
from ocppsim.core.station import ChargePointModel, ChargingStation, Reboot
from ocppsim.core.versions import default, get, resolve
from ocppsim.sim.behaviour import Behaviour, Handler
from ocppsim.sim.calls import send_call, send_message
from ocppsim.sim.central_system import NotConnected, transport_class
from ocppsim.sim.inbox import HISTORY, EventStream, Inbox, Received
from ocppsim.sim.link import Link
from ocppsim.sim.log import ERROR, INFO, LogConsumer
from ocppsim.sim.model import (
    DEFAULT_POINTS,
    WALL_CLOCK,
    Clock,
    ModelDriver,
    VariablesView,
    model_for,
)
from ocppsim.sim.peer import CallFailed, Peer
from ocppsim.sim.pinger import Pinger
from ocppsim.sim.resources import Resources
from ocppsim.transport import ConnectFailed

if TYPE_CHECKING:
    from ocppsim.security import TlsFailure
    from ocppsim.sim.faults import Fault, FaultTable
    from ocppsim.sim.security import ChargePointSecurity

#: The module and class of the client side of each transport (imported when used).
CLIENTS = {
    "websocket": ("ocppsim.sim.websocket", "WebsocketClient"),
    "soap": ("ocppsim.sim.soap", "SoapClient"),
}
#: On stop, how long the Central System gets to answer the close frame before the
#: connection is dropped (a CS that stopped reading never answers).
STOP_GRACE = 1.0
#: The most security events a Charge Point keeps while it cannot reach its Central System.
MAX_SECURITY_EVENTS = 10


def retry_delay() -> float:
    """Seconds between connection attempts (10, as the original; tests may shorten it)."""
    return float(os.environ.get("OCPPSIM_RETRY_SECONDS", "10"))


class ClientSide(Protocol):
    """How a Charge Point reaches its Central System on one transport."""

    #: whether a lost link is dialled again
    reconnects: bool

    async def connect(self) -> Link:
        """One attempt at a link (ConnectFailed says whether another may succeed)."""

    async def stop(self) -> None:
        """Give back what `connect` took."""


class ChargePoint:
    """One simulated Charge Point and its link to the Central System.

        async with ChargePoint(cs_url, "cp01", version="1.6") as cp:   # connected
            answer = await cp.call("BootNotification")                 # the default request
            reset = await cp.wait_for("Reset")                         # a CALL of the CS

    `url` is the Central System's (OCPP-J: the charge point appends its id); `version` is
    its OCPP version (`1.6` or `ocpp1.6`; the registry's default one when not given);
    `transport` is `websocket` (OCPP-J) or `soap`. An OCPP-J one dials again when its
    connection is lost. It keeps the last `history` CALLs it received for `wait_for`.

    By default it is a scripted peer: it sends what it is told to and answers with the
    version's default payloads (or `on_call` handlers). With `behave=True` it runs a model of
    a real charger (see `sim/model.py`): it boots on connection, reports its `points`
    connectors (1.x) or EVSEs (2.x), sends heartbeats and meter values on `clock`, answers
    from its state, and `badge`, `plug`, `unplug`, `faulted` act on it; the prompt's `start_cp`
    does so unless `--stateless`.
    """

    def __init__(
        self,
        url: str,
        charge_point_id: str,
        *,
        transport: str = "websocket",
        version: str | None = None,
        ping_interval: float = 0,
        variant: str | None = None,
        history: int = HISTORY,
        behaviour: Behaviour | None = None,
        bus: EventBus | None = None,
        resources: Resources | None = None,
        security: ChargePointSecurity | None = None,
        behave: bool = False,
        points: int = DEFAULT_POINTS,
        clock: Clock = WALL_CLOCK,
        **options: Any,
    ):
        # UnknownVersion (an OcppSimError) names the versions there are
        entry = resolve(version) if version is not None else default()
        self.url = url
        self.charge_point_id = charge_point_id
        self.transport = transport
        #: its subprotocol (`ocpp1.6`) and version name (`1.6`)
        self.protocol = entry.subprotocol
        self.version = entry.name
        self.variant = variant
        self.speaker = f"cp#{charge_point_id}"
        self.behaviour = behaviour or Behaviour("cp")
        self.bus = bus if bus is not None else EventBus(LogConsumer(), *observe.subscribers())
        self._own_resources = resources is None
        self.resources = resources if resources is not None else Resources()
        #: the model that keeps its state (None: a scripted, stateless one) and what runs it
        #: its store of CA certificates (InstallCertificate…), when it has a model
        self.certificates: Any = None
        services: dict[str, Any] = {}
        if behave and (entry.handles("cp", "InstallCertificate") or security is not None):
            from ocppsim.sim.security import certificate_services

            services = certificate_services(entry, security, self.notice)
            self.certificates = services["certificates"]
        self.model = (
            model_for(self.version, charge_point_id, points, **services) if behave else None
        )
        self.driver = ModelDriver(self.model, self, clock) if self.model is not None else None
        #: its configuration keys, kept across reconnections like a real Charge Point's: its
        #: model's (a 2.x station's device model, read as keys), else a store of its own
        self.configuration: Any
        if isinstance(self.model, ChargePointModel):
            self.configuration = self.model.configuration
        elif isinstance(self.model, ChargingStation):
            self.configuration = VariablesView(self.model)
        else:
            self.configuration = Configuration.for_version(self.version)
        #: what it presents to its Central System (TLS, Basic auth, a client certificate)
        self.security = security
        if security is not None:
            from ocppsim.sim.security import apply_options

            apply_options(self)
        #: security events to report once connected again (a TLS failure; at most a few)
        self.security_events: list[dict[str, Any]] = []
        self._booted = False  # a BootNotification was accepted: events may go out
        #: the last boot was answered Rejected, in a version where that silences it (1.6 §4.2)
        self._boot_rejected = False
        self._event_tasks: set[asyncio.Task[None]] = set()
        self.pinger = Pinger(ping_interval)
        self.peer: Peer | None = None
        #: the transport's client side (raises OcppSimError for a URL that cannot work)
        self.client: Any = transport_class(CLIENTS, transport)(self, **options)
        self._settled = asyncio.Event()  # no connection attempt is under way
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        #: loop time of the next connection attempt while waiting to retry, else None
        self._next_try: float | None = None
        #: why the charge point stopped trying for good (a 404, a URL that cannot work)
        self.failure: str | None = None
        #: why its last connection attempt failed, if it did
        self.last_failure: str | None = None
        #: told when the charge point gives up for good (the simulator forgets it)
        self.on_gave_up: Callable[[], None] | None = None
        self._inbox: Inbox | None = None
        if history:
            self._inbox = Inbox(self.speaker, history)
            self.bus.subscribe(self._inbox)
        self._streams: set[EventStream] = set()
        #: the faults set on it (`fault`), made on first use
        self.faults: FaultTable | None = None
        self._redial_now = False  # the link is dropped on purpose: dial again at once
        self._restarting = False  # a reboot closed the link: dial again at once

    @property
    def stateless(self) -> bool:
        """True when it answers with default payloads only (no model)."""
        return self.driver is None

    def notice(self, text: str, level: int = INFO) -> None:
        """A line about this Charge Point."""
        self.bus.notice(self.speaker, text, level)

    async def restart(self, reboot: Reboot) -> bool:
        """Reboot (a Reset): close the link and dial again at once; False when the transport
        has no connection to close (SOAP), so the model boots on the same link."""
        peer = self.peer
        self.notice(f"Rebooting ({reboot.reason}).")
        if not self.client.reconnects or peer is None:
            return False
        self._restarting = True
        try:
            await asyncio.wait_for(peer.close(1000, f"rebooting ({reboot.reason})"), STOP_GRACE)
        except (asyncio.TimeoutError, OSError, ConnectionError):
            peer.abort(1000, "rebooting")
        return True

    @property
    def connected(self) -> bool:
        """True while its link to the Central System is up."""
        return self.peer is not None and self.peer.connected

    def start(self) -> None:
        """Start connecting in the background (saying first what its security presents)."""
        if self.security is not None:
            from ocppsim.sim.security import current_profile

            text = self.security.describe(self.charge_point_id, current_profile(self))
            self.bus.notice(self.speaker, text)
        self._task = asyncio.create_task(self._connect(), name=f"charge point {self.speaker}")

    async def stop(self) -> None:
        """Close the link properly (close frame 1000), waiting for the Central System's
        answer `STOP_GRACE` seconds at most, then stop connecting."""
        self._stopping = True
        if self.driver is not None:
            self.driver.stop()
        task = self._task
        if task is not None:
            task.cancel()
            await asyncio.wait({task})  # our own cancellation still propagates
        for reporting in list(self._event_tasks):
            reporting.cancel()
        if self.faults is not None:
            self.faults.close()
        peer = self.peer
        if peer is not None and peer.connected:
            try:
                await asyncio.wait_for(peer.close(1000, "charge point stopped"), STOP_GRACE)
            except (asyncio.TimeoutError, OSError, ConnectionError):
                peer.abort(1000, "charge point stopped")
        self.pinger.stop()
        await self.client.stop()
        if self._own_resources:
            await self.resources.close()
        for stream in list(self._streams):
            stream.close()
        self._settled.set()

    async def ready(self) -> Peer:
        """The link, waiting for a connection attempt that is under way; NotConnected says
        why there is none and when the next try is."""
        if not self._settled.is_set():
            await self._settled.wait()
        if self.peer is not None and self.peer.connected:
            return self.peer
        raise NotConnected(f"{self.speaker} is not connected ({self._state()}).")

    async def __aenter__(self) -> ChargePoint:
        """Connect; NotConnected (and nothing left running) when the first attempt fails."""
        __tracebackhide__ = True
        self.start()
        try:
            await self.ready()
        except NotConnected:
            await self.stop()
            why = self.failure or self.last_failure or "not connected"
            raise NotConnected(f"{self.speaker} could not connect to {self.url}: {why}") from None
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- what a user of the API does ---------------------------------------------------------

    async def call(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> Any:
        """Send `action` to the Central System and return the payload of its CALLRESULT.

        Fields missing from `payload` come from the version's default request unless
        `defaults=False`; `validate=False` sends an invalid request on purpose and takes any
        answer. Raises CallError (a CALLERROR), CallTimeout, CallFailed, InvalidMessage,
        NotConnected."""
        __tracebackhide__ = True  # pytest shows the caller's line and the error
        peer = await self.ready()
        return await send_call(
            peer, action, payload, validate=validate, defaults=defaults, variant=self.variant
        )

    async def send(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> str:
        """Send the SEND `action` (OCPP 2.1: NotifyPeriodicEventStream) to the Central
        System: nothing answers it and nothing waits; its unique id once it went out. Fields
        missing from `payload` come from its default payload unless `defaults=False`;
        `validate=False` sends it unchecked. Raises InvalidMessage, CallFailed,
        NotConnected."""
        __tracebackhide__ = True
        peer = await self.ready()
        return await send_message(
            peer, action, payload, validate=validate, defaults=defaults, variant=self.variant
        )

    def on_send(self, action: str, handler: Handler | None = None) -> Any:
        """Hear the Central System's SENDs `action` (OCPP 2.1) with `handler(payload)` or
        `handler(payload, ctx)`; nothing answers a SEND, whatever it returns. Without
        `handler`, a decorator."""
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.behaviour.on_send(action, fn)
                return fn

            return decorator
        return self.behaviour.on_send(action, handler)

    def on_call(self, action: str, handler: Handler | None = None) -> Any:
        """Answer the Central System's CALLs `action` with `handler(payload)` or
        `handler(payload, ctx)` (plain or async; a dict returned is the answer, None leaves
        the Charge Point's own answer, raising CallError refuses). Without `handler`, a
        decorator."""
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.behaviour.on_call(action, fn)
                return fn

            return decorator
        return self.behaviour.on_call(action, handler)

    async def wait_for(self, action: str, *, timeout: float = 10.0) -> Received:
        """The first CALL `action` the Central System sent that no `wait_for` took yet,
        waiting for it up to `timeout` seconds (WaitTimeout)."""
        __tracebackhide__ = True
        if self._inbox is None:  # history=0: from now on only
            self._inbox = Inbox(self.speaker, 0)
            self.bus.subscribe(self._inbox)
        return await self._inbox.wait_for(action, None, timeout, self.speaker)

    def fault(
        self, kind: str, *, times: int | None = None, action: str | None = None, **options: Any
    ) -> Fault:
        """Inject a fault into what this Charge Point sends to its Central System:
        `fault("drop", times=2)`, `fault("clock-skew", seconds=-30)`; see
        ocppsim.sim.faults.KINDS. FaultError when it cannot be set."""
        from ocppsim.sim.faults import inject

        return inject(self, kind, times=times, action=action, **options)

    def clear_faults(self, kind: str | None = None) -> list[Fault]:
        """Clear the faults of `kind` (every kind when None); the faults cleared."""
        from ocppsim.sim.faults import clear

        return clear(self, kind)

    def events(self) -> EventStream:
        """The events of this Charge Point from now on: `async for event in cp.events()`."""
        stream = EventStream(self.bus, self.speaker, self._streams.discard)
        self._streams.add(stream)
        return stream

    def _state(self) -> str:
        """Why there is no link: `reconnecting, next try in 7 s`, `stopped: …`."""
        if self.failure is not None:
            return f"stopped: {self.failure}"
        if self._stopping:
            return "stopped"
        if self._next_try is not None:
            wait = max(0.0, self._next_try - asyncio.get_running_loop().time())
            return f"reconnecting, next try in {math.ceil(wait)} s"
        return "connecting"

    # -- connecting -------------------------------------------------------------------------

    async def _connect(self, first_delay: float = 0) -> None:
        """Connection attempts until one succeeds or cannot (a task only while connecting)."""
        if first_delay:
            await self._wait_to_retry(first_delay)
        while True:
            self._settled.clear()
            try:
                link = await self.client.connect()
            except ConnectFailed as exc:
                self.last_failure = exc.reason
                self._settled.set()
                if exc.tls is not None:
                    self._tls_failed(exc.tls)
                if not exc.retry:
                    self._give_up(exc.reason)
                    return
                self.bus.notice(
                    self.speaker,
                    f"Connect Error: {exc.reason}. Retry in {retry_delay():g} seconds ...",
                    ERROR,
                )
                await self._wait_to_retry(retry_delay())
                continue
            except BaseException:
                self._settled.set()
                raise
            self._attach(link)
            self._settled.set()
            return

    async def _wait_to_retry(self, delay: float) -> None:
        """Sleep until the next connection attempt (commands meanwhile say when it is)."""
        loop = asyncio.get_running_loop()
        self._next_try = loop.time() + delay
        try:
            await asyncio.sleep(delay)
        finally:
            self._next_try = None

    def _give_up(self, reason: str) -> None:
        """Stop for good: this start cannot succeed (the simulator forgets the charge point)."""
        self.failure = reason
        self.bus.notice(self.speaker, f"Connect Error: {reason}.", ERROR)
        if self.on_gave_up is not None:
            self.on_gave_up()
        self.bus.notice(
            self.speaker, "Charge point removed: fix its URL or options and start_cp it again."
        )

    def _attach(self, link: Link) -> None:
        """Connected: the link becomes the peer of this Charge Point's Central System."""
        session = RpcSession(self.version, "cp", variant=self.variant, unique_id=link.new_unique_id)
        peer = Peer(
            link,
            session,
            speaker=self.speaker,
            label="cs",
            charge_point_id=self.charge_point_id,
            bus=self.bus,
            answer=self._answer,
            quick_answer=self._quick_answer,
            on_result=self._on_result,
            on_send=self.behaviour.send_received,
            on_closed=self._detached,
            configuration=self.configuration,
            heard=self._heard,
            silent=self._silent,
        )
        self.peer = peer
        profile = getattr(link, "profile", None)
        self.bus.publish(
            events.Connected(
                self.speaker, "cs", link.transport, self.charge_point_id, self.protocol, profile
            )
        )
        self.behaviour.tell_connection("connected", self.charge_point_id)
        self.pinger.add(peer)
        if self.faults is not None:
            self.faults.attach(peer)
        peer.start()
        if self.driver is not None:
            self.driver.connected()  # its boot first
        if self._booted:
            self._report_security_events()

    def _detached(self, peer: Peer) -> None:
        """The link ended: dial again, unless the charge point is stopping."""
        self.pinger.discard(peer)
        if self.driver is not None:
            self.driver.disconnected()
        restarting, self._restarting = self._restarting, False
        if restarting and not self._stopping:  # a reboot: no error, dial again at once
            self.bus.publish(
                events.Disconnected(
                    self.speaker,
                    "cs",
                    peer.transport,
                    self.charge_point_id,
                    peer.link.close_description,
                )
            )
            self.behaviour.tell_connection("disconnected", self.charge_point_id)
            self._task = asyncio.get_running_loop().create_task(
                self._connect(), name=f"charge point {self.speaker}"
            )
            return
        retry = not self._stopping and self.client.reconnects
        delay = 0.0 if self._redial_now else retry_delay()
        self._redial_now = False
        self.bus.publish(
            events.Disconnected(
                self.speaker,
                "cs",
                peer.transport,
                self.charge_point_id,
                peer.link.close_description,
                retry_in=delay if retry else None,
            )
        )
        self.behaviour.tell_connection("disconnected", self.charge_point_id)
        if retry:
            self._task = asyncio.get_running_loop().create_task(
                self._connect(first_delay=delay), name=f"charge point {self.speaker}"
            )

    def drop(self, code: int = 1001, reason: str = "") -> None:
        """Drop the link now (a close frame if it can go, then the TCP connection) and dial
        again at once: one round of a reconnect storm."""
        peer = self.peer
        if peer is not None and peer.connected:
            self._redial_now = True
            peer.abort(code, reason)

    # -- answering ------------------------------------------------------------------------------

    def _local(self, action: str, payload: Any) -> Any:
        """This Charge Point's own answer: its model's, else (stateless) its configuration's
        for GetConfiguration and ChangeConfiguration; None for the version's default."""
        if self.driver is not None:
            return self.driver.answer(action, payload)
        return self.configuration.answer(action, payload)

    async def _answer(self, peer: Peer, action: str, payload: Any) -> Any:
        """A plugin's answer, else this Charge Point's own, else the default; the CALLs its
        model sends after the answer go once it is sent."""
        try:
            return await self.behaviour.answer(peer, action, payload, self._local)
        finally:
            if self.driver is not None:
                self.driver.answered()

    def _quick_answer(self, peer: Peer, action: str, payload: Any) -> Any:
        try:
            return self.behaviour.quick_answer(peer, action, payload, self._local)
        finally:
            if self.driver is not None:
                self.driver.answered()

    def _heard(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        """Every CALLRESULT this Charge Point gets, as it is read: its model hears of it (or,
        stateless, its configuration notes a boot's heartbeat interval)."""
        if action == "BootNotification" and isinstance(result, dict):
            rejected = result.get("status") == "Rejected"
            self._boot_rejected = rejected and get(self.version).silent_while_rejected
        if self.driver is not None:
            self.driver.heard(action, request, result)
        else:
            self.configuration.heard(action, result)

    def _silent(self, action: str) -> str | None:
        """Why a CALL of the Central System goes unanswered now: after a boot answered
        Rejected, OCPP 1.6 §4.2 has the Charge Point answer nothing until a boot is accepted
        (over OCPP-J; a SOAP request always gets its HTTP response)."""
        peer = self.peer
        if not self._boot_rejected or peer is None or peer.transport != "websocket":
            return None
        return (
            "the Central System rejected this charge point's boot, and while Rejected it answers"
            f" nothing ({get(self.version).title} §4.2) until a BootNotification is accepted"
        )

    # -- security events ------------------------------------------------------------------

    def _tls_failed(self, failure: TlsFailure) -> None:
        """A TLS failure reaching the Central System, kept to report once connected by other
        means (1.6 security whitepaper §2.4, 2.0.1 A00.FR.412: a security event)."""
        from ocppsim.sim.security import security_event

        when = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        payload = security_event(get(self.version), failure, when)
        if payload is None:
            return
        same = (payload["type"], payload["techInfo"])
        if any((kept["type"], kept["techInfo"]) == same for kept in self.security_events):
            return  # each retry fails the same way: one event says it
        self.security_events = [*self.security_events[-(MAX_SECURITY_EVENTS - 1) :], payload]

    def _report_security_events(self) -> None:
        """Send the security events kept (a task while they go out)."""
        pending, self.security_events = self.security_events, []
        if not pending or self.peer is None:
            return
        peer = self.peer

        async def report() -> None:
            for payload in pending:
                try:
                    await peer.call("SecurityEventNotification", payload)
                except (CallFailed, OcppSimError):
                    return  # its line is logged; the link is gone or the CS refused it

        task = asyncio.get_running_loop().create_task(report(), name=f"{self.speaker} events")
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    async def _on_result(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        if action == "BootNotification" and isinstance(result, dict):
            if result.get("status") == "Accepted" and not self._booted:
                self._booted = True
                self._report_security_events()
        await self.behaviour.result(peer, action, request, result)
