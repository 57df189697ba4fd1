"""Validation explains a refusal from where the fast validator failed, at about the cost of
an acceptance, and still gives exactly the verdict (code, reason, field) that jsonschema
gives on the whole payload."""

from __future__ import annotations

import copy
import itertools
from collections import defaultdict
from typing import Any

import pytest
from reference_facts import get_at, leaves, mutate, original_payloads, verdict_cases

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import (
    ATTR_AT,
    Violation,
    validate,
    validator_for,
    violation_of,
)


def whole(version: str, name: str, payload: Any, variant: str | None = None) -> Violation | None:
    """The verdict of jsonschema alone on the whole payload: the reference."""
    error = next(validator_for(version, name, variant).iter_errors(payload), None)
    return None if error is None else violation_of(error, version)


def mismatches(cases: list[tuple[str, str, Any, str | None]]) -> list[str]:
    found = []
    for version, name, payload, variant in cases:
        expected = whole(version, name, payload, variant)
        got = validate(version, name, payload, variant)
        if got != expected:
            found.append(f"{version} {name} {str(payload)[:200]}: {got} != {expected}")
    return found


def test_single_and_paired_mutations_get_the_verdict_of_the_whole_payload() -> None:
    """Two faults in one payload: the first one in jsonschema's order is the verdict,
    whichever the fast validator met first."""
    payloads = original_payloads()["default"]
    by_message: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for case in verdict_cases():
        by_message[case["version"], case["message"]].append(case)
    cases: list[tuple[str, str, Any, str | None]] = []
    for (version, name), found in by_message.items():
        payload = payloads[version][name]
        for first, second in itertools.combinations_with_replacement(found, 2):
            try:
                mutated = mutate(mutate(payload, first), second)
            except (KeyError, IndexError, TypeError):
                continue  # the second mutation's field is gone
            cases.append((version, name, mutated, None))
    assert len(cases) > 4000
    assert not mismatches(cases)


@pytest.mark.parametrize(
    "value", [True, None, 1.0, -1, 2**40, "", "x" * 300, [], {}, "2013-02-01", "\ud800"]
)
def test_edge_values_at_every_field_get_the_verdict_of_the_whole_payload(value: Any) -> None:
    cases: list[tuple[str, str, Any, str | None]] = []
    for version in versions.names():
        for action in versions.get(version).all_actions():
            for name in (action + "Request", action + "Response"):
                payload = default_payload(version, name)
                for path in leaves(payload):
                    mutated = copy.deepcopy(payload)
                    get_at(mutated, path[:-1])[path[-1]] = value
                    cases.append((version, name, mutated, None))
    assert not mismatches(cases)


def _meter_values(count: int) -> dict[str, Any]:
    item = {"timestamp": "2024-05-01T12:00:00Z", "values": [{"value": "1", "unit": "Wh"}]}
    return {"connectorId": 1, "values": [copy.deepcopy(item) for _ in range(count)]}


def _faults() -> list[tuple[str, Any]]:
    """(what, a function that breaks a MeterValues payload somewhere)."""
    return [
        ("bad timestamp", lambda p, i: p["values"][i].update(timestamp="not-a-date")),
        ("missing timestamp", lambda p, i: p["values"][i].pop("timestamp")),
        ("extra field", lambda p, i: p["values"][i].update(bogus=1)),
        ("empty values", lambda p, i: p["values"][i].update(values=[])),
        ("bad unit", lambda p, i: p["values"][i]["values"][0].update(unit="Parsec")),
        ("missing value", lambda p, i: p["values"][i]["values"][0].pop("value")),
        ("item not an object", lambda p, i: p["values"].__setitem__(i, 5)),
        ("no connectorId", lambda p, i: p.pop("connectorId")),
        ("extra root field", lambda p, i: p.update(zzz=1)),
        ("connectorId too big", lambda p, i: p.update(connectorId=2**31)),
    ]


def test_faults_in_long_arrays_get_the_verdict_of_the_whole_payload() -> None:
    cases: list[tuple[str, str, Any, str | None]] = []
    for (_, first), (_, second) in itertools.product(_faults(), repeat=2):
        for i, j in ((3, 7), (7, 3), (5, 5), (0, 9)):
            payload = _meter_values(10)
            first(payload, i)
            try:
                second(payload, j)
            except (KeyError, TypeError, AttributeError, IndexError):
                continue
            cases.append(("1.5", "MeterValuesRequest", payload, None))
            cases.append(("1.2", "MeterValuesRequest", copy.deepcopy(payload), None))
    attr_at = default_payload("1.5", "MeterValuesRequest", ATTR_AT)
    broken = copy.deepcopy(attr_at)
    broken["values"][0]["bogus"] = 1
    cases.append(("1.5", "MeterValuesRequest", broken, ATTR_AT))
    cases.append(("1.5", "MeterValuesRequest", attr_at, None))  # the other form: refused
    assert len(cases) > 300
    assert not mismatches(cases)


def test_refusing_one_bad_value_at_the_end_checks_about_what_accepting_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counted, not timed: jsonschema explaining the refusal used to check every item
    again (3000 more date-times, at 30 times the fast path's cost); now it checks one."""
    from jsonschema import Draft4Validator  # the draft of the 1.x schemas

    checker = Draft4Validator.FORMAT_CHECKER
    checked: list[object] = []
    check, raises = checker.checkers["date-time"]

    def counting(value: object) -> bool:
        checked.append(value)
        return bool(check(value))

    monkeypatch.setitem(checker.checkers, "date-time", (counting, raises))
    payload = _meter_values(3000)
    assert validate("1.5", "MeterValuesRequest", payload) is None
    accepting = len(checked)
    assert accepting == 3000
    payload["values"][-1]["timestamp"] = "not-a-date"
    checked.clear()
    violation = validate("1.5", "MeterValuesRequest", payload)
    assert violation == Violation(
        "TypeConstraintViolation",
        "values[2999].timestamp: 'not-a-date' is not a valid date-time",
        "values[2999].timestamp",
        "value",
    )
    assert len(checked) <= accepting + 1
    payload["values"][-1]["timestamp"] = "2024-05-01T12:00:00Z"
    del payload["connectorId"]  # refused at the root: the items are still checked once more
    checked.clear()
    assert validate("1.5", "MeterValuesRequest", payload) == whole(
        "1.5", "MeterValuesRequest", payload
    )
    assert len(checked) <= 2 * accepting


def _meter_values_2x(count: int) -> dict[str, Any]:
    sample = {"value": 1.0, "measurand": "Energy.Active.Import.Register"}
    item = {"timestamp": "2024-05-01T12:00:00Z", "sampledValue": [sample]}
    return {"evseId": 1, "meterValue": [copy.deepcopy(item) for _ in range(count)]}


def test_a_2x_schema_of_references_is_explained_like_the_whole_payload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OCPP 2.x schemas name their types once (`definitions`) and refer to them (`$ref`): the
    walk that explains a refusal from where the fast validator failed follows them, gives the
    whole payload's verdict, and still checks each item about once."""
    from jsonschema import Draft6Validator

    faults = [
        lambda p, i: p["meterValue"][i].update(timestamp="not-a-date"),
        lambda p, i: p["meterValue"][i].pop("sampledValue"),
        lambda p, i: p["meterValue"][i]["sampledValue"][0].update(measurand="Parsecs"),
        lambda p, i: p["meterValue"][i]["sampledValue"][0].update(bogus=1),
        lambda p, i: p["meterValue"][i]["sampledValue"][0].update(value="1"),
        lambda p, i: p["meterValue"][i].update(sampledValue=[]),
        lambda p, i: p.pop("evseId"),
    ]
    cases: list[tuple[str, str, Any, str | None]] = []
    for version in versions.names():
        if not versions.get(version).handles("cs", "TransactionEvent"):
            continue
        for first, second in itertools.product(faults, repeat=2):
            for i, j in ((3, 7), (7, 3), (5, 5)):
                payload = _meter_values_2x(10)
                first(payload, i)
                try:
                    second(payload, j)
                except (KeyError, TypeError, IndexError):
                    continue
                cases.append((version, "MeterValuesRequest", payload, None))
    assert len(cases) > 100
    assert not mismatches(cases)

    checker = Draft6Validator.FORMAT_CHECKER
    checked: list[object] = []
    check, raises = checker.checkers["date-time"]

    def counting(value: object) -> bool:
        checked.append(value)
        return bool(check(value))

    monkeypatch.setitem(checker.checkers, "date-time", (counting, raises))
    payload = _meter_values_2x(2000)
    assert validate("2.0.1", "MeterValuesRequest", payload) is None
    accepting = len(checked)
    payload["meterValue"][-1]["timestamp"] = "not-a-date"
    checked.clear()
    violation = validate("2.0.1", "MeterValuesRequest", payload)
    assert violation == Violation(
        "PropertyConstraintViolation",
        "meterValue[1999].timestamp: 'not-a-date' is not a valid date-time",
        "meterValue[1999].timestamp",
        "value",
    )
    assert len(checked) <= accepting + 1


def test_an_infinite_number_is_a_violation_not_a_crash() -> None:
    """The compiled check of a `multipleOf` takes int() of the number: for an infinity (a
    Python caller's float('inf'); OCPP-J refuses 1e999 as it reads it) it raised
    OverflowError out of validate instead of saying what is wrong."""
    payload = default_payload("1.6", "SetChargingProfileRequest")
    schedule = payload["csChargingProfiles"]["chargingSchedule"]
    schedule["chargingSchedulePeriod"][0]["limit"] = float("inf")
    violation = validate("1.6", "SetChargingProfileRequest", payload)
    assert violation is not None and violation.field is not None
    assert violation.field.endswith("chargingSchedulePeriod[0].limit"), violation
