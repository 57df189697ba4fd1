"""Loading PEM files: every way a file can be wrong gets a message that names the file and says
what is wrong (and, where it helps, what to do)."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ocppsim.core.errors import OcppSimError
from ocppsim.security import (
    CertificateProblem,
    CertifiedKey,
    Pki,
    load_certificates,
    load_certified_key,
    load_private_key,
    make_csr,
)


def _problem(call, *args) -> CertificateProblem:  # type: ignore[no-untyped-def]
    with pytest.raises(CertificateProblem) as caught:
        call(*args)
    assert isinstance(caught.value, OcppSimError)
    return caught.value


@pytest.fixture
def files(tmp_path: Path, pki: Pki) -> Path:
    pki.clients["cp01"].write(tmp_path / "cp01.pem", tmp_path / "cp01.key")
    pki.clients["cp02"].write(tmp_path / "cp02.pem", tmp_path / "cp02.key")
    (tmp_path / "ca.pem").write_text(pki.ca.certificate_pem())
    return tmp_path


def test_a_good_pair_loads(files: Path, pki: Pki) -> None:
    loaded = load_certified_key(files / "cp01.pem", files / "cp01.key")
    assert loaded.certificate == pki.clients["cp01"].certificate
    assert load_certificates(files / "ca.pem") == [pki.ca.certificate]


def test_a_missing_file_is_named(files: Path) -> None:
    problem = _problem(load_certificates, files / "nope.pem")
    assert problem.code == "missing"
    assert str(problem) == f"{files / 'nope.pem'}: no such file (expected a PEM certificate)"
    problem = _problem(load_private_key, files)
    assert "is a folder, not a PEM private key" in str(problem)


def test_a_file_that_is_not_pem(files: Path, pki: Pki) -> None:
    text = files / "notes.txt"
    text.write_text("hello\n")
    problem = _problem(load_certificates, text)
    assert problem.code == "not-pem"
    assert "no PEM certificate in it" in str(problem) and str(text) in str(problem)
    der = files / "ca.der"
    der.write_bytes(pki.ca.certificate.public_bytes(serialization.Encoding.DER))
    assert "looks like DER" in str(_problem(load_certificates, der))
    assert "openssl x509 -inform der" in str(_problem(load_certificates, der))


def test_a_key_given_for_a_certificate_and_the_other_way_round(files: Path) -> None:
    assert "(it holds a private key)" in str(_problem(load_certificates, files / "cp01.key"))
    assert "(it holds a certificate)" in str(_problem(load_private_key, files / "cp01.pem"))
    csr = files / "cp01.csr"
    csr.write_text(make_csr("cp01").csr_pem)
    assert "signing request" in str(_problem(load_certificates, csr))


def test_a_broken_certificate_block(files: Path) -> None:
    broken = files / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    problem = _problem(load_certificates, broken)
    assert problem.code == "not-pem" and "cannot be read" in str(problem)


def test_a_key_that_does_not_match_the_certificate(files: Path) -> None:
    problem = _problem(load_certified_key, files / "cp01.pem", files / "cp02.key")
    assert problem.code == "key-mismatch"
    assert str(problem).startswith(f"{files / 'cp02.key'} is not the private key of ")
    assert "CN=cp01" in str(problem)


def test_a_certified_key_cannot_be_built_from_a_wrong_pair(pki: Pki) -> None:
    with pytest.raises(CertificateProblem) as caught:
        CertifiedKey(pki.clients["cp01"].certificate, pki.clients["cp02"].key)
    assert caught.value.code == "key-mismatch"


def test_an_encrypted_key_says_how_to_decrypt_it(files: Path, pki: Pki) -> None:
    encrypted = files / "enc.key"
    encrypted.write_bytes(
        pki.clients["cp01"].key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    problem = _problem(load_private_key, encrypted)
    assert problem.code == "encrypted" and "openssl pkey" in str(problem)


def test_a_key_type_tls_cannot_use_for_ocpp(files: Path) -> None:
    other = files / "ed.key"
    other.write_bytes(
        ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    problem = _problem(load_private_key, other)
    assert problem.code == "unsupported" and "EC or RSA" in str(problem)
