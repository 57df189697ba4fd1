"""Simulator events as log records: `logging` with the fields the REPL's formatter renders.

Every record of logger `ocppsim.sim` carries `speaker` (`cs`, `cp#<id>` or None),
`direction` (`>>` sent, `<<` received, or None) and `peer` (`cs`, `cp#<id>`, or None);
frame records put the frame text in the message (SPEC §2).
"""

from __future__ import annotations

import logging

logger = logging.getLogger("ocppsim.sim")

SENT, RECEIVED = ">>", "<<"


def _log(
    level: int, text: str, speaker: str | None, direction: str | None, peer: str | None
) -> None:
    """`logger.log(level, text, extra=…)` for the fields above, minus its per-call
    overhead (2 lines per round trip): the record comes from the record factory with
    no caller lookup and no `extra` merging, then goes through `Logger.handle` (the
    logger's and handlers' levels and filters apply as usual)."""
    if logger.isEnabledFor(level):
        record = logging.getLogRecordFactory()(
            logger.name, level, "(unknown file)", 0, text, None, None
        )
        record.speaker = speaker
        record.direction = direction
        record.peer = peer
        logger.handle(record)


def event(speaker: str | None, text: str, level: int = logging.INFO) -> None:
    """Log one event line: `[time] speaker: text`."""
    _log(level, text, speaker, None, None)


def frame(speaker: str, direction: str, peer: str, text: str) -> None:
    """Log one frame sent or received: `[time] speaker: >>peer frame`."""
    _log(logging.INFO, text, speaker, direction, peer)


def error(text: str, speaker: str | None = None) -> None:
    """Log an error line (rendered like an event, at ERROR level)."""
    event(speaker, text, logging.ERROR)


def warning(text: str, speaker: str | None = None) -> None:
    """Log a warning line (rendered like an event, at WARNING level)."""
    event(speaker, text, logging.WARNING)
