"""A user's own plugin from a `--plugins-dir` folder: it overrides an answer (Reset →
Rejected), refuses one (NotSupported), raises in another (InternalError, the simulator lives
on), reacts to a result and adds a command; in one process, then through real `ocppsim`
processes (the e2e harness), together with cbxs_automatic_mode."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from conftest import Lines, close, start_cp, start_cs, write_plugin
from harness import SimProcess, frame_re, free_port
from harness import start_cs as start_cs_process

from ocppsim.repl.shell import Shell

MY_CP = """
    from ocppsim.api import NotSupported, PluginApi

    name = "My charge point"
    description = "refuses resets"
    system = "cp"


    def on_load(api: PluginApi) -> None:
        def explode(payload):
            raise RuntimeError("this plugin has a bug")

        def refuse(payload):
            raise NotSupported()

        def beat(line: str) -> bool:
            if api.parse(line).command != "beat":
                return False
            api.cp.call("Heartbeat")
            return True

        api.on_call("Reset", lambda payload: {"status": "Rejected"})
        api.on_call("UnlockConnector", explode)
        api.on_call("ClearCache", refuse)
        api.on_result("Heartbeat", lambda res: api.log("my_cp: CS time " + res["currentTime"]))
        api.on_command(beat)
        api.log("my_cp ready")
"""


def _answer(cp_id: str, code_or_payload: str) -> str:
    """The CS's log line of a CP's answer: a CALLRESULT payload or a CALLERROR code."""
    if code_or_payload.startswith("{"):
        return rf'cs: <<cp#{cp_id} \[3,"[^"]+",{re.escape(code_or_payload)}\]'
    return rf'cs: <<cp#{cp_id} \[4,"[^"]+","{code_or_payload}"'


def test_user_plugin_in_one_process(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "my_cp", MY_CP)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "cp1")
        await shell.execute("load my_cp")
        await lines.wait_for(r"my_cp ready$")

        mark = lines.mark()
        await shell.execute("remote_reset")
        await lines.wait_for(_answer("cp1", '{"status":"Rejected"}'), mark)
        await shell.execute("remote_unlockconnector")
        await lines.wait_for(_answer("cp1", "InternalError"), mark)
        await lines.wait_for(r"Error in the `my_cp' plugin \(on_call UnlockConnector\)", mark)
        await shell.execute("remote_clearcache")
        await lines.wait_for(_answer("cp1", "NotSupported"), mark)
        await shell.execute("beat")
        await lines.wait_for(r'cp#cp1: >>cs \[2,"[^"]+","Heartbeat",\{\}\]', mark)
        await lines.wait_for(r"my_cp: CS time \d{4}-", mark)
        assert not lines.matching("unknown command", mark)
        # a typed command's result reaches on_result too; the CS kept its default answers
        assert not shell.sim.cs_behaviour.call_handlers.get("Reset")  # system = "cp"
        await shell.execute("heartbeat")
        await shell.sim.drain(5)
        assert len(lines.matching(r"my_cp: CS time", mark)) == 2

        mark = lines.mark()
        await shell.execute("unload my_cp")
        await shell.execute("remote_reset")
        await lines.wait_for(_answer("cp1", '{"status":"Accepted"}'), mark)
        await shell.execute("beat")
        await lines.wait_for(r"Error: `beat' unknown command", mark)
        await close(shell)

    asyncio.run(scenario())


def test_user_plugin_and_cbxs_through_ocppsim_processes(plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "my_cp", MY_CP)
    port = free_port()
    cs = start_cs_process(port, "-u", "/ocpp")
    cp = None
    try:
        url = f"ws://127.0.0.1:{port}/ocpp"
        cp = SimProcess(
            ["--plugins-dir", str(plugins_dir), "start_cp", url, "cp1", "--stateless"], name="cp1"
        )
        cp.expect(r"cp#cp1: Connected to Central System\.")
        cs.expect(r"ChargePoint #cp1 connected")

        cp.send("plugins")
        cp.expect(r"^List of plugins:")
        cp.expect(r"^ \[ \] my_cp - My charge point: refuses resets \(system: cp\)$")
        cp.send("load my_cp")
        cp.expect(r"\] my_cp ready$")

        cs.send("remote_reset")
        cs.expect(_answer("cp1", '{"status":"Rejected"}'))
        cs.send("remote_unlockconnector")
        cs.expect(_answer("cp1", "InternalError"))
        cp.expect(r"Error in the `my_cp' plugin \(on_call UnlockConnector\)")
        cp.send("beat")
        cp.expect(frame_re("cp#cp1", ">>", "cs", 2, action="Heartbeat"))
        cp.expect(r"my_cp: CS time \d{4}-")

        mark = cp.send("load cbxs_automatic_mode")
        cp.expect(r"\[CBXS\] BootNotification: Accepted\.")
        cs.expect(frame_re("cs", "<<", "cp#cp1", 2, action="BootNotification"))
        cp.send("identification BADGE7")
        cs.expect(frame_re("cs", "<<", "cp#cp1", 2, action="Authorize"))
        cs.expect(frame_re("cs", "<<", "cp#cp1", 2, action="StartTransaction"))
        cs.expect(frame_re("cs", "<<", "cp#cp1", 2, action="MeterValues"))
        cp.expect(r"\[CBXS\] Transaction #1 started on connector #1 for BADGE7\.")
        cs.send("remote_stoptransaction transactionId=1")
        cs.expect(frame_re("cs", "<<", "cp#cp1", 2, action="StopTransaction"))
        cp.expect(r"\[CBXS\] Transaction #1 stopped on connector #1 \(remote stop")
        cp.send("connectors")
        cp.expect(r"\[CBXS\] Connector #1 - status: Available, not charging")

        expected = [r"InternalError", r"Error in the `my_cp' plugin"]
        assert cp.errors(mark, ignore=expected) == []
        assert cs.errors(ignore=expected) == []
        assert cp.running and cs.running
        assert cp.close() == 0
    finally:
        if cp is not None:
            cp.kill()
        cs.close()
