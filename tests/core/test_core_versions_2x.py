"""The OCPP 2.0.1 and 2.1 entries: actions per direction, 2.1's SEND, the official schemas read
from the `ocpp` package, the 2.x error code of each kind of schema failure, defaults made from
the schemas, and a 2.1 that says what it needs where the installed `ocpp` package lacks it."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from ocppsim_testing import env_without_ocpp_folders, needs_version

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.rpc import CallRefused, RpcSession
from ocppsim.core.validation import load_schema, validate
from ocppsim.core.versions import OCPP_2X, OcppVersion
from ocppsim.core.versions.ocpp2x import minimal

V201 = versions.get("2.0.1")
ENTRIES_2X = [e for e in versions.all_versions() if e.handles("cs", "TransactionEvent")]
needs_21 = needs_version("2.1")


def test_2_0_1_has_its_64_actions_each_in_its_direction() -> None:
    """OCPP 2.0.1 Part 2: 24 messages a Charging Station sends, 39 the CSMS sends, and
    DataTransfer both ways."""
    cs, cp = V201.actions["cs"], V201.actions["cp"]
    assert (len(cs), len(cp), len(V201.all_actions())) == (25, 40, 64)
    assert set(cs) & set(cp) == {"DataTransfer"}
    assert len(set(cs)) == len(cs) and len(set(cp)) == len(cp)
    for action in ("BootNotification", "TransactionEvent", "NotifyReport", "SignCertificate"):
        assert V201.handles("cs", action) and not V201.handles("cp", action)
    for action in ("RequestStartTransaction", "GetVariables", "Reset", "CertificateSigned"):
        assert V201.handles("cp", action) and not V201.handles("cs", action)
    assert (V201.subprotocol, V201.soap, V201.sends) == ("ocpp2.0.1", None, {})
    assert V201.message_types == {2, 3, 4}
    assert V201.errors is OCPP_2X
    assert (V201.schemas.package, V201.schemas.folder) == ("ocpp", "v201/schemas")
    assert V201.central_system == "CSMS"


@needs_21
def test_2_1_adds_26_actions_and_one_send() -> None:
    """OCPP 2.1: every 2.0.1 action in the same direction, 11 new ones from the station, 15
    from the CSMS, and NotifyPeriodicEventStream sent as SEND (N15: never answered)."""
    v21 = versions.get("2.1")
    assert (len(v21.actions["cs"]), len(v21.actions["cp"]), len(v21.all_actions())) == (36, 55, 90)
    for service in ("cs", "cp"):
        assert set(V201.actions[service]) <= set(v21.actions[service])
    new = {s: set(v21.actions[s]) - set(V201.actions[s]) for s in ("cs", "cp")}
    assert (len(new["cs"]), len(new["cp"])) == (11, 15)
    assert {"BatterySwap", "NotifyDERAlarm", "VatNumberValidation"} <= new["cs"]
    assert {"AFRRSignal", "SetDefaultTariff", "UpdateDynamicSchedule"} <= new["cp"]
    assert v21.sends == {"cs": ("NotifyPeriodicEventStream",)}
    assert v21.is_send("cs", "NotifyPeriodicEventStream")
    assert not v21.is_send("cp", "NotifyPeriodicEventStream")
    assert not v21.handles("cs", "NotifyPeriodicEventStream")  # not a CALL
    assert "NotifyPeriodicEventStream" in v21.messages()
    assert v21.schemas.path("NotifyPeriodicEventStream").name == "NotifyPeriodicEventStream.json"
    assert versions.known_action("NotifyPeriodicEventStream")
    assert v21.message_types == {2, 3, 4, 5, 6}  # CALLRESULTERROR and SEND
    # the 2.x codes; an unknown message type is ignored, not answered (OCPP-J 2.1 §4.4)
    assert v21.errors.codes == OCPP_2X.codes and v21.errors.unknown_message_type is None
    assert OCPP_2X.unknown_message_type == "message_type"
    assert list(v21.actions["cp"]) == sorted(v21.actions["cp"], key=str.lower)


@pytest.mark.parametrize("entry", ENTRIES_2X, ids=lambda e: e.name)
def test_the_schemas_are_the_packages_draft_6_files_unchanged(entry: OcppVersion) -> None:
    for message in ("BootNotificationRequest", "TransactionEventRequest", "ResetResponse"):
        path = entry.schemas.path(message)
        assert path.parent.parent.parent.name == "ocpp", path
        assert load_schema(entry.name, message) == json.loads(path.read_text("utf-8"))
        assert load_schema(entry.name, message)["$schema"].startswith(
            "http://json-schema.org/draft-06/schema"
        )


# -- the 2.x error codes ---------------------------------------------------------------------------

_FAILURES: list[tuple[str, Any, str, str, str | None]] = [
    # message, payload, kind, code, field
    ("ResetRequest", {"type": "Sometimes"}, "value", "PropertyConstraintViolation", "type"),
    ("ResetRequest", {"type": "OnIdle", "bogus": 1}, "unknown_field", "FormatViolation", "bogus"),
    ("ResetRequest", {}, "occurrence", "OccurrenceConstraintViolation", "type"),
    (
        "ResetRequest",
        {"type": "OnIdle", "evseId": "1"},
        "type",
        "TypeConstraintViolation",
        "evseId",
    ),
    (
        "BootNotificationRequest",
        {"reason": "PowerUp", "chargingStation": {"model": "M" * 21, "vendorName": "V"}},
        "value",
        "PropertyConstraintViolation",
        "chargingStation.model",
    ),
    (
        "BootNotificationRequest",
        {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V", "x": 1}},
        "unknown_field",
        "FormatViolation",
        "chargingStation.x",
    ),
    (
        "StatusNotificationRequest",
        {"timestamp": "noon", "connectorStatus": "Available", "evseId": 1, "connectorId": 1},
        "value",
        "PropertyConstraintViolation",
        "timestamp",
    ),
    (
        "GetVariablesRequest",
        {"getVariableData": []},
        "occurrence",
        "OccurrenceConstraintViolation",
        "getVariableData",
    ),  # fmt: skip
    (
        "HeartbeatRequest",
        {"customData": {}},
        "occurrence",
        "OccurrenceConstraintViolation",
        "customData.vendorId",
    ),  # fmt: skip
    ("HeartbeatRequest", [], "type", "TypeConstraintViolation", None),
]


@pytest.mark.parametrize("entry", ENTRIES_2X, ids=lambda e: e.name)
def test_each_kind_of_schema_failure_gets_its_2x_code(entry: OcppVersion) -> None:
    """OCPP-J 2.0.1 Part 4 §4.3 (2.1 the same): a value not allowed (enumeration, length, date)
    is a PropertyConstraintViolation; a missing field or too few items an
    OccurrenceConstraintViolation; a wrong JSON type a TypeConstraintViolation; a field the
    schema does not define a FormatViolation (its additionalProperties false means "a JSON
    parser will not accept any other properties", Part 4 §6)."""
    for message, payload, kind, code, field in _FAILURES:
        found = validate(entry.name, message, payload)
        assert found is not None, (message, payload)
        assert (found.kind, found.code, found.field) == (kind, code, field), (message, payload)
    # customData is an extension point: anything inside it is accepted
    extended = {"customData": {"vendorId": "org.example", "anything": [1, {"x": 2}]}}
    assert validate(entry.name, "HeartbeatRequest", extended) is None


@pytest.mark.parametrize("entry", ENTRIES_2X, ids=lambda e: e.name)
def test_both_spellings_of_occurrence_are_read(entry: OcppVersion) -> None:
    """OCPP 1.6 wrote OccurenceConstraintViolation; some 2.0.1 implementations kept it."""
    for code in ("OccurrenceConstraintViolation", "OccurenceConstraintViolation"):
        assert entry.errors.knows(code)
        assert entry.errors.describe(code) == OCPP_2X.describe("OccurrenceConstraintViolation")
    assert entry.errors.knows("FormationViolation")
    assert entry.errors.code("occurrence") == "OccurrenceConstraintViolation"


@pytest.mark.parametrize("entry", ENTRIES_2X, ids=lambda e: e.name)
def test_an_rpc_session_of_2x_refuses_with_2x_codes(entry: OcppVersion) -> None:
    def refusal(service: str, frame: str) -> tuple[str, str]:
        event = RpcSession(entry.name, service).receive(frame)
        assert isinstance(event, CallRefused), event
        return event.error.unique_id, event.error.code

    assert refusal("cp", '[2,"a","Nope",{}]') == ("a", "NotImplemented")
    assert refusal("cp", '[2,"b","Reset"]') == ("b", "RpcFrameworkError")
    assert refusal("cp", '[2,"c","Reset",{"type":"Sometimes"}]') == (
        "c",
        "PropertyConstraintViolation",
    )
    assert refusal("cs", '[2,"d","Heartbeat",{"x":1}]') == ("d", "FormatViolation")
    assert refusal("cs", '[2,"e","StatusNotification",{}]') == (
        "e",
        "OccurrenceConstraintViolation",
    )


# -- defaults --------------------------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES_2X, ids=lambda e: e.name)
def test_defaults_not_written_by_hand_are_the_schemas_minimum_with_named_values(
    entry: OcppVersion,
) -> None:
    """A message without a curated default gets its required fields, each string from the
    table of names (the strict generator fails on a string it has no value for)."""
    made = 0
    for message in entry.messages():
        if entry.defaults.curated(message):  # type: ignore[attr-defined]
            continue
        schema = load_schema(entry.name, message)
        assert entry.defaults[message] == minimal(schema, strict=True), message
        made += 1
    assert made > 60


@pytest.mark.parametrize("entry", ENTRIES_2X, ids=lambda e: e.name)
def test_what_a_user_sees_most_is_written_by_hand(entry: OcppVersion) -> None:
    for action in (
        "BootNotification",
        "Authorize",
        "TransactionEvent",
        "StatusNotification",
        "MeterValues",
        "NotifyReport",
        "GetVariables",
        "SetVariables",
        "RequestStartTransaction",
        "SetChargingProfile",
        "GetCompositeSchedule",
        "DataTransfer",
    ):
        assert entry.defaults.curated(action + "Request"), action  # type: ignore[attr-defined]
    boot = default_payload(entry.name, "BootNotificationRequest")
    assert boot["chargingStation"]["vendorName"] == "DBT"
    assert boot["chargingStation"]["model"] == "NQC-ACDC"
    event = default_payload(entry.name, "TransactionEventRequest")
    assert (event["eventType"], event["idToken"]["idToken"]) == ("Started", "B4F62CEF")
    assert default_payload(entry.name, "ResetRequest") == {"type": "OnIdle"}
    assert default_payload("1.5", "ResetRequest") == {"type": "Soft"}  # each version its own


@needs_21
def test_the_send_of_2_1_has_a_default_valid_against_its_schema() -> None:
    payload = default_payload("2.1", "NotifyPeriodicEventStream")
    assert validate("2.1", "NotifyPeriodicEventStream", payload) is None
    assert payload["data"] and payload["id"] == 1


# -- a machine whose ocpp package has no 2.1 ----------------------------------------------------

_PROBE = """
import json
from ocppsim.core import versions
from ocppsim.core.station import VERSIONS, ChargingStation
out = {"names": versions.names(), "unavailable": versions.unavailable(),
       "subprotocols": versions.subprotocols(), "station": VERSIONS,
       "registered": [e.name for e in versions.registered()]}
for ask in (lambda: versions.get("2.1"), lambda: versions.by_subprotocol("ocpp2.1"),
            lambda: ChargingStation("2.1")):
    try:
        ask()
    except (LookupError, ValueError) as exc:
        out.setdefault("errors", []).append([type(exc).__name__, str(exc)])
print(json.dumps(out))
"""

NEEDS = "OCPP 2.1 needs the `ocpp` package 2.1 or newer (Python 3.11+)"


def test_without_the_2_1_schemas_2_1_says_what_it_needs_and_the_rest_works(tmp_path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env_without_ocpp_folders(tmp_path / "site", "v21"),
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(run.stdout)
    assert "2.1" not in found["names"] and "2.0.1" in found["names"]
    assert found["registered"][-1] == "2.1"
    assert found["unavailable"] == {"2.1": NEEDS}
    assert "ocpp2.1" not in found["subprotocols"] and "ocpp2.0.1" in found["subprotocols"]
    assert found["station"] == ["2.0.1"]
    assert found["errors"] == [
        ["VersionUnavailable", NEEDS],
        ["VersionUnavailable", NEEDS],
        ["ValueError", NEEDS],
    ]
