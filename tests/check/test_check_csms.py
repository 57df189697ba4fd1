"""The built-in csms suites, run in-process against ocppsim's own Central System (a plain one
passes every case; a --stateless one, whose canned answers are lenient, fails the cases it
should) and against Central Systems broken on purpose, one per kind of mistake: each fails
with the right case, the requirement it breaks and the frame that shows it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from check_testing import check, explain, ocppsim_cs, run, verdicts

from ocppsim.core import versions
from ocppsim.core.defaults import utc_now
from ocppsim.core.errors import CallError

CSMS_VERSIONS = [v for v in ("1.6", "2.0.1", "2.1") if v in versions.names()]
PREFIX = {"1.6": "CSMS-16", "2.0.1": "CSMS-201", "2.1": "CSMS-21"}


@pytest.mark.parametrize("version", CSMS_VERSIONS)
def test_every_case_passes_against_a_plain_ocppsim_central_system(version: str) -> None:
    """ocppsim's Central System, nothing loaded or configured, passes every case of the suite
    of its version, with no finding of the monitor (asks carried out in-band): none is
    skipped."""

    async def scenario() -> dict[str, Any]:
        async with ocppsim_cs() as cs:
            return await check(cs.url, version)

    results = run(scenario())
    assert len(results) >= 29
    assert {v for v in verdicts(results).values()} == {"pass"}, explain(results)
    assert [f.line() for r in results.values() for f in r.findings] == []
    boot = results[f"{PREFIX[version]}-BOOT-01"]
    assert boot.requirement.startswith("OCPP")
    assert [s.kind for s in boot.steps] == ["connect", "send", "send"]
    assert any(f.direction == "received" and f.message_type == "CALLRESULT" for f in boot.frames)


def test_one_central_system_checked_in_one_version_then_another() -> None:
    """The same charge point id checked in 1.6, then 2.0.1, against one ocppsim CS: what a 1.6
    TriggerMessage allowed is forgotten at the next boot, so the 2.0.1 station's CALL while
    Rejected is still refused (B03.FR.07)."""

    async def scenario() -> tuple[dict[str, Any], dict[str, Any]]:
        async with ocppsim_cs() as cs:
            first = await check(cs.url, "1.6", ["CSMS-16-TRIGGER-01"])
            then = await check(cs.url, "2.0.1", ["CSMS-201-BOOT-03"])
            return first, then

    first, then = run(scenario())
    assert verdicts(first) == {"CSMS-16-TRIGGER-01": "pass"}
    assert verdicts(then) == {"CSMS-201-BOOT-03": "pass"}, explain(then)


def test_a_stateless_central_system_fails_where_its_answers_are_canned() -> None:
    """`start_cs --stateless` accepts every idTag and vendorId and answers transaction id 1 to
    every StartTransaction: the cases that check those fail, naming the field; it takes no ask
    (its DataTransfer answer is Accepted without the ask's id), so the cases that need one are
    skipped, saying what they need."""

    async def scenario() -> dict[str, Any]:
        async with ocppsim_cs(stateless=True) as cs:
            return await check(cs.url, "1.6")

    results = run(scenario())
    found = verdicts(results)
    failed = sorted(case for case, verdict in found.items() if verdict == "fail")
    assert failed == ["CSMS-16-AUTH-02", "CSMS-16-DATA-01", "CSMS-16-TX-02", "CSMS-16-TX-03"]
    assert 'idTagInfo.status is "Accepted", expected "Invalid"' in results["CSMS-16-AUTH-02"].reason
    assert 'status is "Accepted", expected "UnknownVendorId"' in results["CSMS-16-DATA-01"].reason
    tx = results["CSMS-16-TX-03"]
    assert "transactionId is 1, expected anything but 1" in tx.reason
    assert [f.check for f in tx.findings] == ["transaction"]  # the monitor saw it too
    assert "still open" in tx.findings[0].text and tx.findings[0].frame.startswith("[3,")
    skipped = [r for r in results.values() if r.verdict == "skip"]
    assert len(skipped) >= 15
    assert all("does not take asks" in r.reason and "needs: Make the" in r.reason for r in skipped)
    assert found["CSMS-16-BOOT-01"] == found["CSMS-16-ERROR-01"] == "pass"


# -- Central Systems broken on purpose ------------------------------------------------------------


async def broken(version: str, cases: list[str], mistake: Any, **options: Any) -> dict[str, Any]:
    """Run `cases` against ocppsim's CS with `mistake(cs)` installed."""
    async with ocppsim_cs() as cs:
        mistake(cs)
        return await check(cs.url, version, cases, **options)


def failed_step(result: Any) -> Any:
    return next(s for s in result.steps if s.status == "fail")


def test_a_central_system_that_rejects_the_boot() -> None:
    def mistake(cs: Any) -> None:
        answer = {"status": "Rejected", "interval": 60, "currentTime": "2030-01-01T00:00:00Z"}
        cs.on_call("BootNotification", lambda payload: answer)

    results = run(broken("1.6", ["CSMS-16-BOOT-01", "CSMS-16-HEARTBEAT-01"], mistake))
    boot = results["CSMS-16-BOOT-01"]
    assert boot.verdict == "fail"
    assert boot.reason.startswith(
        "step 1 (send BootNotification): the answer to BootNotification:"
        ' status is "Rejected", expected "Accepted"'
    )
    assert boot.requirement == "OCPP 1.6 §4.2 (BootNotification), §4.9 (StatusNotification)"
    assert '"status":"Rejected"' in failed_step(boot).frame
    heartbeat = results["CSMS-16-HEARTBEAT-01"]  # its prerequisite fails: named as such
    assert heartbeat.verdict == "fail"
    assert heartbeat.reason.startswith("step 0 (boot (prerequisite)): the Central System answered")


def test_a_central_system_that_answers_with_an_invalid_payload() -> None:
    def mistake(cs: Any) -> None:
        cs.on_call("Heartbeat", lambda payload: {"currentTime": 42})

    results = run(broken("1.6", ["CSMS-16-HEARTBEAT-01"], mistake))
    result = results["CSMS-16-HEARTBEAT-01"]
    assert result.verdict == "fail"
    assert "the answer to Heartbeat breaks its schema: currentTime" in result.reason
    assert failed_step(result).frame.endswith('{"currentTime":42}]')
    assert [f.check for f in result.findings] == ["schema"]
    assert result.findings[0].frame.endswith('{"currentTime":42}]')


def test_a_central_system_that_never_answers() -> None:
    def mistake(cs: Any) -> None:
        async def never(payload: Any) -> Any:
            await asyncio.get_running_loop().create_future()

        cs.on_call("Authorize", never)

    results = run(broken("1.6", ["CSMS-16-AUTH-01"], mistake, within=1.0))
    result = results["CSMS-16-AUTH-01"]
    assert result.verdict == "fail"
    assert result.reason == "step 1 (send Authorize): no answer to Authorize within 1 s"
    assert [f.check for f in result.findings] == ["answer"]
    assert result.findings[0].text.startswith("no answer to Authorize within")


def test_a_central_system_that_answers_late() -> None:
    """An answer within the step's wait but beyond --answer-timeout: the steps pass, the
    monitor fails the case."""

    def mistake(cs: Any) -> None:
        async def slowly(payload: Any) -> Any:
            await asyncio.sleep(0.6)
            return None

        cs.on_call("Heartbeat", slowly)

    results = run(broken("2.0.1", ["CSMS-201-HEARTBEAT-01"], mistake, answer_timeout=0.3))
    result = results["CSMS-201-HEARTBEAT-01"]
    assert result.verdict == "fail"
    assert all(s.status == "pass" for s in result.steps)
    assert result.reason.startswith("FAIL answer: the answer to Heartbeat came after 0.")
    assert "(at most 0.3 s)" in result.reason and "frame [3," in result.reason


def test_a_central_system_that_gives_one_transaction_id_twice() -> None:
    def mistake(cs: Any) -> None:
        cs.on_call(
            "StartTransaction",
            lambda payload: {"transactionId": 500, "idTagInfo": {"status": "Accepted"}},
        )

    results = run(broken("1.6", ["CSMS-16-TX-03"], mistake))
    result = results["CSMS-16-TX-03"]
    assert result.verdict == "fail"
    assert result.reason == (
        "step 2 (send StartTransaction): the answer to StartTransaction: transactionId is 500,"
        " expected anything but 500"
    )
    assert [f.check for f in result.findings] == ["transaction"]
    assert result.findings[0].requirement == "OCPP 1.6 §4.8 (StartTransaction.conf transactionId)"


def test_a_central_system_that_stops_another_transaction() -> None:
    """Its records do not match what it told the charge point: asked to stop the transaction
    on the connector, it names a transaction id it never gave. The step and the monitor say
    so, with the frame."""

    def mistake(cs: Any) -> None:
        def ask(payload: Any, ctx: Any) -> Any:  # it takes the ask, and names another id
            if payload.get("vendorId") != "ocppsim" or "RemoteStop" not in payload["data"]:
                return None
            ctx.call("RemoteStopTransaction", {"transactionId": 900001})
            return {"status": "Accepted", "data": json.loads(payload["data"])["id"]}

        cs.on_call("DataTransfer", ask)

    results = run(broken("1.6", ["CSMS-16-REMOTE-02"], mistake, within=1.0))
    result = results["CSMS-16-REMOTE-02"]
    assert result.verdict == "fail", explain(results)
    assert result.reason.startswith(
        "step 3 (expect RemoteStopTransaction): no RemoteStopTransaction matching the step"
    )
    assert "transactionId is 900001, expected " in result.reason
    assert [f.check for f in result.findings] == ["transaction"]
    finding = result.findings[0]
    assert "RemoteStopTransaction names transactionId 900001" in finding.text
    assert "which the Central System never gave to an open transaction (open: " in finding.text
    assert finding.frame is not None and '"RemoteStopTransaction"' in finding.frame


def test_a_csms_that_sends_a_call_before_the_boot_is_accepted() -> None:
    """A 2.0.1 CSMS that asks for variables as soon as a station connects, before it answered
    its BootNotification: the monitor fails the case (B02/B03)."""

    async def scenario() -> dict[str, Any]:
        async with ocppsim_cs() as cs:

            async def eager(state: str, cp_id: str) -> None:
                if state == "connected":
                    await cs.call(cp_id, "GetVariables")

            cs.behaviour.connection_listeners.append(eager)
            return await check(cs.url, "2.0.1", ["CSMS-201-BOOT-01"])

    results = run(scenario())
    result = results["CSMS-201-BOOT-01"]
    assert result.verdict == "fail"
    assert all(s.status == "pass" for s in result.steps)
    assert result.reason.startswith(
        "FAIL boot: the Central System sends GetVariables before it answered the BootNotification"
    )
    assert "B02.FR.01" in result.reason and '"GetVariables"' in result.reason


def test_a_central_system_that_accepts_an_unknown_tag() -> None:
    def mistake(cs: Any) -> None:
        cs.on_call("Authorize", lambda payload: {"idTokenInfo": {"status": "Accepted"}})

    results = run(broken("2.0.1", ["CSMS-201-AUTH-01", "CSMS-201-AUTH-02"], mistake))
    assert results["CSMS-201-AUTH-01"].verdict == "pass"
    result = results["CSMS-201-AUTH-02"]
    assert result.verdict == "fail"
    assert result.reason == (
        'step 1 (send Authorize): the answer to Authorize: idTokenInfo.status is "Accepted",'
        ' expected one of "Unknown", "Invalid"'
    )
    assert result.requirement == "OCPP 2.0.1 Part 2 C01 (Unknown or Invalid for an unknown idToken)"


def test_a_csms_that_answers_a_pending_station_normally() -> None:
    """B02.FR.09: while Pending, a CALL other than BootNotification gets SecurityError."""

    def mistake(cs: Any) -> None:  # a plugin's answer wins over the Central System's rule
        cs.on_call("Heartbeat", lambda payload: {"currentTime": utc_now()})

    results = run(broken("2.0.1", ["CSMS-201-BOOT-02"], mistake))
    result = results["CSMS-201-BOOT-02"]
    assert result.verdict == "fail"
    assert result.reason.startswith(
        "step 3 (send Heartbeat): Heartbeat was answered with a CALLRESULT, expected a CALLERROR"
        " (SecurityError)"
    )
    assert result.requirement == "OCPP 2.0.1 Part 2 B02 (B02.FR.01, B02.FR.09)"


def test_a_csms_that_refuses_with_the_wrong_code() -> None:
    def mistake(cs: Any) -> None:
        """It reads payloads without their schema, and refuses what it cannot read with
        GenericError."""

        def refuse(payload: Any) -> Any:
            if "idToken" not in payload:
                raise CallError("GenericError", "no idea")
            return None

        def no_schema(state: str, cp_id: str) -> None:
            if state == "connected":
                cs.peers[cp_id].session.validate_calls = False

        cs.on_call("Authorize", refuse)
        cs.behaviour.connection_listeners.append(no_schema)

    results = run(broken("2.0.1", ["CSMS-201-ERROR-02"], mistake))
    result = results["CSMS-201-ERROR-02"]
    assert result.verdict == "fail"
    assert result.reason.startswith(
        "step 1 (send Authorize): Authorize was refused with GenericError, expected FormatViolation"
    )
    assert '"GenericError","no idea"' in failed_step(result).frame
