"""Validate a payload against its message's JSON Schema and name the OCPP error (SPEC §4).

Schemas are the committed files under `schemas/`; each validator is built once per
(version, message, variant) and reused. The verdict is the first failure, mapped to its
OCPP error code through the one table `ERROR_CODE_OF_KEYWORD`.

`jsonschema` is the reference and explains every failure. Valid payloads, the common case
on the hot path, are recognised first by a `fastjsonschema` validator compiled from the same
schema with the same format checks (20-30 times faster); whatever it refuses goes through
`jsonschema`, whose verdict stands. A test checks that the two never disagree on "valid".

Refusing costs about what accepting costs: `jsonschema` does not re-validate the whole
payload (30 times slower, for a peer that put one bad value at the end of 4 MB). It starts
where `fastjsonschema` failed, and inside that part skips the array items `fastjsonschema`
finds valid; its verdict is the one it would give on the whole payload (see `_first_error`).
"""

from __future__ import annotations

import json
import reprlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator, validators
from jsonschema.exceptions import ValidationError

from ocppsim.core.resources import schema_path

#: The one table from a failing JSON Schema keyword to the OCPP-J error code (SPEC §4).
ERROR_CODE_OF_KEYWORD: dict[str, str] = {
    "type": "TypeConstraintViolation",
    "enum": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",
    "format": "TypeConstraintViolation",
    "minimum": "TypeConstraintViolation",
    "maximum": "TypeConstraintViolation",
    "required": "OccurenceConstraintViolation",
    "minItems": "OccurenceConstraintViolation",
    "additionalProperties": "PropertyConstraintViolation",
}

#: The `--with-attr-at` variant: the older JSON form of 1.5 MeterValue items (SPEC §4).
ATTR_AT = "with-attr-at"
ATTR_AT_MESSAGES = frozenset({"MeterValuesRequest", "StopTransactionRequest"})

_FORMAT_CHECKER = Draft4Validator.FORMAT_CHECKER
if "date-time" not in _FORMAT_CHECKER.checkers:  # pragma: no cover - packaging guard
    raise ImportError("jsonschema cannot check date-time: install rfc3339-validator")


@dataclass(frozen=True)
class Violation:
    """Why a payload is refused: the OCPP error code, a readable reason and the field at fault.

    `field` is the path of the offending field (`idTag`, `values[0].timestamp`), None when the
    payload as a whole is wrong (it is not an object).
    """

    code: str
    reason: str
    field: str | None = None

    @property
    def details(self) -> dict[str, str]:
        """The CALLERROR's errorDetails: the field at fault, when there is one."""
        return {"field": self.field} if self.field is not None else {}


class UnknownMessage(LookupError):
    """No schema exists for that (version, message)."""


@cache
def load_schema(version: str, message: str, variant: str | None = None) -> dict[str, Any]:
    """The committed JSON Schema of `message` for OCPP `version`."""
    if variant == ATTR_AT and message not in ATTR_AT_MESSAGES:
        variant = None
    path = schema_path(version, message, variant)
    try:
        with path.open(encoding="utf-8") as handle:
            schema: dict[str, Any] = json.load(handle)
    except FileNotFoundError as exc:
        raise UnknownMessage(f"no schema for {message} in OCPP {version}") from exc
    return schema


def _format_check(name: str) -> Any:
    def check(value: Any) -> bool:
        return _FORMAT_CHECKER.conforms(value, name)

    return check


_FAST_FORMATS = {name: _format_check(name) for name in ("date-time", "uri")}


@cache
def fast_validator_for(version: str, message: str, variant: str | None = None) -> Any:
    """A compiled fastjsonschema validator of the same schema (it raises on any failure)."""
    return fastjsonschema.compile(
        load_schema(version, message, variant), formats=_FAST_FORMATS, use_default=False
    )


@cache
def validator_for(version: str, message: str, variant: str | None = None) -> Draft4Validator:
    """The compiled validator of a message, built once."""
    return Draft4Validator(load_schema(version, message, variant), format_checker=_FORMAT_CHECKER)


#: A value quoted in a reason is cut to about this many characters (it travels to the peer).
SHOWN_VALUE = 32
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = SHOWN_VALUE
_SHORT.maxlist = _SHORT.maxdict = 4
_SHORT.maxlevel = 2


def shown(value: Any) -> str:
    """`value` as Python writes it, cut short: `'xxxxxxxx…'` (a huge bad value stays small)."""
    if isinstance(value, str) and len(value) > SHOWN_VALUE:
        return repr(value[:SHOWN_VALUE])[:-1] + "…'"
    return _SHORT.repr(value)


def _path(steps: Any) -> str:
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in steps)
    return text.lstrip(".")


def _field(error: ValidationError) -> str | None:
    """The path of the field at fault: the missing or unexpected one for object rules."""
    where = _path(error.absolute_path)
    instance = error.instance
    name: str | None = None
    if error.validator == "required" and isinstance(instance, dict):
        name = next((n for n in error.validator_value if n not in instance), None)  # type: ignore[union-attr]
    elif error.validator == "additionalProperties" and isinstance(instance, dict):
        known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
        name = next((str(n) for n in instance if n not in known), None)
    if name is not None:
        return f"{where}.{name}" if where else name
    return where or None


def _reason(error: ValidationError) -> str:
    where = _path(error.absolute_path) or "payload"
    keyword = error.validator
    value = shown(error.instance)
    if keyword in ("additionalProperties", "required"):
        field = _field(error) or where
        rule = "unexpected field" if keyword == "additionalProperties" else "missing (required)"
        return f"{field}: {rule}"
    if keyword == "format":
        return f"{where}: {value} is not a valid {error.validator_value}"
    if keyword == "maxLength":
        return f"{where}: {value} is longer than {error.validator_value} characters"
    if keyword == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)  # type: ignore[union-attr]
        return f"{where}: {value} is not one of {allowed}"
    if keyword == "type":
        return f"{where}: {value} is not of type {error.validator_value}"
    if keyword in ("minimum", "maximum"):
        bound = "less" if keyword == "minimum" else "greater"
        limit = error.validator_value
        return f"{where}: {value} is {bound} than the {keyword} {limit}"
    if keyword == "minItems":
        return f"{where}: fewer than {error.validator_value} items"
    return f"{where}: {error.message}"


def violation_of(error: ValidationError) -> Violation:
    """Map one jsonschema error to its OCPP error code, a reason and the field at fault."""
    code = ERROR_CODE_OF_KEYWORD.get(str(error.validator), "FormationViolation")
    return Violation(code, _reason(error), _field(error))


def _fast_check(schema: dict[str, Any]) -> Any:
    """`check(value) -> bool`: a compiled fastjsonschema validator of a part of a schema."""
    compiled = fastjsonschema.compile(
        {**schema, "$schema": Draft4Validator.META_SCHEMA["id"]},
        formats=_FAST_FORMATS,
        use_default=False,
    )

    def check(value: Any) -> bool:
        try:
            compiled(value)
        except (fastjsonschema.JsonSchemaException, TypeError, ValueError):
            return False
        return True

    return check


#: id(part of a cached schema) -> (that part, its fast check); the parts live forever.
_fast_checks: dict[int, tuple[dict[str, Any], Any]] = {}


def _fast_check_of(schema: dict[str, Any]) -> Any:
    entry = _fast_checks.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = _fast_checks[id(schema)] = (schema, _fast_check(schema))
    return entry[1]


def _items_skipping_valid(
    validator: Any, items: Any, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """Draft 4 `items`, without descending into the items fastjsonschema finds valid (the
    two agree on validity, so the errors and their order are those of plain Draft 4)."""
    if not validator.is_type(instance, "array"):
        return
    if not validator.is_type(items, "object"):
        yield from _DRAFT4_ITEMS(validator, items, instance, schema)
        return
    valid = _fast_check_of(items)
    for index, item in enumerate(instance):
        if not valid(item):
            yield from validator.descend(item, items, path=index)


_DRAFT4_ITEMS = Draft4Validator.VALIDATORS["items"]
_Explainer = validators.extend(Draft4Validator, {"items": _items_skipping_valid})

#: Keywords fastjsonschema checks after `properties`: if one came before `properties` in a
#: schema, jsonschema would check it first, and an error there would come first.
_AFTER_PROPERTIES = frozenset({"patternProperties", "additionalProperties"})


def _first_error(schema: dict[str, Any], payload: Any, steps: list[str]) -> ValidationError | None:
    """jsonschema's first error on `payload`, found from where fastjsonschema failed.

    `steps` is the path of fastjsonschema's first error. Along it, everything jsonschema
    checks before descending (the type, the properties and items before the step) is
    something fastjsonschema checked and passed first, so jsonschema's first error lies in
    the last part of that path which both schema and payload have: explain that part only.
    """
    node, instance = schema, payload
    path: list[str | int] = []
    schema_path: list[str | int] = []
    for step in steps:
        properties = node.get("properties")
        items = node.get("items")
        if isinstance(instance, dict) and isinstance(properties, dict) and step in properties:
            before = list(node)[: list(node).index("properties")]
            if step not in instance or _AFTER_PROPERTIES.intersection(before):
                break
            node, instance = properties[step], instance[step]
            path.append(step)
            schema_path += ["properties", step]
        elif isinstance(instance, list) and isinstance(items, dict) and step.isdigit():
            index = int(step)
            if index >= len(instance):
                break
            node, instance = items, instance[index]
            path.append(index)
            schema_path.append("items")
        else:
            break
    error: ValidationError | None = next(
        _Explainer(node, format_checker=_FORMAT_CHECKER).iter_errors(instance), None
    )
    if error is not None and path:
        error.path.extendleft(reversed(path))
        error.schema_path.extendleft(reversed(schema_path))
    return error


def validate(
    version: str, message: str, payload: Any, variant: str | None = None
) -> Violation | None:
    """None when `payload` is a valid `message` of OCPP `version`, else the first violation."""
    steps: list[str] = []
    try:
        fast_validator_for(version, message, variant)(payload)
        return None
    except fastjsonschema.JsonSchemaValueException as exc:
        steps = exc.path[1:]  # refused there: let the reference validator say why
    except (fastjsonschema.JsonSchemaException, TypeError, ValueError):
        pass
    error = _first_error(load_schema(version, message, variant), payload, steps)
    if error is None:  # the two disagree (never seen): jsonschema alone, on the whole payload
        error = next(validator_for(version, message, variant).iter_errors(payload), None)
    return None if error is None else violation_of(error)
