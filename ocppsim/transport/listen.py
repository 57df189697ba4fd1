"""Listening on every address of a host on one port, for the HTTP and WebSocket servers.

With no host, a server listens on every interface of both address families (`0.0.0.0`
and `::`); a name listens on every address it resolves to. All of them share one port,
the one the server reports: with port 0 the first bind picks a free port and the others
follow it (a port that turns out to be taken on another family is tried again).
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Awaitable, Callable
from typing import TypeVar

Listener = TypeVar("Listener")

#: Tries at finding a random port free on every family (another process may hold it on one).
PORT_TRIES = 8
#: bind() errors meaning "this machine has no such address or family": skip that address.
ADDRESS_MISSING = {errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT}


async def listen_addresses(host: str | None) -> list[str]:
    """The addresses to bind for `host`, IPv4 first: every interface of both families for
    None or "", else what the name resolves to (OSError when it resolves to nothing)."""
    if not host:
        return ["0.0.0.0", "::"] if socket.has_ipv6 else ["0.0.0.0"]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    found: list[str] = []
    for family in (socket.AF_INET, socket.AF_INET6):
        for info in infos:
            address = str(info[4][0])
            if info[0] == family and address not in found:
                found.append(address)
    if not found:
        raise OSError(errno.EADDRNOTAVAIL, f"{host} has no IPv4 or IPv6 address")
    return found


async def listen_on_one_port(
    host: str | None,
    port: int,
    bind: Callable[[str, int], Awaitable[tuple[Listener, int]]],
    close: Callable[[Listener], Awaitable[None]],
) -> tuple[int, list[Listener]]:
    """Bind every address of `host` on one port with `bind(address, port)` (which returns
    the listener and the port it got); returns that port and the listeners. An address this
    machine lacks is skipped; OSError when none can be bound."""
    addresses = await listen_addresses(host)
    tries = PORT_TRIES if port == 0 else 1
    for attempt in range(tries):
        chosen = port
        listeners: list[Listener] = []
        missing: OSError | None = None
        try:
            for address in addresses:
                try:
                    listener, bound = await bind(address, chosen)
                except OSError as exc:
                    if exc.errno not in ADDRESS_MISSING:
                        raise
                    missing = missing or exc  # e.g. no IPv6 on this machine
                    continue
                listeners.append(listener)
                chosen = chosen or bound
            if not listeners:
                raise missing or OSError(errno.EADDRNOTAVAIL, "no address to listen on")
            return chosen, listeners
        except OSError as exc:
            for listener in listeners:
                await close(listener)
            if exc.errno != errno.EADDRINUSE or attempt == tries - 1:
                raise
    raise AssertionError("unreachable")
