"""Periodic websocket pings with an interval that `set … websocket_ping_interval=` changes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ocppsim.sim import log

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer


class Pinger:
    """Pings each link every `interval` seconds; 0 disables; changes apply at once."""

    def __init__(self, interval: float):
        self.interval = float(interval)
        self._changed = asyncio.Event()

    def set_interval(self, seconds: float) -> None:
        self.interval = float(seconds)
        self._changed.set()
        self._changed = asyncio.Event()

    async def run(self, peer: Peer) -> None:
        """Ping `peer` until it disconnects or the task is cancelled."""
        while peer.connected:
            changed = self._changed
            delay = self.interval if self.interval > 0 else None
            try:
                await asyncio.wait_for(changed.wait(), delay)
                continue  # the interval changed: start counting again
            except asyncio.TimeoutError:
                pass
            try:
                await asyncio.wait_for(peer.ping(), 30)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.error(f"Error: ping failed: {exc or type(exc).__name__}", peer.speaker)
