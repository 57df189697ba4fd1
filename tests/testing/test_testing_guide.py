"""docs/testing.md works as written: each of its test files runs in a pytester session (your
Central System played by an ocppsim one), and its library script runs as a script."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocppsim.testing import SimulatorThread

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "testing.md"
README = GUIDE.parents[1] / "README.md"
#: how the guide writes "your Central System"
YOUR_CS = '"ws://localhost:9000/ocpp"'


def block(marker: str, path: Path = GUIDE) -> str:
    """The ```python block that follows the `<!-- testing: marker -->` comment."""
    if not path.is_file():
        pytest.skip(f"{path.name} is not here (installed copy)")
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"<!-- {marker} -->\s*```python\n(.*?)```", text, re.S)
    assert match, f"{path.name} lost its {marker} block"
    return match.group(1)


@pytest.fixture(scope="module")
def your_cs() -> Iterator[str]:
    """A stand-in for the reader's Central System: ocppsim's, which resets cp02 once it boots."""
    with SimulatorThread("your cs") as thread:
        cs = thread.run(thread.central_system(host="127.0.0.1", endpoint="/ocpp"))

        def boot(payload: dict[str, Any], ctx: Any) -> None:
            if ctx.charge_point_id == "cp02":
                ctx.call("Reset", {"type": "Soft"})

        thread.call(lambda: cs.on_call("BootNotification", boot))
        yield cs.url


def run_guide_test(pytester: pytest.Pytester, source: str, url: str) -> pytest.RunResult:
    assert YOUR_CS in source or "ocppsim_cs" in source
    pytester.makepyfile(test_guide=source.replace(YOUR_CS, repr(url)))
    return pytester.runpytest(
        "-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function"
    )


def test_testing_a_central_system_takes_ten_lines(pytester: pytest.Pytester, your_cs: str) -> None:
    source = block("testing: your-cs")
    assert len([line for line in source.splitlines() if line.strip()]) <= 10
    run_guide_test(pytester, source, your_cs).assert_outcomes(passed=1)


@pytest.mark.parametrize("name", ["your-cs-calls", "check", "client", "async", "invalid"])
def test_each_test_file_of_the_guide_passes(
    pytester: pytest.Pytester, your_cs: str, name: str
) -> None:
    source = block(f"testing: {name}")
    tests = len(re.findall(r"^(?:async )?def test_", source, re.M))
    run_guide_test(pytester, source, your_cs).assert_outcomes(passed=tests)


def test_the_library_example_runs_as_a_script() -> None:
    out = subprocess.run(
        [sys.executable, "-c", block("testing: library")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.splitlines() == [
        "Heartbeat from cp01",
        "Connected",
        "FrameReceived",
        "FrameSent",
        "Disconnected",
    ]


def test_the_readme_examples_pass(pytester: pytest.Pytester, your_cs: str) -> None:
    fixture_test = block("readme-pytest", README)
    check = block("readme-check", README).replace('"ws://my-cs:9000/ocpp"', YOUR_CS)
    source = (
        fixture_test
        + "\n\ndef test_check():\n"
        + "".join(f"    {line}\n" for line in check.splitlines())
    )
    run_guide_test(pytester, source, your_cs).assert_outcomes(passed=2)
