"""OCPP-J for the simulators: the link over a WebSocket connection, how a Central System
accepts charge points (SPEC §5) and how a Charge Point dials its Central System (SPEC §6)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from websockets.exceptions import ConnectionClosed

from ocppsim.core import rpc
from ocppsim.core.errors import OcppSimError
from ocppsim.core.versions import OcppVersion, by_subprotocol, subprotocols
from ocppsim.sim.link import EncodeError, LinkUser
from ocppsim.sim.log import ERROR, WARNING
from ocppsim.sim.peer import CallFailed, raw_call
from ocppsim.transport import ConnectFailed
from ocppsim.transport.urls import WEBSOCKET_SCHEMES, url_problem
from ocppsim.transport.ws.client import open_connection
from ocppsim.transport.ws.connection import Connection
from ocppsim.transport.ws.server import Handshake, Rejection, Server, start_server

if TYPE_CHECKING:
    from ocppsim.sim.central_system import CentralSystem
    from ocppsim.sim.charge_point import ChargePoint
    from ocppsim.sim.security import ChargePointSecurity

__all__ = ["ConnectFailed", "JsonLink", "WebsocketClient", "WebsocketServer"]

#: On stop, how long connections get to finish their closing handshake before being dropped.
SHUTDOWN_GRACE = 2.0

#: The longest charge point identity a Central System accepts in a connection URL, whatever
#: the version (as a SOAP chargeBoxIdentity): it keeps the identity for every connection, and
#: a URL path may be kilobytes long. A version may allow fewer (`OcppVersion.identity`).
MAX_IDENTITY = 255


def identity_problem(cp_id: str, version: OcppVersion | None = None) -> str | None:
    """Why `cp_id` (decoded from the connection URL) cannot be a charge point identity, for
    any version (None) or for `version` (its rule, OCPP 2.x: 48 characters of
    identifierString); None when it can."""
    if version is None:
        if len(cp_id) > MAX_IDENTITY:
            length = len(cp_id)
            return f"the charge point identity is {length} characters long: at most {MAX_IDENTITY}"
        if not cp_id.isprintable():
            return "the charge point identity holds a control character"
        return None
    if version.identity is None:
        return None
    most, allowed = version.identity
    if len(cp_id) > most:
        return (
            f"the charge point identity is {len(cp_id)} characters long: {version.title}"
            f" allows at most {most}"
        )
    wrong = next((c for c in cp_id if re.fullmatch(allowed, c) is None), None)
    if wrong is not None:
        return (
            f"the charge point identity holds {wrong!r}: {version.title} allows letters, digits"
            " and * - _ = + | @ . only (identifierString without ':')"
        )
    return None


def _shown_identity(cp_id: str) -> str:
    """An identity for a log line, bounded (the console escapes what is unprintable)."""
    return cp_id if len(cp_id) <= 40 else cp_id[:39] + "…"


class JsonLink:
    """An OCPP-J link: each message is one text frame of a WebSocket connection (`profile`:
    the security profile it was opened with, if any)."""

    __slots__ = ("connection", "profile", "_user")

    transport = "websocket"
    pings = True
    new_unique_id = staticmethod(rpc.new_unique_id)

    def __init__(self, connection: Connection):
        self.connection = connection
        self.profile: int | None = None
        self._user: LinkUser | None = None

    @property
    def is_open(self) -> bool:
        return self.connection.is_open

    @property
    def remote_address(self) -> str:
        return self.connection.remote_address

    @property
    def close_description(self) -> str:
        return self.connection.close_description

    def start(self, peer: LinkUser) -> None:
        self._user = peer
        self.connection.deliver(peer.receive_frame, peer.link_closed)

    def encode(self, message: rpc.Message) -> tuple[str, str]:
        try:
            frame = message.to_frame()
        except (TypeError, ValueError) as exc:  # a payload that is no JSON (a plugin's)
            raise EncodeError(str(exc)) from exc
        return frame, frame

    async def send_call(
        self, call: rpc.Call, wire: str, timeout: float, sent: Callable[[], None]
    ) -> None:
        sent()  # into the connection's buffer now, whatever its peer reads
        await self._send(wire)

    async def _send(self, text: str) -> None:
        """Send one frame, waiting while the peer does not read (CallFailed when closed)."""
        try:
            await self.connection.send(text)
        except ConnectionClosed:
            raise CallFailed(f"connection closed ({self.close_description})") from None
        except ConnectionError as exc:
            raise CallFailed(f"connection closed ({exc})") from None

    def send_reply(
        self, reply: rpc.CallResult | rpc.CallError | rpc.CallResultError, wire: str
    ) -> None:
        # from the reading callback: no wait (reading pauses while the peer does not read)
        self.connection.send_now(wire)

    async def send(self, message: rpc.Send, wire: str) -> None:
        await self._send(wire)

    def raw_call(self, text: str) -> rpc.Call | None:
        return raw_call(text)

    async def send_raw(self, text: str, show_headers: bool) -> None:
        if self._user is not None:
            self._user.frame_sent(text, text, None)
        await self._send(text)

    async def ping(self) -> float:
        return await self.connection.ping()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.connection.close(code, reason)

    def abort(self, code: int = 1011, reason: str = "") -> None:
        self.connection.abort(code, reason)


# -------------------------------------------------------------------------- Central System


class WebsocketServer:
    """How a Central System accepts OCPP-J charge points: a WebSocket server on its port,
    `<endpoint>/<charge point id>` with a subprotocol it serves (SPEC §5); with `reuse_port`,
    sharing its port with other processes that do too (SO_REUSEPORT: a fleet larger than
    one process's open-file limit, served by several)."""

    def __init__(self, cs: CentralSystem, reuse_port: bool = False):
        self.cs = cs
        self.reuse_port = reuse_port
        self._server: Server | None = None

    async def start(self) -> int:
        """Listen; raises OSError when the port cannot be bound."""
        cs = self.cs
        security = cs.security
        self._server = await start_server(
            cs.host,
            cs.port,
            self._admit,
            self._accepted,
            ssl=security.ssl_context if security is not None else None,
            on_tls_failure=self._tls_failed,
            on_tls_at_plain_port=self._tls_at_plain_port,
            on_handshake_timeout=self._handshake_timed_out,
            on_handshake_refused=self._handshake_refused,
            reuse_port=self.reuse_port,
        )
        return self._server.port

    def _tls_at_plain_port(self, remote: str) -> None:
        """A client began a TLS handshake at this plain `ws://` port: say why it is closed."""
        self.cs.bus.notice(
            self.cs.speaker,
            f"Error: connection from {remote} refused: it began a TLS handshake (wss://) and this "
            "port speaks plain ws:// (start_cs --tls-cert FILE --tls-key FILE serves wss://).",
            ERROR,
        )

    def _handshake_timed_out(self, remote: str) -> None:
        """A client connected and sent no complete handshake request in time: it got 408."""
        from ocppsim.transport.ws import server

        self.cs.bus.notice(
            self.cs.speaker,
            f"Error: connection from {remote} closed (HTTP 408 Request Timeout): no complete"
            f" WebSocket handshake request within {server.OPEN_TIMEOUT:g} s.",
            ERROR,
        )

    def _handshake_refused(self, remote: str, status: str, reason: str) -> None:
        """The WebSocket protocol refused a client's request (no HTTP request, a wrong
        WebSocket header, a POST): it got `status`; say why here too."""
        self.cs.bus.notice(
            self.cs.speaker,
            f"Error: connection from {remote} refused ({status}): {reason}.",
            ERROR,
        )

    def _tls_failed(self, exc: BaseException) -> None:
        """A charge point's TLS handshake failed: say why (its peer got the alert)."""
        from ocppsim.security import tls_failure

        failure = tls_failure(exc)
        hint = ""
        if failure.received and failure.code != "protocol-version":
            hint = ": the charge point refused --tls-cert (its CA, its dates or its host names)"
        self.cs.bus.notice(
            self.cs.speaker,
            f"Error: TLS handshake refused: {failure.message} ({failure.code}){hint}.",
            ERROR,
        )

    async def stop(self) -> None:
        """Close every connection (1001), dropping peers that do not answer within a moment."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), SHUTDOWN_GRACE)
        except asyncio.TimeoutError:
            server.abort()
            await server.wait_closed()

    def _admit(
        self, path: str, offered: list[str] | None, handshake: Handshake
    ) -> tuple[str, str] | Rejection | None:
        """Pick the CP id from the path and the subprotocol from the offer (SPEC §5), then
        check what the security profile asks (Basic auth, the client certificate's CN); a
        request that is no WebSocket handshake (`offered` None) is judged on its path only."""
        cs = self.cs
        path = urlsplit(path).path
        base = cs.endpoint.rstrip("/")
        if not (path == base or path.startswith(base + "/")):
            text = f"Not Found: the endpoint is {base or '/'}: connect to {base}/<charge point id>"
            if offered is not None:  # a charge point's handshake (not a browser's favicon)
                shown = path if len(path) <= 100 else path[:99] + "…"
                cs.bus.notice(
                    cs.speaker,
                    f"Error: connection refused (HTTP 404 Not Found): {shown} is not under"
                    f" the endpoint {base or '/'}.",
                    ERROR,
                )
            return Rejection(HTTPStatus.NOT_FOUND, text + "\n")
        if offered is None:
            return None  # 426 Upgrade Required: a browser or curl, not a charge point
        cp_id = unquote(path[len(base) + 1 :]) if len(path) > len(base) else ""
        if not cp_id:
            text = (
                f"No identity specified. Base URL is {cs.endpoint}. You must append the"
                f" identifier: {base}/identifier."
            )
            cs.bus.notice(cs.speaker, f"Error: connection refused: {text}", ERROR)
            return Rejection(HTTPStatus.BAD_REQUEST, text + "\n")
        problem = identity_problem(cp_id)
        served = subprotocols("websocket")
        for name in offered:
            if problem is not None:
                break
            if name in cs.protocols and name in served:
                problem = identity_problem(cp_id, by_subprotocol(name))
                if problem is not None:
                    break
                if cs.security is not None:
                    refused = self._check_security(cp_id, name, handshake)
                    if refused is not None:
                        return refused
                return cp_id, name
        if problem is not None:
            cs.bus.notice(
                cs.speaker,
                f"Error: connection of #{_shown_identity(cp_id)} refused (HTTP 400 Bad Request):"
                f" {problem}.",
                ERROR,
            )
            return Rejection(HTTPStatus.BAD_REQUEST, problem[0].upper() + problem[1:] + ".\n")
        if not offered:
            text = "No subprotocol offered"
        else:
            text = "Unknown protocol " + ", ".join(f"`{name}'" for name in offered)
        text += f" (served: {','.join(cs.protocols)})"  # the peer reads what to offer
        status = HTTPStatus.BAD_REQUEST
        cs.bus.notice(
            cs.speaker,
            f"Error: connection of #{_shown_identity(cp_id)} refused"
            f" (HTTP {status.value} {status.phrase}): {text}.",
            ERROR,
        )
        return Rejection(status, text + "\n")

    def _check_security(self, cp_id: str, protocol: str, handshake: Handshake) -> Rejection | None:
        """The security profile's checks (OCPP 2.0.1 Part 2 §A00, 1.6 security whitepaper
        §2): a refusal is an HTTP status (401 with its Basic challenge) and a line here."""
        from ocppsim.sim.security import Refused

        cs = self.cs
        assert cs.security is not None
        verdict = cs.security.admit(
            cp_id, by_subprotocol(protocol), handshake.headers, handshake.tls
        )
        if isinstance(verdict, Refused):
            status = f"HTTP {verdict.status.value} {verdict.status.phrase}"
            cs.bus.notice(
                cs.speaker,
                f"Error: connection of #{cp_id} refused ({status}): {verdict.reason}.",
                ERROR,
            )
            return Rejection(verdict.status, verdict.reason + "\n", headers=verdict.headers)
        if verdict.warning:
            cs.bus.notice(cs.speaker, f"WARNING : {verdict.warning}.", WARNING)
        return None

    def _accepted(self, connection: Connection, cp_id: str) -> None:
        """A charge point completed its handshake: it becomes a peer (no task per link)."""
        entry = by_subprotocol(connection.subprotocol or "")  # _admit chose a known one
        security = self.cs.security
        profile = security.profile_of(connection.tls) if security is not None else None
        self.cs.attach(JsonLink(connection), cp_id, entry.name, entry.subprotocol, profile)


# ---------------------------------------------------------------------------- Charge Point


class WebsocketClient:
    """How a Charge Point reaches its Central System over OCPP-J: it dials
    `<url>/<charge point id>` offering its subprotocol (SPEC §6), from `local_address` when
    given (one of a fleet's source addresses)."""

    reconnects = True

    def __init__(self, cp: ChargePoint, local_address: str | None = None):
        self.cp = cp
        self.local_address = local_address
        problem = url_problem(self.target, WEBSOCKET_SCHEMES)
        if problem is not None:  # trying cannot help: refused at once
            raise OcppSimError(f"Error: invalid URL {cp.url!r}: {problem}.")

    @property
    def target(self) -> str:
        """`<url>/<id>`: the URL of its options, or of the network profile a 2.x station
        connects with (SetNetworkProfile, then a reboot)."""
        url = getattr(self.cp.model, "csms_url", None) or self.cp.url
        return url.rstrip("/") + "/" + quote(self.cp.charge_point_id, safe="")

    async def connect(self) -> JsonLink:
        """One connection attempt (ConnectFailed says whether another may succeed), with what
        the Charge Point's security profile presents now: its password (profiles 1, 2), its
        client certificate (profile 3), the server checked against its CAs (`wss://`)."""
        cp = self.cp
        security = cp.security
        if security is None:
            try:
                return JsonLink(
                    await open_connection(
                        self.target, cp.protocol, local_address=self.local_address
                    )
                )
            except ConnectFailed as exc:
                raise _with_hint(exc, None, 0, False) from exc.__cause__
        from ocppsim.sim.security import (
            SecurityOptionsError,
            authorization_header,
            current_identity,
            current_password,
            current_profile,
            installed_roots,
        )

        profile = current_profile(cp)
        target = self.target
        if profile >= 2 and target.lower().startswith("ws:"):  # raised from profile 1
            target = "wss:" + target[3:]
        context = None
        if target.lower().startswith("wss:"):
            identity = current_identity(cp) if profile >= 3 else None
            try:
                context = security.context(identity, installed_roots(cp))
            except SecurityOptionsError as exc:
                raise ConnectFailed(str(exc), retry=False) from exc
        headers: list[tuple[str, str]] = []
        password = current_password(cp) if profile in (1, 2) else None
        if password is not None:
            headers.append(("Authorization", authorization_header(cp.charge_point_id, password)))
        try:
            connection = await open_connection(
                target,
                cp.protocol,
                ssl_context=context,
                headers=headers,
                local_address=self.local_address,
            )
        except ConnectFailed as exc:
            raise _with_hint(exc, security, profile, password is not None) from exc.__cause__
        link = JsonLink(connection)
        link.profile = profile or None
        return link

    async def stop(self) -> None:
        """Nothing is held between connections."""


#: what to do about a TLS failure at the Charge Point, by its code
_HINTS = {
    "untrusted": "give the CA of the server's certificate with --ca",
    "hostname-mismatch": "the URL's host must be a name of the server's certificate",
    "no-certificate": "the server requires a client certificate (profile 3: --cert, --key)",
    "closed": "if the server speaks plain ws://, use a ws:// URL",
    "not-tls": "use a ws:// URL",
    "protocol-version": "OCPP requires TLS 1.2 or newer at both ends",
}


def _with_hint(
    exc: ConnectFailed, security: ChargePointSecurity | None, profile: int, sent_password: bool
) -> ConnectFailed:
    """`exc` with what to do about it, for a failure whose cure is an option: a TLS failure,
    or a 401 to a Charge Point that sent no password (profile 3 or none at a profile 1 or 2
    Central System)."""
    if exc.status == 401 and not sent_password:
        if profile >= 3:
            hint = (
                "this Charge Point is on profile 3 (a client certificate, no password) and the "
                "server wants Basic auth (profiles 1, 2: --password)"
            )
        else:
            hint = "give --password (1.6: or --auth-key)"
        return ConnectFailed(f"{exc.reason}: {hint}", exc.retry, status=exc.status, tls=exc.tls)
    failure = exc.tls
    found = _HINTS.get(failure.code) if failure is not None else None
    if found is None or (failure.code == "untrusted" and not failure.local):
        return exc
    hint = found
    if failure.code == "untrusted" and security is not None and security.trusted is not None:
        hint = "the server's certificate is not from the CA of --ca"
    return ConnectFailed(f"{exc.reason}: {hint}", exc.retry, status=exc.status, tls=exc.tls)
