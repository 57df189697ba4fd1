"""CertificateHashData (OCPP 2.0.1 Part 2 CertificateHashDataType, 1.6 security whitepaper):
checked against a computation by hand with hashlib over DER, and against `openssl ocsp`."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ocppsim.security import (
    CertificateProblem,
    CertifiedKey,
    Pki,
    certificate_hash_data,
    make_pki,
    same_hash_data,
    serial_number_hex,
)
from ocppsim.security.pki import generate_key, issue_certificate, subject_name


def _der_bit_string_of_spki(spki: bytes) -> bytes:
    """The subjectPublicKey BIT STRING's value (after the unused-bits octet) of a DER
    SubjectPublicKeyInfo, read by hand: SEQUENCE { SEQUENCE algorithm, BIT STRING key }."""

    def header(data: bytes, at: int) -> tuple[int, int, int]:
        tag, first = data[at], data[at + 1]
        if first < 0x80:
            return tag, first, at + 2
        count = first & 0x7F
        return tag, int.from_bytes(data[at + 2 : at + 2 + count], "big"), at + 2 + count

    tag, _, at = header(spki, 0)
    assert tag == 0x30
    tag, length, inner = header(spki, at)
    assert tag == 0x30
    tag, length, inner = header(spki, inner + length)
    assert tag == 0x03 and spki[inner] == 0  # no unused bits
    return spki[inner + 1 : inner + length]


def _by_hand(certificate: x509.Certificate, issuer: x509.Certificate, name: str) -> dict[str, str]:
    spki = issuer.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return {
        "hashAlgorithm": name,
        "issuerNameHash": hashlib.new(name.lower(), certificate.issuer.public_bytes()).hexdigest(),
        "issuerKeyHash": hashlib.new(name.lower(), _der_bit_string_of_spki(spki)).hexdigest(),
        "serialNumber": format(certificate.serial_number, "x"),
    }


@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
def test_hash_data_equals_the_computation_by_hand(pki: Pki, algorithm: str) -> None:
    client = pki.clients["cp01"].certificate
    got = certificate_hash_data(client, pki.ca.certificate, algorithm)
    assert got == _by_hand(client, pki.ca.certificate, algorithm)
    assert len(got["issuerNameHash"]) == {"SHA256": 64, "SHA384": 96, "SHA512": 128}[algorithm]
    assert got["issuerNameHash"] == got["issuerNameHash"].lower()
    # a root names itself: its hash data hash its own name and key
    root = certificate_hash_data(pki.ca.certificate, pki.ca.certificate, algorithm)
    assert root["issuerNameHash"] == got["issuerNameHash"]
    assert root["issuerKeyHash"] == got["issuerKeyHash"]


def test_issuer_key_hash_is_over_the_key_bits_for_ec_and_rsa() -> None:
    for key_type in ("ec", "rsa"):
        small = make_pki(["cp01"], key_type=key_type)  # type: ignore[arg-type]
        issuer_key = small.ca.certificate.public_key()
        if isinstance(issuer_key, ec.EllipticCurvePublicKey):
            bits = issuer_key.public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        else:
            assert isinstance(issuer_key, rsa.RSAPublicKey)
            bits = issuer_key.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1
            )
        got = certificate_hash_data(small.clients["cp01"].certificate, small.ca.certificate)
        assert got["issuerKeyHash"] == hashlib.sha256(bits).hexdigest()


def test_serial_number_is_hex_without_leading_zeroes(pki: Pki) -> None:
    key = generate_key()
    certificate = issue_certificate(
        pki.ca, subject_name("cp01"), key.public_key(), usage="client", serial_number=0x0A1B
    )
    assert serial_number_hex(certificate) == "a1b"
    assert certificate_hash_data(certificate, pki.ca.certificate)["serialNumber"] == "a1b"


def test_an_unknown_hash_algorithm_is_refused(pki: Pki) -> None:
    with pytest.raises(CertificateProblem) as caught:
        certificate_hash_data(pki.ca.certificate, pki.ca.certificate, "SHA1")
    assert caught.value.code == "bad-hash-algorithm"
    assert "SHA256, SHA384, SHA512" in str(caught.value)


def test_same_hash_data_ignores_case_and_leading_zeroes(pki: Pki) -> None:
    mine = certificate_hash_data(pki.ca.certificate, pki.ca.certificate)
    theirs = {k: v.upper() for k, v in mine.items()}
    theirs["serialNumber"] = "00" + theirs["serialNumber"]
    assert same_hash_data(mine, theirs)
    assert not same_hash_data(mine, {**mine, "serialNumber": "1"})
    assert not same_hash_data(mine, {**mine, "hashAlgorithm": "SHA384"})
    assert not same_hash_data(mine, {k: v for k, v in mine.items() if k != "issuerKeyHash"})


def _openssl_cert_id(folder: Path, issuer: Path, certificate: Path, algorithm: str) -> dict:
    request = folder / "request.der"
    subprocess.run(
        ["openssl", "ocsp", "-issuer", str(issuer), f"-{algorithm.lower()}", "-cert",
         str(certificate), "-no_nonce", "-reqout", str(request)],
        check=True, capture_output=True,
    )  # fmt: skip
    text = subprocess.run(
        ["openssl", "ocsp", "-reqin", str(request), "-req_text"],
        check=True, capture_output=True, text=True,
    ).stdout.replace("\\\n", "")  # fmt: skip
    fields = dict(
        re.findall(r"^\s*(Issuer Name Hash|Issuer Key Hash|Serial Number): (\S+)", text, re.M)
    )
    return {
        "hashAlgorithm": algorithm,
        "issuerNameHash": fields["Issuer Name Hash"],
        "issuerKeyHash": fields["Issuer Key Hash"],
        "serialNumber": fields["Serial Number"],
    }


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command on this machine")
@pytest.mark.parametrize("algorithm", ["SHA256", "SHA384", "SHA512"])
def test_hash_data_equals_what_openssl_puts_in_an_ocsp_request(
    pki: Pki, tmp_path: Path, algorithm: str
) -> None:
    key = generate_key()
    certificate = issue_certificate(  # a serial with a leading zero octet in DER
        pki.ca, subject_name("cp01"), key.public_key(), usage="client", serial_number=0x0A1B2C
    )
    leaf = CertifiedKey(certificate, key)
    leaf.write(tmp_path / "leaf.pem", tmp_path / "leaf.key")
    (tmp_path / "ca.pem").write_text(pki.ca.certificate_pem())
    theirs = _openssl_cert_id(tmp_path, tmp_path / "ca.pem", tmp_path / "leaf.pem", algorithm)
    ours = certificate_hash_data(certificate, pki.ca.certificate, algorithm)
    assert same_hash_data(ours, theirs), (ours, theirs)
    assert ours["issuerKeyHash"] == theirs["issuerKeyHash"].lower()
    assert ours["serialNumber"] == "a1b2c"
