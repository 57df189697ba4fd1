"""The same plugins over SOAP (SPEC §7, §8): handlers live in the shared Behaviour, so a
plugin written against OCPP-J answers and reacts the same over SOAP/HTTP."""

from __future__ import annotations

import asyncio
from pathlib import Path

from conftest import Lines, close, write_plugin
from test_plugins_user import MY_CP

from ocppsim.repl.shell import Shell
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint


def api_transport(shell: Shell) -> str | None:
    """`api.transport` as the loaded my_cp plugin sees it."""
    api = shell.plugins.loaded["my_cp"].api
    return api.transport if api is not None else None


def test_cbxs_and_a_user_plugin_over_soap(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "my_cp", MY_CP)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        cs = CentralSystem(
            0,
            transport="soap",
            host="127.0.0.1",
            endpoint="/ocpp",
            behaviour=shell.sim.cs_behaviour,
            bus=shell.sim.bus,
            resources=shell.sim.resources,
        )
        shell.sim.add_central_system(cs)
        await cs.start()
        cp = ChargePoint(
            f"http://127.0.0.1:{cs.port}/ocpp",
            "soapbox",
            transport="soap",
            host="127.0.0.1",
            behaviour=shell.sim.cp_behaviour,
            bus=shell.sim.bus,
            resources=shell.sim.resources,
        )
        shell.sim.add_charge_point(cp)
        cp.start()
        await shell.execute("load cbxs_automatic_mode")
        await lines.wait_for(r"\[CBXS\] BootNotification: Accepted\.")
        await lines.wait_for(r"ChargePoint #soapbox connected")
        await shell.execute("load my_cp")
        assert api_transport(shell) == "soap"

        mark = lines.mark()
        await shell.execute("remote_reset")
        await lines.wait_for(r'cs: <<cp#soapbox /Reset \{"status":"Rejected"\}', mark)
        await shell.execute("remote_unlockconnector")
        await lines.wait_for(r"Error in the `my_cp' plugin \(on_call UnlockConnector\)", mark)
        await lines.wait_for(r"cs: .*InternalError", mark)
        await shell.execute("beat")
        await lines.wait_for(r"my_cp: CS time \d{4}-", mark)

        mark = lines.mark()
        await shell.execute("remote_starttransaction connectorId=2 idTag=SOAPTAG")
        await lines.wait_for(
            r'cs: <<cp#soapbox /RemoteStartTransaction \{"status":"Accepted"\}', mark
        )
        await lines.wait_for(r"cs: <<cp#soapbox /StartTransaction \{.*\"idTag\":\"SOAPTAG\"", mark)
        await lines.wait_for(r"\[CBXS\] Transaction #1 started on connector #2 for SOAPTAG", mark)
        await lines.wait_for(r"cs: <<cp#soapbox /MeterValues ", mark)
        await shell.execute("identification SOAPTAG")
        await lines.wait_for(r"cs: <<cp#soapbox /StopTransaction ", mark)
        await lines.wait_for(r"stopped on connector #2 \(badge presented again", mark)
        await shell.sim.drain(5)
        unexpected = [
            line for line in lines.errors() if "InternalError" not in line and "my_cp" not in line
        ]
        assert unexpected == []
        await close(shell)

    asyncio.run(scenario())
