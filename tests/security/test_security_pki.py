"""The test PKI: a CA, a server certificate for localhost/127.0.0.1, client certificates whose CN
is the charge point id, and the bad ones negative tests need, each refused for its own reason."""

from __future__ import annotations

import datetime
import ipaddress
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from ocppsim.security import (
    CertificateProblem,
    Pki,
    expired_client_certificate,
    foreign_client_certificate,
    issue_client_certificate,
    load_certified_key,
    make_ca,
    make_pki,
    mismatched_client_certificate,
    verify_chain,
    verify_charge_point_certificate,
    write_pki,
)
from ocppsim.security.pem import is_self_signed
from ocppsim.security.pki import pki_paths


def _extension(certificate: x509.Certificate, kind: type) -> x509.ExtensionType:
    return certificate.extensions.get_extension_for_class(kind).value


def test_ca_is_a_self_signed_certificate_authority(pki: Pki) -> None:
    ca = pki.ca.certificate
    assert is_self_signed(ca)
    constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca
    usage = _extension(ca, x509.KeyUsage)
    assert usage.key_cert_sign and usage.crl_sign
    assert isinstance(pki.ca.key, ec.EllipticCurvePrivateKey)
    assert pki.ca.key.curve.name == "secp256r1"
    assert ca.not_valid_after_utc - ca.not_valid_before_utc > datetime.timedelta(days=3000)


def test_server_certificate_names_localhost_and_the_loopback_address(pki: Pki) -> None:
    server = pki.server.certificate
    san = _extension(server, x509.SubjectAlternativeName)
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert pki.server.common_name == "localhost"
    assert list(_extension(server, x509.ExtendedKeyUsage)) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert not _extension(server, x509.BasicConstraints).ca
    assert server.issuer == pki.ca.certificate.subject
    chain = verify_chain(server, [pki.ca.certificate], purpose="server", host="localhost")
    assert chain == [server, pki.ca.certificate]
    verify_chain(server, [pki.ca.certificate], purpose="server", host="127.0.0.1")
    with pytest.raises(CertificateProblem) as caught:
        verify_chain(server, [pki.ca.certificate], purpose="server", host="example.org")
    assert caught.value.code == "hostname-mismatch"


def test_client_certificates_carry_the_charge_point_id_as_cn(pki: Pki) -> None:
    assert sorted(pki.clients) == ["cp01", "cp02"]
    for cp_id, client in pki.clients.items():
        assert client.common_name == cp_id
        eku = list(_extension(client.certificate, x509.ExtendedKeyUsage))
        assert eku == [ExtendedKeyUsageOID.CLIENT_AUTH]
        assert client.chain == ()  # issued by the root itself: nothing to send along
        verify_charge_point_certificate(client.certificate, cp_id, [pki.ca.certificate])
    serials = {c.certificate.serial_number for c in pki.clients.values()}
    assert len(serials) == 2


def test_each_bad_client_certificate_is_refused_for_its_own_reason(pki: Pki) -> None:
    trusted = [pki.ca.certificate]
    cases = {
        "expired": expired_client_certificate(pki.ca, "cp01"),
        "untrusted": foreign_client_certificate("cp01"),
        "cn-mismatch": mismatched_client_certificate(pki.ca, "cp01"),
    }
    for code, bad in cases.items():
        with pytest.raises(CertificateProblem) as caught:
            verify_charge_point_certificate(bad.certificate, "cp01", trusted)
        assert caught.value.code == code, (code, str(caught.value))
    assert cases["cn-mismatch"].common_name == "not-cp01"
    assert "not the charge point id 'cp01'" in str(
        pytest.raises(
            CertificateProblem,
            verify_charge_point_certificate,
            cases["cn-mismatch"].certificate,
            "cp01",
            trusted,
        ).value
    )
    # the good one for another id is a CN mismatch too
    with pytest.raises(CertificateProblem) as caught:
        verify_charge_point_certificate(pki.clients["cp02"].certificate, "cp01", trusted)
    assert caught.value.code == "cn-mismatch"


def test_a_certificate_not_yet_valid_is_refused(pki: Pki) -> None:
    start = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=2)
    early = issue_client_certificate(
        pki.ca, "cp01", not_before=start, not_after=start + datetime.timedelta(days=30)
    )
    with pytest.raises(CertificateProblem) as caught:
        verify_charge_point_certificate(early.certificate, "cp01", [pki.ca.certificate])
    assert caught.value.code == "not-yet-valid"


def test_rsa_keys_on_request() -> None:
    rsa_pki = make_pki(["cp01"], key_type="rsa")
    for certified in (rsa_pki.ca, rsa_pki.server, rsa_pki.clients["cp01"]):
        assert isinstance(certified.key, rsa.RSAPrivateKey)
        assert certified.key.key_size == 2048
    usage = _extension(rsa_pki.server.certificate, x509.KeyUsage)
    assert usage.digital_signature and usage.key_encipherment
    verify_charge_point_certificate(
        rsa_pki.clients["cp01"].certificate, "cp01", [rsa_pki.ca.certificate]
    )


def test_an_intermediate_ca_travels_in_the_chain(pki: Pki) -> None:
    from ocppsim.security.pem import CertifiedKey
    from ocppsim.security.pki import generate_key, issue_certificate, subject_name

    key = generate_key()
    sub = CertifiedKey(
        issue_certificate(pki.ca, subject_name("ocppsim sub CA"), key.public_key(), usage="ca"),
        key,
    )
    leaf = issue_client_certificate(sub, "cp01")
    assert leaf.chain == (sub.certificate,)
    assert leaf.certificate_pem().count("BEGIN CERTIFICATE") == 2
    chain = verify_chain(
        leaf.certificate, [pki.ca.certificate], intermediates=leaf.chain, purpose="client"
    )
    assert chain == [leaf.certificate, sub.certificate, pki.ca.certificate]
    with pytest.raises(CertificateProblem) as caught:  # without the intermediate: no path
        verify_chain(leaf.certificate, [pki.ca.certificate], purpose="client")
    assert caught.value.code == "untrusted"


def test_write_pki_writes_every_file_with_private_keys(tmp_path, pki: Pki) -> None:
    folder = tmp_path / "certs"
    written = write_pki(pki, folder)
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "ca.pem",
            "ca.key",
            "server.pem",
            "server.key",
            "cp01.pem",
            "cp01.key",
            "cp02.pem",
            "cp02.key",
        ]
    )
    assert written == pki_paths(folder, ["cp01", "cp02"])
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o600 if path.suffix == ".key" else 0o644), path
    again = load_certified_key(folder / "cp01.pem", folder / "cp01.key")
    assert again.certificate == pki.clients["cp01"].certificate
    assert again.common_name == "cp01"
    assert not list(folder.glob(".*"))  # no temporary file left


def test_write_pki_refuses_to_overwrite_unless_forced(tmp_path, pki: Pki) -> None:
    folder = tmp_path / "certs"
    write_pki(pki, folder)
    before = (folder / "ca.pem").read_text()
    other = make_pki(["cp01"])
    with pytest.raises(CertificateProblem) as caught:
        write_pki(other, folder)
    assert caught.value.code == "exists"
    assert "ca.pem" in str(caught.value) and "--force" in str(caught.value)
    assert (folder / "ca.pem").read_text() == before
    (folder / "ca.key").chmod(0o644)
    write_pki(other, folder, force=True)
    assert (folder / "ca.pem").read_text() != before
    assert stat.S_IMODE((folder / "ca.key").stat().st_mode) == 0o600


@pytest.mark.parametrize("cp_id", ["ca", "server", "a/b", "../x", ".hidden", "a:b", "x\ny", ""])
def test_write_pki_refuses_ids_that_cannot_name_a_file(tmp_path, cp_id: str) -> None:
    ca = make_ca()
    bad = Pki(ca, ca, {cp_id: issue_client_certificate(ca, cp_id or "x")})
    with pytest.raises(CertificateProblem) as caught:
        write_pki(bad, tmp_path)
    assert caught.value.code == "bad-id"
    assert list(tmp_path.iterdir()) == []


def test_write_pki_into_a_file_says_so(tmp_path, pki: Pki) -> None:
    blocker = tmp_path / "certs"
    blocker.write_text("")
    with pytest.raises(CertificateProblem) as caught:
        write_pki(pki, blocker)
    assert str(caught.value) == f"{blocker}: exists and is not a folder"
