"""A fleet at the prompt: `start_fleet`, `fleet` and `stop_fleet` against a Central System of
the same process, their errors, `--duration`, `--report`, `--behaviour`, and the status line
under the terminal prompt."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ocppsim_testing import Lines

from ocppsim.repl.commands import COMMANDS
from ocppsim.repl.shell import Shell
from ocppsim.repl.terminal import fleet_status
from ocppsim.repl.usage import command_help
from ocppsim.sim.central_system import CentralSystem


async def _shell_with_cs() -> tuple[Shell, int]:
    shell = Shell()
    shell.sequential = True
    cs = CentralSystem(
        0, host="127.0.0.1", endpoint="/ocpp", behaviour=shell.sim.cs_behaviour, bus=shell.sim.bus
    )
    shell.sim.add_central_system(cs)
    await cs.start()
    return shell, cs.port


def _run(scenario: object) -> None:
    async def bounded() -> None:
        await asyncio.wait_for(scenario, 60)  # type: ignore[arg-type]

    asyncio.run(bounded())


def test_start_fleet_fleet_and_stop_fleet(lines: Lines, tmp_path: Path) -> None:
    report = tmp_path / "report.json"

    async def scenario() -> None:
        shell, port = await _shell_with_cs()
        try:
            mark = lines.mark()
            await shell.execute(
                f"start_fleet ws://127.0.0.1:{port}/ocpp 10 -p ocpp1.6 --ramp 0"
                f" --id pf{{n:02d}} --seed 5 --report {report}"
            )
            await lines.wait_for(r"Fleet started: 10 charge points \(ocpp1\.6\)", mark)
            fleet = shell.sim.fleet
            assert fleet is not None and fleet.running
            while fleet.fleet.stats.action("StatusNotification").count < 30:
                await asyncio.sleep(0.02)
            status = fleet_status(shell)
            assert status is not None and "10 up" in status and "0 failed" in status
            assert "pf00" not in shell.sim.charge_points  # a fleet's CPs are not start_cp's
            mark = lines.mark()
            await shell.execute("start_fleet ws://127.0.0.1:1/ocpp 1")
            await lines.wait_for(r"^Error: a fleet is running already \(stop_fleet", mark)
            await shell.execute("fleet")
            await lines.wait_for(r"(?m)^Fleet: 10 charge points .* seed 5 \(running\)", mark)
            await lines.wait_for(r"(?m)^connections: 10 up, 0 connecting, 10 made, 0 lost", mark)
            await lines.wait_for(r"(?m)^  BootNotification +10 +0 ", mark)
            await shell.execute("fleet --json")
            await lines.wait_for(r'"charge_points": 10', mark)
            await shell.execute("stop_fleet")
            await lines.wait_for(r"^Fleet stopped\.", mark)
            await lines.wait_for(f"(?m)^report written to {report}", mark)
            assert fleet_status(shell) is None
            data = json.loads(report.read_text())
            assert data["fleet"]["seed"] == 5 and data["fleet"]["charge_points"] == 10
            assert data["actions"]["BootNotification"]["count"] == 10
            assert data["connections"]["up"] == 0
            mark = lines.mark()
            await shell.execute("stop_fleet")
            await lines.wait_for(r"^Error: no fleet is running\.", mark)
            assert not lines.problems(mark)[1:]  # nothing else went wrong
        finally:
            await shell.sim.shutdown()

    _run(scenario())


def test_a_fleet_stops_by_itself_after_its_duration(lines: Lines, tmp_path: Path) -> None:
    frames = tmp_path / "frames.log"

    async def scenario() -> None:
        shell, port = await _shell_with_cs()
        try:
            mark = lines.mark()
            await shell.execute(
                f"start_fleet ws://127.0.0.1:{port}/ocpp 3 -p ocpp2.0.1 --duration 0.5s"
                f" --log-file {frames}"
            )
            await lines.wait_for(r"^Fleet stopped\.", mark)
            await lines.wait_for(r"(?m)^  BootNotification +3 +0 ", mark)
            assert not shell.sim.fleet.running
            shown = [line for line in lines.lines[mark:] if ">>cs [" in line]
            assert not shown, shown  # the fleet's lines went to the file only
        finally:
            await shell.sim.shutdown()

    _run(scenario())
    logged = frames.read_text()
    assert "cp#cp00002: >>cs [2," in logged and '"BootNotification"' in logged
    assert "Disconnected: 1000 normal closure: fleet stopped." in logged


def test_bad_fleet_lines_say_what_is_wrong(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            mark = lines.mark()
            for line in (
                "start_fleet ws://127.0.0.1:9/ocpp",
                "start_fleet ws://127.0.0.1:9/ocpp ten",
                "start_fleet http://127.0.0.1:9/ocpp 2",
                "start_fleet ws://127.0.0.1:9/ocpp 2 --ramp fast",
                "start_fleet ws://127.0.0.1:9/ocpp 2 --colour red",
                "start_fleet ws://127.0.0.1:9/ocpp 2 --workers 2",
                "start_fleet ws://127.0.0.1:9/ocpp 2 --behaviour no_such_plugin",
                "fleet",
                "stop_fleet",
            ):
                await shell.execute(line)
            shown = lines.lines[mark:]
            expected = (
                "Error: missing argument <count>.",
                "Error: the number of charge points must be a whole number above 0, not `ten'.",
                "Error: invalid URL 'http://127.0.0.1:9/ocpp'",
                "Error: --ramp takes a number 0 or more, not `fast'.",
                "Error: `--colour' is an unknown option.",
                "Error: --workers runs a fleet in several processes: use the headless command",
                "Error: --behaviour: the plugin `no_such_plugin' is not loaded: no fleet.",
                "Error: no fleet was started (start_fleet <url> <count> starts one).",
                "Error: no fleet is running.",
            )
            for text in expected:
                assert any(line.startswith(text) for line in shown), (text, shown)
            assert shell.sim.fleet is None
        finally:
            await shell.sim.shutdown()

    _run(scenario())


def test_help_shows_the_fleet_commands_and_options() -> None:
    text = command_help(COMMANDS["start_fleet"])
    for flag in ("--sessions-per-hour", "--meter-interval", "--seed", "--workers", "--source-ip"):
        assert flag in text
    assert "start_fleet <url> <count>" in text
    assert "fleet" in COMMANDS and "stop_fleet" in COMMANDS
    # the prompt refuses --workers (one process): its help says where it works
    workers = next(line for line in text.splitlines() if line.lstrip().startswith("--workers"))
    assert "(ocppsim fleet only, not at the prompt)" in workers, workers


def test_the_terminal_prompt_shows_the_fleets_status_line(
    lines: Lines, monkeypatch: object, tmp_path: Path
) -> None:
    """Through a real prompt_toolkit prompt fed by a pipe: once a fleet runs, the bottom
    toolbar under the prompt is its status line, refreshed while nothing is typed."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    from ocppsim.repl import terminal

    monkeypatch.setenv("OCPPSIM_HISTORY", str(tmp_path / "history"))  # type: ignore[attr-defined]
    shown: list[str | None] = []
    real = terminal.fleet_status

    def spy(shell: Shell) -> str | None:
        text = real(shell)
        shown.append(text)
        return text

    monkeypatch.setattr(terminal, "fleet_status", spy)  # type: ignore[attr-defined]

    async def scenario() -> None:
        shell, port = await _shell_with_cs()
        shell.sequential = False
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            session = asyncio.create_task(shell.interact(terminal=True))
            mark = lines.mark()
            pipe.send_text(f"start_fleet ws://127.0.0.1:{port}/ocpp 2 --ramp 0\r")
            await lines.wait_for(r"Fleet started: 2 charge points", mark)
            while not any(text and text.startswith("fleet 2/2 started: 2 up") for text in shown):
                await asyncio.sleep(0.05)
            pipe.send_text("quit\r")
            await asyncio.wait_for(session, 20)

    _run(scenario())


def test_a_fleet_at_the_prompt_takes_a_fault_and_verdicts(lines: Lines, tmp_path: Path) -> None:
    """`start_fleet … --fault clock-skew --fraction 0.3 --verdicts`: 3 of 10 charge points
    send timestamps an hour ahead, `fault list` shows the fleet's fault and `fault clear`
    clears it; the Central System's StatusNotification answers break their schema (a fault
    of its own), and `fleet`, `fleet --json` and the report list the findings."""
    report = tmp_path / "report.json"

    async def scenario() -> None:
        shell, port = await _shell_with_cs()
        try:
            await shell.execute("fault invalid-answer --cs --action StatusNotification")
            mark = lines.mark()
            await shell.execute(
                f"start_fleet ws://127.0.0.1:{port}/ocpp 10 -p ocpp1.6 --ramp 0 --seed 5"
                " --id pv{n:02d} --sessions-per-hour 0 --fault clock-skew"
                f" --fault-option seconds=3600 --fraction 0.3 --verdicts --report {report}"
            )
            await lines.wait_for(r"^Fleet: fault clock-skew on 3 of 10 charge points \(", mark)
            fleet = shell.sim.fleet
            while fleet.fleet.stats.action("StatusNotification").count < 30:
                await asyncio.sleep(0.02)
            # the Central System's lines show the skewed timestamps: three charge points'
            ahead = set()
            for line in lines.lines[mark:]:
                found = re.search(
                    r'<<cp#(pv\d+) \[2,"[^"]*","StatusNotification".*"timestamp":"'
                    r'([^"]+)"',
                    line,
                )
                if found:
                    stamp = datetime.fromisoformat(found.group(2).replace("Z", "+00:00"))
                    if stamp > datetime.now(timezone.utc) + timedelta(minutes=30):
                        ahead.add(found.group(1))
            assert len(ahead) == 3, ahead
            mark = lines.mark()
            await shell.execute("fault list")
            await lines.wait_for(r"(?m)^fleet: .*clock.* on 3 of 10 charge points", mark)
            await shell.execute("fleet")
            await lines.wait_for(r"(?m)^verdicts: \d+ finding\(s\), \d+ failure\(s\)", mark)
            await lines.wait_for(
                r"(?m)^  cp#pv\d\d: FAIL schema: the answer to StatusNotification breaks", mark
            )
            await shell.execute("fleet --json")
            await lines.wait_for(r'"check": "schema"', mark)
            await shell.execute("fault clear")
            await shell.execute("fault list")
            await lines.wait_for(r"(?m)^No fault is set\.", mark)
            await shell.execute("stop_fleet")
            await lines.wait_for(f"(?m)^report written to {report}", mark)
        finally:
            await shell.sim.shutdown()

    _run(scenario())
    data = json.loads(report.read_text())
    assert data["verdicts"] and data["verdicts"][0]["check"] == "schema"
    assert data["verdicts"][0]["speaker"].startswith("cp#pv")


def test_a_fleet_at_the_prompt_refuses_a_fault_that_cannot_work(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            mark = lines.mark()
            for line, said in (
                ("start_fleet ws://127.0.0.1:9/ocpp 2 --fault nonsense", "nonsense"),
                ("start_fleet ws://127.0.0.1:9/ocpp 2 --fraction 0.5", "go with --fault KIND"),
                ("start_fleet ws://127.0.0.1:9/ocpp 2 --fault drop --fraction 2", "--fraction"),
                (
                    "start_fleet ws://127.0.0.1:9/ocpp 2 --fault delay --fault-option colour=1",
                    "colour",
                ),
                ("start_fleet ws://127.0.0.1:9/ocpp 2 --verdicts --workers 2", "--workers"),
                ("start_fleet ws://127.0.0.1:9/ocpp 2 --fault reset", "reconnect-storm"),
            ):
                await shell.execute(line)
                shown = await lines.wait_for(r"^Error: ", mark)
                assert said in shown, (line, shown)
                mark = lines.mark()
            assert shell.sim.fleet is None
        finally:
            await shell.sim.shutdown()

    _run(scenario())


def test_verdicts_on_at_the_prompt_check_a_fleet_started_after(lines: Lines) -> None:
    """`verdicts on` (or `ocppsim --verdicts`) then `start_fleet` without `--verdicts`: the
    fleet's links are checked too (they are not on the prompt's own bus): `fleet` lists the
    findings."""

    async def scenario() -> None:
        shell, port = await _shell_with_cs()
        try:
            await shell.execute("fault invalid-answer --cs --action BootNotification")
            await shell.execute("verdicts on")
            mark = lines.mark()
            await shell.execute(
                f"start_fleet ws://127.0.0.1:{port}/ocpp 2 -p ocpp1.6 --ramp 0"
                " --sessions-per-hour 0 --backoff 60,0,0"
            )
            await lines.wait_for(r"^Fleet: verdicts on: every frame of the Central System", mark)
            fleet = shell.sim.fleet
            while fleet.fleet.stats.action("BootNotification").count < 2:
                await asyncio.sleep(0.02)
            await shell.execute("fleet")
            await lines.wait_for(r"(?m)^verdicts: [1-9]\d* finding\(s\), [1-9]\d* failure", mark)
            await lines.wait_for(r"(?m)^  cp#cp0000[01]: FAIL schema: the answer to Boot", mark)
        finally:
            await shell.sim.shutdown()

    _run(scenario())
