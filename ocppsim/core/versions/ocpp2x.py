"""Data OCPP 2.0.1 and 2.1 share: the actions of 2.0.1 per direction, the default payloads a
user sees most (curated), and the rule that makes every other default from its schema.

The curated values follow the 1.x defaults where a field means the same (vendor `DBT`, model
`NQC-ACDC`, serial `gir.vat.mx.000e48`, idToken `B4F62CEF`, remote idToken `044943121F1D80`),
every date is relative to the time the payload is built, and every default idTokenInfo is
`Accepted`. Any other message gets the smallest payload its schema allows: its required fields
only, each with a value a real peer accepts, chosen by the field's name (`STRINGS`, `NUMBERS`,
`BOOLEANS`), an enumeration's `Accepted` (else its first value), a date now (a day ahead for an
expiry). A test checks that every such string has a chosen value and that every default is
valid against its schema.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from ocppsim.core.errors import OcppSimError
from ocppsim.core.fields import resolve
from ocppsim.core.versions.model import (
    DAY_AHEAD,
    NOW,
    NOW_STAMP,
    SERVICES,
    Payload,
    SchemaSource,
    Service,
)

#: Charging Station → CSMS (the CSMS answers; `cs` service): OCPP 2.0.1 Part 2, each
#: message's "sent by".
CS_ACTIONS_201 = (
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "DataTransfer",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
)
#: CSMS → Charging Station (the station answers; `cp` service).
CP_ACTIONS_201 = (
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "CostUpdated",
    "CustomerInformation",
    "DataTransfer",
    "DeleteCertificate",
    "GetBaseReport",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "InstallCertificate",
    "PublishFirmware",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReserveNow",
    "Reset",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
)

SERIAL = "gir.vat.mx.000e48"
ID_TOKEN = "B4F62CEF"
REMOTE_ID_TOKEN = "044943121F1D80"
TRANSACTION_ID = "tx-0001"
#: A self-signed example root (EC P-256, `CN=ocppsim example root`, valid 2026 to 2125), made
#: for these defaults: what InstallCertificate installs and CertificateSigned delivers.
CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIBejCCAR+gAwIBAgIEXu0MtTAKBggqhkjOPQQDAjAxMR0wGwYDVQQDDBRvY3Bw
c2ltIGV4YW1wbGUgcm9vdDEQMA4GA1UECgwHb2NwcHNpbTAgFw0yNjAxMDEwMDAw
MDBaGA8yMTI1MTIzMTAwMDAwMFowMTEdMBsGA1UEAwwUb2NwcHNpbSBleGFtcGxl
IHJvb3QxEDAOBgNVBAoMB29jcHBzaW0wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AAQPBX1fh67qDLiJu5AE8+R+3A4ISf6u3cgQgEksAc1IiefwAXhnpsDOKr6ahmOt
zAS/Zc1YwLLWQkpKeN3VmuvJoyMwITAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB
/wQEAwIBBjAKBggqhkjOPQQDAgNJADBGAiEA6LYxI/Ko/rKpVfmt2DYryutEt+Rh
/rf3emZIJT9/my4CIQCvYBijJ4z1pON3eon0o2tb/0cwJChxBphoEPIr2u95UA==
-----END CERTIFICATE-----
"""
#: A certificate signing request of the default station (EC P-256, `CN=gir.vat.mx.000e48`, the
#: serial number as A00.FR.511 wants, `O=DBT`).
CSR = """-----BEGIN CERTIFICATE REQUEST-----
MIHlMIGMAgEAMCoxGjAYBgNVBAMMEWdpci52YXQubXguMDAwZTQ4MQwwCgYDVQQK
DANEQlQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAQvud/bMzG6h+0wOv+qF3OK
o8XeHexSLzQzaH38Y8abPGmeyAy8E3U4wnuQe30ppmHpHdE6iGI4nPx4o/2tdIk5
oAAwCgYIKoZIzj0EAwIDSAAwRQIhAIcxdlT04dJVe2Zmz05mR6eBKz0uQhmdRPTy
z/vnwYjoAiBOiKmzWlG5kseS8OSUdk7Ft1qwwynmR4QVJ0OAm0HllQ==
-----END CERTIFICATE REQUEST-----
"""
#: CertificateHashData of `CERTIFICATE` (its own issuer), as OCPP 2.0.1 defines it.
CERTIFICATE_HASH: Payload = {
    "hashAlgorithm": "SHA256",
    "issuerNameHash": "cdb00eb1b8c67b35c2d3f5048075f5e208c02b93db17a143216b7c898e97a406",
    "issuerKeyHash": "cd755230c741fc77aba58713200ffab43e315dd910cabb3bac891654868d20b4",
    "serialNumber": "5eed0cb5",
}
FIRMWARE_URL = "https://firmware.example.com/ocppsim/kvcbx-updt.bin"
#: MD5 of the firmware image, as PublishFirmware and UnpublishFirmware carry it.
FIRMWARE_CHECKSUM = "9e107d9d372bb6826bd81d3542a419d6"


def id_token(token: str = ID_TOKEN) -> Payload:
    """An RFID badge (IdTokenType)."""
    return {"idToken": token, "type": "ISO14443"}


def id_token_info() -> Payload:
    """An accepted badge, cached for a day (IdTokenInfoType)."""
    return {"status": "Accepted", "cacheExpiryDateTime": DAY_AHEAD}


def _heartbeat_variable() -> Payload:
    return {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}


def _energy(value: float, context: str) -> Payload:
    return {
        "timestamp": NOW,
        "sampledValue": [
            {
                "value": value,
                "context": context,
                "measurand": "Energy.Active.Import.Register",
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


def _schedule_period() -> Payload:
    return {"startPeriod": 0, "limit": 16.0, "numberPhases": 3}


#: OCPP 2.0.1 Part 4 §3.1.1 (applied to 2.1 too): the charging station identity in the
#: connection URL is at most 48 characters of identifierString (a Part 2 primitive datatype)
#: without ':' (it would end the Basic auth user name).
IDENTITY = (48, r"[A-Za-z0-9*_=+|@.-]")


#: The default payloads written by hand (valid in 2.0.1 and 2.1 alike unless a version
#: replaces one): what a user sees most, and what the schema's minimum would say badly.
CURATED: dict[str, Payload] = {
    # Charging Station → CSMS
    "AuthorizeRequest": {"idToken": id_token()},
    "AuthorizeResponse": {"idTokenInfo": id_token_info()},
    "BootNotificationRequest": {
        "reason": "PowerUp",
        "chargingStation": {
            "model": "NQC-ACDC",
            "vendorName": "DBT",
            "serialNumber": SERIAL,
            "firmwareVersion": "1.0.49",
        },
    },
    "BootNotificationResponse": {"currentTime": NOW, "interval": 1200, "status": "Accepted"},
    "DataTransferRequest": {"vendorId": "fr.tm.cnr", "messageId": "GetChargeInstruction"},
    "DataTransferResponse": {"status": "Accepted"},
    "FirmwareStatusNotificationRequest": {"status": "Installed", "requestId": 1},
    "HeartbeatRequest": {},
    "HeartbeatResponse": {"currentTime": NOW},
    "LogStatusNotificationRequest": {"status": "Uploaded", "requestId": 1},
    "MeterValuesRequest": {"evseId": 1, "meterValue": [_energy(20, "Sample.Periodic")]},
    "NotifyEventRequest": {
        "generatedAt": NOW,
        "seqNo": 0,
        "eventData": [
            {
                "eventId": 1,
                "timestamp": NOW,
                "trigger": "Delta",
                "actualValue": "Occupied",
                "eventNotificationType": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}},
                "variable": {"name": "AvailabilityState"},
            }
        ],
    },
    "NotifyReportRequest": {
        "requestId": 1,
        "generatedAt": NOW,
        "seqNo": 0,
        "tbc": False,
        "reportData": [
            {
                **_heartbeat_variable(),
                "variableAttribute": [
                    {"type": "Actual", "value": "1200", "mutability": "ReadWrite"}
                ],
                "variableCharacteristics": {
                    "unit": "s",
                    "dataType": "integer",
                    "supportsMonitoring": False,
                },
            }
        ],
    },
    "SecurityEventNotificationRequest": {"type": "StartupOfTheDevice", "timestamp": NOW},
    "SignCertificateRequest": {"csr": CSR, "certificateType": "ChargingStationCertificate"},
    "StatusNotificationRequest": {
        "timestamp": NOW,
        "connectorStatus": "Available",
        "evseId": 1,
        "connectorId": 1,
    },
    "TransactionEventRequest": {
        "eventType": "Started",
        "timestamp": NOW,
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": TRANSACTION_ID, "chargingState": "Charging"},
        "idToken": id_token(),
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": [_energy(0, "Transaction.Begin")],
    },
    # the default request carries an idToken: the answer says it is accepted
    "TransactionEventResponse": {"idTokenInfo": id_token_info()},
    # CSMS → Charging Station
    "CertificateSignedRequest": {
        "certificateChain": CERTIFICATE,
        "certificateType": "ChargingStationCertificate",
    },
    "ChangeAvailabilityRequest": {"operationalStatus": "Inoperative", "evse": {"id": 1}},
    "ClearChargingProfileRequest": {"chargingProfileId": 1},
    "CustomerInformationRequest": {
        "requestId": 1,
        "report": True,
        "clear": False,
        "idToken": id_token(),
    },
    "DeleteCertificateRequest": {"certificateHashData": CERTIFICATE_HASH},
    "GetBaseReportRequest": {"requestId": 1, "reportBase": "FullInventory"},
    "GetChargingProfilesRequest": {
        "requestId": 1,
        "chargingProfile": {"chargingProfilePurpose": "TxDefaultProfile"},
    },
    "GetCompositeScheduleRequest": {"duration": 3600, "evseId": 1, "chargingRateUnit": "A"},
    "GetCompositeScheduleResponse": {
        "status": "Accepted",
        "schedule": {
            "evseId": 1,
            "duration": 3600,
            "scheduleStart": NOW,
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [_schedule_period()],
        },
    },
    "GetInstalledCertificateIdsRequest": {"certificateType": ["CSMSRootCertificate"]},
    "GetInstalledCertificateIdsResponse": {
        "status": "Accepted",
        "certificateHashDataChain": [
            {"certificateType": "CSMSRootCertificate", "certificateHashData": CERTIFICATE_HASH}
        ],
    },
    "GetLogRequest": {
        "logType": "DiagnosticsLog",
        "requestId": 1,
        "log": {"remoteLocation": "https://logs.example.com/ocppsim/upload"},
    },
    "GetLogResponse": {"status": "Accepted", "filename": f"diag-{SERIAL}-{NOW_STAMP}.log"},
    "GetTransactionStatusRequest": {"transactionId": TRANSACTION_ID},
    "GetTransactionStatusResponse": {"ongoingIndicator": True, "messagesInQueue": False},
    "GetVariablesRequest": {"getVariableData": [_heartbeat_variable()]},
    "GetVariablesResponse": {
        "getVariableResult": [
            {
                "attributeStatus": "Accepted",
                "attributeType": "Actual",
                "attributeValue": "1200",
                **_heartbeat_variable(),
            }
        ]
    },
    "InstallCertificateRequest": {
        "certificateType": "CSMSRootCertificate",
        "certificate": CERTIFICATE,
    },
    "RequestStartTransactionRequest": {
        "idToken": id_token(REMOTE_ID_TOKEN),
        "remoteStartId": 1,
        "evseId": 1,
    },
    "RequestStopTransactionRequest": {"transactionId": TRANSACTION_ID},
    "ReserveNowRequest": {
        "id": 1,
        "expiryDateTime": DAY_AHEAD,
        "idToken": id_token(REMOTE_ID_TOKEN),
        "evseId": 1,
    },
    "ResetRequest": {"type": "OnIdle"},
    "SendLocalListRequest": {
        "versionNumber": 1,
        "updateType": "Full",
        "localAuthorizationList": [
            {"idToken": id_token(REMOTE_ID_TOKEN), "idTokenInfo": {"status": "Accepted"}}
        ],
    },
    "SetChargingProfileRequest": {
        "evseId": 1,
        "chargingProfile": {
            "id": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": [
                {"id": 1, "chargingRateUnit": "A", "chargingSchedulePeriod": [_schedule_period()]}
            ],
        },
    },
    "SetDisplayMessageRequest": {
        "message": {
            "id": 1,
            "priority": "NormalCycle",
            "message": {"format": "UTF8", "content": "Welcome"},
        }
    },
    "SetNetworkProfileRequest": {
        "configurationSlot": 1,
        "connectionData": {
            "ocppVersion": "OCPP20",
            "ocppTransport": "JSON",
            "ocppCsmsUrl": "wss://csms.example.com/ocpp",
            "messageTimeout": 30,
            "securityProfile": 1,
            "ocppInterface": "Wired0",
        },
    },
    "SetVariableMonitoringRequest": {
        "setMonitoringData": [
            {
                "value": 1000,
                "type": "Delta",
                "severity": 8,
                "component": {"name": "EVSE", "evse": {"id": 1}},
                "variable": {"name": "Power"},
            }
        ]
    },
    "SetVariablesRequest": {
        "setVariableData": [
            {"attributeType": "Actual", "attributeValue": "60", **_heartbeat_variable()}
        ]
    },
    "SetVariablesResponse": {
        "setVariableResult": [
            {"attributeType": "Actual", "attributeStatus": "Accepted", **_heartbeat_variable()}
        ]
    },
    "TriggerMessageRequest": {"requestedMessage": "Heartbeat"},
    "UnlockConnectorRequest": {"evseId": 1, "connectorId": 1},
    "UpdateFirmwareRequest": {
        "requestId": 1,
        "firmware": {"location": FIRMWARE_URL, "retrieveDateTime": NOW},
    },
}

#: A required string's value, by its path's last steps (`component.name`) or its name.
STRINGS: dict[str, str] = {
    "idToken.type": "ISO14443",
    "component.name": "OCPPCommCtrlr",
    "variable.name": "HeartbeatInterval",
    "idToken": ID_TOKEN,
    "model": "NQC-ACDC",
    "vendorName": "DBT",
    "vendorId": "fr.tm.cnr",
    "serialNumber": CERTIFICATE_HASH["serialNumber"],  # a certificate's, or a battery's
    "issuerNameHash": CERTIFICATE_HASH["issuerNameHash"],
    "issuerKeyHash": CERTIFICATE_HASH["issuerKeyHash"],
    "certificate": CERTIFICATE,
    "certificateChain": CERTIFICATE,
    "csr": CSR,
    "transactionId": TRANSACTION_ID,
    "tariffId": "tariff-1",
    "currency": "EUR",
    "chargingLimitSource": "EMS",
    "iso15118SchemaVersion": "urn:iso:15118:2:2013:MsgDef",
    # base64 of an EXI stream: here a stand-in, which a real peer decodes and refuses
    "exiRequest": "gAA=",
    "exiResponse": "gAA=",
    "urls": "http://crl.example.com/ocppsim.crl",
    "responderURL": "http://ocsp.example.com",
    "remoteLocation": "https://logs.example.com/ocppsim/upload",
    "location": FIRMWARE_URL,
    "checksum": FIRMWARE_CHECKSUM,
    "ocppCsmsUrl": "wss://csms.example.com/ocpp",
    "data": "No data stored for this customer.",
    "content": "Welcome",
    "controlId": "der-1",
    "actualValue": "Occupied",
    "attributeValue": "60",
    "pspRef": "psp-0001",
    "vatNumber": "FR40303265045",
    "v": "0",
    "type": "StartupOfTheDevice",
}
#: A number's value by name (any other, an id or a count: 1), kept within its bounds.
NUMBERS: dict[str, float] = {
    "seqNo": 0,
    "stackLevel": 0,
    "startPeriod": 0,
    "interval": 1200,
    "duration": 3600,
    "messageTimeout": 30,
    "severity": 8,
    "soC": 80,
    "soH": 100,
    "signal": 0,
    "timeout": 60,
    "pending": 0,
    "t": 0,
    "totalCost": 1.25,
    "settlementAmount": 10.0,
    "value": 0,
}
#: A boolean's value by name (any other: false).
BOOLEANS: dict[str, bool] = {"report": True, "started": True, "activated": True, "activate": True}
#: Date fields a day ahead (any other date is now).
LATER_DATES = frozenset({"expiryDateTime", "cacheExpiryDateTime", "nextUpdate", "validTo"})
#: An enumeration's value when it has one of these (any other: its first value): the answer
#: of a request that worked.
PREFERRED = ("Accepted", "Unlocked", "Unpublished")


class UnnamedString(OcppSimError, LookupError):
    """A required string whose value no rule names (the generator's strict mode)."""


def _string(path: tuple[str, ...], node: dict[str, Any], strict: bool) -> str:
    name = path[-1] if path else ""
    if node.get("format") == "date-time":
        return DAY_AHEAD if name in LATER_DATES else NOW
    for length in (2, 1):
        key = ".".join(p for p in path if not p.isdigit())
        key = ".".join(key.split(".")[-length:])
        if key in STRINGS:
            return STRINGS[key]
    if strict:
        raise UnnamedString(".".join(path))
    return name[: node.get("maxLength", len(name))]


def _number(name: str, node: dict[str, Any]) -> float:
    low, high = node.get("minimum"), node.get("maximum")
    value = NUMBERS.get(name, 1)
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value


def minimal(
    root: dict[str, Any],
    node: dict[str, Any] | None = None,
    path: tuple[str, ...] = (),
    strict: bool = False,
) -> Any:
    """The smallest valid value of `node` (the whole message when None): required fields
    only, each list with as few items as it needs (at least one)."""
    node = resolve(root, root if node is None else node)
    name = path[-1] if path else ""
    if "enum" in node:
        choices = [str(v) for v in node["enum"]]
        return next((c for c in PREFERRED if c in choices), choices[0])
    kind = node.get("type")
    if kind == "object":
        properties = node.get("properties", {})
        return {
            field: minimal(root, properties[field], (*path, field), strict)
            for field in node.get("required", ())
        }
    if kind == "array":
        count = max(1, node.get("minItems", 1))
        return [minimal(root, node.get("items", {}), (*path, str(i)), strict) for i in range(count)]
    if kind == "string":
        return _string(path, node, strict)
    if kind == "integer":
        return int(_number(name, node))
    if kind == "number":
        return float(_number(name, node))
    if kind == "boolean":
        return BOOLEANS.get(name, False)
    return {}


def message_names(
    actions: Mapping[Service, tuple[str, ...]], sends: Mapping[Service, tuple[str, ...]]
) -> tuple[str, ...]:
    """Every message of a version: each action's Request and Response, then each SEND."""
    pairs = {
        a + kind: None
        for s in SERVICES
        for a in actions.get(s, ())
        for kind in ("Request", "Response")
    }
    sent = {a: None for s in SERVICES for a in sends.get(s, ())}
    return tuple({**pairs, **sent})


class SchemaDefaults(Mapping[str, Payload]):
    """The default templates of a version whose schemas come from a package: the curated
    ones, and for every other message its schema's `minimal` payload, made on first use (the
    schemas are read only when a default is asked for, not when the registry is imported)."""

    def __init__(
        self, source: SchemaSource, messages: tuple[str, ...], curated: Mapping[str, Payload]
    ):
        unknown = set(curated) - set(messages)
        if unknown:
            raise ValueError(f"curated defaults of no message: {sorted(unknown)}")
        self._source = source
        self._messages = dict.fromkeys(messages)
        self._curated = curated

    def __getitem__(self, message: str) -> Payload:
        if message not in self._messages:
            raise KeyError(message)
        if message in self._curated:
            return self._curated[message]
        return _generated(self._source, message)

    def __iter__(self) -> Iterator[str]:
        return iter(self._messages)

    def __len__(self) -> int:
        return len(self._messages)

    def curated(self, message: str) -> bool:
        """True when `message`'s default is written by hand, not made from its schema."""
        return message in self._curated


@cache
def _generated(source: SchemaSource, message: str) -> Payload:
    payload: Payload = minimal(source.load(message))
    return payload
