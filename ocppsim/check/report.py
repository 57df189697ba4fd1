"""A check run's results for people and for CI: the summary table, JUnit XML and JSON.

JUnit XML is what CI tools read (GitHub Actions' test reporters, GitLab, Jenkins): one
`<testsuite>` per suite and version, one `<testcase>` per case, a failed case's
`<failure message="…">` holding its reason (the step, the field, the frame) and the
requirement, a skipped one's `<skipped>`, one the check could not run `<error>`; each case's
steps, findings and frames are in its `<system-out>`. It is written with `xml.etree`.
"""

from __future__ import annotations

import json
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ocppsim import __version__
from ocppsim.check.monitor import shorten
from ocppsim.check.results import (
    ERROR,
    FAIL_VERDICT,
    PASS,
    SKIP,
    WARN_VERDICT,
    CaseResult,
    counts,
)


def summary(results: list[CaseResult], seconds: float) -> str:
    """`24 cases: 22 passed, 1 failed, 1 skipped (3.2 s)`."""
    found = counts(results)
    parts = [f"{found[PASS]} passed"]
    for verdict, word in (
        (WARN_VERDICT, "with warnings"),
        (FAIL_VERDICT, "failed"),
        (ERROR, "could not run"),
        (SKIP, "skipped"),
    ):
        if found[verdict]:
            parts.append(f"{found[verdict]} {word}")
    return f"{len(results)} case(s): {', '.join(parts)} ({seconds:.1f} s)"


def table(results: list[CaseResult]) -> str:
    """The summary table: one row per case (id, version, verdict, title), then why each case
    that did not pass did not."""
    if not results:
        return "no case ran"
    id_width = max(len("CASE"), *(len(r.id) for r in results))
    version_width = max(len("OCPP"), *(len(r.version) for r in results))
    rows = [f"{'CASE':<{id_width}}  {'OCPP':<{version_width}}  {'VERDICT':<7}  TITLE"]
    for r in results:
        rows.append(
            f"{r.id:<{id_width}}  {r.version:<{version_width}}  {r.verdict.upper():<7}  {r.title}"
        )
    notes = [r for r in results if r.verdict != PASS]
    if notes:
        rows.append("")
        for r in notes:
            rows.append(f"{r.id} {r.verdict.upper()}: {r.reason}")
            if r.verdict in (FAIL_VERDICT, WARN_VERDICT):
                rows.append(f"    requirement: {r.requirement}")
                failed = next((s for s in r.steps if s.status == FAIL_VERDICT), None)
                if failed is not None and failed.frame:
                    rows.append(f"    frame: {shorten(failed.frame)}")
    return "\n".join(rows)


def case_listing(entries: Iterable[tuple[str, str, str, str]]) -> str:
    """`--list`: id, version, title and requirement of each case."""
    rows = list(entries)
    if not rows:
        return "no case"
    id_width = max(len(r[0]) for r in rows)
    return "\n".join(
        f"{case_id:<{id_width}}  {title}\n{'':<{id_width}}  {requirement}"
        for case_id, _version, title, requirement in rows
    )


def _details(result: CaseResult) -> str:
    """The text of a case's steps, findings and frames (JUnit's system-out)."""
    lines = [f"{result.id} — {result.title}", f"requirement: {result.requirement}"]
    if result.description:
        lines.append(result.description)
    lines.append("steps:")
    for step in result.steps:
        line = f"  {step.number}. [{step.status}] {step.text}"
        if step.reason:
            line += f": {step.reason}"
        lines.append(line)
        if step.frame:
            lines.append(f"       frame {shorten(step.frame)}")
    if result.findings:
        lines.append("findings:")
        lines.extend(f"  {f.line()}" for f in result.findings)
    if result.frames:
        lines.append("frames:")
        for frame in result.frames:
            arrow = ">>" if frame.direction == "sent" else "<<"
            lines.append(f"  {frame.at:7.3f} {arrow} {shorten(frame.text, 500)}")
    return "\n".join(lines)


def _failure_text(result: CaseResult) -> str:
    failed = next((s for s in result.steps if s.status == FAIL_VERDICT), None)
    lines = [result.reason, f"requirement: {result.requirement}"]
    if failed is not None and failed.frame:
        lines.append(f"frame: {failed.frame}")
    for finding in result.findings:
        lines.append(finding.line())
    return "\n".join(lines)


def junit(results: list[CaseResult], meta: dict[str, Any]) -> ET.ElementTree:
    """The JUnit XML document of a run (`meta`: target, suite, command)."""
    root = ET.Element("testsuites", name="ocppsim check")
    groups: dict[tuple[str, str, str], list[CaseResult]] = {}
    for result in results:
        groups.setdefault((result.role, result.suite, result.version), []).append(result)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for (role, title, version), group in groups.items():
        found = counts(group)
        seconds = sum(r.duration for r in group)
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{title} (OCPP {version})",
            tests=str(len(group)),
            failures=str(found[FAIL_VERDICT]),
            errors=str(found[ERROR]),
            skipped=str(found[SKIP]),
            time=f"{seconds:.3f}",
            timestamp=stamp,
            hostname=socket.gethostname(),
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in (
            ("ocppsim", __version__),
            ("side tested", role),
            ("ocpp version", version),
            *((str(k), str(v)) for k, v in meta.items() if v is not None),
        ):
            ET.SubElement(properties, "property", name=name, value=value)
        for result in group:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"ocppsim.{role}.{result.id.rsplit('-', 2)[0]}",
                name=f"{result.id} {result.title}",
                time=f"{result.duration:.3f}",
            )
            if result.verdict == FAIL_VERDICT:
                failure = ET.SubElement(
                    case, "failure", message=result.reason, type="ConformanceFailure"
                )
                failure.text = _failure_text(result)
            elif result.verdict == ERROR:
                error = ET.SubElement(case, "error", message=result.reason, type="CheckError")
                error.text = _failure_text(result)
            elif result.verdict == SKIP:
                ET.SubElement(case, "skipped", message=result.reason)
            out = ET.SubElement(case, "system-out")
            out.text = _details(result)
            if result.verdict == WARN_VERDICT:
                err = ET.SubElement(case, "system-err")
                err.text = "\n".join(f.line() for f in result.findings)
        totals["tests"] += len(group)
        totals["failures"] += found[FAIL_VERDICT]
        totals["errors"] += found[ERROR]
        totals["skipped"] += found[SKIP]
        totals["time"] += seconds
    for key, total in totals.items():
        root.set(key, f"{total:.3f}" if key == "time" else str(int(total)))
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(path: str | Path, results: list[CaseResult], meta: dict[str, Any]) -> None:
    junit(results, meta).write(path, encoding="utf-8", xml_declaration=True)


def document(results: list[CaseResult], meta: dict[str, Any], seconds: float) -> dict[str, Any]:
    """The JSON report: the run's facts, the counts and every case."""
    return {
        "ocppsim": __version__,
        **meta,
        "duration": round(seconds, 3),
        "counts": counts(results),
        "cases": [r.as_dict() for r in results],
    }


def write_json(
    path: str | Path, results: list[CaseResult], meta: dict[str, Any], seconds: float
) -> None:
    Path(path).write_text(
        json.dumps(document(results, meta, seconds), indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
