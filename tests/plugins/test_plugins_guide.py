"""The plugins of docs/plugins.md, copied from the guide as written, do what the guide says.

The tutorial: boots on load, hears the result, refuses then accepts a remote start, adds
`plug`, refuses UpdateFirmware. The CS plugin with a context: answers each CP by its id and
calls each one that boots back, over OCPP-J and SOAP."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from conftest import Lines, close, start_cp, start_cs

from ocppsim.repl.shell import Shell

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def guide_block(marker: str) -> str:
    """The ```python block that follows the `<!-- marker: … -->` comment in the guide."""
    if not GUIDE.is_file():
        pytest.skip("docs/plugins.md is not here (installed copy)")
    text = GUIDE.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker}:.*?-->\s*```python\n(.*?)```", text, re.S)
    assert match, f"the guide lost its {marker} block"
    return match.group(1)


def tutorial_source() -> str:
    return guide_block("tutorial-plugin")


def test_tutorial_plugin_works_as_written(lines: Lines, tmp_path: Path) -> None:
    (tmp_path / "my_cp.py").write_text(tutorial_source())

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[tmp_path])
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "cp01", "ocpp1.5", "--stateless")  # as the guide says
        mark = lines.mark()
        await shell.execute("load my_cp")
        await lines.wait_for(r"my_cp: hello$", mark)
        await lines.wait_for(r'"BootNotification",\{[^}]*"chargePointModel":"MyBox"', mark)
        await lines.wait_for(r"my_cp: Accepted, heartbeat every 1200 s$", mark)

        await shell.execute("remote_starttransaction connectorId=1")
        await lines.wait_for(r'cs: <<cp#cp01 \[3,"\w+",\{"status":"Rejected"\}\]', mark)
        assert shell.plugins.commands() == ["cable"]  # it completes with Tab
        await shell.execute("cable 1")
        await lines.wait_for(r'"StatusNotification",\{"connectorId":1,"status":"Occupied"', mark)
        await shell.execute("remote_starttransaction connectorId=1")
        await lines.wait_for(r'cs: <<cp#cp01 \[3,"\w+",\{"status":"Accepted"\}\]', mark)
        await lines.wait_for(r"my_cp: transaction 1 started$", mark)
        await shell.execute("remote_updatefirmware")
        await lines.wait_for(r'cs: <<cp#cp01 \[4,"\w+","NotSupported"', mark)
        assert not lines.errors(mark)
        await close(shell)

    asyncio.run(scenario())


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_the_cs_plugin_with_a_context_works_as_written(
    lines: Lines, tmp_path: Path, transport: str
) -> None:
    (tmp_path / "by_id.py").write_text(guide_block("cs-by-id-plugin"))

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[tmp_path])
        shell.sequential = True
        cs = await start_cs(shell, transport=transport)
        for cp_id in ("cp01", "cp02"):
            await start_cp(shell, lines, cs, cp_id)
        assert await shell.plugins.load("by_id")
        mark = lines.mark()
        for cp_id in ("cp01", "cp02"):
            await shell.execute(f"datatransfer --id {cp_id} data=ping")
            answer = rf'cp#{cp_id}: <<cs \S+ ?\{{"status":"Accepted","data":"hello {cp_id}"\}}'
            await lines.wait_for(answer, mark)
            await lines.wait_for(rf"by_id: {cp_id} sent 'ping' over {transport}$", mark)

        for cp_id in ("cp02", "cp01"):  # each boot: a GetConfiguration to that CP only
            mark = lines.mark()
            await shell.execute(f"bootnotification --id {cp_id}")
            await lines.wait_for(rf"by_id: {cp_id} beats every 1200 s$", mark)
            assert len(lines.matching(r"cs: >>cp#\S+ \S+GetConfiguration", mark)) == 1
            assert lines.matching(rf"cs: >>cp#{cp_id} \S+GetConfiguration", mark)
        assert not lines.errors()
        await close(shell)

    asyncio.run(scenario())
