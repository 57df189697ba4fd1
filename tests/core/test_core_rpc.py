"""The sans-I/O RPC session: framing, ids, timeouts and the error code of each failure."""

from __future__ import annotations

import itertools
import json

import pytest

from ocppsim.core.errors import OcppSimError
from ocppsim.core.rpc import (
    BadFrame,
    Call,
    CallError,
    CallReceived,
    CallRefused,
    CallResult,
    ErrorReceived,
    FrameError,
    Pending,
    ResultReceived,
    RpcSession,
    UnexpectedResponse,
    new_unique_id,
    parse_frame,
)


def make(version: str = "1.5", service: str = "cs", **kw) -> RpcSession:
    counter = itertools.count(1)
    return RpcSession(version, service, unique_id=lambda: f"id{next(counter)}", **kw)  # type: ignore[arg-type]


def refused_code(session: RpcSession, frame: str) -> str:
    event = session.receive(frame)
    assert isinstance(event, CallRefused), event
    sent = json.loads(event.reply)
    assert sent[0] == 4 and sent[1] == event.unique_id
    return sent[2]


def test_unique_ids_are_32_letters_and_digits() -> None:
    ids = {new_unique_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(i) == 32 and i.isalnum() and i.isascii() for i in ids)


def test_call_frame_is_compact_and_pending() -> None:
    session = make()
    call = session.call("Reset", {"type": "Soft"})
    assert call == Call("id1", "Reset", {"type": "Soft"})
    assert call.to_frame() == '[2,"id1","Reset",{"type":"Soft"}]'
    assert list(session.pending) == ["id1"] and session.pending["id1"].action == "Reset"


def test_valid_call_is_received() -> None:
    event = make().receive('[2, "a", "Heartbeat", {}]')
    assert event == CallReceived(Call("a", "Heartbeat", {}))


def test_answer_and_refuse_frames() -> None:
    session = make()
    call = Call("a", "Heartbeat", {})
    assert session.answer(call, {"currentTime": "x"}).to_frame() == '[3,"a",{"currentTime":"x"}]'
    assert json.loads(session.refuse("a", "NotSupported").to_frame()) == [
        4,
        "a",
        "NotSupported",
        "Method name is recognized but not supported by the receiver.",
        {},
    ]


def test_error_codes_of_each_failure() -> None:
    s = make()
    assert refused_code(s, '[2,"a","Heartbeat",{"extra":1}]') == "PropertyConstraintViolation"
    assert refused_code(s, '[2,"a","Authorize",{}]') == "OccurenceConstraintViolation"
    assert refused_code(s, '[2,"a","Authorize",{"idTag":"x' + "x" * 20 + '"}]') == (
        "TypeConstraintViolation"
    )
    assert refused_code(s, '[2,"a","Authorize",{"idTag":12345}]') == "TypeConstraintViolation"
    bogus = '[2,"a","StatusNotification",{"connectorId":1,"status":"Bogus","errorCode":"NoError"}]'
    assert refused_code(s, bogus) == "TypeConstraintViolation"
    bad_date = (
        '[2,"a","StartTransaction",{"connectorId":1,"idTag":"a",'
        '"timestamp":"not-a-date","meterStart":0}]'
    )
    assert refused_code(s, bad_date) == "TypeConstraintViolation"
    assert refused_code(s, '[2,"a","Reset",{"type":"Soft"}]') == "NotImplemented"
    assert refused_code(s, '[2,"a","NoSuchThing",{}]') == "NotImplemented"
    assert refused_code(s, '[2,"a",5,{}]') == "FormationViolation"
    assert refused_code(s, '[2,"a","Heartbeat"]') == "FormationViolation"


def test_too_long_id_is_a_protocol_error_with_its_text() -> None:
    event = make().receive('[2,"' + "x" * 37 + '","Heartbeat",{}]')
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply)[2:4] == ["ProtocolError", "callId is too long (>36 chars)"]
    assert isinstance(make().receive('[2,"' + "x" * 36 + '","Heartbeat",{}]'), CallReceived)


def test_version_and_service_decide_what_is_implemented() -> None:
    assert refused_code(make("1.2", "cp"), '[2,"a","DataTransfer",{"vendorId":"v"}]') == (
        "NotImplemented"
    )
    assert isinstance(make("1.5", "cp").receive('[2,"a","ClearCache",{}]'), CallReceived)
    assert refused_code(make("1.5", "cp"), '[2,"a","Heartbeat",{}]') == "NotImplemented"


def test_validation_can_be_switched_off() -> None:
    event = make(validate_calls=False).receive('[2,"a","Authorize",{}]')
    assert isinstance(event, CallReceived)


def test_unparseable_frames_are_survived() -> None:
    s = make()
    for junk in [
        "not json at all",
        "{}",
        '[5,"id10"]',
        "[]",
        "[2]",
        '[3,"x"]',
        "\xff",
        b"\xff\xfe",
    ]:
        assert isinstance(s.receive(junk), BadFrame)


def test_result_resolves_pending_and_is_checked() -> None:
    s = make()
    s.call("Heartbeat", {})
    event = s.receive('[3,"id1",{"currentTime":"2013-02-01T15:09:18Z"}]')
    assert isinstance(event, ResultReceived) and event.violation is None
    assert event.pending.action == "Heartbeat" and s.pending == {}
    s.call("Heartbeat", {})
    event = s.receive('[3,"id2",{"currentTime":"yesterday"}]')
    assert isinstance(event, ResultReceived)
    assert event.violation is not None and event.violation.code == "TypeConstraintViolation"


def test_error_and_unknown_ids() -> None:
    s = make()
    s.call("Heartbeat", {})
    event = s.receive('[4,"id1","GenericError","boom",{}]')
    assert isinstance(event, ErrorReceived) and event.error.code == "GenericError"
    assert isinstance(s.receive('[3,"nope",{}]'), UnexpectedResponse)
    assert isinstance(s.receive('[4,"nope","GenericError","x",{}]'), UnexpectedResponse)


def test_pending_calls_expire_on_the_injected_clock() -> None:
    now = [100.0]
    s = RpcSession("1.5", "cp", clock=lambda: now[0], timeout=30)
    first = s.pending[s.call("Reset", {"type": "Soft"}).unique_id]
    now[0] = 110.0
    second = s.pending[s.call("ClearCache", {}).unique_id]
    assert (first.deadline, second.deadline) == (130.0, 140.0)
    now[0] = 130.0
    assert s.expire() == [first]
    assert list(s.pending) == [second.unique_id]
    now[0] = 140.0
    assert s.expire() == [second] and s.pending == {}


def test_a_call_that_is_not_json_is_refused_when_its_id_can_be_read() -> None:
    """NaN, nesting too deep, a bare word: FormationViolation for the id `[2,"<id>"` gives."""
    s = make()
    deep = "[" * 100000 + "]" * 100000
    for frame, unique_id in [
        ('[2,"a","Heartbeat",{"x":NaN}]', "a"),
        ('[2,"b","Heartbeat",{"x":-Infinity}]', "b"),
        (f'[2,"c","Heartbeat",{deep}]', "c"),
        (' [ 2 , "d\\u00e9" , "Heartbeat", {x}]', "d\u00e9"),
        ('[2,"e"]]', "e"),
        (b'[2,"f","Heartbeat",NaN]', "f"),
    ]:
        event = s.receive(frame)
        assert isinstance(event, CallRefused), frame[:40]
        assert event.unique_id == unique_id and event.error.code == "FormationViolation"
        assert json.loads(event.reply)[:3] == [4, unique_id, "FormationViolation"]
    # no readable CALL id: nothing can be answered (and an answer is never answered)
    for junk in [
        deep,
        '[3,"a",{"x":NaN}]',
        '[4,"a","GenericError",NaN]',
        '[2.0,"a","Heartbeat",NaN]',
        '[2,"a\\q","Heartbeat",NaN]',
        '[2,"unterminated',
        '[2,"' + "x" * 300 + '","Heartbeat",NaN]',  # the id is looked for in a bounded prefix
        b'[2,"\xff","Heartbeat",NaN]',
    ]:
        assert isinstance(s.receive(junk), BadFrame), junk[:40]


@pytest.mark.parametrize(
    ("version", "service", "code"),
    [("1.6", "cp", "FormationViolation"), ("2.0.1", "cs", "RpcFrameworkError")],
)
def test_a_number_beyond_a_double_is_refused_not_read_as_infinity(
    version: str, service: str, code: str
) -> None:
    """`1e999` parses to infinity in Python: it broke the schema check of a multipleOf field
    (SetChargingProfile's limit) so the CALL got no answer at all, and an infinity kept by a
    model goes back out as `Infinity`, which is not JSON. It is refused as not JSON."""
    limit = (
        '[2,"c1","SetChargingProfile",{"connectorId":0,"csChargingProfiles":'
        '{"chargingProfileId":1,"stackLevel":0,"chargingProfilePurpose":"ChargePointMaxProfile",'
        '"chargingProfileKind":"Absolute","chargingSchedule":{"chargingRateUnit":"W",'
        '"chargingSchedulePeriod":[{"startPeriod":0,"limit":1e999}]}}}]'
    )
    frame = limit if version == "1.6" else '[2,"c1","Heartbeat",{"x":-1E+999}]'
    event = make(version, service).receive(frame)
    assert isinstance(event, CallRefused), event
    assert json.loads(event.reply)[:3] == [4, "c1", code]
    assert "is out of range" in event.reason
    assert isinstance(make("1.6", "cs").receive('[2,"d","Heartbeat",{}]'), CallReceived)


def test_ints_are_32_bit_as_in_the_wsdl() -> None:
    base = (
        '[2,"a","StatusNotification",{"connectorId":%d,"status":"Available","errorCode":"NoError"}]'
    )
    assert isinstance(make().receive(base % (2**31 - 1)), CallReceived)
    assert refused_code(make(), base % 2**31) == "TypeConstraintViolation"
    assert refused_code(make(), base % -(2**31 + 1)) == "TypeConstraintViolation"


def test_a_refused_call_tells_the_peer_the_reason_and_the_field() -> None:
    """errorDescription says which field broke which rule; errorDetails names the field."""
    s = make()
    event = s.receive('[2,"a","Authorize",{"idTag":"' + "x" * 300 + '"}]')
    assert isinstance(event, CallRefused)
    code, description, details = json.loads(event.reply)[2:]
    assert code == "TypeConstraintViolation"
    assert description.startswith("idTag: 'xxxx") and "longer than 20 characters" in description
    assert len(description) < 100  # the peer's 300 characters are not sent back whole
    assert details == {"field": "idTag"}
    event = s.receive(
        '[2,"b","StartTransaction",{"connectorId":1,"timestamp":"2024-01-01T00:00:00Z","meterStart":0}]'
    )
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply)[2:] == [
        "OccurenceConstraintViolation",
        "idTag: missing (required)",
        {"field": "idTag"},
    ]
    nested = {
        "connectorId": 1,
        "values": [{"timestamp": "2024-01-01T00:00:00Z", "values": [{"value": "1", "bogus": 1}]}],
    }
    event = s.receive(json.dumps([2, "c", "MeterValues", nested]))
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply)[2:] == [
        "PropertyConstraintViolation",
        "values[0].values[0].bogus: unexpected field",
        {"field": "values[0].values[0].bogus"},
    ]


def test_every_refusal_tells_the_peer_why() -> None:
    """Not only schema violations: an unknown action, an action of the other role and a
    frame that is not a CALL say why in errorDescription, as their SOAP Faults do."""
    cs, cp = make(service="cs"), make(version="1.2", service="cp")
    expected = [
        (cs, '[2,"d","NoSuchThing",{}]', "NotImplemented", "unknown action `NoSuchThing'"),
        (cs, '[2,"e","Reset",{"type":"Soft"}]', "NotImplemented", "a Central System does not"),
        (cp, '[2,"f","GetConfiguration",{}]', "NotImplemented", "for OCPP 1.2"),
        (cp, '[2,"g","BootNotification",{}]', "NotImplemented", "a Charge Point does not"),
        (cs, '[2,"h","Heartbeat",{"a":NaN}]', "FormationViolation", "NaN is not JSON"),
        (cs, '[2,"i","Heartbeat",' + "[" * 5000 + "]" * 5000 + "]", "FormationViolation", "deep"),
        (cs, '[2,"j",5,{}]', "FormationViolation", "a CALL is [2, uniqueId, action, {payload}]"),
    ]
    for session, frame, code, reason in expected:
        event = session.receive(frame)
        assert isinstance(event, CallRefused), frame
        sent_code, description, details = json.loads(event.reply)[2:]
        assert (sent_code, details) == (code, {}), frame
        assert reason in description, (frame, description)
        assert description == event.reason  # the log line says what the peer reads


def test_descriptions_are_bounded_to_255_characters() -> None:
    s = make()
    long_key = "k" * 1000
    event = s.receive(json.dumps([2, "a", "Heartbeat", {long_key: 1}]))
    assert isinstance(event, CallRefused)
    description = json.loads(event.reply)[3]
    assert len(description) == 255 and description.endswith("…")
    assert description.startswith("kkkk")
    refused = json.loads(s.refuse("b", "GenericError", "why " * 200).to_frame())
    assert len(refused[3]) == 255


def test_lone_surrogates_are_strings_and_every_answer_is_sendable() -> None:
    """json.loads accepts `"\\ud800"`: a string like any other, answered with its escape."""
    s = make()
    event = s.receive('[2,"\\ud800","Heartbeat",{}]')
    assert isinstance(event, CallReceived) and event.call.unique_id == "\ud800"
    reply = s.answer(event.call, {"currentTime": "x"}).to_frame()
    assert reply == '[3,"\\ud800",{"currentTime":"x"}]'
    assert isinstance(s.receive('[2,"a","Authorize",{"idTag":"\\udfff"}]'), CallReceived)
    refused = s.receive('[2,"\\udc00","Authorize",{"idTag":"' + "\\ud800" * 21 + '"}]')
    assert isinstance(refused, CallRefused)
    refused.reply.encode("utf-8")
    assert json.loads(refused.reply)[:3] == [4, "\udc00", "TypeConstraintViolation"]


# -- framing ------------------------------------------------------------------------------


def test_each_message_type_is_parsed_into_its_message() -> None:
    assert parse_frame('[2,"a","Heartbeat",{}]') == Call("a", "Heartbeat", {})
    assert parse_frame(b'[3,"a",{"x":1}]') == CallResult("a", {"x": 1})
    assert parse_frame('[4,"a","GenericError","why",{"k":1}]') == CallError(
        "a", "GenericError", "why", {"k": 1}
    )
    # errorDetails may be left out: it is then an empty object
    assert parse_frame('[4,"a","GenericError","why"]') == CallError("a", "GenericError", "why", {})
    assert CallError("a", "GenericError", "why").to_frame() == '[4,"a","GenericError","why",{}]'


@pytest.mark.parametrize(
    "frame",
    [
        '[true,"a","Heartbeat",{}]',  # a bool is no message type id
        '[2.0,"a","Heartbeat",{}]',
        '["2","a","Heartbeat",{}]',
        '[5,"a",{}]',  # a CALLRESULTERROR has a CALLERROR's elements
        '[6,"a","NotifyPeriodicEventStream"]',  # a SEND a CALL's
        '[7,"a","Heartbeat",{}]',
        '[3,"a"]',
        '[3,"a",{},{}]',
        '[4,"a","GenericError"]',
        '[4,"a",5,"why",{}]',
        '[4,"a","GenericError","why",{},1]',
        '[2,5,"Heartbeat",{}]',
        '{"2":"a"}',
        '"text"',
    ],
)
def test_what_is_no_ocpp_j_message_is_a_frame_error(frame: str) -> None:
    with pytest.raises(FrameError):
        parse_frame(frame)
    assert isinstance(make().receive(frame), BadFrame)


def test_a_malformed_call_with_a_readable_id_is_answerable() -> None:
    assert parse_frame('[2,"a","Heartbeat"]') == ("a", "a CALL is [2, uniqueId, action, {payload}]")
    assert parse_frame('[2,"a",7,{}]')[0] == "a"  # type: ignore[index]
    assert parse_frame('[2,"a","Heartbeat",{},{}]')[0] == "a"  # type: ignore[index]


def test_frame_errors_are_ocppsim_errors() -> None:
    with pytest.raises(OcppSimError):
        parse_frame("nope")


def test_a_frame_with_blanks_and_unicode_is_read_and_answered_compactly() -> None:
    s = make()
    event = s.receive(' [ 2 , "é1" , "DataTransfer" , { "vendorId" : "ü" } ] ')
    assert event == CallReceived(Call("é1", "DataTransfer", {"vendorId": "ü"}))
    answer = s.answer(event.call, {"status": "Accepted", "data": "ü"})
    assert answer.to_frame() == '[3,"é1",{"status":"Accepted","data":"ü"}]'


# -- the CALLs this side sends ------------------------------------------------------------


def test_unique_ids_come_from_the_injected_generator_unless_given() -> None:
    s = make()
    assert [s.call("Heartbeat", {}).unique_id for _ in range(3)] == ["id1", "id2", "id3"]
    assert s.call("Heartbeat", {}, unique_id="mine").unique_id == "mine"
    assert list(s.pending) == ["id1", "id2", "id3", "mine"]


def test_the_answer_goes_to_its_pending_call_and_only_once() -> None:
    s = make()
    first, second = s.call("Heartbeat", {}), s.call("ClearCache", {})
    event = s.receive(f'[3,"{second.unique_id}",{{"status":"Accepted"}}]')
    assert isinstance(event, ResultReceived)
    assert event.pending.action == "ClearCache" and event.pending.payload == {}
    assert list(s.pending) == [first.unique_id]
    again = s.receive(f'[3,"{second.unique_id}",{{"status":"Accepted"}}]')
    assert again == UnexpectedResponse(CallResult(second.unique_id, {"status": "Accepted"}))


def test_a_result_is_checked_against_the_response_of_its_action() -> None:
    s = make("1.5", "cp")  # a CP's session: the CALLs it sends are the CS service's
    s.call("Authorize", {"idTag": "A"}, unique_id="a")
    event = s.receive('[3,"a",{"idTagInfo":{"status":"Maybe"}}]')
    assert isinstance(event, ResultReceived) and event.violation is not None
    assert event.violation.code == "TypeConstraintViolation"
    assert "idTagInfo.status" in event.violation.reason
    s.call("Authorize", {"idTag": "A"}, unique_id="b")
    event = s.receive('[3,"b",{"idTagInfo":{"status":"Accepted"}}]')
    assert isinstance(event, ResultReceived) and event.violation is None


def test_result_validation_can_be_switched_off() -> None:
    s = make(validate_results=False)
    s.call("Heartbeat", {}, unique_id="a")
    event = s.receive('[3,"a",{"bogus":1}]')
    assert isinstance(event, ResultReceived) and event.violation is None


def test_the_result_of_a_call_ocpp_does_not_have_is_taken_unchecked() -> None:
    s = make()
    s.call("NoSuchThing", {}, unique_id="a")  # sent on purpose (send -n, a raw text)
    event = s.receive('[3,"a",{"anything":1}]')
    assert isinstance(event, ResultReceived) and event.violation is None


def test_a_raw_call_is_tracked_and_its_answer_checked() -> None:
    s = make()
    pending = s.track("raw1", "Heartbeat", {})
    assert s.pending == {"raw1": pending}
    event = s.receive('[3,"raw1",{"currentTime":"yesterday"}]')
    assert isinstance(event, ResultReceived) and event.violation is not None


def test_a_call_given_up_is_forgotten_and_its_late_answer_unexpected() -> None:
    s = make()
    call = s.call("Heartbeat", {})
    assert s.forget(call.unique_id) is not None and s.forget(call.unique_id) is None
    late = s.receive(f'[3,"{call.unique_id}",{{"currentTime":"2024-01-01T00:00:00Z"}}]')
    assert isinstance(late, UnexpectedResponse)


def test_an_error_answer_resolves_its_call_whatever_its_code() -> None:
    s = make()
    s.call("Heartbeat", {}, unique_id="a")
    event = s.receive('[4,"a","SomethingElse","not a 1.x code",[1,2]]')
    assert isinstance(event, ErrorReceived)
    assert event.error == CallError("a", "SomethingElse", "not a 1.x code", [1, 2])
    assert s.pending == {}


# -- the CALLs this side receives ---------------------------------------------------------


def test_answers_and_refusals_are_messages() -> None:
    s = make()
    call = Call("a", "Heartbeat", {})
    assert s.answer(call, {"currentTime": "x"}) == CallResult("a", {"currentTime": "x"})
    assert s.refuse("a", "GenericError") == CallError("a", "GenericError", "Other error.", {})
    assert s.refuse("a", "GenericError", "why", {"k": 1}) == CallError(
        "a", "GenericError", "why", {"k": 1}
    )


def test_an_unknown_action_names_itself_and_the_version() -> None:
    event = make("1.2").receive('[2,"a","DataTransfer",{"vendorId":"v"}]')
    assert isinstance(event, CallRefused)
    assert event.action == "DataTransfer" and event.error.code == "NotImplemented"
    assert event.reason == "unknown action `DataTransfer' for OCPP 1.2"


def test_the_variant_decides_the_meter_value_form() -> None:
    old_form = {
        "connectorId": 1,
        "values": [{"timestamp": "2024-01-01T00:00:00Z", "value": ["1"], "@value": [{}]}],
    }
    frame = json.dumps([2, "a", "MeterValues", old_form])
    assert isinstance(make().receive(frame), CallRefused)
    assert isinstance(make(variant="with-attr-at").receive(frame), CallReceived)


# -- messages a link decoded (SOAP) ---------------------------------------------------------


def test_a_decoded_call_gets_the_same_checks_as_a_frame() -> None:
    s = make()
    message_id = "urn:uuid:" + "0" * 36  # 45 characters: OCPP-J's 36 do not apply
    assert s.receive_message(Call(message_id, "Heartbeat", {})) == CallReceived(
        Call(message_id, "Heartbeat", {})
    )
    refused = s.receive_message(Call(message_id, "Authorize", {}))
    assert isinstance(refused, CallRefused)
    assert refused.error == CallError(
        message_id, "OccurenceConstraintViolation", "idTag: missing (required)", {"field": "idTag"}
    )
    unknown = s.receive_message(Call(message_id, "Reset", {"type": "Soft"}))
    assert isinstance(unknown, CallRefused) and unknown.error.code == "NotImplemented"


def test_a_decoded_call_is_not_validated_when_validation_is_off() -> None:
    s = make(validate_calls=False)
    assert isinstance(s.receive_message(Call("m", "Authorize", {})), CallReceived)
    # an action the version does not have is refused even so: nothing could answer it
    assert isinstance(s.receive_message(Call("m", "Reset", {})), CallRefused)


def test_a_decoded_answer_resolves_its_pending_call() -> None:
    s = RpcSession("1.5", "cp", unique_id=lambda: "urn:uuid:1", clock=lambda: 5.0, timeout=30)
    call = s.call("Heartbeat", {})
    event = s.receive_message(CallResult(call.unique_id, {"currentTime": "2024-01-01T00:00:00Z"}))
    assert isinstance(event, ResultReceived) and event.violation is None
    s.call("Heartbeat", {})
    fault = CallError("urn:uuid:1", "TypeConstraintViolation", "bad", {})
    assert s.receive_message(fault) == ErrorReceived(
        Pending("urn:uuid:1", "Heartbeat", {}, 35.0), fault
    )
    assert s.receive_message(fault) == UnexpectedResponse(fault)
