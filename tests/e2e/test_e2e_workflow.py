"""A user's workflow at the prompt of real `ocppsim` processes: a start that fails for good,
a URL that can never work, stopping and starting again without `quit`."""

from __future__ import annotations

import re

from conftest import Sims
from harness import SimProcess, frame_re


def test_start_fail_stop_and_start_again_without_quitting(sims: Sims, port: int) -> None:
    cs = sims.cs(port, "-u", "/ocpp")
    url = f"ws://127.0.0.1:{port}/ocpp"
    cp = SimProcess([], name="cp", env={"OCPPSIM_RETRY_SECONDS": "30"})
    sims.started.append(cp)

    cp.send(f"start_cp ws://127.0.0.1:{port}/wrong cpA")
    cp.expect(r"cp#cpA: Connect Error: 404 Not Found\. Wrong endpoint URL\.$")
    cp.expect(r"cp#cpA: Charge point removed: fix its URL or options and start_cp it again\.")
    cp.send(f"start_cp {url} cpA")  # the same id again
    cp.expect(r"cp#cpA: Connected to Central System\.")
    mark = cp.send("start_cp ws://127.0.0.1:99999/x cpB")
    cp.expect(
        re.escape("Error: invalid URL 'ws://127.0.0.1:99999/x': port 99999 is not a number"),
        since=mark,
    )
    mark = cp.send("heartbeat")  # cpA is the only charge point: the shortened command works
    beat = cp.expect(frame_re("cp#cpA", ">>", "cs", 2, action="Heartbeat"), since=mark)
    cp.expect(frame_re("cp#cpA", "<<", "cs", 3, unique_id=beat["uid"]))

    cs.send("stop_cs")
    cs.expect(r"\] CentralSystem stopped\.$")
    cp.expect(r"cp#cpA: Connection lost \(1001 going away\), retry in 30 seconds\.")
    mark = cp.send("heartbeat")
    cp.expect(r"^Error: cp#cpA is not connected \(reconnecting, next try in \d+ s\)\.$", since=mark)
    mark = cs.send(f"start_cs {port} -u /ocpp")  # the port is free again
    cs.expect(rf"cs: Server is listening on port {port}$", since=mark)

    cp.send("stop_cp cpA")  # stops its retries
    cp.expect(r"cp#cpA: Charge point stopped\.")
    cp.send(f"start_cp {url} cpA")
    cp.expect(r"cp#cpA: Connected to Central System\.")
    cs.expect(r"cs: ChargePoint #cpA connected")
    mark = cs.send("remote_clearcache")
    cs.expect(frame_re("cs", "<<", "cp#cpA", 3), since=mark)

    assert "Traceback" not in "\n".join(cp.lines() + cs.lines())
    expected = (r"404 Not Found", r"invalid URL", r"Connection lost", r"is not connected")
    assert cp.errors(ignore=expected) == []
    # the CS says who came to the wrong path, and only that
    assert cs.errors() == [
        line for line in cs.errors() if "/wrong/cpA is not under the endpoint /ocpp." in line
    ]
    assert len(cs.errors()) == 1
