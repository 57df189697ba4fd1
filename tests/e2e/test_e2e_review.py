"""What the issue-8 review found in code that was being rewritten at the time (`ocppsim/sim`,
`ocppsim/transport/websocket.py`): each test is what a user or the operator should see."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from conftest import Sims
from harness import SimProcess, free_port
from websockets.asyncio.client import connect
from websockets.sync.server import ServerConnection, serve


def test_a_wrong_id_lists_the_ids_there_are(sims: Sims, port: int) -> None:
    """`--id nope` / `--remote-id nope` / `stop_cp nope`: `does not exist`, with no hint of
    the ids that do (the error for a shortened command lists them)."""
    cs = sims.cs(port, "-u", "/ocpp")
    cp = sims.cp(f"ws://127.0.0.1:{port}/ocpp", "cp01")
    cs.expect(r"cs: ChargePoint #cp01 connected")
    mark = cp.send("heartbeat --id nope")
    cp_line = cp.expect(r"^Error: charge point #nope does not exist.*", since=mark)[0]
    mark = cs.send("remote_reset --remote-id nope")
    cs_line = cs.expect(r"^Error: charge point #nope does not exist.*", since=mark)[0]
    assert "cp01" in cp_line and "cp01" in cs_line, (cp_line, cs_line)


def test_a_soap_request_that_could_not_be_sent_is_not_logged_as_sent() -> None:
    """A SOAP Charge Point whose Central System cannot be reached logs `>>cs /Heartbeat {}`
    (a request sent) then `Error: Heartbeat not sent`; over OCPP-J a CALL that was not sent
    is not logged as a frame."""
    closed = free_port()
    with SimProcess([], name="cp") as cp:
        cp.send(f"start_cp http://127.0.0.1:{closed}/ocpp s1 -t soap")
        cp.expect(r"cp#s1: Central System at ")
        mark = cp.send("heartbeat")
        cp.expect(r"^Error: Heartbeat not sent: cannot connect", since=mark)
        cp.expect_none(r"cp#s1: >>cs /Heartbeat", since=mark)


def test_the_central_system_says_why_a_charge_point_left(sims: Sims, port: int) -> None:
    """The Charge Point side shows `Connection lost (1001 going away)`; the Central System
    only `cp#x: Disconnected`, whatever the close code and reason."""
    cs = sims.cs(port, "-u", "/ocpp")

    async def leave() -> None:
        url = f"ws://127.0.0.1:{port}/ocpp/leaver"
        async with connect(url, subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
            await ws.close(4000, "maintenance")

    asyncio.run(asyncio.wait_for(leave(), 10))
    line = cs.expect(r"cp#leaver: Disconnected.*")[0]
    assert re.search(r"\(4000 .*maintenance\)", line), line


def test_a_plain_http_request_is_told_to_upgrade(sims: Sims, port: int) -> None:
    """A browser or curl on the CS's URL gets `400 No subprotocol offered`; what it lacks is
    the upgrade to a websocket (RFC 6455 §4.2.2: 426 Upgrade Required)."""
    sims.cs(port, "-u", "/ocpp")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET /ocpp/cp01 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 426"), answer[:80]


@pytest.fixture
def closing_server() -> Iterator[int]:
    """A websocket server that closes each connection with 4001 (a private-use code)."""

    def handler(ws: ServerConnection) -> None:
        ws.close(4001, "bye")

    with serve(handler, "127.0.0.1", 0, subprotocols=["ocpp1.5"]) as server:  # type: ignore[list-item]
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.socket.getsockname()[1]
        server.shutdown()


def test_a_private_use_close_code_is_named_so(closing_server: int) -> None:
    """RFC 6455 §7.4.2: 4000-4999 are for private use; ocppsim says `unknown code`."""
    with SimProcess([], name="cp", env={"OCPPSIM_RETRY_SECONDS": "30"}) as cp:
        cp.send(f"start_cp ws://127.0.0.1:{closing_server}/ocpp c1")
        found = cp.expect(r"cp#c1: Connection lost \((.*)\)")
        assert re.match(r"4001 private use: bye$", found[1]), found[1]


def _deaf_charge_point(port: int, cp_id: str) -> socket.socket:
    """A Charge Point that completes the handshake, then never reads again (a dead link)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET /ocpp/{cp_id} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Protocol: ocpp1.5\r\n\r\n".encode()
    )
    assert sock.recv(4096).startswith(b"HTTP/1.1 101")
    return sock


def test_the_central_systems_ping_lines_name_the_charge_point(sims: Sims, port: int) -> None:
    """`cs: PING sent to: 127.0.0.1:35256` and `cs: Error: no PONG within 1 seconds: …`:
    with a hundred CPs, which one is dead? The `Disconnected` line that follows names it."""
    cs = sims.cs(port, "-u", "/ocpp", "-i", "1")
    sock = _deaf_charge_point(port, "deaf1")
    try:
        found = cs.expect(r"cs: .*no PONG.*")
        cs.expect(r"cp#deaf1: Disconnected")
        assert "deaf1" in found[0], found[0]
    finally:
        sock.close()


def test_a_charge_point_refused_for_its_protocol_says_why(sims: Sims, port: int) -> None:
    """The CS answers `400 Unknown protocol `ocpp1.2' (served: ocpp1.5)`; its Charge Point
    shows `HTTP 400 Bad Request` and retries every 10 s, never saying the protocol is why."""
    sims.cs(port, "-u", "/ocpp", "-p", "ocpp1.5")
    cp = SimProcess([], name="cp", env={"OCPPSIM_RETRY_SECONDS": "30"})
    sims.started.append(cp)
    cp.send(f"start_cp ws://127.0.0.1:{port}/ocpp c12 -p ocpp1.2")
    line = cp.expect(r"cp#c12: Connect Error: .*")[0]
    assert "ocpp1.2" in line, line


@pytest.fixture
def hanging_up_server() -> Iterator[int]:
    """An HTTP peer that reads each request and closes the connection without answering."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve_forever() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)

    threading.Thread(target=serve_forever, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


def test_a_soap_request_sent_but_unanswered_is_no_answer(hanging_up_server: int) -> None:
    """The Central System read the request and hung up: `Error: Heartbeat not sent: …`
    though it was sent (OCPP-J says `no answer: connection closed`). The HTTP client tells
    the two apart (HttpAnswerFailed); the SOAP peer should pass it on as sent."""
    with SimProcess([], name="cp") as cp:
        cp.send(f"start_cp http://127.0.0.1:{hanging_up_server}/ocpp s2 -t soap")
        cp.expect(r"cp#s2: Central System at ")
        mark = cp.send("heartbeat")
        line = cp.expect(r"^Error: Heartbeat.*", since=mark)[0]
        assert line.startswith("Error: Heartbeat: no answer: "), line
