"""OCPP 1.5: the 1.2 actions plus DataTransfer, reservations, local lists and GetConfiguration;
schemas derived from the project's WSDL files; the `--with-attr-at` variant (the older JSON
form of meter values some 1.5 peers send)."""

from __future__ import annotations

from ocppsim.core.errors import OCPP_1X
from ocppsim.core.versions import v12
from ocppsim.core.versions.model import (
    ATTR_AT,
    DAY_AHEAD,
    NOW,
    OcppVersion,
    Payload,
    SchemaSource,
    SoapBinding,
)
from ocppsim.core.versions.ocpp1x import (
    COMMON_DEFAULTS,
    KEYS_15,
    REMOTE_ID_TAG,
    id_tag_info,
)

CS_ACTIONS = (*v12.CS_ACTIONS, "DataTransfer")
CP_ACTIONS = (
    *v12.CP_ACTIONS,
    "CancelReservation",
    "DataTransfer",
    "GetConfiguration",
    "GetLocalListVersion",
    "ReserveNow",
    "SendLocalList",
)


def _sample(reading: str) -> Payload:
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


DEFAULTS: dict[str, Payload] = {
    **COMMON_DEFAULTS,
    "StatusNotificationRequest": {
        **COMMON_DEFAULTS["StatusNotificationRequest"],
        "info": "",
        "timestamp": NOW,
        "vendorId": "",
        "vendorErrorCode": "",
    },
    "StartTransactionRequest": {**COMMON_DEFAULTS["StartTransactionRequest"], "reservationId": 0},
    "MeterValuesRequest": {
        "connectorId": 2,
        "transactionId": 0,
        "values": [_sample("0"), _sample("20")],
    },
    "StopTransactionRequest": {
        **COMMON_DEFAULTS["StopTransactionRequest"],
        "transactionData": [{"values": [_sample("0")]}, {"values": [_sample("0")]}],
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
        "idTag": REMOTE_ID_TAG,
        "parentIdTag": "",
        "reservationId": 0,
    },
    "ReserveNowResponse": {"status": "Accepted"},
    "SendLocalListRequest": {
        "updateType": "Full",
        "listVersion": 1,
        "localAuthorisationList": [{"idTag": REMOTE_ID_TAG, "idTagInfo": id_tag_info(parent="")}],
        "hash": "",
    },
    "SendLocalListResponse": {"status": "Accepted", "hash": ""},
}

#: The older `--with-attr-at` JSON form of the two messages carrying meter values.
ATTR_AT_DEFAULTS: dict[str, Payload] = {
    "MeterValuesRequest": {
        "connectorId": 2,
        "transactionId": 0,
        "values": [_sample_attr_at("0", True), _sample_attr_at("20", True)],
    },
    "StopTransactionRequest": {
        **COMMON_DEFAULTS["StopTransactionRequest"],
        "transactionData": [
            {"values": [_sample_attr_at("0", True), _sample_attr_at("20", True)]},
            {"values": [_sample_attr_at("0", False), _sample_attr_at("20", True)]},
        ],
    },
}

VERSION = OcppVersion(
    name="1.5",
    title="OCPP 1.5",
    subprotocol="ocpp1.5",
    actions={"cs": CS_ACTIONS, "cp": CP_ACTIONS},
    schemas=SchemaSource("ocpp1.5", dialect="draft4", derived_from_wsdl=True),
    errors=OCPP_1X,
    defaults=DEFAULTS,
    variants={ATTR_AT: ATTR_AT_DEFAULTS},
    soap=SoapBinding(
        namespaces={"cs": "urn://Ocpp/Cs/2012/06/", "cp": "urn://Ocpp/Cp/2012/06/"},
        wsdl={"cs": "ocpp1.5-centralsystem.wsdl", "cp": "ocpp1.5-chargepoint.wsdl"},
    ),
    configuration=KEYS_15,
)
