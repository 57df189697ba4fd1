"""One WebSocket connection under asyncio, whichever side opened it (SPEC §5, §6).

The WebSocket protocol itself (HTTP handshake, framing, masking, control frames, the
closing handshake, size limits) is the `websockets` library's sans-I/O protocol objects
(`ServerProtocol`, `ClientProtocol`); `Connection` drives one from an `asyncio.Protocol`
and hands each received message to its consumer: plain callbacks (`deliver`: no task, no
task switch per frame), a coroutine that lasts as long as the connection (`serve`), or an
async iterator (`frames`). Only bytes and connection events; no OCPP logic. The server is
in `server.py`, the client in `client.py`.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import ssl
import struct
from collections.abc import AsyncIterator, Callable
from typing import cast

from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import CLOSE_CODE_EXPLANATIONS, CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import Protocol, State
from websockets.server import ServerProtocol
from websockets.typing import BytesLike

#: Largest frame accepted; a larger one closes that connection (1009), never the process.
MAX_FRAME_BYTES = 4 * 1024 * 1024
#: Seconds allowed for a closing handshake before the TCP connection is dropped (the
#: `websockets` default).
CLOSE_TIMEOUT = 10.0
#: How long `send` waits for a peer that does not read before giving the connection up.
SEND_TIMEOUT = 10.0
#: Messages received but not yet taken by a `frames()` reader before reading pauses.
BACKLOG_HIGH, BACKLOG_LOW = 64, 16

quiet = logging.getLogger("ocppsim.transport.websockets")
quiet.addHandler(logging.NullHandler())
quiet.propagate = False

#: The reason of the close (1003 unsupported data) that answers a binary message: OCPP-J
#: messages are JSON text in UTF-8 (OCPP-J 1.6 §4.1.2), what RFC 6455 §5.6 carries in text
#: frames; a peer that sends binary frames is told so rather than read as if it had not (the
#: SteVe Central System refuses them the same way).
BINARY_REFUSED = "binary frame: OCPP-J messages are text frames"

_TEXT, _BINARY, _CONT, _PONG = Opcode.TEXT, Opcode.BINARY, Opcode.CONT, Opcode.PONG
OPEN, CONNECTING = State.OPEN, State.CONNECTING


def closed_error(protocol: Protocol) -> ConnectionClosed:
    """What sending on a link that is no longer open raises (as `websockets` did)."""
    rcvd, sent = protocol.close_rcvd, protocol.close_sent
    then = protocol.close_rcvd_then_sent if rcvd is not None and sent is not None else None
    return ConnectionClosed(rcvd, sent, then)


def _range_of(code: int) -> str:
    """What a close code outside the protocol's own list is (RFC 6455 §7.4.2)."""
    if 3000 <= code <= 3999:
        return "registered use"  # libraries and frameworks, registered with IANA
    if 4000 <= code <= 4999:
        return "private use"
    return "unknown code"


def forget_headers(handshake: Request | Response) -> None:
    """Let the headers of an opening handshake that succeeded go: the `websockets` protocol's
    parser keeps its request (server) or response (client) for the connection's life, ~2.5 KB
    of headers per connection that nothing reads once the connection is open. Whoever kept
    the headers object itself (`Handshake.headers`) still has it."""
    handshake.headers = Headers()
    if isinstance(handshake, Response):
        handshake.body = b""


class Connection(asyncio.Protocol):
    """One open WebSocket, whichever side opened it.

    It is also the `asyncio.Protocol` of its TCP connection: bytes go to the sans-I/O
    `websockets` protocol, complete messages to the consumer, outgoing frames straight
    to the transport.
    """

    subprotocol: str | None

    def __init__(self, protocol: ServerProtocol | ClientProtocol):
        self._protocol = protocol
        self._loop = asyncio.get_running_loop()
        self._transport: asyncio.Transport | None = None
        self._eof_written = False
        self._answered = False  # server side: the handshake got its (only) answer
        self.subprotocol = None
        #: the consumer installed by `serve` or `deliver`, called once per message, in order
        self._on_frame: Callable[[str], None] | None = None
        #: told once the TCP connection is gone (`deliver`), with the consumer's error if any
        self._on_closed: Callable[[BaseException | None], None] | None = None
        self._error: BaseException | None = None
        #: messages nobody has taken yet (before `serve`, or for `frames()`)
        self._backlog: list[str] = []  # at most BACKLOG_HIGH: a list is 1/10 of a deque
        self._wakeup: asyncio.Future[None] | None = None
        self._fragments: list[BytesLike] = []
        self._binary_refused = False
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._handshake: asyncio.Future[None] = self._loop.create_future()
        self._write_paused = False
        self._backlog_paused = False
        self._stalled = False  # reading stopped on purpose (a slow consumer, injected)
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._pings: dict[bytes, tuple[asyncio.Future[float], float]] = {}
        self._close_timer: asyncio.TimerHandle | None = None

    # -- public API -------------------------------------------------------------------------

    @property
    def remote_address(self) -> str:
        address = self._transport.get_extra_info("peername") if self._transport else None
        if isinstance(address, tuple) and len(address) >= 2:
            return f"{address[0]}:{address[1]}"
        return str(address)

    @property
    def tls(self) -> ssl.SSLObject | None:
        """The TLS session of a `wss://` connection (None on a plain one)."""
        transport = self._transport
        return transport.get_extra_info("ssl_object") if transport is not None else None

    @property
    def is_open(self) -> bool:
        """True while frames can be sent (not once a closing handshake has begun)."""
        transport = self._transport
        return self._protocol.state is OPEN and transport is not None and not transport.is_closing()

    def send_now(self, text: str) -> None:
        """Send one text frame without waiting: the transport buffers it. Callers that may
        send a lot should use `send`, which waits while the peer is not reading."""
        protocol = self._protocol
        if protocol.state is not OPEN:
            raise closed_error(protocol)
        protocol.send_text(text.encode())
        self._write_out()

    async def send(self, text: str) -> None:
        """Send one text frame; waits while the transport's write buffer is full."""
        self.send_now(text)
        if self._write_paused:
            await self._drain()

    def deliver(
        self,
        on_frame: Callable[[str], None],
        on_closed: Callable[[BaseException | None], None],
    ) -> None:
        """From now on call `on_frame(text)` for each message received, in order, straight
        from the reading callback, and `on_closed(error)` once the TCP connection is gone;
        returns at once (no task waits for the connection). A text message is delivered as
        is; a binary one closes the connection (see `BINARY_REFUSED`). If `on_frame` raises,
        the connection is closed (1011) and `on_closed` gets the exception."""
        backlog = self._backlog
        while backlog:
            on_frame(backlog.pop(0))
        self._on_frame = on_frame
        self._update_reading()
        if self._lost.done():
            on_closed(self._take_error())
        else:
            self._on_closed = on_closed

    def _take_error(self) -> BaseException | None:
        error, self._error = self._error, None
        return error

    async def serve(self, on_frame: Callable[[str], None]) -> None:
        """Call `on_frame(text)` for each message received, in order, straight from the
        reading callback, until the connection closes. A text message is delivered as
        is; a binary one closes the connection (see `BINARY_REFUSED`). If `on_frame` raises,
        the connection is closed (1011) and the exception raised here."""
        backlog = self._backlog
        while backlog:
            on_frame(backlog.pop(0))
        self._update_reading()
        self._on_frame = on_frame
        try:
            await asyncio.shield(self._lost)
        finally:
            self._on_frame = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    async def frames(self) -> AsyncIterator[str]:
        """The received messages, until the connection closes."""
        backlog = self._backlog
        while True:
            if backlog:
                yield backlog.pop(0)
                if self._backlog_paused and len(backlog) <= BACKLOG_LOW:
                    self._update_reading()
                continue
            if self._lost.done():
                return
            self._wakeup = self._loop.create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None

    async def ping(self) -> float:
        """Send a ping and wait for its pong; returns the latency in seconds."""
        protocol = self._protocol
        if protocol.state is not OPEN:
            raise closed_error(protocol)
        data = struct.pack("!I", random.getrandbits(32))
        while data in self._pings:
            data = struct.pack("!I", random.getrandbits(32))
        pong: asyncio.Future[float] = self._loop.create_future()
        self._pings[data] = (pong, self._loop.time())
        protocol.send_ping(data)
        self._write_out()
        try:
            return await pong
        finally:
            self._pings.pop(data, None)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """The closing handshake; returns once the TCP connection is closed."""
        self._start_closing(code, reason)
        await asyncio.shield(self._lost)

    def abort(self, code: int = CloseCode.INTERNAL_ERROR, reason: str = "") -> None:
        """Give the connection up at once: a close frame (`code`, `reason`) goes out if the
        link is open, then the TCP connection is dropped without waiting for the peer's
        answer (a dead peer never answers; RFC 6455 §7.1.7, fail the connection)."""
        if self._protocol.state is OPEN:
            self._protocol.fail(code, reason)
            self._write_out()
        if self._transport is not None:
            self._transport.abort()

    def reset(self) -> None:
        """Drop the TCP connection with a reset (RST, no close frame, no FIN): what a crashed
        host or a middlebox does; the peer sees an abnormal closure (1006)."""
        transport = self._transport
        if transport is None:
            return
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:  # linger on with a zero timeout: close() sends RST (RFC 793 §3.4 abort)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:
                pass
        transport.abort()

    def stall(self, stalled: bool) -> None:
        """Stop reading the peer (True) or read again (False): a slow consumer, on purpose.
        The peer's sends then back up in its buffers and its pings go unanswered."""
        self._stalled = stalled
        self._update_reading()

    @property
    def close_description(self) -> str:
        """How the connection ended, for a log line: `1009 message too big` (the code of the
        close frame that ended it, its meaning and its reason; RFC 6455 §7.4), `1006 abnormal
        closure` when no close frame was exchanged."""
        protocol = self._protocol
        received, sent = protocol.close_rcvd, protocol.close_sent
        close = received if received is not None else sent
        if received is not None and sent is not None and not protocol.close_rcvd_then_sent:
            close = sent  # we closed first: ours says why
        if close is None:
            return "1006 abnormal closure"
        if close.code == CloseCode.NORMAL_CLOSURE:
            meaning = "normal closure"  # RFC 6455's name; websockets says "OK"
        else:
            meaning = CLOSE_CODE_EXPLANATIONS.get(close.code, "") or _range_of(close.code)
            meaning = meaning.removesuffix(" [internal]")
        if close.reason and close.reason != meaning:
            return f"{close.code} {meaning}: {close.reason}"
        return f"{close.code} {meaning}"

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # a stream transport (uvloop's does not subclass asyncio.Transport)
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        protocol = self._protocol
        protocol.receive_data(data)
        events = protocol.events_received()
        self._write_out()
        if self._close_timer is None and protocol.close_expected():
            self._arm_close_timer()
        for event in events:
            if isinstance(event, Frame):
                self._frame_received(event)
            else:
                self._handshake_received(event)

    def eof_received(self) -> None:
        protocol = self._protocol
        protocol.receive_eof()
        events = protocol.events_received()
        self._write_out()
        for event in events:  # an HTTP response delimited by the end of the stream
            if not isinstance(event, Frame):
                self._handshake_received(event)
        # the transport closes itself: nothing is written after the peer's EOF

    def connection_lost(self, exc: Exception | None) -> None:
        protocol = self._protocol
        protocol.receive_eof()  # idempotent: the protocol's state is now CLOSED
        protocol.data_to_send()
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if not self._handshake.done():
            error = protocol.handshake_exc or exc or ConnectionError("connection lost")
            self._handshake.set_exception(error)
            self._handshake.exception()  # retrieved by whoever waits, if anyone does
        if self._pings:
            closed = closed_error(protocol)
            for pong, _ in self._pings.values():
                if not pong.done():
                    pong.set_exception(closed)
            self._pings.clear()
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._write_paused = False
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
        self._lost.set_result(None)
        on_closed, self._on_closed = self._on_closed, None
        if on_closed is not None:
            self._on_frame = None
            on_closed(self._take_error())

    def pause_writing(self) -> None:
        # The peer is not reading: stop reading it too, so that answers written from
        # the reading callback never pile up (what `websockets` did with its queue).
        self._write_paused = True
        self._update_reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        for waiter in self._drain_waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._update_reading()

    # -- internals --------------------------------------------------------------------------

    def _frame_received(self, frame: Frame) -> None:
        opcode = frame.opcode
        if opcode is _TEXT:
            if not frame.fin:
                self._fragments = [frame.data]
                return
            self._message_received(frame.data)
        elif opcode is _BINARY:  # refused at its first frame: nothing of it is kept
            self._binary_refused = True
            if self._protocol.state is OPEN:
                self._fail(CloseCode.UNSUPPORTED_DATA, BINARY_REFUSED)
        elif opcode is _CONT:
            if self._binary_refused:
                return
            self._fragments.append(frame.data)
            if frame.fin:
                data = b"".join(self._fragments)
                self._fragments = []
                self._message_received(data)
        elif opcode is _PONG:
            self._pong_received(bytes(frame.data))
        # PING: the protocol queued the pong (already written); CLOSE: it answered

    def _message_received(self, data: BytesLike) -> None:
        try:
            text = str(data, "utf-8")
        except UnicodeDecodeError as exc:
            self._fail(CloseCode.INVALID_DATA, f"{exc.reason} at position {exc.start}")
            return
        on_frame = self._on_frame
        if on_frame is None:
            self._backlog.append(text)
            wakeup = self._wakeup
            if wakeup is not None and not wakeup.done():
                wakeup.set_result(None)
            if len(self._backlog) >= BACKLOG_HIGH:
                self._update_reading()
            return
        try:
            on_frame(text)
        except Exception as exc:  # the consumer's bug: end this connection, not the process
            if self._error is None:
                self._error = exc
            self._fail(CloseCode.INTERNAL_ERROR)

    def _pong_received(self, data: bytes) -> None:
        if data not in self._pings:
            return  # unsolicited
        now = self._loop.time()
        answered = []
        for key, (pong, sent) in self._pings.items():  # a pong answers older pings too
            answered.append(key)
            if not pong.done():
                pong.set_result(now - sent)
            if key == data:
                break
        for key in answered:
            del self._pings[key]

    def _handshake_received(self, event: Request | Response) -> None:
        raise NotImplementedError

    def _write_out(self) -> None:
        transport = self._transport
        if transport is None:
            return
        for data in self._protocol.data_to_send():
            if self._eof_written or transport.is_closing():
                continue  # nothing may follow our end of stream
            if data:
                transport.write(data)
            elif transport.can_write_eof():
                self._eof_written = True
                try:
                    transport.write_eof()
                except Exception:  # pragma: no cover (write_eof documents no exceptions)
                    transport.close()
            else:
                self._eof_written = True
                transport.close()

    def _arm_close_timer(self) -> None:
        if self._close_timer is None and self._transport is not None:
            self._close_timer = self._loop.call_later(CLOSE_TIMEOUT, self._transport.abort)

    def _start_closing(self, code: int, reason: str) -> None:
        protocol = self._protocol
        if protocol.state is OPEN:
            protocol.send_close(code, reason)
            self._write_out()
            self._arm_close_timer()
        elif protocol.state is CONNECTING and self._transport is not None:
            self._transport.close()

    def _fail(self, code: int, reason: str = "") -> None:
        self._protocol.fail(code, reason)
        self._write_out()
        if self._protocol.close_expected():
            self._arm_close_timer()

    async def _drain(self) -> None:
        if not self._write_paused or self._lost.done():
            return
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        try:
            await asyncio.wait_for(waiter, SEND_TIMEOUT)
        except asyncio.TimeoutError:
            if self._transport is not None:
                self._transport.abort()  # a peer that never reads must not hold us forever
            raise ConnectionError(
                f"the peer read nothing for {SEND_TIMEOUT:g} s: connection aborted"
            ) from None
        finally:
            self._drain_waiters.remove(waiter)

    def _update_reading(self) -> None:
        transport = self._transport
        if transport is None:
            return
        backlog = len(self._backlog)
        if self._backlog_paused:
            self._backlog_paused = backlog > BACKLOG_LOW
        else:
            self._backlog_paused = self._on_frame is None and backlog >= BACKLOG_HIGH
        if self._write_paused or self._backlog_paused or self._stalled:
            transport.pause_reading()
        else:
            transport.resume_reading()
