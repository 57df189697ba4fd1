"""What the messages of an OCPP 1.x version look like to a Charge Point model, read from the
version's own JSON schemas: the connector statuses it may report, the form of its meter values,
the fields its StartTransaction, StopTransaction and StatusNotification have, the answers its
UnlockConnector gives, and so on.

One model serves OCPP 1.2, 1.5 and 1.6: it builds every payload in the richest form and this
table says what the version keeps, so no code names a version. The versions come from the
registry (`ocppsim.core.versions`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from ocppsim.core import versions
from ocppsim.core.versions.model import OcppVersion, SchemaSource


def plays(entry: OcppVersion) -> bool:
    """True for a version the 1.x model plays: one whose Charge Points start transactions."""
    return "StartTransaction" in entry.actions.get("cs", ())


@cache  # a fleet makes thousands of models (a failure raises: nothing is kept of it)
def entry(version: str) -> OcppVersion:
    """The registry entry of a 1.x version a Charge Point model plays; ValueError for a version
    the model does not play."""
    if version not in versions.names():
        raise ValueError(f"no OCPP version {version!r} for a Charge Point model")
    found = versions.get(version)
    if not plays(found):
        raise ValueError(f"{found.title} has no StartTransaction: it is not a 1.x version")
    return found


def newest() -> str:
    """The newest version the model plays (what it plays when no version is given)."""
    return [e.name for e in versions.all_versions() if plays(e)][-1]


@dataclass(frozen=True)
class Shapes:
    """The facts of one version's messages the model needs (see the module docstring)."""

    version: str
    cp_actions: frozenset[str]
    cs_actions: frozenset[str]
    statuses: frozenset[str]
    status_fields: frozenset[str]
    error_codes: frozenset[str]
    interval_field: str
    meter_form: str  # "sampled" (1.6 meterValue/sampledValue), "values" (1.5), "integer" (1.2)
    meter_fields: frozenset[str]
    contexts: frozenset[str]
    measurands: frozenset[str]
    units: frozenset[str]
    start_fields: frozenset[str]
    stop_fields: frozenset[str]
    stop_reasons: frozenset[str]
    stop_data_form: str | None  # "samples" (1.6), "wrapped" (1.5 {values: […]}), None
    unlock_statuses: frozenset[str]
    configuration_statuses: frozenset[str]
    local_list_field: str | None
    diagnostics_statuses: frozenset[str]
    firmware_statuses: frozenset[str]
    remote_start_fields: frozenset[str]

    def has(self, action: str) -> bool:
        """True when the version has this CP → CS action."""
        return action in self.cs_actions

    def answers(self, action: str) -> bool:
        """True when the version has this CS → CP action."""
        return action in self.cp_actions


def _load(source: SchemaSource, message: str) -> Mapping[str, Any]:
    try:
        return source.load(message)
    except FileNotFoundError:
        return {}


def _resolve(root: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow a local `$ref` (`#/definitions/X`)."""
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        found: Mapping[str, Any] = root.get("definitions", {}).get(ref.rsplit("/", 1)[1], {})
        return found
    return node


def _at(root: Mapping[str, Any], *path: str) -> Mapping[str, Any]:
    """The schema of a property path (`items` steps into an array), {} when there is none."""
    node = _resolve(root, root)
    for step in path:
        node = (
            node.get("items", {}) if step == "items" else node.get("properties", {}).get(step, {})
        )
        node = _resolve(root, node)
    return node


def _props(root: Mapping[str, Any], *path: str) -> frozenset[str]:
    return frozenset(_at(root, *path).get("properties", {}))


def _enum(root: Mapping[str, Any], *path: str) -> frozenset[str]:
    return frozenset(_at(root, *path).get("enum", ()))


@cache
def shapes(version: str) -> Shapes:
    """The shapes of `version`'s messages (read once per version)."""
    found = entry(version)
    source = found.schemas
    status = _load(source, "StatusNotificationRequest")
    boot = _load(source, "BootNotificationResponse")
    meter = _load(source, "MeterValuesRequest")
    stop = _load(source, "StopTransactionRequest")
    meter_fields = _props(meter)
    sampled: tuple[str, ...]
    if "meterValue" in meter_fields:
        form, sampled = "sampled", ("meterValue", "items", "sampledValue", "items")
    elif "values" in _props(meter, "values", "items"):
        form, sampled = "values", ("values", "items", "values", "items")
    else:
        form, sampled = "integer", ("values", "items")
    data_item = _props(stop, "transactionData", "items")
    data_form = "samples" if "sampledValue" in data_item else "wrapped" if data_item else None
    local = _props(_load(source, "SendLocalListRequest"))
    local_field = next(
        (f for f in ("localAuthorizationList", "localAuthorisationList") if f in local), None
    )
    return Shapes(
        version=found.name,
        cp_actions=frozenset(found.actions.get("cp", ())),
        cs_actions=frozenset(found.actions.get("cs", ())),
        statuses=_enum(status, "status"),
        status_fields=_props(status),
        error_codes=_enum(status, "errorCode"),
        interval_field="interval" if "interval" in _props(boot) else "heartbeatInterval",
        meter_form=form,
        meter_fields=meter_fields,
        contexts=_enum(meter, *sampled, "context"),
        measurands=_enum(meter, *sampled, "measurand"),
        units=_enum(meter, *sampled, "unit"),
        start_fields=_props(_load(source, "StartTransactionRequest")),
        stop_fields=_props(stop),
        stop_reasons=_enum(stop, "reason"),
        stop_data_form=data_form,
        unlock_statuses=_enum(_load(source, "UnlockConnectorResponse"), "status"),
        configuration_statuses=_enum(_load(source, "ChangeConfigurationResponse"), "status"),
        local_list_field=local_field,
        diagnostics_statuses=_enum(_load(source, "DiagnosticsStatusNotificationRequest"), "status"),
        firmware_statuses=_enum(_load(source, "FirmwareStatusNotificationRequest"), "status"),
        remote_start_fields=_props(_load(source, "RemoteStartTransactionRequest")),
    )
