"""Replaying one side of a recording against a target, and where its answers differ.

`--as cp` (the default): ocppsim plays the recorded Charge Points against the Central System
at `url`: each sends its recorded CALLs in order, with the recorded timing divided by `speed`,
and answers the target's CALLs with its recorded answers, matched by action (in the order
they were recorded; the last one again when the recording has no more). `--as cs`: ocppsim
listens at `url` as the Central System; when a recorded Charge Point connects, it answers its
CALLs with the recorded answers and sends it the recorded Central System's CALLs, each once
the charge point has sent as many CALLs as it had before that one in the recording.

Every answer the target gives is compared with the recorded one (`ocppsim.core.trace.compare`:
unique ids and date-times aside, assigned ids such as transactionId paired and carried into
later frames). Date-times in what ocppsim sends move by the time elapsed since the recording,
so that they keep their distances and are not stale. Faults injected while recording are not
injected again: a difference at an exchange a fault changed says so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ocppsim.core import events
from ocppsim.core.errors import CallError, OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import Call
from ocppsim.core.trace import (
    Conversation,
    Exchange,
    IdMap,
    Outcome,
    Role,
    Trace,
    compare,
    learn,
)
from ocppsim.core.versions import get, resolve, with_transport
from ocppsim.sim.faults import skew
from ocppsim.sim.peer import CallFailed, CallTimeout


class ReplayError(OcppSimError):
    """A replay that cannot start (a bad URL, a charge point that never connects, …)."""


@dataclass(frozen=True)
class Difference:
    """One answer that differs from the recorded one, at one field."""

    step: int
    line: int
    charge_point_id: str
    action: str
    path: str
    recorded: str
    got: str
    #: the fault injected on this exchange while recording, if one was
    fault: str | None = None

    def shown(self) -> str:
        where = f"{self.path}: " if self.path else ""
        fault = f" [recorded with fault: {self.fault}]" if self.fault else ""
        return (
            f"step {self.step} cp#{self.charge_point_id} {self.action} (line {self.line}):"
            f" {where}recorded {self.recorded}, got {self.got}{fault}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "line": self.line,
            "chargePointId": self.charge_point_id,
            "action": self.action,
            "path": self.path,
            "recorded": self.recorded,
            "got": self.got,
            "fault": self.fault,
        }


@dataclass
class Report:
    """What a replay did and found."""

    trace: str
    target: str
    role: Role
    charge_points: list[str] = field(default_factory=list)
    #: frames the replaying side sent and received
    frames: int = 0
    #: exchanges played (CALLs sent or answered)
    steps: int = 0
    differences: list[Difference] = field(default_factory=list)
    #: what did not go as recorded without being an answer that differs
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def lines(self) -> list[str]:
        count = len(self.differences)
        plural = "difference" if count == 1 else "differences"
        head = (
            f"replay of {self.trace} as {self.role} against {self.target}: {self.frames} frames,"
            f" {self.steps} exchanges, {count} {plural}"
        )
        return [
            head,
            *(f"  {d.shown()}" for d in self.differences),
            *(f"  note: {n}" for n in self.notes),
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "trace": self.trace,
            "target": self.target,
            "as": self.role,
            "chargePoints": self.charge_points,
            "frames": self.frames,
            "exchanges": self.steps,
            "differences": [d.as_dict() for d in self.differences],
            "notes": self.notes,
        }


def _offset(trace: Trace) -> float:
    """Seconds between the recording's start and now: how far its date-times move."""
    started = trace.started()
    if started is None:
        return 0.0
    try:
        moment = datetime.fromisoformat(started.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    return (datetime.now(timezone.utc) - moment).total_seconds()


class _Player:
    """What both roles share: the answers to give by action, the ids paired, the report."""

    def __init__(self, trace: Trace, report: Report, ignore: tuple[str, ...]):
        self.trace = trace
        self.report = report
        self.ignore = ignore
        self.offset = _offset(trace)
        self.ids: dict[str, IdMap] = {}
        self._step = 0

    def now_payload(self, cp_id: str, payload: Any) -> Any:
        """A recorded payload as it goes out now: ids paired, date-times moved."""
        payload = self.ids.setdefault(cp_id, IdMap()).translate(payload)
        return skew(payload, self.offset)[0] if self.offset else payload

    def step(self) -> int:
        self._step += 1
        self.report.steps += 1
        return self._step

    def judge(self, exchange: Exchange, got: Outcome, step: int) -> None:
        """Compare what answered `exchange` with what the recording has."""
        ids = self.ids.setdefault(exchange.charge_point_id, IdMap())
        fault = exchange.fault.get("text") if exchange.fault else None
        for change in compare(exchange.outcome, got, ids, self.ignore):
            self.report.differences.append(
                Difference(
                    step,
                    exchange.line,
                    exchange.charge_point_id,
                    exchange.action,
                    change.path,
                    change.recorded,
                    change.got,
                    fault,
                )
            )

    def answerer(
        self, conversation: Conversation, sender: Role
    ) -> Callable[[str, Any], dict[str, Any] | None]:
        """answer(action, payload): the recorded answer to the next CALL `action` the target
        sends (the CALLs of `sender` in the recording), pairing the ids of its payload."""
        queues: dict[str, list[Exchange]] = {}
        for exchange in conversation.sent_by(sender):
            if exchange.kind == "CALL":
                queues.setdefault(exchange.action, []).append(exchange)
        used: dict[str, int] = {}
        cp_id = conversation.charge_point_id

        def answer(action: str, payload: Any) -> dict[str, Any] | None:
            self.step()
            recorded = queues.get(action)
            if not recorded:
                self.note(f"cp#{cp_id}: no recorded answer to {action}: the default one was sent")
                return None
            index = used.get(action, 0)
            used[action] = index + 1
            exchange = recorded[min(index, len(recorded) - 1)]
            learn(exchange.payload, payload, self.ids.setdefault(cp_id, IdMap()))
            outcome = exchange.outcome
            if outcome.type == "CALLERROR":
                raise CallError.received(
                    outcome.code or "GenericError",
                    outcome.description or "",
                    {},
                    action,
                    exchange.unique_id,
                )
            if outcome.type != "CALLRESULT":
                self.note(
                    f"cp#{cp_id}: the recorded {action} (line {exchange.line}) got"
                    f" {outcome.shown()}: the default answer was sent"
                )
                return None
            answered: dict[str, Any] = skew(outcome.payload, self.offset)[0]
            return answered

        return answer

    def note(self, text: str) -> None:
        if text not in self.report.notes:
            self.report.notes.append(text)

    async def play_call(self, exchange: Exchange, send: Callable[[str, Any], Any]) -> None:
        """Send the recorded CALL (or SEND) `exchange` and judge its answer."""
        step = self.step()
        payload = self.now_payload(exchange.charge_point_id, exchange.payload)
        got: Outcome
        try:
            result = await send(exchange.action, payload)
        except CallError as exc:
            got = Outcome("CALLERROR", None, exc.code, exc.description)
        except CallTimeout:
            got = Outcome("timeout")
        except CallFailed as exc:
            got = Outcome("failed", description=exc.reason)
        except OcppSimError as exc:  # not connected, an action the version lacks
            got = Outcome("failed", description=str(exc))
        else:
            if exchange.kind == "SEND":
                return
            got = Outcome("CALLRESULT", result)
        self.judge(exchange, got, step)


def _count_frames(report: Report) -> Callable[[Any], None]:
    def count(event: Any) -> None:
        report.frames += 1

    return count


async def _wait_until(loop: asyncio.AbstractEventLoop, moment: float) -> None:
    delay = moment - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


# -- --as cp ---------------------------------------------------------------------------------


async def _play_cp(
    player: _Player,
    conversation: Conversation,
    url: str,
    *,
    version: str | None,
    transport: str | None,
    speed: float,
    timeout: float,
    bus: EventBus,
) -> None:
    from ocppsim.sim.central_system import NotConnected
    from ocppsim.sim.charge_point import ChargePoint

    cp_id = conversation.charge_point_id
    version = version or conversation.version or None
    transport = transport or conversation.transport
    cp = ChargePoint(url, cp_id, version=version, transport=transport, bus=bus, history=0)
    answer = player.answerer(conversation, "cs")
    for action in get(cp.version).actions["cp"]:
        cp.on_call(action, lambda payload, _action=action: answer(_action, payload))
    try:
        await cp.__aenter__()
    except NotConnected as exc:
        raise ReplayError(str(exc)) from None
    try:
        peer = await cp.ready()
        peer.timeout = timeout
        loop = asyncio.get_running_loop()
        start = loop.time()
        mine = conversation.sent_by("cp")
        first = mine[0].t if mine else 0.0

        async def call(action: str, payload: Any) -> Any:
            return await cp.call(action, payload, validate=False, defaults=False)

        async def send(action: str, payload: Any) -> Any:
            return await cp.send(action, payload, validate=False, defaults=False)

        for exchange in mine:
            await _wait_until(loop, start + (exchange.t - first) / speed)
            await player.play_call(exchange, send if exchange.kind == "SEND" else call)
    finally:
        await cp.stop()


# -- --as cs ---------------------------------------------------------------------------------


@dataclass
class _Expected:
    """A recorded charge point the replaying Central System waits for."""

    conversation: Conversation
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    calls: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    answer: Callable[[str, Any], dict[str, Any] | None] | None = None


def _listen_address(url: str, transport: str | None) -> tuple[str, int, str, str]:
    """(host, port, endpoint, transport) of the URL a replaying Central System listens at."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("ws", "http"):
        raise ReplayError(
            f"--as cs listens at ws://host:port/path (OCPP-J) or http://host:port/path (SOAP),"
            f" not {url!r}"
        )
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        raise ReplayError(f"--as cs needs the port to listen on in the URL ({url!r})")
    chosen = transport or ("soap" if scheme == "http" else "websocket")
    return parts.hostname or "0.0.0.0", port, parts.path or "/", chosen


async def _play_cs(
    player: _Player,
    conversations: list[Conversation],
    url: str,
    *,
    version: str | None,
    transport: str | None,
    speed: float,
    timeout: float,
    wait: float,
    bus: EventBus,
) -> None:
    from ocppsim.sim.central_system import CentralSystem

    host, port, endpoint, chosen = _listen_address(url, transport)
    expected = {c.charge_point_id: _Expected(c) for c in conversations}
    for item in expected.values():
        item.answer = player.answerer(item.conversation, "cp")
    if version is not None:
        versions: Any = [version]
    else:
        recorded = {c.version for c in conversations if c.version}
        versions = sorted(recorded) or None
        if versions and any(chosen not in get(v).transports for v in versions):
            versions = None

    def heard(event: Any) -> None:
        if type(event) is events.Connected:
            found = expected.get(event.charge_point_id)
            if found is not None:
                found.connected.set()
        elif type(event) is events.FrameReceived and event.speaker == "cs":
            found = expected.get(event.peer[3:])
            if found is not None and isinstance(event.message, Call):
                found.calls += 1
                found.changed.set()

    bus.subscribe(heard)
    cs = CentralSystem(
        port, transport=chosen, host=host, endpoint=endpoint, versions=versions, bus=bus
    )
    actions = {a for entry in with_transport(chosen) for a in entry.actions["cs"]}
    for action in sorted(actions):

        def handler(payload: Any, ctx: Any, _action: str = action) -> Any:
            found = expected.get(ctx.charge_point_id)
            if found is None or found.answer is None:
                return None
            return found.answer(_action, payload)

        cs.on_call(action, handler)
    try:
        await cs.start()
    except OSError as exc:
        raise ReplayError(f"cannot listen on port {port}: {exc.strerror or exc}") from None
    try:
        await asyncio.gather(
            *(
                _serve_cp(player, cs, item, speed=speed, timeout=timeout, wait=wait)
                for item in expected.values()
            )
        )
    finally:
        await cs.stop()


async def _serve_cp(
    player: _Player, cs: Any, item: _Expected, *, speed: float, timeout: float, wait: float
) -> None:
    conversation = item.conversation
    cp_id = conversation.charge_point_id
    try:
        await asyncio.wait_for(item.connected.wait(), wait)
    except asyncio.TimeoutError:
        player.note(f"cp#{cp_id} did not connect within {wait:g} s")
        return
    loop = asyncio.get_running_loop()
    previous_t = conversation.exchanges[0].t if conversation.exchanges else 0.0
    for exchange in conversation.sent_by("cs"):
        if not await _calls_reached(item, exchange.calls_before, wait):
            player.note(
                f"cp#{cp_id} sent {item.calls} CALLs, {exchange.calls_before} in the recording"
                f" before {exchange.action} (line {exchange.line}): sent anyway"
            )
        await _wait_until(loop, loop.time() + max(0.0, exchange.t - previous_t) / speed)
        previous_t = exchange.t
        peer = cs.peers.get(cp_id)
        if peer is not None:
            peer.timeout = timeout

        async def send(action: str, payload: Any, _kind: str = exchange.kind) -> Any:
            if _kind == "SEND":
                return await cs.send(cp_id, action, payload, validate=False, defaults=False)
            return await cs.call(cp_id, action, payload, validate=False, defaults=False)

        await player.play_call(exchange, send)
    wanted = len(conversation.sent_by("cp"))
    if not await _calls_reached(item, wanted, wait):
        player.note(f"cp#{cp_id} sent {item.calls} CALLs, {wanted} in the recording")


async def _calls_reached(item: _Expected, count: int, wait: float) -> bool:
    """Wait until the charge point has sent `count` CALLs (False after `wait` seconds)."""

    async def reached() -> None:
        while item.calls < count:
            item.changed.clear()
            await item.changed.wait()

    try:
        await asyncio.wait_for(reached(), wait)
    except asyncio.TimeoutError:
        return False
    return True


# -- the whole replay ----------------------------------------------------------------------


async def replay(
    trace: Trace,
    url: str,
    *,
    role: Role = "cp",
    speed: float = 1.0,
    charge_point_ids: list[str] | None = None,
    version: str | None = None,
    transport: str | None = None,
    timeout: float = 30.0,
    wait: float = 30.0,
    ignore: tuple[str, ...] = (),
    bus: EventBus | None = None,
) -> Report:
    """Play one side of `trace` against `url` (see the module docstring); the report.
    ReplayError when it cannot start."""
    if speed <= 0:
        raise ReplayError("--speed must be above 0")
    if version is not None:
        version = resolve(version).name
    known = trace.charge_point_ids()
    if not known:
        raise ReplayError(f"{trace.path} has no frames of a charge point")
    chosen = charge_point_ids or known
    missing = [cp_id for cp_id in chosen if cp_id not in known]
    if missing:
        raise ReplayError(
            f"{trace.path} has no charge point {', '.join(missing)} (it has {', '.join(known)})"
        )
    report = Report(trace.path, url, role, list(chosen))
    player = _Player(trace, report, ignore)
    bus = bus if bus is not None else EventBus()
    counting = _count_frames(report)
    speaker = "cs" if role == "cs" else None

    def frames(event: Any) -> None:
        kind = type(event)
        if kind is events.FrameSent or kind is events.FrameReceived:
            if speaker is None or event.speaker == speaker:
                counting(event)

    bus.subscribe(frames)
    conversations = [trace.conversation(cp_id, role) for cp_id in chosen]
    if role == "cp":
        await asyncio.gather(
            *(
                _play_cp(
                    player,
                    conversation,
                    url,
                    version=version,
                    transport=transport,
                    speed=speed,
                    timeout=timeout,
                    bus=bus,
                )
                for conversation in conversations
            )
        )
    else:
        await _play_cs(
            player,
            conversations,
            url,
            version=version,
            transport=transport,
            speed=speed,
            timeout=timeout,
            wait=wait,
            bus=bus,
        )
    return report


def write_json(report: Report, path: str | Path) -> None:
    Path(path).write_text(json.dumps(report.as_dict(), indent=2) + "\n", encoding="utf-8")
