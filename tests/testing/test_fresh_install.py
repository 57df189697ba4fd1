"""Done when: in a fresh venv where only ocppsim (and pytest to run it) was pip-installed from
this tree, a user's test file passes with the fixtures, and a failing test shows the frames.

It builds and installs the package for real (`python -m venv`, `pip install <tree> pytest`;
pip may take the wheels from its cache): about 25 s, once per session. `-m "not install"`
leaves it out of a quick run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

TREE = Path(__file__).resolve().parents[2]

#: the issue's test as a user wrote it, and one that fails on purpose
DONE_WHEN = (
    'def test_boot(ocppsim_cs, ocppsim_cp): assert ocppsim_cp(ocppsim_cs.url, "cp01",'
    ' version="1.5").call("BootNotification", {"chargePointVendor": "V",'
    ' "chargePointModel": "M"})["status"] == "Accepted"\n'
)
USER_TESTS = (
    DONE_WHEN
    + """


def test_fails(ocppsim_cs, ocppsim_cp):
    cp = ocppsim_cp(ocppsim_cs.url, "cp02", version="ocpp1.6")
    cp.call("Heartbeat")
    assert ocppsim_cs.call("cp02", "ClearCache")["status"] == "Rejected"
"""
)


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with ocppsim installed from this tree (not editable) and pytest."""
    if not (TREE / "pyproject.toml").is_file():
        pytest.skip("the source tree is not here (installed copy)")
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(TREE)]
        + ["pytest"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return python


def test_a_users_test_file_passes_and_a_failing_test_shows_its_frames(
    fresh_venv: Path, tmp_path: Path
) -> None:
    (tmp_path / "test_user.py").write_text(textwrap.dedent(USER_TESTS))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run(
        [str(fresh_venv), "-m", "pytest", "-p", "no:cacheprovider", "test_user.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output  # one test fails, on purpose
    assert re.search(r"^plugins: .*\bocppsim-", output, re.M), output  # by its entry point
    assert "1 failed, 1 passed" in output
    assert "- Captured OCPP frames call -" in output
    assert '>>cs [2,"' in output and '"Heartbeat",{}]' in output
    assert '>>cp#cp02 [2,"' in output and '"ClearCache",{}]' in output
    # it is the installed copy that ran, not this tree
    where = subprocess.run(
        [str(fresh_venv), "-c", "import ocppsim; print(ocppsim.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env=env,
    )
    assert str(TREE / "ocppsim") not in where.stdout
