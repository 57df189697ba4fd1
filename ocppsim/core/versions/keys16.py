"""The standard configuration keys of an OCPP 1.6 Charge Point, as data: OCPP 1.6 §9.1 (Core
profile), §9.2 (Local Auth List Management), §9.3 (Reservation), §9.4 (Smart Charging), and the
keys of the 1.6 security whitepaper.

Read-only keys are those the specification gives accessibility R; AuthorizeRemoteTxRequests
(R or RW, the Charge Point's choice) is writable. AuthorizationKey is write-only: GetConfiguration
lists it without its value. No 1.6 key is defined as taking effect after a reboot. Values are what
a fresh simulated Charge Point starts with; `NumberOfConnectors`, `ConnectorPhaseRotation` and the
security keys that depend on the Charge Point are set by its model.
"""

from __future__ import annotations

from ocppsim.core.versions.model import KeyDefinition as K

#: The measurands the simulated meter gives: the values MeterValuesSampledData, …AlignedData,
#: StopTxnSampledData and StopTxnAlignedData may list (OCPP 1.6 §7.31 Measurand).
MEASURANDS_16 = frozenset(
    {
        "Energy.Active.Import.Register",
        "Power.Active.Import",
        "Current.Import",
        "Voltage",
        "Current.Offered",
        "Power.Offered",
    }
)
#: OCPP 1.6 §9.1.35 SupportedFeatureProfiles: the profiles the simulated Charge Point has.
FEATURE_PROFILES = frozenset(
    {
        "Core",
        "FirmwareManagement",
        "LocalAuthListManagement",
        "Reservation",
        "SmartCharging",
        "RemoteTrigger",
    }
)
_ENERGY = "Energy.Active.Import.Register"
_PROFILES = (
    "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger"
)
#: 1.6 security whitepaper: the AuthorizationKey is 16 to 20 bytes, written as hexadecimal
_HEX_KEY = r"(?:[0-9A-Fa-f]{2}){16,20}"

# fmt: off
KEYS_16: tuple[K, ...] = (
    # §9.1 Core profile
    K("AllowOfflineTxForUnknownId", "false", "boolean"),
    K("AuthorizationCacheEnabled", "true", "boolean"),
    K("AuthorizeRemoteTxRequests", "false", "boolean"),
    K("BlinkRepeat", "3", "integer"),
    K("ClockAlignedDataInterval", "0", "integer"),
    K("ConnectionTimeOut", "60", "integer"),
    K("ConnectorPhaseRotation", "0.RST", "list"),
    K("ConnectorPhaseRotationMaxLength", "10", "integer", readonly=True),
    K("GetConfigurationMaxKeys", "50", "integer", readonly=True),
    K("HeartbeatInterval", "300", "integer"),
    K("LightIntensity", "100", "integer", maximum=100),
    K("LocalAuthorizeOffline", "true", "boolean"),
    K("LocalPreAuthorize", "false", "boolean"),
    K("MaxEnergyOnInvalidId", "0", "integer"),
    K("MeterValuesAlignedData", _ENERGY, "list", allowed=MEASURANDS_16),
    K("MeterValuesAlignedDataMaxLength", "6", "integer", readonly=True),
    K("MeterValuesSampledData", f"{_ENERGY},Power.Active.Import", "list", allowed=MEASURANDS_16),
    K("MeterValuesSampledDataMaxLength", "6", "integer", readonly=True),
    K("MeterValueSampleInterval", "60", "integer"),
    K("MinimumStatusDuration", "0", "integer"),
    K("NumberOfConnectors", "1", "integer", readonly=True),
    K("ResetRetries", "3", "integer"),
    K("StopTransactionOnEVSideDisconnect", "true", "boolean"),
    K("StopTransactionOnInvalidId", "true", "boolean"),
    K("StopTxnAlignedData", "", "list", allowed=MEASURANDS_16),
    K("StopTxnAlignedDataMaxLength", "6", "integer", readonly=True),
    K("StopTxnSampledData", _ENERGY, "list", allowed=MEASURANDS_16),
    K("StopTxnSampledDataMaxLength", "6", "integer", readonly=True),
    K("SupportedFeatureProfiles", _PROFILES, "list", readonly=True, allowed=FEATURE_PROFILES),
    K("SupportedFeatureProfilesMaxLength", "6", "integer", readonly=True),
    K("TransactionMessageAttempts", "3", "integer"),
    K("TransactionMessageRetryInterval", "60", "integer"),
    K("UnlockConnectorOnEVSideDisconnect", "true", "boolean"),
    K("WebSocketPingInterval", "30", "integer"),
    # §9.2 Local Auth List Management profile
    K("LocalAuthListEnabled", "true", "boolean"),
    K("LocalAuthListMaxLength", "1000", "integer", readonly=True),
    K("SendLocalListMaxLength", "100", "integer", readonly=True),
    # §9.3 Reservation profile
    K("ReserveConnectorZeroSupported", "true", "boolean", readonly=True),
    # §9.4 Smart Charging profile
    K("ChargeProfileMaxStackLevel", "10", "integer", readonly=True),
    K("ChargingScheduleAllowedChargingRateUnit", "Current,Power", "list", readonly=True,
      allowed=frozenset({"Current", "Power"})),
    K("ChargingScheduleMaxPeriods", "24", "integer", readonly=True),
    K("ConnectorSwitch3to1PhaseSupported", "false", "boolean", readonly=True),
    K("MaxChargingProfilesInstalled", "20", "integer", readonly=True),
    # the 1.6 security whitepaper's keys
    K("AdditionalRootCertificateCheck", "false", "boolean", readonly=True),
    K("AuthorizationKey", "", pattern=_HEX_KEY, write_only=True),
    K("CertificateSignedMaxChainSize", "10000", "integer", readonly=True, maximum=10000),
    K("CertificateStoreMaxLength", "10", "integer", readonly=True),
    K("CpoName", "ocppsim"),
    K("SecurityProfile", "0", "integer", maximum=3),
)
# fmt: on
