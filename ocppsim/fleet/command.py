"""`ocppsim fleet <url> <count> [options]`: a fleet of charge points without the prompt, for
CI and scripts. It shows its progress while it runs, then prints the statistics as a table,
writes them as JSON (`--report`), and exits 1 when calls failed (or no charge point could
connect), 2 when it cannot run, 0 otherwise."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ocppsim.core import versions
from ocppsim.fleet.options import (
    OPTIONS,
    SWITCHES,
    FleetOptionError,
    FleetOptions,
    fault_share,
    fleet_options,
)
from ocppsim.fleet.workers import (
    REPORT_EVERY,
    Workers,
    WorkersError,
    finding_line,
    open_files_limit,
    open_files_problem,
    parse_worker,
    read_commands,
    shard,
    stats_line,
    worker_command,
)

if TYPE_CHECKING:
    from ocppsim.fleet.stats import FleetStats

#: Seconds between two progress lines when the output is no terminal (a CI log).
PROGRESS_LINE_SECONDS = 10.0
#: Seconds between two updates of the progress line on a terminal.
PROGRESS_TTY_SECONDS = 0.5
#: The findings of `--verdicts` that `fleet` and `stop_fleet` show at the prompt (the
#: report, `fleet --json`, has them all).
SHOWN_FINDINGS = 20


def parser() -> argparse.ArgumentParser:
    made = argparse.ArgumentParser(
        prog="ocppsim fleet",
        description=(
            "Run a fleet of charge points against a Central System: each boots, reports its"
            " connectors, sends heartbeats at the interval it is given, runs charging sessions"
            " arriving at random and reconnects with a jittered back-off. Prints its progress,"
            " then the statistics (per action: count, errors by OCPP error code, latency"
            " p50/p95/p99/max; connections; calls per second). Exit status: 0 no call failed,"
            " 1 calls failed or no charge point connected, 2 error."
        ),
        epilog="example: ocppsim fleet ws://127.0.0.1:9000/ocpp 1000"
        f" -p {versions.default().subprotocol} --duration 60s --report report.json",
    )
    made.add_argument("url", help="the Central System's OCPP-J URL (each id is appended)")
    made.add_argument("count", help="how many charge points")
    for option in OPTIONS:
        shown = versions.default().subprotocol if option.flag == "-p" else option.default
        default = f" (default: {shown})" if shown is not None else ""
        if option.flag in SWITCHES:
            made.add_argument(option.flag, action="store_true", help=option.help)
            continue
        made.add_argument(
            option.flag,
            metavar=option.metavar.strip("<>"),
            help=option.help + default,
            # repeatable at the command line; one comma-separated value at the prompt
            action="append" if option.flag == "--fault-option" else "store",
        )
    made.add_argument(
        "--locustfile",
        action="store_true",
        help="print the path of the locustfile that runs the fleet on Locust's master and"
        " workers (the locust extra: locust -f PATH; see docs/fleet.md) and exit",
    )
    made.add_argument(
        "--plugins-dir",
        metavar="DIR",
        action="append",
        default=[],
        help="also look for --behaviour plugins in DIR (repeatable)",
    )
    # a worker of `--workers N` (started by the parent): worker I of N, from 0
    made.add_argument("--worker", help=argparse.SUPPRESS)
    return made


def _values(args: argparse.Namespace) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for option in OPTIONS:
        value = getattr(args, option.flag.lstrip("-").replace("-", "_"))
        if option.flag in SWITCHES:
            if value:
                values[option.flag] = None
        elif isinstance(value, list):
            values[option.flag] = ",".join(value)
        elif value is not None:
            values[option.flag] = value
    return values


def fleet_main(argv: list[str]) -> int:
    """The command's entry point."""
    if "--locustfile" in argv:
        from ocppsim.locust import locustfile_path

        print(locustfile_path())
        return 0
    made = parser()
    args = made.parse_args(argv)
    try:
        options = fleet_options(args.url, args.count, _values(args))
    except FleetOptionError as exc:
        made.exit(2, f"ocppsim fleet: {_plain(exc)}\n")
    for flag, path in (("--report", options.report), ("--log-file", options.log_file)):
        if path is not None:
            try:
                with open(path, "a", encoding="utf-8"):
                    pass
            except OSError as exc:
                made.exit(2, f"ocppsim fleet: {flag} {path}: {exc.strerror or exc}\n")
    for folder in args.plugins_dir:
        if not Path(folder).is_dir():
            made.exit(2, f"ocppsim fleet: --plugins-dir {folder}: no such folder\n")
    plugins_dirs = [Path(d) for d in args.plugins_dir]
    if args.worker is not None:
        try:
            index, count = parse_worker(args.worker)
        except WorkersError as exc:
            made.exit(2, f"ocppsim fleet: {exc}\n")
        return worker_main(options, plugins_dirs, index, count)
    problem = open_files_problem(options.count, options.workers, open_files_limit())
    if problem is not None:
        made.exit(2, f"ocppsim fleet: {problem}\n")
    if options.workers > 1:
        return run_workers(options, plugins_dirs, argv)
    from ocppsim.cli import _run
    from ocppsim.repl import console

    console.install("text", None)  # plugins' lines (the fleet's frames go to --log-file only)
    try:
        outcome = _run(run(options, [Path(d) for d in args.plugins_dir], sys.stderr))
    except FleetOptionError as exc:
        made.exit(2, f"ocppsim fleet: {_plain(exc)}\n")
    except KeyboardInterrupt:
        return 130
    return tell_outcome(options, *outcome)


def run_workers(options: FleetOptions, plugins_dirs: list[Path], argv: list[str]) -> int:
    """`--workers N`: N processes, each a share of the charge points (`fleet/workers.py`),
    their statistics merged here; the table and `--report` as for one process."""
    from ocppsim.cli import _run

    try:
        outcome = _run(run_sharded(options, argv, sys.stderr))
    except KeyboardInterrupt:
        return 130
    return tell_outcome(options, *outcome)


def tell_outcome(
    options: FleetOptions, report: dict[str, Any], lines: list[str], failed: bool
) -> int:
    """The summary's lines, then `--report` written: the exit status (2 when the report
    cannot be written, 1 when the fleet failed)."""
    for line in lines:
        print(line)
    if options.report is not None:
        try:
            write_report(options.report, report)
        except OSError as exc:
            print(
                f"ocppsim fleet: --report {options.report}: {exc.strerror or exc}", file=sys.stderr
            )
            return 2
        print(f"report written to {options.report}")
    return 1 if failed else 0


class Shards:
    """The merged view of a fleet's workers, for the progress display and the report."""

    def __init__(self, options: FleetOptions, workers: Workers):
        self.options = options
        self.workers = workers
        self._rate: tuple[float, int] | None = None
        self.stats = self.merge()

    def merge(self) -> FleetStats:
        """Every worker's last statistics, summed."""
        from ocppsim.fleet.stats import FleetStats, merged

        self.stats = merged(
            FleetStats.decode(snapshot["stats"]) for snapshot in self.workers.snapshots
        )
        return self.stats

    @property
    def started(self) -> int:
        return sum(int(s.get("started", 0)) for s in self.workers.snapshots)

    @property
    def gave_up(self) -> dict[str, int]:
        reasons: dict[str, int] = {}
        for snapshot in self.workers.snapshots:
            for reason, n in snapshot.get("gave_up", {}).items():
                reasons[reason] = reasons.get(reason, 0) + int(n)
        return reasons

    def status_line(self) -> str:
        stats = self.merge()
        now, calls = time.monotonic(), stats.calls
        rate = 0.0
        if self._rate is not None and now > self._rate[0]:
            rate = (calls - self._rate[1]) / (now - self._rate[0])
        self._rate = (now, calls)
        return (
            f"fleet {self.started}/{self.options.count} started in"
            f" {self.workers.running}/{self.workers.count} workers: {stats.up} up,"
            f" {stats.connecting} connecting, {stats.lost} lost, {stats.reconnects} reconnects,"
            f" {sum(stats.refused.values())} refused | {calls} calls, {rate:.1f}/s,"
            f" {stats.failed} failed"
        )


async def run_sharded(
    options: FleetOptions, argv: list[str], progress: TextIO
) -> tuple[dict[str, Any], list[str], bool]:
    """Run the fleet in `options.workers` processes for its duration (or until SIGINT or
    SIGTERM, then told to stop): the merged report, the summary's lines, whether it failed."""
    from ocppsim.fleet.engine import fleet_report

    count = options.workers

    def told(index: int, finding: dict[str, Any]) -> None:
        line = finding.get("line", "")
        print(f"{finding.get('speaker')}: verdict {line}", file=progress, flush=True)

    workers = Workers(
        count,
        lambda index: worker_command(["fleet", *argv], index, count),
        on_line=lambda index, line: print(f"worker {index}: {line}", file=progress, flush=True),
        on_finding=told,
    )
    done = asyncio.Event()
    with stopping_on_signals(done.set):
        try:
            await workers.start()
            print(
                f"Fleet: {options.describe()}, in {count} worker processes",
                file=progress,
                flush=True,
            )
            fault = options.fault
            if fault is not None:
                chosen = fault_share(options.count, fault.fraction, options.seed)
                print(
                    f"Fleet: fault {fault.kind} on {len(chosen)} of {options.count} charge points",
                    file=progress,
                    flush=True,
                )
            shards = Shards(options, workers)
            show = Progress(shards, progress)
            ended = asyncio.ensure_future(workers.wait())
            ended.add_done_callback(lambda _: done.set())
            # each worker stops by itself after --duration; past that and a grace, they are told
            duration = None if options.duration is None else options.duration + 10
            async for _ in ticks(done, show.every, duration):
                show.update()
            show.finish()
            codes = await workers.stop()
            ended.cancel()
        finally:
            if workers.running:
                await workers.stop(grace=0)
    stats = shards.merge()
    gave_up = shards.gave_up
    report = fleet_report(options, options.count, shards.started, stats, gave_up, workers=count)
    head = (
        f"Fleet: {options.count} charge points ({options.protocol}) to {options.url},"
        f" seed {options.seed}, {count} worker processes"
    )
    lines = [head, *stats.table()]
    for reason, n in gave_up.items():
        lines.append(f"gave up: {n} charge points: {reason}")
    broken = [
        (w.index, code)
        for w, code in zip(workers.workers, codes, strict=True)
        if code not in (0, 1)
    ]
    for index, code in broken:
        last = workers.workers[index].lines[-1:] or ["(no output)"]
        lines.append(f"worker {index} failed (exit status {code}): {last[0]}")
    failed = stats.failed > 0 or bool(gave_up) or stats.connected == 0 or bool(broken)
    if options.verdicts:
        findings = [
            {k: v for k, v in finding.items() if k != "line"}
            for worker in workers.workers
            for finding in worker.findings
        ]
        failed = add_verdicts(report, lines, findings) or failed
    return report, lines, failed


def worker_main(options: FleetOptions, plugins_dirs: list[Path], index: int, count: int) -> int:
    """A worker of `--workers` (`--worker I/N`): its share of the charge points; its
    statistics on standard output (one line each `REPORT_EVERY` s and at the end)."""
    from ocppsim.cli import _run

    open_files_limit()
    try:
        failed = _run(run_worker(options, plugins_dirs, index, count))
    except FleetOptionError as exc:
        print(f"ocppsim fleet: {_plain(exc)}", flush=True)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1 if failed else 0


async def run_worker(
    options: FleetOptions, plugins_dirs: list[Path], index: int, count: int
) -> bool:
    """Run worker `index` of `count` until its duration ends or the parent says stop (or
    goes): whether it failed."""
    from ocppsim.fleet.engine import Fleet

    async with behaviour_and_frame_log(options, plugins_dirs) as behaviour:
        # --ramp is the whole fleet's: each worker dials its share of it
        options = dataclasses.replace(options, ramp=options.ramp / count)
        fleet = Fleet(options, behaviour=behaviour, indexes=shard(options.count, count, index))
        apply_fault(fleet)  # on its share of the charge points the whole fleet's seed picks
        monitor = None
        if options.verdicts:  # each finding a line to the parent
            monitor = watch(fleet, lambda finding: print(finding_line(finding), flush=True))
        done = asyncio.Event()
        listening = asyncio.get_running_loop().create_task(read_commands(done.set))

        def say() -> None:
            snapshot = {
                "stats": fleet.stats.encode(),
                "started": len(fleet.charge_points),
                "gave_up": fleet.gave_up_reasons,
            }
            print(stats_line(snapshot), flush=True)

        with stopping_on_signals(done.set):
            try:
                await fleet.start()
                async for _ in ticks(done, REPORT_EVERY, options.duration):
                    say()
                await fleet.stop()
                if monitor is not None:
                    monitor.finish()  # the checks that need time to pass: lines too
                say()
            finally:
                listening.cancel()
                await fleet.stop()
    return fleet.failed


def _plain(exc: BaseException) -> str:
    text = str(exc)
    return text[len("Error: ") :] if text.startswith("Error: ") else text


@contextlib.contextmanager
def stopping_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT and SIGTERM call `stop` while the block runs (Ctrl-C or `kill` end a fleet
    cleanly: its summary and report still come)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this OS
            pass
    try:
        yield
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(sig)
            except (NotImplementedError, RuntimeError):  # pragma: no cover
                pass


async def ticks(done: asyncio.Event, every: float, duration: float | None) -> AsyncIterator[None]:
    """A turn every `every` seconds (at once when `done` is set) until `done` is set or
    `duration` seconds (None: no end) have passed: the pace of a progress or report loop."""
    loop = asyncio.get_running_loop()
    deadline = None if duration is None else loop.time() + duration
    while not done.is_set():
        wait = every
        if deadline is not None:
            wait = min(wait, deadline - loop.time())
            if wait <= 0:
                return
        try:
            await asyncio.wait_for(done.wait(), wait)
        except asyncio.TimeoutError:
            pass
        yield


@contextlib.asynccontextmanager
async def behaviour_and_frame_log(
    options: FleetOptions, plugins_dirs: list[Path]
) -> AsyncIterator[Any]:
    """The `--behaviour` plugin's Charge Point handlers (None without one) and the frames'
    `--log-file` while the block runs; the plugin unloaded and the file closed after it."""
    manager = None
    behaviour = None
    if options.behaviour is not None:
        sim, manager = await load_behaviour(options.behaviour, plugins_dirs)
        behaviour = sim.cp_behaviour
    handler = install_frame_log(options.log_file) if options.log_file else None
    try:
        yield behaviour
    finally:
        if manager is not None:
            await manager.close()
        if handler is not None:
            remove_frame_log(handler)


def write_report(path: str, report: dict[str, Any]) -> None:
    """The report as JSON (written whole, then moved in place)."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    partial.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    partial.replace(target)


def install_frame_log(path: str) -> logging.Handler:
    """Per-frame lines of the fleet go to `path` (and nowhere else)."""
    from ocppsim.fleet.engine import frames_log
    from ocppsim.repl.console import LineFormatter

    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(LineFormatter())
    frames_log.addHandler(handler)
    frames_log.setLevel(logging.INFO)
    return handler


def remove_frame_log(handler: logging.Handler) -> None:
    from ocppsim.fleet.engine import frames_log

    frames_log.removeHandler(handler)
    handler.close()


async def load_behaviour(name: str, plugins_dirs: list[Path]) -> Any:
    """A Simulator whose Charge Point handlers are the plugin `name`'s (`--behaviour`);
    FleetOptionError when it cannot be loaded."""
    from ocppsim.plugins import PluginManager
    from ocppsim.sim.simulator import Simulator

    sim = Simulator()
    manager = PluginManager(sim, plugins_dirs)
    if not await manager.load(name):
        known = ", ".join(sorted(source.name for source in manager.available().values()))
        raise FleetOptionError(
            f"Error: --behaviour: plugin `{name}' cannot be loaded (plugins: {known or 'none'})."
        )
    return sim, manager


async def run(
    options: FleetOptions, plugins_dirs: list[Path], progress: TextIO
) -> tuple[dict[str, Any], list[str], bool]:
    """Run the fleet for its duration (or until SIGINT/SIGTERM): the report, the summary's
    lines, and whether it failed. `--fault`: set on a share of the charge points;
    `--verdicts`: every frame of the Central System checked (ocppsim.check.Monitor), each
    finding a line on `progress`."""
    from ocppsim.fleet.engine import Fleet

    async with behaviour_and_frame_log(options, plugins_dirs) as behaviour:
        fleet = Fleet(options, behaviour=behaviour)
        said = apply_fault(fleet)
        if said is not None:
            print(said, file=progress, flush=True)

        def told(finding: Any) -> None:
            print(f"{finding.speaker}: verdict {finding.line()}", file=progress, flush=True)

        monitor = watch(fleet, told) if options.verdicts else None
        done = asyncio.Event()
        with stopping_on_signals(done.set):
            try:
                await fleet.start()
                print(f"Fleet: {options.describe()}", file=progress, flush=True)
                show = Progress(fleet, progress)
                async for _ in ticks(done, show.every, options.duration):
                    show.update()
                show.finish()
            finally:
                await fleet.stop()
    report, lines, failed = fleet.snapshot(), fleet.summary(), fleet.failed
    if monitor is not None:
        findings = [f.as_dict() for f in monitor.finish()]
        failed = add_verdicts(report, lines, findings) or failed
    return report, lines, failed


def apply_fault(fleet: Any) -> str | None:
    """Set `--fault` on the fleet's share of the charge points (`Fleet.set_fault`): the line
    that says on how many (None without a fault)."""
    fault = fleet.options.fault
    if fault is None:
        return None
    chosen = fleet.set_fault(fault.kind, fault.fraction, **fault.options)
    return f"Fleet: fault {fault.kind} on {len(chosen)} of {len(fleet.indexes)} charge points"


def watch(fleet: Any, on_finding: Callable[[Any], None] | None = None) -> Any:
    """`--verdicts`: a Monitor on the fleet's bus, checking every frame of the Central
    System (`on_finding` told of each finding)."""
    from ocppsim.check.monitor import Monitor

    monitor = Monitor(on_finding=on_finding)
    fleet.bus.subscribe(monitor)
    return monitor


def verdicts_line(findings: list[dict[str, Any]], where: str) -> str:
    """`verdicts: 3 finding(s), 2 failure(s) (where)`."""
    failures = sum(1 for f in findings if f.get("severity") == "fail")
    return f"verdicts: {len(findings)} finding(s), {failures} failure(s) ({where})"


def add_verdicts(report: dict[str, Any], lines: list[str], findings: list[dict[str, Any]]) -> bool:
    """The findings of `--verdicts` into the report (`verdicts`) and a line of the summary;
    whether one is a failure."""
    lines.append(verdicts_line(findings, "each a line above, with its frame"))
    report["verdicts"] = findings
    return any(f.get("severity") == "fail" for f in findings)


class Progress:
    """A progress display: one line rewritten in place on a terminal, a line every
    `PROGRESS_LINE_SECONDS` elsewhere (a CI log stays short)."""

    def __init__(self, fleet: Any, out: TextIO):
        self.fleet = fleet
        self.out = out
        self.tty = out.isatty()
        self.every = PROGRESS_TTY_SECONDS if self.tty else 1.0
        self._last = time.monotonic()
        self._width = 0

    def update(self) -> None:
        fleet = self.fleet
        line = f"[{fleet.stats.elapsed():6.0f} s] {fleet.status_line()}"
        if self.tty:
            padding = " " * max(0, self._width - len(line))
            self.out.write("\r" + line + padding)
            self._width = len(line)
            self.out.flush()
            return
        now = time.monotonic()
        if now - self._last >= PROGRESS_LINE_SECONDS:
            self._last = now
            print(line, file=self.out, flush=True)

    def finish(self) -> None:
        if self.tty and self._width:
            self.out.write("\n")
            self.out.flush()


class PromptFleet:
    """A fleet started at the prompt (`start_fleet`): the fleet, its `--log-file` handler,
    its `--duration` timer; `stop` writes `--report` and gives the summary's lines."""

    def __init__(self, fleet: Any, handler: logging.Handler | None, monitor: Any = None):
        self.fleet = fleet
        self._handler = handler
        #: the Monitor of `--verdicts` (None without)
        self.monitor = monitor
        #: the line that says on how many charge points `--fault` is set (None: no fault)
        self.fault_said: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._stopping: asyncio.Task[list[str]] | None = None

    def snapshot(self) -> dict[str, Any]:
        """The report (`fleet --json`, `--report`): the statistics and, with `--verdicts`,
        the findings so far."""
        report: dict[str, Any] = self.fleet.snapshot()
        if self.monitor is not None:
            report["verdicts"] = [f.as_dict() for f in self.findings()]
        return report

    def findings(self) -> list[Any]:
        """The findings of `--verdicts` so far (the checks that need time made now)."""
        return list(self.monitor.finish()) if self.monitor is not None else []

    def summary(self) -> list[str]:
        """The statistics' lines and, with `--verdicts`, the findings (the first
        `SHOWN_FINDINGS`; the report has them all)."""
        lines: list[str] = self.fleet.summary()
        if self.monitor is not None:
            findings = self.findings()
            lines.append(
                verdicts_line([f.as_dict() for f in findings], "fleet --json has them all")
            )
            lines += [f"  {f.speaker}: {f.line()}" for f in findings[:SHOWN_FINDINGS]]
            if len(findings) > SHOWN_FINDINGS:
                lines.append(f"  … and {len(findings) - SHOWN_FINDINGS} more")
        return lines

    def fault_lines(self) -> list[str]:
        """`fault list`: the fleet's faults, one line per kind, with how many charge points
        have it now."""
        from ocppsim.sim.faults import active

        having: dict[str, int] = {}
        for cp in self.fleet.charge_points:
            for fault in active(cp):
                text = fault.describe()
                having[text] = having.get(text, 0) + 1
        total = len(self.fleet.indexes)
        return [f"fleet: {text} on {n} of {total} charge points" for text, n in having.items()]

    def clear_faults(self, kind: str | None = None) -> list[Any]:
        """`fault clear [<kind>]`: the fleet's faults of `kind` (all when None) cleared, on
        the charge points started and those still to start."""
        return list(self.fleet.clear_faults(kind))

    @property
    def running(self) -> bool:
        return bool(self.fleet.running)

    def stop_after(self, seconds: float, done: Any) -> None:
        """Stop by itself after `seconds`, then tell `done(lines)` the summary."""

        def expire() -> None:
            task = asyncio.get_running_loop().create_task(self.stop(), name="fleet duration")
            task.add_done_callback(lambda t: None if t.cancelled() else done(t.result()))

        loop = asyncio.get_running_loop()
        self._timer = loop.call_at(loop.time() + seconds, expire)

    async def stop(self) -> list[str]:
        """Stop the fleet (once): its summary's lines, and where its report went."""
        if self._stopping is None:
            self._stopping = asyncio.get_running_loop().create_task(self._stop())
        return await asyncio.shield(self._stopping)

    async def _stop(self) -> list[str]:
        if self._timer is not None:
            self._timer.cancel()
        await self.fleet.stop()
        if self._handler is not None:
            remove_frame_log(self._handler)
            self._handler = None
        lines = ["Fleet stopped.", *self.summary()]
        report = self.fleet.options.report
        if report is not None:
            try:
                write_report(report, self.snapshot())
            except OSError as exc:
                lines.append(f"Error: --report {report}: {exc.strerror or exc}.")
            else:
                lines.append(f"report written to {report}")
        return lines


async def start_at_prompt(options: FleetOptions, behaviour: Any) -> PromptFleet:
    """Start a fleet for the prompt (its frames to `--log-file` only)."""
    from ocppsim.fleet.engine import Fleet

    if options.workers > 1:
        raise FleetOptionError(
            "Error: --workers runs a fleet in several processes: use the headless command"
            " (ocppsim fleet …)."
        )
    problem = open_files_problem(options.count, 1, open_files_limit())
    if problem is not None:
        raise FleetOptionError(f"Error: {problem}.")
    for flag, path in (("--report", options.report), ("--log-file", options.log_file)):
        if path is not None:
            try:
                with open(path, "a", encoding="utf-8"):
                    pass
            except OSError as exc:
                raise FleetOptionError(f"Error: {flag} {path}: {exc.strerror or exc}.") from None
    handler = install_frame_log(options.log_file) if options.log_file else None
    try:
        fleet = Fleet(options, behaviour=behaviour)
        said = apply_fault(fleet)
        monitor = watch(fleet) if options.verdicts else None
        await fleet.start()
    except BaseException:
        if handler is not None:
            remove_frame_log(handler)
        raise
    started = PromptFleet(fleet, handler, monitor)
    started.fault_said = said
    return started
