"""Central System and Charge Points over real WebSockets on 127.0.0.1, in one process."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from ocppsim.core.errors import NotSupportedAnswer
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.simulator import CommandError, Simulator


async def _start_cs(sim: Simulator, **options) -> CentralSystem:
    cs = CentralSystem(0, host="127.0.0.1", behaviour=sim.cs_behaviour, **options)
    sim.add_central_system(cs)
    await cs.start()
    return cs


def _start_cp(sim: Simulator, url: str, cp_id: str, protocol: str = "ocpp1.5") -> ChargePoint:
    cp = ChargePoint(url, cp_id, version=protocol, behaviour=sim.cp_behaviour)
    sim.add_charge_point(cp)
    cp.start()
    return cp


def test_one_cs_serves_a_12_and_a_15_charge_point(watcher) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        url = f"ws://127.0.0.1:{cs.port}/ocpp"
        _start_cp(sim, url, "old", "ocpp1.2")
        _start_cp(sim, url, "new", "ocpp1.5")
        await watcher.wait_for(r"cs: ChargePoint #old connected \(protocol: ocpp1\.2\)\.")
        await watcher.wait_for(r"cs: ChargePoint #new connected \(protocol: ocpp1\.5\)\.")
        assert cs.peers["old"].version == "1.2" and cs.peers["new"].version == "1.5"
        result = await sim.remote_call("new", "GetConfiguration", [])
        assert result["configurationKey"][0]["key"] == "KVCBX_PROFILE"
        with pytest.raises(CommandError, match="`GetConfiguration' is not available .* 1.2"):
            await sim.remote_call("old", "GetConfiguration", [])
        with pytest.raises(
            CommandError,
            match="^Error: more than one charge point is connected: use --remote-id <id>; "
            "connected: old, new$",
        ):
            await sim.remote_call(None, "Reset", [])
        with pytest.raises(CommandError, match="charge point #nope does not exist"):
            await sim.remote_call("nope", "Reset", [])
        assert (await sim.cp_call("old", "Heartbeat", []))["currentTime"].endswith("Z")
        with pytest.raises(CommandError, match="`DataTransfer' is not available .* 1.2"):
            await sim.cp_call("old", "DataTransfer", [])
        await sim.shutdown()

    asyncio.run(scenario())


def test_handshakes_outside_the_endpoint_without_id_or_protocol_are_refused(watcher) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        base = f"ws://127.0.0.1:{cs.port}"

        async def status(path: str, protocols: list[str] | None) -> int:
            try:
                async with connect(base + path, subprotocols=protocols):  # type: ignore[arg-type]
                    return 101
            except InvalidStatus as exc:
                return exc.response.status_code

        assert await status("/other/CP1", ["ocpp1.5"]) == 404
        assert await status("/ocppX/CP1", ["ocpp1.5"]) == 404
        assert await status("/ocpp/", ["ocpp1.5"]) == 400
        assert await status("/ocpp", ["ocpp1.5"]) == 400
        assert await status("/ocpp/CP9", ["ocpp9.9"]) == 400
        await watcher.wait_for(
            r"cs: Error: connection of #CP9 refused \(HTTP 400 Bad Request\): "
            r"Unknown protocol `ocpp9\.9' \(served: ocpp1\.2,ocpp1\.5"
        )
        assert await status("/ocpp/CP9", None) == 400
        with pytest.raises(InvalidStatus) as refused:  # the peer reads what to offer instead
            async with connect(base + "/ocpp/CP9", subprotocols=["ocpp9.9"]):  # type: ignore[list-item]
                pass
        assert refused.value.response.body.startswith(
            b"Unknown protocol `ocpp9.9' (served: ocpp1.2"
        )
        assert await status("/ocpp/CP9", ["ocpp9.9", "ocpp1.2"]) == 101
        await watcher.wait_for(r"#CP9 connected \(protocol: ocpp1\.2\)")
        await sim.shutdown()

    asyncio.run(scenario())


def test_second_connection_with_the_same_id_replaces_the_first(watcher) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim)
        url = f"ws://127.0.0.1:{cs.port}/dup"
        async with connect(url, subprotocols=["ocpp1.5"]) as first:  # type: ignore[list-item]
            await watcher.wait_for(r"#dup connected")
            async with connect(url, subprotocols=["ocpp1.2"]) as second:  # type: ignore[list-item]
                await watcher.wait_for(r"#dup connected \(protocol: ocpp1\.2\)")
                await first.wait_closed()
                await watcher.wait_for(r"cp#dup: Disconnected \(old connection, replaced\)")
                assert cs.peers["dup"].version == "1.2"
                assert not watcher.matching(r"cp#dup: Disconnected \(\d")
                await second.send('[2,"h","Heartbeat",{}]')
                assert json.loads(await second.recv())[:2] == [3, "h"]
        await sim.shutdown()

    asyncio.run(scenario())


def test_handler_failures_answer_internal_error_and_not_supported(watcher) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim)

        def broken(payload):
            raise RuntimeError("plugin bug")

        def unsupported(payload):
            raise NotSupportedAnswer()

        sim.cs_behaviour.call_handlers["Heartbeat"] = [broken]
        sim.cs_behaviour.call_handlers["Authorize"] = [unsupported]
        sim.cs_behaviour.call_handlers["StatusNotification"] = [lambda p: {}]
        async with connect(f"ws://127.0.0.1:{cs.port}/x", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
            await ws.send('[2,"a","Heartbeat",{}]')
            assert json.loads(await ws.recv())[2] == "InternalError"
            await ws.send('[2,"b","Authorize",{"idTag":"t"}]')
            assert json.loads(await ws.recv())[2] == "NotSupported"
            await ws.send(
                '[2,"c","StatusNotification",{"connectorId":1,"status":"Available","errorCode":"NoError"}]'
            )
            assert json.loads(await ws.recv()) == [3, "c", {}]
        await sim.shutdown()

    asyncio.run(scenario())


def test_charge_point_retries_and_reconnects(watcher, monkeypatch) -> None:
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.1")

    async def scenario() -> None:
        sim = Simulator()
        probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = probe.sockets[0].getsockname()[1]
        probe.close()
        await probe.wait_closed()
        cp = _start_cp(sim, f"ws://127.0.0.1:{port}", "cp1")
        await watcher.wait_for(r"cp#cp1: Connect Error: .*Retry in 0\.1 seconds \.\.\.")
        with pytest.raises(CommandError, match=r"cp#cp1 is not connected \((re)?connecting"):
            await sim.cp_call("cp1", "Heartbeat", [])
        cs = CentralSystem(port, host="127.0.0.1", behaviour=sim.cs_behaviour)
        await cs.start()
        await watcher.wait_for(r"cp#cp1: Connected to Central System\.")
        assert (await sim.cp_call("cp1", "Heartbeat", [])) is not None
        await cs.stop()
        await watcher.wait_for(
            r"cp#cp1: Connection lost \(1001 going away\), retry in 0\.1 seconds\."
        )
        assert not cp.connected
        await sim.shutdown()

    asyncio.run(scenario())


def test_wrong_endpoint_is_not_retried(watcher) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, endpoint="/ocpp")
        _start_cp(sim, f"ws://127.0.0.1:{cs.port}/elsewhere", "cp1")
        await watcher.wait_for(r"cp#cp1: Connect Error: 404 Not Found\. Wrong endpoint URL\.$")
        assert not watcher.matching("Retry in")
        # the Central System says who knocked at the wrong door, and where the door is
        await watcher.wait_for(
            r"cs: Error: connection refused \(HTTP 404 Not Found\): /elsewhere/cp1 is not"
            r" under the endpoint /ocpp\.$"
        )
        with pytest.raises(InvalidStatus) as refused:
            async with connect(f"ws://127.0.0.1:{cs.port}/ocp/cp1", subprotocols=["ocpp1.5"]):  # type: ignore[list-item]
                pass
        assert refused.value.response.body == (
            b"Not Found: the endpoint is /ocpp: connect to /ocpp/<charge point id>\n"
        )
        await sim.shutdown()

    asyncio.run(scenario())


def test_unanswered_call_times_out_and_is_dropped(watcher) -> None:
    async def scenario() -> None:
        from websockets.asyncio.server import serve

        async def silent(ws) -> None:
            async for _ in ws:
                pass

        async with serve(silent, "127.0.0.1", 0, subprotocols=["ocpp1.5"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            sim = Simulator()
            cp = _start_cp(sim, f"ws://127.0.0.1:{port}", "cp1")
            peer = await cp.ready()
            peer.session.timeout = 0.2  # type: ignore[attr-defined]
            assert await sim.cp_call("cp1", "Heartbeat", []) is None
            await watcher.wait_for(r"cp#cp1: Error for the message #\w{32} : timeout")
            assert peer.session.pending == {}  # type: ignore[attr-defined]
            await sim.shutdown()

    asyncio.run(scenario())


def test_pings_both_ways_are_logged(watcher) -> None:
    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim)
        _start_cp(sim, f"ws://127.0.0.1:{cs.port}", "cp1")
        await sim.cp_ping("cp1")
        await watcher.wait_for(r"cp#cp1: PONG received from: 127\.0\.0\.1:\d+")
        await watcher.wait_for(r"#cp1 connected")
        await sim.remote_ping("cp1")
        await watcher.wait_for(r"cs: PONG received from: 127\.0\.0\.1:\d+")
        sim.central_system.pinger.set_interval(0.05)
        count = len(watcher.matching(r"cs: PING sent"))
        await watcher.wait_for(r"cs: PING sent", start=len(watcher.lines))
        assert len(watcher.matching(r"cs: PING sent")) > count
        await sim.shutdown()

    asyncio.run(scenario())


def test_with_attr_at_form_between_two_simulators_that_use_it(watcher) -> None:
    from ocppsim.core.versions import ATTR_AT

    async def scenario() -> None:
        sim = Simulator(variant=ATTR_AT)
        cs = CentralSystem(0, host="127.0.0.1", behaviour=sim.cs_behaviour, variant=ATTR_AT)
        sim.add_central_system(cs)
        await cs.start()
        cp = ChargePoint(f"ws://127.0.0.1:{cs.port}", "old", variant=ATTR_AT)
        sim.add_charge_point(cp)
        cp.start()
        assert await sim.cp_call("old", "MeterValues", []) == {}
        await watcher.wait_for(r'"MeterValues",\{.*"@value":\[\{\},\{\}\]')
        # a Charge Point using the current form is refused by that Central System
        modern = ChargePoint(f"ws://127.0.0.1:{cs.port}", "new")
        sim.add_charge_point(modern)
        modern.start()
        assert await sim.cp_call("new", "MeterValues", []) is None
        await watcher.wait_for(r'cp#new: <<cs \[4,"\w+","OccurenceConstraintViolation"')
        await watcher.wait_for(
            r"cs: WARNING : OccurenceConstraintViolation for CALL #\w+ "
            r"\(values\[0\]\.value: missing \(required\)"
        )
        await sim.shutdown()

    asyncio.run(scenario())


def test_with_attr_at_leaves_versions_without_that_form_alone(watcher) -> None:
    """`--with-attr-at` is a form of the versions that have it: a 1.2 Charge Point in a
    process started with it sends (and its Central System checks) 1.2's own MeterValues."""
    from ocppsim.core.versions import ATTR_AT

    async def scenario() -> None:
        sim = Simulator(variant=ATTR_AT)
        cs = CentralSystem(0, host="127.0.0.1", behaviour=sim.cs_behaviour, variant=ATTR_AT)
        sim.add_central_system(cs)
        await cs.start()
        url = f"ws://127.0.0.1:{cs.port}"
        cp = ChargePoint(url, "v12", version="ocpp1.2", variant=ATTR_AT)
        sim.add_charge_point(cp)
        cp.start()
        for action in ("MeterValues", "StopTransaction"):
            assert await sim.cp_call("v12", action, []) is not None, action
        await watcher.wait_for(r'cp#v12: >>cs \[2,"\w+","MeterValues",\{"connectorId":2,"values"')
        await watcher.wait_for(r'cp#v12: <<cs \[3,"\w+",\{"idTagInfo"')
        assert not watcher.matching(r"Violation|UnknownMessage|Error")
        await sim.shutdown()

    asyncio.run(scenario())


def test_pathological_frames_leave_both_sides_alive(lines) -> None:
    """Deep nesting, NaN, control bytes: logged and refused, the links stay up (SPEC §4 [fix]);
    a CALL among them whose id can be read gets its FormationViolation."""
    from websockets.asyncio.server import serve

    nested = "[" * 5000 + "]" * 5000

    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim)
        async with connect(f"ws://127.0.0.1:{cs.port}/raw", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
            for junk in (
                nested,
                '[2,"n","Heartbeat",{"a":NaN}]',
                "[2,\x00",
                '[2,"deep","Heartbeat",' + nested + "]",
            ):
                await ws.send(junk)
            await ws.send('[2,"ok","Heartbeat",{}]')
            assert json.loads(await ws.recv())[:3] == [4, "n", "FormationViolation"]
            assert json.loads(await ws.recv())[:3] == [4, "deep", "FormationViolation"]
            assert json.loads(await ws.recv())[:2] == [3, "ok"]
        await lines.wait_for(r"cs: WARNING : FormationViolation for CALL #n \(not JSON \(NaN")
        await lines.wait_for(r"cs: WARNING : FormationViolation for CALL #deep \(nested too deeply")
        await lines.wait_for(r"cs: Error: message \[\[\[.*characters\) can.t be parsed \(.*\)\.")
        assert lines.matching(r"cs: <<cp#raw \[2,\\x00")  # control bytes shown escaped

        async def evil_cs(ws) -> None:
            await ws.send(nested)
            async for text in ws:
                call = json.loads(text)
                await ws.send(json.dumps([3, call[1], {"currentTime": "2030-01-01T00:00:00Z"}]))

        async with serve(evil_cs, "127.0.0.1", 0, subprotocols=["ocpp1.5"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            cp = _start_cp(sim, f"ws://127.0.0.1:{port}", "victim")
            await lines.wait_for(r"cp#victim: Error: message \[\[\[.* can't be parsed \(.*\)\.")
            assert await sim.cp_call("victim", "Heartbeat", []) == {
                "currentTime": "2030-01-01T00:00:00Z"
            }
            assert cp.connected
        await sim.shutdown()

    asyncio.run(scenario())


def test_a_stopping_charge_point_closes_its_link_properly(lines) -> None:
    from websockets.asyncio.server import serve

    codes: list[int | None] = []

    async def scenario() -> None:
        closed = asyncio.Event()

        async def cs(ws) -> None:
            async for _ in ws:
                pass
            codes.append(ws.close_code)
            closed.set()

        async with serve(cs, "127.0.0.1", 0, subprotocols=["ocpp1.5"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            sim = Simulator()
            cp = _start_cp(sim, f"ws://127.0.0.1:{port}", "leaving")
            await cp.ready()
            await sim.shutdown()
            await asyncio.wait_for(closed.wait(), 5)

    asyncio.run(scenario())
    assert codes == [1000]
    assert not lines.matching("Connection lost")


async def _half_dead_client(
    port: int, path: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client that completes the handshake, then never reads or answers anything."""
    from websockets.client import ClientProtocol
    from websockets.uri import parse_uri

    uri = parse_uri(f"ws://127.0.0.1:{port}{path}")
    client = ClientProtocol(uri, subprotocols=["ocpp1.5"])  # type: ignore[list-item]
    reader, writer = await asyncio.open_connection(uri.host, uri.port)
    client.send_request(client.connect())
    writer.write(b"".join(client.data_to_send()))
    await reader.readuntil(b"\r\n\r\n")
    return reader, writer


def test_a_half_dead_old_connection_neither_delays_the_new_one_nor_quit(lines, monkeypatch) -> None:
    from ocppsim.sim import websocket

    monkeypatch.setattr(websocket, "SHUTDOWN_GRACE", 0.2)

    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim)
        _, old = await _half_dead_client(cs.port, "/cpX")
        await lines.wait_for(r"#cpX connected")
        async with connect(f"ws://127.0.0.1:{cs.port}/cpX", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
            await ws.send('[2,"hb","Heartbeat",{}]')
            # answered at once, not after the old link's 10 s closing timeout
            assert json.loads(await asyncio.wait_for(ws.recv(), 3))[:2] == [3, "hb"]
        _, stuck = await _half_dead_client(cs.port, "/cpY")
        await lines.wait_for(r"#cpY connected")
        await asyncio.wait_for(sim.shutdown(), 5)  # a peer that never closes: dropped
        old.close()
        stuck.close()

    asyncio.run(scenario())


def test_a_call_on_a_closing_link_fails_cleanly_without_a_sent_line(lines) -> None:
    from websockets.asyncio.server import serve

    async def scenario() -> None:
        closed_by_cs = asyncio.Event()
        release = asyncio.Event()

        async def cs(ws) -> None:
            closed_by_cs.set()
            await release.wait()  # never reads: the close below stays unanswered

        async with serve(cs, "127.0.0.1", 0, subprotocols=["ocpp1.5"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            sim = Simulator()
            cp = _start_cp(sim, f"ws://127.0.0.1:{port}", "c1")
            peer = await cp.ready()
            await closed_by_cs.wait()
            peer.link.connection._start_closing(1000, "")  # type: ignore[attr-defined]
            with pytest.raises(CommandError, match="not connected|connection closed"):
                await sim.cp_call("c1", "Heartbeat", [])
            assert not lines.matching(r'cp#c1: >>cs \[2,"\w+","Heartbeat"')
            release.set()
            await asyncio.wait_for(sim.shutdown(), 5)

    asyncio.run(scenario())


def test_each_charge_point_keeps_its_configuration(watcher) -> None:
    """ChangeConfiguration changes what GetConfiguration reports, per Charge Point; a plugin's
    answer still wins; an accepted BootNotification sets HeartbeatInterval."""

    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim)
        url = f"ws://127.0.0.1:{cs.port}"
        first, second = _start_cp(sim, url, "one"), _start_cp(sim, url, "two")
        await watcher.wait_for(r"cs: ChargePoint #one connected")
        await watcher.wait_for(r"cs: ChargePoint #two connected")

        async def value(cp_id: str, key: str = "HeartbeatInterval") -> object:
            got = await sim.remote_call(cp_id, "GetConfiguration", [("key", [key, "Nope"])])
            assert got["unknownKey"] == ["Nope"]
            return got["configurationKey"][0]["value"]

        async def change(cp_id: str, key: str, new: str) -> str:
            fields = [("key", key), ("value", new)]
            result = await sim.remote_call(cp_id, "ChangeConfiguration", fields)
            return str(result["status"])

        assert await value("one") == "1200"
        assert await change("one", "HeartbeatInterval", "60") == "Accepted"
        assert await value("one") == "60"
        assert await value("two") == "1200"  # a store per Charge Point
        assert await change("one", "HeartbeatInterval", "often") == "Rejected"
        assert await change("one", "KVCBX_PROFILE", "x") == "Rejected"
        assert await change("one", "NoSuchKey", "1") == "NotSupported"
        assert first.configuration.get("HeartbeatInterval") == "60"

        sim.cs_behaviour.call_handlers["BootNotification"] = [
            lambda payload: {
                "status": "Accepted",
                "currentTime": "2030-01-01T00:00:00Z",
                "heartbeatInterval": 300,
            }
        ]
        await sim.cp_call("two", "BootNotification", [])
        assert await value("two") == "300"

        # a plugin's answer wins, and the store is left as it was
        sim.cp_behaviour.call_handlers["ChangeConfiguration"] = [lambda p: {"status": "Rejected"}]
        assert await change("two", "HeartbeatInterval", "5") == "Rejected"
        assert second.configuration.get("HeartbeatInterval") == "300"
        await sim.shutdown()

    asyncio.run(scenario())


def _close_frames(data: bytes) -> list[tuple[int, str]]:
    """The close frames (code, reason) in what a server sent after the handshake."""
    from websockets.frames import Close, Opcode
    from websockets.protocol import Protocol, Side

    parser = Protocol(Side.CLIENT)  # reads server frames (unmasked)
    parser.receive_data(data)
    parser.receive_eof()
    closes = []
    for event in parser.events_received():
        if event.opcode is Opcode.CLOSE:
            close = Close.parse(event.data)
            closes.append((close.code, close.reason))
    return closes


def test_a_cp_that_leaves_a_ping_unanswered_is_disconnected(lines) -> None:
    """The dead link is closed (1011 keepalive timeout) after one ping interval without a
    PONG; the CP is no longer registered, so a remote command says so at once."""

    async def scenario() -> None:
        sim = Simulator()
        cs = await _start_cs(sim, ping_interval=0.2)
        reader, writer = await _half_dead_client(cs.port, "/dead")
        await lines.wait_for(r"cs: ChargePoint #dead connected")
        await lines.wait_for(r"cs: PING sent to: 127\.0\.0\.1:\d+")
        await lines.wait_for(
            r"cs: Error: no PONG from cp#dead within 0\.2 seconds: closing the connection"
            r" \(1011 keepalive timeout\)\.$"
        )
        await lines.wait_for(r"cp#dead: Disconnected \(1011 internal error: keepalive timeout\)$")
        assert "dead" not in cs.peers
        # it was here: the error says since when it is gone, not that it never was
        gone = r"#dead is not connected \(disconnected at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)\.$"
        with pytest.raises(CommandError, match=gone):
            await sim.remote_call("dead", "Reset", [])
        received = await asyncio.wait_for(reader.read(), 5)  # what the CS sent, up to its end
        assert _close_frames(received) == [(1011, "keepalive timeout")]
        assert len(lines.matching("no PONG")) == 1 and not lines.matching("ping failed")
        writer.close()
        await sim.shutdown()

    asyncio.run(scenario())


def test_a_cp_whose_cs_leaves_a_ping_unanswered_reconnects(lines, monkeypatch) -> None:
    from websockets.server import ServerProtocol

    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.1")
    tcp_ends: list[asyncio.StreamWriter] = []

    async def dead_cs(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Completes the handshake, then never reads (nor answers a ping) again."""
        server = ServerProtocol(subprotocols=["ocpp1.5"])  # type: ignore[list-item]
        server.receive_data(await reader.readuntil(b"\r\n\r\n"))
        request = server.events_received()[0]
        server.send_response(server.accept(request))  # type: ignore[arg-type]
        writer.write(b"".join(server.data_to_send()))
        tcp_ends.append(writer)

    async def scenario() -> None:
        listener = await asyncio.start_server(dead_cs, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        sim = Simulator()
        cp = ChargePoint(f"ws://127.0.0.1:{port}", "cp1", ping_interval=0.2)
        sim.add_charge_point(cp)
        cp.start()
        first = await lines.wait_for(r"cp#cp1: Connected to Central System\.")
        await lines.wait_for(
            r"cp#cp1: Error: no PONG from cs within 0\.2 seconds: closing the connection"
            r" \(1011 keepalive timeout\)\.$"
        )
        await lines.wait_for(r"cp#cp1: Connection lost \(1011 .*keepalive timeout\), retry in")
        start = lines.lines.index(first) + 1
        monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "60")  # no third try during the test
        await lines.wait_for(r"cp#cp1: Connected to Central System\.", start=start)
        assert len(lines.matching("no PONG")) == 1 and not lines.matching("ping failed")
        await lines.wait_for(r"cp#cp1: Connection lost .*, retry in 60 seconds", start=start)
        await sim.shutdown()
        listener.close()
        for writer in tcp_ends:
            writer.close()

    asyncio.run(scenario())


def test_central_systems_with_reuse_port_share_one_port_and_its_connections() -> None:
    """SO_REUSEPORT: two Central Systems (two processes, in real use) listen on one port and
    the kernel spreads the connections over them; without it the second cannot listen."""
    from ocppsim.transport.ws.client import open_connection

    async def scenario() -> tuple[int, int]:
        first = CentralSystem(0, host="127.0.0.1", endpoint="/ocpp", reuse_port=True)
        await first.start()
        second = CentralSystem(first.port, host="127.0.0.1", endpoint="/ocpp", reuse_port=True)
        alone = CentralSystem(first.port, host="127.0.0.1", endpoint="/ocpp")
        links = []
        try:
            await second.start()
            with pytest.raises(OSError):
                await alone.start()
            for n in range(16):  # 2 x (1/2)**16 that one of them gets none
                links.append(await open_connection(f"{first.url}/cp{n}", "ocpp1.6"))
            return len(first.peers), len(second.peers)
        finally:
            for link in links:
                link.abort()
            await first.stop()
            await second.stop()

    counts = asyncio.run(asyncio.wait_for(scenario(), 20))
    assert sum(counts) == 16 and min(counts) > 0, counts
