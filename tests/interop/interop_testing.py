"""Helpers of the interop tests: what an independent peer sends, and running a scenario.

Valid payloads are made from a message's published JSON schema alone (OCA's file as the `ocpp`
package ships it, no errata): what a peer that reads OCA's schemas, and nothing of ocppsim,
would send or answer.

`make(schema, full=False)` fills the required fields only; `full=True` every field, one item
per list. A value is the first allowed word, the field's own name as text (cut to its
maxLength), 1 (or the nearest bound) for an integer, 8.1 for a number (a multiple of 0.1 that
binary floating point rounds: the OCPP 1.6 schemas' `multipleOf` trap), now for a date-time.
`omit(name)` names fields a peer cannot send: they are left out, and so is an optional object
that would need one of them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

from ocppsim.core import versions

Schema = dict[str, Any]

#: the actions that end a connection when a Charge Point plays them (a reset reboots it): sent
#: last in a loop over every action
LAST = ("Reset",)


class _Missing:
    """A value that cannot be made (it needs a field the peer cannot send)."""


MISSING = _Missing()


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    """Run one test coroutine with an overall bound."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def ordered(actions: tuple[str, ...] | list[str]) -> list[str]:
    """`actions` with those that end a connection last."""
    return sorted(actions, key=lambda action: action in LAST)


def json_versions() -> list[Any]:
    """A test parameter for each version whose schemas are OCA's JSON schemas as the `ocpp`
    package ships them (1.6, 2.0.1, 2.1), skipped where this installation lacks it."""
    import pytest
    from ocppsim_testing import needs_version

    return [
        pytest.param(entry.name, marks=needs_version(entry.name), id=entry.subprotocol)
        for entry in versions.registered()
        if entry.schemas.package == "ocpp"
    ]


def published_schema(version: str, message: str) -> Schema:
    """The schema of `message` (`ResetRequest`) as OCA published it: the file the `ocpp`
    package ships, read without ocppsim's errata."""
    path = versions.get(version).schemas.path(message)
    schema: Schema = json.loads(path.read_text(encoding="utf-8-sig"))
    return schema


def now() -> str:
    """The current UTC time as OCPP writes it."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def make(schema: Schema, *, full: bool, omit: Callable[[str], bool] = lambda name: False) -> Any:
    """A payload valid against `schema` (a whole message schema, with its definitions)."""
    value = _value(schema, schema, "payload", full, omit)
    assert value is not MISSING, "a required field cannot be sent"
    return value


def _resolve(root: Schema, node: Schema) -> Schema:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _value(root: Schema, node: Schema, name: str, full: bool, omit: Callable[[str], bool]) -> Any:
    node = _resolve(root, node)
    kind = node.get("type")
    if "enum" in node:
        return node["enum"][0]
    if kind == "object":
        required = node.get("required", [])
        made = {}
        for key, sub in node.get("properties", {}).items():
            if key not in required and not full:
                continue
            value = MISSING if omit(key) else _value(root, sub, key, full, omit)
            if value is MISSING:
                if key in required:
                    return MISSING
                continue
            made[key] = value
        return made
    if kind == "array":
        count = max(node.get("minItems", 0), 1)
        items = [_value(root, node.get("items", {}), name, full, omit) for _ in range(count)]
        return MISSING if MISSING in items else items
    if kind == "string" or kind is None:  # no type: anything (DataTransfer's data)
        if node.get("format") == "date-time":
            return now()
        if node.get("format") == "uri":
            return "ftp://files.example.com/" + name
        text = name * (node.get("minLength", 0) // len(name) + 1)
        return text[: node.get("maxLength", len(text))]
    if kind == "integer":
        return _bounded(1, node)
    if kind == "number":
        return _bounded(8.1, node)
    if kind == "boolean":
        return True
    raise AssertionError(f"no value for {name}: {node}")


def _bounded(value: Any, node: Schema) -> Any:
    if "minimum" in node:
        value = max(value, node["minimum"])
    if "maximum" in node:
        value = min(value, node["maximum"])
    return value
