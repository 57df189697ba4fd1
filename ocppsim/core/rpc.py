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
"""

from __future__ import annotations

import codecs
import json
import random
import re
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ocppsim.core.errors import ErrorKind, OcppSimError, bounded_description
from ocppsim.core.validation import UnknownMessage, Violation, validate
from ocppsim.core.versions import Service, get

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_ID_LENGTH = 36
DEFAULT_TIMEOUT = 30.0

#: The role that answers the CALLs of each service, and the other service.
_ROLE: dict[Service, str] = {"cs": "Central System", "cp": "Charge Point"}
_OTHER: dict[Service, Service] = {"cs": "cp", "cp": "cs"}

_ID_ALPHABET = string.ascii_letters + string.digits
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def new_unique_id() -> str:
    """32 random letters and digits (SPEC §4)."""
    return "".join(random.choices(_ID_ALPHABET, k=32))


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

    def to_frame(self) -> str:
        return dumps([CALL, self.unique_id, self.action, self.payload])


@dataclass(frozen=True)
class CallResult:
    """`[3, unique_id, payload]`"""

    unique_id: str
    payload: Any

    def to_frame(self) -> str:
        return dumps([CALLRESULT, self.unique_id, self.payload])


@dataclass(frozen=True)
class CallError:
    """`[4, unique_id, code, description, details]`"""

    unique_id: str
    code: str
    description: str
    details: Any = field(default_factory=dict)

    def to_frame(self) -> str:
        return dumps([CALLERROR, self.unique_id, self.code, self.description, self.details])


Message = Call | CallResult | CallError


class FrameError(OcppSimError, ValueError):
    """A text that is not an OCPP-J frame at all; no answer is possible."""


def _refuse_constant(name: str) -> Any:
    """JSON has no NaN or Infinity (Python's parser would accept them)."""
    raise ValueError(f"{name} is not JSON")


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


def _parse_call(value: list[Any]) -> Message | tuple[str, str]:
    if len(value) != 4 or not isinstance(value[2], str):
        return (value[1], "a CALL is [2, uniqueId, action, {payload}]")
    return Call(value[1], value[2], value[3])


def _parse_result(value: list[Any]) -> Message | None:
    return CallResult(value[1], value[2]) if len(value) == 3 else None


def _parse_error(value: list[Any]) -> Message | None:
    if len(value) in (4, 5) and isinstance(value[2], str) and isinstance(value[3], str):
        return CallError(value[1], value[2], value[3], value[4] if len(value) == 5 else {})
    return None


#: How each message type id of OCPP-J is read (OCPP-J §4.1.3); 2.1 adds 5 and 6 here.
_PARSERS: dict[int, Callable[[list[Any]], Message | tuple[str, str] | None]] = {
    CALL: _parse_call,
    CALLRESULT: _parse_result,
    CALLERROR: _parse_error,
}


def parse_frame(text: str | bytes) -> Message | tuple[str, str]:
    """Decode one frame.

    Returns the message, or `(unique_id, reason)` for a CALL that has an id but is
    otherwise malformed, JSON or not (it can still be answered with a CALLERROR, OCPP-J
    §4.2.3); raises `FrameError` when nothing can be answered.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        reason = "nested too deeply" if isinstance(exc, RecursionError) else f"not JSON ({exc})"
        unique_id = _unique_id_of(text)
        if unique_id is None:
            raise FrameError(reason) from exc
        return (unique_id, reason)
    if not isinstance(value, list) or len(value) < 2 or not isinstance(value[1], str):
        raise FrameError("not an OCPP-J array")
    kind = value[0]
    parser = _PARSERS.get(kind) if type(kind) is int else None
    message = parser(value) if parser is not None else None
    if message is None:
        raise FrameError("unknown message type or wrong element types")
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
    """The CALLRESULT of a pending CALL; `violation` is set when it breaks its schema."""

    pending: Pending
    result: CallResult
    violation: Violation | None


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
class BadFrame:
    """A text that cannot be parsed; logged, never answered."""

    text: str
    reason: str


Event = CallReceived | CallRefused | ResultReceived | ErrorReceived | UnexpectedResponse | BadFrame


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

    # -- sending ----------------------------------------------------------------------------

    def call(self, action: str, payload: Any, unique_id: str | None = None) -> Call:
        """The CALL to send, registered as pending (its answer is awaited by unique id)."""
        pending = self.track(unique_id or self._unique_id(), action, payload)
        return Call(pending.unique_id, action, payload)

    def track(self, unique_id: str, action: str, payload: Any) -> Pending:
        """Register a CALL sent by other means (a raw text) as pending, so its answer is
        taken and checked as the answer to `action`."""
        pending = Pending(unique_id, action, payload, self._clock() + self.timeout)
        self.pending[unique_id] = pending
        return pending

    def answer(self, call: Call, payload: Any) -> CallResult:
        """The CALLRESULT answering `call`."""
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
            shown = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
            return BadFrame(shown, str(exc))
        if isinstance(message, tuple):
            uid, reason = message
            return self._refused(uid, None, self.errors.malformed, reason)
        if isinstance(message, Call) and len(message.unique_id) > MAX_ID_LENGTH:
            # OCPP-J §4.1.4: a unique id is at most 36 characters (SOAP's MessageID is longer)
            return self._refused(message.unique_id, message.action, "protocol", "callId too long")
        return self.receive_message(message)

    def receive_message(self, message: Message) -> Event:
        """Turn one message a link has decoded into the event the simulator must act on."""
        if isinstance(message, Call):
            return self._receive_call(message)
        pending = self.pending.pop(message.unique_id, None)
        if pending is None:
            return UnexpectedResponse(message)
        if isinstance(message, CallError):
            return ErrorReceived(pending, message)
        violation = None
        if self.validate_results:
            try:
                violation = validate(self.version, pending.action + "Response", message.payload)
            except UnknownMessage:  # a CALL of an action OCPP does not have (send -n, raw)
                pass
        return ResultReceived(pending, message, violation)

    def _receive_call(self, call: Call) -> Event:
        if not self.entry.handles(self.service, call.action):
            reason = f"unknown action `{call.action}' for {self.entry.title}"
            other = _OTHER[self.service]
            if self.entry.handles(other, call.action):
                reason = (
                    f"a {_ROLE[self.service]} does not answer `{call.action}'"
                    f" (a {_ROLE[other]} does, {self.entry.title})"
                )
            return self._refused(call.unique_id, call.action, "not_implemented", reason)
        if self.validate_calls:
            violation = validate(self.version, call.action + "Request", call.payload, self.variant)
            if violation is not None:
                return self._refused(
                    call.unique_id, call.action, violation.kind, violation.reason, violation
                )
        return CallReceived(call)
