"""Helpers of the check tests: ocppsim's Central System (as the prompt runs it), suites run
in-process with short timeouts, results by case id."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from ocppsim.check.results import CaseResult
from ocppsim.check.runner import CheckOptions, run_checks
from ocppsim.check.scenario import Suite, find_suites
from ocppsim.repl.shell import Shell
from ocppsim.sim.central_system import CentralSystem

#: Suite parameters that keep a run short (the defaults wait for real Central Systems).
FAST_SETTINGS = {"retry_interval": 1, "quiet_time": 0.5, "late_answer_delay": 0.5}
#: The longest a whole test's run may take.
BOUND = 120.0


def run(coro: Coroutine[Any, Any, Any], bound: float = BOUND) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, bound)

    return asyncio.run(bounded())


@asynccontextmanager
async def ocppsim_cs(versions: Any = None, **options: Any) -> AsyncIterator[CentralSystem]:
    """ocppsim's Central System as `start_cs` runs it (the prompt's plugins), on 127.0.0.1, a
    free port, endpoint /ocpp, nothing loaded (`options`: `stateless`, `accept_tags`, …)."""
    shell = Shell()
    cs = CentralSystem(
        0,
        host="127.0.0.1",
        endpoint="/ocpp",
        versions=versions,
        behaviour=shell.sim.cs_behaviour,
        bus=shell.sim.bus,
        resources=shell.sim.resources,
        **options,
    )
    shell.sim.add_central_system(cs)
    await cs.start()
    try:
        yield cs
    finally:
        await shell.plugins.close()
        await shell.sim.shutdown()


async def check(
    url: str,
    version: str,
    cases: list[str] | None = None,
    *,
    suites: list[Suite] | None = None,
    settings: dict[str, Any] | None = None,
    **options: Any,
) -> dict[str, CaseResult]:
    """Run the csms suite (or `suites`) against `url`; the results by case id."""
    chosen = CheckOptions(
        url=url,
        versions=[version],
        case_ids=cases or [],
        settings={**(FAST_SETTINGS if suites is None else {}), **(settings or {})},
        within=options.pop("within", 3.0),
        answer_timeout=options.pop("answer_timeout", 5.0),
        connect_timeout=options.pop("connect_timeout", 10.0),
        **options,
    )
    results = await run_checks(suites or find_suites("csms"), chosen)
    return {r.id: r for r in results}


def verdicts(results: dict[str, CaseResult]) -> dict[str, str]:
    return {case_id: r.verdict for case_id, r in results.items()}


def explain(results: dict[str, CaseResult]) -> str:
    """Why the cases that did not pass did not (an assertion's message)."""
    return "\n".join(
        f"{r.id} {r.verdict}: {r.reason} {[f.line() for f in r.findings]}"
        for r in results.values()
        if r.verdict != "pass"
    )
