"""The Central System simulator (SPEC §5, §7): accepts Charge Points over its transport,
answers their CALLs, sends `remote_*` CALLs, and pings them. It is the public
`ocppsim.CentralSystem`: the prompt runs one, and so does a user's test
(`async with CentralSystem() as cs:`).

One class for every transport: what differs (a WebSocket server; an HTTP server routing
SOAP requests on chargeBoxIdentity) is a small server side picked by name (`SERVERS`),
which calls `attach` when a charge point shows up. A link ends by itself (the connection
closed; a SOAP box forgotten) and the Central System hears of it from its peer.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Coroutine, Iterable
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.core import events, observe
from ocppsim.core.central import CentralSystemModel
from ocppsim.core.errors import OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import RpcSession
from ocppsim.core.versions import resolve, subprotocols
from ocppsim.sim.behaviour import Behaviour, Handler
from ocppsim.sim.calls import send_call, send_message
from ocppsim.sim.collector import COLLECTOR, LARGE
from ocppsim.sim.inbox import HISTORY, EventStream, Inbox, Received
from ocppsim.sim.link import Link
from ocppsim.sim.log import LogConsumer
from ocppsim.sim.peer import Peer
from ocppsim.sim.pinger import Pinger
from ocppsim.sim.resources import Resources

if TYPE_CHECKING:
    from ocppsim.sim.faults import Fault, FaultTable
    from ocppsim.sim.security import CentralSystemSecurity, CsrSigning

#: The module and class of the server side of each transport (imported when used, so that
#: an OCPP-J process loads no XML library).
SERVERS = {
    "websocket": ("ocppsim.sim.websocket", "WebsocketServer"),
    "soap": ("ocppsim.sim.soap", "SoapServer"),
}
#: How many charge points that left a Central System remembers, to say when they left.
REMEMBERED_DEPARTURES = 1000
#: The answers the Central System's model reads, whoever gave them (a plugin's too).
_WATCHED = frozenset({"BootNotification", "StartTransaction"})


class ServerSide(Protocol):
    """How a Central System receives charge points on one transport."""

    async def start(self) -> int:
        """Listen; returns the port (OSError when it cannot be bound)."""

    async def stop(self) -> None:
        """Stop listening; end every link."""


def transport_class(table: dict[str, tuple[str, str]], transport: str) -> Any:
    """The class that implements `transport` in `table` (OcppSimError for an unknown one)."""
    try:
        module, name = table[transport]
    except KeyError:
        known = " or ".join(table)
        raise OcppSimError(f"Error: unknown transport `{transport}' (use {known}).") from None
    return getattr(importlib.import_module(module), name)


class NotConnected(OcppSimError):
    """No link to that peer: a charge point not connected, or one not connected yet."""


def served_protocols(versions: str | Iterable[str] | None, transport: str) -> tuple[str, ...]:
    """The subprotocols of `versions` (names `1.6` or subprotocols `ocpp1.6`, one or several),
    every version `transport` carries when None."""
    if versions is None:
        return subprotocols(transport)
    if isinstance(versions, str):
        versions = [versions]
    return tuple(dict.fromkeys(resolve(v).subprotocol for v in versions))


def connected_ids(ids: Iterable[str], limit: int = 10) -> str:
    """`cp01, cp02, … (3 more)`: the ids an error lists."""
    listed = list(ids)
    shown = ", ".join(listed[:limit])
    return shown + (f", … ({len(listed) - limit} more)" if len(listed) > limit else "")


def normalise_endpoint(endpoint: str) -> str:
    """`ocpp/` → `/ocpp`; `/` stays `/`."""
    stripped = endpoint.strip().strip("/")
    return "/" + stripped if stripped else "/"


class CentralSystem:
    """One Central System: a server on one transport and the Charge Points connected to it.

        async with CentralSystem(endpoint="/ocpp") as cs:   # port 0: a free one
            cp_url = cs.url                                 # ws://127.0.0.1:<port>/ocpp
            boot = await cs.wait_for("BootNotification")
            await cs.call(boot.charge_point_id, "Reset", {"type": "Soft"})

    `versions` are the OCPP versions it serves (`1.6` or `ocpp1.6`; every version of its
    transport by default); `transport` is `websocket` (OCPP-J) or `soap`; `host` None
    listens on every interface. It keeps the last `history` CALLs it received for
    `wait_for`.
    """

    speaker = "cs"

    def __init__(
        self,
        port: int = 0,
        *,
        transport: str = "websocket",
        endpoint: str = "/",
        versions: str | Iterable[str] | None = None,
        ping_interval: float = 300,
        variant: str | None = None,
        host: str | None = None,
        history: int = HISTORY,
        behaviour: Behaviour | None = None,
        bus: EventBus | None = None,
        resources: Resources | None = None,
        security: CentralSystemSecurity | None = None,
        accept_tags: Iterable[str] | None = None,
        vendor_ids: Iterable[str] = (),
        stateless: bool = False,
        **options: Any,
    ):
        self.port = port
        self.transport = transport
        self.endpoint = normalise_endpoint(endpoint)
        #: the subprotocols it serves
        self.protocols = served_protocols(versions, transport)
        self.variant = variant
        self.host = host
        self.behaviour = behaviour or Behaviour("cs")
        #: what it keeps to answer as OCPP requires (None: stateless, the default answers)
        self.model: CentralSystemModel | None = None
        if not stateless:
            self.model = CentralSystemModel(accept_tags=accept_tags, vendor_ids=vendor_ids)
        # made once, not per charge point (a fleet's Central System holds thousands of peers)
        self._hearer = self._heard if self.model is not None else None
        #: what charge points must present (TLS, Basic auth, client certificates), if anything
        self.security = security
        self._csr_signing: CsrSigning | None = None
        self.bus = bus if bus is not None else EventBus(LogConsumer(), *observe.subscribers())
        self._own_resources = resources is None
        self.resources = resources if resources is not None else Resources()
        #: the connected charge points by id
        self.peers: dict[str, Peer] = {}
        #: when each charge point that left did (wall clock), the most recent last
        self.departed: dict[str, float] = {}
        self.pinger = Pinger(ping_interval)
        self._collecting = False  # the process's collector holds for its many peers
        self._tasks: set[asyncio.Task[Any]] = set()
        self.server: Any = transport_class(SERVERS, transport)(self, **options)
        self._inbox: Inbox | None = None
        if history:
            self._inbox = Inbox(self.speaker, history)
            self.bus.subscribe(self._inbox)
        self._streams: set[EventStream] = set()
        #: the faults set on it (`fault`), made on first use
        self.faults: FaultTable | None = None

    @property
    def ping_interval(self) -> float:
        return self.pinger.interval

    @property
    def url(self) -> str:
        """The URL a charge point is given: `ws://127.0.0.1:<port>/<endpoint>` (OCPP-J, to
        which it appends its id) or the SOAP endpoint `http://…`; `wss://`, `https://` with
        TLS. The host is 127.0.0.1 when listening on every interface."""
        host = self.host if self.host not in (None, "", "0.0.0.0", "::") else "127.0.0.1"
        if ":" in str(host):
            host = f"[{host}]"
        scheme = "http" if self.transport == "soap" else "ws"
        if self.security is not None and self.security.tls is not None:
            scheme += "s"
        path = "" if self.endpoint == "/" and self.transport != "soap" else self.endpoint
        return f"{scheme}://{host}:{self.port}{path}"

    async def start(self) -> None:
        """Listen; raises OSError when the port cannot be bound."""
        self.port = await self.server.start()
        self.bus.publish(events.ServerStarted(self.speaker, self.transport, self.port))
        if self.security is not None:
            self.bus.notice(self.speaker, self.security.describe(self.transport, self.port))
        tags = self.model.tags.describe() if self.model is not None else None
        if tags is not None:
            self.bus.notice(self.speaker, tags)

    async def stop(self) -> None:
        """Stop listening and end every link (OCPP-J: close 1001, dropping peers that do not
        answer within a moment)."""
        if self.faults is not None:
            self.faults.close()  # first: held answers go, so requests waiting on them end
        try:
            await self.server.stop()
        finally:
            self.pinger.stop()
            if self._collecting:
                self._collecting = False
                COLLECTOR.release()
            for task in list(self._tasks):
                task.cancel()
            for stream in list(self._streams):
                stream.close()
            if self._own_resources:
                await self.resources.close()

    async def __aenter__(self) -> CentralSystem:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- what a user of the API does ---------------------------------------------------------

    @property
    def charge_point_ids(self) -> list[str]:
        """The ids of the charge points connected now."""
        return list(self.peers)

    def peer(self, charge_point_id: str | None = None) -> Peer:
        """The link to a connected charge point (the only one when `charge_point_id` is None);
        NotConnected says which ones are."""
        peers = self.peers
        if charge_point_id is None:
            if len(peers) == 1:
                return next(iter(peers.values()))
            if not peers:
                raise NotConnected("no charge point is connected to the Central System")
            raise NotConnected(
                f"more than one charge point is connected: name one of {connected_ids(peers)}"
            )
        peer = peers.get(charge_point_id)
        if peer is not None:
            return peer
        left = self.departed.get(charge_point_id)
        if left is not None:
            at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(left))
            raise NotConnected(
                f"charge point #{charge_point_id} is not connected (disconnected at {at})"
            )
        there = f"Connected: {connected_ids(peers)}." if peers else "None is connected."
        raise NotConnected(f"charge point #{charge_point_id} does not exist. {there}")

    async def call(
        self,
        charge_point_id: str | None,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> Any:
        """Send `action` to a connected charge point (the only one when None) and return the
        payload of its CALLRESULT.

        Fields missing from `payload` come from the version's default request unless
        `defaults=False`; `validate=False` sends an invalid request on purpose and takes any
        answer. Raises CallError (a CALLERROR), CallTimeout, CallFailed, InvalidMessage,
        NotConnected."""
        __tracebackhide__ = True  # pytest shows the caller's line and the error
        peer = self.peer(charge_point_id)
        return await send_call(
            peer, action, payload, validate=validate, defaults=defaults, variant=self.variant
        )

    async def send(
        self,
        charge_point_id: str | None,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> str:
        """Send the SEND `action` (OCPP 2.1) to a connected charge point (the only one when
        None): nothing answers it and nothing waits; its unique id once it went out. Fields
        missing from `payload` come from its default payload unless `defaults=False`;
        `validate=False` sends it unchecked. Raises InvalidMessage, CallFailed,
        NotConnected."""
        __tracebackhide__ = True
        peer = self.peer(charge_point_id)
        return await send_message(
            peer, action, payload, validate=validate, defaults=defaults, variant=self.variant
        )

    def on_send(self, action: str, handler: Handler | None = None) -> Any:
        """Hear the SENDs `action` (OCPP 2.1: NotifyPeriodicEventStream) with `handler(payload)`
        or `handler(payload, ctx)`; nothing answers a SEND, whatever it returns. Without
        `handler`, a decorator."""
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.behaviour.on_send(action, fn)
                return fn

            return decorator
        return self.behaviour.on_send(action, handler)

    def on_call(self, action: str, handler: Handler | None = None) -> Any:
        """Answer CALLs `action` with `handler(payload)` or `handler(payload, ctx)` (plain or
        async; a dict returned is the answer, None leaves the default answer, raising
        CallError refuses). Without `handler`, a decorator."""
        if handler is None:

            def decorator(fn: Handler) -> Handler:
                self.behaviour.on_call(action, fn)
                return fn

            return decorator
        return self.behaviour.on_call(action, handler)

    async def wait_for(
        self, action: str, charge_point_id: str | None = None, *, timeout: float = 10.0
    ) -> Received:
        """The first CALL `action` received (from `charge_point_id`) that no `wait_for` took
        yet, waiting for it up to `timeout` seconds (WaitTimeout)."""
        __tracebackhide__ = True
        if self._inbox is None:  # history=0: from now on only
            self._inbox = Inbox(self.speaker, 0)
            self.bus.subscribe(self._inbox)
        return await self._inbox.wait_for(action, charge_point_id, timeout, "the Central System")

    def fault(
        self,
        kind: str,
        charge_point_id: str | None = None,
        *,
        times: int | None = None,
        action: str | None = None,
        **options: Any,
    ) -> Fault:
        """Inject a fault into what this Central System sends to `charge_point_id` (None:
        every charge point, those that connect later too): `fault("drop", "cp01", times=2)`,
        `fault("delay", seconds=3)`; see ocppsim.sim.faults.KINDS. FaultError when it cannot
        be set."""
        from ocppsim.sim.faults import inject

        return inject(self, kind, charge_point_id, times=times, action=action, **options)

    def clear_faults(
        self, kind: str | None = None, charge_point_id: str | None = None
    ) -> list[Fault]:
        """Clear the faults of `kind` (every kind when None); the faults cleared."""
        from ocppsim.sim.faults import clear

        return clear(self, kind, charge_point_id)

    def events(self) -> EventStream:
        """The events of this Central System from now on: `async for event in cs.events()`
        (frames, connections, refusals, …; see ocppsim.core.events)."""
        stream = EventStream(self.bus, self.speaker, self._streams.discard)
        self._streams.add(stream)
        return stream

    # -- charge points coming and going -----------------------------------------------------

    def attach(
        self, link: Link, cp_id: str, version: str, protocol: str, profile: int | None = None
    ) -> Peer:
        """A charge point connected on `link` (with security `profile`, if any): make its peer
        and start serving it. A newer link of the same charge point replaces the older one
        (closed in the background)."""
        session = RpcSession(version, "cs", variant=self.variant, unique_id=link.new_unique_id)
        answer: Any = self.answer_call
        quick_answer: Any = self.quick_answer_call
        signing = self._signing()
        if signing is not None:  # SignCertificate signed with --ca-key
            answer, quick_answer = signing.answer, signing.quick_answer
        peer = Peer(
            link,
            session,
            speaker=self.speaker,
            label=f"cp#{cp_id}",
            charge_point_id=cp_id,
            bus=self.bus,
            answer=answer,
            quick_answer=quick_answer,
            on_result=self._learning_result if self._learns_passwords else self.behaviour.result,
            on_send=self.behaviour.send_received,
            on_closed=self._detached,
            heard=self._hearer,
        )
        previous = self.peers.get(cp_id)
        self.peers[cp_id] = peer
        if not self._collecting and len(self.peers) >= LARGE:  # no full collections
            self._collecting = True
            COLLECTOR.hold()
        self.departed.pop(cp_id, None)
        self.bus.publish(
            events.Connected(self.speaker, peer.label, link.transport, cp_id, protocol, profile)
        )
        if previous is not None:
            self.bus.notice(
                self.speaker, f"ChargePoint #{cp_id} reconnected: closing its old connection."
            )
            # in the background: a half-dead old link must not delay the new one's answers
            self._spawn(previous.close(1000, "replaced by a new connection"))
        self.behaviour.tell_connection("connected", cp_id)
        self.pinger.add(peer)
        if self.faults is not None:
            self.faults.attach(peer)
        peer.start()
        return peer

    # -- answering ------------------------------------------------------------------------------

    def quick_answer_call(self, peer: Peer, action: str, payload: Any) -> Any:
        """The answer to a CALL when no plugin handler has to run (None: one has)."""
        model = self.model
        if model is None:
            return self.behaviour.quick_answer(peer, action, payload)
        answer = self.behaviour.quick_answer(peer, action, payload, partial(self._own, peer))
        if answer is not None and action in _WATCHED:
            model.answered(peer.charge_point_id, peer.version, action, payload, answer)
        return answer

    async def answer_call(self, peer: Peer, action: str, payload: Any) -> Any:
        """The answer to a CALL: a plugin's, else the model's, else the version's default."""
        model = self.model
        if model is None:
            return await self.behaviour.answer(peer, action, payload)
        answer = await self.behaviour.answer(peer, action, payload, partial(self._own, peer))
        if action in _WATCHED:
            model.answered(peer.charge_point_id, peer.version, action, payload, answer)
        return answer

    def _own(self, peer: Peer, action: str, payload: Any) -> Any:
        """The model's answer (None: the default); the CALLs it wants sent go after it."""
        assert self.model is not None
        reply = self.model.answer(peer.charge_point_id, peer.version, action, payload)
        if reply is None:
            return None
        if reply.outgoing:
            ctx = self.behaviour.context(peer)
            for outgoing in reply.outgoing:  # tasks: they go once the answer has
                ctx.call(outgoing.action, outgoing.payload)
        return reply.payload

    def _heard(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        """A charge point answered one of our CALLs (as it is read): the model hears of it."""
        if self.model is not None:
            self.model.heard(peer.charge_point_id, peer.version, action, request, result)

    @property
    def _learns_passwords(self) -> bool:
        """True when it checks Basic-auth passwords: a new one a charge point accepts counts."""
        return self.security is not None and self.security.credentials is not None

    async def _learning_result(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        """A CALL of ours was answered: a new password it set is remembered, then the
        behaviour's handlers are told."""
        assert self.security is not None
        line = self.security.learn_password(peer.charge_point_id, action, request, result)
        if line is not None:
            self.bus.notice(self.speaker, line)
        await self.behaviour.result(peer, action, request, result)

    def _detached(self, peer: Peer) -> None:
        """A peer's link ended."""
        self.pinger.discard(peer)
        cp_id = peer.charge_point_id
        replaced = self.peers.get(cp_id) is not peer
        if not replaced:
            del self.peers[cp_id]
            self._departed(cp_id)
        reason = peer.link.close_description
        self.bus.publish(
            events.Disconnected(
                self.speaker, peer.label, peer.transport, cp_id, reason, replaced=replaced
            )
        )
        if not replaced:
            self.behaviour.tell_connection("disconnected", cp_id)

    def _departed(self, cp_id: str) -> None:
        departed = self.departed
        departed[cp_id] = time.time()
        while len(departed) > REMEMBERED_DEPARTURES:
            del departed[next(iter(departed))]

    def _signing(self) -> CsrSigning | None:
        """What answers SignCertificate when the Central System has a CA key, made once."""
        security = self.security
        if security is None or security.signer is None:
            return None
        if self._csr_signing is None:
            from ocppsim.sim.security import CsrSigning

            self._csr_signing = CsrSigning(self, security.signer)
        return self._csr_signing

    def spawn_quietly(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` in the background, cancelled on stop; a link that broke is no news."""
        self._spawn(coro)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        """Run `coro` in the background; its failure (a link that broke) is no news."""

        async def quietly() -> None:
            try:
                await coro
            except (OSError, ConnectionError, asyncio.TimeoutError):
                pass

        task = asyncio.get_running_loop().create_task(quietly())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


# what users catch, shown as `ocppsim.<name>` in tracebacks (importable from there too)
NotConnected.__module__ = "ocppsim"
