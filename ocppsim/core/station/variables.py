"""The standard device model of a simulated OCPP 2.x charging station, as a table.

Rows follow OCPP 2.0.1 Part 2 "Referenced Components and Variables" (names as in the Part 2
appendix `dm_components_vars`, e.g. `AuthCtrlr.LocalPreAuthorize`) and Part 4 §5 for the
WebSocket ones; 2.1 keeps them. Every variable the core profile needs is here, with the value a
fresh station starts with. Controllers of features the simulator answers by default
(reservations, smart charging, local list, authorization cache) say Available and Enabled, so a
CSMS under test exercises them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from ocppsim.core.fields import at_path
from ocppsim.core.station.device_model import PASSWORD_STRING, DeviceModel, Layout
from ocppsim.core.station.device_model import VariableDefinition as V
from ocppsim.core.validation import load_schema

#: The measurands the simulated meter gives (OCPP 2.0.1 Part 2 §3.44 MeasurandEnumType).
MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage"
#: The transaction start and stop points the simulated station tells apart (Part 2 §2.6.6).
TX_POINTS = "EVConnected,Authorized,PowerPathClosed"
_AVAILABILITY = "Available,Occupied,Reserved,Unavailable,Faulted"
_TIME_SOURCES = "Heartbeat,NTP,GPS,RealTimeClock,MobileNetwork,RadioTimeTransmitter"
_PROTOCOLS = "FTP,FTPS,HTTP,HTTPS,SFTP"
#: The configuration slots of network connection profiles (SetNetworkProfile, B09): slot 1 is
#: the connection the simulator was started with.
NETWORK_SLOTS = "1,2,3"

# fmt: off
#: Controller components: the same on every simulated station.
CONTROLLER_VARIABLES: tuple[V, ...] = (
    # OCPPCommCtrlr (Part 2 §2.1; WebSocket variables: Part 4 §5)
    V("OCPPCommCtrlr", "HeartbeatInterval", "300", "integer", unit="s", min_limit=1),
    V("OCPPCommCtrlr", "MessageTimeout", "30", "integer", "ReadOnly", "Default", unit="s"),
    V("OCPPCommCtrlr", "FileTransferProtocols", "HTTP,HTTPS", "MemberList", "ReadOnly",
      values_list=_PROTOCOLS, constant=True),
    V("OCPPCommCtrlr", "NetworkConfigurationPriority", "1", "SequenceList",
      values_list=NETWORK_SLOTS, reboot_required=True),
    V("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", "3", "integer", min_limit=1),
    V("OCPPCommCtrlr", "OfflineThreshold", "60", "integer", unit="s", min_limit=0),
    V("OCPPCommCtrlr", "QueueAllMessages", "false", "boolean"),
    V("OCPPCommCtrlr", "MessageAttempts", "3", "integer", variable_instance="TransactionEvent",
      min_limit=0),
    V("OCPPCommCtrlr", "MessageAttemptInterval", "60", "integer",
      variable_instance="TransactionEvent", unit="s", min_limit=0),
    V("OCPPCommCtrlr", "UnlockOnEVSideDisconnect", "true", "boolean"),
    V("OCPPCommCtrlr", "ResetRetries", "2", "integer", min_limit=0),
    V("OCPPCommCtrlr", "WebSocketPingInterval", "30", "integer", unit="s", min_limit=0),
    V("OCPPCommCtrlr", "RetryBackOffRepeatTimes", "3", "integer", min_limit=0),
    V("OCPPCommCtrlr", "RetryBackOffRandomRange", "10", "integer", unit="s", min_limit=0),
    V("OCPPCommCtrlr", "RetryBackOffWaitMinimum", "5", "integer", unit="s", min_limit=0),
    # DeviceDataCtrlr (Part 2 §2.1.16-2.1.23)
    V("DeviceDataCtrlr", "ItemsPerMessage", "50", "integer", "ReadOnly", "GetReport",
      constant=True),
    V("DeviceDataCtrlr", "ItemsPerMessage", "50", "integer", "ReadOnly", "GetVariables",
      constant=True),
    V("DeviceDataCtrlr", "ItemsPerMessage", "50", "integer", "ReadOnly", "SetVariables",
      constant=True),
    V("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", "ReadOnly", "GetReport",
      constant=True),
    V("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", "ReadOnly", "GetVariables",
      constant=True),
    V("DeviceDataCtrlr", "BytesPerMessage", "65000", "integer", "ReadOnly", "SetVariables",
      constant=True),
    V("DeviceDataCtrlr", "ConfigurationValueSize", "1000", "integer", "ReadOnly", max_limit=1000,
      constant=True),
    V("DeviceDataCtrlr", "ReportingValueSize", "2500", "integer", "ReadOnly", max_limit=2500,
      constant=True),
    # ClockCtrlr (Part 2 §2.1.24-2.1.32): DateTime is the station's clock when read
    V("ClockCtrlr", "DateTime", None, "dateTime", "ReadOnly"),
    V("ClockCtrlr", "TimeSource", "Heartbeat", "SequenceList", values_list=_TIME_SOURCES),
    # AuthCtrlr (Part 2 §2.3)
    V("AuthCtrlr", "Enabled", "true", "boolean"),
    V("AuthCtrlr", "AuthorizeRemoteStart", "false", "boolean"),
    V("AuthCtrlr", "LocalAuthorizeOffline", "true", "boolean"),
    V("AuthCtrlr", "LocalPreAuthorize", "false", "boolean"),
    # AuthCacheCtrlr (Part 2 §2.4)
    V("AuthCacheCtrlr", "Available", "true", "boolean", "ReadOnly", constant=True),
    V("AuthCacheCtrlr", "Enabled", "true", "boolean"),
    V("AuthCacheCtrlr", "LifeTime", "86400", "integer", unit="s", min_limit=0),
    # LocalAuthListCtrlr (Part 2 §2.5)
    V("LocalAuthListCtrlr", "Available", "true", "boolean", "ReadOnly", constant=True),
    V("LocalAuthListCtrlr", "Enabled", "true", "boolean"),
    V("LocalAuthListCtrlr", "Entries", "0", "integer", "ReadOnly", max_limit=1000),
    V("LocalAuthListCtrlr", "ItemsPerMessage", "100", "integer", "ReadOnly", constant=True),
    V("LocalAuthListCtrlr", "BytesPerMessage", "65000", "integer", "ReadOnly", constant=True),
    # TxCtrlr (Part 2 §2.6)
    V("TxCtrlr", "EVConnectionTimeOut", "120", "integer", unit="s", min_limit=0),
    V("TxCtrlr", "StopTxOnEVSideDisconnect", "true", "boolean"),
    V("TxCtrlr", "StopTxOnInvalidId", "true", "boolean"),
    V("TxCtrlr", "TxBeforeAcceptedEnabled", "false", "boolean"),
    V("TxCtrlr", "TxStartPoint", "PowerPathClosed", "MemberList", values_list=TX_POINTS),
    V("TxCtrlr", "TxStopPoint", "PowerPathClosed", "MemberList", values_list=TX_POINTS),
    V("TxCtrlr", "MaxEnergyOnInvalidId", "0", "integer", unit="Wh", min_limit=0),
    # SampledDataCtrlr (Part 2 §2.7.1-2.7.8)
    V("SampledDataCtrlr", "Available", "true", "boolean", "ReadOnly", constant=True),
    V("SampledDataCtrlr", "Enabled", "true", "boolean"),
    V("SampledDataCtrlr", "TxStartedMeasurands", "Energy.Active.Import.Register", "MemberList",
      values_list=MEASURANDS),
    V("SampledDataCtrlr", "TxUpdatedMeasurands",
      "Energy.Active.Import.Register,Power.Active.Import", "MemberList", values_list=MEASURANDS),
    V("SampledDataCtrlr", "TxUpdatedInterval", "60", "integer", unit="s", min_limit=0),
    V("SampledDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", "MemberList",
      values_list=MEASURANDS),
    V("SampledDataCtrlr", "TxEndedInterval", "0", "integer", unit="s", min_limit=0),
    # AlignedDataCtrlr (Part 2 §2.7.9-2.7.16): Interval 0 sends no clock-aligned data
    V("AlignedDataCtrlr", "Available", "true", "boolean", "ReadOnly", constant=True),
    V("AlignedDataCtrlr", "Enabled", "true", "boolean"),
    V("AlignedDataCtrlr", "Measurands", "Energy.Active.Import.Register", "MemberList",
      values_list=MEASURANDS),
    V("AlignedDataCtrlr", "Interval", "0", "integer", unit="s", min_limit=0),
    V("AlignedDataCtrlr", "SendDuringIdle", "false", "boolean"),
    V("AlignedDataCtrlr", "TxEndedMeasurands", "Energy.Active.Import.Register", "MemberList",
      values_list=MEASURANDS),
    V("AlignedDataCtrlr", "TxEndedInterval", "0", "integer", unit="s", min_limit=0),
    # ReservationCtrlr (Part 2 §2.8)
    V("ReservationCtrlr", "Available", "true", "boolean", "ReadOnly", constant=True),
    V("ReservationCtrlr", "Enabled", "true", "boolean"),
    V("ReservationCtrlr", "NonEvseSpecific", "true", "boolean", "ReadOnly", constant=True),
    # SmartChargingCtrlr (Part 2 §2.9)
    V("SmartChargingCtrlr", "Available", "true", "boolean", "ReadOnly", constant=True),
    V("SmartChargingCtrlr", "Enabled", "true", "boolean"),
    V("SmartChargingCtrlr", "Entries", "0", "integer", "ReadOnly", "ChargingProfiles",
      max_limit=100),
    V("SmartChargingCtrlr", "LimitChangeSignificance", "1.0", "decimal", unit="Percent",
      min_limit=0, max_limit=100),
    V("SmartChargingCtrlr", "PeriodsPerSchedule", "24", "integer", "ReadOnly", constant=True),
    V("SmartChargingCtrlr", "ProfileStackLevel", "10", "integer", "ReadOnly", constant=True),
    V("SmartChargingCtrlr", "RateUnit", "A,W", "MemberList", "ReadOnly", values_list="A,W",
      constant=True),
)
# fmt: on


@dataclass(frozen=True)
class StationInfo:
    """What a simulated charging station is: its identity and hardware.

    `evses` gives the number of connectors of each EVSE, EVSE ids counting from 1: `(1, 2)` is
    EVSE 1 with one connector and EVSE 2 with two. `max_power_w` is what each EVSE delivers
    while charging (11 kW: three phases of 16 A at 230 V). `serial_number` is also the common
    name of the CSRs the station makes (OCPP 2.0.1 Part 2 A00.FR.511).
    """

    identity: str = "cs001"
    vendor_name: str = "ocppsim"
    model: str = "ocppsim-2"
    serial_number: str | None = None
    firmware_version: str | None = None
    evses: tuple[int, ...] = (1,)
    max_power_w: float = 11_000.0
    phases: int = 3
    voltage: float = 230.0
    connector_type: str = "cType2"
    organization: str = "ocppsim"
    security_profile: int = 1
    basic_auth_password: str | None = None
    #: how long each step of a firmware update or a log upload takes (seconds)
    transfer_seconds: int = 5

    def __post_init__(self) -> None:
        if self.transfer_seconds < 0:
            raise ValueError("transfer_seconds cannot be negative")
        if not self.evses or any(n < 1 for n in self.evses):
            raise ValueError("every EVSE needs at least one connector")
        if self.max_power_w <= 0 or self.voltage <= 0 or self.phases not in (1, 2, 3):
            raise ValueError("power and voltage must be positive, phases 1, 2 or 3")


def station_variables(max_power_w: float, phases: int, connector_type: str) -> tuple[V, ...]:
    """The rows that depend on the hardware: security, the ChargingStation, EVSE and Connector
    components (Part 2 §2.2, §2.13). Identity, model, vendor, organization, security profile
    and password are each station's own values (see `device_model`)."""
    supply = str(phases)
    # fmt: off
    return (
        V("SecurityCtrlr", "Identity", None, "string", "ReadOnly", max_limit=48, constant=True),
        V("SecurityCtrlr", "BasicAuthPassword", None, "string", "WriteOnly",
          min_limit=16, max_limit=40, pattern=PASSWORD_STRING),
        V("SecurityCtrlr", "OrganizationName", "ocppsim", "string", max_limit=64),
        V("SecurityCtrlr", "SecurityProfile", "1", "integer", "ReadOnly",
          min_limit=1, max_limit=3),
        V("SecurityCtrlr", "CertificateEntries", "0", "integer", "ReadOnly", max_limit=10),
        V("SecurityCtrlr", "AdditionalRootCertificateCheck", "false", "boolean", "ReadOnly",
          constant=True),
        V("SecurityCtrlr", "CertSigningWaitMinimum", "30", "integer", unit="s", min_limit=0),
        V("SecurityCtrlr", "CertSigningRepeatTimes", "3", "integer", min_limit=0),
        V("ChargingStation", "AvailabilityState", "Available", "OptionList", "ReadOnly",
          values_list=_AVAILABILITY),
        V("ChargingStation", "Available", "true", "boolean", "ReadOnly"),
        V("ChargingStation", "SupplyPhases", supply, "integer", "ReadOnly", constant=True),
        V("ChargingStation", "Model", None, "string", "ReadOnly", constant=True),
        V("ChargingStation", "VendorName", None, "string", "ReadOnly", constant=True),
        V("EVSE", "AvailabilityState", "Available", "OptionList", "ReadOnly",
          values_list=_AVAILABILITY, scope="evse"),
        V("EVSE", "Available", "true", "boolean", "ReadOnly", scope="evse"),
        V("EVSE", "AllowReset", "true", "boolean", "ReadOnly", constant=True, scope="evse"),
        V("EVSE", "Power", "0", "decimal", "ReadOnly", unit="W", max_limit=max_power_w,
          scope="evse"),
        V("EVSE", "SupplyPhases", supply, "integer", "ReadOnly", constant=True, scope="evse"),
        V("Connector", "AvailabilityState", "Available", "OptionList", "ReadOnly",
          values_list=_AVAILABILITY, scope="connector"),
        V("Connector", "Available", "true", "boolean", "ReadOnly", scope="connector"),
        V("Connector", "ConnectorType", connector_type, "string", "ReadOnly", constant=True,
          scope="connector"),
        V("Connector", "SupplyPhases", supply, "integer", "ReadOnly", constant=True,
          scope="connector"),
    )
    # fmt: on


def standard_definitions(
    version: str, max_power_w: float = 11_000.0, phases: int = 3, connector_type: str = "cType2"
) -> tuple[V, ...]:
    """Every row of a station of this OCPP version (2.0.1 or 2.1).

    ConfigurationValueSize is as long as the version's SetVariables lets a value be (its
    schema's attributeValue: 1000 characters in 2.0.1, 2500 in 2.1); the rest is common to both.
    """
    rows = CONTROLLER_VARIABLES + station_variables(max_power_w, phases, connector_type)
    size = configuration_value_size(version)
    return tuple(
        replace(row, value=str(size), max_limit=size)
        if (row.component, row.variable) == ("DeviceDataCtrlr", "ConfigurationValueSize")
        else row
        for row in rows
    )


def configuration_value_size(version: str) -> int:
    """The longest value SetVariables carries in this version (SetVariableDataType's
    attributeValue; OCPP 2.0.1 Part 2 §2.1.4 ConfigurationValueSize)."""
    found = at_path(load_schema(version, "SetVariablesRequest"), "setVariableData.0.attributeValue")
    length = (found or {}).get("maxLength")
    return int(length) if isinstance(length, int) else 1000


@lru_cache(maxsize=64)
def _layout(
    version: str, evses: tuple[int, ...], max_power_w: float, phases: int, connector_type: str
) -> Layout:
    """One shared layout per kind of station."""
    rows = standard_definitions(version, max_power_w, phases, connector_type)
    connectors = {evse: tuple(range(1, n + 1)) for evse, n in enumerate(evses, start=1)}
    return Layout(rows, connectors)


def device_model(version: str, info: StationInfo) -> DeviceModel:
    """A new device model for a station: the standard layout of its kind (shared) and its own
    identity, model, vendor, organization, security profile and password."""
    layout = _layout(version, info.evses, info.max_power_w, info.phases, info.connector_type)
    model = DeviceModel(layout)
    model.set_value("SecurityCtrlr", "Identity", info.identity)
    model.set_value("SecurityCtrlr", "BasicAuthPassword", info.basic_auth_password)
    model.set_value("SecurityCtrlr", "OrganizationName", info.organization)
    model.set_value("SecurityCtrlr", "SecurityProfile", str(info.security_profile))
    model.set_value("ChargingStation", "Model", info.model)
    model.set_value("ChargingStation", "VendorName", info.vendor_name)
    return model
