"""The prompt's ways to send what OCPP 2.1 adds to OCPP-J: `notifyperiodiceventstream` (a SEND,
with its default payload and field=value), `send … --type send` for any SEND, `send_raw` for a
CALLRESULTERROR; their help and error lines; and the plugin API's `on_send`, `api.cp.send` and
`ctx.send`. A Shell with a CSMS and a Charging Station on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from ocppsim_testing import Lines, needs_version
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import validate
from ocppsim.repl.commands import COMMANDS
from ocppsim.repl.shell import Shell
from ocppsim.repl.terminal import OcppCompleter
from ocppsim.repl.usage import command_help

pytestmark = needs_version("2.1")


async def _pair(shell: Shell, lines: Lines, protocol: str = "ocpp2.1", cp_id: str = "cs21") -> None:
    """`start_cs 0` and `start_cp` of `protocol` typed at `shell`, once they are connected."""
    shell.sequential = True
    mark = lines.mark()
    await shell.execute("start_cs 0 -u /ocpp")
    line = await lines.wait_for(r"cs: Server is listening on port \d+", mark)
    port = re.search(r"port (\d+)", line)[1]  # type: ignore[index]
    await shell.execute(f"start_cp ws://127.0.0.1:{port}/ocpp {cp_id} -p {protocol}")
    await lines.wait_for(rf"cs: ChargePoint #{cp_id} connected", mark)
    driver = shell.sim.charge_points[cp_id].driver
    if driver is not None:  # its model's boot and StatusNotifications answered
        await driver.idle()


def _frame(line: str) -> list[Any]:
    """The frame of a `… >>peer [..]` / `… <<peer [..]` line."""
    found = re.search(r"(?:>>|<<)\S* (\[.*\])$", line)
    assert found, line
    return json.loads(found[1])


def test_the_send_command_of_notifyperiodiceventstream_sends_its_default(lines: Lines) -> None:
    """Its default payload, valid against 2.1's schema, with field=value applied; nothing
    answers it, and the command returns at once (nothing waits)."""

    async def scenario() -> None:
        shell = Shell()
        await _pair(shell, lines)
        mark = lines.mark()
        await shell.execute('notifyperiodiceventstream id=3 data.0.v="230.5"')
        sent = _frame(await lines.wait_for(r'cp#cs21: >>cs \[6,"', mark))
        received = _frame(await lines.wait_for(r'cs: <<cp#cs21 \[6,"', mark))
        assert sent == received and sent[0] == 6 and sent[2] == "NotifyPeriodicEventStream"
        payload = sent[3]
        assert payload["id"] == 3 and payload["data"] == [{"t": 0, "v": "230.5"}]
        assert set(payload) == set(default_payload("2.1", "NotifyPeriodicEventStream"))
        assert validate("2.1", "NotifyPeriodicEventStream", payload) is None
        await shell.execute("heartbeat")
        await lines.wait_for(r'cp#cs21: <<cs \[3,"', mark)
        assert [line for line in lines.lines[mark:] if "<<cs [" in line][0].count("[3,") == 1
        assert lines.errors(mark) == []
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_send_with_type_send_sends_any_send_unchecked(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        await _pair(shell, lines)
        mark = lines.mark()
        await shell.execute('send -n NotifyPeriodicEventStream -p {"id":1} --type send')
        sent = _frame(await lines.wait_for(r'cp#cs21: >>cs \[6,"', mark))
        assert sent[2:] == ["NotifyPeriodicEventStream", {"id": 1}]
        await lines.wait_for(
            rf"cs: WARNING : OccurrenceConstraintViolation for SEND #{sent[1]} "
            r"\(pending: missing \(required\)\)",
            mark,
        )
        await shell.execute("send -n Heartbeat -p {} --type call")  # a CALL, as without --type
        await lines.wait_for(r'cp#cs21: <<cs \[3,"', mark)
        await shell.execute("send -n Heartbeat -p {} --type bogus")
        await lines.wait_for(r"Error: `--type bogus' is neither call nor send\.", mark)
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_send_raw_sends_a_callresulterror_on_purpose(lines: Lines) -> None:
    """A conformance test's way to refuse a CALLRESULT: the CSMS logs it as an error about
    its CALLRETURN, naming the action it answered."""

    async def scenario() -> None:
        shell = Shell()
        await _pair(shell, lines)
        mark = lines.mark()
        await shell.execute("heartbeat")
        answer = _frame(await lines.wait_for(r'cp#cs21: <<cs \[3,"', mark))
        uid = answer[1]
        text = f'[5,"{uid}","GenericError","not today",{{}}]'
        await shell.execute(f"send_raw -e {text}")
        await lines.wait_for(rf"cp#cs21: >>cs {re.escape(text)}", mark)
        await lines.wait_for(
            rf"cs: Error: GenericError for our CALLRETURN #{uid} to Heartbeat \(not today\)", mark
        )
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_a_send_command_at_a_version_without_it_says_so(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        await _pair(shell, lines, "ocpp2.0.1", "cs201")
        mark = lines.mark()
        await shell.execute("notifyperiodiceventstream")
        await lines.wait_for(
            r"Error: procedure `NotifyPeriodicEventStream' is not available for a OCPP 2\.0\.1",
            mark,
        )
        await shell.execute('send -n NotifyPeriodicEventStream -p {"id":1} --type send')
        await lines.wait_for(
            r"Error: OCPP 2\.0\.1 has no SEND \(message type 6\); send_raw sends any frame\.", mark
        )
        assert not lines.matching(r">>cs \[6,", mark)
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_help_of_a_send_command_shows_its_fields_and_says_it_is_a_send() -> None:
    command = COMMANDS["notifyperiodiceventstream"]
    text = command_help(command)
    assert "CP sends NotifyPeriodicEventStream (OCPP 2.1) as a SEND (never answered)" in text
    assert "Payload fields of NotifyPeriodicEventStream (OCPP 2.1):" in text
    assert re.search(r"^  basetime +required +date-time", text, re.M), text
    assert re.search(r"^  data\.<n>\.v +required +string", text, re.M), text
    assert "Example:\n  notifyperiodiceventstream --id cp01 id=1 pending=0" in text
    assert "--type <call|send>" in command_help(COMMANDS["send"])


# -- plugins --------------------------------------------------------------------------------------

PLUGINS = {
    "stream_cs": """
        system = "cs"

        def on_load(api):
            def stream(payload, ctx):
                api.log(f"stream {payload['id']} from {ctx.charge_point_id} ({ctx.ocpp_version})")
                return {"not": "sent"}

            api.on_send("NotifyPeriodicEventStream", stream)
    """,
    "stream_cp": """
        system = "cp"

        def on_load(api):
            def command(line):
                if line == "stream":
                    api.cp.send("NotifyPeriodicEventStream", {"id": 9})
                    return True

            def booted(result, ctx):
                ctx.send("NotifyPeriodicEventStream", {"id": 10})

            api.on_command(command, ["stream"])
            api.on_result("BootNotification", booted)
    """,
}


def test_plugins_send_and_hear_sends(lines: Lines, tmp_path: Path) -> None:
    for name, source in PLUGINS.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source).lstrip())

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[tmp_path])
        await _pair(shell, lines)
        assert shell.plugins is not None
        assert await shell.plugins.load("stream_cs") and await shell.plugins.load("stream_cp")
        mark = lines.mark()
        await shell.execute("stream")
        await lines.wait_for(r"stream 9 from cs21 \(2\.1\)", mark)
        await shell.execute("bootnotification")
        await lines.wait_for(r"stream 10 from cs21 \(2\.1\)", mark)
        sent = [_frame(line) for line in lines.matching(r'cp#cs21: >>cs \[6,"', mark)]
        assert [frame[3]["id"] for frame in sent] == [9, 10]
        for frame in sent:  # the rest of each payload is the SEND's default
            assert validate("2.1", "NotifyPeriodicEventStream", frame[3]) is None
        assert not lines.matching(r'cs: >>cp#cs21 \[[45],"', mark)
        assert lines.errors(mark) == []
        await shell.plugins.close()
        await shell.sim.shutdown()

    asyncio.run(scenario())


@pytest.mark.parametrize("fails", ["raise ValueError('boom')", "raise CallError('GenericError')"])
def test_a_failing_send_handler_is_reported_and_nothing_is_answered(
    lines: Lines, tmp_path: Path, fails: str
) -> None:
    source = f"""
        from ocppsim.api import CallError

        def on_load(api):
            def stream(payload):
                {fails}

            api.on_send("NotifyPeriodicEventStream", stream)
    """
    (tmp_path / "bad.py").write_text(textwrap.dedent(source).lstrip())

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[tmp_path])
        await _pair(shell, lines)
        assert shell.plugins is not None and await shell.plugins.load("bad")
        mark = lines.mark()
        await shell.execute("notifyperiodiceventstream")
        await lines.wait_for(
            r"Error in the `bad' plugin \(on_send NotifyPeriodicEventStream\)", mark
        )
        await shell.execute("heartbeat")
        await lines.wait_for(r'cp#cs21: <<cs \[3,"', mark)
        assert not lines.matching(r'cs: >>cp#cs21 \[4,"', mark)
        await shell.plugins.close()
        await shell.sim.shutdown()

    asyncio.run(scenario())


def test_the_fields_of_a_send_command_complete() -> None:
    shell = Shell()
    completer = OcppCompleter(shell)

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]

    assert complete("notifyperiodic") == ["notifyperiodiceventstream"]
    assert set(complete("notifyperiodiceventstream ")) == {"data.", "id=", "pending=", "basetime="}
    assert complete("notifyperiodiceventstream data.0.") == ["data.0.t=", "data.0.v="]
    assert "--type" in complete("send -n X -p {} --t")
