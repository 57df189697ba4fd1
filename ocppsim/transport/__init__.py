"""Transports: bytes and connection events only, no OCPP logic (`ws/` for OCPP-J over
WebSocket, `http.py` for SOAP over HTTP)."""

from __future__ import annotations

from ocppsim.core.errors import OcppSimError


class ConnectFailed(OcppSimError):
    """A Charge Point could not reach its Central System; `retry` says whether trying again
    can help (a refused connection can; a 404 or a URL that cannot work cannot)."""

    def __init__(self, reason: str, retry: bool = True):
        super().__init__(reason)
        self.reason = reason
        self.retry = retry
