"""The options of a fleet, in one table for the prompt's `start_fleet` and the headless
`ocppsim fleet`, and their checks: every bad value gets a sentence that says what to give.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlsplit

from ocppsim.core import versions
from ocppsim.core.errors import OcppSimError
from ocppsim.fleet.behaviour import Backoff, Sessions, id_template_problem
from ocppsim.transport.urls import HTTP_SCHEMES, WEBSOCKET_SCHEMES, url_problem

#: The connectors (1.x) or EVSEs (2.x) of each charge point at most.
MAX_POINTS = 100
#: The most worker processes `--workers` takes.
MAX_WORKERS = 64


class FleetOptionError(OcppSimError):
    """An option of a fleet that cannot work; the text says why and what to give."""


class FleetOption(NamedTuple):
    """One option: its flag, what its value looks like (`""`: a flag without value), what
    it does, its default as shown in help (None: none)."""

    flag: str
    metavar: str
    help: str
    default: str | None = None


#: The options of `start_fleet` and `ocppsim fleet`, in the order help shows them.
OPTIONS: tuple[FleetOption, ...] = (
    FleetOption("-p", "<protocol>", "OCPP-J subprotocol of every charge point", None),
    FleetOption("--id", "<template>", "charge point ids, {n} being its number", "cp{n:05d}"),
    FleetOption("--ramp", "<per-second>", "new connections per second (0: all at once)", "1000"),
    FleetOption(
        "--connectors", "<n>", "connectors (OCPP 1.x) or EVSEs (2.x) of each charge point", "2"
    ),
    FleetOption(
        "--sessions-per-hour",
        "<rate>",
        "charging sessions arriving at each charge point per hour, at random (0: none)",
        "1",
    ),
    FleetOption("--session-minutes", "<minutes>", "average plugged-in time of a session", "30"),
    FleetOption(
        "--meter-interval",
        "<seconds>",
        "meter values during a transaction every this many seconds (0: none)",
        "60",
    ),
    FleetOption("--seed", "<n>", "random seed, for a repeatable run (default: a new one)"),
    FleetOption(
        "--backoff",
        "<min[,range[,times]]>",
        "reconnection back-off: first wait in s, random share in s, doublings",
        "5,10,3",
    ),
    FleetOption("--behaviour", "<plugin>", "a plugin every charge point runs (its handlers)"),
    FleetOption(
        "--ca",
        "<file>",
        "CA certificates to check a wss:// Central System's certificate with"
        " (default: the system's)",
    ),
    FleetOption("--duration", "<time>", "stop after this long (60s, 5m, 1h; default: never)"),
    FleetOption("--report", "<file>", "write the statistics as JSON to <file> at the end"),
    FleetOption("--log-file", "<file>", "write every frame to <file> (the console shows none)"),
    FleetOption(
        "--speed",
        "<factor>",
        "model time runs this many times faster (heartbeats, sessions, meters; for demos"
        " and tests)",
        "1",
    ),
    FleetOption(
        "--workers", "<n>", "run the fleet in <n> processes, each a share of the charge points", "1"
    ),
    FleetOption(
        "--source-ip",
        "<first-last>",
        "local addresses to connect from, in turn (127.0.0.2-127.0.0.9: past the ports of one)",
    ),
)
FLAGS = {option.flag for option in OPTIONS}


@dataclass(frozen=True)
class FleetOptions:
    """A fleet, checked: where, how many, and how its charge points behave."""

    url: str
    count: int
    protocol: str
    id_template: str = "cp{n:05d}"
    ramp: float = 1000.0
    connectors: int = 2
    sessions: Sessions = field(default_factory=Sessions)
    meter_interval: int = 60
    backoff: Backoff = field(default_factory=Backoff)
    behaviour: str | None = None
    #: the CA certificates (PEM file) a wss:// Central System is checked with
    ca: str | None = None
    duration: float | None = None
    report: str | None = None
    log_file: str | None = None
    speed: float = 1.0
    workers: int = 1
    #: the local addresses to connect from, in turn (empty: the system's choice)
    source_ips: tuple[str, ...] = ()

    @property
    def seed(self) -> int:
        return self.sessions.seed

    @property
    def version(self) -> str:
        """The OCPP version name (`1.6`) of the subprotocol."""
        return versions.by_subprotocol(self.protocol).name

    def describe(self) -> str:
        """One line: what runs."""
        rate = self.sessions.per_hour
        return (
            f"{self.count} charge points ({self.protocol}) to {self.url}, ids"
            f" {self.id_template}, {rate:g} sessions per hour each, seed {self.seed}"
        )


def parse_duration(text: str) -> float:
    """`90`, `90s`, `5m`, `1h`, `1.5h` → seconds; ValueError saying what is wrong."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if found is None:
        raise ValueError(f"`{text}' is not a duration (60s, 5m, 1h)")
    value = float(found.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[found.group(2)]
    if value <= 0:
        raise ValueError(f"`{text}' is not a duration above 0")
    return value


def parse_source_ips(text: str) -> tuple[str, ...]:
    """`127.0.0.2-127.0.0.9` (ranges and addresses, comma-separated) → the addresses;
    ValueError saying why not. Loopback ones only: a load test stays on this machine."""
    from ocppsim.transport.addresses import parse_source_addresses

    return tuple(parse_source_addresses(text))


def _number(flag: str, text: str, *, least: float = 0.0, above: bool = False) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < least or (above and value <= least):
        bound = f"above {least:g}" if above else f"{least:g} or more"
        raise FleetOptionError(f"Error: {flag} takes a number {bound}, not `{text}'.")
    return value


def _integer(flag: str, text: str, least: int, most: int) -> int:
    if not text.strip().isdigit() or not least <= int(text) <= most:
        raise FleetOptionError(
            f"Error: {flag} takes a number from {least} to {most}, not `{text}'."
        )
    return int(text)


def fleet_options(url: str, count_text: str, values: dict[str, str | None]) -> FleetOptions:
    """The fleet `url`, `count_text` charge points and the options given (flag → value, as
    typed); FleetOptionError says what is wrong."""
    unknown = [flag for flag in values if flag not in FLAGS]
    if unknown:
        raise FleetOptionError(f"Error: `{unknown[0]}' is an unknown option of a fleet.")
    for flag, value in values.items():
        if value is None:
            raise FleetOptionError(f"Error: option `{flag}' needs a value.")
    given: dict[str, str] = {k: v for k, v in values.items() if v is not None}
    problem = url_problem(url, WEBSOCKET_SCHEMES)
    if problem is not None and urlsplit(url).scheme.lower() in HTTP_SCHEMES:
        # not start_cp's hint (-t soap): a fleet has no SOAP charge points
        problem = "a fleet's charge points speak OCPP-J: its URL starts with ws:// or wss://"
    if problem is not None:
        raise FleetOptionError(f"Error: invalid URL {url!r}: {problem} (a fleet speaks OCPP-J).")
    if not count_text.isdigit() or int(count_text) < 1:
        raise FleetOptionError(
            f"Error: the number of charge points must be a whole number above 0, not"
            f" `{count_text}'."
        )
    count = int(count_text)
    protocol = given.get("-p", versions.default().subprotocol)
    try:
        entry = versions.by_subprotocol(protocol)
    except versions.VersionUnavailable as exc:
        raise FleetOptionError(f"Error: {exc}.") from None
    except versions.UnknownVersion:
        entry = None
    spoken = versions.subprotocols("websocket")
    if entry is None or protocol not in spoken:
        raise FleetOptionError(
            f"Error: unknown protocol `{protocol}' for a fleet (use {versions.one_of(spoken)})."
        )
    template = given.get("--id", "cp{n:05d}")
    why = id_template_problem(template)
    if why is not None:
        raise FleetOptionError(f"Error: --id: {why}.")
    try:
        sessions = Sessions(
            per_hour=_number("--sessions-per-hour", given.get("--sessions-per-hour", "1")),
            minutes=_number("--session-minutes", given.get("--session-minutes", "30"), above=True),
            seed=(
                _integer("--seed", given["--seed"], 0, 2**63 - 1)
                if "--seed" in given
                else secrets.randbelow(1 << 31)
            ),
        )
    except ValueError as exc:
        raise FleetOptionError(f"Error: {exc}.") from None
    try:
        backoff = Backoff.parse(given.get("--backoff", "5,10,3"))
    except ValueError as exc:
        raise FleetOptionError(f"Error: --backoff: {exc}.") from None
    duration = None
    if "--duration" in given:
        try:
            duration = parse_duration(given["--duration"])
        except ValueError as exc:
            raise FleetOptionError(f"Error: --duration: {exc}.") from None
    source_ips: tuple[str, ...] = ()
    if "--source-ip" in given:
        try:
            source_ips = parse_source_ips(given["--source-ip"])
        except ValueError as exc:
            raise FleetOptionError(f"Error: --source-ip: {exc}.") from None
    ca = given.get("--ca")
    if ca is not None and not url.lower().startswith("wss:"):
        raise FleetOptionError("Error: --ca is for a wss:// URL (TLS).")
    behaviour = given.get("--behaviour")
    if behaviour is not None and not behaviour.strip():
        raise FleetOptionError("Error: --behaviour needs a plugin's name.")
    return FleetOptions(
        url=url,
        count=count,
        protocol=protocol,
        id_template=template,
        ramp=_number("--ramp", given.get("--ramp", "1000")),
        connectors=_integer("--connectors", given.get("--connectors", "2"), 1, MAX_POINTS),
        sessions=sessions,
        meter_interval=int(_number("--meter-interval", given.get("--meter-interval", "60"))),
        backoff=backoff,
        behaviour=behaviour,
        ca=ca,
        duration=duration,
        report=given.get("--report"),
        log_file=given.get("--log-file"),
        speed=_number("--speed", given.get("--speed", "1"), above=True),
        workers=_integer("--workers", given.get("--workers", "1"), 1, MAX_WORKERS),
        source_ips=source_ips,
    )
