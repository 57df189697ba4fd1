"""docs/conformance.md works as written: its scenario files (YAML and Python) run against
ocppsim's Central System and pass, its malformed-scenario message is the one the loader gives,
its CI job is valid YAML whose `ocppsim check` line the command accepts, its ask is the one the
check sends, and its tables name every check and step kind there is; the generated case list
is fresh."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_testing import check, ocppsim_cs, run

from ocppsim.check.command import _parser
from ocppsim.check.docs import CASES_FILE, render_cases
from ocppsim.check.scenario import STEP_KINDS, ScenarioError, load_file

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "conformance.md"


def guide() -> str:
    if not GUIDE.is_file():
        pytest.skip("docs/conformance.md is not here (an installed copy)")
    return GUIDE.read_text(encoding="utf-8")


def block(marker: str, language: str) -> str:
    """The fenced block that follows `<!-- conformance: marker -->`."""
    found = re.search(rf"<!-- conformance: {marker} -->\s*```{language}\n(.*?)```", guide(), re.S)
    assert found, f"docs/conformance.md lost its {marker} block"
    return found.group(1)


def test_the_generated_case_list_is_fresh() -> None:
    path = DOCS / CASES_FILE
    if not path.is_file():
        pytest.skip("docs/ is not here (an installed copy)")
    assert path.read_text(encoding="utf-8") == render_cases(), "run `ocppsim docs`"
    assert f"]({CASES_FILE})" in guide()


def test_the_yaml_scenario_runs_as_written(tmp_path: Path) -> None:
    path = tmp_path / "my-suite.yaml"
    path.write_text(block("my-suite", "yaml"), encoding="utf-8")
    suites = load_file(path)

    async def scenario() -> dict[str, Any]:
        async with ocppsim_cs() as cs:
            return await check(cs.url, "1.6", suites=suites)

    results = run(scenario())
    assert {case: r.verdict for case, r in results.items()} == {
        "MINE-METER-01": "pass",
        "MINE-REMOTE-01": "pass",
        "MINE-UNKNOWN-01": "pass",
    }
    shown = re.findall(r"^(MINE-\S+)\s+PASS\s+(.*) \(0\.0 s\)$", guide(), re.M)
    assert [(case, results[case].title) for case, _ in shown] == shown


def test_the_malformed_scenario_message_is_the_one_shown(tmp_path: Path) -> None:
    path = tmp_path / "my-suite.yaml"
    text = block("my-suite", "yaml").replace("- send: StartTransaction", "- send: StartTransation")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as raised:
        load_file(path)
    shown = re.search(r"^ocppsim check: (my-suite\.yaml:.*)$", guide(), re.M)
    assert shown is not None
    assert str(raised.value) == str(tmp_path / shown.group(1))


def test_the_python_scenario_runs_as_written(tmp_path: Path) -> None:
    path = tmp_path / "my_checks.py"
    path.write_text(block("my-suite-py", "python"), encoding="utf-8")
    suites = load_file(path)

    async def scenario() -> dict[str, Any]:
        async with ocppsim_cs() as cs:
            return await check(cs.url, "1.6", suites=suites)

    results = run(scenario())
    assert [(case, r.verdict) for case, r in results.items()] == [("PY-HEARTBEAT-01", "pass")]
    assert [s.kind for s in results["PY-HEARTBEAT-01"].steps] == ["connect", "boot", "send", "send"]


def test_the_ci_job_is_valid_and_its_command_is_accepted() -> None:
    job = yaml.safe_load(block("github-actions", "yaml"))
    steps = job["jobs"]["conformance"]["steps"]
    (command,) = [s["run"] for s in steps if "ocppsim check" in str(s.get("run"))]
    words = shlex.split(command)
    assert words[:2] == ["ocppsim", "check"]
    args = _parser().parse_args(words[2:])
    assert args.junit == "conformance-1.6.xml" and args.ask_command == "./ci/ocpp-ask.sh"
    assert "if: always()" not in command and steps[-1]["if"] == "always()"


def test_the_ask_shown_has_the_fields_the_check_sends() -> None:
    from ocppsim.check.asks import ask_document

    class Side:
        charge_point_id = "ocppsim-check"

    class Run:
        id, version, side = "CSMS-16-REMOTE-01", "1.6", Side()

    shown = re.search(r"```json\n(.*?)```", guide(), re.S)
    assert shown is not None
    document = json.loads(shown.group(1).replace("…", ""))
    sent = ask_document(Run(), "x", {"send": "Reset"})  # type: ignore[arg-type]
    assert set(document) == set(sent)


def test_the_tables_name_every_check_and_step_kind() -> None:
    text = guide()
    monitor = (Path(__file__).resolve().parents[2] / "ocppsim" / "check" / "monitor.py").read_text()
    checks = set(re.findall(r'self\._find\(\s*"([a-z-]+)"', monitor))
    assert checks == {
        "schema",
        "answer",
        "unique-id",
        "transaction",
        "boot",
        "heartbeat",
        "error-code",
        "clock",
    }
    for name in checks:
        assert f"\n| {name} |" in text, name
    for kind in STEP_KINDS:
        assert f"`{kind}" in text, kind
