"""The prompt's `fault` command: where a fault goes, its lines, `fault list`, `fault clear`,
`help fault` and completion."""

from __future__ import annotations

import asyncio
from typing import Any

from ocppsim_testing import Lines
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ocppsim.repl.shell import Shell
from ocppsim.repl.terminal import OcppCompleter
from ocppsim.sim.faults import KINDS


def run(coro: Any, timeout: float = 60) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


def complete(shell: Shell, text: str) -> list[str]:
    completer = OcppCompleter(shell)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_faults_at_the_prompt_act_announce_themselves_and_clear(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            await shell.execute("start_cs 0")
            port = shell.sim.central_system.port
            # stateless: only the CALLs the test types go (a model would boot and report)
            await shell.execute(f"start_cp ws://127.0.0.1:{port} cp01 -p ocpp1.6 --stateless")
            await lines.wait_for(r"cs: ChargePoint #cp01 connected")
            start = lines.mark()
            await shell.execute("fault drop")  # a CS and a CP here: which side?
            assert lines.matching(r"^Error: say which side injects it: --id <id>", start)
            await shell.execute("fault callerror --remote-id cp01 --code NotSupported --once")
            await lines.wait_for(r"cs: fault set: CALLERROR NotSupported answers to cp#cp01, once")
            await shell.execute("heartbeat")
            await lines.wait_for(
                r"cs: fault: CALLERROR answers to cp#cp01: answer #\w+ to Heartbeat is CALLERROR"
                r" NotSupported \(0 left\)"
            )
            await lines.wait_for(r'cp#cp01: <<cs \[4,"\w+","NotSupported","injected by ocppsim"')
            await lines.wait_for(r"cs: fault over: CALLERROR NotSupported answers to cp#cp01")
            await shell.execute("heartbeat")
            await lines.wait_for(r'cp#cp01: <<cs \[3,"\w+",\{"currentTime"')
            mark = lines.mark()
            await shell.execute("fault delay --id cp01 --seconds 30 --action Reset")
            await shell.execute("fault clock-skew --cs --seconds -5")
            await shell.execute("fault list")
            listing = "\n".join(lines.lines[mark:])
            assert "#2 cs: clock skew -5 s to every charge point" in listing
            assert "#1 cp#cp01: delay answers by 30 s (Reset)" in listing
            mark = lines.mark()
            await shell.execute("fault clear delay")
            await lines.wait_for(r"cp#cp01: fault cleared: delay answers by 30 s \(Reset\)", mark)
            await shell.execute("fault clear")
            await lines.wait_for(r"cs: fault cleared: clock skew -5 s", mark)
            await shell.execute("fault clear")
            await shell.execute("fault list")
            assert lines.matching(r"^No fault to clear\.$", mark)
            assert lines.matching(r"^No fault is set\.$", mark)
        finally:
            await shell.sim.shutdown()

    run(scenario())


def test_a_reset_at_the_prompt_is_1006_at_the_other_end(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            await shell.execute("start_cs 0")
            port = shell.sim.central_system.port
            await shell.execute(f"start_cp ws://127.0.0.1:{port} cp01 -p ocpp2.0.1")
            await lines.wait_for(r"cs: ChargePoint #cp01 connected")
            await shell.execute("fault reset --id cp01")
            await lines.wait_for(r"cp#cp01: fault: TCP reset: TCP connection reset")
            await lines.wait_for(r"cp#cp01: Disconnected \(1006 abnormal closure\)")
        finally:
            await shell.sim.shutdown()

    run(scenario())


def test_bad_fault_lines_get_an_error_line(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            for line in (
                "fault drop",
                "fault",
                "fault lag",
                "fault delay --cs",
                "start_cs 0",
                "fault delay",
                "fault delay --seconds soon",
                "fault drop --seconds 3",
                "fault drop --for 0",
                "fault drop --once --for 2",
                "fault drop --cs --remote-id cp01",
                "fault reset --remote-id cp09",
                "fault send-before-boot",
                "fault clear lag",
            ):
                await shell.execute(line)
        finally:
            await shell.sim.shutdown()

    start = lines.mark()
    run(scenario())
    errors = [line for line in lines.lines[start:] if line.startswith("Error")]
    assert errors == [
        "Error: no charge point is running: start one with start_cp <url> <id>.",
        "Error: missing argument <kind|list|clear> (kinds: " + ", ".join(KINDS) + ").",
        "Error: unknown fault `lag' (kinds: " + ", ".join(KINDS) + ").",
        "Error: no Central System is running: start one with start_cs.",
        "Error: fault delay needs --seconds <s>.",
        "Error: --seconds takes a number of seconds, 0 or more, not 'soon'.",
        "Error: `--seconds' is no option of fault drop (drop takes --action, --for,"
        " --fraction, --once).",
        "Error: --for takes a whole number, 1 or more, not `0'.",
        "Error: --for and --once both say how often: give one.",
        "Error: --remote-id and --cs both say where: give one.",
        "Error: charge point #cp09 is not connected.",
        "Error: fault send-before-boot is a Charge Point's: set it on a Charge Point (--id).",
        "Error: unknown fault `lag' (kinds: " + ", ".join(KINDS) + ").",
    ]


def test_help_fault_lists_every_kind_with_its_options(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        await shell.execute("help fault")
        await shell.sim.shutdown()

    start = lines.mark()
    run(scenario())
    text = "\n".join(lines.lines[start:])
    assert text.startswith("fault <kind|list|clear> [--id <id>] [--remote-id <id>] [--cs]")
    for kind in KINDS.values():
        assert f"\n  {kind.name}" in text and kind.title in text
    assert "\n  delay --seconds <s>\n" in text  # required: no brackets
    assert "      --code <code>  the error code (default: InternalError)" in text
    assert "reconnect storm (OCPP-J only; no --for/--once)" in text
    assert all(len(line) <= 100 for line in text.splitlines()[1:])


def test_fault_completes_kinds_then_the_options_of_the_kind() -> None:
    shell = Shell()
    assert set(complete(shell, "fa")) == {"fault", "faulted"}  # faulted: a connector's state
    assert complete(shell, "fault d") == ["delay", "drop", "duplicate"]
    assert complete(shell, "fault c") == ["callerror", "close", "clock-skew", "clear"]
    assert complete(shell, "fault clear re") == ["reset", "reconnect-storm"]
    assert complete(shell, "fault delay --s") == ["--seconds"]
    assert complete(shell, "fault delay --seconds 2 --") == [
        "--id",
        "--remote-id",
        "--cs",
        "--all",
        "--fraction",
        "--for",
        "--once",
        "--action",
    ]
    assert complete(shell, "fault reset --") == [
        "--id",
        "--remote-id",
        "--cs",
        "--all",
        "--fraction",
    ]


def test_a_fraction_of_the_charge_points_of_a_process_gets_the_fault(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            await shell.execute("start_cs 0")
            port = shell.sim.central_system.port
            for index in range(1, 5):
                await shell.execute(f"start_cp ws://127.0.0.1:{port} cp{index} -p ocpp1.6")
            mark = lines.mark()
            await shell.execute("fault delay --fraction 0.5 --seconds 1")
            await shell.execute("fault delay --all --fraction 2 --seconds 1")
            await shell.execute("fault delay --all --fraction 0.5 --seconds 1")
            set_lines = lines.matching(r"cp#cp\d: fault set: delay answers by 1 s$", mark)
            assert len(set_lines) == 2
            assert lines.matching(
                r"^Error: --fraction picks among every Charge Point: add --all\.", mark
            )
            assert lines.matching(
                r"^Error: --fraction takes a number above 0, at most 1, not `2'\.", mark
            )
        finally:
            await shell.sim.shutdown()

    run(scenario())


def test_a_reconnect_storm_of_every_charge_point_at_once(lines: Lines) -> None:
    async def scenario() -> None:
        shell = Shell()
        shell.sequential = True
        try:
            await shell.execute("start_cs 0")
            port = shell.sim.central_system.port
            for cp_id in ("cp1", "cp2"):
                await shell.execute(f"start_cp ws://127.0.0.1:{port} {cp_id} -p ocpp1.6")
            await lines.wait_for(r"cs: ChargePoint #cp2 connected")
            await lines.wait_for(r"cs: ChargePoint #cp1 connected")
            mark = lines.mark()
            await shell.execute("fault reconnect-storm --all --count 2 --interval 0.05")
            for cp_id in ("cp1", "cp2"):
                await lines.wait_for(rf"{cp_id}: fault over: reconnect storm \(2 drops", mark)
            for cp_id in ("cp1", "cp2"):  # connected again after each of the 2 drops
                connected = rf"cs: ChargePoint #{cp_id} connected"
                while len(lines.matching(connected, mark)) < 2:
                    await lines.wait_for(connected, lines.mark())
            for cp_id in ("cp1", "cp2"):
                drops = lines.matching(rf"cp#{cp_id}: fault: reconnect storm: dropping", mark)
                assert len(drops) == 2
                assert len(lines.matching(rf"cs: ChargePoint #{cp_id} connected", mark)) == 2
        finally:
            await shell.sim.shutdown()

    run(scenario())
