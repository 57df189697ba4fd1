"""Periodic websocket pings with an interval that `set … websocket_ping_interval=` changes."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ocppsim.sim import log

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
        self._changed = asyncio.Event()

    def set_interval(self, seconds: float) -> None:
        self.interval = float(seconds)
        self._changed.set()
        self._changed = asyncio.Event()

    async def run(self, peer: Peer) -> None:
        """Ping `peer` until it disconnects, its ping times out, or the task is cancelled."""
        while peer.connected:
            changed = self._changed
            delay = self.interval if self.interval > 0 else None
            try:
                await asyncio.wait_for(changed.wait(), delay)
                continue  # the interval changed: start counting again
            except asyncio.TimeoutError:
                pass
            timeout = self.interval
            try:
                await asyncio.wait_for(peer.ping(), timeout)
            except asyncio.CancelledError:
                raise
            except asyncio.TimeoutError:
                if peer.connected:
                    code, reason = KEEPALIVE_CLOSE
                    log.error(
                        f"Error: no PONG within {timeout:g} seconds: closing the connection"
                        f" ({code} {reason}).",
                        peer.speaker,
                    )
                    peer.abort(code, reason)
                return
            except Exception as exc:
                if not peer.connected:
                    return  # the link closed meanwhile: its end is reported where it is seen
                log.error(f"Error: ping failed: {str(exc) or type(exc).__name__}", peer.speaker)
