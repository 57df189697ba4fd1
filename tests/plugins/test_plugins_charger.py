"""A plugin acts at a Charge Point as the prompt's `badge`, `plug`, `unplug` and `faulted` do
(`api.cp.badge(…)`, …), reads its model (`api.cp.model`, `api.cp.state`), waits for what it
caused (`api.cp.settled`), and hears why a Charge Point cannot take something."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import Lines, close, start_cp, start_cs, write_plugin

from ocppsim.repl.shell import Shell

DRIVER = """
    system = "cp"
    seen = {}

    def on_load(api):
        async def drive():
            model = api.cp.model("a")
            seen["registration"] = model.registration
            api.cp.plug(1, id="a")
            api.cp.badge("PLUGIN-TAG", id="a")
            await api.cp.settled("a")
            seen["transaction"] = model.transaction(1).transaction_id
            seen["state"] = api.cp.state("a")
            try:
                api.cp.plug(1, id="a")
            except Exception as exc:
                seen["refused"] = str(exc)
            api.cp.faulted(2, id="a")
            await api.cp.settled("a")
            seen["b"] = api.cp.model("b")  # stateless: no model
            try:
                api.cp.badge("X", id="b")
            except Exception as exc:
                seen["stateless"] = str(exc)
            api.log("driven")

        api.spawn(drive())
"""


def test_a_plugin_drives_the_charger_and_reads_its_model(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "driver", DRIVER)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        shell.sequential = True
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "a", "ocpp1.6")
        await start_cp(shell, lines, cs, "b", "ocpp1.6", "--stateless")
        mark = lines.mark()
        assert await shell.plugins.load("driver")
        await lines.wait_for(r"driven$", mark)
        seen = shell.plugins.loaded["driver"].target.seen
        assert seen["registration"] == "Accepted"
        assert isinstance(seen["transaction"], int)  # the id the Central System gave
        assert "transaction" in seen["state"] and "for PLUGIN-TAG" in seen["state"]
        assert seen["refused"] == "Error: cp#a: connector 1 is already plugged in."
        assert seen["b"] is None and "is stateless" in seen["stateless"]
        assert lines.matching(r'cp#a: >>cs \[2,"\w+","StartTransaction",\{"connectorId":1', mark)
        assert lines.matching(r'"connectorId":2,"errorCode":"OtherError","status":"Faulted"', mark)
        assert lines.errors(mark) == []
        await close(shell)

    asyncio.run(scenario())
