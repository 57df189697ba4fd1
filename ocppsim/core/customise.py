"""Apply `field=value` customisations to a payload (SPEC §3 "Payload customisation").

A name is a top-level field or a dotted path into nested objects and lists
(`idTagInfo.status`, `localAuthorisationList.0.idTag`, `chargingStation.model`); it must exist
in the message's schema (references to OCPP 2.x `definitions` followed). Values are
already-parsed JSON (a bare word is a string).
"""

from __future__ import annotations

from typing import Any

from ocppsim.core.errors import OcppSimError
from ocppsim.core.fields import child, resolve
from ocppsim.core.validation import load_schema


class FieldError(OcppSimError):
    """A customisation that names no field of the message; the text is the prompt's error line."""


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
        schema: dict[str, Any] | None = resolve(root, root)
        for step in steps:
            if schema is not None and schema.get("type") == "array" and not step.isdigit():
                schema = None
            else:
                schema = child(root, schema, step) if schema is not None else None
        if schema is None:
            raise FieldError(f"Error: unknown field `{name}' for procedure `{action}'")
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
