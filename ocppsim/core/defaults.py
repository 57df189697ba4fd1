"""Default ("prefilled") payloads of every OCPP 1.2 and 1.5 message (SPEC §3).

The values are those the original simulator used (vendor `DBT`, model `NQC-ACDC`, idTag
`B4F62CEF`, …) so logs read the same, except for two things a real peer would trip on: every
date is relative to the time the payload is built (`timestamp`, `currentTime`, meter samples and
`retrieveDate` are now, expiry dates a day ahead, a diagnostics window the last day), and every
default idTagInfo is `Accepted`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from ocppsim.core.validation import ATTR_AT

Payload = dict[str, Any]

DAY = 86400
OCPP_TIME = "%Y-%m-%dT%H:%M:%SZ"
#: Placeholders the templates hold for dates: offset from now (seconds) and strftime format.
NOW, DAY_AHEAD, DAY_BEFORE, NOW_STAMP = "@now@", "@now+1d@", "@now-1d@", "@stamp@"
DATES: dict[str, tuple[int, str]] = {
    NOW: (0, OCPP_TIME),
    DAY_AHEAD: (DAY, OCPP_TIME),
    DAY_BEFORE: (-DAY, OCPP_TIME),
    NOW_STAMP: (0, "%Y%m%d%H%M%S"),  # in a file name
}

_SERIAL = "gir.vat.mx.000e48"
_ID_TAG = "B4F62CEF"
_REMOTE_ID_TAG = "044943121F1D80"


def _id_tag_info(parent: str = "PARENT") -> Payload:
    """An accepted badge that expires a day after the answer (never an expired one)."""
    return {"status": "Accepted", "expiryDate": DAY_AHEAD, "parentIdTag": parent}


def _sample_15(reading: str) -> Payload:
    return {
        "timestamp": NOW,
        "values": [
            {"value": reading, "unit": "Wh", "measurand": "Energy.Active.Import.Register"},
            {"value": reading, "unit": "varh", "measurand": "Energy.Reactive.Import.Register"},
        ],
    }


def _sample_attr_at(reading: str, with_attributes: bool) -> Payload:
    sample: Payload = {"timestamp": NOW, "value": [reading, reading]}
    if with_attributes:
        attrs = {"unit": "Wh", "measurand": "Energy.Active.Import.Register"}
        sample["@value"] = [dict(attrs), dict(attrs)] if reading != "0" else [{}, {}]
    return sample


_COMMON: dict[str, Payload] = {
    # Central System service (CALLs from the Charge Point)
    "AuthorizeRequest": {"idTag": _ID_TAG},
    "AuthorizeResponse": {"idTagInfo": _id_tag_info()},
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
        "idTag": _ID_TAG,
        "timestamp": NOW,
        "meterStart": 0,
    },
    "StartTransactionResponse": {"transactionId": 0, "idTagInfo": _id_tag_info()},
    "StatusNotificationRequest": {"connectorId": 2, "status": "Available", "errorCode": "NoError"},
    "StatusNotificationResponse": {},
    "StopTransactionRequest": {
        "transactionId": 0,
        "idTag": _ID_TAG,
        "timestamp": NOW,
        "meterStop": 20,
    },
    "StopTransactionResponse": {"idTagInfo": _id_tag_info()},
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
    "GetDiagnosticsResponse": {"fileName": f"diag-{_SERIAL}-{NOW_STAMP}.txt"},
    "RemoteStartTransactionRequest": {"idTag": _REMOTE_ID_TAG, "connectorId": 2},
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

_ONLY_12: dict[str, Payload] = {
    "MeterValuesRequest": {
        "connectorId": 2,
        "values": [{"timestamp": NOW, "value": 0}, {"timestamp": NOW, "value": 20}],
    },
}

_ONLY_15: dict[str, Payload] = {
    "StatusNotificationRequest": {
        **_COMMON["StatusNotificationRequest"],
        "info": "",
        "timestamp": NOW,
        "vendorId": "",
        "vendorErrorCode": "",
    },
    "StartTransactionRequest": {**_COMMON["StartTransactionRequest"], "reservationId": 0},
    "MeterValuesRequest": {
        "connectorId": 2,
        "transactionId": 0,
        "values": [
            _sample_15("0"),
            _sample_15("20"),
        ],
    },
    "StopTransactionRequest": {
        **_COMMON["StopTransactionRequest"],
        "transactionData": [
            {"values": [_sample_15("0")]},
            {"values": [_sample_15("0")]},
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
            f'{{"transactionId":1,"maxPower":3,"expiration":"{DAY_AHEAD}","userWarning":false}}'
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
        "expiryDate": DAY_AHEAD,
        "idTag": _REMOTE_ID_TAG,
        "parentIdTag": "",
        "reservationId": 0,
    },
    "ReserveNowResponse": {"status": "Accepted"},
    "SendLocalListRequest": {
        "updateType": "Full",
        "listVersion": 1,
        "localAuthorisationList": [{"idTag": _REMOTE_ID_TAG, "idTagInfo": _id_tag_info(parent="")}],
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


_dates_cache: list[Any] = [None, {}]


def _dates(second: int) -> dict[str, str]:
    """Each placeholder's date for the time `second`, formatted once per second (hot path)."""
    if _dates_cache[0] != second:
        _dates_cache[:] = [
            second,
            {
                marker: time.strftime(form, time.gmtime(second + offset))
                for marker, (offset, form) in DATES.items()
            },
        ]
    dates: dict[str, str] = _dates_cache[1]
    return dates


#: template text -> (second, the text with that second's dates); one entry per template
_dated_texts: dict[str, tuple[int, str]] = {}


def utc_now() -> str:
    """The current UTC time as OCPP writes it: `2013-02-01T15:09:18Z`."""
    return _dates(int(time.time()))[NOW]


def messages(version: str) -> list[str]:
    """Names of every message that has a default payload in `version`."""
    return sorted(_TABLES[version])


@cache
def _template(version: str, message: str, variant: str | None) -> tuple[str, tuple[str, ...]]:
    """The default payload as JSON text (copied by parsing it) and the date placeholders in it."""
    table = _ATTR_AT_15 if variant == ATTR_AT and message in _ATTR_AT_15 else _TABLES[version]
    try:
        payload = table[message]
    except KeyError:
        raise KeyError(f"no default payload for {message} in OCPP {version}") from None
    text = json.dumps(payload)
    return text, tuple(marker for marker in DATES if marker in text)


def default_payload(
    version: str,
    message: str,
    variant: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Payload:
    """A fresh copy of the default payload of `message` (e.g. `ResetRequest`), its dates set
    relative to `clock()` (seconds since the epoch: now, unless a test or the docs fix it)."""
    text, markers = _template(version, message, variant)
    if markers:
        second = int(clock())
        dated = _dated_texts.get(text)  # a template's dated text is made once per second
        if dated is None or dated[0] != second:
            filled, dates = text, _dates(second)
            for marker in markers:
                filled = filled.replace(marker, dates[marker])
            dated = _dated_texts[text] = (second, filled)
        text = dated[1]
    payload: Payload = json.loads(text)
    return payload
