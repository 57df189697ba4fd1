"""OCPP 2.1's additions to OCPP-J at the prompt, between real `ocppsim` processes: a SEND
(`notifyperiodiceventstream`) goes from a Charging Station to the CSMS, whose plugin hears it,
and nothing answers it; a CALLRESULT the CSMS's plugin makes invalid comes back as a
CALLRESULTERROR, which the CSMS logs. No other error or warning line on either side."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from harness import SimProcess, frame_of, frame_re, free_port
from ocppsim_testing import needs_version

pytestmark = needs_version("2.1")

PLUGIN = """
    system = "cs"

    BAD_BOOT = {"currentTime": "2024-01-01T00:00:00Z", "interval": 60, "status": "Bogus"}

    def on_load(api):
        api.on_send(
            "NotifyPeriodicEventStream",
            lambda payload, ctx: api.log(f"stream {payload['id']} from {ctx.charge_point_id}"),
        )
        api.on_call("BootNotification", lambda payload: BAD_BOOT)
        api.log("csms loaded")
"""


def test_a_21_send_and_a_callresulterror_round_trip_at_the_prompt(sims, tmp_path: Path) -> None:
    (tmp_path / "csms.py").write_text(textwrap.dedent(PLUGIN).lstrip())
    port = free_port()
    cs = SimProcess(["--plugins-dir", str(tmp_path), "start_cs", str(port), "-u", "/ocpp"])
    sims.started.append(cs)
    cs.expect(r"cs: Server is listening on port")
    cs.send("load csms")
    cs.expect(r"csms loaded")
    # stateless: the station sends only what the test types (its model would boot at once)
    cp = sims.cp(f"ws://127.0.0.1:{port}/ocpp", "cp21", "-p", "ocpp2.1", "--stateless")
    cs.expect(r"cs: ChargePoint #cp21 connected \(protocol: ocpp2\.1\)\.", since=0)
    cs_start, cp_start = cs.mark(), cp.mark()

    # a SEND: sent, heard by the plugin, never answered
    cp.send("notifyperiodiceventstream id=5")
    sent = cp.expect(frame_re("cp#cp21", ">>", "cs", 6, action="NotifyPeriodicEventStream"))
    stream = frame_of(sent.string)
    assert stream[3]["id"] == 5 and set(stream[3]) == {"id", "pending", "basetime", "data"}
    received = cs.expect(frame_re("cs", "<<", "cp#cp21", 6, unique_id=stream[1]))
    assert frame_of(received.string) == stream
    cs.expect(r"stream 5 from cp21")
    cp.send("heartbeat")
    beat = cp.expect(frame_re("cp#cp21", ">>", "cs", 2, action="Heartbeat"))
    cp.expect(frame_re("cp#cp21", "<<", "cs", 3, unique_id=beat["uid"]))
    answers = [line for line in cp.lines()[cp_start:] if "cp#cp21: <<cs " in line]
    assert len(answers) == 1  # the Heartbeat's: nothing answered the SEND

    # a CALLRESULT that breaks its schema: refused back with a CALLRESULTERROR
    reason = "status: 'Bogus' is not one of Accepted, Pending, Rejected"
    cp.send("bootnotification")
    boot = cp.expect(frame_re("cp#cp21", ">>", "cs", 2, action="BootNotification"))
    uid = boot["uid"]
    cp.expect(frame_re("cp#cp21", "<<", "cs", 3, unique_id=uid))
    cp.expect(
        rf"cp#cp21: WARNING : PropertyConstraintViolation for CALLRETURN #{uid} "
        rf"\({re.escape(reason)}\)"
    )
    rejected = cp.expect(frame_re("cp#cp21", ">>", "cs", 5, unique_id=uid))
    expected = [5, uid, "PropertyConstraintViolation", reason, {"field": "status"}]
    assert frame_of(rejected.string) == expected
    got = cs.expect(frame_re("cs", "<<", "cp#cp21", 5, unique_id=uid))
    assert frame_of(got.string) == expected
    error = (
        rf"cs: Error: PropertyConstraintViolation for our CALLRETURN #{uid} to BootNotification "
        rf"\({re.escape(reason)}\)"
    )
    cs.expect(error)
    cp.send("heartbeat")  # the CALLRESULTERROR is not answered either
    beat = cp.expect(frame_re("cp#cp21", ">>", "cs", 2, action="Heartbeat"))
    cp.expect(frame_re("cp#cp21", "<<", "cs", 3, unique_id=beat["uid"]))
    answers = [line for line in cp.lines()[cp_start:] if "cp#cp21: <<cs " in line]
    assert [frame_of(line)[0] for line in answers] == [3, 3, 3]

    expected_lines = [rf"#{uid}\b", rf'\[5,"{uid}"']
    assert cp.errors(cp_start, ignore=expected_lines) == []
    assert cs.errors(cs_start, ignore=[error, rf'\[5,"{uid}"', r'\[3,"' + uid]) == []
