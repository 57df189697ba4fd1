"""What the 1.6 Charge Point model answers from its state (OCPP 1.6 §4.2, §5.1, §5.2, §5.9,
§5.10, §5.13-5.15, §5.17-5.19): boot and heartbeats, Reset and the reboot it asks for,
TriggerMessage, ChangeAvailability, UnlockConnector, reservations, the local list, firmware and
diagnostics; every payload checked against OCA's 1.6 schemas."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from cp_testing import T0, V16, Driven, actions, booted, check, of, statuses

from ocppsim.core.station import (
    HANDLED_CALLS_1X,
    ChargePointInfo,
    ChargePointModel,
    Reboot,
    StationRefusal,
)
from ocppsim.core.station.common import wire_time

# --- boot and heartbeats (§4.2, §4.6) ------------------------------------------------------------


def test_boot_accepted_reports_the_charge_point_and_every_connector() -> None:
    info = ChargePointInfo(
        vendor="ACME",
        model="Wallbox",
        serial_number="SN-1",
        firmware_version="1.2.3",
        meter_type="M1",
        connectors=2,
    )
    driven = Driven(V16, info)
    (boot,) = driven.cp.boot(driven.now)
    assert boot.payload == {
        "chargePointVendor": "ACME",
        "chargePointModel": "Wallbox",
        "chargePointSerialNumber": "SN-1",
        "firmwareVersion": "1.2.3",
        "meterType": "M1",
    }
    out = driven.result(
        boot, {"status": "Accepted", "interval": 90, "currentTime": "2026-11-24T10:00:00Z"}
    )
    assert statuses(out) == [(0, "Available"), (1, "Available"), (2, "Available")]
    assert driven.cp.registration == "Accepted"
    assert driven.cp.heartbeat_interval == 90
    driven.at(89)
    assert driven.tick() == []
    driven.at(90)
    assert actions(driven.tick()) == ["Heartbeat"]
    driven.at(150)
    driven.plug()  # any message resets the silence
    driven.at(239)
    assert driven.tick() == []
    driven.at(240)
    assert actions(driven.tick()) == ["Heartbeat"]


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_a_boot_not_accepted_is_retried_after_the_interval(status: str) -> None:
    driven = Driven()
    (boot,) = driven.cp.boot(driven.now)
    assert (
        driven.result(
            boot, {"status": status, "interval": 30, "currentTime": "2026-11-24T10:00:00Z"}
        )
        == []
    )
    driven.at(29)
    assert driven.tick() == []
    driven.at(30)
    (again,) = driven.tick()
    assert again.action == "BootNotification"
    assert actions(driven.answer_all([again])) == [
        "BootNotification",
        "StatusNotification",
        "StatusNotification",
    ]


def test_a_boot_that_fails_is_retried_a_minute_later() -> None:
    driven = Driven()
    (boot,) = driven.cp.boot(driven.now)
    assert driven.cp.on_failure("BootNotification", boot.payload, driven.now) == []
    driven.at(60)
    assert actions(driven.tick()) == ["BootNotification"]


# --- Reset (§5.14) -------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["Hard", "Soft"])
def test_reset_stops_transactions_and_asks_for_a_reboot(kind: str) -> None:
    driven = booted(connectors=2)
    transaction_id = driven.charging()
    driven.at(60)
    reply = driven.call("Reset", {"type": kind})
    assert reply.payload == {"status": "Accepted"}
    (stop,) = of(reply.outgoing, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, f"{kind}Reset")
    assert driven.cp.reboot == Reboot(f"{kind}Reset")
    driven.answer_all(reply.outgoing)
    # the simulator reconnects and boots again: every status is reported again
    driven.at(70)
    out = driven.boot()
    assert driven.cp.reboot is None
    assert actions(out)[0] == "BootNotification"
    assert statuses(out) == [(0, "Available"), (1, "Finishing"), (2, "Available")]


# --- TriggerMessage (§5.17) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requested", "sent"),
    [
        ("BootNotification", ["BootNotification"]),
        ("Heartbeat", ["Heartbeat"]),
        ("StatusNotification", ["StatusNotification"] * 3),
        ("MeterValues", ["MeterValues"] * 2),
        ("DiagnosticsStatusNotification", ["DiagnosticsStatusNotification"]),
        ("FirmwareStatusNotification", ["FirmwareStatusNotification"]),
    ],
)
def test_trigger_message_sends_what_is_asked_after_the_answer(
    requested: str, sent: list[str]
) -> None:
    driven = booted(connectors=2)
    reply = driven.call("TriggerMessage", {"requestedMessage": requested})
    assert reply.payload == {"status": "Accepted"}
    assert actions(reply.outgoing) == sent


def test_trigger_message_for_one_connector() -> None:
    driven = booted(connectors=2)
    driven.charging(connector=2)
    driven.at(30)
    reply = driven.call(
        "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2}
    )
    assert statuses(reply.outgoing) == [(2, "Charging")]
    reply = driven.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 2})
    (meter,) = of(reply.outgoing, "MeterValues")
    assert meter["connectorId"] == 2 and meter["transactionId"] == 1
    assert {sv["context"] for sv in meter["meterValue"][0]["sampledValue"]} == {"Trigger"}
    reply = driven.call(
        "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 5}
    )
    assert reply == ({"status": "Rejected"}, [])
    reply = driven.call("TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"})
    assert of(reply.outgoing, "DiagnosticsStatusNotification") == [{"status": "Idle"}]


# --- ChangeAvailability (§5.2) -------------------------------------------------------------------


def test_change_availability_of_a_connector() -> None:
    driven = booted(connectors=2)
    reply = driven.call("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(2, "Unavailable")]
    reply = driven.call("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"})
    assert reply == ({"status": "Accepted"}, [])  # nothing changes
    reply = driven.call("ChangeAvailability", {"connectorId": 3, "type": "Inoperative"})
    assert reply.payload == {"status": "Rejected"}
    reply = driven.call("ChangeAvailability", {"connectorId": 2, "type": "Operative"})
    assert statuses(reply.outgoing) == [(2, "Available")]


def test_change_availability_during_a_transaction_is_scheduled() -> None:
    driven = booted(connectors=2)
    driven.charging(connector=1)
    reply = driven.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert reply == ({"status": "Scheduled"}, [])
    reply = driven.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert reply == ({"status": "Scheduled"}, [])
    assert driven.cp.connector_status(1, driven.now) == "Charging"
    driven.at(60)
    out = driven.badge("TAG-1")
    assert actions(out)[0] == "StopTransaction"
    assert statuses(out) == [(0, "Unavailable"), (1, "Unavailable"), (2, "Unavailable")]
    reply = driven.call("ChangeAvailability", {"connectorId": 0, "type": "Operative"})
    assert statuses(reply.outgoing) == [(0, "Available"), (2, "Available")]  # 1 stays Inoperative
    assert driven.cp.connector_status(1, driven.now) == "Unavailable"


def test_a_fault_stops_the_transaction_and_shows() -> None:
    driven = booted()
    driven.charging()
    driven.at(30)
    out = driven.fault(1, code="GroundFailure")
    assert of(out, "StopTransaction")[0]["reason"] == "Other"
    assert of(out, "StatusNotification")[-1]["errorCode"] == "GroundFailure"
    assert statuses(out) == [(1, "Faulted")]
    assert statuses(driven.fault(1, faulted=False)) == [(1, "Finishing")]


# --- UnlockConnector (§5.18) ---------------------------------------------------------------------


def test_unlock_connector() -> None:
    driven = booted(connectors=2)
    assert driven.call("UnlockConnector", {"connectorId": 1}).payload == {"status": "Unlocked"}
    transaction_id = driven.charging(connector=2)
    reply = driven.call("UnlockConnector", {"connectorId": 2})
    assert reply.payload == {"status": "Unlocked"}
    (stop,) = of(reply.outgoing, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, "UnlockCommand")
    for unknown in (0, 3):
        reply = driven.call("UnlockConnector", {"connectorId": unknown})
        assert reply.payload == {"status": "NotSupported"}
    driven.cp.connectors[1].fixed_cable = True
    assert driven.call("UnlockConnector", {"connectorId": 1}).payload == {"status": "NotSupported"}
    driven.fault(2, code="ConnectorLockFailure")
    assert driven.call("UnlockConnector", {"connectorId": 2}).payload == {"status": "UnlockFailed"}


# --- reservations (§5.13, §5.1) ------------------------------------------------------------------


def reserve(
    driven: Driven,
    connector: int,
    id_tag: str,
    reservation: int = 1,
    seconds: int = 600,
    parent: str | None = None,
) -> str:
    payload = {
        "connectorId": connector,
        "expiryDate": wire_time(driven.now + timedelta(seconds=seconds)),
        "idTag": id_tag,
        "reservationId": reservation,
    }
    if parent is not None:
        payload["parentIdTag"] = parent
    reply = driven.call("ReserveNow", payload)
    return str(reply.payload["status"])


def test_a_reservation_holds_the_connector_for_its_id_tag() -> None:
    driven = booted()
    assert reserve(driven, 1, "RESERVED", reservation=7) == "Accepted"
    assert driven.cp.connector_status(1, driven.now) == "Reserved"
    driven.plug()
    assert actions(driven.answer_all(driven.badge("SOMEONE"))) == ["Authorize"]  # no start
    out = driven.answer_all(driven.badge("RESERVED"))
    (start,) = of(out, "StartTransaction")
    assert start["reservationId"] == 7
    assert driven.cp.reservations == {}  # used up


def test_a_reservation_admits_the_same_parent() -> None:
    driven = booted()
    driven.id_tag_info["CHILD"] = {"status": "Accepted", "parentIdTag": "FAMILY"}
    assert reserve(driven, 1, "OTHER", parent="FAMILY") == "Accepted"
    driven.plug()
    out = driven.answer_all(driven.badge("CHILD"))
    assert of(out, "StartTransaction")[0]["reservationId"] == 1


def test_a_reservation_expires() -> None:
    driven = booted()
    assert reserve(driven, 1, "R", seconds=300) == "Accepted"
    driven.at(299)
    assert driven.tick() == []
    driven.at(300)
    assert statuses(driven.tick()) == [(1, "Available")]
    assert driven.cp.reservations == {}


def test_reserve_now_answers_from_the_connectors_state() -> None:
    driven = booted(connectors=4)
    driven.charging(connector=1)
    driven.fault(2)
    driven.call("ChangeAvailability", {"connectorId": 3, "type": "Inoperative"})
    assert reserve(driven, 1, "R", 1) == "Occupied"
    assert reserve(driven, 2, "R", 2) == "Faulted"
    assert reserve(driven, 3, "R", 3) == "Unavailable"
    assert reserve(driven, 9, "R", 4) == "Rejected"
    assert reserve(driven, 4, "R", 5, seconds=-1) == "Rejected"  # already expired
    assert reserve(driven, 4, "R", 6) == "Accepted"
    assert reserve(driven, 4, "S", 7) == "Occupied"  # reserved for someone else
    assert reserve(driven, 4, "S", 6) == "Accepted"  # the same reservationId replaces it
    assert driven.cp.reservations[6].id_tag == "S"


def test_cancel_reservation() -> None:
    driven = booted()
    reserve(driven, 1, "R", reservation=3)
    assert driven.call("CancelReservation", {"reservationId": 4}).payload == {"status": "Rejected"}
    reply = driven.call("CancelReservation", {"reservationId": 3})
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(1, "Available")]


def test_a_reservation_of_connector_zero_keeps_one_connector_free() -> None:
    driven = booted(connectors=2)
    assert reserve(driven, 0, "VIP") == "Accepted"
    assert driven.cp.connector_status(1, driven.now) == "Available"
    driven.charging("FIRST", connector=1)
    driven.plug(2)
    assert actions(driven.answer_all(driven.badge("SECOND", 2))) == ["Authorize"]  # held
    out = driven.answer_all(driven.badge("VIP", 2))
    assert of(out, "StartTransaction")[0]["reservationId"] == 1
    driven.cp.configuration.set("ReserveConnectorZeroSupported", "false")
    assert reserve(driven, 0, "VIP", reservation=2) == "Rejected"


# --- local list (§5.10, §5.15) -------------------------------------------------------------------


def send_list(
    driven: Driven, version: int, kind: str, entries: list[dict[str, object]] | None
) -> str:
    payload: dict[str, object] = {"listVersion": version, "updateType": kind}
    if entries is not None:
        payload["localAuthorizationList"] = entries
    return str(driven.call("SendLocalList", payload).payload["status"])


def list_version(driven: Driven) -> int:
    return int(driven.call("GetLocalListVersion", {}).payload["listVersion"])


def test_local_list_versions() -> None:
    driven = booted()
    accepted = {"status": "Accepted"}
    assert list_version(driven) == 0
    assert send_list(driven, 3, "Full", [{"idTag": "A", "idTagInfo": accepted}]) == "Accepted"
    assert list_version(driven) == 3
    assert (
        send_list(driven, 3, "Differential", [{"idTag": "B", "idTagInfo": accepted}])
        == "VersionMismatch"
    )
    assert (
        send_list(driven, 4, "Differential", [{"idTag": "B", "idTagInfo": accepted}]) == "Accepted"
    )
    assert set(driven.cp.local_list) == {"A", "B"}
    assert send_list(driven, 5, "Differential", [{"idTag": "A"}]) == "Accepted"  # removed
    assert set(driven.cp.local_list) == {"B"}
    assert list_version(driven) == 5
    assert send_list(driven, 1, "Full", [{"idTag": "C"}]) == "Failed"  # Full needs idTagInfo
    assert send_list(driven, 1, "Full", None) == "Accepted"  # an empty list
    assert list_version(driven) == 0


def test_local_list_limits_and_support() -> None:
    driven = booted()
    entries = [{"idTag": f"T{i}", "idTagInfo": {"status": "Accepted"}} for i in range(101)]
    assert send_list(driven, 1, "Full", entries) == "Failed"  # SendLocalListMaxLength 100
    driven.cp.configuration.set("LocalAuthListMaxLength", "150")
    assert send_list(driven, 1, "Full", entries[:100]) == "Accepted"
    assert send_list(driven, 2, "Differential", entries[100:]) == "Accepted"
    assert (
        send_list(
            driven,
            3,
            "Differential",
            [{"idTag": f"U{i}", "idTagInfo": {"status": "Accepted"}} for i in range(50)],
        )
        == "Failed"
    )
    driven.call("ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "false"})
    assert send_list(driven, 9, "Full", []) == "NotSupported"
    driven.cp.configuration.set("SupportedFeatureProfiles", "Core")
    assert list_version(driven) == -1


# --- firmware and diagnostics (§5.9, §5.19) ------------------------------------------------------


def test_update_firmware_reports_each_step() -> None:
    driven = booted()
    start = wire_time(driven.now + timedelta(seconds=10))
    reply = driven.call(
        "UpdateFirmware", {"location": "https://fw.example/1.bin", "retrieveDate": start}
    )
    assert reply == ({}, [])
    driven.at(5)
    reply = driven.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert of(reply.outgoing, "FirmwareStatusNotification") == [{"status": "Idle"}]
    seen = []
    for second in range(10, 40):
        driven.at(second)
        seen += [p["status"] for p in of(driven.tick(), "FirmwareStatusNotification")]
        if second == 17:
            reply = driven.call(
                "TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"}
            )
            assert of(reply.outgoing, "FirmwareStatusNotification") == [{"status": "Downloaded"}]
    assert seen == ["Downloading", "Downloaded", "Installing", "Installed"]


def test_get_diagnostics_names_the_file_and_uploads_it() -> None:
    driven = booted(identity="CP-9")
    reply = driven.call("GetDiagnostics", {"location": "ftp://logs.example/up"})
    assert reply.payload == {"fileName": "diagnostics-CP-9-20261124T100000Z.log"}
    assert of(reply.outgoing, "DiagnosticsStatusNotification") == [{"status": "Uploading"}]
    driven.at(5)
    assert of(driven.tick(), "DiagnosticsStatusNotification") == [{"status": "Uploaded"}]


# --- the rest ------------------------------------------------------------------------------------


def test_data_transfer_knows_no_vendor() -> None:
    driven = booted()
    reply = driven.call("DataTransfer", {"vendorId": "com.example"})
    assert reply.payload == {"status": "UnknownVendorId"}


def test_a_payload_the_model_cannot_read_is_a_format_refusal() -> None:
    model = ChargePointModel()
    with pytest.raises(StationRefusal) as refusal:
        model.on_call("ChangeAvailability", {"type": "Operative"}, T0)
    assert refusal.value.kind == "format"


def test_what_the_model_answers() -> None:
    model = ChargePointModel()
    assert all(
        model.handles(a)
        for a in HANDLED_CALLS_1X
        - {"DeleteCertificate", "GetInstalledCertificateIds", "InstallCertificate"}
    )
    assert not model.handles("InstallCertificate")  # no certificate store given
    assert model.on_call("InstallCertificate", {}, T0) is None
    assert not model.handles("Heartbeat")
    with pytest.raises(ValueError, match="2.0.1"):
        ChargePointModel("2.0.1")
    with pytest.raises(ValueError, match="no OCPP version"):
        ChargePointModel("1.7")


def test_time_must_be_aware() -> None:
    model = ChargePointModel()
    with pytest.raises(ValueError, match="aware"):
        model.boot(T0.replace(tzinfo=None))


def test_the_model_imports_no_io() -> None:
    code = (
        "import sys\n"
        "from ocppsim.core.station import ChargePointModel\n"
        "from datetime import datetime, timezone\n"
        "m = ChargePointModel()\n"
        "m.boot(datetime.now(timezone.utc))\n"
        "bad = [m for m in ('asyncio', 'websockets', 'lxml', 'prompt_toolkit', 'socket',"
        " 'aiohttp', 'zeep', 'cryptography') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_schema_check_of_these_tests_checks() -> None:
    """The checker the tests use refuses a bad date-time and a limit that is no multiple of 0.1,
    and takes 8.1 (a float that binary rounding makes no multiple)."""
    good = {"status": "Accepted", "currentTime": "2026-11-24T10:00:00Z", "interval": 1}
    check(V16, "BootNotificationResponse", good)
    with pytest.raises(AssertionError, match="date-time"):
        check(V16, "BootNotificationResponse", {**good, "currentTime": "2026-11-24 10:00"})
    schedule = {
        "chargingRateUnit": "A",
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 8.1}],
    }
    answer = {"status": "Accepted", "chargingSchedule": schedule}
    check(V16, "GetCompositeScheduleResponse", answer)
    schedule["chargingSchedulePeriod"][0]["limit"] = 8.15
    with pytest.raises(AssertionError, match="multiple"):
        check(V16, "GetCompositeScheduleResponse", answer)


def test_dates_at_the_edges() -> None:
    driven = booted()
    far = {"location": "https://fw.example/x", "retrieveDate": "9999-12-31T23:59:59Z"}
    with pytest.raises(StationRefusal) as refusal:  # its steps would end after year 9999
        driven.cp.on_call("UpdateFirmware", far, driven.now)
    assert refusal.value.kind == "value"  # a valid date out of range, not an unreadable one
    precise = {
        "connectorId": 1,
        "expiryDate": "2026-11-24T10:10:00.1234567+01:00",  # 09:10 UTC: already past
        "idTag": "R",
        "reservationId": 1,
    }
    assert driven.call("ReserveNow", precise).payload == {"status": "Rejected"}
    later = {**precise, "expiryDate": "2026-11-24T10:10:00.5Z"}
    assert driven.call("ReserveNow", later).payload == {"status": "Accepted"}
    assert driven.cp.reservations[1].expiry == T0 + timedelta(seconds=600.5)


def test_a_valid_value_too_large_to_compute_with_is_out_of_range_not_unreadable() -> None:
    """A GetCompositeSchedule of 10**15 s is valid for the schema but overflows a date:
    refused as a value out of range (TypeConstraintViolation in 1.x, as a schema's range
    is), not as a payload that cannot be read (FormationViolation)."""
    driven = booted()
    with pytest.raises(StationRefusal) as refused:
        driven.cp.on_call("GetCompositeSchedule", {"connectorId": 1, "duration": 10**15}, T0)
    assert refused.value.kind == "value" and "out of range" in refused.value.description
