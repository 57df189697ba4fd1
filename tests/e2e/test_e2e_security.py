"""The security profiles between real `ocppsim` processes (the event loop they run on, uvloop
when installed), and a plain Python client of the standard `ssl` module with a client
certificate against a profile-3 Central System."""

from __future__ import annotations

import json
import re
import ssl

import pytest
from harness import SimProcess, free_port
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect


def profile_3_cs(sims, certs, port: int) -> SimProcess:  # type: ignore[no-untyped-def]
    cs = sims.cs(
        port,
        "-u",
        "/ocpp",
        "--tls-cert",
        certs.server,
        "--tls-key",
        certs.server_key,
        "--client-ca",
        certs.ca,
    )
    cs.expect(r"cs: wss on port \d+, profile 3 \(client certificates from CA 'ocppsim test CA'")
    return cs


def test_a_python_ssl_client_with_a_client_certificate_at_a_profile_3_cs(sims, certs) -> None:
    port = free_port()
    cs = profile_3_cs(sims, certs, port)
    context = ssl.create_default_context(cafile=certs.ca)  # the standard library only
    context.load_cert_chain(certs.cp01, certs.cp01_key)
    url = f"wss://localhost:{port}/ocpp/cp01"
    boot = {"reason": "PowerUp", "chargingStation": {"model": "py", "vendorName": "ssl"}}
    # open_timeout: the handshake of a CS process on a loaded 2-core machine took over the
    # default 10 s once in CI (the test asserts what is said, not how fast)
    with connect(
        url,
        ssl=context,
        subprotocols=["ocpp2.0.1"],
        open_timeout=60,  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "ocpp2.0.1"
        ws.send(json.dumps([2, "b1", "BootNotification", boot]))
        answer = json.loads(ws.recv(timeout=10))
        assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
        cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 3\)\.")
    # cp02's certificate at cp01's URL: TLS accepts it, the id check does not
    other = ssl.create_default_context(cafile=certs.ca)
    other.load_cert_chain(certs.cp02, certs.cp02_key)
    with pytest.raises(InvalidStatus) as refused:
        connect(url, ssl=other, subprotocols=["ocpp2.0.1"], open_timeout=60)  # type: ignore[list-item]
    assert refused.value.response.status_code == 403
    assert refused.value.response.body == (
        b"the client certificate has CN 'cp02', not the charge point id 'cp01'\n"
    )
    cs.expect(
        r"cs: Error: connection of #cp01 refused \(HTTP 403 Forbidden\): the client certificate "
        r"has CN 'cp02', not the charge point id 'cp01'\.$"
    )


def test_refused_certificates_between_processes_are_explained_at_both_ends(sims, certs) -> None:
    """What the in-process tests pin, on the processes' own event loop: an expired client
    certificate, a profile-2 Charge Point at a profile-3 Central System, and a Charge Point
    that does not trust the server's certificate (both ends say so: its alert goes out)."""
    port = free_port()
    cs = profile_3_cs(sims, certs, port)
    url = f"wss://localhost:{port}/ocpp"
    good = sims.cp(
        url,
        "cp02",
        "-p",
        "ocpp1.6",
        "--ca",
        certs.ca,
        "--cert",
        certs.cp02,
        "--key",
        certs.cp02_key,
    )
    expired = sims.raw(
        "start_cp",
        url,
        "cp01",
        "-p",
        "ocpp1.6",
        "--ca",
        certs.ca,
        "--cert",
        certs.expired_cp01,
        "--key",
        certs.expired_cp01_key,
    )
    expired.expect(
        r"cp#cp01: Connect Error: TLS: the peer refused our certificate: expired \(expired\)\."
    )
    cs.expect(
        r"cs: Error: TLS handshake refused: certificate check failed: certificate has expired "
        r"\(expired\)\.$"
    )
    no_certificate = sims.raw(
        "start_cp",
        url,
        "cp03",
        "-p",
        "ocpp2.0.1",
        "--ca",
        certs.ca,
        "--password",
        "pw-of-cp03-16chars",
    )
    no_certificate.expect(
        r"cp#cp03: Connect Error: TLS: the peer requires a client certificate and we sent none "
        r"\(no-certificate\)"
    )
    cs.expect(r"cs: Error: TLS handshake refused: the peer sent no client certificate")
    # a Charge Point that does not trust the server's CA (no --ca): its alert tells the CS
    untrusting = sims.raw(
        "start_cp", url, "cp04", "-p", "ocpp1.6", "--cert", certs.cp02, "--key", certs.cp02_key
    )
    untrusting.expect(
        r"cp#cp04: Connect Error: TLS: certificate check failed: .* \(untrusted\): give the CA "
        r"of the server's certificate with --ca\."
    )
    cs.expect(
        r"cs: Error: TLS handshake refused: the peer does not trust our certificate's CA "
        r"\(untrusted\): the charge point refused --tls-cert"
    )
    good.send("heartbeat")
    good.expect(r'cp#cp02: <<cs \[3,"')
    assert good.errors() == []


def test_the_readme_profile_2_example_connects(sims, certs, monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The two commands of the README's security section, as written (in a folder whose
    `certs/` holds the test PKI, on a free port)."""
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "README.md"
    section = readme.read_text(encoding="utf-8").split("### Security profiles", 1)[1]
    block = re.search(r"^```\n(.*?)^```", section, re.S | re.M)
    assert block, "the README's security example was not found"
    commands = [line.split()[1:] for line in block[1].splitlines()]
    assert [words[0] for words in commands] == ["start_cs", "start_cp"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "certs").symlink_to(certs.folder)
    port = str(free_port())
    cs = SimProcess([w.replace("9443", port) for w in commands[0]], name="cs")
    sims.started.append(cs)
    cs.expect(rf"cs: wss on port {port}, profile 2 \(Basic auth: 1 charge point; server")
    cp = SimProcess([w.replace("9443", port) for w in commands[1]], name="cp01")
    sims.started.append(cp)
    cp.expect(r"cp#cp01: Connected to Central System \(profile 2\)\.")
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 2\)\.")
    assert cp.errors() == [] and cs.errors() == []


def prompt_blocks() -> list[list[str]]:
    """The commands (`> …` lines) of each block of docs/security.md's run-time section."""
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    section = docs.read_text(encoding="utf-8").split("## Changing credentials", 1)[1]
    blocks = re.findall(r"^```\n(.*?)^```", section.split("\n## ", 1)[0], re.S | re.M)
    return [[line[2:] for line in b.splitlines()] for b in blocks if b.startswith("> ")]


def rotating_cs(sims, certs, port: int) -> SimProcess:  # type: ignore[no-untyped-def]
    """A Central System of profiles 2 and 3 on one port that signs CSRs with the test CA."""
    cs = sims.cs(
        port,
        "-u",
        "/ocpp",
        "--tls-cert",
        certs.server,
        "--tls-key",
        certs.server_key,
        "--auth",
        "cp01:password-of-cp01",
        "--client-ca",
        certs.ca,
        "--ca-key",
        certs.ca_key,
    )
    cs.expect(r"cs: wss on port \d+, profiles 2 and 3 \(.*signs CSRs as CA 'ocppsim test CA'\)")
    return cs


def test_a_16_cp_gets_a_signed_certificate_then_profile_3_and_a_new_key(sims, certs) -> None:  # type: ignore[no-untyped-def]
    """At the prompt, between processes: a 1.6 Charge Point on profile 2 (no certificate of its
    own) gets one signed from its CSR, is raised to profile 3 and reconnects presenting it;
    then, back on a password, a new AuthorizationKey is what the Central System expects."""
    port = free_port()
    cs = rotating_cs(sims, certs, port)
    url = f"wss://localhost:{port}/ocpp"
    cp = sims.cp(url, "cp01", "-p", "ocpp1.6", "--ca", certs.ca, "--password", "password-of-cp01")
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 2\)\.")
    cs.expect(r'cs: >>cp#cp01 \[3,"[^"]+",\{"status":"Accepted"')  # its boot
    # a new key first (profile 2: Basic auth), the CS learns it, the CP comes back with it
    mark = cs.mark()
    cs.send(
        'remote_changeconfiguration key=AuthorizationKey value="00112233445566778899AABBCCDDEEFF"'
    )
    cs.expect(
        r"cs: #cp01 accepted a new AuthorizationKey: Basic auth expects it from its next "
        r"connection\.",
        since=mark,
    )
    cs.send("remote_reset type=Soft")
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 2\)\.", since=mark)
    # a signed certificate, then profile 3
    mark, cp_mark = cs.mark(), cp.mark()
    trigger, raise_profile = prompt_blocks()[0]  # docs/security.md's, as written
    cs.send(trigger)
    cs.expect(r"cs: Signed the CSR of #cp01 as CA 'ocppsim test CA'", since=mark)
    cp.expect(
        r"cp#cp01: New client certificate CN=cp01 from CA 'ocppsim test CA', valid until "
        r"[\d-]+: presented from the next connection \(profile 3\)\.",
        since=cp_mark,
    )
    cs.send(raise_profile)
    cp.expect(r"cp#cp01: Rebooting \(SecurityProfile\)\.", since=cp_mark)
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 3\)\.", since=mark)
    cp.expect(r"cp#cp01: Connected to Central System \(profile 3\)\.", since=cp_mark)
    assert cs.errors() == [] and cp.errors() == []


def test_a_201_station_moves_to_profile_3_with_a_network_profile(sims, certs) -> None:  # type: ignore[no-untyped-def]
    """At the prompt, between processes: SetNetworkProfile, NetworkConfigurationPriority and a
    Reset move a 2.0.1 station from profile 2 to profile 3 (OCPP 2.0.1 A05)."""
    port = free_port()
    cs = rotating_cs(sims, certs, port)
    url = f"wss://localhost:{port}/ocpp"
    cp = sims.cp(
        url,
        "cp01",
        "-p",
        "ocpp2.0.1",
        "--security-profile",
        "2",
        "--ca",
        certs.ca,
        "--password",
        "password-of-cp01",
        "--cert",
        certs.cp01,
        "--key",
        certs.cp01_key,
    )
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 2\)\.")
    cs.expect(r'cs: >>cp#cp01 \[3,"[^"]+",\{.*"status":"Accepted"')  # its boot
    mark, cp_mark = cs.mark(), cp.mark()
    network, priority, reset = prompt_blocks()[1]  # docs/security.md's, on this port
    cs.send(network.replace("9443", str(port)))
    cs.expect(r'cs: <<cp#cp01 \[3,"[^"]+",\{"status":"Accepted"\}\]', since=mark)
    cs.send(priority)
    cs.expect(r'cs: <<cp#cp01 \[3,"[^"]+",\{"setVariableResult":\[\{.*"RebootRequired"', since=mark)
    cs.send(reset)
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 3\)\.", since=mark)
    cp.expect(r"cp#cp01: Connected to Central System \(profile 3\)\.", since=cp_mark)
    assert cs.errors() == [] and cp.errors() == []


def test_profile_1_between_processes_with_each_password_form(sims) -> None:  # type: ignore[no-untyped-def]
    """Profile 1 (Basic auth over ws://) between processes: a 1.6 Charge Point with --auth-key
    (sent as the key's bytes), a 2.0.1 one with --password (its text); a wrong password is a
    401 at both ends while the others stay connected."""
    port = free_port()
    key = "00112233445566778899AABBCCDDEEFF"
    cs = sims.cs(
        port, "-u", "/ocpp", "--auth", f"cp01:{key},cp02:password-of-cp02,cp03:password-of-cp03"
    )
    cs.expect(r"cs: ws on port \d+, profile 1 \(Basic auth: 3 charge points\)$")
    url = f"ws://localhost:{port}/ocpp"
    cp01 = sims.cp(url, "cp01", "-p", "ocpp1.6", "--auth-key", key)
    cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 1\)\.")
    cp01.expect(r"cp#cp01: Connected to Central System \(profile 1\)\.", since=0)
    cp02 = sims.cp(url, "cp02", "-p", "ocpp2.0.1", "--password", "password-of-cp02")
    cs.expect(r"cs: ChargePoint #cp02 connected \(protocol: ocpp2\.0\.1, profile 1\)\.")
    wrong = sims.raw("start_cp", url, "cp03", "-p", "ocpp1.6", "--password", "not-the-password")
    cs.expect(
        r"cs: Error: connection of #cp03 refused \(HTTP 401 Unauthorized\): wrong password for "
        r"cp03\.$"
    )
    wrong.expect(
        r"cp#cp03: Connect Error: server rejected the connection: HTTP 401 Unauthorized: wrong "
        r"password for cp03\. Retry"
    )
    cp02.send("heartbeat")
    cp02.expect(r'cp#cp02: <<cs \[3,"')
    assert cs.errors(ignore=[r"#cp03 refused"]) == [] and cp01.errors() == []
