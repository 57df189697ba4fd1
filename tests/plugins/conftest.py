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


async def start_cs(shell: Shell, endpoint: str = "/ocpp", transport: str = "websocket") -> Any:
    """A websocket (or SOAP) CS of `shell` on 127.0.0.1, a free port."""
    cs = CentralSystem(
        0,
        transport=transport,
        host="127.0.0.1",
        endpoint=endpoint,
        behaviour=shell.sim.cs_behaviour,
        bus=shell.sim.bus,
        resources=shell.sim.resources,
    )
    shell.sim.add_central_system(cs)
    await cs.start()
    return cs


async def start_cp(
    shell: Shell, lines: Lines, cs: Any, cp_id: str, protocol: str = "ocpp1.5", *options: str
) -> Any:
    """`start_cp` typed at the prompt (`-t soap` for a SOAP CS), returned once the CS saw it
    connect (a SOAP CP: once its callback server listens, as a SOAP CS hears of it later) and
    its model has sent what a connection makes it send (its boot, its connectors' status)."""
    mark = lines.mark()
    if getattr(cs, "transport", "websocket") == "soap":
        await shell.execute(
            f"start_cp http://127.0.0.1:{cs.port}/ocpp {cp_id} -p {protocol} -t soap"
            + "".join(f" {word}" for word in options)
        )
        await lines.wait_for(rf"cp#{cp_id}: SOAP Server listening on port", mark)
    else:
        await shell.execute(
            f"start_cp ws://127.0.0.1:{cs.port}/ocpp {cp_id} -p {protocol}"
            + "".join(f" {word}" for word in options)
        )
        await lines.wait_for(rf"cs: ChargePoint #{cp_id} connected", mark)
        await lines.wait_for(rf"cp#{cp_id}: Connected to Central System\.", mark)
    cp = shell.sim.charge_points[cp_id]
    if cp.driver is not None:  # its boot and StatusNotifications answered: quiet from now on
        await cp.driver.idle()
    return cp


async def close(shell: Shell) -> None:
    """What `quit` does: stop the plugins' tasks, then the simulators."""
    await shell.plugins.close()
    await shell.sim.shutdown()
