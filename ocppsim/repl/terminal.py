"""The prompt on a terminal: prompt_toolkit with history across runs and tab completion of
commands (plugins' too), of the current command's payload fields (nested ones by their dotted
path: `chargingStation.` offers `chargingStation.model=`, …) and of their values (`type=`
offers `Hard`, `Soft`), of charge point ids, of subprotocols after `-p` and of plugin names
(SPEC §1)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.patch_stdout import patch_stdout

from ocppsim.core.errors import OcppSimError
from ocppsim.core.fields import at_path, children, resolve
from ocppsim.core.validation import load_schema
from ocppsim.core.versions import all_versions, default, get, subprotocols
from ocppsim.repl.commands import COMMANDS

if TYPE_CHECKING:
    from ocppsim.repl.shell import Shell


def history_path() -> Path:
    """Where the prompt keeps its history (`$OCPPSIM_HISTORY`, else ~/.ocppsim_history)."""
    return Path(os.environ.get("OCPPSIM_HISTORY", Path.home() / ".ocppsim_history"))


class OcppCompleter(Completer):
    """Completes command names (the plugins' too), `field=` names of the command's payload,
    CP ids, and plugin names after `load`/`unload`."""

    #: the files after an option that names one (certificates and keys)
    _paths = PathCompleter(expanduser=True)

    def __init__(self, shell: Shell):
        self.shell = shell

    def _versions(self, service: str | None, action: str) -> list[str]:
        """The versions whose fields to offer: those of the running peers, else the default
        version's, else every version that has the action."""
        sim = self.shell.sim
        if service == "cs":
            versions = {cp.version for cp in sim.charge_points.values()}
        elif sim.central_system is not None:
            versions = {peer.version for peer in sim.central_system.peers.values()}
        else:
            versions = set()
        if versions:
            return sorted(versions)
        having = [v.name for v in all_versions() if service and v.message_of(service, action)]
        first = default().name
        return [first] if first in having else having

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split()
        current = "" if text.endswith(" ") else (words[-1] if words else "")
        if len(words) == 0 or (len(words) == 1 and not text.endswith(" ")):
            for name in dict.fromkeys([*COMMANDS, *self._plugin_commands()]):
                if name.startswith(current):
                    yield Completion(name, -len(current))
            return
        typed = len(words) - (0 if text.endswith(" ") else 1)  # words before the current one
        if words[0] in ("load", "unload") and typed == 1:
            yield from self._plugin_names(words[0], current)
            return
        previous = words[-1] if text.endswith(" ") else (words[-2] if len(words) > 1 else "")
        if previous in ("--id", "--remote-id"):  # a plugin's commands take them too
            yield from self._ids(previous, current)
            return
        command = COMMANDS.get(words[0])
        if command is None:
            return
        if command.name == "help" and typed == 1:
            yield from (Completion(n, -len(current)) for n in COMMANDS if n.startswith(current))
            return
        if command.name == "stop_cp" and typed == 1:
            yield from self._ids("--id", current)
            return
        if command.name == "faulted" and typed == 2 and not current.startswith("-"):
            yield from (
                Completion(w, -len(current)) for w in ("on", "off") if w.startswith(current)
            )
            return
        if previous == "-p" and command.name in ("start_cs", "start_cp"):
            yield from self._subprotocols(current, several=command.name == "start_cs")
            return
        if command.name == "fault":
            yield from self._fault(words, typed, current)
            return
        option = next((o for o in command.options if o.flag == previous), None)
        if option is not None and option.metavar.startswith("<file"):  # --ca, --tls-cert, …
            yield from self._paths.get_completions(Document(current), complete_event)
            return
        if option is not None and option.flag == "--security-profile":
            yield from (Completion(p, -len(current)) for p in "123" if p.startswith(current))
            return
        for option in command.options:
            if current.startswith("-") and option.flag.startswith(current):
                yield Completion(option.flag, -len(current))
        if command.takes_fields and command.action:
            if "=" in current:
                yield from self._values(command.service, command.action, current)
            else:
                yield from self._fields(command.service, command.action, current)

    def _schemas(self, service: str | None, action: str) -> Iterable[list[dict[str, Any]]]:
        """The schemas of `action`'s message, the preferred versions' first, then the rest's."""
        preferred = self._versions(service, action)
        every = [v.name for v in all_versions() if service and v.message_of(service, action)]
        for group in (preferred, [v for v in every if v not in preferred]):
            schemas = []
            for version in group:
                # a CALL's Request, or the message itself for a SEND (OCPP 2.1)
                message = get(version).message_of(service or "", action)
                try:
                    schemas.append(load_schema(version, message or action + "Request"))
                except LookupError:
                    continue
            yield schemas

    def _values(self, service: str | None, action: str, current: str) -> Iterable[Completion]:
        """The values a field takes, after `name=`: its enumeration (`type=` offers `Hard`,
        `Soft`), `true` and `false` for a boolean."""
        path, _, partial = current.partition("=")
        for schemas in self._schemas(service, action):
            found: dict[str, None] = {}
            for schema in schemas:
                node = at_path(schema, path)
                if node is None:
                    continue
                values = ["true", "false"] if node.get("type") == "boolean" else node.get("enum")
                for value in values or ():
                    if isinstance(value, str) and value.startswith(partial):
                        found[value] = None
            if found:
                yield from (Completion(f"{path}={v}", -len(current)) for v in found)
                return

    def _fields(self, service: str | None, action: str, current: str) -> Iterable[Completion]:
        """The fields below the path typed so far: `name=` for a value, `name.` for an object
        or a list of objects (whose first item is `name.0.`). A nested path the preferred
        versions lack is looked up in every version that has the action."""
        prefix, dot, partial = current.rpartition(".")
        for schemas in self._schemas(service, action):
            found: dict[str, str] = {}
            for schema in schemas:
                for name, node in children(schema, prefix):
                    if name.startswith(partial) and name not in found:
                        found[name] = "." if _has_fields(schema, node) else "="
            if found or not prefix:
                for name, end in found.items():
                    yield Completion(f"{prefix}{dot}{name}{end}", -len(current))
                return

    @staticmethod
    def _fault(words: list[str], typed: int, current: str) -> Iterable[Completion]:
        """`fault <kind|list|clear>`, `fault clear <kind>`, then the options the kind takes."""
        from ocppsim.repl.commands import FAULT_TARGETS, FAULT_WORDS
        from ocppsim.sim.faults import KINDS

        if typed == 1 or (typed == 2 and words[1] == "clear"):
            names = [*KINDS] if typed == 2 else [*KINDS, *FAULT_WORDS]
            yield from (Completion(n, -len(current)) for n in names if n.startswith(current))
            return
        if not current.startswith("-"):
            return
        kind = KINDS.get(words[1])
        flags = [*FAULT_TARGETS, "--fraction"]
        if kind is not None:
            flags += [o.flag for o in kind.options]
            flags += ["--for", "--once"] if kind.counted else []
            flags += ["--action"] if kind.filtered else []
        for flag in dict.fromkeys(flags):
            if flag.startswith(current) and flag not in words:
                yield Completion(flag, -len(current))

    @staticmethod
    def _subprotocols(current: str, several: bool) -> Iterable[Completion]:
        """The subprotocols of the registry after `-p` (start_cs takes a comma-separated list:
        the last item is completed)."""
        last = current.rpartition(",")[2] if several else current
        for name in subprotocols():
            if name.startswith(last):
                yield Completion(name, -len(last))

    def _plugin_commands(self) -> list[str]:
        plugins = self.shell.plugins
        return plugins.commands() if plugins is not None else []

    def _plugin_names(self, command: str, current: str) -> Iterable[Completion]:
        """Plugins that can be loaded after `load`, the loaded ones after `unload`."""
        plugins = self.shell.plugins
        if plugins is None:
            return
        if command == "load":
            names = sorted(source.name for source in plugins.available().values())
        else:
            names = sorted(plugin.name for plugin in plugins.loaded.values())
        for name in names:
            if name.startswith(current):
                yield Completion(name, -len(current))

    def _ids(self, flag: str, current: str) -> Iterable[Completion]:
        sim = self.shell.sim
        if flag == "--id":
            ids = list(sim.charge_points)
        else:
            ids = list(sim.central_system.peers) if sim.central_system is not None else []
        for cp_id in ids:
            if cp_id.startswith(current):
                yield Completion(cp_id, -len(current))


def _has_fields(root: dict[str, Any], node: dict[str, Any]) -> bool:
    """True for an object, or a list of objects: completion goes on below it."""
    if node.get("type") == "array":
        node = resolve(root, node.get("items", {}))
    return node.get("type") == "object"


class LineCleared(OcppSimError):
    """Ctrl-C on a line being typed: drop the line, prompt again."""


def key_bindings() -> KeyBindings:
    """Ctrl-C clears a line being typed, as a shell does; on an empty line it leaves."""
    bindings = KeyBindings()

    @bindings.add("c-c")
    def _interrupt(event: KeyPressEvent) -> None:
        if event.app.current_buffer.text:
            event.app.exit(exception=LineCleared())  # the typed text stays on screen
        else:
            event.app.exit(exception=KeyboardInterrupt())

    return bindings


#: Seconds between two refreshes of the fleet's status line under the prompt.
STATUS_REFRESH = 1.0


def fleet_status(shell: Shell) -> str | None:
    """The running fleet's status line (links, calls, rate, failures), None without one."""
    fleet = shell.sim.fleet
    if fleet is None or not fleet.running:
        return None
    return str(fleet.fleet.status_line())


async def read_terminal(shell: Shell) -> None:
    """Prompt until quit; log lines are printed above the prompt by patch_stdout."""
    try:
        history: FileHistory | InMemoryHistory = FileHistory(str(history_path()))
    except OSError:
        history = InMemoryHistory()
    session: PromptSession[str] = PromptSession(
        history=history,
        completer=OcppCompleter(shell),
        complete_while_typing=False,
        key_bindings=key_bindings(),
    )
    with patch_stdout(raw=True):
        while not shell.quitting:
            try:
                live = fleet_status(shell) is not None  # a status line while a fleet runs
                line = await session.prompt_async(
                    "> ",
                    bottom_toolbar=(lambda: fleet_status(shell)) if live else None,
                    refresh_interval=STATUS_REFRESH if live else 0,
                )
            except LineCleared:
                continue
            except (EOFError, KeyboardInterrupt):
                shell.request_quit()
                return
            await shell.execute(line)
