"""What a simulated 2.x charging station answers from its state: boot and heartbeats,
ChangeAvailability, UnlockConnector, Reset, TriggerMessage, faults (OCPP 2.0.1 Part 2 §B01-B03,
§B11-B12, §G03-G04, §F05-F06); every payload checked against the official schemas."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from ocppsim_testing import needs_version
from station_testing import T0, VERSIONS, Driven, actions, energy, events, statuses

from ocppsim.core.station import (
    HANDLED_CALLS,
    ChargingStation,
    Outgoing,
    Reboot,
    StationError,
    StationInfo,
    StationRefusal,
)


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def booted(version: str, **info: object) -> Driven:
    driven = Driven(version, StationInfo(**info))  # type: ignore[arg-type]
    driven.boot()
    driven.sent.clear()
    return driven


def charging(driven: Driven, evse: int = 1) -> str:
    """Plug in and badge at an EVSE; the transaction id."""
    driven.plug(evse)
    driven.answer_all(driven.badge(f"B{evse}", evse))
    tx = driven.station.transaction(evse)
    assert tx is not None
    return tx.transaction_id


# --- boot and heartbeats (B01-B03) ---------------------------------------------------------------


def test_boot_accepted_sets_the_heartbeat_and_reports_every_connector(version: str) -> None:
    driven = Driven(
        version,
        StationInfo(evses=(1, 2), serial_number="SN-1", firmware_version="1.2.3", model="M"),
    )
    (boot,) = driven.station.boot(driven.now)
    assert boot.payload == {
        "chargingStation": {
            "model": "M",
            "vendorName": "ocppsim",
            "serialNumber": "SN-1",
            "firmwareVersion": "1.2.3",
        },
        "reason": "PowerUp",
    }
    out = driven.result(
        boot, {"status": "Accepted", "interval": 90, "currentTime": "2026-11-24T10:00:00Z"}
    )
    assert statuses(out) == [(1, 1, "Available"), (2, 1, "Available"), (2, 2, "Available")]
    assert driven.station.registration == "Accepted"
    assert driven.station.heartbeat_interval == 90
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


def test_a_pending_boot_is_retried_after_the_interval(version: str) -> None:
    driven = Driven(version)
    (boot,) = driven.station.boot(driven.now)
    pending = {"status": "Pending", "interval": 30, "currentTime": "2026-11-24T10:00:00Z"}
    assert driven.result(boot, pending) == []
    driven.at(29)
    assert driven.tick() == []
    driven.at(30)
    (again,) = driven.tick()
    assert again.action == "BootNotification"
    assert actions(driven.answer_all([again])) == ["BootNotification", "StatusNotification"]
    driven.at(200)
    assert actions(driven.tick()) == []  # no heartbeat before the interval (300 s)


# --- ChangeAvailability (G03, G04) ---------------------------------------------------------------


def test_change_availability_of_the_station(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    reply = driven.call("ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(1, 1, "Unavailable"), (2, 1, "Unavailable")]  # G04.FR.05
    model = driven.station.model
    assert model.value("ChargingStation", "AvailabilityState") == "Unavailable"
    assert model.value("Connector", "AvailabilityState", evse=2, connector=1) == "Unavailable"
    again = driven.call("ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert again.payload == {"status": "Accepted"} and again.outgoing == []  # G04.FR.04
    with pytest.raises(StationError, match="EVSE 1 is Unavailable"):
        driven.badge("B")
    token = {"idToken": "APP", "type": "Central"}
    rejected = driven.call(
        "RequestStartTransaction", {"idToken": token, "remoteStartId": 1, "evseId": 1}
    )
    assert rejected.payload["status"] == "Rejected"  # F01.FR.23
    back = driven.call("ChangeAvailability", {"operationalStatus": "Operative"})
    assert statuses(back.outgoing) == [(1, 1, "Available"), (2, 1, "Available")]  # G04.FR.08


def test_change_availability_is_scheduled_during_a_transaction(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    charging(driven, 1)
    evse = {"id": 1}
    reply = driven.call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": evse})
    assert reply.payload == {"status": "Scheduled"} and reply.outgoing == []  # G03.FR.05
    other = driven.call(
        "ChangeAvailability", {"operationalStatus": "Inoperative", "evse": {"id": 2}}
    )
    assert other.payload == {"status": "Accepted"}
    assert statuses(other.outgoing) == [(2, 1, "Unavailable")]  # only that EVSE (G03.FR.06)
    station = driven.call("ChangeAvailability", {"operationalStatus": "Inoperative"})
    assert station.payload == {"status": "Scheduled"}  # G04.FR.06
    out = driven.badge("B1")  # the driver ends it: now it happens
    assert actions(out) == ["TransactionEvent", "StatusNotification"]
    assert statuses(out) == [(1, 1, "Unavailable")]  # still plugged, but Unavailable
    assert driven.station.operative is False
    assert statuses(driven.unplug()) == []  # unplugging an Unavailable connector changes nothing


def test_change_availability_of_a_connector(version: str) -> None:
    driven = booted(version, evses=(2,))
    target = {"id": 1, "connectorId": 2}
    reply = driven.call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": target})
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(1, 2, "Unavailable")]
    assert driven.station.connector_status(1, 1) == "Available"


@pytest.mark.parametrize(
    ("evse", "reason"),
    [({"id": 7}, "UnknownEvse"), ({"id": 1, "connectorId": 3}, "UnknownConnectorId")],
)
def test_change_availability_of_what_is_not_there(
    version: str, evse: dict[str, int], reason: str
) -> None:
    driven = booted(version)
    reply = driven.call("ChangeAvailability", {"operationalStatus": "Inoperative", "evse": evse})
    assert reply.payload["status"] == "Rejected"
    assert reply.payload["statusInfo"]["reasonCode"] == reason


# --- UnlockConnector (F05) -----------------------------------------------------------------------


def test_unlock_connector(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    unlock = {"evseId": 1, "connectorId": 1}
    assert driven.call("UnlockConnector", unlock).payload == {"status": "Unlocked"}  # F05.FR.06
    charging(driven, 1)
    assert driven.call("UnlockConnector", unlock).payload == {
        "status": "OngoingAuthorizedTransaction"  # F05.FR.02
    }
    assert driven.station.transaction(1) is not None  # nothing stopped
    missing = {"evseId": 1, "connectorId": 2}
    assert driven.call("UnlockConnector", missing).payload == {"status": "UnknownConnector"}
    missing = {"evseId": 3, "connectorId": 1}
    assert driven.call("UnlockConnector", missing).payload == {"status": "UnknownConnector"}
    driven.station.evses[2].connectors[1].fixed_cable = True
    failed = driven.call("UnlockConnector", {"evseId": 2, "connectorId": 1}).payload
    assert failed["status"] == "UnlockFailed"
    assert failed["statusInfo"]["reasonCode"] == "FixedCable"


# --- DataTransfer, firmware, logs, reservations (P01, L01, N01, H01-H03) -----------------------


def test_data_transfer_of_any_vendor_is_unknown(version: str) -> None:
    driven = booted(version)
    reply = driven.call("DataTransfer", {"vendorId": "org.example", "messageId": "x"})
    assert reply.payload == {"status": "UnknownVendorId"}  # P01.FR.06


def test_update_firmware_reports_each_step_with_its_request_id(version: str) -> None:
    driven = booted(version, transfer_seconds=5)
    firmware = {"location": "https://fw.example/x.bin", "retrieveDateTime": "2026-11-24T10:00:10Z"}
    reply = driven.call("UpdateFirmware", {"requestId": 7, "firmware": firmware})
    assert reply.payload == {"status": "Accepted"} and reply.outgoing == []
    assert driven.station.next_due(driven.now) == T0 + timedelta(seconds=10)
    driven.at(10).tick()
    assert driven.sent[-1] == Outgoing(
        "FirmwareStatusNotification", {"status": "Downloading", "requestId": 7}
    )
    triggered = driven.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert triggered.outgoing[0].payload == {"status": "Downloading", "requestId": 7}
    again = driven.call("UpdateFirmware", {"requestId": 8, "firmware": firmware})
    assert again.payload == {"status": "AcceptedCanceled"}  # L01.FR.24
    driven.at(100).tick()
    assert [o.payload["status"] for o in driven.sent if o.payload.get("requestId") == 8] == [
        "Downloading",
        "Downloaded",
        "Installing",
        "Installed",
    ]
    idle = driven.call("TriggerMessage", {"requestedMessage": "FirmwareStatusNotification"})
    assert idle.outgoing[0].payload == {"status": "Idle"}  # F06.FR.16


def test_get_log_uploads_with_its_request_id(version: str) -> None:
    driven = booted(version, transfer_seconds=5)
    log = {"logType": "DiagnosticsLog", "requestId": 9, "log": {"remoteLocation": "ftp://x/"}}
    reply = driven.call("GetLog", log)
    assert reply.payload["status"] == "Accepted" and reply.payload["filename"].endswith(".log")
    assert reply.outgoing == [
        Outgoing("LogStatusNotification", {"status": "Uploading", "requestId": 9})
    ]
    driven.at(5).tick()
    assert driven.sent[-1].payload == {"status": "Uploaded", "requestId": 9}


def test_a_reservation_is_held_cancelled_used_and_expires(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    token = {"idToken": "B4F62CEF", "type": "ISO14443"}
    reserve = {"id": 1, "expiryDateTime": "2026-11-24T11:00:00Z", "idToken": token, "evseId": 1}
    reply = driven.call("ReserveNow", reserve)
    assert reply.payload == {"status": "Accepted"}
    assert [o.payload["connectorStatus"] for o in reply.outgoing] == ["Reserved"]
    assert driven.call("CancelReservation", {"reservationId": 1}).payload == {"status": "Accepted"}
    assert driven.sent[-1].payload["connectorStatus"] == "Available"
    refused = driven.call("CancelReservation", {"reservationId": 1}).payload
    assert refused == {"status": "Rejected"}  # H02.FR.02
    charging(driven, 2)
    busy = driven.call("ReserveNow", {**reserve, "evseId": 2})
    assert busy.payload == {"status": "Occupied"}
    driven.call("ReserveNow", {**reserve, "id": 2, "expiryDateTime": "2026-11-24T10:01:00Z"})
    assert driven.station.next_due(driven.now) == T0 + timedelta(seconds=60)
    driven.at(60).tick()
    expired = [o for o in driven.sent if o.action == "ReservationStatusUpdate"]
    assert expired == [
        Outgoing(
            "ReservationStatusUpdate", {"reservationId": 2, "reservationUpdateStatus": "Expired"}
        )
    ]
    assert driven.station.connector_status(1, 1) == "Available"
    driven.call("ReserveNow", {**reserve, "id": 3})
    charging(driven, 1)  # the reservation is used (H03)
    assert driven.call("CancelReservation", {"reservationId": 3}).payload == {"status": "Rejected"}


# --- Reset (B11, B12, 2.1 B13) ------------------------------------------------------------------


def test_immediate_reset_without_transactions_reboots(version: str) -> None:
    driven = booted(version)
    reply = driven.call("Reset", {"type": "Immediate"})
    assert reply.payload == {"status": "Accepted"} and reply.outgoing == []
    assert driven.station.reboot == Reboot("RemoteReset")  # the simulator reconnects, then boots
    assert driven.station.take_reboot() == Reboot("RemoteReset")
    assert driven.station.reboot is None
    out = driven.answer_all(driven._took(driven.station.boot(driven.now)))
    assert (out[0].action, out[0].payload["reason"]) == ("BootNotification", "RemoteReset")
    assert actions(out) == ["BootNotification", "StatusNotification"]
    assert driven.station.boot(driven.now)[0].payload["reason"] == "PowerUp"  # once only


def test_immediate_reset_ends_the_transactions_first(version: str) -> None:
    driven = booted(version)
    charging(driven)
    driven.at(60)
    reply = driven.call("Reset", {"type": "Immediate"})
    assert reply.payload == {"status": "Accepted"}  # B12.FR.02
    assert actions(reply.outgoing) == ["TransactionEvent"]  # B12.FR.04: ended, then reboot
    assert driven.station.take_reboot() == Reboot("RemoteReset")
    ended = reply.outgoing[0].payload
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "ResetCommand")
    assert ended["transactionInfo"]["stoppedReason"] == "ImmediateReset"
    assert energy(ended)[-1] > 0


def test_on_idle_reset_waits_for_the_transaction(version: str) -> None:
    driven = booted(version)
    charging(driven)
    reply = driven.call("Reset", {"type": "OnIdle"})
    assert reply.payload == {"status": "Scheduled"} and reply.outgoing == []  # B12.FR.01
    driven.at(60)
    out = driven.badge("B1")
    assert actions(out) == ["TransactionEvent"]
    assert driven.station.take_reboot() == Reboot("ScheduledReset")
    assert driven.station.boot(driven.now)[0].payload["reason"] == "ScheduledReset"


def test_reset_of_an_evse(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    charging(driven, 2)
    idle = driven.call("Reset", {"type": "OnIdle", "evseId": 1})
    assert idle.payload == {"status": "Accepted"} and idle.outgoing == []  # nothing to end
    scheduled = driven.call("Reset", {"type": "OnIdle", "evseId": 2})
    assert scheduled.payload == {"status": "Scheduled"}
    reply = driven.call("Reset", {"type": "Immediate", "evseId": 2})
    assert reply.payload == {"status": "Accepted"}
    assert actions(reply.outgoing) == ["TransactionEvent"]  # B12.FR.08: no reboot
    assert driven.station.registration == "Accepted" and driven.station.reboot is None
    unknown = driven.call("Reset", {"type": "Immediate", "evseId": 5})
    assert unknown.payload["status"] == "Rejected"
    assert unknown.payload["statusInfo"]["reasonCode"] == "UnknownEvse"


@needs_version("2.1")
def test_2_1_immediate_and_resume_is_rejected() -> None:
    """This station does not resume transactions: no TxResumptionTimeout (2.1 B13.FR.01)."""
    driven = booted("2.1")
    reply = driven.call("Reset", {"type": "ImmediateAndResume"})
    assert reply.payload["status"] == "Rejected" and reply.outgoing == []


# --- TriggerMessage (F06) ------------------------------------------------------------------------


def trigger(driven: Driven, message: str, **evse: int) -> tuple[str, list[str], list[Outgoing]]:
    """TriggerMessage: the status, the actions that follow, and the CALLs themselves."""
    payload: dict[str, Any] = {"requestedMessage": message}
    if evse:
        payload["evse"] = evse
    reply = driven.call("TriggerMessage", payload)
    return reply.payload["status"], actions(reply.outgoing), reply.outgoing


def test_trigger_message(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    assert trigger(driven, "BootNotification")[:2] == ("Rejected", [])  # F06.FR.17: accepted
    assert trigger(driven, "Heartbeat")[:2] == ("Accepted", ["Heartbeat"])
    status, names, out = trigger(driven, "StatusNotification", id=2, connectorId=1)
    assert (status, statuses(out)) == ("Accepted", [(2, 1, "Available")])
    assert trigger(driven, "StatusNotification", id=2)[:2] == ("Rejected", [])  # F06.FR.12
    assert trigger(driven, "StatusNotification", id=2, connectorId=4)[:2] == ("Rejected", [])
    status, names, out = trigger(driven, "MeterValues")
    assert (status, names) == ("Accepted", ["MeterValues", "MeterValues"])  # F06.FR.11: all EVSEs
    assert [o.payload["evseId"] for o in out] == [1, 2]
    contexts = {sv["context"] for o in out for sv in o.payload["meterValue"][0]["sampledValue"]}
    assert contexts == {"Trigger"}
    assert trigger(driven, "TransactionEvent")[:2] == ("Rejected", [])  # nothing ongoing
    charging(driven, 2)
    status, names, out = trigger(driven, "TransactionEvent")
    assert (status, names) == ("Accepted", ["TransactionEvent"])  # F06.FR.07
    assert out[0].payload["triggerReason"] == "Trigger"
    assert out[0].payload["transactionInfo"]["chargingState"] == "Charging"
    status, names, out = trigger(driven, "MeterValues", id=2)
    assert (status, [o.payload["evseId"] for o in out]) == ("Accepted", [2])
    assert trigger(driven, "Heartbeat", id=9)[:2] == ("Rejected", [])  # unknown EVSE
    status, names, out = trigger(driven, "LogStatusNotification")
    assert (status, out[0].payload) == ("Accepted", {"status": "Idle"})  # F06.FR.15
    status, names, out = trigger(driven, "FirmwareStatusNotification")
    assert (status, out[0].payload) == ("Accepted", {"status": "Idle"})  # F06.FR.16
    assert trigger(driven, "SignChargingStationCertificate")[:2] == ("NotImplemented", [])
    assert trigger(driven, "SignV2GCertificate")[:2] == ("NotImplemented", [])  # F06.FR.08
    assert trigger(driven, "PublishFirmwareStatusNotification")[:2] == ("NotImplemented", [])


def test_trigger_boot_before_acceptance_and_a_csr_when_the_station_can_make_one(
    version: str,
) -> None:
    made: list[tuple[str, str | None]] = []

    def make_csr(common_name: str, organization: str | None) -> str:
        made.append((common_name, organization))
        return "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"

    driven = Driven(
        version,
        StationInfo(identity="cs-9", serial_number="SN-9", organization="CPO"),
        make_csr=make_csr,
    )
    status, names, out = trigger(driven, "BootNotification")
    assert (status, out[0].payload["reason"]) == ("Accepted", "Triggered")
    status, names, out = trigger(driven, "SignChargingStationCertificate")
    assert (status, names) == ("Accepted", ["SignCertificate"])
    assert out[0].payload["certificateType"] == "ChargingStationCertificate"
    assert out[0].payload["csr"].startswith("-----BEGIN CERTIFICATE REQUEST-----")
    # CN = the identity, as profile 3 checks it (A00.FR.511 says serial number), O = organization
    assert made == [("cs-9", "CPO")]


# --- faults, clock-aligned data, odd input --------------------------------------------------------


def test_a_fault_ends_the_transaction_and_is_reported(version: str) -> None:
    driven = booted(version)
    charging(driven)
    out = driven.fault(1, 1)
    assert actions(out) == ["TransactionEvent", "StatusNotification"]
    ended = out[0].payload
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "AbnormalCondition",  # E06.FR.16
        "Other",
    )
    assert statuses(out) == [(1, 1, "Faulted")]
    assert driven.station.model.value("EVSE", "AvailabilityState", evse=1) == "Faulted"
    assert statuses(driven.fault(1, 1, faulted=False)) == [(1, 1, "Occupied")]


def test_clock_aligned_meter_values(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    item = {"component": {"name": "AlignedDataCtrlr"}, "variable": {"name": "Interval"}}
    driven.call("SetVariables", {"setVariableData": [{**item, "attributeValue": "900"}]})
    charging(driven, 2)
    driven.at(60)
    driven.tick()  # the first tick only finds the current slot
    driven.sent.clear()
    driven.at(899)
    assert [o for o in driven.tick() if o.action == "MeterValues"] == []
    driven.at(905)
    out = driven.tick()
    idle = [o.payload for o in out if o.action == "MeterValues"]
    assert [p["evseId"] for p in idle] == [1]  # the idle EVSE
    assert idle[0]["meterValue"][0]["timestamp"] == "2026-11-24T10:15:00.000Z"
    busy = [e for e in events(out) if e["triggerReason"] == "MeterValueClock"]
    assert [e["evse"]["id"] for e in busy] == [2]  # in the transaction's events
    assert busy[0]["meterValue"][0]["sampledValue"][0]["context"] == "Sample.Clock"


def test_unreadable_payloads_are_refused_not_crashed_on(version: str) -> None:
    station = ChargingStation(version)
    now = Driven().now
    for action, payload in [
        ("GetVariables", {}),
        ("SetVariables", {"setVariableData": [{"component": {"name": "X"}}]}),
        (
            "SetVariables",
            {"setVariableData": [{"component": {}, "variable": {}, "attributeValue": 5}]},
        ),
        ("RequestStopTransaction", {}),
        ("ChangeAvailability", {"evse": {"id": 1}}),
        ("ChangeAvailability", {"operationalStatus": "Closed"}),
        ("TriggerMessage", {"requestedMessage": "Heartbeat", "evse": []}),
    ]:
        with pytest.raises(StationRefusal) as refused:
            station.on_call(action, payload, now)
        assert refused.value.kind == "format"
        assert refused.value.description.startswith(f"{action}: cannot read the payload")
    # nothing of a refused SetVariables is set
    good = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
    with pytest.raises(StationRefusal):
        station.on_call(
            "SetVariables",
            {"setVariableData": [{**good, "attributeValue": "42"}, {"component": {}}]},
            now,
        )
    assert station.heartbeat_interval == 300
    # and a result it cannot read is ignored
    assert station.on_result("BootNotification", {}, {"status": "Accepted"}, now) == []


def test_calls_the_station_does_not_model_are_left_to_the_simulator() -> None:
    station = ChargingStation()
    assert station.on_call("ClearCache", {}, Driven().now) is None
    assert not station.handles("SendLocalList")
    assert all(station.handles(action) for action in HANDLED_CALLS)
    assert len(HANDLED_CALLS) == 17  # SetNetworkProfile (A05, B09); P01, L01, N01, H01, H02


@needs_version("2.1")
def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"plays OCPP 2\.0\.1 or 2\.1$"):
        ChargingStation("1.6")


def test_a_version_whose_schemas_are_missing_says_what_it_needs(monkeypatch) -> None:
    """2.1 on Python 3.10 (ocpp 2.0.0): the reason names what to install."""
    from ocppsim.core import versions

    needs = "OCPP 2.1 needs the `ocpp` package 2.1 or newer (Python 3.11+)"
    monkeypatch.setattr(versions, "_UNAVAILABLE", {"2.1": needs})
    monkeypatch.setattr("ocppsim.core.station.station.VERSIONS", ("2.0.1",))
    with pytest.raises(ValueError, match=r"^OCPP 2\.1 needs the `ocpp` package 2\.1"):
        ChargingStation("2.1")
    with pytest.raises(ValueError, match=r"plays OCPP 2\.0\.1$"):
        ChargingStation("1.6")


def test_the_station_imports_no_io() -> None:
    code = (
        "import sys\n"
        "import ocppsim.core.station\n"
        "bad = [m for m in ('asyncio', 'websockets', 'lxml', 'prompt_toolkit', 'socket',"
        " 'aiohttp', 'zeep', 'cryptography') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_a_valid_date_too_late_to_compute_with_is_out_of_range_not_unreadable() -> None:
    """An UpdateFirmware retrieveDateTime in the last hours of year 9999 (valid RFC 3339)
    overflows a date in UTC: PropertyConstraintViolation's kind, not a FormatViolation, and
    before this an OverflowError the station did not catch at all."""
    driven = Driven()
    driven.boot()
    firmware = {"location": "ftp://x/", "retrieveDateTime": "9999-12-31T23:59:59+14:00"}
    with pytest.raises(StationRefusal) as refused:
        driven.station.on_call("UpdateFirmware", {"requestId": 1, "firmware": firmware}, T0)
    assert refused.value.kind == "value" and "out of range" in refused.value.description
