"""`ocppsim fleet` with faults on purpose on a share of its charge points (`--fault KIND
--fraction 0.3`) and verdicts on the Central System's frames (`--verdicts`), in one process and
in worker processes (`--workers`), as CI runs it against an `ocppsim start_cs` process that
misbehaves on purpose."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from harness import free_port, run_fleet, start_cs

from ocppsim.fleet.options import fault_share


def _a_faulted_fleet(
    tmp_path: Path, *more: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str], Path]:
    """Run 10 charge points, 3 of them sending a Heartbeat before boot, with verdicts, against
    a Central System whose StatusNotification answers break their schema; return the run, the
    first CALL the Central System heard from each charge point, and the report's path."""
    port = free_port()
    report = tmp_path / "report.json"
    with start_cs(port, "-u", "/ocpp") as cs:
        cs.send("fault invalid-answer --cs --action StatusNotification")
        cs.expect(r"cs: fault set: answers that break their schema to every charge point")
        done = run_fleet(
            f"ws://127.0.0.1:{port}/ocpp",
            "10",
            "-p",
            "ocpp1.6",
            "--ramp",
            "0",
            "--seed",
            "5",
            "--duration",
            "3s",
            "--sessions-per-hour",
            "0",
            *more,
            "--fault",
            "send-before-boot",
            "--fault-option",
            "action=Heartbeat",
            "--fraction",
            "0.3",
            "--verdicts",
            "--report",
            str(report),
        )
        first: dict[str, str] = {}
        for line in cs.lines():
            found = re.search(r'<<cp#(cp\d+) \[2,"[^"]*","(\w+)"', line)
            if found:
                first.setdefault(found.group(1), found.group(2))
    return done, first, report


def test_a_fleet_with_a_fault_on_a_share_and_verdicts(tmp_path: Path) -> None:
    """3 of 10 charge points send a Heartbeat before their BootNotification (the Central
    System sees it first from those three only); the Central System's StatusNotification
    answers break their schema, and each is a verdict line with its frame, in the report,
    exit 1."""
    done, first, report = _a_faulted_fleet(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Fleet: fault send-before-boot on 3 of 10 charge points" in done.stderr
    assert sorted(first.values()).count("Heartbeat") == 3 and len(first) == 10
    verdicts = [x for x in done.stderr.splitlines() if ": verdict FAIL schema:" in x]
    assert {x.split(":")[0] for x in verdicts} == {f"cp#cp{n:05d}" for n in range(10)}
    assert "the answer to StatusNotification breaks its schema" in verdicts[0]
    assert verdicts[0].endswith('{"ocppsimFault":true}]')
    assert re.search(r"verdicts: \d+ finding\(s\), \d+ failure\(s\)", done.stdout)
    data = json.loads(report.read_text())
    assert data["verdicts"][0]["check"] == "schema" and data["verdicts"][0]["frame"]


def test_fleet_fault_options_that_cannot_work_exit_2() -> None:
    url = f"ws://127.0.0.1:{free_port()}/ocpp"
    unknown = run_fleet(url, "2", "--fault", "nonsense")
    assert unknown.returncode == 2 and "nonsense" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    lone = run_fleet(url, "2", "--fraction", "0.5")
    assert lone.returncode == 2 and "go with --fault KIND" in lone.stderr
    share = run_fleet(url, "2", "--fault", "drop", "--fraction", "2")
    assert share.returncode == 2 and "--fraction" in share.stderr
    option = run_fleet(url, "2", "--fault", "delay", "--fault-option", "colour=blue")
    assert option.returncode == 2 and "colour" in option.stderr


def test_workers_share_the_fault_and_send_their_verdicts_to_the_parent(tmp_path: Path) -> None:
    """The same fleet in 2 worker processes: the fault is on the same 3 charge points the
    fleet's seed picks in one process (each worker sets it on its share), and every worker's
    findings reach the parent: a line each, the summary's count, the report, exit 1."""
    done, first, report = _a_faulted_fleet(tmp_path, "--workers", "2")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Fleet: fault send-before-boot on 3 of 10 charge points" in done.stderr
    picked = {f"cp{n:05d}" for n in fault_share(10, 0.3, 5)}
    assert {cp for cp, action in first.items() if action == "Heartbeat"} == picked
    assert len(first) == 10
    shown = [x for x in done.stderr.splitlines() if ": verdict FAIL schema:" in x]
    # both workers' charge points (cp00000-cp00004, cp00005-cp00009)
    assert {x.split(":")[0] for x in shown} == {f"cp#cp{n:05d}" for n in range(10)}
    counted = re.search(r"verdicts: (\d+) finding\(s\), (\d+) failure\(s\)", done.stdout)
    assert counted is not None and int(counted.group(2)) >= 10, done.stdout
    data = json.loads(report.read_text())
    assert data["fleet"]["workers"] == 2
    assert len(data["verdicts"]) == int(counted.group(1))
    speakers = {v["speaker"] for v in data["verdicts"] if v["check"] == "schema"}
    assert speakers == {f"cp#cp{n:05d}" for n in range(10)}
