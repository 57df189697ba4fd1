"""The certificate store that InstallCertificate, GetInstalledCertificateIds and DeleteCertificate
act on: statuses as the specifications list them, hash data that names what was installed,
persistence in a folder."""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

import pytest

from ocppsim.security import (
    CERTIFICATE_TYPES_16,
    CERTIFICATE_TYPES_201,
    CertificateStore,
    CertifiedKey,
    Pki,
    certificate_hash_data,
    make_ca,
)
from ocppsim.security.pki import generate_key, issue_certificate, subject_name


@pytest.fixture
def roots() -> list[CertifiedKey]:
    return [make_ca(f"root {n}") for n in range(3)]


def test_install_list_delete(roots: list[CertifiedKey]) -> None:
    store = CertificateStore()
    assert store.install("CentralSystemRootCertificate", roots[0].certificate_pem()).status == (
        "Accepted"
    )
    assert store.install("ManufacturerRootCertificate", roots[1].certificate_pem()).status == (
        "Accepted"
    )
    assert store.install("CSMSRootCertificate", roots[2].certificate_pem()).status == "Accepted"
    assert len(store) == 3

    ids = store.certificate_ids(["CentralSystemRootCertificate"])
    assert ids == [
        (
            "CentralSystemRootCertificate",
            certificate_hash_data(roots[0].certificate, roots[0].certificate),
        )
    ]
    assert [t for t, _ in store.certificate_ids()] == [
        "CentralSystemRootCertificate",
        "ManufacturerRootCertificate",
        "CSMSRootCertificate",
    ]
    assert (
        store.certificate_ids(["V2GRootCertificate"]) == []
    )  # GetInstalledCertificateIds: NotFound
    assert store.certificates("CSMSRootCertificate") == [roots[2].certificate]

    # the CSMS may ask with any algorithm; it names the same certificate
    by_384 = certificate_hash_data(roots[1].certificate, roots[1].certificate, "SHA384")
    answer = store.delete(by_384)
    assert answer.status == "Accepted"
    assert [t for t, _ in store.certificate_ids()] == [
        "CentralSystemRootCertificate",
        "CSMSRootCertificate",
    ]
    again = store.delete(by_384)
    assert again.status == "NotFound" and "no installed certificate" in again.reason


def test_installing_the_same_certificate_twice_keeps_one(roots: list[CertifiedKey]) -> None:
    store = CertificateStore()
    for _ in range(2):
        assert store.install("CSMSRootCertificate", roots[0].certificate_pem()).status == "Accepted"
    assert len(store) == 1
    # under another type it is another entry (both are deleted by its hash data)
    assert store.install("V2GRootCertificate", roots[0].certificate_pem()).status == "Accepted"
    assert len(store) == 2
    assert store.delete(store.certificate_ids()[0][1]).status == "Accepted"
    assert len(store) == 0


def test_invalid_certificates_are_rejected_with_the_reason(
    pki: Pki, roots: list[CertifiedKey]
) -> None:
    store = CertificateStore()
    cases = {
        "not pem": ("CSMSRootCertificate", "hello", "no PEM certificate"),
        "leaf": (
            "CSMSRootCertificate",
            pki.clients["cp01"].certificate_pem(),
            "must be a CA certificate",
        ),
        "two": (
            "CSMSRootCertificate",
            roots[0].certificate_pem() + roots[1].certificate_pem(),
            "expected one certificate, the PEM text holds 2",
        ),
        "type": ("NoSuchCertificate", roots[0].certificate_pem(), "unknown certificateType"),
    }
    for name, (kind, pem, reason) in cases.items():
        answer = store.install(kind, pem)
        assert answer.status == "Rejected", name
        assert reason in answer.reason, (name, answer.reason)
    assert len(store) == 0


def test_an_expired_ca_is_rejected() -> None:
    key = generate_key()
    end = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    old = issue_certificate(
        None, subject_name("old root"), key.public_key(), usage="ca", signing_key=key,
        not_before=end - datetime.timedelta(days=100), not_after=end,
    )  # fmt: skip
    answer = CertificateStore().install(
        "CentralSystemRootCertificate", CertifiedKey(old, key).certificate_pem()
    )
    assert answer.status == "Rejected" and "expired" in answer.reason


def test_a_sub_ca_is_accepted_once_its_issuer_is_installed(pki: Pki) -> None:
    key = generate_key()
    sub = CertifiedKey(
        issue_certificate(pki.ca, subject_name("sub CA"), key.public_key(), usage="ca"), key
    )
    store = CertificateStore()
    answer = store.install("V2GRootCertificate", sub.certificate_pem())
    assert (
        answer.status == "Rejected"
        and "issuer (CN=ocppsim test CA,O=ocppsim) is not" in answer.reason
    )
    assert store.install("V2GRootCertificate", pki.ca.certificate_pem()).status == "Accepted"
    assert store.install("V2GRootCertificate", sub.certificate_pem()).status == "Accepted"
    # the sub CA is named by its issuer's name and key, not its own
    _, sub_ids = store.certificate_ids()[1]
    assert sub_ids == certificate_hash_data(sub.certificate, pki.ca.certificate)
    assert sub_ids["issuerKeyHash"] == store.certificate_ids()[0][1]["issuerKeyHash"]


def test_a_full_store_rejects(roots: list[CertifiedKey]) -> None:
    store = CertificateStore(max_certificates=2)
    assert store.install("CSMSRootCertificate", roots[0].certificate_pem()).status == "Accepted"
    assert store.install("CSMSRootCertificate", roots[1].certificate_pem()).status == "Accepted"
    answer = store.install("CSMSRootCertificate", roots[2].certificate_pem())
    assert answer.status == "Rejected" and "full" in answer.reason


def test_a_store_kept_in_a_folder_survives_a_restart(
    tmp_path: Path, roots: list[CertifiedKey]
) -> None:
    folder = tmp_path / "store"
    store = CertificateStore(folder)
    for root, kind in zip(roots, CERTIFICATE_TYPES_16 + CERTIFICATE_TYPES_201[:1], strict=True):
        assert store.install(kind, root.certificate_pem()).status == "Accepted"
    assert sorted(p.parent.name for p in folder.glob("*/*.pem")) == sorted(
        [*CERTIFICATE_TYPES_16, CERTIFICATE_TYPES_201[0]]
    )
    reopened = CertificateStore(folder)
    assert sorted(reopened.certificate_ids()) == sorted(store.certificate_ids())
    assert reopened.delete(store.certificate_ids()[0][1]).status == "Accepted"
    assert len(CertificateStore(folder)) == 2


def test_a_damaged_file_in_the_folder_is_skipped_with_a_warning(
    tmp_path: Path, roots: list[CertifiedKey], caplog: pytest.LogCaptureFixture
) -> None:
    store = CertificateStore(tmp_path)
    store.install("CSMSRootCertificate", roots[0].certificate_pem())
    (tmp_path / "CSMSRootCertificate" / "zz.pem").write_text("not a certificate")
    with caplog.at_level(logging.WARNING, logger="ocppsim.security"):
        reopened = CertificateStore(tmp_path)
    assert len(reopened) == 1
    assert "skipping" in caplog.text and "zz.pem" in caplog.text


def test_install_fails_when_the_folder_cannot_be_written(
    tmp_path: Path, roots: list[CertifiedKey]
) -> None:
    blocker = tmp_path / "store"
    store = CertificateStore(blocker)
    blocker.write_text("a file where the folder should be")
    answer = store.install("CSMSRootCertificate", roots[0].certificate_pem())
    assert answer.status == "Failed" and "cannot store it" in answer.reason
    assert len(store) == 0


def test_delete_with_a_malformed_request_is_not_found(roots: list[CertifiedKey]) -> None:
    store = CertificateStore()
    store.install("CSMSRootCertificate", roots[0].certificate_pem())
    assert store.delete({"hashAlgorithm": "MD5"}).status == "NotFound"
    assert store.delete({}).status == "NotFound"
    assert len(store) == 1
