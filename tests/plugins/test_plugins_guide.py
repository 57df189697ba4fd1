"""The tutorial plugin of docs/plugins.md, copied from the guide as written, does what the
guide says: boots on load, hears the result, refuses then accepts a remote start, adds
`plug`, refuses UpdateFirmware."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from conftest import Lines, close, start_cp, start_cs

from ocppsim.repl.shell import Shell

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def tutorial_source() -> str:
    """The ```python block that follows the `tutorial-plugin` marker in the guide."""
    if not GUIDE.is_file():
        pytest.skip("docs/plugins.md is not here (installed copy)")
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(r"<!-- tutorial-plugin:.*?-->\s*```python\n(.*?)```", text, re.S)
    assert match, "the guide lost its tutorial-plugin block"
    return match.group(1)


def test_tutorial_plugin_works_as_written(lines: Lines, tmp_path: Path) -> None:
    (tmp_path / "my_cp.py").write_text(tutorial_source())

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[tmp_path])
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "cp01")
        mark = lines.mark()
        await shell.execute("load my_cp")
        await lines.wait_for(r"my_cp: hello$", mark)
        await lines.wait_for(r'"BootNotification",\{[^}]*"chargePointModel":"MyBox"', mark)
        await lines.wait_for(r"my_cp: Accepted, heartbeat every 1200 s$", mark)

        await shell.execute("remote_starttransaction connectorId=1")
        await lines.wait_for(r'cs: <<cp#cp01 \[3,"\w+",\{"status":"Rejected"\}\]', mark)
        assert shell.plugins.commands() == ["plug"]  # it completes with Tab
        await shell.execute("plug 1")
        await lines.wait_for(r'"StatusNotification",\{"connectorId":1,"status":"Occupied"', mark)
        await shell.execute("remote_starttransaction connectorId=1")
        await lines.wait_for(r'cs: <<cp#cp01 \[3,"\w+",\{"status":"Accepted"\}\]', mark)
        await lines.wait_for(r"my_cp: transaction 0 started$", mark)
        await shell.execute("remote_updatefirmware")
        await lines.wait_for(r'cs: <<cp#cp01 \[4,"\w+","NotSupported"', mark)
        assert not lines.errors(mark)
        await close(shell)

    asyncio.run(scenario())
