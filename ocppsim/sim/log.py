"""The log as a consumer of events: each simulator event becomes the line(s) of SPEC §2.

`LogConsumer` subscribes to an `EventBus` and hands `logging` one record per line, on
logger `ocppsim.sim`. Every record carries `speaker` (`cs`, `cp#<id>` or None),
`direction` (`>>` sent, `<<` received, or None) and `peer` (`cs`, `cp#<id>`, or None);
frame records put the frame's text in the message and name its OCPP-J message type in
`message_type` (`CALL`, `CALLRESULT`, `CALLERROR`, `CALLRESULTERROR`, `SEND`; None for a
text that is none). The REPL's formatters render them as
text lines or JSON objects (`repl/console.py`).

What a frame shows is a rendering choice: an OCPP-J frame as its compact text, a SOAP
message as its JSON view (`/Action {…}`), or its envelope when `print_xml` is on for the
speaker's role. `event`, `error` and `warning` log lines that belong to no link.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from ocppsim.core import events
from ocppsim.core.events import SOAP
from ocppsim.core.rpc import (
    MESSAGE_TYPE_NAMES,
    Call,
    CallError,
    CallResult,
    CallResultError,
    Send,
)

logger = logging.getLogger("ocppsim.sim")

SENT, RECEIVED = ">>", "<<"
INFO, WARNING, ERROR = logging.INFO, logging.WARNING, logging.ERROR


#: The fields every simulator record has the same value in: no caller lookup, no thread or
#: process (the console turns those off too), no arguments to merge.
_CONSTANT_FIELDS = {
    "name": logger.name,
    "args": None,
    "exc_info": None,
    "exc_text": None,
    "stack_info": None,
    "pathname": "(unknown file)",
    "filename": "(unknown file)",
    "module": "Unknown module",
    "lineno": 0,
    "funcName": None,
    "thread": None,
    "threadName": None,
    "processName": None,
    "process": None,
    "taskName": None,
}
_LEVEL_NAMES = {level: logging.getLevelName(level) for level in (10, 20, 30, 40, 50)}
_new_record = logging.LogRecord.__new__
_now = time.time
_START: float = logging._startTime  # type: ignore[attr-defined]  # relativeCreated's origin


def _record(level: int, text: str) -> logging.LogRecord:
    """A LogRecord of `logger` with the fields above, made without `LogRecord.__init__`'s
    work (half its cost, and two are made per round trip) unless another record factory
    is installed (then it makes them)."""
    factory = logging.getLogRecordFactory()
    if factory is not logging.LogRecord:  # someone customises records: let them
        return factory(logger.name, level, "(unknown file)", 0, text, None, None)
    record = _new_record(logging.LogRecord)
    fields = record.__dict__
    fields.update(_CONSTANT_FIELDS)
    created = _now()
    fields["created"] = created
    fields["msecs"] = int((created - int(created)) * 1000) + 0.0
    fields["relativeCreated"] = (created - _START) * 1000
    fields["msg"] = text
    fields["levelno"] = level
    fields["levelname"] = _LEVEL_NAMES.get(level) or logging.getLevelName(level)
    return record


def _log(
    level: int,
    text: str,
    speaker: str | None,
    direction: str | None,
    peer: str | None,
    message_type: str | None = None,
) -> None:
    """`logger.log(level, text, extra=…)` for the fields above, minus its per-call
    overhead (2 lines per round trip): the record is made by `_record`, with no caller
    lookup and no `extra` merging, then goes through `Logger.handle` (the logger's and
    handlers' levels and filters apply as usual)."""
    if logger.isEnabledFor(level):
        record = _record(level, text)
        record.speaker = speaker
        record.direction = direction
        record.peer = peer
        record.message_type = message_type
        logger.handle(record)


def event(speaker: str | None, text: str, level: int = INFO) -> None:
    """Log one event line: `[time] speaker: text`."""
    _log(level, text, speaker, None, None)


def frame(speaker: str, direction: str, peer: str, text: str) -> None:
    """Log one frame sent or received: `[time] speaker: >>peer frame`."""
    _log(INFO, text, speaker, direction, peer)


def error(text: str, speaker: str | None = None) -> None:
    """Log an error line (rendered like an event, at ERROR level)."""
    event(speaker, text, ERROR)


def warning(text: str, speaker: str | None = None) -> None:
    """Log a warning line (rendered like an event, at WARNING level)."""
    event(speaker, text, WARNING)


def one_line(text: str) -> str:
    """A text for one log line: line breaks become spaces (SPEC §2: one line per event)."""
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def shorten(text: str, limit: int = 200) -> str:
    """At most `limit` characters of a frame, for error lines."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


#: The message type name of each message class (what the JSON log's `type` says).
_TYPE_OF: dict[type, str] = {
    cls: MESSAGE_TYPE_NAMES[cls.message_type]
    for cls in (Call, CallResult, CallError, CallResultError, Send)
}
#: `[6,` at the start of a raw OCPP-J text: the type it claims, when it is no message.
_RAW_TYPE = re.compile(r"\s*\[\s*([2-6])\s*[,\]]")


def message_type_of(event: events.Frame) -> str | None:
    """The OCPP-J message type name of a frame event: its message's, else the one a raw
    OCPP-J text starts with (`send_raw -e [5,…]`), else None."""
    message = event.message
    if message is not None:
        return _TYPE_OF.get(type(message))
    if event.transport == SOAP:
        return None
    found = _RAW_TYPE.match(event.wire[:16])
    return MESSAGE_TYPE_NAMES[int(found.group(1))] if found else None


def _role(speaker: str | None) -> str:
    """`cs` for the Central System's lines, `cp` for a Charge Point's."""
    return "cs" if speaker == "cs" else "cp"


class LogConsumer:
    """Renders the events of a bus as log lines; `print_xml(role)` says whether the SOAP
    frames of `cs` or `cp` show their envelopes instead of their JSON view."""

    def __init__(self, print_xml: Callable[[str], bool] | None = None):
        self.print_xml = print_xml
        #: the events it renders, each to its function (the bus calls them directly)
        self.by_type: dict[type, Callable[[Any], None]] = {
            events.FrameSent: self._sent,
            events.FrameReceived: self._received,
            events.FrameUnreadable: self._unreadable,
            events.FrameIgnored: self._ignored,
            events.SendInvalid: self._send_invalid,
            events.CallResultErrorReceived: self._result_error,
            events.CallRefused: self._refused,
            events.ResultInvalid: self._result_invalid,
            events.AnswerIgnored: self._answer_ignored,
            events.CallTimedOut: self._timed_out,
            events.FaultInjected: self._fault_injected,
            events.FaultChanged: self._fault_changed,
            events.Notice: self._notice,
            events.ServerStarted: self._server_started,
            events.Connected: self._connected,
            events.Disconnected: self._disconnected,
        }

    def __call__(self, event: events.Event) -> None:
        render = self.by_type.get(type(event))
        if render is not None:
            render(event)

    def _shown(self, event: events.Frame) -> str:
        """A SOAP frame's envelope when `print_xml` is on for its side, else its text."""
        if self.print_xml is not None and self.print_xml(_role(event.speaker)):
            return one_line(event.wire) or '""'
        return event.text

    def _sent(self, event: events.FrameSent) -> None:
        shown = self._shown(event) if event.transport == SOAP else event.text
        message = event.message
        kind = _TYPE_OF.get(type(message)) if message is not None else message_type_of(event)
        _log(INFO, shown, event.speaker, SENT, event.peer, kind)

    def _received(self, event: events.FrameReceived) -> None:
        shown = self._shown(event) if event.transport == SOAP else event.text
        message = event.message
        kind = _TYPE_OF.get(type(message)) if message is not None else message_type_of(event)
        _log(INFO, shown, event.speaker, RECEIVED, event.peer, kind)

    @staticmethod
    def _unreadable(event: events.FrameUnreadable) -> None:
        if event.code is None:
            why = f" ({event.reason})" if event.reason else ""  # what to fix in the peer
            error(f"Error: message {shorten(event.text)} can't be parsed{why}.", event.speaker)
        else:  # answered, as a refused CALL is
            text = f"WARNING : {event.code} for message #{event.unique_id} ({event.reason})"
            warning(text, event.speaker)

    @staticmethod
    def _ignored(event: events.FrameIgnored) -> None:
        warning(f"WARNING : {event.reason}: message ignored", event.speaker)

    @staticmethod
    def _send_invalid(event: events.SendInvalid) -> None:
        text = f"WARNING : {event.code} for SEND #{event.unique_id} ({event.reason})"
        warning(text, event.speaker)

    @staticmethod
    def _result_error(event: events.CallResultErrorReceived) -> None:
        if event.action:
            about = f"our CALLRETURN #{event.unique_id} to {event.action}"
        else:  # an id we never answered, or answered too long ago to remember
            about = f"CALLRETURN #{event.unique_id}, none we sent lately"
        error(f"Error: {event.code} for {about} ({event.description})", event.speaker)

    @staticmethod
    def _refused(event: events.CallRefused) -> None:
        text = f"WARNING : {event.code} for CALL #{event.unique_id} ({event.reason})"
        warning(text, event.speaker)

    @staticmethod
    def _result_invalid(event: events.ResultInvalid) -> None:
        text = f"WARNING : {event.code} for CALLRETURN #{event.unique_id} ({event.reason})"
        warning(text, event.speaker)

    @staticmethod
    def _answer_ignored(event: events.AnswerIgnored) -> None:
        warning(f"WARNING : no pending CALL #{event.unique_id}, answer ignored", event.speaker)

    @staticmethod
    def _timed_out(event: events.CallTimedOut) -> None:
        error(f"Error for the message #{event.unique_id} : timeout", event.speaker)

    @staticmethod
    def _fault_injected(event: events.FaultInjected) -> None:
        left = f" ({event.left} left)" if event.left is not None else ""
        _log(INFO, f"fault: {event.text}{left}", event.speaker, None, None)

    @staticmethod
    def _fault_changed(event: events.FaultChanged) -> None:
        _log(INFO, f"fault {event.state}: {event.text}", event.speaker, None, None)

    @staticmethod
    def _notice(event: events.Notice) -> None:
        _log(event.level, event.text, event.speaker, None, None)

    @staticmethod
    def _server_started(event: events.ServerStarted) -> None:
        if event.transport == SOAP:
            event_line = f"SOAP Server listening on port {event.port}"
            _log(INFO, event_line, event.speaker, None, None)
            _log(INFO, "CentralSystem started.", None, None, None)
        else:
            _log(INFO, "CentralSystem started.", None, None, None)
            _log(INFO, f"Server is listening on port {event.port}", event.speaker, None, None)

    @staticmethod
    def _connected(event: events.Connected) -> None:
        profile = f"profile {event.profile}" if event.profile else ""
        if _role(event.speaker) == "cs":
            how = "" if event.transport == SOAP else f"protocol: {event.protocol}"
            how = ", ".join(part for part in (how, profile) if part)
            how = f" ({how})" if how else ""
            _log(INFO, f"ChargePoint #{event.charge_point_id} connected{how}.", "cs", None, None)
        elif event.transport != SOAP:  # a SOAP CP's adapter said where it listens and posts
            how = f" ({profile})" if profile else ""
            _log(INFO, f"Connected to Central System{how}.", event.speaker, None, None)

    @staticmethod
    def _disconnected(event: events.Disconnected) -> None:
        if _role(event.speaker) == "cs":
            if event.transport == SOAP:
                text = f"ChargePoint #{event.charge_point_id} forgotten ({event.reason})."
                _log(INFO, text, event.speaker, None, None)
            else:
                why = "old connection, replaced" if event.replaced else event.reason
                text = f"Disconnected ({why})"
                _log(INFO, text, event.peer, None, None)
        elif event.retry_in is not None:
            text = f"Connection lost ({event.reason}), retry in {event.retry_in:g} seconds."
            _log(ERROR, text, event.speaker, None, None)
