"""Transactions of a simulated 2.x charging station (OCPP 2.0.1 Part 2 §E, §F01-F04, §E14):
badge, Authorize, TransactionEvent Started → Updated → Ended with a meter that only goes up,
remote start and stop, driven by a fake clock; every payload checked against the official
schemas."""

from __future__ import annotations

from datetime import datetime

import pytest
from station_testing import VERSIONS, Driven, actions, energy, events, statuses

from ocppsim.core.station import StationError, StationInfo


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def booted(version: str, **info: object) -> Driven:
    driven = Driven(version, StationInfo(**info))  # type: ignore[arg-type]
    driven.boot()
    driven.sent.clear()
    return driven


def set_variable(driven: Driven, component: str, variable: str, value: str) -> None:
    item = {"component": {"name": component}, "variable": {"name": variable}}
    reply = driven.call("SetVariables", {"setVariableData": [{**item, "attributeValue": value}]})
    assert reply.payload["setVariableResult"][0]["attributeStatus"] == "Accepted"


def test_badge_authorize_started_updated_ended(version: str) -> None:
    """The issue's scenario: EV plugged, badge, Authorize accepted, Started, Updated every
    TxUpdatedInterval with energy that only goes up at 11 kW, badge again, Ended, unplug."""
    driven = booted(version)
    assert statuses(driven.plug()) == [(1, 1, "Occupied")]  # E02.FR.05
    driven.at(5)
    (authorize,) = driven.badge("BADGE-1")
    assert authorize == ("Authorize", {"idToken": {"idToken": "BADGE-1", "type": "ISO14443"}})
    driven.at(6)
    (started,) = events(driven.result(authorize, {"idTokenInfo": {"status": "Accepted"}}))
    assert started["eventType"] == "Started"
    assert started["triggerReason"] == "Authorized"  # TxStartPoint PowerPathClosed, badge last
    assert started["seqNo"] == 0
    assert started["transactionInfo"] == {"transactionId": "tx-1", "chargingState": "Charging"}
    assert started["idToken"] == {"idToken": "BADGE-1", "type": "ISO14443"}
    assert started["evse"] == {"id": 1, "connectorId": 1}
    assert started["numberOfPhasesUsed"] == 3
    assert started["meterValue"][0]["sampledValue"][0]["context"] == "Transaction.Begin"
    readings = energy(started)
    updates = []
    for second in range(6, 6 + 5 * 60 + 1, 15):  # a tick every 15 s for five minutes
        driven.at(second)
        updates += events(driven.tick())
    assert [u["triggerReason"] for u in updates] == ["MeterValuePeriodic"] * 5  # every 60 s
    assert [u["seqNo"] for u in updates] == [1, 2, 3, 4, 5]
    assert [u["timestamp"][11:19] for u in updates] == [
        "10:01:06",
        "10:02:06",
        "10:03:06",
        "10:04:06",
        "10:05:06",
    ]
    for update in updates:
        readings += energy(update)
        assert update["transactionInfo"]["chargingState"] == "Charging"
        power = [
            sv["value"]
            for sv in update["meterValue"][0]["sampledValue"]
            if sv["measurand"] == "Power.Active.Import"
        ]
        assert power == [11000.0]
    assert all(b > a for a, b in zip(readings, readings[1:], strict=False))  # strictly increasing
    assert readings[1] - readings[0] == pytest.approx(11000 / 60, abs=0.01)  # 11 kW for 60 s
    driven.at(400)
    (ended,) = driven.badge("BADGE-1")  # the same badge stops it (E07.FR.01)
    assert ended.action == "TransactionEvent"
    ended_payload = ended.payload
    assert ended_payload["eventType"] == "Ended"
    assert ended_payload["triggerReason"] == "StopAuthorized"
    assert ended_payload["transactionInfo"]["stoppedReason"] == "Local"
    assert ended_payload["transactionInfo"]["chargingState"] == "EVConnected"
    assert ended_payload["transactionInfo"]["timeSpentCharging"] == 394
    assert ended_payload["seqNo"] == 6
    begin, end = ended_payload["meterValue"]  # TxEndedInterval 0: start and end (Part 2 §2.7.5)
    assert begin["sampledValue"][0]["context"] == "Transaction.Begin"
    assert end["sampledValue"][0]["context"] == "Transaction.End"
    assert energy(ended_payload)[-1] == pytest.approx(11000 * 394 / 3600, abs=0.01)
    assert energy(ended_payload)[-1] > readings[-1]
    driven.at(410)
    assert driven.tick() == []  # no more meter values after the end
    assert statuses(driven.unplug()) == [(1, 1, "Available")]
    assert driven.station.transaction(1) is None


def test_authorization_first_starts_when_the_start_point_says(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "TxCtrlr", "TxStartPoint", "Authorized")
    driven.answer_all(driven.badge("B"))
    (started,) = events(driven.sent)
    assert (started["eventType"], started["triggerReason"]) == ("Started", "Authorized")
    assert started["transactionInfo"]["chargingState"] == "Idle"  # no EV yet
    assert started["evse"] == {"id": 1}  # no connector until the EV is connected
    assert "numberOfPhasesUsed" not in started
    driven.at(30)
    out = driven.plug()
    assert actions(out) == ["StatusNotification", "TransactionEvent"]
    updated = out[1].payload
    assert (updated["eventType"], updated["triggerReason"]) == ("Updated", "CablePluggedIn")
    assert updated["evse"] == {"id": 1, "connectorId": 1}  # E01.FR.16
    assert updated["transactionInfo"]["chargingState"] == "Charging"
    assert updated["seqNo"] == 1


def test_cable_first_starts_on_the_plug_and_the_badge_authorizes(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "TxCtrlr", "TxStartPoint", "EVConnected")
    out = driven.plug()
    started = events(out)[0]
    assert (started["eventType"], started["triggerReason"]) == ("Started", "CablePluggedIn")
    assert started["transactionInfo"]["chargingState"] == "EVConnected"
    assert "idToken" not in started
    driven.at(10)
    energy_before = driven.station.evses[1].energy_wh
    driven.at(20)
    (authorized,) = events(driven.answer_all(driven.badge("B")))
    assert (authorized["eventType"], authorized["triggerReason"]) == ("Updated", "Authorized")
    assert authorized["idToken"]["idToken"] == "B"  # E02.FR.01
    assert authorized["transactionInfo"]["chargingState"] == "Charging"
    assert energy_before == 0.0  # nothing flowed before the driver was authorized


def test_a_rejected_badge_starts_nothing(version: str) -> None:
    driven = booted(version)
    driven.plug()
    (authorize,) = driven.badge("STOLEN")
    assert driven.result(authorize, {"idTokenInfo": {"status": "Blocked"}}) == []
    assert driven.station.transaction(1) is None
    driven.at(120)
    assert driven.tick() == []


def test_unplugging_ends_the_transaction(version: str) -> None:
    driven = booted(version)
    driven.plug()
    driven.answer_all(driven.badge("B"))
    driven.at(90)
    out = driven.unplug()
    assert actions(out) == ["TransactionEvent", "StatusNotification"]
    ended = out[0].payload
    assert ended["eventType"] == "Ended"
    assert ended["triggerReason"] == "EVCommunicationLost"
    assert ended["transactionInfo"]["stoppedReason"] == "EVDisconnected"
    assert ended["transactionInfo"]["chargingState"] == "Idle"
    assert statuses(out) == [(1, 1, "Available")]


def test_unplugging_with_authorized_as_only_stop_point_and_no_stop_on_disconnect(
    version: str,
) -> None:
    driven = booted(version)
    set_variable(driven, "TxCtrlr", "TxStopPoint", "Authorized")
    set_variable(driven, "TxCtrlr", "StopTxOnEVSideDisconnect", "false")
    driven.plug()
    driven.answer_all(driven.badge("B"))
    out = driven.unplug()
    (updated,) = events(out)
    assert (updated["eventType"], updated["triggerReason"]) == ("Updated", "EVCommunicationLost")
    assert updated["transactionInfo"]["chargingState"] == "Idle"
    assert driven.station.transaction(1) is not None  # goes on until the badge ends it
    (ended,) = events(driven.badge("B"))
    assert ended["eventType"] == "Ended"


def test_another_badge_of_the_same_group_stops(version: str) -> None:
    driven = booted(version)
    driven.plug()
    (authorize,) = driven.badge("A")
    group = {"idToken": "FAMILY", "type": "Central"}
    driven.answer_all(
        driven.result(authorize, {"idTokenInfo": {"status": "Accepted", "groupIdToken": group}})
    )
    (other,) = driven.badge("B")
    assert other.action == "Authorize"  # E07.FR.01 b: checked first
    (ended,) = events(
        driven.result(other, {"idTokenInfo": {"status": "Accepted", "groupIdToken": group}})
    )
    assert ended["triggerReason"] == "StopAuthorized"
    assert ended["idToken"]["idToken"] == "B"
    # a badge of no group stops nothing
    driven.answer_all(driven.badge("A"))
    (stranger,) = driven.badge("C")
    assert driven.result(stranger, {"idTokenInfo": {"status": "Accepted"}}) == []
    assert driven.station.transaction(1) is not None


def test_an_invalid_token_in_the_transaction_event_answer_deauthorizes(version: str) -> None:
    driven = booted(version)
    driven.plug()
    (authorize,) = driven.badge("B")
    (started,) = driven.result(authorize, {"idTokenInfo": {"status": "Accepted"}})
    out = driven.result(started, {"idTokenInfo": {"status": "Invalid"}})  # E05.FR.09
    (ended,) = events(out)
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "Deauthorized",
        "DeAuthorized",
    )


def test_the_ev_that_never_comes_times_out(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "TxCtrlr", "TxStartPoint", "Authorized")
    set_variable(driven, "TxCtrlr", "EVConnectionTimeOut", "30")
    driven.answer_all(driven.badge("B"))
    driven.at(29)
    assert events(driven.tick()) == []
    driven.at(30)
    (ended,) = events(driven.tick())  # E03.FR.05
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "EVConnectTimeout",
        "Timeout",
    )
    # without a transaction yet (PowerPathClosed), the authorization simply lapses
    set_variable(driven, "TxCtrlr", "TxStartPoint", "PowerPathClosed")
    driven.answer_all(driven.badge("B"))
    assert driven.station.evses[1].authorization is not None
    driven.at(100)
    driven.tick()
    assert driven.station.evses[1].authorization is None
    assert events(driven.plug()) == []


def test_updated_interval_and_measurands_follow_the_device_model(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "SampledDataCtrlr", "TxUpdatedInterval", "10")
    set_variable(
        driven, "SampledDataCtrlr", "TxUpdatedMeasurands", "Energy.Active.Import.Register,Voltage"
    )
    set_variable(driven, "SampledDataCtrlr", "TxEndedMeasurands", "")
    set_variable(driven, "SampledDataCtrlr", "TxStartedMeasurands", "")
    driven.plug()
    (started,) = events(driven.answer_all(driven.badge("B")))
    assert "meterValue" not in started  # empty lists are omitted in 2.x
    driven.at(25)  # two intervals passed: one message, then back on the 10 s grid
    (update,) = events(driven.tick())
    assert {sv["measurand"] for sv in update["meterValue"][0]["sampledValue"]} == {
        "Energy.Active.Import.Register",
        "Voltage",
    }
    driven.at(29)
    assert driven.tick() == []
    driven.at(30)
    assert len(events(driven.tick())) == 1
    set_variable(driven, "SampledDataCtrlr", "TxUpdatedInterval", "0")  # 0: no Updated at all
    driven.at(100)
    assert driven.tick() == []
    set_variable(driven, "SampledDataCtrlr", "TxUpdatedInterval", "20")  # on again
    driven.at(110)
    assert driven.tick() == []
    driven.at(130)
    assert len(events(driven.tick())) == 1
    (ended,) = events(driven.badge("B"))
    assert "meterValue" not in ended


def test_a_shorter_updated_interval_counts_from_when_it_was_set(version: str) -> None:
    """TxUpdatedInterval changed from 60 to 5 s during a transaction: the next Updated event
    comes 5 s after the change, not after the one the old interval planned (and so does a
    shorter TxEndedInterval's sample)."""
    driven = booted(version)
    set_variable(driven, "SampledDataCtrlr", "TxUpdatedInterval", "60")
    set_variable(driven, "SampledDataCtrlr", "TxEndedInterval", "60")
    driven.plug()
    driven.answer_all(driven.badge("B"))  # at 0 s: the first Updated planned at 60 s
    driven.at(10)
    set_variable(driven, "SampledDataCtrlr", "TxUpdatedInterval", "5")
    set_variable(driven, "SampledDataCtrlr", "TxEndedInterval", "5")
    assert driven.station.next_due(driven.now) == driven.now
    assert events(driven.tick()) == []
    assert driven.station.next_due(driven.now) == driven.at(15).now
    (update,) = events(driven.tick())
    assert (update["eventType"], update["triggerReason"]) == ("Updated", "MeterValuePeriodic")
    driven.at(20)
    assert len(events(driven.tick())) == 1
    (ended,) = events(driven.badge("B"))
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts == ["Transaction.Begin", *["Sample.Periodic"] * 2, "Transaction.End"]


def test_ended_samples_every_tx_ended_interval(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "SampledDataCtrlr", "TxEndedInterval", "60")
    set_variable(driven, "SampledDataCtrlr", "TxUpdatedInterval", "0")
    driven.plug()
    driven.answer_all(driven.badge("B"))
    for second in range(0, 200, 20):
        driven.at(second)
        driven.tick()
    driven.at(200)
    (ended,) = events(driven.badge("B"))
    contexts = [mv["sampledValue"][0]["context"] for mv in ended["meterValue"]]
    assert contexts == ["Transaction.Begin"] + ["Sample.Periodic"] * 3 + ["Transaction.End"]
    readings = energy(ended)
    assert all(b > a for a, b in zip(readings, readings[1:], strict=False))


def test_remote_start_and_stop(version: str) -> None:
    driven = booted(version)
    driven.plug()
    token = {"idToken": "APP-1", "type": "Central"}
    reply = driven.call(
        "RequestStartTransaction", {"idToken": token, "remoteStartId": 77, "evseId": 1}
    )
    assert reply.payload == {"status": "Accepted"}
    (started,) = events(reply.outgoing)
    assert (started["eventType"], started["triggerReason"]) == ("Started", "RemoteStart")
    assert started["transactionInfo"]["remoteStartId"] == 77  # F02.FR.01
    assert started["idToken"] == token
    transaction_id = started["transactionInfo"]["transactionId"]
    driven.at(60)
    tick = driven.tick()
    (update,) = events(tick)
    assert "remoteStartId" not in update["transactionInfo"]  # only in the first event
    # the station answers GetTransactionStatus from what it knows (E14)
    assert driven.call("GetTransactionStatus", {"transactionId": transaction_id}).payload == {
        "ongoingIndicator": True,
        "messagesInQueue": True,  # nothing was answered yet
    }
    driven.answer_all(reply.outgoing + tick)
    assert driven.call("GetTransactionStatus", {"transactionId": transaction_id}).payload == {
        "ongoingIndicator": True,
        "messagesInQueue": False,
    }
    rejected = driven.call("RequestStopTransaction", {"transactionId": "nope"})
    assert rejected.payload["status"] == "Rejected" and rejected.outgoing == []  # F03.FR.08
    assert rejected.payload["statusInfo"]["reasonCode"] == "TxNotFound"
    driven.at(90)
    stopped = driven.call("RequestStopTransaction", {"transactionId": transaction_id})
    assert stopped.payload == {"status": "Accepted"}  # F03.FR.07
    (ended,) = events(stopped.outgoing)
    assert (ended["eventType"], ended["triggerReason"]) == ("Ended", "RemoteStop")  # F03.FR.03
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"
    driven.answer_all(stopped.outgoing)
    assert driven.call("GetTransactionStatus", {"transactionId": transaction_id}).payload == {
        "ongoingIndicator": False,
        "messagesInQueue": False,
    }
    assert driven.call("GetTransactionStatus", {"transactionId": "never"}).payload == {
        "ongoingIndicator": False,
        "messagesInQueue": False,
    }  # E14.FR.01
    assert driven.call("GetTransactionStatus", {}).payload == {"messagesInQueue": False}


def test_remote_stop_with_ev_connected_as_stop_point(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "TxCtrlr", "TxStopPoint", "EVConnected")
    driven.plug()
    (started,) = events(driven.answer_all(driven.badge("B")))
    stopped = driven.call(
        "RequestStopTransaction", {"transactionId": started["transactionInfo"]["transactionId"]}
    )
    (updated,) = events(stopped.outgoing)  # F03.FR.02: energy stops, the transaction goes on
    assert (updated["eventType"], updated["triggerReason"]) == ("Updated", "RemoteStop")
    assert updated["transactionInfo"]["chargingState"] == "EVConnected"
    reading = driven.station.evses[1].energy_wh
    driven.at(600)
    driven.tick()
    assert driven.station.evses[1].energy_wh == reading
    with pytest.raises(StationError, match="unplug first"):
        driven.badge("B")
    (ended,) = events(driven.unplug())  # F04.FR.03
    assert ended["transactionInfo"]["stoppedReason"] == "Remote"


def test_remote_start_before_the_ev_waits_for_it(version: str) -> None:
    driven = booted(version)
    token = {"idToken": "APP-1", "type": "Central"}
    reply = driven.call("RequestStartTransaction", {"idToken": token, "remoteStartId": 5})
    assert reply.payload == {"status": "Accepted"} and reply.outgoing == []  # EVSE chosen
    out = driven.plug()
    (started,) = events(out)
    # F02.FR.21: the next TransactionEvent says RemoteStart and carries the remoteStartId
    assert (started["triggerReason"], started["transactionInfo"]["remoteStartId"]) == (
        "RemoteStart",
        5,
    )


def test_remote_start_on_a_cable_started_transaction_returns_its_id(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "TxCtrlr", "TxStartPoint", "EVConnected")
    (started,) = events(driven.plug())
    token = {"idToken": "APP-1", "type": "Central"}
    reply = driven.call(
        "RequestStartTransaction", {"idToken": token, "remoteStartId": 8, "evseId": 1}
    )
    transaction_id = started["transactionInfo"]["transactionId"]
    assert reply.payload == {"status": "Accepted", "transactionId": transaction_id}  # F01.FR.13
    (updated,) = events(reply.outgoing)
    assert (updated["triggerReason"], updated["transactionInfo"]["remoteStartId"]) == (
        "RemoteStart",
        8,
    )  # F01.FR.19/25


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"evseId": 9}, "UnknownEvse"),
        ({"evseId": 1}, "TxInProgress"),  # F01.FR.24: authorized transaction there
    ],
)
def test_remote_start_rejected(version: str, payload: dict[str, int], reason: str) -> None:
    driven = booted(version)
    driven.plug()
    driven.answer_all(driven.badge("B"))
    token = {"idToken": "APP-1", "type": "Central"}
    reply = driven.call(
        "RequestStartTransaction", {"idToken": token, "remoteStartId": 1, **payload}
    )
    assert reply.payload["status"] == "Rejected"
    assert reply.payload["statusInfo"]["reasonCode"] == reason
    assert reply.outgoing == []


def test_remote_start_authorizes_first_when_asked(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "AuthCtrlr", "AuthorizeRemoteStart", "true")
    driven.plug()
    token = {"idToken": "APP-1", "type": "Central"}
    reply = driven.call(
        "RequestStartTransaction", {"idToken": token, "remoteStartId": 3, "evseId": 1}
    )
    assert reply.payload == {"status": "Accepted"}
    (authorize,) = reply.outgoing
    assert authorize == ("Authorize", {"idToken": token})  # F01.FR.01
    (started,) = events(driven.result(authorize, {"idTokenInfo": {"status": "Accepted"}}))
    assert (started["triggerReason"], started["transactionInfo"]["remoteStartId"]) == (
        "RemoteStart",
        3,
    )


def test_without_authorization_the_badge_goes_straight_in(version: str) -> None:
    driven = booted(version)
    set_variable(driven, "AuthCtrlr", "Enabled", "false")
    driven.plug()
    (started,) = driven.badge("B")
    assert started.action == "TransactionEvent" and started.payload["idToken"]["idToken"] == "B"


def test_two_evses_charge_independently(version: str) -> None:
    driven = booted(version, evses=(1, 1))
    for evse in (1, 2):
        driven.plug(evse)
        driven.answer_all(driven.badge(f"B{evse}", evse))
    first, second = (driven.station.transaction(e) for e in (1, 2))
    assert first is not None and second is not None
    assert first.transaction_id != second.transaction_id
    driven.at(60)
    updates = events(driven.tick())
    assert sorted(u["evse"]["id"] for u in updates) == [1, 2]
    driven.badge("B1", 1)
    driven.at(120)
    (only,) = events(driven.tick())
    assert only["evse"]["id"] == 2


def test_local_mistakes_say_what_is_wrong(version: str) -> None:
    driven = booted(version, evses=(2,))
    with pytest.raises(StationError, match="no EVSE 3: this station has EVSE 1"):
        driven.badge("B", 3)
    with pytest.raises(StationError, match="nothing is plugged in at EVSE 1"):
        driven.unplug()
    driven.plug(1, 2)
    with pytest.raises(StationError, match="connector 2 of EVSE 1 is plugged in"):
        driven.plug(1, 2)
    with pytest.raises(StationError, match="no connector 5 on EVSE 1: it has 1, 2"):
        driven.plug(1, 5)
    driven.answer_all(driven.badge("B"))
    with pytest.raises(StationError, match="transaction on connector 2"):
        driven.plug(1, 1)  # E01.FR.14
    set_variable(driven, "AuthCtrlr", "Enabled", "false")
    with pytest.raises(StationError, match="charging for another badge"):
        driven.badge("OTHER")


def test_the_clock_must_be_aware_and_may_not_run_back() -> None:
    driven = booted("2.0.1")
    with pytest.raises(ValueError, match="aware"):
        driven.station.tick(datetime(2026, 1, 1))
    driven.plug()
    driven.answer_all(driven.badge("B"))
    driven.at(100)
    driven.tick()
    reading = driven.station.evses[1].energy_wh
    driven.at(50)  # the clock jumps back: the meter does not
    driven.tick()
    assert driven.station.evses[1].energy_wh == reading
    driven.at(101)
    driven.tick()
    assert driven.station.evses[1].energy_wh == pytest.approx(reading + 11000 / 3600)


def test_presenting_the_badge_again_before_the_ev_cancels(version: str) -> None:
    driven = booted(version)
    driven.answer_all(driven.badge("B"))  # PowerPathClosed: waits for the EV
    assert driven.station.evses[1].authorization is not None
    assert driven.badge("B") == []
    assert driven.station.evses[1].authorization is None
    assert events(driven.plug()) == []  # nobody is authorized any more


def test_a_pending_station_rejects_remote_start_and_stop(version: str) -> None:
    driven = Driven(version)
    (boot,) = driven.station.boot(driven.now)
    driven.result(
        boot, {"status": "Pending", "interval": 60, "currentTime": "2026-11-24T10:00:00Z"}
    )
    token = {"idToken": "APP-1", "type": "Central"}
    start = driven.call("RequestStartTransaction", {"idToken": token, "remoteStartId": 1})
    stop = driven.call("RequestStopTransaction", {"transactionId": "tx-1"})
    for reply in (start, stop):
        assert reply.payload["status"] == "Rejected"
        assert reply.payload["statusInfo"]["reasonCode"] == "CSNotAccepted"  # B02.FR.05
        assert reply.outgoing == []
