"""Apply `field=value` customisations to a payload (SPEC §3 "Payload customisation").

A name is a top-level field or a dotted path into nested objects and lists
(`idTagInfo.status`, `localAuthorisationList.0.idTag`, `chargingStation.model`); it must exist
in the message's schema (references to OCPP 2.x `definitions` followed). Values are
already-parsed JSON (a bare word is a string).
"""

from __future__ import annotations

from typing import Any

from ocppsim.core import versions
from ocppsim.core.errors import OcppSimError
from ocppsim.core.fields import child, resolve
from ocppsim.core.validation import load_schema


class FieldError(OcppSimError):
    """A customisation that names no field of the message; the text is the prompt's error line."""


def _field_schema(root: dict[str, Any], steps: list[str]) -> dict[str, Any] | None:
    """The schema of a dotted field path (a list takes an index), None when there is none."""
    schema: dict[str, Any] | None = resolve(root, root)
    for step in steps:
        if schema is not None and schema.get("type") == "array" and not step.isdigit():
            return None
        schema = child(root, schema, step) if schema is not None else None
    return schema


def _elsewhere(version: str, message: str, steps: list[str]) -> str:
    """` in OCPP 2.0.1 (a field of OCPP 1.2 and 1.5)`: said when the field is another
    version's (a 1.x field typed at a 2.x Charge Point), else nothing."""
    others = []
    for entry in versions.all_versions():
        if entry.name == version or message not in entry.messages():
            continue
        try:
            schema = load_schema(entry.name, message)
        except OcppSimError:
            continue
        if _field_schema(schema, steps) is not None:
            others.append(entry.name)
    if not others:
        return ""
    return f" in {versions.get(version).title} (a field of OCPP {versions.one_of(others, 'and')})"


def apply_fields(
    version: str,
    message: str,
    payload: dict[str, Any],
    fields: list[tuple[str, Any]],
    variant: str | None = None,
) -> dict[str, Any]:
    """Set each (dotted name, value) in `payload` (changed in place and returned)."""
    action = message.removesuffix("Request").removesuffix("Response")
    root = load_schema(version, message, variant)
    for name, value in fields:
        steps = name.split(".")
        if _field_schema(root, steps) is None:
            raise FieldError(
                f"Error: unknown field `{name}' for procedure `{action}'"
                + _elsewhere(version, message, steps)
            )
        target: Any = payload
        for step, next_step in zip(steps, steps[1:], strict=False):
            if isinstance(target, list):
                index = int(step)
                if index >= len(target):
                    raise FieldError(f"Error: invalid value for argument `{name}': no item {index}")
                target = target[index]
                continue
            if not isinstance(target.get(step), (dict, list)):
                target[step] = [] if next_step.isdigit() else {}
            target = target[step]
        last = steps[-1]
        if isinstance(target, list):
            index = int(last)
            if index < len(target):
                target[index] = value
            elif index == len(target):
                target.append(value)
            else:
                raise FieldError(f"Error: invalid value for argument `{name}': no item {index}")
        else:
            target[last] = value
    return payload
