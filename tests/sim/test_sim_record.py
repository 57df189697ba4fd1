"""Recording a session (`ocppsim.sim.record`): every frame, with what a replay and a reader
need, over OCPP-J and SOAP, faults marked; `record start|stop` at the prompt."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from ocppsim_testing import Lines

from ocppsim import __version__
from ocppsim.core.events import EventBus
from ocppsim.repl.shell import Shell
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.peer import CallTimeout
from ocppsim.sim.record import record


def run(coro: Any, timeout: float = 60) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


async def session(transport: str, path: Path, *, xml: bool = False) -> None:
    """A CS and a CP of one process, both recorded: a boot, a fault, a CS CALL."""
    bus = EventBus()
    cs = CentralSystem(0, transport=transport, host="127.0.0.1", bus=bus)
    await cs.start()
    scheme = "ws" if transport == "websocket" else "http"
    extra = {"host": "127.0.0.1"} if transport == "soap" else {}
    with record(path, cs, xml=xml, options={"why": "test"}) as recorder:
        cp = ChargePoint(
            f"{scheme}://127.0.0.1:{cs.port}/",
            "cp01",
            transport=transport,
            version="1.6",
            bus=bus,
            **extra,
        )
        cp.start()
        await cp.ready()
        assert cp.peer is not None
        await cp.call("BootNotification")
        cs.fault("callerror", code="NotSupported", times=1)
        with pytest.raises(Exception):  # noqa: B017 - the CALLERROR chosen
            await cp.call("Heartbeat")
        cs.fault("drop", times=1)
        cp.peer.timeout = 0.3
        with pytest.raises(CallTimeout):
            await cp.call("Heartbeat")
        await cs.call("cp01", "ClearCache")
        await cp.stop()
        assert recorder.frames >= 12
    await cs.stop()


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_every_frame_is_a_line_with_what_a_replay_needs(transport: str, tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"
    run(session(transport, path, xml=transport == "soap"))
    header, *records = read(path)
    assert header["record"] == "ocppsim-trace" and header["format"] == 1
    assert header["ocppsim"] == __version__ and header["options"] == {"why": "test"}
    assert header["started"].endswith("Z")
    frames = [r for r in records if r["event"] == "frame"]
    boot = [f for f in frames if f.get("action") == "BootNotification"]
    # both ends of the link: the CP sends, the CS receives and answers, the CP receives
    assert [(f["speaker"], f["dir"], f["type"]) for f in boot] == [
        ("cp#cp01", "sent", "CALL"),
        ("cs", "received", "CALL"),
        ("cs", "sent", "CALLRESULT"),
        ("cp#cp01", "received", "CALLRESULT"),
    ]
    for each in boot:
        assert each["chargePointId"] == "cp01" and each["version"] == "1.6"
        assert each["transport"] == transport and each["id"] == boot[0]["id"]
        assert isinstance(each["t"], float) and each["time"].endswith("Z")
    assert boot[2]["payload"]["status"] == "Accepted"
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
    if transport == "soap":
        assert boot[0]["id"].startswith("urn:uuid:")  # MessageID, RelatesTo of the answer
        assert boot[0]["text"].startswith("/BootNotification {")
        assert "<soap:Envelope" in boot[0]["xml"]
    else:
        assert "xml" not in boot[0] and "text" not in boot[0]
    # the CALLERROR a fault sent is marked; so is the answer it dropped (a fault line)
    (refused,) = [f for f in frames if f["type"] == "CALLERROR" and f["speaker"] == "cs"]
    assert (refused["code"], refused["action"]) == ("NotSupported", "Heartbeat")
    assert refused["fault"]["kind"] == "callerror"
    faults = [r for r in records if r["event"] == "fault"]
    assert [f["kind"] for f in faults] == ["callerror", "drop"]
    assert [r["event"] for r in records if r["event"].startswith("fault-")] == [
        "fault-set",
        "fault-over",
        "fault-set",
        "fault-over",
    ]
    (timeout,) = [r for r in records if r["event"] == "timeout"]
    assert (timeout["speaker"], timeout["action"]) == ("cp#cp01", "Heartbeat")
    assert timeout["id"] == faults[1]["id"]
    clear = [f for f in frames if f.get("action") == "ClearCache"]
    assert [(f["speaker"], f["type"]) for f in clear] == [
        ("cs", "CALL"),
        ("cp#cp01", "CALL"),
        ("cp#cp01", "CALLRESULT"),
        ("cs", "CALLRESULT"),
    ]
    events = [r["event"] for r in records]
    assert "connected" in events and "disconnected" in events


def test_record_at_the_prompt_starts_stops_and_says_so(tmp_path: Path, lines: Lines) -> None:
    path = tmp_path / "prompt.jsonl"

    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            await shell.execute("record")
            await shell.execute("record stop")
            await shell.execute(f"record start {path}")
            await shell.execute(f"record start {path}")
            await shell.execute("start_cs 0")
            port = shell.sim.central_system.port
            await shell.execute(f"start_cp ws://127.0.0.1:{port} cp01 -p ocpp2.0.1")
            await lines.wait_for(r"cs: ChargePoint #cp01 connected")
            await shell.execute("heartbeat")
            await shell.execute("record")
            await shell.execute("record stop")
            await shell.execute("heartbeat")
            await shell.execute(f"record start {tmp_path}/no/such/dir.jsonl")
            await shell.execute("record begin")
        finally:
            await shell.sim.shutdown()

    start = lines.mark()
    run(scenario())
    said = [line for line in lines.lines[start:] if not line.startswith("[")]
    assert said[:4] == [
        "Not recording (record start <file> starts).",
        "Error: nothing is being recorded (record start <file> starts).",
        f"Recording every frame to {path}.",
        f"Error: already recording to {path} (record stop stops it).",
    ]
    assert "Recording to " in said[4] and "frames so far." in said[4]
    assert said[5].startswith("Recording stopped: ") and said[5].endswith(f"frames in {path}.")
    assert said[6].startswith(f"Error: cannot record to {tmp_path}/no/such/dir.jsonl: ")
    assert "Error: use record start <file> [--xml], record stop or record." in said
    records = read(path)
    heartbeats = [r for r in records if r.get("action") == "Heartbeat" and r["event"] == "frame"]
    assert len(heartbeats) == 4  # the first heartbeat, both ends; not the second one
    assert all(r["version"] == "2.0.1" for r in heartbeats)
