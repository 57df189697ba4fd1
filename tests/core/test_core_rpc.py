"""The sans-I/O RPC session: framing, ids, timeouts and the error code of each failure."""

from __future__ import annotations

import itertools
import json

from ocppsim.core.rpc import (
    BadFrame,
    Call,
    CallReceived,
    CallRefused,
    ErrorReceived,
    ResultReceived,
    RpcSession,
    UnexpectedResponse,
    new_unique_id,
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
    pending, frame = session.call("Reset", {"type": "Soft"})
    assert frame == '[2,"id1","Reset",{"type":"Soft"}]'
    assert session.pending == {"id1": pending}


def test_valid_call_is_received() -> None:
    event = make().receive('[2, "a", "Heartbeat", {}]')
    assert event == CallReceived(Call("a", "Heartbeat", {}))


def test_answer_and_refuse_frames() -> None:
    session = make()
    call = Call("a", "Heartbeat", {})
    assert session.answer(call, {"currentTime": "x"}) == '[3,"a",{"currentTime":"x"}]'
    assert json.loads(session.refuse("a", "NotSupported")) == [
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
    first, _ = s.call("Reset", {"type": "Soft"})
    now[0] = 110.0
    second, _ = s.call("ClearCache", {})
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
    # no specific reason: the code's standard description, no details
    event = s.receive('[2,"d","NoSuchThing",{}]')
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply)[3:] == ["Method name is not recognized.", {}]


def test_descriptions_are_bounded_to_255_characters() -> None:
    s = make()
    long_key = "k" * 1000
    event = s.receive(json.dumps([2, "a", "Heartbeat", {long_key: 1}]))
    assert isinstance(event, CallRefused)
    description = json.loads(event.reply)[3]
    assert len(description) == 255 and description.endswith("…")
    assert description.startswith("kkkk")
    refused = json.loads(s.refuse("b", "GenericError", "why " * 200))
    assert len(refused[3]) == 255


def test_lone_surrogates_are_strings_and_every_answer_is_sendable() -> None:
    """json.loads accepts `"\\ud800"`: a string like any other, answered with its escape."""
    s = make()
    event = s.receive('[2,"\\ud800","Heartbeat",{}]')
    assert isinstance(event, CallReceived) and event.call.unique_id == "\ud800"
    reply = s.answer(event.call, {"currentTime": "x"})
    assert reply == '[3,"\\ud800",{"currentTime":"x"}]'
    assert isinstance(s.receive('[2,"a","Authorize",{"idTag":"\\udfff"}]'), CallReceived)
    refused = s.receive('[2,"\\udc00","Authorize",{"idTag":"' + "\\ud800" * 21 + '"}]')
    assert isinstance(refused, CallRefused)
    refused.reply.encode("utf-8")
    assert json.loads(refused.reply)[:3] == [4, "\udc00", "TypeConstraintViolation"]
