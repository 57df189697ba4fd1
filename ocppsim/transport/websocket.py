"""OCPP-J over WebSocket with the `websockets` library: a server for the Central System, a
client for Charge Points (SPEC §5, §6). Only bytes and connection events; no OCPP logic.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

#: Largest frame accepted; a larger one closes that connection (1009), never the process.
MAX_FRAME_BYTES = 4 * 1024 * 1024

_quiet = logging.getLogger("ocppsim.transport.websockets")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


class Link:
    """One open WebSocket, whichever side opened it."""

    def __init__(self, ws: ServerConnection | ClientConnection, subprotocol: str | None):
        self._ws = ws
        self.subprotocol = subprotocol

    @property
    def remote_address(self) -> str:
        address = self._ws.remote_address
        if isinstance(address, tuple) and len(address) >= 2:
            return f"{address[0]}:{address[1]}"
        return str(address)

    async def send(self, text: str) -> None:
        """Send one text frame."""
        await self._ws.send(text)

    async def frames(self) -> AsyncIterator[str]:
        """The received frames, until the connection closes."""
        try:
            async for message in self._ws:
                yield message if isinstance(message, str) else message.decode("utf-8", "replace")
        except ConnectionClosed:
            return

    async def ping(self) -> float:
        """Send a ping and wait for its pong; returns the latency in seconds."""
        waiter = await self._ws.ping()
        return await waiter

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._ws.close(code, reason)

    @property
    def close_reason(self) -> str:
        ws = self._ws
        if ws.close_code is None:
            return "connection lost"
        return f"code {ws.close_code}" + (f" ({ws.close_reason})" if ws.close_reason else "")


@dataclass(frozen=True)
class Rejection:
    """Why the server refused a handshake: HTTP status and body, and a line to log."""

    status: HTTPStatus
    body: str
    log: str | None = None


def offered_subprotocols(headers: Headers) -> list[str]:
    """Subprotocols a client offers, in its order of preference."""
    offered: list[str] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered.extend(p.strip() for p in value.split(",") if p.strip())
    return offered


Admit = Callable[[str, list[str]], "tuple[str, str] | Rejection"]
OnLink = Callable[[Link, str], Awaitable[None]]


async def start_server(
    host: str | None, port: int, admit: Admit, on_link: OnLink, *, max_size: int = MAX_FRAME_BYTES
) -> Server:
    """Listen for Charge Points; `admit(path, offered)` returns (cp_id, subprotocol) or a
    Rejection; `on_link(link, cp_id)` runs for the life of each accepted connection."""

    chosen: dict[int, tuple[str, str]] = {}

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        verdict = admit(request.path, offered_subprotocols(request.headers))
        if isinstance(verdict, Rejection):
            return connection.respond(verdict.status, verdict.body)
        chosen[id(connection)] = verdict
        return None

    def select_subprotocol(
        connection: ServerConnection, offered: Sequence[Subprotocol]
    ) -> Subprotocol | None:
        verdict = chosen.get(id(connection))
        return Subprotocol(verdict[1]) if verdict else None

    async def handler(connection: ServerConnection) -> None:
        verdict = chosen.pop(id(connection), None)
        if verdict is None:
            return
        await on_link(Link(connection, verdict[1]), verdict[0])

    return await serve(
        handler,
        host,
        port,
        process_request=process_request,
        select_subprotocol=select_subprotocol,
        ping_interval=None,
        compression=None,
        max_size=max_size,
        logger=_quiet,
    )


class ConnectFailed(Exception):
    """A Charge Point could not open its WebSocket; `retry` says whether trying again helps."""

    def __init__(self, reason: str, retry: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry


async def open_link(url: str, subprotocol: str, *, timeout: float = 10.0) -> Link:
    """Connect a Charge Point to `url` offering `subprotocol`."""
    try:
        ws = await connect(
            url,
            subprotocols=[Subprotocol(subprotocol)],
            open_timeout=timeout,
            ping_interval=None,
            compression=None,
            max_size=MAX_FRAME_BYTES,
            proxy=None,
            logger=_quiet,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status == 404:
            raise ConnectFailed("404 Not Found. Wrong endpoint URL", retry=False) from exc
        phrase = exc.response.reason_phrase
        raise ConnectFailed(f"server rejected the connection: HTTP {status} {phrase}") from exc
    except InvalidURI as exc:
        raise ConnectFailed(f"invalid URL {url!r}", retry=False) from exc
    except (OSError, asyncio.TimeoutError) as exc:
        raise ConnectFailed(str(exc) or type(exc).__name__) from exc
    except Exception as exc:  # websockets' handshake errors (InvalidHandshake, InvalidMessage…)
        raise ConnectFailed(f"{type(exc).__name__}: {exc}") from exc
    return Link(ws, ws.subprotocol)
