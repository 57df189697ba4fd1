"""Fixtures for the end-to-end tests: free ports and `ocppsim` processes cleaned up after use."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

import pytest
from harness import SimProcess, free_port, start_cp, start_cs


def _cli_or_skip() -> None:
    if importlib.util.find_spec("ocppsim.cli") is None:
        pytest.skip("the ocppsim command line (ocppsim.cli) does not exist yet")


class Sims:
    """Starts `ocppsim` processes and closes every one of them at teardown."""

    def __init__(self) -> None:
        self.started: list[SimProcess] = []

    def cs(self, port: int, *options: str) -> SimProcess:
        sim = start_cs(port, *options)
        self.started.append(sim)
        return sim

    def cp(self, url: str, cp_id: str, *options: str) -> SimProcess:
        sim = start_cp(url, cp_id, *options)
        self.started.append(sim)
        return sim

    def raw(self, *args: str) -> SimProcess:
        sim = SimProcess(list(args))
        self.started.append(sim)
        return sim

    def close_all(self) -> None:
        # CPs first, so the CS sees them leave before it stops
        for sim in reversed(self.started):
            try:
                sim.close()
            except Exception:
                sim.kill()


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def sims() -> Iterator[Sims]:
    """A function-scoped factory of `ocppsim` processes."""
    _cli_or_skip()
    factory = Sims()
    try:
        yield factory
    finally:
        factory.close_all()


@pytest.fixture(scope="module")
def module_sims() -> Iterator[Sims]:
    """The same, shared by the tests of one module (a CS/CP pair started once)."""
    _cli_or_skip()
    factory = Sims()
    try:
        yield factory
    finally:
        factory.close_all()
