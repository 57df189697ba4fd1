"""OCPP's CertificateHashData: how GetInstalledCertificateIds names a certificate and
DeleteCertificate picks one.

OCPP 2.0.1 Part 2 (Datatypes: CertificateHashDataType) and the 1.6 security whitepaper (edition
3 clarified the same fields) define it as RFC 6960's OCSP CertID in hex text:

* `hashAlgorithm`: SHA256, SHA384 or SHA512;
* `issuerNameHash`: the hash of the DER encoding of the certificate's issuer Name;
* `issuerKeyHash`: the hash of the issuer's public key, the value (without tag and length) of the
  subjectPublicKey BIT STRING of the issuer's certificate;
* `serialNumber`: the serial number in hexadecimal, without a `0x` prefix or leading zeroes.

The hashes come from `cryptography`'s OCSP request builder, which computes exactly that CertID.
ocppsim writes hex in lower case and compares case-insensitively (implementations differ).
"""

from __future__ import annotations

from collections.abc import Mapping

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp

from ocppsim.security.pem import CertificateProblem

#: OCPP's HashAlgorithmEnumType
HASH_ALGORITHMS: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA256": hashes.SHA256,
    "SHA384": hashes.SHA384,
    "SHA512": hashes.SHA512,
}

HASH_DATA_FIELDS = ("hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber")


def serial_number_hex(certificate: x509.Certificate) -> str:
    """The serial number as OCPP writes it: lower-case hex without leading zeroes."""
    return format(certificate.serial_number, "x")


def certificate_hash_data(
    certificate: x509.Certificate, issuer: x509.Certificate, hash_algorithm: str = "SHA256"
) -> dict[str, str]:
    """The CertificateHashData of `certificate`, issued by `issuer` (itself for a root), as the
    wire dict `{"hashAlgorithm", "issuerNameHash", "issuerKeyHash", "serialNumber"}`."""
    try:
        algorithm = HASH_ALGORITHMS[hash_algorithm]()
    except KeyError:
        raise CertificateProblem(
            f"unknown hashAlgorithm {hash_algorithm!r} (one of {', '.join(HASH_ALGORITHMS)})",
            "bad-hash-algorithm",
        ) from None
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuer, algorithm).build()
    return {
        "hashAlgorithm": hash_algorithm,
        "issuerNameHash": request.issuer_name_hash.hex(),
        "issuerKeyHash": request.issuer_key_hash.hex(),
        "serialNumber": serial_number_hex(certificate),
    }


def _normal(field: str, value: object) -> str:
    text = str(value).strip().lower()
    if field == "serialNumber":
        text = text.removeprefix("0x").lstrip("0") or "0"
    return text


def same_hash_data(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    """Whether two CertificateHashData name the same certificate: same algorithm, hashes equal
    ignoring case, serial numbers equal ignoring case and leading zeroes."""
    return all(_normal(f, a.get(f, "")) == _normal(f, b.get(f, "")) for f in HASH_DATA_FIELDS)
