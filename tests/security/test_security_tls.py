"""The `ssl` contexts on real sockets (127.0.0.1, port 0): a profile-3 handshake succeeds, and each
way a peer can be wrong fails distinguishably at the end that must refuse it."""

from __future__ import annotations

import ssl
import warnings

import pytest
from tls_handshake import handshake

from ocppsim.security import (
    CertificateProblem,
    Pki,
    client_context,
    expired_client_certificate,
    foreign_client_certificate,
    make_ca,
    mismatched_client_certificate,
    peer_certificate,
    server_context,
    tls_failure,
)
from ocppsim.security.tls import check_peer_identity


@pytest.fixture(scope="module")
def profile3(pki: Pki) -> ssl.SSLContext:
    """A central system requiring client certificates from the test CA."""
    return server_context(pki.server, client_ca=[pki.ca.certificate])


def test_mutual_tls_handshake_succeeds_and_the_server_sees_the_charge_point_id(
    pki: Pki, profile3: ssl.SSLContext
) -> None:
    seen: dict[str, object] = {}

    def on_server(tls: ssl.SSLSocket, result: object) -> None:
        seen["version"] = tls.version()
        seen["cn"] = check_peer_identity(tls, "cp01").subject.rfc4514_string()

    result = handshake(
        profile3,
        client_context([pki.ca.certificate], identity=pki.clients["cp01"]),
        on_server=on_server,
    )
    assert result.ok, result
    assert seen == {"version": "TLSv1.3", "cn": "CN=cp01"}


def test_server_only_tls_and_the_ip_address_name(pki: Pki) -> None:
    seen: dict[str, object] = {}

    def on_server(tls: ssl.SSLSocket, result: object) -> None:
        seen["peer"] = peer_certificate(tls)

    result = handshake(
        server_context(pki.server),
        client_context([pki.ca.certificate]),
        server_hostname="127.0.0.1",
        on_server=on_server,
    )
    assert result.ok, result
    assert seen == {"peer": None}  # profile 2: no client certificate asked for


def _refused(result, server_code: str, client_code: str) -> None:  # type: ignore[no-untyped-def]
    assert not result.ok
    assert result.server_error is not None and result.client_failure is not None, result
    assert tls_failure(result.server_error).code == server_code, result.server_error
    assert tls_failure(result.client_failure).code == client_code, result.client_failure


def test_an_expired_client_certificate_is_refused_as_expired(
    pki: Pki, profile3: ssl.SSLContext
) -> None:
    bad = expired_client_certificate(pki.ca, "cp01")
    result = handshake(profile3, client_context([pki.ca.certificate], identity=bad))
    _refused(result, "expired", "expired")
    assert "certificate has expired" in tls_failure(result.server_error).message


def test_a_client_certificate_from_another_ca_is_refused_as_untrusted(
    pki: Pki, profile3: ssl.SSLContext
) -> None:
    bad = foreign_client_certificate("cp01")
    result = handshake(profile3, client_context([pki.ca.certificate], identity=bad))
    _refused(result, "untrusted", "untrusted")
    assert "unable to get local issuer certificate" in tls_failure(result.server_error).message


def test_no_client_certificate_at_a_profile_3_server(pki: Pki, profile3: ssl.SSLContext) -> None:
    result = handshake(profile3, client_context([pki.ca.certificate]))
    _refused(result, "no-certificate", "no-certificate")


def test_a_client_certificate_with_another_cn_passes_tls_but_not_the_id_check(
    pki: Pki, profile3: ssl.SSLContext
) -> None:
    seen: dict[str, str] = {}

    def on_server(tls: ssl.SSLSocket, result: object) -> None:
        try:
            check_peer_identity(tls, "cp01")
        except CertificateProblem as exc:
            seen["code"], seen["message"] = exc.code, str(exc)

    bad = mismatched_client_certificate(pki.ca, "cp01")
    result = handshake(
        profile3, client_context([pki.ca.certificate], identity=bad), on_server=on_server
    )
    assert result.server_error is None and result.client_failure is None
    assert seen == {
        "code": "cn-mismatch",
        "message": "the client certificate has CN 'not-cp01', not the charge point id 'cp01'",
    }


def test_the_charge_point_refuses_a_server_name_mismatch(
    pki: Pki, profile3: ssl.SSLContext
) -> None:
    result = handshake(
        profile3,
        client_context([pki.ca.certificate], identity=pki.clients["cp01"]),
        server_hostname="example.org",
    )
    assert result.client_error is not None
    failure = tls_failure(result.client_error)
    assert failure.code == "hostname-mismatch" and "example.org" in failure.message


def test_the_charge_point_refuses_a_server_it_has_no_ca_for(pki: Pki) -> None:
    for trusted in (None, [make_ca("someone else").certificate]):  # system CAs, a wrong CA
        result = handshake(server_context(pki.server), client_context(trusted))
        assert result.client_error is not None, trusted
        assert tls_failure(result.client_error).code == "untrusted"
        assert tls_failure(result.server_error).code == "untrusted"  # the client's alert


def _tls11_client() -> ssl.SSLContext:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def test_tls_1_1_is_refused(pki: Pki) -> None:
    # control: this machine's OpenSSL can speak TLS 1.1 with a server that allows it
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        lenient = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        lenient.minimum_version = ssl.TLSVersion.TLSv1
        lenient.set_ciphers("DEFAULT:@SECLEVEL=0")
    from ocppsim.security.tls import load_identity

    load_identity(lenient, pki.server)
    if not handshake(lenient, _tls11_client()).ok:
        pytest.skip("this machine's OpenSSL cannot speak TLS 1.1 at all")
    result = handshake(server_context(pki.server), _tls11_client())
    _refused(result, "protocol-version", "protocol-version")


def test_plain_http_to_the_tls_port_is_refused(pki: Pki) -> None:
    result = handshake(
        server_context(pki.server),
        client_context([pki.ca.certificate]),
        plain_bytes=b"GET /ocpp/cp01 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n",
    )
    assert result.server_error is not None
    assert tls_failure(result.server_error).code == "not-tls"


def test_contexts_require_tls_1_2_or_newer(pki: Pki) -> None:
    assert server_context(pki.server).minimum_version == ssl.TLSVersion.TLSv1_2
    client = client_context([pki.ca.certificate])
    assert client.minimum_version == ssl.TLSVersion.TLSv1_2
    assert client.check_hostname and client.verify_mode == ssl.CERT_REQUIRED
    profile3 = server_context(pki.server, client_ca=[pki.ca.certificate])
    assert profile3.verify_mode == ssl.CERT_REQUIRED
    optional = server_context(
        pki.server, client_ca=[pki.ca.certificate], require_client_certificate=False
    )
    assert optional.verify_mode == ssl.CERT_OPTIONAL


def test_a_client_ca_list_cannot_be_empty(pki: Pki) -> None:
    with pytest.raises(CertificateProblem) as caught:
        server_context(pki.server, client_ca=[])
    assert caught.value.code == "missing"


def test_an_identity_read_from_files_or_made_in_memory_is_presented(
    pki: Pki, profile3: ssl.SSLContext, tmp_path
) -> None:
    from ocppsim.security import load_certified_key

    pki.clients["cp02"].write(tmp_path / "cp02.pem", tmp_path / "cp02.key")
    from_files = load_certified_key(tmp_path / "cp02.pem", tmp_path / "cp02.key")
    assert from_files.files == (tmp_path / "cp02.pem", tmp_path / "cp02.key")
    seen: list[str | None] = []

    def on_server(tls: ssl.SSLSocket, result: object) -> None:
        seen.append(check_peer_identity(tls, "cp02").subject.rfc4514_string())

    client = client_context([pki.ca.certificate], identity=from_files)
    # the files may go away once the context is built; the context keeps what it loaded
    (tmp_path / "cp02.key").unlink()
    assert handshake(profile3, client, on_server=on_server).ok
    # gone before the context is built: what was read is presented
    client = client_context([pki.ca.certificate], identity=from_files)
    assert handshake(profile3, client, on_server=on_server).ok
    assert seen == ["CN=cp02", "CN=cp02"]
