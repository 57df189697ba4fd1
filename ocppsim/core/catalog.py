"""Which OCPP actions exist, per version and per service (SPEC §3).

`cs` is the Central System service (CALLs a Charge Point sends, the CS answers);
`cp` is the Charge Point service (CALLs the Central System sends, the CP answers).
A test checks these lists against the project's WSDL files.
"""

from __future__ import annotations

from typing import Literal

Version = Literal["1.2", "1.5"]
Service = Literal["cs", "cp"]

VERSIONS: tuple[Version, ...] = ("1.2", "1.5")

#: websocket subprotocol name -> OCPP version
SUBPROTOCOLS: dict[str, Version] = {"ocpp1.2": "1.2", "ocpp1.5": "1.5"}

_CS_12 = (
    "BootNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StopTransaction",
    "StatusNotification",
    "Authorize",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
)
_CP_12 = (
    "Reset",
    "UnlockConnector",
    "ChangeAvailability",
    "ClearCache",
    "ChangeConfiguration",
    "GetDiagnostics",
    "UpdateFirmware",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
)

#: actions per version and service, in the order the original's help lists them
ACTIONS: dict[Version, dict[Service, tuple[str, ...]]] = {
    "1.2": {"cs": _CS_12, "cp": _CP_12},
    "1.5": {
        "cs": _CS_12 + ("DataTransfer",),
        "cp": _CP_12
        + (
            "CancelReservation",
            "DataTransfer",
            "GetConfiguration",
            "GetLocalListVersion",
            "ReserveNow",
            "SendLocalList",
        ),
    },
}


def version_of_subprotocol(name: str) -> Version | None:
    """Map `ocpp1.5` to `1.5`; None for a subprotocol ocppsim does not speak."""
    return SUBPROTOCOLS.get(name)


def subprotocol_of(version: Version) -> str:
    """Map `1.5` to `ocpp1.5`."""
    return "ocpp" + version


def handles(version: str, service: Service, action: str) -> bool:
    """True when `service` of `version` answers CALLs named `action`."""
    per_version = ACTIONS.get(version)  # type: ignore[call-overload]
    return per_version is not None and action in per_version[service]


def all_actions(version: Version) -> tuple[str, ...]:
    """Every action of both services of a version, each once."""
    seen: dict[str, None] = {}
    for service in ("cs", "cp"):
        for action in ACTIONS[version][service]:  # type: ignore[index]
            seen[action] = None
    return tuple(seen)


def command_name(service: Service, action: str) -> str:
    """The prompt command that sends `action` (`heartbeat`, `remote_starttransaction`)."""
    word = action.lower()
    if service == "cs":
        return word
    return "remote_" + word.removeprefix("remote")
