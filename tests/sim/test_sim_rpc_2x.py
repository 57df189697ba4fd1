"""The RPC framework of OCPP-J 2.0.1 and 2.1 between a Central System (CSMS) and Charging
Stations over real WebSockets on 127.0.0.1: 2.1's SEND (logged, handed to the handlers, never
answered, even while a CALL is out) and CALLRESULTERROR (a CALLRESULT that breaks its schema is
refused back, the CSMS logs it), and the CALLERRORs 2.x sends for frames it cannot read."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import pytest
from ocppsim_testing import Lines, needs_version

from ocppsim.core import events
from ocppsim.core.errors import OcppSimError
from ocppsim.core.rpc import Send
from ocppsim.repl.console import JsonFormatter
from ocppsim.sim.behaviour import Context
from ocppsim.sim.calls import InvalidMessage
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.log import LogConsumer
from ocppsim.sim.simulator import CommandError, Simulator

STREAM = {"id": 7, "pending": 0, "basetime": "2024-01-01T00:00:00Z", "data": [{"t": 0, "v": "42"}]}


async def _pair(sim: Simulator, lines: Lines, protocol: str, cp_id: str = "cs21") -> ChargePoint:
    """A CS of `sim` on 127.0.0.1 and one charge point of `protocol` connected to it."""
    cs = CentralSystem(
        0, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, bus=sim.bus
    )
    sim.add_central_system(cs)
    await cs.start()
    cp = ChargePoint(
        f"ws://127.0.0.1:{cs.port}/ocpp",
        cp_id,
        version=protocol,
        behaviour=sim.cp_behaviour,
        bus=sim.bus,
    )
    sim.add_charge_point(cp)
    mark = lines.mark()
    cp.start()
    await lines.wait_for(rf"cs: ChargePoint #{cp_id} connected", mark)
    await cp.ready()
    return cp


def _frames(lines: Lines, speaker: str, direction: str, start: int) -> list[list[Any]]:
    """The frames `speaker` logged as sent (`>>`) or received (`<<`) since `start`."""
    found = []
    for line in lines.lines[start:]:
        head, _, frame = line.partition(f"{speaker}: {direction}")
        if frame:
            found.append(json.loads(frame.split(" ", 1)[1]))
    return found


@needs_version("2.1")
def test_a_send_goes_to_the_handlers_and_nothing_answers_it(lines: Lines) -> None:
    """CP → CSMS: `[6,…]` logged on both sides, the CSMS's on_send handler gets the payload and
    the charge point, and nothing comes back (the next CALL's answer is the only frame)."""

    async def scenario() -> None:
        sim = Simulator()
        heard: list[tuple[Any, str]] = []

        def on_stream(payload: Any, ctx: Context) -> dict[str, Any]:
            heard.append((payload, ctx.charge_point_id))
            return {"ignored": True}  # a SEND is never answered: not sent

        sim.cs_behaviour.on_send("NotifyPeriodicEventStream", on_stream)
        await _pair(sim, lines, "ocpp2.1")
        start = lines.mark()
        send = await sim.cp_send("cs21", "NotifyPeriodicEventStream", payload=STREAM)
        assert isinstance(send, Send) and len(send.unique_id) == 32
        frame = [6, send.unique_id, "NotifyPeriodicEventStream", STREAM]
        await lines.wait_for(r'cs: <<cp#cs21 \[6,"', start)
        assert _frames(lines, "cp#cs21", ">>", start) == [frame]
        assert _frames(lines, "cs", "<<", start) == [frame]
        await sim.cp_call("cs21", "Heartbeat", [])
        assert heard == [(STREAM, "cs21")]
        received = _frames(lines, "cp#cs21", "<<", start)
        assert [f[0] for f in received] == [3]  # the Heartbeat's CALLRESULT, nothing else
        assert [f[0] for f in _frames(lines, "cs", ">>", start)] == [3]
        assert lines.problems(start) == []
        await sim.shutdown()

    asyncio.run(scenario())


@needs_version("2.1")
def test_a_send_goes_while_a_call_is_out(lines: Lines) -> None:
    """OCPP-J 2.1 §4.2.5: a SEND may be sent while the sender's CALL waits: here the CALL's
    answer waits for the SEND (the CSMS's Heartbeat handler holds it until the stream came)."""

    async def scenario() -> None:
        sim = Simulator()
        streamed = asyncio.Event()

        async def heartbeat(payload: Any) -> None:
            await asyncio.wait_for(streamed.wait(), 10)

        sim.cs_behaviour.on_call("Heartbeat", heartbeat)
        sim.cs_behaviour.on_send("NotifyPeriodicEventStream", lambda payload: streamed.set())
        await _pair(sim, lines, "ocpp2.1")
        start = lines.mark()
        call = asyncio.create_task(sim.cp_call("cs21", "Heartbeat", []))
        await lines.wait_for(r'cs: <<cp#cs21 \[2,"[^"]+","Heartbeat"', start)
        await sim.cp_send("cs21", "NotifyPeriodicEventStream", [])
        result = await asyncio.wait_for(call, 10)
        assert result["currentTime"].endswith("Z")
        assert lines.problems(start) == []
        await sim.shutdown()

    asyncio.run(scenario())


@needs_version("2.1")
def test_a_send_that_breaks_its_schema_is_reported_handed_on_and_not_answered(
    lines: Lines,
) -> None:
    async def scenario() -> None:
        sim = Simulator()
        heard: list[Any] = []
        sim.cs_behaviour.on_send("NotifyPeriodicEventStream", heard.append)
        await _pair(sim, lines, "ocpp2.1")
        start = lines.mark()
        send = await sim.cp_send("cs21", "NotifyPeriodicEventStream", payload={"id": 1})
        await lines.wait_for(
            rf"cs: WARNING : OccurrenceConstraintViolation for SEND #{send.unique_id}"
            r" \(pending: missing \(required\)\)",
            start,
        )
        await sim.cp_call("cs21", "Heartbeat", [])
        assert heard == [{"id": 1}]
        assert [f[0] for f in _frames(lines, "cs", ">>", start)] == [3]  # the Heartbeat's only
        await sim.shutdown()

    asyncio.run(scenario())


@needs_version("2.1")
def test_a_callresulterror_round_trip(lines: Lines) -> None:
    """A CSMS handler answers BootNotification with a status 2.1 does not have: the Charging
    Station warns as before, sends `[5,<the CALLRESULT's id>,…]`, still takes the result; the
    CSMS logs the error about its CALLRETURN and answers nothing."""

    async def scenario() -> None:
        sim = Simulator()
        bad = {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Bogus"}
        sim.cs_behaviour.on_call("BootNotification", lambda payload: bad)
        await _pair(sim, lines, "ocpp2.1")
        start = lines.mark()
        result = await sim.cp_call("cs21", "BootNotification", [])
        assert result == bad
        reason = "status: 'Bogus' is not one of Accepted, Pending, Rejected"
        line = await lines.wait_for(r"cp#cs21: WARNING : PropertyConstraintViolation", start)
        uid = _frames(lines, "cp#cs21", ">>", start)[0][1]
        assert line.endswith(f"for CALLRETURN #{uid} ({reason})")
        rejection = [5, uid, "PropertyConstraintViolation", reason, {"field": "status"}]
        await lines.wait_for(
            rf"cs: Error: PropertyConstraintViolation for our CALLRETURN #{uid} to"
            rf" BootNotification \({reason}\)",
            start,
        )
        assert _frames(lines, "cp#cs21", ">>", start)[1:] == [rejection]
        assert _frames(lines, "cs", "<<", start)[1:] == [rejection]
        await sim.cp_call("cs21", "Heartbeat", [])
        assert [f[0] for f in _frames(lines, "cp#cs21", "<<", start)] == [3, 3]  # none for [5]
        # a [5,…] about an id the CSMS never answered is not called one of its answers
        await sim.cp_send_raw("cs21", '[5,"nope","GenericError","which?",{}]', False)
        await lines.wait_for(
            r"cs: Error: GenericError for CALLRETURN #nope, none we sent lately \(which\?\)", start
        )
        await sim.shutdown()

    asyncio.run(scenario())


def test_201_sends_no_callresulterror_and_refuses_one(lines: Lines) -> None:
    """2.0.1 has no message type 5: a bad CALLRESULT is only a warning, and a `[5,…]` it
    receives is answered with MessageTypeNotSupported under its id (§4.4)."""

    async def scenario() -> None:
        sim = Simulator()
        bad = {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Bogus"}
        sim.cs_behaviour.on_call("BootNotification", lambda payload: bad)
        await _pair(sim, lines, "ocpp2.0.1", "cs201")
        start = lines.mark()
        await sim.cp_call("cs201", "BootNotification", [])
        await lines.wait_for(r"cp#cs201: WARNING : PropertyConstraintViolation", start)
        assert [f[0] for f in _frames(lines, "cp#cs201", ">>", start)] == [2]
        await sim.cp_send_raw("cs201", '[5,"r1","GenericError","why",{}]', False)
        await lines.wait_for(
            r"cs: WARNING : MessageTypeNotSupported for message #r1 \(message type 5"
            r" \(CALLRESULTERROR\) is not an OCPP 2\.0\.1 message type \(2, 3, 4\)\)",
            start,
        )
        await lines.wait_for(r'cp#cs201: <<cs \[4,"r1","MessageTypeNotSupported",', start)
        await sim.shutdown()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    "protocol", ["ocpp2.0.1", pytest.param("ocpp2.1", marks=needs_version("2.1"))]
)
def test_2x_answers_a_frame_it_cannot_read_with_id_minus_one(lines: Lines, protocol: str) -> None:
    async def scenario() -> None:
        sim = Simulator()
        await _pair(sim, lines, protocol)
        start = lines.mark()
        await sim.cp_send_raw("cs21", "this is no json", False)
        reason = "not JSON (Expecting value: line 1 column 1 (char 0))"
        await lines.wait_for(
            rf"cs: WARNING : RpcFrameworkError for message #-1 \({re.escape(reason)}\)", start
        )
        await lines.wait_for(r'cp#cs21: <<cs \[4,"-1","RpcFrameworkError",', start)
        assert _frames(lines, "cs", ">>", start) == [[4, "-1", "RpcFrameworkError", reason, {}]]
        await sim.shutdown()

    asyncio.run(scenario())


@needs_version("2.1")
def test_21_ignores_an_unknown_message_type(lines: Lines) -> None:
    async def scenario() -> None:
        sim = Simulator()
        await _pair(sim, lines, "ocpp2.1")
        start = lines.mark()
        await sim.cp_send_raw("cs21", '[7,"x",{}]', False)
        await lines.wait_for(
            r"cs: WARNING : message type 7 is not an OCPP 2\.1 message type \(2, 3, 4, 5, 6\):"
            r" message ignored",
            start,
        )
        await sim.cp_call("cs21", "Heartbeat", [])
        assert [f[0] for f in _frames(lines, "cs", ">>", start)] == [3]
        await sim.shutdown()

    asyncio.run(scenario())


def test_a_version_without_send_says_so(lines: Lines) -> None:
    async def scenario() -> None:
        sim = Simulator()
        await _pair(sim, lines, "ocpp2.0.1", "cs201")
        with pytest.raises(
            CommandError,
            match=r"^Error: OCPP 2\.0\.1 has no SEND \(message type 6\);"
            r" send_raw sends any frame\.$",
        ):
            await sim.cp_send("cs201", "NotifyPeriodicEventStream", payload=STREAM)
        with pytest.raises(CommandError, match="`NotifyPeriodicEventStream' is not available"):
            await sim.cp_send("cs201", "NotifyPeriodicEventStream", [])
        await sim.shutdown()

    asyncio.run(scenario())


# -- the log ------------------------------------------------------------------------------------


def test_the_json_log_names_each_frames_message_type() -> None:
    """`type`: the message's, or the one a raw OCPP-J text starts with; null for others."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    logger = logging.getLogger("ocppsim.sim")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.INFO)
    try:
        consume = LogConsumer()
        send = Send("s1", "NotifyPeriodicEventStream", STREAM)
        consume(events.FrameSent("cp#a", "cs", "websocket", send.to_frame(), send.to_frame(), send))
        raw = '[5,"r1","GenericError","why",{}]'
        consume(events.FrameSent("cs", "cp#a", "websocket", raw, raw))
        consume(events.FrameReceived("cs", "cp#a", "websocket", "junk", "junk"))
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)
    rendered = [json.loads(JsonFormatter().format(record)) for record in records]
    assert [(r["direction"], r["type"]) for r in rendered] == [
        ("sent", "SEND"),
        ("sent", "CALLRESULTERROR"),
        ("received", None),
    ]
    assert rendered[0]["frame"] == send.to_frame()


# -- the public API -----------------------------------------------------------------------------


@needs_version("2.1")
def test_the_public_api_sends_and_hears_a_send(lines: Lines) -> None:
    """`cp.send` (checked against the schema unless validate=False), `cs.on_send`, and
    `cs.wait_for` sees the SEND like a CALL."""

    async def scenario() -> None:
        async with CentralSystem(host="127.0.0.1", endpoint="/ocpp") as cs:
            heard: list[Any] = []

            @cs.on_send("NotifyPeriodicEventStream")
            def stream(payload: Any, ctx: Context) -> None:
                heard.append((payload["id"], ctx.charge_point_id))

            async with ChargePoint(cs.url, "cp21", version="2.1") as cp:
                uid = await cp.send("NotifyPeriodicEventStream", {"id": 3})
                received = await cs.wait_for("NotifyPeriodicEventStream", "cp21")
                assert (received.unique_id, received.payload["id"]) == (uid, 3)
                assert set(received.payload) == {"id", "pending", "basetime", "data"}
                with pytest.raises(InvalidMessage, match="`Heartbeat' is a CALL of OCPP 2.1"):
                    await cp.send("Heartbeat")
                with pytest.raises(InvalidMessage, match=r"id: -1 is less than the minimum"):
                    await cp.send("NotifyPeriodicEventStream", {"id": -1})
                mark = lines.mark()
                await cp.send("NotifyPeriodicEventStream", {"id": -1}, validate=False)
                await lines.wait_for(r"cs: WARNING : PropertyConstraintViolation for SEND #", mark)
                await cp.call("Heartbeat")
                assert heard == [(3, "cp21"), (-1, "cp21")]

    asyncio.run(scenario())


def test_the_public_api_of_a_version_without_send(lines: Lines) -> None:
    async def scenario() -> None:
        async with CentralSystem(host="127.0.0.1", endpoint="/ocpp") as cs:
            async with ChargePoint(cs.url, "cp201", version="2.0.1") as cp:
                with pytest.raises(InvalidMessage, match="is no SEND of OCPP 2.0.1"):
                    await cp.send("NotifyPeriodicEventStream", {"id": 1})
                with pytest.raises(OcppSimError, match=r"OCPP 2\.0\.1 has no SEND"):
                    await cp.send("NotifyPeriodicEventStream", {"id": 1}, validate=False)

    asyncio.run(scenario())


@needs_version("2.1")
def test_the_public_api_sees_a_callresulterror_as_an_event(lines: Lines) -> None:
    async def scenario() -> None:
        async with CentralSystem(host="127.0.0.1", endpoint="/ocpp") as cs:
            bad = {"currentTime": "2024-01-01T00:00:00Z", "interval": 300, "status": "Bogus"}
            cs.on_call("BootNotification", lambda payload: bad)
            stream = cs.events()
            async with ChargePoint(cs.url, "cp21", version="2.1") as cp:
                with pytest.raises(InvalidMessage, match="status: 'Bogus' is not one of"):
                    await cp.call("BootNotification")
                async for event in stream:
                    if isinstance(event, events.CallResultErrorReceived):
                        break
                assert (event.action, event.code) == (
                    "BootNotification",
                    "PropertyConstraintViolation",
                )
                stream.close()

    asyncio.run(scenario())
