"""Each function of `ocppsim.api`, and loading/unloading, at the Behaviour level: what a
plugin registers is what any transport (OCPP-J or SOAP) runs, so no socket is needed here."""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import Lines, close, write_plugin

from ocppsim.api import NotSupported, PluginApi
from ocppsim.core.errors import OcppError
from ocppsim.plugins import PluginManager, plugin_key
from ocppsim.repl.shell import Shell

PEER_15 = SimpleNamespace(version="1.5", charge_point_id="cp1")

EVERYTHING = """
    from ocppsim.api import NotSupported, PluginApi

    name = "Everything"
    description = "uses every api function"
    author = "tests"
    ocpp_version = "1.5"

    seen = []

    def on_load(api: PluginApi) -> None:
        api.log("everything loaded as " + api.name)

        def reset(payload):
            seen.append(("Reset", payload))
            return {"status": "Rejected"}

        async def data_transfer(payload):
            await asyncio_sleep0()
            return {"status": "Accepted", "data": payload.get("data", "") + "!"}

        def unlock(payload):
            raise NotSupported("no connector to unlock")

        def clear(payload):
            raise RuntimeError("boom")

        api.on_call("Reset", reset)
        api.on_call("DataTransfer", data_transfer)
        api.on_call("UnlockConnector", unlock)
        api.on_call("ClearCache", clear)
        api.on_call("GetConfiguration", lambda payload: None)  # None: the default answer
        api.on_result("Heartbeat", lambda payload: seen.append(("Heartbeat", payload)))
        api.on_connection_event(lambda event, cp_id: seen.append(("cp", event, cp_id)))

        async def client(event, cp_id):
            seen.append(("cs", event, cp_id))

        api.on_client_connection_event(client)
        api.on_idle(lambda: seen.append(("idle",)))
        api.on_command(lambda line: line.startswith("everything"))

    async def asyncio_sleep0():
        import asyncio

        await asyncio.sleep(0)

    def on_unload(api: PluginApi) -> None:
        api.log("everything unloaded")
"""


def _shell(plugins_dir: Path) -> Shell:
    return Shell(plugins_dirs=[plugins_dir])


def test_handlers_answer_refuse_and_listen_at_the_behaviour_level(
    lines: Lines, plugins_dir: Path
) -> None:
    write_plugin(plugins_dir, "everything", EVERYTHING)

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        cp, cs = shell.sim.cp_behaviour, shell.sim.cs_behaviour
        await shell.execute("load everything")
        stamp = r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] "
        await lines.wait_for(stamp + "everything loaded as everything$")
        seen = shell.plugins.loaded["everything"].target.seen

        assert await cp.answer(PEER_15, "Reset", {"type": "Hard"}) == {"status": "Rejected"}
        assert ("Reset", {"type": "Hard"}) in seen
        answer = await cp.answer(PEER_15, "DataTransfer", {"vendorId": "x", "data": "hi"})
        assert answer == {"status": "Accepted", "data": "hi!"}
        with pytest.raises(OcppError) as refused:
            await cp.answer(PEER_15, "UnlockConnector", {"connectorId": 1})
        assert refused.value.code == "NotSupported"
        assert refused.value.description == "no connector to unlock"
        with pytest.raises(OcppError) as failed:
            await cs.answer(PEER_15, "ClearCache", {})
        assert failed.value.code == "InternalError"
        await lines.wait_for(r"Error in the `everything' plugin \(on_call ClearCache\): .*boom")
        default = await cp.answer(PEER_15, "GetConfiguration", {})
        assert default["configurationKey"][0]["key"] == "KVCBX_PROFILE"

        await cp.result(PEER_15, "Heartbeat", {}, {"currentTime": "now"})
        assert ("Heartbeat", {"currentTime": "now"}) in seen
        await cp.connection("connected", "cp1")
        await cs.connection("disconnected", "cp7")
        await asyncio.sleep(0.01)  # the async client listener runs as a plugin task
        assert ("cp", "connected", "cp1") in seen and ("cs", "disconnected", "cp7") in seen
        assert ("idle",) in seen

        assert await shell.plugins.consume("everything please") is True
        assert await shell.plugins.consume("heartbeat") is False

        mark = lines.mark()
        await shell.execute("unload everything")
        await lines.wait_for(r"everything unloaded$", mark)
        for table in (cp.call_handlers, cs.call_handlers, cp.result_handlers):
            assert all(not handlers for handlers in table.values())
        assert not cp.connection_listeners and not cs.connection_listeners
        assert not cp.idle_listeners and not cs.idle_listeners
        assert await cp.answer(PEER_15, "Reset", {"type": "Hard"}) == {"status": "Accepted"}
        assert await shell.plugins.consume("everything please") is False
        await close(shell)

    asyncio.run(scenario())


def test_parse_log_and_context_fields(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "ctx", "def on_load(api):\n    pass\n")

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        assert await shell.plugins.load("ctx")
        api: PluginApi = shell.plugins.loaded["ctx"].api
        parsed = api.parse("show cache -n 2")
        assert parsed.command == "show"
        assert (parsed.arguments, parsed.options) == (["cache"], {"-n": "2"})
        parsed = api.parse("connector_liaison 1 off")
        assert parsed.arguments == ["1", "off"]
        assert api.system is None and api.ocpp_version is None and api.protocol is None
        assert api.charge_point_id is None and api.transport is None
        api.log("a plain line")
        assert lines.lines[-1].endswith("] a plain line")
        # what runs is read when asked: a fake CP with the fields the api looks at
        shell.sim.charge_points["cpX"] = SimpleNamespace(
            version="1.2", charge_point_id="cpX", transport="websocket"
        )
        assert (api.system, api.ocpp_version, api.protocol) == ("cp", "1.2", "ocpp1.2")
        assert (api.charge_point_id, api.transport) == ("cpX", "websocket")
        shell.sim.central_system = SimpleNamespace(peers={})
        assert api.system == "cs+cp"
        shell.sim.charge_points.clear()
        assert api.system == "cs" and api.charge_point_id is None
        shell.sim.central_system.peers["cpY"] = SimpleNamespace(
            version="1.5", charge_point_id="cpY", transport="soap"
        )
        assert (api.ocpp_version, api.charge_point_id, api.transport) == ("1.5", "cpY", "soap")
        assert api.cs.ids == ["cpY"] and api.cs.version("cpY") == "1.5"
        shell.sim.central_system = None
        await shell.execute("unload ctx")

    asyncio.run(scenario())


def test_calls_without_a_charge_point_are_error_lines_not_crashes(
    lines: Lines, plugins_dir: Path
) -> None:
    write_plugin(
        plugins_dir,
        "caller",
        """
        results = []

        async def on_load(api):
            results.append(await api.cp.call("Heartbeat"))
            results.append(await api.cs.call("Reset", {"type": "Soft"}))
            api.cp.call("Heartbeat")  # not awaited: a plain handler may fire and forget
        """,
    )

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        assert await shell.plugins.load("caller")
        assert shell.plugins.loaded["caller"].target.results == [None, None]
        await shell.sim.drain(5)
        shortened = lines.matching(r"no charge point is running|no Central System is running")
        assert len(shortened) == 3
        await shell.execute("unload caller")
        await close(shell)

    asyncio.run(scenario())


def test_listing_loading_errors_and_reload(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(plugins_dir, "no_entry", "name = 'Nothing'\nx = 1\n")
    write_plugin(plugins_dir, "broken", "def on_load(api:\n")
    write_plugin(plugins_dir, "raises_at_import", "raise ValueError('import time')\n")
    write_plugin(
        plugins_dir,
        "raises_on_load",
        """
        def on_load(api):
            api.on_call("Reset", lambda payload: {"status": "Rejected"})
            raise KeyError("on_load")
        """,
    )
    counter = write_plugin(
        plugins_dir,
        "counter",
        """
        description = "first"
        def on_load(api):
            api.log("counter v1")
        """,
    )

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        manager: PluginManager = shell.plugins
        mark = lines.mark()
        await shell.execute("plugins")
        listing = lines.lines[mark].splitlines()
        assert listing[0] == "List of plugins:"
        names = [re.match(r" \[( |X)\] (\S+)", line).group(2) for line in listing[1:]]  # type: ignore[union-attr]
        assert names == sorted(names)
        assert {"helloworld", "cs_example", "cbxs_automatic_mode", "counter"} <= set(names)
        assert " [ ] counter - first" in listing
        assert " [ ] no_entry - Nothing" in listing

        expected = {
            "nosuch": "Error with the nosuch plugin, invalid or doesn't exist.",
            "no_entry": "Error when reading the `no_entry' plugin: "
            "no entry point `onLoad' function found.",
            "broken": "Error when reading the `broken' plugin: SyntaxError: ",
            "raises_at_import": "Error when reading the `raises_at_import' plugin: "
            "ValueError: import time",
            "raises_on_load": "Error when loading the `raises_on_load' plugin: KeyError: 'on_load'",
        }
        for name, text in expected.items():
            mark = lines.mark()
            await shell.execute(f"load {name}")
            assert lines.lines[mark].startswith(text), lines.lines[mark:]
            assert name not in manager.loaded
        assert not shell.sim.cp_behaviour.call_handlers.get("Reset")  # rolled back
        leftovers = [m for m in sys.modules if m.startswith("ocppsim_plugin_")]
        assert not [m for m in leftovers if any(name in m for name in expected)]

        await shell.execute("load counter")
        await lines.wait_for(r"counter v1$")
        first = manager.loaded["counter"].module_name
        counter.write_text("description = 'second'\ndef on_load(api):\n    api.log('counter v2')\n")
        mark = lines.mark()
        await shell.execute("load counter")  # loading a loaded plugin reloads it
        await lines.wait_for(r"counter v2$", mark)
        assert manager.loaded["counter"].module_name != first
        assert first not in sys.modules
        mark = lines.mark()
        await shell.execute("plugins")
        assert " [X] counter - second" in lines.lines[mark].splitlines()

        mark = lines.mark()
        await shell.execute("load")
        await shell.execute("unload a b")
        await shell.execute("unload counter")
        await shell.execute("unload counter")
        assert lines.lines[mark:] == [
            'Error in command "load", syntax: load <plugin>',
            'Error in command "unload", syntax: unload <plugin>',
            "Error: plugin `counter' is not loaded.",
        ]
        assert manager.loaded == {}
        await close(shell)

    asyncio.run(scenario())


def test_original_hyphenated_names_load_the_same_plugin(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        assert plugin_key("cs-example") == "cs_example"
        await shell.execute("load cs-example")
        await lines.wait_for(r"\[CS-Example\] Started\.")
        assert list(shell.plugins.loaded) == ["cs_example"]
        await shell.execute("unload cs-example")
        await lines.wait_for(r"\[CS-Example\] Stopped\.")
        await close(shell)

    asyncio.run(scenario())


def test_api_unload_from_a_handler_and_background_tasks(lines: Lines, plugins_dir: Path) -> None:
    write_plugin(
        plugins_dir,
        "selfish",
        """
        import asyncio

        state = {"ticks": 0, "unloaded": 0}

        async def tick():
            while True:
                state["ticks"] += 1
                await asyncio.sleep(0.01)

        def on_load(api):
            api.spawn(tick())

            def command(line):
                if line == "go away":
                    api.unload()
                    return True
                return False

            api.on_command(command)
            api.on_call("Reset", lambda payload: {"status": "Rejected"})

        async def on_unload(api):
            state["unloaded"] += 1
            api.log("selfish gone")
        """,
    )

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        await shell.execute("load selfish")
        plugin = shell.plugins.loaded["selfish"]
        state = plugin.target.state
        while state["ticks"] < 3:
            await asyncio.sleep(0.01)
        task = next(iter(plugin.tasks))
        await shell.execute("go away")  # consumed: no "unknown command"
        await lines.wait_for(r"selfish gone$")
        assert state["unloaded"] == 1
        assert task.cancelled() or task.done()
        assert "selfish" not in shell.plugins.loaded
        assert not lines.matching("unknown command")
        assert await shell.sim.cp_behaviour.answer(PEER_15, "Reset", {"type": "Soft"}) == {
            "status": "Accepted"
        }
        await close(shell)

    asyncio.run(scenario())


def test_a_failing_command_handler_is_reported_and_the_line_still_runs(
    lines: Lines, plugins_dir: Path
) -> None:
    write_plugin(
        plugins_dir,
        "clumsy",
        "def on_load(api):\n    api.on_command(lambda line: 1 / 0)\n",
    )

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        await shell.execute("load clumsy")
        mark = lines.mark()
        await shell.execute("help")
        assert lines.matching(r"Error in the `clumsy' plugin \(on_command\): ZeroDivision", mark)
        assert lines.matching(r"Available commands", mark)
        await close(shell)

    asyncio.run(scenario())


def test_entry_point_plugin_from_an_installed_distribution(
    lines: Lines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    dist = site / "ocppsim_demo_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ocppsim-demo-plugin\nVersion: 1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        "[ocppsim.plugins]\n"
        "demo_ep = ocppsim_demo_ep_module\n"
        "obj_ep = ocppsim_demo_ep_module:Thing\n"
    )
    module = site / "ocppsim_demo_ep_module.py"
    module.write_text(
        "name = 'Demo'\n"
        "def on_load(api):\n    api.log('demo entry point v1')\n"
        "class Thing:\n"
        "    def on_load(self, api):\n        api.log('thing loaded')\n"
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()

    async def scenario() -> None:
        shell = Shell()
        mark = lines.mark()
        await shell.execute("plugins")
        assert " [ ] demo_ep" in lines.lines[mark].splitlines()
        await shell.execute("load demo_ep")
        await lines.wait_for(r"demo entry point v1$")
        mark = lines.mark()
        await shell.execute("plugins")
        assert " [X] demo_ep - Demo" in lines.lines[mark].splitlines()
        module.write_text(module.read_text().replace("v1", "v2") + "\n# changed\n")
        importlib.invalidate_caches()
        await shell.execute("load demo_ep")
        await lines.wait_for(r"demo entry point v2$")
        await shell.execute("load obj_ep")
        await lines.wait_for(r"thing loaded$")
        await shell.execute("unload demo_ep")
        await shell.execute("unload obj_ep")
        assert shell.plugins.loaded == {}
        await close(shell)

    try:
        asyncio.run(scenario())
    finally:
        sys.modules.pop("ocppsim_demo_ep_module", None)


def test_not_supported_is_the_ocpp_refusal() -> None:
    refusal = NotSupported()
    assert isinstance(refusal, OcppError) and refusal.code == "NotSupported"


def test_shipped_plugins_import_only_the_public_api() -> None:
    import ast

    from ocppsim.core.resources import data_dir

    files = sorted(data_dir("plugins").glob("*.py"))
    assert {f.stem for f in files} >= {"helloworld", "cs_example", "cbxs_automatic_mode"}
    for path in files:
        tree = ast.parse(path.read_text())
        imported = {
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        }
        internal = {name for name in imported if name and name.startswith("ocppsim")}
        assert internal == {"ocppsim.api"}, (path.name, internal)


def test_a_truthy_command_result_consumes_the_line_even_when_awaited(
    lines: Lines, plugins_dir: Path
) -> None:
    """`on_command`'s result decides once awaited: any truthy value consumes the line."""
    write_plugin(
        plugins_dir,
        "words",
        """
        import asyncio

        def on_load(api):
            async def later(line):
                await asyncio.sleep(0)
                return {"took": line} if line == "async-yes" else None

            def returns_awaitable(line):
                return later(line)

            api.on_command(lambda line: 1 if line == "one" else 0)
            api.on_command(lambda line: "yes" if line == "text" else "")
            api.on_command(later)
            api.on_command(returns_awaitable, ["async-yes", "text", "one"])
        """,
    )

    async def scenario() -> None:
        shell = _shell(plugins_dir)
        await shell.execute("load words")
        for taken in ("one", "text", "async-yes"):
            assert await shell.plugins.consume(taken) is True, taken
        assert await shell.plugins.consume("async-no") is False
        mark = lines.mark()
        for taken in ("one", "text", "async-yes"):
            await shell.execute(taken)
        assert not lines.matching("unknown command", mark)
        await shell.execute("nothing-takes-this")
        await lines.wait_for(r"Error: `nothing-takes-this' unknown command", mark)
        assert shell.plugins.commands() == ["async-yes", "one", "text"]
        await shell.execute("unload words")
        assert shell.plugins.commands() == []
        await close(shell)

    asyncio.run(scenario())
