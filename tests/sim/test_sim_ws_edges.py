"""What the simulators say about peers that misbehave at the edges of OCPP-J: a handshake that
never completes, binary frames, identities no URL should carry, a redirect that says not where
to. Real sockets on 127.0.0.1, one process; each test waits on the line a user reads."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.simulator import Simulator
from ocppsim.transport.ws import server as ws_server


@asynccontextmanager
async def central_system(**options) -> AsyncIterator[tuple[Simulator, CentralSystem]]:
    sim = Simulator()
    cs = CentralSystem(0, host="127.0.0.1", behaviour=sim.cs_behaviour, endpoint="/ocpp", **options)
    sim.add_central_system(cs)
    await cs.start()
    try:
        yield sim, cs
    finally:
        await sim.shutdown()


def test_a_handshake_that_never_completes_gets_408_and_a_line(lines, monkeypatch) -> None:
    """A client that connects and never finishes its request used to be dropped after 10 s
    with no answer and no line: now it gets 408 and the Central System names it."""
    monkeypatch.setattr(ws_server, "OPEN_TIMEOUT", 0.2)

    async def scenario() -> tuple[bytes, str, str]:
        async with central_system() as (_, cs):
            reader, writer = await asyncio.open_connection("127.0.0.1", cs.port)
            writer.write(b"GET /ocpp/slow HTTP/1.1\r\n")
            answer = await asyncio.wait_for(reader.read(), 10)
            host, port_ = writer.get_extra_info("sockname")[:2]
            local = f"{host}:{port_}"
            line = await lines.wait_for(r"cs: Error: connection from .* closed \(HTTP 408")
            writer.close()
            return answer, line, local

    answer, line, local = asyncio.run(scenario())
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    assert f"from {local} closed (HTTP 408 Request Timeout): no complete WebSocket" in line, line


@pytest.mark.parametrize(
    ("request_", "answer", "said"),
    [
        (
            b"GET /ocpp/v8 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n"
            b"Sec-WebSocket-Protocol: ocpp1.6\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\n",
            "(HTTP 400 Bad Request): invalid Sec-WebSocket-Version header: 8.",
        ),
        (
            b"HELLO WORLD\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\n",
            "(HTTP 400 Bad Request): did not receive a valid HTTP request: invalid HTTP request"
            " line: HELLO WORLD.",
        ),
    ],
    ids=["websocket-version", "no-http"],
)
def test_a_request_the_websocket_protocol_refuses_is_answered_and_named(
    lines, request_: bytes, answer: bytes, said: str
) -> None:
    """A request `websockets` refuses before or after the Central System admits it (a wrong
    Sec-WebSocket-Version, a line that is no HTTP request) used to leave no line at the
    Central System, and a line that is no HTTP request got no answer at all: now it gets its
    HTTP status with the reason, and the Central System says which client and why."""

    async def scenario() -> tuple[bytes, str, str]:
        async with central_system() as (_, cs):
            reader, writer = await asyncio.open_connection("127.0.0.1", cs.port)
            writer.write(request_)
            data = await asyncio.wait_for(reader.read(), 10)
            host, port_ = writer.get_extra_info("sockname")[:2]
            line = await lines.wait_for(r"cs: Error: connection from .* refused \(HTTP")
            writer.close()
            return data, line, f"{host}:{port_}"

    data, line, local = asyncio.run(scenario())
    assert data.startswith(answer), data
    assert line.endswith(f"cs: Error: connection from {local} refused {said}"), line


def test_a_browser_s_426_is_answered_without_a_line(lines) -> None:
    """A browser or curl at the endpoint gets 426 Upgrade Required, as before, and no error
    line: it is no charge point that failed (a charge point's refusals all have one)."""

    async def scenario() -> bytes:
        async with central_system() as (_, cs):
            reader, writer = await asyncio.open_connection("127.0.0.1", cs.port)
            writer.write(b"GET /ocpp/browser HTTP/1.1\r\nHost: x\r\n\r\n")
            data = await asyncio.wait_for(reader.read(), 10)
            writer.close()
            # a refused charge point after it: its line comes, and the browser had none
            reader, writer = await asyncio.open_connection("127.0.0.1", cs.port)
            writer.write(b"NOT HTTP\r\n\r\n")
            await asyncio.wait_for(reader.read(), 10)
            writer.close()
            await lines.wait_for(r"cs: Error: connection from .* refused")
            return data

    data = asyncio.run(scenario())
    assert data.startswith(b"HTTP/1.1 426 Upgrade Required\r\n"), data
    assert [text for text in lines.lines if "refused" in text] == [
        text for text in lines.lines if "NOT HTTP" in text
    ]


def test_a_charge_point_that_sends_a_binary_frame_is_closed_1003_and_named(lines) -> None:
    """OCPP-J messages are text frames: a binary one is no longer read as text; the charge
    point gets 1003 with the reason, and the Central System's line names it."""

    async def scenario() -> tuple[int | None, str | None, str]:
        async with central_system() as (_, cs):
            url = f"ws://127.0.0.1:{cs.port}/ocpp/bin01"
            async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
                await ws.send(b'[2,"1","Heartbeat",{}]')
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
                close = ws.protocol.close_rcvd
            line = await lines.wait_for(r"cp#bin01: Disconnected")
            return (close.code if close else None), (close.reason if close else None), line

    code, reason, line = asyncio.run(scenario())
    assert code == 1003 and reason == "binary frame: OCPP-J messages are text frames"
    assert "(1003 unsupported data: binary frame: OCPP-J messages are text frames)" in line
    assert not [text for text in lines.lines if "Heartbeat" in text]  # nothing was read


def test_a_central_system_that_sends_a_binary_frame_is_told_and_left(lines) -> None:
    """The same at the Charge Point: a binary frame from its Central System ends the link
    with 1003, and the line says why."""

    async def scenario() -> tuple[int | None, str]:
        closed: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

        async def handler(ws: ServerConnection) -> None:
            await ws.send(b'[2,"x","Reset",{"type":"Soft"}]')
            try:
                await ws.recv()
            except ConnectionClosed:
                pass
            received = ws.protocol.close_rcvd
            if not closed.done():
                closed.set_result(received.code if received else None)

        async with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as server:  # type: ignore[list-item]
            port = server.sockets[0].getsockname()[1]
            sim = Simulator()
            cp = ChargePoint(f"ws://127.0.0.1:{port}/ocpp", "cp01", version="ocpp1.6")
            sim.add_charge_point(cp)
            cp.start()
            try:
                code = await asyncio.wait_for(closed, 10)
                line = await lines.wait_for(r"cp#cp01: .*Connection lost")
            finally:
                await sim.shutdown()
        return code, line

    code, line = asyncio.run(scenario())
    assert code == 1003
    assert "(1003 unsupported data: binary frame: OCPP-J messages are text frames)" in line


async def _status(url: str, protocol: str) -> tuple[int, bytes]:
    try:
        async with connect(url, subprotocols=[protocol]):  # type: ignore[list-item]
            return 101, b""
    except InvalidStatus as exc:
        return exc.response.status_code, exc.response.body


@pytest.mark.parametrize(
    ("cp_id", "protocol", "why"),
    [
        ("x" * 256, "ocpp1.6", "the charge point identity is 256 characters long: at most 255"),
        ("x" * 8000, "ocpp1.5", "the charge point identity is 8000 characters long: at most 255"),
        ("bad%0Aid", "ocpp1.6", "the charge point identity holds a control character"),
        ("x" * 49, "ocpp2.0.1", "49 characters long: OCPP 2.0.1 allows at most 48"),
        ("cs%3A01", "ocpp2.0.1", "holds ':': OCPP 2.0.1 allows letters, digits and * - _ ="),
        ("cs%2001", "ocpp2.0.1", "holds ' ': OCPP 2.0.1 allows letters"),
    ],
    ids=["256", "8KB", "control", "2.0.1-49", "2.0.1-colon", "2.0.1-space"],
)
def test_an_identity_no_url_should_carry_is_refused_400_with_why(
    lines, cp_id: str, protocol: str, why: str
) -> None:
    """A charge point identity in the URL could be kilobytes long (and anything at all):
    now at most 255 characters, no control characters, and OCPP 2.x's own rule (48
    characters of identifierString, no ':'); the refusal says why, at both ends."""

    async def scenario() -> tuple[int, bytes, str]:
        async with central_system(versions=protocol) as (_, cs):
            status, body = await _status(f"ws://127.0.0.1:{cs.port}/ocpp/{cp_id}", protocol)
            line = await lines.wait_for(r"cs: Error: connection of #.* refused \(HTTP 400")
            return status, body, line

    status, body, line = asyncio.run(scenario())
    assert status == 400 and why.lower().encode() in body.lower(), body
    assert why in line and len(line) < 400, line


@pytest.mark.parametrize(
    ("cp_id", "protocol"),
    [
        ("x" * 255, "ocpp1.6"),
        ("x" * 48, "ocpp2.0.1"),
        ("a*b-c_d=e+f|g@h.i", "ocpp2.0.1"),
        ("cs%3A01", "ocpp1.6"),
        ("CP%20One", "ocpp1.5"),
    ],
)
def test_identities_within_the_rules_are_accepted(lines, cp_id: str, protocol: str) -> None:
    """The caps refuse nothing legitimate: 255 characters in 1.x (any printable one), 48 of
    identifierString in 2.0.1."""

    async def scenario() -> int:
        async with central_system(versions=protocol) as (_, cs):
            status, _ = await _status(f"ws://127.0.0.1:{cs.port}/ocpp/{cp_id}", protocol)
            await lines.wait_for(r"cs: ChargePoint #.* connected")
            return status

    assert asyncio.run(scenario()) == 101


def test_a_redirect_without_location_is_a_clear_connect_error(lines) -> None:
    """A Central System that answers 302 with no Location: the Charge Point says it is a
    redirect that does not say where to (it said `HTTP 302 Found` and nothing more)."""

    async def scenario() -> str:
        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        sim = Simulator()
        cp = ChargePoint(f"ws://127.0.0.1:{port}/ocpp", "cp01", version="ocpp1.6")
        sim.add_charge_point(cp)
        cp.start()
        try:
            return await lines.wait_for(r"cp#cp01: .*HTTP 302 Found")
        finally:
            await sim.shutdown()
            server.close()
            await server.wait_closed()

    line = asyncio.run(scenario())
    assert "a redirect without a Location header (it does not say where to)" in line, line


@pytest.mark.parametrize("behave", [True, False], ids=["model", "scripted"])
def test_a_16_charge_point_rejected_at_boot_answers_nothing_until_accepted(
    lines, behave: bool
) -> None:
    """OCPP 1.6 §4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central
    System initiated message." It used to answer; now the CALL goes unanswered with a line
    that says why, and a boot answered Accepted ends the silence."""

    async def scenario() -> tuple[str, dict, list[str]]:
        sim = Simulator()
        status = {"value": "Rejected"}

        def boot(payload: dict) -> dict:
            return {
                "currentTime": "2024-01-01T00:00:00Z",
                "interval": 300,
                "status": status["value"],
            }

        sim.cs_behaviour.on_call("BootNotification", boot)
        cs = CentralSystem(
            0, host="127.0.0.1", behaviour=sim.cs_behaviour, endpoint="/ocpp", versions="ocpp1.6"
        )
        sim.add_central_system(cs)
        await cs.start()
        cp = ChargePoint(
            f"ws://127.0.0.1:{cs.port}/ocpp",
            "rej01",
            version="ocpp1.6",
            behaviour=sim.cp_behaviour,
            behave=behave,
        )
        sim.add_charge_point(cp)
        cp.start()
        try:
            await lines.wait_for(r"cs: ChargePoint #rej01 connected")
            if not behave:
                await sim.cp_call("rej01", "BootNotification", [])
            await lines.wait_for(r'cp#rej01: <<cs \[3,"[^"]+",\{.*"Rejected"')
            start = len(lines.lines)
            call = asyncio.create_task(sim.remote_call("rej01", "GetConfiguration", []))
            line = await lines.wait_for(r"cp#rej01: GetConfiguration #\S+ not answered", start)
            assert not call.done()
            call.cancel()
            status["value"] = "Accepted"
            await sim.cp_call("rej01", "BootNotification", [])
            result = await sim.remote_call("rej01", "GetConfiguration", [])
            return line, result, lines.lines[start:]
        finally:
            await sim.shutdown()

    line, result, later = asyncio.run(scenario())
    assert "while Rejected it answers nothing (OCPP 1.6 §4.2)" in line, line
    assert "configurationKey" in result
    answers = [text for text in later if "cp#rej01: >>cs [3," in text]
    assert len(answers) == 1, later  # the GetConfiguration after the accepted boot only


def test_a_15_charge_point_rejected_at_boot_still_answers(lines) -> None:
    """OCPP 1.5 says nothing of the kind: its Charge Point answers as it always did."""

    async def scenario() -> dict:
        sim = Simulator()
        rejected = {
            "currentTime": "2024-01-01T00:00:00Z",
            "heartbeatInterval": 300,
            "status": "Rejected",
        }
        sim.cs_behaviour.on_call("BootNotification", lambda payload: rejected)
        cs = CentralSystem(
            0, host="127.0.0.1", behaviour=sim.cs_behaviour, endpoint="/ocpp", versions="ocpp1.5"
        )
        sim.add_central_system(cs)
        await cs.start()
        cp = ChargePoint(f"ws://127.0.0.1:{cs.port}/ocpp", "old01", version="ocpp1.5")
        sim.add_charge_point(cp)
        cp.start()
        try:
            await lines.wait_for(r"cs: ChargePoint #old01 connected")
            await sim.cp_call("old01", "BootNotification", [])
            return await sim.remote_call("old01", "GetConfiguration", [])
        finally:
            await sim.shutdown()

    assert "configurationKey" in asyncio.run(scenario())


def test_a_command_behind_an_unanswered_call_says_it_waits(lines) -> None:
    """One CALL at a time each way: a remote command typed while the charge point has not
    answered the last one waited up to 30 s without a word (it seemed lost); now a line says
    which CALL it waits for, and it goes once that one is answered."""

    async def scenario() -> tuple[str, list[object]]:
        async with central_system() as (sim, _):
            url = f"ws://127.0.0.1:{sim.central_system.port}/ocpp/slow01"
            async with connect(url, subprotocols=["ocpp1.6"]) as ws:  # type: ignore[list-item]
                await lines.wait_for(r"cs: ChargePoint #slow01 connected")
                first = asyncio.create_task(sim.remote_call("slow01", "ClearCache"))
                held = json.loads(await ws.recv())  # not answered yet
                second = asyncio.create_task(sim.remote_call("slow01", "ClearCache"))
                line = await lines.wait_for(r"cs: ClearCache to cp#slow01 waits")
                await ws.send(json.dumps([3, held[1], {"status": "Accepted"}]))
                nxt = json.loads(await ws.recv())
                await ws.send(json.dumps([3, nxt[1], {"status": "Rejected"}]))
                return line, [await first, await second]

    line, answers = asyncio.run(scenario())
    assert answers == [{"status": "Accepted"}, {"status": "Rejected"}]
    assert re.search(
        r"cs: ClearCache to cp#slow01 waits: ClearCache #\w+ is still unanswered \(one CALL at"
        r" a time; it times out after 30 s\)$",
        line,
    ), line
