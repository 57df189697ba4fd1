"""Write the committed JSON Schemas of the versions whose schemas are derived from the
project's WSDL files (SPEC §10): `schemas/<folder>/<Message>.json`, the folder being the
version's schema source.

Both services of a version share one folder; a message both define (1.5 DataTransfer) is
written once, and only if both definitions are identical. A variant's messages (the
`--with-attr-at` meter values) go to a sub-folder named after the variant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ocppsim.core.errors import OcppSimError
from ocppsim.core.versions import ATTR_AT, SERVICES, all_versions
from ocppsim.gen import write_tree
from ocppsim.gen.derive import describe

#: How the WSDL is read for each variant's schemas.
_DERIVATION: dict[str, dict[str, bool]] = {ATTR_AT: {"attr_at": True}}


class ConflictingDefinitions(OcppSimError, ValueError):
    """Two services of one version define the same message differently."""


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def render_schemas() -> dict[str, str]:
    """Every schema file's relative path and text, derived from the WSDL files."""
    files: dict[str, str] = {}
    for entry in all_versions():
        source = entry.schemas
        if not source.derived_from_wsdl or entry.soap is None:
            continue
        merged: dict[str, dict[str, Any]] = {}
        for service in SERVICES:
            path = entry.soap.wsdl_path(service)
            for name, schema in describe(path).schemas.items():
                if name in merged and merged[name] != schema:
                    raise ConflictingDefinitions(f"{entry.title} defines {name} twice, differently")
                merged[name] = schema
            for variant in entry.variants:
                derived = describe(path, **_DERIVATION[variant]).schemas
                for name, schema in derived.items():
                    if entry.variant_for(variant, name) is not None:
                        files[f"{source.folder}/{variant}/{source.file_name(name)}"] = _dump(schema)
        for name in sorted(merged):
            files[f"{source.folder}/{source.file_name(name)}"] = _dump(merged[name])
    return dict(sorted(files.items()))


def write_schemas(out_dir: Path) -> list[Path]:
    """Write the schema files under `out_dir`; files whose text is unchanged are left alone."""
    return write_tree(out_dir, render_schemas())
