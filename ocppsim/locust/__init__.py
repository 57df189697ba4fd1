"""A fleet of simulated Charge Points on Locust (the extra `ocppsim[locust]`): each Locust user
is one Charge Point, or a shard of them, reporting every OCPP call as a Locust request, so a
Locust master with workers on several machines runs one fleet with Locust's charts and CSV
statistics.

Run it with the shipped locustfile: `locust -f $(ocppsim fleet --locustfile) --host
ws://cs:9000/ocpp`. `driver.py` is the Charge Point under gevent, `user.py` the Locust user and
its command-line options; importing this package imports neither (nor Locust, whose import
monkey-patches the process for gevent).
"""

from __future__ import annotations

from pathlib import Path


def locustfile_path() -> Path:
    """The locustfile shipped with ocppsim (what `ocppsim fleet --locustfile` prints)."""
    return Path(__file__).resolve().with_name("locustfile.py")
