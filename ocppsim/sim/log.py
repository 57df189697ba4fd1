"""Simulator events as log records: `logging` with the fields the REPL's formatter renders.

Every record of logger `ocppsim.sim` carries `speaker` (`cs`, `cp#<id>` or None),
`direction` (`>>` sent, `<<` received, or None) and `peer` (`cs`, `cp#<id>`, or None);
frame records put the frame text in the message (SPEC §2).
"""

from __future__ import annotations

import logging

logger = logging.getLogger("ocppsim.sim")

SENT, RECEIVED = ">>", "<<"


def event(speaker: str | None, text: str, level: int = logging.INFO) -> None:
    """Log one event line: `[time] speaker: text`."""
    logger.log(level, text, extra={"speaker": speaker, "direction": None, "peer": None})


def frame(speaker: str, direction: str, peer: str, text: str) -> None:
    """Log one frame sent or received: `[time] speaker: >>peer frame`."""
    logger.info(text, extra={"speaker": speaker, "direction": direction, "peer": peer})


def error(text: str, speaker: str | None = None) -> None:
    """Log an error line (rendered like an event, at ERROR level)."""
    event(speaker, text, logging.ERROR)


def warning(text: str, speaker: str | None = None) -> None:
    """Log a warning line (rendered like an event, at WARNING level)."""
    event(speaker, text, logging.WARNING)
