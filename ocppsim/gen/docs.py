"""Render the message reference (`docs/messages/`) from the version registry (SPEC §10).

One Markdown page per OCPP version (named after its subprotocol) lists every message of both
services with its example payloads (the defaults, with a fixed date so the output is stable)
and its request and response schemas, plus an index page. Rendering twice gives the same bytes.

A version whose schemas are an installed package's (OCA's 1.6, 2.0.1 and 2.1 schemas, as the
`ocpp` package ships them) gets a table of each message's fields instead of the schema itself:
their `definitions` and `$ref`s read badly inline (2.1 has 90 actions), and the files are the
package's, named on the page.
"""

from __future__ import annotations

import calendar
import json
import time
from pathlib import Path
from typing import Any

from ocppsim.core.defaults import default_payload
from ocppsim.core.fields import fields_of
from ocppsim.core.validation import RULES, load_schema
from ocppsim.core.versions import (
    SERVICES,
    OcppVersion,
    Service,
    all_versions,
    command_name,
    get,
)
from ocppsim.gen import write_tree

_FIXED_NOW = "2013-02-01T15:09:18Z"
#: The docs' clock: the examples' dates are relative to this fixed time, so output is stable.
_FIXED_CLOCK = float(calendar.timegm(time.strptime(_FIXED_NOW, "%Y-%m-%dT%H:%M:%SZ")))

_SERVICES: dict[Service, tuple[str, str]] = {
    "cs": (
        "Central System service",
        "CALLs a Charge Point sends and the Central System answers "
        "(typed at the prompt as `<action>` on a CP).",
    ),
    "cp": (
        "Charge Point service",
        "CALLs the Central System sends and a Charge Point answers "
        "(typed at the prompt as `remote_<action>` on the CS).",
    ),
}
#: The same, for a version that calls its Central System a CSMS (and its Charge Points
#: Charging Stations).
_SERVICES_CSMS: dict[Service, tuple[str, str]] = {
    "cs": (
        "Charging Station → CSMS",
        "CALLs a Charging Station sends and the CSMS answers "
        "(typed at the prompt as `<action>` on a CP).",
    ),
    "cp": (
        "CSMS → Charging Station",
        "CALLs the CSMS sends and a Charging Station answers "
        "(typed at the prompt as `remote_<action>` on the CS, ocppsim's CSMS).",
    ),
}


def _services(entry: OcppVersion) -> dict[Service, tuple[str, str]]:
    return _SERVICES if entry.central_system == "Central System" else _SERVICES_CSMS


def _drafts(entry: OcppVersion) -> str:
    """`draft 6`, or `draft 4, draft 6 where a file says so`."""
    named = entry.schemas.dialect.replace("draft", "draft ")
    return f"{named}, draft 6 where a file says so" if entry.schemas.declared_draft else named


def _over_soap(entry: OcppVersion) -> str:
    """Which actions travel over SOAP: all, some (`10 + 19`) or none."""
    if entry.soap is None:
        return ""
    carried = [len(entry.actions_over("soap", s)) for s in SERVICES]
    if carried == [len(entry.actions[s]) for s in SERVICES]:
        return "all"
    return f"{carried[0]} + {carried[1]}"


def _json_block(value: Any) -> list[str]:
    return ["```json", json.dumps(value, indent=2, ensure_ascii=False), "```", ""]


def page_name(entry: OcppVersion) -> str:
    """The file name of a version's page (`ocpp1.5.md`)."""
    return f"{entry.subprotocol}.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _field_table(schema: dict[str, Any]) -> list[str]:
    """The fields of a message as a Markdown table (nested ones by their dotted path)."""
    fields = fields_of(schema)
    if not fields:
        return ["No fields: an empty object.", ""]
    lines = ["| field | | type and values |", "|---|---|---|"]
    for field in fields:
        need = "required" if field.required else "optional"
        lines.append(f"| `{field.path}` | {need} | {_cell(field.describe())} |")
    return [*lines, ""]


def _message(entry: OcppVersion, message: str) -> list[str]:
    """A message's example, then its schema (or, for a package's schemas, its fields)."""
    version = entry.name
    example = default_payload(version, message, clock=lambda: _FIXED_CLOCK)
    lines = [f"#### {message}: example", "", *_json_block(example)]
    schema = load_schema(version, message)
    if entry.schemas.package is not None:
        where = f"{entry.schemas.package}/{entry.schemas.folder}/{entry.schemas.file_name(message)}"
        lines += [f"#### {message}: fields", "", f"Schema: `{where}`.", ""]
        for erratum in entry.schemas.errata:
            if message in erratum.messages:
                lines += [f"Erratum applied: {erratum.note}", ""]
        lines += _field_table(schema)
    else:
        lines += [f"#### {message}: schema", "", *_json_block(schema)]
    for variant in entry.variants:
        if entry.variant_for(variant, message) is None:
            continue
        lines += [f"#### {message}: `--{variant}` form", ""]
        lines += _json_block(default_payload(version, message, variant, clock=lambda: _FIXED_CLOCK))
        lines += _json_block(load_schema(version, message, variant))
    return lines


def render_version(version: str) -> str:
    """The Markdown page of one OCPP version."""
    entry = get(version)
    services = _services(entry)
    lines = [
        f"# {entry.title} messages",
        "",
        f"Generated by `ocppsim docs` from {entry.schemas.origin}; do not edit by hand.",
        "Example payloads are the simulator's defaults. Their dates are relative to the time",
        f"a payload is built: here to a fixed *now*, `{_FIXED_NOW}` (expiry dates a day",
        "later); the simulator uses the current time.",
        "",
    ]
    if entry.schemas.package is not None:
        lines += [
            f"The schemas are the `{entry.schemas.package}` package's (JSON Schema "
            f"{_drafts(entry)}), read unchanged"
            + (
                "; a message marked *Erratum applied* is fixed as its schema loads"
                if entry.schemas.errata
                else ""
            )
            + "; each message",
            "lists its fields, nested ones by the dotted path the prompt takes",
            "(`chargingStation.model=X`; `<n>` stands for a list index).",
            "",
        ]
    for service, (title, blurb) in services.items():
        lines += [f"## {title}", "", blurb, ""]
        for action in entry.actions[service]:
            lines.append(f"- [{action}](#{action.lower()}-{service})")
        lines.append("")
    sends = [(s, a) for s in SERVICES for a in entry.sends.get(s, ())]
    if sends:
        lines += [
            "## SEND",
            "",
            "Messages sent as SEND (message type 6): never answered, neither by a CALLRESULT",
            "nor by a CALLERROR.",
            "",
        ]
        lines += [f"- [{action}](#{action.lower()}-send)" for _, action in sends] + [""]
    for service, (title, _) in services.items():
        for action in entry.actions[service]:
            lines += [
                f'<a id="{action.lower()}-{service}"></a>',
                "",
                f"### {action} ({title})",
                "",
                f"Prompt command: `{command_name(service, action)}`",
                "",
            ]
            if entry.soap is not None and not entry.carries("soap", service, action):
                lines += ["OCPP-J only: the SOAP binding has no operation for it.", ""]
            for kind in ("Request", "Response"):
                lines += _message(entry, action + kind)
    for service, action in sends:
        lines += [
            f'<a id="{action.lower()}-send"></a>',
            "",
            f"### {action} (SEND, {services[service][0]})",
            "",
            f"Prompt command: `{command_name(service, action)}` (sent, never answered).",
            "",
            *_message(entry, action),
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_index() -> str:
    """The index page of the message reference, with the errata and validation rules."""
    lines = [
        "# OCPP message reference",
        "",
        "Generated by `ocppsim docs`. The JSON Schemas of the versions derived from the",
        "project's WSDL files are in `schemas/`; the others are an installed package's.",
        "",
        "| version | CALLs a charge point sends | CALLs the central system sends | SEND"
        " | over SOAP | schemas |",
        "|---|---|---|---|---|---|",
    ]
    for entry in all_versions():
        counts = [len(entry.actions[s]) for s in ("cs", "cp")]
        sends = sum(len(sent) for sent in entry.sends.values())
        link = f"[{entry.title}]({page_name(entry)})"
        source = entry.schemas
        origin = (
            f"`{source.package}` package, `{source.folder}`"
            if source.package is not None
            else f"`schemas/{source.folder}`"
        )
        cells = [link, str(counts[0]), str(counts[1]), str(sends or ""), _over_soap(entry), origin]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Errata and validation rules",
        "",
        "Payloads are checked against the schemas as published, except for these fixes, applied",
        "when a schema is loaded (the installed files are never changed), and these rules:",
        "",
    ]
    for entry in all_versions():
        source = entry.schemas
        if not source.errata and not source.kept:
            continue
        lines += [f"### {entry.title}", ""]
        for erratum in source.errata:
            messages = ", ".join(sorted(erratum.messages))
            lines += [f"* Erratum ({messages}): {erratum.note}"]
        for note in source.kept:
            lines += [f"* Kept as published: {note}"]
        lines.append("")
    lines += ["### Every version", ""] + [f"* {rule}" for rule in RULES]
    return "\n".join(lines) + "\n"


def render_docs() -> dict[str, str]:
    """Every page's file name and text."""
    pages = {"index.md": render_index()}
    for entry in all_versions():
        pages[page_name(entry)] = render_version(entry.name)
    return pages


def write_docs(out_dir: Path) -> list[Path]:
    """Write the pages under `out_dir`; unchanged files are left alone."""
    return write_tree(out_dir, render_docs())
