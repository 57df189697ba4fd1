"""Thin views of the version registry under their former names, while call sites move to
`ocppsim.core.versions` (which they should use instead)."""

from __future__ import annotations

from ocppsim.core.versions import Service, all_versions, by_subprotocol, command_name, get

__all__ = [
    "ACTIONS",
    "SUBPROTOCOLS",
    "VERSIONS",
    "Service",
    "Version",
    "all_actions",
    "command_name",
    "handles",
    "subprotocol_of",
    "version_of_subprotocol",
]

Version = str

VERSIONS: tuple[str, ...] = tuple(entry.name for entry in all_versions())

#: websocket subprotocol name -> OCPP version
SUBPROTOCOLS: dict[str, str] = {entry.subprotocol: entry.name for entry in all_versions()}

#: actions per version and service, in the order help lists them
ACTIONS: dict[str, dict[str, tuple[str, ...]]] = {
    entry.name: {service: actions for service, actions in entry.actions.items()}
    for entry in all_versions()
}


def version_of_subprotocol(name: str) -> str | None:
    """Map a subprotocol to its version name; None for one ocppsim does not speak."""
    try:
        return by_subprotocol(name).name
    except LookupError:
        return None


def subprotocol_of(version: str) -> str:
    """Map a version name to its subprotocol."""
    return get(version).subprotocol


def handles(version: str, service: str, action: str) -> bool:
    """True when `service` of `version` answers CALLs named `action`."""
    try:
        entry = get(version)
    except LookupError:
        return False
    return entry.handles(service, action)


def all_actions(version: str) -> tuple[str, ...]:
    """Every action of both services of a version, each once."""
    return get(version).all_actions()
