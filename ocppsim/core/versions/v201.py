"""OCPP 2.0.1: its actions per direction, the official JSON schemas (draft 6) read unchanged
from the PyPI `ocpp` package, the 2.x error codes, and default payloads for every message."""

from __future__ import annotations

from ocppsim.core.errors import OCPP_2X
from ocppsim.core.versions.model import OcppVersion, SchemaSource, Service
from ocppsim.core.versions.ocpp2x import (
    CP_ACTIONS_201,
    CS_ACTIONS_201,
    CURATED,
    IDENTITY,
    SchemaDefaults,
    message_names,
)

ACTIONS: dict[Service, tuple[str, ...]] = {"cs": CS_ACTIONS_201, "cp": CP_ACTIONS_201}

SCHEMAS = SchemaSource(
    "v201/schemas",
    dialect="draft6",
    package="ocpp",
    origin="OCA's OCPP 2.0.1 JSON schemas, as the ocpp package ships them",
    requirement="the `ocpp` package (pip install ocpp)",
)

VERSION = OcppVersion(
    name="2.0.1",
    title="OCPP 2.0.1",
    subprotocol="ocpp2.0.1",
    actions=ACTIONS,
    schemas=SCHEMAS,
    errors=OCPP_2X,
    defaults=SchemaDefaults(SCHEMAS, message_names(ACTIONS, {}), CURATED),
    central_system="CSMS",
    identity=IDENTITY,
)
