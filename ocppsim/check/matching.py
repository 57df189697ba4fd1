"""What a scenario says about a payload: values with variables, paths into payloads, and
matchers that say why a value does not match.

* `${name}` in a string is a variable (a suite parameter, a value captured from an earlier
  frame, or a built-in: `charge_point_id`, `version`, `now`, `uid`); a string that is only
  `${…}` becomes the variable's own value (a number stays a number), and `${…}` may hold a
  little arithmetic (`${interval * 2 + 5}`), `now+60` (a date-time a minute from now) and
  `text(…)`, a value as a string (`${text(interval)}`: "5", as 1.x configuration values are).
* A path is dotted, list items by their index: `idTagInfo.status`, `getVariableResult.0.
  attributeStatus`.
* A matcher is a plain value (equal to it), a mapping of field names to matchers (those fields
  of an object), or a mapping of matcher words: `one_of`, `not`, `not_one_of`, `present`,
  `absent`, `min`, `max`, `matches`, `of_type`, `length`, `min_length`, `max_length`,
  `contains`, `each`, `near_now`, `equals`. OCPP names its fields in camelCase, so a word of
  this list never clashes with a field.

Nothing here does I/O: the runner and the scenario loader share it, and it is tested alone.
"""

from __future__ import annotations

import ast
import json
import operator
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from ocppsim.core.errors import OcppSimError
from ocppsim.core.station.common import parse_time as parse_date_time

#: The words of a matcher mapping, and what each one takes.
MATCHER_WORDS = frozenset(
    {
        "equals",
        "one_of",
        "not",
        "not_one_of",
        "present",
        "absent",
        "min",
        "max",
        "matches",
        "of_type",
        "length",
        "min_length",
        "max_length",
        "contains",
        "each",
        "near_now",
    }
)
#: JSON types by the name `of_type` takes.
TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "null": lambda v: v is None,
}

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_MISSING = object()
_RAISE = object()


class MatchError(OcppSimError, ValueError):
    """A scenario's value cannot be worked out (an unknown variable, a bad expression)."""


# -- variables ---------------------------------------------------------------------------------


def utc_text(moment: datetime) -> str:
    """`2026-11-24T09:00:00Z`: how a date-time is written in a payload."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


_OPERATORS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
}


def _evaluate(expression: str, variables: Mapping[str, Any]) -> Any:
    """The value of `${expression}`: a variable, a number, `now±seconds`, or + - * / of them."""
    text = expression.strip()
    if text in variables:
        return variables[text]
    now = re.fullmatch(r"now\s*(?:([+-])\s*(\d+(?:\.\d+)?))?", text)
    if now:
        seconds = float(now.group(2) or 0) * (-1 if now.group(1) == "-" else 1)
        return utc_text(datetime.now(timezone.utc) + timedelta(seconds=seconds))
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise MatchError(f"${{{expression}}}: not a variable or an expression") from None

    def value(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return value(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in variables:
                known = ", ".join(sorted(variables)) or "none"
                raise MatchError(f"unknown variable {node.id!r} (known: {known})")
            return variables[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -_number(value(node.operand), expression)
        if _is_text_call(node):  # text(x): x as a string (OCPP 1.x configuration values)
            assert isinstance(node, ast.Call)
            return _as_text(value(node.args[0]))
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            left = _number(value(node.left), expression)
            right = _number(value(node.right), expression)
            try:
                return _OPERATORS[type(node.op)](left, right)
            except ZeroDivisionError:
                raise MatchError(f"${{{expression}}}: division by zero") from None
        raise MatchError(
            f"${{{expression}}}: only variables, numbers, + - * / and text(…) are allowed"
        )

    return value(tree)


def _is_text_call(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "text"
        and len(node.args) == 1
        and not node.keywords
    )


def _number(value: Any, expression: str) -> float:
    if isinstance(value, bool):
        raise MatchError(f"${{{expression}}}: {value!r} is not a number")
    if isinstance(value, (int, float)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MatchError(f"${{{expression}}}: {value!r} is not a number") from None
    return int(number) if number.is_integer() else number


def substitute(value: Any, variables: Mapping[str, Any], depth: int = 0) -> Any:
    """`value` with every `${…}` replaced, in strings at any depth of lists and mappings (a
    variable's own value too: a parameter may hold `${now}`)."""
    if depth > 8:
        raise MatchError("variables refer to each other in a loop")
    if isinstance(value, str):
        whole = _VARIABLE.fullmatch(value)
        if whole:
            found = _evaluate(whole.group(1), variables)
            return substitute(found, variables, depth + 1) if found != value else found
        if "${" not in value:
            return value
        return _VARIABLE.sub(
            lambda m: _as_text(substitute(_evaluate(m.group(1), variables), variables, depth + 1)),
            value,
        )
    if isinstance(value, list):
        return [substitute(item, variables, depth) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, variables, depth) for key, item in value.items()}
    return value


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def variables_in(value: Any) -> set[str]:
    """The names a value's `${…}` read (for the checks a scenario gets on load)."""
    found: set[str] = set()
    if isinstance(value, str):
        for expression in _VARIABLE.findall(value):
            try:
                tree = ast.parse(expression.strip(), mode="eval")
            except SyntaxError:
                continue
            functions = {getattr(n, "func", None) for n in ast.walk(tree) if _is_text_call(n)}
            found.update(
                n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and n not in functions
            )
    elif isinstance(value, list):
        for item in value:
            found |= variables_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            found |= variables_in(item)
    return found


# -- paths -------------------------------------------------------------------------------------


def get_path(payload: Any, path: str, default: Any = _RAISE) -> Any:
    """The value at dotted `path` in `payload` (`a.0.b`); `default`, else KeyError, when
    there is none."""
    value = payload
    for part in path.split(".") if path else []:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif (
            isinstance(value, list)
            and part.lstrip("-").isdigit()
            and -len(value) <= int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            if default is _RAISE:
                raise KeyError(path)
            return default
    return value


# -- matchers ----------------------------------------------------------------------------------


def is_matcher_mapping(value: Any) -> bool:
    """True when `value` is a mapping of matcher words (not of field names)."""
    return isinstance(value, dict) and bool(value) and all(k in MATCHER_WORDS for k in value)


def check_matcher(spec: Any, where: str = "") -> None:
    """Raise MatchError when `spec` is not a matcher (a mapping mixing matcher words and
    field names, a word with the wrong kind of argument)."""
    if not isinstance(spec, dict):
        if isinstance(spec, list):
            for index, item in enumerate(spec):
                check_matcher(item, f"{where}.{index}" if where else str(index))
        return
    words = [k for k in spec if k in MATCHER_WORDS]
    if words and len(words) != len(spec):
        fields = [k for k in spec if k not in MATCHER_WORDS]
        raise MatchError(
            f"{where or 'matcher'}: mixes matcher words ({', '.join(words)}) with fields"
            f" ({', '.join(fields)}); put the fields one level down"
        )
    if not words:
        for key, item in spec.items():
            if not isinstance(key, str):
                raise MatchError(f"{where or 'matcher'}: a field name must be text, not {key!r}")
            check_matcher(item, f"{where}.{key}" if where else key)
        return
    for word, argument in spec.items():
        label = f"{where}: {word}" if where else word
        if word in ("one_of", "not_one_of") and not isinstance(argument, list):
            raise MatchError(f"{label} takes a list of values")
        if word in ("present", "absent") and not isinstance(argument, bool):
            raise MatchError(f"{label} takes true or false")
        if word == "of_type" and argument not in TYPES:
            raise MatchError(f"{label} takes one of {', '.join(TYPES)}")
        if word == "matches":
            if not isinstance(argument, str):
                raise MatchError(f"{label} takes a regular expression")
            try:
                re.compile(argument)
            except re.error as exc:
                raise MatchError(f"{label}: {exc}") from None
        if word in ("contains", "each", "not", "equals"):
            check_matcher(argument, f"{where}.{word}" if where else word)


def _shown(value: Any) -> str:
    if value is _MISSING:
        return "missing"
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "…"


def _number_or_none(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    return None


def mismatch(value: Any, spec: Any, path: str = "") -> str | None:
    """Why `value` (at `path`; `_MISSING` when absent) does not match `spec`, else None."""
    label = path or "the payload"
    if isinstance(spec, dict) and not is_matcher_mapping(spec):
        if value is _MISSING:
            return f"{label} is missing"
        if not isinstance(value, dict):
            return f"{label} is {_shown(value)}, expected an object"
        for key, item in spec.items():
            found = mismatch(value.get(key, _MISSING), item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
        return None
    if isinstance(spec, dict):
        for word, argument in spec.items():
            found = _word(word, argument, value, label, path)
            if found is not None:
                return found
        return None
    if value is _MISSING:
        return f"{label} is missing, expected {_shown(spec)}"
    if not _equal(value, spec):
        return f"{label} is {_shown(value)}, expected {_shown(spec)}"
    return None


def _equal(value: Any, expected: Any) -> bool:
    """Equal as JSON values (1 and 1.0 are equal, True and 1 are not)."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return type(value) is type(expected) and value == expected
    return bool(value == expected)


def _word(word: str, argument: Any, value: Any, label: str, path: str) -> str | None:
    present = value is not _MISSING
    if word == "present":
        if present != argument:
            return f"{label} is {'present' if present else 'missing'}" + (
                f" ({_shown(value)})" if present else ""
            )
        return None
    if word == "absent":
        if present == argument:
            return f"{label} is present ({_shown(value)}), expected it absent"
        return None
    if word == "not":
        if present and mismatch(value, argument, path) is None:
            return f"{label} is {_shown(value)}, expected anything but {_shown(argument)}"
        return None
    if not present:
        return f"{label} is missing"
    if word == "equals":
        return mismatch(value, argument, path)
    if word == "one_of":
        if not any(_equal(value, option) for option in argument):
            options = ", ".join(_shown(o) for o in argument)
            return f"{label} is {_shown(value)}, expected one of {options}"
        return None
    if word == "not_one_of":
        if any(_equal(value, option) for option in argument):
            return f"{label} is {_shown(value)}, expected none of " + ", ".join(
                _shown(o) for o in argument
            )
        return None
    if word in ("min", "max"):
        number = _number_or_none(value)
        if number is None:
            return f"{label} is {_shown(value)}, expected a number"
        if word == "min" and number < argument:
            return f"{label} is {_shown(value)}, expected at least {argument}"
        if word == "max" and number > argument:
            return f"{label} is {_shown(value)}, expected at most {argument}"
        return None
    if word == "matches":
        if not isinstance(value, str) or re.search(argument, value) is None:
            return f"{label} is {_shown(value)}, expected text matching {argument!r}"
        return None
    if word == "of_type":
        if not TYPES[argument](value):
            return f"{label} is {_shown(value)}, expected a value of type {argument}"
        return None
    if word in ("length", "min_length", "max_length"):
        if not isinstance(value, (str, list, dict)):
            return f"{label} is {_shown(value)}, which has no length"
        size = len(value)
        if (
            (word == "length" and size != argument)
            or (word == "min_length" and size < argument)
            or (word == "max_length" and size > argument)
        ):
            want = {"length": "exactly", "min_length": "at least", "max_length": "at most"}[word]
            return f"{label} has {size} item(s), expected {want} {argument}"
        return None
    if word == "contains":
        if not isinstance(value, list):
            return f"{label} is {_shown(value)}, expected a list"
        if not any(mismatch(item, argument, f"{path}.{i}") is None for i, item in enumerate(value)):
            return f"{label} has no item matching {_shown(argument)}"
        return None
    if word == "each":
        if not isinstance(value, list):
            return f"{label} is {_shown(value)}, expected a list"
        for index, item in enumerate(value):
            found = mismatch(item, argument, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
        return None
    if word == "near_now":
        moment = parse_time(value)
        if moment is None:
            return f"{label} is {_shown(value)}, expected a date-time"
        skew = abs((moment - datetime.now(timezone.utc)).total_seconds())
        if skew > float(argument):
            return f"{label} is {_shown(value)}, {skew:.0f} s from now (at most {argument} s)"
        return None
    raise MatchError(f"unknown matcher word {word!r}")  # pragma: no cover - checked on load


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 date-time as an aware datetime (zone-less: UTC), else None."""
    if not isinstance(value, str):
        return None
    try:  # any number of fraction digits, on Python 3.10 too
        return parse_date_time(value.strip())
    except ValueError:
        return None


MISSING = _MISSING
