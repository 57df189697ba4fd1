"""Validations per second of ocppsim's validator on valid payloads, against two baselines.

    python bench/bench_validation.py [--seconds 1.0]

For a few representative messages (an empty Heartbeat, a BootNotification, the nested 1.5
MeterValues) it measures `ocppsim.core.validation.validate` (a fastjsonschema fast path for
valid payloads, jsonschema to explain failures), the reference `jsonschema` validator alone
(what `validate` cost before the fast path), and a bare fastjsonschema validator of the same
committed schema (the floor). Ratios: ours/jsonschema (the speed-up) and ours/floor.

Then the cost of refusing against the cost of accepting, on a 4 MB MeterValues CALL whose
last timestamp is bad (a peer that makes the explanation expensive): the time one
`RpcSession.receive` takes to refuse that frame over the time it takes to accept the same
frame with a good timestamp (parsing included), and the same ratio for `validate` alone.
Target: refuse/accept <= 1.5. Each is measured `--repeat` times; min, median and max shown.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ocppsim.core.defaults import default_payload
from ocppsim.core.rpc import CallReceived, CallRefused, RpcSession, dumps
from ocppsim.core.validation import fast_validator_for, validate, validator_for

CASES = [
    ("1.5", "HeartbeatRequest"),
    ("1.5", "BootNotificationRequest"),
    ("1.5", "StartTransactionRequest"),
    ("1.5", "MeterValuesRequest"),
]


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second of `fn` over about `seconds`."""
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(200):
            fn()
        count += 200
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def meter_values(size: int, bad_last: bool) -> dict[str, Any]:
    """A MeterValues payload of about `size` bytes of JSON; the last timestamp bad if asked."""
    item = {
        "timestamp": "2024-05-01T12:00:00Z",
        "values": [{"value": "123456", "unit": "Wh", "measurand": "Energy.Active.Import.Register"}],
    }
    count = size // len(dumps(item))
    values = [dict(item) for _ in range(count)]
    if bad_last:
        values[-1] = {**item, "timestamp": "not-a-date"}
    return {"connectorId": 1, "values": values}


def seconds_of(fn: Callable[[], Any]) -> float:
    """Seconds one call of `fn` takes (after a full collection, so no GC pause lands in it)."""
    gc.collect()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def refusal(size: int, repeat: int) -> None:
    """Refuse/accept ratios on a big MeterValues whose last timestamp is bad."""
    good, bad = meter_values(size, False), meter_values(size, True)
    good_frame = dumps([2, "good", "MeterValues", good])
    bad_frame = dumps([2, "bad", "MeterValues", bad])
    session = RpcSession("1.5", "cs")
    assert isinstance(session.receive(good_frame), CallReceived)
    assert isinstance(session.receive(bad_frame), CallRefused)
    message = "MeterValuesRequest"
    rows: dict[str, list[tuple[float, float]]] = {"receive": [], "validate": []}
    for _ in range(repeat):
        accept = seconds_of(partial(session.receive, good_frame))
        refuse = seconds_of(partial(session.receive, bad_frame))
        rows["receive"].append((accept, refuse))
        accept = seconds_of(partial(validate, "1.5", message, good))
        refuse = seconds_of(partial(validate, "1.5", message, bad))
        rows["validate"].append((accept, refuse))
    print()
    print(f"refusing vs accepting a {len(bad_frame) / 1e6:.1f} MB MeterValues (bad last timestamp)")
    header = f"{'step':<10} {'accept s':>9} {'refuse s':>9} {'refuse/accept min':>18}"
    print(f"{header} {'median':>7} {'max':>6}")
    for step, pairs in rows.items():
        ratios = [refuse / accept for accept, refuse in pairs]
        accept = statistics.median(a for a, _ in pairs)
        refuse = statistics.median(r for _, r in pairs)
        print(
            f"{step:<10} {accept:>9.3f} {refuse:>9.3f} {min(ratios):>18.2f}"
            f" {statistics.median(ratios):>7.2f} {max(ratios):>6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--size", type=int, default=4_000_000, help="bytes of the big frame")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'message':<28} {'ocppsim/s':>11} {'jsonschema/s':>13} {'floor/s':>11}"
        f" {'ours/jsonschema':>16} {'ours/floor':>11}"
    )
    for version, message in CASES:
        payload = default_payload(version, message)
        assert validate(version, message, payload) is None
        ours = rate(partial(validate, version, message, payload), args.seconds)
        reference = validator_for(version, message)
        slow = rate(partial(reference.is_valid, payload), args.seconds)
        floor = rate(partial(fast_validator_for(version, message), payload), args.seconds)
        print(
            f"{message:<28} {ours:>11,.0f} {slow:>13,.0f} {floor:>11,.0f}"
            f" {ours / slow:>16.1f} {ours / floor:>11.2f}"
        )
    refusal(args.size, args.repeat)


if __name__ == "__main__":
    main()
