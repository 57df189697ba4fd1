"""SignCertificate / CertificateSigned for real: the charge point makes a CSR, the central system
signs it with its CA, the charge point checks and installs the result and connects with it."""

from __future__ import annotations

import base64
import datetime
import textwrap
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tls_handshake import handshake

from ocppsim.security import (
    CertificateProblem,
    Pki,
    accept_signed_certificate,
    client_context,
    load_certified_key,
    make_ca,
    make_csr,
    parse_csr,
    server_context,
    sign_csr,
    verify_charge_point_certificate,
)
from ocppsim.security.tls import check_peer_identity


def test_csr_round_trip_gives_the_charge_point_a_certificate_for_its_id(
    pki: Pki, tmp_path: Path
) -> None:
    request = make_csr("cp07", organization="ACME CPO")
    assert request.csr_pem.startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    csr = parse_csr(request.csr_pem)
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "cp07"
    assert csr.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "ACME CPO"

    chain_pem = sign_csr(request.csr_pem, pki.ca, cp_id="cp07")  # the central system's side
    assert chain_pem.count("-----BEGIN CERTIFICATE-----") == 1  # the root is not sent

    installed = accept_signed_certificate(chain_pem, request.key, "cp07", [pki.ca.certificate])
    certificate = installed.certificate
    assert installed.common_name == "cp07"
    assert certificate.issuer == pki.ca.certificate.subject
    assert certificate.subject == csr.subject  # O kept too
    eku = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    verify_charge_point_certificate(certificate, "cp07", [pki.ca.certificate])

    # kept on disk, it is what the next connection presents (profile 3)
    installed.write(tmp_path / "cp07.pem", tmp_path / "cp07.key")
    again = load_certified_key(tmp_path / "cp07.pem", tmp_path / "cp07.key")
    seen: dict[str, str | None] = {}

    def check(tls, result) -> None:  # type: ignore[no-untyped-def]
        seen["cn"] = check_peer_identity(tls, "cp07").subject.rfc4514_string()

    result = handshake(
        server_context(pki.server, client_ca=[pki.ca.certificate]),
        client_context([pki.ca.certificate], identity=again),
        on_server=check,
    )
    assert result.ok, result
    assert seen["cn"] == "CN=cp07,O=ACME CPO"


def test_rsa_csr_is_signed_too(pki: Pki) -> None:
    request = make_csr("cp08", key_type="rsa")
    installed = accept_signed_certificate(
        sign_csr(request.csr_pem, pki.ca), request.key, "cp08", [pki.ca.certificate]
    )
    assert installed.common_name == "cp08"


def test_the_central_system_refuses_a_csr_that_is_not_pem(pki: Pki) -> None:
    with pytest.raises(CertificateProblem) as caught:
        sign_csr("MIIB...not a csr", pki.ca)
    assert caught.value.code == "not-pem"
    assert "BEGIN CERTIFICATE REQUEST" in str(caught.value)
    with pytest.raises(CertificateProblem) as caught:
        sign_csr(
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", pki.ca
        )
    assert caught.value.code == "not-pem"


def test_the_central_system_refuses_a_csr_whose_signature_is_broken(pki: Pki) -> None:
    der = parse_csr(make_csr("cp01").csr_pem).public_bytes(serialization.Encoding.DER)
    assert der.count(b"cp01") == 1
    forged = der.replace(b"cp01", b"cp02")  # still DER, but no longer what was signed
    body = "\n".join(textwrap.wrap(base64.b64encode(forged).decode(), 64))
    pem = f"-----BEGIN CERTIFICATE REQUEST-----\n{body}\n-----END CERTIFICATE REQUEST-----\n"
    with pytest.raises(CertificateProblem) as caught:
        sign_csr(pem, pki.ca)
    assert caught.value.code == "bad-signature"
    assert str(caught.value) == "the csr's signature does not match its public key"


def test_the_central_system_refuses_a_csr_for_another_id(pki: Pki) -> None:
    with pytest.raises(CertificateProblem) as caught:
        sign_csr(make_csr("cp02").csr_pem, pki.ca, cp_id="cp01")
    assert caught.value.code == "cn-mismatch"
    assert str(caught.value) == "the csr asks for CN 'cp02', but it came from charge point 'cp01'"


def test_the_charge_point_rejects_a_certificate_for_another_key(pki: Pki) -> None:
    mine, other = make_csr("cp01"), make_csr("cp01")
    chain = sign_csr(other.csr_pem, pki.ca)
    with pytest.raises(CertificateProblem) as caught:
        accept_signed_certificate(chain, mine.key, "cp01", [pki.ca.certificate])
    assert caught.value.code == "key-mismatch"


def test_the_charge_point_rejects_a_certificate_for_another_id(pki: Pki) -> None:
    request = make_csr("cp02")
    chain = sign_csr(request.csr_pem, pki.ca)
    with pytest.raises(CertificateProblem) as caught:
        accept_signed_certificate(chain, request.key, "cp01", [pki.ca.certificate])
    assert caught.value.code == "cn-mismatch"


def test_the_charge_point_rejects_a_certificate_from_a_ca_it_does_not_trust(pki: Pki) -> None:
    request = make_csr("cp01")
    chain = sign_csr(request.csr_pem, make_ca("someone else"))
    with pytest.raises(CertificateProblem) as caught:
        accept_signed_certificate(chain, request.key, "cp01", [pki.ca.certificate])
    assert caught.value.code == "untrusted"
    # without trusted CAs only the key, the id and the dates are checked
    assert accept_signed_certificate(chain, request.key, "cp01").common_name == "cp01"


def test_the_charge_point_rejects_an_expired_certificate(pki: Pki) -> None:
    request = make_csr("cp01")
    end = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    chain = sign_csr(
        request.csr_pem, pki.ca, not_before=end - datetime.timedelta(days=10), not_after=end
    )
    for trusted in ([pki.ca.certificate], []):
        with pytest.raises(CertificateProblem) as caught:
            accept_signed_certificate(chain, request.key, "cp01", trusted)
        assert caught.value.code == "expired"


def test_the_charge_point_rejects_text_that_is_no_certificate(pki: Pki) -> None:
    with pytest.raises(CertificateProblem) as caught:
        accept_signed_certificate("garbage", make_csr("cp01").key, "cp01")
    assert caught.value.code == "not-pem" and "certificateChain" in str(caught.value)
