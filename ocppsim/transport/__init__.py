"""Transports: bytes and connection events only, no OCPP logic (`ws/` for OCPP-J over
WebSocket, `http.py` for SOAP over HTTP)."""

from __future__ import annotations

from typing import Any

from ocppsim.core.errors import OcppSimError


class ConnectFailed(OcppSimError):
    """A Charge Point could not reach its Central System; `retry` says whether trying again
    can help (a refused connection can; a 404 or a URL that cannot work cannot). `status` is
    the HTTP status of a refused handshake, `tls` what failed in a TLS handshake (an
    `ocppsim.security.TlsFailure`)."""

    def __init__(
        self, reason: str, retry: bool = True, *, status: int | None = None, tls: Any = None
    ):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
        self.status = status
        self.tls = tls
