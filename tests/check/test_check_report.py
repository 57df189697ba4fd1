"""What a run writes for CI: JUnit XML that CI tools read (checked with xml.etree and with
junitparser, as a CI tool parses it) and JSON with every case, step, finding and frame."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import junitparser
from check_testing import check, ocppsim_cs, run

from ocppsim.check import report

CASES = ["CSMS-16-BOOT-01", "CSMS-16-AUTH-02", "CSMS-16-REMOTE-01", "CSMS-16-ERROR-01"]
META = {"target": "ws://example/ocpp", "suite": "csms", "command": "ocppsim check …"}


def mixed_results() -> list[Any]:
    """A pass, a fail (AUTH-02: a --stateless CS accepts every tag), a skip (no asks)."""

    async def scenario() -> dict[str, Any]:
        async with ocppsim_cs(stateless=True) as cs:
            return await check(cs.url, "1.6", CASES)

    results = run(scenario())
    assert {r.verdict for r in results.values()} == {"pass", "fail", "skip"}
    return list(results.values())


def test_junit_xml_has_a_testcase_per_case_and_the_reason_of_a_failure(tmp_path: Path) -> None:
    results = mixed_results()
    path = tmp_path / "out.xml"
    report.write_junit(path, results, META)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("4", "1", "1")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "Central System, OCPP 1.6 (OCPP 1.6)"
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["target"] == "ws://example/ocpp" and properties["ocpp version"] == "1.6"
    cases = {c.get("name", "").split()[0]: c for c in suite.findall("testcase")}
    assert list(cases) == CASES
    failure = cases["CSMS-16-AUTH-02"].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith(
        'step 1 (send Authorize): the answer to Authorize: idTagInfo.status is "Accepted"'
    )
    text = failure.text or ""
    assert "requirement: OCPP 1.6 §4.1 (Authorize)" in text
    assert 'frame: [3,"' in text and '"status":"Accepted"' in text
    assert cases["CSMS-16-REMOTE-01"].find("skipped") is not None
    assert cases["CSMS-16-BOOT-01"].find("failure") is None
    out = cases["CSMS-16-BOOT-01"].findtext("system-out") or ""
    assert "1. [pass] send BootNotification" in out and ">> [2," in out and "<< [3," in out


def test_junit_xml_as_a_ci_tool_reads_it(tmp_path: Path) -> None:
    results = mixed_results()
    path = tmp_path / "out.xml"
    report.write_junit(path, results, META)
    xml = junitparser.JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1 and suites[0].tests == 4
    outcome = {}
    for case in suites[0]:
        kinds = [type(r).__name__ for r in case.result]
        outcome[case.name.split()[0]] = kinds[0] if kinds else "passed"
        assert case.time >= 0
    assert outcome == {
        "CSMS-16-BOOT-01": "passed",
        "CSMS-16-AUTH-02": "Failure",
        "CSMS-16-REMOTE-01": "Skipped",
        "CSMS-16-ERROR-01": "passed",
    }


def test_json_report_holds_every_case_with_its_steps_findings_and_frames(tmp_path: Path) -> None:
    results = mixed_results()
    path = tmp_path / "out.json"
    report.write_json(path, results, META, 1.5)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["counts"] == {"pass": 2, "warn": 0, "fail": 1, "skip": 1, "error": 0}
    assert document["target"] == "ws://example/ocpp"
    case = next(c for c in document["cases"] if c["id"] == "CSMS-16-AUTH-02")
    assert set(case) >= {"id", "title", "requirement", "steps", "verdict", "reason", "frames"}
    assert case["verdict"] == "fail" and case["version"] == "1.6"
    step = next(s for s in case["steps"] if s["status"] == "fail")
    assert step["kind"] == "send" and step["frame"].startswith("[3,")
    assert [f["direction"] for f in case["frames"]][:2] == ["sent", "received"]
    assert case["frames"][0]["type"] == "CALL" and case["frames"][0]["action"] == "BootNotification"


def test_the_summary_table() -> None:
    results = mixed_results()
    table = report.table(results)
    lines = table.splitlines()
    assert lines[0].split() == ["CASE", "OCPP", "VERDICT", "TITLE"]
    assert any(line.startswith("CSMS-16-AUTH-02") and " FAIL " in line for line in lines)
    assert "CSMS-16-AUTH-02 FAIL: step 1 (send Authorize)" in table
    assert "    requirement: OCPP 1.6 §4.1 (Authorize)" in table
    assert "    frame: [3," in table
    assert report.summary(results, 2.0) == "4 case(s): 2 passed, 1 failed, 1 skipped (2.0 s)"
