"""Drive real `ocppsim` processes through their stdin (the original's test framework, SPEC §9).

A `SimProcess` runs the installed `ocppsim` command with piped stdin/stdout, collects every
output line in a background thread, and lets a test `send()` a command line and `expect()` a
log line matching a regex: synchronisation is always on log lines, never on sleeps.

    cs = start_cs(port, "-u", "/ocpp")
    cp = start_cp(f"ws://127.0.0.1:{port}/ocpp", "cp01", "-p", "ocpp1.5")
    cp.send("heartbeat")
    call = cp.expect(frame_re("cp#cp01", ">>", "cs", 2, action="Heartbeat"))
    cp.expect(frame_re("cp#cp01", "<<", "cs", 3, unique_id=call["uid"]))
    assert cp.errors() == []
    cp.close(); cs.close()
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

# the original's "test your Central System" check lives in the package, for users too
from ocppsim.testing import check_central_system  # noqa: F401

DEFAULT_TIMEOUT = 10.0

#: the last line a simulator prints on `quit` (SPEC §1)
END_OF_SIMULATION = "End of simulation : interrupted by user."

#: what the original's tests failed on (SPEC §9), plus warnings, Python tracebacks and the
#: error codes OCPP 2.x adds
ERROR_RE = re.compile(
    r"\bError\b|(?i:\berror:)|\bWARNING\b|Traceback \(most recent call last\)"
    r"|\b(?:NotImplemented|NotSupported|InternalError|ProtocolError|SecurityError"
    r"|FormationViolation|PropertyConstraintViolation|OccurenceConstraintViolation"
    r"|TypeConstraintViolation|GenericError"
    r"|FormatViolation|OccurrenceConstraintViolation|RpcFrameworkError|MessageTypeNotSupported)\b"
)

#: `[2024-01-31 12:00:00] ` at the start of a log line (maybe after a `> ` prompt)
TIMESTAMP_RE = re.compile(r"\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\] ")


def ocppsim_command() -> list[str]:
    """The installed `ocppsim` console script, else `python -m ocppsim`."""
    found = shutil.which("ocppsim")
    if found is None:
        candidate = os.path.join(os.path.dirname(sys.executable), "ocppsim")
        if os.access(candidate, os.X_OK):
            found = candidate
    return [found] if found else [sys.executable, "-m", "ocppsim"]


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1 (good enough for tests)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def frame_re(
    speaker: str,
    direction: str,
    peer: str,
    message_type: int,
    *,
    action: str | None = None,
    unique_id: str | None = None,
) -> str:
    """Regex of a frame log line, e.g. `cp#cp01: >>cs [2,"<uid>","Heartbeat",`.

    The unique id is captured as group `uid`; `speaker` is `cs` or `cp#<id>`, `peer` is
    `cs` or `cp#<id>`, `direction` is `>>` (sent) or `<<` (received).
    """
    uid = re.escape(unique_id) if unique_id is not None else r'[^"]*'
    pattern = (
        rf'{re.escape(speaker)}: {re.escape(direction + peer)} \[{message_type},"(?P<uid>{uid})",'
    )
    if action is not None:
        pattern += rf'"{re.escape(action)}",'
    return pattern


def frame_of(line: str) -> list[Any]:
    """The JSON frame of a `… >>peer [..]` / `… <<peer [..]` log line."""
    found = re.search(r"(?:>>|<<)\S* (\[.*\])\s*$", line)
    assert found, f"not a frame log line: {line}"
    frame = json.loads(found[1])
    assert isinstance(frame, list), line
    return frame


class ExpectTimeout(AssertionError):
    """No line matched within the timeout; the message shows what was seen."""


class SimProcess:
    """One `ocppsim` subprocess: a line-by-line conversation over stdin/stdout."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        name: str = "ocppsim",
        env: dict[str, str] | None = None,
        command: Sequence[str] | None = None,
        goodbye: str | None = END_OF_SIMULATION,
    ):
        """Start `ocppsim <args>` (or `<command> <args>` for another program, e.g. node).

        `goodbye` is the last line `close()` waits for after `quit` (None: only the exit).
        """
        self.name = name
        self.goodbye = goodbye
        prefix = list(command) if command is not None else ocppsim_command()
        self.args = [*prefix, *args]
        full_env = dict(os.environ)
        full_env.update({"PYTHONUNBUFFERED": "1", "TERM": "dumb", "NO_COLOR": "1"})
        if env:
            full_env.update(env)
        self._lines: list[str] = []
        self._new = threading.Condition()
        self._cursor = 0
        self._eof = False
        self.proc = subprocess.Popen(
            self.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env=full_env,
        )
        self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
        self._reader.start()

    # -- plumbing ---------------------------------------------------------------------
    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.rstrip("\r\n")
            with self._new:
                self._lines.append(line)
                self._new.notify_all()
        with self._new:
            self._eof = True
            self._new.notify_all()

    # -- conversation -----------------------------------------------------------------
    def send(self, line: str) -> int:
        """Type one command line; returns the mark of the output that follows it."""
        mark = self.mark()
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return mark

    def mark(self) -> int:
        """Index of the next output line (for `expect(since=…)` and `errors(since=…)`)."""
        with self._new:
            return len(self._lines)

    def expect(
        self,
        pattern: str | re.Pattern[str],
        timeout: float = DEFAULT_TIMEOUT,
        *,
        since: int | None = None,
    ) -> re.Match[str]:
        """Wait for a line matching `pattern` (re.search) and return the match.

        The search starts after the line of the previous `expect()` (like pexpect), or at
        `since` when given; the line found becomes the new starting point.
        """
        regex = re.compile(pattern)
        position = self._cursor if since is None else since
        deadline = time.monotonic() + timeout
        with self._new:
            while True:
                while position < len(self._lines):
                    found = regex.search(self._lines[position])
                    position += 1
                    if found:
                        self._cursor = position
                        return found
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._eof:
                    break
                self._new.wait(remaining)
        state = "exited" if self._eof else "still running"
        tail = "\n".join(self._lines[-25:])
        raise ExpectTimeout(
            f"{self.name} ({state}): no line matching {regex.pattern!r} within {timeout}s; "
            f"last lines:\n{tail}"
        )

    def expect_none(self, pattern: str | re.Pattern[str], *, since: int = 0) -> None:
        """Assert that no line seen so far (from `since`) matches `pattern`."""
        regex = re.compile(pattern)
        hits = [line for line in self.lines()[since:] if regex.search(line)]
        assert not hits, f"{self.name}: unexpected lines matching {regex.pattern!r}: {hits}"

    def lines(self) -> list[str]:
        """Every output line seen so far."""
        with self._new:
            return list(self._lines)

    def errors(self, since: int = 0, *, ignore: Sequence[str] = ()) -> list[str]:
        """Lines (from `since`) that show an error, warning or OCPP error code.

        `ignore` lists regexes of lines a test expects (e.g. a CALLERROR it provoked).
        """
        ignored = [re.compile(p) for p in ignore]
        return [
            line
            for line in self.lines()[since:]
            if ERROR_RE.search(line) and not any(p.search(line) for p in ignored)
        ]

    @property
    def running(self) -> bool:
        return self.proc.poll() is None

    def close(self, timeout: float = DEFAULT_TIMEOUT) -> int:
        """`quit`, wait for the goodbye line and the exit (kill after `timeout`); the exit code."""
        if self.proc.poll() is None:
            try:
                self.send("quit")
                if self.goodbye is not None:
                    self.expect(re.escape(self.goodbye), timeout=timeout, since=0)
            except (BrokenPipeError, OSError, ExpectTimeout):
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        return self.proc.returncode

    def kill(self) -> None:
        """Stop the process at once (teardown of a failed test)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.close(timeout=5)

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def run_fleet(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """`ocppsim fleet <args>` headless, as CI runs it, to its end: exit status and output."""
    return subprocess.run(
        [*ocppsim_command(), "fleet", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_cs(port: int, *options: str, timeout: float = DEFAULT_TIMEOUT) -> SimProcess:
    """`ocppsim start_cs <port> …`, returned once it listens."""
    sim = SimProcess(["start_cs", str(port), *options], name=f"cs:{port}")
    try:
        sim.expect(rf"cs: Server is listening on port {port}\b", timeout=timeout)
    except BaseException:
        sim.kill()
        raise
    return sim


def start_cp(url: str, cp_id: str, *options: str, timeout: float = DEFAULT_TIMEOUT) -> SimProcess:
    """`ocppsim start_cp <url> <id> …`, returned once connected to its Central System."""
    sim = SimProcess(["start_cp", url, cp_id, *options], name=f"cp#{cp_id}")
    try:
        sim.expect(r"Connected to Central System( \(profile \d\))?\.", timeout=timeout)
    except BaseException:
        sim.kill()
        raise
    return sim


#: CP command -> action, per version (SPEC §3; DataTransfer from 1.5 on)
CP_COMMANDS: dict[str, dict[str, str]] = {
    "1.2": {
        "bootnotification": "BootNotification",
        "heartbeat": "Heartbeat",
        "metervalues": "MeterValues",
        "starttransaction": "StartTransaction",
        "stoptransaction": "StopTransaction",
        "statusnotification": "StatusNotification",
        "authorize": "Authorize",
        "firmwarestatusnotification": "FirmwareStatusNotification",
        "diagnosticsstatusnotification": "DiagnosticsStatusNotification",
    }
}
CP_COMMANDS["1.5"] = {**CP_COMMANDS["1.2"], "datatransfer": "DataTransfer"}
#: 1.6: the 1.5 commands and the security whitepaper's (`signcertificate`, …), as the registry
#: names them
CP_COMMANDS["1.6"] = {
    **CP_COMMANDS["1.5"],
    "securityeventnotification": "SecurityEventNotification",
    "signcertificate": "SignCertificate",
    "logstatusnotification": "LogStatusNotification",
    "signedfirmwarestatusnotification": "SignedFirmwareStatusNotification",
}


def soap_carries(version: str, service: str, action: str) -> bool:
    """True when `version` has `action` over SOAP (1.6's security actions are OCPP-J only)."""
    from ocppsim.core import versions

    return versions.get(version).carries("soap", service, action)


def cp_commands(version: str) -> dict[str, str]:
    """CP command -> action of `version`: the list above, else the version registry's."""
    if version in CP_COMMANDS:
        return CP_COMMANDS[version]
    from ocppsim.core import versions

    actions = versions.get(version).actions["cs"]
    return {versions.command_name("cs", action): action for action in actions}
