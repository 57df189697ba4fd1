"""The other end of one OCPP link, seen from one side, and the one message pipeline.

A `Peer` drives a sans-I/O `RpcSession` over a `Link` (OCPP-J or SOAP, see `sim/link.py`):

* receive → validate (the session) → hand to a handler or the default (the owner's
  `answer`/`quick_answer`) → answer or refuse → publish what happened as events;
* `call(action, payload)`: at most one CALL out at a time, its answer awaited by unique id
  (a future, no task), a timeout published as `CallTimedOut`;
* `send(action, payload)`: an OCPP 2.1 SEND, which nothing answers: nothing waits for it, and
  it may go while a CALL is out; a SEND received goes to the owner's `on_send`, never answered;
* OCPP 2.1: a CALLRESULT that breaks its schema is answered with a CALLRESULTERROR (and still
  taken), a CALLRESULTERROR received is published;
* the synchronous fast path: a CALL no handler has to see is answered from the reading
  callback, with no task (what a fleet of charge points spends most of its time doing).

Everything the pipeline does is an event on the owner's `EventBus`; the log is one of its
subscribers. Simulators, the prompt and plugins use `call`, `send_raw`, `ping`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ocppsim.core import events
from ocppsim.core.errors import OcppError, OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import (
    BadFrame,
    Call,
    CallError,
    CallReceived,
    CallRefused,
    CallResult,
    CallResultError,
    ErrorReceived,
    FrameError,
    Ignored,
    Message,
    ResultErrorReceived,
    ResultReceived,
    RpcSession,
    Send,
    SendReceived,
    UnexpectedResponse,
    dumps,
    parse_frame,
)
from ocppsim.core.versions import Service
from ocppsim.sim.link import EncodeError, Link
from ocppsim.sim.log import ERROR, INFO, shorten

if TYPE_CHECKING:
    from ocppsim.core.configuration import Configuration
    from ocppsim.sim.faults import PeerFaults

Payload = dict[str, Any]

#: answer(peer, action, payload) -> the CALLRESULT payload; raises OcppError to refuse.
Answerer = Callable[["Peer", str, Any], Awaitable[Payload]]
#: quick_answer(peer, action, payload) -> the answer when no handler needs to run, else None.
QuickAnswerer = Callable[["Peer", str, Any], "Payload | None"]
#: result_listener(peer, action, request payload, result payload)
ResultListener = Callable[["Peer", str, Any, Any], Awaitable[None]]
#: send_listener(peer, action, payload): a SEND arrived (called from the reading callback:
#: it starts a task itself when a handler has to run; what it returns is ignored)
SendListener = Callable[["Peer", str, Any], None]
#: heard(peer, action, request payload, result payload), told as the CALLRESULT is read
Hearer = Callable[["Peer", str, Any, Any], None]

_BLANK = re.compile(r"\s")
_log = logging.getLogger("ocppsim.sim")


class CallFailed(OcppSimError):
    """A CALL got no CALLRESULT: a CALLERROR, a timeout, or no connection.

    `sent` says whether the CALL went out (its connection closed before the answer came).
    """

    def __init__(self, reason: str, error: CallError | None = None, *, sent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.error = error
        self.sent = sent


class CallTimeout(CallFailed):
    """No answer came to a CALL within its timeout (its reason is `timeout`)."""


def _time_out(future: asyncio.Future[Any]) -> None:
    """A CALL's timer: its answer did not come in time."""
    if not future.done():
        future.set_exception(asyncio.TimeoutError())


async def maybe_await(value: Any) -> Any:
    """Await `value` when a handler returned an awaitable (handlers may be plain or async)."""
    if inspect.isawaitable(value):
        return await value
    return value


class Peer:
    """The other end of one OCPP link, with the version negotiated on it."""

    __slots__ = (
        "link",
        "session",
        "speaker",
        "label",
        "charge_point_id",
        "configuration",
        "bus",
        "transport",
        "version",
        "_answer",
        "_quick_answer",
        "_on_result",
        "_on_send",
        "_heard",
        "_on_closed",
        "_silent",
        "_waiting",
        "_lock",
        "_handlers",
        "_open",
        "faults",
    )

    def __init__(
        self,
        link: Link,
        session: RpcSession,
        *,
        speaker: str,
        label: str,
        charge_point_id: str,
        bus: EventBus,
        answer: Answerer,
        quick_answer: QuickAnswerer | None = None,
        on_result: ResultListener | None = None,
        on_send: SendListener | None = None,
        on_closed: Callable[[Peer], None] | None = None,
        configuration: Configuration | None = None,
        heard: Hearer | None = None,
        silent: Callable[[str], str | None] | None = None,
    ):
        """`heard` is told of each CALLRESULT as it is read, before the caller awaiting it
        resumes (so a Charge Point's state follows the order of the wire: a boot's answer
        before a CALL that came after it); `on_result` once the caller has it. `silent(action)`
        says why a CALL received now goes unanswered (None: it is answered)."""
        self.link = link
        self.session = session
        self.speaker = speaker
        self.label = label
        self.charge_point_id = charge_point_id
        #: a Charge Point's link to its CS: that CP's configuration keys (handlers read them)
        self.configuration = configuration
        self.bus = bus
        #: `websocket` (OCPP-J) or `soap`: the link's
        self.transport: str = link.transport
        #: the OCPP version of the link (its session's)
        self.version: str = session.version
        self._answer = answer
        self._quick_answer = quick_answer
        self._on_result = on_result
        self._on_send = on_send
        self._heard = heard
        self._on_closed = on_closed
        self._silent = silent
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._lock: asyncio.Lock | None = None  # made on the first CALL: most peers get none
        self._handlers: set[asyncio.Task[None]] | None = None
        self._open = True
        #: the faults set on this link (`sim/faults.py`); None, the usual case, costs one test
        self.faults: PeerFaults | None = None

    def __repr__(self) -> str:
        return f"<Peer {self.speaker}→{self.label} {self.transport} {self.version}>"

    @property
    def service(self) -> Service:
        """The service this side answers (`cs` on a Central System)."""
        return self.session.service

    @property
    def timeout(self) -> float:
        """Seconds a CALL waits for its answer."""
        return self.session.timeout

    @timeout.setter
    def timeout(self, seconds: float) -> None:
        self.session.timeout = seconds

    @property
    def connected(self) -> bool:
        return self._open and self.link.is_open

    def start(self) -> None:
        """Take what the link receives from now on."""
        self.link.start(self)

    def change_version(self, version: str) -> None:
        """Speak `version` from now on (a SOAP box that changed; CALLs out stay pending)."""
        old = self.session
        self.session = RpcSession(
            version,
            old.service,
            validate_calls=old.validate_calls,
            validate_results=old.validate_results,
            variant=old.variant,
            timeout=old.timeout,
            unique_id=self.link.new_unique_id,
        )
        self.session.pending = old.pending
        self.version = version

    # -- events ---------------------------------------------------------------------------

    def frame_sent(self, wire: str, text: str, message: Message | None = None) -> None:
        self.bus.publish(
            events.FrameSent(self.speaker, self.label, self.transport, wire, text, message)
        )

    def frame_received(self, wire: str, text: str, message: Message | None = None) -> None:
        self.bus.publish(
            events.FrameReceived(self.speaker, self.label, self.transport, wire, text, message)
        )

    def notice(self, text: str, level: int = INFO) -> None:
        self.bus.publish(events.Notice(self.speaker, text, level))

    # -- sending --------------------------------------------------------------------------

    def _call_lock(self) -> asyncio.Lock:
        """One CALL out at a time (OCPP-J §4.1.1)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def call(self, action: str, payload: Any) -> Any:
        """Send a CALL and return the CALLRESULT payload (raises CallFailed)."""
        if not self.connected:
            raise CallFailed("not connected")
        async with self._call_lock():
            faults = self.faults
            if faults is not None:
                payload = faults.outgoing(self, action, payload)
            call = self.session.call(action, payload)
            try:
                wire, text = self.link.encode(call)
            except EncodeError as exc:
                self.session.forget(call.unique_id)
                raise CallFailed(str(exc)) from exc
            result = await self._exchange(call, wire, text)
        if self._on_result is not None:
            await self._on_result(self, action, payload, result)
        return result

    async def _exchange(self, call: Call, wire: str, text: str, raw: bool = False) -> Any:
        """Send `call` and wait for its answer (a future: no task)."""
        if not self.link.is_open:
            self.session.forget(call.unique_id)
            raise CallFailed("connection closed")
        uid = call.unique_id
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting[uid] = future
        timeout = self.session.timeout
        timer: asyncio.TimerHandle | None = None
        try:
            if raw:
                await self.link.send_raw(wire, False)
            else:
                await self.link.send_call(call, wire, timeout, lambda: self._sent(wire, text, call))
            # the timeout is a timer on the answer's future: asyncio.wait_for would wrap it in
            # another future with callbacks, for every CALL of thousands of charge points
            timer = loop.call_later(timeout, _time_out, future)
            return await future
        except asyncio.TimeoutError:
            self.session.forget(uid)
            transport = self.transport
            self.bus.publish(
                events.CallTimedOut(self.speaker, self.label, transport, uid, call.action)
            )
            raise CallTimeout("timeout") from None
        except CallFailed:
            self.session.forget(uid)
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._waiting.pop(uid, None)

    def _sent(self, wire: str, text: str, message: Call | Send) -> None:
        """A CALL or SEND goes out now: its event, then what faults do with it (a duplicate,
        a close after it)."""
        self.frame_sent(wire, text, message)
        faults = self.faults
        if faults is not None:
            faults.sent(self, message, wire)

    async def send(self, action: str, payload: Any) -> Send:
        """Send an OCPP 2.1 SEND: nothing answers it, so nothing waits for an answer, and it
        may go while a CALL is out (Part 4 §4.2.5). CallFailed when it cannot go out;
        MessageTypeUnavailable where the version has no SEND."""
        if not self.connected:
            raise CallFailed("not connected")
        faults = self.faults
        if faults is not None:
            payload = faults.outgoing(self, action, payload)
        message = self.session.send(action, payload)
        try:
            wire, text = self.link.encode(message)
        except EncodeError as exc:
            raise CallFailed(str(exc)) from exc
        self._sent(wire, text, message)
        await self.link.send(message, wire)
        return message

    async def send_raw(self, text: str, show_headers: bool = False) -> None:
        """Send `text` as is: one frame (OCPP-J) or one HTTP body (SOAP). When it reads as a
        CALL whose answer comes back on the link, wait for it like `call` does, so that the
        answer is logged and checked as one (a CALLERROR is no failure here)."""
        if not self.connected:
            raise CallFailed("not connected")
        call = self.link.raw_call(text)
        if call is None or call.unique_id in self.session.pending:
            if not self.link.is_open:
                raise CallFailed("connection closed")
            await self.link.send_raw(text, show_headers)  # nothing to wait for
            return
        self.session.track(call.unique_id, call.action, call.payload)
        try:
            await self._exchange(call, text, text, raw=True)
        except CallFailed as exc:
            if exc.error is None and exc.reason != "timeout":  # a CALLERROR was logged
                raise

    async def ping(self) -> None:
        """One transport-level ping (websocket only)."""
        address = self.link.remote_address
        self.notice(f"PING sent to: {address} ({self.label})")
        await self.link.ping()
        self.notice(f"PONG received from: {address} ({self.label})")

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """End the link properly."""
        await self.link.close(code, reason)

    def abort(self, code: int, reason: str) -> None:
        """Drop the link at once (a dead peer): close frame `code`/`reason` if it can go."""
        self.link.abort(code, reason)

    # -- receiving ------------------------------------------------------------------------

    def receive_frame(self, text: str) -> None:
        """One OCPP-J frame received, called by the link as it reads (no task per frame)."""
        try:
            event = self.session.receive(text)
        except Exception as exc:  # a check that failed on what the frame holds
            _log.debug("frame not read", exc_info=True)
            self.notice(f"Error: message {shorten(text)} can't be processed: {exc!r}", ERROR)
            self._refuse_unread(text)
            return
        try:
            self._handle(event, text, None)
        except Exception as exc:  # whatever a frame holds, the link and the simulator live on
            _log.debug("frame processing failed", exc_info=True)
            self.notice(f"Error: message {shorten(text)} can't be processed: {exc!r}", ERROR)

    def _refuse_unread(self, text: str) -> None:
        """Answer InternalError to a CALL the session could not read through (OCPP-J §4.2.3:
        every CALL gets a CALLRESULT or a CALLERROR; without one its sender waits for nothing)."""
        try:
            message = parse_frame(text)
        except Exception:
            return
        if isinstance(message, Call):
            self._reply(self.session.refuse(message.unique_id, "InternalError"), None, None)

    def receive_message(self, message: Message, wire: str, text: str) -> None:
        """One message a link decoded (SOAP); a CALL always gets an answer."""
        try:
            self._handle(self.session.receive_message(message), wire, text)
        except Exception as exc:
            _log.debug("message processing failed", exc_info=True)
            self.notice(f"Error: message {shorten(text)} can't be processed: {exc!r}", ERROR)
            if isinstance(message, Call):
                self._reply(self.session.refuse(message.unique_id, "InternalError"), None, None)

    def _handle(self, event: Any, wire: str, text: str | None) -> None:
        """Act on what the session made of a received message (`text`: how the link shows
        it; None for an OCPP-J frame, shown compact)."""
        kind = type(event)
        if kind is CallReceived:
            call: Call = event.call
            if text is None:
                text = call.to_frame() if _BLANK.search(wire) else wire
            self.bus.publish(  # (frame_received, inline: the hot path)
                events.FrameReceived(self.speaker, self.label, self.transport, wire, text, call)
            )
            if self._silent is not None:
                why = self._silent(call.action)
                if why is not None:
                    self.notice(f"{call.action} #{call.unique_id} not answered: {why}.")
                    return
            quick = None
            if self._quick_answer is not None:
                try:
                    quick = self._quick_answer(self, call.action, call.payload)
                except OcppError as exc:  # the simulator's own refusal (a model's)
                    refusal = self.session.refuse(
                        call.unique_id, exc.code, exc.description, exc.details
                    )
                    self._reply(refusal, call.action, None)
                    return
                except Exception as exc:  # a model's bug: the CALL is answered all the same
                    _log.debug("quick answer failed", exc_info=True)
                    self.notice(f"Error: answering {call.action} failed: {exc!r}", ERROR)
                    self._reply(self.session.refuse(call.unique_id, "InternalError"), None, None)
                    return
            if quick is not None:  # no handler to run: answer without a task
                self._reply(self.session.answer(call, quick), call.action, quick)
                return
            task = asyncio.get_running_loop().create_task(self._handle_call(call))
            if self._handlers is None:
                self._handlers = set()
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)
        elif kind is ResultReceived:
            result: CallResult = event.result
            if text is None:
                text = result.to_frame() if _BLANK.search(wire) else wire
            self.frame_received(wire, text, result)
            violation = event.violation
            if violation is not None:
                self.bus.publish(
                    events.ResultInvalid(
                        self.speaker,
                        self.label,
                        self.transport,
                        result.unique_id,
                        event.pending.action,
                        violation.code,
                        violation.reason,
                    )
                )
            if event.reply is not None:  # OCPP 2.1: say we cannot accept it (it is still taken)
                self._reply(event.reply, event.pending.action, None)
            if self._heard is not None:
                pending = event.pending
                try:
                    self._heard(self, pending.action, pending.payload, result.payload)
                except Exception as exc:  # the answer still reaches its caller
                    _log.debug("result listener failed", exc_info=True)
                    self.notice(f"Error: the {pending.action} answer was not taken: {exc!r}", ERROR)
            self._resolve(result.unique_id, result.payload, None)
        elif kind is SendReceived:
            self._handle_send(event, wire, text)
        elif kind is CallRefused:
            self.frame_received(wire, _compact(wire) if text is None else text)
            error: CallError = event.error
            self.bus.publish(  # why, before the answer goes out (a peer may act on it at once)
                events.CallRefused(
                    self.speaker,
                    self.label,
                    self.transport,
                    event.unique_id,
                    event.action,
                    error.code,
                    event.reason,
                )
            )
            self._reply(error, event.action, None)
        elif kind is ErrorReceived:
            self.frame_received(wire, event.error.to_frame() if text is None else text, event.error)
            self._resolve(event.error.unique_id, None, event.error)
        elif kind is UnexpectedResponse:
            message = event.message
            self.frame_received(wire, message.to_frame() if text is None else text, message)
            self.bus.publish(
                events.AnswerIgnored(self.speaker, self.label, self.transport, message.unique_id)
            )
        elif kind is ResultErrorReceived:
            rejection: CallResultError = event.error
            self.frame_received(wire, rejection.to_frame() if text is None else text, rejection)
            self.bus.publish(
                events.CallResultErrorReceived(
                    self.speaker,
                    self.label,
                    self.transport,
                    rejection.unique_id,
                    event.action,
                    rejection.code,
                    rejection.description,
                )
            )
        elif kind is BadFrame:
            self.frame_received(wire, event.text if text is None else text)
            answer: CallError | None = event.error
            self.bus.publish(
                events.FrameUnreadable(
                    self.speaker,
                    self.label,
                    self.transport,
                    event.text,
                    event.reason,
                    None if answer is None else answer.unique_id,
                    None if answer is None else answer.code,
                )
            )
            if answer is not None:  # OCPP-J 2.x answers what it cannot read (§4.2.3)
                self._reply(answer, None, None)
        elif kind is Ignored:
            self.frame_received(wire, event.text if text is None else text)
            self.bus.publish(
                events.FrameIgnored(
                    self.speaker, self.label, self.transport, event.text, event.reason
                )
            )

    def _handle_send(self, event: SendReceived, wire: str, text: str | None) -> None:
        """A SEND: logged, its problem reported, handed to the owner; never answered."""
        send = event.send
        if text is None:
            text = send.to_frame() if _BLANK.search(wire) else wire
        self.frame_received(wire, text, send)
        problem = event.problem
        if problem is not None:
            self.bus.publish(
                events.SendInvalid(
                    self.speaker,
                    self.label,
                    self.transport,
                    send.unique_id,
                    send.action,
                    problem.code,
                    problem.reason,
                )
            )
        if self._on_send is not None:
            self._on_send(self, send.action, send.payload)

    def _resolve(self, unique_id: str, payload: Any, error: CallError | None) -> None:
        future = self._waiting.get(unique_id)
        if future is None or future.done():
            return
        if error is None:
            future.set_result(payload)
        else:
            future.set_exception(CallFailed(f"{error.code}: {error.description}", error))

    async def _handle_call(self, call: Call) -> None:
        """Run the handlers of a CALL (a task: plugins may await) and answer."""
        payload = None
        try:
            payload = await self._answer(self, call.action, call.payload)
            reply: CallResult | CallError = self.session.answer(call, payload)
        except OcppError as exc:
            reply = self.session.refuse(call.unique_id, exc.code, exc.description, exc.details)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler's bug answers InternalError, never kills the link
            _log.debug("handler failed", exc_info=True)
            self.notice(f"Error: handler for {call.action} failed: {exc!r}", ERROR)
            reply = self.session.refuse(call.unique_id, "InternalError")
        self._reply(reply, call.action, payload)

    def _reply(
        self, reply: CallResult | CallError | CallResultError, action: str | None, payload: Any
    ) -> None:
        """Encode and send the answer to a received message (a CALL's CALLRESULT or CALLERROR,
        a CALLRESULT's CALLRESULTERROR); an answer the link cannot carry becomes an
        InternalError (it is our handler's, or a plugin's, mistake)."""
        if self.faults is not None and self.faults.answer(self, reply, action, payload):
            return  # a fault took it (changed, held, dropped or doubled)
        link = self.link
        if not link.is_open:
            return  # the link is closing: nothing more goes out
        try:
            wire, text = link.encode(reply)
        except Exception as exc:  # EncodeError, or a bug: the CALL still gets its answer
            _log.debug("answer not encoded", exc_info=True)
            self.notice(
                f"Error: the {action} answer {_shown(payload)} cannot be sent: {exc}", ERROR
            )
            reply = self.session.refuse(reply.unique_id, "InternalError")
            wire, text = link.encode(reply)
        self.bus.publish(  # (frame_sent, inline: the hot path)
            events.FrameSent(self.speaker, self.label, self.transport, wire, text, reply)
        )
        try:
            link.send_reply(reply, wire)
        except Exception as exc:  # the link closed while we answered
            self.notice(f"Error: could not answer #{reply.unique_id}: {exc}", ERROR)

    def encode_answer(
        self, reply: CallResult | CallError | CallResultError, action: str | None, payload: Any
    ) -> tuple[CallResult | CallError | CallResultError, str, str] | None:
        """What `_reply` sends for `reply` (the answer, its wire and log texts; an InternalError
        when the link cannot carry it), for faults that change or hold it; None once the
        link is closing."""
        link = self.link
        if not link.is_open:
            return None
        try:
            wire, text = link.encode(reply)
        except Exception as exc:
            _log.debug("answer not encoded", exc_info=True)
            self.notice(
                f"Error: the {action} answer {_shown(payload)} cannot be sent: {exc}", ERROR
            )
            reply = self.session.refuse(reply.unique_id, "InternalError")
            wire, text = link.encode(reply)
        return reply, wire, text

    def send_answer(
        self,
        reply: CallResult | CallError | CallResultError,
        wire: str,
        text: str,
        shown: Message | None = None,
    ) -> None:
        """Send an answer `encode_answer` made (`shown`: the message the event names, when a
        fault changed what the wire carries)."""
        link = self.link
        if not link.is_open:
            return
        self.frame_sent(wire, text, reply if shown is None else shown)
        try:
            link.send_reply(reply, wire)
        except Exception as exc:
            self.notice(f"Error: could not answer #{reply.unique_id}: {exc}", ERROR)

    def link_closed(self, error: BaseException | None) -> None:
        """The link is over: pending CALLs fail, running handlers stop, the owner is told."""
        self._open = False
        if error is not None:
            self.notice(f"Error: connection failed: {error!r}", ERROR)
        if self._waiting:
            reason = f"connection closed ({self.link.close_description})"
            for future in self._waiting.values():
                if not future.done():
                    future.set_exception(CallFailed(reason, sent=True))
        if self._handlers:
            for task in list(self._handlers):
                task.cancel()
        if self._on_closed is not None:
            self._on_closed(self)


def raw_call(text: str) -> Call | None:
    """The CALL an OCPP-J raw text is, when it parses as one (`[2,"id","Action",{...}]`)."""
    if not text.lstrip().startswith("["):
        return None
    try:
        message = parse_frame(text)
    except FrameError:
        return None
    return message if isinstance(message, Call) else None


def _compact(text: str) -> str:
    """A received frame as compact JSON when it parses (logs show canonical frames)."""
    try:
        return json.dumps(json.loads(text), separators=(",", ":"), ensure_ascii=False)
    except (ValueError, RecursionError):
        return text


def _shown(payload: Any) -> str:
    """A payload for an error line: its JSON, or its repr when it is no JSON."""
    try:
        return dumps(payload)
    except (TypeError, ValueError):
        return repr(payload)


# what users catch, shown as `ocppsim.<name>` in tracebacks (importable from there too)
CallFailed.__module__ = "ocppsim"
CallTimeout.__module__ = "ocppsim"
