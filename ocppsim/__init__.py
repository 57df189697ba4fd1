"""ocppsim: an OCPP Central System and Charge Point simulator, at the prompt and as a library.

    import ocppsim

    async with ocppsim.CentralSystem(endpoint="/ocpp") as cs:
        async with ocppsim.ChargePoint(cs.url, "cp01", version="1.6") as cp:
            answer = await cp.call("BootNotification")
            boot = await cs.wait_for("BootNotification", "cp01")

Installing ocppsim also gives pytest the fixtures `ocppsim_cs` and `ocppsim_cp` (see
docs/testing.md). The names below are imported when first used, so `import ocppsim` (which
pytest does in every session) costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: public name -> the module that defines it
_EXPORTS = {
    "CentralSystem": "ocppsim.sim.central_system",
    "ChargePoint": "ocppsim.sim.charge_point",
    "NotConnected": "ocppsim.sim.central_system",
    "Context": "ocppsim.sim.behaviour",
    "Received": "ocppsim.sim.inbox",
    "WaitTimeout": "ocppsim.sim.inbox",
    "EventStream": "ocppsim.sim.inbox",
    "InvalidMessage": "ocppsim.sim.calls",
    "CallFailed": "ocppsim.sim.peer",
    "CallTimeout": "ocppsim.sim.peer",
    "CallError": "ocppsim.core.errors",
    "OcppSimError": "ocppsim.core.errors",
    "UnknownVersion": "ocppsim.core.versions",
    "VersionUnavailable": "ocppsim.core.versions",
    "CentralSystemSecurity": "ocppsim.sim.security",
    "ChargePointSecurity": "ocppsim.sim.security",
    "SecurityOptionsError": "ocppsim.sim.security",
}

__all__ = [
    "CallError",
    "CallFailed",
    "CallTimeout",
    "CentralSystem",
    "CentralSystemSecurity",
    "ChargePoint",
    "ChargePointSecurity",
    "Context",
    "EventStream",
    "InvalidMessage",
    "NotConnected",
    "OcppSimError",
    "Received",
    "SecurityOptionsError",
    "UnknownVersion",
    "VersionUnavailable",
    "WaitTimeout",
]

if TYPE_CHECKING:
    from ocppsim.core.errors import CallError, OcppSimError
    from ocppsim.core.versions import UnknownVersion, VersionUnavailable
    from ocppsim.sim.behaviour import Context
    from ocppsim.sim.calls import InvalidMessage
    from ocppsim.sim.central_system import CentralSystem, NotConnected
    from ocppsim.sim.charge_point import ChargePoint
    from ocppsim.sim.inbox import EventStream, Received, WaitTimeout
    from ocppsim.sim.peer import CallFailed, CallTimeout
    from ocppsim.sim.security import (
        CentralSystemSecurity,
        ChargePointSecurity,
        SecurityOptionsError,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ocppsim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
