"""The committed reference facts (tests/data/reference-facts/) are whole, are facts rather than
copies, and are what `tests/reference_facts.py` derives from the reference data where it is."""

from __future__ import annotations

import difflib
import json
import os
from importlib.resources import files
from pathlib import Path

import pytest
import reference_facts
from reference_facts import (
    VERSIONS,
    WSDL_VERSIONS,
    committed,
    derive,
    fingerprints,
    original_payloads,
    squeezed_sha256,
    verdict_cases,
)

from ocppsim.core import versions

ACTIONS = {entry.name: entry.actions for entry in versions.all_versions()}
REPO = Path(__file__).resolve().parents[2]
#: folders of a checkout that are not the project's files
NOT_OURS = {".git", ".venv", ".venv310", "node_modules", "__pycache__", "build", "dist"}


@pytest.mark.skipif(
    not reference_facts.have_reference(),
    reason="reference data not beside this clone: the facts are checked where they are made",
)
def test_committed_facts_are_what_the_reference_derives() -> None:
    expected, found = derive(), committed()
    problems = []
    for name in sorted(expected.keys() | found.keys()):
        if expected.get(name) != found.get(name):
            diff = difflib.unified_diff(
                found.get(name, "").splitlines(),
                expected.get(name, "").splitlines(),
                f"committed {name}",
                "derived",
                n=1,
                lineterm="",
            )
            problems.append("\n".join(list(diff)[:20]))
    assert not problems, "run `python tests/reference_facts.py`:\n" + "\n".join(problems)


def test_facts_cover_every_message_of_the_original() -> None:
    payloads = original_payloads()
    judged = {(c["version"], c["message"]) for c in verdict_cases() if c["kind"] == "as is"}
    for version in VERSIONS:
        names = {
            action + kind
            for service in ("cs", "cp")
            for action in ACTIONS[version][service]
            for kind in ("Request", "Response")
        }
        assert set(payloads["default"][version]) == names
        assert {name for v, name in judged if v == version} == names
    assert set(payloads["with-attr-at (1.5 only)"]) == {
        "MeterValuesRequest",
        "StopTransactionRequest",
    }
    kinds = {c["kind"] for c in verdict_cases()}
    assert kinds == {"as is", "added field", "removed", "wrong type", "out of enum", "too long"}
    for version in WSDL_VERSIONS:
        for service in ("cs", "cp"):
            assert len(reference_facts.wire_facts(version, service)) > 150


def test_wire_facts_read_every_published_wsdl_whole() -> None:
    """Nothing of a published WSDL escaped the reduction, so equal facts mean an equal wire."""
    for version in WSDL_VERSIONS:
        for service in ("cs", "cp"):
            facts = reference_facts.wire_facts(version, service)
            assert not [line for line in facts if line.startswith("unread")], (version, service)


def test_facts_carry_no_third_party_text() -> None:
    for name, text in committed().items():
        lowered = text.lower()
        assert "copyright" not in lowered and "e-laad" not in lowered, name
        assert "<" not in text.replace("->", ""), f"{name} holds markup"


def _project_files() -> list[Path]:
    """Every file of the checkout that is the project's (no VCS, venv or cache folders)."""
    found = []
    for folder, subfolders, names in os.walk(REPO):
        subfolders[:] = [
            d for d in subfolders if d not in NOT_OURS and not d.endswith(("_cache", ".egg-info"))
        ]
        found += [Path(folder, name) for name in names]
    return [path for path in found if path.stat().st_size <= 4_000_000]


def test_no_project_file_is_a_copy_of_a_reference_file() -> None:
    """Reference files are not the project's to ship, even re-indented (fingerprint check)."""
    published = {digest: name for name, digest in fingerprints().items()}
    assert {f"wsdl/ocpp_{s}service_1.6_final.wsdl" for s in ("centralsystem", "chargepoint")} <= (
        set(published.values())
    )
    checked = 0
    for path in _project_files():
        checked += 1
        digest = squeezed_sha256(path)
        assert digest not in published, f"{path} is a copy of {published[digest]}"
    assert checked > 50


def test_no_project_file_is_a_copy_of_an_ocpp_package_schema() -> None:
    """The official JSON schemas are read from the installed `ocpp` package, never copied
    (an empty message's schema is left out: ours, derived from the WSDL, is the same text)."""
    folder = files("ocpp")
    entries = [
        (f"{version.name}/schemas/{entry.name}", Path(str(entry)))
        for version in folder.iterdir()
        if version.is_dir() and (version / "schemas").is_dir()
        for entry in (version / "schemas").iterdir()
        if entry.name.endswith(".json")
    ]
    assert len([name for name, _ in entries if name.startswith("v16/")]) == 78
    schemas = {
        squeezed_sha256(path): name
        for name, path in entries
        if json.loads(path.read_text("utf-8-sig")).get("properties")
    }
    for path in _project_files():
        digest = squeezed_sha256(path)
        assert digest not in schemas, f"{path} is a copy of ocpp's {schemas[digest]}"
