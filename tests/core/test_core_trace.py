"""Recordings read back and answers compared (`ocppsim.core.trace`), without sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ocppsim.core.trace import Change, IdMap, Outcome, TraceError, compare, learn, parse

HEADER = {"record": "ocppsim-trace", "format": 1, "ocppsim": "0", "started": "2024-01-01T00:00:00Z"}


def frame(
    speaker: str, direction: str, kind: str, uid: str, t: float, **more: Any
) -> dict[str, Any]:
    peer = "cs" if speaker.startswith("cp#") else "cp#cp01"
    return {
        "t": t,
        "event": "frame",
        "speaker": speaker,
        "peer": peer,
        "chargePointId": "cp01",
        "dir": direction,
        "version": "1.6",
        "transport": "websocket",
        "type": kind,
        "id": uid,
        **more,
    }


def lines(*records: dict[str, Any]) -> list[str]:
    return [json.dumps(HEADER), *(json.dumps(r) for r in records)]


def test_a_conversation_is_read_from_the_end_the_replay_plays_or_else_the_other() -> None:
    """The CS's view only: --as cp reads it flipped (its received CALLs are the CP's)."""
    trace = parse(
        lines(
            frame("cs", "received", "CALL", "a", 0.1, action="BootNotification", payload={"x": 1}),
            frame("cs", "sent", "CALLRESULT", "a", 0.2, action="BootNotification", payload={}),
            frame("cs", "sent", "CALL", "b", 0.3, action="Reset", payload={"type": "Soft"}),
            frame("cs", "received", "CALLERROR", "b", 0.4, code="NotSupported", description="no"),
            frame("cs", "received", "CALL", "c", 0.5, action="Heartbeat", payload={}),
            {
                "t": 9,
                "event": "timeout",
                "speaker": "cs",
                "peer": "cp#cp01",
                "chargePointId": "cp01",
                "id": "x",
                "action": "Y",
            },
        )
    )
    assert trace.charge_point_ids() == ["cp01"] and trace.frames == 5
    conversation = trace.conversation("cp01", "cp")
    assert (conversation.version, conversation.transport) == ("1.6", "websocket")
    boot, reset, heartbeat = conversation.exchanges
    assert (boot.sender, boot.action, boot.line, boot.answer) == (
        "cp",
        "BootNotification",
        2,
        Outcome("CALLRESULT", {}),
    )
    assert reset.sender == "cs" and reset.answer == Outcome("CALLERROR", None, "NotSupported", "no")
    assert reset.calls_before == 1  # the charge point had sent one CALL before it
    assert heartbeat.outcome == Outcome("none")
    assert [e.action for e in conversation.sent_by("cp")] == ["BootNotification", "Heartbeat"]


def test_duplicates_late_answers_and_timeouts_are_read_as_they_happened() -> None:
    trace = parse(
        lines(
            frame("cp#cp01", "sent", "CALL", "a", 0.1, action="Heartbeat", payload={}),
            frame(
                "cp#cp01",
                "sent",
                "CALL",
                "a",
                0.11,
                action="Heartbeat",
                payload={},
                fault={"kind": "duplicate", "text": "…"},
            ),
            frame("cp#cp01", "received", "CALLRESULT", "a", 0.2, payload={"currentTime": "x"}),
            frame("cp#cp01", "received", "CALLRESULT", "a", 0.3, payload={"late": True}),
            frame("cp#cp01", "sent", "CALL", "b", 0.4, action="Authorize", payload={}),
            {
                "event": "timeout",
                "speaker": "cp#cp01",
                "peer": "cs",
                "chargePointId": "cp01",
                "id": "b",
                "action": "Authorize",
                "t": 1,
            },
            frame("cs", "received", "CALL", "a", 0.1, action="Heartbeat", payload={}),
        )
    )
    heartbeat, authorize = trace.conversation("cp01", "cp").exchanges
    assert heartbeat.answer == Outcome("CALLRESULT", {"currentTime": "x"})
    assert authorize.answer == Outcome("timeout")
    assert len(trace.conversation("cp01", "cs").exchanges) == 1  # the CS's own view


def test_a_file_that_is_no_recording_says_so() -> None:
    with pytest.raises(TraceError, match="not an ocppsim recording"):
        parse(['{"hello": 1}'])
    with pytest.raises(TraceError, match=r"<recording>:2: not JSON"):
        parse([json.dumps(HEADER), "{oops"])
    with pytest.raises(TraceError, match="empty"):
        parse([])


def test_answers_compare_without_ids_and_date_times() -> None:
    recorded = Outcome(
        "CALLRESULT",
        {"status": "Accepted", "currentTime": "2024-01-01T00:00:00Z", "list": [1, 2], "gone": 1},
    )
    got = Outcome(
        "CALLRESULT",
        {"status": "Pending", "currentTime": "2026-11-30T07:00:00.123Z", "list": [1], "new": 2},
    )
    assert compare(recorded, got) == [
        Change("status", '"Accepted"', '"Pending"'),
        Change("list", "2 items", "1 items"),
        Change("gone", "1", "(missing)"),
        Change("new", "(missing)", "2"),
    ]
    assert compare(recorded, got, ignore=("status", "list", "gone", "new")) == []
    assert compare(recorded, recorded) == []
    error = Outcome("CALLERROR", None, "NotSupported", "no")
    assert compare(recorded, error) == [Change("", recorded.shown(), "CALLERROR NotSupported (no)")]
    assert compare(error, Outcome("CALLERROR", None, "InternalError")) == [
        Change("errorCode", '"NotSupported"', '"InternalError"')
    ]
    assert compare(Outcome("timeout"), Outcome("CALLRESULT", {}))[0].recorded == (
        "no answer (timeout)"
    )


def test_assigned_ids_are_paired_then_carried_into_later_frames() -> None:
    ids = IdMap()
    started = Outcome("CALLRESULT", {"transactionId": 1, "idTagInfo": {"status": "Accepted"}})
    assert (
        compare(
            started,
            Outcome("CALLRESULT", {"transactionId": 7, "idTagInfo": {"status": "Accepted"}}),
            ids,
        )
        == []
    )
    assert ids.translate(
        {"transactionId": 1, "meterStop": 5, "nested": [{"transactionId": 1}]}
    ) == {
        "transactionId": 7,
        "meterStop": 5,
        "nested": [{"transactionId": 7}],
    }
    # a later answer naming the recorded id with another live one is a difference
    assert compare(
        Outcome("CALLRESULT", {"transactionId": 1}),
        Outcome("CALLRESULT", {"transactionId": 8}),
        ids,
    ) == [Change("transactionId", "1", "8")]
    # a peer's CALL teaches a pair too (2.x: the charging station names its transactions)
    learn(
        {"transactionInfo": {"transactionId": "tx-1"}},
        {"transactionInfo": {"transactionId": "AB"}},
        ids,
    )
    assert ids.translate({"transactionId": "tx-1"}) == {"transactionId": "AB"}
