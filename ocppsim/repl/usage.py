"""`help <command>`: a command's syntax, options with their defaults, and for an OCPP command
the payload's fields (types, required ones, allowed values) read from the message's JSON
Schema, then an example line to type."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING, Any

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.fields import INDEX, Field, fields_of, value_at
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
        text = f"{option.flag} {option.metavar}".rstrip()
        words.append(text if option.required else f"[{text}]")
    if command.action is not None:
        words.append("[field=value …]")
    return " ".join(words)


def command_help(command: Command, variant: str | None = None) -> str:
    """The whole `help <command>` text."""
    lines = [usage_line(command), f"  {command.help}"]
    if command.options:
        lines.append("Options:")
        width = max(len(f"{o.flag} {o.metavar}".rstrip()) for o in command.options)
        for option in command.options:
            default = f" (default: {option.default})" if option.default is not None else ""
            flag = f"{option.flag} {option.metavar}".rstrip()
            lines.append(f"  {flag:<{width}}  {option.help}{default}")
    if command.action is not None and command.service is not None:
        groups = _groups(command.action, command.service, variant)
        lines += _payload_help(_message(command.action, command.service), groups, variant)
        lines += _examples(command, groups, variant)
    elif command.example:
        lines += ["Example:", f"  {command.example}"]
    if command.notes is not None:
        lines += command.notes()
    return "\n".join(lines)


def _versions(action: str, service: str) -> list[str]:
    """The versions whose `service` has `action` (a CALL, or a SEND), oldest first."""
    return [v.name for v in versions.all_versions() if v.message_of(service, action)]


def _message(action: str, service: str) -> str:
    """The message a command sends: `<action>Request` for a CALL, the SEND itself (OCPP 2.1)."""
    for version in versions.all_versions():
        message = version.message_of(service, action)
        if message is not None:
            return message
    return action + "Request"


def _groups(action: str, service: str, variant: str | None) -> list[tuple[list[str], list[Field]]]:
    """The versions that have `action`, grouped by the fields its request has in them
    (versions share most; a variant such as `--with-attr-at` applies where a version has it,
    and is the plain form elsewhere), oldest first."""
    message = _message(action, service)
    groups: list[tuple[list[str], list[Field]]] = []
    for version in _versions(action, service):
        fields = fields_of(load_schema(version, message, variant))
        for names, seen in groups:
            if seen == fields:
                names.append(version)
                break
        else:
            groups.append(([version], fields))
    return groups


def _where(names: list[str]) -> str:
    return "OCPP " + versions.one_of(names, "and")


def _payload_help(
    message: str, groups: list[tuple[list[str], list[Field]]], variant: str | None
) -> list[str]:
    """One block of fields per group of versions."""
    lines: list[str] = []
    for names, fields in groups:
        if not fields:
            lines.append(f"Payload of {message} ({_where(names)}): no fields, an empty object.")
            continue
        lines.append(f"Payload fields of {message} ({_where(names)}):")
        lines += _field_rows(fields, default_payload(names[-1], message, variant))
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


def _examples(
    command: Command, groups: list[tuple[list[str], list[Field]]], variant: str | None
) -> list[str]:
    """`Example:` and a line to type; one line per group of versions when they differ."""
    found: dict[str, list[str]] = {}
    for names, fields in groups:
        found.setdefault(_example(command, names[-1], fields, variant), []).extend(names)
    if len(found) == 1:
        return ["Example:", f"  {next(iter(found))}"]
    lines: list[str] = []
    for example, names in found.items():
        lines += [f"Example ({_where(names)}):", f"  {example}"]
    return lines


def _example(command: Command, version: str, fields: list[Field], variant: str | None) -> str:
    """`remote_reset --remote-id cp01 type=Soft`: the id option and the required fields with
    their default values (else the first top-level field that has one). A required field of
    a required object is given by its path (`chargingStation.model=NQC-ACDC`); dates, objects
    and lists are left to their defaults."""
    assert command.action is not None
    words = [command.name, "--id" if command.service == "cs" else "--remote-id", "cp01"]
    assert command.service is not None
    defaults = default_payload(version, _message(command.action, command.service), variant)
    required = {f.path for f in fields if f.required}

    def usable(field: Field) -> bool:
        value = value_at(defaults, field.path)
        return (
            field.kind not in ("date-time", "object")
            and not field.kind.startswith("list")
            and INDEX not in field.path
            and value not in (None, [], "")
            and not isinstance(value, (dict, list))
        )

    def required_all_the_way(field: Field) -> bool:
        steps = field.path.split(".")
        return all(".".join(steps[: i + 1]) in required for i in range(len(steps)))

    chosen = [f for f in fields if usable(f) and required_all_the_way(f)]
    chosen = chosen or [f for f in fields if usable(f) and f.top_level][:1]
    words += [f"{f.path}={word(value_at(defaults, f.path))}" for f in chosen]
    return " ".join(words)
