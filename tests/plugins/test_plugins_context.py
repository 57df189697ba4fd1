"""Handlers that know their charge point: an `on_call`/`on_result` handler with a second
parameter gets a context (the charge point's id, version, transport, the role it runs for,
`ctx.call` back to that charge point, a CP's configuration), over OCPP-J and SOAP, with two
charge points in one process; one-parameter handlers work as before."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import Lines, close, start_cp, start_cs, write_plugin

from ocppsim.api import Context
from ocppsim.core.configuration import Configuration
from ocppsim.repl.shell import Shell
from ocppsim.sim.behaviour import Behaviour, takes_context

TRANSPORTS = ["websocket", "soap"]
CHANGE = 'remote_changeconfiguration --remote-id {} key=HeartbeatInterval value="{}"'


def answer_of(speaker: str, peer: str, transport: str, action: str) -> str:
    """Regex of the start of a received CALLRESULT line, OCPP-J or SOAP (where a request
    and a response of `action` both read `<<peer /Action {…}`: the CALLs in these tests
    never go the other way)."""
    if transport == "soap":
        return rf"{speaker}: <<{peer} /{action} "
    return rf'{speaker}: <<{peer} \[3,"[^"]+",'


async def two_charge_points(shell: Shell, lines: Lines, transport: str) -> Any:
    """A CS of `shell` and charge points `a` and `b` connected to it; from now on a command
    returns once its CALL is answered (as in a script)."""
    shell.sequential = True
    cs = await start_cs(shell, transport=transport)
    for cp_id in ("a", "b"):
        await start_cp(shell, lines, cs, cp_id)
    return cs


CS_BY_ID = """
    system = "cs"

    def on_load(api):
        def data_transfer(payload, ctx):
            about = f"{ctx.transport} OCPP {ctx.ocpp_version} {ctx.role} {ctx.configuration}"
            return {"status": "Accepted", "data": f"hello {ctx.charge_point_id} ({about})"}

        api.on_call("DataTransfer", data_transfer)
"""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_cs_plugin_answers_each_charge_point_by_its_id(
    lines: Lines, plugins_dir: Path, transport: str
) -> None:
    write_plugin(plugins_dir, "by_id", CS_BY_ID)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        await two_charge_points(shell, lines, transport)
        assert await shell.plugins.load("by_id")
        for cp_id in ("a", "b", "a"):
            mark = lines.mark()
            await shell.execute(f"datatransfer --id {cp_id} vendorId=ocppsim")
            line = await lines.wait_for(
                answer_of(f"cp#{cp_id}", "cs", transport, "DataTransfer"), mark
            )
            about = f"{transport} OCPP 1.5 cs None"
            assert f'{{"status":"Accepted","data":"hello {cp_id} ({about})"}}' in line, line
        assert lines.errors() == []
        await close(shell)

    asyncio.run(scenario())


CP_RESET = """
    system = "cp"

    def on_load(api):
        api.on_call("Reset", lambda payload, ctx: {
            "status": "Accepted" if ctx.charge_point_id == "a" else "Rejected"
        })
"""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_cp_plugin_accepts_a_reset_for_one_charge_point_and_rejects_it_for_the_other(
    lines: Lines, plugins_dir: Path, transport: str
) -> None:
    write_plugin(plugins_dir, "reset", CP_RESET)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        await two_charge_points(shell, lines, transport)
        for cp_id in ("a", "b"):  # a SOAP CS knows a CP once it has posted
            await shell.execute(f"heartbeat --id {cp_id}")
        assert await shell.plugins.load("reset")
        for cp_id, status in (("a", "Accepted"), ("b", "Rejected"), ("a", "Accepted")):
            mark = lines.mark()
            await shell.execute(f"remote_reset --remote-id {cp_id}")
            line = await lines.wait_for(answer_of("cs", f"cp#{cp_id}", transport, "Reset"), mark)
            assert line.endswith(f'{{"status":"{status}"}}' + ("]" if transport != "soap" else ""))
        assert lines.errors() == []
        await close(shell)

    asyncio.run(scenario())


CALL_BACK = """
    system = "cs"
    results = []

    def on_load(api):
        def authorize(payload, ctx):
            ctx.call("GetLocalListVersion")  # not awaited: it goes out after the answer

        async def data_transfer(payload, ctx):
            result = await ctx.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
            value = result["configurationKey"][0]["value"]
            refused = await ctx.call("NoSuchAction", {})  # a CALLERROR: None
            results.append((ctx.charge_point_id, value, refused))
            return {"status": "Accepted", "data": value}

        api.on_call("Authorize", authorize)
        api.on_call("DataTransfer", data_transfer)
"""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ctx_call_reaches_the_charge_point_the_call_came_from(
    lines: Lines, plugins_dir: Path, transport: str
) -> None:
    write_plugin(plugins_dir, "call_back", CALL_BACK)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        await two_charge_points(shell, lines, transport)
        for cp_id in ("a", "b"):
            await shell.execute(f"heartbeat --id {cp_id}")
        await shell.execute(CHANGE.format("a", 60))
        assert await shell.plugins.load("call_back")

        mark = lines.mark()
        await shell.execute("authorize --id b")
        await lines.wait_for(r"cs: >>cp#b \S+GetLocalListVersion", mark)
        await lines.wait_for(
            answer_of("cs", "cp#b", transport, "GetLocalListVersion") + r".*listVersion", mark
        )
        assert not lines.matching(r"cs: >>cp#a", mark)

        for cp_id, interval in (("a", "60"), ("b", "1200")):
            mark = lines.mark()
            await shell.execute(f"datatransfer --id {cp_id}")
            line = await lines.wait_for(
                answer_of(f"cp#{cp_id}", "cs", transport, "DataTransfer"), mark
            )
            assert f'"data":"{interval}"' in line
            assert lines.matching(rf"cs: >>cp#{cp_id} \S+GetConfiguration", mark)
            assert not lines.matching(rf"cs: >>cp#{'b' if cp_id == 'a' else 'a'}", mark)
        results = shell.plugins.loaded["call_back"].target.results
        assert results == [("a", "60", None), ("b", "1200", None)]
        await close(shell)

    asyncio.run(scenario())


CP_CONTEXT = """
    system = "cp"
    seen = []

    def on_load(api):
        def reset(payload, ctx):
            seen.append((ctx.charge_point_id, ctx.role, ctx.transport,
                         ctx.configuration.get("HeartbeatInterval")))
            ctx.call("StatusNotification", {"connectorId": 0, "status": "Unavailable"})

        api.on_call("Reset", reset)
        api.on_result("Heartbeat", lambda payload, ctx: seen.append(("beat", ctx.charge_point_id)))
        api.on_idle(lambda ctx: seen.append(("idle", ctx.charge_point_id)))
"""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_cp_handler_reads_its_own_configuration_and_calls_its_own_cs(
    lines: Lines, plugins_dir: Path, transport: str
) -> None:
    write_plugin(plugins_dir, "cp_context", CP_CONTEXT)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        await two_charge_points(shell, lines, transport)
        assert await shell.plugins.load("cp_context")
        seen = shell.plugins.loaded["cp_context"].target.seen
        for cp_id in ("a", "b"):
            await shell.execute(f"heartbeat --id {cp_id}")
        assert seen == [("beat", "a"), ("idle", "a"), ("beat", "b"), ("idle", "b")]
        seen.clear()
        await shell.execute(CHANGE.format("b", 30))
        assert seen == [("idle", "b")]  # told once the configuration changed
        seen.clear()

        mark = lines.mark()
        await shell.execute("remote_reset --remote-id b")
        await lines.wait_for(r"cp#b: >>cs \S+StatusNotification", mark)
        await shell.sim.drain(5)
        assert not lines.matching(r"cp#a: >>cs", mark)
        await shell.execute("remote_reset --remote-id a")
        assert seen[0] == ("b", "cp", transport, "30")
        assert ("a", "cp", transport, "1200") in seen
        assert lines.errors() == []
        await close(shell)

    asyncio.run(scenario())


ONE_PARAMETER = """
    seen = []

    def on_load(api):
        def remember(payload, where="default"):  # a default: still a one-parameter handler
            seen.append(where)

        api.on_call("ClearCache", lambda payload: {"status": "Rejected"})
        api.on_call("ClearCache", remember)
        api.on_result("Heartbeat", lambda payload: seen.append(sorted(payload)))
        api.on_idle(lambda: seen.append("idle"))
"""


def test_one_parameter_handlers_still_work(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "plain", ONE_PARAMETER)

    async def scenario() -> None:
        shell = Shell(plugins_dirs=[plugins_dir])
        await two_charge_points(shell, lines, "websocket")
        assert await shell.plugins.load("plain")
        seen = shell.plugins.loaded["plain"].target.seen
        mark = lines.mark()
        await shell.execute("remote_clearcache --remote-id a")
        await lines.wait_for(r'cs: <<cp#a \[3,"[^"]+",\{"status":"Rejected"\}\]', mark)
        await shell.execute("heartbeat --id b")
        assert seen.count("default") == 1 and ["currentTime"] in seen and "idle" in seen
        assert lines.errors() == []
        await close(shell)

    asyncio.run(scenario())


class Box:
    def plain(self, payload: Any) -> None: ...

    def with_ctx(self, payload: Any, ctx: Context) -> None: ...

    def __call__(self, payload: Any, ctx: Context) -> None: ...


def two(payload: Any, ctx: Any, extra: int = 0) -> None: ...


@pytest.mark.parametrize(
    ("fn", "given", "expected"),
    [
        (lambda payload: None, 1, False),
        (lambda payload, ctx: None, 1, True),
        (lambda *args: None, 1, True),
        (lambda payload, *rest: None, 1, True),
        (lambda payload, box=None: None, 1, False),  # a default: the closure idiom
        (lambda payload, ctx=None: None, 1, True),  # named ctx: it asks for one
        (lambda payload, *, ctx: None, 1, False),  # keyword-only: not given positionally
        (Box().plain, 1, False),
        (Box().with_ctx, 1, True),
        (Box(), 1, True),
        (two, 1, True),
        (lambda: None, 0, False),
        (lambda ctx: None, 0, True),
        (len, 1, False),
    ],
)
def test_the_arity_of_a_handler_is_read_from_its_signature(
    fn: Any, given: int, expected: bool
) -> None:
    assert takes_context(fn, given) is expected


def test_a_context_reads_its_peer() -> None:
    configuration = Configuration.for_version("1.5")
    peer = SimpleNamespace(version="1.2", charge_point_id="cp7", configuration=configuration)
    ctx = Behaviour("cp").context(peer)  # type: ignore[arg-type]
    assert isinstance(ctx, Context)  # the class plugins import from ocppsim.api
    assert (ctx.charge_point_id, ctx.ocpp_version, ctx.role) == ("cp7", "1.2", "cp")
    assert ctx.transport == "websocket"  # a peer that does not say is an OCPP-J one
    assert ctx.configuration is not None
    assert ctx.configuration.get("heartbeatinterval") == "1200"
    cs_side = Behaviour("cs").context(SimpleNamespace(version="1.5", charge_point_id="x"))  # type: ignore[arg-type]
    assert cs_side.role == "cs" and cs_side.configuration is None
