"""Data OCPP 1.2 and 1.5 share: the default payloads of the messages both have, and the
Charge Point configuration keys.

The values are those the original simulator used (vendor `DBT`, model `NQC-ACDC`, idTag
`B4F62CEF`, …) so logs read the same, except for two things a real peer would trip on: every
date is relative to the time the payload is built (`timestamp`, `currentTime`, meter samples and
`retrieveDate` are now, expiry dates a day ahead, a diagnostics window the last day), and every
default idTagInfo is `Accepted`.
"""

from __future__ import annotations

from ocppsim.core.versions.model import (
    DAY_AHEAD,
    DAY_BEFORE,
    NOW,
    NOW_STAMP,
    KeyDefinition,
    Payload,
)

SERIAL = "gir.vat.mx.000e48"
ID_TAG = "B4F62CEF"
REMOTE_ID_TAG = "044943121F1D80"


def id_tag_info(parent: str = "PARENT") -> Payload:
    """An accepted badge that expires a day after the answer (never an expired one)."""
    return {"status": "Accepted", "expiryDate": DAY_AHEAD, "parentIdTag": parent}


#: The default payloads of the messages OCPP 1.2 and 1.5 both have (1.5 extends some).
COMMON_DEFAULTS: dict[str, Payload] = {
    # Central System service (CALLs from the Charge Point)
    "AuthorizeRequest": {"idTag": ID_TAG},
    "AuthorizeResponse": {"idTagInfo": id_tag_info()},
    "BootNotificationRequest": {
        "chargePointVendor": "DBT",
        "chargePointModel": "NQC-ACDC",
        "chargePointSerialNumber": SERIAL,
        "chargeBoxSerialNumber": SERIAL,
        "firmwareVersion": "1.0.49",
        "iccid": "",
        "imsi": "",
        "meterType": "DBT NQC-ACDC",
        "meterSerialNumber": SERIAL,
    },
    "BootNotificationResponse": {
        "status": "Accepted",
        "currentTime": NOW,
        "heartbeatInterval": 1200,
    },
    "DiagnosticsStatusNotificationRequest": {"status": "Uploaded"},
    "DiagnosticsStatusNotificationResponse": {},
    "FirmwareStatusNotificationRequest": {"status": "DownloadFailed"},
    "FirmwareStatusNotificationResponse": {},
    "HeartbeatRequest": {},
    "HeartbeatResponse": {"currentTime": NOW},
    "MeterValuesResponse": {},
    "StartTransactionRequest": {
        "connectorId": 2,
        "idTag": ID_TAG,
        "timestamp": NOW,
        "meterStart": 0,
    },
    "StartTransactionResponse": {"transactionId": 0, "idTagInfo": id_tag_info()},
    "StatusNotificationRequest": {"connectorId": 2, "status": "Available", "errorCode": "NoError"},
    "StatusNotificationResponse": {},
    "StopTransactionRequest": {
        "transactionId": 0,
        "idTag": ID_TAG,
        "timestamp": NOW,
        "meterStop": 20,
    },
    "StopTransactionResponse": {"idTagInfo": id_tag_info()},
    # Charge Point service (CALLs from the Central System)
    "ChangeAvailabilityRequest": {"connectorId": 1, "type": "Inoperative"},
    "ChangeAvailabilityResponse": {"status": "Accepted"},
    "ChangeConfigurationRequest": {"key": "KVCBX_LANG", "value": "FR"},
    "ChangeConfigurationResponse": {"status": "Accepted"},
    "ClearCacheRequest": {},
    "ClearCacheResponse": {"status": "Accepted"},
    "GetDiagnosticsRequest": {
        "location": "ftp://root:root@axis.gir.foo/tmp",
        "startTime": DAY_BEFORE,
        "stopTime": NOW,
        "retries": 4,
        "retryInterval": 20,
    },
    "GetDiagnosticsResponse": {"fileName": f"diag-{SERIAL}-{NOW_STAMP}.txt"},
    "RemoteStartTransactionRequest": {"idTag": REMOTE_ID_TAG, "connectorId": 2},
    "RemoteStartTransactionResponse": {"status": "Accepted"},
    "RemoteStopTransactionRequest": {"transactionId": 1},
    "RemoteStopTransactionResponse": {"status": "Accepted"},
    "ResetRequest": {"type": "Soft"},
    "ResetResponse": {"status": "Accepted"},
    "UnlockConnectorRequest": {"connectorId": 1},
    "UnlockConnectorResponse": {"status": "Accepted"},
    "UpdateFirmwareRequest": {
        "retrieveDate": NOW,
        "location": "ftp://root:root@fork.gir.foo/tmp/kvcbx-updt.amx",
        "retries": 4,
        "retryInterval": 20,
    },
    "UpdateFirmwareResponse": {},
}

#: OCPP 1.5 measurands, the items of the meter value keys.
MEASURANDS_15 = frozenset(
    {
        "Energy.Active.Export.Register",
        "Energy.Active.Import.Register",
        "Energy.Reactive.Export.Register",
        "Energy.Reactive.Import.Register",
        "Energy.Active.Export.Interval",
        "Energy.Active.Import.Interval",
        "Energy.Reactive.Export.Interval",
        "Energy.Reactive.Import.Interval",
        "Power.Active.Export",
        "Power.Active.Import",
        "Power.Reactive.Export",
        "Power.Reactive.Import",
        "Current.Export",
        "Current.Import",
        "Voltage",
        "Temperature",
    }
)
_ENERGY = "Energy.Active.Import.Register"

#: The keys OCPP 1.5 names, and the original simulator's two vendor keys (`KVCBX_*`, those of
#: the default GetConfiguration and ChangeConfiguration requests). OCPP 1.2 has
#: ChangeConfiguration but names no keys: its Charge Points get these too.
KEYS_15: tuple[KeyDefinition, ...] = (
    KeyDefinition("HeartbeatInterval", "1200", "integer"),
    KeyDefinition("ConnectionTimeOut", "60", "integer"),
    KeyDefinition("ResetRetries", "3", "integer"),
    KeyDefinition("BlinkRepeat", "3", "integer"),
    KeyDefinition("LightIntensity", "100", "integer"),
    KeyDefinition("MeterValueSampleInterval", "0", "integer"),
    KeyDefinition("ClockAlignedDataInterval", "0", "integer"),
    KeyDefinition("MeterValuesSampledData", _ENERGY, "list", allowed=MEASURANDS_15),
    KeyDefinition("MeterValuesAlignedData", _ENERGY, "list", allowed=MEASURANDS_15),
    KeyDefinition("StopTxnSampledData", _ENERGY, "list", allowed=MEASURANDS_15),
    KeyDefinition("StopTxnAlignedData", _ENERGY, "list", allowed=MEASURANDS_15),
    KeyDefinition("KVCBX_PROFILE", "NQC-ACDC", readonly=True),
    KeyDefinition("KVCBX_LANG", "EN"),
)
