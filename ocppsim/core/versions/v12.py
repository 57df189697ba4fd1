"""OCPP 1.2: its actions, schemas (derived from the project's WSDL files), SOAP binding and
default payloads."""

from __future__ import annotations

from ocppsim.core.errors import OCPP_1X
from ocppsim.core.versions.model import NOW, OcppVersion, Payload, SchemaSource, SoapBinding
from ocppsim.core.versions.ocpp1x import COMMON_DEFAULTS, KEYS_15

#: Central System service: the CALLs a Charge Point sends (in the order help lists them).
CS_ACTIONS = (
    "BootNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StopTransaction",
    "StatusNotification",
    "Authorize",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
)
#: Charge Point service: the CALLs the Central System sends.
CP_ACTIONS = (
    "Reset",
    "UnlockConnector",
    "ChangeAvailability",
    "ClearCache",
    "ChangeConfiguration",
    "GetDiagnostics",
    "UpdateFirmware",
    "RemoteStartTransaction",
    "RemoteStopTransaction",
)

DEFAULTS: dict[str, Payload] = {
    **COMMON_DEFAULTS,
    "MeterValuesRequest": {
        "connectorId": 2,
        "values": [{"timestamp": NOW, "value": 0}, {"timestamp": NOW, "value": 20}],
    },
}

VERSION = OcppVersion(
    name="1.2",
    title="OCPP 1.2",
    subprotocol="ocpp1.2",
    actions={"cs": CS_ACTIONS, "cp": CP_ACTIONS},
    schemas=SchemaSource("ocpp1.2", dialect="draft4", derived_from_wsdl=True),
    errors=OCPP_1X,
    defaults=DEFAULTS,
    soap=SoapBinding(
        namespaces={"cs": "urn://Ocpp/Cs/2010/08/", "cp": "urn://Ocpp/Cp/2010/08/"},
        wsdl={"cs": "ocpp1.2-centralsystem.wsdl", "cp": "ocpp1.2-chargepoint.wsdl"},
    ),
    configuration=KEYS_15,
)
