"""The prompt's command table: syntax, options, defaults, error lines (SPEC §3)."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ocppsim.core import versions
from ocppsim.core.errors import OcppSimError
from ocppsim.core.fields import fields_of
from ocppsim.core.validation import load_schema
from ocppsim.core.versions import Service, command_name
from ocppsim.repl.parsing import ParsedLine, parse_value
from ocppsim.repl.usage import command_help
from ocppsim.sim.model import DEFAULT_POINTS
from ocppsim.sim.simulator import CommandError
from ocppsim.transport.urls import HTTP_SCHEMES, url_problem

if TYPE_CHECKING:
    from ocppsim.repl.shell import Shell


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    default: str | None = None
    metavar: str = "<value>"  # "": a flag, which takes no value (`--stateless`)
    required: bool = False

    @property
    def is_flag(self) -> bool:
        return not self.metavar


Runner = Callable[["Shell", ParsedLine], Awaitable[None]]


@dataclass
class Command:
    """One prompt command."""

    name: str
    args: tuple[str, ...]
    options: tuple[Option, ...]
    help: str
    run: Runner
    takes_fields: bool = False
    action: str | None = None
    service: str | None = None  # 'cs' for CP commands, 'cp' for remote_ commands
    example: str | None = None  # OCPP commands build theirs from the schema
    #: more lines for `help <command>` (the kinds of `fault`)
    notes: Callable[[], list[str]] | None = None

    def syntax(self) -> str:
        return " ".join((self.name, *self.args))

    def syntax_error(self) -> str:
        lines = [f'Error in command "{self.name}", syntax: {self.syntax()}']
        if self.options:
            lines.append("With optional arguments:")
        for opt in self.options:
            default = f", default: {opt.default}" if opt.default is not None else ""
            lines.append(f"  {opt.flag} : {opt.help}{default}")
        more = ", payload fields" if self.takes_fields else ""
        options = f"its options{more} and " if self.options else ""
        lines.append(f"Type help {self.name} for {options}an example.")
        return "\n".join(lines) + "\n"


class SyntaxProblem(CommandError):
    """The line does not match the command's syntax; the text is the usage message, the
    problem names the word that is wrong (shown first)."""

    def __init__(self, text: str, stamped: bool = True, problem: str | None = None):
        super().__init__(text)
        self.stamped = stamped
        self.problem = problem


def _syntax(command: Command, problem: str) -> SyntaxProblem:
    return SyntaxProblem(command.syntax_error(), problem=f"Error: {problem}.")


def _option(parsed: ParsedLine, command: Command, flag: str, default: str | None = None) -> Any:
    if flag not in parsed.options:
        return default
    value = parsed.options[flag]
    if value is None:
        raise _syntax(command, f"option `{flag}' needs a value")
    return value


def unknown_command(word: str, others: Iterable[str] = ()) -> str:
    """The original's line for an unknown command, and the command probably meant (a typo:
    `remote_reste`)."""
    text = f"Error: `{word}' unknown command. Type help for more informations."
    close = difflib.get_close_matches(word, [*COMMANDS, *others], n=1, cutoff=0.8)
    return f"{text} Did you mean {close[0]}?" if close else text


#: The options of the `ocppsim` command itself (cli.py), which go before a command: after it
#: (`ocppsim start_cs 9000 --log-file x`) they are no option of the command.
PROCESS_OPTIONS = frozenset(
    {
        "--log-file",
        "--log-format",
        "--with-attr-at",
        "--record",
        "--record-xml",
        "--verdicts",
        "--plugins-dir",
    }
)


def _word_problem(
    parsed: ParsedLine, known: set[str], expected: int, flags: frozenset[str] = frozenset()
) -> str | None:
    """The first word that does not fit: an unknown option, an option without its value,
    an argument too many or too few, a field=value the command does not take."""
    for flag, value in parsed.options.items():
        if flag not in known:
            name, glued, rest = flag.partition("=")
            if glued and name in known:
                return f"`{flag}' is an unknown option (its value follows a blank: {name} {rest})"
            if name in PROCESS_OPTIONS:
                return (
                    f"`{name}' is an option of ocppsim itself, not of a command: it goes"
                    f" before the command (ocppsim {name} … {parsed.command} …)"
                )
            return f"`{flag}' is an unknown option"
        if value is None and flag not in flags:
            return f"option `{flag}' needs a value"
    if parsed.repeated:
        return f"option `{parsed.repeated[0]}' is given twice"
    names = [name for name, _ in parsed.fields]
    twice = next((name for index, name in enumerate(names) if name in names[:index]), None)
    if twice is not None:
        return f"field `{twice}' is given twice"
    if len(parsed.arguments) > expected:
        return f"`{parsed.arguments[expected]}' is an unexpected argument"
    return None


def _check(parsed: ParsedLine, command: Command) -> None:
    """Refuse unknown options, options without value and wrong argument counts."""
    expected = len(command.args)
    flags = frozenset(opt.flag for opt in command.options if opt.is_flag)
    problem = _word_problem(parsed, {opt.flag for opt in command.options}, expected, flags)
    if problem is None and len(parsed.arguments) < expected:
        problem = f"missing argument {command.args[len(parsed.arguments)]}"
    if problem is None and parsed.fields and not command.takes_fields:
        name, value = parsed.fields[0]
        problem = f"`{name}={value}' is an unexpected argument"
    if problem is not None and command.takes_fields and len(parsed.arguments) > expected:
        problem += _field_hint(command, parsed.arguments[expected])  # `authorize 12345`
    if problem is not None:
        raise _syntax(command, problem)


def _field_hint(command: Command, word: str) -> str:
    """How a bare word after an OCPP command was probably meant: as its first required
    field (`authorize 12345` → `idTag=12345`)."""
    service, action = command.service or "", command.action or ""
    for entry in (versions.default(), *versions.all_versions()):
        message = entry.message_of(service, action)
        if message is None:
            continue
        try:
            found = fields_of(load_schema(entry.name, message))
        except LookupError:
            continue
        names = [f.path for f in found if f.required and f.top_level]
        if names and len(word) <= 40:
            return f" (payload fields are name=value: {names[0]}={word})"
        if found:
            return f" (payload fields are name=value: help {command.name} lists them)"
        break
    return ""  # a message without fields (Heartbeat): the word is just one too many


def _fields(parsed: ParsedLine) -> list[tuple[str, Any]]:
    values = []
    for name, text in parsed.fields:
        if text[:1] in '[{"' and text:
            try:
                values.append((name, json.loads(text)))
            except ValueError as exc:
                raise CommandError(f"Error: invalid value for argument `{name}': {exc}") from exc
        else:
            values.append((name, parse_value(text)))
    return values


#: The most connectors (or EVSEs) `--connectors` gives a Charge Point.
MAX_POINTS = 100
#: Shortest ping interval accepted: anything faster floods the peer.
MIN_PING_SECONDS = 0.1


def _number(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise CommandError(f"Error: argument provided for {name} is not a number.") from None
    if not math.isfinite(number):
        raise CommandError(f"Error: argument provided for {name} is not a number.")
    if number < 0 or 0 < number < MIN_PING_SECONDS:
        raise CommandError(
            f"Error: argument provided for {name} must be 0 (off) or at least"
            f" {MIN_PING_SECONDS:g} seconds."
        )
    return number


# -- start commands ----------------------------------------------------------------------------

TRANSPORTS = ("websocket", "soap")


async def _start_cs(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["start_cs"]
    _check(parsed, command)
    if shell.sim.central_system is not None:
        raise CommandError("Error: Central System already started (stop_cs stops it).")
    try:
        port = int(parsed.arguments[0])
        if not 0 <= port <= 65535:
            raise ValueError
    except ValueError:
        raise CommandError(f"Error: invalid port `{parsed.arguments[0]}'.") from None
    interval = _number(_option(parsed, command, "-i", "300"), "websocket_ping_interval")
    endpoint = _option(parsed, command, "-u", "/")
    requested = _option(parsed, command, "-p")
    if requested is not None:
        protocols = tuple(p.strip() for p in requested.split(",") if p.strip())
        for protocol in protocols:
            _refuse_unavailable(protocol)
        unknown = [p for p in protocols if p not in versions.subprotocols()]
        if unknown or not protocols:
            known = ",".join(versions.subprotocols())
            raise CommandError(f"Error: unknown protocol `{','.join(unknown)}' (use {known}).")
    transport = _option(parsed, command, "-t", "websocket")
    if transport not in TRANSPORTS:
        raise CommandError(f"Error: unknown transport `{transport}' (use websocket or soap).")
    served = versions.subprotocols(transport)  # the default: every version it can carry
    if requested is None:
        protocols = served
    _check_transport(protocols, transport, ",".join(served))
    security = _cs_security(parsed, command, transport)
    options: dict[str, Any] = {}
    if "--reuse-port" in parsed.options:
        if transport != "websocket":
            raise CommandError("Error: --reuse-port is for a websocket Central System.")
        if port == 0:
            raise CommandError("Error: --reuse-port needs a port (other processes share it).")
        options["reuse_port"] = True
    options.update(_cs_answers(parsed, command))
    cs = shell.make_central_system(
        transport,
        port=port,
        endpoint=endpoint,
        versions=protocols,
        ping_interval=interval,
        security=security,
        **options,
    )
    shell.sim.add_central_system(cs)
    try:
        await cs.start()
    except OSError as exc:
        shell.sim.central_system = None
        raise CommandError(f"Error: cannot listen on port {port}: {exc.strerror or exc}") from exc


def _cs_answers(parsed: ParsedLine, command: Command) -> dict[str, Any]:
    """How the Central System answers idTags and DataTransfer (--accept-tags, --vendor-ids,
    --stateless), lists and files read and checked."""
    from ocppsim.core.central import read_list

    options: dict[str, Any] = {}
    tags = _option(parsed, command, "--accept-tags")
    vendors = _option(parsed, command, "--vendor-ids")
    if "--stateless" in parsed.options:
        if tags is not None or vendors is not None:
            raise CommandError(
                "Error: --stateless answers every CALL with the default payload: it takes no"
                " --accept-tags or --vendor-ids."
            )
        return {"stateless": True}
    try:
        if tags is not None:
            options["accept_tags"] = read_list(tags, "idTag")
        if vendors is not None:
            options["vendor_ids"] = read_list(vendors, "vendorId")
    except OcppSimError as exc:
        raise CommandError(f"Error: {exc}.") from None
    return options


def _cs_security(parsed: ParsedLine, command: Command, transport: str) -> Any:
    """The Central System's security options (None: none given), files read and checked."""
    from ocppsim.sim.security import CentralSystemSecurity, SecurityOptionsError

    try:
        return CentralSystemSecurity.from_options(
            transport=transport,
            profile=_option(parsed, command, "--security-profile"),
            tls_cert=_option(parsed, command, "--tls-cert"),
            tls_key=_option(parsed, command, "--tls-key"),
            client_ca=_option(parsed, command, "--client-ca"),
            auth=_option(parsed, command, "--auth"),
            ca_key=_option(parsed, command, "--ca-key"),
            ca=_option(parsed, command, "--ca"),
        )
    except SecurityOptionsError as exc:
        raise CommandError(f"Error: {exc}.") from None


def _cp_security(
    parsed: ParsedLine, command: Command, url: str, transport: str, protocol: str
) -> Any:
    """A Charge Point's security options (None: none given), files read and checked."""
    from ocppsim.sim.security import ChargePointSecurity, SecurityOptionsError

    entry = versions.by_subprotocol(protocol)
    try:
        return ChargePointSecurity.from_options(
            url,
            transport=transport,
            profile=_option(parsed, command, "--security-profile"),
            ca=_option(parsed, command, "--ca"),
            password=_option(parsed, command, "--password"),
            auth_key=_option(parsed, command, "--auth-key"),
            cert=_option(parsed, command, "--cert"),
            key=_option(parsed, command, "--key"),
            tls_cert=_option(parsed, command, "--tls-cert"),
            tls_key=_option(parsed, command, "--tls-key"),
            key_bytes=bool(entry.configuration),  # 1.x: keys; 2.x: a device model, text
        )
    except SecurityOptionsError as exc:
        raise CommandError(f"Error: {exc}.") from None


def _refuse_unavailable(protocol: str) -> None:
    """A version ocppsim knows but cannot speak here says what it needs (OCPP 2.1: a newer
    `ocpp` package)."""
    try:
        versions.by_subprotocol(protocol)
    except versions.VersionUnavailable as exc:
        raise CommandError(f"Error: {exc}.") from None
    except versions.UnknownVersion:
        pass


def _check_transport(protocols: tuple[str, ...], transport: str, choices: str) -> None:
    """Refuse a version that does not run on `transport` (one without a SOAP binding)."""
    without = [p for p in protocols if transport not in versions.by_subprotocol(p).transports]
    if without:
        raise CommandError(
            f"Error: {versions.one_of(without, 'and')} cannot run on {transport}"
            f" (use {choices} with -t {transport})."
        )


async def _start_cp(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["start_cp"]
    _check(parsed, command)
    url, cp_id = parsed.arguments
    if not cp_id.strip():
        raise CommandError("Error: the charge point identifier must not be empty.")
    protocol = _option(parsed, command, "-p", versions.default().subprotocol)
    _refuse_unavailable(protocol)
    if protocol not in versions.subprotocols():
        known = versions.one_of(versions.subprotocols())
        raise CommandError(f"Error: unknown protocol `{protocol}' (use {known}).")
    interval = _number(_option(parsed, command, "-i", "0"), "websocket_ping_interval")
    transport = _option(parsed, command, "-t", "websocket")
    if transport not in TRANSPORTS:
        raise CommandError(f"Error: unknown transport `{transport}' (use websocket or soap).")
    _check_transport((protocol,), transport, versions.one_of(versions.subprotocols(transport)))
    from_url = _option(parsed, command, "-f")
    remote_port = _option(parsed, command, "-r")
    if transport == "websocket" and (from_url or remote_port):
        raise CommandError("Error: -f and -r are SOAP options (add -t soap).")
    if remote_port is not None and not (remote_port.isdigit() and int(remote_port) <= 65535):
        raise CommandError(f"Error: invalid port `{remote_port}' for -r.")
    problem = url_problem(from_url, HTTP_SCHEMES) if from_url is not None else None
    if problem is not None:  # the Central System could never call back
        raise CommandError(f"Error: invalid -f URL {from_url!r}: {problem}.")
    stateless = "--stateless" in parsed.options
    points_text = _option(parsed, command, "--connectors")
    if points_text is not None and stateless:
        raise CommandError(
            "Error: --connectors is for a Charge Point with a model (no --stateless)."
        )
    points = DEFAULT_POINTS
    if points_text is not None:
        if not points_text.isdigit() or not 1 <= int(points_text) <= MAX_POINTS:
            raise CommandError(
                f"Error: --connectors takes a number from 1 to {MAX_POINTS}, not `{points_text}'."
            )
        points = int(points_text)
    if cp_id in shell.sim.charge_points:
        raise CommandError(
            f"Error: charge point #{cp_id} already exists (stop_cp {cp_id} stops it)."
        )
    security = _cp_security(parsed, command, url, transport, protocol)
    cp = shell.make_charge_point(
        transport,
        url=url,
        charge_point_id=cp_id,
        version=protocol,
        ping_interval=interval,
        from_url=from_url,
        remote_port=int(remote_port) if remote_port else None,
        security=security,
        behave=not stateless,
        points=points,
    )
    shell.sim.add_charge_point(cp)
    cp.start()
    if shell.sequential:  # a script waits, as a person would, for the first attempt's outcome
        try:
            await cp.ready()
        except OcppSimError:
            pass  # its line is logged already


async def _stop_cp(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["stop_cp"]
    _check(parsed, command)
    await shell.sim.stop_charge_point(parsed.arguments[0])


async def _stop_cs(shell: Shell, parsed: ParsedLine) -> None:
    _check(parsed, COMMANDS["stop_cs"])
    await shell.sim.stop_central_system()


# -- fleets -------------------------------------------------------------------------------------


async def _start_fleet(shell: Shell, parsed: ParsedLine) -> None:
    from ocppsim.fleet.command import start_at_prompt
    from ocppsim.fleet.options import FleetOptionError, fleet_options
    from ocppsim.plugins import plugin_key

    command = COMMANDS["start_fleet"]
    _check(parsed, command)
    url, count = parsed.arguments
    running = shell.sim.fleet
    if running is not None and running.running:
        raise CommandError("Error: a fleet is running already (stop_fleet stops it).")
    try:
        options = fleet_options(url, count, dict(parsed.options))
    except FleetOptionError as exc:
        raise CommandError(str(exc)) from None
    if shell.sim.verdicts is not None and not options.verdicts:
        # `verdicts on` (or ocppsim --verdicts) checks the fleet's links too, as --verdicts
        options = dataclasses.replace(options, verdicts=True)
    name = options.behaviour
    if name is not None and plugin_key(name) not in shell.plugins.loaded:
        if not await shell.plugins.load(name):
            raise CommandError(f"Error: --behaviour: the plugin `{name}' is not loaded: no fleet.")
    if name is not None:
        system = shell.plugins.loaded[plugin_key(name)].metadata.get("system")
        if system == "cs":
            raise CommandError(
                f"Error: --behaviour: `{name}' is a Central System plugin: a fleet runs Charge"
                " Point handlers."
            )
    try:
        fleet = await start_at_prompt(options, shell.sim.cp_behaviour)
    except FleetOptionError as exc:
        raise CommandError(str(exc)) from None
    shell.sim.fleet = fleet
    shell.print_stamped(f"Fleet started: {options.describe()}.")
    if fleet.fault_said is not None:
        shell.print(f"{fleet.fault_said} (fault list shows them, fault clear clears them).")
    if options.verdicts:
        shell.print(
            "Fleet: verdicts on: every frame of the Central System is checked (fleet shows"
            " the findings)."
        )
    if options.duration is not None:

        def done(lines: list[str]) -> None:
            shell.print("\n".join(lines), block=True)

        fleet.stop_after(options.duration, done)


async def _fleet(shell: Shell, parsed: ParsedLine) -> None:
    _check(parsed, COMMANDS["fleet"])
    fleet = shell.sim.fleet
    if fleet is None:
        raise CommandError("Error: no fleet was started (start_fleet <url> <count> starts one).")
    if "--json" in parsed.options:
        shell.print(json.dumps(fleet.snapshot(), indent=2), block=True)
        return
    state = "running" if fleet.running else "stopped"
    summary = fleet.summary()
    lines = [f"{summary[0]} ({state})", *summary[1:]]
    shell.print("\n".join(lines), block=True)


async def _stop_fleet(shell: Shell, parsed: ParsedLine) -> None:
    _check(parsed, COMMANDS["stop_fleet"])
    fleet = shell.sim.fleet
    if fleet is None or not fleet.running:
        raise CommandError("Error: no fleet is running.")
    shell.print("\n".join(await fleet.stop()), block=True)


# -- OCPP commands -----------------------------------------------------------------------------


async def _cp_command(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS[parsed.command]
    _check(parsed, command)
    assert command.action is not None
    cp = shell.sim.charge_point(_option(parsed, command, "--id"))
    payload = shell.sim.build_payload(cp.version, "cs", command.action, _fields(parsed), cp.variant)
    await shell.sim.cp_call(cp.charge_point_id, command.action, payload=payload)


async def _remote_command(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS[parsed.command]
    _check(parsed, command)
    assert command.action is not None
    peer = shell.sim.remote_peer(_option(parsed, command, "--remote-id"))
    fields = _fields(parsed)
    payload = shell.sim.build_payload(
        peer.version, "cp", command.action, fields, shell.sim.central_system.variant
    )
    if command.action in _REMOTE_STOPS and not any(name == "transactionId" for name, _ in fields):
        _name_open_transaction(shell, peer.charge_point_id, payload)
    await shell.sim.remote_call(peer.charge_point_id, command.action, payload=payload)


#: The CALLs that stop a transaction by its id: without `transactionId=`, the open one's.
_REMOTE_STOPS = ("RemoteStopTransaction", "RequestStopTransaction")


def _name_open_transaction(shell: Shell, cp_id: str, payload: dict[str, Any]) -> None:
    """A remote stop names the charge point's latest open transaction (the default's id when
    the Central System knows none)."""
    model = getattr(shell.sim.central_system, "model", None)
    open_ones = model.open_transactions(cp_id) if model is not None else []
    if open_ones:
        payload["transactionId"] = open_ones[-1]


async def _cp_send_command(shell: Shell, parsed: ParsedLine) -> None:
    """A CP command of a SEND (OCPP 2.1): sent, not waited for (nothing answers it)."""
    command = COMMANDS[parsed.command]
    _check(parsed, command)
    assert command.action is not None
    cp = shell.sim.charge_point(_option(parsed, command, "--id"))
    payload = shell.sim.build_payload(cp.version, "cs", command.action, _fields(parsed), cp.variant)
    await shell.sim.cp_send(cp.charge_point_id, command.action, payload=payload)


async def _remote_send_command(shell: Shell, parsed: ParsedLine) -> None:
    """A remote_ command of a SEND (none in OCPP 2.1 yet: a CSMS sends no SEND)."""
    command = COMMANDS[parsed.command]
    _check(parsed, command)
    assert command.action is not None
    peer = shell.sim.remote_peer(_option(parsed, command, "--remote-id"))
    payload = shell.sim.build_payload(
        peer.version, "cp", command.action, _fields(parsed), shell.sim.central_system.variant
    )
    await shell.sim.remote_send(peer.charge_point_id, command.action, payload=payload)


def _send_usage(name: str, flags: str, problem: str) -> SyntaxProblem:
    return SyntaxProblem(
        f'Error for command "{name}": syntax: {name} {flags}', problem=f"Error: {problem}."
    )


#: The options of send/send_raw a line may leave out.
_OPTIONAL = ("-h", "--type")
#: What `send --type` takes: a CALL (answered) or an OCPP 2.1 SEND (never answered).
MESSAGE_KINDS = ("call", "send")


def _send_problem(parsed: ParsedLine, flags: dict[str, str], id_flag: str) -> str | None:
    """The word that is wrong in a send/send_raw line, or the option that is missing."""
    problem = _word_problem(parsed, {*flags, id_flag}, 0)
    if problem is not None:
        return problem
    if parsed.fields:
        name, value = parsed.fields[0]
        return f"`{name}={value}' is an unexpected argument"
    for flag, metavar in flags.items():
        if flag not in _OPTIONAL and not parsed.options.get(flag):
            return f"missing option {flag} {metavar}"
    return None


def _send_args(parsed: ParsedLine, id_flag: str) -> tuple[str, Any, str | None, str]:
    """The action, payload, target and kind (`call` or `send`) of a send line."""
    flags = {"-n": "<procedure name>", "-p": "<payload>", "--type": "<call|send>"}
    syntax = "-n <procedure name> -p <payload> [--type call|send]"
    problem = _send_problem(parsed, flags, id_flag)
    kind = parsed.options.get("--type") or "call"
    if problem is None and kind not in MESSAGE_KINDS:
        problem = f"`--type {kind}' is neither call nor send"
    if problem is not None:
        raise _send_usage(parsed.command, syntax, problem)
    action, text = parsed.options["-n"], parsed.options["-p"]
    assert action is not None and text is not None
    try:
        payload = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"Error: invalid value for argument `-p': {exc}") from exc
    return action, payload, parsed.options.get(id_flag), kind


async def _send(shell: Shell, parsed: ParsedLine) -> None:
    action, payload, cp_id, kind = _send_args(parsed, "--id")
    if kind == "send":
        await shell.sim.cp_send(cp_id, action, payload=payload)
    else:
        await shell.sim.cp_call(cp_id, action, payload=payload)


async def _remote_send(shell: Shell, parsed: ParsedLine) -> None:
    action, payload, remote_id, kind = _send_args(parsed, "--remote-id")
    if kind == "send":
        await shell.sim.remote_send(remote_id, action, payload=payload)
    else:
        await shell.sim.remote_call(remote_id, action, payload=payload)


def _raw_args(parsed: ParsedLine, id_flag: str) -> tuple[str, str | None, bool]:
    problem = _send_problem(parsed, {"-e": "<text>", "-h": "<true|false>"}, id_flag)
    if problem is not None:
        raise _send_usage(parsed.command, "-e <text>", problem)
    text = parsed.options["-e"]
    assert text is not None
    headers = (parsed.options.get("-h") or "false").lower() == "true"
    return text, parsed.options.get(id_flag), headers


async def _send_raw(shell: Shell, parsed: ParsedLine) -> None:
    text, cp_id, headers = _raw_args(parsed, "--id")
    await shell.sim.cp_send_raw(cp_id, text, headers)


async def _remote_send_raw(shell: Shell, parsed: ParsedLine) -> None:
    text, remote_id, headers = _raw_args(parsed, "--remote-id")
    await shell.sim.remote_send_raw(remote_id, text, headers)


async def _ping_cs(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS[parsed.command]
    _check(parsed, command)
    await shell.sim.cp_ping(_option(parsed, command, "--id"))


async def _ping_cp(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS[parsed.command]
    _check(parsed, command)
    await shell.sim.remote_ping(_option(parsed, command, "--remote-id"))


# -- faults ------------------------------------------------------------------------------------

#: The options of `fault` that pick where it applies, and how often.
FAULT_TARGETS = ("--id", "--remote-id", "--cs", "--all")
_FAULT_FLAGS = ("--once", "--cs", "--all")
FAULT_WORDS = ("list", "clear")


def _fault_line(parsed: ParsedLine) -> ParsedLine:
    """`fault`'s flags take no value: a word after one is an argument (`--once drop`)."""
    for flag in _FAULT_FLAGS:
        value = parsed.options.get(flag)
        if value is not None:
            parsed.options[flag] = None
            parsed.arguments.append(value)
    return parsed


async def _fault(shell: Shell, parsed: ParsedLine) -> None:
    from ocppsim.sim.faults import KINDS, FaultError, kind_of

    command = COMMANDS["fault"]
    parsed = _fault_line(parsed)
    word = parsed.arguments[0] if parsed.arguments else None
    if word is None:
        raise _syntax(command, f"missing argument <kind|list|clear> (kinds: {', '.join(KINDS)})")
    if word == "list":
        _check_fault_words(parsed, command, set(FAULT_TARGETS), 1)
        shell.print("\n".join(shell.sim.fault_lines()), block=True)
        return
    if word == "clear":
        _check_fault_words(parsed, command, set(FAULT_TARGETS), 2)
        which = parsed.arguments[1] if len(parsed.arguments) > 1 else None
        try:
            if which is not None:
                kind_of(which)
            cleared = shell.sim.clear_faults(which, **_fault_target(parsed))
        except FaultError as exc:
            raise CommandError(f"Error: {exc}.") from None
        if not cleared:
            shell.print("No fault to clear." if which is None else f"No {which} fault to clear.")
        return
    try:
        kind = kind_of(word)
    except FaultError as exc:
        raise CommandError(f"Error: {exc}.") from None
    flags = {o.flag for o in kind.options} | set(FAULT_TARGETS) | {"--fraction"}
    if kind.counted:
        flags |= {"--for", "--once"}
    if kind.filtered:
        flags.add("--action")  # (send-before-boot's --action is its own option)
    _check_fault_words(parsed, command, flags, 1, kind.name)
    if "--for" in parsed.options and "--once" in parsed.options:
        raise _syntax(command, "--for and --once both say how often: give one")
    times: int | None = 1 if "--once" in parsed.options else None
    if "--for" in parsed.options:
        text = parsed.options["--for"] or ""
        if not text.isdigit() or int(text) < 1:
            raise CommandError(f"Error: --for takes a whole number, 1 or more, not `{text}'.")
        times = int(text)
    fraction = None
    if "--fraction" in parsed.options:
        text = parsed.options["--fraction"] or ""
        try:
            fraction = float(text)
        except ValueError:
            fraction = -1.0
        if not 0 < fraction <= 1:
            raise CommandError(
                f"Error: --fraction takes a number above 0, at most 1, not `{text}'."
            )
        if "--all" not in parsed.options:
            raise CommandError("Error: --fraction picks among every Charge Point: add --all.")
    own = {"--for", "--once", "--fraction"} | ({"--action"} if kind.filtered else set())
    options = {
        flag[2:]: value
        for flag, value in parsed.options.items()
        if flag not in FAULT_TARGETS and flag not in own
    }
    try:
        shell.sim.fault(
            kind.name,
            times=times,
            action=parsed.options.get("--action") if kind.filtered else None,
            options=options,
            fraction=fraction,
            **_fault_target(parsed),
        )
    except FaultError as exc:
        raise CommandError(f"Error: {exc}.") from None


def _fault_target(parsed: ParsedLine) -> dict[str, Any]:
    return {
        "cp_id": parsed.options.get("--id"),
        "remote_id": parsed.options.get("--remote-id"),
        "every_cp": "--cs" in parsed.options,
        "all_cps": "--all" in parsed.options,
    }


def _check_fault_words(
    parsed: ParsedLine, command: Command, known: set[str], arguments: int, kind: str = ""
) -> None:
    """Refuse what `fault` (of `kind`) does not take: an option, a missing value, a word."""
    for flag, value in parsed.options.items():
        if flag not in known:
            of = f" of fault {kind}" if kind else ""
            takes = ", ".join(sorted(known - set(FAULT_TARGETS)))
            more = f" ({kind} takes {takes or 'no options of its own'})" if kind else ""
            raise _syntax(command, f"`{flag}' is no option{of}{more}")
        if value is None and flag not in _FAULT_FLAGS:
            raise _syntax(command, f"option `{flag}' needs a value")
    if parsed.repeated:
        raise _syntax(command, f"option `{parsed.repeated[0]}' is given twice")
    if len(parsed.arguments) > arguments:
        raise _syntax(command, f"`{parsed.arguments[arguments]}' is an unexpected argument")
    if parsed.fields:
        name, value = parsed.fields[0]
        raise _syntax(command, f"`{name}={value}' is an unexpected argument")
    targets = [flag for flag in FAULT_TARGETS if flag in parsed.options]
    if len(targets) > 1:
        raise _syntax(command, f"{' and '.join(targets)} both say where: give one")


def _fault_notes() -> list[str]:
    from ocppsim.sim.faults import kinds_help

    return [
        "Where it applies (the side that runs it; without one: the only simulator there is):",
        "  --id <id>         a Charge Point of this process: what it sends to its Central System",
        "  --remote-id <id>  the Central System: what it sends to that charge point",
        "  --cs              the Central System: what it sends to every charge point",
        "  --all             every Charge Point of this process (a storm: all at once);",
        "                    --fraction 0.1: a tenth of them, picked at random",
        "Kinds (what the other end sees):",
        *kinds_help(),
        "fault list shows the faults set; fault clear [<kind>] clears them (with a target:",
        "those of that side). A fleet's (start_fleet --fault) are listed, and cleared without",
        "a target, too.",
    ]


# -- recording -----------------------------------------------------------------------------------


async def _record(shell: Shell, parsed: ParsedLine) -> None:
    """`record start <file> [--xml]`, `record stop`, `record` (what is being recorded)."""
    command = COMMANDS["record"]
    xml = "--xml" in parsed.options
    value = parsed.options.pop("--xml", None)
    if value is not None:  # a flag: the word after it is an argument
        parsed.arguments.append(value)
    problem = _word_problem(parsed, set(), 2)
    if problem is None and parsed.fields:
        name, text = parsed.fields[0]
        problem = f"`{name}={text}' is an unexpected argument"
    words = parsed.arguments
    sim = shell.sim
    if problem is None and words[:1] == ["start"] and len(words) == 2:
        recorder = sim.start_recording(words[1], xml=xml, options={"command": "record start"})
        shell.print(f"Recording every frame to {recorder.path}.")
        return
    if problem is None and words == ["stop"] and not xml:
        recorder = sim.stop_recording()
        if recorder is None:
            raise CommandError("Error: nothing is being recorded (record start <file> starts).")
        shell.print(f"Recording stopped: {recorder.frames} frames in {recorder.path}.")
        return
    if problem is None and not words and not xml:
        recorder = sim.recorder
        if recorder is None:
            shell.print("Not recording (record start <file> starts).")
        else:
            shell.print(f"Recording to {recorder.path}: {recorder.frames} frames so far.")
        return
    raise _syntax(command, problem or "use record start <file> [--xml], record stop or record")


# -- the person at the charger ------------------------------------------------------------------


def _check_some(parsed: ParsedLine, command: Command, least: int) -> None:
    """`_check` for a command whose last arguments may be left out (`plug [<n>]`)."""
    flags = frozenset(opt.flag for opt in command.options if opt.is_flag)
    known = {opt.flag for opt in command.options}
    problem = _word_problem(parsed, known, len(command.args), flags)
    if problem is None and len(parsed.arguments) < least:
        problem = f"missing argument {command.args[len(parsed.arguments)]}"
    if problem is None and parsed.fields:
        name, value = parsed.fields[0]
        problem = f"`{name}={value}' is an unexpected argument"
    if problem is not None:
        raise _syntax(command, problem)


def _point(text: str, name: str) -> int:
    """A connector or EVSE number typed at the prompt."""
    if not text.isdigit() or int(text) < 1:
        raise CommandError(f"Error: {name} `{text}' is not a number from 1.")
    return int(text)


async def _badge(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["badge"]
    _check(parsed, command)
    sim = shell.sim
    driver = sim.model_driver(_option(parsed, command, "--id"))
    wanted = "--evse" if driver.point_name == "EVSE" else "--connector"
    other = "--connector" if wanted == "--evse" else "--evse"
    if other in parsed.options:
        kind = "an EVSE" if wanted == "--evse" else "a connector"
        raise CommandError(
            f"Error: {other} does not apply: this OCPP {driver.version} Charge Point takes"
            f" {kind}: use {wanted} <n>."
        )
    text = _option(parsed, command, wanted)
    point = _point(text, driver.point_name) if text is not None else None
    await _act(shell, parsed, "badge", parsed.arguments[0], point)


async def _act(shell: Shell, parsed: ParsedLine, event: str, *args: Any) -> None:
    """Do it at the Charge Point, then wait for what it sends because of it (as a person
    would, in a script)."""
    driver = shell.sim.at_charger(parsed.options.get("--id"), event, *args)
    await driver.idle()


async def _plug(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS[parsed.command]
    _check_some(parsed, command, 0)
    driver = shell.sim.model_driver(_option(parsed, command, "--id"))
    point = _point(parsed.arguments[0], driver.point_name) if parsed.arguments else None
    await _act(shell, parsed, "plug" if parsed.command == "plug" else "unplug", point)


async def _faulted(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["faulted"]
    _check_some(parsed, command, 1)
    driver = shell.sim.model_driver(_option(parsed, command, "--id"))
    point = _point(parsed.arguments[0], driver.point_name)
    state = parsed.arguments[1].lower() if len(parsed.arguments) > 1 else "on"
    if state not in ("on", "off"):
        raise _syntax(command, f"`{parsed.arguments[1]}' is neither on nor off")
    await _act(shell, parsed, "faulted", point, state == "on")


async def _state(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["state"]
    _check(parsed, command)
    shell.print(shell.sim.describe(_option(parsed, command, "--id")), block=True)


async def _verdicts(shell: Shell, parsed: ParsedLine) -> None:
    """`verdicts on`, `verdicts off`, `verdicts show`, `verdicts` (whether they are on)."""
    command = COMMANDS["verdicts"]
    problem = _word_problem(parsed, set(), 1)
    if problem is None and parsed.fields:
        name, text = parsed.fields[0]
        problem = f"`{name}={text}' is an unexpected argument"
    words = parsed.arguments
    sim = shell.sim
    if problem is None and words == ["on"]:
        sim.start_verdicts()
        shell.print("Verdicts on: every frame of the peers is checked.")
        return
    if problem is None and words == ["off"]:
        monitor = sim.stop_verdicts()
        found = len(monitor.findings) if monitor is not None else 0
        shell.print(f"Verdicts off ({found} finding(s)).")
        return
    if problem is None and words == ["show"]:
        monitor = sim.verdicts
        if monitor is None:
            raise CommandError("Error: verdicts are off (verdicts on turns them on).")
        findings = monitor.finish()
        lines = [f.line() for f in findings] or ["No finding so far."]
        shell.print("\n".join(lines), block=True)
        return
    if problem is None and not words:
        monitor = sim.verdicts
        if monitor is None:
            shell.print("Verdicts are off (verdicts on turns them on).")
        else:
            shell.print(f"Verdicts are on: {len(monitor.findings)} finding(s) so far.")
        return
    raise _syntax(command, problem or "use verdicts on, verdicts off, verdicts show or verdicts")


# -- settings and the rest ---------------------------------------------------------------------

SETTINGS = ("websocket_ping_interval", "print_xml")


async def _set(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["set"]
    _check(parsed, command)
    if parsed.arguments[0] not in ("cs", "cp"):
        raise _syntax(command, f"`{parsed.arguments[0]}' is neither cs nor cp")
    if not parsed.fields:
        raise _syntax(command, "missing setting=value (websocket_ping_interval, print_xml)")
    role = parsed.arguments[0]
    for name, value in parsed.fields:
        if name not in SETTINGS:
            raise CommandError(
                f"Error: unknown setting `{name}' (settings: {', '.join(SETTINGS)})."
            )
        if name == "websocket_ping_interval":
            shell.set_ping_interval(role, _number(value, name))
        else:
            lowered = value.lower()
            if lowered not in ("true", "false"):
                raise CommandError(f"Error: argument provided for {name} must be true or false.")
            shell.set_print_xml(role, lowered == "true")


async def _help(shell: Shell, parsed: ParsedLine) -> None:
    command = COMMANDS["help"]
    problem = _word_problem(parsed, set(), 1)
    if problem is None and parsed.fields:
        name, value = parsed.fields[0]
        problem = f"`{name}={value}' is an unexpected argument"
    if problem is not None:
        raise _syntax(command, problem)
    if not parsed.arguments:
        shell.print(help_text(), block=True)
        return
    name = parsed.arguments[0]
    wanted = COMMANDS.get(name)
    if wanted is None:
        raise CommandError(unknown_command(name))
    shell.print(command_help(wanted, shell.variant), block=True)


async def _quit(shell: Shell, parsed: ParsedLine) -> None:
    shell.request_quit()


async def _plugins(shell: Shell, parsed: ParsedLine) -> None:
    await shell.plugins_command(parsed)


def help_text() -> str:
    lines = ["Available commands:"]
    for command in COMMANDS.values():
        lines.append(f" - {command.syntax():<42} {command.help}")
    lines.append("")
    lines.append("Type help <command> for its options, payload fields and an example.")
    lines.append("A CP command goes to the only charge point (or the only connected one);")
    lines.append("--id <id> picks one. A remote_ command goes to the only charge point connected")
    lines.append("to the Central System; --remote-id <id> picks one:")
    lines.append("  heartbeat --id cp01   remote_reset --remote-id cp01 type=Hard")
    lines.append("Customise a payload with field=value (JSON, or a bare word for a string);")
    lines.append("dotted paths reach nested fields: remote_sendlocallist updateType=Full")
    lines.append('  authorize idTag="12345"   starttransaction connectorId=1')
    return "\n".join(lines)


ID_OPTION = Option(
    "--id", "id of charge point (optional when only one runs or is connected)", metavar="<id>"
)
REMOTE_ID_OPTION = Option(
    "--remote-id", "id of charge point (optional when only one is connected)", metavar="<id>"
)
TYPE_OPTION = Option(
    "--type",
    "call: a CALL, answered; send: a SEND (message type 6), never answered",
    "call",
    "<call|send>",
)


def versions_note(names: list[str], json_only: bool = False) -> str:
    """` (OCPP 1.5)`: the versions that have an action, when not every version has it
    (a run of three or more consecutive versions is written `OCPP a to c`); `, OCPP-J only`
    when no version carries it over SOAP."""
    every = versions.names()
    if list(names) == list(every):
        return " (OCPP-J only)" if json_only else ""
    positions = [every.index(name) for name in names]
    runs: list[list[str]] = []
    for position, name in zip(positions, names, strict=True):
        if runs and every.index(runs[-1][-1]) == position - 1:
            runs[-1].append(name)
        else:
            runs.append([name])
    parts = [run[0] + " to " + run[-1] if len(run) > 2 else ", ".join(run) for run in runs]
    only = ", OCPP-J only" if json_only else ""
    return f" (OCPP {', '.join(parts)}{only})"


def _actions_with_notes(service: Service) -> list[tuple[str, str, str]]:
    """Every action of `service` in any version, in the order the versions list them (the
    oldest first), each with the note of the versions that have it and who sends it: `CP`,
    `CS`, or `CSMS` for an action only versions that call their Central System so have."""
    found: dict[str, list[versions.OcppVersion]] = {}
    for entry in versions.all_versions():
        for action in entry.actions[service]:
            found.setdefault(action, []).append(entry)
    listed = []
    for action, entries in found.items():
        sender = "CP"
        if service == "cp":
            csms = all(entry.central_system == "CSMS" for entry in entries)
            sender = "CSMS" if csms else "CS"
        note = versions_note([e.name for e in entries], _json_only(service, action, entries))
        listed.append((action, note, sender))
    return listed


def _json_only(service: Service, action: str, entries: list[versions.OcppVersion]) -> bool:
    """True when the versions that have SOAP carry this action over OCPP-J only (1.6's
    security whitepaper actions)."""
    with_soap = [entry for entry in entries if entry.soap is not None]
    return bool(with_soap) and not any(e.carries("soap", service, action) for e in with_soap)


def _sends_with_notes(service: Service) -> list[tuple[str, str]]:
    """Every message of any version that reaches `service` as a SEND (OCPP 2.1), with the
    note of the versions that have it."""
    found: dict[str, list[str]] = {}
    for entry in versions.all_versions():
        for action in entry.sends.get(service, ()):
            found.setdefault(action, []).append(entry.name)
    return [(action, versions_note(names)) for action, names in found.items()]


def _fault_kind_options() -> list[Option]:
    """Every option a kind of fault takes, once each (`help fault` says which kind takes it)."""
    from ocppsim.sim.faults import KINDS

    takers: dict[str, list[str]] = {}
    metavars: dict[str, str] = {}
    for kind in KINDS.values():
        for option in kind.options:
            if option.flag != "--action":
                takers.setdefault(option.flag, []).append(kind.name)
                metavars.setdefault(option.flag, option.metavar)
    return [
        Option(flag, f"of {', '.join(names)}", metavar=metavars[flag])
        for flag, names in takers.items()
    ]


def _fleet_options() -> tuple[Option, ...]:
    """`start_fleet`'s options: the fleet's table (`ocppsim fleet` takes the same)."""
    from ocppsim.fleet.options import OPTIONS

    default_protocol = versions.default().subprotocol
    return tuple(
        Option(
            o.flag,
            o.help + (" (ocppsim fleet only, not at the prompt)" if o.flag == "--workers" else ""),
            o.default if o.flag != "-p" else default_protocol,
            o.metavar,
        )
        for o in OPTIONS
    )


def _build() -> dict[str, Command]:
    table: dict[str, Command] = {}

    def add(command: Command) -> None:
        table[command.name] = command

    def send_commands(service: Service) -> None:
        """One command per SEND of a service (OCPP 2.1): `notifyperiodiceventstream`."""
        option, run = (
            (ID_OPTION, _cp_send_command)
            if service == "cs"
            else (REMOTE_ID_OPTION, _remote_send_command)
        )
        sender = "CP" if service == "cs" else "CSMS"
        for action, note in _sends_with_notes(service):
            add(
                Command(
                    command_name(service, action),
                    (),
                    (option,),
                    f"{sender} sends {action}{note} as a SEND (never answered)",
                    run,
                    takes_fields=True,
                    action=action,
                    service=service,
                )
            )

    def ocpp_commands(service: Service) -> None:
        """One command per action of a service: `heartbeat` (CP sends) or `remote_reset`."""
        option, run = (
            (ID_OPTION, _cp_command) if service == "cs" else (REMOTE_ID_OPTION, _remote_command)
        )
        for action, note, sender in _actions_with_notes(service):
            add(
                Command(
                    command_name(service, action),
                    (),
                    (option,),
                    f"{sender} sends {action}{note}",
                    run,
                    takes_fields=True,
                    action=action,
                    service=service,
                )
            )

    add(
        Command(
            "start_cs",
            ("<port>",),
            (
                Option("-i", "websocket ping interval", "300"),
                Option("-u", "endpoint URL", "/"),
                Option("-p", "websocket subprotocol", ",".join(versions.subprotocols("websocket"))),
                Option("-t", "transport layer mode (websocket or soap)", "websocket"),
                Option(
                    "--tls-cert",
                    "TLS server certificate (PEM, with its chain): wss:// (SOAP: https://)",
                    metavar="<file>",
                ),
                Option("--tls-key", "the TLS certificate's private key (PEM)", metavar="<file>"),
                Option(
                    "--auth",
                    "Basic auth passwords: a file of id:password lines, or id:password,… "
                    "(* for any id)",
                    metavar="<file|list>",
                ),
                Option(
                    "--client-ca",
                    "CA certificates of the charge points' client certificates (profile 3)",
                    metavar="<file>",
                ),
                Option(
                    "--security-profile",
                    "lowest profile accepted: 1 (Basic auth), 2 (Basic auth, TLS), "
                    "3 (client certificates); default: from the options",
                    metavar="<1|2|3>",
                ),
                Option(
                    "--ca-key",
                    "key of a --client-ca CA: signs the CSRs of SignCertificate",
                    metavar="<file>",
                ),
                Option(
                    "--ca",
                    "SOAP: CA certificates of the charge points' https callbacks",
                    metavar="<file>",
                ),
                Option(
                    "--reuse-port",
                    "share the port with other ocppsim processes that give it too "
                    "(SO_REUSEPORT: more connections than one process's open-file limit)",
                    metavar="",
                ),
                Option(
                    "--accept-tags",
                    "accept only these idTags/idTokens (a,b,… or @file), refuse any other;"
                    " default: every tag but the reserved test tags INVALID…, UNKNOWN…,"
                    " BLOCKED…, EXPIRED…, CONCURRENT…",
                    metavar="<list|@file>",
                ),
                Option(
                    "--vendor-ids",
                    "DataTransfer vendorIds served besides fr.tm.cnr and ocppsim (a,b,… or"
                    " @file; * for every one); any other is answered UnknownVendorId",
                    metavar="<list|@file>",
                ),
                Option(
                    "--stateless",
                    "answer every CALL with the version's default payload (one transaction"
                    " id, every idTag and vendorId accepted), as the original simulator did",
                    metavar="",
                ),
            ),
            "start the Central System (ex: start_cs 9000 -u /ocpp)",
            _start_cs,
            example=f"start_cs 9000 -u /ocpp -p {versions.default().subprotocol}",
        )
    )
    add(
        Command(
            "start_cp",
            ("<url>", "<identifier>"),
            (
                Option("-p", "websocket subprotocol", versions.default().subprotocol),
                Option("-i", "websocket ping interval (use 0 for disabling)", "0"),
                Option("-t", "transport layer mode (websocket or soap)", "websocket"),
                Option("-f", "In SOAP mode, value for FROM header."),
                Option("-r", "In SOAP mode, define the port for remote actions."),
                Option(
                    "--ca",
                    "CA certificates to check the server's certificate with (wss://, https://)",
                    metavar="<file>",
                ),
                Option("--password", "Basic auth password (profiles 1, 2)", metavar="<text>"),
                Option(
                    "--auth-key",
                    "OCPP 1.x AuthorizationKey in hexadecimal, sent as its bytes",
                    metavar="<hex>",
                ),
                Option(
                    "--cert",
                    "client certificate (PEM, CN = the id) for profile 3",
                    metavar="<file>",
                ),
                Option("--key", "the client certificate's private key (PEM)", metavar="<file>"),
                Option(
                    "--security-profile",
                    "1 (Basic auth), 2 (Basic auth, TLS), 3 (client certificate); "
                    "default: from the options",
                    metavar="<1|2|3>",
                ),
                Option(
                    "--tls-cert",
                    "SOAP: certificate of the https callback server (-f https://…)",
                    metavar="<file>",
                ),
                Option("--tls-key", "SOAP: the callback certificate's key", metavar="<file>"),
                Option(
                    "--connectors",
                    "its connectors (OCPP 1.x) or EVSEs (2.x)",
                    str(DEFAULT_POINTS),
                    "<n>",
                ),
                Option(
                    "--stateless",
                    "no model: answer every CALL with the default payload, as the original"
                    " did (no boot, heartbeat or transaction of its own)",
                    metavar="",
                ),
            ),
            "start a Charge Point (ex: start_cp ws://localhost:9000/ocpp cp01)",
            _start_cp,
            example=f"start_cp ws://localhost:9000/ocpp cp01 -p {versions.default().subprotocol}",
        )
    )
    add(
        Command(
            "stop_cp",
            ("<identifier>",),
            (),
            "stop a Charge Point (closes its link or stops its retries)",
            _stop_cp,
            example="stop_cp cp01",
        )
    )
    add(
        Command(
            "stop_cs",
            (),
            (),
            "stop the Central System (closes every link, frees the port)",
            _stop_cs,
            example="stop_cs",
        )
    )
    add(
        Command(
            "start_fleet",
            ("<url>", "<count>"),
            _fleet_options(),
            "start a fleet of Charge Points that behave like real chargers, with statistics",
            _start_fleet,
            example="start_fleet ws://localhost:9000/ocpp 100"
            f" -p {versions.default().subprotocol} --ramp 50",
        )
    )
    add(
        Command(
            "fleet",
            (),
            (Option("--json", "the statistics as JSON", metavar=""),),
            "show the fleet's statistics (per action: count, errors, latency percentiles)",
            _fleet,
            example="fleet",
        )
    )
    add(
        Command(
            "stop_fleet",
            (),
            (),
            "stop the fleet (closes its links) and show its statistics",
            _stop_fleet,
            example="stop_fleet",
        )
    )
    add(
        Command(
            "help",
            ("[<command>]",),
            (),
            "list the commands, or show one's options and fields",
            _help,
            example="help remote_reset",
        )
    )
    add(
        Command(
            "set",
            ("<cs|cp>",),
            (),
            "set cs|cp websocket_ping_interval=<s> print_xml=<bool>",
            _set,
            takes_fields=True,
            example="set cp websocket_ping_interval=30",
        )
    )
    add(
        Command(
            "send_raw",
            (),
            (
                Option("-e", "text to send", metavar="<text>", required=True),
                ID_OPTION,
                Option("-h", "print HTTP headers (SOAP)", "false", "<true|false>"),
            ),
            "CP sends any text as one frame / HTTP body",
            _send_raw,
            example='send_raw -e [2,"my-id","Heartbeat",{}]',
        )
    )
    add(
        Command(
            "send",
            (),
            (
                Option("-n", "procedure name", metavar="<action>", required=True),
                Option("-p", "payload (JSON)", metavar="<json>", required=True),
                ID_OPTION,
                TYPE_OPTION,
            ),
            "CP sends a CALL (or a SEND) with any action and payload",
            _send,
            example='send -n Authorize -p {"idTag":"12345678901234567890123"}',
        )
    )
    add(
        Command(
            "load",
            ("<plugin>",),
            (),
            "load (or reload) a plugin",
            _plugins,
            example="load helloworld",
        )
    )
    add(
        Command(
            "unload", ("<plugin>",), (), "unload a plugin", _plugins, example="unload helloworld"
        )
    )
    add(Command("plugins", (), (), "list the plugins", _plugins, example="plugins"))
    add(
        Command(
            "remote_send_raw",
            (),
            (
                Option("-e", "text to send", metavar="<text>", required=True),
                REMOTE_ID_OPTION,
                Option("-h", "print HTTP headers (SOAP)", "false", "<true|false>"),
            ),
            "CS sends any text as one frame / HTTP body",
            _remote_send_raw,
            example='remote_send_raw -e [2,"abc","ClearCache",{}]',
        )
    )
    add(
        Command(
            "remote_send",
            (),
            (
                Option("-n", "procedure name", metavar="<action>", required=True),
                Option("-p", "payload (JSON)", metavar="<json>", required=True),
                REMOTE_ID_OPTION,
                TYPE_OPTION,
            ),
            "CS sends a CALL (or a SEND) with any action and payload",
            _remote_send,
            example='remote_send -n Reset -p {"type":"Soft"}',
        )
    )
    add(
        Command(
            "badge",
            ("<idTag>",),
            (
                Option("--connector", "connector (OCPP 1.x) where it is presented", None, "<n>"),
                Option("--evse", "EVSE (OCPP 2.x) where it is presented", None, "<n>"),
                ID_OPTION,
            ),
            "a driver presents a badge at a CP (Authorize, then a transaction starts or stops)",
            _badge,
            example="badge B4F62CEF --connector 1 --id cp01",
        )
    )
    add(
        Command(
            "plug",
            ("[<n>]",),
            (ID_OPTION,),
            "an EV is plugged in at connector (1.x) or EVSE (2.x) n of a CP",
            _plug,
            example="plug 1 --id cp01",
        )
    )
    add(
        Command(
            "unplug",
            ("[<n>]",),
            (ID_OPTION,),
            "the EV is unplugged at connector (1.x) or EVSE (2.x) n of a CP",
            _plug,
            example="unplug 1 --id cp01",
        )
    )
    add(
        Command(
            "faulted",
            ("<n>", "[on|off]"),
            (ID_OPTION,),
            "connector (1.x) or EVSE (2.x) n of a CP becomes Faulted (on) or recovers (off)",
            _faulted,
            example="faulted 2 on --id cp01",
        )
    )
    add(
        Command(
            "state",
            (),
            (ID_OPTION,),
            "what a CP's model holds: connectors or EVSEs, transactions, meters, configuration",
            _state,
            example="state --id cp01",
        )
    )
    ocpp_commands("cs")
    send_commands("cs")
    add(
        Command(
            "websocket_ping_cs",
            (),
            (ID_OPTION,),
            "CP pings its Central System",
            _ping_cs,
            example="websocket_ping_cs --id cp01",
        )
    )
    add(
        Command(
            "websocket_ping_cp",
            (),
            (REMOTE_ID_OPTION,),
            "CS pings a Charge Point",
            _ping_cp,
            example="websocket_ping_cp --remote-id cp01",
        )
    )
    ocpp_commands("cp")
    send_commands("cp")
    add(
        Command(
            "fault",
            ("<kind|list|clear>",),
            (
                ID_OPTION,
                REMOTE_ID_OPTION,
                Option("--cs", "the Central System, towards every charge point", metavar=""),
                Option("--all", "every Charge Point of this process", metavar=""),
                Option("--for", "act this many times (default: until cleared)", metavar="<n>"),
                Option("--once", "act once", metavar=""),
                Option("--action", "act only on that action's messages", metavar="<action>"),
                Option("--fraction", "with --all: on that share of them", metavar="<0..1>"),
                *_fault_kind_options(),
            ),
            "inject a fault (delay, drop, duplicate, … reconnect-storm); list; clear",
            _fault,
            example="fault drop --remote-id cp01 --for 3",
            notes=_fault_notes,
        )
    )
    add(
        Command(
            "record",
            ("[start <file>|stop]",),
            (Option("--xml", "SOAP: keep each envelope too", metavar=""),),
            "record every frame to a JSON lines file (ocppsim replay plays it)",
            _record,
            example="record start trace.jsonl",
        )
    )
    add(
        Command(
            "verdicts",
            ("[on|off|show]",),
            (),
            "check every frame of the peers (schema, answer times, unique ids, transaction"
            " ids, boot rules, heartbeats) and print each finding",
            _verdicts,
            example="verdicts on",
        )
    )
    add(Command("quit", (), (), "leave the simulator", _quit, example="quit"))
    return table


COMMANDS: dict[str, Command] = _build()
#: The options of any command that take no value (the parser must not take a word after one).
FLAGS = frozenset(
    opt.flag for command in COMMANDS.values() for opt in command.options if opt.is_flag
)
