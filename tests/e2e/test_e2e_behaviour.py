"""Charge Points that behave, at the prompt of real `ocppsim` processes: a badge at a 2.0.1
Charging Station runs a whole transaction, a remote start at a 1.6 Charge Point too (over
OCPP-J and SOAP), a 2.0.1 station answers RequestStart/StopTransaction, TriggerMessage and
GetBaseReport from its state, a TriggerMessage makes a 1.6 Charge Point send what was asked
for, a new HeartbeatInterval is reported and beaten at; `--stateless` keeps the original's
canned answers."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from harness import SimProcess, frame_of, frame_re, free_port
from test_e2e_soap import soap_re

STAMP = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\]")


def _pair(sims, cp_id: str, *options: str) -> tuple[SimProcess, SimProcess]:
    port = free_port()
    cs = sims.cs(port, "-u", "/ocpp")
    cp = sims.cp(f"ws://127.0.0.1:{port}/ocpp", cp_id, *options)
    cs.expect(rf"cs: ChargePoint #{cp_id} connected", since=0)
    return cs, cp


def _booted(cp: SimProcess, me: str) -> None:
    """The Charge Point's boot answered (its model sent it on connection)."""
    boot = cp.expect(frame_re(me, ">>", "cs", 2, action="BootNotification"), since=0)
    cp.expect(frame_re(me, "<<", "cs", 3, unique_id=boot["uid"]))


def _energy(event: dict) -> float:
    return max(
        float(sv["value"])
        for mv in event.get("meterValue", [])
        for sv in mv["sampledValue"]
        if sv.get("measurand") == "Energy.Active.Import.Register"
    )


def test_a_badge_at_a_2_0_1_station_runs_authorize_started_updated_ended(sims) -> None:
    cs, cp = _pair(sims, "cp201", "-p", "ocpp2.0.1")
    me = "cp#cp201"
    _booted(cp, me)
    # the CSMS asks for a TransactionEvent Updated every second
    cs.send(
        "remote_setvariables setVariableData.0.component.name=SampledDataCtrlr"
        ' setVariableData.0.variable.name=TxUpdatedInterval setVariableData.0.attributeValue="1"'
    )
    cs.expect(r'cs: <<cp#cp201 \[3,"\w+",\{"setVariableResult":\[.*"attributeStatus":"Accepted"')
    cp.send("plug")
    cp.expect(rf'{me}: >>cs \[2,"\w+","StatusNotification",\{{.*"connectorStatus":"Occupied"')
    mark = cp.send("badge B4F62CEF")
    authorize = cp.expect(frame_re(me, ">>", "cs", 2, action="Authorize"), since=mark)
    assert frame_of(authorize.string)[3] == {"idToken": {"idToken": "B4F62CEF", "type": "ISO14443"}}
    event = frame_re(me, ">>", "cs", 2, action="TransactionEvent")
    started = frame_of(cp.expect(event).string)[3]
    assert (started["eventType"], started["triggerReason"]) == ("Started", "Authorized")
    updated = [frame_of(cp.expect(event).string)[3] for _ in range(2)]
    assert [e["eventType"] for e in updated] == ["Updated", "Updated"]
    readings = [_energy(e) for e in updated]
    assert 0 < readings[0] < readings[1]
    mark = cp.send("badge B4F62CEF")
    while True:  # Updated events may still come before the Ended one
        ended = frame_of(cp.expect(event, since=mark).string)[3]
        mark = cp.mark()
        if ended["eventType"] == "Ended":
            break
    assert ended["transactionInfo"]["stoppedReason"] == "Local"
    assert _energy(ended) >= readings[1]
    ids = {e["transactionInfo"]["transactionId"] for e in (started, *updated, ended)}
    assert len(ids) == 1
    cs.expect(rf'cs: <<{me} \[2,"\w+","TransactionEvent",\{{"eventType":"Ended"')
    assert cp.errors() == [] and cs.errors() == []


class _Link:
    """What a CS process logs of one Charge Point's CALLs and answers, over OCPP-J or SOAP."""

    def __init__(self, cs: SimProcess, cp_id: str, transport: str) -> None:
        self.cs, self.me, self.soap = cs, f"cp#{cp_id}", transport == "soap"

    def received(self, action: str) -> dict:
        """The payload of the next CALL of `action` the CS receives from the Charge Point."""
        if self.soap:
            return json.loads(self.cs.expect(soap_re("cs", "<<", self.me, action))["json"])
        return frame_of(self.cs.expect(frame_re("cs", "<<", self.me, 2, action=action)).string)[3]

    def call(self, line: str, action: str) -> dict:
        """Type `line` at the CS: the answer its CALL of `action` gets."""
        mark = self.cs.send(line)
        if self.soap:
            self.cs.expect(soap_re("cs", ">>", self.me, action), since=mark)
            return json.loads(self.cs.expect(soap_re("cs", "<<", self.me, action))["json"])
        sent = self.cs.expect(frame_re("cs", ">>", self.me, 2, action=action), since=mark)
        answer = self.cs.expect(frame_re("cs", "<<", self.me, 3, unique_id=sent["uid"]))
        return frame_of(answer.string)[2]


@pytest.mark.parametrize("transport", ["websocket", "soap"])
def test_a_remote_start_at_a_1_6_charge_point_runs_start_meter_values_stop(
    sims, transport: str
) -> None:
    """RemoteStartTransaction at a plugged 1.6 Charge Point: StartTransaction, MeterValues of
    that transaction every MeterValueSampleInterval (set to 1 s while it charges: the next one
    does not wait for the 60 s one planned), with energy that goes up, then
    RemoteStopTransaction: StopTransaction (Remote) with the meter where the samples left it."""
    port = free_port()
    if transport == "soap":
        cp_id, callback = "box16", free_port()
        cs = sims.raw("start_cs", str(port), "-t", "soap", "-p", "ocpp1.6")
        cs.expect(rf"cs: SOAP Server listening on port {port}$")
        url = f"http://127.0.0.1:{port}"
        callback_url = f"http://127.0.0.1:{callback}"
        cp = sims.raw("start_cp", url, cp_id, "-t", "soap", "-p", "ocpp1.6", "-f", callback_url)
    else:
        cp_id = "cp16"
        cs = sims.cs(port, "-u", "/ocpp", "-p", "ocpp1.6")
        cp = sims.cp(f"ws://127.0.0.1:{port}/ocpp", cp_id, "-p", "ocpp1.6")
    link = _Link(cs, cp_id, transport)
    assert link.received("BootNotification")["chargePointVendor"] == "DBT"
    cp.send("plug 1")
    while link.received("StatusNotification")["status"] != "Preparing":
        pass
    answer = link.call("remote_starttransaction connectorId=1", "RemoteStartTransaction")
    assert answer == {"status": "Accepted"}
    start = link.received("StartTransaction")
    assert (start["connectorId"], start["idTag"]) == (1, "044943121F1D80")
    answer = link.call(
        'remote_changeconfiguration key=MeterValueSampleInterval value="1"', "ChangeConfiguration"
    )
    assert answer == {"status": "Accepted"}
    readings = []
    for _ in range(2):
        meter = link.received("MeterValues")
        assert (meter["connectorId"], meter["transactionId"]) == (1, 1)  # the CS's id
        readings.append(_energy(meter))
    assert start["meterStart"] <= readings[0] < readings[1]
    answer = link.call("remote_stoptransaction transactionId=1", "RemoteStopTransaction")
    assert answer == {"status": "Accepted"}
    stop = link.received("StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (1, "Remote")
    assert stop["meterStop"] >= int(readings[1])
    assert cp.errors() == [] and cs.errors() == []


def test_a_2_0_1_station_answers_the_csms_from_its_state(sims) -> None:
    """RequestStartTransaction at a plugged 2.0.1 station: TransactionEvent Started
    (RemoteStart, its remoteStartId), Updated; RequestStopTransaction of that transaction:
    Ended (Remote); TriggerMessage StatusNotification of an EVSE: that EVSE's status;
    GetBaseReport: NotifyReport pages numbered from 0, the last one tbc false."""
    cs, cp = _pair(sims, "cp201", "-p", "ocpp2.0.1")
    link = _Link(cs, "cp201", "websocket")
    assert link.received("BootNotification")["reason"] == "PowerUp"
    answer = link.call(
        "remote_setvariables setVariableData.0.component.name=SampledDataCtrlr"
        ' setVariableData.0.variable.name=TxUpdatedInterval setVariableData.0.attributeValue="1"',
        "SetVariables",
    )
    assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
    cp.send("plug 2")
    while link.received("StatusNotification")["connectorStatus"] != "Occupied":
        pass
    answer = link.call(
        "remote_requeststarttransaction evseId=2 remoteStartId=42", "RequestStartTransaction"
    )
    assert answer["status"] == "Accepted"
    started = link.received("TransactionEvent")
    assert (started["eventType"], started["triggerReason"]) == ("Started", "RemoteStart")
    assert (started["evse"]["id"], started["transactionInfo"]["remoteStartId"]) == (2, 42)
    tx_id = started["transactionInfo"]["transactionId"]
    updated = link.received("TransactionEvent")
    assert (updated["eventType"], updated["transactionInfo"]["transactionId"]) == ("Updated", tx_id)
    answer = link.call(
        f"remote_requeststoptransaction transactionId={tx_id}", "RequestStopTransaction"
    )
    assert answer["status"] == "Accepted"
    while (ended := link.received("TransactionEvent"))["eventType"] != "Ended":
        pass
    assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
        "RemoteStop",
        "Remote",
    )
    answer = link.call(
        "remote_triggermessage requestedMessage=StatusNotification evse.id=1 evse.connectorId=1",
        "TriggerMessage",
    )
    assert answer == {"status": "Accepted"}
    status = link.received("StatusNotification")
    assert (status["evseId"], status["connectorStatus"]) == (1, "Available")
    answer = link.call("remote_getbasereport requestId=7 reportBase=FullInventory", "GetBaseReport")
    assert answer == {"status": "Accepted"}
    # a page's line is cut at 8,000 characters on the console: read its head
    page = frame_re("cs", "<<", "cp#cp201", 2, action="NotifyReport") + (
        r'\{"requestId":(?P<request>\d+),"generatedAt":"[^"]+","seqNo":(?P<seq>\d+),'
        r'"tbc":(?P<tbc>true|false),"reportData":\[\{"component":'
    )
    heads = [cs.expect(page)]
    while heads[-1]["tbc"] == "true":
        heads.append(cs.expect(page))
    assert [int(h["seq"]) for h in heads] == list(range(len(heads))) and len(heads) > 1
    assert {h["request"] for h in heads} == {"7"}
    assert cp.errors() == [] and cs.errors() == []


def test_a_trigger_message_makes_a_1_6_charge_point_send_a_status_notification(sims) -> None:
    cs, cp = _pair(sims, "cp16", "-p", "ocpp1.6")
    _booted(cp, "cp#cp16")
    cp.send("plug 2")
    cp.expect(r'"connectorId":2,"errorCode":"NoError","status":"Preparing"')
    mark = cs.send("remote_triggermessage requestedMessage=StatusNotification connectorId=2")
    call = cs.expect(frame_re("cs", ">>", "cp#cp16", 2, action="TriggerMessage"), since=mark)
    answer = cs.expect(frame_re("cs", "<<", "cp#cp16", 3, unique_id=call["uid"]))
    assert frame_of(answer.string)[2] == {"status": "Accepted"}
    status = cs.expect(frame_re("cs", "<<", "cp#cp16", 2, action="StatusNotification"))
    payload = frame_of(status.string)[3]
    assert (payload["connectorId"], payload["status"]) == (2, "Preparing")
    assert cp.errors() == [] and cs.errors() == []


def test_a_new_heartbeat_interval_is_reported_and_beaten_at(sims) -> None:
    cs, cp = _pair(sims, "cp16", "-p", "ocpp1.6")
    _booted(cp, "cp#cp16")
    cs.send('remote_changeconfiguration key=HeartbeatInterval value="1"')
    cs.expect(r'cs: <<cp#cp16 \[3,"\w+",\{"status":"Accepted"\}\]')
    cs.send('remote_getconfiguration key=["HeartbeatInterval"]')
    cs.expect(re.escape('{"key":"HeartbeatInterval","readonly":false,"value":"1"}'))
    beats = [cs.expect(frame_re("cs", "<<", "cp#cp16", 2, action="Heartbeat")) for _ in range(3)]
    stamps = [
        datetime.datetime.strptime(STAMP.search(b.string)[1], "%Y-%m-%d %H:%M:%S")  # type: ignore[index]
        for b in beats
    ]
    gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    assert all(0 <= gap <= 3 for gap in gaps), gaps  # every second (stamps to the second)
    assert cp.errors() == [] and cs.errors() == []


def test_a_stateless_charge_point_answers_with_the_defaults_and_sends_nothing_itself(
    sims,
) -> None:
    cs, cp = _pair(sims, "old", "-p", "ocpp1.6", "--stateless")
    mark = cs.send("remote_triggermessage requestedMessage=StatusNotification connectorId=1")
    call = cs.expect(frame_re("cs", ">>", "cp#old", 2, action="TriggerMessage"), since=mark)
    answer = cs.expect(frame_re("cs", "<<", "cp#old", 3, unique_id=call["uid"]))
    assert frame_of(answer.string)[2] == {"status": "Accepted"}
    mark = cs.send("remote_starttransaction connectorId=7")  # no such connector: still Accepted
    call = cs.expect(frame_re("cs", ">>", "cp#old", 2, action="RemoteStartTransaction"), since=mark)
    answer = cs.expect(frame_re("cs", "<<", "cp#old", 3, unique_id=call["uid"]))
    assert frame_of(answer.string)[2] == {"status": "Accepted"}
    mark = cp.send("heartbeat")  # one more round trip: whatever the CP sent came before
    beat = cp.expect(frame_re("cp#old", ">>", "cs", 2, action="Heartbeat"), since=mark)
    cp.expect(frame_re("cp#old", "<<", "cs", 3, unique_id=beat["uid"]))
    sent = [frame_of(line)[2] for line in cp.lines() if re.search(r"cp#old: >>cs \[2,", line)]
    assert sent == ["Heartbeat"]  # no boot, no StatusNotification, no StartTransaction
    mark = cp.send("state")
    cp.expect(r"^cp#old: OCPP 1\.6 stateless Charge Point, websocket, connected$", since=mark)
    assert cp.errors() == [] and cs.errors() == []
