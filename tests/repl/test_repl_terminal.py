"""Tab completion of the terminal prompt: commands, payload fields, charge point ids."""

from __future__ import annotations

from types import SimpleNamespace

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ocppsim.repl.shell import Shell
from ocppsim.repl.terminal import OcppCompleter, history_path


def complete(shell: Shell, text: str) -> list[str]:
    completer = OcppCompleter(shell)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_commands_fields_and_ids_complete() -> None:
    shell = Shell()
    assert complete(shell, "heartb") == ["heartbeat"]
    assert set(complete(shell, "remote_st")) == {
        "remote_starttransaction",
        "remote_stoptransaction",
    }
    assert complete(shell, "authorize id") == ["idTag="]
    assert "chargePointVendor=" in complete(shell, "bootnotification ")
    assert complete(shell, "remote_reset ty") == ["type="]
    assert complete(shell, "start_cs 9000 -") == ["-i", "-u", "-p", "-t"]
    shell.sim.central_system = SimpleNamespace(
        peers={"cp01": SimpleNamespace(version="1.2"), "cp02": SimpleNamespace(version="1.5")}
    )
    assert complete(shell, "remote_reset --remote-id ") == ["cp01", "cp02"]
    assert complete(shell, "remote_reset --remote-id cp02 ") == ["type="]
    shell.sim.charge_points["box"] = SimpleNamespace(version="1.5")
    assert complete(shell, "heartbeat --id b") == ["box"]


def test_history_lives_where_the_environment_says(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OCPPSIM_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"
