"""The fleet's statistics: counts, errors by OCPP error code and latency percentiles per
action (HdrHistogram), connections, and shards summed after a trip through JSON."""

from __future__ import annotations

import json
import logging
from typing import Any

from ocppsim.core import events
from ocppsim.core.rpc import Call, CallError, CallResult
from ocppsim.fleet.stats import CONNECTION_LOST, NO_STATUS, TIMEOUT, FleetStats, merged


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sent(cp: str, uid: str, action: str) -> events.FrameSent:
    return events.FrameSent(cp, "cs", "websocket", "", "", Call(uid, action, {}))


def answered(cp: str, uid: str, error: str | None = None) -> events.FrameReceived:
    message: Any = CallError(uid, error, "", {}) if error else CallResult(uid, {})
    return events.FrameReceived(cp, "cs", "websocket", "", "", message)


def test_latency_count_and_errors_per_action() -> None:
    clock = Clock()
    stats = FleetStats(clock)
    for n in range(100):  # 1 ms to 100 ms
        stats(sent("cp#1", f"u{n}", "Heartbeat"))
        clock.now += (n + 1) / 1000
        stats(answered("cp#1", f"u{n}"))
    stats(sent("cp#2", "x", "Authorize"))
    stats(answered("cp#2", "x", "InternalError"))
    stats(sent("cp#3", "y", "Authorize"))
    stats(events.CallTimedOut("cp#3", "cs", "websocket", "y", "Authorize"))
    stats(sent("cp#4", "z", "MeterValues"))
    stats(events.Disconnected("cp#4", "cs", "websocket", "4", "1006"))
    stats(answered("cp#9", "nobody-asked"))  # an answer to no CALL of ours: ignored
    stats(events.Notice("cp#4", "Error: something", logging.ERROR))
    stats(events.Notice("cp#4", "all is well"))
    snap = stats.snapshot()
    heartbeat = snap["actions"]["Heartbeat"]
    assert heartbeat["count"] == 100 and heartbeat["errors"] == {}
    latency = heartbeat["latency_ms"]
    assert 49 <= latency["p50"] <= 51
    assert 94 <= latency["p95"] <= 96
    assert 98 <= latency["p99"] <= 100.5
    assert 99.5 <= latency["max"] <= 101
    assert snap["actions"]["Authorize"]["errors"] == {"InternalError": 1, TIMEOUT: 1}
    assert snap["actions"]["MeterValues"]["errors"] == {CONNECTION_LOST: 1}
    assert snap["errors"] == {CONNECTION_LOST: 1, "InternalError": 1, TIMEOUT: 1}
    assert snap["calls"] == {
        "total": 103,
        "failed": 3,
        "per_second": round(103 / stats.elapsed(), 2),
    }
    assert snap["problems"] == 1
    table = "\n".join(stats.table())
    assert "Heartbeat" in table and "p99 ms" in table and "InternalError×1" in table


def test_connections_and_calls_from_the_central_system() -> None:
    stats = FleetStats(Clock())
    for _ in range(3):
        stats.attempt_started()
    stats.link_up(again=False)
    stats.attempt_failed(503)
    stats.attempt_failed(None)
    stats.link_down(lost=True)
    stats.attempt_started()
    stats.link_up(again=True)
    stats(events.FrameReceived("cp#1", "cs", "websocket", "", "", Call("r", "Reset", {})))
    stats(events.CallRefused("cp#1", "cs", "websocket", "r2", "Reset", "FormationViolation", ""))
    snap = stats.snapshot()
    assert snap["connections"] == {
        "up": 1,
        "connecting": 0,
        "connected": 2,
        "lost": 1,
        "reconnects": 1,
        "refused": {"503": 1, NO_STATUS: 1},
        "all_up_s": None,  # nobody said how many it runs
    }
    assert snap["received"] == {"Reset": {"count": 1, "refused": 1}}
    assert "1 up, 0 connecting, 1 lost, 1 reconnects, 2 refused" in stats.status_line()


def test_shards_are_summed_after_a_trip_through_json() -> None:
    shards = []
    for shard in range(3):
        clock = Clock()
        stats = FleetStats(clock)
        stats.expected = 1
        stats.attempt_started()
        clock.now += shard + 1
        stats.link_up(again=False)
        for n in range(10):
            stats(sent(f"cp#{shard}", f"u{n}", "Heartbeat"))
            clock.now += 0.001 * (shard + 1)
            stats(answered(f"cp#{shard}", f"u{n}", "GenericError" if n == 0 else None))
        stats.session_event("arrived")
        clock.now += 10 * (shard + 1)
        stats.stop()
        shards.append(FleetStats.decode(json.loads(json.dumps(stats.encode()))))
    total = merged(shards)
    snap = total.snapshot()
    assert snap["actions"]["Heartbeat"]["count"] == 30
    assert snap["actions"]["Heartbeat"]["errors"] == {"GenericError": 3}
    assert 2.9 <= snap["actions"]["Heartbeat"]["latency_ms"]["max"] <= 3.1
    assert 0.9 <= snap["actions"]["Heartbeat"]["latency_ms"]["p50"] <= 2.1
    assert snap["connections"]["up"] == 3 and snap["connections"]["connected"] == 3
    assert snap["connections"]["all_up_s"] == 3.0  # the last shard's
    assert snap["sessions"] == {"arrived": 3}
    assert 33 <= snap["elapsed_s"] <= 33.2  # the longest shard's time


def test_calls_the_fleets_own_closing_leaves_unanswered_are_no_errors() -> None:
    stats = FleetStats(Clock())
    stats(sent("cp#1", "a", "BootNotification"))
    stats.stop()
    stats(events.Disconnected("cp#1", "cs", "websocket", "1", "1000 fleet stopped"))
    assert stats.failed == 0 and stats.snapshot()["errors"] == {}
