"""Scenario files: the built-in suites load, and a malformed scenario is refused before any case
runs, naming the file, the line, the case, the step and what is wrong."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ocppsim.check.scenario import (
    ScenarioError,
    Suite,
    builtin_dir,
    builtin_suites,
    find_suites,
    load_file,
)
from ocppsim.core import versions


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


HEAD = textwrap.dedent(
    """\
    suite: csms
    title: Mine
    versions: ["1.6"]
    id_prefix: {"1.6": MY}
    parameters:
      tag: ABC
    cases:
    """
)


def test_the_built_in_suites_load_and_have_ids_titles_and_requirements() -> None:
    suites = builtin_suites()
    assert {s.role for s in suites} >= {"csms"}
    assert builtin_dir().name == "suites"
    seen = set()
    for suite in suites:
        for version in suite.versions:
            for full_id, case in suite.cases_for(version):
                assert full_id not in seen
                seen.add(full_id)
                assert case.title and case.requirement.startswith(("OCPP", "OCPP-J"))
                assert case.steps, full_id
    assert {"CSMS-16-BOOT-01", "CSMS-201-BOOT-01"} <= seen
    assert len([i for i in seen if i.startswith("CSMS-16-")]) >= 25
    assert len([i for i in seen if i.startswith("CSMS-201-")]) >= 25


def test_suite_names_and_paths(tmp_path: Path) -> None:
    assert {s.role for s in find_suites("csms")} == {"csms"}
    file = write(
        tmp_path, "a.yaml", HEAD + "  - {id: A, title: t, requirement: r, steps: [wait: 0]}\n"
    )
    assert [s.title for s in find_suites(str(file))] == ["Mine"]
    assert [s.title for s in find_suites(str(tmp_path))] == ["Mine"]
    with pytest.raises(ScenarioError, match="not csms, cp, a scenario file or a folder"):
        find_suites(str(tmp_path / "nothing.yaml"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ScenarioError, match="no scenario file"):
        find_suites(str(empty))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - send: Authorise
            """,
            r"mine.yaml:12: case A, step 1: send: 'Authorise' is not a CALL a charge point sends"
            r" in OCPP 1.6 \(did you mean Authorize\?\)",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - wait: 1
                  - send: Heartbeat
                    expecting: {x: 1}
            """,
            r"mine.yaml:13: case A, step 2: send does not take expecting \(a send step takes",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - send: StopTransaction
                    payload: {transactionId: "${tx}"}
            """,
            r"case A, step 1: \$\{tx\} is not defined here \(parameters and values captured or set"
            r" before this step: tag\)",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - walk: 1
            """,
            r"case A, step 1: no step kind among walk; a step is one of send, send_raw, expect",
        ),
        (
            """\
              - id: A
                requirement: r
                steps: [wait: 1]
            """,
            r"mine.yaml:8: case A: `title:' is missing",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - expect: StatusNotification
            """,
            r"expect: 'StatusNotification' is not a CALL a Central System sends in OCPP 1.6",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - expect_no: any
            """,
            r"case A, step 1: expect_no needs within:",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - send: Authorize
                    expect: {idTagInfo: {status: {one_of: Accepted}}}
            """,
            r"case A, step 1: expect.idTagInfo.status: one_of takes a list of values",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps:
                  - send: Authorize
                    payload: {idTag: ${tag}}
            """,
            r"mine.yaml:\d+: not valid YAML: .*inside \{ \} put \$\{…\} in quotes",
        ),
        (
            """\
              - id: A
                title: t
                requirement: r
                steps: [wait: 1]
              - id: A
                title: t
                requirement: r
                steps: [wait: 1]
            """,
            r"mine.yaml:12: case A is there twice \(first as case 1\)",
        ),
    ],
)
def test_a_malformed_scenario_says_where_and_what(tmp_path: Path, case: str, message: str) -> None:
    path = write(tmp_path, "mine.yaml", HEAD + textwrap.indent(textwrap.dedent(case), "  "))
    with pytest.raises(ScenarioError, match=message):
        load_file(path)


def test_a_scenario_file_that_is_not_a_suite(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="say which side the suite tests"):
        load_file(write(tmp_path, "a.yaml", "versions: [1.6]\ncases: []\n"))
    with pytest.raises(ScenarioError, match="unknown OCPP version `9.9'"):
        load_file(write(tmp_path, "b.yaml", "suite: csms\nversions: [9.9]\ncases: [x]\n"))
    with pytest.raises(ScenarioError, match="a scenario file is .yaml, .yml or .py"):
        load_file(write(tmp_path, "c.txt", "hello"))
    with pytest.raises(ScenarioError, match=r"unknown key\(s\) case"):
        load_file(write(tmp_path, "d.yaml", "suite: csms\nversions: [1.6]\ncase: []\n"))


def test_yaml_is_read_safely(tmp_path: Path) -> None:
    """A YAML tag that would build a Python object is refused (yaml.safe_load)."""
    path = write(tmp_path, "evil.yaml", "suite: !!python/object/apply:os.system ['true']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_file(path)


def test_a_python_scenario(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.py",
        """\
        from ocppsim.check import Suite

        suite = Suite("csms", title="Mine", versions=["ocpp1.6"], id_prefix={"1.6": "PY-16"})

        @suite.case("BOOT-01", title="Boots", requirement="OCPP 1.6 §4.2")
        async def boots(run):
            await run.send("BootNotification", expect={"status": "Accepted"})
        """,
    )
    (suite,) = load_file(path)
    assert isinstance(suite, Suite)
    assert suite.versions == ("1.6",)
    assert [full for full, _ in suite.cases_for("1.6")] == ["PY-16-BOOT-01"]
    broken = write(tmp_path, "broken.py", "raise RuntimeError('oops')\n")
    with pytest.raises(ScenarioError, match=r"broken.py: it fails to load: RuntimeError\('oops'\)"):
        load_file(broken)
    with pytest.raises(ScenarioError, match="defines no Suite"):
        load_file(write(tmp_path, "none.py", "x = 1\n"))


def test_versions_this_installation_lacks_are_named_not_refused(tmp_path: Path) -> None:
    """A suite for a registered version whose schemas are not installed still loads (its
    cases are skipped when run)."""
    names = [e.name for e in versions.registered()]
    path = write(
        tmp_path,
        "all.yaml",
        f"suite: csms\nversions: {names}\ncases:\n  - {{id: A, title: t, requirement: r,"
        " steps: [send: Heartbeat]}\n",
    )
    (suite,) = load_file(path)
    assert list(suite.versions) == names
