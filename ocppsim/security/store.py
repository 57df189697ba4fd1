"""A charge point's (or a CSMS's) store of CA certificates: what InstallCertificate,
GetInstalledCertificateIds and DeleteCertificate act on.

Certificates are kept by type (OCPP 1.6 security whitepaper CertificateUseEnumType, OCPP 2.0.1 /
2.1 InstallCertificateUseEnumType) and named by their CertificateHashData. The store is data in
memory, optionally mirrored to a folder (`<folder>/<type>/<fingerprint>.pem`, the certificate
then its issuer) so a restarted simulator keeps what was installed.

Answers follow the specifications: install is Accepted, Rejected (the certificate is invalid or
the store is full) or Failed (valid, but it could not be stored); delete is Accepted, NotFound or
Failed (OCPP 2.0.1 use cases M03-M05; 1.6 whitepaper use cases M03-M05).
"""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ocppsim.security.hashdata import certificate_hash_data, same_hash_data
from ocppsim.security.pem import (
    CertificateProblem,
    certificates_pem,
    is_self_signed,
    parse_certificates,
    write_text,
)
from ocppsim.security.pki import utc_now
from ocppsim.security.verify import check_validity

_log = logging.getLogger("ocppsim.security")

#: OCPP 1.6 security whitepaper, CertificateUseEnumType
CERTIFICATE_TYPES_16: tuple[str, ...] = (
    "CentralSystemRootCertificate",
    "ManufacturerRootCertificate",
)
#: OCPP 2.0.1, InstallCertificateUseEnumType
CERTIFICATE_TYPES_201: tuple[str, ...] = (
    "V2GRootCertificate",
    "MORootCertificate",
    "CSMSRootCertificate",
    "ManufacturerRootCertificate",
)
#: OCPP 2.1, InstallCertificateUseEnumType
CERTIFICATE_TYPES_21: tuple[str, ...] = (*CERTIFICATE_TYPES_201, "OEMRootCertificate")
#: every type a store accepts
CERTIFICATE_TYPES: tuple[str, ...] = tuple(
    dict.fromkeys((*CERTIFICATE_TYPES_16, *CERTIFICATE_TYPES_21))
)


@dataclass(frozen=True)
class StoreAnswer:
    """The status a CertificateStore operation gives (the wire value) and, if not Accepted, why."""

    status: str
    reason: str = ""


@dataclass(frozen=True)
class InstalledCertificate:
    """A certificate in the store, its type, and its issuer (itself for a root)."""

    certificate_type: str
    certificate: x509.Certificate
    issuer: x509.Certificate

    def hash_data(self, hash_algorithm: str = "SHA256") -> dict[str, str]:
        """Its CertificateHashData with `hash_algorithm` (SHA256, SHA384 or SHA512)."""
        return certificate_hash_data(self.certificate, self.issuer, hash_algorithm)

    @property
    def fingerprint(self) -> str:
        """The SHA-256 fingerprint of the certificate, in hex (its file name in a folder)."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()


class CertificateStore:
    """CA certificates by type, identified by CertificateHashData; optionally kept in a folder."""

    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        max_certificates: int | None = None,
        clock: Callable[[], datetime.datetime] | None = None,
    ):
        self.folder = Path(folder) if folder is not None else None
        #: the most certificates the store holds (1.6 CertificateStoreMaxLength), None: no limit
        self.max_certificates = max_certificates
        self._clock = clock if clock is not None else utc_now
        self._entries: list[InstalledCertificate] = []
        if self.folder is not None:
            self._load(self.folder)

    # --- reading ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._entries)

    def installed(
        self, certificate_types: Iterable[str] | None = None
    ) -> list[InstalledCertificate]:
        """The certificates of these types (all when None), in the order they were installed
        (after a reload from the folder: by type, then file name)."""
        wanted = None if certificate_types is None else set(certificate_types)
        return [e for e in self._entries if wanted is None or e.certificate_type in wanted]

    def certificates(self, *certificate_types: str) -> list[x509.Certificate]:
        """The certificates of these types (all when none given): trust anchors for TLS."""
        return [e.certificate for e in self.installed(certificate_types or None)]

    def certificate_ids(
        self, certificate_types: Iterable[str] | None = None, hash_algorithm: str = "SHA256"
    ) -> list[tuple[str, dict[str, str]]]:
        """(certificateType, CertificateHashData) of each certificate of these types: what
        GetInstalledCertificateIds answers (status NotFound when the list is empty)."""
        return [
            (e.certificate_type, e.hash_data(hash_algorithm))
            for e in self.installed(certificate_types)
        ]

    def find(self, hash_data: Mapping[str, object]) -> list[InstalledCertificate]:
        """The installed certificates a CertificateHashData names (with whichever of SHA256,
        SHA384 and SHA512 it uses); none for an unknown algorithm."""
        algorithm = str(hash_data.get("hashAlgorithm", ""))
        found = []
        for entry in self._entries:
            try:
                mine = entry.hash_data(algorithm)
            except CertificateProblem:
                return []
            if same_hash_data(mine, hash_data):
                found.append(entry)
        return found

    # --- changing --------------------------------------------------------------------------

    def adopt(self, entries: Iterable[InstalledCertificate]) -> None:
        """Hold `entries` another store checked and installed (they are immutable: a fleet of
        charge points given the same CAs shares them), without checking them again."""
        self._entries.extend(entries)

    def install(self, certificate_type: str, certificate_pem: str | bytes) -> StoreAnswer:
        """InstallCertificate: Accepted, Rejected (not a valid CA certificate of a known type,
        issuer unknown, store full) or Failed (valid, but the folder could not be written)."""
        if certificate_type not in CERTIFICATE_TYPES:
            return StoreAnswer("Rejected", f"unknown certificateType {certificate_type!r}")
        try:
            certificates = parse_certificates(certificate_pem, "certificate")
        except CertificateProblem as exc:
            return StoreAnswer("Rejected", str(exc))
        if len(certificates) != 1:
            return StoreAnswer(
                "Rejected", f"expected one certificate, the PEM text holds {len(certificates)}"
            )
        certificate = certificates[0]
        try:
            check_validity(certificate, self._clock())
        except CertificateProblem as exc:
            return StoreAnswer("Rejected", str(exc))
        if not _is_ca(certificate):
            return StoreAnswer(
                "Rejected",
                f"a {certificate_type} must be a CA certificate (basicConstraints CA:true)",
            )
        issuer = self._issuer_of(certificate)
        if issuer is None:
            return StoreAnswer(
                "Rejected",
                "not self-signed and its issuer "
                f"({certificate.issuer.rfc4514_string()}) is not installed",
            )
        entry = InstalledCertificate(certificate_type, certificate, issuer)
        if any(
            e.certificate_type == certificate_type and e.fingerprint == entry.fingerprint
            for e in self._entries
        ):
            return StoreAnswer("Accepted")
        if self.max_certificates is not None and len(self._entries) >= self.max_certificates:
            return StoreAnswer(
                "Rejected", f"the store is full ({self.max_certificates} certificates)"
            )
        if self.folder is not None:
            try:
                self._save(entry)
            except OSError as exc:
                return StoreAnswer("Failed", f"cannot store it in {self.folder} ({exc})")
        self._entries.append(entry)
        _log.debug("installed %s %s", certificate_type, certificate.subject.rfc4514_string())
        return StoreAnswer("Accepted")

    def delete(self, hash_data: Mapping[str, object]) -> StoreAnswer:
        """DeleteCertificate: Accepted (every certificate it names removed), NotFound or Failed
        (the folder could not be changed)."""
        found = self.find(hash_data)
        if not found:
            return StoreAnswer("NotFound", "no installed certificate has this certificateHashData")
        for entry in found:
            if self.folder is not None:
                try:
                    self._path(entry).unlink(missing_ok=True)
                except OSError as exc:
                    return StoreAnswer("Failed", f"cannot remove it from {self.folder} ({exc})")
            self._entries.remove(entry)
        return StoreAnswer("Accepted")

    # --- helpers ---------------------------------------------------------------------------

    def _issuer_of(self, certificate: x509.Certificate) -> x509.Certificate | None:
        if is_self_signed(certificate):
            return certificate
        for entry in self._entries:
            candidate = entry.certificate
            if candidate.subject == certificate.issuer:
                try:
                    certificate.verify_directly_issued_by(candidate)
                except Exception:
                    continue
                return candidate
        return None

    def _path(self, entry: InstalledCertificate) -> Path:
        assert self.folder is not None
        return self.folder / entry.certificate_type / f"{entry.fingerprint[:32]}.pem"

    def _save(self, entry: InstalledCertificate) -> None:
        path = self._path(entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        chain = (
            [entry.certificate]
            if entry.issuer is entry.certificate
            else [entry.certificate, entry.issuer]
        )
        write_text(path, certificates_pem(chain))

    def _load(self, folder: Path) -> None:
        if not folder.is_dir():
            return
        for certificate_type in CERTIFICATE_TYPES:
            for path in sorted((folder / certificate_type).glob("*.pem")):
                try:
                    certificates = parse_certificates(path.read_bytes(), str(path))
                except (CertificateProblem, OSError) as exc:
                    _log.warning("certificate store: skipping %s (%s)", path, exc)
                    continue
                issuer = certificates[1] if len(certificates) > 1 else certificates[0]
                self._entries.append(
                    InstalledCertificate(certificate_type, certificates[0], issuer)
                )


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
    except x509.ExtensionNotFound:
        return False
    return constraints.value.ca
