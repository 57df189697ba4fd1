"""Central System round trips per second over OCPP-J: ocppsim against two baselines.

Usage (from the repository root, with the project's venv):

    python bench/bench_ws.py                   # every target, both shapes
    python bench/bench_ws.py --targets ours,echo --scale 0.5
    python bench/bench_ws.py --ours-args=--quiet   # extra options for `ocppsim start_cs`

A load client in a separate process (`bench/load_client.py`) opens N websocket clients,
each sending sequential Heartbeat CALLs and awaiting each answer, in two shapes:
1 client x 2000 calls and 50 clients x 100 calls (`--scale` multiplies the call counts),
each run `--repeat` times (3) keeping the median.
Targets, each a subprocess on 127.0.0.1, warmed up once before it is measured:

* `ours`      `ocppsim start_cs <port>`: validates, answers, and logs every frame
              (stdout goes to a temporary file);
* `ours+ARGS` the same with `--ours-args` (e.g. a quieter logging option), when given;
* `echo`      a bare `websockets` server answering every CALL with
              `[3,id,{"currentTime":…}]` without validation or logging: the floor;
* `ocpp-rpc`  `bench/node/cs.js` (npm ocpp-rpc), when `node` and
              `bench/node/node_modules/ocpp-rpc` exist (`npm install --prefix bench/node`).

Prints a table (target, shape, calls/s, the target's CPU time per call, errors) and
the ratios ours/echo and ours/ocpp-rpc per shape. On a small machine the Python load
client can be the bottleneck (calls/s then measures the client); the server's CPU time
per call (from /proc, Linux only) is the steadier figure. Every run is bounded
(`--timeout` per measurement). Numbers depend on the machine: compare ratios from one
run, not figures across machines.
This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

BENCH = Path(__file__).resolve().parent
NODE_DIR = BENCH / "node"
LOAD_CLIENT = BENCH / "load_client.py"
SHAPES = [(1, 2000), (50, 100)]
WARM_UP = (1, 200)


def tell_quit(proc: subprocess.Popen[bytes]) -> None:
    """`quit` at an ocppsim process's prompt, its stdin closed after (if it still reads)."""
    try:
        if proc.stdin is not None:
            proc.stdin.write(b"quit\n")
            proc.stdin.close()
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], timeout: float = 20) -> None:
    """Poll until the target accepts TCP connections (bounded; fails if it exits)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"target exited with {proc.returncode}: {proc.args}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"target did not listen on {port} within {timeout}s: {proc.args}")


def ocppsim_command() -> list[str]:
    found = shutil.which("ocppsim") or shutil.which("ocppsim", path=os.path.dirname(sys.executable))
    return [found] if found else [sys.executable, "-m", "ocppsim"]


# -- the echo server (the floor) ---------------------------------------------------------


async def serve_echo(port: int) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        async for text in ws:
            frame = json.loads(text)
            if isinstance(frame, list) and len(frame) >= 3 and frame[0] == 2:
                now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
                answer = [3, frame[1], {"currentTime": now}]
                await ws.send(json.dumps(answer, separators=(",", ":")))

    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=["ocpp1.5", "ocpp1.2"],  # type: ignore[list-item]
        ping_interval=None,
    ) as server:
        print(f"LISTENING {port}", flush=True)
        await server.serve_forever()


# -- targets ------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    command: list[str]
    url_path: str = ""
    keep_stdin: bool = True
    proc: subprocess.Popen[Any] | None = None
    log: IO[bytes] | None = None
    port: int = 0
    results: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

    def start(self) -> str:
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "TERM": "dumb"},
        )
        wait_for_port(self.port, self.proc)
        return f"ws://127.0.0.1:{self.port}{self.url_path}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the target process has used so far (Linux /proc)."""
        if self.proc is None:
            return 0.0
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        ticks = int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        tell_quit(proc)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if self.log is not None:
            self.log.close()


def run_load_client(script: Path, args: list[str], timeout: float) -> dict[str, Any]:
    """Run a load client script in its own process; its JSON result (or a failure)."""
    done = subprocess.run(
        [sys.executable, str(script), *args, "--timeout", str(timeout)],
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        return {"calls_per_s": 0.0, "errors": -1, "failure": done.stderr.strip()[-300:]}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def measure(url: str, clients: int, calls: int, prefix: str, timeout: float) -> dict[str, Any]:
    """Run the websocket load client in its own process; its JSON result."""
    args = [url, "--clients", str(clients), "--calls", str(calls), "--prefix", prefix]
    return run_load_client(LOAD_CLIENT, args, timeout)


def node_available() -> str | None:
    node = shutil.which("node")
    if node and (NODE_DIR / "node_modules" / "ocpp-rpc").is_dir():
        return node
    return None


def build_targets(selected: list[str], ours_args: list[str]) -> list[Target]:
    ocppsim = ocppsim_command()
    targets = []
    if "ours" in selected:
        targets.append(Target("ours", [*ocppsim, "start_cs", "{port}"], url_path=""))
        if ours_args:
            name = "ours " + " ".join(ours_args)
            targets.append(Target(name, [*ocppsim, *ours_args, "start_cs", "{port}"]))
    if "echo" in selected:
        command = [sys.executable, str(Path(__file__).resolve()), "--serve-echo", "{port}"]
        targets.append(Target("echo", command))
    if "ocpp-rpc" in selected:
        node = node_available()
        if node is None:
            print("ocpp-rpc: skipped (node or bench/node/node_modules/ocpp-rpc missing)")
        else:
            targets.append(Target("ocpp-rpc", [node, str(NODE_DIR / "cs.js"), "{port}"]))
    return targets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--targets", default="ours,echo,ocpp-rpc")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the call counts")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="runs per shape; the median is kept")
    parser.add_argument(
        "--ours-args", default="", help="extra ocppsim options for a second `ours` target"
    )
    parser.add_argument("--serve-echo", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_echo is not None:
        try:
            asyncio.run(serve_echo(args.serve_echo))
        except KeyboardInterrupt:
            pass
        return 0

    shapes = [(clients, max(1, int(calls * args.scale))) for clients, calls in SHAPES]
    targets = build_targets(args.targets.split(","), args.ours_args.split())
    for target in targets:
        try:
            url = target.start()
            measure(url, *WARM_UP, prefix="warm", timeout=args.timeout)
            for clients, calls in shapes:
                runs = []
                for n in range(args.repeat):
                    before = target.cpu_seconds()
                    result = measure(
                        url, clients, calls, prefix=f"r{n}s{clients}x{calls}-", timeout=args.timeout
                    )
                    answered = int(result.get("answered", 0))
                    spent = target.cpu_seconds() - before
                    result["cpu_us_per_call"] = 1e6 * spent / answered if answered else 0.0
                    runs.append(result)
                runs.sort(key=lambda result: float(result["calls_per_s"]))
                target.results[(clients, calls)] = runs[len(runs) // 2]
        except Exception as exc:  # report and go on with the next target
            print(f"{target.name}: failed: {exc}")
        finally:
            target.stop()

    print()
    print(
        f"{'target':<24} {'shape':<12} {'calls/s':>10} {'cpu us/call':>12} "
        f"{'errors':>7} {'seconds':>8}"
    )
    for target in targets:
        for (clients, calls), result in target.results.items():
            shape = f"{clients}x{calls}"
            note = " TIMED OUT" if result.get("timed_out") else ""
            note += f" {result['failure']}" if "failure" in result else ""
            print(
                f"{target.name:<24} {shape:<12} {result['calls_per_s']:>10.1f} "
                f"{result.get('cpu_us_per_call', 0):>12.1f} "
                f"{result.get('errors', '?'):>7} {result.get('seconds', 0):>8.2f}{note}"
            )

    by_name = {target.name: target for target in targets}
    ours = [t for t in targets if t.name.startswith("ours")]
    print()
    print(f"{'ratio':<36} {'shape':<10} {'calls/s':>8} {'cpu/call':>11}")
    for base in ("echo", "ocpp-rpc"):
        if base not in by_name:
            continue
        for mine in ours:
            for shape, result in mine.results.items():
                reference = by_name[base].results.get(shape)
                if reference and reference["calls_per_s"]:
                    ratio = result["calls_per_s"] / reference["calls_per_s"]
                    cpu = reference.get("cpu_us_per_call") or 0.0
                    cpu_ratio = result.get("cpu_us_per_call", 0.0) / cpu if cpu else float("nan")
                    label = f"{mine.name}/{base}"
                    shape_text = f"{shape[0]}x{shape[1]}"
                    print(f"{label:<36} {shape_text:<10} {ratio:>8.2f} {cpu_ratio:>11.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
