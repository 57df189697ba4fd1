"""TLS handshakes between two real sockets on 127.0.0.1 (port 0): a server thread with one
context, a client with another, and what each end saw."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass

#: the longest a handshake test waits on a socket (never reached when things work)
SOCKET_TIMEOUT = 20.0


@dataclass
class Handshake:
    """What each end of one TLS connection saw: None for success, else the exception."""

    server_error: BaseException | None = None
    client_error: BaseException | None = None
    #: the client's error on its first read (TLS 1.3 reports a refused client certificate there)
    client_read_error: BaseException | None = None
    received: bytes = b""

    @property
    def ok(self) -> bool:
        return (
            self.server_error is None
            and self.client_error is None
            and self.client_read_error is None
            and self.received == b"hello"
        )

    @property
    def client_failure(self) -> BaseException | None:
        return self.client_error or self.client_read_error


def handshake(
    server: ssl.SSLContext,
    client: ssl.SSLContext,
    server_hostname: str | None = "localhost",
    *,
    on_server: Callable[[ssl.SSLSocket, Handshake], None] | None = None,
    plain_bytes: bytes | None = None,
) -> Handshake:
    """Connect `client` to a server using `server` over 127.0.0.1:0; the server sends `hello`
    once the handshake is done. `on_server(ssl_socket, result)` runs on the server's connection
    first. With `plain_bytes`, the client sends them without TLS instead."""
    result = Handshake()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(SOCKET_TIMEOUT)
    port = listener.getsockname()[1]

    def serve() -> None:
        try:
            raw, _ = listener.accept()
        except OSError as exc:  # pragma: no cover - the client never came
            result.server_error = exc
            return
        raw.settimeout(SOCKET_TIMEOUT)
        try:
            with server.wrap_socket(raw, server_side=True) as tls:
                if on_server is not None:
                    on_server(tls, result)
                tls.sendall(b"hello")
                try:
                    tls.recv(1)  # until the client closes
                except (OSError, ssl.SSLError):
                    pass
        except (OSError, ssl.SSLError) as exc:
            result.server_error = exc
            raw.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    raw = socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT)
    try:
        if plain_bytes is not None:
            raw.sendall(plain_bytes)
            try:
                raw.recv(100)
            except OSError:
                pass
        else:
            try:
                tls = client.wrap_socket(raw, server_hostname=server_hostname)
            except (OSError, ssl.SSLError) as exc:
                result.client_error = exc
            else:
                with tls:
                    try:
                        while len(result.received) < 5:
                            chunk = tls.recv(5 - len(result.received))
                            if not chunk:
                                break
                            result.received += chunk
                    except (OSError, ssl.SSLError) as exc:
                        result.client_read_error = exc
    finally:
        raw.close()
        thread.join(SOCKET_TIMEOUT)
        listener.close()
    assert not thread.is_alive(), "the TLS server thread did not finish"
    return result
