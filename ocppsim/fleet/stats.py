"""What a fleet measures, as load testers expect it: per action the count, the errors by OCPP
error code and the latency percentiles (an HdrHistogram per action, from the `hdrhistogram`
package: constant memory whatever the number of calls, and mergeable); the connections (up,
connecting, lost, reconnects, refused by HTTP status); calls per second.

`FleetStats` is fed by the fleet's event bus (`FleetStats.__call__` is a bus subscriber: a
CALL's `FrameSent` starts its clock, the `FrameReceived` of its CALLRESULT or CALLERROR stops
it) and by the fleet's connection code (`connecting`, `connected`, `refused`, `lost`). Worker
processes each keep one and the parent sums them: `encode()` gives a JSON-able dict (the
histograms as HdrHistogram's compressed base64 blobs), `FleetStats.decode` reads it back and
`merge` adds one into another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from hdrh.histogram import HdrHistogram

from ocppsim.core import events
from ocppsim.core.rpc import Call, CallError, CallResult

#: Latencies are recorded in microseconds, from 1 µs to a minute (longer ones count as a
#: minute), to 2 significant digits (1 %): about 20 KB per action.
LOWEST_US, HIGHEST_US, DIGITS = 1, 60_000_000, 2
#: The error a CALL that got no answer in time counts as (not an OCPP error code: the CALL
#: failed on our side), and one whose link closed before its answer came.
TIMEOUT, CONNECTION_LOST = "Timeout", "ConnectionLost"
#: The error of a CALLRESULT whose payload breaks its schema (it is still taken).
INVALID_RESULT = "InvalidResult"
#: The percentiles reported.
PERCENTILES = (50.0, 95.0, 99.0)
#: The key of connection failures that have no HTTP status (refused, timed out, TLS).
NO_STATUS = "no-http-status"


def new_histogram() -> HdrHistogram:
    """An empty latency histogram (microseconds)."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, DIGITS)


class ActionStats:
    """The CALLs of one action a fleet sent: how many, which failed how, how long they took."""

    __slots__ = ("count", "errors", "histogram")

    def __init__(self) -> None:
        self.count = 0
        self.errors: dict[str, int] = {}
        self.histogram = new_histogram()

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    def record(self, seconds: float | None, error: str | None = None) -> None:
        """One CALL done: its latency (None when it got no answer), its error code if any."""
        self.count += 1
        if error is not None:
            self.errors[error] = self.errors.get(error, 0) + 1
        if seconds is not None:
            micros = min(max(int(seconds * 1e6), LOWEST_US), HIGHEST_US)
            self.histogram.record_value(micros)

    def latency_ms(self) -> dict[str, float]:
        """p50, p95, p99 and max in milliseconds (0 when nothing was answered)."""
        h = self.histogram
        if h.get_total_count() == 0:
            return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "max": 0.0}
        found = {f"p{p:g}": h.get_value_at_percentile(p) / 1000 for p in PERCENTILES}
        found["max"] = h.get_max_value() / 1000
        return {key: round(value, 3) for key, value in found.items()}

    def merge(self, other: ActionStats) -> None:
        self.count += other.count
        for code, n in other.errors.items():
            self.errors[code] = self.errors.get(code, 0) + n
        self.histogram.add(other.histogram)

    def encode(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "errors": dict(self.errors),
            "histogram": self.histogram.encode().decode("ascii"),
        }

    @classmethod
    def decode(cls, data: dict[str, Any]) -> ActionStats:
        stats = cls()
        stats.count = int(data["count"])
        stats.errors = {str(k): int(v) for k, v in data.get("errors", {}).items()}
        blob = data.get("histogram")
        if blob:
            stats.histogram.add(HdrHistogram.decode(blob.encode("ascii")))
        return stats


class FleetStats:
    """The statistics of one fleet (or one shard of it); see the module docstring."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self._clock = clock
        self.started = clock()
        self.stopped: float | None = None
        #: the longest elapsed time of a shard merged in
        self._floor = 0.0
        #: CALLs the fleet sent, by action
        self.actions: dict[str, ActionStats] = {}
        #: CALLs the Central System sent, by action: how many, and how many were refused
        self.received: dict[str, int] = {}
        self.refused_calls: dict[str, int] = {}
        #: gauges: links up now, connection attempts under way now
        self.up = 0
        self.connecting = 0
        #: counters: connections made, links lost, connections made again after a loss,
        #: attempts refused by HTTP status (`NO_STATUS`: no HTTP answer)
        self.connected = 0
        self.lost = 0
        self.reconnects = 0
        self.refused: dict[str, int] = {}
        #: how many charge points the fleet (or shard) runs, and seconds from its start until
        #: every one was up for the first time (the ramp's outcome; None until then)
        self.expected = 0
        self.all_up_s: float | None = None
        #: error lines about the fleet's charge points (their text: in `--log-file`)
        self.problems = 0
        #: what the drivers did: `arrived`, `left`, `away` (no free point), `<step> skipped`
        self.sessions: dict[str, int] = {}
        #: the CALL each charge point has out (at most one: Peer's lock): speaker -> (unique
        #: id, action, start time)
        self._pending: dict[str, tuple[str, str, float]] = {}
        #: (time, calls) samples for the recent rate
        self._samples: list[tuple[float, int]] = [(self.started, 0)]
        self.by_type: dict[type, Callable[[Any], None]] = {
            events.FrameSent: self._sent,
            events.FrameReceived: self._received,
            events.CallTimedOut: self._timed_out,
            events.ResultInvalid: self._result_invalid,
            events.CallRefused: self._refused,
            events.Disconnected: self._disconnected,
            events.Notice: self._notice,
        }

    # -- the bus ------------------------------------------------------------------------------

    def __call__(self, event: Any) -> None:
        handler = self.by_type.get(type(event))
        if handler is not None:
            handler(event)

    def _sent(self, event: events.FrameSent) -> None:
        message = event.message
        if type(message) is Call:
            self._pending[event.speaker] = (message.unique_id, message.action, self._clock())

    def _received(self, event: events.FrameReceived) -> None:
        message = event.message
        if isinstance(message, (CallResult, CallError)):
            pending = self._pending.get(event.speaker)
            if pending is None or pending[0] != message.unique_id:
                return
            del self._pending[event.speaker]
            error = message.code if isinstance(message, CallError) else None
            self.action(pending[1]).record(self._clock() - pending[2], error)
        elif isinstance(message, Call):
            action = message.action
            self.received[action] = self.received.get(action, 0) + 1

    def _timed_out(self, event: events.CallTimedOut) -> None:
        self._pending.pop(event.speaker, None)
        self.action(event.action).record(None, TIMEOUT)

    def _result_invalid(self, event: events.ResultInvalid) -> None:
        # its CALLRESULT was read (and counted) first: the call counts as failed too
        errors = self.action(event.action).errors
        errors[INVALID_RESULT] = errors.get(INVALID_RESULT, 0) + 1

    def _refused(self, event: events.CallRefused) -> None:
        key = event.action or "(unreadable)"
        self.refused_calls[key] = self.refused_calls.get(key, 0) + 1

    def _disconnected(self, event: events.Disconnected) -> None:
        pending = self._pending.pop(event.speaker, None)
        if pending is not None and self.stopped is None:  # the fleet's own closing: no error
            self.action(pending[1]).record(None, CONNECTION_LOST)

    def _notice(self, event: events.Notice) -> None:
        if event.level >= logging.ERROR:
            self.problems += 1

    def action(self, name: str) -> ActionStats:
        found = self.actions.get(name)
        if found is None:
            found = self.actions[name] = ActionStats()
        return found

    # -- connections (told by the fleet) --------------------------------------------------

    def attempt_started(self) -> None:
        self.connecting += 1

    def attempt_failed(self, status: int | None) -> None:
        self.connecting -= 1
        key = str(status) if status is not None else NO_STATUS
        self.refused[key] = self.refused.get(key, 0) + 1

    def link_up(self, again: bool) -> None:
        """A connection attempt succeeded (`again`: after a lost link)."""
        self.connecting -= 1
        self.up += 1
        self.connected += 1
        if again:
            self.reconnects += 1
        if self.all_up_s is None and self.expected and self.up >= self.expected:
            self.all_up_s = self._clock() - self.started

    def link_down(self, lost: bool) -> None:
        """A link ended (`lost`: not closed by the fleet)."""
        self.up -= 1
        if lost:
            self.lost += 1

    def session_event(self, what: str) -> None:
        """A driver arrived, left, went away, or a step of theirs no longer applied."""
        self.sessions[what] = self.sessions.get(what, 0) + 1

    def attempt_abandoned(self) -> None:
        """An attempt under way was cancelled (the fleet stops)."""
        self.connecting -= 1

    # -- reading ------------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        return sum(a.count for a in self.actions.values())

    @property
    def failed(self) -> int:
        return sum(a.failed for a in self.actions.values())

    def elapsed(self) -> float:
        end = self.stopped if self.stopped is not None else self._clock()
        return max(end - self.started, self._floor, 1e-9)

    def stop(self) -> None:
        """The fleet stops: elapsed time and rates end here, and the CALLs its closing links
        leave unanswered are no errors."""
        if self.stopped is None:
            self.stopped = self._clock()

    def recent_rate(self, window: float = 5.0) -> float:
        """Calls per second over about the last `window` seconds (read by a live display)."""
        now, calls = self._clock(), self.calls
        samples = self._samples
        samples.append((now, calls))
        while len(samples) > 2 and now - samples[1][0] >= window:
            samples.pop(0)
        then, before = samples[0]
        return (calls - before) / (now - then) if now > then else 0.0

    def errors(self) -> dict[str, int]:
        """Failed CALLs by error code, every action together."""
        total: dict[str, int] = {}
        for stats in self.actions.values():
            for code, n in stats.errors.items():
                total[code] = total.get(code, 0) + n
        return dict(sorted(total.items()))

    def snapshot(self) -> dict[str, Any]:
        """Everything, as JSON-able values (the report's statistics)."""
        elapsed = self.elapsed()
        return {
            "elapsed_s": round(elapsed, 3),
            "connections": {
                "up": self.up,
                "connecting": self.connecting,
                "connected": self.connected,
                "lost": self.lost,
                "reconnects": self.reconnects,
                "refused": dict(sorted(self.refused.items())),
                "all_up_s": None if self.all_up_s is None else round(self.all_up_s, 3),
            },
            "calls": {
                "total": self.calls,
                "failed": self.failed,
                "per_second": round(self.calls / elapsed, 2),
            },
            "errors": self.errors(),
            "actions": {
                name: {
                    "count": stats.count,
                    "errors": dict(sorted(stats.errors.items())),
                    "latency_ms": stats.latency_ms(),
                }
                for name, stats in sorted(self.actions.items())
            },
            "received": {
                name: {"count": n, "refused": self.refused_calls.get(name, 0)}
                for name, n in sorted(self.received.items())
            },
            "sessions": dict(sorted(self.sessions.items())),
            "problems": self.problems,
        }

    def status_line(self) -> str:
        """One line for a live display: links, calls, rate, failures."""
        return (
            f"{self.up} up, {self.connecting} connecting, {self.lost} lost,"
            f" {self.reconnects} reconnects, {sum(self.refused.values())} refused"
            f" | {self.calls} calls, {self.recent_rate():.1f}/s, {self.failed} failed"
        )

    def table(self) -> list[str]:
        """The statistics as a text table."""
        snap = self.snapshot()
        conn = snap["connections"]
        refused = ", ".join(f"{k}×{v}" for k, v in conn["refused"].items()) or "none"
        calls = snap["calls"]
        lines = [
            f"connections: {conn['up']} up, {conn['connecting']} connecting,"
            f" {conn['connected']} made, {conn['lost']} lost, {conn['reconnects']} reconnects;"
            f" refused: {refused}"
            + (f"; all up after {conn['all_up_s']:.1f} s" if conn["all_up_s"] is not None else ""),
            f"calls: {calls['total']} in {snap['elapsed_s']:.1f} s ({calls['per_second']:.1f}/s),"
            f" {calls['failed']} failed",
        ]
        header = ("action", "count", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms")
        rows: list[tuple[str, ...]] = [header]
        for name, data in snap["actions"].items():
            lat = data["latency_ms"]
            rows.append(
                (
                    name,
                    str(data["count"]),
                    str(sum(data["errors"].values())),
                    *(f"{lat[k]:.1f}" for k in ("p50", "p95", "p99", "max")),
                )
            )
        if len(rows) > 1:
            width = max(len(row[0]) for row in rows)
            for row in rows:
                lines.append(
                    "  " + row[0].ljust(width) + "".join(cell.rjust(9) for cell in row[1:])
                )
        if snap["errors"]:
            lines.append(
                "errors: " + ", ".join(f"{code}×{n}" for code, n in snap["errors"].items())
            )
        if snap["sessions"]:
            lines.append("sessions: " + ", ".join(f"{k} {v}" for k, v in snap["sessions"].items()))
        if snap["problems"]:
            lines.append(f"problems: {snap['problems']} error lines (--log-file shows them)")
        if snap["received"]:
            lines.append(
                "calls from the Central System: "
                + ", ".join(
                    f"{name}×{data['count']}"
                    + (f" ({data['refused']} refused)" if data["refused"] else "")
                    for name, data in snap["received"].items()
                )
            )
        return lines

    # -- shards ------------------------------------------------------------------------------

    def encode(self) -> dict[str, Any]:
        """A JSON-able form another process can `decode` and `merge`."""
        return {
            "elapsed_s": self.elapsed(),
            "actions": {name: stats.encode() for name, stats in self.actions.items()},
            "received": dict(self.received),
            "refused_calls": dict(self.refused_calls),
            "up": self.up,
            "connecting": self.connecting,
            "connected": self.connected,
            "lost": self.lost,
            "reconnects": self.reconnects,
            "refused": dict(self.refused),
            "expected": self.expected,
            "all_up_s": self.all_up_s,
            "sessions": dict(self.sessions),
            "problems": self.problems,
        }

    @classmethod
    def decode(cls, data: dict[str, Any]) -> FleetStats:
        """What `encode` gave, as statistics (elapsed time as it was)."""
        stats = cls()
        stats.stopped = stats.started
        stats._floor = float(data.get("elapsed_s", 0.0))
        stats.actions = {
            name: ActionStats.decode(value) for name, value in data.get("actions", {}).items()
        }
        stats.received = {k: int(v) for k, v in data.get("received", {}).items()}
        stats.refused_calls = {k: int(v) for k, v in data.get("refused_calls", {}).items()}
        for name in ("up", "connecting", "connected", "lost", "reconnects"):
            setattr(stats, name, int(data.get(name, 0)))
        stats.refused = {k: int(v) for k, v in data.get("refused", {}).items()}
        stats.sessions = {k: int(v) for k, v in data.get("sessions", {}).items()}
        stats.problems = int(data.get("problems", 0))
        stats.expected = int(data.get("expected", 0))
        found = data.get("all_up_s")
        stats.all_up_s = None if found is None else float(found)
        return stats

    def merge(self, other: FleetStats) -> None:
        """Add `other` (another shard of the same fleet) into this one."""
        for name, stats in other.actions.items():
            self.action(name).merge(stats)
        for target, source in (
            (self.received, other.received),
            (self.refused_calls, other.refused_calls),
            (self.refused, other.refused),
            (self.sessions, other.sessions),
        ):
            for key, n in source.items():
                target[key] = target.get(key, 0) + n
        for name in ("up", "connecting", "connected", "lost", "reconnects", "problems"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        # the whole fleet is up once its last shard is (None while one is not)
        shards_up = (self.all_up_s is not None or not self.expected) and other.all_up_s is not None
        self.all_up_s = max(self.all_up_s or 0.0, other.all_up_s or 0.0) if shards_up else None
        self.expected += other.expected
        self._floor = max(self._floor, other.elapsed())


def merged(shards: Iterable[FleetStats]) -> FleetStats:
    """The statistics of a fleet run as several shards."""
    total = FleetStats()
    total.stopped = total.started
    for shard in shards:
        total.merge(shard)
    return total
