"""`ocppsim certs DIR`, run as a real subprocess of the installed command: the files it writes,
their modes, what it prints, refusing to overwrite, bad arguments; `openssl verify` on the
result when the machine has openssl."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ocppsim.security import load_certificates, load_certified_key, verify_charge_point_certificate


def _ocppsim() -> list[str]:
    beside = Path(sys.executable).with_name("ocppsim")
    if os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("ocppsim")
    return [found] if found else [sys.executable, "-m", "ocppsim"]


def certs(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_ocppsim(), "certs", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_certs_writes_a_ca_a_server_and_one_pair_per_charge_point(tmp_path: Path) -> None:
    run = certs("out", "--cp", "cp01", "--cp", "cp02", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    folder = tmp_path / "out"
    expected = ["ca", "server", "cp01", "cp02"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        f"{stem}.{ext}" for stem in expected for ext in ("pem", "key")
    )
    for stem in expected:
        assert stat.S_IMODE((folder / f"{stem}.key").stat().st_mode) == 0o600
        assert f"wrote {Path('out') / (stem + '.pem')}" in run.stdout
        assert f"wrote {Path('out') / (stem + '.key')}" in run.stdout
    ca = load_certificates(folder / "ca.pem")
    for cp_id in ("cp01", "cp02"):
        client = load_certified_key(folder / f"{cp_id}.pem", folder / f"{cp_id}.key")
        verify_charge_point_certificate(client.certificate, cp_id, ca)
    server = load_certified_key(folder / "server.pem", folder / "server.key")
    assert server.common_name == "localhost"
    # the next commands, with the written paths
    assert (
        "ocppsim start_cs 9443 -u /ocpp --tls-cert out/server.pem --tls-key out/server.key "
        "--client-ca out/ca.pem" in run.stdout
    )
    assert (
        "ocppsim start_cp wss://localhost:9443/ocpp cp01 --ca out/ca.pem --cert out/cp01.pem "
        "--key out/cp01.key" in run.stdout
    )


def test_count_and_id_format_name_the_charge_points(tmp_path: Path) -> None:
    run = certs(
        "out", "--count", "3", "--id-format", "CP-{n:03d}", "--key-type", "rsa", cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert sorted(p.stem for p in (tmp_path / "out").glob("CP-*.pem")) == [
        "CP-001",
        "CP-002",
        "CP-003",
    ]
    # without --cp or --count: one charge point, cp01
    run = certs("one", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in (tmp_path / "one").glob("cp*")) == ["cp01.key", "cp01.pem"]


def test_certs_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    assert certs("out", cwd=tmp_path).returncode == 0
    before = (tmp_path / "out" / "ca.pem").read_bytes()
    run = certs("out", cwd=tmp_path)
    assert run.returncode == 1
    assert run.stdout == ""
    assert "not overwriting" in run.stderr and "--force" in run.stderr
    assert "Traceback" not in run.stderr
    assert (tmp_path / "out" / "ca.pem").read_bytes() == before
    run = certs("out", "--force", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "out" / "ca.pem").read_bytes() != before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--count", "2", "--id-format", "cp{x}"],
            "--id-format 'cp{x}' cannot name charge point 1",
        ),
        (["--cp", "a/b"], "cannot name a file"),
        (["--cp", "ca"], "would overwrite the ca.pem/ca.key files"),
        (["--count", "-1"], "--count must be 0 or more"),
        (["--count", "0"], "no charge point"),
        (["--key-type", "dsa"], "invalid choice: 'dsa'"),
    ],
)
def test_bad_arguments_get_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    run = certs("out", *args, cwd=tmp_path)
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command on this machine")
def test_openssl_verifies_the_written_files(tmp_path: Path) -> None:
    assert certs("out", "--cp", "cp01", cwd=tmp_path).returncode == 0
    folder = tmp_path / "out"

    def openssl(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["openssl", *args], cwd=folder, capture_output=True, text=True)

    verify = openssl(
        "verify", "-CAfile", "ca.pem", "-x509_strict", "-purpose", "sslserver", "server.pem"
    )
    assert verify.returncode == 0 and verify.stdout.strip() == "server.pem: OK", verify
    verify = openssl(
        "verify", "-CAfile", "ca.pem", "-x509_strict", "-purpose", "sslclient", "cp01.pem"
    )
    assert verify.returncode == 0 and verify.stdout.strip() == "cp01.pem: OK", verify
    # the purposes are not interchangeable
    assert (
        openssl("verify", "-CAfile", "ca.pem", "-purpose", "sslserver", "cp01.pem").returncode != 0
    )
    host = openssl("verify", "-CAfile", "ca.pem", "-verify_hostname", "localhost", "server.pem")
    assert host.returncode == 0, host
    ip = openssl("verify", "-CAfile", "ca.pem", "-verify_ip", "127.0.0.1", "server.pem")
    assert ip.returncode == 0, ip
    subject = openssl("x509", "-in", "cp01.pem", "-noout", "-subject")
    assert subject.stdout.strip() == "subject=CN = cp01"
    # each key file is the key of its certificate
    for stem in ("ca", "server", "cp01"):
        from_cert = openssl("x509", "-in", f"{stem}.pem", "-noout", "-pubkey").stdout
        from_key = openssl("pkey", "-in", f"{stem}.key", "-pubout").stdout
        assert from_cert == from_key and "PUBLIC KEY" in from_key
