"""A Charge Point's configuration keys, sans-I/O: what GetConfiguration reports and
ChangeConfiguration changes (the OCPP 1.5 operations of those names; OCPP 1.6 §5.3, §5.8).

Every simulated Charge Point owns one `Configuration`, built from the key definitions of its
OCPP version (the registry entry's `configuration`). A definition is data (name, type, read-only
flag, initial value), so a version adds its standard keys as a table; values are strings, as on
the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ocppsim.core.versions import KeyDefinition, get
from ocppsim.core.versions.model import MAX_VALUE_LENGTH

__all__ = [
    "ACCEPTED",
    "MAX_VALUE_LENGTH",
    "NOT_SUPPORTED",
    "REJECTED",
    "Configuration",
    "KeyDefinition",
]

#: ChangeConfiguration.conf statuses (OCPP 1.5 ConfigurationStatus).
ACCEPTED, REJECTED, NOT_SUPPORTED = "Accepted", "Rejected", "NotSupported"


class Configuration:
    """The configuration keys of one Charge Point and their current values.

    Key names are compared without regard to case (keys are case-insensitive CiString50Type
    in OCPP 1.6); answers use the defined name.
    """

    def __init__(self, definitions: Iterable[KeyDefinition]):
        self._definitions = {d.name.lower(): d for d in definitions}
        self._values = {key: d.value for key, d in self._definitions.items()}

    @classmethod
    def for_version(cls, version: str) -> Configuration:
        """A fresh configuration with the initial values of `version`'s keys."""
        return cls(get(version).configuration)

    def definition(self, key: str) -> KeyDefinition | None:
        return self._definitions.get(key.lower())

    def get(self, key: str) -> str | None:
        """The value of `key`, None when it is unknown."""
        return self._values.get(key.lower())

    def set(self, key: str, value: str) -> None:
        """Set a known key, read-only or not (the Charge Point itself changes it)."""
        if key.lower() not in self._definitions:
            raise KeyError(key)
        self._values[key.lower()] = value

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration: `NotSupported` for an unknown key, `Rejected` for a read-only
        key or a value of the wrong type, else `Accepted` and the value is set."""
        definition = self.definition(key)
        if definition is None:
            return NOT_SUPPORTED
        if definition.readonly or not definition.accepts(value):
            return REJECTED
        if definition.kind == "boolean":
            value = value.lower()
        self._values[key.lower()] = value
        return ACCEPTED

    def report(self, keys: list[str] | None = None) -> dict[str, Any]:
        """GetConfiguration.conf: every key when `keys` is empty or absent, else the known ones
        asked for (each once, in the order asked) and the unknown ones in `unknownKey`."""
        names: list[str] = [] if keys else list(self._definitions)
        unknown: list[str] = []
        seen: set[str] = set()
        for key in keys or ():
            lowered = key.lower()
            if lowered in seen:
                continue
            seen.add(lowered)
            if lowered in self._definitions:
                names.append(lowered)
            else:
                unknown.append(key)
        known = [
            {
                "key": self._definitions[name].name,
                "readonly": self._definitions[name].readonly,
                "value": self._values[name],
            }
            for name in names
        ]
        return {"configurationKey": known, "unknownKey": unknown}

    def heard(self, action: str, result: Any) -> None:
        """Note what a CALLRESULT tells the Charge Point about its configuration: the
        heartbeat interval of an accepted BootNotification.conf (OCPP 1.5 BootNotification)."""
        if action != "BootNotification" or not isinstance(result, dict):
            return
        interval = result.get("heartbeatInterval")
        accepted = result.get("status") == ACCEPTED
        if (
            accepted
            and type(interval) is int
            and interval >= 0
            and self.definition("HeartbeatInterval")
        ):
            self.set("HeartbeatInterval", str(interval))

    def answer(self, action: str, payload: Any) -> dict[str, Any] | None:
        """The CALLRESULT payload of a configuration CALL (already schema-checked), else None."""
        if action == "GetConfiguration":
            keys = payload.get("key") if isinstance(payload, dict) else None
            return self.report(keys if isinstance(keys, list) else None)
        if action == "ChangeConfiguration" and isinstance(payload, dict):
            return {"status": self.change(str(payload.get("key")), str(payload.get("value")))}
        return None
