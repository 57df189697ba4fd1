"""The console's formatters: whatever a peer puts in a line shows as one harmless, bounded
line (no forged line, no terminal control, no encoding failure), as text and as JSON."""

from __future__ import annotations

import json
import logging
import re

from ocppsim.repl.console import (
    CONSOLE_FRAME_LIMIT,
    MESSAGE_LIMIT,
    JsonFormatter,
    LineFormatter,
    printable,
)

FORGED_ID = "x\n[2026-01-01 00:00:00] cs: FORGED\x1b[2J"
NASTY = "a\rb\tc\x00d\x7fe\x9bf\u2028g\u202eh\ud800i"


def record(text: str, **fields: object) -> logging.LogRecord:
    made = logging.LogRecord("ocppsim.sim", logging.WARNING, "", 0, text, None, None)
    made.__dict__.update(fields)
    return made


def event(text: str, speaker: str | None = "cs") -> logging.LogRecord:
    return record(text, speaker=speaker, direction=None, peer=None)


def frame(text: str, peer: str = "cp#1") -> logging.LogRecord:
    return record(text, speaker="cs", direction="<<", peer=peer)


def assert_harmless(line: str) -> None:
    """One line, no control character, encodable: safe to write to a terminal or a file."""
    assert not re.search("[\x00-\x1f\x7f-\x9f\u2028\u202e]", line), repr(line[:200])
    line.encode("utf-8")  # no lone surrogate left


def test_a_forged_cp_id_shows_escaped_on_its_own_line() -> None:
    for formatter in (LineFormatter(CONSOLE_FRAME_LIMIT), LineFormatter()):
        line = formatter.format(event(f"ChargePoint #{FORGED_ID} connected."))
        assert_harmless(line)
        assert line.endswith(
            r"cs: ChargePoint #x\n[2026-01-01 00:00:00] cs: FORGED\x1b[2J connected."
        )
        shown = formatter.format(frame("[2,\x00]", peer=f"cp#{FORGED_ID}"))
        assert_harmless(shown)
        assert shown.endswith(r"cs: <<cp#x\n[2026-01-01 00:00:00] cs: FORGED\x1b[2J [2,\x00]")


def test_every_control_is_escaped_as_python_writes_it() -> None:
    assert printable(NASTY) == r"a\rb\tc\x00d\x7fe\x9bf\u2028g\u202eh\ud800i"
    assert printable("plain ✓ é 中") == "plain ✓ é 中"  # printable text stays as it is


def test_a_huge_reason_does_not_make_a_huge_line() -> None:
    reason = "vendorId: '" + "v" * 3_900_000 + "' is longer than 255 characters"
    for formatter in (LineFormatter(CONSOLE_FRAME_LIMIT), LineFormatter()):
        line = formatter.format(event(f"WARNING : TypeConstraintViolation ({reason})"))
        assert len(line) < MESSAGE_LIMIT + 100
        assert re.search(r"vvvvvvvvvv… \(\d+ more characters\)$", line)


def test_frames_are_bounded_on_the_console_and_whole_in_the_log_file() -> None:
    big = '[2,"a","DataTransfer",{"vendorId":"' + "\x1b" * 20_000 + '"}]'
    console = LineFormatter(CONSOLE_FRAME_LIMIT).format(frame(big))
    assert_harmless(console)
    assert len(console) < 5 * CONSOLE_FRAME_LIMIT and "more characters)" in console
    whole = LineFormatter().format(frame(big))
    assert_harmless(whole)
    assert whole.count(r"\x1b") == 20_000 and "more characters" not in whole


def test_the_prompts_own_blocks_keep_their_line_breaks_only() -> None:
    text = "help:\n - start_cs\x1b[2J"
    line = LineFormatter().format(record(text, plain=True, block=True))
    assert line == "help:\n - start_cs\\x1b[2J"
    assert LineFormatter().format(record(text, plain=True)) == "help:\\n - start_cs\\x1b[2J"


def test_json_lines_are_one_harmless_line_and_keep_the_text() -> None:
    formatter = JsonFormatter(CONSOLE_FRAME_LIMIT)
    line = formatter.format(event(f"ChargePoint #{FORGED_ID} {NASTY}"))
    assert_harmless(line)
    assert json.loads(line)["message"] == f"ChargePoint #{FORGED_ID} {NASTY}"
    shown = formatter.format(frame("[2]", peer=f"cp#{FORGED_ID}"))
    assert_harmless(shown)
    assert json.loads(shown)["peer"] == f"cp#{FORGED_ID}"


def test_json_lines_are_bounded_except_frames_in_the_log_file() -> None:
    huge = "\x9b" * 3_900_000
    line = JsonFormatter(CONSOLE_FRAME_LIMIT).format(event(huge))
    assert len(line) < 7 * MESSAGE_LIMIT
    assert json.loads(line)["message"].endswith("more characters)")
    assert len(JsonFormatter().format(event(huge))) < 7 * MESSAGE_LIMIT
    console = JsonFormatter(CONSOLE_FRAME_LIMIT).format(frame(huge))
    assert json.loads(console)["frame"].endswith("more characters)")
    whole = JsonFormatter().format(frame(huge))
    assert_harmless(whole)
    assert json.loads(whole)["frame"] == huge


def test_the_log_file_keeps_frames_whole_and_escapes_controls(tmp_path, capsys) -> None:
    from ocppsim.repl import console
    from ocppsim.sim import log

    root = logging.getLogger("ocppsim")
    saved = (list(root.handlers), root.level, root.propagate)
    big = '[2,"a","DataTransfer",{"vendorId":"' + "\x1b" * 10_000 + '"}]'
    try:
        for fmt in ("text", "json"):
            path = tmp_path / f"log.{fmt}"
            handlers = console.install(fmt, str(path))
            log.frame("cs", log.RECEIVED, f"cp#{FORGED_ID}", big)
            log.warning(f"WARNING : {NASTY} " + "w" * 20_000, "cs")
            for handler in handlers:
                handler.close()
            written = path.read_text(encoding="utf-8").splitlines()
            assert len(written) == 2
            for line in written:
                assert_harmless(line)
            frame_line, warning_line = written
            if fmt == "json":
                assert json.loads(frame_line)["frame"] == big
                assert json.loads(frame_line)["peer"] == f"cp#{FORGED_ID}"
            else:
                assert frame_line.endswith(big.replace("\x1b", r"\x1b"))
            assert len(warning_line) < MESSAGE_LIMIT + 200
            shown = capsys.readouterr().out.splitlines()  # the console: bounded frames
            assert len(shown) == 2 and all(len(line) < 7 * CONSOLE_FRAME_LIMIT for line in shown)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        root.propagate = saved[2]
