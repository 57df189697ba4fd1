"""The SOAP simulators in-process (SPEC §7): a CS and a CP of ocppsim over real HTTP on
127.0.0.1, every action both ways, SOAP Faults for bad requests, and a zeep client as an
independent SOAP peer.
"""

from __future__ import annotations

import asyncio
import datetime
import re
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from lxml import etree
from ocppsim_testing import Lines

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import NotSupportedAnswer, OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.core.validation import validate
from ocppsim.core.versions import wsdl_path
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.log import LogConsumer
from ocppsim.sim.peer import CallFailed
from ocppsim.sim.soap import SoapLink
from ocppsim.soap import CONTENT_TYPE, MAX_XML_BYTES, get_codec, parse_envelope, parse_fault
from ocppsim.transport.http import local_address_towards

VERSIONS = tuple(entry.name for entry in versions.with_transport("soap"))
#: the actions each service carries over SOAP (1.6: the core ones)
ACTIONS = {
    e.name: {s: e.actions_over("soap", s) for s in ("cs", "cp")} for e in versions.all_versions()
}
WSA = "http://www.w3.org/2005/08/addressing"

BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://www.w3.org/2003/05/soap-envelope"><soap:Body>
<lolz>&lol3;</lolz></soap:Body></soap:Envelope>"""


def run(coro: Awaitable[Any]) -> Any:
    """Run one test coroutine with an overall bound."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, 30)

    return asyncio.run(bounded())


@asynccontextmanager
async def central_system(**options: Any) -> AsyncIterator[CentralSystem]:
    cs = CentralSystem(0, transport="soap", host="127.0.0.1", **options)
    await cs.start()
    try:
        yield cs
    finally:
        await cs.stop()


@asynccontextmanager
async def charge_point(
    cs_url: str, cp_id: str = "box", **options: Any
) -> AsyncIterator[ChargePoint]:
    cp = ChargePoint(cs_url, cp_id, transport="soap", host="127.0.0.1", **options)
    cp.start()
    try:
        yield cp
    finally:
        await cp.stop()


def _no_empty_lists(value: Any) -> Any:
    """What survives XML: an empty list is no element at all."""
    if isinstance(value, dict):
        return {k: _no_empty_lists(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_no_empty_lists(v) for v in value]
    return value


def _recorder(seen: dict[str, Any]) -> Callable[[str], Callable[[Any], None]]:
    def for_action(action: str) -> Callable[[Any], None]:
        def record(payload: Any) -> None:
            seen[action] = payload

        return record

    return for_action


# ----------------------------------------------------------------------------- both ways


@pytest.mark.parametrize("version", VERSIONS)
def test_every_action_both_ways(version: str, lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system(versions=(f"ocpp{version}",)) as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "box", version=version) as cp:
                peer = await cp.ready()
                received: dict[str, Any] = {}
                for action in ACTIONS[version]["cs"]:
                    cs.behaviour.call_handlers[action] = [_recorder(received)(action)]
                for action in ACTIONS[version]["cp"]:
                    cp.behaviour.call_handlers[action] = [_recorder(received)(action)]

                for action in ACTIONS[version]["cs"]:
                    request = default_payload(version, action + "Request")
                    result = await peer.call(action, request)
                    assert validate(version, action + "Response", result) is None, action
                    assert received.pop(action) == _no_empty_lists(request)
                    assert lines.matching(rf"cp#box: >>cs /{action} \{{")
                    assert lines.matching(rf"cs: <<cp#box /{action} \{{")
                    assert lines.matching(rf"cs: >>cp#box /{action} \{{")
                    assert lines.matching(rf"cp#box: <<cs /{action} \{{")

                remote = cs.peers["box"]
                assert remote.version == version and remote.transport == "soap"
                assert isinstance(remote.link, SoapLink) and isinstance(peer.link, SoapLink)
                assert remote.link.address == peer.link.from_address  # From is always sent
                for action in ACTIONS[version]["cp"]:
                    request = default_payload(version, action + "Request")
                    clock = time.time()  # answers' dates are those of the second they are made
                    result = await remote.call(action, request)
                    expected = [
                        _no_empty_lists(default_payload(version, action + "Response", clock=at))
                        for at in (lambda started=clock: started, time.time)
                    ]
                    assert result in expected, action
                    assert received.pop(action) == _no_empty_lists(request)
                    assert lines.matching(rf"cs: >>cp#box /{action} \{{")
                    assert lines.matching(rf"cp#box: <<cs /{action} \{{")
        assert len(lines.matching(r"cs: ChargePoint #box connected\.$")) == 1
        assert lines.problems() == []

    run(scenario())


def test_log_lines_and_print_xml(lines: Lines) -> None:
    show = {"cs": False, "cp": False}
    bus = EventBus(LogConsumer(print_xml=show.__getitem__))  # print_xml: a choice of the log

    async def scenario() -> None:
        async with central_system(bus=bus) as cs:
            url = f"http://127.0.0.1:{cs.port}"
            async with charge_point(url, "b1", bus=bus) as cp:
                peer = await cp.ready()
                await peer.call("Heartbeat", {})
                show["cp"] = True
                await peer.call("Heartbeat", {})
                show["cs"] = True
                await cs.peers["b1"].call("ClearCache", {})

    run(scenario())
    rendered = list(lines.lines)
    listening = [line for line in rendered if "SOAP Server listening on port" in line]
    assert [line.split("] ")[1].split(":")[0] for line in listening] == ["cs", "cp#b1"]
    assert lines.matching(r"\] CentralSystem started\.$")
    assert lines.matching(r"cp#b1: >>cs /Heartbeat \{\}$")
    assert lines.matching(r'cs: >>cp#b1 /Heartbeat \{"currentTime":"[^"]+Z"\}$')
    xml_sent = lines.matching(r"cp#b1: >>cs <\?xml .*<soap:Envelope .*heartbeatRequest")
    assert len(xml_sent) == 1 and "\n" not in xml_sent[0]
    assert "<wsa:From><wsa:Address>http://127.0.0.1:" in xml_sent[0]
    assert lines.matching(r"cp#b1: <<cs <\?xml .*RelatesTo.*heartbeatResponse")
    assert lines.matching(r"cs: >>cp#b1 <\?xml .*clearCacheRequest")
    assert lines.problems() == []


def test_one_cs_serves_a_12_and_a_15_charge_point(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with (
                charge_point(url, "old", version="ocpp1.2") as old,
                charge_point(url, "new", version="ocpp1.5") as new,
            ):
                await (await old.ready()).call("Heartbeat", {})
                await (await new.ready()).call("DataTransfer", {"vendorId": "x"})
                assert (cs.peers["old"].version, cs.peers["new"].version) == ("1.2", "1.5")
                assert "listVersion" in await cs.peers["new"].call("GetLocalListVersion", {})
                await cs.peers["old"].call("UnlockConnector", {"connectorId": 1})

    run(scenario())
    assert lines.problems() == []


@pytest.mark.parametrize("version", ["1.5", "1.6"])
def test_the_soap_central_system_answers_from_its_state_as_over_ocpp_j(
    version: str, lines: Lines
) -> None:
    """One pipeline: over SOAP too, transaction ids count from 1, a reserved test tag gets its
    status (and --accept-tags refuses the others), an unknown vendorId UnknownVendorId."""

    async def scenario() -> None:
        async with central_system(accept_tags=["B4F62CEF"]) as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "box", version=f"ocpp{version}") as cp:
                peer = await cp.ready()
                start = default_payload(version, "StartTransactionRequest")
                first = await peer.call("StartTransaction", start)
                second = await peer.call("StartTransaction", {**start, "idTag": "ABC"})
                assert (first["transactionId"], second["transactionId"]) == (1, 2)
                assert first["idTagInfo"]["status"] == "Accepted"
                assert second["idTagInfo"]["status"] == "Invalid"  # not in --accept-tags
                blocked = await peer.call("Authorize", {"idTag": "BLOCKED-1"})
                assert blocked["idTagInfo"]["status"] == "Blocked"
                other = {"vendorId": "org.other", "messageId": "m", "data": ""}
                assert (await peer.call("DataTransfer", other))["status"] == "UnknownVendorId"
                ours = default_payload(version, "DataTransferRequest")  # fr.tm.cnr
                assert (await peer.call("DataTransfer", ours))["status"] == "Accepted"
                assert cs.model is not None and cs.model.open_transactions("box") == [1, 2]

    run(scenario())
    assert lines.problems() == []


def test_a_soap_charge_point_keeps_its_configuration(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "box") as cp:
                boot = {"chargePointVendor": "v", "chargePointModel": "m"}
                await (await cp.ready()).call("BootNotification", boot)  # the CS gives 1200
                remote = cs.peers["box"]
                change = {"key": "HeartbeatInterval", "value": "60"}
                assert await remote.call("ChangeConfiguration", change) == {"status": "Accepted"}
                got = await remote.call("GetConfiguration", {"key": ["HeartbeatInterval", "X"]})
                assert got == {
                    "configurationKey": [
                        {"key": "HeartbeatInterval", "readonly": False, "value": "60"}
                    ],
                    "unknownKey": ["X"],
                }
                change = {"key": "KVCBX_PROFILE", "value": "x"}
                assert await remote.call("ChangeConfiguration", change) == {"status": "Rejected"}

    run(scenario())
    assert lines.problems() == []


def test_from_is_sent_with_f_and_a_new_from_updates_the_callback(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "a", remote_port=0) as first:
                await (await first.ready()).call("Heartbeat", {})
                old_address = cs.peers["a"].link.address  # type: ignore[attr-defined]
            # the same box id, restarted elsewhere, with an explicit -f
            probe = ChargePoint(url, "a", transport="soap", host="127.0.0.1")
            probe.start()
            await probe.ready()
            port = probe.client.server.port
            await probe.stop()
            from_url = f"http://127.0.0.1:{port}/cb"
            async with charge_point(url, "a", from_url=from_url) as second:
                peer = await second.ready()
                assert peer.link.from_address == from_url  # type: ignore[attr-defined]
                await peer.call("Heartbeat", {})
                assert cs.peers["a"].link.address == from_url  # type: ignore[attr-defined]
                assert old_address != from_url
                assert await cs.peers["a"].call("ClearCache", {}) == {"status": "Accepted"}

    run(scenario())
    # another host may be using the identity: a WARNING line, with both addresses
    changed = (
        r"cs: WARNING : ChargePoint #a changed its From address: now called back at "
        r"http://127\.0\.0\.1:\d+/cb \(was http://127\.0\.0\.1:\d+/\)$"
    )
    assert len(lines.matching(changed)) == 1
    assert lines.problems() == lines.matching(changed)


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("file:///etc/passwd", "the URL must start with http:// or https://"),
        ("javascript:alert(1)", "the URL must start with http:// or https://"),
        ("http:///cb", "it names no host"),
    ],
)
def test_a_from_address_no_request_can_reach_is_named_when_called(address: str, why: str) -> None:
    """A box whose From address is no http(s) URL is registered (its requests are answered)
    but a remote action to it said `HTTP request to file:///etc/passwd failed:
    file:///etc/passwd`: now it says which address and why it cannot be called."""

    async def scenario() -> str:
        async with central_system() as cs:
            body = get_codec("1.6", "cs").build_request(
                "Heartbeat",
                {},
                charge_box_id="odd",
                to="http://127.0.0.1/",
                message_id="urn:uuid:" + str(uuid.uuid4()),
                from_address=address,
            )
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{cs.port}/"
                headers = {"Content-Type": CONTENT_TYPE}
                async with http.post(url, data=body, headers=headers) as response:
                    assert response.status == 200, await response.text()
            with pytest.raises(CallFailed) as failed:
                await cs.peers["odd"].call("ClearCache", {})
            return failed.value.reason

    reason = run(scenario())
    assert reason == f"ChargePoint #odd's From address {address} cannot be called: {why}"


# ----------------------------------------------------------------------------- faults


def _request(action: str, payload: dict[str, Any], version: str = "1.5", box: str = "f1") -> bytes:
    return get_codec(version, "cs").build_request(
        action,
        payload,
        charge_box_id=box,
        to="http://127.0.0.1/",
        message_id="urn:uuid:" + str(uuid.uuid4()),
    )


def _heartbeat() -> bytes:
    return _request("Heartbeat", {})


def _unknown_action() -> bytes:
    body = _heartbeat().replace(b"heartbeatRequest", b"fooRequest")
    return body.replace(b"/Heartbeat<", b"/Foo<")


def _wrong_type() -> bytes:
    payload = default_payload("1.5", "StartTransactionRequest")
    body = _request("StartTransaction", payload)
    return body.replace(b"<tns:connectorId>2<", b"<tns:connectorId>two<")


def _too_long() -> bytes:
    return _request("Authorize", {"idTag": "X" * 21})


def _version_12() -> bytes:
    return _request("Heartbeat", {}, version="1.2")


def _no_box_id() -> bytes:
    body = _heartbeat()
    return re.sub(rb"<tns:chargeBoxIdentity[^>]*>f1</tns:chargeBoxIdentity>", b"", body)


FAULT_CASES = {
    "bad-xml": (lambda: b"<soap:Envelope><oops", "FormationViolation", 400),
    "not-soap": (lambda: b"<hello/>", "FormationViolation", 400),
    "entity-bomb": (lambda: BOMB, "FormationViolation", 400),
    "oversize": (lambda: _heartbeat() + b" " * MAX_XML_BYTES, "FormationViolation", 400),
    "unknown-action": (_unknown_action, "NotImplemented", 400),
    "wrong-type": (_wrong_type, "TypeConstraintViolation", 400),
    "schema-maxLength": (_too_long, "TypeConstraintViolation", 400),
    "missing-field": (
        lambda: (
            _heartbeat()
            .replace(b"<tns:heartbeatRequest/>", b"<tns:authorizeRequest/>")
            .replace(b"/Heartbeat<", b"/Authorize<")
        ),
        "OccurenceConstraintViolation",
        400,
    ),
    "ocpp1.2-to-a-1.5-cs": (_version_12, "NotSupported", 400),
    "no-chargeBoxIdentity": (_no_box_id, "ProtocolError", 400),
    "chargeBoxIdentity-too-long": (
        lambda: _request("Heartbeat", {}, box="B" * 256),
        "ProtocolError",
        400,
    ),
}


async def _post(url: str, body: bytes) -> tuple[int, bytes]:
    status, answer, _ = await _post_as(url, body, CONTENT_TYPE)
    return status, answer


async def _post_as(url: str, body: bytes, content_type: str | None) -> tuple[int, bytes, str]:
    """POST `body` with that Content-Type (none when None): status, body, Content-Type."""
    async with aiohttp.ClientSession(skip_auto_headers=["Content-Type"]) as session:
        headers = {"Content-Type": content_type} if content_type is not None else {}
        async with session.post(url, data=body, headers=headers) as response:
            return response.status, await response.read(), response.headers["Content-Type"]


@pytest.mark.parametrize("case", list(FAULT_CASES))
def test_bad_requests_get_a_fault_and_the_server_stays_up(case: str, lines: Lines) -> None:
    make, code, status = FAULT_CASES[case]

    async def scenario() -> None:
        async with central_system(versions=("ocpp1.5",)) as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            got_status, body = await _post(url, make())
            assert (got_status, parse_fault(body)[0]) == (status, code)
            got_status, body = await _post(url, _heartbeat())
            assert got_status == 200
            assert "currentTime" in get_codec("1.5", "cs").parse_response(body, "Heartbeat")

    run(scenario())
    assert lines.matching(rf'cs: >>cp#\S+ (/\w+ )?Fault \{{"code":"{code}"')
    assert lines.matching(r"cs: >>cp#f1 /Heartbeat \{")
    if case in ("wrong-type", "unknown-action"):  # unreadable body, readable header
        assert lines.matching(rf'cs: >>cp#f1 (/\w+ )?Fault \{{"code":"{code}"')


SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"


def _soap11_heartbeat() -> bytes:
    """What a SOAP 1.1 client would send: the same body in a SOAP 1.1 Envelope."""
    return _heartbeat().replace(SOAP12_ENV.encode(), SOAP11_ENV.encode())


def _fault_code_of(body: bytes) -> tuple[str, str]:
    """(Envelope namespace, Code Value or faultcode) of a SOAP 1.1 or 1.2 Fault."""
    root = etree.fromstring(body)
    namespace = etree.QName(root).namespace or ""
    if namespace == SOAP11_ENV:
        return namespace, root.findtext(f".//{{{SOAP11_ENV}}}Fault/faultcode") or ""
    return namespace, root.findtext(f".//{{{SOAP12_ENV}}}Code/{{{SOAP12_ENV}}}Value") or ""


# (body, Content-Type) -> (HTTP status, Content-Type answered, envelope namespace, code)
MEDIA_CASES: dict[str, tuple[Callable[[], bytes], str | None, int, str, str, str]] = {
    "soap12-with-action": (
        _heartbeat,
        'application/soap+xml; charset=utf-8; action="/Heartbeat"',
        200,
        "application/soap+xml",
        SOAP12_ENV,
        "",
    ),
    "soap12-upper-case": (_heartbeat, "Application/SOAP+XML", 200, "application/soap+xml", "", ""),
    "no-content-type": (_heartbeat, None, 415, "text/plain", "", ""),
    "text-plain": (_heartbeat, "text/plain", 415, "text/plain", "", ""),
    "json": (lambda: b'[2,"1","Heartbeat",{}]', "application/json", 415, "text/plain", "", ""),
    # text/xml is SOAP 1.1's media type: a SOAP 1.2 Envelope in it is refused...
    "soap12-as-text-xml": (_heartbeat, "text/xml; charset=utf-8", 415, "text/plain", "", ""),
    # ...a SOAP 1.1 Envelope gets the SOAP 1.1 VersionMismatch it can read (Appendix A)
    "soap11-as-text-xml": (
        _soap11_heartbeat,
        "text/xml; charset=utf-8",
        500,
        "text/xml",
        SOAP11_ENV,
        "soap11:VersionMismatch",
    ),
    "soap11-as-soap12-type": (
        _soap11_heartbeat,
        CONTENT_TYPE,
        500,
        "text/xml",
        SOAP11_ENV,
        "soap11:VersionMismatch",
    ),
    "unknown-envelope-namespace": (
        lambda: _heartbeat().replace(SOAP12_ENV.encode(), b"urn:soap:2"),
        CONTENT_TYPE,
        500,
        "application/soap+xml",
        SOAP12_ENV,
        "soap:VersionMismatch",
    ),
}


@pytest.mark.parametrize("case", list(MEDIA_CASES))
def test_content_type_and_soap_version(case: str, lines: Lines) -> None:
    """SOAP 1.2 Part 2 §7.5.2.2: a request that is not application/soap+xml gets 415; an
    Envelope of another SOAP version gets a VersionMismatch Fault, HTTP 500."""
    make, content_type, status, answered_type, namespace, code = MEDIA_CASES[case]

    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            got_status, body, got_type = await _post_as(url, make(), content_type)
            assert (got_status, got_type.split(";")[0]) == (status, answered_type)
            if status == 415:
                assert b"a SOAP 1.2 request is application/soap+xml" in body
            elif namespace:
                assert _fault_code_of(body) == (namespace, code)
            assert (await _post(url, _heartbeat()))[0] == 200  # still serving

    run(scenario())
    if status == 415:
        assert lines.matching(r"cs: >>cp#\?@127\.0\.0\.1:\d+ HTTP 415 Unsupported Media Type")
    if code:
        assert lines.matching(r'cs: >>cp#\S+ Fault \{"code":"VersionMismatch"')


def test_an_unknown_mandatory_header_gets_a_must_understand_fault(lines: Lines) -> None:
    """SOAP 1.2 Part 1 §5.2.3/§5.4.8: a MustUnderstand Fault naming the block, HTTP 500;
    ocppsim's own headers (all sent with mustUnderstand) are understood."""
    security = b'<x:Security xmlns:x="urn:sec" soap:mustUnderstand="1"/></soap:Header>'

    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            request = _heartbeat()
            message_id = parse_envelope(request).findtext(f".//{{{WSA}}}MessageID")
            status, body = await _post(url, request.replace(b"</soap:Header>", security))
            assert status == 500
            root = parse_envelope(body)
            assert _fault_code_of(body) == (SOAP12_ENV, "soap:MustUnderstand")
            (block,) = root.iterfind(f".//{{{SOAP12_ENV}}}NotUnderstood")
            prefix, _, local = (block.get("qname") or "").partition(":")
            assert (block.nsmap[prefix], local) == ("urn:sec", "Security")
            assert root.findtext(f".//{{{WSA}}}RelatesTo") == message_id
            assert "f1" not in cs.peers  # refused before anything was processed
            assert (await _post(url, request))[0] == 200

    run(scenario())
    assert lines.matching(r'cs: >>cp#f1 Fault \{"code":"MustUnderstand","reason":".*urn:sec')


# ----------------------------------------------------------------------------- the box table


def test_a_box_not_heard_from_is_forgotten_and_registered_again(lines: Lines) -> None:
    events: list[tuple[str, str]] = []

    async def scenario() -> None:
        async with central_system(forget_after=0.3) as cs:
            cs.behaviour.connection_listeners.append(lambda state, cp: events.append((state, cp)))
            url = f"http://127.0.0.1:{cs.port}/"
            assert (await _post(url, _request("Heartbeat", {}, box="idle")))[0] == 200
            assert list(cs.peers) == ["idle"]
            await lines.wait_for(r"cs: ChargePoint #idle forgotten \(not heard from for 0\.3 s\)")
            assert cs.peers == {}
            assert (await _post(url, _request("Heartbeat", {}, box="idle")))[0] == 200
            assert list(cs.peers) == ["idle"]

    run(scenario())
    assert len(lines.matching(r"cs: ChargePoint #idle connected\.$")) == 2
    assert events == [("connected", "idle"), ("disconnected", "idle"), ("connected", "idle")]


def test_the_box_table_is_capped_least_recently_heard_from_first(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system(max_charge_boxes=3) as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            for box in ("a", "b", "c", "a", "d", "e"):  # a is heard from again before d
                assert (await _post(url, _request("Heartbeat", {}, box=box)))[0] == 200
            assert sorted(cs.peers) == ["a", "d", "e"]
            assert len(cs.server._heard) == 3

    run(scenario())
    forgotten = lines.matching(r"cs: ChargePoint #\w forgotten \(3 charge boxes known already\)")
    assert [line.split("#")[1][0] for line in forgotten] == ["b", "c"]


def test_a_box_answering_the_cs_is_heard_from(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system(max_charge_boxes=2) as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "called") as cp:
                await (await cp.ready()).call("Heartbeat", {})
                assert (await _post(url, _request("Heartbeat", {}, box="x")))[0] == 200
                await cs.peers["called"].call("ClearCache", {})  # "called" is now the latest
                assert (await _post(url, _request("Heartbeat", {}, box="y")))[0] == 200
                assert sorted(cs.peers) == ["called", "y"]

    run(scenario())
    assert lines.matching(r"cs: ChargePoint #x forgotten")


def test_fault_relates_to_the_request() -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            body = _too_long()
            message_id = parse_envelope(body).findtext(f".//{{{WSA}}}MessageID")
            _, answer = await _post(f"http://127.0.0.1:{cs.port}/", body)
            assert parse_envelope(answer).findtext(f".//{{{WSA}}}RelatesTo") == message_id

    run(scenario())


def test_a_fault_tells_the_sender_which_field_broke_which_rule() -> None:
    """The Fault's Reason is the refusal's reason (field and rule), at most 255 characters."""

    async def scenario() -> list[tuple[str, str]]:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            faults = []
            for idtag in ("X" * 21, "X" * 5000):
                _, answer = await _post(url, _request("Authorize", {"idTag": idtag}))
                faults.append(parse_fault(answer))
            return faults

    (code, reason), (_, long_reason) = run(scenario())
    assert code == "TypeConstraintViolation"
    assert reason == "idTag: 'XXXXXXXXXXXXXXXXXXXXX' is longer than 20 characters"
    assert long_reason.startswith("idTag: 'XXXX") and len(long_reason) <= 255


def test_http_errors_outside_the_endpoint() -> None:
    async def scenario() -> None:
        async with central_system(endpoint="/ocpp") as cs:
            base = f"http://127.0.0.1:{cs.port}"
            assert (await _post(base + "/other", _heartbeat()))[0] == 404
            async with aiohttp.ClientSession() as session:
                async with session.get(base + "/ocpp") as response:
                    assert response.status == 405
            assert (await _post(base + "/ocpp", _heartbeat()))[0] == 200
            assert (await _post(base + "/ocpp/", _heartbeat()))[0] == 200

    run(scenario())


def test_handler_errors_become_faults(lines: Lines) -> None:
    def broken(payload: Any) -> None:
        raise RuntimeError("plugin bug")

    def refuse(payload: Any) -> None:
        raise NotSupportedAnswer()

    async def scenario() -> None:
        async with central_system() as cs:
            cs.behaviour.call_handlers["Heartbeat"] = [broken]
            cs.behaviour.call_handlers["Authorize"] = [refuse]
            url = f"http://127.0.0.1:{cs.port}/"
            status, body = await _post(url, _heartbeat())
            assert (status, parse_fault(body)[0]) == (500, "InternalError")
            status, body = await _post(url, _request("Authorize", {"idTag": "A"}))
            assert (status, parse_fault(body)[0]) == (400, "NotSupported")
            # an answer the WSDL cannot hold is our bug: InternalError, logged
            cs.behaviour.call_handlers["Heartbeat"] = [lambda payload: {"nope": 1}]
            status, body = await _post(url, _heartbeat())
            assert (status, parse_fault(body)[0]) == (500, "InternalError")
            # an answer that is not JSON (a datetime object): still a Fault, still serving
            now = datetime.datetime.now(datetime.timezone.utc)
            cs.behaviour.call_handlers["Heartbeat"] = [lambda payload: {"currentTime": now}]
            status, body = await _post(url, _heartbeat())
            assert (status, parse_fault(body)[0]) == (500, "InternalError")
            cs.behaviour.call_handlers["Heartbeat"] = []
            assert (await _post(url, _heartbeat()))[0] == 200

    run(scenario())
    assert lines.matching(r"cs: Error: handler for Heartbeat failed: RuntimeError")
    assert lines.matching(r"cs: Error: the Heartbeat answer \{\"nope\":1\} cannot be sent")
    # the same line as over OCPP-J: one pipeline answers both
    assert lines.matching(
        r"cs: Error: the Heartbeat answer \{'currentTime': datetime.* cannot be sent"
    )


def test_cp_sees_faults_and_invalid_results(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "w") as cp:
                peer = await cp.ready()
                with pytest.raises(CallFailed) as failed:
                    await peer.call("Authorize", {"idTag": "X" * 21})
                assert failed.value.error is not None
                assert failed.value.error.code == "TypeConstraintViolation"
                # the CP answers Reset with a status outside the enum: the CS warns
                cp.behaviour.call_handlers["Reset"] = [lambda payload: {"status": "Maybe"}]
                assert await cs.peers["w"].call("Reset", {"type": "Soft"}) == {"status": "Maybe"}

    run(scenario())
    assert lines.matching(r'cp#w: <<cs /Authorize Fault \{"code":"TypeConstraintViolation"')
    assert lines.matching(r"cs: WARNING : TypeConstraintViolation for CALLRETURN #urn:uuid:")


def test_send_without_validation_and_its_limits(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            async with charge_point(f"http://127.0.0.1:{cs.port}/", "s") as cp:
                peer = await cp.ready()
                # not validated before sending: the CS refuses it
                with pytest.raises(CallFailed) as failed:
                    await peer.call("Authorize", {"idTag": "X" * 30})
                assert failed.value.error is not None
                with pytest.raises(CallFailed, match="not an operation of the OCPP 1.5"):
                    await peer.call("Nope", {})
                with pytest.raises(CallFailed, match="cannot be built.*send_raw"):
                    await peer.call("Authorize", {})
                with pytest.raises(OcppSimError, match="not available in SOAP mode"):
                    await peer.ping()

    run(scenario())


def test_send_raw_posts_any_body_and_shows_headers(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            async with charge_point(f"http://127.0.0.1:{cs.port}/", "r") as cp:
                peer = await cp.ready()
                await peer.call("Heartbeat", {})  # registers "r" with its From address
                await peer.send_raw(_request("Heartbeat", {}, box="r").decode(), True)
                await peer.send_raw("not xml at all")
                await cs.peers["r"].send_raw("<x/>")

    run(scenario())
    assert lines.matching(r"cp#r: >>cs <\?xml ")
    assert lines.matching(r'cp#r: HTTP request: POST http://127\.0\.0\.1:\d+/ \{.*"Content-Type"')
    assert lines.matching(r"cp#r: HTTP response: 200 OK \{")
    assert lines.matching(r"cp#r: <<cs <\?xml .*heartbeatResponse")
    assert lines.matching(r"cp#r: >>cs not xml at all$")
    assert lines.matching(r"cp#r: <<cs <\?xml .*FormationViolation")
    assert lines.matching(r"cs: >>cp#r <x/>$")
    assert lines.matching(r'cp#r: >>cs Fault \{"code":"FormationViolation"')


def test_a_charge_point_refuses_requests_for_another_box(lines: Lines) -> None:
    def reset_for(box: str) -> str:
        return (
            get_codec("1.5", "cp")
            .build_request(
                "Reset",
                {"type": "Soft"},
                charge_box_id=box,
                to="http://127.0.0.1/",
                message_id="urn:uuid:" + str(uuid.uuid4()),
            )
            .decode()
        )

    async def scenario() -> None:
        async with central_system() as cs:
            async with charge_point(f"http://127.0.0.1:{cs.port}/", "mine") as cp:
                await (await cp.ready()).call("Heartbeat", {})
                await cs.peers["mine"].send_raw(reset_for("someone-else"))
                await cs.peers["mine"].send_raw(reset_for("mine"))

    run(scenario())
    assert lines.matching(r'cp#mine: >>cs /Reset Fault \{"code":"SecurityError".*not someone-else')
    assert lines.matching(r'cp#mine: >>cs /Reset \{"status":"Accepted"\}')


def test_unreachable_peers_and_timeouts(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            dead = f"http://127.0.0.1:{cs.port}/"
        async with charge_point(dead, "u") as cp:
            peer = await cp.ready()
            with pytest.raises(CallFailed, match="cannot connect to http://127.0.0.1"):
                await peer.call("Heartbeat", {})
            assert cp.connected

        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "slow") as cp:
                await (await cp.ready()).call("Heartbeat", {})
                release = asyncio.Event()

                async def stall(payload: Any) -> None:
                    await release.wait()

                cp.behaviour.call_handlers["ClearCache"] = [stall]
                remote = cs.peers["slow"]
                assert remote.transport == "soap"
                remote.timeout = 0.3
                with pytest.raises(CallFailed, match="timeout"):
                    await remote.call("ClearCache", {})
                release.set()
            # the CP is gone: its callback address refuses connections
            with pytest.raises(CallFailed, match="cannot connect"):
                await remote.call("ClearCache", {})

    run(scenario())
    assert lines.matching(r"cs: Error for the message #urn:uuid:\S+ : timeout")


def test_callback_port_in_use_is_reported(lines: Lines) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            async with charge_point(url, "busy", remote_port=cs.port) as cp:
                with pytest.raises(OcppSimError, match="not connected"):
                    await cp.ready()
                assert not cp.connected

    run(scenario())
    assert lines.matching(r"cp#busy: Connect Error: SOAP Server cannot listen on port \d+")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_callback_server_listens_on_the_address_it_advertises(lines: Lines) -> None:
    """Not on every interface: on the host of the From address (local CS: loopback)."""

    async def scenario() -> None:
        async with central_system() as cs:
            url = f"http://127.0.0.1:{cs.port}/"
            cp = ChargePoint(url, "here", transport="soap")  # no host: that of its From address
            cp.start()
            try:
                peer = await cp.ready()
                port = cp.client.server.port
                assert cp.client.server.addresses == [("127.0.0.1", port)]
                assert peer.link.from_address == f"http://127.0.0.1:{port}/"  # type: ignore[attr-defined]
                await peer.call("Heartbeat", {})
                assert await cs.peers["here"].call("ClearCache", {}) == {"status": "Accepted"}
            finally:
                await cp.stop()

            port = _free_port()
            cp = ChargePoint(url, "named", transport="soap", from_url=f"http://localhost:{port}/cb")
            cp.start()
            try:
                await (await cp.ready()).call("Heartbeat", {})
                addresses = cp.client.server.addresses
                assert {address for address, _ in addresses} <= {"127.0.0.1", "::1"}
                assert {p for _, p in addresses} == {port}
                assert await cs.peers["named"].call("ClearCache", {}) == {"status": "Accepted"}
            finally:
                await cp.stop()

    run(scenario())
    assert lines.problems() == lines.matching("changed its From address")


@pytest.mark.parametrize("host", ["192.0.2.1", "box.invalid"])
def test_a_from_host_that_is_not_local_means_every_interface(host: str, lines: Lines) -> None:
    """`-f` behind a port mapping or a NAT names an address this machine does not have."""

    async def scenario() -> None:
        async with central_system() as cs:
            from_url = f"http://{host}:9100/cb"
            cp = ChargePoint(
                f"http://127.0.0.1:{cs.port}/",
                "nat",
                transport="soap",
                from_url=from_url,
                remote_port=0,
            )
            cp.start()
            try:
                peer = await cp.ready()
                assert peer.link.from_address == from_url  # type: ignore[attr-defined]
                assert "0.0.0.0" in {address for address, _ in cp.client.server.addresses}
            finally:
                await cp.stop()

    run(scenario())
    assert lines.matching(
        rf"cp#nat: {re.escape(host)} \(-f\) is not an address of this machine: listening on"
        " every interface"
    )


def test_the_default_from_address_is_reachable_from_the_cs() -> None:
    assert local_address_towards("http://localhost:9000/") == "127.0.0.1"
    assert local_address_towards("http://127.0.0.1/") == "127.0.0.1"
    remote = local_address_towards("http://192.0.2.1:8080/ocpp")  # TEST-NET: never reached
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", remote)
    assert local_address_towards("http://host:notaport/") == "127.0.0.1"


# ----------------------------------------------------------------------------- zeep interop


def _zeep_client(version: str) -> Any:
    """A zeep client of our CS WSDL posting over real HTTP (the WSDL read from a local file).

    Our WSDL has the published one's wire facts (tests/gen/test_wsdl_equivalence.py), so a
    client of either sends the same envelopes (tests/soap/test_codec.py checks that too).
    """
    import zeep

    class LocalWsdlTransport(zeep.Transport):
        """Reads the WSDL from disk, never from the network; posts with requests."""

        def load(self, url: str) -> bytes:
            if "://" in url and not url.startswith("file://"):
                raise OSError(f"no network fetch of {url}")
            return Path(url.removeprefix("file://")).read_bytes()

    return zeep.Client(str(wsdl_path(version, "cs")), transport=LocalWsdlTransport(timeout=10))


def test_interop_zeep_client(lines: Lines) -> None:
    client = _zeep_client("1.5")
    import zeep.exceptions

    def talk(url: str) -> dict[str, Any]:
        binding = next(iter(client.wsdl.bindings))
        service = client.create_service(binding, url)
        headers = {"ChargeBoxIdentity": "zeep1"}
        boot = service.BootNotification(
            chargePointVendor="ACME", chargePointModel="Z", _soapheaders=headers
        )
        beat = service.Heartbeat(_soapheaders=headers)
        auth = service.Authorize(idTag="B4F62CEF", _soapheaders=headers)
        try:
            service.Authorize(idTag="X" * 30, _soapheaders=headers)
            fault: Any = None
        except zeep.exceptions.Fault as exc:
            fault = exc
        return {"boot": boot, "beat": beat, "auth": auth, "fault": fault}

    async def scenario() -> dict[str, Any]:
        async with central_system() as cs:
            got = await asyncio.to_thread(talk, f"http://127.0.0.1:{cs.port}/")
            assert cs.peers["zeep1"].version == "1.5"
            return got

    got = run(scenario())
    assert got["boot"].status == "Accepted" and got["boot"].heartbeatInterval == 1200
    assert got["beat"] is not None  # zeep unwraps the one-field body to the datetime
    assert got["auth"].status == "Accepted"
    fault = got["fault"]
    assert fault is not None
    subcodes = [getattr(q, "localname", str(q)) for q in (fault.subcodes or [])]
    assert subcodes == ["TypeConstraintViolation"]
    assert "longer than 20 characters" in fault.message
    assert lines.matching(r'cs: <<cp#zeep1 /BootNotification \{"chargePointVendor":"ACME"')
    assert lines.matching(r"cs: ChargePoint #zeep1 connected\.")
