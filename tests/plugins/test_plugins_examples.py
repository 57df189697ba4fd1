"""The three example plugins driven end to end in one process: a Shell whose Central System
and Charge Points talk over real WebSockets on 127.0.0.1 (SPEC §8)."""

from __future__ import annotations

import asyncio
import datetime
import json
import re

import pytest
from conftest import Lines, close, start_cp, start_cs

from ocppsim.repl.shell import Shell

UID = r'"[^"]+"'


def frame(speaker: str, direction: str, peer: str, kind: int, action: str = "") -> str:
    """Regex of a frame line, e.g. `cp#cp1: >>cs [2,"…","Authorize",`."""
    text = rf"{re.escape(speaker)}: {re.escape(direction + peer)} \[{kind},{UID},"
    return text + (rf'"{action}",' if action else "")


def payload_of(line: str) -> dict:
    """The payload of a logged CALL or CALLRESULT frame."""
    found = re.search(r"(?:>>|<<)\S+ (\[.*)$", line)
    assert found is not None, line
    message = json.loads(found.group(1))
    result: dict = message[-1]
    return result


async def exchange(lines: Lines, speaker: str, action: str, mark: int) -> tuple[dict, int]:
    """Wait for `speaker`'s CALL `action` (from line `mark`) and its CALLRESULT.

    Returns the CALL's payload and the index of the line after the CALLRESULT.
    """
    call = await lines.wait_for(frame(speaker, ">>", "cs", 2, action), mark)
    uid = re.search(r'\[2,"([^"]+)"', call).group(1)  # type: ignore[union-attr]
    start = lines.lines.index(call)
    result = await lines.wait_for(rf'{re.escape(speaker)}: <<cs \[3,"{uid}"', start)
    return payload_of(call), lines.lines.index(result) + 1


def test_helloworld_logs_on_load_and_unload(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        mark = lines.mark()
        await shell.execute("load helloworld")
        await shell.execute("plugins")
        await shell.execute("unload helloworld")
        await shell.execute("plugins")
        shown = lines.lines[mark:]
        assert re.fullmatch(r"\[[-\d: ]+\] Hi, I'm the Hello world! plugin !", shown[0])
        assert any(line.startswith(" [X] helloworld - ") for line in shown[1].splitlines())
        assert re.fullmatch(r"\[[-\d: ]+\] Goodbye !", shown[2])
        assert any(line.startswith(" [ ] helloworld") for line in shown[3].splitlines())
        await close(shell)

    asyncio.run(scenario())


def test_cs_example_greets_asks_and_says_goodbye(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        cs = await start_cs(shell)
        await shell.execute("load cs_example")
        await lines.wait_for(r"\[CS-Example\] Started\.")
        mark = lines.mark()
        await start_cp(shell, lines, cs, "new", "ocpp1.5")
        await lines.wait_for(r"\[CS-Example\] Hi new !", mark)
        await lines.wait_for(frame("cs", ">>", "cp#new", 2, "GetLocalListVersion"), mark)
        answer = await lines.wait_for(frame("cs", "<<", "cp#new", 3), mark)
        assert payload_of(answer) == {"listVersion": 0}
        await lines.wait_for(r"\[CS-Example\] new has local list version 0\.", mark)

        mark = lines.mark()
        old = await start_cp(shell, lines, cs, "old", "ocpp1.2")  # two CPs: targets its own
        await lines.wait_for(r"\[CS-Example\] Hi old !", mark)
        await lines.wait_for(r"\[CS-Example\] old speaks OCPP 1\.2", mark)
        link = old.peer.link  # type: ignore[union-attr]
        await old.stop()  # (stop() leaves the socket open: close it so the CS sees it go)
        await link.close()
        await lines.wait_for(r"\[CS-Example\] Goodbye old !", mark)
        assert not lines.matching(r"GetLocalListVersion", mark)
        assert lines.errors() == []
        await close(shell)

    asyncio.run(scenario())


@pytest.mark.parametrize("protocol", ["ocpp1.5", "ocpp1.2"])
def test_cbxs_automatic_mode_runs_transactions(lines: Lines, protocol: str) -> None:
    async def scenario() -> None:
        shell = Shell()
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "box", protocol, "--stateless")
        cp, to_cs, from_cs = "cp#box", (">>", "cs"), ("<<", "cs")

        mark = lines.mark()
        await shell.execute("load cbxs_automatic_mode")
        await lines.wait_for(frame(cp, *to_cs, 2, "BootNotification"), mark)
        await lines.wait_for(r"\[CBXS\] BootNotification: Accepted\.", mark)
        for connector in (1, 2):
            line = await lines.wait_for(frame(cp, *to_cs, 2, "StatusNotification"), mark)
            assert payload_of(line)["connectorId"] == connector
            mark = lines.lines.index(line) + 1
        await lines.wait_for(frame(cp, *from_cs, 3), mark)

        # a badge: Authorize → StartTransaction → StatusNotification → MeterValues
        mark = lines.mark()
        await shell.execute("identification TAG1")
        for action in ("Authorize", "StartTransaction", "StatusNotification", "MeterValues"):
            line = await lines.wait_for(frame(cp, *to_cs, 2, action), mark)
            mark = lines.lines.index(line) + 1
            if action == "StartTransaction":
                assert payload_of(line)["idTag"] == "TAG1"
                assert "reservationId" not in payload_of(line)
            if action == "MeterValues":
                assert ("transactionId" in payload_of(line)) == (protocol == "ocpp1.5")
        await lines.wait_for(frame(cp, *from_cs, 3), mark)

        mark = lines.mark()
        await shell.execute("cache")
        await shell.execute("connectors")
        await lines.wait_for(r'\[CBXS\] Whitelist content: \{"TAG1":\{"status":"Accepted"', mark)
        await lines.wait_for(r"Connector #1 - status: Occupied, charging \(transaction #1", mark)
        await lines.wait_for(r"Connector #2 - status: Available, not charging", mark)

        # the CS stops it remotely
        mark = lines.mark()
        await shell.execute("remote_stoptransaction transactionId=1")
        answer = await lines.wait_for(frame("cs", "<<", "cp#box", 3), mark)
        assert payload_of(answer) == {"status": "Accepted"}
        stop = await lines.wait_for(frame(cp, *to_cs, 2, "StopTransaction"), mark)
        assert payload_of(stop)["idTag"] == "TAG1" and payload_of(stop)["meterStop"] > 0
        await lines.wait_for(r"\[CBXS\] Transaction #1 stopped on connector #1 \(remote stop", mark)

        # the CS starts one on connector 2; the same badge stops it
        mark = lines.mark()
        await shell.execute("remote_starttransaction connectorId=2 idTag=REMOTE")
        answer = await lines.wait_for(frame("cs", "<<", "cp#box", 3), mark)
        assert payload_of(answer) == {"status": "Accepted"}
        start = await lines.wait_for(frame(cp, *to_cs, 2, "StartTransaction"), mark)
        assert payload_of(start)["connectorId"] == 2
        await lines.wait_for(r"Transaction #2 started on connector #2 for REMOTE", mark)
        mark = lines.mark()
        await shell.execute("identification REMOTE")
        _, after = await exchange(lines, cp, "StopTransaction", mark)
        await lines.wait_for(r"stopped on connector #2 \(badge presented again", mark)
        status, _ = await exchange(lines, cp, "StatusNotification", after)
        assert (status["connectorId"], status["status"]) == (2, "Available")
        assert not lines.matching(frame(cp, *to_cs, 2, "Authorize"), mark)

        # a cut liaison: connector 1 is Faulted and refuses remote starts
        mark = lines.mark()
        await shell.execute("connector_liaison 1 off")
        status, _ = await exchange(lines, cp, "StatusNotification", mark)
        assert (status["connectorId"], status["status"]) == (1, "Faulted")
        await shell.execute("remote_starttransaction connectorId=1")
        answer = await lines.wait_for(frame("cs", "<<", "cp#box", 3, ""), mark + 1)
        assert payload_of(answer) == {"status": "Rejected"}
        await shell.execute("remote_stoptransaction transactionId=42")
        await lines.wait_for(
            r'cs: <<cp#box \[3,"[^"]+",\{"status":"Rejected"\}\]', lines.mark() - 1
        )
        mark = lines.mark()
        await shell.execute("connector_liaison 9 on")
        await lines.wait_for(r"\[CBXS\] Usage: connector_liaison <id> <on\|off>", mark)

        mark = lines.mark()
        await shell.execute("remote_clearcache")
        await lines.wait_for(r"\[CBXS\] Whitelist cleared\.", mark)
        await shell.sim.drain(5)
        await shell.execute("cache")
        await lines.wait_for(r"\[CBXS\] Whitelist content: \{\}", mark)

        assert lines.errors() == []
        assert not lines.matching("unknown command")
        await shell.execute("unload cbxs_automatic_mode")
        mark = lines.mark()
        await shell.execute("connectors")
        await lines.wait_for(r"Error: `connectors' unknown command", mark)
        await close(shell)

    asyncio.run(scenario())


def test_cbxs_needs_a_charge_point(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        await shell.execute("load cbxs_automatic_mode")
        await lines.wait_for(r"\[CBXS\] Error: this plugin needs a Charge Point Simulator to run")
        assert shell.plugins.loaded == {}
        assert not shell.sim.cp_behaviour.call_handlers.get("RemoteStartTransaction")
        await close(shell)

    asyncio.run(scenario())


async def finished(shell: Shell, task_name: str) -> None:
    """Wait until the cbxs plugin's tasks named `task_name` are done (one done already has
    left the plugin's tasks: the exchange the test waited for may have been its last step)."""
    plugin = shell.plugins.loaded["cbxs_automatic_mode"]
    await asyncio.gather(*(task for task in plugin.tasks if task.get_name() == task_name))


@pytest.mark.parametrize("protocol", ["ocpp1.5", "ocpp1.2"])
def test_cbxs_meters_its_connectors_and_cuts_a_liaison_once(lines: Lines, protocol: str) -> None:
    """Meter values are the connector's own readings, taken now; a liaison cut during a
    transaction stops it with one Faulted StatusNotification; a cut liaison cut again says so."""

    async def scenario() -> None:
        shell = Shell()
        cs = await start_cs(shell)
        await start_cp(shell, lines, cs, "box", protocol, "--stateless")
        cp, to_cs = "cp#box", (">>", "cs")
        mark = lines.mark()
        await shell.execute("load cbxs_automatic_mode")
        await lines.wait_for(r"\[CBXS\] BootNotification: Accepted\.", mark)
        for _ in (1, 2):
            _, mark = await exchange(lines, cp, "StatusNotification", mark)

        await shell.execute("identification TAG1")
        start, mark = await exchange(lines, cp, "StartTransaction", mark)
        meter, mark = await exchange(lines, cp, "MeterValues", mark)
        assert len(meter["values"]) == 1  # one reading, not the default's two
        sample = meter["values"][0]
        if protocol == "ocpp1.5":
            (register,) = sample["values"]
            assert (register["unit"], register["measurand"]) == (
                "Wh",
                "Energy.Active.Import.Register",
            )
            reading = int(register["value"])
        else:
            reading = sample["value"]
        assert reading >= start["meterStart"]
        taken = datetime.datetime.fromisoformat(sample["timestamp"].replace("Z", "+00:00"))
        assert abs(datetime.datetime.now(datetime.timezone.utc) - taken).total_seconds() < 60

        await shell.execute("connector_liaison 1 off")
        stop, mark = await exchange(lines, cp, "StopTransaction", mark)
        assert stop["meterStop"] >= reading
        if protocol == "ocpp1.5":  # the transaction's own readings, not the default's zeros
            begin, end = stop["transactionData"][0]["values"]
            assert begin["values"][0]["value"] == str(start["meterStart"])
            assert end["values"][0]["value"] == str(stop["meterStop"])
        status, _ = await exchange(lines, cp, "StatusNotification", mark)
        assert (status["connectorId"], status["status"]) == (1, "Faulted")
        await finished(shell, "cbxs liaison")
        statuses = lines.matching(frame(cp, *to_cs, 2, "StatusNotification"), mark)
        assert len(statuses) == 1, statuses  # no second Faulted

        done = lines.mark()
        await shell.execute("connector_liaison 1 off")
        await lines.wait_for(r"\[CBXS\] Connector #1 liaison is already off: nothing changes\.")
        await shell.execute("connector_liaison 1 on")
        status, _ = await exchange(lines, cp, "StatusNotification", done)
        assert (status["connectorId"], status["status"]) == (1, "Available")
        await finished(shell, "cbxs liaison")
        assert len(lines.matching(frame(cp, *to_cs, 2, "StatusNotification"), done)) == 1
        assert lines.errors() == []

        mark = lines.mark()  # a line it cannot read is its error line, not a plugin failure
        await shell.execute('identification "abc')
        await lines.wait_for(r"\[CBXS\] Error: cannot read the line: unclosed quote", mark)
        assert not lines.matching("Error in the", mark)
        await close(shell)

    asyncio.run(scenario())
