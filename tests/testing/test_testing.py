"""`ocppsim.testing`: the check of a Central System, and simulators run by a thread for code
that is not async (what the pytest fixtures are made of)."""

from __future__ import annotations

import asyncio
import threading

import pytest

import ocppsim
from ocppsim.core import versions
from ocppsim.testing import SimulatorThread, check_central_system, check_central_system_async


@pytest.fixture
def thread() -> SimulatorThread:
    with SimulatorThread() as running:
        yield running


def test_the_check_finds_nothing_wrong_with_ocppsim_of_every_version(
    thread: SimulatorThread,
) -> None:
    cs = thread.run(thread.central_system(host="127.0.0.1", endpoint="/ocpp"))
    for version in versions.names():
        assert check_central_system(cs.url, version, charge_point_id=f"cp{version}") == []


def test_the_check_reports_each_bad_answer_and_refusal(thread: SimulatorThread) -> None:
    cs = thread.run(thread.central_system(host="127.0.0.1"))

    def refuse(payload: dict) -> dict:
        raise ocppsim.CallError("SecurityError", "who are you?")

    thread.call(lambda: cs.on_call("Heartbeat", lambda payload: {"currentTime": "soon"}))
    thread.call(lambda: cs.on_call("Authorize", refuse))
    assert check_central_system(cs.url, "ocpp1.5", actions=["Authorize", "Heartbeat"]) == [
        "Authorize: refused with SecurityError: who are you?",
        "the answer to Heartbeat breaks its schema: currentTime: 'soon' is not a valid"
        " date-time (TypeConstraintViolation)",
    ]


def test_the_async_check_runs_beside_a_central_system_on_the_same_loop() -> None:
    async def scenario() -> list[str]:
        async with ocppsim.CentralSystem(host="127.0.0.1") as cs:
            return await check_central_system_async(cs.url, "2.0.1", actions=["Heartbeat"])

    assert asyncio.run(scenario()) == []


def test_the_check_says_when_it_cannot_connect(thread: SimulatorThread) -> None:
    cs = thread.run(thread.central_system(host="127.0.0.1"))
    url = cs.url
    thread.run(cs.stop())
    with pytest.raises(ocppsim.NotConnected, match="could not connect to ws://127.0.0.1"):
        check_central_system(url)


def test_a_thread_stops_what_it_started_then_itself() -> None:
    thread = SimulatorThread()
    cs = thread.run(thread.central_system(host="127.0.0.1"))
    cp = thread.run(thread.charge_point(cs.url, "cp01"))
    assert thread.call(lambda: list(cs.peers)) == ["cp01"]
    thread.close()
    assert not cp.connected and cs.peers == {}
    assert thread.loop.is_closed()
    assert "ocppsim" not in [t.name for t in threading.enumerate()]
    thread.close()  # twice is harmless
