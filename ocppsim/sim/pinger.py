"""Periodic websocket pings with an interval that `set … websocket_ping_interval=` changes.

A timer per link, and a task only while a ping waits for its pong: with the interval at 0
(a Charge Point's default) nothing at all runs for an idle link.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ocppsim.sim.log import ERROR

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer


#: The close frame that ends a link whose peer left a ping unanswered (RFC 6455 §7.4.1).
KEEPALIVE_CLOSE = (1011, "keepalive timeout")


class Pinger:
    """Pings each link every `interval` seconds; 0 disables; changes apply at once.

    A ping left unanswered for the interval means a dead link: it is closed (1011,
    "keepalive timeout") so that its charge point is reported disconnected (and a Charge
    Point dials again) instead of staying registered and swallowing CALLs."""

    def __init__(self, interval: float):
        self.interval = float(interval)
        self._timers: dict[Peer, asyncio.TimerHandle | None] = {}
        self._pinging: set[asyncio.Task[None]] = set()

    def add(self, peer: Peer) -> None:
        """Ping `peer` from now on (links that cannot ping are left alone)."""
        if peer.link.pings:
            self._timers[peer] = None
            self._schedule(peer)

    def discard(self, peer: Peer) -> None:
        """Stop pinging `peer` (its link ended)."""
        timer = self._timers.pop(peer, None)
        if timer is not None:
            timer.cancel()

    def set_interval(self, seconds: float) -> None:
        """Change the interval; every link starts counting again."""
        self.interval = float(seconds)
        for peer in list(self._timers):
            self._schedule(peer)

    def stop(self) -> None:
        """Forget every link and stop the pings under way."""
        for peer in list(self._timers):
            self.discard(peer)
        for task in list(self._pinging):
            task.cancel()

    def _schedule(self, peer: Peer) -> None:
        timer = self._timers.get(peer)
        if timer is not None:
            timer.cancel()
        self._timers[peer] = None
        if self.interval > 0:
            loop = asyncio.get_running_loop()
            self._timers[peer] = loop.call_later(self.interval, self._due, peer)

    def _due(self, peer: Peer) -> None:
        self._timers[peer] = None
        if not peer.connected:
            return
        task = asyncio.get_running_loop().create_task(self._ping(peer))
        self._pinging.add(task)
        task.add_done_callback(self._pinging.discard)

    async def _ping(self, peer: Peer) -> None:
        """One ping; the next one is due an interval after it is answered."""
        timeout = self.interval
        try:
            await asyncio.wait_for(peer.ping(), timeout)
        except asyncio.TimeoutError:
            if peer.connected:
                code, reason = KEEPALIVE_CLOSE
                peer.notice(
                    f"Error: no PONG from {peer.label} within {timeout:g} seconds: closing the"
                    f" connection ({code} {reason}).",
                    ERROR,
                )
                peer.abort(code, reason)
            return
        except Exception as exc:
            if not peer.connected:
                return  # the link closed meanwhile: its end is reported where it is seen
            peer.notice(f"Error: ping failed: {str(exc) or type(exc).__name__}", ERROR)
        if peer in self._timers and self._timers[peer] is None:
            self._schedule(peer)
