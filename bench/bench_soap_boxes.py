"""Memory a SOAP Central System spends per charge box it knows: N distinct ids against N
requests from one id.

Usage (from the repository root, with the project's venv; Linux, it reads /proc):

    python bench/bench_soap_boxes.py                  # 20000 requests each
    python bench/bench_soap_boxes.py --boxes 120000   # past the table's cap (100000)
    python bench/bench_soap_boxes.py --longest        # ids and From as long as accepted

Two runs, each on a fresh `ocppsim start_cs <port> -t soap` subprocess (stdout to a
temporary file), warmed up with 300 requests, then sent N Heartbeats over 8 keep-alive
connections: `one box` (the same chargeBoxIdentity every time: the baseline, whatever
the requests themselves leave behind) and `distinct` (a new chargeBoxIdentity, and From,
each time: what a flood of invented ids does). Prints the resident memory (VmRSS) each
run grew by, and their difference per box: the cost of one entry in the table of charge
boxes. With `--longest`, every chargeBoxIdentity and From is as long as a Central System
accepts (255 and 512 characters): the most a box can cost. Past the cap the table stops
growing: the per-box figure then falls. Numbers depend
on the machine and the allocator. This is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench_ws import free_port, ocppsim_command, wait_for_port

from ocppsim.soap.codec import MAX_CHARGE_BOX_ID, MAX_FROM_ADDRESS

CONCURRENCY = 8
WARM_UP = 300


def resident_bytes(pid: int) -> int:
    """VmRSS of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc: Linux only")


def from_address(box: str, longest: bool) -> str:
    """The From of a box's requests: short, or as long as a Central System accepts."""
    if not longest:
        return f"http://{box}.example:8080/"
    start = f"http://{box[:10]}.example:8080/"
    return start + "p" * (MAX_FROM_ADDRESS - len(start))


async def post_heartbeats(url: str, ids: list[str], timeout: float, longest: bool = False) -> int:
    """POST one Heartbeat per id (CONCURRENCY at a time); the number of non-200 answers."""
    import aiohttp

    from ocppsim.soap import CONTENT_TYPE, get_codec

    codec = get_codec("1.5", "cs")
    headers = {"Content-Type": CONTENT_TYPE}
    errors = 0
    queue = iter(ids)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for box in queue:
            body = codec.build_request(
                "Heartbeat",
                {},
                charge_box_id=box,
                to=url,
                message_id=f"urn:uuid:{uuid.uuid4()}",
                from_address=from_address(box, longest),
            )
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
                errors += response.status != 200

    async with aiohttp.ClientSession() as session:
        await asyncio.wait_for(
            asyncio.gather(*(worker(session) for _ in range(CONCURRENCY))), timeout
        )
    return errors


def run(name: str, ids: list[str], timeout: float, longest: bool) -> tuple[int, float, int]:
    """(RSS growth in bytes, seconds, errors) of one fresh Central System sent `ids`."""
    port = free_port()
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*ocppsim_command(), "start_cs", str(port), "-t", "soap"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, proc)
            url = f"http://127.0.0.1:{port}/"
            asyncio.run(post_heartbeats(url, [f"warm{i % 20}" for i in range(WARM_UP)], timeout))
            before = resident_bytes(proc.pid)
            started = time.perf_counter()
            errors = asyncio.run(post_heartbeats(url, ids, timeout, longest))
            seconds = time.perf_counter() - started
            grown = resident_bytes(proc.pid) - before
        finally:
            if proc.stdin is not None:
                proc.stdin.write(b"quit\n")
                proc.stdin.close()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    print(f"{name:<9} {len(ids):>8} requests {seconds:7.1f} s  RSS +{grown / 1e6:7.1f} MB", end="")
    print(f"  errors {errors}")
    return grown, seconds, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boxes", type=int, default=20000, help="requests per run")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--longest", action="store_true", help="ids and From as long as accepted")
    args = parser.parse_args(argv)
    if not Path("/proc/self/status").exists():
        print("this benchmark reads /proc: Linux only")
        return 1
    n, longest = args.boxes, args.longest
    width = MAX_CHARGE_BOX_ID if longest else 0
    one, _, _ = run("one box", ["box".ljust(width, "x")] * n, args.timeout, longest)
    ids = [f"box{i:07d}".ljust(width, "x") for i in range(n)]
    distinct, _, _ = run("distinct", ids, args.timeout, longest)
    print(f"\nper distinct box: {(distinct - one) / n:.0f} bytes (distinct - one box) / {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
