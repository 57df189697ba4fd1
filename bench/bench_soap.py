"""Central System SOAP round trips per second: ocppsim against a bare aiohttp baseline.

Usage (from the repository root, with the project's venv):

    python bench/bench_soap.py                    # both targets, both actions, both shapes
    python bench/bench_soap.py --scale 0.5 --actions Heartbeat

A load client in a separate process (`bench/soap_load_client.py`) runs N HTTP clients,
each posting sequential OCPP 1.5 requests (Heartbeat or BootNotification) and awaiting
each answer, in two shapes: 1 client x 2000 calls and 20 clients x 200 calls (`--scale`
multiplies the call counts). Targets, each a subprocess on 127.0.0.1, warmed up first:

* `ours`      `ocppsim start_cs <port> -t soap`: parses each envelope, validates the
              payload, registers the charge box, answers with a built envelope and logs
              both as JSON lines (stdout goes to a temporary file);
* `canned`    a bare aiohttp server answering every POST with a fixed response envelope
              of the right action, without parsing, validation or logging: the floor.

Prints a table (target, action, shape, calls/s, errors) and the ratio ours/canned per
action and shape. Every run is bounded (`--timeout` per measurement). Numbers depend on
the machine: compare ratios from one run. This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bench_ws import Target, ocppsim_command, run_load_client

BENCH = Path(__file__).resolve().parent
LOAD_CLIENT = BENCH / "soap_load_client.py"
SHAPES = [(1, 2000), (20, 200)]
WARM_UP = (1, 100)
ACTIONS = ("Heartbeat", "BootNotification")


def canned_answers() -> dict[bytes, bytes]:
    """Request element -> a fixed response envelope, built once with ocppsim's codec."""
    from ocppsim.core.defaults import default_payload
    from ocppsim.soap import get_codec

    codec = get_codec("1.5", "cs")
    answers = {}
    for action in ACTIONS:
        tag = (action[0].lower() + action[1:] + "Request").encode()
        answers[tag] = codec.build_response(
            action,
            default_payload("1.5", action + "Response"),
            charge_box_id="canned",
            relates_to="urn:uuid:canned",
        )
    return answers


async def serve_canned(port: int) -> None:
    """The baseline: answer each POST with a canned envelope picked by a substring test."""
    from aiohttp import web

    from ocppsim.soap import CONTENT_TYPE

    answers = canned_answers()

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        for tag, answer in answers.items():
            if tag in body:
                return web.Response(body=answer, headers={"Content-Type": CONTENT_TYPE})
        return web.Response(status=400, text="unknown request")

    app = web.Application()
    app.router.add_post("/", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"LISTENING {port}", flush=True)
    await asyncio.Event().wait()


class SoapTarget(Target):
    """A target reached over HTTP rather than a websocket."""

    def start(self) -> str:
        return super().start().replace("ws://", "http://", 1) + "/"


def measure(url: str, action: str, clients: int, calls: int, timeout: float) -> dict[str, Any]:
    """Run the SOAP load client in its own process; its JSON result."""
    prefix = f"{action[:4]}{clients}x{calls}-"
    args = [url, "--action", action, "--clients", str(clients), "--calls", str(calls)]
    return run_load_client(LOAD_CLIENT, [*args, "--prefix", prefix], timeout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="ours,canned")
    parser.add_argument("--actions", default=",".join(ACTIONS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the call counts")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per measurement")
    parser.add_argument("--serve-canned", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_canned is not None:
        try:
            asyncio.run(serve_canned(args.serve_canned))
        except KeyboardInterrupt:
            pass
        return 0

    shapes = [(clients, max(1, int(calls * args.scale))) for clients, calls in SHAPES]
    actions = [a for a in args.actions.split(",") if a]
    selected = args.targets.split(",")
    targets: list[SoapTarget] = []
    if "ours" in selected:
        targets.append(SoapTarget("ours", [*ocppsim_command(), "start_cs", "{port}", "-t", "soap"]))
    if "canned" in selected:
        me = str(Path(__file__).resolve())
        targets.append(SoapTarget("canned", [sys.executable, me, "--serve-canned", "{port}"]))
    results: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    for target in targets:
        try:
            url = target.start()
            for action in actions:
                measure(url, action, *WARM_UP, timeout=args.timeout)
                for clients, calls in shapes:
                    result = measure(url, action, clients, calls, args.timeout)
                    results[(target.name, action, clients, calls)] = result
        except Exception as exc:  # report and go on with the next target
            print(f"{target.name}: failed: {exc}")
        finally:
            target.stop()

    print()
    print(
        f"{'target':<10} {'action':<18} {'shape':<9} {'calls/s':>10} {'errors':>7} {'seconds':>8}"
    )
    for (name, action, clients, calls), result in results.items():
        note = " TIMED OUT" if result.get("timed_out") else ""
        note += f" {result['failure']}" if "failure" in result else ""
        print(
            f"{name:<10} {action:<18} {clients}x{calls:<7} {result['calls_per_s']:>10.1f} "
            f"{result.get('errors', '?'):>7} {result.get('seconds', 0):>8.2f}{note}"
        )
    print()
    for action in actions:
        for clients, calls in shapes:
            ours = results.get(("ours", action, clients, calls))
            base = results.get(("canned", action, clients, calls))
            if ours and base and base["calls_per_s"]:
                ratio = ours["calls_per_s"] / base["calls_per_s"]
                print(f"ours/canned {action:<18} {clients}x{calls:<7} {ratio:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
