"""HTTP for the SOAP transport with aiohttp (SPEC §7): a POST-only server on one path and a
client that posts bodies. Only bytes, status codes and headers; no OCPP logic.

The server drops peers that hold a connection without using it (see `HttpLimits`), and
listens on one port for every address family it binds.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from aiohttp.http_exceptions import BadHttpMethod

from ocppsim.core.errors import OcppSimError
from ocppsim.transport.listen import listen_on_one_port

#: Largest request body the server reads; the SOAP parser has its own, smaller cap, so
#: bodies in between get a SOAP Fault and only bigger ones a bare HTTP 413.
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Seconds a connection may sit idle (before its first request, between requests) and the
#: most the request line and headers of one request may take.
IDLE_TIMEOUT = 30.0
#: Seconds the body of one request may take to arrive once its headers are in.
BODY_TIMEOUT = 30.0
#: How long, at most, an unread body is drained before the connection closes (aiohttp's
#: `lingering_time`, 10 s by default), so the answer reaches the peer before the reset.
LINGER_SECONDS = 2.0

_quiet = logging.getLogger("ocppsim.transport.aiohttp")
_quiet.addHandler(logging.NullHandler())
_quiet.propagate = False

#: What aiohttp's request parser calls bytes that begin a TLS handshake (0x16 0x03) at a plain
#: HTTP port; it answers them 400 and logs the error at debug level.
_TLS_AT_PLAIN_PORT = "Received HTTPS traffic on an HTTP port"


class _ServerLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """The aiohttp server's (quiet) logger, which tells `on_tls` of a client that began a TLS
    handshake at this plain HTTP port: aiohttp answers it 400 and says nothing else."""

    def __init__(self, on_tls: Callable[[str], None]):
        super().__init__(_quiet, {})
        self._on_tls = on_tls

    def debug(self, msg: object, *args: object, **kwargs: Any) -> None:
        error = kwargs.get("exc_info")
        if isinstance(error, BadHttpMethod) and _TLS_AT_PLAIN_PORT in str(error) and args:
            self._on_tls(str(args[0]))  # aiohttp: "Error handling request from %s", remote
        super().debug(msg, *args, **kwargs)


@dataclass(frozen=True)
class HttpRequest:
    """One POST the server received."""

    path: str
    body: bytes
    headers: Mapping[str, str]
    remote: str
    #: the media type of its Content-Type, lower case without parameters ("" when absent)
    content_type: str = ""


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


class HttpFailed(OcppSimError):
    """No HTTP answer: the peer is unreachable or the connection broke."""


class HttpTimeout(HttpFailed):
    """No HTTP answer within the time allowed."""


class HttpAnswerFailed(HttpFailed):
    """The request went out, but no usable answer came back (the peer closed the
    connection, or the answer was larger than the client reads)."""


Responder = Callable[[HttpRequest], Awaitable[HttpReply]]


@dataclass(frozen=True)
class HttpLimits:
    """How long and how much the server waits for a peer before dropping its connection.

    `idle_timeout` is aiohttp's `keepalive_timeout`: its timer starts when a connection
    opens and again after each answer, and only a complete request (line and headers)
    stops it, so it bounds idle keep-alive connections and slow headers alike.
    `body_timeout` bounds reading one body (aiohttp has no such setting): a late body gets
    408 and the connection closes. `max_body_bytes` is aiohttp's `client_max_size` (413).
    """

    idle_timeout: float = IDLE_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    max_body_bytes: int = MAX_BODY_BYTES


def normalise_path(path: str) -> str:
    """`ocpp/` → `/ocpp`; an empty path is `/`."""
    stripped = path.strip().strip("/")
    return "/" + stripped if stripped else "/"


class HttpServer:
    """An aiohttp server answering POSTs to one path (None: any) with `respond` (404/405
    otherwise)."""

    def __init__(
        self,
        host: str | None,
        port: int,
        path: str | None,
        respond: Responder,
        limits: HttpLimits | None = None,
        ssl_context: ssl.SSLContext | None = None,
        on_tls_at_plain_port: Callable[[str], None] | None = None,
    ):
        self.host = host
        self.port = port
        #: with a context, the server speaks TLS (https://)
        self.ssl_context = ssl_context
        self.path = normalise_path(path) if path is not None else None
        self.limits = limits or HttpLimits()
        #: (address, port) of each listening socket once started
        self.addresses: list[tuple[str, int]] = []
        self._respond = respond
        self._runner: web.AppRunner | None = None
        #: told the address of a client that began a TLS handshake at this plain port
        self.on_tls_at_plain_port = on_tls_at_plain_port

    async def start(self) -> int:
        """Listen on every address of `host` (all interfaces when None), on one port for all
        of them; returns that port (raises OSError when it cannot be bound)."""
        limits = self.limits
        app = web.Application(client_max_size=limits.max_body_bytes)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        told = self.on_tls_at_plain_port
        log: Any = _ServerLog(told) if told is not None and self.ssl_context is None else _quiet
        runner = web.AppRunner(
            app,
            access_log=None,
            logger=log,
            handle_signals=False,
            keepalive_timeout=limits.idle_timeout,
            lingering_time=min(LINGER_SECONDS, limits.body_timeout),
        )
        await runner.setup()

        async def bind(address: str, port: int) -> tuple[web.TCPSite, int]:
            site = web.TCPSite(
                runner, address, port, reuse_address=True, ssl_context=self.ssl_context
            )
            try:
                await site.start()
            except BaseException:
                await site.stop()
                raise
            return site, port or _bound_port(runner)

        async def close(site: web.TCPSite) -> None:
            await site.stop()

        try:
            self.port, _ = await listen_on_one_port(self.host, self.port, bind, close)
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.addresses = [
            (str(address[0]), int(address[1]))
            for address in runner.addresses
            if isinstance(address, tuple) and len(address) >= 2
        ]
        return self.port

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self.path is not None and normalise_path(request.path) != self.path:
            return web.Response(status=404, text="Not Found\n")
        if request.method != "POST":
            return web.Response(status=405, text="Method Not Allowed: POST only\n")
        try:
            body = await asyncio.wait_for(request.read(), self.limits.body_timeout)
        except web.HTTPRequestEntityTooLarge:
            return _closing(web.Response(status=413, text="Request Entity Too Large\n"))
        except asyncio.TimeoutError:
            text = f"Request Timeout: body not received within {self.limits.body_timeout:g} s\n"
            return _closing(web.Response(status=408, text=text))
        peer = request.transport.get_extra_info("peername") if request.transport else None
        remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(request.remote)
        media = request.content_type if "Content-Type" in request.headers else ""
        reply = await self._respond(
            HttpRequest(request.path, body, dict(request.headers), remote, media)
        )
        response = web.Response(status=reply.status, body=reply.body)
        response.headers["Content-Type"] = reply.content_type
        return response


def _tls(exc: BaseException) -> str:
    """What a TLS failure means, for an error line (`certificate check failed: …`)."""
    from ocppsim.security.tls import tls_failure

    failure = tls_failure(exc)
    return f"{failure.message.rstrip('.')} ({failure.code})"


def _bound_port(runner: web.AppRunner) -> int:
    """The port of the runner's first listening socket."""
    for address in runner.addresses:
        if isinstance(address, tuple) and len(address) >= 2:
            return int(address[1])
    raise OSError(errno.EADDRNOTAVAIL, "no listening socket")


def _closing(response: web.Response) -> web.Response:
    """`response`, closing the connection after it (the rest of the body is not read)."""
    response.force_close()
    return response


class HttpClient:
    """Posts bodies to any URL over one aiohttp session (keep-alive connections reused).

    An answer is read up to `max_answer_bytes` (after decompression): a peer cannot fill
    the memory with a huge body, nor with a small gzip one that inflates.
    """

    def __init__(self, max_answer_bytes: int = MAX_BODY_BYTES) -> None:
        self._session: aiohttp.ClientSession | None = None
        self.max_answer_bytes = max_answer_bytes

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            tracing = aiohttp.TraceConfig()
            tracing.on_request_headers_sent.append(_request_sent)
            self._session = aiohttp.ClientSession(auto_decompress=True, trace_configs=[tracing])
        return self._session

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        timeout: float,
        sent: Callable[[], None] | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> HttpExchange:
        """POST `body` and read the whole answer; HttpFailed/HttpTimeout when none comes
        (HttpAnswerFailed: it went out, but no usable answer came). `sent()` is told when the
        request goes out (its connection is made and its headers written). An `https://` URL
        checks the server with `ssl_context` (the system's CAs when None)."""
        try:
            async with self._client().post(
                url,
                data=body,
                headers=dict(headers),
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
                trace_request_ctx=sent,
                ssl=ssl_context if ssl_context is not None else True,
            ) as response:
                data = await self._read(response)
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
        except aiohttp.ClientConnectorCertificateError as exc:
            raise HttpFailed(
                f"cannot connect to {url}: TLS: {_tls(exc.certificate_error)}"
            ) from exc
        except aiohttp.ClientConnectorSSLError as exc:
            raise HttpFailed(f"cannot connect to {url}: TLS: {_tls(exc.os_error)}") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or str(exc.os_error) or str(exc)
            raise HttpFailed(f"cannot connect to {url}: {reason}") from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError) as exc:
            raise HttpAnswerFailed(f"no answer from {url}: {exc or type(exc).__name__}") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise HttpFailed(f"HTTP request to {url} failed: {exc or type(exc).__name__}") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        """The answer's body, at most `max_answer_bytes` of it once decompressed."""
        limit = self.max_answer_bytes
        too_large = HttpAnswerFailed(f"answer larger than {limit} bytes: not read")
        if response.content_length is not None and response.content_length > limit:
            raise too_large  # Content-Length counts the (compressed) bytes on the wire
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


async def _request_sent(
    session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestHeadersSentParams
) -> None:
    """aiohttp's signal that a request's headers are written: tell whoever asked."""
    sent = context.trace_request_ctx
    if sent is not None:
        sent()


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
