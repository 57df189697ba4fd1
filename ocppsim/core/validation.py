"""Validate a payload against its message's JSON Schema and name the OCPP error (SPEC §4).

Schemas come from each version's schema source (`ocppsim.core.versions`), in the JSON Schema
draft the version names; each validator is built once per (version, message, variant) and
reused. The verdict is the first failure, mapped to a kind of failure through the one table
`KIND_OF_KEYWORD`; the version's error dialect names the kind on the wire.

`jsonschema` is the reference and explains every failure. Valid payloads, the common case
on the hot path, are recognised first by a `fastjsonschema` validator compiled from the same
schema in the same draft with the same format checks (20-30 times faster); whatever it refuses
goes through `jsonschema`, whose verdict stands. A test checks that the two never disagree on
"valid".

Two rules hold whatever the version (docs/messages/index.md lists them with the errata): a
number is a multiple of a `multipleOf` step when the number as written (its shortest decimal
form) divided by the step is whole, so 8.1 is a multiple of 0.1 although 8.1 / 0.1 is not 81 in
binary floating point (fastjsonschema reads it so; jsonschema is taught the same); and a
`date-time` is an RFC 3339 date-time, checked, a time zone included (JSON Schema draft 4
§7.3.1: a time without `Z` or an offset is refused, with a reason that says so).

Refusing costs about what accepting costs: `jsonschema` does not re-validate the whole
payload (30 times slower, for a peer that put one bad value at the end of 4 MB). It starts
where `fastjsonschema` failed, and inside that part skips the array items `fastjsonschema`
finds valid; its verdict is the one it would give on the whole payload (see `_first_error`).
Parts of a schema are checked on their own, so that walk runs on a copy of the schema whose
local references (`$ref` to `#/definitions/…`, as OCPP 2.x writes its types) are replaced by
what they point at (`inlined`); `load_schema` gives the schema as published.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

import fastjsonschema
from jsonschema import Draft4Validator, Draft6Validator, validators
from jsonschema.exceptions import ValidationError
from jsonschema.protocols import Validator

from ocppsim.core.errors import ErrorKind, OcppSimError
from ocppsim.core.versions import ATTR_AT, DRAFT_URIS, Dialect, get

__all__ = [
    "ATTR_AT",
    "KIND_OF_KEYWORD",
    "UnknownMessage",
    "Violation",
    "RULES",
    "fast_validator_for",
    "is_multiple_of",
    "load_schema",
    "validate",
    "validator_for",
    "violation_of",
]

#: The one table from a failing JSON Schema keyword to the kind of failure (SPEC §4); the
#: version's error dialect names the kind (`ErrorDialect.code`). Any other keyword: `format`.
KIND_OF_KEYWORD: dict[str, ErrorKind] = {
    "type": "type",
    "enum": "value",
    "const": "value",
    "maxLength": "value",
    "minLength": "value",
    "pattern": "value",
    "format": "value",
    "minimum": "value",
    "maximum": "value",
    "exclusiveMinimum": "value",
    "exclusiveMaximum": "value",
    "multipleOf": "value",
    "required": "occurrence",
    "minItems": "occurrence",
    "maxItems": "occurrence",
    "additionalProperties": "unknown_field",
}


@dataclass(frozen=True)
class _Draft:
    """How one JSON Schema draft is validated: jsonschema's class and the `$schema` URI that
    makes fastjsonschema compile in the same draft."""

    validator: type[Validator]
    uri: str
    explainer: type[Validator]


def _items_skipping_valid(draft: Dialect, draft_items: Callable[..., Any]) -> Callable[..., Any]:
    def items(
        validator: Any, items: Any, instance: Any, schema: dict[str, Any]
    ) -> Iterator[ValidationError]:
        """`items`, without descending into the items fastjsonschema finds valid (the two
        agree on validity, so the errors and their order are those of plain jsonschema)."""
        if not validator.is_type(instance, "array"):
            return
        if not validator.is_type(items, "object"):
            yield from draft_items(validator, items, instance, schema)
            return
        valid = _fast_check_of(items, draft)
        for index, item in enumerate(instance):
            if not valid(item):
                yield from validator.descend(item, items, path=index)

    return items


#: What validation decides the same way for every version, one line each for the docs.
RULES: tuple[str, ...] = (
    "`multipleOf`: a number is a multiple of the step when the number as written (its shortest"
    " decimal form) divided by the step is whole: 8.1 is a multiple of 0.1 (binary floating point"
    " makes 8.1 / 0.1 = 80.99999999999999, which plain validators refuse), 8.15 is not.",
    "`date-time`: checked as an RFC 3339 date-time (JSON Schema draft 4 §7.3.1), time zone"
    " included: `2024-05-01T12:00:00` (no `Z`, no offset: a local time nobody can place) is"
    " refused with a reason that says so, as are `2024-05-01 12:00:00Z` and dates that do not"
    " exist; any number of fraction digits is read.",
)


def is_multiple_of(value: Any, step: Any) -> bool:
    """True when `value` is a multiple of `step`, read as decimals (see RULES); fastjsonschema
    computes exactly this, so the two validators agree."""
    if isinstance(value, int) and isinstance(step, int):
        return value % step == 0
    try:
        if isinstance(step, float):
            quotient = Decimal(repr(value)) / Decimal(repr(step))
        else:
            quotient = value / step
        return bool(int(quotient) == quotient)
    except (ArithmeticError, InvalidOperation, ValueError, TypeError):
        return False


def _multiple_of(
    validator: Any, step: Any, instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """jsonschema's `multipleOf`, with decimal reading (see `is_multiple_of`)."""
    if validator.is_type(instance, "number") and not is_multiple_of(instance, step):
        yield ValidationError(f"{instance!r} is not a multiple of {step}")


def _draft(name: Dialect, validator: Any) -> _Draft:
    ours = validators.extend(validator, {"multipleOf": _multiple_of})
    items = _items_skipping_valid(name, ours.VALIDATORS["items"])
    return _Draft(ours, DRAFT_URIS[name], validators.extend(ours, {"items": items}))


_DRAFTS: dict[Dialect, _Draft] = {
    "draft4": _draft("draft4", Draft4Validator),
    "draft6": _draft("draft6", Draft6Validator),
}

for _checked in _DRAFTS.values():
    if "date-time" not in _checked.validator.FORMAT_CHECKER.checkers:  # pragma: no cover
        raise ImportError("jsonschema cannot check date-time: install rfc3339-validator")


@dataclass(frozen=True)
class Violation:
    """Why a payload is refused: the OCPP error code, a readable reason and the field at fault.

    `code` is the name the version validated for gives the failure's `kind`; `field` is the
    path of the offending field (`idTag`, `values[0].timestamp`), None when the payload as a
    whole is wrong (it is not an object).
    """

    code: str
    reason: str
    field: str | None = None
    kind: ErrorKind = "format"

    @property
    def details(self) -> dict[str, str]:
        """The CALLERROR's errorDetails: the field at fault, when there is one."""
        return {"field": self.field} if self.field is not None else {}


class UnknownMessage(OcppSimError, LookupError):
    """No schema exists for that (version, message)."""


@cache
def load_schema(version: str, message: str, variant: str | None = None) -> dict[str, Any]:
    """The JSON Schema of `message` in OCPP `version` (in `variant`'s form when the version
    has that variant for this message, else the plain one)."""
    entry = get(version)
    try:
        return entry.schemas.load(message, entry.variant_for(variant, message))
    except FileNotFoundError as exc:
        raise UnknownMessage(f"no schema for {message} in {entry.title}") from exc


def inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of `schema` with each local `$ref` (`#/definitions/X`) replaced by the definition
    it names, inlined once and shared (in draft 4 and 6 a `$ref` ignores its siblings: the
    meaning is unchanged). A reference into a definition being inlined (a cycle) is kept."""
    definitions = schema.get("definitions", {})
    done: dict[str, Any] = {}

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            name = ref.rsplit("/", 1)[1]
            if name in seen or name not in definitions:
                return node
            if name not in done:
                done[name] = walk(definitions[name], (*seen, name))
            return done[name]
        return {key: walk(value, seen) for key, value in node.items()}

    copy: dict[str, Any] = walk(schema, ())
    return copy


@cache
def _explained_schema(version: str, message: str, variant: str | None) -> dict[str, Any]:
    """The schema `_first_error` walks: `load_schema`'s, references inlined."""
    return inlined(load_schema(version, message, variant))


def _format_check(checker: Any, name: str) -> Any:
    def check(value: Any) -> bool:
        return bool(checker.conforms(value, name))

    return check


def _fast_formats(draft: _Draft) -> dict[str, Any]:
    """fastjsonschema's format checks: jsonschema's own, so the two agree on every format."""
    checker = draft.validator.FORMAT_CHECKER
    return {name: _format_check(checker, name) for name in ("date-time", "uri")}


def dialect_of(version: str, message: str, variant: str | None = None) -> Dialect:
    """The JSON Schema draft `message` of `version` is validated in."""
    return get(version).schemas.dialect_of(load_schema(version, message, variant))


def _draft_of(version: str, message: str, variant: str | None) -> _Draft:
    return _DRAFTS[dialect_of(version, message, variant)]


@cache
def fast_validator_for(version: str, message: str, variant: str | None = None) -> Any:
    """A compiled fastjsonschema validator of the same schema in its draft (it raises on any
    failure)."""
    schema, draft = load_schema(version, message, variant), _draft_of(version, message, variant)
    return fastjsonschema.compile(
        {**schema, "$schema": draft.uri}, formats=_fast_formats(draft), use_default=False
    )


@cache
def validator_for(version: str, message: str, variant: str | None = None) -> Validator:
    """The jsonschema validator of a message in its draft, built once."""
    draft = _draft_of(version, message, variant)
    schema = load_schema(version, message, variant)
    return draft.validator(schema, format_checker=draft.validator.FORMAT_CHECKER)


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


#: A date-time that would be valid with `Z` after it.
_NO_ZONE = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?")


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
        if error.validator_value == "date-time" and isinstance(error.instance, str):
            if _NO_ZONE.fullmatch(error.instance):
                return f"{where}: {value} has no time zone (RFC 3339: add Z or an offset)"
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


def violation_of(error: ValidationError, version: str) -> Violation:
    """Map one jsonschema error to its kind, the code `version` gives it, a reason and the
    field at fault."""
    kind = KIND_OF_KEYWORD.get(str(error.validator), "format")
    return Violation(get(version).errors.code(kind), _reason(error), _field(error), kind)


def _fast_check(schema: dict[str, Any], draft: Dialect) -> Any:
    """`check(value) -> bool`: a compiled fastjsonschema validator of a part of a schema."""
    compiled = fastjsonschema.compile(
        {**schema, "$schema": _DRAFTS[draft].uri},
        formats=_fast_formats(_DRAFTS[draft]),
        use_default=False,
    )

    def check(value: Any) -> bool:
        try:
            compiled(value)
        except (fastjsonschema.JsonSchemaException, TypeError, ValueError, ArithmeticError):
            return False
        return True

    return check


#: (id(part of a cached schema), draft) -> (that part, its fast check); the parts live forever.
_fast_checks: dict[tuple[int, Dialect], tuple[dict[str, Any], Any]] = {}


def _fast_check_of(schema: dict[str, Any], draft: Dialect) -> Any:
    key = (id(schema), draft)
    entry = _fast_checks.get(key)
    if entry is None or entry[0] is not schema:
        entry = _fast_checks[key] = (schema, _fast_check(schema, draft))
    return entry[1]


#: Keywords fastjsonschema checks after `properties`: if one came before `properties` in a
#: schema, jsonschema would check it first, and an error there would come first.
_AFTER_PROPERTIES = frozenset({"patternProperties", "additionalProperties"})


def _checked_first_and_passes(
    node: dict[str, Any], early: frozenset[str], instance: dict[str, Any]
) -> bool:
    """True when what jsonschema checks before `properties` (here: `additionalProperties:
    false`, as OCPP 2.x schemas put it first) passes on `instance`, so the walk may go on."""
    return (
        early == {"additionalProperties"}
        and node["additionalProperties"] is False
        and all(name in node["properties"] for name in instance)
    )


def _first_error(
    schema: dict[str, Any], payload: Any, steps: list[str], draft: _Draft
) -> ValidationError | None:
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
            early = _AFTER_PROPERTIES.intersection(list(node)[: list(node).index("properties")])
            if step not in instance or (
                early and not _checked_first_and_passes(node, early, instance)
            ):
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
    explainer = draft.explainer(node, format_checker=draft.validator.FORMAT_CHECKER)
    error: ValidationError | None = next(explainer.iter_errors(instance), None)
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
    except (fastjsonschema.JsonSchemaException, TypeError, ValueError, ArithmeticError):
        pass  # (the generated code's int() of an infinite float: the reference validator says)
    schema = _explained_schema(version, message, variant)
    error = _first_error(schema, payload, steps, _draft_of(version, message, variant))
    if error is None:  # the two disagree (never seen): jsonschema alone, on the whole payload
        error = next(validator_for(version, message, variant).iter_errors(payload), None)
    return None if error is None else violation_of(error, version)
