"""HTTP for the SOAP transport with aiohttp (SPEC §7): a POST-only server on one path and a
client that posts bodies. Only bytes, status codes and headers; no OCPP logic.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

#: Largest request body the server reads; the SOAP parser has its own, smaller cap, so
#: bodies in between get a SOAP Fault and only bigger ones a bare HTTP 413.
MAX_BODY_BYTES = 4 * 1024 * 1024

_quiet = logging.getLogger("ocppsim.transport.aiohttp")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False


@dataclass(frozen=True)
class HttpRequest:
    """One POST the server received."""

    path: str
    body: bytes
    headers: Mapping[str, str]
    remote: str


@dataclass(frozen=True)
class HttpReply:
    """What the server answers to one POST."""

    status: int
    body: bytes
    content_type: str


@dataclass(frozen=True)
class HttpExchange:
    """One POST the client made and what came back."""

    status: int
    reason: str
    body: bytes
    request_headers: dict[str, str] = field(default_factory=dict)
    response_headers: dict[str, str] = field(default_factory=dict)


class HttpFailed(Exception):
    """No HTTP answer: the peer is unreachable or the connection broke."""


class HttpTimeout(HttpFailed):
    """No HTTP answer within the time allowed."""


Responder = Callable[[HttpRequest], Awaitable[HttpReply]]


def normalise_path(path: str) -> str:
    """`ocpp/` → `/ocpp`; an empty path is `/`."""
    stripped = path.strip().strip("/")
    return "/" + stripped if stripped else "/"


class HttpServer:
    """An aiohttp server answering POSTs to one path with `respond` (404/405 otherwise)."""

    def __init__(self, host: str | None, port: int, path: str, respond: Responder):
        self.host = host
        self.port = port
        self.path = normalise_path(path)
        self._respond = respond
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Listen; returns the bound port (raises OSError when it cannot be bound)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, logger=_quiet, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple) and len(address) >= 2:
                self.port = int(address[1])
                break
        return self.port

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if normalise_path(request.path) != self.path:
            return web.Response(status=404, text="Not Found\n")
        if request.method != "POST":
            return web.Response(status=405, text="Method Not Allowed: POST only\n")
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return web.Response(status=413, text="Request Entity Too Large\n")
        peer = request.transport.get_extra_info("peername") if request.transport else None
        remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(request.remote)
        reply = await self._respond(HttpRequest(request.path, body, dict(request.headers), remote))
        response = web.Response(status=reply.status, body=reply.body)
        response.headers["Content-Type"] = reply.content_type
        return response


class HttpClient:
    """Posts bodies to any URL over one aiohttp session (keep-alive connections reused)."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(auto_decompress=True)
        return self._session

    async def post(
        self, url: str, body: bytes, headers: Mapping[str, str], timeout: float
    ) -> HttpExchange:
        """POST `body` and read the whole answer; HttpFailed/HttpTimeout when none comes."""
        try:
            async with self._client().post(
                url,
                data=body,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
            ) as response:
                data = await response.read()
                return HttpExchange(
                    status=response.status,
                    reason=response.reason or "",
                    body=data,
                    request_headers=dict(response.request_info.headers),
                    response_headers=dict(response.headers),
                )
        except asyncio.TimeoutError as exc:
            raise HttpTimeout(f"no answer within {timeout:g} seconds") from exc
        except aiohttp.InvalidURL as exc:
            raise HttpFailed(f"invalid URL {url!r}") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or str(exc.os_error) or str(exc)
            raise HttpFailed(f"cannot connect to {url}: {reason}") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise HttpFailed(f"HTTP request to {url} failed: {exc or type(exc).__name__}") from exc

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def local_address_towards(url: str) -> str:
    """The local IP address a host reaching `url` would see (loopback for a local CS)."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    if host in ("localhost", "127.0.0.1", "::1"):
        return "127.0.0.1"
    try:
        infos = socket.getaddrinfo(host, parts.port or 80, socket.AF_INET, socket.SOCK_DGRAM)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(infos[0][4])  # no packet is sent: this only picks the route
            return str(probe.getsockname()[0])
    except (OSError, IndexError, ValueError):
        return "127.0.0.1"
