"""A Charge Point's configuration keys, sans-I/O: what GetConfiguration reports and
ChangeConfiguration changes (the OCPP 1.5 operations of those names; OCPP 1.6 §5.3, §5.8).

Every simulated Charge Point owns one `Configuration`, built from the key definitions of its
OCPP version (the registry entry's `configuration`). A definition is data (name, type, read-only
flag, initial value), so a version adds its standard keys as a table; values are strings, as on
the wire.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from ocppsim.core.versions import KeyDefinition, get
from ocppsim.core.versions.model import MAX_INTEGER, MAX_VALUE_LENGTH

__all__ = [
    "ACCEPTED",
    "MAX_VALUE_LENGTH",
    "MAX_LENGTH_SUFFIX",
    "NOT_SUPPORTED",
    "REBOOT_REQUIRED",
    "REJECTED",
    "Configuration",
    "KeyDefinition",
]

#: ChangeConfiguration.conf statuses (OCPP 1.5 ConfigurationStatus; 1.6 adds RebootRequired).
ACCEPTED, REJECTED, NOT_SUPPORTED = "Accepted", "Rejected", "NotSupported"
REBOOT_REQUIRED = "RebootRequired"

#: A list key `K` holds at most as many items as the value of the key `K` + this suffix, when
#: the version defines one (OCPP 1.6 §9.1: MeterValuesSampledDataMaxLength, …).
MAX_LENGTH_SUFFIX = "MaxLength"


@lru_cache(maxsize=32)
def _table(definitions: tuple[KeyDefinition, ...]) -> dict[str, KeyDefinition]:
    """The definitions by lower-case name, built once per table (every Charge Point of a version
    shares it)."""
    return {d.name.lower(): d for d in definitions}


#: The tables of the definitions tuples seen, by identity (each version's tuple is one object:
#: hashing its fifty frozen definitions for `_table`'s cache cost more than the rest of a new
#: Charge Point's configuration); the tuple is kept, so its id is not reused.
_BY_IDENTITY: dict[int, tuple[tuple[KeyDefinition, ...], dict[str, KeyDefinition]]] = {}


def _table_of(definitions: Iterable[KeyDefinition]) -> dict[str, KeyDefinition]:
    key = tuple(definitions)
    known = _BY_IDENTITY.get(id(key))
    if known is not None and known[0] is key:
        return known[1]
    table = _table(key)
    if len(_BY_IDENTITY) < 64:
        _BY_IDENTITY[id(key)] = (key, table)
    return table


class Configuration:
    """The configuration keys of one Charge Point and their current values.

    Key names are compared without regard to case (keys are case-insensitive CiString50Type
    in OCPP 1.6); answers use the defined name. The definitions are shared by every Charge Point
    of a version; each keeps only the values that differ from the initial ones.
    """

    __slots__ = ("_definitions", "_values")

    def __init__(self, definitions: Iterable[KeyDefinition]):
        self._definitions = _table_of(definitions)
        self._values: dict[str, str] = {}

    @classmethod
    def for_version(cls, version: str) -> Configuration:
        """A fresh configuration with the initial values of `version`'s keys."""
        return cls(get(version).configuration)

    def definition(self, key: str) -> KeyDefinition | None:
        return self._definitions.get(key.lower())

    def get(self, key: str) -> str | None:
        """The value of `key`, None when it is unknown."""
        lowered = key.lower()
        value = self._values.get(lowered)
        if value is not None:
            return value
        definition = self._definitions.get(lowered)
        return definition.value if definition is not None else None

    def set(self, key: str, value: str) -> None:
        """Set a known key, read-only or not (the Charge Point itself changes it)."""
        lowered = key.lower()
        definition = self._definitions.get(lowered)
        if definition is None:
            raise KeyError(key)
        if value == definition.value:
            self._values.pop(lowered, None)
        else:
            self._values[lowered] = value

    def integer(self, key: str, default: int = 0) -> int:
        """The value of an integer key, `default` when the key is unknown or not a number; at
        most MAX_INTEGER (a Central System's BootNotification interval is any JSON integer,
        and the heartbeat's date of 10**12 seconds from now overflowed)."""
        value = self.get(key)
        try:
            return min(int(value), MAX_INTEGER) if value is not None else default
        except ValueError:
            return default

    def flag(self, key: str, default: bool = False) -> bool:
        """The value of a boolean key, `default` when the key is unknown."""
        value = self.get(key)
        return default if value is None else value.lower() == "true"

    def items(self, key: str, default: tuple[str, ...] = ()) -> list[str]:
        """The items of a comma-separated list key, `default` when the key is unknown."""
        value = self.get(key)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def change(self, key: str, value: str) -> str:
        """ChangeConfiguration: `NotSupported` for an unknown key, `Rejected` for a read-only
        key, a value of the wrong type or out of range, or a list longer than its `…MaxLength`
        key allows; else the value is set and the answer is `Accepted` (`RebootRequired` for a
        key that takes effect after a reboot)."""
        definition = self.definition(key)
        if definition is None:
            return NOT_SUPPORTED
        if definition.readonly or not definition.accepts(value):
            return REJECTED
        if definition.kind == "list":
            most = self.get(definition.name + MAX_LENGTH_SUFFIX)
            items = [item for item in value.split(",") if item.strip()]
            if most is not None and most.isdigit() and len(items) > int(most):
                return REJECTED
        if definition.kind == "boolean":
            value = value.lower()
        self.set(definition.name, value)
        return REBOOT_REQUIRED if definition.reboot_required else ACCEPTED

    def report(self, keys: list[str] | None = None) -> dict[str, Any]:
        """GetConfiguration.conf: every key when `keys` is empty or absent, else the known ones
        asked for (each once, in the order asked) and the unknown ones in `unknownKey`. A
        write-only key is listed without its value."""
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
        known = []
        for name in names:
            definition = self._definitions[name]
            entry: dict[str, Any] = {"key": definition.name, "readonly": definition.readonly}
            if not definition.write_only:
                entry["value"] = self.get(name)
            known.append(entry)
        return {"configurationKey": known, "unknownKey": unknown}

    def heard(self, action: str, result: Any) -> None:
        """Note what a CALLRESULT tells the Charge Point about its configuration: the
        heartbeat interval of an accepted BootNotification.conf (`heartbeatInterval` in OCPP
        1.2/1.5, `interval` in 1.6)."""
        if action != "BootNotification" or not isinstance(result, dict):
            return
        interval = result.get("heartbeatInterval", result.get("interval"))
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
