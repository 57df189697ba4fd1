"""A sans-I/O model of an OCPP 2.0.1 / 2.1 charging station: device model, EVSEs and
connectors, transactions (see `station.py` for how the simulator drives it)."""

from ocppsim.core.station.device_model import (
    Component,
    DeviceModel,
    DeviceVariable,
    Layout,
    Variable,
    VariableDefinition,
    check_value,
)
from ocppsim.core.station.station import (
    HANDLED_CALLS,
    VERSIONS,
    ChargingStation,
    Connector,
    Evse,
    Outgoing,
    Reply,
    StationError,
    StationRefusal,
    Transaction,
    wire_time,
)
from ocppsim.core.station.variables import (
    CONTROLLER_VARIABLES,
    StationInfo,
    device_model,
    standard_definitions,
)

__all__ = [
    "CONTROLLER_VARIABLES",
    "HANDLED_CALLS",
    "VERSIONS",
    "ChargingStation",
    "Component",
    "Connector",
    "DeviceModel",
    "DeviceVariable",
    "Evse",
    "Layout",
    "Outgoing",
    "Reply",
    "StationError",
    "StationInfo",
    "StationRefusal",
    "Transaction",
    "Variable",
    "VariableDefinition",
    "check_value",
    "device_model",
    "standard_definitions",
    "wire_time",
]
