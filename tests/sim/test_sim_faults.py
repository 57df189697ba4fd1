"""Faults injected on purpose (`ocppsim.sim.faults`): every kind, on real sockets, seen from
the other end; over SOAP where the kind has a meaning there.

A Central System and a Charge Point of ocppsim run in one process on 127.0.0.1; the side
that injects the fault is one of them, the other observes what a peer would see (a late
answer, a timeout, a duplicate, a close code, …). Tests wait on events, never on sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from ocppsim.core import events
from ocppsim.core.errors import CallError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import Call, CallResult
from ocppsim.sim.calls import InvalidMessage
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.faults import (
    KINDS,
    FaultError,
    inject,
    inject_fraction,
    shift_date_time,
    skew,
)
from ocppsim.sim.log import LogConsumer
from ocppsim.sim.peer import CallFailed, CallTimeout


def run(coro: Any, timeout: float = 60) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


class Heard:
    """Every event of a bus, and a way to wait for one that matches."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, cls: type, **fields: Any) -> list[Any]:
        return [
            e
            for e in self.events
            if isinstance(e, cls) and all(getattr(e, k) == v for k, v in fields.items())
        ]

    async def wait(self, test: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until `test()` is truthy (checked after each event); its value."""

        async def waiting() -> Any:
            while True:
                found = test()
                if found:
                    return found
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(waiting(), timeout)


async def pair(
    transport: str = "websocket", version: str = "1.6", cp_id: str = "cp01", **cp_options: Any
) -> tuple[CentralSystem, ChargePoint, Heard]:
    heard = Heard()
    bus = EventBus(heard, LogConsumer())
    cs = CentralSystem(0, transport=transport, host="127.0.0.1", bus=bus)
    await cs.start()
    scheme = "ws" if transport == "websocket" else "http"
    if transport == "soap":
        cp_options.setdefault("host", "127.0.0.1")
    cp = ChargePoint(
        f"{scheme}://127.0.0.1:{cs.port}/",
        cp_id,
        transport=transport,
        version=version,
        bus=bus,
        **cp_options,
    )
    cp.start()
    await cp.ready()
    if transport == "websocket":
        await heard.wait(lambda: cp_id in cs.peers)
    return cs, cp, heard


async def stop(cs: CentralSystem, *cps: ChargePoint) -> None:
    for cp in cps:
        await cp.stop()
    await cs.stop()


TRANSPORTS = ["websocket", "soap"]


# -- answers ----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_delayed_answer_arrives_late(transport: str) -> None:
    async def scenario() -> float:
        cs, cp, heard = await pair(transport)
        try:
            cs.fault("delay", seconds=0.6)
            loop = asyncio.get_running_loop()
            start = loop.time()
            answer = await cp.call("Heartbeat")
            assert "currentTime" in answer
            (injected,) = heard.of(events.FaultInjected, kind="delay")
            assert injected.speaker == "cs" and injected.peer == "cp#cp01"
            assert injected.action == "Heartbeat" and "held 0.6 s" in injected.text
            return loop.time() - start
        finally:
            await stop(cs, cp)

    assert run(scenario()) >= 0.6


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_dropped_answer_makes_the_call_time_out_and_counts_down(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            assert cp.peer is not None
            cp.peer.timeout = 0.5
            cs.fault("drop", "cp01", times=2)
            for _ in range(2):
                with pytest.raises(CallTimeout):
                    await cp.call("Heartbeat")
            assert [e.left for e in heard.of(events.FaultInjected, kind="drop")] == [1, 0]
            assert heard.of(events.CallTimedOut, speaker="cp#cp01")
            (over,) = heard.of(events.FaultChanged, state="over")
            assert over.kind == "drop" and over.charge_point_id == "cp01"
            assert cs.faults is not None and cs.faults.faults == []
            assert cs.peers["cp01"].faults is None  # back to the fast path
            assert "currentTime" in await cp.call("Heartbeat")  # answered again
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_duplicated_answer_is_seen_twice_and_the_second_is_no_pending_call() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            cs.fault("duplicate", times=1)
            await cp.call("Heartbeat")
            await heard.wait(lambda: heard.of(events.AnswerIgnored, speaker="cp#cp01"))
            got = [
                e.message
                for e in heard.of(events.FrameReceived, speaker="cp#cp01")
                if isinstance(e.message, CallResult)
            ]
            assert len(got) == 2 and got[0] == got[1]
            (ignored,) = heard.of(events.AnswerIgnored, speaker="cp#cp01")
            assert ignored.unique_id == got[0].unique_id
        finally:
            await stop(cs, cp)

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_duplicated_call_reaches_the_central_system_twice(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            cp.fault("duplicate", times=1)
            await cp.call("Heartbeat")

            def calls() -> list[Call]:
                return [
                    e.message
                    for e in heard.of(events.FrameReceived, speaker="cs")
                    if isinstance(e.message, Call) and e.message.action == "Heartbeat"
                ]

            await heard.wait(lambda: len(calls()) == 2)
            first, second = calls()
            assert first.unique_id == second.unique_id
            injected = heard.of(events.FaultInjected, speaker="cp#cp01", kind="duplicate")
            assert injected[0].unique_id == first.unique_id
        finally:
            await stop(cs, cp)

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_answer_with_a_wrong_unique_id_is_no_pending_call(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            assert cp.peer is not None
            cp.peer.timeout = 0.5
            cs.fault("wrong-id", times=1)
            if transport == "websocket":
                with pytest.raises(CallTimeout):
                    await cp.call("Heartbeat")
                (ignored,) = heard.of(events.AnswerIgnored, speaker="cp#cp01")
                assert ignored.unique_id.startswith("ocppsim-fault-")
                assert len(ignored.unique_id) == 36
            else:  # SOAP: the answer is the HTTP response; RelatesTo names another message
                await cp.call("Heartbeat")
                await heard.wait(
                    lambda: [
                        n
                        for n in heard.of(events.Notice, speaker="cp#cp01")
                        if "RelatesTo urn:uuid:" in n.text and "does not match" in n.text
                    ]
                )
        finally:
            await stop(cs, cp)

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_answer_that_breaks_its_schema_is_refused(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            cs.fault("invalid-answer")
            with pytest.raises((InvalidMessage, CallError)):
                await cp.call("BootNotification")
            (injected,) = heard.of(events.FaultInjected, kind="invalid-answer")
            assert "status is 'OcppsimFault'" in injected.text
            (invalid,) = heard.of(events.ResultInvalid, speaker="cp#cp01")
            assert invalid.action == "BootNotification" and "OcppsimFault" in invalid.reason
            # an answer without an enumeration gets a date-time that is none
            with pytest.raises((InvalidMessage, CallError)):
                await cp.call("Heartbeat")
            texts = [e.text for e in heard.of(events.FaultInjected, kind="invalid-answer")]
            assert texts[-1].endswith("currentTime is 'not-a-date-time'")
        finally:
            await stop(cs, cp)

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_callerror_with_the_chosen_code_arrives(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            cs.fault("callerror", code="NotSupported", description="not today", action="Heartbeat")
            with pytest.raises(CallError) as raised:
                await cp.call("Heartbeat")
            assert (raised.value.code, raised.value.description) == ("NotSupported", "not today")
            # --action: other actions are answered as usual
            assert (await cp.call("BootNotification"))["status"] == "Accepted"
        finally:
            await stop(cs, cp)

    run(scenario())


# -- links ------------------------------------------------------------------------------------


def test_the_link_closes_after_n_frames_with_the_chosen_code() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            cs.fault("close", after=2, code=4001)
            await cp.call("Heartbeat")
            await cp.call("Heartbeat")  # the second frame the CS sends: then it closes
            gone = await heard.wait(lambda: heard.of(events.Disconnected, speaker="cp#cp01"))
            assert gone[0].reason.startswith("4001 ")
            assert "fault injected by ocppsim" in gone[0].reason
            assert len(heard.of(events.FrameSent, speaker="cs")) == 2
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_tcp_reset_is_seen_as_1006() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            cs.fault("reset", "cp01")
            gone = await heard.wait(lambda: heard.of(events.Disconnected, speaker="cp#cp01"))
            assert gone[0].reason == "1006 abnormal closure"
            (injected,) = heard.of(events.FaultInjected, kind="reset")
            assert injected.text.endswith("TCP connection reset")
            assert heard.of(events.FaultChanged, kind="reset", state="over")
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_charge_point_that_stops_reading_leaves_calls_unanswered_until_cleared() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            cp.fault("stop-reading")
            cs.peers["cp01"].timeout = 0.5
            with pytest.raises(CallTimeout):
                await cs.call("cp01", "ClearCache")
            assert not heard.of(events.FrameReceived, speaker="cp#cp01")  # never read
            cp.clear_faults("stop-reading")
            # reading again: the CALL that waited in the socket is read and answered
            await heard.wait(lambda: heard.of(events.FrameReceived, speaker="cp#cp01"))
            await heard.wait(lambda: heard.of(events.FrameSent, speaker="cp#cp01"))
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_slow_consumer_makes_the_other_sides_keepalive_fire() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(ping_interval=0.3)
        try:
            cs.fault("stop-reading", "cp01")
            gone = await heard.wait(lambda: heard.of(events.Disconnected, speaker="cp#cp01"))
            assert gone[0].reason.startswith("1011 ")
            assert any("no PONG" in n.text for n in heard.of(events.Notice, speaker="cp#cp01"))
        finally:
            await stop(cs, cp)

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_call_before_boot_arrives_before_the_bootnotification(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            cp.fault("send-before-boot", action="Authorize", times=1)

            def actions() -> list[str]:
                return [
                    e.message.action
                    for e in heard.of(events.FrameReceived, speaker="cs")
                    if isinstance(e.message, Call)
                ]

            await heard.wait(lambda: len(actions()) == 2)
            assert actions() == ["Authorize", "BootNotification"]
            assert heard.of(events.FaultChanged, kind="send-before-boot", state="over")
        finally:
            await stop(cs, cp)

    run(scenario())


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_clock_skew_moves_every_date_time_a_side_sends(transport: str) -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair(transport)
        try:
            cs.on_call("Heartbeat", lambda payload: {"currentTime": "2024-01-01T00:00:00.123Z"})
            cs.fault("clock-skew", seconds=-3600)
            assert (await cp.call("Heartbeat"))["currentTime"] == "2023-12-31T23:00:00.123Z"
            cp.fault("clock-skew", seconds=90)
            await cp.call(
                "StatusNotification",
                {
                    "connectorId": 1,
                    "errorCode": "NoError",
                    "status": "Available",
                    "timestamp": "2024-01-01T00:00:00Z",
                },
            )
            (got,) = [
                e.message.payload
                for e in heard.of(events.FrameReceived, speaker="cs")
                if isinstance(e.message, Call) and e.message.action == "StatusNotification"
            ]
            assert got["timestamp"] == "2024-01-01T00:01:30Z"
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_charge_points_reconnect_storm_is_counted_by_the_central_system() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            cp.fault("reconnect-storm", count=3, interval=0.05)
            await heard.wait(
                lambda: heard.of(events.FaultChanged, kind="reconnect-storm", state="over")
            )
            await heard.wait(lambda: cp.connected and "cp01" in cs.peers)
            assert len(heard.of(events.Connected, speaker="cs")) == 4  # the first, and 3 more
            drops = heard.of(events.FaultInjected, kind="reconnect-storm")
            assert [d.left for d in drops] == [2, 1, 0]
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_central_systems_reconnect_storm_drops_every_charge_point(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.05")

    async def scenario() -> None:
        cs, cp, heard = await pair()
        other = ChargePoint(cs.url, "cp02", version="2.0.1", bus=cp.bus)
        other.start()
        await other.ready()
        try:
            cs.fault("reconnect-storm", count=4, interval=0.05)
            await heard.wait(
                lambda: heard.of(events.FaultChanged, kind="reconnect-storm", state="over")
            )
            drops = heard.of(events.FaultInjected, kind="reconnect-storm")
            assert len(drops) == 4
            assert {d.peer for d in drops} == {"cp#cp01", "cp#cp02"}

            def lost() -> list[Any]:
                return [e for e in heard.of(events.Disconnected) if e.speaker != "cs"]

            await heard.wait(lambda: len(lost()) == 4)
            assert all(e.reason.startswith("1001 ") for e in lost())
        finally:
            await stop(cs, cp, other)

    run(scenario())


# -- setting, clearing, the API ----------------------------------------------------------------


def test_faults_that_make_no_sense_say_why() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair("soap")
        try:
            for kind in ("reset", "close", "stop-reading", "reconnect-storm"):
                with pytest.raises(FaultError, match="not available over SOAP"):
                    cs.fault(kind)
            with pytest.raises(FaultError, match="Charge Point's"):
                cs.fault("send-before-boot")
            with pytest.raises(FaultError, match="needs --seconds"):
                cs.fault("delay")
            with pytest.raises(FaultError, match="--seconds takes a number"):
                cs.fault("delay", seconds="soon")
            with pytest.raises(FaultError, match="unknown fault `lag'"):
                cs.fault("lag")
            with pytest.raises(FaultError, match="no option of fault drop"):
                cs.fault("drop", seconds=2)
            idle = ChargePoint("ws://127.0.0.1:9/", "idle", version="1.6")
            with pytest.raises(FaultError, match="takes no --for"):
                idle.fault("reconnect-storm", times=2)
            with pytest.raises(FaultError, match="takes no --action"):
                idle.fault("reset", action="Heartbeat")
            with pytest.raises(FaultError, match="no CALL a OCPP 1.6 Charge Point sends"):
                cp.fault("send-before-boot", action="Reset")
            assert cs.faults is None or cs.faults.faults == []
        finally:
            await stop(cs, cp)

    run(scenario())


def test_clear_ends_a_fault_for_a_charge_point_that_connects_later() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            cs.fault("drop", "cp02")
            assert cs.peers["cp01"].faults is None  # for cp02 only
            late = ChargePoint(cs.url, "cp02", version="1.6", bus=cp.bus)
            late.start()
            await late.ready()
            await heard.wait(lambda: "cp02" in cs.peers)
            assert cs.peers["cp02"].faults is not None
            (cleared,) = cs.clear_faults("drop")
            assert cleared.kind.name == "drop"
            assert cs.peers["cp02"].faults is None
            assert heard.of(events.FaultChanged, kind="drop", state="cleared")
            assert (await late.call("Heartbeat"))["currentTime"]
            await late.stop()
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_fraction_of_a_fleet_gets_the_fault() -> None:
    async def scenario() -> None:
        cs, cp, heard = await pair()
        fleet = [cp]
        for index in range(2, 11):
            other = ChargePoint(cs.url, f"cp{index:02}", version="1.6", bus=cp.bus)
            other.start()
            await other.ready()
            fleet.append(other)
        try:
            faults = inject_fraction(fleet, 0.2, "drop", seed=7)
            assert len(faults) == 2
            chosen = {f.charge_point_id for f in faults}
            again = inject_fraction(fleet, 0.2, "delay", seed=7, seconds=1)
            assert {f.charge_point_id for f in again} == chosen  # the same ones for a seed
            assert len(inject_fraction(fleet, 0.01, "duplicate")) == 1  # at least one
            with pytest.raises(FaultError, match="from 0 to 1"):
                inject_fraction(fleet, 2, "drop")
        finally:
            await stop(cs, *fleet)

    run(scenario())


def test_date_times_keep_their_form_when_skewed() -> None:
    assert shift_date_time("2024-01-01T00:00:00Z", 30) == "2024-01-01T00:00:30Z"
    assert shift_date_time("2024-01-01T00:00:00.5+02:00", -1) == "2023-12-31T23:59:59.5+02:00"
    assert shift_date_time("2024-03-01T00:00:00", -86400) == "2024-02-29T00:00:00"
    assert shift_date_time("2024-01-01T00:00:00.123456789Z", 1) == "2024-01-01T00:00:01.123456000Z"
    assert shift_date_time("1200", 5) is None
    moved, count = skew({"a": ["2024-01-01T00:00:00Z", {"b": "x"}], "c": 3}, 60)
    assert moved == {"a": ["2024-01-01T00:01:00Z", {"b": "x"}], "c": 3} and count == 1


def test_every_kind_is_exercised_here() -> None:
    """Each kind of the table has a test in this module (by name)."""
    source = open(__file__, encoding="utf-8").read()
    for kind in KINDS:
        assert f'"{kind}"' in source, kind
    assert inject  # the API names used above
    assert CallFailed


def test_apply_sets_a_fault_on_one_link_for_a_scenario_step() -> None:
    """`apply(peer, kind, **options)` is what a scenario's fault step calls: the prompt's
    options by name (`for`, `once`, `action` and the kind's)."""
    from ocppsim.sim.faults import apply

    async def scenario() -> None:
        cs, cp, heard = await pair()
        try:
            assert cp.peer is not None
            fault = apply(cs.peers["cp01"], "callerror", code="SecurityError", once=True)
            assert fault.left == 1 and fault.charge_point_id == "cp01"
            with pytest.raises(CallError) as raised:
                await cp.call("Heartbeat")
            assert raised.value.code == "SecurityError"
            assert cs.peers["cp01"].faults is None  # over: the link is back to the fast path
            apply(cp.peer, "clock-skew", seconds=60, action="StatusNotification", **{"for": 1})
            await cp.call("Heartbeat")  # another action: untouched
            await cp.call(
                "StatusNotification",
                {
                    "connectorId": 0,
                    "errorCode": "NoError",
                    "status": "Available",
                    "timestamp": "2024-01-01T00:00:00Z",
                },
            )
            (got,) = [
                e.message.payload
                for e in heard.of(events.FrameReceived, speaker="cs")
                if isinstance(e.message, Call) and e.message.action == "StatusNotification"
            ]
            assert got["timestamp"] == "2024-01-01T00:01:00Z"
            with pytest.raises(FaultError, match="both say how often"):
                apply(cp.peer, "drop", once=True, **{"for": 2})
            with pytest.raises(FaultError, match="not one link"):
                apply(cp.peer, "reconnect-storm", count=2)
        finally:
            await stop(cs, cp)

    run(scenario())


def test_a_modelled_charge_point_sends_the_call_before_its_own_boot() -> None:
    """A Charge Point whose model boots on connection: the fault's CALL goes first, then the
    model's one BootNotification (none added)."""

    async def scenario() -> None:
        cs, cp, heard = await pair()
        model = ChargePoint(cs.url, "cp02", version="1.6", behave=True, bus=cp.bus)
        model.fault("send-before-boot", action="Authorize")
        try:
            model.start()
            await model.ready()

            def actions() -> list[str]:
                return [
                    e.message.action
                    for e in heard.of(events.FrameReceived, speaker="cs", peer="cp#cp02")
                    if isinstance(e.message, Call)
                ]

            await heard.wait(lambda: "StatusNotification" in actions())
            assert actions()[:2] == ["Authorize", "BootNotification"]
            assert actions().count("BootNotification") == 1
        finally:
            await stop(cs, model, cp)

    run(scenario())
