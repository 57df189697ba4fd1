"""The monitor's checks, fed events as a simulator publishes them (no sockets, a fake clock):
each check finds what it should, with the frame that caused it, and nothing on a clean link."""

from __future__ import annotations

import json
from typing import Any

from ocppsim.check.monitor import FAIL, WARN, Monitor
from ocppsim.core import events
from ocppsim.core.rpc import Call, CallError, CallResult


class Link:
    """One link's events, as the simulator that speaks as `speaker` publishes them."""

    def __init__(self, monitor: Monitor, speaker: str, peer: str, protocol: str):
        self.monitor, self.speaker, self.peer = monitor, speaker, peer
        self.ids = 0
        monitor(events.Connected(speaker, peer, "websocket", "cp01", protocol))

    def uid(self) -> str:
        self.ids += 1
        return f"u{self.ids}"

    def _frame(self, kind: type, message: Any) -> str:
        wire = message.to_frame()
        self.monitor(kind(self.speaker, self.peer, "websocket", wire, wire, message))
        return wire

    def they_call(self, action: str, payload: Any, uid: str | None = None) -> str:
        return self._frame(events.FrameReceived, Call(uid or self.uid(), action, payload))

    def we_answer(self, uid: str, payload: Any) -> None:
        self._frame(events.FrameSent, CallResult(uid, payload))

    def exchange_theirs(self, action: str, payload: Any, answer: Any) -> str:
        uid = self.uid()
        wire = self.they_call(action, payload, uid)
        self.we_answer(uid, answer)
        return wire

    def we_call(self, action: str, payload: Any) -> str:
        uid = self.uid()
        self._frame(events.FrameSent, Call(uid, action, payload))
        return uid

    def they_answer(self, uid: str, payload: Any) -> str:
        return self._frame(events.FrameReceived, CallResult(uid, payload))

    def exchange_ours(self, action: str, payload: Any, answer: Any) -> None:
        self.they_answer(self.we_call(action, payload), answer)


def monitor(**options: Any) -> tuple[Monitor, list[float]]:
    now = [0.0]
    return Monitor(clock=lambda: now[0], booting=lambda s, p: True, **options), now


def found(m: Monitor) -> list[tuple[str, str]]:
    return [(f.check, f.severity) for f in m.findings]


NOW = "2026-01-01T00:00:00Z"


def test_a_clean_1x_session_has_no_finding() -> None:
    m, now = monitor()
    cp = Link(m, "cs", "cp#cp01", "ocpp1.6")
    cp.exchange_theirs("BootNotification", {}, {"status": "Accepted", "interval": 60})
    cp.exchange_theirs(
        "StartTransaction", {"connectorId": 1, "meterStart": 10}, {"transactionId": 5}
    )
    cp.exchange_theirs("MeterValues", {"connectorId": 1, "transactionId": 5}, {})
    now[0] = 50
    cp.exchange_theirs("Heartbeat", {}, {})
    cp.exchange_theirs("StopTransaction", {"transactionId": 5, "meterStop": 20}, {})
    assert m.finish() == []


def test_a_charge_point_that_breaks_the_boot_rules() -> None:
    m, now = monitor()
    cp = Link(m, "cs", "cp#cp01", "ocpp1.6")
    early = cp.they_call("Heartbeat", {})
    assert found(m) == [("boot", WARN)]  # before any BootNotification on this connection
    assert m.findings[0].frame == early
    cp.exchange_theirs("BootNotification", {}, {"status": "Rejected", "interval": 30})
    rejected = cp.they_call("StatusNotification", {})
    assert found(m)[-1] == ("boot", FAIL)
    assert m.findings[-1].frame == rejected
    assert m.findings[-1].requirement == "OCPP 1.6 §4.2.1 (Rejected: no message until the interval)"
    now[0] = 5
    cp.exchange_theirs("BootNotification", {}, {"status": "Pending", "interval": 30})
    assert found(m)[-1] == ("boot", WARN)  # again before the interval
    assert "before the interval of 30 s" in m.findings[-1].text
    count = len(m.findings)
    cp.exchange_ours(
        "TriggerMessage", {"requestedMessage": "StatusNotification"}, {"status": "Accepted"}
    )
    cp.they_call("StatusNotification", {})  # triggered: allowed once
    assert len(m.findings) == count
    cp.they_call("StatusNotification", {})
    assert found(m)[-1] == ("boot", FAIL)
    assert "while its boot is Pending, and no TriggerMessage asked for it" in m.findings[-1].text


def test_1x_transaction_ids_must_be_open() -> None:
    m, _ = monitor()
    cp = Link(m, "cs", "cp#cp01", "ocpp1.6")
    cp.exchange_theirs("BootNotification", {}, {"status": "Accepted", "interval": 600})
    cp.exchange_theirs(
        "StartTransaction", {"connectorId": 1, "meterStart": 100}, {"transactionId": 5}
    )
    wrong = cp.they_call("MeterValues", {"connectorId": 1, "transactionId": 7})
    assert found(m) == [("transaction", FAIL)]
    assert m.findings[0].text == (
        "MeterValues names transactionId 7, which is not an open transaction (open: 5)"
    )
    assert m.findings[0].frame == wrong
    cp.they_call("StopTransaction", {"transactionId": 5, "meterStop": 50})
    assert found(m)[-1] == ("transaction", WARN)  # meterStop below meterStart
    cp.they_call("StopTransaction", {"transactionId": 5, "meterStop": 150})
    assert found(m)[-1] == ("transaction", FAIL)
    assert "(it was stopped already)" in m.findings[-1].text


def test_2x_transaction_events_and_their_sequence_numbers() -> None:
    m, _ = monitor()
    cp = Link(m, "cs", "cp#cs01", "ocpp2.0.1")
    cp.exchange_theirs("BootNotification", {}, {"status": "Accepted", "interval": 600})

    def event(kind: str, seq: int, tx: str = "T1") -> str:
        body = {"eventType": kind, "seqNo": seq, "transactionInfo": {"transactionId": tx}}
        return cp.they_call("TransactionEvent", body)

    event("Started", 0)
    event("Updated", 1)
    assert found(m) == []
    event("Updated", 3)
    assert found(m) == [("transaction", WARN)]
    assert "1 message(s) missing" in m.findings[-1].text
    event("Updated", 3)
    assert found(m)[-1] == ("transaction", FAIL)
    assert "seqNo 3, not above the previous 3" in m.findings[-1].text
    event("Ended", 4)
    after = event("Updated", 5)
    assert found(m)[-1] == ("transaction", FAIL)
    assert m.findings[-1].frame == after and "after it Ended" in m.findings[-1].text
    event("Updated", 0, "T2")
    assert found(m)[-1] == ("transaction", WARN)  # never Started


def test_unique_ids() -> None:
    m, _ = monitor()
    cp = Link(m, "cs", "cp#cp01", "ocpp1.6")
    cp.exchange_theirs("BootNotification", {}, {"status": "Accepted", "interval": 600})
    cp.they_call("StatusNotification", {}, "same")
    again = cp.they_call("StatusNotification", {}, "same")
    assert found(m) == [("unique-id", FAIL)]
    assert m.findings[0].frame == again
    m(events.AnswerIgnored("cs", "cp#cp01", "websocket", "nobody"))
    assert found(m)[-1] == ("unique-id", FAIL)
    assert "which no CALL of ours had" in m.findings[-1].text
    count = len(m.findings)
    m(events.AnswerIgnored("cs", "cp#cp01", "websocket", "-1"))  # 2.x answer to a bad frame
    m.allow_answer("cs", "cp#cp01", "raw1")
    m(events.AnswerIgnored("cs", "cp#cp01", "websocket", "raw1"))
    assert len(m.findings) == count


def test_answer_times() -> None:
    m, now = monitor(answer_timeout=1.0)
    cs = Link(m, "cp#cp01", "cs", "ocpp2.0.1")
    uid = cs.we_call("Heartbeat", {})
    now[0] = 2.5
    late = cs.they_answer(uid, {"currentTime": NOW})
    assert found(m)[0] == ("answer", FAIL)
    assert m.findings[0].text == "the answer to Heartbeat came after 2.5 s (at most 1 s)"
    assert m.findings[0].frame == late
    uid = cs.we_call("Authorize", {})
    now[0] = 4.0
    m(events.CallTimedOut("cp#cp01", "cs", "websocket", uid, "Authorize"))
    assert m.findings[-1].text == "no answer to Authorize within 1.5 s"
    m(events.AnswerIgnored("cp#cp01", "cs", "websocket", uid))
    assert m.findings[-1].text == "the answer to Authorize came after we gave up waiting for it"


def test_heartbeats_too_often_and_silence() -> None:
    m, now = monitor(heartbeat_slack=0.0)
    cp = Link(m, "cs", "cp#cp01", "ocpp1.6")
    cp.exchange_theirs("BootNotification", {}, {"status": "Accepted", "interval": 10})
    now[0] = 10
    cp.exchange_theirs("Heartbeat", {}, {})
    now[0] = 12
    cp.exchange_theirs("Heartbeat", {}, {})
    assert found(m) == [("heartbeat", WARN)]
    assert (
        m.findings[0].text == "a Heartbeat 2.0 s after the previous one, with an interval of 10 s"
    )
    now[0] = 40
    assert found(m) == [("heartbeat", WARN)]
    m.finish()
    assert found(m) == [("heartbeat", WARN), ("heartbeat", WARN)]
    assert m.findings[-1].text.startswith("no Heartbeat (nor any other CALL) for 28.0 s")
    # a ChangeConfiguration of HeartbeatInterval that was Accepted sets the interval
    cp.exchange_ours(
        "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "3"}, {"status": "Accepted"}
    )
    now[0] = 41
    cp.exchange_theirs("Heartbeat", {}, {})
    now[0] = 42
    cp.exchange_theirs("Heartbeat", {}, {})
    assert "with an interval of 3 s" in m.findings[-1].text
    # a Heartbeat a TriggerMessage asked for may come at any time (OCPP 1.6 §5.17)
    before = len(m.findings)
    cp.exchange_ours("TriggerMessage", {"requestedMessage": "Heartbeat"}, {"status": "Accepted"})
    cp.exchange_theirs("Heartbeat", {}, {})
    assert len(m.findings) == before
    cp.exchange_theirs("Heartbeat", {}, {})  # one Heartbeat was asked for, not two
    assert len(m.findings) == before + 1


def test_a_central_system_that_breaks_the_rules() -> None:
    m, _ = monitor()
    cs = Link(m, "cp#cp01", "cs", "ocpp2.0.1")
    eager = cs.they_call("GetVariables", {})
    assert found(m) == [("boot", FAIL)]
    assert m.findings[0].frame == eager
    assert m.findings[0].requirement.startswith("OCPP 2.0.1 B02.FR.01")
    cs.exchange_ours(
        "BootNotification", {}, {"status": "Rejected", "interval": 5, "currentTime": NOW}
    )
    assert found(m)[-1] == ("clock", WARN)  # 2026-01-01 is far from now
    cs.they_call("Reset", {"type": "Immediate"})
    assert found(m)[-1] == ("boot", FAIL)
    assert m.findings[-1].text == "the Central System sends Reset while the boot is Rejected"
    m2, _ = monitor()
    old = Link(m2, "cp#cp01", "cs", "ocpp1.6")
    old.they_call("GetConfiguration", {})
    assert found(m2) == [("boot", WARN)]  # 1.6: SHOULD NOT
    old.exchange_ours("BootNotification", {}, {"status": "Pending", "interval": 5})
    old.they_call("GetConfiguration", {})  # allowed while Pending
    old.they_call("RemoteStartTransaction", {"idTag": "X"})
    assert found(m2)[-1] == ("boot", FAIL)
    assert m2.findings[-1].requirement == "OCPP 1.6 §4.2.1 (Pending: no remote start or stop)"


def test_a_central_system_with_inconsistent_transaction_ids() -> None:
    m, _ = monitor()
    cs = Link(m, "cp#cp01", "cs", "ocpp1.6")
    cs.exchange_ours("BootNotification", {}, {"status": "Accepted", "interval": 60})
    cs.exchange_ours("StartTransaction", {"connectorId": 1}, {"transactionId": 1})
    cs.exchange_ours("StartTransaction", {"connectorId": 2}, {"transactionId": 1})
    assert found(m) == [("transaction", FAIL)]
    assert "gave transactionId 1 to a new transaction" in m.findings[0].text
    assert json.loads(m.findings[0].frame or "")[2] == {"transactionId": 1}
    stop = cs.they_call("RemoteStopTransaction", {"transactionId": 2})
    assert found(m)[-1] == ("transaction", FAIL)
    assert m.findings[-1].frame == stop
    assert "(open: 1)" in m.findings[-1].text


def test_schema_and_error_code_findings() -> None:
    m, _ = monitor()
    cs = Link(m, "cp#cp01", "cs", "ocpp1.6")
    cs.exchange_ours("BootNotification", {}, {"status": "Accepted", "interval": 60})
    bad = '[2,"x","Reset",{"type":"Sometimes"}]'
    m(events.FrameReceived("cp#cp01", "cs", "websocket", bad, bad, None))
    m(
        events.CallRefused(
            "cp#cp01",
            "cs",
            "websocket",
            "x",
            "Reset",
            "PropertyConstraintViolation",
            "type: 'Sometimes' is not one of ['Hard', 'Soft']",
        )
    )
    assert found(m) == [("schema", FAIL)]
    assert m.findings[0].frame == bad
    line = m.findings[0].line()
    assert line.startswith("FAIL schema: the Central System's CALL Reset was refused with")
    assert "PropertyConstraintViolation: type: 'Sometimes'" in line
    uid = cs.we_call("Heartbeat", {})
    error = CallError(uid, "RpcFrameworkError", "not 1.6")
    m(events.FrameReceived("cp#cp01", "cs", "websocket", error.to_frame(), "", error))
    assert found(m)[-1] == ("error-code", WARN)
    assert "which is not an error code of OCPP 1.6" in m.findings[-1].text
