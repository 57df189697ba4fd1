"""A test PKI: a CA, a server certificate for localhost, one client certificate per charge point,
and the bad certificates that negative tests need (expired, from another CA, CN ≠ id).

The shapes follow the OCPP security profiles: the server certificate names the host in its SAN
and CN (OCPP 2.0.1 Part 2 §A00.FR.309/§A00.FR.510), a charge point's client certificate carries
the charge point id as its CN (profile 3: the CSMS checks it, §A00.FR.405) and the CPO name as O
(§A00.FR.404).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ocppsim.security.pem import CertificateProblem, CertifiedKey, PrivateKey, is_self_signed

KeyType = Literal["ec", "rsa"]

#: key types a test PKI can use: EC P-256 (the default, fast) or RSA 2048
KEY_TYPES: tuple[KeyType, ...] = ("ec", "rsa")

#: the names the default server certificate is valid for
DEFAULT_SERVER_HOSTS: tuple[str, ...] = ("localhost", "127.0.0.1")

CA_DAYS = 3650
LEAF_DAYS = 825

#: backdating every certificate a little, so a peer whose clock is behind still accepts it
_BACKDATE = datetime.timedelta(hours=1)

Usage = Literal["ca", "server", "client"]


def utc_now() -> datetime.datetime:
    """The current time, timezone-aware (certificates are in UTC)."""
    return datetime.datetime.now(datetime.timezone.utc)


def generate_key(key_type: KeyType = "ec") -> PrivateKey:
    """A new private key: EC P-256 or RSA 2048."""
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unknown key type {key_type!r} (one of {', '.join(KEY_TYPES)})")


def subject_name(common: str, organization: str | None = None) -> x509.Name:
    """A subject Name `O=organization, CN=common` (O left out when None)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _chain_below(issuer: CertifiedKey) -> tuple[x509.Certificate, ...]:
    """The chain a certificate issued by `issuer` travels with: the issuer and its own chain,
    unless the issuer is the root (a root is a trust anchor, never sent)."""
    if is_self_signed(issuer.certificate):
        return ()
    return (issuer.certificate, *issuer.chain)


def issue_certificate(
    issuer: CertifiedKey | None,
    subject: x509.Name,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    *,
    usage: Usage,
    signing_key: PrivateKey | None = None,
    hosts: Sequence[str] = (),
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
    days: int = LEAF_DAYS,
    serial_number: int | None = None,
) -> x509.Certificate:
    """A certificate for `public_key`, signed by `issuer` (or self-signed with `signing_key` when
    `issuer` is None), with the extensions its `usage` needs (RFC 5280 §4.2) and a random serial
    number unless one is given."""
    start = not_before if not_before is not None else utc_now() - _BACKDATE
    end = not_after if not_after is not None else start + _BACKDATE + datetime.timedelta(days=days)
    issuer_public: CertificateIssuerPublicKeyTypes
    if issuer is None:
        if signing_key is None:
            raise ValueError("a self-signed certificate needs its signing_key")
        issuer_name, key, issuer_public = subject, signing_key, public_key
    else:
        issuer_name, key = issuer.certificate.subject, issuer.key
        issuer_public = issuer.key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(serial_number if serial_number is not None else x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
    )
    if usage == "ca":
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=None), critical=True
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = (
            builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=isinstance(public_key, rsa.RSAPublicKey),
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(
                    [
                        ExtendedKeyUsageOID.SERVER_AUTH
                        if usage == "server"
                        else ExtendedKeyUsageOID.CLIENT_AUTH
                    ]
                ),
                critical=False,
            )
        )
        if hosts:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([_general_name(h) for h in hosts]), critical=False
            )
    return builder.sign(key, hashes.SHA256())


def make_ca(
    common: str = "ocppsim test CA",
    *,
    organization: str | None = "ocppsim",
    key_type: KeyType = "ec",
    days: int = CA_DAYS,
) -> CertifiedKey:
    """A self-signed root CA (CA:true, keyCertSign) to sign server and client certificates."""
    key = generate_key(key_type)
    subject = subject_name(common, organization)
    certificate = issue_certificate(
        None, subject, key.public_key(), usage="ca", signing_key=key, days=days
    )
    return CertifiedKey(certificate, key)


def issue_server_certificate(
    ca: CertifiedKey,
    hosts: Sequence[str] = DEFAULT_SERVER_HOSTS,
    *,
    key_type: KeyType = "ec",
    days: int = LEAF_DAYS,
) -> CertifiedKey:
    """A TLS server certificate (serverAuth) for `hosts`: DNS names and IP addresses in the SAN,
    the first one as CN too."""
    if not hosts:
        raise ValueError("a server certificate needs at least one host name")
    key = generate_key(key_type)
    certificate = issue_certificate(
        ca, subject_name(hosts[0]), key.public_key(), usage="server", hosts=hosts, days=days
    )
    return CertifiedKey(certificate, key, _chain_below(ca))


def issue_client_certificate(
    ca: CertifiedKey,
    cp_id: str,
    *,
    common: str | None = None,
    organization: str | None = None,
    key_type: KeyType = "ec",
    key: PrivateKey | None = None,
    days: int = LEAF_DAYS,
    not_before: datetime.datetime | None = None,
    not_after: datetime.datetime | None = None,
) -> CertifiedKey:
    """A charge point's TLS client certificate (clientAuth) with CN = `cp_id` (or `common`, to
    make a wrong one) and O = `organization` (the CPO name) when given."""
    key = key if key is not None else generate_key(key_type)
    certificate = issue_certificate(
        ca,
        subject_name(common if common is not None else cp_id, organization),
        key.public_key(),
        usage="client",
        days=days,
        not_before=not_before,
        not_after=not_after,
    )
    return CertifiedKey(certificate, key, _chain_below(ca))


def expired_client_certificate(
    ca: CertifiedKey, cp_id: str, *, key_type: KeyType = "ec"
) -> CertifiedKey:
    """A client certificate for `cp_id` from `ca` that expired yesterday (valid for 30 days)."""
    end = utc_now() - datetime.timedelta(days=1)
    return issue_client_certificate(
        ca,
        cp_id,
        key_type=key_type,
        not_before=end - datetime.timedelta(days=30),
        not_after=end,
    )


def foreign_client_certificate(cp_id: str, *, key_type: KeyType = "ec") -> CertifiedKey:
    """A client certificate for `cp_id` signed by a fresh CA that nobody trusts."""
    other = make_ca("ocppsim other CA", organization="elsewhere", key_type=key_type)
    return issue_client_certificate(other, cp_id, key_type=key_type)


def mismatched_client_certificate(
    ca: CertifiedKey, cp_id: str, common: str | None = None, *, key_type: KeyType = "ec"
) -> CertifiedKey:
    """A valid client certificate from `ca` whose CN is not `cp_id` (default `not-<cp_id>`)."""
    common = common if common is not None else f"not-{cp_id}"
    if common == cp_id:
        raise ValueError("the common name must differ from the charge point id")
    return issue_client_certificate(ca, cp_id, common=common, key_type=key_type)


@dataclass(frozen=True)
class Pki:
    """A CA, a server certificate and a client certificate per charge point id."""

    ca: CertifiedKey
    server: CertifiedKey
    clients: dict[str, CertifiedKey]


def make_pki(
    cp_ids: Iterable[str],
    *,
    hosts: Sequence[str] = DEFAULT_SERVER_HOSTS,
    key_type: KeyType = "ec",
) -> Pki:
    """A whole test PKI in memory."""
    ca = make_ca(key_type=key_type)
    server = issue_server_certificate(ca, hosts, key_type=key_type)
    clients = {cp_id: issue_client_certificate(ca, cp_id, key_type=key_type) for cp_id in cp_ids}
    return Pki(ca, server, clients)


#: file stems a charge point id may not take (they name the CA's and the server's files)
RESERVED_STEMS = ("ca", "server")


def check_cp_id_for_file(cp_id: str) -> None:
    """Refuse a charge point id that cannot name its `<id>.pem`/`<id>.key` files safely."""
    if not cp_id:
        raise CertificateProblem("a charge point id cannot be empty", "bad-id")
    if cp_id in RESERVED_STEMS:
        raise CertificateProblem(
            f"charge point id {cp_id!r} would overwrite the {cp_id}.pem/{cp_id}.key files",
            "bad-id",
        )
    if cp_id.startswith(".") or any(c in cp_id for c in "/\\:") or not cp_id.isprintable():
        raise CertificateProblem(
            f"charge point id {cp_id!r} cannot name a file (no '/', '\\', ':', control "
            "characters or leading '.')",
            "bad-id",
        )


def pki_paths(folder: str | os.PathLike[str], cp_ids: Iterable[str]) -> list[Path]:
    """The files `write_pki` writes for these ids, certificates before keys per entity."""
    folder = Path(folder)
    stems = ["ca", "server", *cp_ids]
    return [folder / f"{stem}.{ext}" for stem in stems for ext in ("pem", "key")]


def write_pki(pki: Pki, folder: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Write `ca.pem`, `ca.key`, `server.pem`, `server.key` and `<id>.pem`, `<id>.key` per charge
    point (keys mode 0600) into `folder` (created); refuses to replace a file unless `force`."""
    folder = Path(folder)
    for cp_id in pki.clients:
        check_cp_id_for_file(cp_id)
    paths = pki_paths(folder, pki.clients)
    if not force:
        existing = [p for p in paths if p.exists() or p.is_symlink()]
        if existing:
            raise CertificateProblem(
                "not overwriting " + ", ".join(str(p) for p in existing) + " (give --force to "
                "replace them)",
                "exists",
            )
    if folder.exists() and not folder.is_dir():
        raise CertificateProblem(f"{folder}: exists and is not a folder", "exists")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CertificateProblem(f"{folder}: cannot create the folder ({exc.strerror})") from exc
    entities = {"ca": pki.ca, "server": pki.server, **pki.clients}
    written: list[Path] = []
    for stem, certified in entities.items():
        certificate_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
        try:
            certified.write(certificate_path, key_path)
        except OSError as exc:
            raise CertificateProblem(
                f"{folder}: cannot write {stem}.pem/{stem}.key ({exc})"
            ) from exc
        written += [certificate_path, key_path]
    return written
