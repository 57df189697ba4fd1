"""The fleet on Locust, end to end: the shipped locustfile run by the installed `locust` command
(a master and two workers, and a standalone run) against an ocppsim Central System in another
process, on loopback. Locust is never imported here: it monkey-patches the process it runs in
for gevent, so it only runs in subprocesses."""

from __future__ import annotations

import csv
import functools
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import free_port, ocppsim_command, start_cs

from ocppsim.locust import locustfile_path

#: The actions a charging session of an OCPP 1.6 Charge Point sends.
SESSION_1X = (
    "BootNotification",
    "StatusNotification",
    "Authorize",
    "StartTransaction",
    "MeterValues",
    "StopTransaction",
)
#: Sessions that arrive and end within seconds, meter values every second: with seed 0, each
#: of the charge points 0, 1, 100000 and 100001 has ended a session 5 s after it started.
QUICK_SESSIONS = (
    "--sessions-per-hour",
    "3600",
    "--session-minutes",
    "0.05",
    "--meter-interval",
    "1",
    "--seed",
    "0",
)
#: The longest a Locust process may take (its own run time is bounded by -t or SIGTERM).
PROCESS_TIMEOUT = 120.0


@functools.cache
def shipped_locustfile() -> str:
    """What `ocppsim fleet --locustfile` prints."""
    done = subprocess.run(
        [*ocppsim_command(), "fleet", "--locustfile"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip()


def locust_command() -> list[str]:
    """`locust -f <the shipped locustfile>`, the `locust` installed next to this Python (the
    `locust` extra)."""
    found = Path(sys.executable).with_name("locust")
    if not os.access(found, os.X_OK):
        pytest.skip("locust is not installed here: pip install '.[locust]'")
    return [str(found), "-f", shipped_locustfile()]


class Locust:
    """One `locust` process, its output in a file."""

    def __init__(self, folder: Path, name: str, *options: str):
        self.log = folder / f"{name}.log"
        self._file = self.log.open("w", encoding="utf-8")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*locust_command(), *options],
            stdin=subprocess.DEVNULL,
            stdout=self._file,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env=env,
        )

    def wait(self, timeout: float = PROCESS_TIMEOUT) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._file.flush()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._file.close()


@pytest.fixture
def processes() -> Iterator[list[Locust]]:
    """The Locust processes of a test, killed at its end whatever happened."""
    started: list[Locust] = []
    yield started
    for process in started:
        process.stop()


def test_ocppsim_fleet_locustfile_prints_the_locustfile_of_the_installed_package() -> None:
    printed = Path(shipped_locustfile())
    assert printed == locustfile_path()
    assert printed.name == "locustfile.py" and printed.parent.name == "locust"
    assert "from ocppsim.locust.user import ChargePointUser" in printed.read_text(encoding="utf-8")


def stats_rows(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """A Locust `_stats.csv` by (type, name)."""
    with path.open(encoding="utf-8", newline="") as handle:
        return {(row["Type"], row["Name"]): row for row in csv.DictReader(handle)}


def test_a_master_and_two_workers_run_one_fleet_whose_csv_shows_every_action(
    tmp_path: Path, processes: list[Locust]
) -> None:
    port, master_port = free_port(), free_port()
    with start_cs(port, "-u", "/ocpp") as cs:
        for number in (1, 2):
            worker = Locust(
                tmp_path,
                f"worker{number}",
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                str(master_port),
            )
            processes.append(worker)
        master = Locust(
            tmp_path,
            "master",
            "--headless",
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            "2",
            "--expect-workers-max-wait",
            "60",
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "12s",
            "--host",
            f"ws://127.0.0.1:{port}/ocpp",
            "--protocol",
            "ocpp1.6",
            *QUICK_SESSIONS,
            "--csv",
            str(tmp_path / "fleet"),
        )
        processes.append(master)
        code = master.wait()
        for worker in processes[:2]:
            assert worker.wait(timeout=30) == 0, worker.output()[-3000:]
        assert code == 0, master.output()[-3000:]
        for process in processes:
            assert "Traceback" not in process.output(), process.output()[-3000:]
        # two users on each worker: numbered from 0 on worker 0 and from 100000 on worker 1
        for identity in ("cp00000", "cp00001", "cp100000", "cp100001"):
            cs.expect(rf"ChargePoint #{identity} connected \(protocol: ocpp1\.6\)", since=0)

    rows = stats_rows(tmp_path / "fleet_stats.csv")
    shown = "\n".join(",".join(list(row.values())[:4]) for row in rows.values())
    for action in SESSION_1X:
        assert int(rows[("ocpp1.6", action)]["Request Count"]) > 0, f"no {action}:\n{shown}"
    assert rows[("ocpp1.6", "BootNotification")]["Request Count"] == "4", shown
    assert rows[("ws", "connect")]["Request Count"] == "4", shown
    assert all(row["Failure Count"] == "0" for row in rows.values()), shown
    with (tmp_path / "fleet_failures.csv").open(encoding="utf-8") as handle:
        assert len(handle.read().strip().splitlines()) == 1  # the header only


def test_a_callerror_is_a_failure_by_its_code_and_a_reset_reboots_the_charge_point(
    tmp_path: Path, processes: list[Locust]
) -> None:
    port = free_port()
    booted = r'cs: <<cp#cp00000 \[2,"[^"]*","BootNotification"'
    with start_cs(port, "-u", "/ocpp") as cs:
        cs.send("fault callerror --cs --action Authorize --code SecurityError")
        cs.expect(r"fault set: CALLERROR SecurityError")
        run = Locust(
            tmp_path,
            "standalone",
            "--headless",
            "-u",
            "1",
            "-r",
            "1",
            "-t",
            "90s",
            "--host",
            f"ws://127.0.0.1:{port}/ocpp",
            "--protocol",
            "ocpp2.0.1",
            *QUICK_SESSIONS,
            "--backoff",
            "0.1,0.1,1",
            "--only-summary",
        )
        processes.append(run)
        cs.expect(booted, timeout=30)
        cs.expect(r'cs: >>cp#cp00000 \[4,"[^"]*","SecurityError"', timeout=30)
        # the station answers the Reset from its state, closes its link, dials again, boots
        mark = cs.send("remote_reset --remote-id cp00000 type=Immediate")
        cs.expect(r'cs: <<cp#cp00000 \[3,"[^"]*",\{"status":"Accepted"', since=mark)
        cs.expect(r"ChargePoint #cp00000 connected")
        cs.expect(booted)
        # a link the Central System closes: the station dials again after its back-off
        cs.send("fault close --remote-id cp00000 --after 0")
        cs.expect(r"ChargePoint #cp00000 connected")
        run.proc.send_signal(signal.SIGTERM)
        run.wait()
        cs.expect_none(r"Traceback")
    summary = run.output()
    assert re.search(r"\n\s*\d+\s+ocpp2\.0\.1 Authorize: SecurityError\s*\n", summary), summary
    assert re.search(r"\nws\s+connect\s+3\s+0\(0\.00%\)", summary), summary
    assert re.search(r"\nocpp2\.0\.1\s+BootNotification\s+2\s+0\(0\.00%\)", summary), summary
    assert "Traceback" not in summary, summary


def test_profile_2_charge_points_connect_over_tls_and_a_refused_one_is_a_failed_connect(
    tmp_path: Path, processes: list[Locust]
) -> None:
    certs = tmp_path / "certs"
    made = subprocess.run(
        [*ocppsim_command(), "certs", str(certs)], capture_output=True, text=True, timeout=60
    )
    assert made.returncode == 0, made.stdout + made.stderr
    port = free_port()
    tls = ("--tls-cert", str(certs / "server.pem"), "--tls-key", str(certs / "server.key"))
    # only cp00000 has a password at the Central System: cp00001 is refused (HTTP 401)
    with start_cs(port, "-u", "/ocpp", *tls, "--auth", "cp00000:right-password-0123") as cs:
        run = Locust(
            tmp_path,
            "tls",
            "--headless",
            "-u",
            "2",
            "-r",
            "2",
            "-t",
            "90s",
            "--host",
            f"wss://127.0.0.1:{port}/ocpp",
            "--ca",
            str(certs / "ca.pem"),
            "--password",
            "right-password-0123",
            "-p",
            "ocpp1.6",
            "--sessions-per-hour",
            "0",
            "--only-summary",
        )
        processes.append(run)
        cs.expect(r"ChargePoint #cp00000 connected \(protocol: ocpp1\.6, profile 2\)", timeout=30)
        cs.expect(r'cs: <<cp#cp00000 \[2,"[^"]*","BootNotification"')
        cs.expect(r"connection of #cp00001 refused \(HTTP 401 Unauthorized\)", since=0)
        run.proc.send_signal(signal.SIGTERM)
        run.wait()
    summary = run.output()
    assert re.search(r"\n\s*\d+\s+ws connect: HTTP 401\s*\n", summary), summary
    assert re.search(r"\nocpp1\.6\s+BootNotification\s+1\s+0\(0\.00%\)", summary), summary
    assert "Traceback" not in summary, summary
