"""The same Charge Point model playing OCPP 1.5 and 1.2 for the actions they have: payloads in
each version's own shape (1.5 `values` meter values with Amp and Volt, 1.2 integer values, no
StopTransaction reason, Occupied for a connector in use, UnlockConnector Accepted/Rejected),
every payload checked against the project's 1.5 and 1.2 schemas."""

from __future__ import annotations

import pytest
from cp_testing import Driven, actions, booted, of, statuses

from ocppsim.core.station import ChargePointInfo, ChargePointModel, Reboot

OLDER = ["1.2", "1.5"]


@pytest.fixture(params=OLDER)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_boot_and_heartbeat(version: str) -> None:
    driven = Driven(version, ChargePointInfo(connectors=2, serial_number="SN"))
    (boot,) = driven.cp.boot(driven.now)
    assert boot.payload == {
        "chargePointVendor": "ocppsim",
        "chargePointModel": "ocppsim-1",
        "chargePointSerialNumber": "SN",
    }
    out = driven.answer_all([boot])  # heartbeatInterval 300
    assert statuses(out) == [(0, "Available"), (1, "Available"), (2, "Available")]
    assert ("timestamp" in of(out, "StatusNotification")[0]) is (version == "1.5")
    assert driven.cp.heartbeat_interval == 300
    driven.at(300)
    assert actions(driven.tick()) == ["Heartbeat"]


def test_a_badge_transaction_in_the_versions_shape(version: str) -> None:
    driven = booted(version)
    driven.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "60"})
    sampled = "Energy.Active.Import.Register,Current.Import,Voltage"
    driven.call("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": sampled})
    assert statuses(driven.plug()) == [(1, "Occupied")]  # Preparing in 1.6
    out = driven.answer_all(driven.badge("B"))
    assert actions(out) == ["Authorize", "StartTransaction"]  # still Occupied: no new status
    driven.at(60)
    (meter,) = of(driven.tick(), "MeterValues")
    if version == "1.5":
        assert meter["transactionId"] == 1
        (sample,) = meter["values"]
        assert sample["values"] == [
            {
                "value": "184",
                "context": "Sample.Periodic",
                "measurand": "Energy.Active.Import.Register",
                "unit": "Wh",
            },
            {
                "value": "16",
                "context": "Sample.Periodic",
                "measurand": "Current.Import",
                "unit": "Amp",
            },
            {"value": "230", "context": "Sample.Periodic", "measurand": "Voltage", "unit": "Volt"},
        ]
    else:
        assert meter == {
            "connectorId": 1,
            "values": [{"timestamp": "2026-11-24T10:01:00.000Z", "value": 184}],
        }
    driven.at(120)
    out = driven.badge("B")
    (stop,) = of(out, "StopTransaction")
    assert "reason" not in stop  # 1.6 only
    assert (stop["transactionId"], stop["idTag"], stop["meterStop"]) == (1, "B", 368)
    if version == "1.5":
        (data,) = stop["transactionData"]
        assert [v["values"][0]["context"] for v in data["values"]] == [
            "Transaction.Begin",
            "Sample.Periodic",
            "Transaction.End",
        ]
    else:
        assert "transactionData" not in stop
    assert statuses(out) == []  # Finishing is still Occupied
    assert statuses(driven.unplug()) == [(1, "Available")]


def test_remote_start_stop_unlock_availability_reset(version: str) -> None:
    driven = booted(version, connectors=2)
    driven.plug()
    reply = driven.call("RemoteStartTransaction", {"idTag": "R", "connectorId": 1})
    assert reply.payload == {"status": "Accepted"}
    driven.answer_all(reply.outgoing)
    assert driven.call("RemoteStopTransaction", {"transactionId": 9}).payload == {
        "status": "Rejected"
    }
    reply = driven.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert reply.payload == {"status": "Scheduled"}
    reply = driven.call("UnlockConnector", {"connectorId": 1})
    assert reply.payload == {"status": "Accepted"}  # Unlocked in 1.6
    assert actions(reply.outgoing) == ["StopTransaction", "StatusNotification"]
    assert statuses(reply.outgoing) == [(1, "Unavailable")]  # the scheduled change applied
    assert driven.call("UnlockConnector", {"connectorId": 5}).payload == {"status": "Rejected"}
    driven.charging(connector=2)
    reply = driven.call("Reset", {"type": "Hard"})
    assert reply.payload == {"status": "Accepted"}
    assert "reason" not in of(reply.outgoing, "StopTransaction")[0]
    assert driven.cp.reboot == Reboot("HardReset")


def test_firmware_and_diagnostics_report_the_statuses_the_version_has(version: str) -> None:
    driven = booted(version)
    reply = driven.call(
        "UpdateFirmware", {"location": "ftp://fw.example/x", "retrieveDate": "2026-11-24T10:00:00Z"}
    )
    seen = [p["status"] for p in of(reply.outgoing, "FirmwareStatusNotification")]
    for second in range(1, 20):
        driven.at(second)
        seen += [p["status"] for p in of(driven.tick(), "FirmwareStatusNotification")]
    assert seen == ["Downloaded", "Installed"]  # no Downloading or Installing before 1.6
    reply = driven.call("GetDiagnostics", {"location": "ftp://logs.example/"})
    assert reply.payload["fileName"].startswith("diagnostics-cp001-")
    assert of(reply.outgoing, "DiagnosticsStatusNotification") == []
    driven.at(30)
    assert of(driven.tick(), "DiagnosticsStatusNotification") == [{"status": "Uploaded"}]


def test_what_each_version_answers(version: str) -> None:
    model = ChargePointModel(version)
    assert model.handles("RemoteStartTransaction") and model.handles("Reset")
    for action in ("TriggerMessage", "SetChargingProfile", "GetCompositeSchedule", "GetLog"):
        assert not model.handles(action), action
    assert model.handles("ReserveNow") is (version == "1.5")
    assert model.handles("GetConfiguration") is (version == "1.5")
    assert model.on_call("TriggerMessage", {"requestedMessage": "Heartbeat"}, booted().now) is None


def test_1_5_reservations_local_list_and_configuration() -> None:
    driven = booted("1.5")
    reply = driven.call(
        "ReserveNow",
        {"connectorId": 1, "expiryDate": "2026-11-24T11:00:00Z", "idTag": "R", "reservationId": 1},
    )
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(1, "Reserved")]
    entry = {"idTag": "A", "idTagInfo": {"status": "Accepted"}}
    reply = driven.call(
        "SendLocalList",
        {"updateType": "Full", "listVersion": 2, "localAuthorisationList": [entry], "hash": ""},
    )
    assert reply.payload == {"status": "Accepted"}
    assert driven.cp.local_list == {"A": {"status": "Accepted"}}
    assert driven.call("GetLocalListVersion", {}).payload == {"listVersion": 2}
    report = driven.call("GetConfiguration", {"key": ["KVCBX_PROFILE"]}).payload
    assert report["configurationKey"] == [
        {"key": "KVCBX_PROFILE", "readonly": True, "value": "NQC-ACDC"}
    ]
    reply = driven.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": "00" * 16})
    assert reply.payload == {"status": "NotSupported"}  # a 1.6 key
    assert driven.call("DataTransfer", {"vendorId": "x"}).payload == {"status": "UnknownVendorId"}
