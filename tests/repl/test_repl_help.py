"""`help`, `help <command>` and the syntax errors that name the wrong word."""

from __future__ import annotations

import asyncio
import re

import pytest

from ocppsim.core import versions
from ocppsim.core.validation import validate
from ocppsim.repl.commands import COMMANDS, _fields
from ocppsim.repl.parsing import parse_line
from ocppsim.repl.shell import Shell
from ocppsim.repl.usage import command_help

VERSIONS = versions.names()


def run(shell: Shell, *commands: str) -> None:
    async def scenario() -> None:
        shell.sequential = True
        for line in commands:
            await shell.execute(line)
        await shell.sim.shutdown()

    asyncio.run(scenario())


def output(lines, *commands: str) -> str:
    start = lines.mark()
    run(Shell(), *commands)
    return "\n".join(lines.lines[start:])


def test_help_of_an_ocpp_command_shows_options_fields_and_an_example(lines) -> None:
    text = output(lines, "help remote_reset")
    assert text.splitlines()[:3] == [
        "remote_reset [--remote-id <id>] [field=value …]",
        "  CS sends Reset",
        "Options:",
    ]
    assert "  --remote-id <id>  id of charge point (optional when only one is connected)" in text
    assert "Payload fields of ResetRequest (OCPP 1.2, 1.5 and 1.6):" in text
    assert "  type  required  string, one of: Hard, Soft (default: Soft)" in text
    assert "Example (OCPP 1.2, 1.5 and 1.6):\n  remote_reset --remote-id cp01 type=Soft" in text


def test_help_shows_the_fields_and_an_example_of_each_version(lines) -> None:
    """A command that serves 1.x and 2.x peers shows each version's own fields and example."""
    text = output(lines, "help remote_reset")
    block_201 = text.split("Payload fields of ResetRequest (OCPP 2.0.1")[1].split("Payload")[0]
    assert "  type    required  string, one of: Immediate, OnIdle (default: OnIdle)" in block_201
    assert "  evseId  optional  integer" in block_201
    assert "Example (OCPP 2.0.1" in text
    assert text.endswith("  remote_reset --remote-id cp01 type=OnIdle")


def test_help_of_a_2x_message_shows_nested_fields_as_dotted_paths(lines) -> None:
    text = output(lines, "help bootnotification", "help remote_getvariables")
    block = text.split("Payload fields of BootNotificationRequest (OCPP 2.0.1")[1]
    assert "  chargingStation                  required  object" in block
    assert "  chargingStation.model            required  string, at most 20 characters" in block
    assert "  chargingStation.modem.iccid      optional  string, at most 20 characters" in block
    assert "customData" not in text  # the extension point of every 2.x class is no field
    assert (
        "  bootnotification --id cp01 chargingStation.model=NQC-ACDC"
        " chargingStation.vendorName=DBT reason=PowerUp"
    ) in text
    assert "  CSMS sends GetVariables (OCPP 2.0.1" in text
    assert "getVariableData.<n>.component.name" in text
    assert "getVariableData.<n>.variable.name" in text


def test_help_of_bootnotification_shows_each_versions_rules(lines) -> None:
    text = output(lines, "help bootnotification")
    assert "  --id <id>  id of charge point (optional when only one runs or is connected)" in text
    block_15 = text.split("Payload fields of BootNotificationRequest (OCPP 1.5 and 1.6):")[1]
    assert "chargePointVendor        required  string, at most 20 characters (default: DBT)" in (
        block_15
    )
    assert "iccid                    optional  string, at most 20 characters" in block_15
    assert "Payload fields of BootNotificationRequest (OCPP 1.2):" in text  # no maxLength there
    assert "  bootnotification --id cp01 chargePointVendor=DBT chargePointModel=NQC-ACDC" in text


def test_help_of_nested_fields_and_of_other_commands(lines) -> None:
    text = output(lines, "help remote_sendlocallist", "help start_cs", "help heartbeat")
    assert "localAuthorisationList.<n>.idTagInfo.status" in text
    assert "required  string, one of: Accepted, Blocked, Expired," in text
    assert "start_cs <port> [-i <value>] [-u <value>] [-p <value>] [-t <value>]" in text
    every = ",".join(versions.subprotocols("websocket"))
    assert re.search(rf"\n  -p <value> +websocket subprotocol \(default: {every}\)\n", text)
    assert f"Example:\n  start_cs 9000 -u /ocpp -p {versions.default().subprotocol}" in text
    where = versions.one_of(list(VERSIONS), "and")
    assert f"Payload of HeartbeatRequest (OCPP {where}): no fields, an empty object." in text
    assert "Example:\n  heartbeat --id cp01" in text


def test_plain_help_says_how_to_learn_more_and_how_to_target_a_charge_point(lines) -> None:
    text = output(lines, "help", "help nosuch", "help a b")
    assert "Type help <command> for its options, payload fields and an example." in text
    assert "--id <id> picks one" in text and "--remote-id <id> picks one" in text
    assert " - stop_cp <identifier>" in text and " - stop_cs " in text
    assert "Error: `nosuch' unknown command. Type help for more informations." in text
    assert "Error: `b' is an unexpected argument." in text


def examples(text: str) -> list[tuple[list[str], str]]:
    """Each example of a help text and the versions it is for (all when it says none)."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        if line == "Example:":
            found.append((list(VERSIONS), lines[index + 1].strip()))
        elif line.startswith("Example (OCPP "):
            names = line.removeprefix("Example (OCPP ").removesuffix("):")
            found.append((names.replace(" and ", ", ").split(", "), lines[index + 1].strip()))
    return found


def test_every_ocpp_example_is_a_line_the_prompt_accepts() -> None:
    """Each example builds a payload, valid against its schema, in every version it names."""
    shell = Shell()
    for command in COMMANDS.values():
        if command.action is None:
            continue
        shown = examples(command_help(command))
        assert shown, command.name
        for names, example in shown:
            parsed = parse_line(example)
            assert parsed.command == command.name
            for version in names:
                if not versions.get(version).handles(command.service, command.action):  # type: ignore[arg-type]
                    continue  # an example for every version, of an action some lack
                payload = shell.sim.build_payload(
                    version,
                    command.service,  # type: ignore[arg-type]
                    command.action,
                    _fields(parsed),
                )
                assert validate(version, command.action + "Request", payload) is None, example


@pytest.mark.parametrize(
    "line, problem",
    [
        ("start_cs 9705 -p ocpp1.5 ocpp1.2", "Error: `ocpp1.2' is an unexpected argument."),
        ("start_cs 9000 -x", "Error: `-x' is an unknown option."),
        ("start_cs 9000 -x 1", "Error: `-x' is an unknown option."),
        ("start_cs", "Error: missing argument <port>."),
        ("start_cs 9000 -u", "Error: option `-u' needs a value."),
        ("start_cp ws://127.0.0.1:1/x", "Error: missing argument <identifier>."),
        ("stop_cp", "Error: missing argument <identifier>."),
        ("heartbeat --remote-id cp01", "Error: `--remote-id' is an unknown option."),
        ("heartbeat cp01", "Error: `cp01' is an unexpected argument."),
        ("set cs", "Error: missing setting=value"),
        ("set xx ping=1", "Error: `xx' is neither cs nor cp."),
        ("send -n Heartbeat", "Error: missing option -p <payload>."),
        ("send -p {}", "Error: missing option -n <procedure name>."),
        ("remote_send_raw -e x --id cp01", "Error: `--id' is an unknown option."),
        ("send_raw", "Error: missing option -e <text>."),
    ],
)
def test_a_syntax_error_names_the_wrong_word_then_shows_the_usage(
    lines, line: str, problem: str
) -> None:
    start = lines.mark()
    run(Shell(), line)
    shown = lines.lines[start:]
    assert shown[0].startswith(problem), shown
    assert "syntax:" in shown[1], shown  # then the usage, as before


def test_a_command_with_help_shows_its_help_and_runs_nothing(lines) -> None:
    """`start_cs --help` at the prompt is `help start_cs`, not `--help' is an unknown option
    (and the Central System is not started)."""
    asked = output(lines, "start_cs 0 --help")
    assert asked == output(lines, "help start_cs")
    assert "listening" not in asked and "Error" not in asked
