"""OCPP 2.0.1 and 2.1 at the prompt, as the registry defines them: one Central System (the CSMS)
serves a 1.5 Charge Point and 2.x Charging Stations at once, each in the version it
negotiated; every CP command and every remote_ command of a 2.x version is sent with its
default payload and answered with a CALLRESULT, and no side logs an error or a warning (each
payload is checked against OCA's schemas on both sides)."""

from __future__ import annotations

import re

import pytest
from harness import SimProcess, frame_of, frame_re, free_port
from ocppsim_testing import needs_version

from ocppsim.core import versions
from ocppsim.core.validation import load_schema

VERSIONS_2X = [
    pytest.param(v.name, marks=needs_version(v.name), id=v.subprotocol)
    for v in versions.registered()
    if v.handles("cs", "TransactionEvent")
]


def commands(version: str, service: str) -> dict[str, str]:
    """The prompt command of each action of `service` in `version` (the registry's)."""
    entry = versions.get(version)
    return {versions.command_name(service, a): a for a in entry.actions[service]}  # type: ignore[arg-type]


def call(sender: SimProcess, me: str, peer: str, receiver: SimProcess, line: str, action: str):
    """Type `line` at `sender`: its CALL (the first of `action` after the line: a Charge
    Point's model may have sent one before) and the CALLRESULT, seen on both sides."""
    mark = sender.send(line)
    sent = sender.expect(frame_re(me, ">>", peer, 2, action=action), since=mark)
    uid = sent["uid"]
    result = sender.expect(frame_re(me, "<<", peer, 3, unique_id=uid), timeout=35)
    receiver.expect(frame_re(peer, "<<", me, 2, action=action, unique_id=uid), since=0)
    receiver.expect(frame_re(peer, ">>", me, 3, unique_id=uid))
    return frame_of(result.string)


def rebooted(cs: SimProcess, cp: SimProcess, cp_id: str) -> None:
    """After a Reset the Charge Point's model reboots: it connects again and boots."""
    cp.expect(rf"cp#{cp_id}: Rebooting \(\w+\)\.")
    cs.expect(rf"cs: ChargePoint #{cp_id} connected")
    boot = cp.expect(frame_re(f"cp#{cp_id}", ">>", "cs", 2, action="BootNotification"))
    cp.expect(frame_re(f"cp#{cp_id}", "<<", "cs", 3, unique_id=boot["uid"]))


@pytest.mark.parametrize("version", VERSIONS_2X)
def test_every_action_of_a_2x_version_both_ways_with_no_error_line(sims, version: str) -> None:
    entry = versions.get(version)
    port = free_port()
    served = f"ocpp1.5,{entry.subprotocol}"
    cs = sims.cs(port, "-u", "/ocpp", "-p", served)
    url = f"ws://127.0.0.1:{port}/ocpp"
    old = sims.cp(url, "cp15", "-p", "ocpp1.5")
    cp_id = "cp" + version.replace(".", "")
    cp = sims.cp(url, cp_id, "-p", entry.subprotocol)
    for who, protocol in (("cp15", "ocpp1.5"), (cp_id, entry.subprotocol)):
        cs.expect(
            rf"cs: ChargePoint #{who} connected \(protocol: {re.escape(protocol)}\)\.", since=0
        )
    marks = cs.mark(), cp.mark(), old.mark()
    me = f"cp#{cp_id}"
    cp_commands, cs_commands = commands(version, "cs"), commands(version, "cp")
    assert (len(cp_commands), len(cs_commands)) == (
        len(entry.actions["cs"]),
        len(entry.actions["cp"]),
    )
    for line, action in cp_commands.items():
        assert frame_of_result(call(cp, me, "cs", cs, line, action))
    for line, action in cs_commands.items():
        line = f"{line} --remote-id {cp_id}"
        assert frame_of_result(call(cs, "cs", me, cp, line, action))
        if action == "Reset":  # OnIdle, with nothing going on: the station reboots at once
            rebooted(cs, cp, cp_id)
    # the same commands serve the 1.5 Charge Point in its own version
    answer = call(old, "cp#cp15", "cs", cs, "bootnotification", "BootNotification")
    assert "heartbeatInterval" in answer[2]
    answer = call(cs, "cs", "cp#cp15", old, "remote_reset --remote-id cp15", "Reset")
    assert answer[2] == {"status": "Accepted"}
    rebooted(cs, old, "cp15")
    assert cs.errors(marks[0]) == [] and cp.errors(marks[1]) == [] and old.errors(marks[2]) == []


def frame_of_result(frame: list) -> bool:
    """True for a CALLRESULT whose payload is an object."""
    return frame[0] == 3 and isinstance(frame[2], dict)


def test_one_central_system_serves_every_version_at_once(sims) -> None:
    """`start_cs` with no `-p` serves every version installed: a 1.2, a 1.5, a 1.6, a 2.0.1
    and a 2.1 Charge Point each speak their own version to the same CSMS."""
    port = free_port()
    cs = sims.cs(port, "-u", "/ocpp")
    url = f"ws://127.0.0.1:{port}/ocpp"
    cps = {}
    for entry in versions.all_versions():
        cp_id = "cp" + entry.name.replace(".", "")
        cps[cp_id] = (entry, sims.cp(url, cp_id, "-p", entry.subprotocol))
        cs.expect(
            rf"cs: ChargePoint #{cp_id} connected \(protocol: {re.escape(entry.subprotocol)}\)"
        )
    mark = cs.mark()
    for cp_id, (entry, cp) in cps.items():
        boot = call(cp, f"cp#{cp_id}", "cs", cs, "bootnotification", "BootNotification")
        assert boot[2]["status"] == "Accepted"
        boot_answer = load_schema(entry.name, "BootNotificationResponse")["properties"]
        interval = "interval" if "interval" in boot_answer else "heartbeatInterval"  # 1.6 on
        assert interval in boot[2], entry.name
        reset = call(cs, "cs", f"cp#{cp_id}", cp, f"remote_reset --remote-id {cp_id}", "Reset")
        assert reset[2]["status"] == "Accepted"
        rebooted(cs, cp, cp_id)
    assert cs.errors(mark) == []
