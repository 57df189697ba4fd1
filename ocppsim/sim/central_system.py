"""The Central System simulator (SPEC §5, §7): accepts Charge Points over its transport,
answers their CALLs, sends `remote_*` CALLs, and pings them.

One class for every transport: what differs (a WebSocket server; an HTTP server routing
SOAP requests on chargeBoxIdentity) is a small server side picked by name (`SERVERS`),
which calls `attach` when a charge point shows up. A link ends by itself (the connection
closed; a SOAP box forgotten) and the Central System hears of it from its peer.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from ocppsim.core import events
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import RpcSession
from ocppsim.core.versions import subprotocols
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.link import Link
from ocppsim.sim.log import LogConsumer
from ocppsim.sim.peer import Peer
from ocppsim.sim.pinger import Pinger
from ocppsim.sim.resources import Resources

#: The module and class of the server side of each transport (imported when used, so that
#: an OCPP-J process loads no XML library).
SERVERS = {
    "websocket": ("ocppsim.sim.websocket", "WebsocketServer"),
    "soap": ("ocppsim.sim.soap", "SoapServer"),
}
#: How many charge points that left a Central System remembers, to say when they left.
REMEMBERED_DEPARTURES = 1000


class ServerSide(Protocol):
    """How a Central System receives charge points on one transport."""

    async def start(self) -> int:
        """Listen; returns the port (OSError when it cannot be bound)."""

    async def stop(self) -> None:
        """Stop listening; end every link."""


def transport_class(table: dict[str, tuple[str, str]], transport: str) -> Any:
    """The class that implements `transport` in `table` (ValueError for an unknown one)."""
    try:
        module, name = table[transport]
    except KeyError:
        known = " or ".join(table)
        raise ValueError(f"unknown transport {transport!r} (use {known})") from None
    return getattr(importlib.import_module(module), name)


def normalise_endpoint(endpoint: str) -> str:
    """`ocpp/` → `/ocpp`; `/` stays `/`."""
    stripped = endpoint.strip().strip("/")
    return "/" + stripped if stripped else "/"


class CentralSystem:
    """One Central System: a server on one transport and the Charge Points connected to it."""

    speaker = "cs"

    def __init__(
        self,
        port: int,
        *,
        transport: str = "websocket",
        endpoint: str = "/",
        protocols: tuple[str, ...] | None = None,
        ping_interval: float = 300,
        variant: str | None = None,
        host: str | None = None,
        behaviour: Behaviour | None = None,
        bus: EventBus | None = None,
        resources: Resources | None = None,
        **options: Any,
    ):
        self.port = port
        self.transport = transport
        self.endpoint = normalise_endpoint(endpoint)
        self.protocols = protocols if protocols is not None else subprotocols(transport)
        self.variant = variant
        self.host = host
        self.behaviour = behaviour or Behaviour("cs")
        self.bus = bus if bus is not None else EventBus(LogConsumer())
        self._own_resources = resources is None
        self.resources = resources if resources is not None else Resources()
        #: the connected charge points by id
        self.peers: dict[str, Peer] = {}
        #: when each charge point that left did (wall clock), the most recent last
        self.departed: dict[str, float] = {}
        self.pinger = Pinger(ping_interval)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.server: Any = transport_class(SERVERS, transport)(self, **options)

    @property
    def ping_interval(self) -> float:
        return self.pinger.interval

    async def start(self) -> None:
        """Listen; raises OSError when the port cannot be bound."""
        self.port = await self.server.start()
        self.bus.publish(events.ServerStarted(self.speaker, self.transport, self.port))

    async def stop(self) -> None:
        """Stop listening and end every link (OCPP-J: close 1001, dropping peers that do not
        answer within a moment)."""
        try:
            await self.server.stop()
        finally:
            self.pinger.stop()
            for task in list(self._tasks):
                task.cancel()
            if self._own_resources:
                await self.resources.close()

    # -- charge points coming and going -----------------------------------------------------

    def attach(self, link: Link, cp_id: str, version: str, protocol: str) -> Peer:
        """A charge point connected on `link`: make its peer and start serving it. A newer
        link of the same charge point replaces the older one (closed in the background)."""
        session = RpcSession(version, "cs", variant=self.variant, unique_id=link.new_unique_id)
        peer = Peer(
            link,
            session,
            speaker=self.speaker,
            label=f"cp#{cp_id}",
            charge_point_id=cp_id,
            bus=self.bus,
            answer=self.behaviour.answer,
            quick_answer=self.behaviour.quick_answer,
            on_result=self.behaviour.result,
            on_closed=self._detached,
        )
        previous = self.peers.get(cp_id)
        self.peers[cp_id] = peer
        self.departed.pop(cp_id, None)
        self.bus.publish(
            events.Connected(self.speaker, peer.label, link.transport, cp_id, protocol)
        )
        if previous is not None:
            self.bus.notice(
                self.speaker, f"ChargePoint #{cp_id} reconnected: closing its old connection."
            )
            # in the background: a half-dead old link must not delay the new one's answers
            self._spawn(previous.close(1000, "replaced by a new connection"))
        self.behaviour.tell_connection("connected", cp_id)
        self.pinger.add(peer)
        peer.start()
        return peer

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
