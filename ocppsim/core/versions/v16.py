"""OCPP 1.6: the 1.5 actions plus smart charging and TriggerMessage, and over OCPP-J the security
whitepaper's actions (Improved security for OCPP 1.6-J); OCA's JSON schemas read unchanged from
the installed `ocpp` package, with the errata below; SOAP for the core actions, its bodies
checked against the same JSON schemas.

Default payloads keep the values of 1.2 and 1.5 where the message is the same (vendor `DBT`,
model `NQC-ACDC`, idTag `B4F62CEF`), with dates relative to now, and otherwise say what a plain
1.6 peer says: one connector, a transaction 1, a charging profile of 16 A, the example
certificates of `certificates16.py`.
"""

from __future__ import annotations

from ocppsim.core.errors import OCPP_1X
from ocppsim.core.versions import certificates16 as certs
from ocppsim.core.versions import v15
from ocppsim.core.versions.errata import enum_values, min_items
from ocppsim.core.versions.keys16 import KEYS_16
from ocppsim.core.versions.model import (
    DAY_AHEAD,
    DAY_BEFORE,
    NOW,
    NOW_STAMP,
    OcppVersion,
    Payload,
    SchemaSource,
    SoapBinding,
)
from ocppsim.core.versions.ocpp1x import COMMON_DEFAULTS, ID_TAG, REMOTE_ID_TAG, SERIAL

#: Central System service over SOAP and OCPP-J: the 1.5 actions (OCPP 1.6 §4).
CORE_CS_ACTIONS = v15.CS_ACTIONS
#: Charge Point service: the 1.5 actions, smart charging and remote trigger (OCPP 1.6 §5).
CORE_CP_ACTIONS = (
    *v15.CP_ACTIONS,
    "ClearChargingProfile",
    "GetCompositeSchedule",
    "SetChargingProfile",
    "TriggerMessage",
)
#: The security whitepaper's actions (OCPP-J only: the 1.6 WSDLs have no operation for them).
SECURITY_CS_ACTIONS = (
    "SecurityEventNotification",
    "SignCertificate",
    "LogStatusNotification",
    "SignedFirmwareStatusNotification",
)
SECURITY_CP_ACTIONS = (
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "SignedUpdateFirmware",
)
CS_ACTIONS = (*CORE_CS_ACTIONS, *SECURITY_CS_ACTIONS)
CP_ACTIONS = (*CORE_CP_ACTIONS, *SECURITY_CP_ACTIONS)

_SAMPLED = "meterValue[].sampledValue[].unit"
_STOP_SAMPLED = "transactionData[].sampledValue[].unit"
_PERIODS = "chargingSchedule.chargingSchedulePeriod"

#: Fixes to OCA's 1.6 JSON schemas, applied when they are loaded (docs/messages/index.md).
ERRATA = (
    enum_values(
        {"MeterValuesRequest": _SAMPLED, "StopTransactionRequest": _STOP_SAMPLED},
        ("Celsius", "Celcius"),
        "`unit` takes both `Celsius` and OCA's misspelling `Celcius` in MeterValues and"
        " StopTransaction (OCPP 1.6 errata sheet v4.0: a Charge Point SHOULD send Celsius, a"
        " Central System SHALL accept both; OCA's StopTransaction schema had only `Celcius`).",
    ),
    enum_values(
        {"StopTransactionRequest": _STOP_SAMPLED},
        ("Hertz",),
        "`unit` takes `Hertz` in StopTransaction's transactionData as in MeterValues (OCPP 1.6"
        " errata sheet v4.0 §3.84: Frequency is measured in Hertz; the ocpp package added it to"
        " MeterValues only).",
    ),
    min_items(
        {
            "StopTransactionRequest": "transactionData[].sampledValue",
            "RemoteStartTransactionRequest": f"chargingProfile.{_PERIODS}",
            "SetChargingProfileRequest": f"csChargingProfiles.{_PERIODS}",
            "GetCompositeScheduleResponse": _PERIODS,
        },
        1,
        "a MeterValue's `sampledValue` (StopTransaction) and a ChargingSchedule's"
        " `chargingSchedulePeriod` (RemoteStartTransaction, SetChargingProfile,"
        " GetCompositeSchedule) have at least one item, as OCPP 1.6 §7 (1..*) and the 1.6 WSDLs"
        " say; OCA's JSON schemas require the list but let it be empty, which a SOAP body cannot"
        " write.",
    ),
)

#: What OCA's 1.6 schemas say that is kept on purpose, though peers or the WSDLs differ.
KEPT = (
    "ChangeConfiguration's `key` and `value` and GetConfiguration's `configurationKey[].key`,"
    " `configurationKey[].value` and `unknownKey[]` stay at most 50 and 500 characters, as"
    " published (CiString50Type, CiString500Type in OCPP 1.6 §7 and the WSDLs): a longer value"
    " (a certificate in a vendor key) is refused with TypeConstraintViolation; `send` sends one"
    " unchecked when a test needs it.",
    "`date-time` fields need a time zone although OCPP 1.6 §3.15 only asks for ISO 8601 and"
    " many 1.6 Charge Points send local times without one: the schemas' `date-time` is RFC 3339,"
    " and nobody can place a time without its zone (§3.14 recommends UTC). The reason names"
    " the missing zone. Over SOAP 1.6 such an xs:dateTime is refused the same way (OCPP 1.2 and"
    " 1.5 over SOAP read it as UTC, as the original did).",
    "MeterValues' `meterValue` is required with at least one item (OCPP 1.6 §6.31: 1..*) although"
    " the 1.6 WSDL makes it optional: a SOAP MeterValues without one is refused with"
    " OccurenceConstraintViolation, as over OCPP-J.",
    "`Celcius` and `Hertz` are not in the 1.6 WSDLs' UnitOfMeasure: a SOAP body's units are"
    " read as text and checked by the JSON schemas, so SOAP accepts what OCPP-J accepts.",
)


def _id_tag_info() -> Payload:
    return {"status": "Accepted", "expiryDate": DAY_AHEAD, "parentIdTag": "PARENT"}


def _sample(value: str, measurand: str, unit: str, context: str) -> Payload:
    return {
        "value": value,
        "context": context,
        "format": "Raw",
        "measurand": measurand,
        "location": "Outlet",
        "unit": unit,
    }


_ENERGY = "Energy.Active.Import.Register"
_SCHEDULE: Payload = {
    "chargingRateUnit": "A",
    "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0, "numberPhases": 3}],
}
_DIAGNOSTICS_URL = "ftp://root:root@axis.gir.foo/tmp"
_FIRMWARE_URL = "ftp://root:root@fork.gir.foo/tmp/kvcbx-updt.amx"

DEFAULTS: dict[str, Payload] = {
    # Central System service (CALLs from the Charge Point)
    "AuthorizeRequest": {"idTag": ID_TAG},
    "AuthorizeResponse": {"idTagInfo": _id_tag_info()},
    "BootNotificationRequest": {  # 1.2's and 1.5's, without their empty iccid and imsi
        k: v for k, v in COMMON_DEFAULTS["BootNotificationRequest"].items() if v != ""
    },
    "BootNotificationResponse": {"status": "Accepted", "currentTime": NOW, "interval": 1200},
    "DataTransferRequest": v15.DEFAULTS["DataTransferRequest"],
    "DataTransferResponse": v15.DEFAULTS["DataTransferResponse"],
    "DiagnosticsStatusNotificationRequest": {"status": "Uploaded"},
    "DiagnosticsStatusNotificationResponse": {},
    "FirmwareStatusNotificationRequest": {"status": "Installed"},
    "FirmwareStatusNotificationResponse": {},
    "HeartbeatRequest": {},
    "HeartbeatResponse": {"currentTime": NOW},
    "MeterValuesRequest": {
        "connectorId": 1,
        "transactionId": 1,
        "meterValue": [
            {
                "timestamp": NOW,
                "sampledValue": [
                    _sample("20", _ENERGY, "Wh", "Sample.Periodic"),
                    _sample("3680", "Power.Active.Import", "W", "Sample.Periodic"),
                ],
            }
        ],
    },
    "MeterValuesResponse": {},
    "StartTransactionRequest": {
        "connectorId": 1,
        "idTag": ID_TAG,
        "meterStart": 0,
        "timestamp": NOW,
    },
    "StartTransactionResponse": {"transactionId": 1, "idTagInfo": _id_tag_info()},
    "StatusNotificationRequest": {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": NOW,
    },
    "StatusNotificationResponse": {},
    "StopTransactionRequest": {
        "transactionId": 1,
        "idTag": ID_TAG,
        "meterStop": 20,
        "timestamp": NOW,
        "reason": "Local",
        "transactionData": [
            {"timestamp": NOW, "sampledValue": [_sample("20", _ENERGY, "Wh", "Transaction.End")]}
        ],
    },
    "StopTransactionResponse": {"idTagInfo": _id_tag_info()},
    "LogStatusNotificationRequest": {"status": "Uploaded", "requestId": 1},
    "LogStatusNotificationResponse": {},
    "SecurityEventNotificationRequest": {
        "type": "StartupOfTheDevice",
        "timestamp": NOW,
        "techInfo": "booted",
    },
    "SecurityEventNotificationResponse": {},
    "SignCertificateRequest": {"csr": certs.CSR_PEM},
    "SignCertificateResponse": {"status": "Accepted"},
    "SignedFirmwareStatusNotificationRequest": {"status": "Installed", "requestId": 1},
    "SignedFirmwareStatusNotificationResponse": {},
    # Charge Point service (CALLs from the Central System)
    "CancelReservationRequest": {"reservationId": 1},
    "CancelReservationResponse": {"status": "Accepted"},
    "ChangeAvailabilityRequest": {"connectorId": 1, "type": "Inoperative"},
    "ChangeAvailabilityResponse": {"status": "Accepted"},
    "ChangeConfigurationRequest": {"key": "HeartbeatInterval", "value": "300"},
    "ChangeConfigurationResponse": {"status": "Accepted"},
    "ClearCacheRequest": {},
    "ClearCacheResponse": {"status": "Accepted"},
    "ClearChargingProfileRequest": {"id": 1},
    "ClearChargingProfileResponse": {"status": "Accepted"},
    "GetCompositeScheduleRequest": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "GetCompositeScheduleResponse": {
        "status": "Accepted",
        "connectorId": 1,
        "scheduleStart": NOW,
        "chargingSchedule": {"duration": 3600, "startSchedule": NOW, **_SCHEDULE},
    },
    "GetConfigurationRequest": {"key": ["HeartbeatInterval"]},
    "GetConfigurationResponse": {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": [],
    },
    "GetDiagnosticsRequest": {
        "location": _DIAGNOSTICS_URL,
        "retries": 4,
        "retryInterval": 20,
        "startTime": DAY_BEFORE,
        "stopTime": NOW,
    },
    "GetDiagnosticsResponse": {"fileName": f"diag-{SERIAL}-{NOW_STAMP}.txt"},
    "GetLocalListVersionRequest": {},
    "GetLocalListVersionResponse": {"listVersion": 1},
    "RemoteStartTransactionRequest": {"connectorId": 1, "idTag": REMOTE_ID_TAG},
    "RemoteStartTransactionResponse": {"status": "Accepted"},
    "RemoteStopTransactionRequest": {"transactionId": 1},
    "RemoteStopTransactionResponse": {"status": "Accepted"},
    "ReserveNowRequest": {
        "connectorId": 1,
        "expiryDate": DAY_AHEAD,
        "idTag": REMOTE_ID_TAG,
        "reservationId": 1,
    },
    "ReserveNowResponse": {"status": "Accepted"},
    "ResetRequest": {"type": "Soft"},
    "ResetResponse": {"status": "Accepted"},
    "SendLocalListRequest": {
        "listVersion": 1,
        "localAuthorizationList": [
            {"idTag": REMOTE_ID_TAG, "idTagInfo": {"status": "Accepted", "expiryDate": DAY_AHEAD}}
        ],
        "updateType": "Full",
    },
    "SendLocalListResponse": {"status": "Accepted"},
    "SetChargingProfileRequest": {
        "connectorId": 1,
        "csChargingProfiles": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Relative",
            "chargingSchedule": _SCHEDULE,
        },
    },
    "SetChargingProfileResponse": {"status": "Accepted"},
    "TriggerMessageRequest": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "TriggerMessageResponse": {"status": "Accepted"},
    "UnlockConnectorRequest": {"connectorId": 1},
    "UnlockConnectorResponse": {"status": "Unlocked"},
    "UpdateFirmwareRequest": {
        "location": _FIRMWARE_URL,
        "retries": 4,
        "retrieveDate": NOW,
        "retryInterval": 20,
    },
    "UpdateFirmwareResponse": {},
    "CertificateSignedRequest": {"certificateChain": certs.SIGNED_PEM},
    "CertificateSignedResponse": {"status": "Accepted"},
    "DeleteCertificateRequest": {"certificateHashData": dict(certs.ROOT_HASH_DATA)},
    "DeleteCertificateResponse": {"status": "Accepted"},
    "ExtendedTriggerMessageRequest": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "ExtendedTriggerMessageResponse": {"status": "Accepted"},
    "GetInstalledCertificateIdsRequest": {"certificateType": "CentralSystemRootCertificate"},
    "GetInstalledCertificateIdsResponse": {
        "status": "Accepted",
        "certificateHashData": [dict(certs.ROOT_HASH_DATA)],
    },
    "GetLogRequest": {
        "logType": "DiagnosticsLog",
        "requestId": 1,
        "retries": 4,
        "retryInterval": 20,
        "log": {"remoteLocation": _DIAGNOSTICS_URL, "oldestTimestamp": DAY_BEFORE},
    },
    "GetLogResponse": {"status": "Accepted", "filename": f"log-{SERIAL}-{NOW_STAMP}.txt"},
    "InstallCertificateRequest": {
        "certificateType": "CentralSystemRootCertificate",
        "certificate": certs.ROOT_PEM,
    },
    "InstallCertificateResponse": {"status": "Accepted"},
    "SignedUpdateFirmwareRequest": {
        "requestId": 1,
        "retries": 4,
        "retryInterval": 20,
        "firmware": {
            "location": _FIRMWARE_URL,
            "retrieveDateTime": NOW,
            "signingCertificate": certs.FIRMWARE_SIGNER_PEM,
            "signature": certs.FIRMWARE_SIGNATURE,
        },
    },
    "SignedUpdateFirmwareResponse": {"status": "Accepted"},
}

VERSION = OcppVersion(
    name="1.6",
    title="OCPP 1.6",
    subprotocol="ocpp1.6",
    actions={"cs": CS_ACTIONS, "cp": CP_ACTIONS},
    schemas=SchemaSource(
        "v16/schemas",
        dialect="draft4",
        package="ocpp",
        request_suffix="",
        response_suffix="Response",
        origin="OCA's OCPP 1.6 JSON schemas (and the security whitepaper's), as the PyPI"
        " package `ocpp` ships them, with the errata listed in [the index](index.md)",
        errata=ERRATA,
        requirement="the `ocpp` package (pip install ocpp)",
        declared_draft=True,
        kept=KEPT,
    ),
    errors=OCPP_1X,
    defaults=DEFAULTS,
    soap=SoapBinding(
        namespaces={"cs": "urn://Ocpp/Cs/2015/10/", "cp": "urn://Ocpp/Cp/2015/10/"},
        wsdl={"cs": "ocpp1.6-centralsystem.wsdl", "cp": "ocpp1.6-chargepoint.wsdl"},
        actions={"cs": CORE_CS_ACTIONS, "cp": CORE_CP_ACTIONS},
        local_time_as_utc=False,
    ),
    configuration=KEYS_16,
    # §4.2: "While Rejected, the Charge Point SHALL NOT respond to any Central System
    # initiated message."
    silent_while_rejected=True,
)
