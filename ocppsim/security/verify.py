"""Checking a certificate without a handshake: validity period, chain to a trusted CA, the charge
point id as CN. Each refusal is a CertificateProblem with a code a caller branches on.

The chain is checked by `cryptography`'s X.509 path validation (RFC 5280 with the web PKI
profile), with one relaxation: a charge point's certificate need not carry a subjectAltName
(OCPP identifies it by its CN, OCPP 2.0.1 Part 2 §A00.FR.405/§A00.FR.511).
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from typing import Literal

from cryptography import x509
from cryptography.x509.verification import (
    Criticality,
    DNSName,
    ExtensionPolicy,
    IPAddress,
    PolicyBuilder,
    Store,
    VerificationError,
)

from ocppsim.security.pem import CertificateProblem, common_name
from ocppsim.security.pki import utc_now

Purpose = Literal["client", "server"]


def _describe(certificate: x509.Certificate) -> str:
    name = common_name(certificate)
    return f"CN={name}" if name is not None else certificate.subject.rfc4514_string() or "(no name)"


def check_validity(certificate: x509.Certificate, now: datetime.datetime | None = None) -> None:
    """Refuse a certificate outside its validity period (`expired` / `not-yet-valid`)."""
    now = now if now is not None else utc_now()
    if now > certificate.not_valid_after_utc:
        raise CertificateProblem(
            f"the certificate {_describe(certificate)} expired on "
            f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M:%S} UTC",
            "expired",
        )
    if now < certificate.not_valid_before_utc:
        raise CertificateProblem(
            f"the certificate {_describe(certificate)} is not valid before "
            f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M:%S} UTC",
            "not-yet-valid",
        )


def check_common_name(certificate: x509.Certificate, cp_id: str) -> None:
    """Refuse a charge point certificate whose CN is not the charge point id (`cn-mismatch`):
    with security profile 3 the id the charge point connects as must be the one its certificate
    names (OCPP 2.0.1 Part 2 §A00.FR.405; OCPP 1.6 security whitepaper §2.3)."""
    name = common_name(certificate)
    if name != cp_id:
        shown = "no CN" if name is None else f"CN {name!r}"
        raise CertificateProblem(
            f"the client certificate has {shown}, not the charge point id {cp_id!r}",
            "cn-mismatch",
        )


def _allow_no_san(builder: PolicyBuilder) -> PolicyBuilder:
    end_entity = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    return builder.extension_policies(
        ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=end_entity
    )


def verify_chain(
    certificate: x509.Certificate,
    trusted: Sequence[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
    purpose: Purpose = "client",
    host: str | None = None,
    now: datetime.datetime | None = None,
) -> list[x509.Certificate]:
    """The verified chain from `certificate` up to one of the `trusted` CAs, or a
    CertificateProblem: `expired`/`not-yet-valid`, `untrusted` (no path to a trusted CA, a
    bad signature, a wrong key usage) or `hostname-mismatch` (a server certificate not valid
    for `host`)."""
    now = now if now is not None else utc_now()
    check_validity(certificate, now)
    if not trusted:
        raise CertificateProblem(
            "no trusted CA certificate to check the chain against", "untrusted"
        )
    builder = PolicyBuilder().store(Store(list(trusted))).time(now)
    try:
        if purpose == "client":
            verifier = _allow_no_san(builder).build_client_verifier()
            return list(verifier.verify(certificate, list(intermediates)).chain)
        if host is None:
            raise ValueError("checking a server certificate needs the host name")
        subject: DNSName | IPAddress
        try:
            subject = IPAddress(ipaddress.ip_address(host))
        except ValueError:
            subject = DNSName(host)
        return list(builder.build_server_verifier(subject).verify(certificate, list(intermediates)))
    except VerificationError as exc:
        text = str(exc).removeprefix("validation failed: ").split(" (encountered processing")[0]
        if "no matching subjectAltName" in text:
            raise CertificateProblem(
                f"the certificate {_describe(certificate)} is not valid for {host!r}",
                "hostname-mismatch",
            ) from exc
        raise CertificateProblem(
            f"the certificate {_describe(certificate)} is not trusted: {text}", "untrusted"
        ) from exc


def verify_charge_point_certificate(
    certificate: x509.Certificate,
    cp_id: str,
    trusted: Sequence[x509.Certificate],
    *,
    intermediates: Sequence[x509.Certificate] = (),
    now: datetime.datetime | None = None,
) -> None:
    """What a CSMS checks of a profile-3 client certificate (or a charge point of the certificate
    it was sent in CertificateSigned): in its validity period, chained to a trusted CA, CN = id."""
    verify_chain(certificate, trusted, intermediates=intermediates, purpose="client", now=now)
    check_common_name(certificate, cp_id)
