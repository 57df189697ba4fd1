"""The SOAP envelope codec: JSON view round trips, headers, faults, hardening, zeep interop."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import subprocess
import sys
import time
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import reference_facts
from lxml import etree

from ocppsim.core import versions
from ocppsim.core.versions import wsdl_path
from ocppsim.soap.codec import (
    SoapCodec,
    SoapFaultError,
    _NoNetworkTransport,
    build_envelope_fault,
    build_fault,
    check_must_understand,
    get_codec,
    parse_envelope,
    parse_fault,
    request_version,
)
from ocppsim.soap.faults import MustUnderstandFault, VersionMismatchFault
from ocppsim.soap.xml import MAX_XML_BYTES, parse_xml

ACTIONS = {entry.name: entry.actions for entry in versions.all_versions()}

REPO = Path(__file__).resolve().parents[2]
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
NS = {
    ("1.2", "cs"): "urn://Ocpp/Cs/2010/08/",
    ("1.2", "cp"): "urn://Ocpp/Cp/2010/08/",
    ("1.5", "cs"): "urn://Ocpp/Cs/2012/06/",
    ("1.5", "cp"): "urn://Ocpp/Cp/2012/06/",
}
SERVICES = [(v, s) for v in ("1.2", "1.5") for s in ("cs", "cp")]
MESSAGES = [
    (v, s, action, kind)
    for v, s in SERVICES
    for action in ACTIONS[v][s]
    for kind in ("Request", "Response")
]

METER_15 = {
    "timestamp": "2013-03-07T16:52:16Z",
    "values": [
        {"value": "0", "unit": "Wh", "measurand": "Energy.Active.Import.Register"},
        {"value": "7", "context": "Sample.Periodic", "format": "Raw", "location": "Outlet"},
        {"value": "3"},
    ],
}
#: payloads written here so the round trips run without the reference data
HAND_WRITTEN: dict[tuple[str, str, str], dict[str, Any]] = {
    ("1.5", "BootNotification", "Request"): {
        "chargePointVendor": "DBT",
        "chargePointModel": "NQC-ACDC",
        "chargePointSerialNumber": "gir.vat.mx.000e48",
        "iccid": "",
        "imsi": "",
    },
    ("1.5", "BootNotification", "Response"): {
        "status": "Accepted",
        "currentTime": "2013-02-01T15:09:18Z",
        "heartbeatInterval": 1200,
    },
    ("1.2", "MeterValues", "Request"): {
        "connectorId": 2,
        "values": [
            {"timestamp": "2013-02-01T15:09:18Z", "value": 0},
            {"timestamp": "2013-02-01T15:09:18.250Z", "value": 20},
        ],
    },
    ("1.5", "MeterValues", "Request"): {"connectorId": 2, "transactionId": 7, "values": [METER_15]},
    ("1.5", "StopTransaction", "Request"): {
        "transactionId": 0,
        "idTag": "B4F62CEF",
        "timestamp": "2013-02-01T15:09:18Z",
        "meterStop": 20,
        "transactionData": [{"values": [METER_15, METER_15]}, {"values": [METER_15]}],
    },
    ("1.5", "Heartbeat", "Request"): {},
    ("1.2", "Heartbeat", "Response"): {"currentTime": "2013-02-01T15:09:18.000Z"},
    ("1.5", "Authorize", "Response"): {
        "idTagInfo": {
            "status": "Accepted",
            "expiryDate": "2013-02-01T15:09:18Z",
            "parentIdTag": "PARENT",
        }
    },
    ("1.5", "GetConfiguration", "Request"): {"key": ["A", "B"]},
    ("1.5", "GetConfiguration", "Response"): {
        "configurationKey": [
            {"key": "KVCBX_PROFILE", "readonly": True, "value": "NQC-ACDC"},
            {"key": "X", "readonly": False},
        ],
        "unknownKey": ["Y"],
    },
    ("1.5", "SendLocalList", "Request"): {
        "updateType": "Full",
        "listVersion": 1,
        "localAuthorisationList": [
            {"idTag": "044943121F1D80", "idTagInfo": {"status": "Accepted", "parentIdTag": ""}}
        ],
        "hash": "",
    },
    ("1.5", "DataTransfer", "Response"): {"status": "Accepted", "data": '{"a": [1, "<b>"]}'},
    ("1.2", "RemoteStartTransaction", "Request"): {"idTag": "044943121F1D80", "connectorId": 2},
}


def _service_of(version: str, action: str, hint: str) -> str:
    """The service whose WSDL holds `action` (DataTransfer is in both 1.5 services)."""
    return hint if action in ACTIONS[version][hint] else ("cp" if hint == "cs" else "cs")


@cache
def _original_payloads() -> dict[str, Any]:
    """The original's default payloads (committed facts), per version and message."""
    return reference_facts.original_payloads()["default"]


def _without_empty_lists(value: Any) -> Any:
    """`[]` and an absent repeated element are the same XML, so the JSON view drops `[]`."""
    if isinstance(value, dict):
        return {k: _without_empty_lists(v) for k, v in value.items() if v != []}
    if isinstance(value, list):
        return [_without_empty_lists(v) for v in value]
    return value


def _round_trip(codec: SoapCodec, action: str, kind: str, payload: dict[str, Any]) -> Any:
    """Build the envelope of `payload` and read it back."""
    if kind == "Request":
        data = codec.build_request(
            action, payload, charge_box_id="box01", to="http://cs/ocpp", message_id="urn:uuid:1"
        )
        request = codec.parse_request(data)
        assert request.action == action
        return request.payload
    data = codec.build_response(action, payload, charge_box_id="box01", relates_to="urn:uuid:1")
    return codec.parse_response(data, action)


def _request(codec: SoapCodec, action: str, payload: dict[str, Any]) -> bytes:
    """A request envelope with fixed headers."""
    return codec.build_request(
        action,
        payload,
        charge_box_id="box01",
        to="http://cs.example/ocpp",
        message_id="urn:uuid:42",
        from_address="http://cp.example:9103/",
    )


def _swap_body(data: bytes, old: bytes, new: bytes) -> bytes:
    """Edit an envelope's text (to forge an invalid one)."""
    assert old in data
    return data.replace(old, new, 1)


# ----------------------------------------------------------------------------- round trips


def test_codec_operations_match_the_action_catalog() -> None:
    for version, service in SERVICES:
        assert set(get_codec(version, service).actions) == set(ACTIONS[version][service])


@pytest.mark.parametrize(("version", "action", "kind"), sorted(HAND_WRITTEN))
def test_round_trip_hand_written(version: str, action: str, kind: str) -> None:
    payload = HAND_WRITTEN[(version, action, kind)]
    codec = get_codec(version, _service_of(version, action, "cs"))
    assert _round_trip(codec, action, kind, copy.deepcopy(payload)) == payload


@pytest.mark.parametrize(("version", "service", "action", "kind"), MESSAGES)
def test_round_trip_original_default_payloads(
    version: str, service: str, action: str, kind: str
) -> None:
    payload = _original_payloads()[version][action + kind]
    got = _round_trip(get_codec(version, service), action, kind, copy.deepcopy(payload))
    assert got == _without_empty_lists(payload)


def test_json_view_keeps_empty_strings_types_and_fractions() -> None:
    codec = get_codec("1.5", "cs")
    got = _round_trip(
        codec, "BootNotification", "Request", HAND_WRITTEN[("1.5", "BootNotification", "Request")]
    )
    assert got["iccid"] == "" and got["imsi"] == ""
    response = _round_trip(
        codec,
        "BootNotification",
        "Response",
        {"status": "Accepted", "currentTime": "2013-02-01T15:09:18.5Z", "heartbeatInterval": 60},
    )
    assert response == {
        "status": "Accepted",
        "currentTime": "2013-02-01T15:09:18.5Z",
        "heartbeatInterval": 60,
    }
    assert isinstance(response["heartbeatInterval"], int)
    config = _round_trip(
        get_codec("1.5", "cp"),
        "GetConfiguration",
        "Response",
        HAND_WRITTEN[("1.5", "GetConfiguration", "Response")],
    )
    assert config["configurationKey"][0]["readonly"] is True
    assert config["configurationKey"][1]["readonly"] is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013-02-01T17:09:18+02:00", "2013-02-01T15:09:18Z"),
        ("2013-02-01T15:09:18", "2013-02-01T15:09:18Z"),
        ("2013-02-01T15:09:18.000Z", "2013-02-01T15:09:18.000Z"),
        ("2013-02-01T14:09:18.123456-01:00", "2013-02-01T15:09:18.123456Z"),
    ],
)
def test_datetimes_become_utc_with_z(text: str, expected: str) -> None:
    codec = get_codec("1.5", "cs")
    data = _request(
        codec,
        "StartTransaction",
        {"connectorId": 1, "idTag": "A", "timestamp": "T", "meterStart": 0},
    )
    data = _swap_body(data, b">T<", f">{text}<".encode())
    assert codec.parse_request(data).payload["timestamp"] == expected


def test_meter_values_15_xml_shape() -> None:
    codec = get_codec("1.5", "cs")
    root = etree.fromstring(
        _request(codec, "MeterValues", HAND_WRITTEN[("1.5", "MeterValues", "Request")])
    )
    ns = NS[("1.5", "cs")]
    values = root.findall(f".//{{{ns}}}meterValuesRequest/{{{ns}}}values/{{{ns}}}value")
    assert [(v.text, dict(v.attrib)) for v in values] == [
        ("0", {"unit": "Wh", "measurand": "Energy.Active.Import.Register"}),
        ("7", {"context": "Sample.Periodic", "format": "Raw", "location": "Outlet"}),
        ("3", {}),
    ]


# ----------------------------------------------------------------------------- headers


def test_request_headers_and_body_element() -> None:
    codec = get_codec("1.5", "cs")
    data = _request(codec, "BootNotification", HAND_WRITTEN[("1.5", "BootNotification", "Request")])
    root = etree.fromstring(data)
    ns = NS[("1.5", "cs")]
    header = root.find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    assert header.findtext(f"{{{ns}}}chargeBoxIdentity") == "box01"
    assert header.findtext(f"{{{WSA}}}Action") == "/BootNotification"
    assert header.findtext(f"{{{WSA}}}To") == "http://cs.example/ocpp"
    assert header.findtext(f"{{{WSA}}}MessageID") == "urn:uuid:42"
    assert header.findtext(f"{{{WSA}}}From/{{{WSA}}}Address") == "http://cp.example:9103/"
    body = root.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None and body[0].tag == f"{{{ns}}}bootNotificationRequest"
    request = codec.parse_request(data)
    assert (request.action, request.charge_box_id, request.message_id) == (
        "BootNotification",
        "box01",
        "urn:uuid:42",
    )
    assert (request.to, request.from_address) == (
        "http://cs.example/ocpp",
        "http://cp.example:9103/",
    )


def test_request_without_from_has_no_from_header() -> None:
    codec = get_codec("1.2", "cp")
    data = codec.build_request(
        "Reset", {"type": "Soft"}, charge_box_id="b", to="http://cp/", message_id="m"
    )
    assert etree.fromstring(data).find(f".//{{{WSA}}}From") is None
    assert codec.parse_request(data).from_address is None
    assert codec.parse_request(data).charge_box_id == "b"


def test_the_headers_a_central_system_keeps_are_bounded() -> None:
    """A Central System keeps each box's chargeBoxIdentity and From for an hour: a peer
    must not make each of them cost a megabyte (100 boxes of 450,000-character ids took
    140 MB). Longer than 255 and 512 characters: a ProtocolError Fault saying so."""
    codec = get_codec("1.5", "cs")

    def request(box: str, address: str) -> bytes:
        return codec.build_request(
            "Heartbeat", {}, charge_box_id=box, to="t", message_id="m", from_address=address
        )

    longest = codec.parse_request(request("b" * 255, "http://h/" + "p" * 503))
    assert (len(longest.charge_box_id or ""), len(longest.from_address or "")) == (255, 512)
    code, reason = _fault_code(lambda: codec.parse_request(request("b" * 256, "http://h/")))
    assert (code, reason) == ("ProtocolError", "chargeBoxIdentity: longer than 255 characters")
    long_from = request("box", "http://h/" + "p" * 504)
    code, reason = _fault_code(lambda: codec.parse_request(long_from))
    assert (code, reason) == ("ProtocolError", "From Address: longer than 512 characters")


def test_response_headers_follow_the_wsdl_output_action() -> None:
    codec = get_codec("1.2", "cs")
    data = codec.build_response(
        "Heartbeat",
        {"currentTime": "2013-02-01T15:09:18Z"},
        charge_box_id="box01",
        relates_to="urn:uuid:42",
        message_id="urn:uuid:43",
    )
    header = etree.fromstring(data).find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    assert header.findtext(f"{{{WSA}}}Action") == "/HeartbeatResponse"
    assert header.findtext(f"{{{WSA}}}RelatesTo") == "urn:uuid:42"
    assert header.findtext(f"{{{NS[('1.2', 'cs')]}}}chargeBoxIdentity") == "box01"
    response = codec.parse_response_message(data, "Heartbeat")
    assert (response.relates_to, response.message_id, response.charge_box_id) == (
        "urn:uuid:42",
        "urn:uuid:43",
        "box01",
    )


def test_action_header_is_optional_body_element_decides() -> None:
    codec = get_codec("1.5", "cs")
    data = _request(codec, "Heartbeat", {})
    root = etree.fromstring(data)
    header = root.find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    root.remove(header)
    assert codec.parse_request(etree.tostring(root)).action == "Heartbeat"


def test_request_version_from_body_namespace() -> None:
    for version, service in SERVICES:
        codec = get_codec(version, service)
        action = {"cs": "Heartbeat", "cp": "ClearCache"}[service]
        data = _request(codec, action, {})
        assert request_version(data, service) == version
        assert request_version(data, "cp" if service == "cs" else "cs") is None


# ----------------------------------------------------------------------------- faults


def _fault_code(call: Any) -> tuple[str, str]:
    """Run `call`, expecting a SoapFaultError; its (code, reason)."""
    with pytest.raises(SoapFaultError) as info:
        call()
    return info.value.code, info.value.reason


@pytest.mark.parametrize(
    "data",
    [b"", b"not xml", b"<unclosed>", b"<a/><b/>", "<é/>".encode("latin-1") + b"\xff"],
)
def test_malformed_xml_is_formation_violation(data: bytes) -> None:
    code, _ = _fault_code(lambda: get_codec("1.5", "cs").parse_request(data))
    assert code == "FormationViolation"


def test_not_a_soap12_envelope_is_formation_violation() -> None:
    codec = get_codec("1.5", "cs")
    soap11 = (
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>'
    )
    assert _fault_code(lambda: codec.parse_request(soap11))[0] == "FormationViolation"
    with pytest.raises(SoapFaultError) as not_soap:
        codec.parse_request(b"<Body/>")
    assert not isinstance(not_soap.value, VersionMismatchFault)
    no_body = f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Header/></e:Envelope>'.encode()
    assert _fault_code(lambda: codec.parse_request(no_body))[0] == "FormationViolation"
    empty_body = f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body/></e:Envelope>'.encode()
    assert _fault_code(lambda: codec.parse_request(empty_body))[0] == "FormationViolation"


def _qname_value(node: etree._Element, value: str | None) -> str:
    """The Clark name a QName-valued text or attribute stands for, in `node`'s scope."""
    assert value is not None
    prefix, _, local = value.strip().rpartition(":")
    return f"{{{node.nsmap[prefix or None]}}}{local}"


def test_an_envelope_of_another_soap_version_is_a_version_mismatch() -> None:
    """SOAP 1.2 Part 1 §5.4.7: an Envelope in another namespace is a VersionMismatch;
    the nearest OCPP code (for a side reading it as an answer) stays FormationViolation."""
    soap11 = f'<e:Envelope xmlns:e="{SOAP11_ENV}"><e:Body/></e:Envelope>'.encode()
    with pytest.raises(VersionMismatchFault) as info:
        parse_envelope(soap11)
    assert info.value.soap11 and info.value.soap_code == "VersionMismatch"
    assert info.value.code == "FormationViolation"
    assert "SOAP 1.1" in info.value.reason
    other = b'<Envelope xmlns="urn:soap:2.0"><Body/></Envelope>'
    with pytest.raises(VersionMismatchFault) as info:
        parse_envelope(other)
    assert not info.value.soap11 and "urn:soap:2.0" in info.value.reason


def test_a_soap11_sender_gets_a_soap11_version_mismatch_fault_with_upgrade() -> None:
    """SOAP 1.2 Part 1 Appendix A: a SOAP 1.1 message is answered in SOAP 1.1, with an
    Upgrade header naming the SOAP 1.2 Envelope."""
    body, content_type = build_envelope_fault(VersionMismatchFault(SOAP11_ENV))
    assert content_type.startswith("text/xml")
    root = etree.fromstring(body)
    assert root.tag == f"{{{SOAP11_ENV}}}Envelope"
    fault = root.find(f"{{{SOAP11_ENV}}}Body/{{{SOAP11_ENV}}}Fault")
    assert fault is not None
    code = fault.find("faultcode")
    assert code is not None
    assert _qname_value(code, code.text) == f"{{{SOAP11_ENV}}}VersionMismatch"
    assert "SOAP 1.2 only" in (fault.findtext("faultstring") or "")
    supported = root.find(f".//{{{SOAP_ENV}}}Upgrade/{{{SOAP_ENV}}}SupportedEnvelope")
    assert supported is not None
    assert _qname_value(supported, supported.get("qname")) == f"{{{SOAP_ENV}}}Envelope"


def test_a_soap12_version_mismatch_fault_has_no_ocpp_subcode() -> None:
    body, content_type = build_envelope_fault(VersionMismatchFault("urn:x"), message_id="urn:1")
    assert content_type.startswith("application/soap+xml")
    root = parse_envelope(body)
    value = root.find(f".//{{{SOAP_ENV}}}Fault/{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Value")
    assert value is not None
    assert _qname_value(value, value.text) == f"{{{SOAP_ENV}}}VersionMismatch"
    assert root.find(f".//{{{SOAP_ENV}}}Subcode") is None
    assert root.find(f"{{{SOAP_ENV}}}Header/{{{SOAP_ENV}}}Upgrade") is not None
    # read back as an answer, it is no OCPP code: GenericError, saying what it was
    code, reason = parse_fault(body)
    assert code == "GenericError" and reason.startswith("VersionMismatch ")


def _with_header(data: bytes, block: str) -> bytes:
    """`data` with one more header block (namespaces soap, tns and wsa are in scope)."""
    return data.replace(b"</soap:Header>", block.encode() + b"</soap:Header>")


@pytest.mark.parametrize(
    ("block", "refused"),
    [
        ('<x:Security xmlns:x="urn:sec" soap:mustUnderstand="true"/>', True),
        ('<x:Security xmlns:x="urn:sec" soap:mustUnderstand=" 1 "/>', True),
        ('<x:Security xmlns:x="urn:sec" soap:mustUnderstand="false"/>', False),
        ('<x:Security xmlns:x="urn:sec" soap:mustUnderstand="0"/>', False),
        ('<x:Security xmlns:x="urn:sec"/>', False),
        # roles: `next` and `ultimateReceiver` are this node; `none` and others are not
        (
            '<x:Security xmlns:x="urn:sec" soap:mustUnderstand="1"'
            ' soap:role="http://www.w3.org/2003/05/soap-envelope/role/next"/>',
            True,
        ),
        (
            '<x:Security xmlns:x="urn:sec" soap:mustUnderstand="1"'
            ' soap:role="http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver"/>',
            True,
        ),
        (
            '<x:Security xmlns:x="urn:sec" soap:mustUnderstand="1"'
            ' soap:role="http://www.w3.org/2003/05/soap-envelope/role/none"/>',
            False,
        ),
        ('<x:Security xmlns:x="urn:sec" soap:mustUnderstand="1" soap:role="urn:gw"/>', False),
        # a WS-Addressing header ocppsim does not read, and one in another namespace
        ('<wsa:FaultTo soap:mustUnderstand="true"><wsa:Address/></wsa:FaultTo>', True),
        ('<a:Action xmlns:a="urn:not-wsa" soap:mustUnderstand="true">x</a:Action>', True),
        # the headers it understands, all mandatory at once
        (
            '<wsa:ReplyTo soap:mustUnderstand="true"><wsa:Address>http://r/</wsa:Address>'
            '</wsa:ReplyTo><wsa:RelatesTo soap:mustUnderstand="1">urn:uuid:1</wsa:RelatesTo>',
            False,
        ),
    ],
)
def test_must_understand(block: str, refused: bool) -> None:
    """SOAP 1.2 Part 1 §5.2.3: a mandatory header block for this node that ocppsim does not
    understand is a MustUnderstand Fault; chargeBoxIdentity and WS-Addressing are fine."""
    codec = get_codec("1.5", "cs")
    data = _request(codec, "Heartbeat", {})
    data = data.replace(b"<wsa:MessageID>", b'<wsa:MessageID soap:mustUnderstand="true">')
    data = data.replace(b"<wsa:From>", b'<wsa:From soap:mustUnderstand="1">')
    assert codec.parse_request(data).action == "Heartbeat"  # our own headers, all mandatory
    data = _with_header(data, block)
    if not refused:
        assert codec.parse_request(data).message_id == "urn:uuid:42"
        return
    with pytest.raises(MustUnderstandFault) as info:
        codec.parse_request(data)
    fault = info.value
    assert fault.soap_code == "MustUnderstand" and fault.code == "ProtocolError"
    assert len(fault.not_understood) == 1
    body, _ = build_envelope_fault(fault, relates_to="urn:uuid:42")
    root = parse_envelope(body)
    value = root.find(f".//{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Value")
    assert value is not None
    assert _qname_value(value, value.text) == f"{{{SOAP_ENV}}}MustUnderstand"
    assert root.find(f".//{{{SOAP_ENV}}}Subcode") is None
    (not_understood,) = root.iterfind(f"{{{SOAP_ENV}}}Header/{{{SOAP_ENV}}}NotUnderstood")
    assert _qname_value(not_understood, not_understood.get("qname")) == fault.not_understood[0]
    assert root.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}RelatesTo") == "urn:uuid:42"


def test_must_understand_names_every_block_and_refuses_a_non_boolean() -> None:
    codec = get_codec("1.2", "cp")
    data = _request(codec, "Reset", {"type": "Soft"})
    two = _with_header(
        data,
        '<x:A xmlns:x="urn:a" soap:mustUnderstand="1"/><y:B xmlns:y="urn:b"'
        ' soap:mustUnderstand="true"/>',
    )
    with pytest.raises(MustUnderstandFault) as info:
        check_must_understand(parse_envelope(two))
    assert info.value.not_understood == ("{urn:a}A", "{urn:b}B")
    assert "{urn:a}A, {urn:b}B" in info.value.reason
    body, _ = build_envelope_fault(info.value)
    names = parse_envelope(body).iterfind(f".//{{{SOAP_ENV}}}NotUnderstood")
    assert [_qname_value(node, node.get("qname")) for node in names] == ["{urn:a}A", "{urn:b}B"]
    maybe = _with_header(data, '<x:A xmlns:x="urn:a" soap:mustUnderstand="maybe"/>')
    assert _fault_code(lambda: codec.parse_request(maybe))[0] == "FormationViolation"


def test_billion_laughs_fails_fast_without_expansion() -> None:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY lol0 "lol">{entities}]>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><b>&lol9;</b></s:Body></s:Envelope>'
    ).encode()
    started = time.perf_counter()
    code, reason = _fault_code(lambda: get_codec("1.5", "cs").parse_request(bomb))
    assert time.perf_counter() - started < 0.5
    assert code == "FormationViolation" and "DOCTYPE" in reason
    assert "lollol" not in reason


def test_doctype_after_a_comment_is_still_refused() -> None:
    data = (
        f'<!-- <x> --><!DOCTYPE a [<!ENTITY e "x">]><s:Envelope xmlns:s="{SOAP_ENV}">'
        "<s:Body/></s:Envelope>"
    ).encode()
    assert _fault_code(lambda: parse_xml(data)) == ("FormationViolation", "DOCTYPE is not allowed")


def test_external_entity_is_never_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
        f'<s:Envelope xmlns:s="{SOAP_ENV}" xmlns:o="urn://Ocpp/Cs/2012/06/"><s:Body>'
        "<o:authorizeRequest><o:idTag>&xxe;</o:idTag></o:authorizeRequest></s:Body></s:Envelope>"
    ).encode()
    code, reason = _fault_code(lambda: get_codec("1.5", "cs").parse_request(xxe))
    assert code == "FormationViolation"
    assert "TOP-SECRET" not in reason


def test_oversize_body_is_refused_before_parsing() -> None:
    codec = get_codec("1.5", "cs")
    data = _request(codec, "DataTransfer", {"vendorId": "v", "data": "x" * MAX_XML_BYTES})
    assert len(data) > MAX_XML_BYTES
    code, reason = _fault_code(lambda: codec.parse_request(data))
    assert code == "FormationViolation" and "too large" in reason
    assert parse_xml(b"<a>" + b"x" * 100 + b"</a>", max_bytes=200).text == "x" * 100
    assert (
        _fault_code(lambda: parse_xml(b"<a>" + b"x" * 200 + b"</a>", max_bytes=200))[0]
        == "FormationViolation"
    )


def test_unknown_action_is_not_implemented() -> None:
    codec = get_codec("1.5", "cs")
    data = _request(codec, "Heartbeat", {})
    unknown_header = _swap_body(data, b">/Heartbeat<", b">/Teleport<")
    assert _fault_code(lambda: codec.parse_request(unknown_header))[0] == "NotImplemented"
    unknown_body = _swap_body(
        _swap_body(data, b">/Heartbeat<", b">/Teleport<"), b"heartbeatRequest", b"teleportRequest"
    ).replace(b"/tns:heartbeatRequest", b"/tns:teleportRequest")
    assert _fault_code(lambda: codec.parse_request(unknown_body))[0] == "NotImplemented"
    # an operation of the other service (Reset is the CP's) is not this service's
    reset = get_codec("1.5", "cp").build_request(
        "Reset", {"type": "Soft"}, charge_box_id="b", to="t", message_id="m"
    )
    assert _fault_code(lambda: codec.parse_request(reset)) == (
        "NotImplemented",
        "unknown action /Reset: a Central System does not answer `Reset'"
        " (a Charge Point does, OCPP 1.5)",
    )
    # a 1.2 body posted to the 1.5 service
    old = get_codec("1.2", "cs").build_request(
        "Heartbeat", {}, charge_box_id="b", to="t", message_id="m"
    )
    assert _fault_code(lambda: codec.parse_request(old))[0] == "NotImplemented"
    assert (
        _fault_code(
            lambda: codec.build_request("Teleport", {}, charge_box_id="b", to="t", message_id="m")
        )[0]
        == "NotImplemented"
    )


def test_action_header_that_contradicts_the_body_is_a_protocol_error() -> None:
    codec = get_codec("1.5", "cs")
    data = _swap_body(_request(codec, "Heartbeat", {}), b">/Heartbeat<", b">/BootNotification<")
    assert _fault_code(lambda: codec.parse_request(data))[0] == "ProtocolError"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<tns:connectorId>1</tns:connectorId>", b"<tns:connectorId>abc</tns:connectorId>"),
        (b"<tns:connectorId>1</tns:connectorId>", b"<tns:connectorId/>"),
        (b"<tns:connectorId>1</tns:connectorId>", b"<tns:connectorId><tns:x/></tns:connectorId>"),
        (b">2013-02-01T15:09:18Z<", b">yesterday<"),
        (b">2013-02-01T15:09:18Z<", b">2013-13-45T99:09:18Z<"),
    ],
)
def test_wrong_typed_field_is_type_constraint_violation(old: bytes, new: bytes) -> None:
    codec = get_codec("1.5", "cs")
    payload = {"connectorId": 1, "idTag": "A", "timestamp": "2013-02-01T15:09:18Z", "meterStart": 0}
    data = _swap_body(_request(codec, "StartTransaction", payload), old, new)
    code, reason = _fault_code(lambda: codec.parse_request(data))
    assert code == "TypeConstraintViolation"
    assert reason.startswith(("connectorId", "timestamp"))


def test_wrong_typed_boolean_is_type_constraint_violation() -> None:
    codec = get_codec("1.5", "cp")
    data = codec.build_response(
        "GetConfiguration",
        {"configurationKey": [{"key": "k", "readonly": True}]},
        charge_box_id="b",
        relates_to="m",
    )
    data = _swap_body(data, b">true<", b">maybe<")
    assert (
        _fault_code(lambda: codec.parse_response(data, "GetConfiguration"))[0]
        == "TypeConstraintViolation"
    )


def test_undefined_element_or_attribute_is_property_constraint_violation() -> None:
    codec = get_codec("1.5", "cs")
    data = _request(codec, "Authorize", {"idTag": "A"})
    extra = _swap_body(data, b"</tns:idTag>", b"</tns:idTag><tns:colour>red</tns:colour>")
    code, reason = _fault_code(lambda: codec.parse_request(extra))
    assert code == "PropertyConstraintViolation" and "colour" in reason
    meter = _request(codec, "MeterValues", HAND_WRITTEN[("1.5", "MeterValues", "Request")])
    meter = _swap_body(meter, b' unit="Wh"', b' unit="Wh" colour="red"')
    assert _fault_code(lambda: codec.parse_request(meter))[0] == "PropertyConstraintViolation"


def test_repeated_single_element_is_occurence_violation_and_missing_one_is_absent() -> None:
    codec = get_codec("1.5", "cs")
    data = _request(codec, "Authorize", {"idTag": "A"})
    twice = _swap_body(data, b"</tns:idTag>", b"</tns:idTag><tns:idTag>B</tns:idTag>")
    assert _fault_code(lambda: codec.parse_request(twice))[0] == "OccurenceConstraintViolation"
    missing = _swap_body(data, b"<tns:idTag>A</tns:idTag>", b"")
    assert codec.parse_request(missing).payload == {}


def test_build_refuses_payloads_the_schema_cannot_hold() -> None:
    codec = get_codec("1.5", "cs")
    build = codec.build_request
    kw: dict[str, Any] = {"charge_box_id": "b", "to": "t", "message_id": "m"}
    assert (
        _fault_code(lambda: build("Authorize", {"idTag": "A", "colour": "red"}, **kw))[0]
        == "PropertyConstraintViolation"
    )
    assert _fault_code(lambda: build("Authorize", {}, **kw))[0] == "OccurenceConstraintViolation"
    assert (
        _fault_code(lambda: build("Authorize", {"idTag": ["A"]}, **kw))[0]
        == "TypeConstraintViolation"
    )
    assert (
        _fault_code(lambda: build("MeterValues", {"connectorId": 1, "values": {"x": 1}}, **kw))[0]
        == "TypeConstraintViolation"
    )
    # values the XML can carry although they are invalid (sending them on purpose is allowed)
    assert codec.parse_request(build("Authorize", {"idTag": 12345}, **kw)).payload == {
        "idTag": "12345"
    }
    bad = build(
        "StatusNotification",
        {"connectorId": "abc", "status": "Available", "errorCode": "NoError"},
        **kw,
    )
    assert _fault_code(lambda: codec.parse_request(bad))[0] == "TypeConstraintViolation"


@pytest.mark.parametrize(
    "code",
    [
        "TypeConstraintViolation",
        "FormationViolation",
        "NotImplemented",
        "InternalError",
        "PropertyConstraintViolation",
    ],
)
def test_fault_round_trip(code: str) -> None:
    data = build_fault(code, f"reason for {code}", relates_to="urn:uuid:9")
    root = etree.fromstring(data)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    value = fault.findtext(f"{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Value")
    assert value is not None and value.endswith(":Sender")
    assert fault.findtext(f"{{{SOAP_ENV}}}Code/{{{SOAP_ENV}}}Subcode/{{{SOAP_ENV}}}Value") == code
    assert root.findtext(f"{{{SOAP_ENV}}}Header/{{{WSA}}}RelatesTo") == "urn:uuid:9"
    assert parse_fault(data) == (code, f"reason for {code}")
    codec = get_codec("1.2", "cs")
    assert codec.build_fault(code, "r") == build_fault(code, "r")
    with pytest.raises(SoapFaultError) as info:
        codec.parse_response(data, "Heartbeat")
    assert (info.value.code, info.value.reason) == (code, f"reason for {code}")


def test_foreign_fault_without_ocpp_subcode() -> None:
    data = (
        f'<e:Envelope xmlns:e="{SOAP_ENV}"><e:Body><e:Fault><e:Code><e:Value>e:Receiver</e:Value>'
        '</e:Code><e:Reason><e:Text xml:lang="en">boom</e:Text></e:Reason></e:Fault></e:Body>'
        "</e:Envelope>"
    ).encode()
    code, reason = parse_fault(data)
    assert code == "InternalError" and "boom" in reason
    assert (
        _fault_code(lambda: parse_fault(_request(get_codec("1.5", "cs"), "Heartbeat", {})))[0]
        == "FormationViolation"
    )


def test_response_of_another_action_is_a_protocol_error() -> None:
    codec = get_codec("1.5", "cs")
    data = codec.build_response(
        "Heartbeat", {"currentTime": "2013-02-01T15:09:18Z"}, charge_box_id="b", relates_to="m"
    )
    assert _fault_code(lambda: codec.parse_response(data, "Authorize"))[0] == "ProtocolError"


# ----------------------------------------------------------------------------- loading, layering


def test_codec_is_loaded_once_per_version_and_service() -> None:
    assert get_codec("1.5", "cs") is get_codec("1.5", "cs")
    assert get_codec("1.5", "cs") is not get_codec("1.5", "cp")
    with pytest.raises(ValueError):
        SoapCodec("9.9", "cs")


def test_zeep_transport_never_touches_the_network() -> None:
    transport = _NoNetworkTransport()
    for url in ("http://example.com/x.xsd", "https://example.com/x.wsdl"):
        with pytest.raises(OSError):
            transport.load(url)
    with pytest.raises(OSError):
        transport.post("http://example.com/", b"", {})


def test_a_wsdl_importing_a_remote_schema_fails_without_fetching(tmp_path: Path) -> None:
    wsdl = tmp_path / "remote.wsdl"
    wsdl.write_text(
        '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:s="http://www.w3.org/2001/XMLSchema" targetNamespace="urn://x"><wsdl:types>'
        '<s:schema targetNamespace="urn://x"><s:import namespace="urn://y" '
        'schemaLocation="http://192.0.2.1/never.xsd"/></s:schema></wsdl:types></wsdl:definitions>'
    )
    from zeep.exceptions import ExternalReferenceForbidden

    # zeep's forbid_external stops it first; our transport would refuse it next
    with pytest.raises((ExternalReferenceForbidden, OSError)):
        SoapCodec("1.5", "cs", wsdl)


def test_soap_package_imports_no_asyncio_nor_sockets_itself() -> None:
    package = REPO / "ocppsim" / "soap"
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text())
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in (
                node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")]
            )
        }
        assert not imported & {"asyncio", "socket", "websockets", "aiohttp", "http", "requests"}, (
            source
        )
    code = "import sys, ocppsim.soap.codec; print('asyncio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- zeep interop


@cache
def _zeep_client(version: str, service: str, wsdl: Path | None = None) -> Any:
    """A zeep client (an independent SOAP stack) of our WSDL, or of `wsdl`; no network.

    Our WSDL files have the published files' wire facts (tests/gen/test_wsdl_equivalence.py),
    and `test_the_published_wsdl_gives_the_same_envelopes` checks, where the published files
    are at hand, that a client of either builds the same envelopes.
    """
    import zeep

    return zeep.Client(str(wsdl or wsdl_path(version, service)), transport=_NoNetworkTransport())


def _to_zeep_view(value: Any, key: str = "") -> Any:
    """JSON view -> zeep's shape: 1.5 MeterValue `values` -> `value`, `{value,…}` -> `_value_1`."""
    if isinstance(value, list):
        return [_to_zeep_view(v, key) for v in value]
    if not isinstance(value, dict):
        return value
    if key == "meter" and "timestamp" in value and isinstance(value.get("values"), list):
        return {
            "timestamp": value["timestamp"],
            "value": [_to_zeep_view(v, "reading") for v in value["values"]],
        }
    if key == "reading":
        return {("_value_1" if k == "value" else k): v for k, v in value.items()}
    out = {}
    for k, v in value.items():
        child = "meter" if k == "values" else k
        out[k] = _to_zeep_view(v, child)
    return out


def _from_zeep_view(value: Any) -> Any:
    """zeep's deserialised object -> JSON view (None dropped, datetimes as UTC `Z`)."""
    from zeep.helpers import serialize_object

    value = serialize_object(value, dict)
    return _from_plain(value)


def _from_plain(value: Any) -> Any:
    """Recursive part of `_from_zeep_view`."""
    if isinstance(value, list):
        return [_from_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not isinstance(value, dict):
        return value
    if set(value) >= {"timestamp", "value"} and isinstance(value["value"], list):
        return {
            "timestamp": _from_plain(value["timestamp"]),
            "values": [
                {("value" if k == "_value_1" else k): v for k, v in r.items() if v is not None}
                for r in value["value"]
            ],
        }
    return {k: _from_plain(v) for k, v in value.items() if v is not None and v != []}


@pytest.mark.parametrize(("version", "service", "action", "kind"), MESSAGES)
def test_interop_zeep_envelope_parses_to_the_json_view(
    version: str, service: str, action: str, kind: str
) -> None:
    payload = _original_payloads()[version][action + kind]
    expected = _without_empty_lists(payload)
    client = _zeep_client(version, service)
    codec = get_codec(version, service)
    if kind == "Request":
        envelope = client.create_message(
            client.service,
            action,
            **_to_zeep_view(payload),
            _soapheaders={"ChargeBoxIdentity": "box9"},
        )
        request = codec.parse_request(etree.tostring(envelope))
        assert (request.action, request.charge_box_id) == (action, "box9")
        assert request.message_id and request.message_id.startswith("urn:uuid:")
        assert request.payload == expected
    else:
        operation = client.service._binding._operations[action]
        envelope = operation.output.serialize(**_to_zeep_view(payload)).content
        assert codec.parse_response(etree.tostring(envelope), action) == expected


def _without_empty_strings(value: Any) -> Any:
    """zeep reads an empty element (`<iccid></iccid>`) as None, so it drops `""` (a zeep quirk)."""
    if isinstance(value, dict):
        return {k: _without_empty_strings(v) for k, v in value.items() if v != ""}
    if isinstance(value, list):
        return [_without_empty_strings(v) for v in value]
    return value


@pytest.mark.parametrize(("version", "service", "action", "kind"), MESSAGES)
def test_interop_our_envelope_parses_with_zeep(
    version: str, service: str, action: str, kind: str
) -> None:
    payload = _original_payloads()[version][action + kind]
    client = _zeep_client(version, service)
    operation = client.service._binding._operations[action]
    codec = get_codec(version, service)
    if kind == "Request":
        envelope = etree.fromstring(_request(codec, action, payload))
        # the server-side view: headers and body as zeep's binding reads them
        assert operation.input.deserialize(envelope).header.ChargeBoxIdentity == "box01"
        message = operation.input
    else:
        data = codec.build_response(action, payload, charge_box_id="box01", relates_to="m")
        envelope = etree.fromstring(data)
        message = operation.output
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    # parse the body element itself: `deserialize` unwraps one-field bodies to their value
    got = _from_zeep_view(message.body.parse(body[0], client.wsdl.types)) or {}
    assert got == _from_plain(_without_empty_strings(_without_empty_lists(payload)))


def _without_message_id_and_to(envelope: etree._Element) -> bytes:
    """A zeep envelope without its random MessageID and its WSDL-given To address."""
    for name in ("MessageID", "To"):
        for node in list(envelope.iter(f"{{{WSA}}}{name}")):
            node.getparent().remove(node)
    return etree.tostring(envelope)


@pytest.mark.skipif(
    not reference_facts.have_reference(),
    reason="published WSDLs not beside this clone: the committed wire facts stand in for them",
)
def test_the_published_wsdl_gives_the_same_envelopes() -> None:
    """Our codec and zeep build the same envelopes from the published WSDLs as from ours, for
    the original's default payload of every message: what lets every other test use ours."""
    for version, service, action, kind in MESSAGES:
        published = reference_facts.reference_wsdl(version, service)
        payload = _original_payloads()[version][action + kind]
        ours, theirs = get_codec(version, service), get_codec(version, service, published)
        assert ours is not theirs
        what = (version, service, action, kind)
        if kind == "Request":
            assert _request(ours, action, payload) == _request(theirs, action, payload), what
            made = [
                client.create_message(
                    client.service,
                    action,
                    **_to_zeep_view(payload),
                    _soapheaders={"ChargeBoxIdentity": "box9"},
                )
                for client in (
                    _zeep_client(version, service),
                    _zeep_client(version, service, published),
                )
            ]
        else:
            build = {"charge_box_id": "b", "relates_to": "m", "message_id": "n"}
            assert ours.build_response(action, payload, **build) == theirs.build_response(
                action, payload, **build
            ), what
            made = [
                client.service._binding._operations[action]
                .output.serialize(**_to_zeep_view(payload))
                .content
                for client in (
                    _zeep_client(version, service),
                    _zeep_client(version, service, published),
                )
            ]
        assert _without_message_id_and_to(made[0]) == _without_message_id_and_to(made[1]), what


def test_utf16_entity_bomb_is_refused_too() -> None:
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    bomb = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY lol0 "lol">{entities}]>'
        "<a>&lol9;</a>"
    ).encode("utf-16")
    started = time.perf_counter()
    assert _fault_code(lambda: parse_xml(bomb))[0] == "FormationViolation"
    assert time.perf_counter() - started < 0.5


def test_non_ascii_and_markup_characters_survive() -> None:
    codec = get_codec("1.5", "cs")
    data = codec.build_request(
        "Authorize", {"idTag": "é€<&>]]>"}, charge_box_id="bø", to="t", message_id="m"
    )
    request = codec.parse_request(data)
    assert (request.payload, request.charge_box_id) == ({"idTag": "é€<&>]]>"}, "bø")
