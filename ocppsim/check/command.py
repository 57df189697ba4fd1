"""`ocppsim check`: run a conformance suite against a Central System or a charge point, for a
person at a terminal and for CI (a summary table, JUnit XML, JSON, an exit status).

    ocppsim check ws://csms.example/ocpp --suite csms -p ocpp1.6 --junit out.xml
    ocppsim check --listen 9000 --suite cp -p ocpp2.0.1

Exit status: 0 when no case failed (skipped cases and warnings do not fail, unless
`--strict` makes warnings fail), 1 when one failed or could not run, 2 for a usage error
(options, a malformed scenario).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from typing import Any

from ocppsim.core import versions
from ocppsim.core.errors import OcppSimError


def _parser() -> argparse.ArgumentParser:
    example = [v for v in versions.all_versions() if v.handles("cs", "StartTransaction")][-1]
    parser = argparse.ArgumentParser(
        prog="ocppsim check",
        description=(
            "Run a conformance suite: `--suite csms` drives a Central System (ocppsim plays its"
            " charge point), `--suite cp` a charge point that connects to ocppsim (--listen)."
            " Each case checks a requirement of the OCPP specification and gets a verdict;"
            " every frame of the peer is checked too (schema, answer times, unique ids,"
            " transaction ids, boot rules, heartbeats). See docs/conformance.md."
        ),
        epilog="examples: ocppsim check ws://127.0.0.1:9000/ocpp --suite csms"
        f" -p {example.subprotocol} --junit out.xml | ocppsim check --listen 9000 --suite cp",
    )
    parser.add_argument("url", nargs="?", help="the Central System's URL (csms suites)")
    parser.add_argument(
        "--suite",
        required=True,
        help="csms, cp (the built-in suites), a scenario file (.yaml, .py) or a folder of them",
    )
    parser.add_argument(
        "-p",
        "--protocol",
        action="append",
        default=[],
        metavar="VERSION",
        help="the OCPP version(s) to check: "
        + ", ".join(versions.subprotocols())
        + " (repeatable or comma-separated)",
    )
    parser.add_argument("--case", action="append", default=[], metavar="ID", help="run this case")
    parser.add_argument("--list", action="store_true", help="list the cases and exit")
    parser.add_argument("--junit", metavar="FILE", help="write JUnit XML (for CI)")
    parser.add_argument("--json", metavar="FILE", help="write every case, step and frame as JSON")
    parser.add_argument(
        "--id",
        dest="charge_point_id",
        metavar="ID",
        help="csms: the charge point id ocppsim connects with (default ocppsim-check);"
        " cp: the id of the charge point under test (default: the first that connects)",
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a suite parameter (a JSON value or a word), e.g. --set unknown_tag=BADTAG",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="S",
        help="how long a step waits for what it expects (default 10)",
    )
    parser.add_argument(
        "--answer-timeout",
        type=float,
        default=30.0,
        metavar="S",
        help="the longest a peer may take to answer a CALL (default 30)",
    )
    parser.add_argument(
        "--connect-timeout",
        type=float,
        default=120.0,
        metavar="S",
        help="how long to wait for a connection (default 120)",
    )
    parser.add_argument("--listen", type=int, metavar="PORT", help="cp: the port to listen on")
    parser.add_argument("--host", help="cp: the address to listen on (default: every one)")
    parser.add_argument(
        "-u", "--endpoint", default="/", help="cp: the path charge points connect to (default /)"
    )
    asks = parser.add_mutually_exclusive_group()
    asks.add_argument(
        "--ask-command",
        metavar="CMD",
        help="run CMD for what a case needs done by hand (the ask as JSON on its stdin)",
    )
    asks.add_argument(
        "--manual", action="store_true", help="print what a case needs done and wait for Enter"
    )
    asks.add_argument(
        "--no-asks", action="store_true", help="skip the cases that need something done"
    )
    parser.add_argument("--strict", action="store_true", help="warnings fail too")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every frame")
    security = parser.add_argument_group("csms: security profiles of the Central System")
    security.add_argument("--password", help="Basic auth password (profiles 1 and 2)")
    security.add_argument("--ca", metavar="FILE", help="the CA certificates that sign its own")
    security.add_argument("--cert", metavar="FILE", help="our client certificate (profile 3)")
    security.add_argument("--key", metavar="FILE", help="the key of --cert")
    security.add_argument("--security-profile", metavar="N", help="1, 2 or 3")
    return parser


def _settings(pairs: list[str], parser: argparse.ArgumentParser) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            parser.error(f"--set {pair}: give NAME=VALUE")
        try:
            values[name.strip()] = json.loads(text)
        except ValueError:
            values[name.strip()] = text
    return values


def _versions(texts: list[str], parser: argparse.ArgumentParser) -> list[str]:
    chosen = []
    for text in texts:
        for part in text.split(","):
            if not part.strip():
                continue
            try:
                chosen.append(versions.resolve(part).name)
            except OcppSimError as exc:
                parser.error(f"-p {part.strip()}: {exc}")
    return chosen


def check_main(argv: list[str]) -> int:
    """`ocppsim check …`: its exit status."""
    from ocppsim.check import report
    from ocppsim.check.runner import CheckError, CheckOptions, plan, run_checks
    from ocppsim.check.scenario import ScenarioError, find_suites

    parser = _parser()
    args = parser.parse_args(argv)
    try:
        suites = find_suites(args.suite)
    except ScenarioError as exc:
        print(f"ocppsim check: {exc}", file=sys.stderr)
        return 2
    if not suites:
        print(f"ocppsim check: --suite {args.suite}: no suite", file=sys.stderr)
        return 2
    options = CheckOptions(
        url=args.url,
        listen=args.listen,
        host=args.host,
        endpoint=args.endpoint,
        charge_point_id=args.charge_point_id,
        versions=_versions(args.protocol, parser),
        case_ids=[c for text in args.case for c in text.split(",") if c.strip()],
        settings=_settings(args.set, parser),
        within=args.timeout,
        answer_timeout=args.answer_timeout,
        connect_timeout=args.connect_timeout,
        log_frames=args.verbose,
    )
    if args.list:
        try:
            planned = plan(suites, options)
        except CheckError as exc:
            print(f"ocppsim check: {exc}", file=sys.stderr)
            return 2
        rows = ((p.id, p.version, p.case.title, p.case.requirement) for p in planned)
        print(report.case_listing(rows))
        return 0
    role = suites[0].role
    if role == "csms" and not args.url:
        parser.error("give the Central System's URL: ocppsim check ws://host:port/path …")
    if role == "csms":
        problem = _url_problem(args.url)
        if problem is not None:  # the command is wrong: not one ERROR per case
            parser.error(f"{args.url}: {problem}")
    for flag, path in (("--junit", args.junit), ("--json", args.json)):
        if path:  # before the suite runs, not after it (as ocppsim fleet's --report)
            try:
                with open(path, "a", encoding="utf-8"):
                    pass
            except OSError as exc:
                print(f"ocppsim check: {flag} {path}: {exc.strerror or exc}", file=sys.stderr)
                return 2
    if role == "cp" and args.listen is None:
        parser.error("a cp suite needs --listen PORT (ocppsim is the charge point's CS)")
    if args.ask_command:
        from ocppsim.check.asks import CommandAsker

        options.asker = CommandAsker(args.ask_command)
    elif args.manual:
        from ocppsim.check.asks import ManualAsker

        options.asker = ManualAsker()
    options.in_band_asks = not args.no_asks and not args.manual and not args.ask_command
    if role == "csms":
        try:
            options.charge_point_options = _charge_point_security(args)
        except OcppSimError as exc:
            print(f"ocppsim check: {exc}", file=sys.stderr)
            return 2
    if args.verbose:
        from ocppsim.repl import console

        console.install("text")
    else:
        logging.getLogger("ocppsim").addHandler(logging.NullHandler())
    started = time.monotonic()

    def say(text: str) -> None:
        print(text, flush=True)

    try:
        results = _run(run_checks(suites, options, say))
    except (CheckError, ScenarioError) as exc:
        print(f"ocppsim check: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    seconds = time.monotonic() - started
    print()
    print(report.table(results))
    print()
    print(report.summary(results, seconds))
    meta = {
        "target": args.url or f"listen {args.listen}",
        "suite": args.suite,
        "command": "ocppsim check " + " ".join(argv),
    }
    if args.junit:
        try:
            report.write_junit(args.junit, results, meta)
        except OSError as exc:
            print(f"ocppsim check: --junit {args.junit}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    if args.json:
        try:
            report.write_json(args.json, results, meta, seconds)
        except OSError as exc:
            print(f"ocppsim check: --json {args.json}: {exc.strerror or exc}", file=sys.stderr)
            return 2
    failing = {"fail", "error"} | ({"warn"} if args.strict else set())
    return 1 if any(r.verdict in failing for r in results) else 0


def _url_problem(url: str) -> str | None:
    """Why the csms suites can never reach `url` (they speak OCPP-J), or None."""
    from urllib.parse import urlsplit

    from ocppsim.transport.urls import HTTP_SCHEMES, WEBSOCKET_SCHEMES, url_problem

    problem = url_problem(url, WEBSOCKET_SCHEMES)
    if problem is not None and urlsplit(url).scheme.lower() in HTTP_SCHEMES:
        problem = "ocppsim check speaks OCPP-J: the URL starts with ws:// or wss://"
    return problem


def _charge_point_security(args: argparse.Namespace) -> dict[str, Any]:
    """The `security=` option of the check's charge points, when a security option is given."""
    if not any((args.password, args.ca, args.cert, args.key, args.security_profile)):
        return {}
    from ocppsim.sim.security import ChargePointSecurity

    security = ChargePointSecurity.from_options(
        args.url,
        profile=args.security_profile,
        ca=args.ca,
        password=args.password,
        cert=args.cert,
        key=args.key,
    )
    return {"security": security}


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)
