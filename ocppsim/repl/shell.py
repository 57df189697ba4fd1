"""The interactive prompt: reads lines (prompt_toolkit on a terminal, plain lines from a
pipe), runs commands, and prints errors above the prompt (SPEC §1, §3)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from ocppsim.core.errors import OcppSimError
from ocppsim.plugins import PluginManager
from ocppsim.repl.commands import COMMANDS, FLAGS, SyntaxProblem, unknown_command
from ocppsim.repl.parsing import ParsedLine, ParseError, parse_line, parse_words
from ocppsim.sim import log
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.simulator import CommandError, Simulator

_out = logging.getLogger("ocppsim.repl")

#: Commands that finish before the next typed line is read; on a terminal the others run in
#: the background so the prompt stays free, from a pipe every line waits for the one before
#: (a script reads like a person who waits for each answer before typing on).
INLINE = frozenset(
    {"start_cs", "start_cp", "stop_cs", "stop_cp", "set", "help", "quit"}
    | {"plugins", "load", "unload"}
    | {"start_fleet", "fleet", "stop_fleet"}
)
#: How long end of input waits for commands still in flight before leaving.
DRAIN_SECONDS = 35.0

BANNER = """== ocppsim - OCPP Central System & Charge Point simulator ==
 > Quick start :
 - start_cs <port> [options] .ex: start_cs 9000 -u /ocpp
 - start_cp <url> <id> [options] .ex: start_cp ws://localhost:9000/ocpp cp01
 - help, help <command> (its options, payload fields and an example)"""


class Shell:
    """One prompt session over one Simulator."""

    def __init__(
        self,
        *,
        variant: str | None = None,
        plugins_dirs: list[Path] | None = None,
    ):
        self.sim = Simulator(variant=variant)
        self.variant = variant
        self.plugins_dirs = plugins_dirs or []
        self.plugins: Any = PluginManager(self.sim, self.plugins_dirs, parse=parse_line)
        self.print_xml = {"cs": False, "cp": False}
        self.sim.log.print_xml = self.print_xml.__getitem__
        self._quit = asyncio.Event()
        self._loop_problems = LoopProblems()
        self.sequential = False

    # -- output ---------------------------------------------------------------------------------

    def print(self, text: str, *, block: bool = False) -> None:
        """A line of the prompt's own (an error), without timestamp; with `block`, lines
        (help, a listing) whose line breaks are kept (elsewhere they show as `\\n`)."""
        _out.info(text, extra={"plain": True, "block": block})

    def print_stamped(self, text: str, *, block: bool = False) -> None:
        _out.info(text, extra={"block": block})

    def request_quit(self) -> None:
        self._quit.set()

    @property
    def quitting(self) -> bool:
        return self._quit.is_set()

    # -- factories used by the commands ------------------------------------------------------

    def make_central_system(self, transport: str, **options: Any) -> CentralSystem:
        return CentralSystem(
            transport=transport,
            # SOAP carries XML: its JSON view is always the plain form (no --with-attr-at)
            variant=self.variant if transport == "websocket" else None,
            history=0,  # nothing waits on what it received: no inbox on the hot path
            behaviour=self.sim.cs_behaviour,
            bus=self.sim.bus,
            resources=self.sim.resources,
            **options,
        )

    def make_charge_point(self, transport: str, **options: Any) -> ChargePoint:
        if transport == "websocket":  # -f and -r are SOAP's (the command refused them)
            options.pop("from_url", None)
            options.pop("remote_port", None)
        return ChargePoint(
            transport=transport,
            variant=self.variant if transport == "websocket" else None,
            history=0,
            behaviour=self.sim.cp_behaviour,
            bus=self.sim.bus,
            resources=self.sim.resources,
            **options,
        )

    def set_ping_interval(self, role: str, seconds: float) -> None:
        if role == "cs":
            if self.sim.central_system is None:
                raise CommandError("Error: no Central System is running.")
            self.sim.central_system.pinger.set_interval(seconds)
        else:
            if not self.sim.charge_points:
                raise CommandError("Error: no Charge Point is running.")
            for cp in self.sim.charge_points.values():
                cp.pinger.set_interval(seconds)

    def set_print_xml(self, role: str, value: bool) -> None:
        self.print_xml[role] = value

    async def plugins_command(self, parsed: ParsedLine) -> None:
        if self.plugins is None:
            self.print("Plugins are not available yet.")
            return
        await self.plugins.command(parsed)

    # -- running commands ---------------------------------------------------------------------

    async def execute(self, line: str) -> None:
        """Run one typed line; never raises."""
        if not line.strip():
            return
        if self.plugins is not None and await self.plugins.consume(line):
            return
        try:
            parsed = parse_line(line, FLAGS)
        except ParseError as exc:
            self.print(f"Error: cannot read the line: {exc}.")
            return
        await self.execute_parsed(parsed)

    async def execute_words(self, words: list[str]) -> bool:
        """Run the command given on the process's command line; False on a syntax error."""
        parsed = parse_words(words, FLAGS)
        command = COMMANDS.get(parsed.command)
        if command is None:
            self._unknown(parsed.command)
            return False
        return await self._run(command.run, parsed)

    def help_asked(self, words: list[str]) -> bool:
        """`<command> --help` (`ocppsim start_cs --help`, what every other command line
        takes) shows `help <command>` instead of refusing --help as an unknown option."""
        if len(words) < 2 or "--help" not in words[1:] or words[0] not in COMMANDS:
            return False
        from ocppsim.repl.usage import command_help

        self.print(command_help(COMMANDS[words[0]], self.variant), block=True)
        return True

    async def execute_parsed(self, parsed: ParsedLine) -> None:
        command = COMMANDS.get(parsed.command)
        if command is None:
            self._unknown(parsed.command)
            return
        if "--help" in parsed.options and self.help_asked([parsed.command, "--help"]):
            return
        if parsed.command in INLINE or self.sequential:
            await self._run(command.run, parsed)
        else:
            self.sim.spawn(self._run(command.run, parsed), name=parsed.command)

    def _unknown(self, word: str) -> None:
        plugins = self.plugins.commands() if self.plugins is not None else []
        self.print(unknown_command(word, plugins))

    async def _run(self, run: Any, parsed: ParsedLine) -> bool:
        try:
            await run(self, parsed)
        except SyntaxProblem as exc:
            if exc.problem is not None:
                self.print(exc.problem)
            if exc.stamped:  # a usage message: the prompt's own lines
                self.print_stamped(str(exc), block=True)
            else:
                self.print(str(exc), block=True)
            return False
        except (CommandError, OcppSimError) as exc:
            self.print(str(exc))
            return False
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let a command kill the prompt
            _out.debug("command failed", exc_info=True)
            self.print(f"Error: {parsed.command} failed: {exc!r}")
            return False
        return True

    # -- the loop -------------------------------------------------------------------------------

    async def interact(self, terminal: bool | None = None) -> None:
        """Read and run lines until `quit`, end of input or Ctrl-C; `terminal` forces the
        terminal prompt (True) or plain lines (False) instead of asking stdin."""
        loop = asyncio.get_running_loop()
        self.watch_loop()
        try:
            loop.add_signal_handler(signal.SIGINT, self.request_quit)
            loop.add_signal_handler(signal.SIGTERM, self.request_quit)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - not on this OS
            pass
        reader = asyncio.create_task(self._read_loop(terminal))
        quitting = asyncio.create_task(self._quit.wait())
        try:
            await asyncio.wait({reader, quitting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, quitting):
                task.cancel()
            await asyncio.gather(reader, quitting, return_exceptions=True)
            await self.plugins.close()
            await self.sim.shutdown()
            log.event(None, "End of simulation : interrupted by user.")

    def watch_loop(self) -> None:
        """Route what the event loop reports (an accept() that failed for want of file
        descriptors, a callback that raised) to an error line: no traceback at the prompt."""
        asyncio.get_running_loop().set_exception_handler(self._loop_problems)

    async def _read_loop(self, terminal: bool | None) -> None:
        if terminal is None:
            terminal = sys.stdin is not None and sys.stdin.isatty() and sys.stdout.isatty()
        if terminal:
            from ocppsim.repl.terminal import read_terminal

            await read_terminal(self)
        else:
            await self._read_pipe()

    async def _read_pipe(self) -> None:
        self.sequential = True
        stdin = sys.stdin
        if stdin is None:
            await self._quit.wait()
            return
        lines = _stdin_lines(stdin)
        while not self.quitting:
            line = await lines.get()
            if line is None:  # end of input: let commands in flight finish, then leave
                await self.sim.drain(DRAIN_SECONDS)
                self.request_quit()
                return
            await self.execute(line.rstrip("\r\n"))


#: The event loop's reports of one kind show at most once per this many seconds (asyncio
#: reports a failing accept() once for every connection waiting to be accepted).
REPEAT_SECONDS = 10.0


class LoopProblems:
    """The event loop's exception handler under the prompt: an error line, never a
    traceback (that goes to the debug log), and one line per kind of report per
    `REPEAT_SECONDS`, saying how many like it were left out."""

    def __init__(self) -> None:
        #: message -> (loop time of its last line, reports left out since)
        self._seen: dict[str, tuple[float, int]] = {}

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message") or "unexpected error in the event loop")
        exc = context.get("exception")
        _out.debug("event loop: %s", message, exc_info=exc)
        now = loop.time()
        shown, left_out = self._seen.get(message, (-REPEAT_SECONDS, 0))
        if now - shown < REPEAT_SECONDS:
            self._seen[message] = (shown, left_out + 1)
            return
        self._seen[message] = (now, 0)
        text = f"Error: {message}: {exc!r}" if exc is not None else f"Error: {message}"
        if left_out:
            text += f" ({left_out} more like it in the last {now - shown:.0f} s)"
        log.error(text)


def _stdin_lines(stdin: Any) -> asyncio.Queue[str | None]:
    """Lines of a non-terminal stdin, read by a daemon thread (it never delays exit)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def pump() -> None:
        try:
            for line in iter(stdin.readline, ""):
                loop.call_soon_threadsafe(queue.put_nowait, line)
        except (OSError, ValueError, RuntimeError):
            pass
        try:
            loop.call_soon_threadsafe(queue.put_nowait, None)
        except RuntimeError:  # the loop is already closed
            pass

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    return queue
