"""The HTTP server of the SOAP transport on its own: peers that hold connections without
using them (idle, slow headers, slow bodies) are dropped and the server keeps serving, and
one port serves every address family it listens on. The peers are raw TCP sockets."""

from __future__ import annotations

import asyncio
import errno
import gzip
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest

from ocppsim.transport.http import (
    HttpAnswerFailed,
    HttpClient,
    HttpFailed,
    HttpLimits,
    HttpReply,
    HttpRequest,
    HttpServer,
)

#: short limits, so a test waits for them in well under a second each
SHORT = HttpLimits(idle_timeout=0.5, body_timeout=0.5)


def run(scenario: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(scenario(), timeout)

    return asyncio.run(bounded())


async def echo(request: HttpRequest) -> HttpReply:
    return HttpReply(200, b"got " + request.body, "text/plain")


@asynccontextmanager
async def http_server(
    host: str | None = "127.0.0.1", limits: HttpLimits = SHORT, port: int = 0
) -> AsyncIterator[HttpServer]:
    server = HttpServer(host, port, "/", echo, limits)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def ipv6_loopback() -> bool:
    """True when this machine can listen on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


async def post(host: str, port: int, body: bytes = b"hello") -> bytes:
    """One POST on a fresh connection; the raw response."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    response = await reader.read()
    writer.close()
    return response


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    data = b""
    while chunk := await reader.read(65536):
        data += chunk
    return data


# ----------------------------------------------------------------------------- limits


def test_idle_connections_are_dropped_and_the_server_still_serves() -> None:
    """300 connections that never send a byte (today's fd exhaustion) are all closed by
    the server after the idle timeout, and it answers a request meanwhile and after."""

    async def scenario() -> None:
        async with http_server() as server:
            idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(300)]
            assert (await post("127.0.0.1", server.port)).endswith(b"got hello")
            # the server closes each one: EOF, nothing sent (bounded by run())
            assert await asyncio.gather(*(closed_by_server(r) for r, _ in idle)) == [b""] * 300
            for _, writer in idle:
                writer.close()
            assert (await post("127.0.0.1", server.port)).endswith(b"got hello")

    run(scenario)


def test_a_keep_alive_connection_is_dropped_once_idle_after_its_answer() -> None:
    async def scenario() -> None:
        async with http_server() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            answer = await reader.readuntil(b"got hi")
            assert answer.startswith(b"HTTP/1.1 200")
            assert await closed_by_server(reader) == b""  # kept alive, then dropped
            writer.close()

    run(scenario)


def test_slow_headers_are_dropped_though_bytes_keep_coming() -> None:
    """A peer trickling header lines never completes a request: the idle timer is not
    restarted by partial data, so the connection goes after `idle_timeout`."""

    async def scenario() -> None:
        async with http_server() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\n")
            closed = asyncio.ensure_future(closed_by_server(reader))
            lines = 0
            while not closed.done() and lines < 200:  # the hostile peer's pace: 20 lines/s
                writer.write(f"X-Slow-{lines}: y\r\n".encode())
                lines += 1
                await asyncio.wait({closed}, timeout=0.05)
            assert closed.done(), "the server kept a connection whose headers never end"
            assert await closed == b""
            assert lines < 200
            writer.close()
            assert (await post("127.0.0.1", server.port)).endswith(b"got hello")

    run(scenario)


def test_a_slow_body_gets_408_and_the_connection_closes() -> None:
    async def scenario() -> None:
        async with http_server() as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten!!")
            answer = await closed_by_server(reader)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout")
            assert b"body not received within 0.5 s" in answer
            writer.close()
            assert (await post("127.0.0.1", server.port)).endswith(b"got hello")

    run(scenario)


def test_a_body_over_the_limit_gets_413() -> None:
    async def scenario() -> None:
        async with http_server(limits=HttpLimits(max_body_bytes=1000)) as server:
            response = await post("127.0.0.1", server.port, b"x" * 2000)
            assert response.startswith(b"HTTP/1.1 413")
            assert (await post("127.0.0.1", server.port, b"y" * 1000)).endswith(b"y" * 1000)

    run(scenario)


def test_default_limits() -> None:
    limits = HttpServer(None, 0, "/", echo).limits
    assert (limits.idle_timeout, limits.body_timeout) == (30.0, 30.0)
    assert limits.max_body_bytes == 4 * 1024 * 1024


# ----------------------------------------------------------------------------- the client


@asynccontextmanager
async def answering(*answers: bytes) -> AsyncIterator[str]:
    """A raw HTTP peer giving each POST the next canned answer (then closing); its URL."""
    queue = list(answers)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        try:
            writer.write(queue.pop(0))
            await writer.drain()
        except (ConnectionError, IndexError):
            pass
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    finally:
        server.close()


def test_a_request_sent_without_an_answer_is_told_from_one_not_sent() -> None:
    """Cannot connect: HttpFailed (nothing went out); the peer hangs up after reading the
    request: HttpAnswerFailed (it went out, a simulator says "no answer", not "not sent")."""

    async def scenario() -> None:
        client = HttpClient()
        try:
            async with answering(b"") as url:  # reads the request, closes without a word
                with pytest.raises(HttpAnswerFailed, match="no answer from"):
                    await client.post(url, b"a", {}, 5)
                port = int(url.rsplit(":", 1)[1].strip("/"))
            with pytest.raises(HttpFailed, match="cannot connect") as info:
                await client.post(f"http://127.0.0.1:{port}/", b"a", {}, 5)
            assert not isinstance(info.value, HttpAnswerFailed)
        finally:
            await client.close()

    run(scenario)


def answer(body: bytes, *headers: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in (*headers, f"Content-Length: {len(body)}"))
    return f"HTTP/1.1 200 OK\r\nConnection: close\r\n{head}\r\n".encode() + body


def test_the_client_reads_at_most_max_answer_bytes_even_compressed() -> None:
    """A hostile peer cannot fill the memory with a huge answer, nor with a small gzip one
    that inflates (a 1 KB gzip of 1 MB of zeros): past the limit the POST fails."""
    bomb = gzip.compress(b"\0" * (1 << 20))
    assert len(bomb) < 2000

    async def scenario() -> None:
        client = HttpClient(max_answer_bytes=64 * 1024)
        try:
            async with answering(
                answer(b"<ok/>"),
                answer(b"x" * (1 << 20)),
                answer(bomb, "Content-Encoding: gzip"),
                b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"y" * (1 << 20),
            ) as url:
                assert (await client.post(url, b"a", {}, 5)).body == b"<ok/>"
                for _ in range(3):
                    with pytest.raises(HttpAnswerFailed, match="answer larger than 65536 bytes"):
                        await client.post(url, b"a", {}, 5)
        finally:
            await client.close()
        assert HttpClient().max_answer_bytes == 4 * 1024 * 1024

    run(scenario)


# ----------------------------------------------------------------------------- one port


def test_no_host_listens_on_one_port_for_ipv4_and_ipv6() -> None:
    async def scenario() -> None:
        async with http_server(host=None) as server:
            assert {port for _, port in server.addresses} == {server.port}
            hosts = {address for address, _ in server.addresses}
            assert "0.0.0.0" in hosts
            assert (await post("127.0.0.1", server.port)).endswith(b"got hello")
            if ipv6_loopback():
                assert "::" in hosts
                assert (await post("::1", server.port)).endswith(b"got hello")

    run(scenario)


def test_a_port_taken_on_one_family_fails_on_all() -> None:
    """A fixed port held on IPv6 by someone else: start fails and leaves IPv4 free."""
    if not ipv6_loopback():
        pytest.skip("this machine cannot listen on IPv6")

    async def scenario() -> None:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as holder:
            holder.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            holder.bind(("::", 0))
            holder.listen()
            port = holder.getsockname()[1]
            server = HttpServer(None, port, "/", echo)
            with pytest.raises(OSError) as failed:
                await server.start()
            assert failed.value.errno == errno.EADDRINUSE
        # the IPv4 socket was closed again: nothing listens there (a bind would also fail when
        # another process's connection happens to use that port, as on a busy machine)
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)

    run(scenario)


def test_a_named_host_listens_on_what_it_resolves_to() -> None:
    async def scenario() -> None:
        async with http_server(host="localhost") as server:
            assert server.addresses
            assert {port for _, port in server.addresses} == {server.port}
            assert {address for address, _ in server.addresses} <= {"127.0.0.1", "::1"}
            assert (await post("127.0.0.1", server.port)).endswith(b"got hello")

    run(scenario)
