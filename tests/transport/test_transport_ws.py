"""The WebSocket transport on its own: what driving `websockets`' sans-I/O protocol from an
`asyncio.Protocol` has to get right (fragments, back-pressure, junk clients, closing
handshakes both ways, size limits, pings, handshake errors). The foreign peer is
`websockets`' own asyncio client, or a raw TCP socket."""

from __future__ import annotations

import asyncio
import http.client
import io
import logging
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.uri import parse_uri

from ocppsim.security.tls import PLAIN_HTTP_ANSWER_TEXT, tls_failure
from ocppsim.transport import ConnectFailed
from ocppsim.transport.ws import connection
from ocppsim.transport.ws import server as ws_server
from ocppsim.transport.ws.client import open_connection as open_link
from ocppsim.transport.ws.connection import Connection as Link
from ocppsim.transport.ws.server import Handshake, Rejection, start_server


def run(scenario: Callable[[], Awaitable[Any]], timeout: float = 10) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())


def admit(
    path: str, offered: list[str] | None, handshake: Handshake
) -> tuple[str, str] | Rejection | None:
    if not path.startswith("/ocpp/"):
        return Rejection(HTTPStatus.NOT_FOUND, "Not Found\n")
    if offered is None:
        return None  # no WebSocket handshake: 426
    if "ocpp1.5" not in offered:
        return Rejection(HTTPStatus.BAD_REQUEST, "Unknown protocol\n")
    return path.rsplit("/", 1)[1], "ocpp1.5"


class Recorder:
    """An `on_link` that records links and the frames each one received."""

    def __init__(self, on_frame: Callable[[Link, str], None] | None = None) -> None:
        self.links: asyncio.Queue[Link] = asyncio.Queue()
        self.frames: list[str] = []
        self.frame_seen = asyncio.Event()
        self.ended: list[BaseException | None] = []
        self.on_frame = on_frame

    async def __call__(self, link: Link, cp_id: str) -> None:
        await self.links.put(link)

        def received(text: str) -> None:
            self.frames.append(text)
            self.frame_seen.set()
            if self.on_frame is not None:
                self.on_frame(link, text)

        try:
            await link.serve(received)
        except Exception as exc:
            self.ended.append(exc)
            raise
        self.ended.append(None)


@asynccontextmanager
async def server(recorder: Recorder, **kwargs: Any) -> AsyncIterator[str]:
    srv = await start_server("127.0.0.1", 0, admit, recorder, **kwargs)
    port = srv.sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}"
    finally:
        srv.close()
        await srv.wait_closed()


async def silent_client(url: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A raw TCP client that completes the opening handshake, then reads only if told to."""
    uri = parse_uri(url)
    client = ClientProtocol(uri, subprotocols=["ocpp1.5"])  # type: ignore[list-item]
    reader, writer = await asyncio.open_connection(uri.host, uri.port)
    client.send_request(client.connect())
    writer.write(b"".join(client.data_to_send()))
    await reader.readuntil(b"\r\n\r\n")
    return reader, writer


def echo(link: Link, text: str) -> None:
    link.send_now(text)


def test_text_and_fragmented_messages_arrive_whole() -> None:
    async def scenario() -> list[str]:
        recorder = Recorder(echo)
        async with server(recorder) as url:
            async with connect(url + "/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                assert ws.subprotocol == "ocpp1.5"
                await ws.send("plain")
                assert await ws.recv() == "plain"
                await ws.send(["frag", "ment", "ed ✓"])  # one message in three frames
                assert await ws.recv() == "fragmented ✓"
        return recorder.frames

    assert run(scenario) == ["plain", "fragmented ✓"]


@pytest.mark.parametrize("message", [b'[2,"1","Heartbeat",{}]', [b"[2,", b'"1","Heartbeat",{}]']])
def test_a_binary_message_is_refused_with_1003_and_the_text_before_it_arrives(
    message: bytes | list[bytes],
) -> None:
    """OCPP-J messages are text frames: a binary one (whole or in fragments) closes the
    connection with 1003 and a reason, where it used to be read as UTF-8 text; what came
    before it is delivered, nothing of it is."""

    async def scenario() -> tuple[list[str], int | None, str | None, str]:
        recorder = Recorder(echo)
        async with server(recorder) as url:
            async with connect(url + "/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                await ws.send("before")
                assert await ws.recv() == "before"
                await ws.send(message)
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
                received = ws.protocol.close_rcvd
            link = recorder.links.get_nowait()
            await asyncio.shield(link._lost)
            code = received.code if received else None
            reason = received.reason if received else None
            return recorder.frames, code, reason, link.close_description

    frames, code, reason, description = run(scenario)
    assert frames == ["before"]
    assert code == 1003 and reason == connection.BINARY_REFUSED
    assert description == f"1003 unsupported data: {connection.BINARY_REFUSED}"


def test_frames_iterator_gets_what_arrived_before_and_after() -> None:
    async def scenario() -> list[str]:
        got: list[str] = []

        async def on_link(link: Link, cp_id: str) -> None:
            async for text in link.frames():
                got.append(text)
                if text == "stop":
                    await link.close()

        srv = await start_server("127.0.0.1", 0, admit, on_link)
        port = srv.sockets[0].getsockname()[1]
        async with connect(f"ws://127.0.0.1:{port}/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
            for index in range(200):  # more than the backlog's high-water mark
                await ws.send(str(index))
            await ws.send("stop")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
        srv.close()
        await srv.wait_closed()
        return got

    assert run(scenario) == [str(index) for index in range(200)] + ["stop"]


def test_a_client_that_does_not_read_makes_send_wait() -> None:
    async def scenario() -> None:
        recorder = Recorder()
        async with server(recorder) as url:
            reader, writer = await silent_client(url + "/ocpp/CP1")
            link = await recorder.links.get()
            chunk = "x" * 65536
            blocked = None
            for _ in range(400):  # at most 25 MiB; the socket buffers fill long before
                sending = asyncio.ensure_future(link.send(chunk))
                await asyncio.sleep(0)
                if not sending.done():
                    blocked = sending
                    break
                await sending
            assert blocked is not None, "send never waited for the client to read"
            await asyncio.sleep(0.1)
            assert not blocked.done()
            # the client reads everything: the pending send completes
            assert link._write_paused  # and the server stopped reading that client
            while not blocked.done():
                assert await reader.read(1 << 20)
            await blocked
            writer.close()

    run(scenario)


@pytest.mark.parametrize(
    ("junk", "answer"),
    [
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http\r\n\r\n", b""),
        (b"HELLO\r\n\r\n", b"HTTP/1.1 400 Bad Request\r\n"),
    ],
    ids=["tls", "not-http"],
)
def test_a_non_http_client_is_closed_and_the_server_keeps_serving(
    junk: bytes, answer: bytes
) -> None:
    """A TLS client is closed (it could not read a plain answer); a line that is no HTTP
    request is answered 400 with the reason (RFC 9112 §3), then closed."""

    async def scenario() -> None:
        recorder = Recorder(echo)
        async with server(recorder) as url:
            host, port = url.removeprefix("ws://").split(":")
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(junk)
            data = await asyncio.wait_for(reader.read(), 5)
            assert data.startswith(answer) and (answer or data == b""), data
            writer.close()
            async with connect(url + "/ocpp/CP2", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                await ws.send("still here")
                assert await ws.recv() == "still here"

    run(scenario)


def test_a_plain_http_get_is_answered_426_or_404() -> None:
    async def fetch(url: str, path: str) -> bytes:
        host, port = url.removeprefix("ws://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nSec-WebSocket-Protocol: ocpp1.5\r\n\r\n"
        writer.write(request.encode())
        answer = await asyncio.wait_for(reader.read(), 5)
        writer.close()
        return answer

    async def scenario() -> tuple[bytes, bytes]:
        async with server(Recorder()) as url:
            return await fetch(url, "/ocpp/CP1"), await fetch(url, "/elsewhere")

    upgrade, wrong = run(scenario)
    assert upgrade.startswith(b"HTTP/1.1 426 Upgrade Required\r\n")
    assert b"You need a WebSocket client" in upgrade
    assert wrong.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert wrong.endswith(b"\r\n\r\nNot Found\n")


def test_the_server_closes_with_a_code_and_reason() -> None:
    async def scenario() -> tuple[Any, str, list[BaseException | None]]:
        recorder = Recorder()
        async with server(recorder) as url:
            async with connect(url + "/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                link = await recorder.links.get()
                closing = asyncio.ensure_future(link.close(1000, "replaced"))
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
                await closing
                await asyncio.sleep(0.05)
                return closed.value.rcvd, link.close_description, recorder.ended

    rcvd, reason, ended = run(scenario)
    assert (rcvd.code, rcvd.reason) == (1000, "replaced")
    assert reason == "1000 normal closure: replaced"
    assert ended == [None]


def test_the_client_closes_and_the_server_link_ends() -> None:
    async def scenario() -> tuple[str, list[BaseException | None]]:
        recorder = Recorder()
        async with server(recorder) as url:
            ws = await connect(url + "/ocpp/CP1", subprotocols=["ocpp1.5"])  # type: ignore[list-item]
            link = await recorder.links.get()
            await ws.close(4000, "bye")
            while not recorder.ended:
                await asyncio.sleep(0.01)
            return link.close_description, recorder.ended

    reason, ended = run(scenario)
    assert reason == "4000 private use: bye"
    assert ended == [None]


def test_our_client_and_server_close_both_ways_and_ping() -> None:
    async def scenario() -> None:
        recorder = Recorder(echo)
        async with server(recorder) as url:
            link = await open_link(url + "/ocpp/CP1", "ocpp1.5")
            assert link.subprotocol == "ocpp1.5"
            received: list[str] = []
            serving = asyncio.ensure_future(link.serve(received.append))
            await link.send("hello")
            server_link = await recorder.links.get()
            assert 0 <= await link.ping() < 5
            assert 0 <= await server_link.ping() < 5
            assert received == ["hello"]
            assert server_link.remote_address.startswith("127.0.0.1:")
            await link.close()
            await serving
            assert link.close_description == "1000 normal closure"
            with pytest.raises(ConnectionClosed):
                await link.send("too late")
            # and the server side closing our client
            link = await open_link(url + "/ocpp/CP2", "ocpp1.5")
            serving = asyncio.ensure_future(link.serve(received.append))
            server_link = await recorder.links.get()
            await server_link.close(1001, "going")
            await serving
            assert link.close_description == "1001 going away: going"

    run(scenario)


def test_abort_drops_a_peer_that_reads_nothing_at_once_with_its_close_frame() -> None:
    """A dead peer never answers a close: `abort` sends the close frame it can and drops the
    TCP connection without the closing handshake's 10 s wait (keepalive timeouts use it)."""
    from websockets.frames import Close, Opcode
    from websockets.protocol import Protocol, Side

    async def scenario() -> None:
        recorder = Recorder()
        async with server(recorder) as url:
            reader, writer = await silent_client(url + "/ocpp/CP1")
            link = await recorder.links.get()
            unanswered = asyncio.ensure_future(link.ping())
            await asyncio.sleep(0)  # the ping goes out (and is never answered)
            link.abort(1011, "keepalive timeout")
            assert not link.is_open
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(unanswered, 5)
            await asyncio.wait_for(link._lost, 5)  # the TCP connection is gone already
            received = await asyncio.wait_for(reader.read(), 5)
            parser = Protocol(Side.CLIENT)
            parser.receive_data(received)
            frames = parser.events_received()
            assert [f.opcode for f in frames] == [Opcode.PING, Opcode.CLOSE]
            closes = [Close.parse(f.data) for f in frames if f.opcode is Opcode.CLOSE]
            assert [(c.code, c.reason) for c in closes] == [(1011, "keepalive timeout")]
            assert link.close_description == "1011 internal error: keepalive timeout"
            writer.close()

    run(scenario)


def test_a_frame_above_max_size_closes_that_connection_with_1009() -> None:
    async def scenario() -> int | None:
        recorder = Recorder(echo)
        async with server(recorder, max_size=1000) as url:
            async with connect(url + "/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                await ws.send("x" * 2000)
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            async with connect(url + "/ocpp/CP2", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                await ws.send("small")
                assert await ws.recv() == "small"
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    assert run(scenario) == 1009


def test_a_consumer_that_raises_closes_its_connection_with_1011() -> None:
    def broken(link: Link, text: str) -> None:
        raise ValueError("consumer bug")

    async def scenario() -> tuple[int | None, list[BaseException | None]]:
        recorder = Recorder(broken)
        async with server(recorder) as url:
            async with connect(url + "/ocpp/CP1", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                await ws.send("boom")
                with pytest.raises(ConnectionClosed) as closed:
                    await ws.recv()
            while not recorder.ended:
                await asyncio.sleep(0.01)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, recorder.ended

    code, ended = run(scenario)
    assert code == 1011
    assert isinstance(ended[0], ValueError)


def test_handshake_rejections_and_errors_map_to_connect_failed() -> None:
    async def scenario() -> list[tuple[str, bool]]:
        results = []
        async with server(Recorder()) as url:
            for target, protocol in [
                (url + "/elsewhere", "ocpp1.5"),
                (url + "/ocpp/CP1", "ocpp9.9"),
                ("http://nowhere", "ocpp1.5"),
            ]:
                with pytest.raises(ConnectFailed) as failed:
                    await open_link(target, protocol)
                results.append((failed.value.reason, failed.value.retry))
            # a server that closes without answering
            silent = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
            port = silent.sockets[0].getsockname()[1]
            with pytest.raises(ConnectFailed) as failed:
                await open_link(f"ws://127.0.0.1:{port}/x", "ocpp1.5")
            results.append((failed.value.reason, failed.value.retry))
            silent.close()
            with pytest.raises(ConnectFailed) as failed:  # nothing listens there any more
                await open_link(f"ws://127.0.0.1:{port}/x", "ocpp1.5")
            results.append((failed.value.reason.split("]")[0], failed.value.retry))
        return results

    assert run(scenario) == [
        ("404 Not Found. Wrong endpoint URL", False),
        ("server rejected the connection: HTTP 400 Bad Request: Unknown protocol", True),
        (
            "invalid URL 'http://nowhere': a websocket URL starts with ws:// or wss:// "
            "(add -t soap for an http:// Central System)",
            False,
        ),
        (
            "InvalidMessage: did not receive a valid HTTP response (if the server speaks TLS, "
            "use wss://)",
            True,
        ),
        ("[Errno 111", True),
    ]


@pytest.mark.parametrize("sent", [b"", b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\n"])
def test_a_slow_client_gets_408_after_the_open_timeout(monkeypatch, sent: bytes) -> None:
    """A client that sends nothing, or half a request, within the open timeout is answered
    408 Request Timeout (it used to be dropped without an answer) and the server is told."""
    monkeypatch.setattr(ws_server, "OPEN_TIMEOUT", 0.2)

    async def scenario() -> tuple[bytes, list[str], str]:
        told: list[str] = []
        srv = await start_server(
            "127.0.0.1", 0, admit, Recorder(), on_handshake_timeout=told.append
        )
        port = srv.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(sent)
        data = await asyncio.wait_for(reader.read(), 5)
        host, port_ = writer.get_extra_info("sockname")[:2]
        local = f"{host}:{port_}"
        writer.close()
        srv.close()
        await srv.wait_closed()
        return data, told, local

    data, told, local = run(scenario)
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), data
    assert b"Connection: close\r\n" in data
    assert data.endswith(b"No complete WebSocket handshake request within 0.2 s.\n"), data
    assert told == [local]


UPGRADE = (
    b"Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    b"Sec-WebSocket-Protocol: ocpp1.5\r\n"
)
KEY = b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"


@pytest.mark.parametrize(
    ("request_", "status"),
    [
        # websockets 16 (Python 3.10) cannot parse these: 400 Bad Request there
        (b"POST /ocpp/CP1 HTTP/1.1\r\n" + UPGRADE + KEY + b"\r\n", "HTTP 405 Method Not Allowed"),
        (
            b"GET /ocpp/CP1 HTTP/1.0\r\n" + UPGRADE + KEY + b"\r\n",
            "HTTP 505 HTTP Version Not Supported",
        ),
        (b"GET /ocpp/CP1 HTTP/1.1\r\n" + UPGRADE + b"\r\n", "HTTP 400 Bad Request"),
        (b"\x00\x01junk\r\n\r\n", "HTTP 400 Bad Request"),
    ],
    ids=["post", "http-1.0", "no-key", "junk"],
)
def test_a_request_websockets_refuses_is_told_with_its_status(request_: bytes, status: str) -> None:
    """What `websockets` refuses itself (after `admit` or before: no key, a POST, HTTP/1.0,
    no HTTP at all) is answered with its status and told to `on_handshake_refused`; what
    `admit` refuses (it says why) and a browser's 426 are not."""

    async def scenario() -> tuple[bytes, list[tuple[str, str, str]], str]:
        told: list[tuple[str, str, str]] = []

        def refused(remote: str, status: str, reason: str) -> None:
            told.append((remote, status, reason))

        srv = await start_server("127.0.0.1", 0, admit, Recorder(), on_handshake_refused=refused)
        port = srv.sockets[0].getsockname()[1]
        for quiet_request in (
            b"GET /ocpp/CP1 HTTP/1.1\r\n\r\n",
            b"GET /elsewhere HTTP/1.1\r\n\r\n",
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(quiet_request)  # 426, 404: not told
            await asyncio.wait_for(reader.read(), 5)
            writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(request_)
        data = await asyncio.wait_for(reader.read(), 5)
        host, port_ = writer.get_extra_info("sockname")[:2]
        writer.close()
        srv.close()
        await srv.wait_closed()
        return data, told, f"{host}:{port_}"

    data, told, local = run(scenario)
    sent = "HTTP " + data.split(b"\r\n", 1)[0].decode().removeprefix("HTTP/1.1 ")
    assert sent in (status, "HTTP 400 Bad Request"), data
    assert len(told) == 1 and told[0][:2] == (local, sent), told
    assert told[0][2] and not told[0][2].startswith("Failed to open"), told


@pytest.mark.parametrize(
    "after",
    [b"\x88\x82\x00\x00\x00\x00\x03\xe8", b"\x81\x05hello", b"GET /ocpp/CP3 HTTP/1.1\r\n\r\n"],
    ids=["close-frame", "unmasked-frame", "second-request"],
)
@pytest.mark.parametrize("protocols", [["ocpp1.5"], []], ids=["accepted", "rejected"])
def test_bytes_right_behind_the_request_never_raise(
    after: bytes, protocols: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A request and something more in one segment: answered or dropped, never a traceback."""

    async def scenario() -> None:
        recorder = Recorder(echo)
        async with server(recorder) as url:
            uri = parse_uri(url + "/ocpp/CP1")
            client = ClientProtocol(uri, subprotocols=protocols or None)  # type: ignore[arg-type]
            reader, writer = await asyncio.open_connection(uri.host, uri.port)
            client.send_request(client.connect())
            writer.write(b"".join(client.data_to_send()) + after)
            await asyncio.wait_for(reader.read(), 15)  # whatever comes, then the end
            writer.close()
            async with connect(url + "/ocpp/CP2", subprotocols=["ocpp1.5"]) as ws:  # type: ignore[list-item]
                await ws.send("still here")
                assert await ws.recv() == "still here"

    run(scenario, timeout=20)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_a_send_to_a_peer_that_never_reads_gives_up(monkeypatch) -> None:
    monkeypatch.setattr(connection, "SEND_TIMEOUT", 0.3)

    async def scenario() -> None:
        recorder = Recorder()
        async with server(recorder) as url:
            reader, writer = await silent_client(url + "/ocpp/CP1")
            link = await recorder.links.get()
            with pytest.raises(ConnectionError, match="read nothing for 0.3 s"):
                for _ in range(400):  # the socket buffers fill long before 25 MiB
                    await link.send("x" * 65536)
            assert not link.is_open
            writer.close()

    run(scenario)


def test_close_description_names_the_code_its_meaning_and_the_reason() -> None:
    from websockets.frames import Close
    from websockets.protocol import Protocol

    def described(received: Close | None, sent: Close | None, received_first: bool) -> str:
        link = object.__new__(Link)
        protocol = object.__new__(Protocol)
        protocol.close_rcvd, protocol.close_sent = received, sent
        protocol.close_rcvd_then_sent = received_first if received and sent else None
        link._protocol = protocol  # type: ignore[assignment]
        return link.close_description

    too_big = Close(1009, "frame with 5000080 bytes exceeds limit of 4194304 bytes")
    assert described(too_big, Close(1009, ""), True) == (
        "1009 message too big: frame with 5000080 bytes exceeds limit of 4194304 bytes"
    )
    assert described(Close(1001, ""), Close(1001, ""), True) == "1001 going away"
    assert described(Close(1000, ""), Close(1011, "keepalive timeout"), False) == (
        "1011 internal error: keepalive timeout"
    )
    assert described(Close(1000, "bye"), None, True) == "1000 normal closure: bye"
    assert described(None, None, True) == "1006 abnormal closure"


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_with_no_host_every_family_listens_on_the_one_port_reported() -> None:
    """`start_server(None, 0, …)`: IPv4 and IPv6 on the same random port (it used to be two
    random ports, one of them never reported), as the HTTP server does."""

    async def scenario() -> tuple[set[int], set[int], int, list[str]]:
        recorder = Recorder(echo)
        srv = await start_server(None, 0, admit, recorder)
        try:
            hosts = ["127.0.0.1", "[::1]"] if _ipv6_loopback() else ["127.0.0.1"]
            answers = []
            for index, host in enumerate(hosts):
                link = await open_link(f"ws://{host}:{srv.port}/ocpp/CP{index}", "ocpp1.5")
                received: list[str] = []
                link.deliver(received.append, lambda error: None)
                await link.send(f"hello {host}")
                while not received:
                    await asyncio.sleep(0.01)
                answers.extend(received)
                await link.close()
            ports = {sock.getsockname()[1] for sock in srv.sockets}
            families = {sock.family for sock in srv.sockets}
            return ports, families, srv.port, answers
        finally:
            srv.close()
            await srv.wait_closed()

    ports, families, port, answers = run(scenario)
    assert ports == {port} and port > 0
    assert socket.AF_INET in families
    if _ipv6_loopback():
        assert socket.AF_INET6 in families
        assert answers == ["hello 127.0.0.1", "hello [::1]"]


def test_deliver_hands_frames_from_the_reading_callback_and_tells_the_end() -> None:
    """No task waits for a connection delivered to callbacks: frames arrive as read, and
    `on_closed` is told once the connection is gone (with no error for a clean close)."""

    async def scenario() -> tuple[list[str], list[BaseException | None], int]:
        recorder = Recorder(echo)
        async with server(recorder) as url:
            link = await open_link(url + "/ocpp/CP1", "ocpp1.5")
            received: list[str] = []
            ended: list[BaseException | None] = []
            before = len(asyncio.all_tasks())
            link.deliver(received.append, ended.append)
            tasks = len(asyncio.all_tasks()) - before
            await link.send("one")
            await link.send("two")
            while len(received) < 2:
                await asyncio.sleep(0.01)
            await link.close()
            return received, ended, tasks

    received, ended, tasks = run(scenario)
    assert received == ["one", "two"]
    assert ended == [None]
    assert tasks == 0


def test_a_server_that_agrees_to_no_subprotocol_is_no_connection() -> None:
    """OCPP-J 1.6 §3.1.2: a server that takes none of the offered subprotocols completes the
    handshake without one and closes. The Charge Point said `Connected to Central System`
    and sent its BootNotification to a server that does not speak its version."""
    from websockets.asyncio.server import ServerConnection, serve

    closed: asyncio.Queue[int | None] = asyncio.Queue()

    async def handler(ws: ServerConnection) -> None:
        try:
            await ws.recv()
        except ConnectionClosed as exc:
            await closed.put(exc.rcvd.code if exc.rcvd is not None else None)

    async def scenario() -> tuple[str, bool, int | None]:
        async with serve(handler, "127.0.0.1", 0) as plain:  # it negotiates nothing
            port = plain.sockets[0].getsockname()[1]
            with pytest.raises(ConnectFailed) as failed:
                await open_link(f"ws://127.0.0.1:{port}/ocpp/CP1", "ocpp1.6")
            return failed.value.reason, failed.value.retry, await closed.get()

    reason, retry, code = run(scenario)
    assert reason.startswith("the server agreed to no subprotocol (offered: ocpp1.6)"), reason
    assert retry and code == 1002


def test_an_open_connection_keeps_no_handshake_headers() -> None:
    """Memory per connection: `websockets`' parser keeps the opening handshake's request
    (server) and response (client) for the connection's life; their headers (~2.5 KB) go."""
    import gc

    from websockets.datastructures import Headers

    def handshake_headers() -> int:
        gc.collect()
        return sum(
            1
            for obj in gc.get_objects()
            if isinstance(obj, Headers)
            and ("Sec-WebSocket-Key" in obj or "Sec-WebSocket-Accept" in obj)
        )

    async def scenario() -> tuple[int, int]:
        recorder = Recorder()
        async with server(recorder) as url:
            before = handshake_headers()
            links = [await open_link(f"{url}/ocpp/CP{n}", "ocpp1.5") for n in range(10)]
            for _ in links:
                await recorder.links.get()
            after = handshake_headers()
            for link in links:
                await link.close()
        return before, after

    before, after = run(scenario)
    assert after == before, f"{after - before} handshakes' headers kept by 10 connections"


def _tls_contexts(certs: Any) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with the test PKI's server certificate, a client that trusts its CA."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certs.server, certs.server_key)
    client = ssl.create_default_context(cafile=certs.ca)
    return server, client


class _Bytes:
    """What `http.client.HTTPResponse` reads a response from: a socket's file of `data`."""

    def __init__(self, data: bytes):
        self.data = data

    def makefile(self, mode: str) -> io.BytesIO:
        return io.BytesIO(self.data)


def _on_loop(loop_name: str, scenario: Callable[[], Awaitable[Any]]) -> Any:
    """Run `scenario` on asyncio's loop or on uvloop (what the `ocppsim` command runs on)."""
    if loop_name == "asyncio":
        return run(scenario)
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not installed here")

    async def bounded() -> Any:
        return await asyncio.wait_for(scenario(), 10)

    return uvloop.run(bounded())


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        (b"GET /ocpp/CP1 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n", True),
        (b"HELLO, this is no TLS\r\n\r\n", False),
    ],
    ids=["http", "junk"],
)
def test_plain_bytes_at_a_tls_port_and_tls_clients_after_them(
    certs: Any, loop_name: str, sent: bytes, answered: bool
) -> None:
    """A plain HTTP request at a TLS port (a ws:// URL at a wss:// port) gets nginx's 400
    "plain HTTP request was sent to a TLS port" in plain HTTP, where it used to get a closed
    connection; bytes that are neither are closed as before; both are told to the server;
    TLS clients are served after them, on asyncio's loop and on uvloop."""
    server_context, client_context = _tls_contexts(certs)

    async def scenario() -> tuple[bytes, list[BaseException], str]:
        told: list[BaseException] = []
        srv = await start_server(
            "127.0.0.1", 0, admit, Recorder(echo), ssl=server_context, on_tls_failure=told.append
        )
        port = srv.sockets[0].getsockname()[1]
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(sent)
            # as an HTTP client reads a response: its head, then Content-Length bytes (the
            # server closes once the client has, or at the handshake timeout)
            try:
                answer = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
                length = int(answer.split(b"Content-Length: ")[1].split(b"\r\n")[0])
                answer += await asyncio.wait_for(reader.readexactly(length), 5)
            except asyncio.IncompleteReadError as exc:
                answer = exc.partial
            writer.close()
            url = f"wss://localhost:{port}/ocpp/CP2"
            async with connect(url, subprotocols=["ocpp1.5"], ssl=client_context) as ws:  # type: ignore[list-item]
                await ws.send("over TLS")
                echoed = await ws.recv()
        finally:
            srv.close()
            await srv.wait_closed()
        return answer, told, str(echoed)

    answer, told, echoed = _on_loop(loop_name, scenario)
    assert echoed == "over TLS"
    assert [tls_failure(exc).code for exc in told] == ["not-tls"], told
    if answered:
        assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
        assert answer.endswith(b"\r\n\r\n" + PLAIN_HTTP_ANSWER_TEXT.encode()), answer
        response = http.client.HTTPResponse(_Bytes(answer))  # type: ignore[arg-type]
        response.begin()  # a well-formed response, as an HTTP client reads it
        assert (response.status, response.read().decode()) == (400, PLAIN_HTTP_ANSWER_TEXT)
    else:
        assert answer == b"", answer
