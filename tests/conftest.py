"""Shared fixtures: the original's default payloads, log lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import reference_facts
from ocppsim_testing import Lines, TestCerts, captured_lines

pytest_plugins = ["pytester"]  # ocppsim's own pytest plugin is tested in pytester's sessions


@pytest.fixture(scope="session")
def original_payloads() -> dict[str, Any]:
    """The original's default payloads (committed facts)."""
    return reference_facts.original_payloads()


@pytest.fixture
def lines() -> Iterator[Lines]:
    """The `ocppsim` log lines of the test, to wait on (`await lines.wait_for(regex)`)."""
    with captured_lines() as handler:
        yield handler


@pytest.fixture
def watcher(lines: Lines) -> Lines:
    """Another name for `lines`."""
    return lines


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> TestCerts:
    """Certificate files for the security profiles: a test PKI and bad certificates."""
    return TestCerts(tmp_path_factory.mktemp("certs"))
