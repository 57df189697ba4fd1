"""Validations per second of ocppsim's validator on valid payloads, against two baselines.

    python bench/bench_validation.py [--seconds 1.0]

For a few representative messages (an empty Heartbeat, a BootNotification, the nested 1.5
MeterValues) it measures `ocppsim.core.validation.validate` (a fastjsonschema fast path for
valid payloads, jsonschema to explain failures), the reference `jsonschema` validator alone
(what `validate` cost before the fast path), and a bare fastjsonschema validator of the same
committed schema (the floor). Ratios: ours/jsonschema (the speed-up) and ours/floor.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ocppsim.core.defaults import default_payload
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
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


if __name__ == "__main__":
    main()
