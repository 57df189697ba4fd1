"""`ocppsim fleet` headless, as CI runs it: the installed command against an `ocppsim start_cs`
process; its summary, its JSON report, its exit status, its frames only in --log-file, and
its errors for options that cannot work."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from harness import free_port, ocppsim_command, run_fleet, start_cs

BEHAVIOUR = """
from ocppsim.api import PluginApi

name = "Counting data transfer"
system = "cp"
seen: dict[str, int] = {}


def on_load(api: PluginApi) -> None:
    def data_transfer(payload, ctx):
        seen[ctx.charge_point_id] = seen.get(ctx.charge_point_id, 0) + 1
        return {"status": "Accepted", "data": str(seen[ctx.charge_point_id])}

    api.on_call("DataTransfer", data_transfer)
"""


def test_a_headless_fleet_reports_and_succeeds(tmp_path: Path) -> None:
    port = free_port()
    report = tmp_path / "report.json"
    frames = tmp_path / "frames.log"
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "counting.py").write_text(BEHAVIOUR)
    with start_cs(port, "-u", "/ocpp"):
        done = run_fleet(
            f"ws://127.0.0.1:{port}/ocpp",
            "20",
            "-p",
            "ocpp1.6",
            "--ramp",
            "0",
            "--seed",
            "11",
            "--duration",
            "3s",
            "--report",
            str(report),
            "--log-file",
            str(frames),
            "--behaviour",
            "counting",
            "--plugins-dir",
            str(plugins),
        )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Fleet: 20 charge points (ocpp1.6)" in out and "seed 11" in out
    assert "connections: 0 up, 0 connecting, 20 made, 0 lost" in out
    assert "BootNotification" in out and "p99 ms" in out
    assert f"report written to {report}" in out
    assert "[2," not in out  # no frame on the console
    assert "Fleet: 20 charge points (ocpp1.6)" in done.stderr  # the progress display
    data = json.loads(report.read_text())
    assert data["fleet"]["charge_points"] == 20 and data["fleet"]["seed"] == 11
    assert data["actions"]["BootNotification"]["count"] == 20
    assert data["actions"]["StatusNotification"]["count"] == 60
    assert data["calls"]["failed"] == 0 and data["errors"] == {}
    assert data["actions"]["BootNotification"]["latency_ms"]["p50"] > 0
    logged = frames.read_text()
    assert '"BootNotification"' in logged and "cp#cp00019: >>cs [2," in logged


def test_ctrl_c_stops_a_fleet_that_runs_without_a_duration(tmp_path: Path) -> None:
    port = free_port()
    with start_cs(port, "-u", "/ocpp") as cs:
        proc = subprocess.Popen(
            [*ocppsim_command(), "fleet", f"ws://127.0.0.1:{port}/ocpp", "4", "--ramp", "0"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for n in range(4):
                cs.expect(rf"ChargePoint #cp0000{n} connected", since=0)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, out + err
    assert "connections: 0 up, 0 connecting, 4 made, 0 lost" in out
    assert "Traceback" not in out + err


def test_a_fleet_whose_calls_fail_exits_1(tmp_path: Path) -> None:
    port = free_port()
    report = tmp_path / "r.json"
    with start_cs(port, "-u", "/ocpp", "-p", "ocpp2.0.1"):  # it does not serve 1.6
        done = run_fleet(
            f"ws://127.0.0.1:{port}/ocpp",
            "3",
            "-p",
            "ocpp1.6",
            "--duration",
            "1s",
            "--backoff",
            "0.1,0.1,1",
            "--report",
            str(report),
        )
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads(report.read_text())
    assert data["connections"]["refused"]["400"] >= 3
    assert data["connections"]["connected"] == 0


def test_bad_options_exit_2_with_a_reason(tmp_path: Path) -> None:
    cases = [
        (["ws://127.0.0.1:9/ocpp", "0"], "must be a whole number above 0, not `0'"),
        (["ws://127.0.0.1:9/ocpp", "2", "--ramp", "x"], "--ramp takes a number 0 or more"),
        (["ws://127.0.0.1:9/ocpp", "2", "-p", "ocpp9"], "unknown protocol `ocpp9'"),
        (
            ["ws://127.0.0.1:9/ocpp", "2", "--report", str(tmp_path / "no" / "r.json")],
            "--report",
        ),
        (
            ["ws://127.0.0.1:9/ocpp", "2", "--behaviour", "nothing_like_it", "--duration", "1"],
            "plugin `nothing_like_it' cannot be loaded",
        ),
    ]
    for args, message in cases:
        done = run_fleet(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout
