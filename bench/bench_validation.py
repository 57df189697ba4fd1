"""Validations per second of ocppsim's validator, against fastjsonschema on the same schemas.

    python bench/bench_validation.py [--seconds 1.0]

For a few representative messages (an empty Heartbeat, a BootNotification, the nested 1.5
MeterValues) it measures `ocppsim.core.validation.validate` (jsonschema, formats checked,
first failure mapped to its OCPP code) and a fastjsonschema-compiled validator of the same
committed schema (when fastjsonschema is installed), and prints both rates and their ratio.
The ratio says whether a faster validator would be worth its dependency on the hot path.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import load_schema, validate

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
    try:
        import fastjsonschema
    except ImportError:
        fastjsonschema = None
    print(f"{'message':<28} {'ocppsim/s':>12} {'fastjsonschema/s':>17} {'ratio':>7}")
    for version, message in CASES:
        payload = default_payload(version, message)
        assert validate(version, message, payload) is None
        ours = rate(partial(validate, version, message, payload), args.seconds)
        line = f"{message:<28} {ours:>12,.0f}"
        if fastjsonschema is not None:
            compiled = fastjsonschema.compile(load_schema(version, message))
            theirs = rate(partial(compiled, payload), args.seconds)
            line += f" {theirs:>17,.0f} {ours / theirs:>7.2f}"
        print(line)


if __name__ == "__main__":
    main()
