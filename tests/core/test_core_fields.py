"""The fields of a message read from its JSON Schema (what `help <command>` lists)."""

from __future__ import annotations

from ocppsim.core.fields import Field, fields_of, value_at
from ocppsim.core.validation import load_schema


def test_fields_of_a_nested_schema_are_dotted_paths_with_their_rules() -> None:
    fields = {f.path: f for f in fields_of(load_schema("1.5", "SendLocalListRequest"))}
    assert list(fields) == [
        "updateType",
        "listVersion",
        "localAuthorisationList",
        "localAuthorisationList.<n>.idTag",
        "localAuthorisationList.<n>.idTagInfo",
        "localAuthorisationList.<n>.idTagInfo.status",
        "localAuthorisationList.<n>.idTagInfo.expiryDate",
        "localAuthorisationList.<n>.idTagInfo.parentIdTag",
        "hash",
    ]
    assert fields["updateType"].describe() == "string, one of: Differential, Full"
    assert fields["updateType"].required and not fields["hash"].required
    assert fields["listVersion"].describe() == "integer"  # xs:int bounds are not worth a word
    assert fields["localAuthorisationList"].describe() == "list of objects"
    assert fields["localAuthorisationList.<n>.idTag"].required  # in its item
    assert fields["localAuthorisationList.<n>.idTag"].describe() == (
        "string, at most 20 characters"
    )
    assert fields["localAuthorisationList.<n>.idTagInfo.expiryDate"].kind == "date-time"


def test_list_items_constraints_and_values_at_paths() -> None:
    (key,) = fields_of(
        {"properties": {"key": {"type": "array", "items": {"type": "string", "maxLength": 50}}}}
    )
    assert key.describe() == "list of strings, each at most 50 characters"
    assert Field("n", "integer", False, bounds=(0, 10), min_items=None).describe() == (
        "integer, from 0 to 10"
    )
    payload = {"values": [{"timestamp": "t", "values": [{"value": "0"}]}], "connectorId": 2}
    assert value_at(payload, "values.<n>.values.<n>.value") == "0"
    assert value_at(payload, "connectorId") == 2
    assert value_at(payload, "values.<n>.nothing") is None
    assert value_at({"values": []}, "values.<n>.timestamp") is None
