"""`ocppsim fleet --password` against an `ocppsim start_cs --auth` process (HTTP Basic auth,
security profile 1), as CI runs it: right passwords connect and the run passes; wrong ones
are refused, counted by their HTTP status (401) in the summary and the report, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

from harness import free_port, run_fleet, start_cs


def test_a_fleet_with_passwords_against_a_central_system_with_basic_auth(tmp_path: Path) -> None:
    port = free_port()
    auth = ",".join(f"cp{n:05d}:s3cret-cp{n:05d}" for n in range(4))
    report = tmp_path / "report.json"
    wrong_report = tmp_path / "wrong.json"
    common = ("-p", "ocpp1.6", "--ramp", "0", "--sessions-per-hour", "0", "--duration", "2s")
    with start_cs(port, "-u", "/ocpp", "--auth", auth):
        url = f"ws://127.0.0.1:{port}/ocpp"
        right = run_fleet(url, "4", *common, "--password", "s3cret-{id}", "--report", str(report))
        wrong = run_fleet(
            url,
            "4",
            *common,
            "--workers",
            "2",
            "--backoff",
            "0.1,0.1,1",
            "--password",
            "guess",
            "--report",
            str(wrong_report),
        )
    assert right.returncode == 0, right.stdout + right.stderr
    data = json.loads(report.read_text())
    assert data["connections"]["connected"] == 4 and data["connections"]["refused"] == {}
    assert wrong.returncode == 1, wrong.stdout + wrong.stderr
    refused = json.loads(wrong_report.read_text())["connections"]["refused"]
    assert set(refused) == {"401"} and refused["401"] >= 4, refused
    assert "refused: 401×" in wrong.stdout
