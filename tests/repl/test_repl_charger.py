"""The person at the charger, at the prompt: `badge`, `plug`, `unplug`, `faulted` and `state` act
on a Charge Point's model (and say why they cannot), `start_cp --stateless` and `--connectors`
choose what is simulated; help and completion know them."""

from __future__ import annotations

import asyncio

from ocppsim_testing import Lines

from ocppsim.repl.commands import COMMANDS
from ocppsim.repl.shell import Shell
from ocppsim.repl.terminal import OcppCompleter
from ocppsim.repl.usage import command_help
from ocppsim.sim.central_system import CentralSystem


async def _shell_with_cs(lines: Lines) -> tuple[Shell, int]:
    shell = Shell()
    shell.sequential = True  # each line waits for what it causes, as in a script
    cs = CentralSystem(0, host="127.0.0.1", behaviour=shell.sim.cs_behaviour, bus=shell.sim.bus)
    shell.sim.add_central_system(cs)
    await cs.start()
    return shell, cs.port


async def _start(shell: Shell, lines: Lines, port: int, words: str) -> None:
    mark = lines.mark()
    await shell.execute(f"start_cp ws://127.0.0.1:{port}/ocpp {words}")
    await lines.wait_for(r"Connected to Central System\.", mark)
    cp_id = next(word for word in words.split() if not word.startswith("-"))
    driver = shell.sim.charge_points[cp_id].driver
    if driver is not None:
        await driver.idle()


def test_badge_plug_unplug_fault_and_state_at_a_1_6_charge_point(lines: Lines) -> None:
    async def scenario() -> None:
        shell, port = await _shell_with_cs(lines)
        await _start(shell, lines, port, "cp01 -p ocpp1.6 --connectors 3")
        mark = lines.mark()
        await shell.execute("plug 2")
        await shell.execute("badge TAG-1")  # where the cable waits: connector 2
        await lines.wait_for(r'>>cs \[2,"\w+","StartTransaction",\{"connectorId":2,"idTag"', mark)
        await shell.execute("state")
        state = await lines.wait_for(
            r"^cp#cp01: OCPP 1\.6 Charge Point, websocket, connected", mark
        )
        listing = state.split("\n") if "\n" in state else lines.lines[lines.lines.index(state) :]
        text = "\n".join(listing)
        assert "connector 3: Available" in text
        assert "connector 2: Charging, cable plugged" in text
        assert "transaction 0 for TAG-1" in text or "transaction 1 for TAG-1" in text
        await shell.execute("faulted 1")
        await lines.wait_for(r'"connectorId":1,"errorCode":"OtherError","status":"Faulted"', mark)
        await shell.execute("faulted 1 off")
        await lines.wait_for(r'"connectorId":1,"errorCode":"NoError","status":"Available"', mark)
        await shell.execute("badge TAG-1")  # the same badge again: the transaction ends
        await lines.wait_for(r'>>cs \[2,"\w+","StopTransaction",.*"reason":"Local"', mark)
        await shell.execute("unplug")
        await lines.wait_for(r'"connectorId":2,"errorCode":"NoError","status":"Available"', mark)
        errors = lines.mark()
        for line in (
            "plug 9",
            "unplug",
            "badge T --evse 1",
            "badge T --connector x",
            "faulted 1 maybe",
            "faulted",
            "plug 1 2",
        ):
            await shell.execute(line)
        shown = [line for line in lines.lines[errors:] if "Error" in line]
        assert "Error: cp#cp01: no connector 9: this Charge Point has 1, 2, 3." in shown
        assert "Error: cp#cp01: nothing is plugged in." in shown
        assert any(
            "--evse does not apply" in line and "use --connector <n>" in line for line in shown
        )
        assert "Error: connector `x' is not a number from 1." in shown
        assert "Error: `maybe' is neither on nor off." in shown
        assert "Error: missing argument <n>." in shown
        assert "Error: `2' is an unexpected argument." in shown
        assert not [line for line in lines.lines if "Traceback" in line]
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_a_remote_stop_without_an_id_names_the_open_transaction(lines: Lines) -> None:
    """The Central System gives transaction ids from 1 and keeps the open ones: a second
    transaction gets 2, and `remote_stoptransaction` without transactionId= stops it;
    a reserved test tag is refused (the Charge Point starts no transaction for it)."""

    async def scenario() -> None:
        shell, port = await _shell_with_cs(lines)
        await _start(shell, lines, port, "cp01 -p ocpp1.6")
        mark = lines.mark()
        await shell.execute("badge BLOCKED-7 --connector 1")
        await lines.wait_for(r'<<cs \[3,"\w+",\{"idTagInfo":\{"status":"Blocked"\}\}\]', mark)
        for connector in (1, 2):
            await shell.execute(f"plug {connector}")
            await shell.execute(f"badge TAG-{connector} --connector {connector}")
            await lines.wait_for(rf'<<cs \[3,"\w+",\{{"transactionId":{connector},', mark)
        await shell.execute("remote_stoptransaction")
        await lines.wait_for(
            r'cs: >>cp#\S*cp01 \[2,"\w+","RemoteStopTransaction",\{"transactionId":2\}\]', mark
        )
        await lines.wait_for(r'"StopTransaction",\{"transactionId":2,.*"reason":"Remote"', mark)
        assert not lines.matching(r'"StartTransaction",\{"connectorId":1,"idTag":"BLOCKED-7"')
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_a_stateless_charge_point_has_no_charger_to_act_at(lines: Lines) -> None:
    async def scenario() -> None:
        shell, port = await _shell_with_cs(lines)
        await _start(shell, lines, port, "--stateless old -p ocpp1.5")  # a flag takes no value
        cp = shell.sim.charge_points["old"]
        assert cp.stateless and cp.protocol == "ocpp1.5"
        mark = lines.mark()
        await shell.execute("badge T")
        await lines.wait_for(
            r"^Error: charge point #old is stateless \(started with --stateless\): it has no"
            r" connectors to act on\.$",
            mark,
        )
        await shell.execute("state")
        await lines.wait_for(r"^old|cp#old: OCPP 1\.5 stateless Charge Point, websocket", mark)
        for line in (
            "start_cp ws://x/ocpp a --connectors 0",
            "start_cp ws://x/ocpp b --stateless --connectors 3",
        ):
            await shell.execute(line)
        await lines.wait_for(r"Error: --connectors takes a number from 1 to 100, not `0'\.", mark)
        await lines.wait_for(r"Error: --connectors is for a Charge Point with a model", mark)
        assert not lines.matching(r'"BootNotification"')  # it boots only when told to
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_a_2x_station_takes_an_evse() -> None:
    shell = Shell()
    text = command_help(COMMANDS["badge"])
    assert text.startswith("badge <idTag> [--connector <n>] [--evse <n>] [--id <id>]")
    assert "Example:\n  badge B4F62CEF --connector 1 --id cp01" in text
    assert command_help(COMMANDS["faulted"]).startswith("faulted <n> [on|off] [--id <id>]")
    start = command_help(COMMANDS["start_cp"])
    assert "[--stateless]" in start.split("\n")[0] and "--connectors <n>" in start
    assert "answer every CALL with the default payload" in start
    completer = OcppCompleter(shell)

    def complete(text: str) -> list[str]:
        from prompt_toolkit.completion import CompleteEvent
        from prompt_toolkit.document import Document

        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert {"badge", "plug", "unplug", "faulted", "state"} <= set(complete(""))
    assert complete("unpl") == ["unplug"]
    assert complete("badge T --") == ["--connector", "--evse", "--id"]
    assert complete("faulted 1 o") == ["on", "off"]
    assert complete("start_cp ws://x cp --st") == ["--stateless"]
