"""One OCPP link seen from one side (the CS's view of a CP, or a CP's view of its CS).

`Peer` is what simulators, the prompt and plugins use: `call`, `send_raw`, `ping`. The
OCPP-J implementation drives a sans-I/O `RpcSession` over a WebSocket `Link`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from ocppsim.core.errors import OcppError, OcppSimError
from ocppsim.core.rpc import (
    BadFrame,
    Call,
    CallError,
    CallReceived,
    CallRefused,
    ErrorReceived,
    FrameError,
    ResultReceived,
    RpcSession,
    UnexpectedResponse,
    parse_frame,
)
from ocppsim.core.versions import Service
from ocppsim.sim import log
from ocppsim.transport.websocket import Link

if TYPE_CHECKING:
    from ocppsim.core.configuration import Configuration

Payload = dict[str, Any]

#: answer(peer, action, payload) -> the CALLRESULT payload; raises OcppError to refuse.
Answerer = Callable[["Peer", str, Any], Awaitable[Payload]]
#: quick_answer(peer, action, payload) -> the answer when no handler needs to run, else None.
QuickAnswerer = Callable[["Peer", str, Any], "Payload | None"]

_BLANK = re.compile(r"\s")
#: result_listener(peer, action, request payload, result payload)
ResultListener = Callable[["Peer", str, Any, Any], Awaitable[None]]


class CallFailed(OcppSimError):
    """A CALL got no CALLRESULT: a CALLERROR, a timeout, or no connection.

    `sent` says whether the CALL went out (its connection closed before the answer came).
    """

    def __init__(self, reason: str, error: CallError | None = None, *, sent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.sent = sent


class Peer:
    """The other end of one OCPP link, with the version negotiated on it."""

    version: str
    speaker: str
    label: str
    charge_point_id: str
    transport = "websocket"
    #: a Charge Point's link to its CS: that CP's configuration keys (handlers read them)
    configuration: Configuration | None = None

    @property
    def connected(self) -> bool:
        raise NotImplementedError

    async def call(self, action: str, payload: Any) -> Any:
        """Send a CALL and return the CALLRESULT payload (raises CallFailed)."""
        raise NotImplementedError

    async def send_raw(self, text: str, show_headers: bool = False) -> None:
        """Send `text` as is: one frame (websocket) or one HTTP body (SOAP)."""
        raise NotImplementedError

    async def ping(self) -> None:
        """One transport-level ping (websocket only)."""
        raise OcppSimError("websocket ping is not available in SOAP mode")

    def abort(self, code: int, reason: str) -> None:
        """Drop the link at once (a dead peer): close frame `code`/`reason` if it can go."""


async def maybe_await(value: Any) -> Any:
    """Await `value` when a handler returned an awaitable (handlers may be plain or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


class JsonPeer(Peer):
    """A Peer over OCPP-J: RPC session + WebSocket link."""

    def __init__(
        self,
        link: Link,
        session: RpcSession,
        *,
        speaker: str,
        label: str,
        charge_point_id: str,
        answer: Answerer,
        on_result: ResultListener | None = None,
        quick_answer: QuickAnswerer | None = None,
    ):
        self.link = link
        self.session = session
        self.version = session.version
        self.speaker = speaker
        self.label = label
        self.charge_point_id = charge_point_id
        self._answer = answer
        self._on_result = on_result
        self._quick_answer = quick_answer
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._call_lock = asyncio.Lock()
        self._handlers: set[asyncio.Task[None]] = set()
        self._open = True

    @property
    def service(self) -> Service:
        return self.session.service

    # -- sending ----------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self._open and self.link.is_open

    async def _send(self, text: str) -> None:
        """Send and log a frame; CallFailed when the link is closing or closed."""
        if not self.link.is_open:
            raise CallFailed("connection closed")
        log.frame(self.speaker, log.SENT, self.label, text)
        try:
            await self.link.send(text)
        except ConnectionClosed:
            raise CallFailed(f"connection closed ({self.link.close_description})") from None
        except ConnectionError as exc:
            raise CallFailed(f"connection closed ({exc})") from None

    def _send_now(self, text: str) -> None:
        """Send from the reading callback: no wait (the link stops reading while the
        peer does not read what we send); nothing once the link is closing."""
        if not self.link.is_open:
            return
        log.frame(self.speaker, log.SENT, self.label, text)
        self.link.send_now(text)

    async def call(self, action: str, payload: Any) -> Any:
        if not self.connected:
            raise CallFailed("not connected")
        async with self._call_lock:
            call = self.session.call(action, payload)
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._waiting[call.unique_id] = future
            try:
                await self._send(call.to_frame())
                result = await asyncio.wait_for(future, self.session.timeout)
            except asyncio.TimeoutError:
                self.session.forget(call.unique_id)
                log.error(f"Error for the message #{call.unique_id} : timeout", self.speaker)
                raise CallFailed("timeout") from None
            finally:
                self._waiting.pop(call.unique_id, None)
        if self._on_result is not None:
            await self._on_result(self, action, payload, result)
        return result

    async def send_raw(self, text: str, show_headers: bool = False) -> None:
        """Send `text` as is; when it reads as a CALL, wait for its answer like `call` does,
        so that the answer is logged and checked as one (a CALLERROR is no failure here)."""
        if not self.connected:
            raise CallFailed("not connected")
        call = _raw_call(text)
        if call is None or call.unique_id in self.session.pending:
            await self._send(text)  # not a CALL, or its id is taken: nothing to wait for
            return
        pending = self.session.track(call.unique_id, call.action, call.payload)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[pending.unique_id] = future
        try:
            await self._send(text)
            await asyncio.wait_for(future, self.session.timeout)
        except asyncio.TimeoutError:
            self.session.forget(pending.unique_id)
            log.error(f"Error for the message #{pending.unique_id} : timeout", self.speaker)
        except CallFailed as exc:
            self.session.forget(pending.unique_id)
            if exc.error is None:  # not sent, or no answer: say so; a CALLERROR was logged
                raise
        finally:
            self._waiting.pop(pending.unique_id, None)

    def abort(self, code: int, reason: str) -> None:
        self.link.abort(code, reason)

    async def ping(self) -> None:
        address = self.link.remote_address
        log.event(self.speaker, f"PING sent to: {address}")
        await self.link.ping()
        log.event(self.speaker, f"PONG received from: {address}")

    # -- receiving --------------------------------------------------------------------------

    async def run(self) -> None:
        """Read frames until the connection closes."""
        try:
            await self.link.serve(self._on_frame)
        finally:
            self._open = False
            if self._waiting:
                reason = f"connection closed ({self.link.close_description})"
                for future in self._waiting.values():
                    if not future.done():
                        future.set_exception(CallFailed(reason, sent=True))
            for task in list(self._handlers):
                task.cancel()

    def _on_frame(self, text: str) -> None:
        """One frame received, called by the link as it reads (no task switch per frame)."""
        try:
            self._process(text)
        except Exception as exc:  # whatever a frame holds, the link and the simulator live on
            logging.getLogger("ocppsim.sim").debug("frame processing failed", exc_info=True)
            log.error(f"Error: message {_shorten(text)} can't be processed: {exc!r}", self.speaker)

    def _process(self, text: str) -> None:
        event = self.session.receive(text)
        if isinstance(event, BadFrame):
            log.frame(self.speaker, log.RECEIVED, self.label, event.text)
            log.error(f"Error: message {_shorten(event.text)} can't be parsed.", self.speaker)
        elif isinstance(event, CallRefused):
            log.frame(self.speaker, log.RECEIVED, self.label, _compact(text))
            log.warning(  # why, before the answer goes out (a peer may act on it at once)
                f"WARNING : {event.error.code} for CALL #{event.unique_id} ({event.reason})",
                self.speaker,
            )
            self._send_now(event.reply)
        elif isinstance(event, CallReceived):
            shown = event.call.to_frame() if _BLANK.search(text) else text
            log.frame(self.speaker, log.RECEIVED, self.label, shown)
            quick = None
            if self._quick_answer is not None:
                quick = self._quick_answer(self, event.call.action, event.call.payload)
            if quick is not None:  # no handler to run: answer without a task
                self._send_now(self.session.answer(event.call, quick).to_frame())
                return
            task = asyncio.create_task(self._handle_call(event.call))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        elif isinstance(event, ResultReceived):
            shown = event.result.to_frame() if _BLANK.search(text) else text
            log.frame(self.speaker, log.RECEIVED, self.label, shown)
            if event.violation is not None:
                log.warning(
                    f"WARNING : {event.violation.code} for CALLRETURN "
                    f"#{event.result.unique_id} ({event.violation.reason})",
                    self.speaker,
                )
            self._resolve(event.result.unique_id, event.result.payload, None)
        elif isinstance(event, ErrorReceived):
            log.frame(self.speaker, log.RECEIVED, self.label, event.error.to_frame())
            self._resolve(event.error.unique_id, None, event.error)
        elif isinstance(event, UnexpectedResponse):
            log.frame(self.speaker, log.RECEIVED, self.label, event.message.to_frame())
            log.warning(
                f"WARNING : no pending CALL #{event.message.unique_id}, answer ignored",
                self.speaker,
            )

    def _resolve(self, unique_id: str, payload: Any, error: CallError | None) -> None:
        future = self._waiting.get(unique_id)
        if future is None or future.done():
            return
        if error is None:
            future.set_result(payload)
        else:
            future.set_exception(CallFailed(f"{error.code}: {error.description}", error))

    async def _handle_call(self, call: Call) -> None:
        try:
            payload = await self._answer(self, call.action, call.payload)
            reply = self.session.answer(call, payload).to_frame()
        except OcppError as exc:
            reply = self.session.refuse(
                call.unique_id, exc.code, exc.description, exc.details
            ).to_frame()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler's bug answers InternalError, never kills the link
            logging.getLogger("ocppsim.sim").debug("handler failed", exc_info=True)
            log.error(f"Error: handler for {call.action} failed: {exc!r}", self.speaker)
            reply = self.session.refuse(call.unique_id, "InternalError").to_frame()
        if self.connected:
            try:
                await self._send(reply)
            except Exception as exc:  # the link closed while we answered
                log.error(f"Error: could not answer #{call.unique_id}: {exc}", self.speaker)


def _raw_call(text: str) -> Call | None:
    """The CALL a raw text is, when it parses as one (`[2,"id","Action",{...}]`)."""
    if not text.lstrip().startswith("["):
        return None
    try:
        message = parse_frame(text)
    except FrameError:
        return None
    return message if isinstance(message, Call) else None


def _shorten(text: str, limit: int = 200) -> str:
    """At most `limit` characters of a frame, for error lines."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def _compact(text: str) -> str:
    """A received frame as compact JSON when it parses (logs show canonical frames)."""
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return text
