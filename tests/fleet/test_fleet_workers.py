"""A fleet in several processes (`--workers N`): how the charge points are shared out, what a
worker's command line is, when one process cannot hold its share, and the parent's side of
starting, hearing and stopping workers."""

from __future__ import annotations

import asyncio
import sys

import pytest

from ocppsim.fleet.workers import (
    STATS_PREFIX,
    Workers,
    WorkersError,
    open_files_problem,
    parse_worker,
    shard,
    worker_command,
)


def test_shards_are_blocks_that_cover_every_charge_point_once() -> None:
    shards = [shard(10, 3, index) for index in range(3)]
    assert shards == [range(0, 4), range(4, 7), range(7, 10)]
    assert [n for block in (shard(50000, 7, i) for i in range(7)) for n in block] == list(
        range(50000)
    )
    assert [len(shard(2, 4, i)) for i in range(4)] == [1, 1, 0, 0]


def test_a_worker_option_is_i_of_n() -> None:
    assert parse_worker("1/4") == (1, 4)
    for bad in ("4/4", "x/2", "1", "-1/2"):
        with pytest.raises(WorkersError, match="write I/N with 0 <= I < N"):
            parse_worker(bad)


def test_one_process_cannot_hold_more_connections_than_its_open_files() -> None:
    assert open_files_problem(10000, 1, 20000) is None
    assert open_files_problem(50000, 3, 20000) is None
    problem = open_files_problem(50000, 2, 20000)
    assert problem == (
        "25000 connections in one process need 25064 open files and a process may open 20000"
        " here (ulimit -n): use --workers 3 or more, or raise the hard limit (ulimit -Hn,"
        " /etc/security/limits.conf)"
    )


def test_a_workers_command_is_the_parents_without_workers_and_report() -> None:
    argv = ["fleet", "ws://h/ocpp", "100", "--workers", "2", "--report=r.json", "--seed", "3"]
    assert worker_command(argv, 1, 2) == [
        sys.executable,
        "-m",
        "ocppsim",
        "fleet",
        "ws://h/ocpp",
        "100",
        "--seed",
        "3",
        "--worker",
        "1/2",
    ]


def test_the_parent_keeps_each_workers_last_statistics_and_stops_them() -> None:
    """Two workers that say their statistics, then wait for `stop` on their standard input;
    a line that is not statistics reaches `on_line`."""
    program = (
        "import sys\n"
        f"print({STATS_PREFIX!r} + '{{\"n\": 1}}', flush=True)\n"
        "print('an error line', flush=True)\n"
        f"print({STATS_PREFIX!r} + '{{\"n\": ' + sys.argv[1] + '}}', flush=True)\n"
        "sys.stdin.readline()\n"
        "sys.exit(int(sys.argv[1]))\n"
    )
    heard: list[tuple[int, str]] = []

    async def scenario() -> tuple[list[object], list[int]]:
        workers = Workers(
            2,
            lambda index: [sys.executable, "-c", program, str(index + 5)],
            on_line=lambda index, line: heard.append((index, line)),
        )
        await workers.start()
        while len([s for s in workers.snapshots if s["n"] != 1]) < 2:
            workers.changed.clear()
            await workers.changed.wait()
        snapshots = list(workers.snapshots)
        return snapshots, await workers.stop()

    snapshots, codes = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert snapshots == [{"n": 5}, {"n": 6}]
    assert codes == [5, 6]
    assert sorted(heard) == [(0, "an error line"), (1, "an error line")]


def test_a_fault_falls_on_the_same_charge_points_whichever_worker_runs_them() -> None:
    """`--fault … --fraction 0.3` picks among the whole fleet's numbers with its seed: the
    workers' shares of it add up to what one process picks (and not 30 % of each share)."""
    from ocppsim.fleet.engine import Fleet
    from ocppsim.fleet.options import fault_share, fleet_options

    options = fleet_options("ws://127.0.0.1:1/ocpp", "20", {"--seed": "7"})
    whole = Fleet(options).set_fault("drop", 0.3)
    assert whole == fault_share(20, 0.3, 7) and len(whole) == 6
    shares = [
        Fleet(options, indexes=shard(20, 3, index)).set_fault("drop", 0.3) for index in range(3)
    ]
    assert sorted(n for share in shares for n in share) == whole
    assert all(set(share) <= set(shard(20, 3, i)) for i, share in enumerate(shares))


def test_a_finding_line_carries_the_finding_and_cuts_a_long_frame() -> None:
    import json

    from ocppsim.check.monitor import Finding
    from ocppsim.fleet.workers import FINDING_FRAME, FINDING_PREFIX, finding_line

    finding = Finding("schema", "fail", "breaks", "OCPP 1.6", "x" * (FINDING_FRAME + 10), "cp#a")
    line = finding_line(finding)
    assert line.startswith(FINDING_PREFIX) and "\n" not in line and len(line) < 65536
    sent = json.loads(line[len(FINDING_PREFIX) :])
    assert sent["speaker"] == "cp#a" and sent["line"].startswith("FAIL schema: breaks")
    assert len(sent["frame"]) == FINDING_FRAME + 1
