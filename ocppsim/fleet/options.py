"""The options of a fleet, in one table for the prompt's `start_fleet` and the headless
`ocppsim fleet`, and their checks: every bad value gets a sentence that says what to give.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from ocppsim.core import versions
from ocppsim.core.errors import OcppSimError
from ocppsim.fleet.behaviour import Backoff, Sessions, charge_point_id, id_template_problem
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
    FleetOption(
        "--password",
        "<text>",
        "HTTP Basic auth password of every charge point (security profile 1 over ws://, 2 over"
        " wss://); {id} is its id, {n} its number (cp-{id}-secret)",
    ),
    FleetOption(
        "--auth-key",
        "<hex>",
        "OCPP 1.x AuthorizationKey of every charge point in hexadecimal, sent as its bytes"
        " (in place of --password)",
    ),
    FleetOption(
        "--fault",
        "<kind>",
        "a fault on purpose on a share of the charge points (--fraction): delay, drop,"
        " callerror, send-before-boot, clock-skew, … (see help fault)",
    ),
    FleetOption(
        "--fraction",
        "<share>",
        "the share of the charge points --fault is set on, picked with the fleet's seed",
        "1",
    ),
    FleetOption(
        "--fault-option",
        "<name=value,…>",
        "options of --fault, as fault takes them: seconds=2, code=NotSupported, for=3,"
        " once=true, action=Heartbeat",
    ),
    FleetOption(
        "--verdicts",
        "",
        "check every frame of the Central System (findings in fleet, the summary and the"
        " report; a failure fails the fleet)",
    ),
)
FLAGS = {option.flag for option in OPTIONS}
#: The options that take no value.
SWITCHES = {option.flag for option in OPTIONS if not option.metavar}


class FleetFault(NamedTuple):
    """`--fault KIND --fraction SHARE --fault-option NAME=VALUE`: what `Fleet.set_fault` gets."""

    kind: str
    fraction: float
    options: dict[str, Any]

    def describe(self) -> str:
        """`delay (seconds=2)`: the fault as a line shows it."""
        given = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return f"{self.kind} ({given})" if given else self.kind


def fault_share(count: int, fraction: float, seed: int) -> list[int]:
    """The numbers of the charge points of a fleet of `count` that `--fraction` picks: at
    random with the fleet's `seed` (the same ones each run, whichever worker runs them), at
    least one; sorted."""
    import random

    chosen = min(count, max(1, round(fraction * count)))
    return sorted(random.Random(seed).sample(range(count), chosen))


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
    #: Basic auth (security profiles 1, 2): `--password`, a template of `{id}` and `{n}`
    password: str | None = None
    #: Basic auth with an OCPP 1.x AuthorizationKey: its bytes (`--auth-key`)
    auth_key: bytes | None = None
    #: the fault on a share of the charge points (`--fault`), if any
    fault: FleetFault | None = None
    #: every frame of the Central System checked (`--verdicts`)
    verdicts: bool = False

    @property
    def seed(self) -> int:
        return self.sessions.seed

    @property
    def version(self) -> str:
        """The OCPP version name (`1.6`) of the subprotocol."""
        return versions.by_subprotocol(self.protocol).name

    def secret(self, index: int) -> bytes | None:
        """The password charge point `index` sends with Basic auth (None: none)."""
        if self.auth_key is not None:
            return self.auth_key
        if self.password is None:
            return None
        cp_id = charge_point_id(self.id_template, index)
        return self.password.format(id=cp_id, n=index).encode("utf-8")

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
        if value is None and flag not in SWITCHES:
            raise FleetOptionError(f"Error: option `{flag}' needs a value.")
        if value and flag in SWITCHES:
            raise FleetOptionError(f"Error: {flag} takes no value (`{value}').")
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
    auth_key = _basic_auth(url, protocol, template, given)
    fault = _fault(protocol, given)
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
        password=given.get("--password"),
        auth_key=auth_key,
        fault=fault,
        verdicts="--verdicts" in values,
    )


def _basic_auth(url: str, protocol: str, template: str, given: dict[str, str]) -> bytes | None:
    """`--password` and `--auth-key` checked as `start_cp` checks them (profile 1 over ws://,
    2 over wss://; an AuthorizationKey only where the version has one): the key's bytes."""
    from ocppsim.sim.security import ChargePointSecurity, SecurityOptionsError

    password, auth_key = given.get("--password"), given.get("--auth-key")
    if password is None and auth_key is None:
        return None
    if password is not None:
        if not password:
            raise FleetOptionError("Error: --password must not be empty.")
        try:
            password = password.format(id=charge_point_id(template, 0), n=0)
        except (ValueError, IndexError, KeyError) as exc:
            what = f"{{{exc.args[0]}}} is no field" if isinstance(exc, KeyError) else str(exc)
            raise FleetOptionError(
                f"Error: --password: {what}: its fields are {{id}} and {{n}} (write {{{{ and"
                " }} for a brace)."
            ) from None
    try:
        security = ChargePointSecurity.from_options(
            url,
            password=password,
            auth_key=auth_key,
            key_bytes=bool(versions.by_subprotocol(protocol).configuration),
        )
    except SecurityOptionsError as exc:
        raise FleetOptionError(f"Error: {exc}.") from None
    assert security is not None
    return security.password if auth_key is not None else None


def _fault(protocol: str, given: dict[str, str]) -> FleetFault | None:
    """`--fault`, `--fraction` and `--fault-option` checked (a fault that cannot be set says
    why now, not at the first charge point)."""
    from ocppsim.sim.faults import FaultError

    kind = given.get("--fault")
    if kind is None:
        if "--fraction" in given or "--fault-option" in given:
            raise FleetOptionError("Error: --fault-option and --fraction go with --fault KIND.")
        return None
    text = given.get("--fraction", "1")
    try:
        fraction = float(text)
    except ValueError:
        fraction = math.nan
    if not 0 < fraction <= 1:
        raise FleetOptionError(
            f"Error: --fraction takes a number above 0, at most 1, not `{text}'."
        )
    options: dict[str, Any] = {}
    for pair in filter(None, given.get("--fault-option", "").split(",")):
        name, sep, value = pair.partition("=")
        name = name.strip().removeprefix("--")
        if not sep or not name:
            raise FleetOptionError(f"Error: --fault-option {pair}: give NAME=VALUE.")
        options[name] = value.lower() in ("1", "true", "yes") if name == "once" else value
    from ocppsim.fleet.engine import check_fault

    try:
        check_fault(versions.by_subprotocol(protocol).name, kind, options)
    except FaultError as exc:
        raise FleetOptionError(f"Error: --fault {kind}: {exc}.") from None
    return FleetFault(kind, fraction, options)
