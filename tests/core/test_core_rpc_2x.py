"""The RPC framework of each version, frame by frame: what OCPP 1.x (1.5 and 1.6), OCPP-J 2.0.1
and OCPP-J 2.1 (Part 4 §4) answer to a frame they cannot read, an unknown message type, a
malformed CALL, a unique id too long; 2.1's SEND (type 6, never answered) and CALLRESULTERROR
(type 5, the answer to a CALLRESULT that cannot be accepted). 1.x keeps what it always did."""

from __future__ import annotations

import itertools
import json

import pytest
from ocppsim_testing import needs_version

from ocppsim.core.defaults import default_payload
from ocppsim.core.rpc import (
    REMEMBERED_ANSWERS,
    BadFrame,
    Call,
    CallError,
    CallReceived,
    CallRefused,
    CallResult,
    CallResultError,
    Ignored,
    MessageTypeUnavailable,
    ResultErrorReceived,
    ResultReceived,
    RpcSession,
    Send,
    SendReceived,
    UnexpectedResponse,
    parse_frame,
)

V21 = pytest.param("2.1", marks=needs_version("2.1"), id="2.1")
VERSIONS_2X = ["2.0.1", V21]
VERSIONS_1X = ["1.5", "1.6"]
EVERY = [*VERSIONS_1X, *VERSIONS_2X]
SHAPE = "a CALL is [2, uniqueId, action, {payload}]"
LONG_ID = "the unique id is longer than 36 characters"


def case(version: str, *values: object) -> object:
    """One parameter set of `version` (skipped, saying why, where it is not installed)."""
    return pytest.param(version, *values, marks=needs_version(version))


#: a valid SEND of 2.1 (its default payload, with a fixed date)
STREAM = {"id": 1, "pending": 0, "basetime": "2024-01-01T00:00:00Z", "data": [{"t": 0, "v": "1"}]}


def make(version: str, service: str = "cs", **kw) -> RpcSession:
    counter = itertools.count(1)
    return RpcSession(version, service, unique_id=lambda: f"id{next(counter)}", **kw)  # type: ignore[arg-type]


def answer_to(event: object) -> str | None:
    """The frame that goes back for `event`, None when nothing does."""
    if isinstance(event, CallRefused):
        return event.reply
    if isinstance(event, BadFrame):
        return None if event.error is None else event.error.to_frame()
    if isinstance(event, ResultReceived):
        return None if event.reply is None else event.reply.to_frame()
    quiet = (Ignored, SendReceived, ResultErrorReceived, CallReceived, UnexpectedResponse)
    assert isinstance(event, quiet), event
    return None


# -- a frame that cannot be read (OCPP-J 2.0.1 / 2.1 §4.2.3) ------------------------------------


UNREADABLE = [
    ("not json", "not JSON (Expecting value: line 1 column 1 (char 0))"),
    ('{"a":1}', "not a JSON array"),
    ("[]", "an OCPP-J message is [messageTypeId, uniqueId, …]"),
    ("[2]", "an OCPP-J message is [messageTypeId, uniqueId, …]"),
    ('["2","a","Heartbeat",{}]', "the message type id is not an integer"),
    ('[true,"a","Heartbeat",{}]', "the message type id is not an integer"),
    ('[2.5,"a","Heartbeat",{}]', "the message type id is not an integer"),
    ('[2,5,"Heartbeat",{}]', "the unique id is not a string"),
    ('[2,null,"Heartbeat",{}]', "the unique id is not a string"),
    ('[3,"a",{"x":NaN}]', "not JSON (NaN is not JSON)"),  # no CALL: no id to answer
]


@pytest.mark.parametrize("frame, reason", UNREADABLE)
@pytest.mark.parametrize("version", VERSIONS_2X)
def test_2x_answers_an_unreadable_frame_with_rpc_framework_error_and_id_minus_one(
    version: str, frame: str, reason: str
) -> None:
    event = make(version).receive(frame)
    assert isinstance(event, BadFrame) and event.reason == reason
    assert answer_to(event) == json.dumps(
        [4, "-1", "RpcFrameworkError", reason, {}], separators=(",", ":"), ensure_ascii=False
    )


@pytest.mark.parametrize("frame, reason", UNREADABLE)
@pytest.mark.parametrize("version", VERSIONS_1X)
def test_1x_only_logs_an_unreadable_frame(version: str, frame: str, reason: str) -> None:
    event = make(version).receive(frame)
    assert isinstance(event, BadFrame) and event.error is None and event.reason == reason


@pytest.mark.parametrize("version", VERSIONS_2X)
def test_invalid_json_is_never_echoed_raw(version: str) -> None:
    """The description says why, never what: the peer's bytes do not travel back."""
    for junk in ['{"secret": tru', "<html>secret</html>", b"\xffsecret", "[secret]"]:
        event = make(version).receive(junk)
        assert isinstance(event, BadFrame) and event.error is not None
        sent = answer_to(event)
        assert sent is not None and "secret" not in sent
        assert json.loads(sent)[:3] == [4, "-1", "RpcFrameworkError"]


# -- a CALL with a readable id ---------------------------------------------------------------


@pytest.mark.parametrize(
    "version, frame, answer",
    [
        # wrong elements: 1.x FormationViolation, 2.x RpcFrameworkError (not a valid RPC request)
        case("1.5", '[2,"a","Heartbeat"]', [4, "a", "FormationViolation", SHAPE, {}]),
        case("1.6", '[2,"a","Heartbeat"]', [4, "a", "FormationViolation", SHAPE, {}]),
        case("2.0.1", '[2,"a","Heartbeat"]', [4, "a", "RpcFrameworkError", SHAPE, {}]),
        case("2.1", '[2,"a","Heartbeat"]', [4, "a", "RpcFrameworkError", SHAPE, {}]),
        case("2.0.1", '[2,"a",7,{}]', [4, "a", "RpcFrameworkError", SHAPE, {}]),
        # not JSON, but `[2,"<id>"` can be read: answered under that id
        case(
            "1.5",
            '[2,"b","Heartbeat",{"x":NaN}]',
            [4, "b", "FormationViolation", "not JSON (NaN is not JSON)", {}],
        ),
        case(
            "2.0.1",
            '[2,"b","Heartbeat",{"x":NaN}]',
            [4, "b", "RpcFrameworkError", "not JSON (NaN is not JSON)", {}],
        ),
        case(
            "2.1",
            '[2,"b","Heartbeat",{"x":NaN}]',
            [4, "b", "RpcFrameworkError", "not JSON (NaN is not JSON)", {}],
        ),
        # a payload that is no object: 2.x FormatViolation (syntactically incorrect), 1.x: schema
        case(
            "1.5",
            '[2,"c","Heartbeat",[1]]',
            [4, "c", "TypeConstraintViolation", "payload: [1] is not of type object", {}],
        ),
        case(
            "1.6",
            '[2,"c","Heartbeat",[1]]',
            [4, "c", "TypeConstraintViolation", "payload: [1] is not of type object", {}],
        ),
        case(
            "2.0.1",
            '[2,"c","Heartbeat",[1]]',
            [4, "c", "FormatViolation", "the payload is not a JSON object", {}],
        ),
        case(
            "2.1",
            '[2,"c","Heartbeat",null]',
            [4, "c", "FormatViolation", "the payload is not a JSON object", {}],
        ),
    ],
)
def test_a_malformed_call_is_answered_under_its_id(version: str, frame: str, answer: list) -> None:
    event = make(version).receive(frame)
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply) == answer


@pytest.mark.parametrize("version", VERSIONS_2X)
def test_2x_refuses_a_payload_that_is_no_object_even_without_validation(version: str) -> None:
    event = make(version, validate_calls=False).receive('[2,"c","Heartbeat","text"]')
    assert isinstance(event, CallRefused) and event.error.code == "FormatViolation"
    assert isinstance(
        make(version, validate_calls=False).receive('[2,"d","Heartbeat",{"x":1}]'), CallReceived
    )


@pytest.mark.parametrize(
    "version, code, description",
    [
        case("1.5", "ProtocolError", "callId is too long (>36 chars)"),
        case("1.6", "ProtocolError", "callId is too long (>36 chars)"),
        case("2.0.1", "RpcFrameworkError", LONG_ID),
        case("2.1", "RpcFrameworkError", LONG_ID),
    ],
)
def test_a_unique_id_over_36_characters(version: str, code: str, description: str) -> None:
    """OCPP-J §4.1.4 (2.x Part 4 Table 4): at most 36 characters; the id is readable, so the
    error carries it (the peer can match it); 36 are fine."""
    long_id = "x" * 37
    event = make(version).receive(f'[2,"{long_id}","Heartbeat",{{}}]')
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply) == [4, long_id, code, description, {}]
    assert isinstance(make(version).receive('[2,"' + "x" * 36 + '","Heartbeat",{}]'), CallReceived)


@pytest.mark.parametrize("version", EVERY)
def test_an_action_is_the_message_name_case_sensitive_without_request(version: str) -> None:
    """OCPP-J §4.2.1: NotImplemented, saying what was probably meant (a typo too)."""
    title = f"OCPP {version}"
    for frame, description in [
        (
            '[2,"a","heartbeat",{}]',
            f"unknown action `heartbeat' for {title} (actions are case-sensitive: Heartbeat)",
        ),
        (
            '[2,"b","HeartbeatRequest",{}]',
            f"unknown action `HeartbeatRequest' for {title}"
            " (the action is the message name without `Request')",
        ),
        ('[2,"c","Nope",{}]', f"unknown action `Nope' for {title}"),
        (
            '[2,"d","Heartbeet",{}]',
            f"unknown action `Heartbeet' for {title} (did you mean Heartbeat?)",
        ),
    ]:
        event = make(version).receive(frame)
        assert isinstance(event, CallRefused), frame
        assert json.loads(event.reply)[2:] == ["NotImplemented", description, {}]


@needs_version("2.1")
def test_a_send_message_sent_as_a_call_is_not_implemented() -> None:
    event = make("2.1").receive(json.dumps([2, "a", "NotifyPeriodicEventStream", STREAM]))
    assert isinstance(event, CallRefused)
    assert json.loads(event.reply)[2:] == [
        "NotImplemented",
        "`NotifyPeriodicEventStream' is a SEND in OCPP 2.1 (message type 6), not a CALL",
        {},
    ]


# -- message types a version does not have (2.0.1 §4.4, 2.1 §4.4) ---------------------------------


def test_an_unknown_message_type_in_each_version() -> None:
    """1.x: junk, logged; 2.0.1: MessageTypeNotSupported under the frame's id; 2.1: ignored."""
    frame = '[7,"u",{}]'
    old = make("1.5").receive(frame)
    assert isinstance(old, BadFrame) and old.error is None
    new = make("2.0.1").receive(frame)
    assert isinstance(new, BadFrame)
    assert answer_to(new) == (
        '[4,"u","MessageTypeNotSupported",'
        '"message type 7 is not an OCPP 2.0.1 message type (2, 3, 4)",{}]'
    )


@needs_version("2.1")
def test_21_ignores_an_unknown_message_type() -> None:
    for frame in ['[7,"u",{}]', '[0,"u"]', '[-3,"u","x",{}]', '[99999999999,"u"]']:
        event = make("2.1").receive(frame)
        assert isinstance(event, Ignored), frame
        assert event.reason.endswith("is not an OCPP 2.1 message type (2, 3, 4, 5, 6)")
    assert make("2.1").receive('[7,"u",{}]') == Ignored(
        '[7,"u",{}]', "message type 7 is not an OCPP 2.1 message type (2, 3, 4, 5, 6)"
    )


@pytest.mark.parametrize("version", [*VERSIONS_1X, "2.0.1"])
def test_before_21_a_send_and_a_callresulterror_are_unknown_message_types(version: str) -> None:
    send = json.dumps([6, "s", "NotifyPeriodicEventStream", STREAM])
    rejection = '[5,"r","FormatViolation","why",{}]'
    for frame, uid, kind in [(send, "s", "6 (SEND)"), (rejection, "r", "5 (CALLRESULTERROR)")]:
        event = make(version).receive(frame)
        assert isinstance(event, BadFrame), frame
        reason = f"message type {kind} is not an OCPP {version} message type (2, 3, 4)"
        assert event.reason == reason
        if version in VERSIONS_1X:
            assert event.error is None  # 1.x never answers what it cannot read
        else:
            assert answer_to(event) == json.dumps(
                [4, uid, "MessageTypeNotSupported", reason, {}], separators=(",", ":")
            )


# -- SEND (OCPP 2.1, type 6) -----------------------------------------------------------------------


def test_a_send_frame_is_parsed_and_written() -> None:
    assert parse_frame('[6,"a","NotifyPeriodicEventStream",{"id":1}]') == Send(
        "a", "NotifyPeriodicEventStream", {"id": 1}
    )
    assert Send("a", "X", {}).to_frame() == '[6,"a","X",{}]'


@needs_version("2.1")
def test_21_receives_a_valid_send_and_answers_nothing() -> None:
    session = make("2.1", "cs")
    event = session.receive(json.dumps([6, "s1", "NotifyPeriodicEventStream", STREAM]))
    assert event == SendReceived(Send("s1", "NotifyPeriodicEventStream", STREAM), None)
    assert answer_to(event) is None and session.pending == {}


@needs_version("2.1")
def test_a_send_may_arrive_while_a_call_is_out() -> None:
    """OCPP-J 2.1 §4.2.5: a SEND may come at any time; the CALL's answer is still taken."""
    session = make("2.1", "cs")
    call = session.call("GetVariables", default_payload("2.1", "GetVariablesRequest"))
    event = session.receive(json.dumps([6, "s2", "NotifyPeriodicEventStream", STREAM]))
    assert isinstance(event, SendReceived) and event.problem is None
    assert list(session.pending) == [call.unique_id]
    result = default_payload("2.1", "GetVariablesResponse")
    answered = session.receive(json.dumps([3, call.unique_id, result]))
    assert isinstance(answered, ResultReceived) and answered.violation is None


@needs_version("2.1")
@pytest.mark.parametrize(
    "service, frame, code, reason",
    [
        (
            "cs",
            '[6,"a","NotifyPeriodicEventStream",{}]',
            "OccurrenceConstraintViolation",
            "id: missing (required)",
        ),
        (
            "cs",
            '[6,"b","NotifyPeriodicEventStream",[]]',
            "FormatViolation",
            "the payload is not a JSON object",
        ),
        (
            "cs",
            '[6,"c","Heartbeat",{}]',
            "NotImplemented",
            "`Heartbeat' is a CALL in OCPP 2.1, not a SEND",
        ),
        ("cs", '[6,"d","Nope",{}]', "NotImplemented", "unknown SEND `Nope' for OCPP 2.1"),
        (
            "cs",
            '[6,"e","notifyPeriodicEventStream",{}]',
            "NotImplemented",
            "unknown SEND `notifyPeriodicEventStream' for OCPP 2.1"
            " (actions are case-sensitive: NotifyPeriodicEventStream)",
        ),
        (
            "cp",
            '[6,"f","NotifyPeriodicEventStream",{}]',
            "NotImplemented",
            "a Charge Point does not receive `NotifyPeriodicEventStream'"
            " (a Central System does, OCPP 2.1)",
        ),
        (
            "cs",
            '[6,"' + "g" * 37 + '","NotifyPeriodicEventStream",{}]',
            "RpcFrameworkError",
            LONG_ID,
        ),
    ],
)
def test_a_bad_send_is_reported_but_never_answered(
    service: str, frame: str, code: str, reason: str
) -> None:
    """Nothing answers a SEND, not even a CALLERROR (§4.2.5): what is wrong is the problem
    the simulator reports, and the SEND is still handed on."""
    event = make("2.1", service).receive(frame)
    assert isinstance(event, SendReceived)
    assert event.problem is not None
    assert (event.problem.code, event.problem.reason) == (code, reason)
    assert answer_to(event) is None


@needs_version("2.1")
def test_a_send_is_not_checked_when_validation_is_off() -> None:
    event = make("2.1", validate_calls=False).receive('[6,"a","NotifyPeriodicEventStream",{}]')
    assert isinstance(event, SendReceived) and event.problem is None


@needs_version("2.1")
def test_a_malformed_send_is_ignored() -> None:
    for frame in ['[6,"m","NotifyPeriodicEventStream"]', '[6,"m",5,{}]', '[6,"m","A",{},{}]']:
        event = make("2.1").receive(frame)
        assert event == Ignored(frame, "a SEND is [6, uniqueId, action, {payload}]"), frame


@needs_version("2.1")
def test_21_sends_a_send_with_nothing_pending() -> None:
    session = make("2.1", "cp")
    send = session.send("NotifyPeriodicEventStream", STREAM)
    assert send == Send("id1", "NotifyPeriodicEventStream", STREAM)
    assert send.to_frame() == json.dumps(
        [6, "id1", "NotifyPeriodicEventStream", STREAM], separators=(",", ":")
    )
    assert session.pending == {}
    assert session.send("X", {}, unique_id="mine").unique_id == "mine"


@pytest.mark.parametrize("version", [*VERSIONS_1X, "2.0.1"])
def test_a_version_without_send_refuses_to_send_one(version: str) -> None:
    with pytest.raises(
        MessageTypeUnavailable,
        match=rf"^OCPP {version} has no SEND \(message type 6\); send_raw sends any frame$",
    ):
        make(version, "cp").send("NotifyPeriodicEventStream", STREAM)


# -- CALLRESULTERROR (OCPP 2.1, type 5) -------------------------------------------------------


def test_a_callresulterror_frame_is_parsed_and_written() -> None:
    assert parse_frame('[5,"a","GenericError","why",{"k":1}]') == CallResultError(
        "a", "GenericError", "why", {"k": 1}
    )
    assert parse_frame('[5,"a","GenericError","why"]') == CallResultError(
        "a", "GenericError", "why", {}
    )
    assert CallResultError("a", "FormatViolation", "x").to_frame() == (
        '[5,"a","FormatViolation","x",{}]'
    )


BAD_BOOT = '[3,"id1",{"currentTime":"2024-01-01T00:00:00Z","interval":300,"status":"Bogus"}]'


@needs_version("2.1")
def test_21_answers_a_callresult_that_breaks_its_schema_with_a_callresulterror() -> None:
    """OCPP-J 2.1 §4.2.4: under the CALLRESULT's id, with the code and reason a CALL would get;
    the result is still taken (the CALL is over)."""
    session = make("2.1", "cp")
    session.call("BootNotification", default_payload("2.1", "BootNotificationRequest"))
    event = session.receive(BAD_BOOT)
    assert isinstance(event, ResultReceived) and event.violation is not None
    assert answer_to(event) == (
        '[5,"id1","PropertyConstraintViolation",'
        '"status: \'Bogus\' is not one of Accepted, Pending, Rejected",{"field":"status"}]'
    )
    assert event.result.payload["status"] == "Bogus" and session.pending == {}


@pytest.mark.parametrize("version", [*VERSIONS_1X, "2.0.1"])
def test_before_21_a_bad_callresult_is_only_reported(version: str) -> None:
    session = make(version, "cp")
    session.call("Heartbeat", {})
    event = session.receive('[3,"id1",{"currentTime":"yesterday"}]')
    assert isinstance(event, ResultReceived) and event.violation is not None
    assert event.reply is None


@needs_version("2.1")
def test_21_sends_no_callresulterror_for_a_result_it_accepts_or_does_not_check() -> None:
    session = make("2.1", "cp")
    session.call("Heartbeat", {})
    good = session.receive('[3,"id1",{"currentTime":"2024-01-01T00:00:00Z"}]')
    assert isinstance(good, ResultReceived) and good.reply is None
    unchecked = make("2.1", "cp", validate_results=False)
    unchecked.call("Heartbeat", {})
    event = unchecked.receive('[3,"id1",{"currentTime":"yesterday"}]')
    assert isinstance(event, ResultReceived) and event.reply is None
    session.call("NoSuchThing", {}, unique_id="raw")  # send -n: no schema to check against
    event = session.receive('[3,"raw",{"anything":1}]')
    assert isinstance(event, ResultReceived) and event.reply is None
    late = session.receive('[3,"gone",{"currentTime":"yesterday"}]')  # no CALL waits for it
    assert answer_to(late) is None


@needs_version("2.1")
def test_21_receives_a_callresulterror_about_one_of_its_callresults() -> None:
    session = make("2.1", "cs")
    call = session.receive('[2,"c1","Heartbeat",{}]')
    assert isinstance(call, CallReceived)
    session.answer(call.call, {"currentTime": "2024-01-01T00:00:00Z"})
    session.call("Reset", {"type": "Immediate"}, unique_id="c1")  # each side has its own ids
    pending = session.pending["c1"]
    frame = '[5,"c1","FormatViolation","currentTime: too old",{"field":"currentTime"}]'
    event = session.receive(frame)
    assert event == ResultErrorReceived(
        CallResultError("c1", "FormatViolation", "currentTime: too old", {"field": "currentTime"}),
        "Heartbeat",
    )
    assert answer_to(event) is None  # never answered
    assert session.pending == {"c1": pending}  # about our CALLRESULT, not our CALL
    assert pending.action == "Reset"
    again = session.receive(frame)
    assert isinstance(again, ResultErrorReceived) and again.action is None


@needs_version("2.1")
def test_21_remembers_only_its_latest_answers() -> None:
    session = make("2.1", "cs")
    for n in range(REMEMBERED_ANSWERS + 4):
        session.answer(Call(f"c{n}", "Heartbeat", {}), {})
    oldest = session.receive('[5,"c0","GenericError","x",{}]')
    newest = session.receive(f'[5,"c{REMEMBERED_ANSWERS + 3}","GenericError","x",{{}}]')
    assert isinstance(oldest, ResultErrorReceived) and oldest.action is None
    assert isinstance(newest, ResultErrorReceived) and newest.action == "Heartbeat"


@pytest.mark.parametrize("version", [*VERSIONS_1X, "2.0.1"])
def test_before_21_no_record_of_answers_is_kept(version: str) -> None:
    session = make(version)
    session.answer(Call("c1", "Heartbeat", {}), {})
    assert session._answered is None


# -- the same messages decoded by a link ---------------------------------------------------------


@needs_version("2.1")
def test_a_decoded_send_and_callresulterror_get_the_same_handling() -> None:
    session = make("2.1", "cs")
    event = session.receive_message(Send("s", "NotifyPeriodicEventStream", STREAM))
    assert event == SendReceived(Send("s", "NotifyPeriodicEventStream", STREAM), None)
    event = session.receive_message(CallResultError("r", "GenericError", "x"))
    assert event == ResultErrorReceived(CallResultError("r", "GenericError", "x"), None)
    assert session.receive_message(CallResult("none", {})) is not None
    assert make("2.1").refuse("a", "GenericError") == CallError("a", "GenericError", "Other error.")
