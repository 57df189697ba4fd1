"""Helpers of the cp suite's tests: `ocppsim check --suite cp` run in-process, with ocppsim's
own Charge Point (as `start_cp` runs it at the prompt, the check_target_cp plugin loaded)
connecting to the check's Central System; results by case id."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from ocppsim.check.results import CaseResult
from ocppsim.check.runner import CheckOptions, run_checks
from ocppsim.check.scenario import Suite, find_suites
from ocppsim.core import versions
from ocppsim.repl.shell import Shell

#: Suite parameters that keep a run short (the defaults wait for real charge points).
FAST_SETTINGS = {
    "retry_interval": 1,
    "quiet_time": 0.5,
    "late_answer_delay": 0.5,
    "heartbeat_check_interval": 1,
    "meter_interval": 1,
    "reboot_time": 10,
}


async def check_charge_point(
    version: str,
    cases: list[str] | None = None,
    *,
    mistake: Callable[[Shell], Awaitable[None] | None] | None = None,
    plugin: bool = True,
    suites: list[Suite] | None = None,
    settings: dict[str, Any] | None = None,
    start_cp: str = "",
    **options: Any,
) -> dict[str, CaseResult]:
    """Run the cp suite (or `suites`) in `version` against ocppsim's Charge Point `cp01`
    (`start_cp` adds options), with `mistake(shell)` done once it has started."""
    shell = Shell()
    heard: asyncio.Queue[str] = asyncio.Queue()

    def progress(text: str) -> None:
        if text.startswith("listening on "):
            heard.put_nowait(text.split()[-1])

    chosen = CheckOptions(
        listen=0,
        host="127.0.0.1",
        endpoint="/ocpp",
        versions=options.pop("versions", [version]),
        case_ids=cases or [],
        settings={**(FAST_SETTINGS if suites is None else {}), **(settings or {})},
        within=options.pop("within", 5.0),
        answer_timeout=options.pop("answer_timeout", 5.0),
        connect_timeout=options.pop("connect_timeout", 10.0),
        **options,
    )
    checking = asyncio.ensure_future(run_checks(suites or find_suites("cp"), chosen, progress))
    try:
        listening = asyncio.ensure_future(heard.get())
        await asyncio.wait({checking, listening}, return_when=asyncio.FIRST_COMPLETED)
        if checking.done():
            listening.cancel()
            checking.result()  # raises what stopped it
        url = listening.result()
        if plugin:
            await shell.execute("load check_target_cp")
            assert shell.plugins.loaded.get("check_target_cp") is not None
        subprotocol = versions.get(version).subprotocol
        await shell.execute(f"start_cp {url} cp01 -p {subprotocol} {start_cp}".strip())
        if mistake is not None:
            done = mistake(shell)
            if done is not None:
                await done
        results = await checking
    finally:
        checking.cancel()
        await shell.plugins.close()
        await shell.sim.shutdown()
    return {r.id: r for r in results}
