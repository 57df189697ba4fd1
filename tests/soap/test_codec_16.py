"""The SOAP codec speaks OCPP 1.6: both services, every core message both ways, the headers and
Faults of 1.5, and a body's JSON view that is the OCPP-J payload, checked by the same 1.6 JSON
schemas (one message, one meaning)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from lxml import etree

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import validate
from ocppsim.soap.codec import (
    SoapFaultError,
    check_must_understand,
    get_codec,
    parse_envelope,
    request_version,
    service_namespace,
)

V16 = versions.get("1.6")
SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
MESSAGES = [
    (service, action, kind)
    for service in versions.SERVICES
    for action in V16.actions_over("soap", service)
    for kind in ("Request", "Response")
]


def round_trip(service: str, action: str, kind: str, payload: dict[str, Any]) -> Any:
    codec = get_codec("1.6", service)
    if kind == "Request":
        data = codec.build_request(
            action, payload, charge_box_id="box16", to="http://cs/ocpp", message_id="urn:uuid:16"
        )
        request = codec.parse_request(data)
        assert (request.action, request.charge_box_id) == (action, "box16")
        return request.payload
    data = codec.build_response(action, payload, charge_box_id="box16", relates_to="urn:uuid:16")
    response = codec.parse_response_message(data, action)
    assert response.relates_to == "urn:uuid:16"
    return response.payload


def body(service: str, action: str, payload: dict[str, Any]) -> bytes:
    return get_codec("1.6", service).build_request(
        action, payload, charge_box_id="box16", to="http://cs/ocpp", message_id="urn:uuid:16"
    )


def test_the_codec_serves_both_services_with_the_core_actions() -> None:
    for service in versions.SERVICES:
        codec = get_codec("1.6", service)
        assert set(codec.actions) == set(V16.actions_over("soap", service))
        assert codec.namespace == service_namespace("1.6", service)
    assert len(MESSAGES) == 2 * (10 + 19) * 1  # DataTransfer is in both services


@pytest.mark.parametrize(("service", "action", "kind"), MESSAGES)
def test_every_default_message_round_trips_and_its_json_view_is_valid(
    service: str, action: str, kind: str
) -> None:
    payload = default_payload("1.6", action + kind)
    got = round_trip(service, action, kind, copy.deepcopy(payload))
    assert got == {k: v for k, v in payload.items() if v != []}
    assert validate("1.6", action + kind, got) is None


def test_security_actions_are_not_soap_operations() -> None:
    for service, actions in (("cs", v16_security("cs")), ("cp", v16_security("cp"))):
        for action in actions:
            with pytest.raises(SoapFaultError) as refused:
                body(service, action, default_payload("1.6", action + "Request"))
            assert refused.value.code == "NotImplemented"
            assert "is not an operation of the OCPP 1.6" in refused.value.reason


def v16_security(service: str) -> list[str]:
    return [a for a in V16.actions[service] if not V16.carries("soap", service, a)]


def _limit_payload(limit: Any) -> dict[str, Any]:
    payload = default_payload("1.6", "SetChargingProfileRequest")
    period = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]
    period["limit"] = limit
    return payload


@pytest.mark.parametrize(
    ("limit", "text"), [(8.1, "8.1"), (16.0, "16.0"), (16, "16"), (0.3, "0.3"), (1e20, "1E+20")]
)
def test_a_decimal_is_written_exactly_and_read_as_a_number(limit: Any, text: str) -> None:
    data = body("cp", "SetChargingProfile", _limit_payload(limit))
    root = etree.fromstring(data)
    written = root.find(".//{urn://Ocpp/Cp/2015/10/}limit")
    assert written is not None
    expected = "100000000000000000000" if text == "1E+20" else text
    assert written.text == expected
    payload = get_codec("1.6", "cp").parse_request(data).payload
    read = payload["csChargingProfiles"]["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"]
    assert read == limit and isinstance(read, (int, float)) and not isinstance(read, bool)
    assert validate("1.6", "SetChargingProfileRequest", payload) is None


def test_a_decimal_off_the_tenth_grid_is_refused_like_over_ocpp_j() -> None:
    data = body("cp", "SetChargingProfile", _limit_payload(8.1)).replace(b">8.1<", b">8.15<")
    payload = get_codec("1.6", "cp").parse_request(data).payload
    violation = validate("1.6", "SetChargingProfileRequest", payload)
    assert violation is not None and violation.code == "TypeConstraintViolation"
    assert "multiple of 0.1" in violation.reason


def test_a_decimal_that_is_no_number_is_a_type_violation() -> None:
    data = body("cp", "SetChargingProfile", _limit_payload(8.1))
    for bad in (b">abc<", b">1e5<", b">NaN<", b">Infinity<", b">8,1<"):
        forged = data.replace(b">8.1<", bad)
        with pytest.raises(SoapFaultError) as refused:
            get_codec("1.6", "cp").parse_request(forged)
        assert refused.value.code == "TypeConstraintViolation"


def test_a_time_without_zone_is_refused_as_over_ocpp_j() -> None:
    """1.6 keeps the zone-less xs:dateTime as it is, so the 1.6 JSON schema refuses it with
    the reason OCPP-J gives; 1.5 reads it as UTC, as the original did."""
    payload = default_payload("1.6", "StatusNotificationRequest")
    data = body("cs", "StatusNotification", payload).replace(
        payload["timestamp"].encode(), b"2024-05-01T12:00:00"
    )
    view = get_codec("1.6", "cs").parse_request(data).payload
    assert view["timestamp"] == "2024-05-01T12:00:00"
    violation = validate("1.6", "StatusNotificationRequest", view)
    assert violation is not None
    assert (
        violation.reason
        == "timestamp: '2024-05-01T12:00:00' has no time zone (RFC 3339: add Z or an offset)"
    )
    zoned = data.replace(b"2024-05-01T12:00:00", b"2024-05-01T14:00:00+02:00")
    assert get_codec("1.6", "cs").parse_request(zoned).payload["timestamp"] == (
        "2024-05-01T12:00:00Z"
    )


def test_units_the_wsdl_lacks_are_read_and_judged_by_the_json_schema() -> None:
    payload = default_payload("1.6", "MeterValuesRequest")
    sample = payload["meterValue"][0]["sampledValue"][0]
    for unit in ("Celcius", "Celsius", "Hertz"):
        sample["unit"] = unit
        view = round_trip("cs", "MeterValues", "Request", copy.deepcopy(payload))
        assert view["meterValue"][0]["sampledValue"][0]["unit"] == unit
        assert validate("1.6", "MeterValuesRequest", view) is None
    sample["unit"] = "Parsec"
    view = round_trip("cs", "MeterValues", "Request", copy.deepcopy(payload))
    assert validate("1.6", "MeterValuesRequest", view) is not None


def test_meter_values_without_a_meter_value_are_refused_as_over_ocpp_j() -> None:
    """The WSDL lets the body leave meterValue out; OCPP 1.6 and its JSON schema do not."""
    data = body("cs", "MeterValues", {"connectorId": 1, "meterValue": []})
    view = get_codec("1.6", "cs").parse_request(data).payload
    assert view == {"connectorId": 1}
    violation = validate("1.6", "MeterValuesRequest", view)
    assert violation is not None and violation.code == "OccurenceConstraintViolation"
    assert violation.reason == "meterValue: missing (required)"


def test_headers_and_faults_are_those_of_15() -> None:
    data = get_codec("1.6", "cs").build_request(
        "Heartbeat",
        {},
        charge_box_id="box16",
        to="http://cs/ocpp",
        message_id="urn:uuid:7",
        from_address="http://cp:9000/",
    )
    envelope = parse_envelope(data)
    check_must_understand(envelope)  # our own chargeBoxIdentity (1.6 namespace) is understood
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    assert header is not None
    box = header.find("{urn://Ocpp/Cs/2015/10/}chargeBoxIdentity")
    assert box is not None and box.text == "box16"
    assert box.get(f"{{{SOAP_ENV}}}mustUnderstand") == "true"
    assert request_version(data, "cs") == "1.6"
    parsed = get_codec("1.6", "cs").parse_request(data)
    assert (parsed.message_id, parsed.from_address) == ("urn:uuid:7", "http://cp:9000/")
    assert get_codec("1.6", "cs").action_uri("Heartbeat") == "/Heartbeat"
    fault = get_codec("1.6", "cs").build_fault("TypeConstraintViolation", "why")
    with pytest.raises(SoapFaultError) as refused:
        get_codec("1.6", "cs").parse_response(fault, "Heartbeat")
    assert (refused.value.code, refused.value.reason) == ("TypeConstraintViolation", "why")
    answer = get_codec("1.6", "cs").build_response(
        "BootNotification",
        default_payload("1.6", "BootNotificationResponse"),
        charge_box_id="box16",
        relates_to="urn:uuid:7",
    )
    assert b"<tns:interval>1200</tns:interval>" in answer  # 1.6's name (1.5: heartbeatInterval)


def test_a_15_body_is_not_read_as_16() -> None:
    data = get_codec("1.5", "cs").build_request(
        "Heartbeat", {}, charge_box_id="b", to="http://cs/", message_id="urn:uuid:1"
    )
    assert request_version(data, "cs") == "1.5"
    with pytest.raises(SoapFaultError) as refused:
        get_codec("1.6", "cs").parse_request(data)
    assert refused.value.code == "NotImplemented"
