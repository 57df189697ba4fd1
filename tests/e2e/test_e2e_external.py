"""The original's CP test against any Central System (SPEC §9), `ocppsim.testing.
check_central_system`: point it at yours with

    OCPPSIM_EXTERNAL_CS=ws://my-cs:9000/ocpp pytest tests/e2e/test_e2e_external.py

(`OCPPSIM_EXTERNAL_PROTOCOL=ocpp1.2`, `ocpp1.6` or `ocpp2.0.1`, `OCPPSIM_EXTERNAL_TRANSPORT=soap`
for the others).
Without it, the same check runs against ocppsim Central Systems (`ocppsim` processes), sound
ones of every version and one that answers Heartbeat with a wrong date, so the check itself is
tested.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from harness import SimProcess, check_central_system, free_port

from ocppsim.core import versions

EXTERNAL = os.environ.get("OCPPSIM_EXTERNAL_CS")

BAD_CS_PLUGIN = """
def on_load(api):
    api.on_call("Heartbeat", lambda payload: {"currentTime": "yesterday"})
    api.log("bad_cs loaded")
"""


@pytest.mark.skipif(not EXTERNAL, reason="set OCPPSIM_EXTERNAL_CS to test your Central System")
def test_every_cp_command_against_an_external_central_system() -> None:
    assert EXTERNAL is not None
    problems = check_central_system(
        EXTERNAL,
        os.environ.get("OCPPSIM_EXTERNAL_PROTOCOL", "ocpp1.5"),
        os.environ.get("OCPPSIM_EXTERNAL_TRANSPORT", "websocket"),
    )
    assert problems == []


@pytest.mark.parametrize(
    "protocol, transport",
    [
        *((entry.subprotocol, "websocket") for entry in versions.all_versions()),
        *((entry.subprotocol, "soap") for entry in versions.with_transport("soap")),
    ],
)
def test_the_check_passes_on_a_sound_central_system(sims, protocol: str, transport: str) -> None:
    port = free_port()
    if transport == "soap":
        cs = sims.raw("start_cs", str(port), "-t", "soap")
        cs.expect(r"cs: SOAP Server listening on port")
        url = f"http://127.0.0.1:{port}/"
    else:
        sims.cs(port, "-u", "/ocpp")
        url = f"ws://127.0.0.1:{port}/ocpp"
    assert check_central_system(url, protocol, transport) == []


def test_the_check_reports_a_central_system_that_answers_badly(sims, tmp_path: Path) -> None:
    (tmp_path / "bad_cs.py").write_text(BAD_CS_PLUGIN)
    port = free_port()
    cs = SimProcess(["--plugins-dir", str(tmp_path), "start_cs", str(port)], name="bad cs")
    sims.started.append(cs)
    cs.expect(r"cs: Server is listening on port")
    cs.send("load bad_cs")
    cs.expect(r"bad_cs loaded")
    problems = check_central_system(f"ws://127.0.0.1:{port}")
    assert problems == [
        "the answer to Heartbeat breaks its schema: currentTime: 'yesterday' is not a valid"
        " date-time (TypeConstraintViolation)"
    ]
