"""Fleet scale on one machine: ocppsim's charge points and Central System against bare
`websockets` peers, each measured in the same run as its baseline (issue 13, item 4).

Usage (from the repository root, with the project's venv; Linux, it reads /proc):

    python bench/bench_fleet.py memory  --cps 10000 --repeat 3
    python bench/bench_fleet.py ramp    --cps 10000 --ramp 1000 --repeat 3
    python bench/bench_fleet.py latency --cps 10000 --rate 1000 --seconds 30 --repeat 3 \
        --together --pairs bare-bare,ours-ours
    python bench/bench_fleet.py workers --cps 50000 --workers 4 --cs-processes 4 \
        --source-ip 127.0.0.2-127.0.0.9 --ramp 1000 --repeat 2 --timeout 200

Every peer is a subprocess on loopback; nothing outlives a run (`--timeout` bounds each step).
The charge points dial from `--source-ip` (127.0.0.2-127.0.0.9), not from 127.0.0.1.

* `memory`: N charge points in one process connected (booted, their 3 StatusNotifications
  answered, idle) to a Central System in another. Per connection, the growth of resident
  memory (VmRSS) from before the first one: of ocppsim's fleet (`ocppsim.fleet`'s Fleet, as
  `ocppsim fleet` runs it) against N bare `websockets` clients (a task each, awaiting their
  messages), and of ocppsim's Central System (`ocppsim start_cs`, every frame logged to a
  file) against a bare `websockets` server that answers every CALL from a canned table, no
  validation, no log (the floor).
* `ramp`: new connections per second, from the first dial to the last WebSocket open, and
  each side's CPU per connection until every charge point booted and reported its connectors:
  the fleet and the bare clients against the same ocppsim Central System, at `--ramp` and as
  fast as each goes (the bare clients: 200 dials at once).
* `latency`: N charge points send `--rate` Heartbeats per second in all (each one every
  N/rate seconds, the interval the Central System's BootNotification answer gives). The bare
  clients beat at random phases; the fleet's beat when they booted, so both ramp over two
  intervals (neither side at full CPU) for phases as even. The p50/p99/max of the time from a
  Heartbeat sent to its answer read, over `--seconds`, once every charge point has beaten:
  ocppsim's fleet against ocppsim's Central System, the bare clients against the bare server,
  and the two mixed (what each side adds; `--pairs`). In turn, or with `--together` all at
  once: on a shared machine the others' work sets p99 more than either side does, and pairs
  measured at once meet the same. A lag monitor in each clients' process says how late its
  event loop ran and whether it was busy then (its own stall) or waiting for a CPU.
* `workers`: `ocppsim fleet --workers W --source-ip …` with N charge points against
  `--cs-processes` `ocppsim start_cs --reuse-port` processes sharing one port (SO_REUSEPORT),
  and as many bare client and server processes: connections held (counted at the server by
  `ss`), new connections per second, all the clients' memory per charge point, the servers'
  growth per connection. One process holds no more connections than its open-file limit
  (`ulimit -n`), one source address no more than the ephemeral port range towards one server.

The bare peers freeze what survived every tenth of a second (`gc.freeze()`) and collect the
youngest generation after 20,000 new objects, as ocppsim does with a thousand connections or
more (`ocppsim/sim/collector.py`): without it their own full collections, not the simulator,
would set the floor's p99, and the ramp's cost would be the collector's. Each figure is
printed with its baseline and their ratio, for every repeat, then the median and the spread
(min-max) over `--repeat` runs: the machine is shared and noisy. Numbers depend on the
machine and the allocator; compare ratios from one run. Loopback connections take ephemeral
ports: while a large run holds them, a test elsewhere on the machine that binds a port it
picked at random may find it taken. This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench_ws import free_port, ocppsim_command, tell_quit, wait_for_port

from ocppsim.fleet.workers import shard
from ocppsim.sim.collector import FREEZE_EVERY, YOUNG_THRESHOLD
from ocppsim.transport.addresses import parse_source_addresses

BENCH = Path(__file__).resolve().parent
THIS = Path(__file__).resolve()
#: The charge points of one version the bench runs (the fleet speaks every OCPP-J version).
PROTOCOL = "ocpp1.6"
#: The Central System's heartbeat interval when no load is asked for (nothing is sent then).
IDLE_INTERVAL = 3600
#: Dials under way at once, for both the fleet and the bare clients.
CONCURRENCY = 200


# -- process measurements ------------------------------------------------------------------


def rss_of(pid: int | str = "self") -> int:
    """VmRSS of a process, in bytes (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc: Linux only")


def cpu_of(pid: int | str = "self") -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def raise_open_files() -> int:
    """Raise this process's soft limit on open files to its hard one; the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of latency samples (seconds), in milliseconds."""
    if not samples:
        return {"count": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan")}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"count": len(ordered), "p50": at(0.50), "p99": at(0.99), "max": 1000 * ordered[-1]}


# -- the bare server (the Central System's floor) ------------------------------------------

#: What the bare server answers, by action (OCPP 1.6 shapes; `currentTime` filled in).
CANNED: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "Accepted", "interval": IDLE_INTERVAL},
    "Heartbeat": {},
    "Authorize": {"idTagInfo": {"status": "Accepted"}},
    "StartTransaction": {"transactionId": 1, "idTagInfo": {"status": "Accepted"}},
    "StopTransaction": {},
    "TransactionEvent": {},
}


def freeze_survivors() -> None:
    """The bare peers collect as ocppsim does with many connections (`sim/collector.py`):
    what survived is frozen every FREEZE_EVERY seconds, so that no full collection stops the
    loop, and the youngest generation waits for YOUNG_THRESHOLD new objects."""
    young, middle, old = gc.get_threshold()
    if young < YOUNG_THRESHOLD:
        gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    gc.freeze()
    asyncio.get_running_loop().call_later(FREEZE_EVERY, freeze_survivors)


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def canned_answer(text: str, interval: int) -> str | None:
    """The bare server's answer to one frame: a CALLRESULT from the canned table."""
    frame = json.loads(text)
    if not (isinstance(frame, list) and len(frame) >= 3 and frame[0] == 2):
        return None
    action = frame[2]
    payload = dict(CANNED.get(action, {}))
    if action in ("BootNotification", "Heartbeat"):
        payload["currentTime"] = now_text()
    if action == "BootNotification":
        payload["interval"] = interval
    return json.dumps([3, frame[1], payload], separators=(",", ":"))


async def serve_bare(port: int, interval: int, reuse_port: bool) -> None:
    """A bare `websockets` server answering every CALL from the canned table."""
    from websockets.asyncio.server import ServerConnection, serve

    async def handler(ws: ServerConnection) -> None:
        async for text in ws:
            answer = canned_answer(str(text), interval)
            if answer is not None:
                await ws.send(answer)

    async with serve(
        handler,
        "127.0.0.1",
        port,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        ping_interval=None,
        compression=None,
        reuse_port=reuse_port,
        backlog=4096,
    ) as server:
        print(f"LISTENING {port}", flush=True)
        freeze_survivors()
        await server.serve_forever()


# -- a Central System in a subprocess -------------------------------------------------------

INTERVAL_PLUGIN = '''"""bench_fleet: the heartbeat interval the bench asks for."""
from ocppsim.api import PluginApi

system = "cs"


def on_load(api: PluginApi) -> None:
    def boot(payload, ctx=None):
        from datetime import datetime, timezone
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {{"status": "Accepted", "currentTime": now, "interval": {interval}}}

    api.on_call("BootNotification", boot)
    api.log("bench_interval loaded")
'''


@dataclass
class Server:
    """One Central System: `ocppsim start_cs` (`ours`) or the bare server (`bare`), in
    `processes` processes sharing the port (SO_REUSEPORT) when more than one."""

    kind: str
    interval: int = IDLE_INTERVAL
    processes: int = 1
    port: int = 0
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)
    plugin_dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ocpp"

    def command(self) -> list[str]:
        if self.kind == "bare":
            command = [sys.executable, str(THIS), "--serve-bare", str(self.port)]
            command += ["--interval", str(self.interval)]
            return command + (["--reuse-port"] if self.processes > 1 else [])
        command = [*ocppsim_command()]
        if self.interval != 1200:
            self.plugin_dir = tempfile.TemporaryDirectory(prefix="bench-fleet-")
            plugin = Path(self.plugin_dir.name) / "bench_interval.py"
            plugin.write_text(INTERVAL_PLUGIN.format(interval=self.interval))
            command += ["--plugins-dir", self.plugin_dir.name]
        command += ["start_cs", str(self.port), "-u", "/ocpp", "-p", PROTOCOL]
        if self.processes > 1:
            command += ["--reuse-port"]
        return command

    def start(self) -> str:
        self.port = free_port()
        command = self.command()
        for _ in range(self.processes):
            log = tempfile.TemporaryFile()
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", "TERM": "dumb"},
                preexec_fn=raise_open_files,
            )
            self.procs.append(proc)
            self.logs.append(log)
            wait_for_port(self.port, proc)
            self._wait_for_log(b"listening", 20, [log])  # this one too, not the first
            if self.kind == "ours" and self.plugin_dir is not None:
                assert proc.stdin is not None
                proc.stdin.write(b"load bench_interval\n")
                proc.stdin.flush()
        if self.kind == "ours" and self.plugin_dir is not None:
            self._wait_for_log(b"bench_interval", 20)
        return self.url

    def _wait_for_log(
        self, text: bytes, timeout: float, logs: Sequence[IO[bytes]] | None = None
    ) -> None:
        """Until each log has `text` (any case), `timeout` seconds at most."""
        deadline = time.monotonic() + timeout
        for log in self.logs if logs is None else logs:
            while time.monotonic() < deadline:
                log.seek(0)
                if text.lower() in log.read().lower():
                    break
                time.sleep(0.05)
            else:
                raise RuntimeError(f"the server did not say {text!r} within {timeout} s")

    def rss(self) -> int:
        return sum(rss_of(proc.pid) for proc in self.procs)

    def cpu(self) -> float:
        return sum(cpu_of(proc.pid) for proc in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            tell_quit(proc)
            if self.kind == "bare":
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for log in self.logs:
            log.close()
        self.procs, self.logs = [], []
        if self.plugin_dir is not None:
            self.plugin_dir.cleanup()
            self.plugin_dir = None


# -- charge points in a subprocess ----------------------------------------------------------


class Clients:
    """N charge points in one subprocess of this script (`--clients bare|ours`): it reports
    JSON lines on stdout and takes `load SECONDS` and `quit` on stdin."""

    def __init__(self, kind: str, url: str, cps: int, extra: Sequence[str] = ()):
        command = [sys.executable, str(THIS), "--clients", kind, url, "--cps", str(cps), *extra]
        self.kind = kind
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            text=True,
            preexec_fn=raise_open_files,
        )

    def read(self, timeout: float) -> dict[str, Any]:
        """The next JSON line (bounded by `timeout`)."""
        import selectors

        assert self.proc.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            deadline = time.monotonic() + timeout
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise TimeoutError(f"{self.kind} clients said nothing for {timeout:g} s")
                line = self.proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.kind} clients exited ({self.proc.wait()})")
                if line.startswith("{"):
                    result: dict[str, Any] = json.loads(line)
                    return result

    def tell(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        try:
            self.tell("quit")
            self.proc.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)


async def stdin_lines() -> asyncio.Queue[str]:
    """The lines of stdin, as they come (the parent's commands)."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def pump() -> None:
        while line := await reader.readline():
            await queue.put(line.decode().strip())
        await queue.put("quit")

    _keep.add(loop.create_task(pump()))
    return queue


_keep: set[asyncio.Task[None]] = set()


def say(**values: Any) -> None:
    print(json.dumps(values), flush=True)


class BareFleet:
    """N bare `websockets` clients: each connects, boots, then sends a Heartbeat every
    `period` seconds while a load is on, timing its answer. A task each."""

    def __init__(
        self,
        url: str,
        cps: int,
        period: float,
        ramp: float = 0,
        first: int = 0,
        sources: Sequence[str] = (),
    ):
        self.url, self.cps, self.period, self.ramp = url, cps, period, ramp
        self.first, self.sources = first, sources
        self.samples: list[float] = []
        self.recording = False
        self.failed = 0
        self.connected = 0
        self.last_open = self.last_up = 0.0
        self.tasks: list[asyncio.Task[None]] = []
        self.stopping = asyncio.Event()
        self.all_up = asyncio.Event()

    async def run_one(self, index: int, gate: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect

        try:
            number = self.first + index
            source = self.sources[number % len(self.sources)] if self.sources else None
            async with gate:  # dials under way at once; boots go on outside
                ws = await connect(
                    f"{self.url}/bare{number:06d}",
                    subprotocols=[PROTOCOL],  # type: ignore[list-item]
                    ping_interval=None,
                    compression=None,
                    open_timeout=60,
                    local_addr=(source, 0) if source is not None else None,
                )
            self.last_open = time.perf_counter()
            await ws.send(
                '[2,"b","BootNotification",{"chargePointVendor":"bench","chargePointModel":"bare"}]'
            )
            await ws.recv()
            for connector in range(3):  # as a charge point of two connectors does
                await ws.send(
                    f'[2,"s{connector}","StatusNotification",{{"connectorId":{connector},'
                    '"errorCode":"NoError","status":"Available"}]'
                )
                await ws.recv()
        except Exception:
            self.failed += 1
            self._counted()
            return
        self.connected += 1
        self._counted()
        self.last_up = time.perf_counter()
        try:
            await asyncio.sleep(random.uniform(0, self.period))
            n = 0
            while not self.stopping.is_set():
                n += 1
                sent = time.perf_counter()
                await ws.send(f'[2,"h{n}","Heartbeat",{{}}]')
                await ws.recv()
                if self.recording:
                    self.samples.append(time.perf_counter() - sent)
                await asyncio.sleep(self.period - (time.perf_counter() - sent) % self.period)
        except Exception:
            pass
        finally:
            await ws.close()

    def _counted(self) -> None:
        if self.connected + self.failed == self.cps:
            self.all_up.set()

    async def start(self) -> None:
        gate = asyncio.Semaphore(CONCURRENCY)
        loop = asyncio.get_running_loop()
        began = loop.time()
        for i in range(self.cps):
            self.tasks.append(asyncio.create_task(self.run_one(i, gate)))
            if self.ramp > 0:
                ahead = began + (i + 1) / self.ramp - loop.time()
                if ahead > 0.01:
                    await asyncio.sleep(ahead)
        await self.all_up.wait()

    async def stop(self) -> None:
        self.stopping.set()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class LagMonitor:
    """How late the event loop runs a timer due every STEP seconds while a load is measured,
    and how much of each late interval the loop's thread spent on the CPU: busy, the process
    stalled on work of its own (the simulator's, or the collector's); idle, it waited for a
    CPU the machine's other processes held."""

    STEP = 0.005
    #: a lateness above this is a stall worth telling apart
    STALL = 0.010

    def __init__(self) -> None:
        self.stalls: list[tuple[float, float]] = []  # (lateness s, CPU share of the interval)
        self._timer: asyncio.TimerHandle | None = None
        self._due = self._at = self._cpu = 0.0

    def start(self) -> None:
        self.stalls = []
        loop = asyncio.get_running_loop()
        self._at, self._cpu = loop.time(), time.thread_time()
        self._due = self._at + self.STEP
        self._timer = loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        now, cpu = loop.time(), time.thread_time()
        late = now - self._due
        if late > self.STALL:
            self.stalls.append((late, (cpu - self._cpu) / max(now - self._at, 1e-9)))
        self._at, self._cpu = now, cpu
        self._due = now + self.STEP
        self._timer = loop.call_at(self._due, self._tick)

    def stop(self) -> dict[str, float]:
        """The longest lateness (ms) and its CPU share; the lateness over STALL summed (ms),
        busy (the thread on the CPU at least half the interval) and idle."""
        if self._timer is not None:
            self._timer.cancel()
        longest = max(self.stalls, default=(0.0, 0.0))
        busy = sum(late for late, share in self.stalls if share >= 0.5)
        idle = sum(late for late, share in self.stalls if share < 0.5)
        return {
            "lag_max_ms": 1000 * longest[0],
            "lag_max_cpu": longest[1],
            "stalled_busy_ms": 1000 * busy,
            "stalled_idle_ms": 1000 * idle,
        }


async def run_clients(
    kind: str, url: str, cps: int, period: float, ramp: float, first: int, sources: list[str]
) -> None:
    """The `--clients` subprocess: connect `cps` charge points, report, obey stdin."""
    commands = await stdin_lines()
    runner: Any
    if kind == "bare":
        runner = BareFleet(url, cps, period, ramp, first, sources)
        freeze_survivors()
    else:
        runner = OursFleet(url, cps, period, ramp, sources)
    await runner.warm()
    gc.collect()
    before = rss_of()
    began, cpu_began = time.perf_counter(), cpu_of()
    await runner.start()
    seconds, cpu = time.perf_counter() - began, cpu_of() - cpu_began
    opened = runner.last_open - began
    await asyncio.sleep(0.5)  # what ended with the dials has ended
    gc.collect()
    after = rss_of()
    # the collector's pauses during a load (cheap: a few a second at most), to tell them
    # from the simulator's own delays
    pauses: list[tuple[float, int]] = []
    began_gc = [0.0]

    def timing(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began_gc[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - began_gc[0], info["generation"]))

    gc.callbacks.append(timing)
    say(
        event="connected",
        connected=runner.connected,
        failed=runner.failed,
        seconds=seconds,
        opened=opened,
        cpu=cpu,
        per_cp=(after - before) / max(1, cps),
        tasks=len(asyncio.all_tasks()),
    )
    while True:
        command = await commands.get()
        if command.startswith("load"):
            seconds = float(command.split()[1])
            runner.begin_recording()
            pauses.clear()
            lags = LagMonitor()
            lags.start()
            await asyncio.sleep(seconds)
            longest = sorted(pauses, reverse=True)[:5]
            say(
                event="load",
                **runner.end_recording(),
                **lags.stop(),
                gc=[(round(1000 * t, 2), g) for t, g in longest],
            )
        elif command == "quit":
            break
    await runner.stop()
    for task in _keep:
        task.cancel()


class OursFleet:
    """N of ocppsim's charge points in this process: an `ocppsim.fleet` Fleet (what
    `ocppsim fleet` runs), without sessions (boot, status, heartbeats)."""

    def __init__(
        self, url: str, cps: int, period: float, ramp: float = 0, sources: Sequence[str] = ()
    ):
        from ocppsim.fleet.engine import Fleet
        from ocppsim.fleet.options import fleet_options

        values = {"-p": PROTOCOL, "--ramp": f"{ramp:g}", "--sessions-per-hour": "0"}
        if sources:
            values["--source-ip"] = ",".join(sources)
        self.cps = cps
        self.fleet = Fleet(fleet_options(url, str(cps), {**values, "--seed": "1"}))
        self.failed = 0
        self.connected = 0
        self.last_open = 0.0

    async def warm(self) -> None:
        """Import and build what the first charge point needs (a fleet of one)."""
        from ocppsim.fleet.engine import Fleet

        warm = Fleet(self.fleet.options.__class__(**{**vars(self.fleet.options), "count": 1}))
        await warm.start()
        await self._settled(warm, 1)
        await warm.stop()

    @staticmethod
    async def _settled(fleet: Any, count: int) -> None:
        """Until `count` charge points are up, booted and have reported their connectors."""
        stats = fleet.stats
        calls = count * (1 + 1 + fleet.options.connectors)  # boot, status of each point
        while stats.up + len(fleet.gave_up_reasons) < count or stats.calls < calls:
            await asyncio.sleep(0.02)

    async def start(self) -> None:
        stats = self.fleet.stats
        link_up = stats.link_up

        def opened(again: bool) -> None:  # the moment of each WebSocket open, as the bare do
            link_up(again)
            self.last_open = time.perf_counter()

        stats.link_up = opened  # type: ignore[method-assign]
        await self.fleet.start()
        await self._settled(self.fleet, self.cps)
        self.connected = self.fleet.stats.up
        self.failed = self.cps - self.connected

    def begin_recording(self) -> None:
        self.fleet.stats.actions.pop("Heartbeat", None)  # a fresh histogram from now on

    def end_recording(self) -> dict[str, Any]:
        heartbeat = self.fleet.stats.actions.get("Heartbeat")
        if heartbeat is None:
            return percentiles([])
        latency = heartbeat.latency_ms()
        return {
            "count": heartbeat.count,
            "p50": latency["p50"],
            "p99": latency["p99"],
            "max": latency["max"],
            "failed": heartbeat.failed,
        }

    async def stop(self) -> None:
        await self.fleet.stop()


def _bare_recording(self: BareFleet) -> None:
    self.samples = []
    self.recording = True


def _bare_end(self: BareFleet) -> dict[str, Any]:
    self.recording = False
    return percentiles(self.samples)


async def _bare_warm(self: BareFleet) -> None:
    return None


BareFleet.begin_recording = _bare_recording  # type: ignore[attr-defined]
BareFleet.end_recording = _bare_end  # type: ignore[attr-defined]
BareFleet.warm = _bare_warm  # type: ignore[attr-defined]


# -- the measurements -----------------------------------------------------------------------


def spread_text(values: Sequence[float], unit: str = "", digits: int = 2) -> str:
    """median [min-max] of repeats."""
    if not values:
        return "-"
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} [{min(values):.{digits}f}-{max(values):.{digits}f}]"


def connect_fleet(
    client_kind: str, server: Server, cps: int, timeout: float, extra: Sequence[str] = ()
) -> tuple[Clients, dict[str, Any], int]:
    """Start `cps` charge points of `client_kind` against the running `server`; the clients,
    their `connected` report (with `server_cpu`, the server's CPU seconds meanwhile) and the
    server's RSS growth while they connected."""
    server_before, cpu_before = server.rss(), server.cpu()
    clients = Clients(client_kind, server.url, cps, extra)
    report = clients.read(timeout)
    report["server_cpu"] = server.cpu() - cpu_before
    time.sleep(0.5)
    return clients, report, server.rss() - server_before


def memory(args: argparse.Namespace) -> None:
    rows: dict[str, list[float]] = {}
    for n in range(args.repeat):
        for client_kind, server_kind in (("bare", "bare"), ("ours", "ours")):
            server = Server(server_kind)
            server.start()
            try:
                clients, report, grown = connect_fleet(client_kind, server, args.cps, args.timeout)
                clients.stop()
            finally:
                server.stop()
            up = report["connected"]
            rows.setdefault(f"{client_kind} CP KiB", []).append(report["per_cp"] / 1024)
            rows.setdefault(f"{server_kind} CS KiB", []).append(grown / max(1, up) / 1024)
            print(
                f"run {n + 1}: {client_kind} clients -> {server_kind} server: {up} connected"
                f" ({report['failed']} failed) in {report['seconds']:.1f} s;"
                f" {report['per_cp'] / 1024:.1f} KiB per CP,"
                f" {grown / max(1, up) / 1024:.1f} KiB per connection at the CS",
                flush=True,
            )
    print(f"\nmemory, {args.cps} connected charge points, median [min-max] of {args.repeat}:")
    for side in ("CP", "CS"):
        ours = rows[f"ours {side} KiB"]
        bare = rows[f"bare {side} KiB"]
        ratios = [o / b for o, b in zip(ours, bare, strict=True)]
        print(
            f"  per {side:<3} ours {spread_text(ours, ' KiB', 1)}"
            f"  bare {spread_text(bare, ' KiB', 1)}"
            f"  ours/bare {spread_text(ratios)}"
        )


def ramp(args: argparse.Namespace) -> None:
    """Connections per second against ocppsim's Central System, and each side's CPU per
    connection: at `--ramp` asked and as fast as each client goes (0)."""
    runs = [
        ("bare", "bare", 0.0),
        ("bare", "ours", 0.0),
        ("ours", "ours", 0.0),
        ("bare", "ours", args.ramp),
        ("ours", "ours", args.ramp),
    ]
    rows: dict[tuple[str, str, float], list[dict[str, float]]] = {}
    for n in range(args.repeat):
        for client_kind, server_kind, asked in runs:
            server = Server(server_kind)
            server.start()
            try:
                extra = ["--ramp", f"{asked:g}"]
                clients, report, _ = connect_fleet(
                    client_kind, server, args.cps, args.timeout, extra
                )
                clients.stop()
            finally:
                server.stop()
            up = max(1, report["connected"])
            # how late the last WebSocket opened against the ramp's schedule (its last dial is
            # due (N - 1) / rate after the first): a ramp that keeps its pace is late by one
            # handshake, and then reaches the rate asked
            late = report["opened"] - (args.cps - 1) / asked if asked else float("nan")
            row = {
                "late_ms": 1000 * late,
                "rate": report["connected"] / report["opened"],
                "settled": report["connected"] / report["seconds"],
                "client_ms": 1000 * report["cpu"] / up,
                "server_ms": 1000 * report["server_cpu"] / up,
                "failed": report["failed"],
            }
            rows.setdefault((client_kind, server_kind, asked), []).append(row)
            label = f"{client_kind} -> {server_kind}, ramp {asked:g}" if asked else "max"
            print(
                f"run {n + 1}: {client_kind} clients -> {server_kind} server ({label}):"
                f" {report['connected']} up ({report['failed']} failed) in"
                f" {report['opened']:.1f} s: {row['rate']:.0f}/s (all booted and reported in"
                f" {report['seconds']:.1f} s)"
                + (f", last open {row['late_ms']:.0f} ms after its dial was due" if asked else "")
                + "; CPU per connection"
                f" {row['client_ms']:.2f} ms client, {row['server_ms']:.2f} ms server",
                flush=True,
            )
    print(
        f"\nramp, {args.cps} charge points: new connections per second from the first dial to"
        f" the last WebSocket open (CPU: until each booted and reported its 3 connectors),"
        f" median [min-max] of {args.repeat}:"
    )
    print(
        f"  {'clients -> server':<16} {'asked/s':>8}  {'conn/s':<20} {'late ms':<20}"
        f" {'client ms/conn':<20} server ms/conn"
    )
    for (client_kind, server_kind, asked), found in rows.items():
        label = f"{client_kind} -> {server_kind}"
        rates = spread_text([r["rate"] for r in found], "", 0)
        late = spread_text([r["late_ms"] for r in found], "", 0) if asked else "-"
        print(
            f"  {label:<16} {asked or 'max':>8}  {rates:<20} {late:<20}"
            f" {spread_text([r['client_ms'] for r in found]):<20}"
            f" {spread_text([r['server_ms'] for r in found])}"
        )
    for asked in (0.0, args.ramp):
        mine, base = rows[("ours", "ours", asked)], rows[("bare", "ours", asked)]
        ratios = [m["rate"] / b["rate"] for m, b in zip(mine, base, strict=True)]
        cpu = [m["client_ms"] / b["client_ms"] for m, b in zip(mine, base, strict=True)]
        print(
            f"  ours/bare clients against ocppsim's CS, ramp {asked or 'max'}: conn/s"
            f" {spread_text(ratios)}, client CPU per connection {spread_text(cpu)}"
        )
    if args.ramp:
        mine = rows[("ours", "ours", args.ramp)]
        reached = [r["rate"] / args.ramp for r in mine]
        print(f"  ours at ramp {args.ramp:g}: achieved/asked {spread_text(reached, '', 3)}")


def latency(args: argparse.Namespace) -> None:
    """Heartbeat round trips under a steady load, after every charge point is connected: the
    pairs one after the other, or `--together` all at once (each pair then runs on the same
    machine, busy with the same other work, which on a shared machine sets p99 more than
    either simulator does)."""
    period = args.cps / args.rate
    interval = max(1, round(period))
    pairs = [tuple(pair.split("-", 1)) for pair in args.pairs.split(",")]
    if ("bare", "bare") not in pairs:
        pairs.insert(0, ("bare", "bare"))  # the baseline
    groups = [pairs] if args.together else [[pair] for pair in pairs]
    rows: dict[tuple[str, ...], list[dict[str, float]]] = {}
    for n in range(args.repeat):
        for group in groups:
            found = _latency_group(group, args, interval)
            for pair, (report, result) in found.items():
                client_kind, server_kind = pair
                result["rate"] = result["count"] / args.seconds
                rows.setdefault(pair, []).append(result)
                longest = result.get("gc") or [(0.0, 0)]
                print(
                    f"run {n + 1}: {client_kind} clients -> {server_kind} server:"
                    f" {report['connected']} connected, {result['rate']:.0f} heartbeats/s;"
                    f" p50 {result['p50']:.2f} ms, p99 {result['p99']:.2f} ms,"
                    f" max {result['max']:.1f} ms; CPU"
                    f" {result['client_cpu'] / args.seconds:.0%} client,"
                    f" {result['server_cpu'] / args.seconds:.0%} server; longest client"
                    f" collection {longest[0][0]:.1f} ms; client loop late by up to"
                    f" {result['lag_max_ms']:.0f} ms ({result['lag_max_cpu']:.0%} of it on the"
                    f" CPU), stalls {result['stalled_busy_ms']:.0f} ms busy,"
                    f" {result['stalled_idle_ms']:.0f} ms waiting for a CPU;"
                    f" load average {result['load']:.1f}",
                    flush=True,
                )
    print(
        f"\nlatency, {args.cps} charge points, one Heartbeat every {interval} s each"
        f" (~{args.cps / interval:.0f}/s), over {args.seconds:g} s, median [min-max] of"
        f" {args.repeat}:"
    )
    print(f"  {'clients -> server':<20} {'rate/s':<20} {'p50 ms':<20} {'p99 ms':<20} max ms")
    for (client_kind, server_kind), runs in rows.items():
        label = f"{client_kind} -> {server_kind}"
        print(
            f"  {label:<20} {spread_text([r['rate'] for r in runs], '', 0):<20}"
            f" {spread_text([r['p50'] for r in runs]):<20}"
            f" {spread_text([r['p99'] for r in runs]):<20}"
            f" {spread_text([r['max'] for r in runs], '', 1)}"
        )
    base = rows[("bare", "bare")]
    for pair in pairs[1:]:
        added = [m["p99"] - b["p99"] for m, b in zip(rows[pair], base, strict=True)]
        ratios = [m["p99"] / b["p99"] for m, b in zip(rows[pair], base, strict=True)]
        print(
            f"  p99 {pair[0]} -> {pair[1]} minus bare -> bare: {spread_text(added, ' ms')}"
            f"  (ratio {spread_text(ratios)})"
        )


def _latency_group(
    group: Sequence[tuple[str, ...]], args: argparse.Namespace, interval: int
) -> dict[tuple[str, ...], tuple[dict[str, Any], dict[str, Any]]]:
    """Run the pairs of `group` at once: each pair's `connected` report and load result."""
    servers: dict[tuple[str, ...], Server] = {}
    clients: dict[tuple[str, ...], Clients] = {}
    try:
        for pair in group:
            servers[pair] = Server(pair[1], interval=interval)
            servers[pair].start()
        # the charge points' heartbeats follow the moments they booted: a ramp over two
        # intervals, which neither side runs at full CPU, spreads them as evenly as the
        # bare clients' random phases
        ramp_rate = args.cps / (2 * interval)
        extra = ["--period", str(interval), "--ramp", f"{ramp_rate:g}"]
        for pair in group:
            clients[pair] = Clients(pair[0], servers[pair].url, args.cps, extra)
        reports = {pair: each.read(args.timeout) for pair, each in clients.items()}
        time.sleep(interval)  # every charge point has sent a heartbeat since
        cpu = {pair: (cpu_of(c.proc.pid), servers[pair].cpu()) for pair, c in clients.items()}
        for each in clients.values():
            each.tell(f"load {args.seconds}")
        results = {pair: each.read(args.seconds + args.timeout) for pair, each in clients.items()}
        load = os.getloadavg()[0]  # the machine's, over the last minute
        for pair, result in results.items():
            result["load"] = load
            result["client_cpu"] = cpu_of(clients[pair].proc.pid) - cpu[pair][0]
            result["server_cpu"] = servers[pair].cpu() - cpu[pair][1]
    finally:
        for each in clients.values():
            each.stop()
        for server in servers.values():
            server.stop()
    return {pair: (reports[pair], results[pair]) for pair in group}


def established(port: int) -> int:
    """TCP connections established to `port` on this host, counted at the server's side."""
    done = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return sum(1 for line in done.stdout.splitlines() if line.strip())


def tree_rss(pid: int) -> tuple[int, int]:
    """Resident memory of a process and its children (the fleet's workers), and how many."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    pids += [int(child) for child in children]
    total = 0
    for each in pids:
        try:
            total += rss_of(each)
        except OSError:
            pass
    return total, len(pids)


def wait_established(port: int, count: int, timeout: float, began: float) -> float:
    """Poll until `count` connections are up at the server: seconds since `began` (the
    timeout when they never all are)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if established(port) >= count:
            return time.monotonic() - began
        time.sleep(0.25)
    return float("nan")


def workers(args: argparse.Namespace) -> None:
    """N charge points in `--workers` processes from `--source-ip` addresses, against
    `--cs-processes` Central System processes on one port (SO_REUSEPORT): ocppsim's fleet
    and Central System, then bare clients and the bare server in as many processes."""
    sources = parse_source_addresses(args.source_ip)
    rows: dict[str, list[dict[str, float]]] = {"ours": [], "bare": []}
    for n in range(args.repeat):
        for kind in ("bare", "ours"):
            server = Server(kind, processes=args.cs_processes)
            server.start()
            clients: list[subprocess.Popen[Any]] = []
            fleet_report: dict[str, Any] = {}
            try:
                server_before = server.rss()
                began = time.monotonic()
                if kind == "ours":
                    report_file = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
                    report_file.close()
                    command = [
                        *ocppsim_command(),
                        "fleet",
                        server.url,
                        str(args.cps),
                        "-p",
                        PROTOCOL,
                        "--workers",
                        str(args.workers),
                        "--source-ip",
                        args.source_ip,
                        "--ramp",
                        f"{args.ramp:g}",
                        "--sessions-per-hour",
                        "0",
                        "--duration",
                        f"{args.timeout:g}s",
                        "--report",
                        report_file.name,
                    ]
                    clients.append(
                        subprocess.Popen(
                            command,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True,
                        )
                    )
                else:
                    for index in range(args.workers):  # the fleet's workers' blocks
                        block = shard(args.cps, args.workers, index)
                        extra = ["--first", str(block.start), "--source-ip", args.source_ip]
                        extra += ["--ramp", f"{args.ramp / args.workers:g}"]
                        clients.append(Clients("bare", server.url, len(block), extra).proc)
                up = wait_established(server.port, args.cps, args.timeout, began)
                time.sleep(3)  # boots and status notifications go on
                client_rss = sum(tree_rss(proc.pid)[0] for proc in clients)
                server_rss = server.rss()
                held = established(server.port)
            finally:
                for proc in clients:
                    if kind == "ours":
                        proc.send_signal(signal.SIGINT)
                        try:
                            proc.communicate(timeout=120)
                        except subprocess.TimeoutExpired:
                            proc.kill()
                            proc.communicate()
                    else:
                        try:
                            assert proc.stdin is not None
                            proc.stdin.write("quit\n")
                            proc.stdin.flush()
                            proc.wait(timeout=120)
                        except (OSError, subprocess.TimeoutExpired):
                            proc.kill()
                            proc.wait()
                server.stop()
            if kind == "ours":
                try:
                    fleet_report = json.loads(Path(report_file.name).read_text())
                except (OSError, ValueError):
                    fleet_report = {}
                os.unlink(report_file.name)
            row = {
                "held": held,
                "up_s": up,
                "rate": args.cps / up if up == up else 0.0,
                "client_kib": client_rss / args.cps / 1024,
                "server_kib": (server_rss - server_before) / max(1, held) / 1024,
                "failed": float(fleet_report.get("calls", {}).get("failed", 0)),
            }
            rows[kind].append(row)
            print(
                f"run {n + 1}: {kind}: {held} connections held at the server"
                f" ({args.cps} asked), all up in {up:.1f} s ({row['rate']:.0f}/s);"
                f" {row['client_kib']:.1f} KiB per CP in {args.workers} processes (all of"
                f" their memory), {row['server_kib']:.1f} KiB per connection in"
                f" {args.cs_processes} server processes"
                + (f"; {int(row['failed'])} calls failed" if kind == "ours" else ""),
                flush=True,
            )
    print(
        f"\n{args.cps} charge points in {args.workers} processes from {len(sources)} source"
        f" addresses, against {args.cs_processes} server processes on one port (SO_REUSEPORT),"
        f" ramp {args.ramp:g}/s asked; median [min-max] of {args.repeat}:"
    )
    for label, key, unit in (
        ("connections held", "held", ""),
        ("new connections/s", "rate", ""),
        ("KiB per CP (all-in)", "client_kib", ""),
        ("KiB per connection at the CS", "server_kib", ""),
    ):
        ours = [r[key] for r in rows["ours"]]
        bare = [r[key] for r in rows["bare"]]
        ratios = [o / b if b else float("nan") for o, b in zip(ours, bare, strict=True)]
        print(
            f"  {label:<30} ours {spread_text(ours, unit, 1):<24}"
            f" bare {spread_text(bare, unit, 1):<24} ours/bare {spread_text(ratios)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=("memory", "ramp", "latency", "workers"))
    parser.add_argument("--cps", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per step")
    parser.add_argument("--rate", type=float, default=1000.0, help="latency: messages/s in all")
    parser.add_argument("--seconds", type=float, default=30.0, help="latency: window")
    parser.add_argument(
        "--pairs",
        default="bare-bare,bare-ours,ours-bare,ours-ours",
        help="latency: clients-server pairs (bare-bare is always one: the baseline)",
    )
    parser.add_argument(
        "--together", action="store_true", help="latency: run the pairs at once, not in turn"
    )
    parser.add_argument(
        "--ramp", type=float, default=1000.0, help="ramp: new connections/s asked (0: max)"
    )
    parser.add_argument("--workers", type=int, default=4)
    # the charge points dial from these, not 127.0.0.1: its ephemeral ports stay free for
    # whatever else runs on the machine
    parser.add_argument("--source-ip", default="127.0.0.2-127.0.0.9")
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--cs-processes", type=int, default=4)
    # the subprocesses' modes
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--interval", type=int, default=IDLE_INTERVAL, help=argparse.SUPPRESS)
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clients", nargs=2, metavar=("KIND", "URL"), help=argparse.SUPPRESS)
    parser.add_argument("--period", type=float, default=IDLE_INTERVAL, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        try:
            _run(serve_bare(args.serve_bare, args.interval, args.reuse_port))
        except KeyboardInterrupt:
            pass
        return 0
    if args.clients is not None:
        kind, url = args.clients
        sources = parse_source_addresses(args.source_ip) if args.source_ip else []
        _run(run_clients(kind, url, args.cps, args.period, args.ramp, args.first, sources))
        return 0
    raise_open_files()
    if args.what == "memory":
        memory(args)
    elif args.what == "ramp":
        ramp(args)
    elif args.what == "latency":
        latency(args)
    elif args.what == "workers":
        workers(args)
    else:
        parser.error(f"{args.what}: not yet")
    return 0


def _run(coroutine: Any) -> None:
    """Run on uvloop when installed (as `ocppsim` does), else asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(coroutine)
    else:
        uvloop.run(coroutine)


if __name__ == "__main__":
    sys.exit(main())
