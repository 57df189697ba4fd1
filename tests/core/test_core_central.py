"""What ocppsim's Central System keeps and answers by itself (ocppsim.core.central): a
transaction-id counter, idTags accepted but the reserved test tags (or only an --accept-tags
list), UnknownVendorId for a vendorId it does not serve, SecurityError while a 2.x station is
Pending or Rejected (B02.FR.09, B03.FR.07), and the in-band asks of `ocppsim check`; every
answer checked against its schema."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ocppsim.core import versions
from ocppsim.core.central import CentralSystemModel, TagPolicy, read_list
from ocppsim.core.errors import CallError, OcppSimError
from ocppsim.core.station.common import Outgoing
from ocppsim.core.validation import validate

T0 = 1_795_000_000.0  # 2026-11-18T11:06:40Z
V2X = [v for v in ("2.0.1", "2.1") if v in versions.names()]


def answer(model: CentralSystemModel, version: str, action: str, payload: Any, cp: str = "cp1"):
    """The model's answer to `action` (checked against its schema), told to the model as given;
    None when it leaves the version's default."""
    reply = model.answer(cp, version, action, payload)
    if reply is None:
        return None
    assert validate(version, action + "Response", reply.payload) is None, reply.payload
    model.answered(cp, version, action, payload, reply.payload)
    return reply


def start(model: CentralSystemModel, tag: str = "B4F62CEF", connector: int = 1, cp: str = "cp1"):
    payload = {
        "connectorId": connector,
        "idTag": tag,
        "meterStart": 0,
        "timestamp": "2026-11-18T00:00:00Z",
    }
    return answer(model, "1.6", "StartTransaction", payload, cp).payload


# -- transaction ids --------------------------------------------------------------------------


def test_each_start_transaction_gets_the_next_id_from_one_for_every_charge_point() -> None:
    model = CentralSystemModel(clock=lambda: T0)
    assert start(model)["transactionId"] == 1  # the README's tour: transactionId 1
    assert start(model, connector=2)["transactionId"] == 2
    assert start(model, cp="cp2")["transactionId"] == 3  # one counter per Central System
    assert model.open_transactions("cp1") == [1, 2]
    assert model.open_transactions("cp1", 2) == [2]
    stop = {"transactionId": 1, "meterStop": 10, "timestamp": "2026-11-18T00:00:00Z"}
    assert answer(model, "1.6", "StopTransaction", stop) is None  # no idTag: the default
    assert model.open_transactions("cp1") == [2]


def test_ocpp_12_and_15_count_too() -> None:
    model = CentralSystemModel()
    for version in ("1.2", "1.5"):
        payload = {
            "connectorId": 1,
            "idTag": "X",
            "timestamp": "2026-11-18T00:00:00Z",
            "meterStart": 0,
        }
        if version == "1.5":
            payload["reservationId"] = 0
        assert answer(model, version, "StartTransaction", payload).payload["transactionId"] in (
            1,
            2,
        )
    assert model.open_transactions("cp1") == [1, 2]


def test_a_charge_point_the_central_system_holds_nothing_of_is_forgotten() -> None:
    model = CentralSystemModel()
    start(model)
    assert "cp1" in model.stations
    answer(
        model,
        "1.6",
        "StopTransaction",
        {"transactionId": 1, "meterStop": 1, "timestamp": "2026-11-18T00:00:00Z"},
    )
    assert model.stations == {}


# -- idTags -----------------------------------------------------------------------------------

TAGS_1X = {
    "B4F62CEF": "Accepted",
    "12345": "Accepted",
    "INVALID": "Invalid",
    "invalid-7": "Invalid",
    "UNKNOWN-OCPPSIM": "Invalid",  # 1.x has no Unknown
    "Blocked01": "Blocked",
    "EXPIRED": "Expired",
    "CONCURRENT-TX": "ConcurrentTx",
    "NOCREDIT": "Invalid",  # a 2.x refusal: Invalid in 1.x
    "OCPPSIM-UNKNOWN": "Accepted",  # the reserved word must come first
}
TAGS_2X = {
    **TAGS_1X,
    "UNKNOWN-OCPPSIM": "Unknown",
    "NOCREDIT": "NoCredit",
    "NotAtThisTime-1": "NotAtThisTime",
    "notallowedtypeevse": "NotAllowedTypeEVSE",
    "NOTATTHISLOCATION": "NotAtThisLocation",
}


@pytest.mark.parametrize(("tag", "status"), sorted(TAGS_1X.items()))
def test_reserved_test_tags_in_authorize_start_and_stop_16(tag: str, status: str) -> None:
    model = CentralSystemModel(clock=lambda: T0)
    authorized = answer(model, "1.6", "Authorize", {"idTag": tag}).payload
    assert authorized["idTagInfo"]["status"] == status
    started = start(model, tag)
    assert started["idTagInfo"]["status"] == status and started["transactionId"] == 1
    stop = {"transactionId": 1, "idTag": tag, "meterStop": 1, "timestamp": "2026-11-18T00:00:00Z"}
    assert answer(model, "1.6", "StopTransaction", stop).payload["idTagInfo"]["status"] == status
    if status == "Accepted":  # the default's: a day ahead
        assert authorized["idTagInfo"]["expiryDate"] > "2026-11-18"
    elif status == "Expired":  # a date that says so
        assert authorized["idTagInfo"] == {
            "status": "Expired",
            "expiryDate": "2026-11-17T11:06:40Z",
        }
    else:
        assert authorized["idTagInfo"] == {"status": status}


@pytest.mark.parametrize("version", V2X)
@pytest.mark.parametrize(("tag", "status"), sorted(TAGS_2X.items()))
def test_reserved_test_tokens_in_authorize_and_transaction_event_2x(
    version: str, tag: str, status: str
) -> None:
    model = CentralSystemModel()
    token = {"idToken": tag, "type": "ISO14443"}
    authorized = answer(model, version, "Authorize", {"idToken": token}).payload
    assert authorized["idTokenInfo"]["status"] == status
    event = {
        "eventType": "Started",
        "timestamp": "2026-11-18T00:00:00Z",
        "triggerReason": "Authorized",
        "seqNo": 0,
        "transactionInfo": {"transactionId": "tx-1"},
        "idToken": token,
        "evse": {"id": 1, "connectorId": 1},
    }
    assert (
        answer(model, version, "TransactionEvent", event).payload["idTokenInfo"]["status"] == status
    )
    assert model.open_transactions("cp1", 1) == ["tx-1"]
    updated = {**event, "eventType": "Updated", "seqNo": 1}
    del updated["idToken"], updated["evse"]
    assert answer(model, version, "TransactionEvent", updated).payload == {}  # no idToken: no info
    ended = {**updated, "eventType": "Ended", "seqNo": 2}
    answer(model, version, "TransactionEvent", ended)
    assert model.open_transactions("cp1") == [] and model.stations == {}


def test_accept_tags_makes_a_strict_list_case_insensitive() -> None:
    policy = TagPolicy(["B4F62CEF", "card-2", "BLOCKED-BUT-LISTED"])
    assert policy.status("b4f62cef", "1.6") == "Accepted"  # OCPP 1.6 §7.28: case-insensitive
    assert policy.status("CARD-2", "2.0.1") == "Accepted"
    assert policy.status("BLOCKED-BUT-LISTED", "1.6") == "Accepted"  # the list wins
    assert policy.status("12345", "1.6") == "Invalid"
    assert policy.status("12345", "2.0.1") == "Unknown"
    assert policy.status("BLOCKED", "1.6") == "Blocked"  # the reserved tags still answer
    assert policy.status(None, "1.6") == "Invalid"


def test_read_list_takes_commas_or_a_file(tmp_path: Path) -> None:
    assert read_list("A, B,C", "idTag") == ["A", "B", "C"]
    tags = tmp_path / "tags.txt"
    tags.write_text(
        "# our badges\nB4F62CEF\n044943121F1D80, 0A0B  # two more\n\n", encoding="utf-8"
    )
    assert read_list(f"@{tags}", "idTag") == ["B4F62CEF", "044943121F1D80", "0A0B"]
    with pytest.raises(OcppSimError, match=r"cannot read the idTag file .*nope.txt"):
        read_list(f"@{tmp_path / 'nope.txt'}", "idTag")
    with pytest.raises(OcppSimError, match="the list names no vendorId"):
        read_list(" , ", "vendorId")


# -- DataTransfer -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.5", "1.6", *V2X])
def test_data_transfer_of_a_vendor_not_served_is_unknown_vendor_id(version: str) -> None:
    model = CentralSystemModel(vendor_ids=["com.example"])
    unknown = answer(model, version, "DataTransfer", {"vendorId": "org.other", "data": "x"})
    assert unknown.payload == {"status": "UnknownVendorId"}
    # ocppsim's default DataTransfer (the README's), one given, in any case: the default answer
    assert answer(model, version, "DataTransfer", {"vendorId": "fr.tm.cnr"}) is None
    assert answer(model, version, "DataTransfer", {"vendorId": "COM.example"}) is None
    every = CentralSystemModel(vendor_ids=["*"])
    assert answer(every, version, "DataTransfer", {"vendorId": "org.other"}) is None


# -- registration (2.x) -----------------------------------------------------------------------


@pytest.mark.parametrize("version", V2X)
def test_a_pending_station_gets_security_error_but_for_its_boot_and_what_was_triggered(
    version: str,
) -> None:
    model = CentralSystemModel()
    boot = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
    model.answered("cp1", version, "BootNotification", boot, {"status": "Pending"})  # a plugin's
    with pytest.raises(CallError) as refused:
        model.answer("cp1", version, "Heartbeat", {})
    assert (
        refused.value.code == "SecurityError"
        and "registration is Pending" in refused.value.description
    )
    assert model.answer("cp2", version, "Heartbeat", {}) is None  # another station is not
    trigger = {"requestedMessage": "Heartbeat"}
    model.heard("cp1", version, "TriggerMessage", trigger, {"status": "Accepted"})
    assert model.answer("cp1", version, "Heartbeat", {}) is None  # once
    with pytest.raises(CallError):
        model.answer("cp1", version, "Heartbeat", {})
    model.heard(
        "cp1",
        version,
        "TriggerMessage",
        {"requestedMessage": "SignChargingStationCertificate"},
        {"status": "Accepted"},
    )
    assert model.answer("cp1", version, "SignCertificate", {"csr": "x"}) is None
    assert model.answer("cp1", version, "BootNotification", boot) is None
    model.answered("cp1", version, "BootNotification", boot, {"status": "Accepted"})
    assert model.answer("cp1", version, "Heartbeat", {}) is None
    assert model.stations == {}


def test_ocpp_16_has_no_security_error_while_pending() -> None:
    model = CentralSystemModel()
    model.answered("cp1", "1.6", "BootNotification", {}, {"status": "Rejected"})
    assert model.answer("cp1", "1.6", "Heartbeat", {}) is None


# -- asks -------------------------------------------------------------------------------------


def ask(do: Any, message_id: str = "ask") -> dict[str, Any]:
    data = json.dumps({"id": "ask-1", "instruction": "…", "do": do})
    return {"vendorId": "ocppsim", "messageId": message_id, "data": data}


def test_a_boot_ask_answers_the_next_boot_so_and_the_one_after_accepted() -> None:
    model = CentralSystemModel()
    done = answer(model, "1.6", "DataTransfer", ask({"boot": "Pending", "interval": 3}))
    assert done.payload == {"status": "Accepted", "data": "ask-1"} and done.outgoing == []
    boot = {"chargePointVendor": "V", "chargePointModel": "M"}
    pending = answer(model, "1.6", "BootNotification", boot).payload
    assert pending["status"] == "Pending" and pending["interval"] == 3
    assert answer(model, "1.6", "BootNotification", boot) is None  # the default: Accepted


def test_a_send_ask_is_sent_after_the_answer_and_a_stop_names_the_open_transaction() -> None:
    model = CentralSystemModel()
    remote = {"connectorId": 1, "idTag": "B4F62CEF"}
    done = answer(
        model, "1.6", "DataTransfer", ask({"send": "RemoteStartTransaction", "payload": remote})
    )
    assert done.outgoing == [Outgoing("RemoteStartTransaction", remote)]
    nothing = answer(
        model, "1.6", "DataTransfer", ask({"send": "RemoteStopTransaction", "connectorId": 1})
    )
    assert nothing.payload == {"status": "Rejected", "data": "no open transaction to stop"}
    start(model, connector=1)
    start(model, connector=2)
    stop = answer(
        model, "1.6", "DataTransfer", ask({"send": "RemoteStopTransaction", "connectorId": 1})
    )
    assert stop.outgoing == [Outgoing("RemoteStopTransaction", {"transactionId": 1})]


def test_a_cancel_ask_names_the_reservation_the_charge_point_accepted() -> None:
    model = CentralSystemModel()
    cancel = ask({"send": "CancelReservation"})
    assert answer(model, "1.6", "DataTransfer", cancel).payload["status"] == "Rejected"
    model.heard("cp1", "1.6", "ReserveNow", {"reservationId": 4202}, {"status": "Accepted"})
    model.heard("cp1", "1.6", "ReserveNow", {"reservationId": 4203}, {"status": "Occupied"})
    done = answer(model, "1.6", "DataTransfer", cancel)
    assert done.outgoing == [Outgoing("CancelReservation", {"reservationId": 4202})]
    model.heard("cp1", "1.6", "CancelReservation", {"reservationId": 4202}, {"status": "Accepted"})
    assert model.stations == {}


def test_an_ask_that_cannot_be_read_is_rejected_saying_why() -> None:
    model = CentralSystemModel()
    other = answer(model, "1.6", "DataTransfer", ask({"boot": "Pending"}, message_id="other"))
    assert other.payload == {"status": "UnknownMessageId"}
    broken = {"vendorId": "ocppsim", "messageId": "ask", "data": "{not json"}
    assert answer(model, "1.6", "DataTransfer", broken).payload == {
        "status": "Rejected",
        "data": "an ask is JSON with a `do' object",
    }
    odd = answer(model, "1.6", "DataTransfer", ask({"boot": "Maybe"}))
    assert "Accepted, Pending or Rejected, not Maybe" in odd.payload["data"]
    assert answer(model, "1.6", "DataTransfer", ask({"fly": 1})).payload["status"] == "Rejected"
