"""The WebSocket server a Central System listens with (SPEC §5): it answers each opening
handshake as `admit` decides and hands each accepted connection to `on_connection`.

With an `ssl.SSLContext` it speaks TLS (`wss://`): `admit` sees the TLS session of the request
it judges (the client certificate, profile 3), and a TLS handshake that fails is told to
`on_tls_failure` with its exception. Without one, a client that begins a TLS handshake (a
`wss://` URL at a `ws://` port) is told to `on_tls_at_plain_port` and closed. A client whose
handshake request is not complete within `OPEN_TIMEOUT` gets 408 Request Timeout and is told to
`on_handshake_timeout`. A request that `websockets` itself refuses (no HTTP request at all, a
header too large, a wrong Sec-WebSocket-Version, a POST) is answered with its status and told to
`on_handshake_refused`.
"""

from __future__ import annotations

import asyncio
import http
import inspect
import ssl
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.datastructures import Headers
from websockets.frames import CloseCode
from websockets.http11 import SERVER, Request, Response
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from ocppsim.transport.listen import listen_on_one_port
from ocppsim.transport.ws.connection import (
    CONNECTING,
    MAX_FRAME_BYTES,
    OPEN,
    Connection,
    forget_headers,
    quiet,
)


@dataclass(frozen=True)
class Rejection:
    """Why the server refused a handshake: HTTP status and body, and a line to log."""

    status: HTTPStatus
    body: str
    log: str | None = None
    #: headers the answer carries besides the usual ones (`WWW-Authenticate` for a 401)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Handshake:
    """What `admit` may judge besides the path and the offered subprotocols: the request's
    headers, the client's address and, over TLS, the session (its client certificate)."""

    headers: Headers = field(default_factory=Headers)
    remote: str = ""
    tls: ssl.SSLObject | None = None


def offered_subprotocols(headers: Headers) -> list[str]:
    """Subprotocols a client offers, in its order of preference."""
    offered: list[str] = []
    for value in headers.get_all("Sec-WebSocket-Protocol"):
        offered.extend(p.strip() for p in value.split(",") if p.strip())
    return offered


#: Connections the kernel may hold for the server before it accepts them (asyncio's default
#: is 100: a fleet dialling faster than one loop turn accepts would see its SYNs dropped and
#: retried a second later). Linux caps it at net.core.somaxconn.
BACKLOG = 4096

#: Seconds allowed for an opening handshake (the `websockets` default).
OPEN_TIMEOUT = 10.0

#: admit(path, offered, handshake) -> (cp_id, subprotocol) or a Rejection; `offered` is None
#: for a request that is no WebSocket handshake (a browser): only its path is judged (a
#: Rejection, or None for 426 Upgrade Required).
Admit = Callable[[str, "list[str] | None", Handshake], "tuple[str, str] | Rejection | None"]
#: on_tls_failure(exception): a client's TLS handshake failed (`ocppsim.security.tls_failure`
#: says what the exception means).
OnTlsFailure = Callable[[BaseException], None]
#: on_tls_at_plain_port(remote): a client at `remote` began a TLS handshake on a plain port.
OnTlsAtPlainPort = Callable[[str], None]
#: on_handshake_timeout(remote): the client at `remote` sent no complete handshake request in
#: time; it got 408 Request Timeout.
OnHandshakeTimeout = Callable[[str], None]
#: on_handshake_refused(remote, status, reason): the request of the client at `remote` was
#: refused before `admit` could judge it, or after it admitted it, by the WebSocket protocol
#: itself (RFC 6455 §4.2.1); `status` is the answer's ("HTTP 400 Bad Request").
OnHandshakeRefused = Callable[[str, str, str], None]
#: on_connection(connection, cp_id): told of each accepted connection, from the reading
#: callback; a coroutine it returns runs for the connection's life, which ends with it.
OnConnection = Callable[[Connection, str], "Awaitable[None] | None"]


class _ServerProtocol(ServerProtocol):
    """`websockets`' server protocol, which keeps the refusal it sent (`refusal`) and answers a
    request it cannot parse with 400 Bad Request (RFC 9112 §3: a server that receives an
    invalid request line SHOULD) where it would close without a word."""

    refusal: Response | None = None

    def send_response(self, response: Response) -> None:
        if response.status_code != 101:
            self.refusal = response
        super().send_response(response)

    def send_eof(self) -> None:
        error = self.handshake_exc
        if self.state is CONNECTING and self.refusal is None and error is not None:
            cause = error.__cause__
            if not isinstance(cause, EOFError):  # a peer that hung up reads nothing
                reason = f"{error}: {cause}" if cause is not None else str(error)
                self.refusal = response = self.reject(HTTPStatus.BAD_REQUEST, reason + ".\n")
                response.headers["Server"] = SERVER
                self.writes.append(response.serialize())
        super().send_eof()


class _ServerConnection(Connection):
    """A connection accepted by `start_server`: answers the handshake, then tells
    `on_connection`."""

    def __init__(self, server: Server):
        self._server = server
        self._chosen: str | None = None

        def select_subprotocol(
            protocol: ServerProtocol, offered: Sequence[Subprotocol]
        ) -> Subprotocol | None:  # the one `admit` chose
            return Subprotocol(self._chosen) if self._chosen is not None else None

        super().__init__(
            _ServerProtocol(
                select_subprotocol=select_subprotocol,
                max_size=server.max_size,
                logger=quiet,
            )
        )
        self._open_timer: asyncio.TimerHandle | None = None
        self._first_bytes = True
        self._refusal_told = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._server.connections.add(self)
        self._open_timer = self._loop.call_later(OPEN_TIMEOUT, self._handshake_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._open_timer is not None:
            self._open_timer.cancel()
            self._open_timer = None
        self._server.connections.discard(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._first_bytes:
            self._first_bytes = False
            # a TLS record of type handshake, version 3.x: a ClientHello (RFC 8446 §5.1), no
            # HTTP request; the client learns nothing from a 400 it cannot read: close
            if self._server.ssl is None and data[:2] == b"\x16\x03":
                self._tls_at_plain_port()
                return
        super().data_received(data)
        protocol = self._protocol
        if protocol.state is CONNECTING and protocol.handshake_exc is not None:
            # not an HTTP request the protocol can read: it answered and sent EOF; wait for
            # the peer's
            self._refused_by_protocol()
            self._handshake_failed()

    def _refused_by_protocol(self) -> None:
        """Tell the server once what `websockets` refused and why (its answer's body)."""
        protocol = self._protocol
        assert isinstance(protocol, _ServerProtocol)
        refusal, told = protocol.refusal, self._server.on_handshake_refused
        if refusal is None or told is None or self._refusal_told:
            return
        self._refusal_told = True
        reason = refusal.body.decode("utf-8", "replace").strip()
        reason = reason.removeprefix("Failed to open a WebSocket connection: ")
        reason = reason.splitlines()[0].rstrip(".") if reason else refusal.reason_phrase
        told(self.remote_address, f"HTTP {refusal.status_code} {refusal.reason_phrase}", reason)

    def _tls_at_plain_port(self) -> None:
        if self._open_timer is not None:
            self._open_timer.cancel()
            self._open_timer = None
        told = self._server.on_tls_at_plain_port
        if told is not None:
            told(self.remote_address)
        if self._transport is not None:
            self._transport.close()

    def _handshake_timed_out(self) -> None:
        self._open_timer = None
        protocol = self._protocol
        if protocol.state is not CONNECTING or self._transport is None:
            return
        if self._answered or protocol.eof_sent:  # answered, and the peer never closed
            self._transport.abort()
            return
        # no complete request in time: say so (RFC 9110 §15.5.9) rather than just close
        assert isinstance(protocol, ServerProtocol)
        self._answered = True
        response = protocol.reject(
            HTTPStatus.REQUEST_TIMEOUT,
            f"No complete WebSocket handshake request within {OPEN_TIMEOUT:g} s.\n",
        )
        response.headers["Server"] = SERVER
        protocol.send_response(response)
        self._write_out()
        told = self._server.on_handshake_timeout
        if told is not None:
            told(self.remote_address)
        self._handshake_failed()

    def _handshake_failed(self) -> None:
        if self._open_timer is not None:
            self._open_timer.cancel()
            self._open_timer = None
        self._arm_close_timer()

    def _handshake_received(self, event: Request | Response) -> None:
        if self._answered:  # a second request on the same connection: one answer only
            return
        self._answered = True
        assert isinstance(event, Request)
        protocol = self._protocol
        assert isinstance(protocol, _ServerProtocol)
        if protocol.eof_sent:  # bytes after the request already failed the connection
            if self._transport is not None:
                self._transport.abort()
            return
        server = self._server
        response: Response
        verdict: tuple[str, str] | Rejection | None = None
        upgrade = "websocket" in event.headers.get("Upgrade", "").lower()
        offered = offered_subprotocols(event.headers) if upgrade else None
        handshake = Handshake(event.headers, self.remote_address, self.tls)
        try:
            verdict = server.admit(event.path, offered, handshake)
        except Exception as exc:
            protocol.handshake_exc = exc
            quiet.error("process_request failed", exc_info=True)
            response = protocol.reject(
                http.HTTPStatus.INTERNAL_SERVER_ERROR,
                "Failed to open a WebSocket connection.\nSee server log for more information.\n",
            )
        else:
            if isinstance(verdict, Rejection):
                response = protocol.reject(verdict.status, verdict.body)
                for name, value in verdict.headers:
                    response.headers[name] = value
            elif verdict is None:  # no WebSocket handshake: RFC 6455 §4.2.2's 426
                response = protocol.accept(event)
            else:
                self._chosen = verdict[1]
                response = protocol.accept(event)
                if response.status_code != 101:  # admitted, refused by the protocol
                    protocol.refusal = response
                    self._refused_by_protocol()
                elif not server.serving:
                    response = protocol.reject(
                        http.HTTPStatus.SERVICE_UNAVAILABLE, "Server is shutting down.\n"
                    )
        # `admit` said why it refused; a browser's 426 is no charge point's failure
        self._refusal_told = True
        response.headers["Server"] = SERVER
        protocol.send_response(response)
        self._write_out()
        if protocol.state is not OPEN:
            self._handshake_failed()
            return
        if self._open_timer is not None:
            self._open_timer.cancel()
            self._open_timer = None
        assert isinstance(verdict, tuple)
        self.subprotocol = protocol.subprotocol
        self._handshake.set_result(None)
        forget_headers(event)
        try:
            running = server.on_connection(self, verdict[0])
        except Exception:
            quiet.error("connection handler failed", exc_info=True)
            self._start_closing(CloseCode.INTERNAL_ERROR, "")
            return
        if inspect.isawaitable(running):
            task = self._loop.create_task(self._run(running))
            server.tasks.add(task)
            task.add_done_callback(server.tasks.discard)

    async def _run(self, running: Awaitable[None]) -> None:
        try:
            await running
        except Exception:
            quiet.error("connection handler failed", exc_info=True)
            self._start_closing(CloseCode.INTERNAL_ERROR, "")
        else:
            self._start_closing(CloseCode.NORMAL_CLOSURE, "")
        await asyncio.shield(self._lost)


class Server:
    """What `start_server` returns: `.port`, `.sockets`, `.close()`, `await .wait_closed()`."""

    def __init__(
        self,
        admit: Admit,
        on_connection: OnConnection,
        max_size: int,
        ssl: ssl.SSLContext | None = None,
        on_tls_at_plain_port: OnTlsAtPlainPort | None = None,
        on_handshake_timeout: OnHandshakeTimeout | None = None,
        on_handshake_refused: OnHandshakeRefused | None = None,
    ):
        self.admit = admit
        self.on_connection = on_connection
        self.max_size = max_size
        self.ssl = ssl
        self.on_tls_at_plain_port = on_tls_at_plain_port
        self.on_handshake_timeout = on_handshake_timeout
        self.on_handshake_refused = on_handshake_refused
        self.port = 0
        self.connections: set[_ServerConnection] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.serving = True
        self._servers: list[asyncio.Server] = []

    @property
    def sockets(self) -> tuple[Any, ...]:
        """The listening sockets, one per address (all on `port`)."""
        return tuple(sock for server in self._servers for sock in server.sockets)

    def close(self) -> None:
        """Stop listening and close every connection (1001, going away)."""
        self.serving = False
        for server in self._servers:
            server.close()
        for conn in list(self.connections):
            conn._start_closing(CloseCode.GOING_AWAY, "")

    def abort(self) -> None:
        """Drop every connection at once (peers that do not finish the closing handshake)."""
        for conn in list(self.connections):
            if conn._transport is not None:
                conn._transport.abort()

    async def wait_closed(self) -> None:
        """Wait until no socket listens and every connection (and its coroutine) is over."""
        for server in self._servers:
            await server.wait_closed()
        while self.tasks or self.connections:
            await asyncio.gather(
                *self.tasks,
                *(asyncio.shield(conn._lost) for conn in self.connections),
                return_exceptions=True,
            )


async def start_server(
    host: str | None,
    port: int,
    admit: Admit,
    on_connection: OnConnection,
    *,
    max_size: int = MAX_FRAME_BYTES,
    ssl: ssl.SSLContext | None = None,
    on_tls_failure: OnTlsFailure | None = None,
    on_tls_at_plain_port: OnTlsAtPlainPort | None = None,
    on_handshake_timeout: OnHandshakeTimeout | None = None,
    on_handshake_refused: OnHandshakeRefused | None = None,
    reuse_port: bool = False,
) -> Server:
    """Listen for Charge Points on every address of `host` (all interfaces when None), on
    one port; `admit(path, offered, handshake)` returns (cp_id, subprotocol) or a Rejection;
    `on_connection(connection, cp_id)` is told of each accepted connection. With `ssl`,
    connections speak TLS, and a TLS handshake that fails is told to `on_tls_failure` (its
    peer gets the alert that says why); without, a client that begins a TLS handshake is told
    to `on_tls_at_plain_port`; a client whose request is not complete within `OPEN_TIMEOUT`
    gets 408 and is told to `on_handshake_timeout`; a request `websockets` refuses (no HTTP
    request, a wrong WebSocket header, a POST) is told to `on_handshake_refused`. With
    `reuse_port` (SO_REUSEPORT), other processes that ask for it too listen on the same port,
    and the kernel spreads new connections over them: one process holds no more connections
    than its open-file limit."""
    if ssl is not None and on_tls_failure is not None:
        from ocppsim.security.tls import report_handshake_failures

        report_handshake_failures(ssl, on_tls_failure)
    server = Server(
        admit,
        on_connection,
        max_size,
        ssl,
        on_tls_at_plain_port,
        on_handshake_timeout,
        on_handshake_refused,
    )
    loop = asyncio.get_running_loop()

    async def bind(address: str, port: int) -> tuple[asyncio.Server, int]:
        listener = await loop.create_server(
            lambda: _ServerConnection(server),
            address,
            port,
            reuse_address=True,
            reuse_port=reuse_port or None,
            backlog=BACKLOG,
            ssl=ssl,
            ssl_handshake_timeout=OPEN_TIMEOUT if ssl is not None else None,
        )
        return listener, int(listener.sockets[0].getsockname()[1])

    async def close(listener: asyncio.Server) -> None:
        listener.close()
        await listener.wait_closed()

    server.port, server._servers = await listen_on_one_port(host, port, bind, close)
    return server
