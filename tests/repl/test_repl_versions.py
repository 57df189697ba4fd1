"""The prompt's commands, `-p` choices and their error lines come from the version registry."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from ocppsim_testing import env_without_ocpp_folders

from ocppsim.core import versions
from ocppsim.core.versions import OCPP_2X, OcppVersion, SchemaSource
from ocppsim.repl.commands import COMMANDS, versions_note
from ocppsim.repl.shell import Shell


def run(shell: Shell, *commands: str) -> None:
    async def scenario() -> None:
        shell.sequential = True
        for line in commands:
            await shell.execute(line)
        await shell.sim.shutdown()

    asyncio.run(scenario())


def output(lines, *commands: str, shell: Shell | None = None) -> str:
    start = lines.mark()
    run(shell or Shell(), *commands)
    return "\n".join(lines.lines[start:])


def test_one_command_per_action_of_any_version_noting_the_versions_that_have_it() -> None:
    expected: dict[str, tuple[str, str, list[str]]] = {}
    sends: set[str] = set()
    for entry in versions.all_versions():
        for service in versions.SERVICES:
            for action in (*entry.actions[service], *entry.sends.get(service, ())):
                name = versions.command_name(service, action)
                expected.setdefault(name, (service, action, []))[2].append(entry.name)
                if entry.is_send(service, action):
                    sends.add(name)
    ocpp = {name: c for name, c in COMMANDS.items() if c.action is not None}
    assert set(ocpp) == set(expected)
    for name, (service, action, names) in expected.items():
        assert (ocpp[name].service, ocpp[name].action) == (service, action)
        with_soap = [versions.get(n) for n in names if versions.get(n).soap is not None]
        json_only = bool(with_soap) and not any(
            e.carries("soap", service, action) for e in with_soap
        )
        told = action + versions_note(names, json_only)
        if name in sends:
            told += " as a SEND (never answered)"
        assert ocpp[name].help.endswith(told), name
    assert COMMANDS["heartbeat"].help == "CP sends Heartbeat"
    assert COMMANDS["remote_reservenow"].help.startswith("CS sends ReserveNow (OCPP 1.5")
    assert COMMANDS["remote_getvariables"].help.startswith("CSMS sends GetVariables (OCPP 2.0.1")
    assert COMMANDS["transactionevent"].help.startswith("CP sends TransactionEvent (OCPP 2.0.1")
    # 2.1 is offered only where its schemas are installed (Python 3.11+): the note follows
    since_16 = [n for n in versions.names() if n not in ("1.2", "1.5")]
    assert COMMANDS["remote_triggermessage"].help == "CS sends TriggerMessage" + versions_note(
        since_16
    )
    assert COMMANDS["signcertificate"].help == "CP sends SignCertificate" + versions_note(
        since_16, json_only=True
    )
    if "2.1" in versions.names():
        assert COMMANDS["remote_triggermessage"].help.endswith("(OCPP 1.6 to 2.1)")
    assert COMMANDS["remote_extendedtriggermessage"].help == (
        "CS sends ExtendedTriggerMessage (OCPP 1.6, OCPP-J only)"
    )


def test_versions_note_names_runs_of_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions, "names", lambda: ("a", "b", "c", "d", "e"))
    assert versions_note(["a", "b", "c", "d", "e"]) == ""
    assert versions_note(["b"]) == " (OCPP b)"
    assert versions_note(["b", "c"]) == " (OCPP b, c)"
    assert versions_note(["b", "c", "d"]) == " (OCPP b to d)"
    assert versions_note(["a", "c", "d", "e"]) == " (OCPP a, c to e)"


def test_unknown_protocols_get_the_known_ones(lines) -> None:
    text = output(
        lines,
        "start_cp ws://127.0.0.1:1/ocpp cp01 -p ocpp9",
        "start_cs 0 -p ocpp1.5,ocpp9",
        "start_cs 0 -p ,",
    )
    choices, listed = versions.one_of(versions.subprotocols()), ",".join(versions.subprotocols())
    assert f"Error: unknown protocol `ocpp9' (use {choices})." in text
    assert f"Error: unknown protocol `ocpp9' (use {listed})." in text
    assert f"Error: unknown protocol `' (use {listed})." in text


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_a_central_system_serves_every_version_of_its_transport_by_default(
    lines, transport: str
) -> None:
    shell = Shell()
    seen: list[tuple[str, ...]] = []

    async def scenario() -> None:
        shell.sequential = True
        await shell.execute(f"start_cs 0 -t {transport}")
        seen.append(tuple(shell.sim.central_system.protocols))
        await shell.sim.shutdown()

    asyncio.run(scenario())
    assert seen == [versions.subprotocols(transport)]


def test_a_version_without_soap_is_refused_on_soap(lines, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a 2.x entry (OCPP-J only) gets at the prompt with `-t soap`."""
    entry = OcppVersion(
        name="9.9",
        title="OCPP 9.9",
        subprotocol="ocpp9.9",
        actions={"cs": (), "cp": ()},
        schemas=SchemaSource("nowhere", dialect="draft6"),
        errors=OCPP_2X,
        defaults={},
    )
    monkeypatch.setattr(versions, "_ENTRIES", (*versions._ENTRIES, entry))
    monkeypatch.setitem(versions._BY_NAME, entry.name, entry)
    monkeypatch.setitem(versions._BY_SUBPROTOCOL, entry.subprotocol, entry)
    assert "ocpp9.9" in versions.subprotocols("websocket")
    assert "ocpp9.9" not in versions.subprotocols("soap")
    text = output(
        lines,
        "start_cs 0 -t soap -p ocpp1.5,ocpp9.9",
        "start_cp http://127.0.0.1:1/ocpp cp01 -t soap -p ocpp9.9",
    )
    assert "Error: ocpp9.9 cannot run on soap (use ocpp1.2,ocpp1.5,ocpp1.6 with -t soap)." in text
    assert (
        "Error: ocpp9.9 cannot run on soap (use ocpp1.2, ocpp1.5 or ocpp1.6 with -t soap)." in text
    )


def test_without_the_2_1_schemas_the_prompt_says_what_2_1_needs(tmp_path) -> None:
    """Python 3.10 gets the `ocpp` package 2.0.0, which has no 2.1 schemas: asking for 2.1 is
    an error line saying what to install, and everything else works."""
    exe = Path(sys.executable).with_name("ocppsim")
    typed = [
        "start_cp ws://127.0.0.1:1/ocpp cp01 -p ocpp2.1",
        "start_cs 0 -p ocpp2.0.1,ocpp2.1",
        "start_cs 0",
        "help remote_afrrsignal",
        "help start_cs",
        "quit",
    ]
    out = subprocess.run(
        [str(exe)],
        input="\n".join(typed) + "\n",
        env=env_without_ocpp_folders(tmp_path / "site", "v21"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Traceback" not in text + out.stderr
    needs = "Error: OCPP 2.1 needs the `ocpp` package 2.1 or newer (Python 3.11+)."
    assert text.count(needs) == 2, text
    assert "cs: Server is listening on port" in text
    assert "Error: `remote_afrrsignal' unknown command." in text
    assert "websocket subprotocol (default: ocpp1.2,ocpp1.5,ocpp1.6,ocpp2.0.1)" in text
