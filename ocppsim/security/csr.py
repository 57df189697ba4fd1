"""A charge point's new certificate: the CSR it makes, the CSMS signing it, the charge point
checking and installing the result.

The flow of OCPP 2.0.1 use cases A02/A03 (and the 1.6 security whitepaper's, same names): the
charge point makes a new key pair and sends SignCertificate with `csr`, a PEM PKCS#10 request
(RFC 2986) whose subject has CN = its id and O = the CPO name (CpoName / OrganizationName); the
CSMS has it signed and sends CertificateSigned with `certificateChain` (PEM, leaf first); the
charge point checks it, answers Accepted or Rejected, and uses the new certificate on its next
connection. The private key never leaves the charge point.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ocppsim.security.pem import (
    CertificateProblem,
    CertifiedKey,
    PrivateKey,
    certificates_pem,
    common_name,
    is_self_signed,
    parse_certificates,
    public_key_der,
)
from ocppsim.security.pki import LEAF_DAYS, KeyType, generate_key, issue_certificate, subject_name
from ocppsim.security.verify import check_common_name, check_validity, verify_chain

_CSR_BEGIN = b"-----BEGIN CERTIFICATE REQUEST-----"


@dataclass(frozen=True)
class CertificateRequest:
    """A CSR as PEM text and the new private key it was made for (kept by the charge point)."""

    csr_pem: str
    key: PrivateKey = field(repr=False)


def make_csr(
    cp_id: str,
    *,
    organization: str | None = None,
    key_type: KeyType = "ec",
    key: PrivateKey | None = None,
) -> CertificateRequest:
    """A new key pair (unless `key` is given) and its PEM CSR with CN = `cp_id` and
    O = `organization` (the CPO name), signed with SHA-256."""
    key = key if key is not None else generate_key(key_type)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(subject_name(cp_id, organization))
        .sign(key, hashes.SHA256())
    )
    return CertificateRequest(csr.public_bytes(serialization.Encoding.PEM).decode("ascii"), key)


def parse_csr(csr_pem: str | bytes) -> x509.CertificateSigningRequest:
    """A PEM CSR whose signature proves its maker holds the key, or a CertificateProblem."""
    data = csr_pem.encode("utf-8", "surrogateescape") if isinstance(csr_pem, str) else csr_pem
    if _CSR_BEGIN not in data and b"-----BEGIN NEW CERTIFICATE REQUEST-----" not in data:
        raise CertificateProblem(
            "the csr is not a PEM certificate signing request (expected a "
            "'-----BEGIN CERTIFICATE REQUEST-----' block)",
            "not-pem",
        )
    data = data.replace(b"NEW CERTIFICATE REQUEST", b"CERTIFICATE REQUEST")
    try:
        csr = x509.load_pem_x509_csr(data)
    except ValueError as exc:
        raise CertificateProblem(f"the csr cannot be read ({exc})", "not-pem") from exc
    try:
        valid = csr.is_signature_valid
    except Exception as exc:  # an algorithm cryptography does not know
        raise CertificateProblem(
            f"the csr's signature cannot be checked ({exc})", "bad-signature"
        ) from exc
    if not valid:
        raise CertificateProblem(
            "the csr's signature does not match its public key", "bad-signature"
        )
    if not isinstance(csr.public_key(), (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise CertificateProblem("the csr's key is neither EC nor RSA", "unsupported")
    return csr


def _csr_public_key(
    csr: x509.CertificateSigningRequest,
) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    key = csr.public_key()
    assert isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey))  # parse_csr checked
    return key


def sign_csr(
    csr_pem: str | bytes,
    ca: CertifiedKey,
    *,
    cp_id: str | None = None,
    days: int = LEAF_DAYS,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> str:
    """The CSMS side of SignCertificate: check the CSR (PEM, signature, CN = `cp_id` when
    given: the charge point asks for its own id) and return the PEM `certificateChain` for
    CertificateSigned: the new client certificate, then the CA's chain (the root not included).

    The certificate keeps the CSR's subject (CN, O) and gets clientAuth usage.
    """
    csr = parse_csr(csr_pem)
    name = common_name(csr)
    if name is None:
        raise CertificateProblem("the csr has no CN (the charge point id)", "cn-mismatch")
    if cp_id is not None and name != cp_id:
        raise CertificateProblem(
            f"the csr asks for CN {name!r}, but it came from charge point {cp_id!r}",
            "cn-mismatch",
        )
    certificate = issue_certificate(
        ca,
        csr.subject,
        _csr_public_key(csr),
        usage="client",
        days=days,
        not_before=not_before,
        not_after=not_after,
    )
    chain = () if is_self_signed(ca.certificate) else (ca.certificate, *ca.chain)
    return certificates_pem([certificate, *chain])


def accept_signed_certificate(
    certificate_chain: str | bytes,
    key: PrivateKey,
    cp_id: str,
    trusted: Sequence[x509.Certificate] = (),
    *,
    now: datetime.datetime | None = None,
) -> CertifiedKey:
    """The charge point side of CertificateSigned: the `certificateChain` checked against the
    key of its pending CSR, its id (CN) and, when `trusted` CAs are given, a valid chain to one
    of them. Returns the new certificate with its key, to use on the next connection (write it
    with `CertifiedKey.write`); a CertificateProblem means answering Rejected and reporting a
    security event InvalidChargingStationCertificate (OCPP 2.0.1 use case A02; 1.6 whitepaper:
    InvalidChargePointCertificate)."""
    certificates = parse_certificates(certificate_chain, "certificateChain")
    leaf, chain = certificates[0], tuple(certificates[1:])
    if public_key_der(leaf) != public_key_der(key):
        raise CertificateProblem(
            "the signed certificate is not for this charge point's key (no CSR of ours asked "
            "for it)",
            "key-mismatch",
        )
    check_common_name(leaf, cp_id)
    if trusted:
        verify_chain(leaf, trusted, intermediates=chain, purpose="client", now=now)
    else:
        check_validity(leaf, now)
    return CertifiedKey(leaf, key, tuple(c for c in chain if not is_self_signed(c)))
