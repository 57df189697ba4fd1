"""The Central System and Charge Point simulators over SOAP 1.2/HTTP (SPEC §7).

Each side runs an HTTP server for the CALLs it answers and posts its own CALLs to the
other side: the Charge Point to the Central System's URL, the Central System to the `From`
address each Charge Point sent. Log lines read like OCPP-J's: `>>peer /Action {json}`, or
the envelopes themselves when `print_xml` is on (SPEC §2).
"""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import uuid
from collections.abc import Awaitable, Callable
from errno import EADDRNOTAVAIL
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from ocppsim.core.configuration import Configuration
from ocppsim.core.errors import OcppError, OcppSimError, bounded_description
from ocppsim.core.rpc import DEFAULT_TIMEOUT, CallError, dumps
from ocppsim.core.validation import validate
from ocppsim.core.versions import Service, by_subprotocol, default, get, subprotocols
from ocppsim.sim import log
from ocppsim.sim.behaviour import Behaviour, LocalAnswer
from ocppsim.sim.central_system import DEFAULT_PROTOCOLS, normalise_endpoint
from ocppsim.sim.charge_point import NotConnected
from ocppsim.sim.peer import CallFailed, Peer
from ocppsim.sim.pinger import Pinger
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
from ocppsim.transport.http import (
    HttpClient,
    HttpExchange,
    HttpFailed,
    HttpLimits,
    HttpReply,
    HttpRequest,
    HttpServer,
    HttpTimeout,
    local_address_towards,
)
from ocppsim.transport.urls import HTTP_SCHEMES, url_problem

_log = logging.getLogger("ocppsim.sim")

PrintXml = Callable[[], bool]
#: identify(request, version) -> the Peer that sent it (registering it when new)
Identify = Callable[[SoapRequest, str], Awaitable[Peer]]

_SERVICE_NAMES = {"cs": "Central System", "cp": "Charge Point"}

#: A Central System forgets a charge box it has not heard from for this long (seconds): a
#: real one sends a Heartbeat at least every heartbeatInterval (1200 s by default).
FORGET_AFTER = 3600.0
#: The most charge boxes a Central System remembers; a new one beyond it makes it forget the
#: one heard from least recently (ids from a flood of requests never exhaust memory).
MAX_CHARGE_BOXES = 100_000


def new_message_id() -> str:
    """A WS-Addressing MessageID: a `urn:uuid:` IRI."""
    return f"urn:uuid:{uuid.uuid4()}"


def one_line(text: str) -> str:
    """A text for one log line: line breaks become spaces (SPEC §2: one line per event)."""
    return " ".join(text.splitlines()) if ("\n" in text or "\r" in text) else text


def _decoded(data: bytes) -> str:
    """Bytes as text for the log, whatever they are."""
    return one_line(data.decode("utf-8", "replace"))


def _fault_text(action: str | None, code: str, reason: str) -> str:
    """How a Fault shows in a JSON-mode log line: `/Action Fault {"code":…,"reason":…}`."""
    prefix = f"/{action} " if action else ""
    return f"{prefix}Fault {dumps({'code': code, 'reason': reason})}"


def _fault_status(code: str) -> int:
    """HTTP status of a Fault (SOAP 1.2 HTTP binding: 400 for the sender's, 500 for ours)."""
    return 500 if code == "InternalError" else 400


#: the media type of SOAP 1.2 messages (SOAP 1.2 Part 2 §7.1.4, RFC 3902)
SOAP12_MEDIA_TYPE = "application/soap+xml"
#: SOAP 1.1's media type: accepted only to answer a SOAP 1.1 Envelope with VersionMismatch
SOAP11_MEDIA_TYPE = "text/xml"


class SoapPeer(Peer):
    """The other end of a SOAP link: CALLs are POSTs to its address (SPEC §7)."""

    transport = "soap"

    def __init__(
        self,
        *,
        version: str,
        service: Service,
        speaker: str,
        label: str,
        charge_point_id: str,
        address: str | None,
        client: HttpClient,
        print_xml: PrintXml,
        from_address: str | None = None,
        on_result: Callable[[Peer, str, Any, Any], Awaitable[None]] | None = None,
        variant: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ):
        self.version = version
        self.service: Service = service
        self.speaker = speaker
        self.label = label
        self.charge_point_id = charge_point_id
        self.address = address
        self.from_address = from_address
        self.variant = variant
        self.timeout = timeout
        self._client = client
        self._print_xml = print_xml
        self._on_result = on_result
        self._lock: asyncio.Lock | None = None  # made on the first CALL: most boxes get none

    @property
    def _call_lock(self) -> asyncio.Lock:
        """One CALL at a time to this peer."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    @property
    def connected(self) -> bool:
        return True

    def _target(self) -> str:
        if self.address is None:
            raise CallFailed(
                f"ChargePoint #{self.charge_point_id} sent no From address: it cannot be called"
            )
        return self.address

    def _envelope(self, action: str, payload: Any, message_id: str, target: str) -> bytes:
        """The request envelope, or CallFailed saying why the codec cannot build it."""
        codec = get_codec(self.version, self.service)
        name = _SERVICE_NAMES[self.service]
        if action not in codec.actions:
            raise CallFailed(
                f"`{action}' is not an operation of the OCPP {self.version} {name} SOAP service"
            )
        try:
            return codec.build_request(
                action,
                payload,
                charge_box_id=self.charge_point_id,
                to=target,
                message_id=message_id,
                from_address=self.from_address,
            )
        except SoapFaultError as exc:
            raise CallFailed(
                f"the SOAP envelope cannot be built ({exc.code}: {exc.reason}); "
                "use send_raw to post any XML"
            ) from exc

    async def _post(self, target: str, body: bytes, action: str | None) -> HttpExchange:
        content_type = CONTENT_TYPE + (f'; action="/{action}"' if action else "")
        return await self._client.post(
            target, body, {"Content-Type": content_type}, timeout=self.timeout
        )

    async def call(self, action: str, payload: Any) -> Any:
        """POST the request of `action`; the response payload, or CallFailed (SPEC §7)."""
        target = self._target()
        message_id = new_message_id()
        body = self._envelope(action, payload, message_id, target)
        async with self._call_lock:
            shown = _decoded(body) if self._print_xml() else f"/{action} {dumps(payload)}"
            log.frame(self.speaker, log.SENT, self.label, shown)
            try:
                exchange = await self._post(target, body, action)
            except HttpTimeout:
                log.error(f"Error for the message #{message_id} : timeout", self.speaker)
                raise CallFailed("timeout") from None
            except HttpFailed as exc:
                raise CallFailed(str(exc)) from exc
        result = self._read_response(action, message_id, exchange)
        if self._on_result is not None:
            await self._on_result(self, action, payload, result)
        return result

    def _read_response(self, action: str, message_id: str, exchange: HttpExchange) -> Any:
        """The payload of the response; faults and unreadable answers raise CallFailed."""
        codec = get_codec(self.version, self.service)
        raw = _decoded(exchange.body)
        try:
            response = codec.parse_response_message(exchange.body, action)
        except SoapFaultError as exc:
            is_fault = self._is_fault(exchange.body)
            if is_fault:
                shown = raw if self._print_xml() else _fault_text(action, exc.code, exc.reason)
                log.frame(self.speaker, log.RECEIVED, self.label, shown)
            else:
                log.frame(self.speaker, log.RECEIVED, self.label, raw or '""')
                log.error(
                    f"Error: unreadable answer to #{message_id} (HTTP {exchange.status} "
                    f"{exchange.reason}): {exc.code}: {exc.reason}",
                    self.speaker,
                )
            raise CallFailed(
                f"{exc.code}: {exc.reason}", CallError(message_id, exc.code, exc.reason)
            ) from None
        shown = raw if self._print_xml() else f"/{action} {dumps(response.payload)}"
        log.frame(self.speaker, log.RECEIVED, self.label, shown)
        if response.relates_to is not None and response.relates_to != message_id:
            log.warning(
                f"WARNING : RelatesTo {response.relates_to} does not match #{message_id}",
                self.speaker,
            )
        violation = validate(self.version, action + "Response", response.payload, self.variant)
        if violation is not None:
            log.warning(
                f"WARNING : {violation.code} for CALLRETURN #{message_id} ({violation.reason})",
                self.speaker,
            )
        return response.payload

    @staticmethod
    def _is_fault(body: bytes) -> bool:
        try:
            return fault_of(parse_envelope(body)) is not None
        except SoapFaultError:
            return False

    async def send_raw(self, text: str, show_headers: bool = False) -> None:
        """POST `text` as the body, as is, and log the answer (SPEC §3 send_raw)."""
        target = self._target()
        log.frame(self.speaker, log.SENT, self.label, one_line(text))
        try:
            exchange = await self._post(target, text.encode("utf-8"), None)
        except HttpFailed as exc:
            raise CallFailed(str(exc)) from exc
        if show_headers:
            log.event(
                self.speaker, f"HTTP request: POST {target} {dumps(exchange.request_headers)}"
            )
            log.event(
                self.speaker,
                f"HTTP response: {exchange.status} {exchange.reason} "
                f"{dumps(exchange.response_headers)}",
            )
        log.frame(self.speaker, log.RECEIVED, self.label, _decoded(exchange.body) or '""')


class SoapResponder:
    """Answers the SOAP requests of one service (SPEC §4 validation order, §7 faults)."""

    def __init__(
        self,
        *,
        service: Service,
        versions: Callable[[], tuple[str, ...]],
        speaker: str,
        label: Callable[[SoapRequest], str],
        identify: Identify,
        behaviour: Behaviour,
        print_xml: PrintXml,
        variant: str | None,
        local: LocalAnswer | None = None,
    ):
        self.service: Service = service
        self._versions = versions
        self.speaker = speaker
        self._label = label
        self._identify = identify
        self.behaviour = behaviour
        self._print_xml = print_xml
        self.variant = variant
        self._local = local

    async def respond(self, request: HttpRequest) -> HttpReply:
        """Parse, validate and answer one POST; every failure is a Fault, never an exception."""
        try:
            return await self._respond(request)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug of ours or a plugin's: the server keeps serving
            _log.debug("SOAP request failed", exc_info=True)
            log.error(f"Error: SOAP request failed: {exc!r}", self.speaker)
            return self._fault(
                "cs" if self.service == "cp" else "cp#?", None, "InternalError", None, None
            )

    async def _respond(self, request: HttpRequest) -> HttpReply:
        """The steps of `respond` (media type; SPEC §4 order: form, action, payload, handler)."""
        label = f"cp#?@{request.remote}" if self.service == "cs" else "cs"
        if not self._soap_media_type(request):
            log.frame(self.speaker, log.RECEIVED, label, _decoded(request.body) or '""')
            return self._unsupported_media_type(label, request.content_type)
        envelope: etree._Element | None = None
        try:
            envelope = parse_envelope(request.body)  # parsed once, read twice
            check_must_understand(envelope)
            version = self._version_of(envelope)
            parsed = get_codec(version, self.service).parse_request(envelope)
        except SoapFaultError as exc:
            box = _charge_box_of(envelope) if envelope is not None else None
            if box and self.service == "cs":
                label = f"cp#{box}"  # the body is bad, but the sender said who it is
            log.frame(self.speaker, log.RECEIVED, label, _decoded(request.body) or '""')
            if isinstance(exc, SoapEnvelopeFault):
                message_id = _header_of(envelope, "MessageID") if envelope is not None else None
                return self._envelope_fault(label, exc, message_id)
            return self._fault(label, None, exc.code, exc.reason, None)
        label = self._label(parsed) or label
        shown = _decoded(request.body) if self._print_xml() else self._json(parsed)
        log.frame(self.speaker, log.RECEIVED, label, shown)
        try:
            peer = await self._identify(parsed, version)
        except OcppError as exc:
            return self._fault(label, parsed.action, exc.code, exc.description, parsed.message_id)
        message = parsed.action + "Request"
        violation = validate(version, message, parsed.payload, self.variant)
        if violation is not None:
            return self._fault(
                label, parsed.action, violation.code, violation.reason, parsed.message_id
            )
        try:
            answer = await self.behaviour.answer(peer, parsed.action, parsed.payload, self._local)
        except OcppError as exc:
            return self._fault(label, parsed.action, exc.code, exc.description, parsed.message_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a handler's bug is an InternalError, never a crash
            _log.debug("handler failed", exc_info=True)
            log.error(f"Error: handler for {parsed.action} failed: {exc!r}", self.speaker)
            return self._fault(label, parsed.action, "InternalError", None, parsed.message_id)
        try:
            body = get_codec(version, self.service).build_response(
                parsed.action,
                answer,
                charge_box_id=parsed.charge_box_id,
                relates_to=parsed.message_id,
                message_id=new_message_id(),
            )
        except SoapFaultError as exc:
            log.error(
                f"Error: the {parsed.action} answer {dumps(answer)} cannot be sent: {exc.reason}",
                self.speaker,
            )
            return self._fault(label, parsed.action, "InternalError", None, parsed.message_id)
        shown = _decoded(body) if self._print_xml() else f"/{parsed.action} {dumps(answer)}"
        log.frame(self.speaker, log.SENT, label, shown)
        return HttpReply(200, body, CONTENT_TYPE)

    def _version_of(self, envelope: etree._Element) -> str:
        """The version of the request's body namespace, if this side serves it (SPEC §7)."""
        version = request_version(envelope, self.service)
        if version is None:
            raise SoapFaultError(
                "NotImplemented",
                f"the request body is no operation of an OCPP {_SERVICE_NAMES[self.service]}"
                " service",
            )
        served = self._versions()
        if version not in served:
            raise SoapFaultError(
                "NotSupported",
                f"OCPP {version} is not served here (served: "
                + ",".join(get(v).subprotocol for v in served)
                + ")",
            )
        return version

    @staticmethod
    def _soap_media_type(request: HttpRequest) -> bool:
        """True for a SOAP 1.2 request, and for a SOAP 1.1 Envelope sent as SOAP 1.1's
        `text/xml` (answered with VersionMismatch, SOAP 1.2 Part 1 Appendix A); any other
        Content-Type, a SOAP 1.2 Envelope as `text/xml` included, gets 415."""
        if request.content_type == SOAP12_MEDIA_TYPE:
            return True
        return (
            request.content_type == SOAP11_MEDIA_TYPE
            and envelope_namespace(request.body) == SOAP11_ENV
        )

    def _unsupported_media_type(self, label: str, media_type: str) -> HttpReply:
        """HTTP 415 (SOAP 1.2 Part 2 §7.5.2.2): the request is not `application/soap+xml`."""
        shown = repr(media_type[:100]) if media_type else "none"
        text = (
            f"Unsupported Media Type: Content-Type {shown}; a SOAP 1.2 request is"
            f" {SOAP12_MEDIA_TYPE}"
        )
        log.frame(self.speaker, log.SENT, label, f"HTTP 415 {text}")
        return HttpReply(415, (text + "\n").encode(), "text/plain; charset=utf-8")

    def _envelope_fault(
        self, label: str, fault: SoapEnvelopeFault, relates_to: str | None
    ) -> HttpReply:
        """A VersionMismatch or MustUnderstand Fault, HTTP 500 (SOAP 1.2 Part 2 §7.5.2.2)."""
        body, content_type = build_envelope_fault(
            fault, relates_to=relates_to, message_id=new_message_id()
        )
        shown = (
            _decoded(body)
            if self._print_xml()
            else f"Fault {dumps({'code': fault.soap_code, 'reason': fault.reason})}"
        )
        log.frame(self.speaker, log.SENT, label, shown)
        return HttpReply(500, body, content_type)

    @staticmethod
    def _json(parsed: SoapRequest) -> str:
        return f"/{parsed.action} {dumps(parsed.payload)}"

    def _fault(
        self,
        label: str,
        action: str | None,
        code: str,
        reason: str | None,
        relates_to: str | None,
    ) -> HttpReply:
        error = SoapFaultError(code, bounded_description(reason) if reason else None)
        body = build_fault(code, error.reason, relates_to=relates_to, message_id=new_message_id())
        shown = _decoded(body) if self._print_xml() else _fault_text(action, code, error.reason)
        log.frame(self.speaker, log.SENT, label, shown)
        return HttpReply(_fault_status(code), body, CONTENT_TYPE)


# ------------------------------------------------------------------------- Central System


class SoapCentralSystem:
    """A Central System over SOAP: an HTTP server, and the Charge Points that posted to it."""

    speaker = "cs"
    transport = "soap"

    def __init__(
        self,
        port: int,
        *,
        endpoint: str = "/",
        protocols: tuple[str, ...] = DEFAULT_PROTOCOLS,
        ping_interval: float = 300,
        variant: str | None = None,
        host: str | None = None,
        behaviour: Behaviour | None = None,
        print_xml: PrintXml = lambda: False,
        limits: HttpLimits | None = None,
        forget_after: float = FORGET_AFTER,
        max_charge_boxes: int = MAX_CHARGE_BOXES,
    ):
        self.port = port
        self.endpoint = normalise_endpoint(endpoint)
        self.protocols = protocols
        self.variant = variant
        self.host = host
        self.behaviour = behaviour or Behaviour("cs")
        self.print_xml = print_xml
        self.peers: dict[str, Peer] = {}
        self.forget_after = forget_after
        self.max_charge_boxes = max_charge_boxes
        #: when each charge box was last heard from (loop time), least recent first
        self._heard: dict[str, float] = {}
        self._forgetting: asyncio.Task[None] | None = None
        self._on_answer = self._answered  # one bound method shared by every peer
        self.pinger = Pinger(ping_interval)  # stored only: SOAP has no pings
        self._client = HttpClient()
        self._responder = SoapResponder(
            service="cs",
            versions=self._versions,
            speaker=self.speaker,
            label=lambda request: f"cp#{request.charge_box_id}" if request.charge_box_id else "",
            identify=self._identify,
            behaviour=self.behaviour,
            print_xml=print_xml,
            variant=variant,
        )
        self._server = HttpServer(host, port, self.endpoint, self._responder.respond, limits)

    @property
    def ping_interval(self) -> float:
        return self.pinger.interval

    def _versions(self) -> tuple[str, ...]:
        return tuple(by_subprotocol(p).name for p in self.protocols if p in subprotocols("soap"))

    async def start(self) -> None:
        """Listen; raises OSError when the port cannot be bound."""
        self.port = await self._server.start()
        if 0 < self.forget_after < math.inf:
            self._forgetting = asyncio.create_task(self._forget_idle(), name="forget idle boxes")
        log.event(self.speaker, f"SOAP Server listening on port {self.port}")
        log.event(None, "CentralSystem started.")

    async def stop(self) -> None:
        if self._forgetting is not None:
            self._forgetting.cancel()
            await asyncio.wait({self._forgetting})  # our own cancellation still propagates
            self._forgetting = None
        await self._server.stop()
        await self._client.close()

    # -- the charge boxes it knows --------------------------------------------------------

    def _heard_from(self, cp_id: str) -> None:
        """Note that `cp_id` was heard from now (it becomes the most recent)."""
        heard = self._heard
        heard.pop(cp_id, None)
        heard[cp_id] = asyncio.get_running_loop().time()

    async def _forget(self, cp_id: str, why: str) -> None:
        """Drop a charge box from the table; a later request registers it again."""
        self._heard.pop(cp_id, None)
        if self.peers.pop(cp_id, None) is None:
            return
        log.event(self.speaker, f"ChargePoint #{cp_id} forgotten ({why}).")
        try:
            await self.behaviour.connection("disconnected", cp_id)
        except OcppError as exc:  # a plugin's: it concerns no request being answered
            log.error(f"Error: disconnected listener failed: {exc}", self.speaker)

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
                    await self._forget(cp_id, f"not heard from for {self.forget_after:g} s")
                    continue
            await asyncio.sleep(due - loop.time())

    async def _answered(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        """A charge box answered one of our CALLs: it is heard from, and plugins are told."""
        if self.peers.get(peer.charge_point_id) is peer:
            self._heard_from(peer.charge_point_id)
        await self.behaviour.result(peer, action, request, result)

    async def _identify(self, request: SoapRequest, version: str) -> Peer:
        """The peer of the request's chargeBoxIdentity, registered on its first request."""
        cp_id = request.charge_box_id
        if not cp_id:
            raise SoapFaultError("ProtocolError", "the chargeBoxIdentity header is missing")
        peer = self.peers.get(cp_id)
        if isinstance(peer, SoapPeer):
            self._heard_from(cp_id)
            peer.version = version
            if request.from_address and request.from_address != peer.address:
                # another host may be using this identity: the operator should know
                log.warning(
                    f"WARNING : ChargePoint #{cp_id} changed its From address: now called back"
                    f" at {request.from_address} (was {peer.address})",
                    self.speaker,
                )
                peer.address = request.from_address
            return peer
        while 0 < self.max_charge_boxes <= len(self.peers) and self._heard:
            oldest = next(iter(self._heard))
            await self._forget(oldest, f"{self.max_charge_boxes} charge boxes known already")
        peer = SoapPeer(
            version=version,
            service="cp",
            speaker=self.speaker,
            label=f"cp#{cp_id}",
            charge_point_id=cp_id,
            address=request.from_address,
            client=self._client,
            print_xml=self.print_xml,
            on_result=self._on_answer,
            variant=self.variant,
        )
        self.peers[cp_id] = peer
        self._heard_from(cp_id)
        log.event(self.speaker, f"ChargePoint #{cp_id} connected.")
        if request.from_address is None:
            log.warning(
                f"WARNING : ChargePoint #{cp_id} sent no From address: remote actions to it"
                " are not possible",
                self.speaker,
            )
        await self.behaviour.connection("connected", cp_id)
        return peer


# ------------------------------------------------------------------------- Charge Point


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


class SoapChargePoint:
    """A Charge Point over SOAP: posts to the CS URL, answers its CALLs on a local server."""

    transport = "soap"

    def __init__(
        self,
        url: str,
        charge_point_id: str,
        *,
        protocol: str = default().subprotocol,
        ping_interval: float = 0,
        variant: str | None = None,
        behaviour: Behaviour | None = None,
        print_xml: PrintXml = lambda: False,
        from_url: str | None = None,
        remote_port: int | None = None,
        host: str | None = None,
        limits: HttpLimits | None = None,
    ):
        version = by_subprotocol(protocol).name  # UnknownVersion (an OcppSimError) names them
        scheme = urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise OcppSimError(f"Error: a SOAP Central System URL is http(s)://…, not `{url}'.")
        problem = url_problem(url, HTTP_SCHEMES)
        if problem is not None:
            raise OcppSimError(f"Error: invalid URL {url!r}: {problem}.")
        self.url = url
        self.charge_point_id = charge_point_id
        self.protocol = protocol
        self.version = version
        self.variant = variant
        self.speaker = f"cp#{charge_point_id}"
        self.behaviour = behaviour or Behaviour("cp")
        #: its configuration keys, kept as long as it runs, like a real Charge Point's
        self.configuration = Configuration.for_version(version)
        self.print_xml = print_xml
        self.pinger = Pinger(ping_interval)  # stored only: SOAP has no pings
        self.from_url = from_url
        self.listen_port = _listen_port(from_url, remote_port)
        self.host = host
        self.peer: Peer | None = None
        self._client = HttpClient()
        path = urlsplit(from_url).path if from_url else "/"
        self._responder = SoapResponder(
            service="cp",
            versions=lambda: (self.version,),
            speaker=self.speaker,
            label=lambda request: "cs",
            identify=self._identify,
            behaviour=self.behaviour,
            print_xml=print_xml,
            variant=variant,
            local=self.configuration.answer,
        )
        self._server = HttpServer(host, self.listen_port, path, self._responder.respond, limits)
        self._settled = asyncio.Event()
        self._failure: str | None = None
        self._task: asyncio.Task[None] | None = None
        #: told when the charge point gives up for good (the simulator forgets it)
        self.on_gave_up: Callable[[], None] | None = None

    @property
    def connected(self) -> bool:
        return self.peer is not None

    def start(self) -> None:
        """Start the callback server in the background (`ready()` waits for it)."""
        self._task = asyncio.create_task(self._run(), name=f"charge point {self.speaker}")

    async def _run(self) -> None:
        local = None
        if not self.from_url:
            local = await asyncio.to_thread(local_address_towards, self.url)
        try:
            port = await self._listen(local)
        except OSError as exc:
            self._failure = f"cannot listen on port {self.listen_port}: {exc.strerror or exc}"
            log.error(f"Error: SOAP Server {self._failure}", self.speaker)
            if self.on_gave_up is not None:
                self.on_gave_up()
            log.event(
                self.speaker, "Charge point removed: fix its URL or options and start_cp it again."
            )
            self._settled.set()
            return
        from_address = self.from_url or f"http://{local}:{port}/"
        self.peer = SoapPeer(
            version=self.version,
            service="cs",
            speaker=self.speaker,
            label="cs",
            charge_point_id=self.charge_point_id,
            address=self.url,
            client=self._client,
            print_xml=self.print_xml,
            from_address=from_address,
            on_result=self._on_result,
            variant=self.variant,
        )
        self.peer.configuration = self.configuration
        log.event(self.speaker, f"SOAP Server listening on port {port}")
        log.event(self.speaker, f"Central System at {self.url}, From address {from_address}")
        self._settled.set()
        await self._tell("connected")

    async def _on_result(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        self.configuration.heard(action, result)
        await self.behaviour.result(peer, action, request, result)

    async def _listen(self, local: str | None) -> int:
        """Start the callback server on the host of the address the CS is told (`-f`'s, or
        `local`), not on every interface; `host` when given wins. An `-f` host that is no
        address of this machine (a port mapping, a NAT) means every interface."""
        server = self._server
        if self.host is not None:
            return await server.start()
        bind_host = urlsplit(self.from_url).hostname if self.from_url else local
        server.host = bind_host
        try:
            return await server.start()
        except OSError as exc:
            resolved = not isinstance(exc, socket.gaierror)
            if not self.from_url or not bind_host or (resolved and exc.errno != EADDRNOTAVAIL):
                raise
        server.host = None
        port = await server.start()
        log.event(
            self.speaker,
            f"{bind_host} (-f) is not an address of this machine: listening on every interface",
        )
        return port

    async def _tell(self, state: str) -> None:
        """Tell the connection listeners; a plugin's OCPP error is reported, not raised."""
        try:
            await self.behaviour.connection(state, self.charge_point_id)
        except OcppError as exc:
            log.error(f"Error: {state} listener failed: {exc}", self.speaker)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})  # our own cancellation still propagates
        await self._server.stop()
        await self._client.close()
        if self.peer is not None:
            self.peer = None
            await self._tell("disconnected")

    async def ready(self) -> Peer:
        """The link to the CS, once the callback server listens (NotConnected if it cannot)."""
        if not self._settled.is_set():
            await self._settled.wait()
        if self.peer is None:
            raise NotConnected(f"Error: not connected to any central system ({self._failure}).")
        return self.peer

    async def _identify(self, request: SoapRequest, version: str) -> Peer:
        """Every request to a Charge Point comes from its Central System, addressed to it."""
        box = request.charge_box_id
        if box and box != self.charge_point_id:
            raise OcppError(
                "SecurityError", f"this is charge box {self.charge_point_id}, not {box}"
            )
        return await self.ready()


def _header_of(envelope: etree._Element, name: str) -> str | None:
    """The text of the first header block called `name` of any namespace."""
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    node = header.find(f"{{*}}{name}") if header is not None else None
    text = (node.text or "").strip() if node is not None else ""
    return text or None


def _charge_box_of(envelope: etree._Element) -> str | None:
    """The chargeBoxIdentity header of an envelope whose body could not be read."""
    for node in envelope.iter("{*}chargeBoxIdentity"):
        text = (node.text or "").strip()
        return text or None
    return None
