"""The security whitepaper's flows in the 1.6 Charge Point model (OCPP 1.6 security whitepaper,
edition 2: A02 certificate signing, A05 security profile upgrade, M03-M05 certificates, N01
logs, L01 signed firmware, F06 ExtendedTriggerMessage), with the real CSR, signing and store of
`ocppsim.security` injected; every payload checked against OCA's 1.6 schemas."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from cp_testing import Driven, actions, of

from ocppsim import security
from ocppsim.core.station import ChargePointInfo, Reboot
from ocppsim.core.station.common import wire_time
from ocppsim.security.pem import certificates_pem

CP_ID = "CP-7"


@pytest.fixture(scope="module")
def ca() -> security.CertifiedKey:
    return security.make_ca("Central System CA")


def secured(ca: security.CertifiedKey, **options: Any) -> Driven:
    """A booted model with the real CSR maker, chain check and a certificate store."""

    def make_csr(common_name: str, organization: str | None) -> security.CertificateRequest:
        return security.make_csr(common_name, organization=organization)

    def accept(chain: str, request: security.CertificateRequest, cp_id: str) -> object:
        return security.accept_signed_certificate(chain, request.key, cp_id, [ca.certificate])

    options.setdefault("make_csr", make_csr)
    options.setdefault("accept_certificate", accept)
    options.setdefault("certificates", security.CertificateStore())
    driven = Driven(info=ChargePointInfo(identity=CP_ID), **options)
    driven.boot()
    driven.sent.clear()
    return driven


def trigger(driven: Driven, requested: str, connector: int | None = None) -> Any:
    payload: dict[str, Any] = {"requestedMessage": requested}
    if connector is not None:
        payload["connectorId"] = connector
    return driven.call("ExtendedTriggerMessage", payload)


# --- A02: a new client certificate ---------------------------------------------------------------


def test_sign_charge_point_certificate_then_certificate_signed(ca: security.CertifiedKey) -> None:
    driven = secured(ca)
    driven.call("ChangeConfiguration", {"key": "CpoName", "value": "ACME"})
    reply = trigger(driven, "SignChargePointCertificate")
    assert reply.payload == {"status": "Accepted"}
    (sign,) = reply.outgoing
    assert sign.action == "SignCertificate"
    csr = security.parse_csr(sign.payload["csr"])
    assert security.common_name(csr) == CP_ID
    assert "O=ACME" in csr.subject.rfc4514_string()  # the CPO name (whitepaper A02)
    driven.result(sign, {"status": "Accepted"})
    chain = security.sign_csr(sign.payload["csr"], ca, cp_id=CP_ID)
    reply = driven.call("CertificateSigned", {"certificateChain": chain})
    assert reply == ({"status": "Accepted"}, [])
    certified = driven.cp.client_certificate
    assert isinstance(certified, security.CertifiedKey)
    assert security.common_name(certified.certificate) == CP_ID
    # nothing pending any more: a second chain is refused
    reply = driven.call("CertificateSigned", {"certificateChain": chain})
    assert reply.payload == {"status": "Rejected"}


def test_a_chain_for_another_key_is_rejected_with_a_security_event(
    ca: security.CertifiedKey,
) -> None:
    driven = secured(ca)
    trigger(driven, "SignChargePointCertificate")
    stranger = security.make_csr(CP_ID)
    chain = security.sign_csr(stranger.csr_pem, ca, cp_id=CP_ID)
    reply = driven.call("CertificateSigned", {"certificateChain": chain})
    assert reply.payload == {"status": "Rejected"}
    (event,) = of(reply.outgoing, "SecurityEventNotification")
    assert event["type"] == "InvalidChargePointCertificate"
    assert "key" in event["techInfo"]
    assert driven.cp.client_certificate is None


def test_without_a_checker_a_pem_chain_is_taken_as_it_is(ca: security.CertifiedKey) -> None:
    driven = secured(ca, accept_certificate=None)
    (sign,) = trigger(driven, "SignChargePointCertificate").outgoing
    reply = driven.call("CertificateSigned", {"certificateChain": "not a certificate"})
    assert reply.payload == {"status": "Rejected"}
    chain = security.sign_csr(sign.payload["csr"], ca, cp_id=CP_ID)
    assert driven.call("CertificateSigned", {"certificateChain": chain}).payload == {
        "status": "Accepted"
    }
    assert driven.cp.client_certificate == chain


def test_without_a_csr_maker_the_trigger_is_not_implemented(ca: security.CertifiedKey) -> None:
    driven = secured(ca, make_csr=None)
    assert trigger(driven, "SignChargePointCertificate") == ({"status": "NotImplemented"}, [])


@pytest.mark.parametrize(
    ("requested", "sent"),
    [
        ("BootNotification", ["BootNotification"]),
        ("Heartbeat", ["Heartbeat"]),
        ("MeterValues", ["MeterValues"]),
        ("StatusNotification", ["StatusNotification", "StatusNotification"]),
        ("FirmwareStatusNotification", ["SignedFirmwareStatusNotification"]),
        ("LogStatusNotification", ["LogStatusNotification"]),
    ],
)
def test_extended_trigger_message(
    ca: security.CertifiedKey, requested: str, sent: list[str]
) -> None:
    driven = secured(ca)
    reply = trigger(driven, requested)
    assert reply.payload == {"status": "Accepted"}
    assert actions(reply.outgoing) == sent
    assert trigger(driven, "StatusNotification", 4).payload == {"status": "Rejected"}


# --- M03-M05: the certificate store --------------------------------------------------------------


def test_install_list_and_delete_certificates(ca: security.CertifiedKey) -> None:
    driven = secured(ca)
    root = certificates_pem([ca.certificate])
    install = {"certificateType": "CentralSystemRootCertificate", "certificate": root}
    assert driven.call("InstallCertificate", install).payload == {"status": "Accepted"}
    bad = {"certificateType": "ManufacturerRootCertificate", "certificate": "-----BEGIN nothing"}
    assert driven.call("InstallCertificate", bad).payload == {"status": "Rejected"}
    listed = driven.call(
        "GetInstalledCertificateIds", {"certificateType": "CentralSystemRootCertificate"}
    )
    (hash_data,) = listed.payload["certificateHashData"]
    assert listed.payload["status"] == "Accepted"
    assert hash_data == security.certificate_hash_data(ca.certificate, ca.certificate)
    none = driven.call(
        "GetInstalledCertificateIds", {"certificateType": "ManufacturerRootCertificate"}
    )
    assert none.payload == {"status": "NotFound"}
    delete = {"certificateHashData": hash_data}
    assert driven.call("DeleteCertificate", delete).payload == {"status": "Accepted"}
    assert driven.call("DeleteCertificate", delete).payload == {"status": "NotFound"}


def test_the_store_limit_is_certificate_store_max_length(ca: security.CertifiedKey) -> None:
    driven = secured(ca, certificates=security.CertificateStore(max_certificates=1))
    report = driven.call("GetConfiguration", {"key": ["CertificateStoreMaxLength"]}).payload
    assert report["configurationKey"][0]["value"] == "1"
    root = certificates_pem([ca.certificate])
    other = certificates_pem([security.make_ca("another").certificate])
    kind = "CentralSystemRootCertificate"
    driven.call("InstallCertificate", {"certificateType": kind, "certificate": root})
    reply = driven.call("InstallCertificate", {"certificateType": kind, "certificate": other})
    assert reply.payload == {"status": "Rejected"}  # full


# --- A05: security profile -----------------------------------------------------------------------


def test_the_security_profile_only_goes_up_with_what_it_needs(ca: security.CertifiedKey) -> None:
    driven = secured(ca)

    def set_profile(value: str) -> Any:
        return driven.call("ChangeConfiguration", {"key": "SecurityProfile", "value": value})

    reply = set_profile("1")
    assert reply.payload == {"status": "Accepted"}
    assert [o.payload["type"] for o in reply.outgoing] == ["ReconfigurationOfSecurityParameters"]
    assert driven.cp.take_reboot() == Reboot("SecurityProfile", boot_again=False)  # reconnect
    assert driven.cp.reboot is None
    assert driven.cp.security_profile == 1
    assert set_profile("0").payload == {"status": "Rejected"}  # never down
    assert set_profile("2").payload == {"status": "Rejected"}  # no CentralSystemRootCertificate
    root = certificates_pem([ca.certificate])
    driven.call(
        "InstallCertificate",
        {"certificateType": "CentralSystemRootCertificate", "certificate": root},
    )
    assert set_profile("2").payload == {"status": "Accepted"}
    assert set_profile("3").payload == {"status": "Rejected"}  # no client certificate yet
    (sign,) = trigger(driven, "SignChargePointCertificate").outgoing
    chain = security.sign_csr(sign.payload["csr"], ca, cp_id=CP_ID)
    driven.call("CertificateSigned", {"certificateChain": chain})
    assert set_profile("3").payload == {"status": "Accepted"}
    assert driven.cp.security_profile == 3


# --- N01: logs -----------------------------------------------------------------------------------


def test_get_log_uploads_and_a_second_request_cancels_the_first(ca: security.CertifiedKey) -> None:
    driven = secured(ca)
    request = {
        "log": {"remoteLocation": "https://logs.example/up"},
        "logType": "SecurityLog",
        "requestId": 5,
    }
    reply = driven.call("GetLog", request)
    assert reply.payload == {
        "status": "Accepted",
        "filename": f"security-{CP_ID}-20261124T100000Z.log",
    }
    assert of(reply.outgoing, "LogStatusNotification") == [{"status": "Uploading", "requestId": 5}]
    assert of(trigger(driven, "LogStatusNotification").outgoing, "LogStatusNotification") == [
        {"status": "Uploading", "requestId": 5}
    ]
    driven.at(2)
    reply = driven.call("GetLog", {**request, "logType": "DiagnosticsLog", "requestId": 6})
    assert reply.payload["status"] == "AcceptedCanceled"
    driven.at(7)
    assert of(driven.tick(), "LogStatusNotification") == [{"status": "Uploaded", "requestId": 6}]
    assert of(trigger(driven, "LogStatusNotification").outgoing, "LogStatusNotification") == [
        {"status": "Idle"}
    ]


# --- L01: signed firmware ------------------------------------------------------------------------


def signed_update(driven: Driven, request_id: int, install_in: int | None = None) -> Any:
    signer = security.make_ca("firmware signer")
    firmware: dict[str, Any] = {
        "location": "https://firmware.example/2.0.bin",
        "retrieveDateTime": wire_time(driven.now),
        "signingCertificate": certificates_pem([signer.certificate]),
        "signature": "c2lnbmF0dXJl",
    }
    if install_in is not None:
        firmware["installDateTime"] = wire_time(driven.now + timedelta(seconds=install_in))
    return driven.call("SignedUpdateFirmware", {"requestId": request_id, "firmware": firmware})


def test_signed_firmware_needs_a_manufacturer_root(ca: security.CertifiedKey) -> None:
    driven = secured(ca)
    reply = signed_update(driven, 1)
    assert reply.payload == {"status": "InvalidCertificate"}
    (event,) = of(reply.outgoing, "SecurityEventNotification")
    assert event["type"] == "InvalidFirmwareSigningCertificate"


def test_signed_firmware_reports_each_step(ca: security.CertifiedKey) -> None:
    driven = secured(ca)
    manufacturer = certificates_pem([security.make_ca("manufacturer").certificate])
    driven.call(
        "InstallCertificate",
        {"certificateType": "ManufacturerRootCertificate", "certificate": manufacturer},
    )
    reply = signed_update(driven, 3, install_in=60)
    assert reply.payload == {"status": "Accepted"}
    seen = [
        (p["status"], p["requestId"])
        for p in of(reply.outgoing, "SignedFirmwareStatusNotification")
    ]
    events = []
    for second in range(1, 80):
        driven.at(second)
        out = driven.tick()
        seen += [(p["status"], p["requestId"]) for p in of(out, "SignedFirmwareStatusNotification")]
        events += [(second, p["type"]) for p in of(out, "SecurityEventNotification")]
        if second == 12:
            (status,) = trigger(driven, "FirmwareStatusNotification").outgoing
            assert status.payload == {"status": "SignatureVerified", "requestId": 3}
            again = signed_update(driven, 4, install_in=60)
            assert again.payload == {"status": "AcceptedCanceled"}
            seen += [
                (p["status"], p["requestId"])
                for p in of(again.outgoing, "SignedFirmwareStatusNotification")
            ]
    assert seen == [
        ("Downloading", 3),
        ("Downloaded", 3),
        ("SignatureVerified", 3),
        ("Downloading", 4),
        ("Downloaded", 4),
        ("SignatureVerified", 4),
        ("Installing", 4),
        ("Installed", 4),
    ]
    assert events == [(77, "FirmwareUpdated")]  # installed at 12 + 60 + 5
    (status,) = trigger(driven, "FirmwareStatusNotification").outgoing
    assert status.payload == {"status": "Idle"}
