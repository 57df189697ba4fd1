"""Fixtures for the certificate tests: one test PKI per session (keys take time)."""

from __future__ import annotations

import pytest

from ocppsim.security import Pki, make_pki


@pytest.fixture(scope="session")
def pki() -> Pki:
    """A CA, a server certificate for localhost/127.0.0.1 and client certificates cp01, cp02."""
    return make_pki(["cp01", "cp02"])
