"""Committed `schemas/` are what the WSDL files derive, and judge payloads like the original."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from reference_facts import get_at, leaves, mutate, verdict_cases

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.resources import data_dir
from ocppsim.core.validation import (
    ATTR_AT,
    fast_validator_for,
    validate,
    validator_for,
)
from ocppsim.core.versions import wsdl_path
from ocppsim.gen.derive import describe
from ocppsim.gen.schemas import render_schemas

#: The versions whose schemas `ocppsim docs` derives from the project's WSDL files.
VERSIONS = tuple(e.name for e in versions.all_versions() if e.schemas.derived_from_wsdl)
#: every version (the fast path and jsonschema must agree on all of them)
ALL = [e.name for e in versions.all_versions() if e.schemas.installed()]
ACTIONS = {entry.name: entry.actions for entry in versions.all_versions()}


def test_committed_schemas_are_not_stale() -> None:
    expected = render_schemas()
    source = Path(__file__).resolve().parents[2] / "schemas"
    root = source if source.is_dir() else data_dir("schemas")
    committed = {
        str(p.relative_to(root)): p.read_text(encoding="utf-8") for p in root.rglob("*.json")
    }
    stale = sorted(k for k in expected if committed.get(k) != expected[k])
    extra = sorted(set(committed) - set(expected))
    assert not stale and not extra, (
        f"regenerate with `ocppsim docs`: stale {stale}, unexpected {extra}"
    )


def test_every_request_and_response_has_a_schema_file() -> None:
    files = render_schemas()
    for version in VERSIONS:
        for service in ("cs", "cp"):
            for action in ACTIONS[version][service]:
                for kind in ("Request", "Response"):
                    assert f"ocpp{version}/{action}{kind}.json" in files
    assert "ocpp1.5/with-attr-at/MeterValuesRequest.json" in files
    assert "ocpp1.2/DataTransferRequest.json" not in files


def test_datatransfer_is_one_file_because_both_services_define_it_identically() -> None:
    cs = describe(wsdl_path("1.5", "cs")).schemas
    cp = describe(wsdl_path("1.5", "cp")).schemas
    for name in ("DataTransferRequest", "DataTransferResponse"):
        assert cs[name] == cp[name]
    assert set(cs) & set(cp) == {"DataTransferRequest", "DataTransferResponse"}


def test_operations_of_the_wsdl_are_the_catalog() -> None:
    for version in VERSIONS:
        for service in ("cs", "cp"):
            ops = {op.name for op in describe(wsdl_path(version, service)).operations}
            assert ops == set(ACTIONS[version][service])
    assert "ocpp1.6/HeartbeatRequest.json" not in render_schemas()  # OCA's, from `ocpp`


def test_mapping_of_types() -> None:
    schema = json.loads(render_schemas()["ocpp1.5/StartTransactionRequest.json"])
    props = schema["properties"]
    assert props["connectorId"] == {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1}
    assert props["idTag"] == {"type": "string", "maxLength": 20}
    assert props["timestamp"] == {"type": "string", "format": "date-time"}
    assert schema["required"] == ["connectorId", "idTag", "timestamp", "meterStart"]
    assert schema["additionalProperties"] is False
    diag = json.loads(render_schemas()["ocpp1.5/GetDiagnosticsRequest.json"])
    assert diag["properties"]["location"] == {"type": "string", "format": "uri"}
    conf = json.loads(render_schemas()["ocpp1.5/GetConfigurationResponse.json"])
    assert conf["properties"]["configurationKey"]["items"]["properties"]["readonly"] == {
        "type": "boolean"
    }


# -- verdicts against the original's schemas ------------------------------------------------

#: Where we deliberately differ from the original (SPEC [fix] and XSD semantics):
#: the original made an element required only when `minOccurs="1"` was written out, but the
#: XSD default is 1, so `MeterValue.timestamp`/`value` are required (a SOAP stack rejects
#: them missing too).
_STRICTER_REQUIRED = {
    ("1.2", "MeterValuesRequest", "values[].timestamp"),
    ("1.2", "MeterValuesRequest", "values[].value"),
    ("1.5", "MeterValuesRequest", "values[].timestamp"),
    ("1.5", "StopTransactionRequest", "transactionData[].values[].timestamp"),
}


def _shape_of(path: list) -> str:
    """`['values', 0, 'timestamp']` → `values[].timestamp`."""
    return "".join("[]" if isinstance(s, int) else f".{s}" for s in path).lstrip(".")


def test_verdicts_match_the_original_on_defaults_and_mutations(
    original_payloads: dict[str, Any],
) -> None:
    """Each default payload of the original and each mutation of it, judged by our schemas,
    gets the verdict the original's schemas gave it (committed facts)."""
    checked = 0
    mismatches = []
    for case in verdict_cases():
        version, name, kind = case["version"], case["message"], case["kind"]
        mutated = mutate(original_payloads["default"][version][name], case)
        expected = case["verdict"]
        if kind == "added field":
            # the original's schemas allow undefined properties; we refuse them at any depth
            expected = "PropertyConstraintViolation"
        elif kind == "removed" and (version, name, _shape_of(case["path"])) in _STRICTER_REQUIRED:
            expected = "OccurenceConstraintViolation"
        violation = validate(version, name, mutated)
        got = violation.code if violation else None
        what = f"{version} {name} {kind} {case['path']}"
        assert _fast_accepts(version, name, mutated) == (
            validator_for(version, name).is_valid(mutated)
        ), f"fast path and jsonschema disagree: {what}"
        checked += 1
        if got != expected:
            mismatches.append(f"{what}: expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    assert checked > 500


_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|(?<=-)\d{14}(?=\.txt)")


def _dates_masked(payload: Any) -> Any:
    """`payload` with every date (in a field, a JSON text or a file name) replaced by `<date>`."""
    return json.loads(_DATE.sub("<date>", json.dumps(payload)))


def test_our_defaults_are_the_originals_but_for_dates(original_payloads: dict[str, Any]) -> None:
    """The original's values, except that its dates were 2013 (ours are relative to now) and
    its StopTransaction answer said `Expired` (ours `Accepted`, like every default badge)."""
    for version in VERSIONS:
        for name, expected in original_payloads["default"][version].items():
            expected = _dates_masked(expected)
            if name == "StopTransactionResponse":
                assert expected["idTagInfo"]["status"] == "Expired"
                expected["idTagInfo"]["status"] = "Accepted"
            assert _dates_masked(default_payload(version, name)) == expected, name
    for name, expected in original_payloads["with-attr-at (1.5 only)"].items():
        assert _dates_masked(default_payload("1.5", name, ATTR_AT)) == _dates_masked(expected)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_default_is_valid_against_its_own_schema(version: str) -> None:
    for service in ("cs", "cp"):
        for action in ACTIONS[version][service]:
            for kind in ("Request", "Response"):
                name = action + kind
                assert validate(version, name, default_payload(version, name)) is None, name
    for name in ("MeterValuesRequest", "StopTransactionRequest"):
        payload = default_payload("1.5", name, ATTR_AT)
        assert validate("1.5", name, payload, ATTR_AT) is None
        assert validate("1.5", name, payload) is not None  # the two forms are distinct


def test_now_fields_are_the_current_time() -> None:
    payload = default_payload("1.5", "HeartbeatResponse", clock=lambda: 1893456000.0)
    assert payload == {"currentTime": "2030-01-01T00:00:00Z"}
    real = default_payload("1.5", "StartTransactionRequest")["timestamp"]
    assert real.endswith("Z") and not real.startswith("2013")
    assert (
        validate(
            "1.5", "StartTransactionRequest", default_payload("1.5", "StartTransactionRequest")
        )
        is None
    )


def _fast_accepts(version: str, name: str, payload: Any) -> bool:
    try:
        fast_validator_for(version, name)(payload)
    except Exception:
        return False
    return True


@pytest.mark.parametrize(
    "value",
    [True, False, None, 1.0, 1.5, -1, 2**40, "", "x" * 21, [], {}, "2013-02-01", "ftp:/x"]
    + [8.1, 0.3, 8.15, 1e300, "2013-02-01T10:00:00", "2013-02-01t10:00:00z"],
)
def test_fast_path_agrees_with_jsonschema_on_edge_values(value: Any) -> None:
    """Booleans are not integers, 1.0 is not an integer, null is nothing, 8.1 is a multiple of
    0.1, a time needs its zone, at every field."""
    for version in ALL:
        for service in ("cs", "cp"):
            for name in (a + k for a in ACTIONS[version][service] for k in ("Request", "Response")):
                payload = default_payload(version, name)
                for path in leaves(payload):
                    mutated = copy.deepcopy(payload)
                    get_at(mutated, path[:-1])[path[-1]] = value
                    assert _fast_accepts(version, name, mutated) == (
                        validator_for(version, name).is_valid(mutated)
                    ), (version, name, path, value)
