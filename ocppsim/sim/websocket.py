"""OCPP-J for the simulators: the link over a WebSocket connection, how a Central System
accepts charge points (SPEC §5) and how a Charge Point dials its Central System (SPEC §6)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from websockets.exceptions import ConnectionClosed

from ocppsim.core.errors import OcppSimError
from ocppsim.core.rpc import Call, CallError, CallResult, Message, new_unique_id
from ocppsim.core.versions import by_subprotocol, subprotocols
from ocppsim.sim.link import EncodeError, LinkUser
from ocppsim.sim.log import ERROR
from ocppsim.sim.peer import CallFailed, raw_call
from ocppsim.transport import ConnectFailed
from ocppsim.transport.urls import WEBSOCKET_SCHEMES, url_problem
from ocppsim.transport.ws.client import open_connection
from ocppsim.transport.ws.connection import Connection
from ocppsim.transport.ws.server import Rejection, Server, start_server

if TYPE_CHECKING:
    from ocppsim.sim.central_system import CentralSystem
    from ocppsim.sim.charge_point import ChargePoint

__all__ = ["ConnectFailed", "JsonLink", "WebsocketClient", "WebsocketServer"]

#: On stop, how long connections get to finish their closing handshake before being dropped.
SHUTDOWN_GRACE = 2.0


class JsonLink:
    """An OCPP-J link: each message is one text frame of a WebSocket connection."""

    __slots__ = ("connection", "_user")

    transport = "websocket"
    pings = True
    new_unique_id = staticmethod(new_unique_id)

    def __init__(self, connection: Connection):
        self.connection = connection
        self._user: LinkUser | None = None

    @property
    def is_open(self) -> bool:
        return self.connection.is_open

    @property
    def remote_address(self) -> str:
        return self.connection.remote_address

    @property
    def close_description(self) -> str:
        return self.connection.close_description

    def start(self, peer: LinkUser) -> None:
        self._user = peer
        self.connection.deliver(peer.receive_frame, peer.link_closed)

    def encode(self, message: Message) -> tuple[str, str]:
        try:
            frame = message.to_frame()
        except (TypeError, ValueError) as exc:  # a payload that is no JSON (a plugin's)
            raise EncodeError(str(exc)) from exc
        return frame, frame

    async def send_call(
        self, call: Call, wire: str, timeout: float, sent: Callable[[], None]
    ) -> None:
        sent()  # into the connection's buffer now, whatever its peer reads
        await self._send(wire)

    async def _send(self, text: str) -> None:
        """Send one frame, waiting while the peer does not read (CallFailed when closed)."""
        try:
            await self.connection.send(text)
        except ConnectionClosed:
            raise CallFailed(f"connection closed ({self.close_description})") from None
        except ConnectionError as exc:
            raise CallFailed(f"connection closed ({exc})") from None

    def send_reply(self, reply: CallResult | CallError, wire: str) -> None:
        # from the reading callback: no wait (reading pauses while the peer does not read)
        self.connection.send_now(wire)

    def raw_call(self, text: str) -> Call | None:
        return raw_call(text)

    async def send_raw(self, text: str, show_headers: bool) -> None:
        if self._user is not None:
            self._user.frame_sent(text, text, None)
        await self._send(text)

    async def ping(self) -> float:
        return await self.connection.ping()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.connection.close(code, reason)

    def abort(self, code: int = 1011, reason: str = "") -> None:
        self.connection.abort(code, reason)


# -------------------------------------------------------------------------- Central System


class WebsocketServer:
    """How a Central System accepts OCPP-J charge points: a WebSocket server on its port,
    `<endpoint>/<charge point id>` with a subprotocol it serves (SPEC §5)."""

    def __init__(self, cs: CentralSystem):
        self.cs = cs
        self._server: Server | None = None

    async def start(self) -> int:
        """Listen; raises OSError when the port cannot be bound."""
        cs = self.cs
        self._server = await start_server(cs.host, cs.port, self._admit, self._accepted)
        return self._server.port

    async def stop(self) -> None:
        """Close every connection (1001), dropping peers that do not answer within a moment."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), SHUTDOWN_GRACE)
        except asyncio.TimeoutError:
            server.abort()
            await server.wait_closed()

    def _admit(self, path: str, offered: list[str] | None) -> tuple[str, str] | Rejection | None:
        """Pick the CP id from the path and the subprotocol from the offer (SPEC §5); a
        request that is no WebSocket handshake (`offered` None) is judged on its path only."""
        cs = self.cs
        path = urlsplit(path).path
        base = cs.endpoint.rstrip("/")
        if not (path == base or path.startswith(base + "/")):
            return Rejection(HTTPStatus.NOT_FOUND, "Not Found\n")
        if offered is None:
            return None  # 426 Upgrade Required: a browser or curl, not a charge point
        cp_id = unquote(path[len(base) + 1 :]) if len(path) > len(base) else ""
        if not cp_id:
            text = (
                f"No identity specified. Base URL is {cs.endpoint}. You must append the"
                f" identifier: {base}/identifier."
            )
            cs.bus.notice(cs.speaker, f"Error: connection refused: {text}", ERROR)
            return Rejection(HTTPStatus.BAD_REQUEST, text + "\n")
        served = subprotocols("websocket")
        for name in offered:
            if name in cs.protocols and name in served:
                return cp_id, name
        if not offered:
            text = "No subprotocol offered"
        else:
            text = "Unknown protocol " + ", ".join(f"`{name}'" for name in offered)
        cs.bus.notice(cs.speaker, f"{text} (served: {','.join(cs.protocols)})", ERROR)
        return Rejection(HTTPStatus.BAD_REQUEST, text + "\n")

    def _accepted(self, connection: Connection, cp_id: str) -> None:
        """A charge point completed its handshake: it becomes a peer (no task per link)."""
        entry = by_subprotocol(connection.subprotocol or "")  # _admit chose a known one
        self.cs.attach(JsonLink(connection), cp_id, entry.name, entry.subprotocol)


# ---------------------------------------------------------------------------- Charge Point


class WebsocketClient:
    """How a Charge Point reaches its Central System over OCPP-J: it dials
    `<url>/<charge point id>` offering its subprotocol (SPEC §6)."""

    reconnects = True

    def __init__(self, cp: ChargePoint):
        self.cp = cp
        problem = url_problem(self.target, WEBSOCKET_SCHEMES)
        if problem is not None:  # trying cannot help: refused at once
            raise OcppSimError(f"Error: invalid URL {cp.url!r}: {problem}.")

    @property
    def target(self) -> str:
        return self.cp.url.rstrip("/") + "/" + quote(self.cp.charge_point_id, safe="")

    async def connect(self) -> JsonLink:
        """One connection attempt (ConnectFailed says whether another may succeed)."""
        return JsonLink(await open_connection(self.target, self.cp.protocol))

    async def stop(self) -> None:
        """Nothing is held between connections."""
