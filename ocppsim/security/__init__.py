"""Certificates and TLS for the OCPP security profiles: a test PKI, CSRs and their signing,
the certificate store, CertificateHashData, PEM loading and `ssl` contexts.

No asyncio and no sockets here: pure functions and small classes over `cryptography`, `ssl`
and files, for the transports and simulators to use.
"""

from __future__ import annotations

from ocppsim.security.csr import (
    CertificateRequest,
    accept_signed_certificate,
    make_csr,
    parse_csr,
    sign_csr,
)
from ocppsim.security.hashdata import (
    HASH_ALGORITHMS,
    certificate_hash_data,
    same_hash_data,
    serial_number_hex,
)
from ocppsim.security.pem import (
    CertificateProblem,
    CertifiedKey,
    PrivateKey,
    common_name,
    load_certificates,
    load_certified_key,
    load_private_key,
    parse_certificates,
    parse_private_key,
)
from ocppsim.security.pki import (
    DEFAULT_SERVER_HOSTS,
    Pki,
    expired_client_certificate,
    foreign_client_certificate,
    generate_key,
    issue_client_certificate,
    issue_server_certificate,
    make_ca,
    make_pki,
    mismatched_client_certificate,
    write_pki,
)
from ocppsim.security.store import (
    CERTIFICATE_TYPES,
    CERTIFICATE_TYPES_16,
    CERTIFICATE_TYPES_21,
    CERTIFICATE_TYPES_201,
    CertificateStore,
    InstalledCertificate,
    StoreAnswer,
)
from ocppsim.security.tls import (
    TlsFailure,
    check_peer_identity,
    client_context,
    peer_certificate,
    server_context,
    tls_failure,
)
from ocppsim.security.verify import (
    check_common_name,
    check_validity,
    verify_chain,
    verify_charge_point_certificate,
)

__all__ = [
    "CERTIFICATE_TYPES",
    "CERTIFICATE_TYPES_16",
    "CERTIFICATE_TYPES_201",
    "CERTIFICATE_TYPES_21",
    "DEFAULT_SERVER_HOSTS",
    "HASH_ALGORITHMS",
    "CertificateProblem",
    "CertificateRequest",
    "CertificateStore",
    "CertifiedKey",
    "InstalledCertificate",
    "Pki",
    "PrivateKey",
    "StoreAnswer",
    "TlsFailure",
    "accept_signed_certificate",
    "certificate_hash_data",
    "check_common_name",
    "check_peer_identity",
    "check_validity",
    "client_context",
    "common_name",
    "expired_client_certificate",
    "foreign_client_certificate",
    "generate_key",
    "issue_client_certificate",
    "issue_server_certificate",
    "load_certificates",
    "load_certified_key",
    "load_private_key",
    "make_ca",
    "make_csr",
    "make_pki",
    "mismatched_client_certificate",
    "parse_certificates",
    "parse_csr",
    "parse_private_key",
    "peer_certificate",
    "same_hash_data",
    "serial_number_hex",
    "server_context",
    "sign_csr",
    "tls_failure",
    "verify_chain",
    "verify_charge_point_certificate",
    "write_pki",
]
