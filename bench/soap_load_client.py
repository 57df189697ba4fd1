"""Load client for `bench_soap.py`: N HTTP clients, each posting sequential SOAP requests.

    python bench/soap_load_client.py http://127.0.0.1:9000/ --clients 20 --calls 100 \
        --action Heartbeat

Client `i` is charge box `<prefix><i>`; its request envelope (OCPP 1.5, built once with
ocppsim's codec, `From` set) is posted `--calls` times in a row, each answer awaited. An
answer counts when it is HTTP 200 and holds the action's response element. Prints one
JSON line: clients, calls, action, answered, errors, seconds, calls_per_s, timed_out.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

import aiohttp
from load_client import summary, timed

from ocppsim.core.defaults import default_payload
from ocppsim.soap import CONTENT_TYPE, get_codec


def envelope(action: str, box: str, url: str) -> bytes:
    """The request of `action` from charge box `box`, with the default payload."""
    return get_codec("1.5", "cs").build_request(
        action,
        default_payload("1.5", action + "Request"),
        charge_box_id=box,
        to=url,
        message_id=f"urn:uuid:bench-{box}",
        from_address="http://127.0.0.1:9/",
    )


async def one_client(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    expected: bytes,
    calls: int,
    start: asyncio.Event,
    counts: dict[str, int],
    headers: dict[str, str],
) -> None:
    await start.wait()
    for _ in range(calls):
        try:
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.read()
        except aiohttp.ClientError:
            counts["errors"] += 1
            continue
        if response.status == 200 and expected in answer:
            counts["answered"] += 1
        else:
            counts["errors"] += 1


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = {"answered": 0, "errors": 0}
    start = asyncio.Event()
    action = args.action
    expected = (action[0].lower() + action[1:] + "Response").encode()
    headers = {"Content-Type": f'{CONTENT_TYPE}; action="/{action}"'}
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        tasks = [
            asyncio.create_task(
                one_client(
                    session,
                    args.url,
                    envelope(action, f"{args.prefix}{i}", args.url),
                    expected,
                    args.calls,
                    start,
                    counts,
                    headers,
                )
            )
            for i in range(args.clients)
        ]
        seconds, timed_out = await timed(tasks, start, args.timeout)
    return {**summary(args, counts, seconds, timed_out), "action": action}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the Central System's SOAP endpoint URL")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--calls", type=int, default=100, help="sequential requests per client")
    parser.add_argument("--action", default="Heartbeat", choices=["Heartbeat", "BootNotification"])
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    return 0 if not result["timed_out"] and result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
