"""What a new user at the command line met in the review of issues 13 and 14: each test is
the command as typed and what it should say."""

from __future__ import annotations

import subprocess

from harness import ocppsim_command


def test_a_command_s_help_option_shows_its_help_and_exits() -> None:
    """`ocppsim start_cs --help`, as every other command line takes it, was an error (`--help'
    is an unknown option) and a syntax dump: now it is `help start_cs`, exit status 0."""
    done = subprocess.run(
        [*ocppsim_command(), "start_cs", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("start_cs <port> "), done.stdout
    assert "  --accept-tags <list|@file>" in done.stdout
    assert "Example:\n  start_cs 9000" in done.stdout
    assert "unknown option" not in done.stdout + done.stderr


def test_check_refuses_a_url_it_can_never_reach_before_running_a_case(tmp_path) -> None:
    """`ocppsim check http://…` ran every case, each an ERROR `OcppSimError: Error: invalid
    URL …(add -t soap …)` (an option check does not have), exit status 1: the command is
    wrong, so it is one error line and exit status 2, as for any bad option."""
    done = subprocess.run(
        [*ocppsim_command(), "check", "http://127.0.0.1:9/ocpp", "--suite", "csms"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert done.stderr.strip().endswith(
        "ocppsim check: error: http://127.0.0.1:9/ocpp: ocppsim check speaks OCPP-J: the URL"
        " starts with ws:// or wss://"
    ), done.stderr


def test_check_refuses_a_report_it_cannot_write_before_running_a_case(tmp_path) -> None:
    """A --junit or --json file that cannot be written was found out after the whole suite
    had run (a minute in CI): now at once, exit status 2, no case run."""
    for flag in ("--junit", "--json"):
        done = subprocess.run(
            [*ocppsim_command(), "check", "ws://127.0.0.1:9/ocpp", "--suite", "csms"]
            + [flag, str(tmp_path / "missing" / "out")],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stdout == "", done.stdout  # no case ran
        assert f"ocppsim check: {flag} {tmp_path}/missing/out: No such file or directory" in (
            done.stderr
        )
