"""Asks: what a case needs done that the protocol cannot make the peer do, and who does it.

A case asks, for instance, that the Central System send a RemoteStartTransaction, or answer
the next BootNotification with Pending, or that a badge be presented at a charge point: what
a person does by hand with OCA's test tool (its
"manual actions"). An ask has an `instruction` for a person and, in `do`, the same for a
program: `{"send": "RemoteStartTransaction", "payload": {…}}`, `{"boot": "Pending",
"interval": 2}`. Who carries it out:

* `CommandAsker` (`--ask-command CMD`): runs CMD in a shell with the ask as JSON on its stdin
  and in `OCPPSIM_ASK` (and `OCPPSIM_ASK_TEXT`, `OCPPSIM_CASE`, `OCPPSIM_CHARGE_POINT_ID`,
  `OCPPSIM_VERSION`); exit status 0 means done, another one skips the case with what the
  command wrote to stderr. A CI job's script calls its Central System's own API.
* `InBandAsker` (the default): ocppsim sends the peer `DataTransfer` with vendorId `ocppsim`,
  messageId `ask` and the ask as JSON in `data`; a peer that does it answers Accepted with the
  ask's `id` as `data` (ocppsim's own Central System does, and its Charge Points with the
  `check_target_cp` plugin: plug, unplug, badge); any other answer skips the case.
* `ManualAsker` (`--manual`): prints the instruction and waits for Enter at the terminal.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from ocppsim.core.errors import CallError
from ocppsim.core.rpc import new_unique_id
from ocppsim.sim.peer import CallFailed

if TYPE_CHECKING:
    from ocppsim.check.run import CaseRun

#: The vendorId and messageId of an in-band ask.
VENDOR_ID = "ocppsim"
MESSAGE_ID = "ask"
#: How long an ask command may take (seconds).
COMMAND_TIMEOUT = 60.0


def ask_document(run: CaseRun, instruction: str, do: dict[str, Any] | None) -> dict[str, Any]:
    """The ask as the command and the Central System read it."""
    return {
        "id": new_unique_id(),
        "case": run.id,
        "chargePointId": run.side.charge_point_id,
        "version": run.version,
        "instruction": instruction,
        "do": do or {},
    }


class CommandAsker:
    """Runs a shell command for each ask (see the module docstring)."""

    def __init__(self, command: str, timeout: float = COMMAND_TIMEOUT):
        self.command = command
        self.timeout = timeout

    async def ask(self, run: CaseRun, instruction: str, do: dict[str, Any] | None) -> None:
        from ocppsim.check.run import CaseSkipped

        document = json.dumps(ask_document(run, instruction, do))
        env = {
            **os.environ,
            "OCPPSIM_ASK": document,
            "OCPPSIM_ASK_TEXT": instruction,
            "OCPPSIM_CASE": run.id,
            "OCPPSIM_CHARGE_POINT_ID": run.side.charge_point_id,
            "OCPPSIM_VERSION": run.version,
        }
        try:
            process = await asyncio.create_subprocess_shell(
                self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=env,
            )
        except OSError as exc:
            raise CaseSkipped(f"--ask-command could not start: {exc}") from None
        try:
            _, err = await asyncio.wait_for(
                process.communicate(document.encode("utf-8")), self.timeout
            )
        except asyncio.TimeoutError:
            process.kill()
            await process.wait()
            raise CaseSkipped(
                f"--ask-command took more than {self.timeout:g} s for: {instruction}"
            ) from None
        if process.returncode != 0:
            said = err.decode("utf-8", "replace").strip().splitlines()
            why = f": {said[-1]}" if said else ""
            raise CaseSkipped(
                f"--ask-command did not do it (exit status {process.returncode}{why}):"
                f" {instruction}"
            )


class InBandAsker:
    """Asks the peer itself, with a DataTransfer (see the module docstring)."""

    async def ask(self, run: CaseRun, instruction: str, do: dict[str, Any] | None) -> None:
        from ocppsim.check.run import CaseSkipped

        document = ask_document(run, instruction, do)
        data = json.dumps(document, separators=(",", ":"))
        payload = {"vendorId": VENDOR_ID, "messageId": MESSAGE_ID, "data": data}
        run.side.peer().timeout = run.options.within
        needs = f"needs: {instruction} (give --ask-command, see docs/conformance.md)"
        who = "the charge point" if run.suite.role == "cp" else "the Central System"
        try:
            answer = await run.side.call("DataTransfer", payload, validate=False, defaults=False)
        except CallError as exc:
            raise CaseSkipped(
                f"{who} does not take asks (DataTransfer {VENDOR_ID}/{MESSAGE_ID}"
                f" refused with {exc.code}); {needs}"
            ) from None
        except CallFailed as exc:
            raise CaseSkipped(f"the ask got no answer ({exc}); {needs}") from None
        status = answer.get("status") if isinstance(answer, dict) else None
        said = answer.get("data") if isinstance(answer, dict) else None
        if status == "Accepted" and said == document["id"]:
            return
        if status == "Accepted":
            raise CaseSkipped(
                f"{who} does not take asks (DataTransfer {VENDOR_ID}/{MESSAGE_ID}"
                f" answered Accepted, without the ask's id as data); {needs}"
            )
        if status in ("UnknownVendorId", "UnknownMessageId"):
            raise CaseSkipped(
                f"{who} does not take asks (DataTransfer {VENDOR_ID}/{MESSAGE_ID}"
                f" answered {status}); {needs}"
            )
        why = f": {said}" if isinstance(said, str) and said else ""
        raise CaseSkipped(f"{who} did not do it (the ask was answered {status}{why}); {needs}")


class ManualAsker:
    """Prints the instruction and waits for the person at the terminal to press Enter."""

    def __init__(self, write: Any = None):
        self.write = write or (lambda text: print(text, flush=True))

    async def ask(self, run: CaseRun, instruction: str, do: dict[str, Any] | None) -> None:
        self.write(f"  ASK [{run.id}] {instruction} — press Enter when done")
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            from ocppsim.check.run import CaseSkipped

            raise CaseSkipped(f"nobody at the terminal to do this: {instruction}")
