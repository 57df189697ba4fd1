"""One pipeline over every transport: events as values, no task per idle link, bounded stop.

Real sockets on 127.0.0.1; every exchange goes through a Central System and Charge Points
of ocppsim in one process, over OCPP-J and over SOAP.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from ocppsim_testing import Lines
from websockets.server import ServerProtocol
from websockets.typing import Subprotocol

from ocppsim.core import events
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import Call, CallError, CallResult
from ocppsim.sim import charge_point as charge_point_module
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.log import LogConsumer
from ocppsim.sim.simulator import Simulator


def run(coro: Any, timeout: float = 30) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


async def _pair(
    transport: str, bus: EventBus, cp_id: str = "e1", **cs_options: Any
) -> tuple[CentralSystem, ChargePoint]:
    """A CS and one of its CPs, both publishing to `bus`, the CP connected."""
    cs = CentralSystem(0, transport=transport, host="127.0.0.1", bus=bus, **cs_options)
    await cs.start()
    scheme = "ws" if transport == "websocket" else "http"
    options = {"host": "127.0.0.1"} if transport == "soap" else {}
    cp = ChargePoint(
        f"{scheme}://127.0.0.1:{cs.port}/",
        cp_id,
        transport=transport,
        bus=bus,
        **options,
    )
    cp.start()
    await cp.ready()
    return cs, cp


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_every_frame_is_an_event_with_its_wire_text_and_message(transport: str) -> None:
    """Both sides publish each frame with the transport, the direction, the peer, the text
    on the wire and the message it is: what checks and recordings subscribe to."""
    heard: list[Any] = []
    bus = EventBus(heard.append, LogConsumer())

    async def scenario() -> None:
        cs, cp = await _pair(transport, bus)
        try:
            assert cp.peer is not None
            await cp.peer.call("Heartbeat", {})
            await cs.peers["e1"].call("ClearCache", {})
        finally:
            await cp.stop()
            await cs.stop()

    run(scenario())
    frames = [e for e in heard if isinstance(e, (events.FrameSent, events.FrameReceived))]
    assert {e.transport for e in frames} == {transport}
    sent = [e for e in frames if isinstance(e, events.FrameSent) and e.speaker == "cp#e1"]
    call = sent[0].message
    assert isinstance(call, Call) and (call.action, call.payload) == ("Heartbeat", {})
    assert sent[0].peer == "cs"
    got = [e for e in frames if isinstance(e, events.FrameReceived) and e.speaker == "cs"]
    assert got[0].message == call and got[0].peer == "cp#e1"
    answer = [e for e in frames if isinstance(e, events.FrameReceived) and e.speaker == "cp#e1"]
    assert isinstance(answer[0].message, CallResult)
    assert answer[0].message.unique_id == call.unique_id
    if transport == "websocket":
        assert sent[0].wire == call.to_frame() == sent[0].text
    else:  # the envelope on the wire, its JSON view for the log, MessageID as unique id
        assert "<soap:Envelope" in sent[0].wire and "heartbeatRequest" in sent[0].wire
        assert sent[0].text == "/Heartbeat {}"
        assert call.unique_id.startswith("urn:uuid:")
    connected = [e for e in heard if isinstance(e, events.Connected)]
    assert {(e.speaker, e.peer, e.charge_point_id) for e in connected} == {
        ("cs", "cp#e1", "e1"),
        ("cp#e1", "cs", "e1"),
    }
    assert isinstance(heard[0], events.ServerStarted) and heard[0].transport == transport


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_a_refused_call_is_the_same_event_and_line_on_both_transports(
    transport: str, lines: Lines
) -> None:
    heard: list[Any] = []
    bus = EventBus(heard.append, LogConsumer())

    async def scenario() -> None:
        cs, cp = await _pair(transport, bus, "r1")
        try:
            assert cp.peer is not None
            with pytest.raises(Exception):  # noqa: B017 - CallFailed with the CALLERROR
                await cp.peer.call("Authorize", {"idTag": "X" * 30})
        finally:
            await cp.stop()
            await cs.stop()

    run(scenario())
    (refused,) = [e for e in heard if isinstance(e, events.CallRefused)]
    assert (refused.speaker, refused.peer, refused.transport) == ("cs", "cp#r1", transport)
    assert (refused.action, refused.code) == ("Authorize", "TypeConstraintViolation")
    errors = [e.message for e in heard if isinstance(e, events.FrameReceived)]
    assert any(isinstance(m, CallError) and m.code == "TypeConstraintViolation" for m in errors)
    assert lines.matching(
        rf"cs: WARNING : TypeConstraintViolation for CALL #{refused.unique_id} \(idTag: "
    )


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_validation_is_switchable_on_both_transports(transport: str) -> None:
    """A peer's session can take CALLs unchecked (to play a lenient Central System)."""

    async def scenario() -> Any:
        cs, cp = await _pair(transport, EventBus(LogConsumer()))
        try:
            assert cp.peer is not None
            await cp.peer.call("Heartbeat", {})  # a SOAP CS learns its box on a request
            cs.peers["e1"].session.validate_calls = False
            return await cp.peer.call("Authorize", {"idTag": "X" * 30})
        finally:
            await cp.stop()
            await cs.stop()

    assert run(scenario())["idTagInfo"]["status"] == "Accepted"


def test_an_idle_link_costs_no_task_and_pings_only_with_an_interval(lines: Lines) -> None:
    """Twenty OCPP-J charge points connected and booted, nothing running: frames are
    delivered from the reading callbacks, a charge point's task ends once it is connected,
    its model's once its boot and StatusNotifications are answered (a heartbeat timer is all
    that is left), and a ping interval of 0 leaves no timer; a positive one is a timer per
    link, not a task."""

    async def scenario() -> None:
        before = asyncio.all_tasks()
        sim = Simulator()
        cs = CentralSystem(0, host="127.0.0.1", ping_interval=0, bus=sim.bus)
        sim.add_central_system(cs)
        await cs.start()
        for index in range(20):
            cp = ChargePoint(f"ws://127.0.0.1:{cs.port}", f"idle{index}", bus=sim.bus, behave=True)
            sim.add_charge_point(cp)
            cp.start()
        for cp in list(sim.charge_points.values()):
            await cp.ready()
        while len(cs.peers) < 20:
            await lines.wait_for(r"cs: ChargePoint #idle\d+ connected", start=len(lines.lines))
        for cp in list(sim.charge_points.values()):
            await cp.driver.idle()
            assert cp.model.registration == "Accepted"
            assert cp.driver._timer is not None  # its next heartbeat
        await asyncio.sleep(0)  # the dialling tasks return right after connecting
        assert asyncio.all_tasks() == before
        assert not [timer for timer in cs.pinger._timers.values() if timer is not None]
        cs.pinger.set_interval(300)
        assert len([timer for timer in cs.pinger._timers.values() if timer is not None]) == 20
        assert asyncio.all_tasks() == before
        # the links still work
        assert "currentTime" in await sim.cp_call("idle7", "Heartbeat", [])
        await sim.shutdown()

    run(scenario())


async def _deaf_central_system() -> tuple[asyncio.Server, int, asyncio.Event]:
    """A Central System that answers the opening handshake, then never reads again (and
    so never answers a close frame); `gone` is set when the charge point drops the TCP
    connection."""
    gone = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        protocol = ServerProtocol(subprotocols=[Subprotocol("ocpp1.5")])
        protocol.receive_data(await reader.readuntil(b"\r\n\r\n"))
        request = protocol.events_received()[0]
        protocol.send_response(protocol.accept(request))  # type: ignore[arg-type]
        writer.write(b"".join(protocol.data_to_send()))
        await asyncio.sleep(0.5)  # the close frame arrives meanwhile: it is never read
        await reader.read()  # only to see the end: nothing is parsed or answered
        gone.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], gone


def test_stopping_a_charge_point_whose_central_system_stopped_reading_is_quick(
    lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The close frame goes out, its answer is awaited STOP_GRACE at most, then the
    connection is dropped: no 2 s close wait plus 2 s task wait any more."""
    monkeypatch.setattr(charge_point_module, "STOP_GRACE", 0.3)

    async def scenario() -> None:
        server, port, gone = await _deaf_central_system()
        sim = Simulator()
        cp = ChargePoint(f"ws://127.0.0.1:{port}", "leaving", bus=sim.bus)
        sim.add_charge_point(cp)
        cp.start()
        await cp.ready()
        await asyncio.wait_for(sim.stop_charge_point("leaving"), 3)
        await asyncio.wait_for(gone.wait(), 5)  # the TCP connection is gone too
        server.close()
        await server.wait_closed()

    run(scenario())
    assert lines.matching(r"cp#leaving: Charge point stopped\.")
    assert not lines.matching("Connection lost")  # a stop is no lost connection


def test_soap_charge_points_of_a_process_share_one_callback_server_and_client(
    lines: Lines,
) -> None:
    """Two SOAP Charge Points on the same -r port: one HTTP server routes each request to
    its chargeBoxIdentity; one client session posts for all (and for the CS). The server
    closes with its last charge point."""

    async def scenario() -> None:
        sim = Simulator()
        cs = CentralSystem(
            0, transport="soap", host="127.0.0.1", bus=sim.bus, resources=sim.resources
        )
        sim.add_central_system(cs)
        await cs.start()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cps = []
        for cp_id in ("s1", "s2", "s3"):
            cp = ChargePoint(
                f"http://127.0.0.1:{cs.port}/",
                cp_id,
                transport="soap",
                host="127.0.0.1",
                remote_port=port if cp_id != "s3" else None,
                bus=sim.bus,
                resources=sim.resources,
            )
            sim.add_charge_point(cp)
            cp.start()
            await (await cp.ready()).call("Heartbeat", {})
            cps.append(cp)
        s1, s2, s3 = cps
        assert s1.client.server is s2.client.server is s3.client.server
        assert s1.client.server.port == port  # a CP with no -r joins the one there is
        assert s1.client._client is s2.client._client is cs.server._client
        # each answers for itself: the server routes on chargeBoxIdentity
        change = [("key", "HeartbeatInterval"), ("value", "77")]
        await sim.remote_call("s2", "ChangeConfiguration", change)
        got = {}
        for cp_id in ("s1", "s2"):
            result = await sim.remote_call(
                cp_id, "GetConfiguration", [("key", ["HeartbeatInterval"])]
            )
            got[cp_id] = result["configurationKey"][0]["value"]
        assert got == {"s1": "1200", "s2": "77"}
        await sim.stop_charge_point("s1")
        assert (await sim.remote_call("s2", "ClearCache", []))["status"] == "Accepted"
        await sim.stop_charge_point("s2")
        await sim.stop_charge_point("s3")
        with socket.socket() as probe:  # the last one closed the server: the port is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server binds
            probe.bind(("127.0.0.1", port))
            probe.listen()
        await sim.shutdown()

    run(scenario())
    assert lines.problems() == []


def test_a_call_the_simulator_fails_on_is_still_answered_internal_error(lines: Lines) -> None:
    """A CALL whose check raised (the session) or whose model raised (a quick answer) was
    logged as "can't be processed" and never answered: its sender waited for its timeout.
    It is answered InternalError, and the link goes on."""
    from ocppsim.core.station import ChargePointModel
    from ocppsim.sim.peer import CallFailed

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    async def scenario() -> None:
        bus = EventBus(LogConsumer())
        cs = CentralSystem(0, host="127.0.0.1", bus=bus)
        await cs.start()
        cp = ChargePoint(
            f"ws://127.0.0.1:{cs.port}/", "e1", version="ocpp1.6", bus=bus, behave=True
        )
        try:
            cp.start()
            await cp.ready()
            assert cp.peer is not None
            peer = cs.peers["e1"]
            session = cp.peer.session
            real = session.receive
            session.receive = boom  # type: ignore[method-assign]
            with pytest.raises(CallFailed) as refused:
                await peer.call("ClearCache", {})
            assert refused.value.error is not None
            assert refused.value.error.code == "InternalError"
            session.receive = real  # type: ignore[method-assign]
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(ChargePointModel, "on_call", boom)
                with pytest.raises(CallFailed) as failed:
                    await peer.call("ClearCache", {})
            assert failed.value.error is not None
            assert failed.value.error.code == "InternalError"
            assert await peer.call("ClearCache", {}) == {"status": "Accepted"}
        finally:
            await cp.stop()
            await cs.stop()

    run(scenario())
    assert lines.matching(r"cp#e1: Error: answering ClearCache failed: RuntimeError")
