"""What the operator sees of a Charge Point's life over real WebSockets on 127.0.0.1: a start
that fails for good, stopping, raw CALLs answered, connections lost with their close code."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.server import serve

from ocppsim.core.errors import OcppSimError
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.simulator import CommandError, Simulator
from ocppsim.transport import ConnectFailed
from ocppsim.transport.ws.client import open_connection


async def _start_cs(sim: Simulator, **options) -> CentralSystem:
    cs = CentralSystem(0, host="127.0.0.1", behaviour=sim.cs_behaviour, **options)
    sim.add_central_system(cs)
    await cs.start()
    return cs


def _start_cp(sim: Simulator, url: str, cp_id: str) -> ChargePoint:
    cp = ChargePoint(url, cp_id, behaviour=sim.cp_behaviour)
    sim.add_charge_point(cp)
    cp.start()
    return cp


async def _free_port() -> int:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = int(probe.sockets[0].getsockname()[1])
    probe.close()
    await probe.wait_closed()
    return port


def test_a_charge_point_whose_start_failed_for_good_is_forgotten(lines) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        _start_cp(sim, f"ws://127.0.0.1:{cs.port}/wrong", "cpA")
        await lines.wait_for(r"cp#cpA: Connect Error: 404 Not Found\. Wrong endpoint URL\.$")
        await lines.wait_for(r"cp#cpA: Charge point removed: fix its URL or options")
        assert sim.charge_points == {}
        with pytest.raises(CommandError, match="no charge point is running"):
            await sim.cp_call(None, "Heartbeat", [])
        # the same id starts again, and a shortened command finds it
        _start_cp(sim, f"ws://127.0.0.1:{cs.port}/ocpp", "cpA")
        await lines.wait_for(r"cp#cpA: Connected to Central System\.")
        assert "currentTime" in await sim.cp_call(None, "Heartbeat", [])
        await sim.shutdown()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "url, reason",
    [
        ("ws://127.0.0.1:99999/x", "port 99999 is not a number from 1 to 65535"),
        ("ws://127.0.0.1:0/x", "port 0 is not a number from 1 to 65535"),
        ("ws://127.0.0.1:abc/x", "port abc is not a number from 1 to 65535"),
        ("http://127.0.0.1:9000/x", "a websocket URL starts with ws:// or wss:// (add -t soap"),
        ("ftp://127.0.0.1/x", "a websocket URL starts with ws:// or wss://"),
        ("ws:///x", "it names no host"),
        ("ws://127.0.0.1/x y", "it contains a blank"),
    ],
)
def test_a_url_that_can_never_work_is_an_error_at_once(url: str, reason: str) -> None:
    with pytest.raises(OcppSimError) as refused:
        ChargePoint(url, "cp")
    assert str(refused.value).startswith(f"Error: invalid URL {url!r}: {reason}")

    async def dial() -> ConnectFailed:
        with pytest.raises(ConnectFailed) as failed:
            await open_connection(url + "/cp", "ocpp1.5")
        return failed.value

    failed = asyncio.run(dial())
    assert failed.retry is False and reason in failed.reason


def test_stop_a_connected_and_a_retrying_charge_point_then_the_central_system(
    lines, monkeypatch
) -> None:
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "30")

    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        port = cs.port
        _start_cp(sim, f"ws://127.0.0.1:{port}/ocpp", "cp01")
        await lines.wait_for(r"cs: ChargePoint #cp01 connected")
        retrying = _start_cp(sim, f"ws://127.0.0.1:{await _free_port()}/ocpp", "cp02")
        await lines.wait_for(r"cp#cp02: Connect Error: .* Retry in 30 seconds \.\.\.")
        # two CPs, one connected: a shortened command goes to that one
        assert "currentTime" in await sim.cp_call(None, "Heartbeat", [])
        # a command to the retrying one says when the next try is
        with pytest.raises(
            CommandError,
            match=r"^Error: cp#cp02 is not connected \(reconnecting, next try in (30|29) s\)\.$",
        ):
            await sim.cp_call("cp02", "Heartbeat", [])

        await sim.stop_charge_point("cp02")
        await lines.wait_for(r"cp#cp02: Charge point stopped\.")
        assert "cp02" not in sim.charge_points and retrying._task is not None
        assert retrying._task.done()

        await sim.stop_charge_point("cp01")
        await lines.wait_for(r"cp#cp01: Charge point stopped\.")
        # the CS saw it leave, and why
        await lines.wait_for(
            r"cp#cp01: Disconnected \(1000 normal closure: charge point stopped\)$"
        )
        assert sim.charge_points == {}
        with pytest.raises(CommandError, match="charge point #cp01 does not exist"):
            await sim.stop_charge_point("cp01")

        await sim.stop_central_system()
        await lines.wait_for(r"^\S+ \S+ CentralSystem stopped\.$")
        assert sim.central_system is None
        # the port is free again: a new Central System listens on it
        cs2 = CentralSystem(port, host="127.0.0.1", behaviour=sim.cs_behaviour)
        sim.add_central_system(cs2)
        await cs2.start()
        assert cs2.port == port
        await sim.shutdown()

    asyncio.run(scenario())


def test_the_answer_to_a_raw_call_is_taken_as_an_answer(lines) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        _start_cp(sim, f"ws://127.0.0.1:{cs.port}/ocpp", "cp1")
        await lines.wait_for(r"cs: ChargePoint #cp1 connected")
        start = lines.mark()
        await sim.remote_send_raw(None, '[2,"abc","ClearCache",{}]', False)
        await lines.wait_for(r'cs: <<cp#cp1 \[3,"abc",\{"status":"Accepted"\}\]', start)
        # a raw CALL the peer refuses: its CALLERROR is an answer too
        await sim.cp_send_raw(None, '[2,"xyz","NoSuchAction",{}]', False)
        await lines.wait_for(r'cp#cp1: <<cs \[4,"xyz","NotImplemented"', start)
        # one more round trip: whatever was logged about "abc" or "xyz" is logged by now
        await sim.remote_call(None, "ClearCache", [])
        assert not lines.matching("no pending CALL", start)
        assert [line for line in lines.problems(start) if "NotImplemented" not in line] == []
        assert not sim.central_system.peers["cp1"].session.pending
        await sim.shutdown()

    asyncio.run(scenario())


def test_a_raw_call_answer_is_checked_against_its_action_and_other_text_is_sent_as_is(
    lines,
) -> None:
    async def cs(ws) -> None:
        async for text in ws:
            frame = json.loads(text) if text.startswith("[") else None
            if frame and frame[0] == 2 and frame[2] == "Heartbeat":
                await ws.send(json.dumps([3, frame[1], {"currentTime": 5}]))
            elif frame and frame[0] == 2:
                await ws.send(json.dumps([3, frame[1], {"anything": True}]))

    async def scenario() -> None:
        async with serve(cs, "127.0.0.1", 0, subprotocols=["ocpp1.5"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            sim = Simulator()
            await _start_cp(sim, f"ws://127.0.0.1:{port}", "cp1").ready()
            start = lines.mark()
            await sim.cp_send_raw("cp1", '[2,"r1","Heartbeat",{}]', False)
            await lines.wait_for(
                r"cp#cp1: WARNING : TypeConstraintViolation for CALLRETURN #r1 "
                r"\(currentTime: 5 is not of type",
                start,
            )
            # an action OCPP does not have: its answer is taken, nothing to check it against
            await sim.cp_send_raw("cp1", '[2,"r2","Custom",{}]', False)
            await lines.wait_for(r'cp#cp1: <<cs \[3,"r2",\{"anything":true\}\]', start)
            await sim.cp_send_raw("cp1", "not a frame", False)
            await lines.wait_for(r"cp#cp1: >>cs not a frame$", start)
            problems = [line for line in lines.problems(start) if "#r1" not in line]
            assert problems == [] and not lines.matching("can't be processed", start)
            await sim.shutdown()

    asyncio.run(scenario())


def test_a_call_whose_connection_closes_before_the_answer_says_why(lines, monkeypatch) -> None:
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "30")

    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        cp = _start_cp(sim, f"ws://127.0.0.1:{cs.port}/ocpp", "big")
        await cp.ready()
        start = lines.mark()
        huge = {"vendorId": "x", "data": "a" * 5_000_000}  # more than the CS's 4 MB frames
        with pytest.raises(CommandError) as failed:
            await sim.cp_call("big", "DataTransfer", payload=huge)
        assert str(failed.value).startswith(
            "Error: DataTransfer: no answer: connection closed (1009 message too big"
        )
        assert lines.matching(r"cp#big: >>cs \[2,\"\w+\",\"DataTransfer\"", start)  # it went out
        await lines.wait_for(
            r"cp#big: Connection lost \(1009 message too big: .*\), retry in 30 seconds\.", start
        )
        with pytest.raises(CommandError, match=r"cp#big is not connected \(reconnecting, next"):
            await sim.cp_call("big", "Heartbeat", [])
        await sim.shutdown()

    asyncio.run(scenario())


def test_a_soap_charge_point_that_cannot_listen_is_forgotten_and_bad_urls_refused(lines) -> None:
    with pytest.raises(OcppSimError, match=r"invalid URL 'http://127\.0\.0\.1:99999/': port"):
        ChargePoint("http://127.0.0.1:99999/", "s1", transport="soap")

    async def scenario() -> None:
        busy = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = busy.sockets[0].getsockname()[1]
        sim = Simulator()
        cp = ChargePoint(
            "http://127.0.0.1:9/", "s1", transport="soap", remote_port=port, host="127.0.0.1"
        )
        sim.add_charge_point(cp)
        cp.start()
        await lines.wait_for(r"cp#s1: Charge point removed: fix its URL or options")
        assert sim.charge_points == {}
        busy.close()
        await busy.wait_closed()
        await sim.shutdown()
        await cp.stop()

    asyncio.run(scenario())
