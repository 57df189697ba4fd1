"""The README's tour, run as written: each command it shows is typed into a real `ocppsim`
process, and each line it shows after a command appears, in that order. Timestamps, dates,
abbreviated unique ids (`"Qdv…"`), the port and `…` stand for whatever comes."""

from __future__ import annotations

import re
from pathlib import Path

from harness import TIMESTAMP_RE, SimProcess, free_port
from ocppsim_testing import needs_version

README = Path(__file__).resolve().parents[2] / "README.md"

#: what may differ from one run to the next, and the regex that stands for it
_VARIABLE = re.compile(
    r"(?P<stamp>\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\])"
    r"|(?P<date>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"
    r'|(?P<uid>"\w{3}…")'
    r"|(?P<more>…)"
)
_STANDS_FOR = {
    "stamp": TIMESTAMP_RE.pattern.rstrip(" "),
    "date": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
    "uid": r'"\w+"',
    "more": ".*",
}


def tour_blocks() -> list[list[str]]:
    """The lines of each plain code block of the README's "A short tour" section."""
    tour = README.read_text(encoding="utf-8").split("## A short tour", 1)[1]
    tour = tour.split("\n### ", 1)[0]
    return [block.splitlines() for block in re.findall(r"^```\n(.*?)^```", tour, re.S | re.M)]


def line_pattern(line: str) -> str:
    """The regex of one line the README shows."""
    pattern, end = "", 0
    for found in _VARIABLE.finditer(line):
        pattern += re.escape(line[end : found.start()]) + _STANDS_FOR[str(found.lastgroup)]
        end = found.end()
    return pattern + re.escape(line[end:]) + "$"


@needs_version("2.1")  # the tour's help shows each version's fields, 2.1's among them
def test_the_readme_tour_is_true() -> None:
    blocks = tour_blocks()
    assert len(blocks) >= 3, "the tour's code blocks were not found"
    port = str(free_port())
    sims: dict[str, SimProcess] = {}
    try:
        for block in blocks:
            lines = [line.replace("9000", port) for line in block]
            target = None
            typed: str | None = None
            for line in lines:
                if line.startswith("$ ocppsim "):
                    words = line.removeprefix("$ ocppsim ").split()
                    name = "cs" if words[0] == "start_cs" else words[2]  # a CP by its id
                    sims[name] = SimProcess(words, name=name)
                    target = sims[name]
                    continue
                target = target or sims["cs"]  # a block with no start goes to the CS
                if line.startswith(">"):
                    assert typed is None, f"the README shows nothing after `{typed}`"
                    typed = line[2:].strip() or None
                    if typed is not None:
                        target.send(typed)
                    continue
                target.expect(line_pattern(line))
                typed = None
            assert typed is None, f"the README shows nothing after `{typed}`"
        assert len(sims) >= 3, "the tour starts a CS and two CPs"
        for sim in sims.values():
            assert sim.errors() == [], sim.name
    finally:
        for name in sorted(sims, key=lambda name: name == "cs"):  # the CS last
            sims[name].close()
