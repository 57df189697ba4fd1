"""Committed `schemas/` are what the WSDL files derive, and judge payloads like the original."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from ocppsim.core.catalog import ACTIONS, VERSIONS
from ocppsim.core.defaults import default_payload
from ocppsim.core.resources import data_dir, wsdl_path
from ocppsim.core.validation import (
    ATTR_AT,
    ERROR_CODE_OF_KEYWORD,
    fast_validator_for,
    validate,
    validator_for,
)
from ocppsim.gen.derive import describe
from ocppsim.gen.schemas import render_schemas


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
            for action in ACTIONS[version][service]:  # type: ignore[index]
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
            assert ops == set(ACTIONS[version][service])  # type: ignore[index]


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


def _original_verdict(schema: dict[str, Any], payload: Any) -> str | None:
    error = next(Draft4Validator(schema).iter_errors(payload), None)
    if error is None:
        return None
    return ERROR_CODE_OF_KEYWORD[str(error.validator)]


def _leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every field of a payload (dict keys and list indexes)."""
    found: list[tuple] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            found.append(path + (key,))
            found += _leaves(sub, path + (key,))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += _leaves(sub, path + (index,))
    return found


def _get(value: Any, path: tuple) -> Any:
    for step in path:
        value = value[step]
    return value


def _schema_at(schema: dict[str, Any], path: tuple) -> dict[str, Any]:
    for step in path:
        schema = schema["items"] if isinstance(step, int) else schema["properties"][step]
    return schema


def _shape_of(path: tuple) -> str:
    """`('values', 0, 'timestamp')` → `values[].timestamp`."""
    return "".join("[]" if isinstance(s, int) else f".{s}" for s in path).lstrip(".")


def _mutations(payload: dict[str, Any], original: dict[str, Any]):
    """(what, mutated payload, expected code or None, shape of a removed field) per field."""
    yield "as is", payload, None, ""
    yield "added field", {**payload, "bogusField": 1}, "PropertyConstraintViolation", ""
    for path in _leaves(payload):
        parent, key = path[:-1], path[-1]
        if isinstance(key, int):
            continue
        value = _get(payload, path)
        sub = _schema_at(original, path)
        removed = copy.deepcopy(payload)
        del _get(removed, parent)[key]
        expected = _original_verdict(original, removed)
        yield f"removed {path}", removed, expected, _shape_of(path)
        wrong = copy.deepcopy(payload)
        _get(wrong, parent)[key] = 12345 if isinstance(value, str) else "not-a-number"
        if isinstance(value, (dict, list)):
            _get(wrong, parent)[key] = "not-a-structure"
        yield f"wrong type {path}", wrong, "TypeConstraintViolation", ""
        if isinstance(value, dict):
            nested = copy.deepcopy(payload)
            _get(nested, path)["bogusNested"] = True
            yield f"added field in {path}", nested, "PropertyConstraintViolation", ""
        if "enum" in sub:
            bad = copy.deepcopy(payload)
            _get(bad, parent)[key] = "NotInTheEnumeration"
            yield f"out of enum {path}", bad, "TypeConstraintViolation", ""
        if "maxLength" in sub:
            long = copy.deepcopy(payload)
            _get(long, parent)[key] = "x" * (sub["maxLength"] + 1)
            yield f"too long {path}", long, "TypeConstraintViolation", ""


def _cases(original_schemas: dict[str, Any], original_payloads: dict[str, Any]):
    for version in VERSIONS:
        for service in ("cs", "cp"):
            for name, original in original_schemas[version][service].items():
                payload = original_payloads["default"][version][name]
                yield version, name, payload, original


def test_verdicts_match_the_original_on_defaults_and_mutations(
    original_schemas: dict[str, Any], original_payloads: dict[str, Any]
) -> None:
    checked = 0
    mismatches = []
    for version, name, payload, original in _cases(original_schemas, original_payloads):
        for what, mutated, expected, removed in _mutations(payload, original):
            if (version, name, removed) in _STRICTER_REQUIRED:
                expected = "OccurenceConstraintViolation"
            violation = validate(version, name, mutated)
            got = violation.code if violation else None
            assert _fast_accepts(version, name, mutated) == (
                validator_for(version, name).is_valid(mutated)
            ), f"fast path and jsonschema disagree: {version} {name} {what}"
            checked += 1
            if got != expected:
                mismatches.append(f"{version} {name} {what}: expected {expected}, got {got}")
    assert not mismatches, "\n".join(mismatches)
    assert checked > 500


def test_our_defaults_are_the_originals(original_payloads: dict[str, Any]) -> None:
    fixed = "2013-02-01T15:09:18Z"
    for version in VERSIONS:
        for name, expected in original_payloads["default"][version].items():
            assert default_payload(version, name, now=lambda: fixed) == expected, name
    for name, expected in original_payloads["with-attr-at (1.5 only)"].items():
        assert default_payload("1.5", name, ATTR_AT, now=lambda: fixed) == expected, name


@pytest.mark.parametrize("version", VERSIONS)
def test_every_default_is_valid_against_its_own_schema(version: str) -> None:
    for service in ("cs", "cp"):
        for action in ACTIONS[version][service]:  # type: ignore[index]
            for kind in ("Request", "Response"):
                name = action + kind
                assert validate(version, name, default_payload(version, name)) is None, name
    for name in ("MeterValuesRequest", "StopTransactionRequest"):
        payload = default_payload("1.5", name, ATTR_AT)
        assert validate("1.5", name, payload, ATTR_AT) is None
        assert validate("1.5", name, payload) is not None  # the two forms are distinct


def test_now_fields_are_the_current_time() -> None:
    payload = default_payload("1.5", "HeartbeatResponse", now=lambda: "2030-01-01T00:00:00Z")
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
    [True, False, None, 1.0, 1.5, -1, 2**40, "", "x" * 21, [], {}, "2013-02-01", "ftp:/x"],
)
def test_fast_path_agrees_with_jsonschema_on_edge_values(value: Any) -> None:
    """Booleans are not integers, 1.0 is not an integer, null is nothing, at every field."""
    for version in VERSIONS:
        for service in ("cs", "cp"):
            for action in ACTIONS[version][service]:  # type: ignore[index]
                name = action + "Request"
                payload = default_payload(version, name)
                for path in _leaves(payload):
                    mutated = copy.deepcopy(payload)
                    _get(mutated, path[:-1])[path[-1]] = value
                    assert _fast_accepts(version, name, mutated) == (
                        validator_for(version, name).is_valid(mutated)
                    ), (version, name, path, value)
