"""Load client for `bench_ws.py`: N websocket clients, each sending sequential Heartbeat CALLs.

    python bench/load_client.py ws://127.0.0.1:9000/ocpp --clients 50 --calls 100

Client `i` connects to `<url>/<prefix><i>` offering the subprotocol (`ocpp1.5` by default);
once all are connected, each sends `[2,"<id>","Heartbeat",{}]` and awaits its answer,
`--calls` times. Prints one JSON line: clients, calls, answered, errors (answers that are
not the CALLRESULT of that id), seconds (from the first CALL to the last answer) and
calls_per_s. Stops by itself after `--timeout` seconds (then `timed_out` is true).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


async def one_client(
    ws: ClientConnection, index: int, calls: int, start: asyncio.Event, counts: dict[str, int]
) -> None:
    await start.wait()
    for n in range(calls):
        unique_id = f"c{index}n{n}"
        await ws.send(f'[2,"{unique_id}","Heartbeat",{{}}]')
        answer = json.loads(await ws.recv())
        if isinstance(answer, list) and answer[:2] == [3, unique_id]:
            counts["answered"] += 1
        else:
            counts["errors"] += 1


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = {"answered": 0, "errors": 0}
    start = asyncio.Event()
    base = args.url.rstrip("/")
    connections = [
        await connect(
            f"{base}/{args.prefix}{i}",
            subprotocols=[args.protocol],  # type: ignore[list-item]
            compression="deflate" if args.compression else None,
            open_timeout=10,
            ping_interval=None,
            max_size=None,
        )
        for i in range(args.clients)
    ]
    tasks = [
        asyncio.create_task(one_client(ws, i, args.calls, start, counts))
        for i, ws in enumerate(connections)
    ]
    seconds, timed_out = await timed(tasks, start, args.timeout)
    for ws in connections:
        await ws.close()
    return summary(args, counts, seconds, timed_out)


async def timed(
    tasks: list[asyncio.Task[None]], start: asyncio.Event, timeout: float
) -> tuple[float, bool]:
    """Release the clients at once and wait for them (at most `timeout`): (seconds, timed out)."""
    began = time.perf_counter()
    start.set()
    timed_out = False
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)
    except asyncio.TimeoutError:
        timed_out = True
    return time.perf_counter() - began, timed_out


def summary(
    args: argparse.Namespace, counts: dict[str, int], seconds: float, timed_out: bool
) -> dict[str, Any]:
    """The JSON line a load client prints."""
    return {
        "clients": args.clients,
        "calls": args.calls,
        "answered": counts["answered"],
        "errors": counts["errors"],
        "seconds": round(seconds, 4),
        "calls_per_s": round(counts["answered"] / seconds, 1) if seconds > 0 else 0.0,
        "timed_out": timed_out,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="base websocket URL; the client id is appended")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--calls", type=int, default=100, help="sequential CALLs per client")
    parser.add_argument("--protocol", default="ocpp1.5")
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--compression", action="store_true", help="offer permessage-deflate")
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    return 0 if not result["timed_out"] and result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
