"""SOAP 1.2 over HTTP for the simulators (SPEC §7): the link, how a Central System receives
charge points, and how a Charge Point reaches its Central System.

On a SOAP link a CALL is an HTTP POST and its answer the HTTP response: the request's
MessageID is the CALL's unique id, the response's RelatesTo names it back. Each side runs
an HTTP server for the CALLs it answers and posts its own: the Charge Point to the Central
System's URL, the Central System to the `From` address each Charge Point sent. A request is
decoded here (`SoapEndpoint`) into a `Call` and goes through the same pipeline as an OCPP-J
frame (`Peer`, `RpcSession`); its answer is encoded back into the HTTP response.

Per process: one HTTP client session for every post, one callback server per host and port
for every Charge Point (routing on chargeBoxIdentity), kept in `Resources`. Log lines read
like OCPP-J's: `>>peer /Action {json}`, or the envelopes when `print_xml` is on (SPEC §2).
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import ssl
import uuid
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from errno import EADDRNOTAVAIL
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from lxml import etree

from ocppsim.core import events
from ocppsim.core.errors import OcppError, OcppSimError, bounded_description
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import (
    DEFAULT_TIMEOUT,
    Call,
    CallError,
    CallResult,
    CallResultError,
    Message,
    Send,
    dumps,
)
from ocppsim.core.versions import Service, by_subprotocol, get, subprotocols
from ocppsim.sim.link import EncodeError, LinkUser
from ocppsim.sim.log import ERROR, WARNING, one_line
from ocppsim.sim.peer import CallFailed, Peer
from ocppsim.soap import (
    CONTENT_TYPE,
    SoapFaultError,
    SoapRequest,
    build_fault,
    get_codec,
    request_version,
)
from ocppsim.soap.codec import (
    build_envelope_fault,
    check_must_understand,
    envelope_namespace,
    fault_of,
    parse_envelope,
)
from ocppsim.soap.faults import SOAP11_ENV, SOAP_ENV, SoapEnvelopeFault
from ocppsim.transport import ConnectFailed
from ocppsim.transport.http import (
    HttpAnswerFailed,
    HttpClient,
    HttpExchange,
    HttpFailed,
    HttpLimits,
    HttpReply,
    HttpRequest,
    HttpServer,
    HttpTimeout,
    local_address_towards,
    normalise_path,
)
from ocppsim.transport.urls import HTTP_SCHEMES, url_problem

if TYPE_CHECKING:
    from ocppsim.sim.central_system import CentralSystem
    from ocppsim.sim.charge_point import ChargePoint
    from ocppsim.sim.resources import Resources

_log = logging.getLogger("ocppsim.sim")

_SERVICE_NAMES = {"cs": "Central System", "cp": "Charge Point"}
#: The other service: the one a side calls (a CS calls the Charge Point service).
_OTHER: dict[Service, Service] = {"cs": "cp", "cp": "cs"}

#: A Central System forgets a charge box it has not heard from for this long (seconds): a
#: real one sends a Heartbeat at least every heartbeatInterval (1200 s by default).
FORGET_AFTER = 3600.0
#: The most charge boxes a Central System remembers; a new one beyond it makes it forget the
#: one heard from least recently (ids from a flood of requests never exhaust memory).
MAX_CHARGE_BOXES = 100_000

#: the media type of SOAP 1.2 messages (SOAP 1.2 Part 2 §7.1.4, RFC 3902)
SOAP12_MEDIA_TYPE = "application/soap+xml"
#: SOAP 1.1's media type: accepted only to answer a SOAP 1.1 Envelope with VersionMismatch
SOAP11_MEDIA_TYPE = "text/xml"


def new_message_id() -> str:
    """A WS-Addressing MessageID: a `urn:uuid:` IRI."""
    return f"urn:uuid:{uuid.uuid4()}"


def _json_view(action: str, payload: Any) -> str:
    """How a SOAP message shows in a JSON-mode log line: `/Action {json}`."""
    return f"/{action} {dumps(payload)}"


def _fault_text(action: str | None, code: str, reason: str) -> str:
    """How a Fault shows in a JSON-mode log line: `/Action Fault {"code":…,"reason":…}`."""
    prefix = f"/{action} " if action else ""
    return f"{prefix}Fault {dumps({'code': code, 'reason': reason})}"


def _fault_status(code: str) -> int:
    """HTTP status of a Fault (SOAP 1.2 HTTP binding: 400 for the sender's, 500 for ours)."""
    return 500 if code == "InternalError" else 400


def _fault(code: str, reason: str | None, relates_to: str | None) -> tuple[bytes, str]:
    """A Fault envelope for an OCPP error code, and its reason as sent (bounded)."""
    error = SoapFaultError(code, bounded_description(reason) if reason else None)
    body = build_fault(code, error.reason, relates_to=relates_to, message_id=new_message_id())
    return body, error.reason


# ---------------------------------------------------------------------------------- the link


@dataclass(slots=True)
class _Request:
    """A request received on a link, waiting for the answer its HTTP response carries."""

    action: str
    relates_to: str | None
    charge_box_id: str | None
    reply: asyncio.Future[HttpReply]
    #: the envelope of its answer, once encoded (sent as built)
    body: bytes = b""


class SoapLink:
    """A SOAP link to one peer: CALLs out are POSTs to `address`, CALLs in are requests an
    HTTP server routed here (see the module docstring)."""

    __slots__ = (
        "client",
        "version",
        "called",
        "charge_box_id",
        "address",
        "from_address",
        "heard",
        "ssl_context",
        "_user",
        "_requests",
        "_why",
    )

    transport = "soap"
    pings = False
    new_unique_id = staticmethod(new_message_id)

    def __init__(
        self,
        client: HttpClient,
        *,
        version: str,
        called: Service,
        charge_box_id: str,
        address: str | None,
        from_address: str | None = None,
        heard: Any = None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.client = client
        #: how an `https://` address is checked (None: the system's CAs)
        self.ssl_context = ssl_context
        self.version = version
        #: the service of the other end (the one this side's CALLs go to)
        self.called: Service = called
        self.charge_box_id = charge_box_id
        #: where CALLs are posted (a CS's URL; a charge box's From); None: cannot be called
        self.address = address
        #: the address sent as From, where the other end calls back (a Charge Point's)
        self.from_address = from_address
        #: heard(charge_box_id): the other end answered one of our CALLs
        self.heard = heard
        self._user: LinkUser | None = None
        self._requests: dict[str, _Request] | None = None
        self._why: str | None = None

    @property
    def is_open(self) -> bool:
        return self._why is None

    @property
    def remote_address(self) -> str:
        return self.address or "-"

    @property
    def close_description(self) -> str:
        return self._why or "open"

    def start(self, peer: LinkUser) -> None:
        self._user = peer

    # -- encoding -----------------------------------------------------------------------------

    def encode(self, message: Message) -> tuple[str, str]:
        if isinstance(message, Call):
            return self._encode_call(message)
        if isinstance(message, (Send, CallResultError)):  # OCPP 2.1's, which has no SOAP
            raise EncodeError(f"SOAP has no {type(message).__name__}")
        request = (self._requests or {}).get(message.unique_id)
        action = request.action if request is not None else None
        relates_to = request.relates_to if request is not None else None
        if isinstance(message, CallError):
            body, reason = _fault(message.code, message.description, relates_to)
            if request is not None:
                request.body = body
            return body.decode("utf-8"), _fault_text(action, message.code, reason)
        if action is None:
            raise EncodeError(f"no request #{message.unique_id} waits for an answer")
        try:
            body = get_codec(self.version, _OTHER[self.called]).build_response(
                action,
                message.payload,
                charge_box_id=request.charge_box_id if request is not None else None,
                relates_to=relates_to,
                message_id=new_message_id(),
            )
            text = _json_view(action, message.payload)
        except SoapFaultError as exc:
            raise EncodeError(exc.reason) from exc
        except (TypeError, ValueError) as exc:  # a value that is no JSON (a plugin's)
            raise EncodeError(str(exc) or type(exc).__name__) from exc
        if request is not None:
            request.body = body
        return body.decode("utf-8"), text

    def _target(self) -> str:
        if self.address is None:
            raise CallFailed(
                f"ChargePoint #{self.charge_box_id} sent no From address: it cannot be called"
            )
        problem = url_problem(self.address, HTTP_SCHEMES)
        if problem is not None:  # a From no HTTP request reaches (file:, javascript:, no host)
            raise CallFailed(
                f"ChargePoint #{self.charge_box_id}'s From address {self.address} cannot be"
                f" called: {problem}"
            )
        return self.address

    def _encode_call(self, call: Call) -> tuple[str, str]:
        """The request envelope, or EncodeError saying why the codec cannot build it."""
        try:
            target = self._target()
        except CallFailed as exc:
            raise EncodeError(exc.reason) from None
        codec = get_codec(self.version, self.called)
        if call.action not in codec.actions:
            entry = get(self.version)
            only = " (OCPP-J only)" if entry.handles(self.called, call.action) else ""
            raise EncodeError(
                f"`{call.action}' is not an operation of the {entry.title}"
                f" {_SERVICE_NAMES[self.called]} SOAP service{only}"
            )
        try:
            body = codec.build_request(
                call.action,
                call.payload,
                charge_box_id=self.charge_box_id,
                to=target,
                message_id=call.unique_id,
                from_address=self.from_address,
            )
        except SoapFaultError as exc:
            raise EncodeError(
                f"the SOAP envelope cannot be built ({exc.code}: {exc.reason}); "
                "use send_raw to post any XML"
            ) from exc
        return body.decode("utf-8"), _json_view(call.action, call.payload)

    # -- CALLs out ------------------------------------------------------------------------------

    async def _post(
        self, body: bytes, action: str | None, timeout: float, sent: Callable[[], None]
    ) -> HttpExchange:
        content_type = CONTENT_TYPE + (f'; action="/{action}"' if action else "")
        return await self.client.post(
            self._target(),
            body,
            {"Content-Type": content_type},
            timeout=timeout,
            sent=sent,
            ssl_context=self.ssl_context,
        )

    async def send_call(
        self, call: Call, wire: str, timeout: float, sent: Callable[[], None]
    ) -> None:
        """POST the request; its HTTP response is fed back to the peer as the answer."""
        try:
            exchange = await self._post(wire.encode("utf-8"), call.action, timeout, sent)
        except HttpTimeout:
            raise asyncio.TimeoutError from None
        except HttpAnswerFailed as exc:  # it went out: the other end has it
            raise CallFailed(_with_scheme_hint(str(exc), self._target()), sent=True) from exc
        except HttpFailed as exc:
            raise CallFailed(_with_scheme_hint(str(exc), self._target())) from exc
        self._answered(call, exchange)

    def _answered(self, call: Call, exchange: HttpExchange) -> None:
        """Turn the HTTP response into the CALLRESULT or CALLERROR of `call`."""
        user = self._user
        if user is None:
            return
        uid, action = call.unique_id, call.action
        wire = exchange.body.decode("utf-8", "replace")
        raw = one_line(wire)
        try:
            response = get_codec(self.version, self.called).parse_response_message(
                exchange.body, action
            )
        except SoapFaultError as exc:
            error = CallError(uid, exc.code, exc.reason, {})
            if _is_fault(exchange.body):
                user.receive_message(error, wire, _fault_text(action, exc.code, exc.reason))
            elif exchange.status >= 400 and not wire.lstrip().startswith("<"):
                # an HTTP refusal in plain text (a TLS port's 400 to plain HTTP): its words
                user.receive_message(error, wire, raw or '""')
                said = wire.strip().splitlines()[0][:200] if wire.strip() else ""
                user.notice(
                    f"Error: no SOAP answer to #{uid}: HTTP {exchange.status} {exchange.reason}"
                    + (f": {said}" if said else ""),
                    ERROR,
                )
            else:
                user.receive_message(error, wire, raw or '""')
                user.notice(
                    f"Error: unreadable answer to #{uid} (HTTP {exchange.status} "
                    f"{exchange.reason}): {exc.code}: {exc.reason}",
                    ERROR,
                )
        else:
            user.receive_message(
                CallResult(uid, response.payload), wire, _json_view(action, response.payload)
            )
            if response.relates_to is not None and response.relates_to != uid:
                user.notice(
                    f"WARNING : RelatesTo {response.relates_to} does not match #{uid}", WARNING
                )
        if self.heard is not None:
            self.heard(self.charge_box_id)

    def raw_call(self, text: str) -> Call | None:
        return None  # a raw body's answer is shown as it comes, never taken as a message

    async def send_raw(self, text: str, show_headers: bool) -> None:
        """POST `text` as the body, as is, and show the answer (SPEC §3 send_raw)."""
        target = self._target()
        user = self._user

        def sent() -> None:
            if user is not None:
                user.frame_sent(text, one_line(text))

        try:
            exchange = await self._post(text.encode("utf-8"), None, DEFAULT_TIMEOUT, sent)
        except HttpAnswerFailed as exc:
            raise CallFailed(str(exc), sent=True) from exc
        except HttpFailed as exc:
            raise CallFailed(str(exc)) from exc
        if user is None:
            return
        if show_headers:
            user.notice(f"HTTP request: POST {target} {dumps(exchange.request_headers)}")
            user.notice(
                f"HTTP response: {exchange.status} {exchange.reason} "
                f"{dumps(exchange.response_headers)}"
            )
        wire = exchange.body.decode("utf-8", "replace")
        user.frame_received(wire, one_line(wire) or '""')

    # -- CALLs in -------------------------------------------------------------------------------

    async def request(self, parsed: SoapRequest, wire: str) -> HttpReply:
        """A request routed to this link: the peer answers it, the answer is the response."""
        uid = parsed.message_id
        requests = self._requests
        if requests is None:
            requests = self._requests = {}
        if not uid or uid in requests:
            uid = new_message_id()  # no MessageID (or one in use): the answer still comes
        reply: asyncio.Future[HttpReply] = asyncio.get_running_loop().create_future()
        requests[uid] = _Request(parsed.action, parsed.message_id, parsed.charge_box_id, reply)
        try:
            if self._user is None:
                raise OcppError("InternalError", "nobody serves this charge box yet")
            self._user.receive_message(
                Call(uid, parsed.action, parsed.payload),
                wire,
                _json_view(parsed.action, parsed.payload),
            )
            return await reply
        finally:
            requests.pop(uid, None)

    def rewrite_answer(self, unique_id: str, wire: str) -> None:
        """Send `wire` as the answer to request `unique_id` instead of the envelope encoded
        for it (an injected fault changed it: `ocppsim.sim.faults`)."""
        request = (self._requests or {}).get(unique_id)
        if request is not None:
            request.body = wire.encode("utf-8")

    def send_reply(self, reply: CallResult | CallError | CallResultError, wire: str) -> None:
        request = (self._requests or {}).get(reply.unique_id)
        if request is None or request.reply.done() or isinstance(reply, CallResultError):
            return
        status = 200 if isinstance(reply, CallResult) else _fault_status(reply.code)
        body = request.body or wire.encode("utf-8")
        request.reply.set_result(HttpReply(status, body, CONTENT_TYPE))

    async def send(self, message: Send, wire: str) -> None:
        raise CallFailed("SOAP carries no SEND (a message nothing answers)")

    # -- the end ----------------------------------------------------------------------------

    async def ping(self) -> None:
        raise OcppSimError("websocket ping is not available in SOAP mode")

    async def close(self, code: int = 1000, reason: str = "closed") -> None:
        self.abort(code, reason)

    def abort(self, code: int = 1000, reason: str = "closed") -> None:
        """No more requests are routed here; requests still waiting get 503."""
        if self._why is not None:
            return
        self._why = reason or "closed"
        for request in (self._requests or {}).values():
            if not request.reply.done():
                text = f"Service Unavailable: {self._why}\n".encode()
                request.reply.set_result(HttpReply(503, text, "text/plain; charset=utf-8"))
        if self._user is not None:
            self._user.link_closed(None)


def _with_scheme_hint(reason: str, url: str) -> str:
    """`reason` with what to try when the URL's scheme may not be the server's: TLS to a plain
    HTTP server fails as `not-tls`, plain HTTP to a TLS one is dropped unanswered."""
    secure = url.lower().startswith("https:")
    if secure and "(not-tls)" in reason:
        return f"{reason}: if the Central System speaks plain HTTP, use an http:// URL"
    if not secure and "Server disconnected" in reason:
        return f"{reason} (if the Central System speaks TLS, use an https:// URL)"
    return reason


def _is_fault(body: bytes) -> bool:
    try:
        return fault_of(parse_envelope(body)) is not None
    except SoapFaultError:
        return False


# ------------------------------------------------------------------------- the HTTP side


class Route(Protocol):
    """Where a SOAP server sends the requests for one charge box (or for every box)."""

    speaker: str
    bus: EventBus

    def versions(self) -> tuple[str, ...]:
        """The versions served."""

    def label(self, charge_box_id: str | None, remote: str) -> str:
        """The peer label of a request's sender."""

    async def peer_for(self, parsed: SoapRequest, version: str) -> Peer:
        """The peer that answers `parsed` (OcppError for a Fault instead)."""


class SoapEndpoint:
    """Answers the SOAP requests of one service (SPEC §4 validation order, §7 faults): what
    cannot be read as a request gets its Fault here; a request goes to its route's peer."""

    def __init__(self, service: Service, route_for: Any, nobody: Any):
        self.service: Service = service
        #: route_for(charge_box_id) -> the Route of that box, or None
        self._route_for = route_for
        #: whether routes differ by chargeBoxIdentity (read from the envelope first, then)
        self.by_box = False
        #: nobody() -> the Route that speaks of requests no route takes, or None
        self._nobody = nobody

    async def respond(self, request: HttpRequest) -> HttpReply:
        """Parse and answer one POST; every failure is a Fault, never an exception."""
        try:
            return await self._respond(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug of ours or a plugin's: the server keeps serving
            _log.debug("SOAP request failed", exc_info=True)
            route = self._route_for(None) or self._nobody()
            label = "cs" if self.service == "cp" else "cp#?"
            if route is not None:
                route.bus.notice(route.speaker, f"Error: SOAP request failed: {exc!r}", ERROR)
            return self._fault(route, label, None, "InternalError", None, None)

    async def _respond(self, request: HttpRequest) -> HttpReply:
        """The steps of `respond` (media type; SPEC §4 order: form, action, payload, handler)."""
        default_label = f"cp#?@{request.remote}" if self.service == "cs" else "cs"
        wire = request.body.decode("utf-8", "replace")
        route: Route | None = None
        if not _soap_media_type(request):
            route = self._route_for(None) or self._nobody()
            self._received(route, default_label, wire, one_line(wire) or '""')
            return self._unsupported_media_type(route, default_label, request.content_type)
        envelope: etree._Element | None = None
        try:
            envelope = parse_envelope(request.body)  # parsed once, read twice
            check_must_understand(envelope)
            box = _charge_box_of(envelope) if self.by_box else None
            route = self._route_for(box)
            if route is None:
                raise SoapFaultError("SecurityError", f"no charge box {box} here")
            version = self._version_of(route, envelope)
            parsed = get_codec(version, self.service).parse_request(envelope)
        except SoapFaultError as exc:
            box = _charge_box_of(envelope) if envelope is not None else None
            route = route or self._route_for(None) or self._nobody()
            label = default_label
            if box and self.service == "cs":
                label = f"cp#{box}"  # the body is bad, but the sender said who it is
            self._received(route, label, wire, one_line(wire) or '""')
            if isinstance(exc, SoapEnvelopeFault):
                message_id = _header_of(envelope, "MessageID") if envelope is not None else None
                return self._envelope_fault(route, label, exc, message_id)
            return self._fault(route, label, None, exc.code, exc.reason, None)
        label = route.label(parsed.charge_box_id, request.remote) or default_label
        try:
            peer = await route.peer_for(parsed, version)
        except OcppError as exc:
            self._received(route, label, wire, _json_view(parsed.action, parsed.payload))
            return self._fault(
                route, label, parsed.action, exc.code, exc.description, parsed.message_id
            )
        link = peer.link
        assert isinstance(link, SoapLink)  # a SOAP route's peers are on SOAP links
        return await link.request(parsed, wire)

    def _version_of(self, route: Route, envelope: etree._Element) -> str:
        """The version of the request's body namespace, if the route serves it (SPEC §7)."""
        version = request_version(envelope, self.service)
        if version is None:
            raise SoapFaultError(
                "NotImplemented",
                f"the request body is no operation of an OCPP {_SERVICE_NAMES[self.service]}"
                " service",
            )
        served = route.versions()
        if version not in served:
            raise SoapFaultError(
                "NotSupported",
                f"{get(version).title} is not served here (served: "
                + ",".join(get(v).subprotocol for v in served)
                + ")",
            )
        return version

    @staticmethod
    def _received(route: Route | None, label: str, wire: str, text: str) -> None:
        if route is not None:
            route.bus.publish(events.FrameReceived(route.speaker, label, "soap", wire, text))

    @staticmethod
    def _sent(route: Route | None, label: str, wire: str, text: str) -> None:
        if route is not None:
            route.bus.publish(events.FrameSent(route.speaker, label, "soap", wire, text))

    def _unsupported_media_type(self, route: Route | None, label: str, media: str) -> HttpReply:
        """HTTP 415 (SOAP 1.2 Part 2 §7.5.2.2): the request is not `application/soap+xml`."""
        shown = repr(media[:100]) if media else "none"
        text = (
            f"Unsupported Media Type: Content-Type {shown}; a SOAP 1.2 request is"
            f" {SOAP12_MEDIA_TYPE}"
        )
        self._sent(route, label, f"HTTP 415 {text}", f"HTTP 415 {text}")
        return HttpReply(415, (text + "\n").encode(), "text/plain; charset=utf-8")

    def _envelope_fault(
        self, route: Route | None, label: str, fault: SoapEnvelopeFault, relates_to: str | None
    ) -> HttpReply:
        """A VersionMismatch or MustUnderstand Fault, HTTP 500 (SOAP 1.2 Part 2 §7.5.2.2)."""
        body, content_type = build_envelope_fault(
            fault, relates_to=relates_to, message_id=new_message_id()
        )
        text = f"Fault {dumps({'code': fault.soap_code, 'reason': fault.reason})}"
        self._sent(route, label, body.decode("utf-8", "replace"), text)
        return HttpReply(500, body, content_type)

    def _fault(
        self,
        route: Route | None,
        label: str,
        action: str | None,
        code: str,
        reason: str | None,
        relates_to: str | None,
    ) -> HttpReply:
        body, sent_reason = _fault(code, reason, relates_to)
        self._sent(route, label, body.decode("utf-8"), _fault_text(action, code, sent_reason))
        return HttpReply(_fault_status(code), body, CONTENT_TYPE)


def _soap_media_type(request: HttpRequest) -> bool:
    """True for a SOAP 1.2 request, and for a SOAP 1.1 Envelope sent as SOAP 1.1's
    `text/xml` (answered with VersionMismatch, SOAP 1.2 Part 1 Appendix A); any other
    Content-Type, a SOAP 1.2 Envelope as `text/xml` included, gets 415."""
    if request.content_type == SOAP12_MEDIA_TYPE:
        return True
    return (
        request.content_type == SOAP11_MEDIA_TYPE and envelope_namespace(request.body) == SOAP11_ENV
    )


def _header_of(envelope: etree._Element, name: str) -> str | None:
    """The text of the first header block called `name` of any namespace."""
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    node = header.find(f"{{*}}{name}") if header is not None else None
    text = (node.text or "").strip() if node is not None else ""
    return text or None


def _charge_box_of(envelope: etree._Element) -> str | None:
    """The chargeBoxIdentity header of an envelope (read before its body is)."""
    for node in envelope.iter("{*}chargeBoxIdentity"):
        text = (node.text or "").strip()
        return text or None
    return None


# -------------------------------------------------------------------------- Central System


class SoapServer:
    """How a Central System receives charge points over SOAP: an HTTP server on its port and
    endpoint; a charge box becomes a peer on its first request (its chargeBoxIdentity) and is
    forgotten when it has not been heard from for `forget_after` seconds."""

    def __init__(
        self,
        cs: CentralSystem,
        *,
        limits: HttpLimits | None = None,
        forget_after: float = FORGET_AFTER,
        max_charge_boxes: int = MAX_CHARGE_BOXES,
    ):
        self.cs = cs
        self.forget_after = forget_after
        self.max_charge_boxes = max_charge_boxes
        #: when each charge box was last heard from (loop time), least recent first
        self._heard: dict[str, float] = {}
        self._versions: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        self._forgetting: asyncio.Task[None] | None = None
        self._client: HttpClient | None = None
        self.endpoint = SoapEndpoint("cs", lambda box: self, lambda: self)
        security = cs.security
        context = security.ssl_context if security is not None else None
        if context is not None:
            from ocppsim.security.tls import report_handshake_failures

            report_handshake_failures(context, self._tls_failed)
        self.http = HttpServer(
            cs.host,
            cs.port,
            cs.endpoint,
            self.endpoint.respond,
            limits,
            ssl_context=context,
            on_tls_at_plain_port=self._tls_at_plain_port,
        )
        #: who speaks of its requests, and where (a Route)
        self.speaker, self.bus = cs.speaker, cs.bus

    async def start(self) -> int:
        """Listen; raises OSError when the port cannot be bound."""
        port = await self.http.start()
        self._client = self.cs.resources.http_client()
        if 0 < self.forget_after < math.inf:
            self._forgetting = asyncio.create_task(self._forget_idle(), name="forget idle boxes")
        return port

    async def stop(self) -> None:
        if self._forgetting is not None:
            self._forgetting.cancel()
            await asyncio.wait({self._forgetting})  # our own cancellation still propagates
            self._forgetting = None
        await self.http.stop()
        if self._client is not None:
            self._client = None
            await self.cs.resources.release_http_client()

    def _tls_failed(self, exc: BaseException) -> None:
        """A charge box's TLS handshake failed: say why (its peer got the alert)."""
        from ocppsim.security import tls_failure

        failure = tls_failure(exc)
        text = f"Error: TLS handshake refused: {failure.message} ({failure.code})."
        self.cs.bus.notice(self.cs.speaker, text, ERROR)

    def _tls_at_plain_port(self, remote: str) -> None:
        """A client began a TLS handshake at this plain http:// port (its HTTP server answered
        it 400): say why."""
        self.cs.bus.notice(
            self.cs.speaker,
            f"Error: connection from {remote} refused (HTTP 400 Bad Request): it began a TLS"
            " handshake (https://) and this port speaks plain http:// (start_cs --tls-cert FILE"
            " --tls-key FILE serves https://).",
            ERROR,
        )

    # -- the route of every request -------------------------------------------------------

    def versions(self) -> tuple[str, ...]:
        """The versions of `-p` that have a SOAP binding (worked out once: every request
        asks)."""
        protocols = self.cs.protocols
        if self._versions is None or self._versions[0] != protocols:
            soap = subprotocols("soap")
            served = tuple(by_subprotocol(p).name for p in protocols if p in soap)
            self._versions = (protocols, served)
        return self._versions[1]

    @staticmethod
    def label(charge_box_id: str | None, remote: str) -> str:
        return f"cp#{charge_box_id}" if charge_box_id else ""

    async def peer_for(self, parsed: SoapRequest, version: str) -> Peer:
        """The peer of the request's chargeBoxIdentity, registered on its first request."""
        cs = self.cs
        cp_id = parsed.charge_box_id
        if not cp_id:
            raise SoapFaultError("ProtocolError", "the chargeBoxIdentity header is missing")
        peer = cs.peers.get(cp_id)
        if peer is not None:
            link = peer.link
            assert isinstance(link, SoapLink)
            self._heard_from(cp_id)
            if peer.version != version:
                link.version = version
                peer.change_version(version)
            if parsed.from_address and parsed.from_address != link.address:
                # another host may be using this identity: the operator should know
                cs.bus.notice(
                    cs.speaker,
                    f"WARNING : ChargePoint #{cp_id} changed its From address: now called back"
                    f" at {parsed.from_address} (was {link.address})",
                    WARNING,
                )
                link.address = parsed.from_address
            return peer
        while 0 < self.max_charge_boxes <= len(cs.peers) and self._heard:
            oldest = next(iter(self._heard))
            self._forget(oldest, f"{self.max_charge_boxes} charge boxes known already")
        assert self._client is not None  # started
        security = cs.security
        link = SoapLink(
            self._client,
            version=version,
            called="cp",
            charge_box_id=cp_id,
            address=parsed.from_address,
            heard=self._answered,
            ssl_context=security.callback_context if security is not None else None,
        )
        peer = cs.attach(link, cp_id, version, get(version).subprotocol)
        self._heard_from(cp_id)
        if parsed.from_address is None:
            cs.bus.notice(
                cs.speaker,
                f"WARNING : ChargePoint #{cp_id} sent no From address: remote actions to it"
                " are not possible",
                WARNING,
            )
        return peer

    # -- the charge boxes it knows --------------------------------------------------------

    def _answered(self, cp_id: str) -> None:
        """A charge box answered one of our CALLs: it is heard from."""
        if cp_id in self.cs.peers:
            self._heard_from(cp_id)

    def _heard_from(self, cp_id: str) -> None:
        """Note that `cp_id` was heard from now (it becomes the most recent)."""
        heard = self._heard
        heard.pop(cp_id, None)
        heard[cp_id] = asyncio.get_running_loop().time()

    def _forget(self, cp_id: str, why: str) -> None:
        """Drop a charge box from the table; a later request registers it again."""
        self._heard.pop(cp_id, None)
        peer = self.cs.peers.get(cp_id)
        if peer is not None:
            peer.abort(1000, why)  # its link ends: the Central System hears of it

    async def _forget_idle(self) -> None:
        """Forget each charge box not heard from for `forget_after` seconds, when it is due
        (one task per Central System, sleeping until the least recent one's time)."""
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + self.forget_after
            if self._heard:
                cp_id, last = next(iter(self._heard.items()))
                due = last + self.forget_after
                if due <= loop.time():
                    self._forget(cp_id, f"not heard from for {self.forget_after:g} s")
                    continue
            await asyncio.sleep(due - loop.time())


# ---------------------------------------------------------------------------- Charge Point


def _listen_port(from_url: str | None, remote_port: int | None) -> int:
    """`-r`, else the port of `-f`, else 0 (a free port) (SPEC §3)."""
    if remote_port is not None:
        return remote_port
    if from_url:
        parts = urlsplit(from_url)
        try:
            port = parts.port
        except ValueError as exc:
            raise OcppSimError(f"Error: invalid port in the -f URL `{from_url}'.") from exc
        return port if port is not None else (443 if parts.scheme == "https" else 80)
    return 0


class CallbackServer:
    """The HTTP server of the SOAP Charge Points of one process on one host and port: it
    routes each request to the charge point its chargeBoxIdentity names."""

    def __init__(
        self,
        host: str | None,
        port: int,
        limits: HttpLimits | None,
        ssl_context: ssl.SSLContext | None = None,
    ):
        self.routes: dict[str, SoapClient] = {}
        #: the paths the charge points were given (`-f`), each with its number of users
        self.paths: dict[str, int] = {}
        self.endpoint = SoapEndpoint("cp", self._route_for, self._nobody)
        self.endpoint.by_box = True
        self.http = HttpServer(host, port, None, self._respond, limits, ssl_context=ssl_context)

    @property
    def port(self) -> int:
        return self.http.port

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return self.http.addresses

    async def start(self) -> CallbackServer:
        await self.http.start()
        return self

    async def stop(self) -> None:
        await self.http.stop()

    def add(self, route: SoapClient) -> None:
        self.routes[route.cp.charge_point_id] = route
        self.paths[route.path] = self.paths.get(route.path, 0) + 1

    def remove(self, route: SoapClient) -> None:
        if self.routes.get(route.cp.charge_point_id) is route:
            del self.routes[route.cp.charge_point_id]
        left = self.paths.get(route.path, 0) - 1
        if left > 0:
            self.paths[route.path] = left
        else:
            self.paths.pop(route.path, None)

    def _route_for(self, charge_box_id: str | None) -> SoapClient | None:
        """The charge point a request names, else the only one (which says it is not that
        box, or takes a request that names none)."""
        routes = self.routes
        if charge_box_id is not None and charge_box_id in routes:
            return routes[charge_box_id]
        if len(routes) == 1:
            return next(iter(routes.values()))
        return None

    def _nobody(self) -> Route | None:
        """Who speaks of a request for a box no charge point here is: `cp#?`."""
        route = next(iter(self.routes.values()), None)
        return _Nobody(route.bus) if route is not None else None

    async def _respond(self, request: HttpRequest) -> HttpReply:
        if normalise_path(request.path) not in self.paths:
            return HttpReply(404, b"Not Found\n", "text/plain; charset=utf-8")
        return await self.endpoint.respond(request)


class _Nobody:
    """The speaker of the lines about a request for an unknown charge box."""

    speaker = "cp#?"

    def __init__(self, bus: EventBus):
        self.bus = bus

    def versions(self) -> tuple[str, ...]:
        return ()

    @staticmethod
    def label(charge_box_id: str | None, remote: str) -> str:
        return "cs"

    async def peer_for(self, parsed: SoapRequest, version: str) -> Peer:
        raise OcppError("SecurityError", f"no charge box {parsed.charge_box_id} here")


class SoapClient:
    """How a Charge Point reaches its Central System over SOAP: it posts to the CS's URL and
    answers the CS's requests on a callback server it shares with the other SOAP Charge
    Points of the process on that host and port (SPEC §7)."""

    reconnects = False

    def __init__(
        self,
        cp: ChargePoint,
        *,
        from_url: str | None = None,
        remote_port: int | None = None,
        host: str | None = None,
        limits: HttpLimits | None = None,
    ):
        url = cp.url
        if urlsplit(url).scheme not in HTTP_SCHEMES:
            raise OcppSimError(f"Error: a SOAP Central System URL is http(s)://…, not `{url}'.")
        problem = url_problem(url, HTTP_SCHEMES)
        if problem is not None:
            raise OcppSimError(f"Error: invalid URL {url!r}: {problem}.")
        security = cp.security
        https_callback = bool(from_url) and urlsplit(from_url or "").scheme == "https"
        if https_callback and (security is None or security.callback_tls is None):
            raise OcppSimError(
                "Error: an https:// -f URL needs the callback server's certificate: give "
                "--tls-cert and --tls-key."
            )
        self.cp = cp
        #: who speaks of its requests, and where (a Route)
        self.speaker, self.bus = cp.speaker, cp.bus
        self.from_url = from_url
        self.listen_port = _listen_port(from_url, remote_port)
        self.host = host
        self.limits = limits
        self.path = normalise_path(urlsplit(from_url).path if from_url else "/")
        #: the callback server this charge point answers on, once connected
        self.server: CallbackServer | None = None
        self._key: Hashable | None = None
        self._client: HttpClient | None = None

    # -- Route ----------------------------------------------------------------------------------

    def versions(self) -> tuple[str, ...]:
        return (self.cp.version,)

    @staticmethod
    def label(charge_box_id: str | None, remote: str) -> str:
        return "cs"

    async def peer_for(self, parsed: SoapRequest, version: str) -> Peer:
        """Every request to a Charge Point comes from its Central System, addressed to it."""
        box, cp_id = parsed.charge_box_id, self.cp.charge_point_id
        if box and box != cp_id:
            raise OcppError("SecurityError", f"this is charge box {cp_id}, not {box}")
        return await self.cp.ready()

    # -- ClientSide ---------------------------------------------------------------------------

    async def connect(self) -> SoapLink:
        """Listen for the CS's requests (on the shared callback server) and make the link."""
        cp = self.cp
        local = None
        if not self.from_url:
            local = await asyncio.to_thread(local_address_towards, cp.url)
        try:
            server = await self._listen(local)
        except OSError as exc:
            raise ConnectFailed(
                f"SOAP Server cannot listen on port {self.listen_port}: {exc.strerror or exc}",
                retry=False,
            ) from exc
        self.server = server
        server.add(self)
        scheme = "https" if self._callback_context() is not None else "http"
        from_address = self.from_url or f"{scheme}://{local}:{server.port}/"
        self._client = cp.resources.http_client()
        cp.bus.notice(cp.speaker, f"SOAP Server listening on port {server.port}")
        cp.bus.notice(cp.speaker, f"Central System at {cp.url}, From address {from_address}")
        security = cp.security
        context = None
        if security is not None and cp.url.lower().startswith("https:"):
            try:
                context = security.context(security.identity)
            except OcppSimError as exc:
                raise ConnectFailed(str(exc), retry=False) from exc
        return SoapLink(
            self._client,
            version=cp.version,
            called="cs",
            charge_box_id=cp.charge_point_id,
            address=cp.url,
            from_address=from_address,
            ssl_context=context,
        )

    async def _listen(self, local: str | None) -> CallbackServer:
        """The callback server on the host of the address the CS is told (`-f`'s, or
        `local`), not on every interface; `host` when given wins. An `-f` host that is no
        address of this machine (a port mapping, a NAT) means every interface."""
        if self.host is not None:
            return await self._acquire(self.host)
        bind_host = urlsplit(self.from_url).hostname if self.from_url else local
        try:
            return await self._acquire(bind_host)
        except OSError as exc:
            resolved = not isinstance(exc, socket.gaierror)
            if not self.from_url or not bind_host or (resolved and exc.errno != EADDRNOTAVAIL):
                raise
        server = await self._acquire(None)
        self.cp.bus.notice(
            self.cp.speaker,
            f"{bind_host} (-f) is not an address of this machine: listening on every interface",
        )
        return server

    def _callback_context(self) -> ssl.SSLContext | None:
        """The TLS context of its callback server: its `--tls-cert` (an https callback)."""
        security = self.cp.security
        if security is None or security.callback_tls is None:
            return None
        return security.callback_context()

    async def _acquire(self, host: str | None) -> CallbackServer:
        """The process's callback server on `host` and this port (any port for 0), speaking
        TLS with this charge point's callback certificate, if it has one."""
        port = self.listen_port
        context = self._callback_context()
        tls = id(context) if context is not None else None

        def same(key: Hashable, server: Any) -> bool:
            if not (isinstance(key, tuple) and key[:2] == ("soap callback", host)):
                return False
            return key[3:] == (tls,) and (port == 0 or server.port == port)

        async def create() -> CallbackServer:
            return await CallbackServer(host, port, self.limits, context).start()

        resources: Resources = self.cp.resources
        key = ("soap callback", host, port, tls)
        self._key, server = await resources.acquire(key, create, same)
        assert isinstance(server, CallbackServer)
        return server

    async def stop(self) -> None:
        """Leave the callback server (closed with its last charge point) and the client."""
        resources: Resources = self.cp.resources
        if self.server is not None:
            self.server.remove(self)
            self.server = None
        if self._key is not None:
            key, self._key = self._key, None
            await resources.release(key, lambda server: server.stop())
        if self._client is not None:
            self._client = None
            await resources.release_http_client()
