"""The prompt's own lines: help, errors of every kind, the command line (SPEC §1, §3)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from ocppsim import __version__
from ocppsim.core import versions


def ocppsim(*args: str, stdin: str = "", timeout: float = 30) -> subprocess.CompletedProcess:
    exe = shutil.which("ocppsim")
    command = [exe] if exe else [sys.executable, "-m", "ocppsim"]
    return subprocess.run(
        [*command, *args], input=stdin, capture_output=True, text=True, timeout=timeout
    )


STAMP = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "


def test_errors_at_the_prompt_never_stop_it() -> None:
    lines = "\n".join(
        [
            "help",
            "foo",
            "start_cs",
            "start_cp",
            "set",
            "set cs websocket_ping_interval=abc",
            "remote_reset",
            "heartbeat",
            "send",
            "bootnotification --id",
            "bootnotification --id nope",
            "authorize nosuchfield=1",
            'send_raw -e "unclosed',
            "plugins",
            "quit",
            "help",  # never reached
        ]
    )
    out = ocppsim(stdin=lines + "\n")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Traceback" not in text + out.stderr
    assert " - remote_starttransaction" in text and " - quit" in text
    assert "Error: `foo' unknown command. Type help for more informations." in text
    assert re.search(
        STAMP + r'Error in command "start_cs", syntax: start_cs <port>\n'
        r"With optional arguments:\n  -i : websocket ping interval, default: 300\n"
        r"  -u : endpoint URL, default: /\n"
        r"  -p : websocket subprotocol, default: "
        + re.escape(",".join(versions.subprotocols("websocket")))
        + r"\n",
        text,
    )
    assert 'Error in command "start_cp", syntax: start_cp <url> <identifier>' in text
    assert "  -p : websocket subprotocol, default: ocpp1.5" in text
    assert 'Error in command "set", syntax: set <cs|cp>' in text
    assert "Error: argument provided for websocket_ping_interval is not a number." in text
    assert text.count("Error: no Central System is running: start one with start_cs.") == 1
    no_cp = "Error: no charge point is running: start one with start_cp <url> <id>."
    assert text.count(no_cp) == 2  # heartbeat, authorize
    assert 'Error for command "send": syntax: send -n <procedure name> -p <payload>' in text
    assert 'Error in command "bootnotification", syntax: bootnotification\n' in text
    assert "  --id : id of charge point" in text
    assert "Error: charge point #nope does not exist." in text
    assert "Error: cannot read the line: unclosed quote" in text
    assert text.rstrip().endswith("End of simulation : interrupted by user.")
    assert text.count("Available commands") == 1


def test_end_of_input_ends_cleanly() -> None:
    out = ocppsim(stdin="")
    assert out.returncode == 0
    assert re.search(STAMP + "End of simulation : interrupted by user.", out.stdout)


def test_command_line_runs_one_command_then_the_prompt() -> None:
    out = ocppsim("start_cs", "0", "-u", "/ocpp", stdin="start_cs 0\nquit\n")
    assert out.returncode == 0
    assert re.search(STAMP + "CentralSystem started.", out.stdout)
    assert re.search(STAMP + r"cs: Server is listening on port \d+", out.stdout)
    assert "Error: Central System already started (stop_cs stops it)." in out.stdout


@pytest.mark.parametrize(
    "args, expected",
    [
        (["start_cs"], 'Error in command "start_cs", syntax: start_cs <port>'),
        (["start_cs", "9000", "-x", "1"], 'Error in command "start_cs"'),
        (["nosuch"], "Error: `nosuch' unknown command."),
        (["start_cs", "notaport"], "Error: invalid port `notaport'."),
        (  # an option of ocppsim itself, given after the command: say where it goes
            ["start_cs", "9000", "--log-file", "x.log"],
            "Error: `--log-file' is an option of ocppsim itself, not of a command: it goes"
            " before the command (ocppsim --log-file … start_cs …).",
        ),
    ],
)
def test_command_line_errors_exit_non_zero(args: list[str], expected: str) -> None:
    out = ocppsim(*args)
    assert out.returncode != 0
    assert expected in out.stdout


def test_usage_lines_point_at_help_and_show_no_empty_section() -> None:
    """A syntax error ends with where to read more; a command without options shows no
    empty `With optional arguments:` header."""
    out = ocppsim(stdin="stop_cp\nheartbeat -x\nset\nquit\n")
    text = out.stdout
    assert re.search(
        STAMP + r'Error in command "stop_cp", syntax: stop_cp <identifier>\n'
        r"Type help stop_cp for an example\.\n",
        text,
    ), text
    assert "Type help heartbeat for its options, payload fields and an example." in text
    assert "Type help set for an example." in text
    assert not re.search(r"With optional arguments:\n(?!  )", text), text


def test_a_word_given_twice_or_glued_to_its_option_is_named() -> None:
    """`--id a --id b` used b, `idTag=a idTag=b` sent b, silently; `--id=cp01` did not say
    that options take their value after a blank."""
    lines = [
        "heartbeat --id cpA --id cpB",
        "authorize idTag=a idTag=b",
        "send -n Heartbeat -p {} -p {}",
        "heartbeat --id=cpA",
        "quit",
    ]
    text = ocppsim(stdin="\n".join(lines) + "\n").stdout
    assert "Error: option `--id' is given twice." in text, text
    assert "Error: field `idTag' is given twice." in text
    assert "Error: option `-p' is given twice." in text
    assert "Error: `--id=cpA' is an unknown option (its value follows a blank: --id cpA)." in text
    assert "no charge point is running" not in text  # refused before looking for one


def test_a_soap_from_url_that_cannot_work_is_refused_at_once() -> None:
    """`-f notaurl` listened on port 80 and told the Central System to call `notaurl`."""
    lines = [
        "start_cp http://127.0.0.1:9/ocpp cpA -t soap -f notaurl",
        "start_cp http://127.0.0.1:9/ocpp cpB -t soap -f http://127.0.0.1:99999/cb",
        "quit",
    ]
    out = ocppsim(stdin="\n".join(lines) + "\n")
    text = out.stdout
    assert (
        "Error: invalid -f URL 'notaurl': the URL must start with http:// or https://." in text
    ), text
    assert "Error: invalid -f URL 'http://127.0.0.1:99999/cb': port 99999 is not a number" in text
    assert "listening" not in text and "cp#cpA" not in text and "cp#cpB" not in text


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--log-file", "/nonexistent-dir/sim.log"], "--log-file /nonexistent-dir/sim.log: "),
        (["--plugins-dir", "/nonexistent-dir"], "--plugins-dir /nonexistent-dir: no such folder"),
    ],
)
def test_start_options_that_cannot_work_are_usage_errors(args: list[str], expected: str) -> None:
    """A log file that cannot be written was a traceback; a plugins folder that does not
    exist was taken silently (a typo and `load` says the plugin does not exist)."""
    out = ocppsim(*args, "start_cs", "0", stdin="quit\n")
    assert out.returncode == 2
    assert "Traceback" not in out.stderr + out.stdout
    assert expected in out.stderr, out.stderr
    assert "CentralSystem started" not in out.stdout


def test_version_and_help() -> None:
    assert ocppsim("--version").stdout.strip() == f"ocppsim {__version__}"
    help_text = ocppsim("--help").stdout
    for word in ("--log-file", "--log-format", "--plugins-dir", "--with-attr-at", "start_cs"):
        assert word in help_text


def test_json_log_format_and_log_file(tmp_path) -> None:
    log_file = tmp_path / "sim.log"
    out = ocppsim(
        "--log-format", "json", "--log-file", str(log_file), "start_cs", "0", stdin="quit\n"
    )
    events = [json.loads(line) for line in out.stdout.splitlines()]
    started = [
        e
        for e in events
        if e.get("message")
        == "Server is listening on port " + e.get("message", "").rsplit(" ", 1)[-1]
    ]
    assert started and started[0]["speaker"] == "cs" and started[0]["direction"] is None
    assert events[-1]["message"] == "End of simulation : interrupted by user."
    assert [json.loads(line) for line in log_file.read_text().splitlines()] == events


def test_piped_lines_run_in_order_each_waiting_for_the_one_before() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = "\n".join(
        [
            f"start_cs {port}",
            f"start_cp ws://127.0.0.1:{port} cp1",
            "heartbeat",
            "set cp websocket_ping_interval=abc",
            "authorize",
            "quit",
        ]
    )
    out = ocppsim(stdin=script + "\n").stdout
    heartbeat = out.index('<<cs [3,"')
    error = out.index("Error: argument provided for websocket_ping_interval is not a number.")
    authorize = out.index('"Authorize",{"idTag":"B4F62CEF"}]')
    assert heartbeat < error < authorize, out


def test_ping_intervals_must_be_sane_and_ids_not_empty() -> None:
    script = "\n".join(
        [
            "start_cs 0 -i nan",
            "start_cs 0 -i 0.001",
            "start_cs 0 -i inf",
            'start_cp ws://127.0.0.1:1 ""',
            "start_cs 0 -i 0.5",
            "set cs websocket_ping_interval=1e400",
            "set cs websocket_ping_interval=0",
            "quit",
        ]
    )
    text = ocppsim(stdin=script + "\n").stdout
    assert text.count("Error: argument provided for websocket_ping_interval is not a number.") == 3
    assert text.count("must be 0 (off) or at least 0.1 seconds") == 1
    assert "Error: the charge point identifier must not be empty." in text
    assert text.count("CentralSystem started.") == 1


def test_record_options_that_cannot_work_are_usage_errors(tmp_path) -> None:
    out = ocppsim("--record", str(tmp_path / "no" / "such.jsonl"), "start_cs", "0")
    assert out.returncode == 2 and "--record " in out.stderr and "No such file" in out.stderr
    out = ocppsim("--record-xml", "start_cs", "0")
    assert out.returncode == 2 and "--record-xml goes with --record FILE" in out.stderr
    out = ocppsim("replay", "--help")
    assert out.returncode == 0 and "--as {cp,cs}" in out.stdout and "--speed" in out.stdout


def test_the_process_options_the_prompt_points_before_the_command_are_the_clis() -> None:
    """repl's list of the `ocppsim` command's own options is the parser's."""
    from ocppsim.cli import _parser
    from ocppsim.repl.commands import PROCESS_OPTIONS

    flags = {
        flag
        for action in _parser()._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag not in ("--help", "--version")
    }
    assert flags == PROCESS_OPTIONS


def test_a_mistyped_command_names_the_command_probably_meant() -> None:
    """`remote_reste` and `help hearbeat` keep the original's line and add the command that
    is probably meant; a word like no command adds nothing."""
    text = ocppsim(stdin="remote_reste\nhelp hearbeat\nfoo\nquit\n").stdout
    assert (
        "Error: `remote_reste' unknown command. Type help for more informations."
        " Did you mean remote_reset?" in text
    )
    assert "Did you mean heartbeat?" in text
    assert "Error: `foo' unknown command. Type help for more informations.\n" in text


def test_a_bare_word_after_an_ocpp_command_is_shown_as_the_field_it_probably_is() -> None:
    """`authorize 12345` said only that 12345 is an unexpected argument: the line shows how
    fields are written, with the message's first required field."""
    text = ocppsim(stdin="authorize 12345\nremote_reset Hard\nheartbeat now\nquit\n").stdout
    assert (
        "Error: `12345' is an unexpected argument (payload fields are name=value: idTag=12345)."
        in text
    )
    assert "(payload fields are name=value: type=Hard)." in text
    assert "Error: `now' is an unexpected argument.\n" in text  # Heartbeat has no fields


def test_reuse_port_needs_a_port_and_a_websocket_central_system() -> None:
    out = ocppsim(stdin="start_cs 0 --reuse-port\nstart_cs 0 -t soap --reuse-port\nquit\n")
    text = out.stdout
    assert "Error: --reuse-port needs a port (other processes share it)." in text
    assert "Error: --reuse-port is for a websocket Central System." in text
    assert "CentralSystem started" not in text


def test_start_cs_answer_options_accept_tags_vendor_ids_and_stateless(tmp_path) -> None:
    """`--accept-tags @file` accepts only those tags (case-insensitive), `--vendor-ids` serves
    more vendorIds; `--stateless` answers every CALL with the default; lists and files that
    cannot be read are refused with a line that says why."""
    import socket

    def port() -> int:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])

    tags = tmp_path / "tags.txt"
    tags.write_text("# the badges we hand out\nOURS-1, ours-2\n", encoding="utf-8")
    strict, plain = port(), port()
    script = [
        f"start_cs {strict} -u /ocpp --accept-tags @{tags} --vendor-ids org.acme",
        f"start_cp ws://127.0.0.1:{strict}/ocpp cp1 -p ocpp1.6 --stateless",
        "authorize idTag=OURS-2",
        "authorize idTag=B4F62CEF",
        "datatransfer vendorId=org.acme",
        "datatransfer vendorId=org.other",
        "quit",
    ]
    strict_out = ocppsim(stdin="\n".join(script)).stdout
    answers = re.findall(r"cp#cp1: <<cs \[3,\"\w+\",(.*)\]$", strict_out, re.M)
    assert [json.loads(a).get("idTagInfo", {}).get("status") for a in answers[:2]] == [
        "Accepted",
        "Invalid",
    ], answers
    assert [json.loads(a)["status"] for a in answers[2:]] == ["Accepted", "UnknownVendorId"]
    assert "cs: accepting 2 idTag(s) only (--accept-tags): any other is Invalid" in strict_out

    script = [
        f"start_cs {plain} -u /ocpp --stateless",
        f"start_cp ws://127.0.0.1:{plain}/ocpp cp1 -p ocpp1.6 --stateless",
        "authorize idTag=INVALID-1",
        "starttransaction",
        "starttransaction",
        "datatransfer vendorId=org.other",
        "quit",
    ]
    answers = re.findall(
        r"cp#cp1: <<cs \[3,\"\w+\",(.*)\]$", ocppsim(stdin="\n".join(script)).stdout, re.M
    )
    assert json.loads(answers[0])["idTagInfo"]["status"] == "Accepted"
    assert [json.loads(a)["transactionId"] for a in answers[1:3]] == [1, 1]
    assert json.loads(answers[3])["status"] == "Accepted"

    errors = ocppsim(
        stdin=f"start_cs 0 --accept-tags @{tmp_path / 'none.txt'}\n"
        "start_cs 0 --vendor-ids ,\nstart_cs 0 --stateless --accept-tags A\nquit\n"
    ).stdout
    assert f"Error: cannot read the idTag file {tmp_path / 'none.txt'}: No such file" in errors
    assert "Error: the list names no vendorId." in errors
    assert "Error: --stateless answers every CALL with the default payload: it takes no" in errors
    assert "CentralSystem started" not in errors
