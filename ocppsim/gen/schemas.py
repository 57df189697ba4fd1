"""Write `schemas/ocpp<version>/<Message>.json` from the project's WSDL files (SPEC §10).

Both services of a version share one folder; a message both define (1.5 DataTransfer) is
written once, and only if both definitions are identical.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ocppsim.core.catalog import VERSIONS
from ocppsim.core.resources import wsdl_path
from ocppsim.core.validation import ATTR_AT, ATTR_AT_MESSAGES
from ocppsim.gen import write_tree
from ocppsim.gen.derive import describe


class ConflictingDefinitions(ValueError):
    """Two services of one version define the same message differently."""


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def render_schemas() -> dict[str, str]:
    """Every schema file's relative path and text, derived from the WSDL files."""
    files: dict[str, str] = {}
    for version in VERSIONS:
        merged: dict[str, dict[str, Any]] = {}
        for service in ("cs", "cp"):
            path = wsdl_path(version, service)
            for name, schema in describe(path).schemas.items():
                if name in merged and merged[name] != schema:
                    raise ConflictingDefinitions(
                        f"OCPP {version} defines {name} twice, differently"
                    )
                merged[name] = schema
            if version != "1.2":
                for name, schema in describe(path, attr_at=True).schemas.items():
                    if name in ATTR_AT_MESSAGES:
                        files[f"ocpp{version}/{ATTR_AT}/{name}.json"] = _dump(schema)
        for name in sorted(merged):
            files[f"ocpp{version}/{name}.json"] = _dump(merged[name])
    return dict(sorted(files.items()))


def write_schemas(out_dir: Path) -> list[Path]:
    """Write the schema files under `out_dir`; files whose text is unchanged are left alone."""
    return write_tree(out_dir, render_schemas())
