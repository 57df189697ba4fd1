"""Interop with an independent OCPP-J implementation, the npm package `ocpp-rpc`.

Our CP against their CS (`bench/node/cs.js`) and their CP (`bench/node/cp.js`) against our
CS. The fixture installs ocpp-rpc into `bench/node` with npm the first time; skipped when `node`
or `npm` is missing, when the npm registry cannot be reached (a failure instead under `CI=true`
or `OCPPSIM_INTEROP=1`), or with `OCPPSIM_INTEROP=0`.
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from harness import SimProcess, frame_of, frame_re, free_port
from ocppsim_testing import NODE_DIR, ocpp_rpc_node

PROTOCOLS = ["ocpp1.2", "ocpp1.5"]


@pytest.fixture(scope="module")
def node() -> str:
    """The `node` executable, with ocpp-rpc installed next to the scripts (by npm, once)."""
    return ocpp_rpc_node()


def events(sim: SimProcess) -> list[dict[str, Any]]:
    """The JSON lines a node script printed."""
    found = []
    for line in sim.lines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def expect_event(sim: SimProcess, **fields: str) -> dict[str, Any]:
    """Wait for a JSON event line whose fields have the given values."""
    pattern = "".join(rf'(?=.*"{re.escape(k)}":"{re.escape(v)}")' for k, v in fields.items())
    line = sim.expect(rf"^\{{{pattern}").string
    event = json.loads(line)
    assert isinstance(event, dict)
    return event


def assert_recent(text: str) -> None:
    when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - when).total_seconds()) < 120, text


@pytest.fixture
def their_cs(node: str) -> Iterator[tuple[SimProcess, int]]:
    sim = SimProcess(
        [str(NODE_DIR / "cs.js"), "0", "--verbose"],
        name="ocpp-rpc-cs",
        command=[node],
        goodbye=None,
    )
    try:
        port = int(sim.expect(r"^LISTENING (\d+)$")[1])
        yield sim, port
    finally:
        sim.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_our_cp_against_their_cs(sims, their_cs: tuple[SimProcess, int], protocol: str) -> None:
    cs, port = their_cs
    cp = sims.cp(f"ws://127.0.0.1:{port}/ocpp", "ours", "-p", protocol)
    expect_event(cs, event="connected", identity="ours", protocol=protocol)

    for command, action in [("bootnotification", "BootNotification"), ("heartbeat", "Heartbeat")]:
        cp.send(command)
        uid = cp.expect(frame_re("cp#ours", ">>", "cs", 2, action=action))["uid"]
        result = cp.expect(frame_re("cp#ours", "<<", "cs", 3, unique_id=uid))
        answer = frame_of(result.string)[2]
        assert_recent(answer["currentTime"])
        received = expect_event(cs, event="call", identity="ours", method=action)
        if action == "BootNotification":
            assert received["params"]["chargePointVendor"] == "DBT"
            assert answer["status"] == "Accepted"

    # their CS calls our CP
    cs.send('call ours Reset {"type":"Soft"}')
    assert expect_event(cs, event="result", method="Reset")["result"] == {"status": "Accepted"}
    cp.expect(r'cp#ours: <<cs \[2,"[^"]+","Reset",\{"type":"Soft"\}\]')
    assert cp.errors() == []
    assert [e for e in events(cs) if e["event"] == "error"] == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_their_cp_against_our_cs(sims, node: str, protocol: str) -> None:
    port = free_port()
    cs = sims.cs(port, "-u", "/ocpp")
    cp = SimProcess(
        [str(NODE_DIR / "cp.js"), f"ws://127.0.0.1:{port}/ocpp", "theirs", protocol],
        name="ocpp-rpc-cp",
        command=[node],
        goodbye=None,
    )
    try:
        assert expect_event(cp, event="connected")["protocol"] == protocol
        cs.expect(rf"cs: ChargePoint #theirs connected \(protocol: {re.escape(protocol)}\)\.")
        boot = expect_event(cp, event="result", method="BootNotification")["result"]
        assert boot["status"] == "Accepted"
        assert isinstance(boot["heartbeatInterval"], int)
        assert_recent(boot["currentTime"])
        heartbeat = expect_event(cp, event="result", method="Heartbeat")["result"]
        assert list(heartbeat) == ["currentTime"]
        assert_recent(heartbeat["currentTime"])
        expect_event(cp, event="booted")

        # a call our CS cannot accept is refused with a CALLERROR they understand
        cp.send('call Authorize {"idTag":12345}')
        refused = expect_event(cp, event="error", method="Authorize")
        assert refused["code"] == "TypeConstraintViolation"
        assert refused["message"] == "idTag: 12345 is not of type string"  # they read why
        assert refused["details"] == {"field": "idTag"}

        # our CS calls their CP
        accepted = r'\{"status":"Accepted"\}'
        for command, action in [
            ("remote_reset type=Soft", "Reset"),
            ("remote_clearcache", "ClearCache"),
        ]:
            cs.send(command)
            uid = cs.expect(frame_re("cs", ">>", "cp#theirs", 2, action=action))["uid"]
            cs.expect(frame_re("cs", "<<", "cp#theirs", 3, unique_id=uid) + accepted)
            expect_event(cp, event="call", method=action)
        assert cs.errors(ignore=("TypeConstraintViolation",)) == []
        assert [e for e in events(cp) if e["event"] == "error" and e["method"] != "Authorize"] == []
    finally:
        cp.close()


# ------------------------------------------------------- security profile 2 (TLS, Basic auth)


def test_their_cp_with_a_password_over_wss_against_our_cs(sims, node: str, certs) -> None:
    """ocpp-rpc's client (`password`, a `wss://` URL, the test CA) at our profile-2 CS; a
    wrong password is refused with 401 at both ends."""
    port = free_port()
    cs = sims.cs(
        port,
        "-u",
        "/ocpp",
        "--tls-cert",
        certs.server,
        "--tls-key",
        certs.server_key,
        "--auth",
        "theirs:their-password-16+,other:x",
    )
    cs.expect(r"cs: wss on port \d+, profile 2 \(Basic auth: 2 charge points; server certificate")
    url = f"wss://localhost:{port}/ocpp"

    def their_cp(password: str) -> SimProcess:
        return SimProcess(
            [
                str(NODE_DIR / "cp.js"),
                url,
                "theirs",
                "ocpp1.6",
                "--password",
                password,
                "--ca",
                certs.ca,
            ],
            name="ocpp-rpc-cp",
            command=[node],
            goodbye=None,
        )

    cp = their_cp("their-password-16+")
    try:
        assert expect_event(cp, event="connected")["protocol"] == "ocpp1.6"
        cs.expect(r"cs: ChargePoint #theirs connected \(protocol: ocpp1\.6, profile 2\)\.")
        assert expect_event(cp, event="result", method="BootNotification")["result"]["status"] == (
            "Accepted"
        )
        cs.send("remote_reset --remote-id theirs type=Soft")
        expect_event(cp, event="call", method="Reset")
    finally:
        cp.close()
    wrong = their_cp("not-their-password")
    try:
        failed = expect_event(wrong, event="error", method="connect")
        assert failed["message"] == "Unauthorized"  # ocpp-rpc's text for a 401
        cs.expect(
            r"cs: Error: connection of #theirs refused \(HTTP 401 Unauthorized\): wrong "
            r"password for theirs\.$"
        )
    finally:
        wrong.close()
    assert cs.errors(ignore=("refused \\(HTTP 401",)) == []


@pytest.fixture
def their_secure_cs(node: str, certs) -> Iterator[tuple[SimProcess, int]]:
    """ocpp-rpc's server on wss:// (the test server certificate), requiring Basic auth."""
    sim = SimProcess(
        [
            str(NODE_DIR / "cs.js"),
            "0",
            "--tls-cert",
            certs.server,
            "--tls-key",
            certs.server_key,
            "--password",
            "ours:our-password-16chars",
            "--password-hex",
            "keyed:0001020304050607ffffffcccccccccccc",
        ],
        name="ocpp-rpc-cs",
        command=[node],
        goodbye=None,
    )
    try:
        port = int(sim.expect(r"^LISTENING (\d+)$")[1])
        yield sim, port
    finally:
        sim.close()


def test_our_cp_against_their_cs_requiring_a_password_and_tls(
    sims, their_secure_cs: tuple[SimProcess, int], certs
) -> None:
    cs, port = their_secure_cs
    url = f"wss://localhost:{port}/ocpp"
    cp = sims.cp(
        url, "ours", "-p", "ocpp1.6", "--ca", certs.ca, "--password", "our-password-16chars"
    )
    assert "cp#ours: Connected to Central System (profile 2)." in "\n".join(cp.lines())
    connected = expect_event(cs, event="connected", identity="ours")
    assert bytes.fromhex(connected["password"]) == b"our-password-16chars"
    cp.send("heartbeat")
    uid = cp.expect(frame_re("cp#ours", ">>", "cs", 2, action="Heartbeat"))["uid"]
    cp.expect(frame_re("cp#ours", "<<", "cs", 3, unique_id=uid))
    # the wrong password: their CS says 401, ours says why it could not connect
    bad = sims.raw("start_cp", url, "ours2", "-p", "ocpp1.6", "--ca", certs.ca, "--password", "no")
    bad.expect(r"cp#ours2: Connect Error: server rejected the connection: HTTP 401 Unauthorized")
    assert expect_event(cs, event="rejected", identity="ours2")["password"] == b"no".hex()
    assert cp.errors() == []


def test_our_16_auth_key_goes_as_its_bytes(
    sims, their_secure_cs: tuple[SimProcess, int], certs
) -> None:
    """--auth-key is the AuthorizationKey in hexadecimal; Basic auth carries the bytes (the
    OCPP-J 1.6 §6.2.2 example key), which ocpp-rpc hands over as a Buffer."""
    cs, port = their_secure_cs
    key = "0001020304050607FFFFFFCCCCCCCCCCCC"
    cp = sims.cp(
        f"wss://localhost:{port}/ocpp",
        "keyed",
        "-p",
        "ocpp1.6",
        "--ca",
        certs.ca,
        "--auth-key",
        key,
    )
    assert "cp#keyed: Connected to Central System (profile 2)." in "\n".join(cp.lines())
    connected = expect_event(cs, event="connected", identity="keyed")
    assert connected["password"] == key.lower()
