"""Conformance checks: suites of named cases with verdicts (`ocppsim check`), and the monitor
that checks every frame of a peer.

* `Suite` (`scenario.py`): a suite of cases, from a YAML file or written in Python;
* `CaseRun` (`run.py`): what a Python case is given (`await run.send(…)`, `run.expect(…)`);
* `Monitor`, `Finding` (`monitor.py`): verdicts beyond the steps, for `check`, the prompt's
  `--verdicts` and a fleet;
* `run_checks` (`runner.py`), `report.py`: running suites and writing their results.

The names are imported when first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Suite": "ocppsim.check.scenario",
    "ScenarioError": "ocppsim.check.scenario",
    "CaseRun": "ocppsim.check.run",
    "Monitor": "ocppsim.check.monitor",
    "Finding": "ocppsim.check.monitor",
    "run_checks": "ocppsim.check.runner",
    "CheckOptions": "ocppsim.check.runner",
}

__all__ = [
    "CaseRun",
    "CheckOptions",
    "Finding",
    "Monitor",
    "ScenarioError",
    "Suite",
    "run_checks",
]

if TYPE_CHECKING:
    from ocppsim.check.monitor import Finding, Monitor
    from ocppsim.check.run import CaseRun
    from ocppsim.check.runner import CheckOptions, run_checks
    from ocppsim.check.scenario import ScenarioError, Suite


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ocppsim.check' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
