"""Kinds of errata: small, named changes to a published schema, applied when it is loaded.

Each builder returns an `Erratum` for the messages and field paths it names (`meterValue[].
sampledValue[].unit`: `[]` steps into a list's items). A path the schema does not have is an
error, so an erratum that no longer fits the installed schemas is noticed, not silently skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocppsim.core.versions.model import Erratum


def node_at(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema node of a field path (`a.b[].c`); KeyError naming the step it lacks."""
    node = schema
    for step in path.split("."):
        name = step.removesuffix("[]")
        try:
            node = node["properties"][name]
            if step.endswith("[]"):
                node = node["items"]
        except KeyError:
            raise KeyError(f"no field {step!r} on the way to {path!r}") from None
    return node


def _erratum(targets: Mapping[str, str], note: str, change: Any) -> Erratum:
    table = dict(targets)

    def apply(schema: dict[str, Any], message: str) -> None:
        change(node_at(schema, table[message]))

    return Erratum(frozenset(table), note, apply)


def enum_values(targets: Mapping[str, str], values: tuple[str, ...], note: str) -> Erratum:
    """An enumeration also allows `values` (at each message's path; kept once each)."""

    def change(node: dict[str, Any]) -> None:
        allowed = node["enum"]
        allowed.extend(value for value in values if value not in allowed)

    return _erratum(targets, note, change)


def min_items(targets: Mapping[str, str], count: int, note: str) -> Erratum:
    """A list has at least `count` items (at each message's path)."""

    def change(node: dict[str, Any]) -> None:
        node["minItems"] = max(count, int(node.get("minItems", 0)))

    return _erratum(targets, note, change)
