"""docs/security.md's walk-through, run as written: `ocppsim certs`, then a profile-3 Central
System and Charge Point (and one refused), each command typed into a real process and each
line the guide shows after it awaited in order; then the guide's Python example.
Timestamps, dates, abbreviated unique ids, the port and `…` stand for whatever comes."""

from __future__ import annotations

import asyncio
import re
import subprocess
import textwrap
from pathlib import Path

import pytest
from harness import SimProcess, free_port, ocppsim_command
from test_e2e_readme import line_pattern

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "security.md"
SECTION = "## A profile-3 session, step by step"


def guide_section(title: str) -> str:
    if not GUIDE.is_file():
        pytest.skip("docs/security.md is not here (installed copy)")
    text = GUIDE.read_text(encoding="utf-8")
    assert title in text, f"the guide lost its section {title!r}"
    return text.split(title, 1)[1].split("\n## ", 1)[0]


def walkthrough_blocks() -> list[list[str]]:
    section = guide_section(SECTION)
    return [b.splitlines() for b in re.findall(r"^```\n(.*?)^```", section, re.S | re.M)]


def test_the_profile_3_walkthrough_is_true(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # `certs/…` as the guide writes it
    blocks = walkthrough_blocks()
    assert len(blocks) >= 5, "the walk-through's code blocks were not found"
    port = str(free_port())
    sims: dict[str, SimProcess] = {}
    try:
        for block in blocks:
            lines = [line.replace("9443", port) for line in block]
            if lines[0].startswith("$ ocppsim certs "):
                words = lines[0].removeprefix("$ ocppsim ").split()
                done = subprocess.run(
                    [*ocppsim_command(), *words], capture_output=True, text=True, timeout=60
                )
                assert done.returncode == 0, done.stderr
                out = done.stdout.splitlines()
                position = 0
                for line in lines[1:]:
                    pattern = re.compile(line_pattern(line))
                    while not pattern.search(out[position]):
                        position += 1  # IndexError: a line the guide shows is missing
                    position += 1
                continue
            target = None
            for line in lines:
                if line.startswith("$ ocppsim "):
                    words = line.removeprefix("$ ocppsim ").split()
                    name = "cs" if words[0] == "start_cs" else words[2]
                    sims[name] = SimProcess(words, name=name)
                    target = sims[name]
                    continue
                target = target or sims["cs"]  # a block with no start shows the CS
                if line.startswith("> "):
                    target.send(line[2:])
                    continue
                target.expect(line_pattern(line))
        assert set(sims) == {"cs", "cp01", "cp02"}
        assert sims["cp01"].errors() == []
        assert sims["cs"].errors(ignore=("TLS handshake refused: the peer sent no client",)) == []
    finally:
        for name in sorted(sims, key=lambda name: name == "cs"):  # the CS last
            sims[name].close()


def test_the_python_example_is_true(certs, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    example = guide_section("## From Python")
    code = re.search(r"```python\n(.*?)```", example, re.S)
    assert code, "the guide lost its Python example"
    source = code[1].replace("certs/", str(certs.folder) + "/")
    body = textwrap.indent(source.replace("import ocppsim\n", ""), "    ")
    namespace: dict[str, object] = {}
    exec(
        compile(f"import ocppsim\n\nasync def example():\n{body}", "security.md", "exec"), namespace
    )
    asyncio.run(asyncio.wait_for(namespace["example"](), 30))  # type: ignore[operator]
