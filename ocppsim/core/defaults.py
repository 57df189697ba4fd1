"""Default ("prefilled") payloads of every OCPP 1.2 and 1.5 message (SPEC §3).

The values are those the original simulator used (vendor `DBT`, model `NQC-ACDC`, idTag
`B4F62CEF`, …) so logs read the same; fields that mean "now" (`timestamp`, `currentTime`)
are set to the current UTC time each time a payload is built.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from ocppsim.core.validation import ATTR_AT

Payload = dict[str, Any]

#: Top-level fields whose default means "the time this message is built".
NOW_FIELDS = ("timestamp", "currentTime")

_DATE = "2013-02-01T15:09:18Z"
_SERIAL = "gir.vat.mx.000e48"
_ID_TAG = "B4F62CEF"
_REMOTE_ID_TAG = "044943121F1D80"


def _id_tag_info(status: str, parent: str = "PARENT") -> Payload:
    return {"status": status, "expiryDate": _DATE, "parentIdTag": parent}


def _sample_15(at: str, reading: str) -> Payload:
    return {
        "timestamp": at,
        "values": [
            {"value": reading, "unit": "Wh", "measurand": "Energy.Active.Import.Register"},
            {"value": reading, "unit": "varh", "measurand": "Energy.Reactive.Import.Register"},
        ],
    }


def _sample_attr_at(reading: str, with_attributes: bool) -> Payload:
    sample: Payload = {"timestamp": _DATE, "value": [reading, reading]}
    if with_attributes:
        attrs = {"unit": "Wh", "measurand": "Energy.Active.Import.Register"}
        sample["@value"] = [dict(attrs), dict(attrs)] if reading != "0" else [{}, {}]
    return sample


_COMMON: dict[str, Payload] = {
    # Central System service (CALLs from the Charge Point)
    "AuthorizeRequest": {"idTag": _ID_TAG},
    "AuthorizeResponse": {"idTagInfo": _id_tag_info("Accepted")},
    "BootNotificationRequest": {
        "chargePointVendor": "DBT",
        "chargePointModel": "NQC-ACDC",
        "chargePointSerialNumber": _SERIAL,
        "chargeBoxSerialNumber": _SERIAL,
        "firmwareVersion": "1.0.49",
        "iccid": "",
        "imsi": "",
        "meterType": "DBT NQC-ACDC",
        "meterSerialNumber": _SERIAL,
    },
    "BootNotificationResponse": {
        "status": "Accepted",
        "currentTime": _DATE,
        "heartbeatInterval": 1200,
    },
    "DiagnosticsStatusNotificationRequest": {"status": "Uploaded"},
    "DiagnosticsStatusNotificationResponse": {},
    "FirmwareStatusNotificationRequest": {"status": "DownloadFailed"},
    "FirmwareStatusNotificationResponse": {},
    "HeartbeatRequest": {},
    "HeartbeatResponse": {"currentTime": _DATE},
    "MeterValuesResponse": {},
    "StartTransactionRequest": {
        "connectorId": 2,
        "idTag": _ID_TAG,
        "timestamp": _DATE,
        "meterStart": 0,
    },
    "StartTransactionResponse": {"transactionId": 0, "idTagInfo": _id_tag_info("Accepted")},
    "StatusNotificationRequest": {"connectorId": 2, "status": "Available", "errorCode": "NoError"},
    "StatusNotificationResponse": {},
    "StopTransactionRequest": {
        "transactionId": 0,
        "idTag": _ID_TAG,
        "timestamp": _DATE,
        "meterStop": 20,
    },
    "StopTransactionResponse": {"idTagInfo": _id_tag_info("Expired")},
    # Charge Point service (CALLs from the Central System)
    "ChangeAvailabilityRequest": {"connectorId": 1, "type": "Inoperative"},
    "ChangeAvailabilityResponse": {"status": "Accepted"},
    "ChangeConfigurationRequest": {"key": "KVCBX_LANG", "value": "FR"},
    "ChangeConfigurationResponse": {"status": "Accepted"},
    "ClearCacheRequest": {},
    "ClearCacheResponse": {"status": "Accepted"},
    "GetDiagnosticsRequest": {
        "location": "ftp://root:root@axis.gir.foo/tmp",
        "startTime": _DATE,
        "stopTime": _DATE,
        "retries": 4,
        "retryInterval": 20,
    },
    "GetDiagnosticsResponse": {"fileName": "diag-gir.vat.mx.000e48-20130131132608.txt"},
    "RemoteStartTransactionRequest": {"idTag": _REMOTE_ID_TAG, "connectorId": 2},
    "RemoteStartTransactionResponse": {"status": "Accepted"},
    "RemoteStopTransactionRequest": {"transactionId": 1},
    "RemoteStopTransactionResponse": {"status": "Accepted"},
    "ResetRequest": {"type": "Soft"},
    "ResetResponse": {"status": "Accepted"},
    "UnlockConnectorRequest": {"connectorId": 1},
    "UnlockConnectorResponse": {"status": "Accepted"},
    "UpdateFirmwareRequest": {
        "retrieveDate": _DATE,
        "location": "ftp://root:root@fork.gir.foo/tmp/kvcbx-updt.amx",
        "retries": 4,
        "retryInterval": 20,
    },
    "UpdateFirmwareResponse": {},
}

_ONLY_12: dict[str, Payload] = {
    "MeterValuesRequest": {
        "connectorId": 2,
        "values": [{"timestamp": _DATE, "value": 0}, {"timestamp": _DATE, "value": 20}],
    },
}

_ONLY_15: dict[str, Payload] = {
    "StatusNotificationRequest": {
        **_COMMON["StatusNotificationRequest"],
        "info": "",
        "timestamp": _DATE,
        "vendorId": "",
        "vendorErrorCode": "",
    },
    "StartTransactionRequest": {**_COMMON["StartTransactionRequest"], "reservationId": 0},
    "MeterValuesRequest": {
        "connectorId": 2,
        "transactionId": 0,
        "values": [
            _sample_15("2013-03-07T16:52:16Z", "0"),
            _sample_15("2013-03-07T19:52:16Z", "20"),
        ],
    },
    "StopTransactionRequest": {
        **_COMMON["StopTransactionRequest"],
        "transactionData": [
            {"values": [_sample_15("2013-03-07T16:52:16Z", "0")]},
            {"values": [_sample_15("2013-03-07T16:52:16Z", "0")]},
        ],
    },
    "DataTransferRequest": {
        "vendorId": "fr.tm.cnr",
        "messageId": "GetChargeInstruction",
        "data": "",
    },
    "DataTransferResponse": {
        "status": "Accepted",
        "data": (
            '{"transactionId":1,"maxPower":3,'
            '"expiration":"2013-01-31T15:00:00Z","userWarning":false}'
        ),
    },
    "CancelReservationRequest": {"reservationId": 0},
    "CancelReservationResponse": {"status": "Accepted"},
    "GetConfigurationRequest": {"key": ["KVCBX_PROFILE"]},
    "GetConfigurationResponse": {
        "configurationKey": [{"key": "KVCBX_PROFILE", "readonly": True, "value": "NQC-ACDC"}],
        "unknownKey": [],
    },
    "GetLocalListVersionRequest": {},
    "GetLocalListVersionResponse": {"listVersion": 0},
    "ReserveNowRequest": {
        "connectorId": 0,
        "expiryDate": _DATE,
        "idTag": _REMOTE_ID_TAG,
        "parentIdTag": "",
        "reservationId": 0,
    },
    "ReserveNowResponse": {"status": "Accepted"},
    "SendLocalListRequest": {
        "updateType": "Full",
        "listVersion": 1,
        "localAuthorisationList": [
            {"idTag": _REMOTE_ID_TAG, "idTagInfo": _id_tag_info("Accepted", parent="")}
        ],
        "hash": "",
    },
    "SendLocalListResponse": {"status": "Accepted", "hash": ""},
}

#: The older `--with-attr-at` JSON form of the two 1.5 messages carrying meter values.
_ATTR_AT_15: dict[str, Payload] = {
    "MeterValuesRequest": {
        "connectorId": 2,
        "transactionId": 0,
        "values": [_sample_attr_at("0", True), _sample_attr_at("20", True)],
    },
    "StopTransactionRequest": {
        **_COMMON["StopTransactionRequest"],
        "transactionData": [
            {"values": [_sample_attr_at("0", True), _sample_attr_at("20", True)]},
            {"values": [_sample_attr_at("0", False), _sample_attr_at("20", True)]},
        ],
    },
}

_TABLES: dict[str, dict[str, Payload]] = {
    "1.2": {**_COMMON, **_ONLY_12},
    "1.5": {**_COMMON, **_ONLY_15},
}


_now_cache: list[Any] = [None, ""]


def utc_now() -> str:
    """The current UTC time as OCPP writes it: `2013-02-01T15:09:18Z`."""
    second = int(time.time())
    if _now_cache[0] != second:  # formatted once per second: this is on the hot path
        _now_cache[:] = [second, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))]
    return str(_now_cache[1])


def messages(version: str) -> list[str]:
    """Names of every message that has a default payload in `version`."""
    return sorted(_TABLES[version])


@cache
def _template(version: str, message: str, variant: str | None) -> tuple[str, tuple[str, ...]]:
    """The default payload as JSON text (copied by parsing it) and its "now" fields."""
    table = _ATTR_AT_15 if variant == ATTR_AT and message in _ATTR_AT_15 else _TABLES[version]
    try:
        payload = table[message]
    except KeyError:
        raise KeyError(f"no default payload for {message} in OCPP {version}") from None
    return json.dumps(payload), tuple(name for name in NOW_FIELDS if name in payload)


def default_payload(
    version: str,
    message: str,
    variant: str | None = None,
    now: Callable[[], str] = utc_now,
) -> Payload:
    """A fresh copy of the default payload of `message` (e.g. `ResetRequest`), "now" fields set."""
    text, now_fields = _template(version, message, variant)
    payload: Payload = json.loads(text)
    for name in now_fields:
        payload[name] = now()
    return payload
