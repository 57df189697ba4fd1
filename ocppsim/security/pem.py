"""PEM in and out: certificates, private keys and certified key pairs, with errors that say what
to do.

Everything here reads or writes text and files; nothing opens a socket.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from ocppsim.core.errors import OcppSimError

#: The private keys ocppsim uses: the OCPP TLS cipher suites are ECDSA or RSA ones
#: (OCPP 2.0.1 Part 2 §A00.FR.309; OCPP 1.6 security whitepaper §2.3).
PrivateKey = Union[ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey]  # noqa: UP007 (3.10 alias)

_CERT_BEGIN = b"-----BEGIN CERTIFICATE-----"
_CSR_BEGINS = (b"-----BEGIN CERTIFICATE REQUEST-----", b"-----BEGIN NEW CERTIFICATE REQUEST-----")


class CertificateProblem(OcppSimError):
    """A certificate, key or CSR that cannot be used, and why.

    `code` is a short stable word a caller can branch on (`missing`, `not-pem`, `key-mismatch`,
    `expired`, `untrusted`, `cn-mismatch`, …); the message is for people.
    """

    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.code = code


def _as_bytes(text: str | bytes) -> bytes:
    return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text


def read_file(path: str | os.PathLike[str], what: str) -> bytes:
    """The bytes of `path`, or a CertificateProblem that names the file and what it should be."""
    path = Path(path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CertificateProblem(f"{path}: no such file (expected {what})", "missing") from None
    except IsADirectoryError:
        raise CertificateProblem(f"{path}: is a folder, not {what}", "missing") from None
    except PermissionError:
        raise CertificateProblem(f"{path}: not allowed to read it ({what})", "unreadable") from None
    except OSError as exc:
        raise CertificateProblem(f"{path}: cannot read it ({exc.strerror})", "unreadable") from exc


def _not_pem_hint(data: bytes) -> str:
    if data[:1] == b"\x30":
        return (
            " (it looks like DER: convert it with `openssl x509 -inform der -in FILE -out X.pem`)"
        )
    if b"PRIVATE KEY-----" in data:
        return " (it holds a private key)"
    if any(begin in data for begin in _CSR_BEGINS):
        return " (it holds a certificate signing request)"
    return ""


def parse_certificates(text: str | bytes, source: str = "certificate") -> list[x509.Certificate]:
    """Every certificate of a PEM text, in order (a leaf and its chain, or a list of CAs)."""
    data = _as_bytes(text)
    if _CERT_BEGIN not in data:
        raise CertificateProblem(
            f"{source}: no PEM certificate in it, expected a '-----BEGIN CERTIFICATE-----' block"
            + _not_pem_hint(data),
            "not-pem",
        )
    try:
        return x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise CertificateProblem(
            f"{source}: a certificate block cannot be read ({exc})", "not-pem"
        ) from exc


def parse_private_key(text: str | bytes, source: str = "private key") -> PrivateKey:
    """The private key of a PEM text (unencrypted; EC or RSA)."""
    data = _as_bytes(text)
    if b"PRIVATE KEY-----" not in data:
        hint = " (it holds a certificate)" if _CERT_BEGIN in data else _not_pem_hint(data)
        raise CertificateProblem(
            f"{source}: no PEM private key in it, expected a '-----BEGIN PRIVATE KEY-----' block"
            + hint,
            "not-pem",
        )
    if b"ENCRYPTED PRIVATE KEY-----" in data or b"Proc-Type: 4,ENCRYPTED" in data:
        raise CertificateProblem(
            f"{source}: the key is encrypted; give an unencrypted copy "
            "(`openssl pkey -in KEY -out plain.key`)",
            "encrypted",
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateProblem(f"{source}: the key cannot be read ({exc})", "not-pem") from exc
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for exotic keys
        raise CertificateProblem(
            f"{source}: the key cannot be used ({exc})", "unsupported"
        ) from exc
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise CertificateProblem(
            f"{source}: a {type(key).__name__.replace('PrivateKey', '')} key; OCPP's TLS cipher "
            "suites need an EC or RSA key",
            "unsupported",
        )
    return key


def load_certificates(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """The certificates of a PEM file (for `--ca`, `--client-ca`: one or more CAs)."""
    return parse_certificates(read_file(path, "a PEM certificate"), str(path))


def load_private_key(path: str | os.PathLike[str]) -> PrivateKey:
    """The private key of a PEM file."""
    return parse_private_key(read_file(path, "a PEM private key"), str(path))


def public_key_der(key_or_certificate: PrivateKey | x509.Certificate) -> bytes:
    """The DER SubjectPublicKeyInfo of a key or certificate, to compare two of them."""
    public = key_or_certificate.public_key()
    return public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def common_name(certificate: x509.Certificate | x509.CertificateSigningRequest) -> str | None:
    """The subject's CN (commonName), or None when it has none."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        return None
    value = names[0].value
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


def is_self_signed(certificate: x509.Certificate) -> bool:
    """True for a certificate signed by its own key (a root CA)."""
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except Exception:  # InvalidSignature, or a key type that cannot sign
        return False
    return True


def certificates_pem(certificates: Sequence[x509.Certificate]) -> str:
    """PEM text of certificates, one block after the other."""
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certificates)


def private_key_pem(key: PrivateKey) -> str:
    """Unencrypted PKCS#8 PEM text of a private key."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def write_text(path: str | os.PathLike[str], text: str, *, private: bool = False) -> Path:
    """Write `text` to `path` whole or not at all (a temporary file renamed); mode 0600 when
    `private` (a key), else 0644."""
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600 if private else 0o644)
        with os.fdopen(fd, "w", encoding="ascii", newline="\n") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    return path


@dataclass(frozen=True)
class CertifiedKey:
    """A private key with its certificate and the chain above it (the root excluded): what a TLS
    end presents. Built only from a matching pair."""

    certificate: x509.Certificate
    key: PrivateKey = field(repr=False)
    chain: tuple[x509.Certificate, ...] = ()
    #: the (certificate, key) files it was read from, if any: TLS loads them directly (faster)
    files: tuple[Path, Path] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if public_key_der(self.key) != public_key_der(self.certificate):
            raise CertificateProblem(
                f"the private key does not match the certificate "
                f"({self.certificate.subject.rfc4514_string()})",
                "key-mismatch",
            )

    @property
    def common_name(self) -> str | None:
        """The certificate's CN (a charge point id, a host name, a CA name)."""
        return common_name(self.certificate)

    def certificate_pem(self) -> str:
        """The certificate then its chain, as PEM text (what `load_cert_chain` reads)."""
        return certificates_pem([self.certificate, *self.chain])

    def key_pem(self) -> str:
        """The private key as unencrypted PEM text."""
        return private_key_pem(self.key)

    def write(
        self, certificate_path: str | os.PathLike[str], key_path: str | os.PathLike[str]
    ) -> None:
        """Write the certificate (with its chain) and the key (mode 0600), replacing the files."""
        write_text(key_path, self.key_pem(), private=True)
        write_text(certificate_path, self.certificate_pem())


def load_certified_key(
    certificate_path: str | os.PathLike[str], key_path: str | os.PathLike[str]
) -> CertifiedKey:
    """A certificate file (leaf first, then its chain) and its key file, checked to match."""
    certificates = load_certificates(certificate_path)
    key = load_private_key(key_path)
    try:
        return CertifiedKey(
            certificates[0],
            key,
            tuple(certificates[1:]),
            files=(Path(certificate_path), Path(key_path)),
        )
    except CertificateProblem as exc:
        raise CertificateProblem(
            f"{key_path} is not the private key of {certificate_path} "
            f"({certificates[0].subject.rfc4514_string()})",
            exc.code,
        ) from None
