"""Runs suites: each case in each version, against a Central System (ocppsim plays its charge
point, a fresh connection per case) or a charge point (ocppsim is its Central System, one
server for the run, the cases one after the other on the charge point's connection).

`run_checks(suites, options)` returns the `CaseResult`s; `ocppsim check` prints and writes
them. Every case has a `Monitor` listening to its link: its findings join the case's verdict.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ocppsim.check.matching import utc_text
from ocppsim.check.monitor import Monitor
from ocppsim.check.results import ERROR, SKIP, CaseResult, StepResult
from ocppsim.check.run import CaseBroken, CaseFailed, CaseRun, CaseSkipped, RunOptions
from ocppsim.check.scenario import Case, ScenarioError, Suite
from ocppsim.core import events, observe, versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.central_system import CentralSystem, NotConnected
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.log import LogConsumer

_log = logging.getLogger("ocppsim.check")

#: The id ocppsim's charge point connects with unless `--id` says otherwise.
DEFAULT_CHARGE_POINT_ID = "ocppsim-check"


@dataclass
class CheckOptions:
    """What a check run is given (the options of `ocppsim check`)."""

    url: str | None = None
    listen: int | None = None
    host: str | None = None
    endpoint: str = "/"
    charge_point_id: str | None = None
    versions: list[str] = field(default_factory=list)
    case_ids: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    within: float = 10.0
    answer_timeout: float = 30.0
    connect_timeout: float = 120.0
    asker: Any = None
    in_band_asks: bool = True
    log_frames: bool = False
    charge_point_options: dict[str, Any] = field(default_factory=dict)
    central_system_options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Planned:
    """One case to run in one version."""

    suite: Suite
    case: Case
    version: str
    id: str


Progress = Callable[[str], None]


class CheckError(OcppSimError):
    """A check run that cannot start (options that do not fit the suites)."""


def plan(suites: list[Suite], options: CheckOptions) -> list[Planned]:
    """The cases to run, in order: every suite's cases in each chosen version (`-p`), the
    ones `--case` names only."""
    roles = {s.role for s in suites}
    if len(roles) > 1:
        raise CheckError("these suites test both sides (csms and cp): run them one side at a time")
    chosen = [versions.resolve(v).name for v in options.versions]
    offered = list(dict.fromkeys(v for s in suites for v in s.versions))
    if chosen:
        missing = [v for v in chosen if v not in offered]
        if missing:
            raise CheckError(
                f"the suite has no cases for OCPP {', '.join(missing)} (it has"
                f" {', '.join(offered)})"
            )
        run_versions = chosen
    elif len(offered) > 1 and suites[0].role == "csms" and not options.case_ids:
        raise CheckError(
            "say which OCPP version the Central System speaks: -p "
            + " or -p ".join(versions.get(v).subprotocol for v in offered if v in versions.names())
        )
    else:
        run_versions = offered
    planned = [
        Planned(suite, case, version, full_id)
        for version in run_versions
        for suite in suites
        for full_id, case in suite.cases_for(version)
    ]
    if options.case_ids:
        wanted = {c.upper() for c in options.case_ids}
        planned = [p for p in planned if p.id.upper() in wanted]
        found = {p.id.upper() for p in planned}
        unknown = [c for c in options.case_ids if c.upper() not in found]
        if unknown:
            raise CheckError(
                f"no case {', '.join(unknown)} in the suite for"
                f" {', '.join('OCPP ' + v for v in run_versions)} (--list lists them)"
            )
    return planned


def variables_for(suite: Suite, settings: dict[str, Any]) -> dict[str, Any]:
    """The suite's parameters, with the `--set` values over their defaults."""
    values = suite.defaults()
    for name, value in settings.items():
        if name in suite.parameters:
            values[name] = value
    return values


def check_settings(suites: list[Suite], settings: dict[str, Any]) -> None:
    known = {name for s in suites for name in s.parameters}
    unknown = [name for name in settings if name not in known]
    if unknown:
        raise CheckError(
            f"--set {unknown[0]}: the suite has no such parameter (it has:"
            f" {', '.join(sorted(known)) or 'none'})"
        )


def _missing_needs(case: Case, values: dict[str, Any]) -> list[str]:
    return [name for name in case.needs if values.get(name) in (None, "")]


def _new_result(item: Planned, charge_point_id: str) -> CaseResult:
    return CaseResult(
        id=item.id,
        title=item.case.title,
        requirement=item.case.requirement,
        version=item.version,
        suite=item.suite.title,
        role=item.suite.role,
        description=item.case.description,
        charge_point_id=charge_point_id,
    )


async def run_checks(
    suites: list[Suite], options: CheckOptions, progress: Progress | None = None
) -> list[CaseResult]:
    """Run the planned cases; each one's result, in order."""
    say = progress or (lambda text: None)
    check_settings(suites, options.settings)
    planned = plan(suites, options)
    if not planned:
        raise CheckError("no case to run")
    if suites[0].role == "csms":
        if not options.url:
            raise CheckError("a csms suite needs the Central System's URL (ocppsim check <url>)")
        return await _run_against_central_system(planned, options, say)
    if options.listen is None:
        raise CheckError("a cp suite needs --listen PORT: the charge point connects to ocppsim")
    return await _run_against_charge_point(planned, options, say)


async def _execute(run: CaseRun, result: CaseResult, prerequisite: Callable[[], Any]) -> None:
    """Run the case's prerequisite and steps; the verdict of its steps in `result`."""
    error: BaseException | None = None
    try:
        await prerequisite()
        case = run.case
        if case.function is not None:
            await case.function(run)
        else:
            await run.run_steps(case.steps)
    except (CaseFailed, CaseSkipped, CaseBroken) as exc:
        error = exc
    except ScenarioError as exc:
        error = CaseBroken(str(exc))
    except OcppSimError as exc:
        error = CaseBroken(f"{type(exc).__name__}: {exc}")
    except AssertionError as exc:  # a Python case's own assert
        error = CaseFailed(str(exc) or "assertion failed")
    except Exception as exc:  # a Python case's bug: the case errs, the run goes on
        _log.debug("case failed", exc_info=True)
        error = CaseBroken(f"the case raised {exc!r}")
    verdict, reason = run.outcome(error)
    result.steps = run.steps
    if verdict == "fail" and not any(s.status == "fail" for s in run.steps):
        # a Python case's own assert: a step of its own, so that the verdict names it
        failed = StepResult(len(run.steps) + 1, "assert", "assert", "fail", reason)
        run.steps.append(failed)
    if verdict in (SKIP, ERROR):
        result.verdict, result.reason = verdict, reason


def _finish(result: CaseResult, run: CaseRun, findings: list[Any], started: float) -> None:
    result.findings = findings
    result.frames = run.frames
    result.duration = time.monotonic() - started
    result.decide()


# -- against a Central System: ocppsim is the charge point -------------------------------------


class ChargePointSide:
    """ocppsim's charge point in a csms case: a fresh connection per case, answering the
    Central System's CALLs as the case's steps say (else as ocppsim's charge point does)."""

    def __init__(self, options: CheckOptions, version: str, bus: EventBus):
        self.options = options
        self.version = version
        self.charge_point_id = options.charge_point_id or DEFAULT_CHARGE_POINT_ID
        self.speaker = f"cp#{self.charge_point_id}"
        self.peer_label = "cs"
        self.bus = bus
        self.cp: ChargePoint | None = None
        self.run: CaseRun | None = None

    def _behaviour(self) -> Behaviour:
        behaviour = Behaviour("cp")
        for action in versions.get(self.version).actions.get("cp", ()):
            behaviour.on_call(action, self._handler(action))
        return behaviour

    def _handler(self, action: str) -> Callable[[Any], Any]:
        async def handler(payload: Any) -> Any:
            run = self.run
            if run is None:
                return None
            return await run.reply(action, payload)

        return handler

    async def open(self) -> None:
        """Connect a new charge point (CaseBroken saying why when it cannot)."""
        assert self.options.url is not None
        cp = ChargePoint(
            self.options.url,
            self.charge_point_id,
            version=self.version,
            bus=self.bus,
            behaviour=self._behaviour(),
            history=0,
            ping_interval=0,  # scripted (no behave=True): it sends what the steps say only
            **self.options.charge_point_options,
        )
        try:
            await asyncio.wait_for(cp.__aenter__(), self.options.connect_timeout)
        except NotConnected as exc:
            raise CaseBroken(str(exc)) from None
        except asyncio.TimeoutError:
            raise CaseBroken(
                f"could not connect to {self.options.url} within {self.options.connect_timeout:g} s"
            ) from None
        self.cp = cp
        if cp.peer is not None:
            cp.peer.timeout = self.options.answer_timeout

    async def close(self) -> None:
        cp, self.cp = self.cp, None
        if cp is not None:
            await cp.stop()

    def peer(self) -> Any:
        cp = self.cp
        if cp is None or cp.peer is None or not cp.connected:
            raise CaseFailed("the connection to the Central System is closed")
        return cp.peer

    async def call(self, action: str, payload: Any, *, validate: bool, defaults: bool) -> Any:
        if self.cp is None:
            raise CaseFailed("the connection to the Central System is closed")
        return await self.cp.call(action, payload, validate=validate, defaults=defaults)

    def default_reply(self, action: str, payload: Any) -> Any:
        return None  # ocppsim's charge point answers (its configuration, the defaults)

    async def connect(self, run: CaseRun) -> None:
        if self.cp is not None and self.cp.connected:
            raise CaseBroken("connect: the charge point is connected already (disconnect first)")
        await self.open()

    async def disconnect(self, run: CaseRun) -> None:
        await self.close()

    async def prerequisite(self, run: CaseRun) -> None:
        await self.boot(run, None)

    async def boot(self, run: CaseRun, status: str | None) -> None:
        """BootNotification (the suite's `boot_request` fields over the default), answered
        `status` (Accepted by default), then the suite's `status_request` StatusNotification."""
        wanted = status or "Accepted"
        answer, wire = await run.exchange("BootNotification", run.vars.get("boot_request"))
        got = answer.get("status") if isinstance(answer, dict) else None
        if got != wanted:
            raise CaseFailed(
                f"the Central System answered the BootNotification with {got}, not {wanted}",
                wire,
            )
        interval = answer.get("interval", answer.get("heartbeatInterval"))
        run.vars["boot_interval"] = interval
        status_request = run.vars.get("status_request")
        if wanted == "Accepted" and status_request:
            await run.exchange("StatusNotification", status_request)


async def _run_against_central_system(
    planned: list[Planned], options: CheckOptions, say: Progress
) -> list[CaseResult]:
    results = []
    unreachable: str | None = None
    for item in planned:
        side_id = options.charge_point_id or DEFAULT_CHARGE_POINT_ID
        result = _new_result(item, side_id)
        values = variables_for(item.suite, options.settings)
        missing = _missing_needs(item.case, values)
        if missing:
            result.verdict = SKIP
            result.reason = f"needs --set {missing[0]}=… ({item.suite.parameters[missing[0]].help})"
            results.append(result)
            say(_line(result))
            continue
        if item.version not in versions.names():
            result.verdict, result.reason = (
                SKIP,
                f"this installation cannot speak OCPP {item.version}",
            )
            results.append(result)
            say(_line(result))
            continue
        if unreachable is not None:
            result.verdict, result.reason = ERROR, unreachable
            results.append(result)
            say(_line(result))
            continue
        started = time.monotonic()
        monitor = Monitor(answer_timeout=options.answer_timeout, booting=lambda s, p: True)
        subscribers: list[Any] = [monitor]
        if options.log_frames:
            subscribers.append(LogConsumer())
        bus = EventBus(*subscribers, *observe.subscribers())
        side = ChargePointSide(options, item.version, bus)
        run = CaseRun(
            item.suite,
            item.case,
            item.id,
            side,
            values,
            options=RunOptions(within=options.within, answer_timeout=options.answer_timeout),
            monitor=monitor,
            asker=options.asker,
        )
        if run.asker is None and options.in_band_asks:
            from ocppsim.check.asks import InBandAsker

            run.asker = InBandAsker()
        bus.subscribe(run)
        side.run = run

        async def prerequisite(run: CaseRun = run, side: ChargePointSide = side) -> None:
            async with run.step("connect", f"connect to {options.url}", 0):
                await side.open()
            if run.case.boot == "accepted":
                await run.boot(title="boot (prerequisite)", number=0)

        try:
            await _execute(run, result, prerequisite)
        finally:
            run.release()
            await side.close()
        _finish(result, run, monitor.finish(), started)
        if result.verdict == ERROR and run.steps and run.steps[0].kind == "connect":
            if run.steps[0].status == ERROR:
                unreachable = run.steps[0].reason
        results.append(result)
        say(_line(result))
    return results


# -- against a charge point: ocppsim is the Central System -------------------------------------


class CentralSystemSide:
    """ocppsim's Central System in a cp run: one server, the charge point under test connects
    once and the cases run one after the other on its connection."""

    def __init__(self, options: CheckOptions, served: list[str], values: dict[str, Any]):
        self.options = options
        self.values = values
        self.monitor = Monitor(
            answer_timeout=options.answer_timeout, booting=self._first_connection
        )
        subscribers: list[Any] = [self.monitor, self._heard]
        if options.log_frames:
            subscribers.append(LogConsumer())
        self.bus = EventBus(*subscribers, *observe.subscribers())
        behaviour = Behaviour("cs")
        for action in sorted({a for v in served for a in versions.get(v).actions.get("cs", ())}):
            behaviour.on_call(action, self._handler(action))
        self.cs = CentralSystem(
            options.listen or 0,
            host=options.host,
            endpoint=options.endpoint,
            versions=served,
            bus=self.bus,
            behaviour=behaviour,
            history=0,
            ping_interval=0,
            stateless=True,  # the suite's answers (default_reply), not the model's
            **options.central_system_options,
        )
        self.speaker = "cs"
        self.charge_point_id = options.charge_point_id or ""
        self.peer_label = f"cp#{self.charge_point_id}"
        self.version = ""
        self.run: CaseRun | None = None
        #: the charge point's frames before the first case (its boot on connecting), which a
        #: first case with `boot: none` is given; None once a case ran
        self.early: list[Any] | None = []
        self.connections: set[str] = set()
        self.booted: dict[str, bool] = {}
        self._changed = asyncio.Event()
        self._next_transaction = int(time.time()) % 100_000 * 10

    def _first_connection(self, speaker: str, peer: str) -> bool:
        """A charge point's first connection in this run must boot (later ones may be
        reconnections)."""
        return peer not in self.connections

    def _heard(self, event: Any) -> None:
        kind = type(event)
        if kind is events.FrameSent or kind is events.FrameReceived:
            if self.run is None and self.early is not None and len(self.early) < 1000:
                self.early.append(event)
            return
        if isinstance(event, events.Connected):
            cp_id = event.charge_point_id
            if not self.charge_point_id and event.protocol in self._served_protocols():
                self.charge_point_id = cp_id
                self.peer_label = event.peer
            if cp_id == self.charge_point_id:
                self.version = versions.by_subprotocol(event.protocol).name
            self.connections.add(event.peer)
            self._changed.set()
        elif isinstance(event, events.Disconnected):
            self._changed.set()

    def _served_protocols(self) -> tuple[str, ...]:
        return self.cs.protocols

    async def start(self) -> str:
        await self.cs.start()
        return self.cs.url

    async def stop(self) -> None:
        await self.cs.stop()

    def _handler(self, action: str) -> Callable[[Any, Any], Any]:
        async def handler(payload: Any, ctx: Any) -> Any:
            run = self.run
            if run is not None and ctx.charge_point_id == self.charge_point_id:
                answer = await run.reply(action, payload)
            else:
                answer = self.default_reply(action, payload, ctx.ocpp_version)
            if action == "BootNotification" and ctx.charge_point_id == self.charge_point_id:
                status = answer.get("status") if isinstance(answer, dict) else None
                self.booted[ctx.charge_point_id] = status == "Accepted"
                self._changed.set()
            return answer

        return handler

    # -- what a case asks of the side -------------------------------------------------------------

    def connected(self) -> bool:
        peer = self.cs.peers.get(self.charge_point_id)
        return peer is not None and peer.connected

    async def wait_for_charge_point(self, timeout: float, say: Progress) -> None:
        """Until the charge point under test is connected (CaseBroken after `timeout`)."""
        if self.charge_point_id and self.connected():
            return
        who = f"charge point {self.charge_point_id}" if self.charge_point_id else "a charge point"
        say(
            f"waiting up to {timeout:g} s for {who} to connect to {self.cs.url}"
            + ("/<its id>" if not self.charge_point_id else f"/{self.charge_point_id}")
        )
        if not await self._wait(self.connected, timeout):
            raise CaseBroken(f"no charge point connected to {self.cs.url} within {timeout:g} s")

    async def _wait(self, ready: Callable[[], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not ready():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                return ready()
        return True

    def peer(self) -> Any:
        peer = self.cs.peers.get(self.charge_point_id)
        if peer is None or not peer.connected:
            raise CaseFailed(f"charge point {self.charge_point_id} is not connected")
        return peer

    async def call(self, action: str, payload: Any, *, validate: bool, defaults: bool) -> Any:
        return await self.cs.call(
            self.charge_point_id, action, payload, validate=validate, defaults=defaults
        )

    def default_reply(self, action: str, payload: Any, version: str | None = None) -> Any:
        """ocppsim's answers as the Central System of a cp run: the boot Accepted with the
        suite's heartbeat interval, a new transaction id per StartTransaction, `unknown_tag`
        refused and every other tag accepted; None for the version's default."""
        version = version or self.version
        values = self.run.vars if self.run is not None else self.values
        answer: dict[str, Any] = default_payload(version, action + "Response")
        payload = payload if isinstance(payload, dict) else {}
        if action == "BootNotification":
            interval = values.get("heartbeat_interval")
            for key in ("interval", "heartbeatInterval"):
                if key in answer and isinstance(interval, (int, float)):
                    answer[key] = int(interval)
            if "currentTime" in answer:
                answer["currentTime"] = utc_text(datetime.now(timezone.utc))
            return answer
        if action == "StartTransaction":
            self._next_transaction += 1
            answer["transactionId"] = self._next_transaction
        tag = payload.get("idTag")
        token = payload.get("idToken")
        if isinstance(token, dict):
            tag = token.get("idToken")
        if tag is None:
            return answer if action == "StartTransaction" else None
        unknown = tag == values.get("unknown_tag")
        if isinstance(answer.get("idTagInfo"), dict):
            answer["idTagInfo"]["status"] = "Invalid" if unknown else "Accepted"
        elif action in ("Authorize", "TransactionEvent"):
            info = answer.get("idTokenInfo")
            if not isinstance(info, dict):
                info = answer["idTokenInfo"] = {}
            info["status"] = "Unknown" if unknown else "Accepted"
        return answer

    async def connect(self, run: CaseRun) -> None:
        """Wait for the charge point to connect (again)."""
        if not await self._wait(self.connected, run.within()):
            raise CaseFailed(f"charge point {self.charge_point_id} did not connect again")

    async def disconnect(self, run: CaseRun) -> None:
        """Close the charge point's connection from the Central System's side."""
        peer = self.cs.peers.get(self.charge_point_id)
        if peer is not None:
            await peer.close(1000, "closed by the check")
        await self._wait(lambda: not self.connected(), run.within())

    async def prerequisite(self, run: CaseRun) -> None:
        """The charge point is connected and its boot was accepted (waiting for its boot when
        it has not booted yet)."""
        if not self.connected():
            await self.connect(run)
        if self.booted.get(self.charge_point_id):
            return
        async with run.step("boot", "boot (prerequisite): wait for BootNotification", 0):
            limit = max(run.within(), self.options.connect_timeout)
            if not await self._wait(lambda: bool(self.booted.get(self.charge_point_id)), limit):
                raise CaseFailed(
                    f"charge point {self.charge_point_id} did not boot (no BootNotification"
                    f" answered Accepted within {limit:g} s)"
                )

    async def boot(self, run: CaseRun, status: str | None) -> None:
        """Wait for the charge point's next BootNotification and answer it with `status`."""
        armed = run.arm("BootNotification", reply={"status": status} if status else None)
        try:
            ready = await run._until(lambda: armed.got, run.within())
        finally:
            if armed in run.armed:
                run.armed.remove(armed)
        if ready is None:
            raise CaseFailed(f"no BootNotification within {run.within():g} s")
        ready.taken = True


async def _run_against_charge_point(
    planned: list[Planned], options: CheckOptions, say: Progress
) -> list[CaseResult]:
    served = list(dict.fromkeys(p.version for p in planned if p.version in versions.names()))
    if not served:
        raise CheckError("this installation speaks none of the suite's versions")
    values = variables_for(planned[0].suite, options.settings)
    side = CentralSystemSide(options, served, values)
    try:
        url = await side.start()
    except OSError as exc:
        raise CheckError(f"--listen {options.listen}: {exc.strerror or exc}") from None
    say(f"listening on {url}")
    results: list[CaseResult] = []
    try:
        try:
            await side.wait_for_charge_point(options.connect_timeout, say)
        except CaseBroken as exc:
            for item in planned:
                result = _new_result(item, side.charge_point_id)
                result.verdict, result.reason = ERROR, str(exc)
                results.append(result)
                say(_line(result))
            return results
        say(f"charge point {side.charge_point_id} connected (OCPP {side.version})")
        if not options.versions:  # no -p: the version the charge point speaks
            planned = [p for p in planned if p.version == side.version] or planned
        for item in planned:
            results.append(await _run_cp_case(side, item, options, say))
    finally:
        await side.stop()
    return results


async def _run_cp_case(
    side: CentralSystemSide, item: Planned, options: CheckOptions, say: Progress
) -> CaseResult:
    result = _new_result(item, side.charge_point_id)
    values = variables_for(item.suite, options.settings)
    if item.version != side.version:
        result.verdict = SKIP
        result.reason = f"the charge point speaks OCPP {side.version}"
        say(_line(result))
        return result
    missing = _missing_needs(item.case, values)
    if missing:
        result.verdict = SKIP
        result.reason = f"needs --set {missing[0]}=… ({item.suite.parameters[missing[0]].help})"
        say(_line(result))
        return result
    started = time.monotonic()
    first_finding = len(side.monitor.findings)
    run = CaseRun(
        item.suite,
        item.case,
        item.id,
        side,
        values,
        options=RunOptions(within=options.within, answer_timeout=options.answer_timeout),
        monitor=side.monitor,
        asker=options.asker,
    )
    if run.asker is None and options.in_band_asks:
        from ocppsim.check.asks import InBandAsker

        run.asker = InBandAsker()
    unsubscribe = side.bus.subscribe(run)
    side.run = run
    early, side.early = side.early, None
    if early and item.case.boot == "none":  # what the charge point said on connecting
        for event in early:
            run(event)

    async def prerequisite() -> None:
        if not side.connected():
            async with run.step("connect", "wait for the charge point to connect", 0):
                await side.connect(run)
        if run.case.boot == "accepted":
            await side.prerequisite(run)

    try:
        await _execute(run, result, prerequisite)
    finally:
        side.run = None
        run.release()
        unsubscribe()
    side.monitor.finish()
    findings = [f for f in side.monitor.since(first_finding) if f.peer in (None, side.peer_label)]
    _finish(result, run, findings, started)
    say(_line(result))
    return result


def _line(result: CaseResult) -> str:
    """`CSMS-16-BOOT-01  pass  Boots and is accepted (0.1 s)` and the reason when not a pass."""
    text = f"{result.id:<24} {result.verdict.upper():<5} {result.title} ({result.duration:.1f} s)"
    if result.verdict != "pass":
        text += f"\n    {result.reason}"
    return text
