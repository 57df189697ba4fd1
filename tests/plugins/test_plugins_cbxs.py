"""cbxs_automatic_mode on several Charge Points of one process: each boots, runs its own
transactions from its own connectors and whitelist, heartbeats at its own HeartbeatInterval,
and its commands take `--id` (over OCPP-J and SOAP; an OCPP 1.5 and an OCPP 1.2 box)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import Lines, close, start_cp, start_cs, write_plugin

from ocppsim.repl.shell import Shell

TRANSPORTS = ["websocket", "soap"]


def sent(cp_id: str, action: str, transport: str) -> str:
    """Regex of a CALL `action` that charge point `cp_id` sent, OCPP-J or SOAP."""
    if transport == "soap":
        return rf"cp#{cp_id}: >>cs /{action} "
    return rf'cp#{cp_id}: >>cs \[2,"[^"]+","{action}",'


def payload_of(line: str) -> dict[str, Any]:
    """The payload of a logged CALL, OCPP-J (`[2,id,action,{…}]`) or SOAP (`/Action {…}`)."""
    found = re.search(r">>\S+ (?:/\w+ (\{.*)|(\[.*))$", line)
    assert found is not None, line
    if found.group(1) is not None:
        result: dict[str, Any] = json.loads(found.group(1))
        return result
    frame: list[Any] = json.loads(found.group(2))
    payload: dict[str, Any] = frame[-1]
    return payload


async def boxes(shell: Shell, lines: Lines, transport: str) -> None:
    """A CS, an OCPP 1.5 box `a` and an OCPP 1.2 box `b`, cbxs loaded and both booted."""
    shell.sequential = True  # a command returns once its CALL is answered
    cs = await start_cs(shell, transport=transport)
    await start_cp(shell, lines, cs, "a", "ocpp1.5", "--stateless")
    await start_cp(shell, lines, cs, "b", "ocpp1.2", "--stateless")
    mark = lines.mark()
    await shell.execute("load cbxs_automatic_mode")
    await lines.wait_for(r"\[CBXS\] Started with 2 connectors on each of 2 charge points \(a, b\)")
    for cp_id in ("a", "b"):
        await lines.wait_for(rf"\[CBXS\] cp#{cp_id}: BootNotification: Accepted\.", mark)
        notified = lines.matching(sent(cp_id, "StatusNotification", transport), mark)
        while len(notified) < 2:  # one per connector, after the boot
            await lines.wait_for(sent(cp_id, "StatusNotification", transport), mark + 1)
            notified = lines.matching(sent(cp_id, "StatusNotification", transport), mark)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cbxs_runs_a_box_per_charge_point(lines: Lines, transport: str) -> None:
    async def scenario() -> None:
        shell = Shell()
        await boxes(shell, lines, transport)
        plugin = shell.plugins.loaded["cbxs_automatic_mode"]
        await asyncio.gather(*plugin.tasks)  # the boots are over
        assert not plugin.tasks  # and nothing waits as a task: the heartbeats are timers
        box = plugin.target.BOX
        loop = asyncio.get_running_loop()
        for station in box.stations.values():
            assert station.timer is not None and station.timer.when() - loop.time() > 1000

        mark = lines.mark()
        await shell.execute("identification TAGA")
        await lines.wait_for(
            r"\[CBXS\] Error: more than one charge point runs: use --id <id>; running: a, b\.",
            mark,
        )
        await shell.execute("connectors --id nosuch")
        await lines.wait_for(r"Error: charge point #nosuch does not run; running: a, b\.", mark)
        await shell.execute("cache -n 2")
        await lines.wait_for(r"Error: unknown option `-n'; usage: cache \[--id <cp>\]", mark)
        assert not lines.matching(r">>cs", mark)

        # each box runs its own transaction, from its own connector 1
        # (the Central System's transaction ids count from 1, for every charge point)
        for transaction, cp_id, tag in ((1, "a", "TAGA"), (2, "b", "TAGB")):
            mark = lines.mark()
            await shell.execute(f"identification --id {cp_id} {tag}")
            await lines.wait_for(
                rf"\[CBXS\] cp#{cp_id}: Transaction #{transaction} started on connector #1 for"
                rf" {tag}\.",
                mark,
            )
            meter = payload_of(await lines.wait_for(sent(cp_id, "MeterValues", transport), mark))
            assert ("transactionId" in meter) == (cp_id == "a")  # 1.2 has none
            start = payload_of(lines.matching(sent(cp_id, "StartTransaction", transport), mark)[0])
            assert (start["connectorId"], start["idTag"]) == (1, tag)
            other = "b" if cp_id == "a" else "a"
            assert not lines.matching(rf"cp#{other}: >>cs", mark)

        mark = lines.mark()
        await shell.execute("cache --id a")
        await shell.execute("connectors --id b")
        cache = await lines.wait_for(r"\[CBXS\] cp#a: Whitelist content: ", mark)
        assert "TAGA" in cache and "TAGB" not in cache
        await lines.wait_for(r"cp#b: Connector #1 - status: Occupied, charging .*idTag TAGB", mark)
        await lines.wait_for(r"cp#b: Connector #2 - status: Available, not charging", mark)

        # a's badge is not in b's whitelist: b asks its CS, and charges on its connector 2
        mark = lines.mark()
        await shell.execute("identification --id b TAGA")
        await lines.wait_for(sent("b", "Authorize", transport), mark)
        await lines.wait_for(r"cp#b: Transaction #3 started on connector #2 for TAGA\.", mark)
        await lines.wait_for(sent("b", "MeterValues", transport), mark)
        await asyncio.gather(*plugin.tasks)  # b's flow is over
        # presented again at a, it stops a's transaction only
        mark = lines.mark()
        await shell.execute("identification --id a TAGA")
        stop = payload_of(await lines.wait_for(sent("a", "StopTransaction", transport), mark))
        assert stop["idTag"] == "TAGA"
        await lines.wait_for(
            r"cp#a: Transaction #1 stopped on connector #1 \(badge presented", mark
        )
        await shell.sim.drain(5)
        await asyncio.gather(*plugin.tasks)
        assert not lines.matching(r"cp#b: >>cs", mark)
        a, b = box.stations["a"], box.stations["b"]
        assert [c.id_tag for c in a.connectors.values()] == [None, None]
        assert [c.id_tag for c in b.connectors.values()] == ["TAGB", "TAGA"]

        # the CS clears b's cache: a keeps its own
        await shell.execute("remote_clearcache --remote-id b")
        await lines.wait_for(r"\[CBXS\] cp#b: Whitelist cleared\.", mark)
        assert b.whitelist == {} and list(a.whitelist) == ["TAGA"]
        assert lines.errors() == [line for line in lines.errors() if "[CBXS] Error" in line]
        await close(shell)

    asyncio.run(scenario())


CS_INTERVALS = """
    system = "cs"

    def on_load(api):
        def boot(payload, ctx):  # box b is told to beat every second, a every 20 minutes
            interval = 1 if ctx.charge_point_id == "b" else 1200
            return {"status": "Accepted", "currentTime": "2026-01-01T00:00:00Z",
                    "heartbeatInterval": interval}

        api.on_call("BootNotification", boot)
"""


def test_cbxs_heartbeats_each_box_at_its_own_interval(lines: Lines, plugins_dir: Path) -> None:
    """From the BootNotification answer, then from ChangeConfiguration."""
    write_plugin(plugins_dir, "intervals", CS_INTERVALS)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        shell.sequential = True
        cs = await start_cs(shell)
        assert await shell.plugins.load("intervals")
        mark = lines.mark()
        await start_cp(shell, lines, cs, "a", "ocpp1.5", "--stateless")
        await start_cp(shell, lines, cs, "b", "ocpp1.5", "--stateless")
        await shell.execute("load cbxs_automatic_mode")
        await lines.wait_for(sent("b", "Heartbeat", "websocket"), mark)  # a second after boot
        assert not lines.matching(sent("a", "Heartbeat", "websocket"))

        mark = lines.mark()
        await shell.execute(
            'remote_changeconfiguration --remote-id a key=HeartbeatInterval value="1"'
        )
        await shell.execute(
            'remote_changeconfiguration --remote-id b key=HeartbeatInterval value="0"'
        )
        await lines.wait_for(sent("a", "Heartbeat", "websocket"), mark)
        box = shell.plugins.loaded["cbxs_automatic_mode"].target.BOX
        assert box.stations["b"].timer is None  # 0: no heartbeat at all
        await shell.execute("unload cbxs_automatic_mode")
        assert box.stations["a"].timer is None  # unloaded: no timer left behind
        await close(shell)

    asyncio.run(scenario())


def test_cbxs_boots_a_charge_point_started_after_it(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "first", "ocpp1.5", "--stateless")
        await shell.execute("load cbxs_automatic_mode")
        await lines.wait_for(r"\[CBXS\] BootNotification: Accepted\.")  # alone: no id shown
        mark = lines.mark()
        await start_cp(shell, lines, cs, "later", "ocpp1.5", "--stateless")
        await lines.wait_for(r"\[CBXS\] cp#later: BootNotification: Accepted\.", mark)
        await shell.execute("identification --id later TAG")
        await lines.wait_for(r"\[CBXS\] cp#later: Transaction #1 started on connector #1", mark)
        await shell.execute("stop_cp later")
        mark = lines.mark()
        await shell.execute("connectors")  # one runs again: no --id needed
        await lines.wait_for(r"\[CBXS\] Connector #2 - status: Available", mark)
        assert "later" not in shell.plugins.loaded["cbxs_automatic_mode"].target.BOX.stations
        await close(shell)

    asyncio.run(scenario())
