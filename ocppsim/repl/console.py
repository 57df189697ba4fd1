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


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


class LineFormatter(logging.Formatter):
    """`[time] speaker: >>peer frame` / `[time] speaker: text` / `[time] text`."""

    def __init__(self, frame_limit: int | None = None):
        super().__init__()
        self.frame_limit = frame_limit

    def format(self, record: logging.LogRecord) -> str:
        text = record.getMessage()
        fields = record.__dict__  # the `extra` fields, when the record has them
        speaker = fields.get("speaker")
        direction = fields.get("direction")
        if direction:
            if _CONTROL.search(text):  # a frame's raw control bytes would garble the terminal
                text = _CONTROL.sub(_escape, text)
            limit = self.frame_limit
            if limit is not None and len(text) > limit:
                text = f"{text[:limit]}… ({len(text) - limit} more characters)"
            text = f"{direction}{fields.get('peer', '')} {text}"
        elif record.exc_info and record.levelno >= logging.ERROR:
            text = f"{text}: {record.exc_info[1]!r}"
        if speaker:
            text = f"{speaker}: {text}"
        if fields.get("plain"):
            return text
        return f"{stamp(record.created)} {text}"


class JsonFormatter(logging.Formatter):
    """One JSON object per event: time, level, speaker, direction, peer, frame or message."""

    def format(self, record: logging.LogRecord) -> str:
        direction = getattr(record, "direction", None)
        event = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created))
            + f".{int(record.msecs):03d}"
            + time.strftime("%z", time.localtime(record.created)),
            "level": record.levelname.lower(),
            "speaker": getattr(record, "speaker", None),
            "direction": {">>": "sent", "<<": "received"}.get(direction or ""),
            "peer": getattr(record, "peer", None),
        }
        if direction:
            event["frame"] = record.getMessage()
        else:
            event["message"] = record.getMessage()
        return json.dumps(event, ensure_ascii=False)


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
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                out.flush()
                return
            if not self._flush_pending:
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
        JsonFormatter() if log_format == "json" else LineFormatter(CONSOLE_FRAME_LIMIT)
    )
    handlers: list[logging.Handler] = [console]
    if log_file:
        file_handler = logging.FileHandler(log_file, encoding="utf-8")
        file_handler.setFormatter(JsonFormatter() if log_format == "json" else LineFormatter())
        handlers.append(file_handler)
    for handler in handlers:
        root.addHandler(handler)
    return handlers
