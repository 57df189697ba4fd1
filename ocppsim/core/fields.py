"""The fields of a message as its JSON Schema defines them: what `help <command>` shows.

Each field is a dotted path (`idTagInfo.status`; `<n>` stands for a list index, as in
`localAuthorisationList.0.idTag` at the prompt) with its type, whether it is required (in
its parent object) and what values it allows (enumerations, maximum lengths).

OCPP 2.x schemas define their types once (`definitions`) and refer to them (`$ref`); every
walk here follows those references. Their `customData` (an object any class may carry for
vendor extensions, OCPP-J 2.0.1 Part 4 §6) is an extension point, not a field of the message:
it is left out of the fields shown and completed, and stays settable by its path.
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
    step: float | None = None  # multipleOf: 0.1 is one decimal

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
        if self.step is not None:
            parts.append(f"{each}a multiple of {self.step:g}")
        return ", ".join(parts)


#: The extension object every OCPP 2.x class may carry (not shown as a field).
CUSTOM_DATA = "customData"


def resolve(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node`, or the definition its local `$ref` (`#/definitions/X`) points at in `root`."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        ref = node["$ref"]
        if not (isinstance(ref, str) and ref.startswith("#/definitions/")):
            break
        node = root.get("definitions", {}).get(ref.rsplit("/", 1)[1], {})
        seen += 1
    return node


def child(root: dict[str, Any], node: dict[str, Any], step: str) -> dict[str, Any] | None:
    """The schema one path step below `node` (a property, or a list index for an array),
    references followed; None when there is no such step."""
    node = resolve(root, node)
    if node.get("type") == "array":
        return resolve(root, node.get("items", {})) if step.isdigit() or step == INDEX else None
    found = node.get("properties", {}).get(step)
    return resolve(root, found) if isinstance(found, dict) else None


def at_path(root: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The schema of a dotted field path (`chargingStation.model`, `getVariableData.0`),
    None when the message has no such field."""
    node: dict[str, Any] | None = resolve(root, root)
    for step in path.split(".") if path else ():
        node = child(root, node, step) if node is not None else None
    return node


def children(root: dict[str, Any], path: str) -> list[tuple[str, dict[str, Any]]]:
    """The fields directly below a path (`` for the top level), each with its schema; a list
    of objects has one child, `0` (its first item), whose fields come below it."""
    node = at_path(root, path)
    if node is None:
        return []
    if node.get("type") == "array":
        items = resolve(root, node.get("items", {}))
        return [("0", items)] if items.get("type") == "object" else []
    return [
        (name, resolve(root, schema))
        for name, schema in node.get("properties", {}).items()
        if name != CUSTOM_DATA
    ]


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
    """Every field of an object schema, nested ones after their parent, in schema order
    (references followed, `customData` left out)."""
    found: list[Field] = []
    _walk(schema, resolve(schema, schema), "", found, 0)
    return found


#: How deep `fields_of` goes: OCPP's deepest messages (2.1 tariffs) nest 9 objects.
MAX_DEPTH = 16


def _walk(
    root: dict[str, Any], schema: dict[str, Any], prefix: str, found: list[Field], depth: int
) -> None:
    required = set(schema.get("required", ()))
    for name, declared in schema.get("properties", {}).items():
        if name == CUSTOM_DATA:
            continue
        path = prefix + name
        node = resolve(root, declared)
        items = resolve(root, node.get("items", {})) if node.get("type") == "array" else None
        holder = items if items is not None and items.get("type") != "object" else node
        found.append(
            Field(
                path=path,
                kind=_kind({**node, "items": items} if items is not None else node),
                required=name in required,
                allowed=tuple(str(value) for value in holder.get("enum", ())),
                max_length=holder.get("maxLength"),
                bounds=_bounds(holder),
                min_items=node.get("minItems"),
                each=holder is not node,
                step=holder.get("multipleOf"),
            )
        )
        if depth >= MAX_DEPTH:
            continue
        if node.get("type") == "object":
            _walk(root, node, path + ".", found, depth + 1)
        elif items is not None and items.get("type") == "object":
            _walk(root, items, f"{path}.{INDEX}.", found, depth + 1)


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
