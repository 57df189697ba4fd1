"""A fleet run as several processes (`--workers N`): each worker runs a shard of the charge
points (a block of their indexes, so each keeps its id, its random draws and its source
address whichever process runs it), and the parent merges their statistics.

Why processes: one process holds no more connections than its open-file limit (`ulimit -n`:
each connection is a file descriptor) and uses one core. A worker is the same command with a
hidden `--worker I/N` option; it prints its cumulative statistics as one JSON line
(`STATS_PREFIX`) every `REPORT_EVERY` seconds and once more when it ends, and stops when its
standard input ends or says `stop`. The parent keeps each worker's last line and merges them
(counters add up, latency histograms are HDR histograms, which merge without losing
precision).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import resource
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocppsim.core.errors import OcppSimError

#: What starts a worker's statistics line on its standard output.
STATS_PREFIX = "ocppsim-fleet-stats "
#: What starts a line of a worker's `--verdicts` finding (one finding a line, as it is made).
FINDING_PREFIX = "ocppsim-fleet-finding "
#: The most characters of a finding's frame a worker sends (its line stays under the limit of
#: the parent's reader).
FINDING_FRAME = 16_000
#: Seconds between a worker's statistics lines.
REPORT_EVERY = 1.0
#: File descriptors a process needs besides its connections (standard streams, the event
#: loop's, log files, the listening socket of a plugin...).
SPARE_FILES = 64
#: How long workers get to stop (close their connections, say their last statistics) before
#: they are killed.
STOP_GRACE = 30.0

_WORKER = re.compile(r"^(\d+)/(\d+)$")


class WorkersError(OcppSimError, ValueError):
    """A `--workers` or `--worker` value that cannot be used; its text says why."""


def shard(count: int, workers: int, index: int) -> range:
    """The indexes of the charge points worker `index` of `workers` runs: a block, the
    first `count % workers` blocks one longer than the others."""
    size, extra = divmod(count, workers)
    start = index * size + min(index, extra)
    return range(start, start + size + (1 if index < extra else 0))


def parse_worker(text: str) -> tuple[int, int]:
    """`I/N` (a hidden option of the worker's command line): worker I of N, from 0."""
    match = _WORKER.match(text.strip())
    if match is None or not 0 <= int(match[1]) < int(match[2]):
        raise WorkersError(f"--worker {text!r}: write I/N with 0 <= I < N")
    return int(match[1]), int(match[2])


def open_files_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit (what `ulimit -n`
    allows without privileges); the limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def open_files_problem(connections: int, workers: int, limit: int) -> str | None:
    """Why `connections` spread over `workers` processes cannot be held with `limit` open
    files per process (None when they can), saying what to do."""
    per_process = math.ceil(connections / max(1, workers))
    if per_process + SPARE_FILES <= limit:
        return None
    needed = math.ceil(connections / max(1, limit - SPARE_FILES))
    return (
        f"{per_process} connections in one process need {per_process + SPARE_FILES} open"
        f" files and a process may open {limit} here (ulimit -n): use --workers {needed}"
        " or more, or raise the hard limit (ulimit -Hn, /etc/security/limits.conf)"
    )


def stats_line(snapshot: dict[str, Any]) -> str:
    """The line a worker prints for its statistics."""
    return STATS_PREFIX + json.dumps(snapshot, separators=(",", ":"))


def finding_line(finding: Any) -> str:
    """The line a worker prints for a finding of `--verdicts` (an ocppsim.check Finding):
    its fields and its text as the summary shows it; a frame longer than `FINDING_FRAME`
    characters cut there (the parent reads lines of up to 64 KiB)."""
    fields = finding.as_dict()
    frame = fields.get("frame")
    if isinstance(frame, str) and len(frame) > FINDING_FRAME:
        fields["frame"] = frame[:FINDING_FRAME] + "…"
    return FINDING_PREFIX + json.dumps({**fields, "line": finding.line()}, separators=(",", ":"))


@dataclass
class Worker:
    """One worker process, as the parent sees it."""

    index: int
    process: asyncio.subprocess.Process
    #: its last statistics (cumulative), None before the first line
    snapshot: dict[str, Any] | None = None
    #: the other lines it printed (errors), the last few
    lines: list[str] = field(default_factory=list)
    #: the findings of `--verdicts` it sent, in order
    findings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def returncode(self) -> int | None:
        return self.process.returncode


class Workers:
    """The parent of a fleet's workers: starts `count` processes with `command(index)`,
    keeps each one's last statistics and its findings (told to `on_finding`), tells each
    other line to `on_line` (its errors), and stops them all."""

    def __init__(
        self,
        count: int,
        command: Callable[[int], Sequence[str]],
        on_line: Callable[[int, str], None] | None = None,
        on_finding: Callable[[int, dict[str, Any]], None] | None = None,
    ):
        self.count = count
        self.command = command
        self.on_line = on_line
        self.on_finding = on_finding
        self.workers: list[Worker] = []
        self._readers: list[asyncio.Task[None]] = []
        self.changed = asyncio.Event()

    async def start(self) -> None:
        """Start every worker (each in its own process group: a Ctrl-C at the terminal
        reaches the parent, which stops them)."""
        for index in range(self.count):
            process = await asyncio.create_subprocess_exec(
                *self.command(index),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            worker = Worker(index, process)
            self.workers.append(worker)
            self._readers.append(asyncio.create_task(self._read(worker)))

    async def _read(self, worker: Worker) -> None:
        stream = worker.process.stdout
        assert stream is not None
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line longer than the stream's limit: skip it
                continue
            if not raw:
                break
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith(STATS_PREFIX):
                try:
                    worker.snapshot = json.loads(line[len(STATS_PREFIX) :])
                except ValueError:
                    continue
                self.changed.set()
            elif line.startswith(FINDING_PREFIX):
                try:
                    finding = json.loads(line[len(FINDING_PREFIX) :])
                except ValueError:
                    continue
                worker.findings.append(finding)
                if self.on_finding is not None:
                    self.on_finding(worker.index, finding)
            elif line:
                worker.lines = [*worker.lines[-19:], line]
                if self.on_line is not None:
                    self.on_line(worker.index, line)
        await worker.process.wait()
        self.changed.set()

    @property
    def snapshots(self) -> list[dict[str, Any]]:
        """The last statistics of every worker that has sent some."""
        return [w.snapshot for w in self.workers if w.snapshot is not None]

    @property
    def running(self) -> int:
        return sum(1 for w in self.workers if w.returncode is None)

    async def wait(self) -> list[int]:
        """Wait until every worker has ended; their exit codes."""
        await asyncio.gather(*self._readers, return_exceptions=True)
        return [w.process.returncode or 0 for w in self.workers]

    async def stop(self, grace: float = STOP_GRACE) -> list[int]:
        """Tell every worker to stop (`stop` on its standard input), wait `grace` seconds
        at most, then kill those left; their exit codes."""
        for worker in self.workers:
            stdin = worker.process.stdin
            if stdin is not None and worker.returncode is None:
                try:
                    stdin.write(b"stop\n")
                    await stdin.drain()
                    stdin.close()
                except (ConnectionError, OSError):
                    pass
        try:
            return await asyncio.wait_for(self.wait(), grace)
        except asyncio.TimeoutError:
            for worker in self.workers:
                if worker.returncode is None:
                    try:
                        worker.process.send_signal(signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            return await self.wait()


def worker_command(argv: Sequence[str], index: int, count: int) -> list[str]:
    """The command line of worker `index` of `count`: this program with the parent's own
    arguments, `--workers` dropped and `--worker I/N` added (reports and progress are the
    parent's: `--report`, `--log-file` too)."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in ("--workers", "--report"):
            skip = "=" not in arg
            continue
        kept.append(arg)
    return [sys.executable, "-m", "ocppsim", *kept, "--worker", f"{index}/{count}"]


async def read_commands(on_stop: Callable[[], None]) -> None:
    """A worker's side: call `on_stop` when standard input says `stop` or ends (the parent
    has gone)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (OSError, ValueError):  # no pipe to read (a terminal, /dev/null): nothing to hear
        return
    while True:
        line = await reader.readline()
        if not line or line.strip() == b"stop":
            on_stop()
            return
