"""Shared fixtures: where the reference data lives (skipped when absent)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ocppsim_testing import Lines, captured_lines

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


def reference_or_skip() -> Path:
    """The `../shared/reference` folder, or skip the test when it is not there."""
    if not REFERENCE.is_dir():
        pytest.skip("../shared/reference is not available")
    return REFERENCE


@pytest.fixture
def reference() -> Path:
    return reference_or_skip()


@pytest.fixture
def original_schemas(reference: Path) -> dict[str, Any]:
    return json.loads((reference / "original-json-schemas.json").read_text())


@pytest.fixture
def original_payloads(reference: Path) -> dict[str, Any]:
    return json.loads((reference / "original-default-payloads.json").read_text())


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The `ocppsim` log lines of the test, to wait on (`await lines.wait_for(regex)`)."""
    with captured_lines() as handler:
        yield handler


@pytest.fixture
def watcher(lines: Lines) -> Lines:
    """Another name for `lines`."""
    return lines
