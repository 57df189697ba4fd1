"""In-process simulator tests: a watcher on the `ocppsim` log lines to synchronise on."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator

import pytest

from ocppsim.repl.console import LineFormatter


class LogWatcher(logging.Handler):
    """Collects rendered log lines; `wait_for(regex)` waits until one matches."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(LineFormatter())
        self.lines: list[str] = []
        self._changed: asyncio.Event | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if self._changed is not None:
            self._changed.set()

    def matching(self, pattern: str) -> list[str]:
        return [line for line in self.lines if re.search(pattern, line)]

    async def wait_for(self, pattern: str, timeout: float = 5.0, start: int = 0) -> str:
        """The first line (from index `start`) matching `pattern`, waiting for it."""
        self._changed = self._changed or asyncio.Event()

        async def scan() -> str:
            index = start
            while True:
                while index < len(self.lines):
                    if re.search(pattern, self.lines[index]):
                        return self.lines[index]
                    index += 1
                assert self._changed is not None
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except asyncio.TimeoutError:
            raise AssertionError(
                f"no line matching {pattern!r}; got:\n" + "\n".join(self.lines)
            ) from None


@pytest.fixture
def watcher() -> Iterator[LogWatcher]:
    root = logging.getLogger("ocppsim")
    handler = LogWatcher()
    root.addHandler(handler)
    old = root.level
    root.setLevel(logging.INFO)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old)
