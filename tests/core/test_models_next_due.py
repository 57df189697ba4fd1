"""When a model next has something to do (`next_due`), so that a simulator wakes an idle charge
point only then: the heartbeat after the last exchange, samples while charging, timeouts,
reservations, jobs and charging-profile boundaries; ticking at that moment does it."""

from __future__ import annotations

from datetime import timedelta

import cp_testing
import station_testing
from cp_testing import T0, actions


def seconds(due, now) -> float:  # type: ignore[no-untyped-def]
    return (due - now).total_seconds()


def test_a_1x_charge_point_wakes_for_its_heartbeat_only_when_idle() -> None:
    driven = cp_testing.Driven()
    assert driven.cp.next_due(T0) is None  # nothing before a boot is answered
    driven.boot()
    assert seconds(driven.cp.next_due(T0), T0) == 300  # the interval the CS gave
    driven.at(299)
    assert driven.tick() == []
    driven.at(300)
    assert actions(driven.tick()) == ["Heartbeat"]
    assert seconds(driven.cp.next_due(driven.now), driven.now) == 300


def test_a_1x_boot_not_accepted_wakes_for_its_retry() -> None:
    driven = cp_testing.Driven()
    (boot,) = driven._took(driven.cp.boot(T0))
    driven.result(
        boot, {"status": "Pending", "currentTime": "2026-11-24T10:00:00Z", "interval": 40}
    )
    assert seconds(driven.cp.next_due(T0), T0) == 40


def test_a_charging_1x_connector_wakes_for_its_samples_and_profile_changes() -> None:
    driven = cp_testing.booted()
    driven.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})
    driven.charging()
    now = driven.now
    assert seconds(driven.cp.next_due(now), now) == 30
    driven.at(30)
    assert actions(driven.tick()) == ["MeterValues"]
    assert seconds(driven.cp.next_due(driven.now), driven.now) == 30
    profile = {
        "chargingProfileId": 3,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [
                {"startPeriod": 0, "limit": 16},
                {"startPeriod": 40, "limit": 0},
            ],
        },
    }
    driven.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": profile})
    # the limit drops to 0 forty seconds into the transaction: the status changes then
    assert seconds(driven.cp.next_due(driven.now), driven.now) == 10
    driven.at(40)
    assert ("StatusNotification", "SuspendedEVSE") in [
        (o.action, o.payload.get("status")) for o in driven.tick()
    ]


def test_a_1x_reservation_and_a_waiting_driver_wake_when_they_lapse() -> None:
    driven = cp_testing.booted(connectors=2)
    expiry = (T0 + timedelta(seconds=100)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reserve = {"connectorId": 2, "expiryDate": expiry, "idTag": "R", "reservationId": 1}
    assert driven.call("ReserveNow", reserve).payload == {"status": "Accepted"}
    assert seconds(driven.cp.next_due(T0), T0) == 100
    driven.answer_all(driven.badge("T", 1))  # authorized, no cable: ConnectionTimeOut (60 s)
    assert seconds(driven.cp.next_due(T0), T0) == 60


def test_a_2x_station_wakes_for_its_heartbeat_and_transaction_events() -> None:
    driven = station_testing.Driven()
    assert driven.station.next_due(T0) is None
    driven.boot()
    assert seconds(driven.station.next_due(T0), T0) == 300
    driven.answer_all(driven.plug())
    driven.answer_all(driven.badge("B1"))
    assert seconds(driven.station.next_due(T0), T0) == 60  # TxUpdatedInterval
    driven.at(60)
    assert [o.payload["eventType"] for o in driven.tick()] == ["Updated"]
    assert seconds(driven.station.next_due(driven.now), driven.now) == 60


def test_a_2x_authorization_without_a_cable_wakes_for_its_timeout() -> None:
    driven = station_testing.Driven()
    driven.boot()
    driven.answer_all(driven.badge("B1"))
    assert seconds(driven.station.next_due(T0), T0) == 120  # EVConnectionTimeOut


def test_an_interval_beyond_an_ocpp_integer_is_refused_and_a_boots_is_capped() -> None:
    """A Central System's 10**12 s boot interval (any JSON integer passes the schema) or an
    accepted ChangeConfiguration/SetVariables of 10**23 made every next_due overflow a date:
    the Charge Point answered no CALL and took no answer any more. A value beyond 32 bits is
    Rejected; a boot's interval is used as at most 2**31 - 1 s."""
    huge = 10**12
    driven = cp_testing.Driven()
    (boot,) = driven._took(driven.cp.boot(T0))
    driven.result(
        boot, {"status": "Accepted", "currentTime": "2026-11-24T10:00:00Z", "interval": huge}
    )
    assert seconds(driven.cp.next_due(T0), T0) == 2**31 - 1
    change = {"key": "HeartbeatInterval", "value": str(10**23)}
    assert driven.call("ChangeConfiguration", change).payload == {"status": "Rejected"}
    trigger = {"requestedMessage": "Heartbeat"}
    assert driven.call("TriggerMessage", trigger).payload == {"status": "Accepted"}

    station = station_testing.Driven()
    (boot,) = station._took(station.station.boot(T0))
    answer = {"status": "Accepted", "currentTime": "2026-11-24T10:00:00Z", "interval": huge}
    station.answer_all(station.result(boot, answer))
    assert seconds(station.station.next_due(T0), T0) == 2**31 - 1
    for name, value in (
        ("HeartbeatInterval", str(10**23)),
        ("HeartbeatInterval", "-" + str(10**23)),
    ):
        data = {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": name}}
        reply = station.call(
            "SetVariables", {"setVariableData": [{**data, "attributeValue": value}]}
        )
        (result,) = reply.payload["setVariableResult"]
        assert result["attributeStatus"] == "Rejected", result
    assert station.call("TriggerMessage", trigger).payload == {"status": "Accepted"}
