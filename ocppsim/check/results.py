"""What a check run produced: each case's verdict, the steps it ran, the monitor's findings and
the frames that went over its link, as plain data for the summary table, JUnit XML and JSON.

Verdicts: `pass`; `warn` (every step passed, the monitor warned); `fail` (a step failed or the
monitor found a failure); `skip` (the case cannot run here: a parameter it needs is not given,
an ask nobody can carry out, a version this installation lacks); `error` (the check itself
could not run the case: no connection, a scenario step that cannot work).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ocppsim.check.monitor import FAIL, Finding

PASS, WARN_VERDICT, FAIL_VERDICT, SKIP, ERROR = "pass", "warn", "fail", "skip", "error"
#: verdicts that make `ocppsim check` exit non-zero
FAILING = frozenset({FAIL_VERDICT, ERROR})


@dataclass
class StepResult:
    """One step as it ran: its number (0: a prerequisite), kind, what it did, `pass`, `fail`,
    `skip` or `error`, why, and the frame that decided it."""

    number: int
    kind: str
    text: str
    status: str = PASS
    reason: str = ""
    frame: str | None = None
    started: float = 0.0
    duration: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "text": self.text,
            "status": self.status,
            "reason": self.reason,
            "frame": self.frame,
            "started": round(self.started, 3),
            "duration": round(self.duration, 3),
        }


@dataclass(frozen=True)
class FrameRecord:
    """A frame of the case's link: seconds since the case started, `sent` or `received`, its
    wire text, its message type (`CALL`, …) and action when it has one."""

    at: float
    direction: str
    text: str
    message_type: str | None = None
    action: str | None = None
    unique_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 3),
            "direction": self.direction,
            "type": self.message_type,
            "action": self.action,
            "unique_id": self.unique_id,
            "text": self.text,
        }


@dataclass
class CaseResult:
    """The outcome of one case in one version."""

    id: str
    title: str
    requirement: str
    version: str
    suite: str
    role: str
    description: str = ""
    verdict: str = PASS
    reason: str = ""
    steps: list[StepResult] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    frames: list[FrameRecord] = field(default_factory=list)
    duration: float = 0.0
    charge_point_id: str = ""

    def decide(self) -> None:
        """Set the verdict from the steps and the findings (a step's verdict wins)."""
        if self.verdict in (SKIP, ERROR):
            return
        failed = next((s for s in self.steps if s.status == FAIL_VERDICT), None)
        if failed is not None:
            self.verdict = FAIL_VERDICT
            self.reason = f"step {failed.number} ({failed.text}): {failed.reason}"
            return
        failures = [f for f in self.findings if f.severity == FAIL]
        if failures:
            self.verdict = FAIL_VERDICT
            self.reason = failures[0].line()
            return
        if self.findings:
            self.verdict = WARN_VERDICT
            self.reason = self.findings[0].line()
            return
        self.verdict = PASS

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "requirement": self.requirement,
            "description": self.description,
            "version": self.version,
            "suite": self.suite,
            "role": self.role,
            "charge_point_id": self.charge_point_id,
            "verdict": self.verdict,
            "reason": self.reason,
            "duration": round(self.duration, 3),
            "steps": [s.as_dict() for s in self.steps],
            "findings": [f.as_dict() for f in self.findings],
            "frames": [f.as_dict() for f in self.frames],
        }


def counts(results: list[CaseResult]) -> dict[str, int]:
    """How many cases got each verdict."""
    found = {PASS: 0, WARN_VERDICT: 0, FAIL_VERDICT: 0, SKIP: 0, ERROR: 0}
    for result in results:
        found[result.verdict] = found.get(result.verdict, 0) + 1
    return found
