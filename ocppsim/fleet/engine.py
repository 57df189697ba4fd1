"""A fleet of charge points in one process: each one runs its own charge point model
(`core/station`, through `sim/model.py`'s ModelDriver), its drivers' sessions
(`fleet/behaviour.py`) and reconnects with a jittered back-off; the fleet's statistics
(`fleet/stats.py`) hear everything on one event bus.

Lean by design, for ten thousand charge points per process: a charge point is one object
with `__slots__` (its model, its driver, its link while it has one); an idle one holds no
task, only timers (`loop.call_at`: its model's next due moment, its next driver, its next
connection attempt); a task runs only while it connects or sends. Every charge point of a
fleet shares one event bus, one `Behaviour` (the handlers of `--behaviour`), one clock.

    fleet = Fleet(fleet_options(url, "20", {"-p": "ocpp1.6", "--seed": "1"}))
    await fleet.start()          # the ramp runs in the background
    await fleet.ramped()         # every charge point made its first attempt
    fleet.snapshot()             # statistics (a dict), whenever
    await fleet.stop()           # links closed (1000), timers cancelled; stats frozen

Worker processes (`--workers`) each run a `Fleet` over their own `indexes` and send
`fleet.stats.encode()` to the parent, which sums them (`FleetStats.decode`, `merge`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from ocppsim.core import events
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import RpcSession
from ocppsim.core.station import ChargingStation, Reboot, StationError
from ocppsim.fleet.behaviour import (
    AWAY,
    BADGE,
    PLUG,
    STOP,
    UNPLUG,
    SessionPlan,
    Step,
    applies,
    charge_point_id,
    first_free,
    retry_jitter,
    unit,
)
from ocppsim.fleet.options import FleetOptions, fault_share
from ocppsim.fleet.stats import FleetStats
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.collector import COLLECTOR, LARGE
from ocppsim.sim.log import INFO
from ocppsim.sim.model import WALL_CLOCK, Clock, FastClock, ModelDriver, VariablesView, model_for
from ocppsim.sim.peer import Peer
from ocppsim.sim.websocket import JsonLink
from ocppsim.transport import ConnectFailed
from ocppsim.transport.ws.client import open_connection

_log = logging.getLogger("ocppsim.fleet")
#: The logger of the fleet's per-frame lines: no handler unless `--log-file` gives one (the
#: console shows the fleet's summary, never ten thousand charge points' frames).
frames_log = logging.getLogger("ocppsim.fleet.frames")
frames_log.propagate = False

#: How long `stop` waits for the Central System to answer the close frames.
STOP_GRACE = 2.0
#: The ramp sleeps only once it is this far ahead of its schedule (fewer wake-ups).
RAMP_SLACK = 0.01


#: The most a charge point's timers (its heartbeat, its meter values) fire after their due
#: moment, as a share of the wait: each charge point has its own share, drawn from the seed.
TIMER_SPREAD = 0.01
#: The random stream of the timer shares (after behaviour.py's own streams).
TIMER_KEY = 101


class LateClock:
    """A charge point's clock: the fleet's, whose waits last up to `TIMER_SPREAD` longer, by
    a share of its own. A heartbeat is due an interval after the last exchange, its answer
    included (OCPP 1.6 §4.6, HeartbeatInterval): charge points whose answers a busy Central
    System delays together would otherwise send their next heartbeats together, and every
    delay would gather more of them into ever larger bursts (timers that synchronise
    themselves). Real chargers' clocks drift apart; these do too, by at most 1 %."""

    __slots__ = ("clock", "factor")

    def __init__(self, clock: Clock, seed: int, index: int):
        self.clock = clock
        self.factor = 1.0 + TIMER_SPREAD * unit(seed, index, TIMER_KEY)

    def now(self) -> datetime:
        return self.clock.now()

    def delay(self, seconds: float) -> float:
        return self.clock.delay(seconds) * self.factor


class FleetChargePoint:
    """One charge point of a fleet (it is its ModelDriver's owner)."""

    __slots__ = (
        "fleet",
        "index",
        "charge_point_id",
        "speaker",
        "peer",
        "driver",
        "plan",
        "_configuration",
        "_task",
        "_retry",
        "_sessions",
        "_losses",
        "_attempt",
        "_restarting",
        "_was_up",
        "gave_up",
        "faults",
    )

    #: what the fault layer (`sim/faults.py`) reads of a charge point: its links are OCPP-J
    transport = "websocket"

    def __init__(self, fleet: Fleet, index: int):
        options = fleet.options
        self.fleet = fleet
        self.index = index
        self.charge_point_id = charge_point_id(options.id_template, index)
        self.speaker = f"cp#{self.charge_point_id}"
        self.peer: Peer | None = None
        model = model_for(options.version, self.charge_point_id, options.connectors)
        assert model is not None  # every OCPP-J version has a model (the options checked)
        interval = str(options.meter_interval)
        if isinstance(model, ChargingStation):
            model.model.set_value("SampledDataCtrlr", "TxUpdatedInterval", interval)
            self._configuration: Any = VariablesView(model)
        else:
            model.configuration.set("MeterValueSampleInterval", interval)
            self._configuration = model.configuration
        self.driver = ModelDriver(model, self, LateClock(fleet.clock, fleet.options.seed, index))
        sessions = options.sessions
        self.plan: SessionPlan | None = (
            sessions.plan(index, fleet.model_seconds()) if sessions.per_hour > 0 else None
        )
        self._task: asyncio.Task[None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._sessions: asyncio.TimerHandle | None = None
        self._losses = 0  # links lost so far
        self._attempt = 0  # failed attempts since the link was last up
        self._restarting = False
        self._was_up = False
        #: why it stopped trying for good (a 404: the URL is wrong), else None
        self.gave_up: str | None = None
        #: the faults set on it (`Fleet.set_fault`), made on first use
        self.faults: Any = None

    def __repr__(self) -> str:
        return f"<FleetChargePoint {self.charge_point_id}>"

    # -- what the driver needs (sim.model.Owner) ------------------------------------------------

    @property
    def connected(self) -> bool:
        peer = self.peer
        return peer is not None and peer.connected

    # -- what the fault layer needs (sim.faults.FaultTable's owner) ------------------------------

    @property
    def bus(self) -> EventBus:
        return self.fleet.bus

    @property
    def version(self) -> str:
        return self.fleet.options.version

    def drop(self, code: int, reason: str) -> None:
        """Drop the link (a reconnect storm): it dials again after its back-off."""
        peer = self.peer
        if peer is not None and peer.connected:
            peer.abort(code, reason)

    def notice(self, text: str, level: int = INFO) -> None:
        self.fleet.bus.notice(self.speaker, text, level)

    async def restart(self, reboot: Reboot) -> bool:
        """A Reset: close the link and dial again at once (the driver boots once it is up)."""
        peer = self.peer
        if peer is None:
            return False
        self._restarting = True
        try:
            await asyncio.wait_for(peer.close(1000, f"rebooting ({reboot.reason})"), STOP_GRACE)
        except (asyncio.TimeoutError, OSError, ConnectionError):
            peer.abort(1000, "rebooting")
        return True

    # -- connecting -------------------------------------------------------------------------

    def start(self) -> None:
        """Dial now; sessions start arriving."""
        self._dial()
        self._arm_sessions()

    def _dial(self) -> None:
        self._retry = None
        if self.fleet.stopping:
            return
        self.fleet.stats.attempt_started()
        self._task = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        fleet = self.fleet
        try:
            connection = await open_connection(
                fleet.target(self.charge_point_id),
                fleet.options.protocol,
                local_address=fleet.source_address(self.index),
                **fleet.connect_options(self.index),
            )
        except ConnectFailed as exc:
            self._task = None
            fleet.stats.attempt_failed(exc.status)
            if not exc.retry:  # a 404, a URL that cannot work: trying again cannot help
                self.gave_up = exc.reason
                fleet.gave_up(self, exc.reason)
                return
            self._schedule_retry()
            return
        except asyncio.CancelledError:
            self._task = None
            fleet.stats.attempt_abandoned()
            raise
        except Exception as exc:  # a bug of ours: a line, and the charge point tries again
            self._task = None
            _log.debug("fleet connection attempt failed", exc_info=True)
            fleet.stats.attempt_failed(None)
            self.notice(f"Error: connection attempt failed: {exc!r}", logging.ERROR)
            self._schedule_retry()
            return
        self._task = None
        if fleet.stopping:
            fleet.stats.attempt_abandoned()
            connection.abort(1000, "fleet stopped")
            return
        self._attach(JsonLink(connection))

    def _schedule_retry(self) -> None:
        """The next attempt after the back-off (OCPP 2.0.1 Part 4, Reconnecting), with a
        random share of its own (`retry_jitter`): a fleet that lost its links at once does not
        dial again in lock-step."""
        fleet = self.fleet
        jitter = retry_jitter(fleet.options.seed, self.index, self._losses, self._attempt)
        wait = fleet.options.backoff.delay(self._attempt, jitter)
        self._attempt += 1
        loop = asyncio.get_running_loop()
        self._retry = loop.call_at(loop.time() + fleet.clock.delay(wait), self._dial)

    def _attach(self, link: JsonLink) -> None:
        fleet = self.fleet
        options = fleet.options
        session = RpcSession(options.version, "cp", unique_id=link.new_unique_id)
        behaviour = fleet.behaviour
        peer = Peer(
            link,
            session,
            speaker=self.speaker,
            label="cs",
            charge_point_id=self.charge_point_id,
            bus=fleet.bus,
            answer=self._answer,
            quick_answer=self._quick_answer,
            on_result=behaviour.result,
            on_send=behaviour.send_received,
            on_closed=self._detached,
            configuration=self._configuration,
            heard=self._heard,
        )
        self.peer = peer
        fleet.stats.link_up(again=self._was_up)
        self._was_up = True
        self._attempt = 0
        fleet.bus.publish(
            events.Connected(
                self.speaker, "cs", "websocket", self.charge_point_id, options.protocol
            )
        )
        behaviour.tell_connection("connected", self.charge_point_id)
        if self.faults is not None:
            self.faults.attach(peer)
        peer.start()
        self.driver.connected()  # its boot first

    def _detached(self, peer: Peer) -> None:
        """The link ended: dial again (at once after a reboot, else after the back-off)."""
        fleet = self.fleet
        self.driver.disconnected()
        restarting, self._restarting = self._restarting, False
        stopping = fleet.stopping
        fleet.stats.link_down(lost=not (stopping or restarting))
        fleet.bus.publish(
            events.Disconnected(
                self.speaker, "cs", "websocket", self.charge_point_id, peer.link.close_description
            )
        )
        fleet.behaviour.tell_connection("disconnected", self.charge_point_id)
        if stopping:
            return
        if restarting:
            self._dial()
            return
        self._losses += 1
        self._attempt = 0
        self._schedule_retry()

    def halt(self) -> None:
        """Stop: no timer, no attempt, nothing sent any more (the link is closed by `close`)."""
        self.driver.stop()
        for timer in (self._retry, self._sessions):
            if timer is not None:
                timer.cancel()
        self._retry = self._sessions = None
        task = self._task
        if task is not None:
            task.cancel()
        if self.faults is not None:
            self.faults.close()

    async def close(self) -> None:
        """Close the link properly (1000), dropping it when the Central System does not
        answer in time."""
        task = self._task
        if task is not None:
            await asyncio.wait({task})
        peer = self.peer
        if peer is None or not peer.connected:
            return
        try:
            await asyncio.wait_for(peer.close(1000, "fleet stopped"), STOP_GRACE)
        except (asyncio.TimeoutError, OSError, ConnectionError):
            peer.abort(1000, "fleet stopped")

    # -- answering -----------------------------------------------------------------------------

    async def _answer(self, peer: Peer, action: str, payload: Any) -> Any:
        """A plugin's answer (`--behaviour`), else the model's, else the default one."""
        try:
            return await self.fleet.behaviour.answer(peer, action, payload, self.driver.answer)
        finally:
            self.driver.answered()

    def _quick_answer(self, peer: Peer, action: str, payload: Any) -> Any:
        try:
            return self.fleet.behaviour.quick_answer(peer, action, payload, self.driver.answer)
        finally:
            self.driver.answered()

    def _heard(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        self.driver.heard(action, request, result)

    # -- sessions ----------------------------------------------------------------------------

    def _arm_sessions(self) -> None:
        """One timer, to the next driver or step of a session (none without sessions)."""
        plan = self.plan
        due = plan.next_due() if plan is not None else None
        if due is None or self.fleet.stopping:
            self._sessions = None
            return
        fleet = self.fleet
        wait = max(0.0, fleet.clock.delay(due - fleet.model_seconds()))
        loop = asyncio.get_running_loop()
        self._sessions = loop.call_at(loop.time() + wait, self._sessions_due)

    def _sessions_due(self) -> None:
        plan = self.plan
        if plan is None or self.fleet.stopping:
            return
        fleet = self.fleet
        now = fleet.clock.now()
        model = self.driver.model
        try:
            for step in plan.take_due(fleet.model_seconds(), first_free(model, now)):
                self._perform(step, now)
        except Exception as exc:  # a bug of ours: a line, and the next drivers still come
            _log.debug("fleet session step failed", exc_info=True)
            self.notice(f"Error: a charging session failed: {exc!r}", logging.ERROR)
        self._arm_sessions()

    def _perform(self, step: Step, now: datetime) -> None:
        """What a driver does at the charger, through the driver (its CALLs go out in order);
        a step that no longer applies (a refused badge leaves nothing to stop) is skipped."""
        stats = self.fleet.stats
        kind = step.kind
        if kind == AWAY:
            stats.session_event("away")
            return
        if not applies(self.driver.model, step):
            stats.session_event(f"{kind} skipped")
            return
        driver = self.driver
        try:
            if kind == PLUG:
                stats.session_event("arrived")
                driver.plug(step.point)
            elif kind in (BADGE, STOP):
                driver.badge(step.id_tag, step.point)
            elif kind == UNPLUG:
                driver.unplug(step.point)
                stats.session_event("left")
        except StationError:
            stats.session_event(f"{kind} skipped")


class FrameLog:
    """The fleet's frames and connection lines as log records of `frames_log` (written only
    where a handler was installed: `--log-file`)."""

    def __init__(self) -> None:
        self.by_type: dict[type, Any] = {
            events.FrameSent: self._sent,
            events.FrameReceived: self._received,
            events.Notice: self._notice,
            events.Connected: self._connected,
            events.Disconnected: self._disconnected,
            events.CallTimedOut: self._timed_out,
        }

    def __call__(self, event: Any) -> None:
        handler = self.by_type.get(type(event))
        if handler is not None:
            handler(event)

    @staticmethod
    def _line(speaker: str | None, text: str, direction: str | None = None, peer: str = "") -> None:
        frames_log.info(text, extra={"speaker": speaker, "direction": direction, "peer": peer})

    def _sent(self, event: events.FrameSent) -> None:
        self._line(event.speaker, event.text, ">>", event.peer)

    def _received(self, event: events.FrameReceived) -> None:
        self._line(event.speaker, event.text, "<<", event.peer)

    def _notice(self, event: events.Notice) -> None:
        self._line(event.speaker, event.text)

    def _connected(self, event: events.Connected) -> None:
        self._line(event.speaker, f"Connected to Central System ({event.protocol}).")

    def _disconnected(self, event: events.Disconnected) -> None:
        self._line(event.speaker, f"Disconnected: {event.reason}.")

    def _timed_out(self, event: events.CallTimedOut) -> None:
        self._line(event.speaker, f"Error: no answer to {event.action} #{event.unique_id}.")


def _tls_context(options: FleetOptions) -> Any:
    """The client TLS context of a wss:// fleet (its CAs: `--ca`, else the system's), None
    for ws://; FleetOptionError when `--ca` cannot be read."""
    if not options.url.lower().startswith("wss:"):
        return None
    from ocppsim.fleet.options import FleetOptionError
    from ocppsim.security.pem import CertificateProblem, load_certificates
    from ocppsim.security.tls import client_context

    trusted = None
    if options.ca is not None:
        try:
            trusted = load_certificates(options.ca)
        except CertificateProblem as exc:
            raise FleetOptionError(f"Error: --ca {exc}.") from None
    return client_context(trusted)


class Fleet:
    """Many charge points against one Central System, with statistics (module docstring).

    `indexes`: the charge point numbers this process runs (a worker's share; default: all
    of `options.count`). `behaviour`: the handlers every charge point runs (a plugin's, for
    `--behaviour`). `clock`: model time (default: real time, or `options.speed` times
    faster)."""

    def __init__(
        self,
        options: FleetOptions,
        *,
        behaviour: Behaviour | None = None,
        clock: Clock | None = None,
        indexes: range | None = None,
    ):
        self.options = options
        self.behaviour = behaviour if behaviour is not None else Behaviour("cp")
        if clock is None:
            clock = FastClock(options.speed) if options.speed != 1 else WALL_CLOCK
        self.clock = clock
        self.indexes = indexes if indexes is not None else range(options.count)
        self.stats = FleetStats()
        self.stats.expected = len(self.indexes)
        self.bus = EventBus(self.stats)
        if frames_log.handlers:  # --log-file: every frame a line (else no cost per frame)
            self.bus.subscribe(FrameLog())
        self.charge_points: list[FleetChargePoint] = []
        self.stopping = False
        self._collecting = False  # the process's collector holds for this large fleet
        #: why charge points stopped trying for good, and how many of each
        self.gave_up_reasons: dict[str, int] = {}
        self._epoch = clock.now()
        self._base = options.url.rstrip("/") + "/"
        #: the TLS context every charge point shares (wss://), made once
        self._tls = _tls_context(options)
        self._ramp: asyncio.Task[None] | None = None
        self._ramped: asyncio.Event | None = None
        self._stopped: asyncio.Event | None = None
        #: the fault a share of the charge points gets as it starts (`set_fault`), by index
        self._fault: tuple[str, dict[str, Any]] | None = None
        self._faulty: frozenset[int] = frozenset()

    # -- faults on purpose ----------------------------------------------------------------------

    def set_fault(
        self, kind: str, fraction: float = 1.0, *, seed: int | None = None, **options: Any
    ) -> list[int]:
        """Set fault `kind` on a `fraction` of the charge points, picked at random (`seed`,
        else the fleet's: the same ones each run; at least one when above 0), each as it
        starts; `options` as `ocppsim.sim.faults.apply` takes them (the kind's, `for`,
        `once`, `action`). The indexes chosen (of `indexes`); FaultError when the fault cannot
        be set."""
        from ocppsim.sim import faults

        if self._ramp is not None:
            raise faults.FaultError("set the fault before the fleet starts")
        if not 0 < fraction <= 1:
            raise faults.FaultError(f"--fraction takes a number above 0, at most 1, not {fraction}")
        check_fault(self.options.version, kind, dict(options))
        # picked among the whole fleet's numbers: a worker sets it on its share of them
        every = fault_share(
            self.options.count, fraction, self.options.seed if seed is None else seed
        )
        chosen = [index for index in every if index in self.indexes]
        self._fault = (kind, dict(options))
        self._faulty = frozenset(chosen)
        return chosen

    def clear_faults(self, kind: str | None = None) -> list[Any]:
        """Clear the faults of `kind` (every kind when None) on the charge points, and on
        those still to start; the faults cleared."""
        from ocppsim.sim import faults

        if self._fault is not None and kind in (None, self._fault[0]):
            self._faulty = frozenset()
        return [fault for cp in self.charge_points for fault in faults.clear(cp, kind)]

    def _inject(self, cp: FleetChargePoint) -> None:
        from ocppsim.sim import faults

        assert self._fault is not None
        kind, given = self._fault
        options = dict(given)
        times = options.pop("for", None)
        if options.pop("once", False):
            times = 1
        action = options.pop("action", None)
        faults.inject(
            cp, kind, times=int(times) if times is not None else None, action=action, **options
        )

    # -- hooks (scale) ----------------------------------------------------------------------

    def target(self, cp_id: str) -> str:
        """The URL a charge point dials: the fleet's URL and its id (OCPP-J §3.1.1)."""
        from urllib.parse import quote

        return self._base + quote(cp_id, safe="")

    def source_address(self, index: int) -> str | None:
        """The local address charge point `index` connects from (`--source-ip`, in turn):
        each address has its own ~28,000 ephemeral ports towards one server port."""
        ips = self.options.source_ips
        return ips[index % len(ips)] if ips else None

    def connect_options(self, index: int) -> dict[str, Any]:
        """What `open_connection` gets for charge point `index`, besides its URL and
        subprotocol: the shared TLS context (wss://), its Basic auth header (`--password`,
        `--auth-key`: security profiles 1 and 2)."""
        given: dict[str, Any] = {"ssl_context": self._tls} if self._tls is not None else {}
        secret = self.options.secret(index)
        if secret is not None:
            from ocppsim.sim.security import authorization_header

            cp_id = charge_point_id(self.options.id_template, index)
            given["headers"] = [("Authorization", authorization_header(cp_id, secret))]
        return given

    # -- running --------------------------------------------------------------------------------

    def model_seconds(self) -> float:
        """Seconds of model time since the fleet was made (the sessions' clock)."""
        return (self.clock.now() - self._epoch).total_seconds()

    async def start(self) -> None:
        """Start the ramp: `options.ramp` new charge points per second (0: all at once)."""
        if self._ramp is not None:
            raise RuntimeError("the fleet is started already")
        self._ramped = asyncio.Event()
        self._stopped = asyncio.Event()
        self._ramp = asyncio.get_running_loop().create_task(self._run_ramp(), name="fleet ramp")
        if len(self.indexes) >= LARGE:  # no full collections of its million objects
            COLLECTOR.hold()
            self._collecting = True

    async def _run_ramp(self) -> None:
        loop = asyncio.get_running_loop()
        rate = self.options.ramp
        began = loop.time()
        try:
            for started, index in enumerate(self.indexes):
                if self.stopping:
                    return
                cp = FleetChargePoint(self, index)
                self.charge_points.append(cp)
                if index in self._faulty:
                    self._inject(cp)
                cp.start()
                if rate > 0:
                    ahead = began + (started + 1) / rate - loop.time()
                    if ahead > RAMP_SLACK:
                        await asyncio.sleep(ahead)
                elif started % 500 == 499:
                    await asyncio.sleep(0)  # let the connections made so far go on
        finally:
            assert self._ramped is not None
            self._ramped.set()

    async def ramped(self) -> None:
        """Wait until every charge point has been started (made its first attempt)."""
        assert self._ramped is not None, "start the fleet first"
        await self._ramped.wait()

    async def wait_connected(self, count: int | None = None) -> None:
        """Wait until `count` links are up (default: every charge point's); for tests and
        for a ramp that should finish before a measure."""
        want = len(self.indexes) if count is None else count
        while self.stats.up < want:
            await asyncio.sleep(0.05)

    def gave_up(self, cp: FleetChargePoint, reason: str) -> None:
        self.gave_up_reasons[reason] = self.gave_up_reasons.get(reason, 0) + 1
        self.bus.notice(cp.speaker, f"Connect Error: {reason}: stopped trying.", logging.ERROR)

    async def stop(self) -> None:
        """Stop every charge point: timers and attempts cancelled, links closed (1000); the
        statistics end here."""
        if self.stopping:
            if self._stopped is not None:
                await self._stopped.wait()
            return
        self.stopping = True
        self.stats.stop()
        ramp = self._ramp
        if ramp is not None:
            ramp.cancel()
            await asyncio.gather(ramp, return_exceptions=True)
        for cp in self.charge_points:
            cp.halt()
        await asyncio.gather(*(cp.close() for cp in self.charge_points), return_exceptions=True)
        if self._collecting:
            self._collecting = False
            COLLECTOR.release()
        if self._stopped is not None:
            self._stopped.set()

    @property
    def running(self) -> bool:
        return self._ramp is not None and not self.stopping

    # -- reading ------------------------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """The report: what ran, and its statistics (JSON-able)."""
        return fleet_report(
            self.options,
            len(self.indexes),
            len(self.charge_points),
            self.stats,
            self.gave_up_reasons,
        )

    def status_line(self) -> str:
        """One line for a live display."""
        total = len(self.indexes)
        return f"fleet {len(self.charge_points)}/{total} started: " + self.stats.status_line()

    def summary(self) -> list[str]:
        """The statistics as text lines (a header, then the table)."""
        options = self.options
        head = (
            f"Fleet: {len(self.indexes)} charge points ({options.protocol}) to {options.url},"
            f" seed {options.seed}"
        )
        lines = [head, *self.stats.table()]
        for reason, n in self.gave_up_reasons.items():
            lines.append(f"gave up: {n} charge points: {reason}")
        return lines

    @property
    def failed(self) -> bool:
        """True when calls failed or a charge point could never connect."""
        return self.stats.failed > 0 or bool(self.gave_up_reasons) or self.stats.connected == 0


def check_fault(version: str, kind: str, options: dict[str, Any]) -> None:
    """FaultError now, rather than at the first charge point, for a fault that cannot be set:
    it is set on a charge point that is not started."""
    from ocppsim.sim import faults

    if "cp" not in faults.kind_of(kind).sides:
        raise faults.FaultError(f"fault {kind} is a Central System's")
    if kind == "reset":  # it would act on no link, and nothing would happen
        raise faults.FaultError(
            "fault reset acts at once on a link, and a fleet's charge points get their fault as"
            " they start, before they have one: use reconnect-storm (a drop after each"
            " connection) or close --after N"
        )

    class _Dry:
        speaker = "cp#check"
        charge_point_id = "check"
        transport = "websocket"
        peer = None
        connected = False
        driver = None
        faults = None
        bus = EventBus()

        def __init__(self) -> None:
            self.version = version

    given = dict(options)
    times = given.pop("for", None)
    if given.pop("once", False):
        times = 1
    action = given.pop("action", None)
    try:
        times_value = int(times) if times is not None else None
    except ValueError:
        raise faults.FaultError(f"--for takes a whole number, 1 or more, not {times!r}") from None
    dry = _Dry()
    faults.inject(dry, kind, times=times_value, action=action, **given)
    if dry.faults is not None:
        dry.faults.close()


def fleet_report(
    options: FleetOptions,
    charge_points: int,
    started: int,
    stats: FleetStats,
    gave_up: dict[str, int],
    **more: Any,
) -> dict[str, Any]:
    """The report of a fleet (or of the shards of one, merged: `more` says how many workers):
    what ran, and its statistics (JSON-able)."""
    report: dict[str, Any] = {
        "fleet": {
            "url": options.url,
            "charge_points": charge_points,
            "started": started,
            "protocol": options.protocol,
            "id_template": options.id_template,
            "connectors": options.connectors,
            "sessions_per_hour": options.sessions.per_hour,
            "session_minutes": options.sessions.minutes,
            "meter_interval_s": options.meter_interval,
            "seed": options.seed,
            "speed": options.speed,
            **more,
        },
        **stats.snapshot(),
    }
    if gave_up:
        report["gave_up"] = dict(gave_up)
    return report
