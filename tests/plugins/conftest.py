"""Fixtures of the plugin tests: a Shell whose CS and CPs listen on 127.0.0.1:0 and a
`--plugins-dir` folder to write user plugins into (log lines: `lines` in tests/conftest.py)."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ocppsim_testing import Lines

from ocppsim.repl.shell import Shell
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))  # the e2e harness


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
