"""One case as it runs: `CaseRun` drives the link of the case step by step, answers the peer's
CALLs as the steps say, and records what happened.

The same methods run a YAML case's steps and a Python case (`async def case(run)`): `send`,
`send_raw`, `expect`, `expect_no`, `answer`, `wait`, `set`, `check`, `ask`, `fault`, `connect`,
`disconnect`, `boot`. Each records a step with its verdict; a step that fails raises
`CaseFailed` (the case stops there), one that cannot run here `CaseSkipped`, one the check
itself cannot carry out `CaseBroken`.

`run.cp` is the `ocppsim.ChargePoint` of a csms suite's case, `run.cs` the
`ocppsim.CentralSystem` of a cp suite's run: a Python case may use the whole public API.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.check.matching import (
    MISSING,
    MatchError,
    check_matcher,
    get_path,
    mismatch,
    substitute,
)
from ocppsim.check.monitor import shorten
from ocppsim.check.results import ERROR, FAIL_VERDICT, PASS, SKIP, FrameRecord, StepResult
from ocppsim.core import events
from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import ERROR_DESCRIPTIONS, CallError, OcppSimError
from ocppsim.core.rpc import MESSAGE_TYPE_NAMES, Call, new_unique_id
from ocppsim.core.versions import get
from ocppsim.sim.calls import InvalidMessage
from ocppsim.sim.peer import CallFailed, CallTimeout, raw_call

if TYPE_CHECKING:
    from ocppsim.check.monitor import Monitor
    from ocppsim.check.scenario import Case, Step, Suite
    from ocppsim.sim.peer import Peer

#: How long a step waits for what it expects unless the case or the step says otherwise.
DEFAULT_WITHIN = 10.0


class CaseFailed(OcppSimError):
    """A step found the peer at fault: `reason` names the field, `frame` the frame."""

    def __init__(self, reason: str, frame: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.frame = frame


class CaseSkipped(OcppSimError):
    """The case cannot run here (a parameter not given, an ask nobody carries out)."""


class CaseBroken(OcppSimError):
    """The check cannot carry the case out (no connection, a step that cannot work)."""


class Side(Protocol):
    """The link a case drives: ocppsim's charge point (a csms suite) or Central System (cp)."""

    #: our speaker on the event bus (`cp#<id>`, `cs`) and the label of the peer (`cs`, `cp#<id>`)
    speaker: str
    peer_label: str
    version: str
    charge_point_id: str

    def peer(self) -> Peer:
        """The link now (CaseBroken when there is none)."""

    async def call(self, action: str, payload: Any, *, validate: bool, defaults: bool) -> Any:
        """Send a CALL through the public API; the CALLRESULT's payload."""

    def default_reply(self, action: str, payload: Any) -> Any:
        """The role's own answer to a CALL (None: the version's default)."""

    async def connect(self, run: CaseRun) -> None: ...

    async def disconnect(self, run: CaseRun) -> None: ...

    async def boot(self, run: CaseRun, status: str | None) -> None: ...


@dataclass
class Got:
    """A CALL the peer sent during the case."""

    action: str
    payload: Any
    unique_id: str
    wire: str
    at: float
    taken: bool = False
    replied_by: Armed | None = None


@dataclass
class Armed:
    """A reply set up for the next CALL `action` (whose payload matches `payload`)."""

    action: str
    payload: Any
    reply: dict[str, Any] | None = None
    error: Any = None
    delay: float | None = None
    no_reply: bool = False
    got: Got | None = None
    owner: Any = None


@dataclass
class Rule:
    """A standing answer to CALLs `action` (`any`: every action), `times` of them or all."""

    action: str
    reply: dict[str, Any] | None = None
    error: Any = None
    delay: float | None = None
    ignore: bool = False
    times: int | None = None


class Variables(dict):  # type: ignore[type-arg]
    """A case's variables: `${uid}` is a new unique id each time it is read."""

    def __getitem__(self, key: Any) -> Any:
        if key == "uid" and not super().__contains__("uid_fixed"):
            return new_unique_id()
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        return key == "uid" or super().__contains__(key)


@dataclass
class RunOptions:
    """What a check run is told: step timeouts and how asks are carried out."""

    within: float = DEFAULT_WITHIN
    answer_timeout: float = 30.0


class CaseRun:
    """The state of one case in one version while it runs (see the module docstring)."""

    def __init__(
        self,
        suite: Suite,
        case: Case,
        full_id: str,
        side: Side,
        variables: dict[str, Any],
        *,
        options: RunOptions,
        monitor: Monitor,
        asker: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.suite = suite
        self.case = case
        self.id = full_id
        self.side = side
        self.version = side.version
        self.entry = get(side.version)
        self.options = options
        self.monitor = monitor
        self.asker = asker
        self.clock = clock
        self.vars = Variables(variables)
        self.vars.update(
            charge_point_id=side.charge_point_id, version=side.version, case_id=full_id
        )
        self.steps: list[StepResult] = []
        self.frames: list[FrameRecord] = []
        self.received: list[Got] = []
        self.armed: list[Armed] = []
        self.rules: list[Rule] = []
        self.started = clock()
        self._waiters: list[asyncio.Future[None]] = []
        self._hanging: set[asyncio.Task[Any]] = set()
        self._step_number = 0

    @property
    def cp(self) -> Any:
        """The `ocppsim.ChargePoint` of a csms suite's case (None in a cp suite)."""
        return getattr(self.side, "cp", None)

    @property
    def cs(self) -> Any:
        """The `ocppsim.CentralSystem` of a cp suite's run (None in a csms suite)."""
        return getattr(self.side, "cs", None)

    # -- what the bus tells the run ---------------------------------------------------------

    def __call__(self, event: Any) -> None:
        kind = type(event)
        if kind is not events.FrameSent and kind is not events.FrameReceived:
            return
        if event.speaker != self.side.speaker or event.peer != self.side.peer_label:
            return
        message = event.message
        now = self.clock() - self.started
        message_type = action = uid = None
        if message is not None:
            message_type = MESSAGE_TYPE_NAMES.get(message.message_type)
            uid = message.unique_id
            action = getattr(message, "action", None)
        direction = "sent" if kind is events.FrameSent else "received"
        self.frames.append(FrameRecord(now, direction, event.wire, message_type, action, uid))
        if kind is events.FrameReceived:
            if isinstance(message, Call):
                self.received.append(
                    Got(message.action, message.payload, uid or "", event.wire, now)
                )
            self._wake()

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for future in waiters:
            if not future.done():
                future.set_result(None)

    async def _until(self, ready: Callable[[], Any], within: float) -> Any:
        """`ready()`'s first true value, re-checked as frames arrive; None after `within` s."""
        deadline = self.clock() + within
        while True:
            value = ready()
            if value:
                return value
            left = deadline - self.clock()
            if left <= 0:
                return None
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            try:
                await asyncio.wait_for(future, left)
            except asyncio.TimeoutError:
                pass

    # -- answering the peer's CALLs ---------------------------------------------------------

    async def reply(self, action: str, payload: Any) -> Any:
        """The answer to the peer's CALL `action`: an armed reply, a standing answer, the
        role's own answer, else None (the version's default)."""
        got = next((g for g in reversed(self.received) if g.payload is payload), None)
        for armed in self.armed:
            if armed.got is None and armed.action == action and _matches(armed.payload, payload):
                armed.got = got
                if got is not None:
                    got.replied_by = armed
                self._wake()
                return await self._apply(
                    action, payload, armed.reply, armed.error, armed.delay, armed.no_reply
                )
        for rule in reversed(self.rules):
            if rule.action not in (action, "any") or rule.times == 0:
                continue
            if rule.times is not None:
                rule.times -= 1
            return await self._apply(
                action, payload, rule.reply, rule.error, rule.delay, rule.ignore
            )
        return self.side.default_reply(action, payload)

    async def _apply(
        self,
        action: str,
        payload: Any,
        reply: dict[str, Any] | None,
        error: Any,
        delay: float | None,
        silent: bool,
    ) -> Any:
        if silent:
            task = asyncio.current_task()
            if task is not None:
                self._hanging.add(task)
            await asyncio.get_running_loop().create_future()  # until the case ends
        if delay:
            await asyncio.sleep(delay)
        if error is not None:
            code, description = _error(error)
            raise CallError(code, description)
        own = self.side.default_reply(action, payload)
        if reply is None:
            return own
        body = own if isinstance(own, dict) else default_payload(self.version, action + "Response")
        for key, value in reply.items():
            if value is None:
                body.pop(key, None)
            else:
                body[key] = value
        return body

    def release(self) -> None:
        """The case is over: answers still held back are never sent, its faults end."""
        try:
            _clear_faults(self.side.peer())
        except (CaseFailed, CaseBroken):
            pass  # no link: no fault either
        for task in self._hanging:
            task.cancel()
        self._hanging.clear()
        for future in self._waiters:
            future.cancel()

    # -- steps ------------------------------------------------------------------------------

    @asynccontextmanager
    async def step(self, kind: str, text: str, number: int | None = None) -> Any:
        """Record a step; CaseFailed/CaseSkipped/CaseBroken inside it set its status."""
        if number is None:
            self._step_number += 1
            number = self._step_number
        result = StepResult(number, kind, text, started=self.clock() - self.started)
        self.steps.append(result)
        try:
            yield result
        except CaseFailed as exc:
            result.status, result.reason, result.frame = FAIL_VERDICT, exc.reason, exc.frame
            raise
        except CaseSkipped as exc:
            result.status, result.reason = SKIP, str(exc)
            raise
        except CaseBroken as exc:
            result.status, result.reason = ERROR, str(exc)
            raise
        except MatchError as exc:
            result.status, result.reason = ERROR, str(exc)
            raise CaseBroken(str(exc)) from None
        finally:
            result.duration = self.clock() - self.started - result.started

    def value(self, value: Any) -> Any:
        """`value` with its `${…}` worked out (CaseBroken for an unknown variable)."""
        try:
            return substitute(value, self.vars)
        except MatchError as exc:
            raise CaseBroken(str(exc)) from None

    def seconds(self, value: Any, default: float | None = None) -> float:
        if value is None:
            value = default if default is not None else self.within()
        worked = self.value(value)
        try:
            return float(worked)
        except (TypeError, ValueError):
            raise CaseBroken(f"{value!r} is not a number of seconds") from None

    def within(self) -> float:
        return self.case.timeout if self.case.timeout is not None else self.options.within

    def _mark(self) -> int:
        return len(self.frames)

    def _answer_frame(self, mark: int, uid: str | None) -> FrameRecord | None:
        for frame in self.frames[mark:]:
            if frame.direction == "received" and frame.unique_id == uid and uid is not None:
                return frame
        return None

    def _sent_call(self, mark: int, action: str) -> FrameRecord | None:
        for frame in self.frames[mark:]:
            if (
                frame.direction == "sent"
                and frame.message_type == "CALL"
                and frame.action == action
            ):
                return frame
        return None

    def _capture(self, capture: dict[str, str] | None, payload: Any, frame: str | None) -> None:
        for name, path in (capture or {}).items():
            value = get_path(payload, path, MISSING)
            if value is MISSING:
                raise CaseFailed(f"{path} is missing, so {name} cannot be captured", frame)
            self.vars[name] = value

    async def send(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        *,
        expect: Any = None,
        expect_error: Any = None,
        within: Any = None,
        capture: dict[str, str] | None = None,
        defaults: bool = True,
        validate: bool = True,
        title: str | None = None,
    ) -> Any:
        """Send the CALL `action` (its default request updated with `payload`) and check the
        answer: `expect` matches a CALLRESULT, `expect_error` the code(s) of a CALLERROR
        (`any`: any code); without either, any CALLRESULT passes. Returns the answer."""
        async with self.step("send", title or f"send {action}"):
            answer, wire = await self._call(
                action, payload, within, validate=validate, defaults=defaults
            )
            if isinstance(answer, CallError):
                if expect_error is None:
                    raise CaseFailed(
                        f"{action} was refused with {answer.code}: {answer.description}", wire
                    )
                codes = self.value(expect_error)
                codes = [codes] if isinstance(codes, str) else list(codes)
                if "any" not in codes and answer.code not in codes:
                    raise CaseFailed(
                        f"{action} was refused with {answer.code}, expected {' or '.join(codes)}",
                        wire,
                    )
                error = {"code": answer.code, "description": answer.description}
                self._capture(capture, error, wire)
                return error
            if expect_error is not None:
                codes = self.value(expect_error)
                raise CaseFailed(
                    f"{action} was answered with a CALLRESULT, expected a CALLERROR"
                    f" ({codes if isinstance(codes, str) else ' or '.join(codes)})",
                    wire,
                )
            if expect is not None:
                why = mismatch(answer, self.value(expect))
                if why is not None:
                    raise CaseFailed(f"the answer to {action}: {why}", wire)
            self._capture(capture, answer, wire)
            return answer

    async def exchange(
        self, action: str, payload: Any = None, within: Any = None
    ) -> tuple[Any, str | None]:
        """Send the CALL `action` inside the current step; its CALLRESULT's payload and wire
        text (CaseFailed for a CALLERROR, an invalid answer, no answer)."""
        answer, wire = await self._call(action, payload, within)
        if isinstance(answer, CallError):
            raise CaseFailed(f"{action} was refused with {answer.code}: {answer.description}", wire)
        return answer, wire

    async def _call(
        self,
        action: str,
        payload: Any,
        within: Any,
        *,
        validate: bool = True,
        defaults: bool = True,
    ) -> tuple[Any, str | None]:
        """Send a CALL; its CALLRESULT's payload, or the CallError it was refused with, and
        the answer's wire text. CaseFailed when there is no answer or it breaks its schema,
        CaseBroken when our own request is invalid."""
        seconds = self.seconds(within)
        body = self.value(payload) if payload is not None else None
        peer = self.side.peer()
        peer.timeout = seconds
        mark = self._mark()
        try:
            answer = await self.side.call(action, body, validate=validate, defaults=defaults)
        except InvalidMessage as exc:
            sent = self._sent_call(mark, action)
            if sent is None:  # our own request: the scenario's mistake
                raise CaseBroken(str(exc)) from None
            frame = self._answer_frame(mark, sent.unique_id)
            raise CaseFailed(
                f"the answer to {action} breaks its schema: {exc.reason} ({exc.code})",
                frame.text if frame else None,
            ) from None
        except CallError as exc:
            frame = self._answer_frame(mark, exc.unique_id)
            return exc, frame.text if frame else None
        except CallTimeout:
            raise CaseFailed(f"no answer to {action} within {seconds:g} s") from None
        except CallFailed as exc:
            raise CaseFailed(f"{action} got no answer: {exc}") from None
        sent = self._sent_call(mark, action)
        frame = self._answer_frame(mark, sent.unique_id if sent else None)
        return answer, frame.text if frame else None

    async def send_raw(
        self,
        text: str,
        *,
        expect: Any = None,
        expect_error: Any = None,
        within: Any = None,
        capture: dict[str, str] | None = None,
        title: str | None = None,
    ) -> Any:
        """Send `text` as it is (a malformed frame on purpose). When it reads as a CALL, or
        `expect`/`expect_error` is given, wait for the answer under its unique id (or `-1`,
        what OCPP-J 2.x answers a frame whose id cannot be read with) and check it."""
        wire = self.value(text)
        if not isinstance(wire, str):
            wire = json.dumps(wire, separators=(",", ":"))
        async with self.step("send_raw", title or f"send_raw {shorten(wire, 60)}"):
            seconds = self.seconds(within)
            peer = self.side.peer()
            uid = _unique_id_of(wire)
            waits = raw_call(wire) is not None or expect is not None or expect_error is not None
            if uid is not None:
                self.monitor.allow_answer(self.side.speaker, self.side.peer_label, uid)
            peer.timeout = seconds
            mark = self._mark()
            try:
                await peer.send_raw(wire)
            except CallFailed as exc:
                raise CaseFailed(f"the frame could not be sent: {exc}") from None
            if not waits:
                return None

            def answer() -> FrameRecord | None:
                for frame in self.frames[mark:]:
                    if frame.direction != "received":
                        continue
                    if frame.message_type in ("CALLRESULT", "CALLERROR") and frame.unique_id in (
                        uid,
                        "-1",
                    ):
                        return frame
                return None

            found = await self._until(answer, seconds)
            if found is None:
                if expect is None and expect_error is None:
                    return None
                raise CaseFailed(f"no answer to the frame within {seconds:g} s")
            message = json.loads(found.text)
            if found.message_type == "CALLERROR":
                code = message[2]
                if expect_error is None:
                    if expect is not None:
                        raise CaseFailed(f"the frame was refused with {code}", found.text)
                    return message
                codes = self.value(expect_error)
                codes = [codes] if isinstance(codes, str) else list(codes)
                if "any" not in codes and code not in codes:
                    raise CaseFailed(
                        f"the frame was refused with {code}, expected {' or '.join(codes)}",
                        found.text,
                    )
                self._capture(capture, {"code": code, "description": message[3]}, found.text)
                return message
            if expect_error is not None:
                raise CaseFailed(
                    "the frame was answered with a CALLRESULT, expected a CALLERROR", found.text
                )
            if expect is not None:
                why = mismatch(message[2], self.value(expect))
                if why is not None:
                    raise CaseFailed(f"the answer: {why}", found.text)
            self._capture(capture, message[2], found.text)
            return message

    def arm(
        self,
        action: str,
        payload: Any = None,
        *,
        reply: dict[str, Any] | None = None,
        reply_error: Any = None,
        reply_delay: Any = None,
        no_reply: bool = False,
        owner: Any = None,
    ) -> Armed:
        """Answer the next CALL `action` (matching `payload`) with `reply` (fields over the
        default answer), a CALLERROR `reply_error`, after `reply_delay` s, or never."""
        armed = Armed(
            action,
            self.value(payload) if payload is not None else None,
            self.value(reply) if reply is not None else None,
            self.value(reply_error) if reply_error is not None else None,
            self.seconds(reply_delay) if reply_delay is not None else None,
            no_reply,
            owner=owner,
        )
        if armed.error is not None:
            _error(armed.error)  # CaseBroken now rather than in the handler
        self.armed.append(armed)
        return armed

    async def expect(
        self,
        action: str,
        payload: Any = None,
        *,
        within: Any = None,
        capture: dict[str, str] | None = None,
        reply: dict[str, Any] | None = None,
        reply_error: Any = None,
        reply_delay: Any = None,
        no_reply: bool = False,
        title: str | None = None,
        armed: Armed | None = None,
    ) -> Any:
        """Wait for the peer's CALL `action` whose payload matches `payload` (the first not
        taken yet) and answer it with `reply`/`reply_error`/`reply_delay`/`no_reply` when
        given; returns its payload."""
        async with self.step("expect", title or f"expect {action}"):
            seconds = self.seconds(within)
            spec = self.value(payload) if payload is not None else None
            if armed is None and (reply or reply_error or reply_delay or no_reply):
                armed = self.arm(
                    action,
                    payload,
                    reply=reply,
                    reply_error=reply_error,
                    reply_delay=reply_delay,
                    no_reply=no_reply,
                )

            def found() -> Got | None:
                if armed is not None:
                    return armed.got
                for got in self.received:
                    if not got.taken and got.action == action and _matches(spec, got.payload):
                        return got
                return None

            got = await self._until(found, seconds)
            if armed is not None and armed in self.armed:
                self.armed.remove(armed)
            if got is None:
                raise CaseFailed(self._why_not(action, spec, seconds))
            got.taken = True
            self._capture(capture, got.payload, got.wire)
            return got.payload

    def _why_not(self, action: str, spec: Any, seconds: float) -> str:
        others = [g for g in self.received if g.action == action and not g.taken]
        text = f"no {action}"
        if spec is not None:
            text += " matching the step"
        text += f" within {seconds:g} s"
        if others and spec is not None:
            why = mismatch(others[-1].payload, spec)
            return f"{text}; the {action} received: {why} (frame {shorten(others[-1].wire)})"
        seen = sorted({g.action for g in self.received if not g.taken})
        return text + (f" (received: {', '.join(seen)})" if seen else " (nothing received)")

    async def expect_no(
        self, action: str = "any", payload: Any = None, *, within: Any, title: str | None = None
    ) -> None:
        """Nothing (`any`), or no CALL `action` matching `payload`, arrives within `within` s."""
        what = "any frame" if action == "any" else action
        async with self.step("expect_no", title or f"expect no {what} for {within} s"):
            seconds = self.seconds(within)
            spec = self.value(payload) if payload is not None else None
            mark = self._mark()
            received_before = len(self.received)

            def arrived() -> Any:
                if action == "any":
                    return next((f for f in self.frames[mark:] if f.direction == "received"), None)
                return next(
                    (
                        g
                        for g in self.received[received_before:]
                        if g.action == action and _matches(spec, g.payload)
                    ),
                    None,
                )

            came = await self._until(arrived, seconds)
            if came is not None:
                wire = came.text if isinstance(came, FrameRecord) else came.wire
                at = came.at - self.steps[-1].started
                raise CaseFailed(f"{what} arrived {max(at, 0):.1f} s into the step", wire)

    def answer(
        self,
        action: str,
        *,
        reply: dict[str, Any] | None = None,
        error: Any = None,
        delay: Any = None,
        ignore: bool = False,
        times: int | None = None,
        title: str | None = None,
    ) -> None:
        """From now on (the next `times` ones), answer CALLs `action` (`any`: all) with
        `reply`, a CALLERROR `error`, after `delay` s, or never (`ignore`)."""
        what = "ignore" if ignore else ("refuse with " + str(error) if error else "answer")
        self._instant(
            "answer",
            title or f"{what} {action}" + (f" ({times} time(s))" if times else ""),
            lambda: self.rules.append(
                Rule(
                    action,
                    self.value(reply) if reply is not None else None,
                    self._checked_error(error),
                    self.seconds(delay) if delay is not None else None,
                    ignore,
                    times,
                )
            ),
        )

    def _checked_error(self, error: Any) -> Any:
        if error is None:
            return None
        value = self.value(error)
        _error(value)
        return value

    def _instant(self, kind: str, text: str, action: Callable[[], Any]) -> Any:
        """A step that takes no time (set, assert, answer)."""
        self._step_number += 1
        result = StepResult(self._step_number, kind, text, started=self.clock() - self.started)
        self.steps.append(result)
        try:
            return action()
        except CaseFailed as exc:
            result.status, result.reason, result.frame = FAIL_VERDICT, exc.reason, exc.frame
            raise
        except (CaseBroken, MatchError) as exc:
            result.status, result.reason = ERROR, str(exc)
            raise CaseBroken(str(exc)) from None

    async def wait(self, seconds: Any, title: str | None = None) -> None:
        """Let `seconds` pass (the peer does what it does meanwhile)."""
        async with self.step("wait", title or f"wait {seconds} s"):
            await asyncio.sleep(self.seconds(seconds))

    def set(self, title: str | None = None, **values: Any) -> None:
        """Set variables (their `${…}` worked out now)."""

        def assign() -> None:
            for name, value in values.items():
                self.vars[name] = self.value(value)

        self._instant("set", title or "set " + ", ".join(values), assign)

    def check(self, name: str, matcher: Any, title: str | None = None) -> None:
        """Fail unless variable `name` (a dotted path into it: `answer.status`) matches."""

        def compare() -> None:
            head, _, rest = name.partition(".")
            if head not in self.vars:
                raise CaseBroken(f"{head} is not set")
            value = get_path(self.vars[head], rest, MISSING) if rest else self.vars[head]
            spec = self.value(matcher)
            check_matcher(spec, name)
            why = mismatch(value, spec, name)
            if why is not None:
                raise CaseFailed(why)

        self._instant("assert", title or f"assert {name}", compare)

    def fail(self, reason: str, frame: str | None = None) -> None:
        """Fail the case now (a Python case's own check)."""
        self._instant("assert", reason, lambda: _raise(CaseFailed(reason, frame)))

    async def ask(
        self, text: str, do: dict[str, Any] | None = None, title: str | None = None
    ) -> None:
        """Ask for what the protocol cannot make the peer do (make the Central System send a
        CALL, answer the next boot with Pending): carried out by the run's asker; without one
        the case is skipped, saying what it needs."""
        instruction = self.value(text)
        async with self.step("ask", title or f"ask: {instruction}"):
            request = self.value(do) if do is not None else None
            if self.asker is None:
                raise CaseSkipped(
                    f"needs someone to do this: {instruction} (give --ask-command, see"
                    " docs/conformance.md)"
                )
            await self.asker.ask(self, instruction, request)

    async def fault(self, kind: str, title: str | None = None, **options: Any) -> None:
        """Inject the fault `kind` (ocppsim.sim.faults: `drop`, `delay`, …) into what ocppsim
        sends on the case's link, with the prompt's options by name (the kind's own, `for`,
        `once`, `action`); `clear` clears them. They end with the case."""
        async with self.step("fault", title or f"fault {kind}"):
            from ocppsim.sim import faults

            peer = self.side.peer()
            try:
                if kind == "clear":
                    _clear_faults(peer)
                else:
                    faults.apply(peer, kind, **self.value(options))
            except faults.FaultError as exc:
                raise CaseBroken(f"fault {kind}: {exc}") from None

    async def connect(self, title: str | None = None) -> None:
        async with self.step("connect", title or "connect"):
            await self.side.connect(self)

    async def disconnect(self, title: str | None = None) -> None:
        async with self.step("disconnect", title or "disconnect"):
            await self.side.disconnect(self)

    async def boot(
        self, status: str | None = None, title: str | None = None, number: int | None = None
    ) -> None:
        """A csms suite's charge point boots (BootNotification answered `status`, Accepted by
        default, then a StatusNotification); a cp suite's Central System waits for the charge
        point's boot and answers it with `status`."""
        async with self.step("boot", title or "boot", number):
            await self.side.boot(self, status)

    # -- YAML steps ---------------------------------------------------------------------------

    async def run_steps(self, steps: tuple[Step, ...]) -> None:
        """Run a YAML case's steps in order; the `expect` steps that follow a step have their
        replies armed before it runs (a CALL the step causes may come at once)."""
        for index, step in enumerate(steps):
            self._step_number = step.number - 1
            self._arm_ahead(steps, index)
            await self._run_step(step)

    def _arm_ahead(self, steps: tuple[Step, ...], index: int) -> None:
        for step in steps[index:]:
            if step.kind != "expect":
                if step is not steps[index]:
                    break
                continue
            options = step.options
            wants = any(k in options for k in ("reply", "reply_error", "reply_delay", "no_reply"))
            if not wants or any(a.owner is step for a in self.armed):
                continue
            self.arm(
                step.value,
                options.get("payload"),
                reply=options.get("reply"),
                reply_error=options.get("reply_error"),
                reply_delay=options.get("reply_delay"),
                no_reply=bool(options.get("no_reply")),
                owner=step,
            )

    async def _run_step(self, step: Step) -> None:
        kind, value, options = step.kind, step.value, dict(step.options)
        title = options.pop("title", None)
        if kind == "send":
            await self.send(
                value,
                options.get("payload"),
                expect=options.get("expect"),
                expect_error=options.get("expect_error"),
                within=options.get("within"),
                capture=options.get("capture"),
                defaults=options.get("defaults", True),
                validate=options.get("validate", True),
                title=title,
            )
        elif kind == "send_raw":
            await self.send_raw(
                value,
                expect=options.get("expect"),
                expect_error=options.get("expect_error"),
                within=options.get("within"),
                capture=options.get("capture"),
                title=title,
            )
        elif kind == "expect":
            armed = next((a for a in self.armed if a.owner is step), None)
            await self.expect(
                value,
                options.get("payload"),
                within=options.get("within"),
                capture=options.get("capture"),
                title=title,
                armed=armed,
            )
        elif kind == "expect_no":
            await self.expect_no(
                value, options.get("payload"), within=options["within"], title=title
            )
        elif kind == "answer":
            self.answer(
                value,
                reply=options.get("with"),
                error=options.get("error"),
                delay=options.get("delay"),
                ignore=bool(options.get("ignore")),
                times=options.get("times"),
                title=title,
            )
        elif kind == "wait":
            await self.wait(value, title)
        elif kind == "set":
            self.set(title, **value)
        elif kind == "assert":
            for name, matcher in value.items():
                self.check(name, matcher, title)
        elif kind == "ask":
            await self.ask(value, options.get("do"), title)
        elif kind == "fault":
            given = dict(options.get("options") or {})
            if "times" in options:
                given["for"] = options["times"]
            if "action" in options:
                given["action"] = options["action"]
            await self.fault(value, title, **given)
        elif kind == "connect":
            await self.connect(title)
        elif kind == "disconnect":
            await self.disconnect(title)
        elif kind == "boot":
            await self.boot(options.get("status"), title)
        else:  # pragma: no cover - the loader knows every kind
            raise CaseBroken(f"unknown step kind {kind}")

    # -- the outcome --------------------------------------------------------------------------

    def outcome(self, error: BaseException | None) -> tuple[str, str]:
        """The verdict the steps decide (`pass` unless one failed, was skipped or broke)."""
        if error is None:
            return PASS, ""
        if isinstance(error, CaseSkipped):
            return SKIP, str(error)
        if isinstance(error, CaseFailed):
            return FAIL_VERDICT, error.reason
        return ERROR, str(error)


def _matches(spec: Any, payload: Any) -> bool:
    return spec is None or mismatch(payload, spec) is None


def _error(error: Any) -> tuple[str, str | None]:
    """A reply's CALLERROR: a code, or {code:, description:}; CaseBroken for an unknown code."""
    if isinstance(error, dict):
        code, description = error.get("code"), error.get("description")
    else:
        code, description = error, None
    if isinstance(code, list):
        code = code[0] if code else None
    if not isinstance(code, str) or code not in ERROR_DESCRIPTIONS:
        known = ", ".join(sorted(ERROR_DESCRIPTIONS))
        raise CaseBroken(f"{code!r} is no OCPP error code (one of {known})")
    return code, description if isinstance(description, str) else None


def _clear_faults(peer: Any) -> None:
    """End the faults a case set on `peer` (those of its simulator stay)."""
    from ocppsim.sim import faults

    current = getattr(peer, "faults", None)
    if current is not None:
        faults.clear(current.table.owner)


def _raise(error: BaseException) -> None:
    raise error


def _unique_id_of(text: str) -> str | None:
    """The unique id of a raw frame, when its second element is a string."""
    try:
        value = json.loads(text)
    except ValueError:
        found = re.match(r'\s*\[\s*\d+\s*,\s*"([^"\\]*)"', text)
        return found.group(1) if found else None
    if isinstance(value, list) and len(value) > 1 and isinstance(value[1], str):
        return value[1]
    return None
