"""Replaying a recording (`ocppsim.sim.replay`) against a target over OCPP-J and SOAP: no
difference against the same peer, the expected one against a peer changed on purpose, in
both roles; assigned transaction ids carried into later frames."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ocppsim.core import events
from ocppsim.core.errors import CallError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import Call
from ocppsim.core.trace import load
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.record import record
from ocppsim.sim.replay import ReplayError, replay

TRANSPORTS = ["websocket", "soap"]


def run(coro: Any, timeout: float = 90) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def url_of(cs: CentralSystem) -> str:
    return cs.url


def cp_options(transport: str) -> dict[str, Any]:
    return {"host": "127.0.0.1"} if transport == "soap" else {}


async def charge_point_session(cp: ChargePoint) -> None:
    """What the recorded charge point does: boot, heartbeat, a whole transaction."""
    await cp.call("BootNotification")
    await cp.call("Heartbeat")
    started = await cp.call(
        "StartTransaction",
        {"connectorId": 1, "idTag": "TAG1", "meterStart": 0, "timestamp": "2024-01-01T00:00:00Z"},
    )
    await cp.call(
        "StopTransaction",
        {
            "transactionId": started["transactionId"],
            "meterStop": 1500,
            "timestamp": "2024-01-01T01:00:00Z",
        },
    )


async def make_recording(transport: str, path: Path) -> None:
    """Record a session between an ocppsim CS and CP: the CP's CALLs and a CS Reset."""
    bus = EventBus()
    async with CentralSystem(0, transport=transport, host="127.0.0.1", bus=bus) as cs:
        with record(path, cs):
            async with ChargePoint(
                cs.url, "cp01", transport=transport, version="1.6", bus=bus, **cp_options(transport)
            ) as cp:
                await charge_point_session(cp)
                assert (await cs.call("cp01", "Reset", {"type": "Soft"}))["status"] == "Accepted"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_replay_as_cp_against_the_same_central_system_finds_no_difference(
    transport: str, tmp_path: Path
) -> None:
    path = tmp_path / "trace.jsonl"

    async def scenario() -> None:
        await make_recording(transport, path)
        heard: list[Any] = []
        async with CentralSystem(
            0, transport=transport, host="127.0.0.1", bus=EventBus(heard.append)
        ) as cs:

            def start(payload: Any) -> Any:
                answer = {"transactionId": 4242, "idTagInfo": {"status": "Accepted"}}
                answer["idTagInfo"].update(expiryDate="2030-01-01T00:00:00Z", parentIdTag="PARENT")
                return answer

            cs.on_call("StartTransaction", start)
            report = await replay(load(path), cs.url, speed=20)
            assert report.differences == [], report.lines()
            assert report.steps == 4 and report.frames == 8
            assert report.lines()[0].endswith("8 frames, 4 exchanges, 0 differences")
            # the transaction id the CS assigned now went into StopTransaction
            (stop,) = [
                e.message.payload
                for e in heard
                if isinstance(e, events.FrameReceived)
                and isinstance(e.message, Call)
                and e.message.action == "StopTransaction"
            ]
            assert stop["transactionId"] == 4242
            # recorded date-times move by the time since the recording started
            assert stop["timestamp"] == "2024-01-01T01:00:00Z"  # recorded a moment ago
            lines = path.read_text(encoding="utf-8").splitlines()
            header = json.loads(lines[0])
            header["started"] = "2023-01-01T00:00:00.000Z"  # as if recorded long ago
            path.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
            heard.clear()
            assert (await replay(load(path), cs.url, speed=20)).differences == []
            (moved,) = [
                e.message.payload
                for e in heard
                if isinstance(e, events.FrameReceived)
                and isinstance(e.message, Call)
                and e.message.action == "StopTransaction"
            ]
            assert moved["timestamp"] > "2025-01-01T01:00:00Z"

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_replay_as_cp_against_a_changed_central_system_names_the_difference(
    transport: str, tmp_path: Path
) -> None:
    path = tmp_path / "trace.jsonl"

    async def scenario() -> None:
        await make_recording(transport, path)
        async with CentralSystem(0, transport=transport, host="127.0.0.1", bus=EventBus()) as cs:
            cs.on_call(
                "BootNotification",
                lambda payload: {
                    "status": "Pending",
                    "currentTime": "2024-01-01T00:00:00Z",
                    "interval": 1200,
                },
            )

            def refuse(payload: Any) -> Any:
                raise CallError("NotSupported", "no heartbeats here")

            cs.on_call("Heartbeat", refuse)
            report = await replay(load(path), cs.url, speed=20)
            shown = [d.shown() for d in report.differences]
            assert len(shown) == 2, report.lines()
            assert shown[0].startswith("step 1 cp#cp01 BootNotification (line ")
            assert shown[0].endswith(': status: recorded "Accepted", got "Pending"')
            assert shown[1].startswith("step 2 cp#cp01 Heartbeat (line ")
            assert 'recorded CALLRESULT {"currentTime":' in shown[1]
            assert shown[1].endswith("got CALLERROR NotSupported (no heartbeats here)")
            assert report.as_dict()["differences"][0]["path"] == "status"

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_replay_as_cs_plays_the_central_system_to_a_charge_point(
    transport: str, tmp_path: Path
) -> None:
    path = tmp_path / "trace.jsonl"

    async def against(reset_answer: str | None) -> Any:
        """Replay as the CS; an ocppsim CP connects and does what the recorded one did."""
        async with CentralSystem(0, transport=transport, host="127.0.0.1") as probe:
            port = probe.port  # a port that was free a moment ago
        scheme = "ws" if transport == "websocket" else "http"
        listen = f"{scheme}://127.0.0.1:{port}/ocpp"
        listening = asyncio.Event()

        def heard(event: Any) -> None:
            if isinstance(event, events.ServerStarted):
                listening.set()

        playing = asyncio.create_task(
            replay(load(path), listen, role="cs", speed=20, wait=20, bus=EventBus(heard))
        )
        await listening.wait()
        cp = ChargePoint(
            listen,
            "cp01",
            transport=transport,
            version="1.6",
            bus=EventBus(),
            **cp_options(transport),
        )
        if reset_answer is not None:
            cp.on_call("Reset", lambda payload: {"status": reset_answer})
        await cp.__aenter__()
        try:
            boot = await cp.call("BootNotification")
            assert boot["status"] == "Accepted"  # the recorded answer
            started = await cp.call(
                "StartTransaction",
                {
                    "connectorId": 1,
                    "idTag": "TAG1",
                    "meterStart": 0,
                    "timestamp": "2024-01-01T00:00:00Z",
                },
            )
            await cp.call("Heartbeat")
            await cp.call(
                "StopTransaction",
                {
                    "transactionId": started["transactionId"],
                    "meterStop": 1,
                    "timestamp": "2024-01-01T00:00:00Z",
                },
            )
            return await playing
        finally:
            await cp.stop()

    async def scenario() -> None:
        await make_recording(transport, path)
        same = await against(None)
        assert same.differences == [], same.lines()
        assert same.steps == 5  # 4 CALLs answered, the Reset sent
        changed = await against("Rejected")
        (difference,) = changed.differences
        assert (difference.action, difference.path) == ("Reset", "status")
        assert (difference.recorded, difference.got) == ('"Accepted"', '"Rejected"')

    run(scenario())


def test_a_difference_at_an_exchange_a_fault_changed_says_so(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"

    async def scenario() -> None:
        bus = EventBus()
        async with CentralSystem(0, host="127.0.0.1", bus=bus) as cs:
            with record(path, cs):
                async with ChargePoint(cs.url, "cp01", version="2.0.1", bus=bus) as cp:
                    cs.fault("callerror", code="SecurityError", times=1)
                    with pytest.raises(CallError):
                        await cp.call("Heartbeat")
            report = await replay(load(path), cs.url, speed=50)
        (difference,) = report.differences
        assert difference.fault is not None and "CALLERROR SecurityError" in difference.fault
        assert "[recorded with fault: " in difference.shown()
        assert difference.recorded == "CALLERROR SecurityError (injected by ocppsim)"

    run(scenario())


def test_replays_that_cannot_run_say_why(tmp_path: Path) -> None:
    path = tmp_path / "trace.jsonl"

    async def scenario() -> None:
        await make_recording("websocket", path)
        trace = load(path)
        with pytest.raises(ReplayError, match="has no charge point cp09 \\(it has cp01\\)"):
            await replay(trace, "ws://127.0.0.1:9/", charge_point_ids=["cp09"])
        with pytest.raises(ReplayError, match="could not connect"):
            await replay(trace, "ws://127.0.0.1:9/")
        with pytest.raises(ReplayError, match="--as cs listens at ws://host:port/path"):
            await replay(trace, "wss://127.0.0.1:9000/", role="cs")
        with pytest.raises(ReplayError, match="--speed must be above 0"):
            await replay(trace, "ws://127.0.0.1:9/", speed=0)

    run(scenario())
