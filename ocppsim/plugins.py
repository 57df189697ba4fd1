"""Finding, loading and unloading plugins, and the `plugins`/`load`/`unload` commands (SPEC §8).

A plugin is a Python file `<name>.py` in the project's `plugins/` folder or a `--plugins-dir`
folder, or an installed package's entry point in group `ocppsim.plugins`. It defines
`on_load(api)` and may define `on_unload(api)` and metadata (`name`, `description`, `author`,
`ocpp_version`, `system`). Plugins only see `ocppsim.api`.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import importlib.metadata
import importlib.util
import inspect
import itertools
import logging
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocppsim.api import PluginApi, log_line
from ocppsim.core.resources import data_dir
from ocppsim.sim.peer import maybe_await
from ocppsim.sim.simulator import Simulator

_log = logging.getLogger("ocppsim.plugins")

#: Entry point group of installed plugins: `[project.entry-points."ocppsim.plugins"]`.
ENTRY_POINT_GROUP = "ocppsim.plugins"
#: Module-level names a plugin may set to describe itself.
METADATA = ("name", "description", "author", "ocpp_version", "system")

_module_numbers = itertools.count(1)


def plugin_key(name: str) -> str:
    """`cbxs-automatic-mode` (the original's names) and `cbxs_automatic_mode` are one plugin."""
    return name.strip().replace("-", "_")


@dataclass(frozen=True)
class PluginSource:
    """Where a loadable plugin comes from: a file, or an installed entry point."""

    name: str
    path: Path | None = None
    entry_point: importlib.metadata.EntryPoint | None = None

    def metadata(self) -> dict[str, Any]:
        """The file's module-level metadata, read without running it."""
        if self.path is None:
            return {}
        try:
            tree = ast.parse(self.path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            return {}
        found: dict[str, Any] = {}
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in METADATA:
                try:
                    found[target.id] = ast.literal_eval(value)
                except ValueError:
                    pass
        return found


@dataclass(eq=False)
class Plugin:
    """One loaded plugin: its code, its api, and what it registered."""

    name: str
    source: PluginSource
    target: Any
    module_name: str | None
    metadata: dict[str, Any]
    command_handlers: list[Callable[..., Any]] = field(default_factory=list)
    #: command words its `on_command` handlers declared (for tab completion)
    commands: set[str] = field(default_factory=set)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    api: PluginApi | None = None

    def report(self, where: str, exc: BaseException) -> None:
        """An error line for a plugin's failure (never fatal)."""
        _log.debug("plugin %s failed in %s", self.name, where, exc_info=exc)
        log_line(f"Error in the `{self.name}' plugin ({where}): {exc!r}", logging.ERROR)

    async def guard(self, where: str, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a handler; a failure is reported, not raised."""
        try:
            return await maybe_await(fn(*args))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.report(where, exc)
            return None

    def spawn(self, awaitable: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        """A background task of this plugin: errors reported, cancelled on unload."""

        async def run() -> Any:
            try:
                return await awaitable
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.report(name, exc)
                return None

        task = asyncio.create_task(run(), name=name)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task


class PluginManager:
    """The plugins one Shell can load, and the ones it has loaded."""

    def __init__(
        self,
        sim: Simulator,
        dirs: Iterable[Path] = (),
        *,
        parse: Callable[[str], Any] | None = None,
    ):
        self.sim = sim
        self.dirs = [Path(d) for d in dirs]
        self._parse = parse
        self.loaded: dict[str, Plugin] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def parse(self, line: str) -> Any:
        """The prompt's parser (given by the Shell) applied to `line`."""
        if self._parse is None:
            from ocppsim.repl.parsing import parse_line

            self._parse = parse_line
        return self._parse(line)

    # -- discovery ------------------------------------------------------------------------------

    def folders(self) -> list[Path]:
        """`--plugins-dir` folders first (they win on a name clash), then the project's."""
        folders = list(self.dirs)
        try:
            folders.append(data_dir("plugins"))
        except FileNotFoundError:
            pass
        return folders

    def available(self) -> dict[str, PluginSource]:
        """Every plugin that can be loaded, by key."""
        found: dict[str, PluginSource] = {}
        for folder in self.folders():
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.py")):
                if path.name.startswith("_"):
                    continue
                found.setdefault(plugin_key(path.stem), PluginSource(path.stem, path=path))
        try:
            entry_points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        except Exception:  # a broken installed distribution must not break `plugins`
            _log.debug("cannot read entry points", exc_info=True)
            entry_points = importlib.metadata.EntryPoints(())
        for entry_point in entry_points:
            key = plugin_key(entry_point.name)
            found.setdefault(key, PluginSource(entry_point.name, entry_point=entry_point))
        return found

    def listing(self) -> list[str]:
        """`List of plugins:` then ` [X] name - description (details)` lines."""
        lines = ["List of plugins:"]
        available = self.available()
        keys = sorted(set(available) | set(self.loaded))
        for key in keys:
            plugin = self.loaded.get(key)
            source = plugin.source if plugin is not None else available[key]
            metadata = plugin.metadata if plugin is not None else source.metadata()
            mark = "X" if plugin is not None else " "
            lines.append(f" [{mark}] {source.name}{_describe(metadata)}")
        if not keys:
            lines.append(" (none)")
        return lines

    # -- the commands -----------------------------------------------------------------------------

    async def command(self, parsed: Any) -> None:
        """Run `plugins`, `load <name>` or `unload <name>`."""
        if parsed.command == "plugins":
            _print("\n".join(self.listing()), block=True)
            return
        if len(parsed.arguments) != 1 or parsed.options or parsed.fields:
            _print(
                f'Error in command "{parsed.command}", syntax: {parsed.command} <plugin>',
                logging.ERROR,
            )
            return
        if parsed.command == "load":
            await self.load(parsed.arguments[0])
        else:
            await self.unload(parsed.arguments[0])

    async def consume(self, line: str) -> bool:
        """Offer a typed line to the plugins' `on_command` handlers; True when one took it
        (its result, awaited when it is awaitable, is truthy)."""
        for plugin in list(self.loaded.values()):
            for fn in list(plugin.command_handlers):
                if await plugin.guard("on_command", fn, line):
                    return True
        return False

    def commands(self) -> list[str]:
        """The command words the loaded plugins add to the prompt, sorted."""
        return sorted({word for plugin in self.loaded.values() for word in plugin.commands})

    # -- loading ----------------------------------------------------------------------------------

    async def load(self, name: str) -> bool:
        """Load plugin `name` (unloading it first when it is loaded: a reload)."""
        key = plugin_key(name)
        if key in self.loaded:
            await self.unload(key)
        source = self.available().get(key)
        if source is None:
            _print(f"Error with the {name} plugin, invalid or doesn't exist.", logging.ERROR)
            return False
        try:
            target, module_name = _import(source, key)
        except Exception as exc:
            _log.debug("cannot import plugin %s", name, exc_info=True)
            _print(f"Error when reading the `{name}' plugin: {_brief(exc)}", logging.ERROR)
            return False
        on_load = getattr(target, "on_load", None)
        if not callable(on_load):
            _forget_module(module_name)
            _print(
                f"Error when reading the `{name}' plugin: no entry point `onLoad' function found.",
                logging.ERROR,
            )
            return False
        metadata = {attr: getattr(target, attr) for attr in METADATA if hasattr(target, attr)}
        plugin = Plugin(source.name, source, target, module_name, metadata)
        plugin.api = PluginApi(self, plugin)
        self.loaded[key] = plugin
        try:
            await maybe_await(on_load(plugin.api))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _log.debug("plugin %s on_load failed", name, exc_info=True)
            _print(f"Error when loading the `{name}' plugin: {_brief(exc)}", logging.ERROR)
            if self.loaded.get(key) is plugin:
                del self.loaded[key]
            self._detach(plugin)
            return False
        return True

    async def unload(self, name: str) -> bool:
        """Unload plugin `name`: `on_unload(api)`, then every handler it registered goes."""
        plugin = self.loaded.pop(plugin_key(name), None)
        if plugin is None:
            _print(f"Error: plugin `{name}' is not loaded.", logging.ERROR)
            return False
        on_unload = getattr(plugin.target, "on_unload", None)
        if callable(on_unload):
            await plugin.guard("on_unload", on_unload, plugin.api)
        self._detach(plugin)
        return True

    def unload_now(self, plugin: Plugin) -> None:
        """`api.unload()`: detach at once; an async `on_unload` finishes in a tracked task."""
        key = plugin_key(plugin.name)
        if self.loaded.get(key) is not plugin:
            return
        del self.loaded[key]
        self._detach(plugin)
        on_unload = getattr(plugin.target, "on_unload", None)
        if not callable(on_unload):
            return
        try:
            value = on_unload(plugin.api)
        except Exception as exc:
            plugin.report("on_unload", exc)
            return
        if inspect.isawaitable(value):
            task = asyncio.ensure_future(plugin.guard("on_unload", lambda: value))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Stop every plugin task (the simulation ends); plugins are not unloaded."""
        tasks = set(self._tasks)
        for plugin in self.loaded.values():
            tasks |= plugin.tasks
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _detach(self, plugin: Plugin) -> None:
        """Remove what `plugin` registered and stop its tasks."""
        self.sim.cs_behaviour.clear(plugin)
        self.sim.cp_behaviour.clear(plugin)
        plugin.command_handlers.clear()
        plugin.commands.clear()
        current = asyncio.current_task()
        for task in list(plugin.tasks):
            if task is not current:
                task.cancel()
        _forget_module(plugin.module_name)


def _import(source: PluginSource, key: str) -> tuple[Any, str | None]:
    """The plugin object (a module, or what the entry point names) and its module name."""
    if source.path is not None:
        module_name = f"ocppsim_plugin_{key}_{next(_module_numbers)}"
        spec = importlib.util.spec_from_file_location(module_name, source.path)
        if spec is None:
            raise ImportError(f"cannot import {source.path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        try:
            # compiled from the source each time: a reload never runs a stale bytecode cache
            code = compile(source.path.read_bytes(), str(source.path), "exec")
            exec(code, module.__dict__)
        except BaseException:
            sys.modules.pop(module_name, None)
            raise
        return module, module_name
    assert source.entry_point is not None
    entry_point = source.entry_point
    loaded = sys.modules.get(entry_point.module)
    if loaded is not None:
        importlib.reload(loaded)  # `load` of a loaded plugin reloads its code
    target = entry_point.load()
    if isinstance(target, type):
        target = target()
    return target, None


def _forget_module(module_name: str | None) -> None:
    if module_name is not None:
        sys.modules.pop(module_name, None)


def _describe(metadata: dict[str, Any]) -> str:
    """` - Title: description (system: cp, OCPP 1.5, author: x)` from a plugin's metadata."""
    title = str(metadata.get("name") or "").strip()
    description = str(metadata.get("description") or "").strip()
    text = ": ".join(part for part in (title, description) if part)
    details = []
    if metadata.get("system"):
        details.append(f"system: {metadata['system']}")
    if metadata.get("ocpp_version"):
        details.append(f"OCPP {metadata['ocpp_version']}")
    if metadata.get("author"):
        details.append(f"author: {metadata['author']}")
    if details:
        text = f"{text} ({', '.join(details)})" if text else f"({', '.join(details)})"
    return f" - {text}" if text else ""


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _print(text: str, level: int = logging.INFO, *, block: bool = False) -> None:
    """A line of the prompt's own, without timestamp (like the original's plugin messages);
    `block`: several lines whose line breaks are kept."""
    _log.log(level, text, extra={"plain": True, "block": block})
