"""`ocppsim [options] [command …]`: the process entry point (SPEC §1).

Runs the command given on the command line (if any), then the prompt. `ocppsim docs`
regenerates `schemas/` and the message reference instead; `ocppsim certs DIR` writes test
certificates.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from ocppsim import __version__
from ocppsim.core import versions


def _parser() -> argparse.ArgumentParser:
    spoken = "OCPP " + "/".join(versions.names())
    attr_at = [v.title for v in versions.all_versions() if versions.ATTR_AT in v.variants]
    parser = argparse.ArgumentParser(
        prog="ocppsim",
        description=(
            f"Interactive {spoken} simulator: a Central System and/or Charge Points over "
            "OCPP-J (WebSocket) or SOAP. Give a command (start_cs, start_cp, …) to run it "
            "first, then type commands at the prompt; `help` lists them, `help <command>` "
            "shows one. "
            "`ocppsim docs` regenerates the JSON Schemas and the message reference; "
            "`ocppsim certs DIR` writes test certificates (see `ocppsim certs --help`); "
            "`ocppsim check` runs a conformance suite (see `ocppsim check --help`); "
            "`ocppsim replay FILE URL` plays a recording (see `ocppsim replay --help`); "
            "`ocppsim fleet URL COUNT` runs a fleet of charge points headless and reports its"
            " statistics (see `ocppsim fleet --help`)."
        ),
        epilog="examples: ocppsim start_cs 9000 -u /ocpp | "
        f"ocppsim start_cp ws://localhost:9000/ocpp cp01 -p {versions.default().subprotocol}",
    )
    parser.add_argument("--version", action="version", version=f"ocppsim {__version__}")
    parser.add_argument("--log-file", metavar="PATH", help="also write every event to PATH")
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="text lines (default) or one JSON object per event",
    )
    parser.add_argument(
        "--" + versions.ATTR_AT,
        action="store_true",
        help=f"{versions.one_of(attr_at, 'and')} meter values in the older"
        " {value:[…], @value:[…]} JSON form",
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="record every frame to FILE, one JSON object per line (ocppsim replay plays it)",
    )
    parser.add_argument(
        "--record-xml", action="store_true", help="with --record: SOAP envelopes too"
    )
    parser.add_argument(
        "--verdicts",
        action="store_true",
        help="check every frame of the peers and print each finding (as `verdicts on`)",
    )
    parser.add_argument(
        "--plugins-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="also load plugins from DIR (repeatable)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="a command to run first")
    return parser


def _docs(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="ocppsim docs",
        description="Regenerate the JSON Schemas, the Markdown message reference and the list"
        " of the conformance suites' cases.",
    )
    parser.add_argument("--out", default="docs/messages", help="message reference folder")
    parser.add_argument(
        "--schemas",
        default=None,
        help="JSON Schema folder (default: ./schemas in a source checkout, else not written)",
    )
    args = parser.parse_args(argv)
    from ocppsim.gen.docs import write_docs
    from ocppsim.gen.schemas import write_schemas

    schemas = args.schemas
    if schemas is None and Path("wsdl").is_dir() and Path("schemas").is_dir():
        schemas = "schemas"  # run from a source checkout: keep its committed schemas fresh
    written: list[Path] = []
    if schemas is None:
        print("schemas not written: no source checkout here (give --schemas DIR)")
    else:
        written += write_schemas(Path(schemas))
    written += write_docs(Path(args.out))
    from ocppsim.check.docs import CASES_FILE, write_cases

    cases = Path(args.out).parent / CASES_FILE  # the conformance suites' cases, beside it
    if write_cases(cases):
        written.append(cases)
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} file(s) changed.")
    return 0


def _replay(argv: list[str]) -> int:
    """`ocppsim replay trace.jsonl <url> …`: play one side of a recording against a target and
    say where its answers differ (exit 1), 0 when none does, 2 when it cannot run."""
    parser = argparse.ArgumentParser(
        prog="ocppsim replay",
        description=(
            "Play one side of a recording (--record FILE) against a target and report where"
            " its answers differ from the recorded ones (unique ids, date-times and assigned"
            " transaction ids aside). Exit status: 0 no difference, 1 differences, 2 error."
        ),
        epilog="examples: ocppsim replay trace.jsonl ws://127.0.0.1:9000/ocpp --speed 10 | "
        "ocppsim replay trace.jsonl ws://0.0.0.0:9000/ocpp --as cs",
    )
    parser.add_argument("trace", help="the recording (ocppsim --record FILE)")
    parser.add_argument(
        "url",
        help="--as cp: the Central System's URL (as start_cp takes it); --as cs: where to"
        " listen (ws://host:port/path, http://host:port/path for SOAP)",
    )
    parser.add_argument(
        "--as",
        dest="role",
        choices=("cp", "cs"),
        default="cp",
        help="the side ocppsim plays: the recorded Charge Points (cp, default) or Central"
        " System (cs)",
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="play N times faster than recorded (default 1)"
    )
    parser.add_argument(
        "--id",
        dest="ids",
        action="append",
        metavar="CP",
        help="only this recorded charge point (repeatable; default: every one)",
    )
    parser.add_argument(
        "-p",
        dest="version",
        help=f"speak this OCPP version instead ({versions.default().subprotocol}, …)",
    )
    parser.add_argument(
        "-t", dest="transport", choices=("websocket", "soap"), help="instead of the recorded one"
    )
    parser.add_argument(
        "--timeout", type=float, default=30.0, help="seconds a CALL waits for its answer"
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="--as cs: seconds to wait for a charge point to connect or send its next CALL",
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="FIELD",
        help="a field not to compare (repeatable)",
    )
    parser.add_argument("--json", metavar="FILE", help="also write the report as JSON")
    parser.add_argument("-v", "--verbose", action="store_true", help="show every frame")
    args = parser.parse_args(argv)
    from ocppsim.core.errors import OcppSimError
    from ocppsim.core.trace import TraceError, load

    try:
        trace = load(args.trace)
    except TraceError as exc:
        parser.exit(2, f"ocppsim replay: error: {exc}\n")
    try:
        report = _run(_replay_main(args, trace))
    except OcppSimError as exc:
        parser.exit(2, f"ocppsim replay: error: {exc}\n")
    except KeyboardInterrupt:
        return 130
    for line in report.lines():
        print(line)
    if args.json:
        from ocppsim.sim.replay import write_json

        try:
            write_json(report, args.json)
        except OSError as exc:
            parser.exit(2, f"ocppsim replay: error: --json {args.json}: {exc.strerror or exc}\n")
    return 0 if report.ok else 1


async def _replay_main(args: argparse.Namespace, trace: Any) -> Any:
    from ocppsim.core.events import EventBus
    from ocppsim.sim.log import LogConsumer
    from ocppsim.sim.replay import replay

    bus = EventBus()
    if args.verbose:
        from ocppsim.repl import console

        console.install("text", None)
        bus.subscribe(LogConsumer())
    return await replay(
        trace,
        args.url,
        role=args.role,
        speed=args.speed,
        charge_point_ids=args.ids,
        version=args.version,
        transport=args.transport,
        timeout=args.timeout,
        wait=args.wait,
        ignore=tuple(args.ignore),
        bus=bus,
    )


async def _main(args: argparse.Namespace) -> int:
    from ocppsim.repl import console
    from ocppsim.repl.shell import BANNER, Shell

    console.install(args.log_format, args.log_file)
    shell = Shell(
        variant=versions.ATTR_AT if args.with_attr_at else None,
        plugins_dirs=[Path(d) for d in args.plugins_dir],
    )
    shell.watch_loop()  # from the first command on: loop errors are error lines
    if args.record:
        options = {"command": list(args.command), "record": args.record}
        if args.with_attr_at:
            options[versions.ATTR_AT] = True
        shell.sim.start_recording(args.record, xml=args.record_xml, options=options)
    if args.verdicts:
        shell.sim.start_verdicts()
    if args.command:
        if shell.help_asked(list(args.command)):
            await shell.sim.shutdown()
            return 0
        if not await shell.execute_words(list(args.command)):
            await shell.sim.shutdown()
            return 2
    elif args.log_format == "text":
        shell.print(BANNER, block=True)
    await shell.interact()
    return 0


def _run(main_coroutine: Any) -> Any:
    """Run the simulator on uvloop when it is installed (a faster event loop), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main_coroutine)
    return uvloop.run(main_coroutine)


def _check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A log file that cannot be written or a plugins folder that does not exist is a usage
    error (exit 2) before anything starts, not a traceback or a silent no-op."""
    if args.log_file:
        try:
            with open(args.log_file, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            parser.error(f"--log-file {args.log_file}: {exc.strerror or exc}")
    if args.record:
        try:
            with open(args.record, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            parser.error(f"--record {args.record}: {exc.strerror or exc}")
    elif args.record_xml:
        parser.error("--record-xml goes with --record FILE")
    for folder in args.plugins_dir:
        if not Path(folder).is_dir():
            parser.error(f"--plugins-dir {folder}: no such folder")


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["docs"]:
        return _docs(argv[1:])
    if argv[:1] == ["check"]:
        from ocppsim.check.command import check_main

        return check_main(argv[1:])
    if argv[:1] == ["replay"]:
        return _replay(argv[1:])
    if argv[:1] == ["fleet"]:
        from ocppsim.fleet.command import fleet_main

        return fleet_main(argv[1:])
    if argv[:1] == ["certs"]:
        from ocppsim.security.command import certs_main

        return certs_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    _check_paths(parser, args)
    from ocppsim.fleet.workers import open_files_limit

    open_files_limit()  # a Central System holds a file per connection: as many as allowed
    try:
        return int(_run(_main(args)))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
