"""Transactions of the 1.6 Charge Point model (OCPP 1.6 §3.6, §4.1, §4.7, §4.8, §4.10, §5.11,
§5.12): a badge, Authorize, StartTransaction with the id the Central System gives, MeterValues
that only go up, StopTransaction with its reason and transactionData; remote start and stop;
driven by a fake clock, every payload checked against OCA's 1.6 schemas."""

from __future__ import annotations

import pytest
from cp_testing import Driven, actions, booted, of, sampled, statuses

from ocppsim.core.station import Reply, StationError


def test_a_badge_transaction_from_plug_to_unplug() -> None:
    """The issue's scenario: plug in, badge, Authorize, StartTransaction (the id the Central
    System gives), MeterValues every MeterValueSampleInterval with energy that only goes up at
    11 kW, the badge again, StopTransaction (reason Local, transactionData), unplug."""
    driven = booted()
    assert statuses(driven.plug()) == [(1, "Preparing")]
    driven.at(5)
    (authorize,) = driven.badge("BADGE-1")
    assert authorize == ("Authorize", {"idTag": "BADGE-1"})
    driven.at(6)
    driven.next_transaction_id = 4711
    out = driven.result(authorize)
    assert actions(out) == ["StartTransaction", "StatusNotification"]
    assert out[0].payload == {
        "connectorId": 1,
        "idTag": "BADGE-1",
        "meterStart": 0,
        "timestamp": "2026-11-24T10:00:06.000Z",
    }
    assert statuses(out) == [(1, "Charging")]
    assert driven.result(out[0]) == []  # StartTransaction.conf: transactionId 4711
    tx = driven.cp.transaction(1)
    assert tx is not None and tx.transaction_id == 4711
    meter_values = []
    for second in range(6, 6 + 5 * 60 + 1, 15):  # a tick every 15 s for five minutes
        driven.at(second)
        meter_values += of(driven.tick(), "MeterValues")
    assert len(meter_values) == 5  # MeterValueSampleInterval 60
    readings = []
    for payload in meter_values:
        assert payload["connectorId"] == 1
        assert payload["transactionId"] == 4711
        (value,) = payload["meterValue"]
        assert value["sampledValue"][0]["context"] == "Sample.Periodic"
        assert sampled(value, "Power.Active.Import") == [11040.0]  # MeterValuesSampledData
        readings += sampled(value)
    assert [m["meterValue"][0]["timestamp"][11:19] for m in meter_values] == [
        "10:01:06",
        "10:02:06",
        "10:03:06",
        "10:04:06",
        "10:05:06",
    ]
    assert all(b > a for a, b in zip(readings, readings[1:], strict=False))
    assert readings[0] == pytest.approx(11040 / 60, abs=0.001)  # 11.04 kW for 60 s
    driven.at(400)
    out = driven.badge("BADGE-1")  # the same badge stops it (§3.6.2)
    assert actions(out) == ["StopTransaction", "StatusNotification"]
    stop = out[0].payload
    assert stop["transactionId"] == 4711
    assert stop["idTag"] == "BADGE-1"
    assert stop["reason"] == "Local"
    assert stop["meterStop"] == int(11040 * 394 / 3600)
    data = stop["transactionData"]  # StopTxnSampledData: energy at begin, each sample, end
    assert [d["sampledValue"][0]["context"] for d in data] == [
        "Transaction.Begin",
        *["Sample.Periodic"] * 5,
        "Transaction.End",
    ]
    energies = [sampled(d)[0] for d in data]
    assert energies[0] == 0 and energies[1:6] == readings
    assert energies[-1] == pytest.approx(11040 * 394 / 3600, abs=0.001)
    assert statuses(out) == [(1, "Finishing")]
    driven.at(410)
    assert driven.tick() == []  # nothing after the end
    assert statuses(driven.unplug()) == [(1, "Available")]
    assert driven.cp.transaction(1) is None


def test_the_badge_first_then_the_cable() -> None:
    driven = booted()
    out = driven.answer_all(driven.badge("B"))
    assert actions(out) == ["Authorize", "StatusNotification"]
    assert statuses(out) == [(1, "Preparing")]
    driven.at(10)
    out = driven.plug()
    assert actions(out) == ["StartTransaction", "StatusNotification"]


def test_a_driver_who_never_plugs_in_times_out() -> None:
    driven = booted()
    driven.answer_all(driven.badge("B"))
    driven.at(59)
    assert driven.tick() == []
    driven.at(60)  # ConnectionTimeOut
    assert statuses(driven.tick()) == [(1, "Available")]
    driven.at(70)
    assert actions(driven.plug()) == ["StatusNotification"]  # no transaction


def test_the_same_badge_before_the_cable_cancels() -> None:
    driven = booted()
    driven.answer_all(driven.badge("B"))
    assert statuses(driven.badge("B")) == [(1, "Available")]
    with pytest.raises(StationError, match="no connector 2"):
        driven.badge("B", connector=2)


def test_another_badge_of_the_same_parent_stops() -> None:
    driven = booted()
    driven.id_tag_info["DRIVER"] = {"status": "Accepted", "parentIdTag": "FLEET"}
    driven.id_tag_info["COLLEAGUE"] = {"status": "Accepted", "parentIdTag": "FLEET"}
    driven.id_tag_info["STRANGER"] = {"status": "Accepted", "parentIdTag": "OTHER"}
    driven.charging("DRIVER")
    out = driven.answer_all(driven.badge("STRANGER"))
    assert actions(out) == ["Authorize"]  # a badge of another parent stops nothing
    out = driven.answer_all(driven.badge("COLLEAGUE"))
    assert actions(out) == ["Authorize", "StopTransaction", "StatusNotification"]
    assert of(out, "StopTransaction")[0]["idTag"] == "COLLEAGUE"


def test_a_rejected_badge_starts_nothing() -> None:
    driven = booted()
    driven.id_tag_info["BAD"] = {"status": "Blocked"}
    driven.plug()
    assert actions(driven.answer_all(driven.badge("BAD"))) == ["Authorize"]
    assert driven.cp.transaction(1) is None


def test_unplugging_stops_the_transaction() -> None:
    driven = booted()
    driven.charging()
    driven.at(60)
    out = driven.unplug()
    assert actions(out) == ["StopTransaction", "StatusNotification"]
    assert of(out, "StopTransaction")[0]["reason"] == "EVDisconnected"
    assert "idTag" not in of(out, "StopTransaction")[0]
    assert statuses(out) == [(1, "Available")]


def test_unplugging_suspends_when_the_configuration_says_so() -> None:
    driven = booted()
    driven.call(
        "ChangeConfiguration", {"key": "StopTransactionOnEVSideDisconnect", "value": "false"}
    )
    driven.charging()
    driven.at(60)
    assert statuses(driven.unplug()) == [(1, "SuspendedEV")]
    energy = driven.cp.connectors[1].meter.energy_wh
    driven.at(120)
    assert statuses(driven.plug()) == [(1, "Charging")]
    assert driven.cp.connectors[1].meter.energy_wh == energy  # nothing while unplugged


def test_a_stop_before_the_transaction_id_waits_for_it() -> None:
    driven = booted()
    driven.plug()
    (authorize,) = driven.badge("B")
    start = driven.result(authorize)[0]
    driven.at(30)
    assert actions(driven.badge("B")) == ["StatusNotification"]  # no StopTransaction yet
    driven.next_transaction_id = 99
    (stop,) = driven.result(start)
    assert stop.action == "StopTransaction"
    assert stop.payload["transactionId"] == 99
    assert stop.payload["reason"] == "Local"


def test_an_invalid_id_in_start_transaction_stops_it() -> None:
    driven = booted()
    driven.plug()
    (authorize,) = driven.badge("B")
    start = driven.result(authorize)[0]
    out = driven.result(start, {"transactionId": 5, "idTagInfo": {"status": "Invalid"}})
    assert actions(out) == ["StopTransaction", "StatusNotification"]
    assert out[0].payload["reason"] == "DeAuthorized"


def test_an_invalid_id_suspends_when_the_configuration_says_so() -> None:
    driven = booted()
    driven.call("ChangeConfiguration", {"key": "StopTransactionOnInvalidId", "value": "false"})
    driven.plug()
    (authorize,) = driven.badge("B")
    start = driven.result(authorize)[0]
    out = driven.result(start, {"transactionId": 5, "idTagInfo": {"status": "Expired"}})
    assert statuses(out) == [(1, "SuspendedEVSE")]
    energy = driven.cp.connectors[1].meter.energy_wh
    driven.at(120)
    driven.tick()
    assert driven.cp.connectors[1].meter.energy_wh == energy


def test_meter_values_carry_the_measurands_configured() -> None:
    driven = booted()
    measurands = "Energy.Active.Import.Register,Current.Import,Voltage,Current.Offered"
    driven.call("ChangeConfiguration", {"key": "MeterValuesSampledData", "value": measurands})
    driven.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})
    driven.charging()
    driven.at(30)
    (meter,) = of(driven.tick(), "MeterValues")
    values = {
        sv["measurand"]: (sv["value"], sv["unit"]) for sv in meter["meterValue"][0]["sampledValue"]
    }
    assert values == {
        "Energy.Active.Import.Register": ("92", "Wh"),
        "Current.Import": ("16", "A"),
        "Voltage": ("230", "V"),
        "Current.Offered": ("16", "A"),
    }


def test_a_shorter_sample_interval_counts_from_when_it_was_set() -> None:
    """MeterValueSampleInterval changed from 60 to 10 s during a transaction: the next
    MeterValues comes 10 s after the change, not after the sample the old interval planned;
    a longer one keeps the sample planned, then follows the new grid."""
    driven = booted()
    driven.charging()  # at 0 s: the first sample planned at 60 s
    driven.at(5)
    driven.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "10"})
    assert driven.cp.next_due(driven.now) == driven.now  # the plan is looked at again
    assert of(driven.tick(), "MeterValues") == []
    assert driven.cp.next_due(driven.now) == driven.at(15).now
    assert len(of(driven.tick(), "MeterValues")) == 1
    driven.at(20)
    driven.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "100"})
    driven.tick()
    assert driven.cp.next_due(driven.now) == driven.at(25).now  # planned before: kept
    assert len(of(driven.tick(), "MeterValues")) == 1
    driven.at(124)
    assert of(driven.tick(), "MeterValues") == []
    driven.at(125)
    assert len(of(driven.tick(), "MeterValues")) == 1


def test_clock_aligned_meter_values() -> None:
    driven = booted(connectors=2)
    driven.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "0"})
    driven.call("ChangeConfiguration", {"key": "ClockAlignedDataInterval", "value": "900"})
    driven.call(
        "ChangeConfiguration",
        {"key": "StopTxnAlignedData", "value": "Energy.Active.Import.Register"},
    )
    driven.charging()
    driven.at(1)
    assert driven.tick() == []  # the first tick only notes the slot
    driven.at(899)
    assert of(driven.tick(), "MeterValues") == []
    driven.at(905)  # 10:15 passed: one sample per connector, at 10:15:00
    aligned = [m for m in of(driven.tick(), "MeterValues")]
    assert [(m["connectorId"], "transactionId" in m) for m in aligned] == [(1, True), (2, False)]
    for m in aligned:
        value = m["meterValue"][0]
        assert value["timestamp"] == "2026-11-24T10:15:00.000Z"
        assert value["sampledValue"][0]["context"] == "Sample.Clock"
    driven.at(1000)
    (stop,) = of(driven.badge("TAG-1"), "StopTransaction")
    contexts = [d["sampledValue"][0]["context"] for d in stop["transactionData"]]
    assert "Sample.Clock" in contexts


# --- remote start and stop (§5.11, §5.12) --------------------------------------------------------


def test_remote_start_then_plug_then_remote_stop() -> None:
    driven = booted()
    reply = driven.call("RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE"})
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(1, "Preparing")]  # waits for the cable
    out = driven.answer_all(driven.plug())
    assert actions(out) == ["StartTransaction", "StatusNotification"]
    assert of(out, "StartTransaction")[0]["idTag"] == "REMOTE"
    transaction_id = driven.cp.transaction(1).transaction_id  # type: ignore[union-attr]
    assert driven.call("RemoteStopTransaction", {"transactionId": 77}).payload == {
        "status": "Rejected"
    }
    driven.at(60)
    reply = driven.call("RemoteStopTransaction", {"transactionId": transaction_id})
    assert reply.payload == {"status": "Accepted"}
    (stop,) = of(reply.outgoing, "StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, "Remote")
    assert statuses(reply.outgoing) == [(1, "Finishing")]


def test_remote_start_on_a_plugged_connector_starts_at_once() -> None:
    driven = booted()
    driven.plug()
    reply = driven.call("RemoteStartTransaction", {"idTag": "REMOTE"})
    assert reply.payload == {"status": "Accepted"}
    assert actions(reply.outgoing) == ["StartTransaction", "StatusNotification"]


def test_remote_start_picks_a_free_connector_and_refuses_a_busy_one() -> None:
    driven = booted(connectors=2)
    driven.charging("A", connector=1)
    assert driven.call("RemoteStartTransaction", {"connectorId": 1, "idTag": "R"}).payload == {
        "status": "Rejected"
    }
    for refused in (0, 3):
        reply = driven.call("RemoteStartTransaction", {"connectorId": refused, "idTag": "R"})
        assert reply.payload == {"status": "Rejected"}
    reply = driven.call("RemoteStartTransaction", {"idTag": "R"})
    assert reply.payload == {"status": "Accepted"}
    assert statuses(reply.outgoing) == [(2, "Preparing")]
    assert driven.call("RemoteStartTransaction", {"idTag": "S"}).payload == {"status": "Rejected"}


def test_remote_start_on_an_unavailable_connector_is_rejected() -> None:
    driven = booted()
    driven.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    reply = driven.call("RemoteStartTransaction", {"connectorId": 1, "idTag": "R"})
    assert reply.payload == {"status": "Rejected"}
    driven.fault(1)
    driven.call("ChangeAvailability", {"connectorId": 1, "type": "Operative"})
    reply = driven.call("RemoteStartTransaction", {"connectorId": 1, "idTag": "R"})
    assert reply.payload == {"status": "Rejected"}


def test_a_pending_charge_point_rejects_remote_start_and_stop() -> None:
    """OCPP 1.6 §4.2: while the boot is Pending, RemoteStartTransaction and
    RemoteStopTransaction are not allowed: Rejected, and nothing is sent (no StartTransaction
    before the boot is accepted); once Accepted, the same remote start starts."""
    driven = Driven()
    (boot,) = driven.cp.boot(driven.now)
    pending = {"status": "Pending", "currentTime": "2026-11-24T10:00:00Z", "interval": 60}
    assert driven.result(boot, pending) == []
    driven.plug()
    start = driven.call("RemoteStartTransaction", {"idTag": "APP-1", "connectorId": 1})
    stop = driven.call("RemoteStopTransaction", {"transactionId": 1})
    for reply in (start, stop):
        assert reply == Reply({"status": "Rejected"}, [])
    driven.at(60)
    (boot,) = driven.tick()  # the boot again, once the interval has passed
    assert boot.action == "BootNotification" and driven.cp.registration == "Pending"
    driven.answer_all([boot])  # Accepted this time
    start = driven.call("RemoteStartTransaction", {"idTag": "APP-1", "connectorId": 1})
    assert start.payload == {"status": "Accepted"}
    assert actions(start.outgoing)[0] == "StartTransaction"


def test_authorize_remote_tx_requests() -> None:
    driven = booted()
    driven.call("ChangeConfiguration", {"key": "AuthorizeRemoteTxRequests", "value": "true"})
    driven.plug()
    reply = driven.call("RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE"})
    assert reply.payload == {"status": "Accepted"}
    assert reply.outgoing == [("Authorize", {"idTag": "REMOTE"})]
    out = driven.result(reply.outgoing[0])
    assert actions(out) == ["StartTransaction", "StatusNotification"]


# --- local authorization (§3.5) ------------------------------------------------------------------


def test_local_pre_authorize_from_the_local_list_and_the_cache() -> None:
    driven = booted()
    driven.call("ChangeConfiguration", {"key": "LocalPreAuthorize", "value": "true"})
    entry = {"idTag": "LISTED", "idTagInfo": {"status": "Accepted"}}
    driven.call(
        "SendLocalList",
        {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [entry]},
    )
    driven.plug()
    out = driven.badge("LISTED")
    assert actions(out) == ["StartTransaction", "StatusNotification"]  # no Authorize
    driven.answer_all(out)
    driven.answer_all(driven.badge("LISTED"))
    driven.unplug()
    driven.plug()
    assert actions(driven.answer_all(driven.badge("CACHED"))) == [
        "Authorize",
        "StartTransaction",
        "StatusNotification",
    ]
    driven.answer_all(driven.badge("CACHED"))
    assert "CACHED" in driven.cp.auth_cache
    assert actions(driven.badge("CACHED")) == ["StartTransaction", "StatusNotification"]
    assert driven.call("ClearCache", {}).payload == {"status": "Accepted"}
    assert driven.cp.auth_cache == {}


def test_a_blocked_entry_of_the_local_list_asks_the_central_system() -> None:
    driven = booted()
    driven.call("ChangeConfiguration", {"key": "LocalPreAuthorize", "value": "true"})
    entry = {"idTag": "B", "idTagInfo": {"status": "Blocked"}}
    driven.call(
        "SendLocalList", {"listVersion": 1, "updateType": "Full", "localAuthorizationList": [entry]}
    )
    assert actions(driven.badge("B")) == ["Authorize"]


def test_badges_where_nothing_can_start() -> None:
    driven = booted()
    driven.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    with pytest.raises(StationError, match="Unavailable"):
        driven.badge("B")
    other = Driven()
    other.boot()
    other.answer_all(other.badge("FIRST"))
    with pytest.raises(StationError, match="waits for the cable of badge FIRST"):
        other.badge("SECOND")
    with pytest.raises(StationError, match="already plugged"):
        other.plug()
        other.plug()
    with pytest.raises(StationError, match="nothing is plugged"):
        booted().unplug()
