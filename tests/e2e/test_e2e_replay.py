"""A session recorded by a real `ocppsim` process (`--record`), replayed with `ocppsim replay`
against other processes: the same Central System, and one changed on purpose by a plugin."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from harness import SimProcess, frame_re, free_port, ocppsim_command, start_cp, start_cs

PENDING_BOOT = """
from ocppsim.api import PluginApi

name = "Pending boot"
description = "Answers every BootNotification Pending"
system = "cs"


def on_load(api: PluginApi) -> None:
    pending = {"status": "Pending", "currentTime": "2024-01-01T00:00:00Z", "interval": 1200}
    api.on_call("BootNotification", lambda payload: pending)
    api.log("pending boot loaded")
"""


def replay(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*ocppsim_command(), "replay", *args],
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_a_recorded_session_replays_against_the_same_and_a_changed_central_system(
    tmp_path: Path,
) -> None:
    trace = tmp_path / "trace.jsonl"
    port = free_port()
    url = f"ws://127.0.0.1:{port}/ocpp"
    cs = SimProcess(["--record", str(trace), "start_cs", str(port), "-u", "/ocpp"], name="cs")
    with cs:
        cs.expect(rf"cs: Server is listening on port {port}\b")
        # stateless: the session is exactly what is typed (a model would boot and report)
        with start_cp(url, "cp01", "-p", "ocpp1.6", "--stateless") as cp:
            for command, action in (
                ("bootnotification", "BootNotification"),
                ("heartbeat", "Heartbeat"),
            ):
                cp.send(command)
                call = cp.expect(frame_re("cp#cp01", ">>", "cs", 2, action=action))
                cp.expect(frame_re("cp#cp01", "<<", "cs", 3, unique_id=call["uid"]))
        cs.expect(r"Disconnected \(1000 normal closure")
    header, *records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert header["options"]["record"] == str(trace)
    assert [r["action"] for r in records if r["event"] == "frame"] == ["BootNotification"] * 2 + [
        "Heartbeat"
    ] * 2

    port = free_port()
    with start_cs(port, "-u", "/ocpp") as same:
        report = tmp_path / "same.json"
        done = replay(
            str(trace), f"ws://127.0.0.1:{port}/ocpp", "--speed", "10", "--json", str(report)
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert done.stdout.splitlines()[0].endswith(": 4 frames, 2 exchanges, 0 differences")
        assert json.loads(report.read_text())["differences"] == []
        assert same.errors() == []

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "pending_boot.py").write_text(PENDING_BOOT)
    port = free_port()
    changed = SimProcess(["--plugins-dir", str(plugins), "start_cs", str(port), "-u", "/ocpp"])
    with changed:
        changed.expect(rf"cs: Server is listening on port {port}\b")
        changed.send("load pending_boot")
        changed.expect("pending boot loaded")
        report = tmp_path / "changed.json"
        done = replay(str(trace), f"ws://127.0.0.1:{port}/ocpp", "--json", str(report))
        assert done.returncode == 1, done.stdout + done.stderr
        lines = done.stdout.splitlines()
        assert lines[0].endswith("1 difference")
        assert lines[1].startswith("  step 1 cp#cp01 BootNotification (line ")
        assert lines[1].endswith(': status: recorded "Accepted", got "Pending"')
        (difference,) = json.loads(report.read_text())["differences"]
        assert (difference["path"], difference["got"]) == ("status", '"Pending"')

    done = replay(str(tmp_path / "changed.json"), "ws://127.0.0.1:9/")
    assert done.returncode == 2
    assert "not an ocppsim recording" in done.stderr
