"""The Central System simulator over OCPP-J (SPEC §5): accepts Charge Points, answers their
CALLs, sends `remote_*` CALLs, and pings them."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from ocppsim.core.rpc import RpcSession
from ocppsim.core.versions import by_subprotocol, subprotocols
from ocppsim.sim import log
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.peer import JsonPeer, Peer
from ocppsim.sim.pinger import Pinger
from ocppsim.transport.websocket import Link, Rejection, start_server

#: every version that runs over OCPP-J
DEFAULT_PROTOCOLS = subprotocols("websocket")
#: On quit, how long connections get to finish their closing handshake.
SHUTDOWN_GRACE = 2.0


def normalise_endpoint(endpoint: str) -> str:
    """`ocpp/` → `/ocpp`; `/` stays `/`."""
    stripped = endpoint.strip().strip("/")
    return "/" + stripped if stripped else "/"


class CentralSystem:
    """One Central System: a WebSocket server and the Charge Points connected to it."""

    speaker = "cs"
    transport = "websocket"

    def __init__(
        self,
        port: int,
        *,
        endpoint: str = "/",
        protocols: tuple[str, ...] = DEFAULT_PROTOCOLS,
        ping_interval: float = 300,
        variant: str | None = None,
        host: str | None = None,
        behaviour: Behaviour | None = None,
    ):
        self.port = port
        self.endpoint = normalise_endpoint(endpoint)
        self.protocols = protocols
        self.variant = variant
        self.host = host
        self.behaviour = behaviour or Behaviour("cs")
        self.peers: dict[str, Peer] = {}
        self.pinger = Pinger(ping_interval)
        self._server: Any = None
        self._closing: set[asyncio.Task[None]] = set()

    @property
    def ping_interval(self) -> float:
        return self.pinger.interval

    async def start(self) -> None:
        """Listen; raises OSError when the port cannot be bound."""
        self._server = await start_server(self.host, self.port, self._admit, self._on_link)
        sockets = self._server.sockets
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.event(None, "CentralSystem started.")
        log.event(self.speaker, f"Server is listening on port {self.port}")

    async def stop(self) -> None:
        """Close every connection (1001), dropping peers that do not answer within a moment."""
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), SHUTDOWN_GRACE)
            except asyncio.TimeoutError:
                self._server.abort()
                await self._server.wait_closed()
        for task in list(self._closing):
            task.cancel()

    # -- handshake ----------------------------------------------------------------------------

    def _admit(self, path: str, offered: list[str]) -> tuple[str, str] | Rejection:
        """Pick the CP id from the path and the subprotocol from the offer (SPEC §5)."""
        path = urlsplit(path).path
        base = self.endpoint.rstrip("/")
        if not (path == base or path.startswith(base + "/")):
            return Rejection(HTTPStatus.NOT_FOUND, "Not Found\n")
        cp_id = unquote(path[len(base) + 1 :]) if len(path) > len(base) else ""
        if not cp_id:
            shown = self.endpoint
            text = (
                f"No identity specified. Base URL is {shown}. You must append the identifier:"
                f" {base}/identifier."
            )
            log.error(f"Error: connection refused: {text}", self.speaker)
            return Rejection(HTTPStatus.BAD_REQUEST, text + "\n")
        for name in offered:
            if name in self.protocols and name in subprotocols("websocket"):
                return cp_id, name
        if not offered:
            text = "No subprotocol offered"
        else:
            text = "Unknown protocol " + ", ".join(f"`{name}'" for name in offered)
        log.error(f"{text} (served: {','.join(self.protocols)})", self.speaker)
        return Rejection(HTTPStatus.BAD_REQUEST, text + "\n")

    async def _on_link(self, link: Link, cp_id: str) -> None:
        version = by_subprotocol(link.subprotocol or "").name  # _admit accepts known ones only
        session = RpcSession(version, "cs", variant=self.variant)
        peer = JsonPeer(
            link,
            session,
            speaker=self.speaker,
            label=f"cp#{cp_id}",
            charge_point_id=cp_id,
            answer=self.behaviour.answer,
            quick_answer=self.behaviour.quick_answer,
            on_result=self.behaviour.result,
        )
        previous = self.peers.get(cp_id)
        self.peers[cp_id] = peer
        log.event(self.speaker, f"ChargePoint #{cp_id} connected (protocol: {link.subprotocol}).")
        if isinstance(previous, JsonPeer):
            log.event(
                self.speaker, f"ChargePoint #{cp_id} reconnected: closing its old connection."
            )
            # in the background: a half-dead old link must not delay the new one's answers
            closing = asyncio.create_task(previous.link.close(1000, "replaced by a new connection"))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        await self.behaviour.connection("connected", cp_id)
        pinging = asyncio.create_task(self.pinger.run(peer))
        try:
            await peer.run()
        finally:
            pinging.cancel()
            if self.peers.get(cp_id) is peer:
                del self.peers[cp_id]
                log.event(f"cp#{cp_id}", "Disconnected")
                await self.behaviour.connection("disconnected", cp_id)
            else:
                log.event(f"cp#{cp_id}", "Disconnected (old connection, replaced)")
