"""Garbage collection for a process that holds thousands of connections (a fleet, a Central
System they connect to).

CPython's cyclic collector scans every tracked object of a generation it collects; the oldest
generation is collected once enough objects have survived into it (a quarter of those already
there). A process with ten thousand charge points holds a million long-lived objects, and each
message leaves a few behind for as long as its link waits for the next one (the WebSocket
parser's frame, a heartbeat's timer): every few seconds a full collection then stops the event
loop for 100-400 ms, which every call under way waits for. Steady traffic makes no cyclic
garbage, so while a large process runs, `Collector` moves what has lived a while out of the
collector's sight (`gc.freeze()`, every `FREEZE_EVERY` seconds: the young generations are
still collected as usual), and once every `FULL_EVERY` seconds collects everything
(`gc.unfreeze()`, `gc.collect()`), so that cycles made by rare events (errors, lost links)
are freed in the end. Below `LARGE` connections nothing changes.

While held, the youngest generation is collected only after `YOUNG_THRESHOLD` new objects
(CPython's default: 700), so that what a ramp of a thousand new connections a second makes
is frozen before it is scanned, rather than scanned twice on its way to the oldest generation
(collections took 0.1 ms of CPU per connection of a fleet, a sixth of all it spent; now
0.01 ms). Garbage in cycles made meanwhile waits for the next full collection: measured, a
ramp of 10,000 charge points, 500 lost links and 4,000 refused attempts made none.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

_log = logging.getLogger("ocppsim.sim")

#: Connections in one process from which its long-lived objects are frozen.
LARGE = 1000
#: Seconds between two freezes of what survived (cheap: it moves lists, scans nothing). While
#: a fleet ramps at 1,000 connections a second, what survives reaches the oldest generation
#: fast enough for a full collection of the last second's objects every second or so (60-120
#: ms each at 1 s here, 0.06 ms of CPU per connection); a tenth of a second leaves almost
#: none to scan.
FREEZE_EVERY = 0.1
#: Seconds between two full collections while frozen (one pause of the old kind).
FULL_EVERY = 600.0
#: The youngest generation's threshold while held (module docstring).
YOUNG_THRESHOLD = 20_000


class Collector:
    """The process's collection policy while large simulators run (`hold`/`release`)."""

    def __init__(self) -> None:
        self._holders = 0
        self._timer: asyncio.TimerHandle | None = None
        self._full_at = 0.0
        #: the collector's thresholds before the first hold (put back by the last release)
        self._thresholds: tuple[int, int, int] | None = None

    @property
    def active(self) -> bool:
        return self._holders > 0

    def hold(self) -> None:
        """A large simulator runs: freeze what survived, now and every `FREEZE_EVERY` s."""
        self._holders += 1
        if self._holders == 1:
            young, middle, old = self._thresholds = gc.get_threshold()
            if young:  # 0: automatic collection is off, and stays so
                gc.set_threshold(max(young, YOUNG_THRESHOLD), middle, old)
            self._full_at = time.monotonic() + FULL_EVERY
            self._tick()

    def release(self) -> None:
        """A large simulator stopped: when none is left, everything is collected again."""
        if self._holders == 0:
            return
        self._holders -= 1
        if self._holders == 0:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._thresholds is not None:
                gc.set_threshold(*self._thresholds)
                self._thresholds = None
            gc.unfreeze()

    def _tick(self) -> None:
        if time.monotonic() >= self._full_at:
            began = time.perf_counter()
            gc.unfreeze()
            found = gc.collect()
            self._full_at = time.monotonic() + FULL_EVERY
            _log.debug(
                "full collection: %d unreachable objects in %.0f ms",
                found,
                1000 * (time.perf_counter() - began),
            )
        gc.freeze()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + FREEZE_EVERY, self._tick)


#: The collection policy of this process.
COLLECTOR = Collector()
