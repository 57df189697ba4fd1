"""Validate a payload against its message's JSON Schema and name the OCPP error (SPEC §4).

Schemas are the committed files under `schemas/`; each validator is built once per
(version, message, variant) and reused. The verdict is the first failure, mapped to its
OCPP error code through the one table `ERROR_CODE_OF_KEYWORD`.

`jsonschema` is the reference and explains every failure. Valid payloads, the common case
on the hot path, are recognised first by a `fastjsonschema` validator compiled from the same
schema with the same format checks (20-30 times faster); whatever it refuses goes through
`jsonschema`, whose verdict stands. A test checks that the two never disagree on "valid".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator
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
    """Why a payload is refused: the OCPP error code and a readable reason."""

    code: str
    reason: str


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


def _where(error: ValidationError) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return path.lstrip(".") or "payload"


def _reason(error: ValidationError) -> str:
    where = _where(error)
    keyword = error.validator
    if keyword == "additionalProperties":
        return f"{where}: {error.message}"
    if keyword == "required":
        return f"{where}: {error.message}"
    if keyword == "format":
        return f"{where}: {error.instance!r} is not a valid {error.validator_value}"
    if keyword == "maxLength":
        return f"{where}: {error.instance!r} is longer than {error.validator_value} characters"
    if keyword == "enum":
        allowed = ", ".join(str(v) for v in error.validator_value)  # type: ignore[union-attr]
        return f"{where}: {error.instance!r} is not one of {allowed}"
    if keyword == "type":
        return f"{where}: {error.instance!r} is not of type {error.validator_value}"
    return f"{where}: {error.message}"


def violation_of(error: ValidationError) -> Violation:
    """Map one jsonschema error to its OCPP error code and a reason."""
    code = ERROR_CODE_OF_KEYWORD.get(str(error.validator), "FormationViolation")
    return Violation(code, _reason(error))


def validate(
    version: str, message: str, payload: Any, variant: str | None = None
) -> Violation | None:
    """None when `payload` is a valid `message` of OCPP `version`, else the first violation."""
    try:
        fast_validator_for(version, message, variant)(payload)
        return None
    except (fastjsonschema.JsonSchemaException, TypeError, ValueError):
        pass  # refused: let the reference validator say why (or overrule it)
    validator = validator_for(version, message, variant)
    error = next(validator.iter_errors(payload), None)
    return None if error is None else violation_of(error)
