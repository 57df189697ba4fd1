"""What every simulator of one process shares: one HTTP client session, and the callback
servers of SOAP Charge Points (one per host and port, routing on chargeBoxIdentity).

A fleet of SOAP charge points in one process then holds one connection pool and one
listening socket, not one of each per charge point. Each shared thing counts its users and
is closed when the last one lets it go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # aiohttp is loaded only by a process that speaks SOAP
    from ocppsim.transport.http import HttpClient


class Resources:
    """The shared resources of one process (the Simulator's), or of one simulator alone."""

    def __init__(self) -> None:
        self._client: HttpClient | None = None
        self._client_users = 0
        #: key -> [the shared thing, its number of users]
        self._shared: dict[Hashable, list[Any]] = {}
        self._lock: asyncio.Lock | None = None

    def http_client(self) -> HttpClient:
        """The process's HTTP client; give it back with `release_http_client`."""
        if self._client is None:
            from ocppsim.transport.http import HttpClient

            self._client = HttpClient()
        self._client_users += 1
        return self._client

    async def release_http_client(self) -> None:
        self._client_users -= 1
        if self._client_users <= 0 and self._client is not None:
            client, self._client = self._client, None
            self._client_users = 0
            await client.close()

    async def acquire(
        self,
        key: Hashable,
        create: Callable[[], Awaitable[Any]],
        match: Callable[[Hashable, Any], bool] | None = None,
    ) -> tuple[Hashable, Any]:
        """The thing shared under `key` (or under any key whose thing `match` accepts), made
        by `create()` for its first user; returns its key and itself. One creation at a time,
        so two users never make two of the same."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            entry = self._shared.get(key)
            if entry is None and match is not None:
                for other, candidate in self._shared.items():
                    if match(other, candidate[0]):
                        key, entry = other, candidate
                        break
            if entry is None:
                entry = self._shared[key] = [await create(), 0]
            entry[1] += 1
            return key, entry[0]

    async def release(self, key: Hashable, close: Callable[[Any], Awaitable[None]]) -> None:
        """One user less of `key`; the last one closes it with `close(thing)`."""
        entry = self._shared.get(key)
        if entry is None:
            return
        entry[1] -= 1
        if entry[1] <= 0:
            del self._shared[key]
            await close(entry[0])

    async def close(self) -> None:
        """Close the client session (servers are closed by their last user)."""
        if self._client is not None:
            client, self._client = self._client, None
            self._client_users = 0
            await client.close()
