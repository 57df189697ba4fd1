"""The OCPP security profiles in the simulators: what a Central System requires of the charge
points that connect, and what a Charge Point presents (OCPP 2.0.1 Part 2 §A00 and the OCPP 1.6
security whitepaper §2: profile 1 is HTTP Basic auth over `ws://`, profile 2 Basic auth over
TLS ≥ 1.2, profile 3 a TLS client certificate whose CN names the charge point).

`CentralSystemSecurity` and `ChargePointSecurity` are built once from the options (files read,
`ssl` contexts made once and reused across connections, so a fleet shares them); a problem
with the options is a `SecurityOptionsError` whose text says what to do. The certificates and
contexts themselves come from `ocppsim.security`.
"""

from __future__ import annotations

import base64
import binascii
import ssl
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHeader
from websockets.headers import parse_authorization_basic

from ocppsim.core.errors import OcppSimError
from ocppsim.core.versions import OcppVersion
from ocppsim.security import (
    CertificateProblem,
    CertifiedKey,
    check_peer_identity,
    client_context,
    common_name,
    load_certificates,
    load_certified_key,
    load_private_key,
    server_context,
)
from ocppsim.security.pem import public_key_der
from ocppsim.security.tls import TlsFailure
from ocppsim.sim.log import ERROR, INFO

#: the profiles a `--security-profile` may name
PROFILES = (1, 2, 3)
#: the realm of the Basic challenge a refused charge point gets (RFC 7617 §2)
REALM = "ocppsim"
#: in a credentials table, the id whose password serves every id not listed
ANY_ID = "*"


class SecurityOptionsError(OcppSimError):
    """Security options that do not fit together, or files that cannot be used."""


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class Credentials:
    """The Basic-auth passwords a Central System knows, by charge point id (`*`: any other id).

    Read from `--auth id:password,…` or from a file of `id:password` lines (blank lines and
    lines starting with `#` ignored). The id ends at the first `:` (OCPP 2.x ids may not contain
    one), the password is the rest of the line, as UTF-8.
    """

    passwords: dict[str, str]
    source: str = ""

    def __len__(self) -> int:
        return len(self.passwords)

    @classmethod
    def parse(cls, value: str) -> Credentials:
        """`--auth`'s value: a file when one has that name, else `id:password,…`."""
        path = Path(value)
        if path.is_file():
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SecurityOptionsError(f"--auth {value}: cannot read it ({exc})") from None
            return cls._from_lines(text.splitlines(), f"{value}, line ", str(path))
        if ":" not in value:
            raise SecurityOptionsError(
                f"--auth {value}: no such file (give a file of id:password lines, or id:password,…)"
            )
        return cls._from_lines(value.split(","), "--auth item ", "--auth")

    @classmethod
    def _from_lines(cls, lines: Sequence[str], where: str, source: str) -> Credentials:
        passwords: dict[str, str] = {}
        for number, line in enumerate(lines, start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            cp_id, colon, password = line.partition(":")
            cp_id = cp_id.strip()
            if not colon or not cp_id:
                raise SecurityOptionsError(f"{where}{number}: expected id:password, got {line!r}")
            if cp_id in passwords:
                raise SecurityOptionsError(f"{where}{number}: {cp_id} is given twice")
            passwords[cp_id] = password
        if not passwords:
            raise SecurityOptionsError(f"{source}: no id:password in it")
        return cls(passwords, source)

    def remember(self, cp_id: str, password: str) -> None:
        """`password` is `cp_id`'s from now on (the charge point accepted it as its new one)."""
        self.passwords[cp_id] = password

    def describe(self) -> str:
        """`2 charge points` (`, any other id` with a `*` line)."""
        named = len([cp_id for cp_id in self.passwords if cp_id != ANY_ID])
        text = f"{named} charge point{'' if named == 1 else 's'}"
        return text + (", any other id" if ANY_ID in self.passwords else "")

    def check(self, cp_id: str, sent: bytes, version: OcppVersion | None) -> tuple[bool, str]:
        """Whether `sent` is the password of `cp_id`: (True, a warning or "") or (False, why).

        OCPP 1.6 sends its AuthorizationKey, configured as hexadecimal, as the bytes it stands
        for (security whitepaper; OCPP-J 1.6 §6.2.2); OCPP 2.x sends BasicAuthPassword as UTF-8
        text (2.0.1 Part 2 A00.FR.205). Implementations disagree, so a password written here as
        hexadecimal matches both its text and its bytes, and a match in the form the charge
        point's version does not use is accepted with a warning.
        """
        password = self.passwords.get(cp_id, self.passwords.get(ANY_ID))
        if password is None:
            return False, f"unknown charge point id {cp_id!r}"
        text = password.encode("utf-8")
        as_bytes = _hex_bytes(password)
        key_form = _sends_key_bytes(version)
        if sent == text:
            if key_form and _looks_like_key(password):
                return True, (
                    f"{cp_id} sent its AuthorizationKey as hexadecimal text, not as the bytes it "
                    "stands for (the OCPP 1.x security whitepaper); accepted"
                )
            return True, ""
        if as_bytes is not None and sent == as_bytes:
            if version is not None and not key_form:
                return True, (
                    f"{cp_id} sent its password hex-decoded; OCPP {version.name} sends "
                    "BasicAuthPassword as UTF-8 text; accepted"
                )
            return True, ""
        if key_form and _hex_bytes(sent.decode("utf-8", "replace")) == text:
            return True, (
                f"{cp_id} sent its AuthorizationKey as hexadecimal text, not as the bytes it "
                "stands for (the OCPP 1.x security whitepaper); accepted"
            )
        return False, f"wrong password for {cp_id}"


def _accepted_variable(request: dict[str, Any], result: Any) -> str | None:
    """The value of SecurityCtrlr.BasicAuthPassword that SetVariables set, if its result says
    Accepted (results are matched by component and variable, in any order: OCPP 2.0.1 B05)."""

    def names(entry: Any) -> tuple[Any, Any] | None:
        if not isinstance(entry, dict):
            return None
        component, variable = entry.get("component"), entry.get("variable")
        if not isinstance(component, dict) or not isinstance(variable, dict):
            return None
        return component.get("name"), variable.get("name")

    wanted = ("SecurityCtrlr", "BasicAuthPassword")
    value = next(
        (e.get("attributeValue") for e in request.get("setVariableData", ()) if names(e) == wanted),
        None,
    )
    results = result.get("setVariableResult", ()) if isinstance(result, dict) else ()
    if value is None or not any(
        names(e) == wanted and e.get("attributeStatus") == "Accepted" for e in results
    ):
        return None
    return str(value)


def _hex_bytes(text: str) -> bytes | None:
    """The bytes a hexadecimal text stands for (None if it is no such text)."""
    if not text or len(text) % 2:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def _looks_like_key(text: str) -> bool:
    """A hexadecimal text of 16 to 20 bytes: an AuthorizationKey as the 1.6 security whitepaper
    sizes it (a text password rarely looks like one)."""
    return 32 <= len(text) <= 40 and _hex_bytes(text) is not None


def _sends_key_bytes(version: OcppVersion | None) -> bool:
    """True for a version whose password is a configured AuthorizationKey (hexadecimal, sent
    as its bytes): the OCPP 1.x versions that define that key."""
    return version is not None and any(
        key.name == "AuthorizationKey" for key in version.configuration
    )


def authorization_header(cp_id: str, password: bytes) -> str:
    """`Basic base64(<id>:<password>)` (RFC 7617; the user name is the charge point id, which
    OCPP 1.6 lets hold a `:`, so the header is built here rather than by `websockets`)."""
    credentials = cp_id.encode("utf-8") + b":" + password
    return "Basic " + base64.b64encode(credentials).decode("ascii")


def _credentials(header: str) -> tuple[str, str, str]:
    """The user, ':' and password of a well-formed Basic Authorization header, bytes that are
    not UTF-8 as surrogates (what websockets 17 returns)."""
    token = header.split(" ", 1)[1]
    return base64.b64decode(token).decode("utf-8", "surrogateescape").partition(":")


def read_authorization(headers: Headers, cp_id: str) -> tuple[bytes | None, str]:
    """The password a handshake's Authorization header gives for `cp_id`: (password, "") or
    (None, why not)."""
    values = headers.get_all("Authorization")
    if not values:
        return None, "no Authorization header: Basic auth with the charge point id required"
    if len(values) > 1:
        return None, "more than one Authorization header"
    try:
        user, password = parse_authorization_basic(values[0])
    except InvalidHeader as exc:
        return None, f"Authorization header is not Basic credentials ({exc})"
    except UnicodeDecodeError:
        # websockets < 17 (Python 3.10) decodes the credentials as strict UTF-8, after checking
        # the header's form ("Basic <token68>"); a 1.6 key is raw bytes (OCPP-J 1.6 §6.2.2)
        user, colon, password = _credentials(values[0])
        if not colon:
            return None, "Authorization header is not Basic credentials"
    except (binascii.Error, ValueError):
        return None, "Authorization header is not Basic credentials"
    joined = f"{user}:{password}"
    if joined.startswith(cp_id + ":"):  # an id may hold a ':' (1.6): split after the id
        return joined[len(cp_id) + 1 :].encode("utf-8", "surrogateescape"), ""
    shown = user.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return None, f"Basic auth user {shown!r} is not the charge point id {cp_id!r}"


# ------------------------------------------------------------------------ Central System


@dataclass(frozen=True)
class Admitted:
    """A charge point the security checks let in: the profile it connected with and a warning
    about how it did (a password in the other version's form), if any."""

    profile: int
    warning: str = ""


@dataclass(frozen=True)
class Refused:
    """A handshake the security checks refuse: the HTTP status and why (the answer's body and
    the Central System's log line)."""

    status: HTTPStatus
    reason: str

    @property
    def headers(self) -> tuple[tuple[str, str], ...]:
        """A 401 carries the challenge (RFC 7235 §3.1)."""
        if self.status == HTTPStatus.UNAUTHORIZED:
            return (("WWW-Authenticate", f'Basic realm="{REALM}", charset="UTF-8"'),)
        return ()


def _load_identity(
    cert: str | None, key: str | None, cert_flag: str, key_flag: str
) -> CertifiedKey:
    if not cert or not key:
        missing = key_flag if cert else cert_flag
        given = cert_flag if cert else key_flag
        raise SecurityOptionsError(f"{given} needs {missing} (a certificate and its key)")
    try:
        return load_certified_key(cert, key)
    except CertificateProblem as exc:
        raise SecurityOptionsError(f"{exc}") from None


def _load_cas(path: str, flag: str) -> tuple[x509.Certificate, ...]:
    try:
        return tuple(load_certificates(path))
    except CertificateProblem as exc:
        raise SecurityOptionsError(f"{flag} {exc}") from None


def _ca_name(certificates: Sequence[x509.Certificate]) -> str:
    names = [common_name(c) or c.subject.rfc4514_string() for c in certificates]
    return ", ".join(f"'{name}'" for name in names)


def _profile(value: str | int | None) -> int | None:
    if value is None:
        return None
    try:
        profile = int(value)
    except ValueError:
        profile = -1
    if profile not in PROFILES:
        raise SecurityOptionsError(f"--security-profile {value}: use 1, 2 or 3")
    return profile


@dataclass
class CentralSystemSecurity:
    """What a Central System requires: `profile` is the lowest profile it accepts (0: none),
    with TLS when `tls` is set, Basic auth against `credentials`, client certificates chained
    to `client_ca` (profile 3, CN = the charge point id). `signer` signs CSRs (SignCertificate);
    `trusted` are the CAs it checks SOAP Charge Points' https callbacks with."""

    profile: int = 0
    tls: CertifiedKey | None = None
    client_ca: tuple[x509.Certificate, ...] | None = None
    credentials: Credentials | None = None
    signer: CertifiedKey | None = None
    trusted: tuple[x509.Certificate, ...] | None = None
    _context: ssl.SSLContext | None = field(default=None, repr=False)
    _client_context: ssl.SSLContext | None = field(default=None, repr=False)

    @classmethod
    def from_options(
        cls,
        *,
        transport: str = "websocket",
        profile: str | int | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        client_ca: str | None = None,
        auth: str | None = None,
        ca_key: str | None = None,
        ca: str | None = None,
    ) -> CentralSystemSecurity | None:
        """The security of `start_cs`'s options (None: none asked for); SecurityOptionsError
        names the option that does not fit."""
        wanted = _profile(profile)
        if wanted is None and not any((tls_cert, tls_key, client_ca, auth, ca_key, ca)):
            return None
        soap = transport == "soap"
        if soap and wanted is not None:
            raise SecurityOptionsError(
                "--security-profile is for OCPP-J (websocket); SOAP uses TLS alone "
                "(--tls-cert, --tls-key)"
            )
        if soap and auth:
            raise SecurityOptionsError("--auth (Basic auth) is for OCPP-J (websocket)")
        if ca and not soap:
            raise SecurityOptionsError(
                "--ca is for -t soap (the CAs of the SOAP Charge Points' https callbacks)"
            )
        tls = None
        if tls_cert or tls_key:
            tls = _load_identity(tls_cert, tls_key, "--tls-cert", "--tls-key")
        if client_ca and tls is None:
            raise SecurityOptionsError("--client-ca needs TLS: give --tls-cert and --tls-key")
        cas = _load_cas(client_ca, "--client-ca") if client_ca else None
        credentials = Credentials.parse(auth) if auth else None
        if wanted is None:
            if credentials is not None:
                wanted = 2 if tls is not None else 1
            elif cas is not None:
                wanted = 3  # SOAP: mutual TLS, every client presents a certificate
            else:
                wanted = 0
        elif wanted == 1:
            if tls is not None:
                raise SecurityOptionsError(
                    "profile 1 is Basic auth over ws://, without TLS: leave out --tls-cert and "
                    "--tls-key, or use --security-profile 2"
                )
            if credentials is None:
                raise SecurityOptionsError("profile 1 needs --auth (the charge points' passwords)")
        elif wanted == 2:
            if tls is None:
                raise SecurityOptionsError("profile 2 needs TLS: give --tls-cert and --tls-key")
            if credentials is None:
                raise SecurityOptionsError("profile 2 needs --auth (the charge points' passwords)")
        else:
            if tls is None or cas is None:
                raise SecurityOptionsError(
                    "profile 3 needs --tls-cert, --tls-key and --client-ca (the CA of the "
                    "charge points' certificates)"
                )
            if credentials is not None:
                raise SecurityOptionsError(
                    "profile 3 authenticates charge points by certificate: --auth is for "
                    "profiles 1 and 2 (--security-profile 2 with --client-ca accepts both)"
                )
        signer = cls._signer(ca_key, cas) if ca_key else None
        trusted = _load_cas(ca, "--ca") if ca else None
        return cls(wanted, tls, cas, credentials, signer, trusted)

    @staticmethod
    def _signer(ca_key: str, cas: tuple[x509.Certificate, ...] | None) -> CertifiedKey:
        try:
            key = load_private_key(ca_key)
        except CertificateProblem as exc:
            raise SecurityOptionsError(f"--ca-key {exc}") from None
        wanted = public_key_der(key)
        for certificate in cas or ():
            if public_key_der(certificate) == wanted:
                return CertifiedKey(certificate, key)
        raise SecurityOptionsError(
            f"--ca-key {ca_key}: no CA certificate of --client-ca is for this key (give the "
            "CA's certificate with --client-ca)"
        )

    @property
    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context (None without TLS), made once: profile 3 requires a client
        certificate; a profile-2 server with `--client-ca` asks for one and lets Basic auth
        in without it."""
        if self.tls is None:
            return None
        if self._context is None:
            try:
                self._context = server_context(
                    self.tls,
                    client_ca=self.client_ca,
                    require_client_certificate=self.profile >= 3,
                )
            except CertificateProblem as exc:
                raise SecurityOptionsError(str(exc)) from None
        return self._context

    @property
    def callback_context(self) -> ssl.SSLContext:
        """The context a SOAP Central System calls `https://` Charge Points back with."""
        if self._client_context is None:
            self._client_context = client_context(self.trusted)
        return self._client_context

    def learn_password(self, cp_id: str, action: str, request: Any, result: Any) -> str | None:
        """The new password a charge point accepted from this Central System, remembered for
        its next connection: ChangeConfiguration AuthorizationKey (1.6 security whitepaper,
        A01; hexadecimal, matched as its bytes and its text) or SetVariables
        SecurityCtrlr.BasicAuthPassword (OCPP 2.0.1 Part 2 A01). The line that says so, else
        None (nothing to learn)."""
        if self.credentials is None or not isinstance(request, dict):
            return None
        if action == "ChangeConfiguration":
            accepted = isinstance(result, dict) and result.get("status") == "Accepted"
            if request.get("key") != "AuthorizationKey" or not accepted:
                return None
            password, what = request.get("value"), "AuthorizationKey"
        elif action == "SetVariables":
            password, what = _accepted_variable(request, result), "BasicAuthPassword"
        else:
            return None
        if not isinstance(password, str) or not password:
            return None
        self.credentials.remember(cp_id, password)
        return f"#{cp_id} accepted a new {what}: Basic auth expects it from its next connection."

    @property
    def accepts_certificates(self) -> bool:
        return self.client_ca is not None

    def profiles(self) -> str:
        """`profile 2`, `profiles 2 and 3`, …"""
        if self.profile == 0:
            return "no security profile"
        if self.profile == 2 and self.accepts_certificates:
            return "profiles 2 and 3"
        return f"profile {self.profile}"

    def describe(self, transport: str, port: int) -> str:
        """The start line: `wss on port 9443, profile 2 (…)`."""
        soap = transport == "soap"
        scheme = (
            ("https" if soap else "wss") if self.tls is not None else ("http" if soap else "ws")
        )
        parts: list[str] = []
        if self.credentials is not None:
            parts.append(f"Basic auth: {self.credentials.describe()}")
        if self.client_ca is not None:
            what = "client certificates" if not soap else "client certificates (mutual TLS)"
            parts.append(f"{what} from CA {_ca_name(self.client_ca)}")
        if self.tls is not None:
            parts.append(f"server certificate CN={self.tls.common_name}")
        if self.signer is not None:
            parts.append(f"signs CSRs as CA '{self.signer.common_name}'")
        if self.trusted is not None:
            parts.append(f"callbacks checked against CA {_ca_name(self.trusted)}")
        if soap:
            head = f"{scheme} on port {port}"
        elif self.profile == 0:
            head = f"{scheme} on port {port}, TLS without authentication"
        else:
            head = f"{scheme} on port {port}, {self.profiles()}"
        return head + (f" ({'; '.join(parts)})" if parts else "")

    def profile_of(self, tls: ssl.SSLObject | None) -> int:
        """The profile an admitted connection came with (its TLS session, if any)."""
        if tls is not None and tls.getpeercert(binary_form=True):
            return 3
        if self.credentials is not None:
            return 2 if tls is not None else 1
        return 0

    def admit(
        self,
        cp_id: str,
        version: OcppVersion | None,
        headers: Headers,
        tls: ssl.SSLObject | None,
    ) -> Admitted | Refused:
        """Judge a charge point's handshake: a client certificate whose CN is its id (the chain
        was checked by TLS), else Basic auth with its id and password."""
        if tls is not None and tls.getpeercert(binary_form=True):
            try:
                check_peer_identity(tls, cp_id)
            except CertificateProblem as exc:
                return Refused(HTTPStatus.FORBIDDEN, str(exc))
            return Admitted(3)
        if self.profile >= 3:  # TLS required the certificate; kept for a context without
            return Refused(HTTPStatus.UNAUTHORIZED, "a client certificate is required")
        if self.credentials is None:
            return Admitted(0)
        password, problem = read_authorization(headers, cp_id)
        if password is None:
            return Refused(HTTPStatus.UNAUTHORIZED, problem)
        ok, note = self.credentials.check(cp_id, password, version)
        if not ok:
            return Refused(HTTPStatus.UNAUTHORIZED, note)
        return Admitted(2 if tls is not None else 1, note)


# --------------------------------------------------------------------------- Charge Point

#: the most client TLS contexts a process keeps (one per set of CAs and client certificate)
MAX_CLIENT_CONTEXTS = 4096
_client_contexts: OrderedDict[tuple[Any, ...], ssl.SSLContext] = OrderedDict()


def _fingerprint(certificate: x509.Certificate) -> bytes:
    return certificate.fingerprint(hashes.SHA256())


def _client_context(
    trusted: Sequence[x509.Certificate] | None, identity: CertifiedKey | None
) -> ssl.SSLContext:
    """A charge point's TLS context, shared by every charge point of the process that trusts
    the same CAs and presents the same certificate (least recently used ones go)."""
    key = (
        None if trusted is None else tuple(sorted({_fingerprint(c) for c in trusted})),
        None if identity is None else _fingerprint(identity.certificate),
        None if identity is None else public_key_der(identity.key),
    )
    context = _client_contexts.get(key)
    if context is None:
        context = client_context(trusted, identity=identity)
        _client_contexts[key] = context
        while len(_client_contexts) > MAX_CLIENT_CONTEXTS:
            _client_contexts.popitem(last=False)
    else:
        _client_contexts.move_to_end(key)
    return context


@dataclass
class ChargePointSecurity:
    """What a Charge Point presents: `profile` (0: none), the CAs it checks the server with
    (`trusted`; None: the system's), its client certificate (`identity`, profile 3), its
    password (`password`, the bytes Basic auth sends) and the certificate of its SOAP callback
    server (`callback_tls`). The profile and password may change at run time (a new
    AuthorizationKey, BasicAuthPassword or SecurityProfile, a new certificate): the Charge
    Point reads them at each connection."""

    profile: int = 0
    trusted: tuple[x509.Certificate, ...] | None = None
    identity: CertifiedKey | None = None
    password: bytes | None = None
    callback_tls: CertifiedKey | None = None
    explicit: bool = False
    _callback: ssl.SSLContext | None = field(default=None, repr=False)

    @classmethod
    def from_options(
        cls,
        url: str,
        *,
        transport: str = "websocket",
        profile: str | int | None = None,
        ca: str | None = None,
        password: str | None = None,
        auth_key: str | None = None,
        cert: str | None = None,
        key: str | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        key_bytes: bool = True,
    ) -> ChargePointSecurity | None:
        """The security of `start_cp`'s options (None: none asked for). `key_bytes` says
        whether the version has an AuthorizationKey (`--auth-key` is its hexadecimal form)."""
        wanted = _profile(profile)
        if wanted is None and not any((ca, password, auth_key, cert, key, tls_cert, tls_key)):
            return None
        soap = transport == "soap"
        secure = url.lower().startswith(("wss:", "https:"))
        if soap and (wanted is not None or password or auth_key):
            raise SecurityOptionsError(
                "--security-profile, --password and --auth-key are for OCPP-J (websocket); "
                "SOAP uses TLS alone (an https:// URL, --ca, --cert/--key)"
            )
        if (tls_cert or tls_key) and not soap:
            raise SecurityOptionsError(
                "--tls-cert and --tls-key are for -t soap (the certificate of the callback "
                "server); a client certificate is --cert and --key"
            )
        if password is not None and auth_key is not None:
            raise SecurityOptionsError("give --password or --auth-key, not both")
        secret: bytes | None = None
        if password is not None:
            if not password:
                raise SecurityOptionsError("--password must not be empty")
            secret = password.encode("utf-8")
        if auth_key is not None:
            if not key_bytes:
                raise SecurityOptionsError(
                    "--auth-key is the AuthorizationKey of OCPP 1.x (hexadecimal); this "
                    "version's password is text: use --password"
                )
            secret = _hex_bytes(auth_key)
            if secret is None:
                raise SecurityOptionsError(
                    f"--auth-key {auth_key}: not hexadecimal (an even number of 0-9, A-F)"
                )
        if (ca or cert or key) and not secure:
            raise SecurityOptionsError(
                "--ca, --cert and --key are for TLS: use a "
                + ("https://" if soap else "wss://")
                + " URL"
            )
        identity = _load_identity(cert, key, "--cert", "--key") if (cert or key) else None
        callback = (
            _load_identity(tls_cert, tls_key, "--tls-cert", "--tls-key")
            if (tls_cert or tls_key)
            else None
        )
        trusted = _load_cas(ca, "--ca") if ca else None
        explicit = wanted is not None
        if wanted is None:
            if soap:
                wanted = 0
            elif identity is not None:
                wanted = 3
            elif secret is not None:
                wanted = 2 if secure else 1
            else:
                wanted = 0
        elif wanted == 1:
            if secure:
                raise SecurityOptionsError(
                    "profile 1 is Basic auth over ws://: use a ws:// URL, or --security-profile 2"
                )
            if secret is None:
                raise SecurityOptionsError("profile 1 needs --password (or --auth-key)")
        elif wanted == 2:
            if not secure:
                raise SecurityOptionsError("profile 2 is TLS: use a wss:// URL")
            if secret is None:
                raise SecurityOptionsError("profile 2 needs --password (or --auth-key)")
        else:
            if not secure:
                raise SecurityOptionsError("profile 3 is TLS: use a wss:// URL")
            if identity is None:
                raise SecurityOptionsError(
                    "profile 3 needs --cert and --key (a client certificate whose CN is the "
                    "charge point id)"
                )
        return cls(wanted, trusted, identity, secret, callback, explicit)

    def context(
        self, identity: CertifiedKey | None, installed: Sequence[x509.Certificate] = ()
    ) -> ssl.SSLContext:
        """The TLS context for connecting with `identity` (None: no client certificate),
        checking the server against `--ca` and the CA certificates `installed` in the Charge
        Point's store (the system's CAs when there are none). Contexts are made once per set of
        CAs and identity and shared by the charge points of the process (a fleet), across
        reconnections."""
        trusted = (*(self.trusted or ()), *installed) or None
        try:
            return _client_context(trusted, identity)
        except CertificateProblem as exc:
            raise SecurityOptionsError(str(exc)) from None

    def callback_context(self) -> ssl.SSLContext | None:
        """The TLS context of a SOAP Charge Point's https callback server (None: http)."""
        if self.callback_tls is None:
            return None
        if self._callback is None:
            try:
                self._callback = server_context(self.callback_tls)
            except CertificateProblem as exc:
                raise SecurityOptionsError(str(exc)) from None
        return self._callback

    def describe(self, cp_id: str, profile: int | None = None) -> str:
        """The start line: `security profile 2 (TLS, server checked against CA '…'; Basic auth
        as cp01)`."""
        profile = self.profile if profile is None else profile
        parts = []
        if self.trusted is not None:
            parts.append(f"server checked against CA {_ca_name(self.trusted)}")
        elif profile >= 2:
            parts.append("server checked against the system's CAs")
        if profile in (1, 2) and self.password is not None:
            parts.append(f"Basic auth as {cp_id}")
        if profile == 3 and self.identity is not None:
            parts.append(f"client certificate CN={self.identity.common_name}")
        if self.callback_tls is not None:
            parts.append(f"https callback as CN={self.callback_tls.common_name}")
        head = f"security profile {profile}" if profile else "TLS"
        return head + (f" ({'; '.join(parts)})" if parts else "")


# ------------------------------------------------------- a Charge Point's state at run time


def _station_value(model: Any, variable: str) -> str | None:
    """A SecurityCtrlr variable of a 2.x station model (None without such a model)."""
    device = getattr(model, "model", None)
    value = getattr(device, "value", None)
    return value("SecurityCtrlr", variable) if callable(value) else None


def _has_key(configuration: Any, key: str) -> bool:
    definition = getattr(configuration, "definition", None)
    return callable(definition) and definition(key) is not None


def current_profile(cp: Any) -> int:
    """The security profile a Charge Point connects with now: its SecurityProfile key (1.6),
    its SecurityCtrlr.SecurityProfile (2.x station), else what its options said."""
    security: ChargePointSecurity | None = cp.security
    fallback = security.profile if security is not None else 0
    configuration = cp.configuration
    if _has_key(configuration, "SecurityProfile"):
        return configuration.integer("SecurityProfile", fallback)  # type: ignore[no-any-return]
    value = _station_value(getattr(cp, "model", None), "SecurityProfile")
    if value is not None and value.isdigit():
        return int(value) if security is not None else 0
    return fallback


def current_password(cp: Any) -> bytes | None:
    """The password Basic auth sends now: the AuthorizationKey's bytes (1.6: configured as
    hexadecimal), BasicAuthPassword as UTF-8 (2.x station), else the one of the options."""
    security: ChargePointSecurity | None = cp.security
    configuration = cp.configuration
    if _has_key(configuration, "AuthorizationKey"):
        key = configuration.get("AuthorizationKey")
        return _hex_bytes(key) if key else None
    model = getattr(cp, "model", None)
    if _station_value(model, "Identity") is not None:
        password = _station_value(model, "BasicAuthPassword")
        return password.encode("utf-8") if password else None
    return security.password if security is not None else None


def _model_identity_holder(cp: Any) -> Any:
    """What keeps a model's client certificate: a 1.x model itself, a 2.x station's
    certificates (None without a model)."""
    model = getattr(cp, "model", None)
    if model is None:
        return None
    return getattr(model, "certificates", None) if hasattr(model, "evses") else model


def current_identity(cp: Any) -> CertifiedKey | None:
    """The client certificate a Charge Point presents now: the one CertificateSigned gave its
    model (or its options did), else the one of its options."""
    installed = getattr(_model_identity_holder(cp), "client_certificate", None)
    if isinstance(installed, CertifiedKey):
        return installed
    security: ChargePointSecurity | None = cp.security
    return security.identity if security is not None else None


def common_name_of(name: x509.Name) -> str:
    """The CN of a certificate's subject or issuer name, else the whole name."""
    names = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else name.rfc4514_string()


def installed_roots(cp: Any) -> list[x509.Certificate]:
    """The CA certificates of the Central System installed in a Charge Point's store
    (CentralSystemRootCertificate, CSMSRootCertificate): TLS trusts them too."""
    store = getattr(cp, "certificates", None)
    if store is None:
        return []
    return list(store.certificates(*_ROOT_TYPES))


#: the certificate types of the Central System's roots (1.6 whitepaper, 2.0.1 M05)
_ROOT_TYPES = ("CentralSystemRootCertificate", "CSMSRootCertificate")


#: the CAs of `--ca` as a store's entries, by type and CAs (checked once, shared by a fleet)
_roots: OrderedDict[tuple[Any, ...], list[Any]] = OrderedDict()
MAX_ROOT_SETS = 64


def _installed_roots(kind: str, trusted: Sequence[x509.Certificate]) -> list[Any]:
    """The entries a store holds once `trusted` are installed as `kind` (a certificate that is
    not a CA stays out), checked once per process for every charge point given them."""
    key = (kind, *sorted({_fingerprint(c) for c in trusted}))
    entries = _roots.get(key)
    if entries is None:
        from ocppsim.security import CertificateStore
        from ocppsim.security.pem import certificates_pem

        checked = CertificateStore()
        for certificate in trusted:
            checked.install(kind, certificates_pem([certificate]))
        entries = _roots[key] = checked.installed()
        while len(_roots) > MAX_ROOT_SETS:
            _roots.popitem(last=False)
    else:
        _roots.move_to_end(key)
    return entries


def certificate_services(
    version: OcppVersion,
    security: ChargePointSecurity | None,
    notice: Callable[[str, int], None] | None = None,
) -> dict[str, Any]:
    """What a Charge Point's model needs for its certificates: `make_csr` (a new key and its
    CSR), `accept_certificate` (the chain of CertificateSigned checked against the key of the
    CSR, its id and the Central System's CAs it trusts) and `certificates`, a store where the
    CAs of `--ca` are installed as the Central System's root. `notice(text, level)` is told
    of each certificate accepted or refused."""
    from ocppsim.security import CertificateStore, accept_signed_certificate, make_csr

    store = CertificateStore()
    if security is not None and security.trusted:
        kind = "CSMSRootCertificate" if version.central_system == "CSMS" else _ROOT_TYPES[0]
        store.adopt(_installed_roots(kind, security.trusted))

    def new_csr(common_name: str, organization: str | None) -> Any:
        return make_csr(common_name, organization=organization)

    def accept(chain: str, request: Any, identity: str) -> CertifiedKey:
        trusted = [*((security.trusted or ()) if security is not None else ())]
        trusted += store.certificates(*_ROOT_TYPES)
        try:
            accepted = accept_signed_certificate(chain, request.key, identity, trusted)
        except Exception as exc:  # the model answers Rejected with a security event
            if notice is not None:
                notice(f"Error: CertificateSigned rejected: {exc}.", ERROR)
            raise
        if notice is not None:
            issuer = common_name_of(accepted.certificate.issuer)
            until = accepted.certificate.not_valid_after_utc
            notice(
                f"New client certificate CN={accepted.common_name} from CA '{issuer}', valid "
                f"until {until:%Y-%m-%d}: presented from the next connection (profile 3).",
                INFO,
            )
        return accepted

    return {"make_csr": new_csr, "accept_certificate": accept, "certificates": store}


def apply_options(cp: Any) -> None:
    """Put what a Charge Point's options say (profile, password) where its version keeps them:
    SecurityProfile and AuthorizationKey (1.6, hexadecimal), SecurityCtrlr's SecurityProfile
    and BasicAuthPassword (2.x), so that GetConfiguration, GetVariables and their changes act
    on them."""
    security: ChargePointSecurity | None = cp.security
    if security is None:
        return
    configuration = cp.configuration
    if _has_key(configuration, "SecurityProfile"):
        configuration.set("SecurityProfile", str(security.profile))
    if _has_key(configuration, "AuthorizationKey") and security.password is not None:
        configuration.set("AuthorizationKey", security.password.hex().upper())
    holder = _model_identity_holder(cp)
    if holder is not None and security.identity is not None:
        holder.client_certificate = security.identity  # what SecurityProfile 3 asks for
    device: Any = getattr(getattr(cp, "model", None), "model", None)
    if _station_value(getattr(cp, "model", None), "Identity") is not None:
        if security.profile:
            device.set_value("SecurityCtrlr", "SecurityProfile", str(security.profile))
        if security.password is not None:
            text = security.password.decode("utf-8", "surrogateescape")
            device.set_value("SecurityCtrlr", "BasicAuthPassword", text)


#: TLS failure codes of this end's check of the server's certificate, and the security event
#: each is (1.6 security whitepaper §2.4 and 2.0.1 Part 2 Appendix 1, security events)
_EVENTS = {
    "untrusted": "certificate",
    "expired": "certificate",
    "not-yet-valid": "certificate",
    "hostname-mismatch": "certificate",
    "wrong-purpose": "certificate",
    "protocol-version": "InvalidTLSVersion",
}


def security_event(version: OcppVersion, failure: TlsFailure, when: str) -> dict[str, Any] | None:
    """The SecurityEventNotification payload a TLS failure of the connection to the Central
    System is (None: not one the Charge Point reports, or a version without the message):
    InvalidCentralSystemCertificate (1.6) / InvalidCsmsCertificate (2.x) when its certificate
    was refused here, InvalidTLSVersion."""
    if not version.handles("cs", "SecurityEventNotification"):
        return None
    kind = _EVENTS.get(failure.code)
    if kind is None or (kind == "certificate" and not failure.local):
        return None
    if kind == "certificate":
        csms = version.central_system == "CSMS"
        kind = "InvalidCsmsCertificate" if csms else "InvalidCentralSystemCertificate"
    return {"type": kind, "timestamp": when, "techInfo": failure.message[:255]}


# ------------------------------------------------------------- the CS signs CSRs (A02/A03)


class CsrSigning:
    """A Central System's own answer to SignCertificate when it has a CA key (`--ca-key`):
    the CSR is checked (signature, CN = the charge point's id) and signed, the answer is
    Accepted (Rejected, with a line saying why, for a CSR it refuses), and CertificateSigned
    with the new chain follows the answer (OCPP 2.0.1 use case A02, 1.6 security whitepaper
    A02). A plugin's answer to SignCertificate wins, and then nothing is signed."""

    def __init__(self, cs: Any, signer: CertifiedKey):
        self.cs = cs
        self.signer = signer

    def quick_answer(self, peer: Any, action: str, payload: Any) -> Any:
        behaviour = self.cs.behaviour
        if action != "SignCertificate":
            return self.cs.quick_answer_call(peer, action, payload)
        signed: list[dict[str, Any]] = []
        answer = behaviour.quick_answer(
            peer, action, payload, lambda a, p: self._sign(peer, p, signed)
        )
        self._send_signed(peer, signed)
        return answer

    async def answer(self, peer: Any, action: str, payload: Any) -> Any:
        behaviour = self.cs.behaviour
        if action != "SignCertificate":
            return await self.cs.answer_call(peer, action, payload)
        signed: list[dict[str, Any]] = []
        answer = await behaviour.answer(
            peer, action, payload, lambda a, p: self._sign(peer, p, signed)
        )
        self._send_signed(peer, signed)  # a task: it goes once the answer has
        return answer

    def _sign(self, peer: Any, payload: Any, signed: list[dict[str, Any]]) -> dict[str, Any]:
        from ocppsim.security import sign_csr

        cp_id = peer.charge_point_id
        csr = payload.get("csr") if isinstance(payload, dict) else None
        try:
            chain = sign_csr(csr or "", self.signer, cp_id=cp_id)
        except CertificateProblem as exc:
            self.cs.bus.notice(
                self.cs.speaker,
                f"Error: SignCertificate of #{cp_id} answered Rejected: {exc}.",
                ERROR,
            )
            return {"status": "Rejected"}
        request: dict[str, Any] = {"certificateChain": chain}
        kind = payload.get("certificateType")
        if kind is not None:  # 2.x: ChargingStationCertificate or V2GCertificate
            request["certificateType"] = kind
        signed.append(request)
        self.cs.bus.notice(
            self.cs.speaker,
            f"Signed the CSR of #{cp_id} as CA '{self.signer.common_name}': CertificateSigned "
            "follows.",
        )
        return {"status": "Accepted"}

    def _send_signed(self, peer: Any, signed: list[dict[str, Any]]) -> None:
        if not signed:
            return
        from ocppsim.sim.peer import CallFailed

        async def send() -> None:
            try:
                await peer.call("CertificateSigned", signed[0])
            except CallFailed:
                pass  # its line is logged (a CALLERROR, a timeout) or the link is gone

        self.cs.spawn_quietly(send())
