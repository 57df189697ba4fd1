"""ocppsim's pytest plugin, loaded by the `pytest11` entry point once ocppsim is installed.

* `ocppsim_cs`: a running Central System (`.url`, `.wait_for`, `.on_call`, `.call`, …) on
  127.0.0.1, a free port, endpoint `/ocpp`, every OCPP-J version; `@pytest.mark.ocppsim_cs(
  transport="soap", versions=["1.5"], …)` gives it other `CentralSystem` options.
* `ocppsim_cp`: a factory of connected Charge Points, `ocppsim_cp(url, "cp01",
  version="1.6")`, each closed after the test.

In a plain test their methods block until the answer is there (the simulators run on a
thread of the test's own); in an async test (pytest-asyncio, anyio) they are awaited. When a
test fails, its report shows the OCPP frames its simulators exchanged ("Captured OCPP
frames"). The plugin is loaded by every pytest session of whoever installed ocppsim: it
imports nothing heavy until a test asks for a fixture (`-p no:ocppsim` turns it off).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest

from ocppsim.core import observe

#: How many events of one test the report may show (the most recent).
KEPT_EVENTS = 5000
#: The longest frame text a report line shows.
LONGEST_LINE = 2000

_RECORDER = pytest.StashKey["FrameRecorder"]()


class FrameRecorder:
    """The events of one test's simulators (a subscriber, on whatever thread they run)."""

    def __init__(self, size: int = KEPT_EVENTS):
        self.events: deque[tuple[float, Any]] = deque(maxlen=size)
        self.seen = 0

    def __call__(self, event: Any) -> None:
        self.seen += 1
        self.events.append((time.time(), event))

    def render(self) -> str:
        """One line per event: `12:00:00.125 cp#cp01: >>cs [2,"…","BootNotification",{…}]`."""
        lines = [line for when, event in list(self.events) if (line := _line(when, event))]
        dropped = self.seen - len(self.events)
        if dropped > 0:
            lines.insert(0, f"({dropped} earlier events not shown)")
        return "\n".join(lines) + "\n"


def _line(when: float, event: Any) -> str | None:
    """How the report shows one event (its kind read by name: nothing is imported)."""
    kind = type(event).__name__
    stamp = time.strftime("%H:%M:%S", time.localtime(when)) + f".{int(when * 1000) % 1000:03d}"
    speaker = getattr(event, "speaker", None) or "ocppsim"
    if kind in ("FrameSent", "FrameReceived"):
        arrow = ">>" if kind == "FrameSent" else "<<"
        text = event.text
        if len(text) > LONGEST_LINE:
            text = text[:LONGEST_LINE] + f"… ({len(event.text) - LONGEST_LINE} more characters)"
        return f"{stamp} {speaker}: {arrow}{event.peer} {text}"
    if kind == "CallRefused":
        text = f"refused CALL #{event.unique_id} ({event.action}): {event.code} ({event.reason})"
    elif kind == "ResultInvalid":
        text = (
            f"the answer to {event.action} #{event.unique_id} breaks its schema: "
            f"{event.code} ({event.reason})"
        )
    elif kind == "CallTimedOut":
        text = f"no answer to {event.action} #{event.unique_id} (timeout)"
    elif kind == "AnswerIgnored":
        text = f"no pending CALL #{event.unique_id}: answer ignored"
    elif kind == "FrameUnreadable":
        text = f"unreadable message from {event.peer}: {event.text[:LONGEST_LINE]} ({event.reason})"
    elif kind == "Connected":
        text = f"connected to {event.peer} ({event.protocol}, {event.transport})"
    elif kind == "Disconnected":
        text = f"disconnected from {event.peer} ({event.reason})"
    elif kind == "ServerStarted":
        text = f"listening on port {event.port} ({event.transport})"
    elif kind == "Notice":
        level = "" if event.level < logging.WARNING else f"{logging.getLevelName(event.level)} "
        text = level + event.text
    else:
        return None
    return f"{stamp} {speaker}: {text}"


def pytest_configure(config: pytest.Config) -> None:
    observe.enable()
    config.addinivalue_line(
        "markers",
        "ocppsim_cs(**options): options of the ocppsim_cs fixture's Central System "
        "(transport, versions, endpoint, …: those of ocppsim.CentralSystem)",
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Record what the simulators do while `item` runs (setup and teardown included)."""
    recorder = FrameRecorder()
    item.stash[_RECORDER] = recorder
    previous = observe.observe(recorder)
    try:
        yield
    finally:
        observe.observe(previous)
        del item.stash[_RECORDER]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failed phase's report gets the frames recorded until then."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if not report.failed:
        return
    recorder = item.stash.get(_RECORDER, None)
    if recorder is not None and recorder.events:
        report.sections.append((f"Captured OCPP frames {report.when}", recorder.render()))


def _is_async(request: pytest.FixtureRequest) -> bool:
    """True for a test written `async def` (run by pytest-asyncio or anyio)."""
    function = getattr(request.node, "function", None)
    return inspect.iscoroutinefunction(function)


@pytest.fixture
def _ocppsim_thread() -> Iterator[Any]:
    """The thread that runs the test's simulators; everything it started stops after it."""
    from ocppsim.testing import SimulatorThread

    thread = SimulatorThread(name="ocppsim simulators")
    try:
        yield thread
    finally:
        thread.close()


@pytest.fixture
def ocppsim_cs(request: pytest.FixtureRequest, _ocppsim_thread: Any) -> Any:
    """A running ocppsim Central System: `.url`, `.wait_for(action, charge_point_id)`,
    `.on_call(action, handler)`, `.call(charge_point_id, action, payload)`, `.events()`."""
    from ocppsim.testing import AsyncCentralSystem, SyncCentralSystem

    marker = request.node.get_closest_marker("ocppsim_cs")
    options: dict[str, Any] = {"host": "127.0.0.1", "endpoint": "/ocpp"}
    options.update(marker.kwargs if marker is not None else {})
    cs = _ocppsim_thread.run(_ocppsim_thread.central_system(**options))
    flavour = AsyncCentralSystem if _is_async(request) else SyncCentralSystem
    return flavour(_ocppsim_thread, cs)


@pytest.fixture
def ocppsim_cp(request: pytest.FixtureRequest, _ocppsim_thread: Any) -> Any:
    """`ocppsim_cp(url, charge_point_id, version=…, transport=…)`: a connected ocppsim
    Charge Point (awaited in an async test), closed after the test."""
    from ocppsim.testing import AsyncChargePointFactory, ChargePointFactory

    flavour = AsyncChargePointFactory if _is_async(request) else ChargePointFactory
    return flavour(_ocppsim_thread)
