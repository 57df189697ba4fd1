"""What a simulator received, for code that waits on it: `wait_for` and `events()`.

Both are subscribers of the simulator's `EventBus`, like the log. An `Inbox` keeps the valid
CALLs (and OCPP 2.1's SENDs, which nothing refuses) one simulator received (at most `size`,
the oldest dropped first) so that a test asks
for a message after it arrived as well as before: each one is handed out once, to the first
`wait_for` that matches it. An `EventStream` is an async iterator over the events of one
simulator from the moment it was made until it is closed or the simulator stops.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocppsim.core.errors import OcppSimError
from ocppsim.core.events import EventBus, FrameReceived
from ocppsim.core.rpc import Call, Send

#: How many received CALLs a simulator keeps for `wait_for` unless told otherwise.
HISTORY = 1000


class WaitTimeout(OcppSimError, TimeoutError):
    """`wait_for` saw no matching message in time; the text says what came instead."""


@dataclass(frozen=True, slots=True)
class Received:
    """A CALL (or an OCPP 2.1 SEND) a simulator received: `action`, its `payload` (the wire
    dict), the id of the charge point at the other end (or of the simulated one itself) and
    the message's unique id."""

    action: str
    payload: Any
    charge_point_id: str
    unique_id: str


def charge_point_of(speaker: str, peer: str) -> str:
    """The charge point id of a link's events: the Central System's peer `cp#<id>`, or the
    Charge Point that speaks (`cp#<id>`)."""
    side = peer if speaker == "cs" else speaker
    return side[3:] if side.startswith("cp#") else side


Match = Callable[[Received], bool]


class Inbox:
    """The valid CALLs received by the simulator that speaks as `speaker` (`cs`, `cp#<id>`)."""

    def __init__(self, speaker: str, size: int = HISTORY):
        self.speaker = speaker
        self.kept: deque[Received] = deque(maxlen=size or None)
        self.size = size
        self._waiters: list[tuple[Match, asyncio.Future[Received]]] = []

    def __call__(self, event: Any) -> None:
        if type(event) is not FrameReceived or event.speaker != self.speaker:
            return
        call = event.message
        if not isinstance(call, (Call, Send)):
            return  # an answer, or a CALL that was refused (a CallRefused event says why)
        received = Received(
            call.action, call.payload, charge_point_of(event.speaker, event.peer), call.unique_id
        )
        for match, future in self._waiters:
            if not future.done() and match(received):
                future.set_result(received)
                return
        if self.size:
            self.kept.append(received)

    async def wait_for(
        self, action: str, charge_point_id: str | None, timeout: float, what: str
    ) -> Received:
        """The first CALL `action` (from `charge_point_id`) not handed out yet, waiting up to
        `timeout` seconds for it; WaitTimeout says what came meanwhile."""
        __tracebackhide__ = True

        def match(item: Received) -> bool:
            return item.action == action and charge_point_id in (None, item.charge_point_id)

        for item in self.kept:
            if match(item):
                self.kept.remove(item)
                return item
        future: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        waiter = (match, future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            source = f" from {charge_point_id}" if charge_point_id is not None else ""
            seen = ", ".join(f"{r.action} from {r.charge_point_id}" for r in self.kept)
            raise WaitTimeout(
                f"{what} received no {action}{source} within {timeout:g} s"
                + (f" (not taken yet: {seen})" if seen else " (nothing else either)")
            ) from None
        finally:
            self._waiters.remove(waiter)


class EventStream:
    """The events of one simulator, as an async iterator: `async for event in stream`.

    It hears of events from the moment it is made; `close()` (or leaving `async with`, or the
    simulator stopping) ends the iteration once what was heard is read."""

    def __init__(self, bus: EventBus, speaker: str, on_close: Callable[[EventStream], None]):
        self._speaker = speaker
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._unsubscribe = bus.subscribe(self._heard)
        self._on_close = on_close
        self._closed = False

    def _heard(self, event: Any) -> None:
        if getattr(event, "speaker", None) == self._speaker:
            self._queue.put_nowait(event)

    def close(self) -> None:
        """Stop hearing events; the iteration ends after those already heard."""
        if not self._closed:
            self._closed = True
            self._unsubscribe()
            self._queue.put_nowait(_END)
            self._on_close(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Any:
        event = await self._queue.get()
        if event is _END:
            self._queue.put_nowait(_END)  # a later __anext__ ends too
            raise StopAsyncIteration
        return event

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


_END = object()

# what users catch, shown as `ocppsim.<name>` in tracebacks (importable from there too)
WaitTimeout.__module__ = "ocppsim"
