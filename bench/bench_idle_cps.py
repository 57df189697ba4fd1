"""Memory an idle simulated Charge Point costs in one process: with its model and timer (the
default) against a stateless one (`--stateless`: no model, no timer), both connected to an
ocppsim Central System.

Usage (from the repository root, with the project's venv; Linux, it reads /proc):

    python bench/bench_idle_cps.py                 # 2000 Charge Points, OCPP 1.6
    python bench/bench_idle_cps.py --cps 500 --protocol ocpp2.0.1

Each run is a fresh subprocess of this script (`--run model|stateless`) against one
`ocppsim start_cs` subprocess: it starts N Charge Points in its own event loop, waits until
every one is connected and (with a model) booted, its StatusNotifications answered and its
outbox empty, then reports its resident memory (VmRSS) growth from before the first one, the
asyncio tasks left and the timers (a heartbeat timer per modelled Charge Point). Printed:
bytes per Charge Point in each run, and their difference: what the model, its driver and its
timer add to a connected Charge Point. Numbers depend on the machine and the allocator. This
is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_ws import free_port, ocppsim_command, wait_for_port


def resident_bytes() -> int:
    """VmRSS of this process (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc: Linux only")


async def one_run(port: int, count: int, protocol: str, stateless: bool) -> dict[str, float]:
    """Start `count` Charge Points in this process; what they cost once idle."""
    from ocppsim.core.events import EventBus
    from ocppsim.sim.charge_point import ChargePoint
    from ocppsim.sim.resources import Resources

    bus = EventBus()  # no log: what is measured is the Charge Points
    resources = Resources()
    warm = ChargePoint(
        f"ws://127.0.0.1:{port}/ocpp",
        "warm",
        version=protocol,
        bus=bus,
        resources=resources,
        behave=not stateless,
    )
    warm.start()
    await warm.ready()
    if warm.driver is not None:
        await warm.driver.idle()
    gc.collect()
    before = resident_bytes()
    started = time.perf_counter()
    cps = []
    for index in range(count):
        cp = ChargePoint(
            f"ws://127.0.0.1:{port}/ocpp",
            f"cp{index:05d}",
            version=protocol,
            bus=bus,
            resources=resources,
            behave=not stateless,
        )
        cp.start()
        cps.append(cp)
        if index % 100 == 99:  # do not flood the Central System's accept queue
            await asyncio.gather(*(c.ready() for c in cps[-100:]))
    for cp in cps:
        await cp.ready()
    for cp in cps:
        if cp.driver is not None:
            await cp.driver.idle()
    await asyncio.sleep(0.2)  # the dialling tasks end right after their connection
    gc.collect()
    after = resident_bytes()
    tasks = len(asyncio.all_tasks()) - 1
    timers = sum(1 for cp in cps if cp.driver is not None and cp.driver._timer is not None)
    booted = sum(1 for cp in cps if cp.model is not None and cp.model.registration == "Accepted")
    result = {
        "per_cp": (after - before) / count,
        "tasks": tasks,
        "timers": timers,
        "booted": booted,
        "seconds": time.perf_counter() - started,
    }
    for cp in [warm, *cps]:
        await cp.stop()
    await resources.close()
    return result


def measure(port: int, count: int, protocol: str, kind: str) -> dict[str, float]:
    """One run in a fresh interpreter."""
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--run",
            kind,
            "--port",
            str(port),
            "--cps",
            str(count),
            "--protocol",
            protocol,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cps", type=int, default=2000)
    parser.add_argument("--protocol", default="ocpp1.6")
    parser.add_argument("--run", choices=("model", "stateless"))
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.run:
        result = asyncio.run(one_run(args.port, args.cps, args.protocol, args.run == "stateless"))
        print(json.dumps(result))
        return
    port = free_port()
    with tempfile.TemporaryFile() as log:
        cs = subprocess.Popen(
            [*ocppsim_command(), "start_cs", str(port), "-u", "/ocpp", "-i", "0"],
            stdin=subprocess.PIPE,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for_port(port, cs)
            stateless = measure(port, args.cps, args.protocol, "stateless")
            model = measure(port, args.cps, args.protocol, "model")
        finally:
            cs.terminate()
            cs.wait(10)
    print(f"{args.cps} idle Charge Points ({args.protocol}) in one process, connected:")
    for name, run in (("stateless", stateless), ("with model", model)):
        print(
            f"  {name:<11} {run['per_cp'] / 1024:7.1f} KiB each, {int(run['tasks'])} tasks,"
            f" {int(run['timers'])} timers, {int(run['booted'])} booted, started in"
            f" {run['seconds']:.1f} s"
        )
    extra = model["per_cp"] - stateless["per_cp"]
    print(
        f"  the model, its driver and timer: {extra / 1024:+.1f} KiB per Charge Point"
        f" ({model['per_cp'] / max(stateless['per_cp'], 1):.2f}x a stateless one)"
    )


if __name__ == "__main__":
    main()
