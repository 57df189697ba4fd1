"""The built-in cp suites, run in-process: ocppsim is the Central System (`--listen`) and its
own Charge Point connects to it, as `start_cp` runs it. Every case passes (asks carried out
by the check_target_cp plugin); charge points broken on purpose, one per kind of mistake,
fail with the right case, the requirement and the frame that shows it."""

from __future__ import annotations

from typing import Any

import pytest
from check_testing import explain, run, verdicts
from cp_check_testing import check_charge_point

from ocppsim.core import versions
from ocppsim.repl.shell import Shell

CP_VERSIONS = [v for v in ("1.6", "2.0.1", "2.1") if v in versions.names()]
PREFIX = {"1.6": "CP-16", "2.0.1": "CP-201", "2.1": "CP-21"}


@pytest.mark.parametrize("version", CP_VERSIONS)
def test_every_case_passes_against_ocppsim_charge_point(version: str) -> None:
    """ocppsim's Charge Point with the check_target_cp plugin passes every case of the suite
    of its version, with no finding of the monitor (asks carried out in-band)."""
    results = run(check_charge_point(version))
    assert len(results) >= 26
    assert set(verdicts(results).values()) == {"pass"}, explain(results)
    assert [f.line() for r in results.values() for f in r.findings] == []
    boot = results[f"{PREFIX[version]}-BOOT-01"]
    assert boot.requirement.startswith("OCPP") and boot.role == "cp"
    # the boot it sent on connecting, before the first case began, is the first case's
    assert boot.steps[0].kind == "expect" and "BootNotification" in boot.frames[0].text
    tx = results[f"{PREFIX[version]}-TX-01"]
    assert [s.kind for s in tx.steps if s.kind == "ask"] == ["ask", "ask", "ask", "ask"]
    assert any('"ocppsim"' in f.text and '"ask"' in f.text for f in tx.frames)


def test_without_a_version_the_cases_of_the_one_the_charge_point_speaks_run() -> None:
    """No -p: the Central System serves every version of the suites and runs the cases of
    the version the charge point connected with."""
    cases = ["CP-16-REMOTE-02", "CP-201-REMOTE-02", "CP-21-REMOTE-02"]
    results = run(check_charge_point("2.0.1", cases, versions=[]))
    assert verdicts(results) == {"CP-201-REMOTE-02": "pass"}, explain(results)


def test_without_the_plugin_the_cases_that_need_a_person_are_skipped() -> None:
    """ocppsim's Charge Point without check_target_cp answers the in-band ask UnknownVendorId:
    the cases that need a badge or a cable are skipped, saying what they need."""
    cases = ["CP-16-AUTH-01", "CP-16-TX-01", "CP-16-REMOTE-02"]
    results = run(check_charge_point("1.6", cases, plugin=False))
    assert verdicts(results) == {
        "CP-16-AUTH-01": "skip",
        "CP-16-TX-01": "skip",
        "CP-16-REMOTE-02": "pass",
    }
    reason = results["CP-16-AUTH-01"].reason
    assert reason.startswith("the charge point does not take asks")
    assert "UnknownVendorId" in reason and "needs: Present idTag B4F62CEF" in reason


# -- charge points broken on purpose ---------------------------------------------------------------


def failed_step(result: Any) -> Any:
    return next(s for s in result.steps if s.status == "fail")


def test_a_charge_point_that_sends_while_its_boot_is_pending() -> None:
    """A charge point that sends a Heartbeat as soon as its boot is answered Pending: the
    monitor fails BOOT-02 (OCPP 1.6 §4.2.1), naming the frame."""

    def mistake(shell: Shell) -> None:
        def eager(result: dict[str, Any], ctx: Any) -> None:
            if result.get("status") == "Pending":
                ctx.call("Heartbeat", {})

        shell.sim.cp_behaviour.on_result("BootNotification", eager)

    results = run(check_charge_point("1.6", ["CP-16-BOOT-02"], mistake=mistake))
    result = results["CP-16-BOOT-02"]
    assert result.verdict == "fail"
    assert result.reason.startswith(
        "FAIL boot: the charge point sends Heartbeat while its boot is Pending"
    )
    assert "§4.2.1" in result.reason and '"Heartbeat"' in result.reason


def test_a_charge_point_that_ignores_a_new_heartbeat_interval() -> None:
    """A charge point that answers ChangeConfiguration Accepted and keeps its old interval:
    HEARTBEAT-01 fails waiting for the Heartbeat."""

    def mistake(shell: Shell) -> None:
        shell.sim.cp_behaviour.on_call("ChangeConfiguration", lambda p: {"status": "Accepted"})

    results = run(check_charge_point("1.6", ["CP-16-HEARTBEAT-01"], mistake=mistake))
    result = results["CP-16-HEARTBEAT-01"]
    assert result.verdict == "fail"
    assert result.requirement.startswith("OCPP 1.6 §4.6")
    step = failed_step(result)
    assert step.kind == "expect" and step.reason.startswith("no Heartbeat within 4 s")


def test_a_charge_point_whose_answer_breaks_its_schema() -> None:
    """The invalid-answer fault on GetConfiguration's answers: CONF-01 fails, the monitor names the
    schema and the frame."""

    async def mistake(shell: Shell) -> None:
        await shell.execute("fault invalid-answer --action GetConfiguration")

    results = run(check_charge_point("1.6", ["CP-16-CONF-01"], mistake=mistake))
    result = results["CP-16-CONF-01"]
    assert result.verdict == "fail", explain(results)
    assert "schema" in {f.check for f in result.findings}
    schema = next(f for f in result.findings if f.check == "schema")
    assert schema.frame.startswith("[3,")


def test_a_charge_point_that_never_answers() -> None:
    """The drop fault on GetLocalListVersion: LOCALLIST-01 fails, saying no answer came."""

    async def mistake(shell: Shell) -> None:
        await shell.execute("fault drop --action GetLocalListVersion")

    results = run(
        check_charge_point("1.6", ["CP-16-LOCALLIST-01"], mistake=mistake, answer_timeout=1.0)
    )
    result = results["CP-16-LOCALLIST-01"]
    assert result.verdict == "fail"
    step = failed_step(result)
    assert step.text == "send GetLocalListVersion" and "no answer" in step.reason


def test_a_charge_point_that_accepts_to_stop_an_unknown_transaction() -> None:
    """REMOTE-02 names the field: status Accepted where Rejected is required (2.0.1 F03)."""

    def mistake(shell: Shell) -> None:
        shell.sim.cp_behaviour.on_call("RequestStopTransaction", lambda p: {"status": "Accepted"})

    results = run(check_charge_point("2.0.1", ["CP-201-REMOTE-02"], mistake=mistake))
    result = results["CP-201-REMOTE-02"]
    assert result.verdict == "fail"
    assert 'status is "Accepted", expected "Rejected"' in result.reason
    assert "F03.FR.08" in result.requirement


def test_a_charge_point_that_refuses_an_unknown_action_with_the_wrong_code() -> None:
    """ERROR-01: a CALL of an unknown action answered InternalError, not NotImplemented."""

    async def mistake(shell: Shell) -> None:
        await shell.execute("fault callerror --code InternalError --action FlyToTheMoon")

    results = run(check_charge_point("1.6", ["CP-16-ERROR-01"], mistake=mistake))
    result = results["CP-16-ERROR-01"]
    assert result.verdict == "fail", explain(results)
    step = failed_step(result)
    assert "InternalError" in step.reason and "NotImplemented" in step.reason
    assert step.frame is not None and step.frame.startswith("[4,")


def test_a_charge_point_whose_meter_values_name_another_transaction() -> None:
    """A charge point that keeps a transactionId other than the one it was given: TX-01
    fails, and the monitor names the MeterValues frame (OCPP 1.6 §4.7)."""

    def mistake(shell: Shell) -> None:
        def forget(result: dict[str, Any]) -> None:
            model = shell.sim.charge_point("cp01").driver.model
            for connector in model.connectors.values():
                if connector.transaction is not None:
                    connector.transaction.transaction_id = result["transactionId"] + 1000

        shell.sim.cp_behaviour.on_result("StartTransaction", forget)

    results = run(check_charge_point("1.6", ["CP-16-TX-01"], mistake=mistake))
    result = results["CP-16-TX-01"]
    assert result.verdict == "fail", explain(results)
    transaction = [f for f in result.findings if f.check == "transaction"]
    assert transaction and '"MeterValues"' in transaction[0].frame


def test_a_python_cp_scenario_drives_the_public_api() -> None:
    """A cp suite written in Python: `run.cs` is the `ocppsim.CentralSystem` the charge point
    connected to (a csms case has `run.cp`), next to the steps' methods."""
    from ocppsim.check import Suite

    suite = Suite("cp", title="Mine", versions=["1.6"], id_prefix={"1.6": "MY-16"})

    @suite.case("CONF-01", title="Reads the interval", requirement="OCPP 1.6 §5.8")
    async def reads(run: Any) -> None:
        assert run.cp is None and run.cs is not None
        answer = await run.cs.call(run.vars["charge_point_id"], "GetConfiguration", {"key": ["X"]})
        run.set(unknown=answer["unknownKey"])
        run.check("unknown", ["X"])
        await run.send("GetConfiguration", {"key": ["HeartbeatInterval"]})

    results = run(check_charge_point("1.6", suites=[suite]))
    assert verdicts(results) == {"MY-16-CONF-01": "pass"}, explain(results)
    assert [s.kind for s in results["MY-16-CONF-01"].steps] == ["boot", "set", "assert", "send"]
