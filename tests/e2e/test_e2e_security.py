"""The security profiles between real `ocppsim` processes (the event loop they run on, uvloop
when installed), and a plain Python client of the standard `ssl` module with a client
certificate against a profile-3 Central System."""

from __future__ import annotations

import json
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
    with connect(url, ssl=context, subprotocols=["ocpp2.0.1"]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "ocpp2.0.1"
        ws.send(json.dumps([2, "b1", "BootNotification", boot]))
        answer = json.loads(ws.recv(timeout=10))
        assert answer[:2] == [3, "b1"] and answer[2]["status"] == "Accepted"
        cs.expect(r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 3\)\.")
    # cp02's certificate at cp01's URL: TLS accepts it, the id check does not
    other = ssl.create_default_context(cafile=certs.ca)
    other.load_cert_chain(certs.cp02, certs.cp02_key)
    with pytest.raises(InvalidStatus) as refused:
        connect(url, ssl=other, subprotocols=["ocpp2.0.1"])  # type: ignore[list-item]
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
    certificate and a profile-2 Charge Point at a profile-3 Central System."""
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
    good.send("heartbeat")
    good.expect(r'cp#cp02: <<cs \[3,"')
    assert good.errors() == []
