"""The WebSocket client a Charge Point dials its Central System with (SPEC §6)."""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Coroutine, Sequence
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidMessage, InvalidStatus, InvalidURI
from websockets.frames import CloseCode
from websockets.http11 import USER_AGENT, Request, Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

from ocppsim.core.errors import OcppSimError
from ocppsim.security.tls import refused_here
from ocppsim.transport import ConnectFailed
from ocppsim.transport.urls import WEBSOCKET_SCHEMES, url_problem
from ocppsim.transport.ws.connection import MAX_FRAME_BYTES, Connection, forget_headers, quiet


class _ClientConnection(Connection):
    """A connection opened by `open_connection`: sends the handshake request (with `headers`
    added), checks the response."""

    def __init__(self, protocol: ClientProtocol, headers: Sequence[tuple[str, str]] = ()):
        super().__init__(protocol)
        self._headers = headers

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        protocol = self._protocol
        assert isinstance(protocol, ClientProtocol)
        request = protocol.connect()
        request.headers["User-Agent"] = USER_AGENT
        for name, value in self._headers:
            request.headers[name] = value
        protocol.send_request(request)
        self._write_out()

    def connection_lost(self, exc: Exception | None) -> None:
        if isinstance(exc, ssl.SSLError) and not self._handshake.done():
            # TLS 1.3: a server that refuses our certificate says so after its handshake
            # (we have sent the request): its alert is the reason, not the missing response
            self._handshake.set_exception(exc)
            self._handshake.exception()
        super().connection_lost(exc)

    def _handshake_received(self, event: Request | Response) -> None:
        protocol = self._protocol
        if self._handshake.done():
            return
        if protocol.handshake_exc is not None:
            self._handshake.set_exception(protocol.handshake_exc)
        else:
            self.subprotocol = protocol.subprotocol
            self._handshake.set_result(None)
            forget_headers(event)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        protocol = self._protocol
        if protocol.handshake_exc is not None and not self._handshake.done():
            self._handshake.set_exception(protocol.handshake_exc)


class _TlsHandshakeClosed(OcppSimError):
    """The server closed the connection during the TLS handshake (the cause says how)."""


async def _connect(
    url: str,
    subprotocol: str,
    context: ssl.SSLContext | None,
    headers: Sequence[tuple[str, str]],
    local_address: str | None,
) -> Connection:
    uri = parse_uri(url)
    protocol = ClientProtocol(
        uri, subprotocols=[Subprotocol(subprotocol)], max_size=MAX_FRAME_BYTES, logger=quiet
    )
    loop = asyncio.get_running_loop()
    if uri.secure and context is None:
        context = ssl.create_default_context()
    try:
        _, conn = await loop.create_connection(
            lambda: _ClientConnection(protocol, headers),
            uri.host,
            uri.port,
            ssl=context if uri.secure else None,
            local_addr=(local_address, 0) if local_address is not None else None,
        )
    except (ConnectionResetError, BrokenPipeError, ssl.SSLEOFError) as exc:
        if not uri.secure:
            raise
        raise _TlsHandshakeClosed(str(exc)) from exc  # no alert: a server without TLS?
    try:
        await asyncio.shield(conn._handshake)
    except BaseException:
        if conn._transport is not None:
            conn._transport.abort()
        raise
    return conn


if sys.version_info >= (3, 11):

    async def _within(seconds: float, connecting: Coroutine[Any, Any, Connection]) -> Connection:
        """`connecting`, TimeoutError after `seconds`: in this task (asyncio.wait_for runs it
        in a task of its own, a cost a fleet dialling a thousand a second feels)."""
        async with asyncio.timeout(seconds):
            return await connecting

else:  # Python 3.10: no asyncio.timeout

    async def _within(seconds: float, connecting: Coroutine[Any, Any, Connection]) -> Connection:
        """`connecting`, TimeoutError after `seconds`."""
        return await asyncio.wait_for(connecting, seconds)


#: The most of a refusal's body a Charge Point quotes (its first line).
MAX_REFUSAL_TEXT = 200


def _first_line(body: bytes | bytearray) -> str:
    """The first line of an HTTP refusal's body, as text, bounded (the server's reason)."""
    if not body:
        return ""
    text = body[: MAX_REFUSAL_TEXT * 4].decode("utf-8", "replace").strip()
    line = text.splitlines()[0].strip() if text else ""
    return line if len(line) <= MAX_REFUSAL_TEXT else line[: MAX_REFUSAL_TEXT - 1] + "…"


async def open_connection(
    url: str,
    subprotocol: str,
    *,
    timeout: float = 10.0,
    ssl_context: ssl.SSLContext | None = None,
    headers: Sequence[tuple[str, str]] = (),
    local_address: str | None = None,
) -> Connection:
    """Connect a Charge Point to `url` offering `subprotocol`, with `headers` added to its
    request (`Authorization`); a `wss://` URL uses `ssl_context` (the system's CAs when None).
    With `local_address`, the connection goes out from that address of this host (a fleet
    spreads its connections over several: see `transport/addresses.py`). A TLS failure is a
    ConnectFailed whose `tls` says what failed."""
    problem = url_problem(url, WEBSOCKET_SCHEMES)
    if problem is not None:  # trying again cannot help
        raise ConnectFailed(f"invalid URL {url!r}: {problem}", retry=False)
    # our refusal of the server's certificate, if any: once its alert has gone, the server's
    # close (or the timeout) is what we see, and the refusal is the reason
    refusals: list[BaseException] = []
    token = refused_here.set(refusals)
    try:
        try:
            connection = await _within(
                timeout, _connect(url, subprotocol, ssl_context, headers, local_address)
            )
        except (_TlsHandshakeClosed, asyncio.TimeoutError):
            if refusals:
                raise refusals[0] from None
            raise
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status == 404:
            raise ConnectFailed(
                "404 Not Found. Wrong endpoint URL", retry=False, status=status
            ) from exc
        phrase = exc.response.reason_phrase
        why = _first_line(exc.response.body)
        if 300 <= status < 400:  # a redirect (RFC 9110 §15.4): where to, not why
            location = _first_line(exc.response.headers.get("Location", "").encode())
            why = (
                f"it redirects to {location}: ocppsim follows no redirect, connect to that URL"
                if location
                else "a redirect without a Location header (it does not say where to)"
            )
        text = f"server rejected the connection: HTTP {status} {phrase}" + (
            f": {why}" if why else ""
        )
        raise ConnectFailed(text, status=status) from exc
    except (ssl.SSLError, _TlsHandshakeClosed) as exc:  # before ValueError (a check failure is)
        from ocppsim.security.tls import tls_failure

        cause = exc.__cause__ if isinstance(exc, _TlsHandshakeClosed) else None
        failure = tls_failure(cause or exc)
        text = f"TLS: {failure.message.rstrip('.')} ({failure.code})"
        raise ConnectFailed(text, tls=failure) from exc
    except (InvalidURI, ValueError) as exc:  # what url_problem did not foresee
        raise ConnectFailed(f"invalid URL {url!r}: {exc}", retry=False) from exc
    except (OSError, asyncio.TimeoutError) as exc:
        raise ConnectFailed(str(exc) or type(exc).__name__) from exc
    except InvalidMessage as exc:
        text = f"{type(exc).__name__}: {exc}"
        if url.lower().startswith("ws:"):  # a TLS server drops what is not TLS
            text += " (if the server speaks TLS, use wss://)"
        raise ConnectFailed(text) from exc
    except Exception as exc:  # websockets' handshake errors (InvalidHandshake, InvalidMessage…)
        raise ConnectFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        refused_here.reset(token)
    if connection.subprotocol != subprotocol:
        # OCPP-J 1.6 §3.1.2, 2.0.1 Part 4 §3.1.2: a server that agrees to none of the offered
        # subprotocols completes the handshake without one, then closes: it does not speak
        # this version, and nothing we would send means anything to it
        connection.abort(CloseCode.PROTOCOL_ERROR, "no subprotocol agreed")
        raise ConnectFailed(
            f"the server agreed to no subprotocol (offered: {subprotocol}): it does not serve"
            " this OCPP version (try another -p)"
        )
    return connection
