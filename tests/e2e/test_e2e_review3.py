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
