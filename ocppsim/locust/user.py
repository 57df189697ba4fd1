"""The Locust user of ocppsim's fleet: each user is `--cps-per-user` Charge Points (one by
default), each a `GeventChargePoint` (`driver.py`) in a greenlet of its own, and every OCPP
call they send is a Locust request: request type the protocol (`ocpp1.6`), name the action,
the time to its answer, and as failure the OCPP error code of a CALLERROR (`Timeout` when no
answer came, `ConnectionLost` when the link went down first, `InvalidResult` for an answer
that breaks its schema: the names `ocppsim fleet` counts them under). A connection attempt is
a request too: type `ws`, name `connect`, failure the HTTP status (`HTTP 404`) or what went
wrong.

The fleet's options (`--protocol`, `--id`, `--sessions-per-hour`, …) are Locust command-line
options given to the master (or to a standalone run): Locust hands them to its workers. A
worker numbers its Charge Points from `worker index × --ids-per-worker`, so the ids of a
distributed fleet never collide, and a Charge Point's randomness (`--seed`) follows its number,
whichever worker runs it.

Importing this module imports Locust, which monkey-patches the process for gevent: only a
locustfile imports it.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import secrets
import sys
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

import gevent
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import WorkerRunner

from ocppsim.core import versions
from ocppsim.core.station.runner import DEFAULT_POINTS, model_for
from ocppsim.fleet.behaviour import (
    Backoff,
    Sessions,
    charge_point_id,
    id_template_problem,
)
from ocppsim.locust.driver import CLOSE_TIMEOUT, GeventChargePoint, Report, set_meter_interval

_log = logging.getLogger("ocppsim.locust")

#: How many Charge Point numbers each worker has (worker w numbers from w × this).
IDS_PER_WORKER = 100_000


# -- options ------------------------------------------------------------------------------------


def _protocol(text: str) -> str:
    """An OCPP-J subprotocol a fleet's Charge Points can play (`ocpp1.6`)."""
    try:
        entry = versions.by_subprotocol(text)
    except versions.UnknownVersion as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if "websocket" not in entry.transports or model_for(entry.name, "cp") is None:
        raise argparse.ArgumentTypeError(f"{entry.title} Charge Points cannot run in a fleet")
    return text


def _template(text: str) -> str:
    problem = id_template_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def _backoff(text: str) -> str:
    try:
        Backoff.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _readable(text: str) -> str:
    try:
        with open(text, "rb"):
            pass
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc.strerror or exc}") from None
    return text


def _at_least(low: float, kind: type = int) -> Any:
    def check(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"`{text}' is not a number") from None
        if not value >= low:
            raise argparse.ArgumentTypeError(f"{text} is below {low}")
        return value

    return check


@events.init_command_line_parser.add_listener
def add_options(parser: Any, **_kwargs: Any) -> None:
    """The fleet's options on Locust's command line and in its web UI (Locust's parser itself
    takes them: an argument group's would not show in the web UI)."""
    group = parser
    default = versions.default().subprotocol
    group.add_argument(
        "-p",
        "--protocol",
        type=_protocol,
        default=default,
        help=f"OCPP-J subprotocol of every Charge Point (default {default})",
    )
    group.add_argument(
        "--id",
        dest="id_template",
        type=_template,
        default="cp{n:05d}",
        help="Charge Point ids, {n} their number (default cp{n:05d})",
    )
    group.add_argument(
        "--connectors",
        type=_at_least(1),
        default=DEFAULT_POINTS,
        help=f"connectors (1.x) or EVSEs (2.x) per Charge Point (default {DEFAULT_POINTS})",
    )
    group.add_argument(
        "--sessions-per-hour",
        type=_at_least(0, float),
        default=1.0,
        help="charging sessions arriving at each Charge Point per hour (default 1)",
    )
    group.add_argument(
        "--session-minutes",
        type=_at_least(0.001, float),
        default=30.0,
        help="average length of a session in minutes (default 30)",
    )
    group.add_argument(
        "--meter-interval",
        type=_at_least(0),
        default=60,
        help="seconds between meter values during a transaction (0: none; default 60)",
    )
    group.add_argument(
        "--seed",
        type=_at_least(0),
        default=None,
        help="random seed, for a repeatable run (default: a new one, in the master's log)",
    )
    group.add_argument(
        "--backoff",
        type=_backoff,
        default="5,10,3",
        help="reconnection back-off MIN,RANGE,TIMES in seconds (default 5,10,3)",
    )
    group.add_argument(
        "--password",
        default=None,
        is_secret=True,
        help="HTTP Basic auth password of every Charge Point (security profiles 1 and 2)",
    )
    group.add_argument(
        "--ca",
        type=_readable,
        default=None,
        help="CA certificate (PEM) a wss:// Central System's certificate is checked against"
        " (default: the system's)",
    )
    group.add_argument(
        "--cps-per-user",
        type=_at_least(1),
        default=1,
        help="Charge Points each Locust user runs (default 1)",
    )
    group.add_argument(
        "--ids-per-worker",
        type=_at_least(1),
        default=IDS_PER_WORKER,
        help=f"Charge Point numbers per worker (default {IDS_PER_WORKER})",
    )


@events.init.add_listener
def on_init(environment: Environment, **_kwargs: Any) -> None:
    """On the master (or a standalone run): a seed when none was given, said in the log so the
    run can be repeated (the workers get it with the other options); a headless run without
    the Central System's URL says so and stops."""
    options = environment.parsed_options
    if isinstance(environment.runner, WorkerRunner) or options is None:
        return
    if getattr(options, "seed", None) is None:
        options.seed = secrets.randbelow(1 << 31)
    _log.info("ocppsim fleet: %s, seed %d", options.protocol, options.seed)
    problem = host_problem(environment.host)
    if problem is not None and options.headless:
        _log.error("Error: %s.", problem)
        sys.exit(2)


def host_problem(host: str | None) -> str | None:
    """Why `host` is not a Central System's URL (None when it is)."""
    if not host:
        return "give the Central System's URL with --host, e.g. --host ws://127.0.0.1:9000/ocpp"
    if not host.startswith(("ws://", "wss://")):
        return f"--host {host}: the Central System's URL starts with ws:// or wss://"
    return None


@dataclass(frozen=True)
class FleetSettings:
    """The fleet's options, read once per user from Locust's parsed options."""

    protocol: str = versions.default().subprotocol
    id_template: str = "cp{n:05d}"
    connectors: int = DEFAULT_POINTS
    sessions: Sessions = Sessions()
    meter_interval: int = 60
    backoff: Backoff = Backoff()
    password: str | None = None
    ca: str | None = None
    cps_per_user: int = 1
    ids_per_worker: int = IDS_PER_WORKER

    @classmethod
    def from_options(cls, options: Any) -> FleetSettings:
        if options is None:
            return cls()
        seed = int(getattr(options, "seed", None) or 0)
        return cls(
            protocol=options.protocol,
            id_template=options.id_template,
            connectors=int(options.connectors),
            sessions=Sessions(
                float(options.sessions_per_hour), float(options.session_minutes), seed
            ),
            meter_interval=int(options.meter_interval),
            backoff=Backoff.parse(options.backoff),
            password=getattr(options, "password", None) or None,
            ca=getattr(options, "ca", None) or None,
            cps_per_user=int(options.cps_per_user),
            ids_per_worker=int(options.ids_per_worker),
        )


# -- numbering --------------------------------------------------------------------------------


class Numbering:
    """The Charge Point numbers of one worker: the lowest free one first, so a user that
    stops gives its Charge Points' ids to the next one started."""

    __slots__ = ("_next", "_free")

    def __init__(self) -> None:
        self._next = 0
        self._free: list[int] = []

    def take(self) -> int:
        if self._free:
            return heapq.heappop(self._free)
        self._next += 1
        return self._next - 1

    def give(self, number: int) -> None:
        heapq.heappush(self._free, number)


_NUMBERINGS: WeakKeyDictionary[Environment, Numbering] = WeakKeyDictionary()


def numbering(environment: Environment) -> Numbering:
    """The numbering of this process's Charge Points."""
    found = _NUMBERINGS.get(environment)
    if found is None:
        found = _NUMBERINGS[environment] = Numbering()
    return found


# -- the user --------------------------------------------------------------------------------------


class ChargePointUser(User):
    """One Locust user: `--cps-per-user` Charge Points of the fleet (see the module docstring)."""

    #: only between runs of `charge` after an unexpected error (it runs for the whole test)
    wait_time = constant(1)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.charge_points: list[GeventChargePoint] = []
        self._numbers: list[int] = []

    def on_start(self) -> None:
        problem = host_problem(self.host)
        if problem is not None:
            _log.error("%s", problem)
            raise StopUser()
        settings = FleetSettings.from_options(self.environment.parsed_options)
        entry = versions.by_subprotocol(settings.protocol)
        worker = max(0, int(getattr(self.environment.runner, "worker_index", 0)))
        numbers = numbering(self.environment)
        for _ in range(settings.cps_per_user):
            local = numbers.take()
            self._numbers.append(local)
            index = worker * settings.ids_per_worker + local
            self.charge_points.append(self.make_charge_point(settings, entry.name, index))

    def make_charge_point(
        self, settings: FleetSettings, version: str, index: int
    ) -> GeventChargePoint:
        """Charge point number `index` of the fleet (a subclass may change what it is)."""
        identity = charge_point_id(settings.id_template, index)
        model = model_for(version, identity, settings.connectors)
        assert model is not None  # the protocol option accepts only versions a model plays
        set_meter_interval(model, settings.meter_interval)
        plan = settings.sessions.plan(index, 0.0) if settings.sessions.per_hour > 0 else None
        assert self.host is not None
        return GeventChargePoint(
            model,
            self.host,
            self._reporter(identity),
            index=index,
            seed=settings.sessions.seed,
            plan=plan,
            backoff=settings.backoff,
            password=settings.password,
            ca=settings.ca,
        )

    def _reporter(self, identity: str) -> Report:
        fire = self.environment.events.request.fire

        def report(kind: str, name: str, ms: float, length: int, failure: str | None) -> None:
            fire(
                request_type=kind,
                name=name,
                response_time=ms,
                response_length=length,
                exception=failure,
                context={"charge_point": identity},
            )

        return report

    @task
    def charge(self) -> None:
        """Run the Charge Points until the user stops."""
        greenlets = [gevent.spawn(cp.run) for cp in self.charge_points]
        try:
            gevent.joinall(greenlets)
        finally:
            for cp in self.charge_points:
                cp.halt()
            gevent.killall(greenlets, block=True, timeout=CLOSE_TIMEOUT + 1)

    def on_stop(self) -> None:
        for cp in self.charge_points:
            cp.halt()
        numbers = numbering(self.environment)
        for number in self._numbers:
            numbers.give(number)
        self._numbers = []
        self.charge_points = []
