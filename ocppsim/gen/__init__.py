"""Generators run by `ocppsim docs`: JSON Schemas from the WSDL files, the message reference."""

from __future__ import annotations

from pathlib import Path


def write_tree(out_dir: Path, files: dict[str, str]) -> list[Path]:
    """Write each relative path's text under `out_dir`, leaving unchanged files alone."""
    written: list[Path] = []
    for relative, text in files.items():
        target = out_dir / relative
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
