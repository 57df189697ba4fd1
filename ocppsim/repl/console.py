"""Render simulator log records as the prompt's lines (SPEC §2), as text or JSON.

The handler looks `sys.stdout` up at each line so that, under prompt_toolkit's
`patch_stdout()`, lines land above the prompt without corrupting what is being typed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from typing import TextIO

#: Console lines show at most this much of a frame; `--log-file` keeps frames whole.
CONSOLE_FRAME_LIMIT = 8000
#: Every other line (event, warning, error) shows at most this much, in a log file too
#: (what it explains, a frame, is logged whole there).
MESSAGE_LIMIT = 8000


_stamp_second = -1
_stamp_text = ""


def stamp(created: float | None = None) -> str:
    """`[2012-12-28 14:54:44]` in local time (formatted once per second)."""
    global _stamp_second, _stamp_text
    second = int(time.time() if created is None else created)
    if second != _stamp_second:
        _stamp_text = time.strftime("[%Y-%m-%d %H:%M:%S]", time.localtime(second))
        _stamp_second = second
    return _stamp_text


#: What a peer could use to garble or forge the operator's lines: C0 controls (a newline
#: starts a fake line, ESC drives the terminal), DEL, C1 controls (8-bit CSI), the Unicode
#: line/paragraph separators and bidirectional overrides, and lone surrogates (valid in a
#: JSON string's escapes, not encodable as UTF-8: writing one fails).
_UNSAFE_RANGES = ((0x00, 0x1F), (0x7F, 0x9F), (0x2028, 0x202E), (0x2066, 0x2069), (0xD800, 0xDFFF))
_UNSAFE = re.compile(
    "[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in _UNSAFE_RANGES) + "]+"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(code: int) -> str:
    char = chr(code)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


_ESCAPES = {
    chr(code): _escaped(code) for low, high in _UNSAFE_RANGES for code in range(low, high + 1)
}
_escape_one = _ESCAPES.__getitem__


def _escape(match: re.Match[str]) -> str:
    run = match.group()  # a run of unsafe characters: one call, not one per character
    return _escape_one(run) if len(run) == 1 else "".join(map(_escape_one, run))


def bounded(text: str, limit: int | None) -> str:
    """At most `limit` characters of `text`, saying how many were left out."""
    if limit is not None and len(text) > limit:
        return f"{text[:limit]}… ({len(text) - limit} more characters)"
    return text


def printable(text: str, limit: int | None = CONSOLE_FRAME_LIMIT) -> str:
    """`text` bounded to `limit` characters, with every unsafe character escaped as in
    Python (`\\n`, `\\x1b`, `\\ud800`): whatever a peer sends shows as one harmless line."""
    text = bounded(text, limit)
    if not text.isprintable():  # every unsafe character is unprintable; most lines are not
        text = _UNSAFE.sub(_escape, text)
    return text


class LineFormatter(logging.Formatter):
    """`[time] speaker: >>peer frame` / `[time] speaker: text` / `[time] text`.

    Every line is made safe in one place (`printable`): frames are bounded to
    `frame_limit` characters (None: whole, for a log file), every other line to
    `MESSAGE_LIMIT`. A record with the `block` field set (the prompt's own help or
    listings) keeps its line breaks.
    """

    def __init__(self, frame_limit: int | None = None):
        super().__init__()
        self.frame_limit = frame_limit

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        fields = record.__dict__  # the `extra` fields, when the record has them
        speaker = fields.get("speaker")
        direction = fields.get("direction")
        limit: int | None = MESSAGE_LIMIT
        if direction:
            text = f"{direction}{fields.get('peer', '')} {text}"
            limit = self.frame_limit
        elif record.exc_info and record.levelno >= logging.ERROR:
            text = f"{text}: {record.exc_info[1]!r}"
        if speaker:
            text = f"{speaker}: {text}"
        if fields.get("block"):
            text = "\n".join(printable(line, None) for line in text.split("\n"))
        else:
            text = printable(text, limit)
        if fields.get("plain"):
            return text
        return f"{stamp(record.created)} {text}"


#: What json.dumps(ensure_ascii=False) leaves raw of `_UNSAFE` (it escapes C0 controls).
_JSON_UNSAFE = re.compile(
    "[" + "".join(f"\\u{low:04x}-\\u{high:04x}" for low, high in _UNSAFE_RANGES[1:]) + "]+"
)


_json_escape_one = {
    chr(code): f"\\u{code:04x}" for low, high in _UNSAFE_RANGES[1:] for code in range(low, high + 1)
}.__getitem__


def _json_escape(match: re.Match[str]) -> str:
    return "".join(map(_json_escape_one, match.group()))


class JsonFormatter(logging.Formatter):
    """One JSON object per event: time, level, speaker, direction, peer, then a frame's OCPP-J
    message type (`type`: `CALL`, …, `SEND`; null for a text that is none) and text, or a
    message.

    Strings are bounded like `LineFormatter`'s lines (frames to `frame_limit`, None: whole),
    and escaped so that the line is one line of valid UTF-8 with no terminal control.
    """

    def __init__(self, frame_limit: int | None = None):
        super().__init__()
        self.frame_limit = frame_limit

    def format(self, record: logging.LogRecord) -> str:
        direction = getattr(record, "direction", None)
        speaker = getattr(record, "speaker", None)
        peer = getattr(record, "peer", None)
        event = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
            + f".{int(record.msecs):03d}"
            + time.strftime("%z", time.localtime(record.created)),
            "level": record.levelname.lower(),
            "speaker": bounded(speaker, MESSAGE_LIMIT) if speaker else speaker,
            "direction": {">>": "sent", "<<": "received"}.get(direction or ""),
            "peer": bounded(peer, MESSAGE_LIMIT) if peer else peer,
        }
        if direction:
            event["type"] = getattr(record, "message_type", None)
            event["frame"] = bounded(record.getMessage(), self.frame_limit)
        else:
            limit = None if getattr(record, "block", False) else MESSAGE_LIMIT
            event["message"] = bounded(record.getMessage(), limit)
        line = json.dumps(event, ensure_ascii=False)
        if not line.isprintable():
            line = _JSON_UNSAFE.sub(_json_escape, line)
        return line


class StdoutHandler(logging.Handler):
    """Writes each line to whatever `sys.stdout` is at that moment.

    Under a running event loop the flush is deferred to the end of the loop's current
    iteration, so a burst of frames costs one flush, not one per line.
    """

    def __init__(self) -> None:
        super().__init__()
        self._flush_pending = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            out: TextIO = sys.stdout
            out.write(line + "\n")
            if self._flush_pending:
                return  # a flush is due at the end of this loop iteration already
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                out.flush()
                return
            self._flush_pending = True
            loop.call_soon(self._flush)
        except Exception:
            self.handleError(record)

    def _flush(self) -> None:
        self._flush_pending = False
        try:
            sys.stdout.flush()
        except (OSError, ValueError):
            pass


def install(log_format: str = "text", log_file: str | None = None) -> list[logging.Handler]:
    """Route `ocppsim` log records to stdout (and a file); returns the handlers installed."""
    # This process is ocppsim: skip the record fields nobody renders (logging docs,
    # "Optimization"); they cost more than the rest of a round trip's bookkeeping.
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger("ocppsim")
    root.setLevel(logging.INFO)
    root.propagate = False
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    console = StdoutHandler()
    console.setFormatter(
        JsonFormatter(CONSOLE_FRAME_LIMIT)
        if log_format == "json"
        else LineFormatter(CONSOLE_FRAME_LIMIT)
    )
    handlers: list[logging.Handler] = [console]
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(JsonFormatter() if log_format == "json" else LineFormatter())
        handlers.append(file_handler)
    for handler in handlers:
        root.addHandler(handler)
    return handlers
