"""Fixtures of the plugin tests: log lines to wait on, a Shell whose CS and CPs listen on
127.0.0.1:0, and a `--plugins-dir` folder to write user plugins into."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocppsim.repl.console import LineFormatter
from ocppsim.repl.shell import Shell
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # the e2e harness


class Lines(logging.Handler):
    """Rendered `ocppsim` log lines; `wait_for(regex)` waits until one matches."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(LineFormatter())
        self.lines: list[str] = []
        self.levels: list[int] = []
        self._changed: asyncio.Event | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.levels.append(record.levelno)
        if self._changed is not None:
            self._changed.set()

    def mark(self) -> int:
        return len(self.lines)

    def matching(self, pattern: str, start: int = 0) -> list[str]:
        return [line for line in self.lines[start:] if re.search(pattern, line)]

    def errors(self, start: int = 0) -> list[str]:
        return [
            line
            for line, level in zip(self.lines[start:], self.levels[start:], strict=True)
            if level >= logging.WARNING or re.search(r"\bError\b|InternalError", line)
        ]

    async def wait_for(self, pattern: str, start: int = 0, timeout: float = 10.0) -> str:
        """The first line from index `start` matching `pattern`, waiting for it."""
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
            tail = "\n".join(self.lines[-40:])
            raise AssertionError(f"no line matching {pattern!r}; last lines:\n{tail}") from None


@pytest.fixture
def lines() -> Iterator[Lines]:
    root = logging.getLogger("ocppsim")
    handler = Lines()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


@pytest.fixture
def plugins_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "my-plugins"
    folder.mkdir()
    return folder


def write_plugin(folder: Path, name: str, source: str) -> Path:
    """Write `<folder>/<name>.py` from an indented source text."""
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(source).lstrip())
    return path


async def start_cs(shell: Shell, endpoint: str = "/ocpp") -> CentralSystem:
    """A websocket CS of `shell` on 127.0.0.1, a free port."""
    cs = CentralSystem(0, host="127.0.0.1", endpoint=endpoint, behaviour=shell.sim.cs_behaviour)
    shell.sim.add_central_system(cs)
    await cs.start()
    return cs


async def start_cp(
    shell: Shell, lines: Lines, cs: Any, cp_id: str, protocol: str = "ocpp1.5"
) -> ChargePoint:
    """`start_cp` typed at the prompt, returned once the CS saw it connect."""
    mark = lines.mark()
    await shell.execute(f"start_cp ws://127.0.0.1:{cs.port}/ocpp {cp_id} -p {protocol}")
    await lines.wait_for(rf"cs: ChargePoint #{cp_id} connected", mark)
    await lines.wait_for(rf"cp#{cp_id}: Connected to Central System\.", mark)
    cp: ChargePoint = shell.sim.charge_points[cp_id]
    return cp


async def close(shell: Shell) -> None:
    """What `quit` does: stop the plugins' tasks, then the simulators."""
    await shell.plugins.close()
    await shell.sim.shutdown()
