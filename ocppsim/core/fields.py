"""The fields of a message as its JSON Schema defines them: what `help <command>` shows.

Each field is a dotted path (`idTagInfo.status`; `<n>` stands for a list index, as in
`localAuthorisationList.0.idTag` at the prompt) with its type, whether it is required (in
its parent object) and what values it allows (enumerations, maximum lengths).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Stands for a list index in a field path.
INDEX = "<n>"
#: The bounds of xs:int, which every integer field carries: not worth showing.
_INT32 = (-(2**31), 2**31 - 1)

_PLURALS = {"string": "strings", "integer": "integers", "number": "numbers"}


@dataclass(frozen=True)
class Field:
    """One field of a payload, as the schema constrains it."""

    path: str
    kind: str
    required: bool
    allowed: tuple[str, ...] = ()
    max_length: int | None = None
    bounds: tuple[float | None, float | None] = (None, None)
    min_items: int | None = None
    each: bool = False  # the constraints apply to each item of a list

    @property
    def top_level(self) -> bool:
        return "." not in self.path

    def describe(self) -> str:
        """`string, one of: Hard, Soft` / `string, at most 20 characters`."""
        parts = [self.kind]
        if self.min_items:
            parts.append(f"at least {self.min_items} item{'s' if self.min_items > 1 else ''}")
        each = "each " if self.each else ""
        if self.allowed:
            parts.append(f"{each}one of: " + ", ".join(self.allowed))
        if self.max_length is not None:
            parts.append(f"{each}at most {self.max_length} characters")
        low, high = self.bounds
        if low is not None and high is not None:
            parts.append(f"{each}from {low:g} to {high:g}")
        elif low is not None:
            parts.append(f"{each}at least {low:g}")
        elif high is not None:
            parts.append(f"{each}at most {high:g}")
        return ", ".join(parts)


def _kind(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if kind == "string" and schema.get("format") == "date-time":
        return "date-time"
    if kind == "string" and schema.get("format") == "uri":
        return "URI"
    if kind == "array":
        item = _kind(schema.get("items", {}))
        return "list of " + _PLURALS.get(item, item + "s")
    return str(kind) if isinstance(kind, str) else "any value"


def _bounds(schema: dict[str, Any]) -> tuple[float | None, float | None]:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low, high) == _INT32:
        return None, None
    return low, high


def fields_of(schema: dict[str, Any]) -> list[Field]:
    """Every field of an object schema, nested ones after their parent, in schema order."""
    found: list[Field] = []
    _walk(schema, "", found)
    return found


def _walk(schema: dict[str, Any], prefix: str, found: list[Field]) -> None:
    required = set(schema.get("required", ()))
    for name, child in schema.get("properties", {}).items():
        path = prefix + name
        items = child.get("items", {}) if child.get("type") == "array" else None
        holder = items if items is not None and items.get("type") != "object" else child
        found.append(
            Field(
                path=path,
                kind=_kind(child),
                required=name in required,
                allowed=tuple(str(value) for value in holder.get("enum", ())),
                max_length=holder.get("maxLength"),
                bounds=_bounds(holder),
                min_items=child.get("minItems"),
                each=holder is not child,
            )
        )
        if child.get("type") == "object":
            _walk(child, path + ".", found)
        elif items is not None and items.get("type") == "object":
            _walk(items, f"{path}.{INDEX}.", found)


def value_at(payload: Any, path: str) -> Any:
    """The value at a field path in a payload (the first item for `<n>`), else None."""
    value = payload
    for step in path.split("."):
        if isinstance(value, list):
            value = value[0] if value and step == INDEX else None
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
        if value is None:
            return None
    return value
