"""Test helpers shared by several test folders (imported as `ocppsim_testing`)."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ocppsim.core import versions
from ocppsim.core.resources import data_dir
from ocppsim.repl.console import LineFormatter


class Lines(logging.Handler):
    """Rendered `ocppsim` log lines; `wait_for(regex)` waits until one matches."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(LineFormatter())
        self.lines: list[str] = []
        self.levels: list[int] = []
        self._changed: asyncio.Event | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        self.levels.append(record.levelno)
        if self._changed is not None:
            self._changed.set()

    def mark(self) -> int:
        return len(self.lines)

    def matching(self, pattern: str, start: int = 0) -> list[str]:
        return [line for line in self.lines[start:] if re.search(pattern, line)]

    def problems(self, start: int = 0) -> list[str]:
        """Lines logged as warnings or errors."""
        return [
            line
            for line, level in zip(self.lines[start:], self.levels[start:], strict=True)
            if level >= logging.WARNING
        ]

    def errors(self, start: int = 0) -> list[str]:
        return [
            line
            for line, level in zip(self.lines[start:], self.levels[start:], strict=True)
            if level >= logging.WARNING or re.search(r"\bError\b|InternalError", line)
        ]

    async def wait_for(self, pattern: str, start: int = 0, timeout: float = 10.0) -> str:
        """The first line from index `start` matching `pattern`, waiting for it."""
        self._changed = self._changed or asyncio.Event()

        async def scan() -> str:
            index = start
            while True:
                while index < len(self.lines):
                    if re.search(pattern, self.lines[index]):
                        return self.lines[index]
                    index += 1
                assert self._changed is not None
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), timeout)
        except asyncio.TimeoutError:
            tail = "\n".join(self.lines[-40:])
            raise AssertionError(f"no line matching {pattern!r}; last lines:\n{tail}") from None


@contextmanager
def captured_lines() -> Iterator[Lines]:
    """Collect the `ocppsim` log lines while the block runs."""
    root = logging.getLogger("ocppsim")
    handler = Lines()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(old)


#: the project's WSDL files of versions that have no registry entry yet (a version's WSDL files
#: may come before its entry, which then names the same files)
UNREGISTERED_WSDL: dict[tuple[str, str], str] = {}


def our_wsdl(version: str, service: str) -> Path:
    """The project's WSDL file of `service` ('cs'/'cp') in `version`, registered or not yet."""
    if version in versions.names():
        return versions.wsdl_path(version, service)
    return data_dir("wsdl") / UNREGISTERED_WSDL[(version, service)]


def wsdl_versions() -> tuple[str, ...]:
    """Every version the project has WSDL files of, oldest first."""
    registered = [entry.name for entry in versions.with_transport("soap")]
    return tuple(dict.fromkeys([*registered, *(v for v, _ in UNREGISTERED_WSDL)]))


def needs_version(name: str) -> pytest.MarkDecorator:
    """Skip a test of OCPP version `name` where this installation cannot speak it, saying what
    it needs (OCPP 2.1: the `ocpp` package 2.1, which needs Python 3.11)."""
    reason = versions.unavailable().get(name)
    return pytest.mark.skipif(reason is not None, reason=str(reason))


def env_without_ocpp_folders(folder: Path, *missing: str) -> dict[str, str]:
    """The environment of a process whose PyPI `ocpp` package lacks the schema folders
    `missing` (`v21`: the package as Python 3.10 gets it, ocpp 2.0.0): a stand-in package
    under `folder`, holding the installed one's other folders, first on PYTHONPATH."""
    import os

    import ocpp

    real = Path(ocpp.__file__).resolve().parent
    fake = folder / "ocpp"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    for child in real.iterdir():
        if child.is_dir() and child.name.startswith("v") and child.name not in missing:
            (fake / child.name).symlink_to(child, target_is_directory=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(folder), env.get("PYTHONPATH")) if p)
    return env


class TestCerts:
    """Certificate files for the security-profile tests (written once per session): a test PKI
    (`ocppsim certs`' files: ca, server, cp01, cp02) and the bad ones the negative cases need.

    Each attribute is a path (str); `<name>` and `<name>_key` for a certificate and its key.
    """

    __test__ = False  # not a test class

    def __init__(self, folder: Path):
        from ocppsim.security import (
            expired_client_certificate,
            foreign_client_certificate,
            issue_server_certificate,
            make_pki,
            mismatched_client_certificate,
            write_pki,
        )
        from ocppsim.security.pem import CertifiedKey
        from ocppsim.security.pki import generate_key, issue_certificate, subject_name

        self.folder = folder
        pki = make_pki(["cp01", "cp02"])
        write_pki(pki, folder)
        self.pki = pki
        self.ca, self.ca_key = str(folder / "ca.pem"), str(folder / "ca.key")
        self.server, self.server_key = str(folder / "server.pem"), str(folder / "server.key")
        self.cp01, self.cp01_key = str(folder / "cp01.pem"), str(folder / "cp01.key")
        self.cp02, self.cp02_key = str(folder / "cp02.pem"), str(folder / "cp02.key")
        key = generate_key()
        self_signed = issue_certificate(
            None,
            subject_name("localhost"),
            key.public_key(),
            usage="server",
            signing_key=key,
            hosts=("localhost", "127.0.0.1"),
        )
        bad = {
            "expired_cp01": expired_client_certificate(pki.ca, "cp01"),
            "foreign_cp01": foreign_client_certificate("cp01"),
            "wrong_cn_cp01": mismatched_client_certificate(pki.ca, "cp01"),
            "other_host_server": issue_server_certificate(pki.ca, ["csms.example"]),
            "self_signed_server": CertifiedKey(self_signed, key),
        }
        for name, certified in bad.items():
            certified.write(folder / f"{name}.pem", folder / f"{name}.key")
            setattr(self, name, str(folder / f"{name}.pem"))
            setattr(self, f"{name}_key", str(folder / f"{name}.key"))

    # for mypy: the attributes set in the loop
    expired_cp01: str
    expired_cp01_key: str
    foreign_cp01: str
    foreign_cp01_key: str
    wrong_cn_cp01: str
    wrong_cn_cp01_key: str
    other_host_server: str
    other_host_server_key: str
    self_signed_server: str
    self_signed_server_key: str


#: bench/node: the Node.js interop peers and the place npm installs ocpp-rpc into
NODE_DIR = Path(__file__).resolve().parents[1] / "bench" / "node"


def ocpp_rpc_node() -> str:
    """The `node` executable, with ocpp-rpc installed next to the scripts in bench/node (by npm,
    once). Skips when `node` or `npm` is missing, when the npm registry cannot be reached (a
    failure instead under `CI=true` or `OCPPSIM_INTEROP=1`), or with `OCPPSIM_INTEROP=0`."""
    import os
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not on PATH: this interop test runs ocpp-rpc, a Node.js library")
    if (NODE_DIR / "node_modules" / "ocpp-rpc").is_dir():
        return node
    if os.environ.get("OCPPSIM_INTEROP") == "0":
        pytest.skip("OCPPSIM_INTEROP=0: not installing ocpp-rpc into bench/node")
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not on PATH: it installs ocpp-rpc into bench/node once")
    done = subprocess.run(
        [npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund", "--no-package-lock"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0 or not (NODE_DIR / "node_modules" / "ocpp-rpc").is_dir():
        why = f"npm install of ocpp-rpc failed:\n{done.stdout}\n{done.stderr}"
        if os.environ.get("OCPPSIM_INTEROP") == "1" or os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why.strip().splitlines()[-1][:200] + " (npm registry unreachable?)")
    return node
