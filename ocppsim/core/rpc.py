"""The OCPP RPC session, sans-I/O: messages in, events out; calls in, messages out (SPEC §4).

One `RpcSession` serves both directions of one link: it answers the CALLs its service
handles (`cs` on a Central System, `cp` on a Charge Point) and tracks the CALLs it sent
until their CALLRESULT or CALLERROR arrives or their deadline passes. The clock and the
unique-id generator are injected so tests run without sockets or sleeping.

Both transports use it: `receive(text)` takes an OCPP-J frame (and applies OCPP-J's framing
rules), `receive_message(message)` a message a link has already decoded (a SOAP request is a
`Call` whose unique id is its MessageID, its HTTP response a `CallResult` or a `CallError`).
From there the checks are the same: unknown action, schema (switchable), pending CALLs.
What the session sends is a message (`Call`, `CallResult`, `CallError`); the link encodes it
(`to_frame()` for OCPP-J, an envelope for SOAP).

The framing rules follow the version (its `message_types` and its error dialect): OCPP 1.x
answers only a CALL whose unique id it can read; OCPP-J 2.0.1 and 2.1 (Part 4 §4.2.3) answer
any frame they cannot read with an RpcFrameworkError (id `"-1"` when the id cannot be read),
2.0.1 answers an unknown message type with MessageTypeNotSupported and 2.1 ignores it (§4.4).
OCPP 2.1 adds two message types: SEND (6), a message nothing answers (§4.2.5), and
CALLRESULTERROR (5), what the receiver of a CALLRESULT it cannot accept sends back (§4.2.4).
"""

from __future__ import annotations

import codecs
import difflib
import json
import math
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ocppsim.core.errors import ErrorKind, OcppSimError, bounded_description
from ocppsim.core.validation import UnknownMessage, Violation, validate
from ocppsim.core.versions import Service, get

CALL, CALLRESULT, CALLERROR, CALLRESULTERROR, SEND = 2, 3, 4, 5, 6
#: Each OCPP-J message type number's name (OCPP-J 2.1 Part 4 §4.1.3).
MESSAGE_TYPE_NAMES = {
    CALL: "CALL",
    CALLRESULT: "CALLRESULT",
    CALLERROR: "CALLERROR",
    CALLRESULTERROR: "CALLRESULTERROR",
    SEND: "SEND",
}
MAX_ID_LENGTH = 36
DEFAULT_TIMEOUT = 30.0
#: How many of the CALLs it answered a 2.1 session remembers, to name the action a
#: CALLRESULTERROR is about (one CALL at a time each way: a few are plenty).
REMEMBERED_ANSWERS = 16

#: The role that answers the CALLs of each service, and the other service.
_ROLE: dict[Service, str] = {"cs": "Central System", "cp": "Charge Point"}
_OTHER: dict[Service, Service] = {"cs": "cp", "cp": "cs"}

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def new_unique_id() -> str:
    """32 random letters and digits: 128 random bits in hexadecimal (SPEC §4), unique in
    practice and a tenth of the cost of drawing 32 characters (a fleet sends thousands a
    second)."""
    return f"{random.getrandbits(128):032x}"


def _escape_surrogate(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def dumps(value: Any) -> str:
    """Compact JSON, as every frame and log line uses.

    A lone surrogate (`"\\ud800"` parses to one) cannot be sent as UTF-8: it is written
    as its JSON escape, so a CALL carrying one still gets its answer (RFC 8259 §7)."""
    text = _ENCODER.encode(value)
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub(_escape_surrogate, text)
    return text


@dataclass(frozen=True)
class Call:
    """`[2, unique_id, action, payload]`"""

    unique_id: str
    action: str
    payload: Any
    message_type: ClassVar[int] = CALL

    def to_frame(self) -> str:
        return dumps([CALL, self.unique_id, self.action, self.payload])


@dataclass(frozen=True)
class CallResult:
    """`[3, unique_id, payload]`"""

    unique_id: str
    payload: Any
    message_type: ClassVar[int] = CALLRESULT

    def to_frame(self) -> str:
        return dumps([CALLRESULT, self.unique_id, self.payload])


@dataclass(frozen=True)
class CallError:
    """`[4, unique_id, code, description, details]`"""

    unique_id: str
    code: str
    description: str
    details: Any = field(default_factory=dict)
    message_type: ClassVar[int] = CALLERROR

    def to_frame(self) -> str:
        return dumps([CALLERROR, self.unique_id, self.code, self.description, self.details])


@dataclass(frozen=True)
class CallResultError:
    """`[5, unique_id, code, description, details]` (OCPP 2.1): the receiver of the CALLRESULT
    `unique_id` cannot accept it (OCPP-J 2.1 §4.2.4); the same elements as a CALLERROR."""

    unique_id: str
    code: str
    description: str
    details: Any = field(default_factory=dict)
    message_type: ClassVar[int] = CALLRESULTERROR

    def to_frame(self) -> str:
        return dumps([CALLRESULTERROR, self.unique_id, self.code, self.description, self.details])


@dataclass(frozen=True)
class Send:
    """`[6, unique_id, action, payload]` (OCPP 2.1): a message its receiver never answers,
    not even with an error (OCPP-J 2.1 §4.2.5); `action` is the message's whole name."""

    unique_id: str
    action: str
    payload: Any
    message_type: ClassVar[int] = SEND

    def to_frame(self) -> str:
        return dumps([SEND, self.unique_id, self.action, self.payload])


Message = Call | CallResult | CallError | CallResultError | Send


class FrameError(OcppSimError, ValueError):
    """A text that is not an OCPP-J message; `message_type` and `unique_id` are set when
    they could be read (a known type with the wrong elements, an unknown type number)."""

    def __init__(self, reason: str, message_type: int | None = None, unique_id: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.message_type = message_type
        self.unique_id = unique_id


class MessageTypeUnavailable(OcppSimError):
    """This version has no such message type (a SEND in OCPP 1.5)."""


def _refuse_constant(name: str) -> Any:
    """JSON has no NaN or Infinity (Python's parser would accept them)."""
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or an exponent; one beyond a double's range (`1e999`) is
    refused, not read as infinity, which no check, sum or answer can use (RFC 8259 §6)."""
    value = float(text)
    if math.isinf(value):
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise ValueError(f"number {shown} is out of range")
    return value


#: The decoder of every received frame: NaN and Infinity are no JSON (RFC 8259 §6), nor is a
#: number too large for a float.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


#: The start of a CALL, `[2,"<unique id>"`, read from a text that is not JSON as a whole.
_CALL_START = re.compile(r'\s*\[\s*2\s*,\s*("(?:[^"\\\x00-\x1f]|\\.)*")\s*[,\]]')
#: How far into such a text the id is looked for (an id of 36 characters, each escaped).
_CALL_START_LIMIT = 16 + 6 * MAX_ID_LENGTH


def _unique_id_of(text: str | bytes) -> str | None:
    """The unique id of a text that starts like a CALL but is not JSON (NaN, nesting too
    deep, a missing quote further on), or None; reads a bounded prefix only."""
    start = text[:_CALL_START_LIMIT]
    if isinstance(start, bytes):
        try:  # a character cut at the end of the prefix is left for later, not an error
            start = codecs.getincrementaldecoder("utf-8")().decode(start)
        except UnicodeDecodeError:
            return None
    found = _CALL_START.match(start)
    if found is None:
        return None
    try:
        unique_id = json.loads(found.group(1))
    except ValueError:  # a bad escape
        return None
    return unique_id if isinstance(unique_id, str) else None


#: What each message type holds, for the reason a malformed one is refused or ignored.
_SHAPES = {
    CALL: "a CALL is [2, uniqueId, action, {payload}]",
    CALLRESULT: "a CALLRESULT is [3, uniqueId, {payload}]",
    CALLERROR: "a CALLERROR is [4, uniqueId, errorCode, errorDescription, {errorDetails}]",
    CALLRESULTERROR: (
        "a CALLRESULTERROR is [5, uniqueId, errorCode, errorDescription, {errorDetails}]"
    ),
    SEND: "a SEND is [6, uniqueId, action, {payload}]",
}


def _parse_call(value: list[Any]) -> Message | tuple[str, str]:
    if len(value) != 4 or not isinstance(value[2], str):
        return (value[1], _SHAPES[CALL])
    return Call(value[1], value[2], value[3])


def _parse_result(value: list[Any]) -> Message | None:
    return CallResult(value[1], value[2]) if len(value) == 3 else None


def _error_elements(value: list[Any]) -> bool:
    """True when `value` has a CALLERROR's elements (errorDetails may be left out)."""
    return len(value) in (4, 5) and isinstance(value[2], str) and isinstance(value[3], str)


def _parse_error(value: list[Any]) -> Message | None:
    if _error_elements(value):
        return CallError(value[1], value[2], value[3], value[4] if len(value) == 5 else {})
    return None


def _parse_result_error(value: list[Any]) -> Message | None:
    if _error_elements(value):
        return CallResultError(value[1], value[2], value[3], value[4] if len(value) == 5 else {})
    return None


def _parse_send(value: list[Any]) -> Message | None:
    if len(value) != 4 or not isinstance(value[2], str):
        return None
    return Send(value[1], value[2], value[3])


#: How each message type id of OCPP-J is read (OCPP-J 2.1 §4.1.3); whether a version knows
#: the type is the session's question (its entry's `message_types`).
_PARSERS: dict[int, Callable[[list[Any]], Message | tuple[str, str] | None]] = {
    CALL: _parse_call,
    CALLRESULT: _parse_result,
    CALLERROR: _parse_error,
    CALLRESULTERROR: _parse_result_error,
    SEND: _parse_send,
}


def _type_number(kind: int) -> str:
    """`6 (SEND)`, `7`: a message type number for a reason (a huge one is not spelled out)."""
    name = MESSAGE_TYPE_NAMES.get(kind)
    if name is not None:
        return f"{kind} ({name})"
    return str(kind) if -(10**9) < kind < 10**9 else "out of range"


def parse_frame(text: str | bytes) -> Message | tuple[str, str]:
    """Decode one frame.

    Returns the message, or `(unique_id, reason)` for a CALL that has an id but is
    otherwise malformed, JSON or not (it can still be answered with a CALLERROR, OCPP-J
    §4.2.3); raises `FrameError` for anything else, with the message type and id when they
    could be read.
    """
    try:
        if isinstance(text, str) and not text.startswith("\ufeff"):
            value = _DECODER.decode(text)  # json.loads would make a decoder for each frame
        else:  # bytes (json.loads finds their encoding), or a BOM (json.loads refuses it)
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"not JSON ({exc})"
        unique_id = _unique_id_of(text)
        if unique_id is None:
            raise FrameError(reason) from exc
        return (unique_id, reason)
    if not isinstance(value, list):
        raise FrameError("not a JSON array")
    if len(value) < 2:
        raise FrameError("an OCPP-J message is [messageTypeId, uniqueId, …]")
    kind, unique_id = value[0], value[1]
    if type(kind) is not int:  # a bool is no message type id, nor is 2.0
        raise FrameError("the message type id is not an integer")
    if not isinstance(unique_id, str):
        raise FrameError("the unique id is not a string")
    parser = _PARSERS.get(kind)
    if parser is None:
        raise FrameError(f"unknown message type {_type_number(kind)}", kind, unique_id)
    message = parser(value)
    if message is None:
        raise FrameError(_SHAPES[kind], kind, unique_id)
    return message


# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """A CALL this side sent and still waits for."""

    unique_id: str
    action: str
    payload: Any
    deadline: float


@dataclass(frozen=True)
class CallReceived:
    """A valid CALL to answer with `RpcSession.answer` or `RpcSession.refuse`."""

    call: Call


@dataclass(frozen=True)
class CallRefused:
    """A CALL to answer at once with the CALLERROR `error`; `reason` says why, for the log."""

    unique_id: str
    action: str | None
    error: CallError
    reason: str

    @property
    def reply(self) -> str:
        """The CALLERROR as an OCPP-J frame."""
        return self.error.to_frame()


@dataclass(frozen=True)
class ResultReceived:
    """The CALLRESULT of a pending CALL; `violation` is set when it breaks its schema, and
    `reply` is then the CALLRESULTERROR to send back where the version has one (OCPP 2.1)."""

    pending: Pending
    result: CallResult
    violation: Violation | None
    reply: CallResultError | None = None


@dataclass(frozen=True)
class ErrorReceived:
    """The CALLERROR answering a pending CALL."""

    pending: Pending
    error: CallError


@dataclass(frozen=True)
class UnexpectedResponse:
    """A CALLRESULT or CALLERROR whose unique id no pending CALL has."""

    message: CallResult | CallError


@dataclass(frozen=True)
class SendReceived:
    """A SEND (OCPP 2.1), never answered; `problem` says why it is not a valid one (an
    unknown action, a schema violation): it is still handed on, as a CALLRESULT is."""

    send: Send
    problem: Violation | None


@dataclass(frozen=True)
class ResultErrorReceived:
    """A CALLRESULTERROR (OCPP 2.1): the peer cannot accept our CALLRESULT `error.unique_id`,
    the answer to a CALL `action` (None when that CALL is not remembered). Never answered."""

    error: CallResultError
    action: str | None


@dataclass(frozen=True)
class BadFrame:
    """A text that cannot be read as a message of this version; `error` is the CALLERROR
    that answers it (OCPP 2.x: RpcFrameworkError, MessageTypeNotSupported), None when it is
    only logged."""

    text: str
    reason: str
    error: CallError | None = None


@dataclass(frozen=True)
class Ignored:
    """A frame OCPP says to ignore (2.1: an unknown message type, a malformed SEND): it is
    logged and nothing answers it."""

    text: str
    reason: str


Event = (
    CallReceived
    | CallRefused
    | ResultReceived
    | ErrorReceived
    | UnexpectedResponse
    | SendReceived
    | ResultErrorReceived
    | BadFrame
    | Ignored
)


class RpcSession:
    """Both RPC channels of one link, as plain data and functions."""

    def __init__(
        self,
        version: str,
        service: Service,
        *,
        validate_calls: bool = True,
        validate_results: bool = True,
        variant: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        unique_id: Callable[[], str] = new_unique_id,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.version = version
        self.entry = get(version)
        #: the error codes of this version (1.x and 2.x name some failures differently)
        self.errors = self.entry.errors
        self.service: Service = service
        self.validate_calls = validate_calls
        self.validate_results = validate_results
        self.variant = variant
        self.timeout = timeout
        self._unique_id = unique_id
        self._clock = clock
        self.pending: dict[str, Pending] = {}
        self._types = self.entry.message_types
        #: the CALLs this side answered lately, unique id → action (a 2.1 session only: a
        #: CALLRESULTERROR names the CALLRESULT it is about)
        self._answered: dict[str, str] | None = {} if CALLRESULTERROR in self._types else None

    # -- sending ----------------------------------------------------------------------------

    def call(self, action: str, payload: Any, unique_id: str | None = None) -> Call:
        """The CALL to send, registered as pending (its answer is awaited by unique id)."""
        pending = self.track(unique_id or self._unique_id(), action, payload)
        return Call(pending.unique_id, action, payload)

    def send(self, action: str, payload: Any, unique_id: str | None = None) -> Send:
        """The SEND to send (OCPP 2.1): nothing answers it, so nothing is pending.
        MessageTypeUnavailable where the version has no SEND."""
        if SEND not in self._types:
            raise MessageTypeUnavailable(
                f"{self.entry.title} has no SEND (message type 6); send_raw sends any frame"
            )
        return Send(unique_id or self._unique_id(), action, payload)

    def track(self, unique_id: str, action: str, payload: Any) -> Pending:
        """Register a CALL sent by other means (a raw text) as pending, so its answer is
        taken and checked as the answer to `action`."""
        pending = Pending(unique_id, action, payload, self._clock() + self.timeout)
        self.pending[unique_id] = pending
        return pending

    def answer(self, call: Call, payload: Any) -> CallResult:
        """The CALLRESULT answering `call`."""
        answered = self._answered
        if answered is not None:
            answered[call.unique_id] = call.action
            if len(answered) > REMEMBERED_ANSWERS:
                del answered[next(iter(answered))]
        return CallResult(call.unique_id, payload)

    def refuse(
        self, unique_id: str, code: str, description: str | None = None, details: Any = None
    ) -> CallError:
        """The CALLERROR answering the CALL `unique_id` with an OCPP error code."""
        text = (
            self.errors.describe(code) if description is None else bounded_description(description)
        )
        return CallError(unique_id, code, text, {} if details is None else details)

    def forget(self, unique_id: str) -> Pending | None:
        """Drop a pending CALL (its caller gave up)."""
        return self.pending.pop(unique_id, None)

    def expire(self) -> list[Pending]:
        """Drop and return the pending CALLs whose deadline has passed."""
        now = self._clock()
        late = [p for p in self.pending.values() if p.deadline <= now]
        for p in late:
            del self.pending[p.unique_id]
        return late

    # -- receiving --------------------------------------------------------------------------

    def _refused(
        self,
        uid: str,
        action: str | None,
        kind: ErrorKind,
        reason: str,
        violation: Violation | None = None,
    ) -> CallRefused:
        """The CALLERROR for a refused CALL, its code the version's name of `kind`:
        errorDescription tells the peer the reason (at most 255 characters; OCPP-J §4.2.3
        leaves its text free), errorDetails names the field of a schema violation."""
        code = self.errors.code(kind)
        if violation is not None:
            error = CallError(uid, code, bounded_description(violation.reason), violation.details)
        elif kind == "protocol" and len(uid) > MAX_ID_LENGTH:
            error = CallError(uid, code, "callId is too long (>36 chars)", {})
        else:
            error = CallError(uid, code, bounded_description(reason), {})
        return CallRefused(uid, action, error, reason)

    def receive(self, text: str | bytes) -> Event:
        """Turn one received OCPP-J frame into the event the simulator must act on."""
        try:
            message = parse_frame(text)
        except FrameError as exc:
            return self._unreadable(text, exc)
        if isinstance(message, tuple):
            uid, reason = message
            return self._refused(uid, None, self.errors.malformed, reason)
        kind = message.message_type
        if kind not in self._types:
            return self._unreadable(text, FrameError("", kind, message.unique_id))
        if isinstance(message, Call) and len(message.unique_id) > MAX_ID_LENGTH:
            # OCPP-J §4.1.4: a unique id is at most 36 characters (SOAP's MessageID is longer)
            long_id = self.errors.long_id
            reason = "callId too long" if long_id == "protocol" else _LONG_ID
            return self._refused(message.unique_id, message.action, long_id, reason)
        return self.receive_message(message)

    def _unreadable(self, text: str | bytes, exc: FrameError) -> Event:
        """What a frame that is no message of this version gets: OCPP-J 2.x answers it when
        it can (§4.2.3, §4.4), 2.1 ignores an unknown message type and a malformed SEND,
        OCPP 1.x only logs it."""
        shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        errors = self.errors
        kind, uid = exc.message_type, exc.unique_id
        if kind is not None and uid is not None and kind not in self._types:
            known = ", ".join(str(t) for t in sorted(self._types))
            title = self.entry.title
            reason = f"message type {_type_number(kind)} is not an {title} message type ({known})"
            if errors.unknown_message_type is not None:
                code = errors.code(errors.unknown_message_type)
                return BadFrame(shown, reason, CallError(uid, code, bounded_description(reason)))
            if errors.ignores_unknown_message_types:
                return Ignored(shown, reason)
            return BadFrame(shown, reason)
        if kind == SEND:  # a SEND is never answered, not even a malformed one
            return Ignored(shown, exc.reason)
        if kind is None and errors.unreadable_id is not None:
            code = errors.code("rpc_framework")
            reply = CallError(errors.unreadable_id, code, bounded_description(exc.reason))
            return BadFrame(shown, exc.reason, reply)
        return BadFrame(shown, exc.reason)

    def receive_message(self, message: Message) -> Event:
        """Turn one message a link has decoded into the event the simulator must act on."""
        if isinstance(message, Call):
            return self._receive_call(message)
        if isinstance(message, Send):
            return self._receive_send(message)
        if isinstance(message, CallResultError):
            answered = self._answered
            action = answered.pop(message.unique_id, None) if answered is not None else None
            return ResultErrorReceived(message, action)
        pending = self.pending.pop(message.unique_id, None)
        if pending is None:
            return UnexpectedResponse(message)
        if isinstance(message, CallError):
            return ErrorReceived(pending, message)
        result = message
        violation = None
        if self.validate_results:
            try:
                violation = validate(self.version, pending.action + "Response", result.payload)
            except UnknownMessage:  # a CALL of an action OCPP does not have (send -n, raw)
                pass
        reply = None
        if violation is not None and self._answered is not None:
            # OCPP-J 2.1 §4.2.4: the receiver of a CALLRESULT it cannot accept says so
            reply = CallResultError(
                result.unique_id,
                violation.code,
                bounded_description(violation.reason),
                violation.details,
            )
        return ResultReceived(pending, result, violation, reply)

    def _unknown_action(self, action: str, as_send: bool = False) -> str:
        """Why `action` is no CALL (or SEND) this side receives, with what was probably
        meant: the action of the other role, a SEND, a CALL, another case, a `Request` suffix
        (OCPP-J §4.2.1: the action is the message name without `Request`, case-sensitive)."""
        entry, service = self.entry, self.service
        other = _OTHER[service]
        title = entry.title
        what = "SEND" if as_send else "action"
        if as_send and entry.handles(service, action):
            return f"`{action}' is a CALL in {title}, not a SEND"
        if not as_send and entry.is_send(service, action):
            return f"`{action}' is a SEND in {title} (message type 6), not a CALL"
        if entry.message_of(other, action) is not None:
            verb = "receive" if as_send else "answer"
            return f"a {_ROLE[service]} does not {verb} `{action}' (a {_ROLE[other]} does, {title})"
        reason = f"unknown {what} `{action}' for {title}"
        known = (*entry.actions.get(service, ()), *entry.sends.get(service, ()))
        if action.endswith("Request") and action[: -len("Request")] in known:
            return f"{reason} (the action is the message name without `Request')"
        lowered = action.lower()
        for name in known:
            if name.lower() == lowered:
                return f"{reason} (actions are case-sensitive: {name})"
        close = difflib.get_close_matches(action, known, n=1, cutoff=0.8)
        return f"{reason} (did you mean {close[0]}?)" if close else reason

    def _receive_call(self, call: Call) -> Event:
        if not self.entry.handles(self.service, call.action):
            reason = self._unknown_action(call.action)
            return self._refused(call.unique_id, call.action, "not_implemented", reason)
        not_an_object = self.errors.not_an_object
        if not_an_object is not None and not isinstance(call.payload, dict):
            return self._refused(call.unique_id, call.action, not_an_object, _NOT_AN_OBJECT)
        if self.validate_calls:
            violation = validate(self.version, call.action + "Request", call.payload, self.variant)
            if violation is not None:
                return self._refused(
                    call.unique_id, call.action, violation.kind, violation.reason, violation
                )
        return CallReceived(call)

    def _receive_send(self, send: Send) -> Event:
        """A SEND is checked like a CALL, but what is wrong with it is only reported."""
        errors = self.errors
        action = send.action
        problem: Violation | None = None
        if len(send.unique_id) > MAX_ID_LENGTH:
            problem = Violation(errors.code(errors.long_id), _LONG_ID, None, errors.long_id)
        elif not self.entry.is_send(self.service, action):
            kind: ErrorKind = "not_implemented"
            problem = Violation(errors.code(kind), self._unknown_action(action, True), None, kind)
        elif errors.not_an_object is not None and not isinstance(send.payload, dict):
            kind = errors.not_an_object
            problem = Violation(errors.code(kind), _NOT_AN_OBJECT, None, kind)
        elif self.validate_calls:
            problem = validate(self.version, action, send.payload, self.variant)
        return SendReceived(send, problem)


_LONG_ID = "the unique id is longer than 36 characters"
_NOT_AN_OBJECT = "the payload is not a JSON object"
