"""The certificates of the 2.x charging station model (OCPP 2.0.1 Part 2 A02/A03 certificate
signing, M03-M05 the certificate store), with `ocppsim.security`'s real CSR, chain check and
store injected; every payload checked against the version's schemas."""

from __future__ import annotations

from typing import Any

import pytest
from station_testing import VERSIONS, Driven

from ocppsim import security
from ocppsim.core.station import StationInfo
from ocppsim.security.pem import certificates_pem

CS_ID = "cs-7"


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ca() -> security.CertifiedKey:
    return security.make_ca("CSMS CA")


def secured(version: str, ca: security.CertifiedKey, **options: Any) -> Driven:
    def make_csr(common_name: str, organization: str | None) -> security.CertificateRequest:
        return security.make_csr(common_name, organization=organization)

    def accept(chain: str, request: security.CertificateRequest, cs_id: str) -> object:
        return security.accept_signed_certificate(chain, request.key, cs_id, [ca.certificate])

    options.setdefault("make_csr", make_csr)
    options.setdefault("accept_certificate", accept)
    options.setdefault("certificates", security.CertificateStore())
    driven = Driven(version, StationInfo(identity=CS_ID, organization="CPO"), **options)
    driven.boot()
    return driven


def test_trigger_sign_then_certificate_signed_gives_the_next_client_certificate(
    version: str, ca: security.CertifiedKey
) -> None:
    driven = secured(version, ca)
    trigger = {"requestedMessage": "SignChargingStationCertificate"}
    reply = driven.call("TriggerMessage", trigger)
    assert reply.payload == {"status": "Accepted"}
    (sign,) = reply.outgoing
    assert sign.action == "SignCertificate"
    csr = security.parse_csr(sign.payload["csr"])
    assert csr.subject.rfc4514_string() == f"CN={CS_ID},O=CPO"
    chain = security.sign_csr(sign.payload["csr"], ca, cp_id=CS_ID)
    signed = {"certificateChain": chain, "certificateType": "ChargingStationCertificate"}
    assert driven.call("CertificateSigned", signed) == ({"status": "Accepted"}, [])
    certified = driven.station.certificates.client_certificate
    assert isinstance(certified, security.CertifiedKey)
    assert security.common_name(certified.certificate) == CS_ID
    # nothing pending now: the same chain again is refused, with a security event
    reply = driven.call("CertificateSigned", signed)
    assert reply.payload == {"status": "Rejected"}
    (event,) = reply.outgoing
    assert (event.action, event.payload["type"]) == (
        "SecurityEventNotification",
        "InvalidChargingStationCertificate",
    )
    assert event.payload["techInfo"] == "no CSR is pending"


def test_a_chain_for_another_key_is_rejected(version: str, ca: security.CertifiedKey) -> None:
    driven = secured(version, ca)
    driven.call("TriggerMessage", {"requestedMessage": "SignChargingStationCertificate"})
    stranger = security.make_csr(CS_ID)
    chain = security.sign_csr(stranger.csr_pem, ca, cp_id=CS_ID)
    reply = driven.call("CertificateSigned", {"certificateChain": chain})
    assert reply.payload == {"status": "Rejected"}
    assert "key" in reply.outgoing[0].payload["techInfo"]
    assert driven.station.certificates.client_certificate is None


def test_install_list_and_delete_on_a_real_store(version: str, ca: security.CertifiedKey) -> None:
    driven = secured(version, ca)
    root = certificates_pem([ca.certificate])
    install = {"certificateType": "CSMSRootCertificate", "certificate": root}
    assert driven.call("InstallCertificate", install).payload == {"status": "Accepted"}
    bad = {"certificateType": "ManufacturerRootCertificate", "certificate": "-----BEGIN x"}
    assert driven.call("InstallCertificate", bad).payload == {"status": "Rejected"}
    listed = driven.call("GetInstalledCertificateIds", {"certificateType": ["CSMSRootCertificate"]})
    assert listed.payload["status"] == "Accepted"
    (entry,) = listed.payload["certificateHashDataChain"]
    assert entry["certificateType"] == "CSMSRootCertificate"
    expected = security.certificate_hash_data(ca.certificate, ca.certificate)
    assert entry["certificateHashData"] == expected
    every = driven.call("GetInstalledCertificateIds", {})
    assert len(every.payload["certificateHashDataChain"]) == 1
    none = {"certificateType": ["V2GRootCertificate"]}
    assert driven.call("GetInstalledCertificateIds", none).payload == {"status": "NotFound"}
    delete = {"certificateHashData": entry["certificateHashData"]}
    assert driven.call("DeleteCertificate", delete).payload == {"status": "Accepted"}
    assert driven.call("DeleteCertificate", delete).payload == {"status": "NotFound"}
    assert driven.call("GetInstalledCertificateIds", {}).payload == {"status": "NotFound"}


def test_without_a_store_the_store_calls_are_left_to_the_simulator(version: str) -> None:
    driven = Driven(version, StationInfo(identity=CS_ID))
    for action in ("InstallCertificate", "GetInstalledCertificateIds", "DeleteCertificate"):
        assert not driven.station.handles(action)
    assert driven.station.handles("CertificateSigned")  # refused: no CSR is pending
