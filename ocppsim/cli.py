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
            "`ocppsim check` runs a conformance suite (see `ocppsim check --help`)."
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
        description="Regenerate the JSON Schemas and the Markdown message reference.",
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
    for path in written:
        print(f"wrote {path}")
    print(f"{len(written)} file(s) changed.")
    return 0


async def _main(args: argparse.Namespace) -> int:
    from ocppsim.repl import console
    from ocppsim.repl.shell import BANNER, Shell

    console.install(args.log_format, args.log_file)
    shell = Shell(
        variant=versions.ATTR_AT if args.with_attr_at else None,
        plugins_dirs=[Path(d) for d in args.plugins_dir],
    )
    shell.watch_loop()  # from the first command on: loop errors are error lines
    if args.command:
        if not await shell.execute_words(list(args.command)):
            await shell.sim.shutdown()
            return 2
    elif args.log_format == "text":
        shell.print(BANNER, block=True)
    await shell.interact()
    return 0


def _run(main_coroutine: Any) -> int:
    """Run the simulator on uvloop when it is installed (a faster event loop), else asyncio's."""
    try:
        import uvloop
    except ImportError:
        return int(asyncio.run(main_coroutine))
    return int(uvloop.run(main_coroutine))


def _check_paths(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """A log file that cannot be written or a plugins folder that does not exist is a usage
    error (exit 2) before anything starts, not a traceback or a silent no-op."""
    if args.log_file:
        try:
            with open(args.log_file, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            parser.error(f"--log-file {args.log_file}: {exc.strerror or exc}")
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
    if argv[:1] == ["certs"]:
        from ocppsim.security.command import certs_main

        return certs_main(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    _check_paths(parser, args)
    try:
        return _run(_main(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
