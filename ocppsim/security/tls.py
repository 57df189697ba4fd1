"""`ssl.SSLContext` builders for the security profiles, and what a TLS failure means.

Profile 2 is TLS with a server certificate the charge point checks (chain to its CA, host name);
profile 3 adds a client certificate the central system checks (chain to its client CA, CN = the
charge point id). Both require TLS 1.2 or newer (OCPP 2.0.1 Part 2 §A00, security profiles 2 and 3;
1.6 security whitepaper §2.3). The contexts use the standard `ssl` module only.
"""

from __future__ import annotations

import contextvars
import os
import secrets
import ssl
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ocppsim.security.pem import CertificateProblem, CertifiedKey, certificates_pem
from ocppsim.security.verify import check_common_name

#: the oldest TLS version either end accepts
MINIMUM_TLS_VERSION = ssl.TLSVersion.TLSv1_2


def load_identity(context: ssl.SSLContext, identity: CertifiedKey) -> None:
    """Make `context` present `identity` (certificate, chain, key).

    An identity read from files is loaded from them. Otherwise (`ssl` reads keys only from
    files) the key goes to a private temporary file, encrypted with a one-time password, that is
    gone when this returns.
    """
    if identity.files is not None:
        try:
            context.load_cert_chain(*identity.files)
            return
        except (OSError, ssl.SSLError):
            pass  # changed or gone since it was read: present what was read
    password = secrets.token_bytes(32)
    key_pem = identity.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
    with tempfile.TemporaryDirectory(prefix="ocppsim-tls-") as folder:
        certificate_file = os.path.join(folder, "certificate.pem")
        key_file = os.path.join(folder, "key.pem")
        with open(certificate_file, "w", encoding="ascii") as out:
            out.write(identity.certificate_pem())
        descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(key_pem)
        try:
            context.load_cert_chain(certificate_file, key_file, password=password)
        except ssl.SSLError as exc:
            raise CertificateProblem(
                f"TLS cannot use the certificate {identity.certificate.subject.rfc4514_string()} "
                f"({exc.reason or exc})",
                "unusable",
            ) from exc


def _load_trusted(context: ssl.SSLContext, trusted: Sequence[x509.Certificate], what: str) -> None:
    if not trusted:
        raise CertificateProblem(f"no {what} certificate given", "missing")
    try:
        context.load_verify_locations(cadata=certificates_pem(trusted))
    except ssl.SSLError as exc:
        raise CertificateProblem(
            f"TLS cannot use the {what} certificates ({exc})", "unusable"
        ) from exc


def server_context(
    identity: CertifiedKey,
    *,
    client_ca: Sequence[x509.Certificate] | None = None,
    require_client_certificate: bool = True,
) -> ssl.SSLContext:
    """A central system's TLS context: its certificate and key, TLS ≥ 1.2; with `client_ca`,
    client certificates are requested and must chain to it (profile 3; with
    `require_client_certificate=False` a client without one is let through)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = MINIMUM_TLS_VERSION
    load_identity(context, identity)
    if client_ca is not None:
        _load_trusted(context, client_ca, "client CA")
        context.verify_mode = ssl.CERT_REQUIRED if require_client_certificate else ssl.CERT_OPTIONAL
    return context


def client_context(
    trusted: Sequence[x509.Certificate] | None = None,
    *,
    identity: CertifiedKey | None = None,
    check_hostname: bool = True,
) -> ssl.SSLContext:
    """A charge point's TLS context: the server's chain checked against `trusted` CAs (the
    system's when None) and its host name checked, TLS ≥ 1.2; `identity` is the client
    certificate for profile 3."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = MINIMUM_TLS_VERSION
    context.check_hostname = check_hostname
    context.verify_mode = ssl.CERT_REQUIRED
    if trusted is None:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    else:
        _load_trusted(context, trusted, "CA")
    if identity is not None:
        load_identity(context, identity)
    return refusing_client(context)


def peer_certificate(connection: ssl.SSLSocket | ssl.SSLObject) -> x509.Certificate | None:
    """The certificate the other end presented on a TLS connection (None if it sent none)."""
    der = connection.getpeercert(binary_form=True)
    return x509.load_der_x509_certificate(der) if der else None


def check_peer_identity(connection: ssl.SSLSocket | ssl.SSLObject, cp_id: str) -> x509.Certificate:
    """The central system's profile-3 check after the handshake (the chain was checked by it):
    the charge point sent a certificate whose CN is the id it connects as; else a
    CertificateProblem `no-certificate` or `cn-mismatch`."""
    certificate = peer_certificate(connection)
    if certificate is None:
        raise CertificateProblem("the charge point sent no client certificate", "no-certificate")
    check_common_name(certificate, cp_id)
    return certificate


@dataclass(frozen=True)
class TlsFailure:
    """Why a TLS handshake (or the first read after it) failed: a stable `code` and a message;
    `local` when this end refused the peer's certificate (else the peer refused, or the
    connection failed)."""

    code: str
    message: str
    local: bool = False
    #: the peer's alert said why (it refused this end's certificate or TLS version)
    received: bool = False


#: X.509 verification errors (OpenSSL's X509_V_ERR_* numbers) this end saw in the peer's chain
_VERIFY_CODES = {
    9: "not-yet-valid",
    10: "expired",
    2: "untrusted",
    7: "untrusted",
    18: "untrusted",
    19: "untrusted",
    20: "untrusted",
    21: "untrusted",
    26: "wrong-purpose",
    62: "hostname-mismatch",
    64: "hostname-mismatch",
}

#: OpenSSL reasons, among them the alerts by which the peer refused this end's certificate
_REASONS = {
    "SSLV3_ALERT_CERTIFICATE_EXPIRED": ("expired", "the peer refused our certificate: expired"),
    "TLSV1_ALERT_UNKNOWN_CA": ("untrusted", "the peer does not trust our certificate's CA"),
    "SSLV3_ALERT_BAD_CERTIFICATE": ("untrusted", "the peer refused our certificate"),
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE": ("wrong-purpose", "the peer refused our certificate"),
    "TLSV13_ALERT_CERTIFICATE_REQUIRED": (
        "no-certificate",
        "the peer requires a client certificate and we sent none",
    ),
    "PEER_DID_NOT_RETURN_A_CERTIFICATE": (
        "no-certificate",
        "the peer sent no client certificate",
    ),
    "UNSUPPORTED_PROTOCOL": ("protocol-version", "no TLS version both ends accept (≥ 1.2 here)"),
    "TLSV1_ALERT_PROTOCOL_VERSION": (
        "protocol-version",
        "the peer accepts none of our TLS versions",
    ),
    "NO_PROTOCOLS_AVAILABLE": ("protocol-version", "no TLS version enabled"),
    "VERSION_TOO_LOW": ("protocol-version", "the peer offered a TLS version below 1.2"),
    "WRONG_VERSION_NUMBER": ("not-tls", "the peer does not speak TLS on this port"),
    "HTTP_REQUEST": (
        "not-tls",
        "the peer sent plain HTTP to the TLS port and was answered 400: wss:// or https:// is"
        " needed",
    ),
    "RECORD_LAYER_FAILURE": ("not-tls", "the peer's bytes are not TLS records"),
}


#: OpenSSL's reasons for an alert the peer sent: nothing is queued in answer to one
_RECEIVED_ALERT = ("SSLV3_ALERT_", "TLSV1_ALERT_", "TLSV13_ALERT_")


def tls_failure(exc: BaseException) -> TlsFailure:
    """What an exception from a TLS handshake means, as a code (`expired`, `untrusted`,
    `hostname-mismatch`, `no-certificate`, `protocol-version`, `not-tls`, …) and a message."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = _VERIFY_CODES.get(exc.verify_code, "untrusted")
        return TlsFailure(code, f"certificate check failed: {exc.verify_message}", local=True)
    if isinstance(exc, ssl.SSLEOFError):  # the peer closed without an alert
        return TlsFailure("closed", "the peer closed the connection during the TLS handshake")
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or ""
        if reason in _REASONS:
            code, message = _REASONS[reason]
            return TlsFailure(code, message, received=reason.startswith(_RECEIVED_ALERT))
        return TlsFailure("tls-error", f"TLS failed: {reason or exc}")
    if isinstance(exc, (ConnectionResetError, BrokenPipeError)):
        return TlsFailure("closed", "the peer closed the connection during the TLS handshake")
    return TlsFailure("error", f"{type(exc).__name__}: {exc}")


#: failures after which OpenSSL has queued an alert that tells the peer why
_ALERTED = frozenset(
    {"expired", "not-yet-valid", "untrusted", "wrong-purpose", "no-certificate", "protocol-version"}
)


def _held_back(exc: ssl.SSLError) -> bool:
    """True when OpenSSL queued an alert for the peer after `exc` (not after the peer's own
    alert, which nothing answers): hold the failure back until the event loop has written it."""
    failure = tls_failure(exc)
    return failure.code in _ALERTED and not failure.received


def _want_read() -> ssl.SSLWantReadError:
    # with its errno: Python 3.10's asyncio tells "want read" by errno, not by type
    return ssl.SSLWantReadError(ssl.SSL_ERROR_WANT_READ, "deliver the alert first")


#: where a client's handshake refused by this end (the server's certificate) is put, for the
#: code that connects (`refusing_client`): set for the duration of one connection attempt
refused_here: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "ocppsim_tls_refused_here", default=None
)


def refusing_client(context: ssl.SSLContext) -> ssl.SSLContext:
    """Make a client context tell the server why it refuses its certificate.

    As on a server (`report_handshake_failures`), asyncio drops a client connection whose
    handshake failed without writing the alert OpenSSL queued, so the server sees only a closed
    connection. When the code that connects has set `refused_here` to a list, a certificate
    check that fails puts its exception there and answers "want read" once: the loop writes
    the alert, the server closes, and the connecting code raises the exception from the list
    instead of the closed connection it sees. Without the list, nothing changes. Returns
    `context`."""

    class _RefusingObject(ssl.SSLObject):
        """An `SSLObject` whose refusal of the server's certificate is delivered first."""

        _failure: ssl.SSLError | None = None

        def do_handshake(self) -> None:
            if self._failure is not None:
                raise self._failure
            try:
                super().do_handshake()
            except ssl.SSLCertVerificationError as exc:
                refusals = refused_here.get()
                if refusals is None:
                    raise
                refusals.append(exc)
                self._failure = exc
                raise _want_read() from None

    context.sslobject_class = _RefusingObject
    return context


#: What a plain HTTP request at a TLS port is answered, in plain HTTP (nginx answers it so, in
#: its words): OpenSSL has read the request line and refused it (HTTP_REQUEST), and a client
#: that speaks no TLS reads this where it would read nothing but a closed connection.
PLAIN_HTTP_ANSWER_TEXT = "The plain HTTP request was sent to a TLS port: use wss:// (or https://)\n"
PLAIN_HTTP_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    + f"Content-Length: {len(PLAIN_HTTP_ANSWER_TEXT)}\r\n".encode()
    + b"Connection: close\r\n\r\n"
    + PLAIN_HTTP_ANSWER_TEXT.encode()
)


def report_handshake_failures(
    context: ssl.SSLContext, on_failure: Callable[[BaseException], None]
) -> ssl.SSLContext:
    """Make a server context tell `on_failure(exc)` of each TLS handshake that fails on it, and
    make sure the peer gets the alert that says why.

    asyncio (and uvloop) run TLS over memory BIOs and drop a connection whose handshake failed
    without writing what OpenSSL queued for the peer, so a charge point whose certificate is
    refused would see only a closed connection. Here a failed handshake first answers "want
    read": the event loop then writes the alert, and the failure is raised on the next call (the
    peer's close, its next bytes, or the handshake timeout). A plain HTTP request (a ws:// or
    http:// URL at this TLS port) is answered 400 in plain HTTP the same way, where it would
    get nothing but a closed connection. Returns `context`.
    """

    class _ReportingObject(ssl.SSLObject):
        """An `SSLObject` whose failed handshake is reported once and its alert flushed."""

        _failure: ssl.SSLError | None = None
        _outgoing: ssl.MemoryBIO | None = None

        @classmethod
        def _create(  # type: ignore[override]
            cls, incoming: ssl.MemoryBIO, outgoing: ssl.MemoryBIO, *args: Any, **kwargs: Any
        ) -> _ReportingObject:
            """As `SSLContext.wrap_bio` makes it, keeping the BIO the event loop writes out."""
            made = super()._create(incoming, outgoing, *args, **kwargs)  # type: ignore[misc]
            made._outgoing = outgoing
            return cast("_ReportingObject", made)

        def do_handshake(self) -> None:
            if self._failure is not None:
                raise self._failure
            try:
                super().do_handshake()
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                raise
            except ssl.SSLError as exc:
                on_failure(exc)
                outgoing = self._outgoing
                if exc.reason == "HTTP_REQUEST" and outgoing is not None:
                    outgoing.write(PLAIN_HTTP_ANSWER)  # in the clear: the peer speaks no TLS
                elif not _held_back(exc):
                    raise  # no alert to deliver (the peer's own alert, bytes not TLS): close
                self._failure = exc
                raise _want_read() from None

    context.sslobject_class = _ReportingObject
    return context
