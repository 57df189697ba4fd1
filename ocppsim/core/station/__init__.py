"""Sans-I/O models of simulated charge points: an OCPP 2.0.1 / 2.1 charging station (device
model, EVSEs and connectors, transactions; see `station.py`) and an OCPP 1.6 Charge Point that
also plays 1.5 and 1.2 for the actions they have (configuration keys, connectors, transactions,
smart charging, reservations, local list, firmware and certificates; see `charge_point.py`).
Both are driven the same way and share `common.py`."""

from ocppsim.core.station.charge_point import (
    HANDLED_CALLS_1X,
    Authorized,
    ChargePointInfo,
    ChargePointModel,
    ConnectorState,
    Reservation,
    TransactionState,
)
from ocppsim.core.station.common import (
    Connector,
    Meter,
    Outgoing,
    Reboot,
    Reply,
    StationError,
    StationRefusal,
    wire_time,
)
from ocppsim.core.station.device_model import (
    Component,
    DeviceModel,
    DeviceVariable,
    Layout,
    Variable,
    VariableDefinition,
    check_value,
)
from ocppsim.core.station.smart_charging import (
    ChargingProfile,
    ChargingProfiles,
    Electrical,
    ProfileRefused,
    read_profile,
)
from ocppsim.core.station.station import (
    HANDLED_CALLS,
    VERSIONS,
    ChargingStation,
    Evse,
    Transaction,
)
from ocppsim.core.station.variables import (
    CONTROLLER_VARIABLES,
    StationInfo,
    device_model,
    standard_definitions,
)
from ocppsim.core.versions.keys16 import KEYS_16, MEASURANDS_16

__all__ = [
    "CONTROLLER_VARIABLES",
    "HANDLED_CALLS",
    "HANDLED_CALLS_1X",
    "KEYS_16",
    "MEASURANDS_16",
    "VERSIONS",
    "Authorized",
    "ChargePointInfo",
    "ChargePointModel",
    "ChargingProfile",
    "ChargingProfiles",
    "ChargingStation",
    "Component",
    "Connector",
    "ConnectorState",
    "DeviceModel",
    "DeviceVariable",
    "Electrical",
    "Evse",
    "Layout",
    "Meter",
    "Outgoing",
    "ProfileRefused",
    "Reboot",
    "Reply",
    "Reservation",
    "StationError",
    "StationInfo",
    "StationRefusal",
    "Transaction",
    "TransactionState",
    "Variable",
    "VariableDefinition",
    "check_value",
    "device_model",
    "read_profile",
    "standard_definitions",
    "wire_time",
]
