"""The certificates of a simulated OCPP 2.x charging station, sans-I/O: what it answers to
InstallCertificate, GetInstalledCertificateIds, DeleteCertificate (OCPP 2.0.1 Part 2 use cases
M03-M05) and CertificateSigned (A02, A03), and the SignCertificate it sends with a CSR of its own.

Nothing here imports `cryptography`: the certificate store (`ocppsim.security.CertificateStore`),
the CSR maker and the check of a signed chain are injected, as the 1.x Charge Point model takes
them (`core/station/charge_point.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocppsim.core.station.common import Outgoing, Payload, Reply

if TYPE_CHECKING:
    from ocppsim.security.store import CertificateStore

logger = logging.getLogger("ocppsim.core.station")

#: the CSMS → station CALLs answered here
CERTIFICATE_CALLS = frozenset(
    {"CertificateSigned", "DeleteCertificate", "GetInstalledCertificateIds", "InstallCertificate"}
)
#: the ones that need a store
_STORE_CALLS = frozenset({"DeleteCertificate", "GetInstalledCertificateIds", "InstallCertificate"})


class StationCertificates:
    """A station's certificate store, its pending CSR and the client certificate it connects
    with next (`client_certificate`, once a CertificateSigned was accepted).

    `make_csr(common_name, organization)` makes a key pair and its CSR: the PEM text, or an
    object with `csr_pem` (ocppsim.security's CertificateRequest, whose key is kept for the
    CertificateSigned that answers it). `accept_certificate(chain, request, identity)` checks a
    CertificateSigned chain against that request, raising to refuse it, and returns what the
    station connects with next; without it, a chain of PEM certificates is accepted when a CSR
    is pending.
    """

    __slots__ = ("store", "client_certificate", "_make_csr", "_accept", "_csr")

    def __init__(
        self,
        *,
        make_csr: Callable[[str, str | None], Any] | None = None,
        accept_certificate: Callable[[str, Any, str], Any] | None = None,
        store: CertificateStore | None = None,
    ):
        self.store = store
        self.client_certificate: Any = None
        self._make_csr = make_csr
        self._accept = accept_certificate
        self._csr: Any = None

    def handles(self, action: str) -> bool:
        """True for a certificate CALL this station answers (the store's need a store)."""
        if action not in CERTIFICATE_CALLS:
            return False
        return action not in _STORE_CALLS or self.store is not None

    @property
    def can_sign(self) -> bool:
        return self._make_csr is not None

    def sign_certificate(self, common_name: str, organization: str | None) -> Outgoing:
        """SignCertificate with the CSR of a new key pair (A02: CN = `common_name`, O = the
        organization), for the ChargingStationCertificate."""
        assert self._make_csr is not None
        request = self._make_csr(common_name, organization)
        self._csr = request
        pem = request if isinstance(request, str) else request.csr_pem
        return Outgoing(
            "SignCertificate", {"csr": pem, "certificateType": "ChargingStationCertificate"}
        )

    def on_call(
        self, action: str, payload: Payload, identity: str, refused: Callable[[str], list[Outgoing]]
    ) -> Reply:
        """The answer to a certificate CALL; `refused(why)` gives the security event of a
        CertificateSigned the station rejects (InvalidChargingStationCertificate)."""
        if action == "CertificateSigned":
            return self._certificate_signed(payload, identity, refused)
        store = self.store
        assert store is not None
        if action == "InstallCertificate":
            answer = store.install(payload["certificateType"], payload["certificate"])
            if answer.reason:
                logger.info("InstallCertificate %s: %s", answer.status, answer.reason)
            return Reply({"status": answer.status}, [])
        if action == "GetInstalledCertificateIds":
            types = payload.get("certificateType") or None
            ids = store.certificate_ids(types)
            if not ids:
                return Reply({"status": "NotFound"}, [])
            chain = [{"certificateType": kind, "certificateHashData": data} for kind, data in ids]
            return Reply({"status": "Accepted", "certificateHashDataChain": chain}, [])
        answer = store.delete(payload["certificateHashData"])  # DeleteCertificate
        return Reply({"status": answer.status}, [])

    def _certificate_signed(
        self, payload: Payload, identity: str, refused: Callable[[str], list[Outgoing]]
    ) -> Reply:
        """CertificateSigned (A02.FR.05-07): Accepted when the chain is for the pending CSR and
        valid; Rejected, with a security event, otherwise."""
        chain = payload["certificateChain"]
        problem = None
        if self._csr is None:
            problem = "no CSR is pending"
        elif self._accept is not None:
            try:
                accepted = self._accept(chain, self._csr, identity)
            except Exception as exc:  # the checker says why in its own exception
                problem = str(exc)
            else:
                self.client_certificate, self._csr = accepted, None
        elif "-----BEGIN CERTIFICATE-----" in chain:
            self.client_certificate, self._csr = chain, None
        else:
            problem = "the chain holds no PEM certificate"
        if problem is not None:
            logger.info("CertificateSigned rejected: %s", problem)
            return Reply({"status": "Rejected"}, refused(problem))
        return Reply({"status": "Accepted"}, [])
