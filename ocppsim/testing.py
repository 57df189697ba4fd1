"""ocppsim in a user's tests: simulators run by a background thread, and the check of a
Central System.

* `check_central_system(url, version)`: an ocppsim Charge Point sends every CALL a charge
  point of that version sends, each with its default payload, to your Central System and
  returns the problems it saw (a CALLERROR, an answer that breaks its schema, no answer).
* `SimulatorThread`: an asyncio loop in a daemon thread that runs `CentralSystem`s and
  `ChargePoint`s for code that is not async (a plain pytest test), or whose own loop must
  stay free (an async test whose charge point under test runs on it).
* `SyncCentralSystem`, `SyncChargePoint`: what the pytest fixtures `ocppsim_cs` and
  `ocppsim_cp` give a plain test, each method blocking until its answer is there;
  `AsyncCentralSystem`, `AsyncChargePoint`: what they give an async test (pytest-asyncio or
  anyio), the same methods to await.

Handlers given to `on_call` run on the simulators' thread (see docs/testing.md).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine, Iterable, Iterator
from typing import Any, TypeVar

from ocppsim.core import versions
from ocppsim.core.errors import CallError, OcppSimError
from ocppsim.sim.behaviour import Handler
from ocppsim.sim.calls import InvalidMessage
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.inbox import EventStream, Received, WaitTimeout
from ocppsim.sim.peer import CallFailed, CallTimeout

__all__ = [
    "AsyncCentralSystem",
    "AsyncChargePoint",
    "AsyncChargePointFactory",
    "ChargePointFactory",
    "SimulatorThread",
    "SyncCentralSystem",
    "SyncChargePoint",
    "check_central_system",
    "check_central_system_async",
]

T = TypeVar("T")

#: How long a blocking call waits beyond the simulator's own timeouts before it gives up
#: (a CALL has its answer or its timeout within 30 s: this is a safety net).
GRACE = 60.0


class SimulatorThread:
    """An asyncio event loop in a daemon thread, and the simulators started on it.

    `run(coroutine)` runs a coroutine there and blocks until it is done; `run_async`
    awaits it from another loop. `close()` stops every simulator started here (charge
    points first), then the loop."""

    def __init__(self, name: str = "ocppsim"):
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._started: list[CentralSystem | ChargePoint] = []
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = GRACE) -> T:
        """Run `coro` on the thread's loop; its result (or exception), within `timeout`."""
        __tracebackhide__ = True
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        done, _ = concurrent.futures.wait([future], timeout)
        if not done:
            future.cancel()
            raise WaitTimeout(f"no result within {timeout:g} s")
        error = future.exception()
        if error is not None:
            raise error  # from here: a test's traceback shows its own line, then the error
        return future.result()

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` on the thread's loop, awaited from the caller's loop."""
        __tracebackhide__ = True
        future = asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError:
            future.cancel()  # the coroutine on the thread stops too
            raise
        error = future.exception()
        if error is not None:
            raise error  # from here: a test's traceback shows its own line, then the error
        return future.result()

    def call(self, fn: Callable[[], T]) -> T:
        """Call `fn()` on the thread's loop (where the simulators' state lives); its result."""
        __tracebackhide__ = True

        async def inside() -> T:
            return fn()

        return self.run(inside())

    # -- simulators ------------------------------------------------------------------------

    async def central_system(self, **options: Any) -> CentralSystem:
        """Start a `CentralSystem(**options)` on this thread (a coroutine to `run`)."""
        cs = CentralSystem(**options)
        await cs.start()
        self._started.append(cs)
        return cs

    async def charge_point(self, url: str, charge_point_id: str, **options: Any) -> ChargePoint:
        """Start a `ChargePoint` on this thread, returned once connected (NotConnected else)."""
        __tracebackhide__ = True
        cp = ChargePoint(url, charge_point_id, **options)
        await cp.__aenter__()
        self._started.append(cp)
        return cp

    async def _stop_all(self) -> None:
        started, self._started = self._started, []
        charge_points = [s for s in started if isinstance(s, ChargePoint)]
        await asyncio.gather(*(cp.stop() for cp in charge_points), return_exceptions=True)
        for cs in started:
            if isinstance(cs, CentralSystem):
                await cs.stop()

    def close(self) -> None:
        """Stop every simulator started here, then the loop and the thread."""
        if self.loop.is_closed():
            return
        try:
            if self._started:
                self.run(self._stop_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(GRACE)
            if not self._thread.is_alive():
                self.loop.close()

    def __enter__(self) -> SimulatorThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _on_call(
    thread: SimulatorThread,
    target: Any,
    action: str,
    handler: Handler | None,
    method: str = "on_call",
) -> Any:
    """`target.on_call` (or `on_send`) done on the simulators' thread (a decorator without
    `handler`)."""
    register = getattr(target, method)
    if handler is None:

        def decorator(fn: Handler) -> Handler:
            thread.call(lambda: register(action, fn))
            return fn

        return decorator
    return thread.call(lambda: register(action, handler))


class SyncEventStream:
    """The events of a simulator, for a plain test: `next(timeout)` waits for one."""

    def __init__(self, thread: SimulatorThread, stream: EventStream):
        self._thread = thread
        self._stream = stream

    def next(self, timeout: float = 10.0) -> Any:
        """The next event, waiting up to `timeout` seconds (WaitTimeout)."""
        __tracebackhide__ = True
        try:
            return self._thread.run(asyncio.wait_for(self._stream.__anext__(), timeout), None)
        except asyncio.TimeoutError:
            raise WaitTimeout(f"no event within {timeout:g} s") from None

    def __iter__(self) -> Iterator[Any]:
        """Every event until the stream is closed or its simulator stopped (blocks)."""
        while True:
            try:
                yield self._thread.run(self._stream.__anext__(), None)
            except StopAsyncIteration:
                return

    def close(self) -> None:
        self._thread.call(self._stream.close)


class AsyncEventStream:
    """The events of a simulator, for an async test: `async for event in stream`."""

    def __init__(self, thread: SimulatorThread, stream: EventStream):
        self._thread = thread
        self._stream = stream

    def __aiter__(self) -> AsyncEventStream:
        return self

    async def __anext__(self) -> Any:
        return await self._thread.run_async(self._stream.__anext__())

    def close(self) -> None:
        self._thread.call(self._stream.close)


class _CentralSystemView:
    """What both flavours of a threaded Central System read without waiting."""

    def __init__(self, thread: SimulatorThread, central_system: CentralSystem):
        self.thread = thread
        #: the `CentralSystem` itself (its methods run on `thread`)
        self.central_system = central_system

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.central_system.url}>"

    @property
    def url(self) -> str:
        """What a charge point is given: `ws://127.0.0.1:<port>/ocpp` by default."""
        return self.central_system.url

    @property
    def port(self) -> int:
        return self.central_system.port

    @property
    def transport(self) -> str:
        return self.central_system.transport

    @property
    def charge_point_ids(self) -> list[str]:
        """The ids of the charge points connected now."""
        return self.thread.call(lambda: self.central_system.charge_point_ids)

    def on_call(self, action: str, handler: Handler | None = None) -> Any:
        """Answer CALLs `action` with `handler(payload)` or `handler(payload, ctx)`: a dict
        returned is the answer, None the default one; raising CallError refuses. It runs on
        the simulators' thread. Without `handler`, a decorator."""
        return _on_call(self.thread, self.central_system, action, handler)

    def on_send(self, action: str, handler: Handler | None = None) -> Any:
        """Hear the SENDs `action` (OCPP 2.1) with `handler(payload)` or `handler(payload,
        ctx)`, on the simulators' thread. Without `handler`, a decorator."""
        return _on_call(self.thread, self.central_system, action, handler, "on_send")


class SyncCentralSystem(_CentralSystemView):
    """A running Central System for a plain test (the `ocppsim_cs` fixture)."""

    def call(
        self,
        charge_point_id: str | None,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> Any:
        """Send `action` to a connected charge point; the payload of its CALLRESULT (see
        `CentralSystem.call`)."""
        __tracebackhide__ = True
        return self.thread.run(
            self.central_system.call(
                charge_point_id, action, payload, validate=validate, defaults=defaults
            )
        )

    def wait_for(
        self, action: str, charge_point_id: str | None = None, *, timeout: float = 10.0
    ) -> Received:
        """The first CALL `action` received (from `charge_point_id`) not taken yet, waiting
        up to `timeout` seconds (WaitTimeout)."""
        __tracebackhide__ = True
        coro = self.central_system.wait_for(action, charge_point_id, timeout=timeout)
        return self.thread.run(coro, timeout + GRACE)

    def send(
        self,
        charge_point_id: str | None,
        action: str,
        payload: dict[str, Any] | None = None,
        **kw: Any,
    ) -> str:
        """Send a SEND (OCPP 2.1) to a connected charge point; its unique id (see
        `CentralSystem.send`)."""
        __tracebackhide__ = True
        return self.thread.run(self.central_system.send(charge_point_id, action, payload, **kw))

    def events(self) -> SyncEventStream:
        """Its events from now on."""
        return SyncEventStream(self.thread, self.thread.call(self.central_system.events))

    def stop(self) -> None:
        """Stop listening now (the fixture does it after the test anyway)."""
        self.thread.run(self.central_system.stop())


class AsyncCentralSystem(_CentralSystemView):
    """A running Central System for an async test (the `ocppsim_cs` fixture): the methods of
    `SyncCentralSystem`, awaited."""

    async def call(
        self,
        charge_point_id: str | None,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> Any:
        """Send `action` to a connected charge point; the payload of its CALLRESULT."""
        __tracebackhide__ = True
        return await self.thread.run_async(
            self.central_system.call(
                charge_point_id, action, payload, validate=validate, defaults=defaults
            )
        )

    async def wait_for(
        self, action: str, charge_point_id: str | None = None, *, timeout: float = 10.0
    ) -> Received:
        """The first CALL `action` received (from `charge_point_id`) not taken yet."""
        __tracebackhide__ = True
        coro = self.central_system.wait_for(action, charge_point_id, timeout=timeout)
        return await self.thread.run_async(coro)

    async def send(
        self,
        charge_point_id: str | None,
        action: str,
        payload: dict[str, Any] | None = None,
        **kw: Any,
    ) -> str:
        """Send a SEND (OCPP 2.1) to a connected charge point; its unique id."""
        __tracebackhide__ = True
        coro = self.central_system.send(charge_point_id, action, payload, **kw)
        return await self.thread.run_async(coro)

    def events(self) -> AsyncEventStream:
        """Its events from now on: `async for event in ocppsim_cs.events()`."""
        return AsyncEventStream(self.thread, self.thread.call(self.central_system.events))

    async def stop(self) -> None:
        await self.thread.run_async(self.central_system.stop())


class _ChargePointView:
    """What both flavours of a threaded Charge Point read without waiting."""

    def __init__(self, thread: SimulatorThread, charge_point: ChargePoint):
        self.thread = thread
        #: the `ChargePoint` itself (its methods run on `thread`)
        self.charge_point = charge_point

    def __repr__(self) -> str:
        cp = self.charge_point
        return f"<{type(self).__name__} {cp.charge_point_id} {cp.protocol} {cp.url}>"

    @property
    def charge_point_id(self) -> str:
        return self.charge_point.charge_point_id

    @property
    def version(self) -> str:
        """Its OCPP version (`1.6`)."""
        return self.charge_point.version

    @property
    def connected(self) -> bool:
        return self.charge_point.connected

    def on_call(self, action: str, handler: Handler | None = None) -> Any:
        """Answer the Central System's CALLs `action` with `handler(payload)` or
        `handler(payload, ctx)` (on the simulators' thread). Without `handler`, a decorator."""
        return _on_call(self.thread, self.charge_point, action, handler)

    def on_send(self, action: str, handler: Handler | None = None) -> Any:
        """Hear the Central System's SENDs `action` (OCPP 2.1), on the simulators' thread."""
        return _on_call(self.thread, self.charge_point, action, handler, "on_send")


class SyncChargePoint(_ChargePointView):
    """A connected Charge Point for a plain test (made by the `ocppsim_cp` fixture)."""

    def call(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> Any:
        """Send `action` to the Central System; the payload of its CALLRESULT (see
        `ChargePoint.call`)."""
        __tracebackhide__ = True
        return self.thread.run(
            self.charge_point.call(action, payload, validate=validate, defaults=defaults)
        )

    def wait_for(self, action: str, *, timeout: float = 10.0) -> Received:
        """The first CALL `action` the Central System sent not taken yet."""
        __tracebackhide__ = True
        return self.thread.run(self.charge_point.wait_for(action, timeout=timeout), timeout + GRACE)

    def send(self, action: str, payload: dict[str, Any] | None = None, **kw: Any) -> str:
        """Send a SEND (OCPP 2.1) to the Central System; its unique id (see `ChargePoint.send`)."""
        __tracebackhide__ = True
        return self.thread.run(self.charge_point.send(action, payload, **kw))

    def events(self) -> SyncEventStream:
        return SyncEventStream(self.thread, self.thread.call(self.charge_point.events))

    def close(self) -> None:
        """Close its connection now (the fixture does it after the test anyway)."""
        self.thread.run(self.charge_point.stop())


class AsyncChargePoint(_ChargePointView):
    """A connected Charge Point for an async test: the methods of `SyncChargePoint`, awaited."""

    async def call(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> Any:
        """Send `action` to the Central System; the payload of its CALLRESULT."""
        __tracebackhide__ = True
        return await self.thread.run_async(
            self.charge_point.call(action, payload, validate=validate, defaults=defaults)
        )

    async def wait_for(self, action: str, *, timeout: float = 10.0) -> Received:
        """The first CALL `action` the Central System sent not taken yet."""
        __tracebackhide__ = True
        return await self.thread.run_async(self.charge_point.wait_for(action, timeout=timeout))

    async def send(self, action: str, payload: dict[str, Any] | None = None, **kw: Any) -> str:
        """Send a SEND (OCPP 2.1) to the Central System; its unique id."""
        __tracebackhide__ = True
        return await self.thread.run_async(self.charge_point.send(action, payload, **kw))

    def events(self) -> AsyncEventStream:
        return AsyncEventStream(self.thread, self.thread.call(self.charge_point.events))

    async def close(self) -> None:
        await self.thread.run_async(self.charge_point.stop())


class ChargePointFactory:
    """`ocppsim_cp(url, charge_point_id, version=…, transport=…, **options)` in a plain
    test: a connected `SyncChargePoint` (the options of `ocppsim.ChargePoint`), stopped with
    the thread (after the test)."""

    def __init__(self, thread: SimulatorThread):
        self.thread = thread

    def __repr__(self) -> str:
        return "<ocppsim_cp: call it with (url, charge_point_id, version=…)>"

    def __call__(self, url: str, charge_point_id: str = "cp01", **options: Any) -> SyncChargePoint:
        __tracebackhide__ = True
        cp = self.thread.run(self.thread.charge_point(url, charge_point_id, **options))
        return SyncChargePoint(self.thread, cp)


class AsyncChargePointFactory(ChargePointFactory):
    """`await ocppsim_cp(url, charge_point_id, …)` in an async test: an `AsyncChargePoint`."""

    def __repr__(self) -> str:
        return "<ocppsim_cp: await it with (url, charge_point_id, version=…)>"

    async def __call__(  # type: ignore[override]
        self, url: str, charge_point_id: str = "cp01", **options: Any
    ) -> AsyncChargePoint:
        __tracebackhide__ = True
        coro = self.thread.charge_point(url, charge_point_id, **options)
        return AsyncChargePoint(self.thread, await self.thread.run_async(coro))


# -- the check of a Central System ------------------------------------------------------------


async def check_central_system_async(
    url: str,
    version: str | None = None,
    transport: str = "websocket",
    charge_point_id: str = "ocppsim01",
    *,
    actions: Iterable[str] | None = None,
    **options: Any,
) -> list[str]:
    """`check_central_system`, for a caller on an event loop (the CS may run on it too)."""
    entry = versions.resolve(version) if version is not None else versions.default()
    cp = ChargePoint(url, charge_point_id, version=entry.name, transport=transport, **options)
    problems: list[str] = []
    async with cp:
        for action in actions if actions is not None else entry.actions_over(transport, "cs"):
            try:
                await cp.call(action)
            except CallError as exc:
                problems.append(f"{action}: refused with {exc.code}: {exc.description}")
            except InvalidMessage as exc:
                problems.append(str(exc))
            except CallTimeout:
                problems.append(f"{action}: no answer (timeout)")
            except CallFailed as exc:
                problems.append(f"{action}: {'no answer' if exc.sent else 'not sent'}: {exc}")
                break  # the link is gone
            except OcppSimError as exc:
                problems.append(f"{action}: {exc}")
    return problems


def check_central_system(
    url: str,
    version: str | None = None,
    transport: str = "websocket",
    charge_point_id: str = "ocppsim01",
    *,
    actions: Iterable[str] | None = None,
    **options: Any,
) -> list[str]:
    """The original's "test your Central System": an ocppsim Charge Point of `version` (`1.6`
    or `ocpp1.6`; the registry's default when None) connects to `url` over `transport` and
    sends every CALL a charge point of that version sends over it (or `actions`), each with
    its default payload; returns the problems seen, one line each (a CALLERROR, an answer that
    breaks its schema, no answer), empty when the Central System answered everything well.

    It runs its Charge Point on a thread of its own, so it blocks its caller: from an async
    test whose Central System runs on the test's loop, await `check_central_system_async`.
    NotConnected when the Charge Point cannot connect."""
    with SimulatorThread("ocppsim check") as thread:
        coro = check_central_system_async(
            url, version, transport, charge_point_id, actions=actions, **options
        )
        return thread.run(coro, None)
