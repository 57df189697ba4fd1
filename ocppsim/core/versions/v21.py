"""OCPP 2.1: the 2.0.1 actions and 26 new ones (DER control, tariffs, periodic event streams,
battery swap, …), NotifyPeriodicEventStream sent as SEND (no response), CALLRESULTERROR and
SEND among its message types; its schemas from the PyPI `ocpp` package 2.1 or newer."""

from __future__ import annotations

from dataclasses import replace

from ocppsim.core.errors import OCPP_2X
from ocppsim.core.versions.model import NOW, OcppVersion, Payload, SchemaSource, Service
from ocppsim.core.versions.ocpp2x import (
    CP_ACTIONS_201,
    CS_ACTIONS_201,
    CURATED,
    IDENTITY,
    SchemaDefaults,
    message_names,
)

#: Charging Station → CSMS, new in 2.1 (OCPP 2.1 Part 2, each message's "sent by").
CS_ACTIONS_NEW = (
    "BatterySwap",
    "ClosePeriodicEventStream",
    "GetCertificateChainStatus",
    "NotifyDERAlarm",
    "NotifyDERStartStop",
    "NotifyPriorityCharging",
    "NotifySettlement",
    "OpenPeriodicEventStream",
    "PullDynamicScheduleUpdate",
    "ReportDERControl",
    "VatNumberValidation",
)
#: CSMS → Charging Station, new in 2.1.
CP_ACTIONS_NEW = (
    "AFRRSignal",
    "AdjustPeriodicEventStream",
    "ChangeTransactionTariff",
    "ClearDERControl",
    "ClearTariffs",
    "GetDERControl",
    "GetPeriodicEventStream",
    "GetTariffs",
    "NotifyAllowedEnergyTransfer",
    "NotifyWebPaymentStarted",
    "RequestBatterySwap",
    "SetDERControl",
    "SetDefaultTariff",
    "UpdateDynamicSchedule",
    "UsePriorityCharging",
)

ACTIONS: dict[Service, tuple[str, ...]] = {
    "cs": tuple(sorted((*CS_ACTIONS_201, *CS_ACTIONS_NEW), key=str.lower)),
    "cp": tuple(sorted((*CP_ACTIONS_201, *CP_ACTIONS_NEW), key=str.lower)),
}
#: Sent as SEND, never answered (2.1 Part 2 N15: the CSMS SHALL NOT confirm it, N15.FR.02).
SENDS: dict[Service, tuple[str, ...]] = {"cs": ("NotifyPeriodicEventStream",)}

SCHEMAS = SchemaSource(
    "v21/schemas",
    dialect="draft6",
    package="ocpp",
    origin="OCA's OCPP 2.1 JSON schemas, as the ocpp package ships them",
    requirement="the `ocpp` package 2.1 or newer (Python 3.11+)",
)

#: Where 2.1 differs from the 2.0.1 defaults, and its new messages a user sees most.
CURATED_21: dict[str, Payload] = {
    **CURATED,
    "NotifyPeriodicEventStream": {
        "id": 1,
        "pending": 0,
        "basetime": NOW,
        "data": [{"t": 0, "v": "11000"}],
    },
}

VERSION = OcppVersion(
    name="2.1",
    title="OCPP 2.1",
    subprotocol="ocpp2.1",
    actions=ACTIONS,
    schemas=SCHEMAS,
    # OCPP-J 2.1 §4.4: an unknown message type is ignored, not answered
    errors=replace(
        OCPP_2X, name="OCPP 2.1", unknown_message_type=None, ignores_unknown_message_types=True
    ),
    defaults=SchemaDefaults(SCHEMAS, message_names(ACTIONS, SENDS), CURATED_21),
    message_types=frozenset({2, 3, 4, 5, 6}),
    sends=SENDS,
    central_system="CSMS",
    identity=IDENTITY,
)
