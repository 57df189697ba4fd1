"""`help <command>`: a command's syntax, options with their defaults, and for an OCPP command
the payload's fields (types, required ones, allowed values) read from the message's JSON
Schema, then an example line to type."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.fields import Field, fields_of, value_at
from ocppsim.core.validation import load_schema
from ocppsim.repl.parsing import parse_value

if TYPE_CHECKING:
    from ocppsim.repl.commands import Command

WIDTH = 100
#: A field column wider than this wraps the description onto the next line.
NAME_COLUMN = 36


def word(value: Any) -> str:
    """A value as the prompt reads it back: a bare word when it stays a string, else JSON."""
    if isinstance(value, str) and value and not any(c.isspace() for c in value):
        if parse_value(value) == value and value[0] not in "\"'[{":
            return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def usage_line(command: Command) -> str:
    """`remote_reset [--remote-id <id>] [field=value …]`"""
    words = [command.name, *command.args]
    for option in command.options:
        text = f"{option.flag} {option.metavar}"
        words.append(text if option.required else f"[{text}]")
    if command.action is not None:
        words.append("[field=value …]")
    return " ".join(words)


def command_help(command: Command, variant: str | None = None) -> str:
    """The whole `help <command>` text."""
    lines = [usage_line(command), f"  {command.help}"]
    if command.options:
        lines.append("Options:")
        width = max(len(f"{o.flag} {o.metavar}") for o in command.options)
        for option in command.options:
            default = f" (default: {option.default})" if option.default is not None else ""
            flag = f"{option.flag} {option.metavar}"
            lines.append(f"  {flag:<{width}}  {option.help}{default}")
    if command.action is not None and command.service is not None:
        lines += _payload_help(command.action, command.service, variant)
    example = command.example or _example(command, variant)
    if example:
        lines += ["Example:", f"  {example}"]
    return "\n".join(lines)


def _versions(action: str, service: str) -> list[str]:
    """The versions whose `service` has `action`, oldest first."""
    return [v.name for v in versions.all_versions() if v.handles(service, action)]


def _payload_help(action: str, service: str, variant: str | None) -> list[str]:
    """One block per distinct schema of the request (versions share most of them; a variant
    such as `--with-attr-at` applies where a version has it, and is the plain form elsewhere)."""
    message = action + "Request"
    groups: list[tuple[list[str], dict[str, Any]]] = []
    for version in _versions(action, service):
        schema = load_schema(version, message, variant)
        for names, seen in groups:
            if seen == schema:
                names.append(version)
                break
        else:
            groups.append(([version], schema))
    lines: list[str] = []
    for names, schema in groups:
        where = "OCPP " + versions.one_of(names, "and")
        fields = fields_of(schema)
        if not fields:
            lines.append(f"Payload of {message} ({where}): no fields, an empty object.")
            continue
        lines.append(f"Payload fields of {message} ({where}):")
        last = names[-1]
        lines += _field_rows(fields, default_payload(last, message, variant))
    return lines


def _field_rows(fields: list[Field], defaults: Any) -> list[str]:
    name_width = min(NAME_COLUMN, max(len(f.path) for f in fields))
    rows = []
    for field in fields:
        text = f"{'required' if field.required else 'optional'}  {field.describe()}"
        default = value_at(defaults, field.path)
        if default is not None and not isinstance(default, (dict, list)):
            text += f" (default: {word(default)})"
        indent = " " * (name_width + 4)
        if len(field.path) > name_width:
            rows.append(f"  {field.path}")
            first = indent
        else:
            first = f"  {field.path:<{name_width}}  "
        rows += textwrap.wrap(
            text,
            WIDTH,
            initial_indent=first,
            subsequent_indent=indent + "  ",
            break_on_hyphens=False,
        )
    return rows


def _example(command: Command, variant: str | None) -> str:
    """`remote_reset --remote-id cp01 type=Soft`: the id option and the required top-level
    fields with their default values (else the first field that has one)."""
    words = [command.name]
    flag = "--id" if command.service == "cs" else "--remote-id"
    if command.action is None or command.service is None:
        return ""
    words += [flag, "cp01"]
    version = _versions(command.action, command.service)[-1]
    message = command.action + "Request"
    defaults = default_payload(version, message, variant)
    usable = [
        f
        for f in fields_of(load_schema(version, message, variant))
        if f.top_level and f.kind != "date-time" and f.kind != "object"
        if value_at(defaults, f.path) not in (None, [], "")
    ]
    chosen = [f for f in usable if f.required] or usable[:1]
    words += [f"{f.path}={word(value_at(defaults, f.path))}" for f in chosen]
    return " ".join(words)
