"""End to end over SOAP: a real CS process and a real CP process posting envelopes (SPEC §7).

The SOAP half of the original's `test-cp-*` / `test-cs-*` (SPEC §9): every CP command and
every `remote_` command of a version typed at the prompt of the process that sends it; both
logs show `>>peer /Action {json}` and `<<peer /Action {json}` lines and no error anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from harness import SimProcess, free_port, soap_carries
from test_e2e_ws import CP_COMMANDS, CS_COMMANDS


def soap_re(speaker: str, direction: str, peer: str, action: str) -> str:
    """Regex of a SOAP log line in JSON mode, e.g. `cp#b: >>cs /Heartbeat {}`."""
    head = re.escape(f"{speaker}: {direction}{peer} /{action} ")
    return head + r"(?P<json>\{.*\})$"


@dataclass
class SoapPair:
    """A SOAP CS process and one SOAP CP process that registered with it."""

    version: str
    cs: SimProcess
    cp: SimProcess
    cp_id: str

    @property
    def me(self) -> str:
        return f"cp#{self.cp_id}"

    def cp_call(self, line: str, action: str) -> tuple[object, object]:
        """CP command: the request and its answer in both logs (the first after the line: the
        CP's model sends CALLs of its own); returns (request, answer)."""
        cs_mark = self.cs.mark()
        mark = self.cp.send(line)
        sent = self.cp.expect(soap_re(self.me, ">>", "cs", action), since=mark)
        answer = self.cp.expect(soap_re(self.me, "<<", "cs", action))
        self.cs.expect(soap_re("cs", "<<", self.me, action), since=cs_mark)
        self.cs.expect(soap_re("cs", ">>", self.me, action))
        return json.loads(sent["json"]), json.loads(answer["json"])

    def cs_call(self, line: str, action: str) -> tuple[object, object]:
        """`remote_` command: the mirror of `cp_call`."""
        cp_mark = self.cp.mark()
        mark = self.cs.send(line)
        sent = self.cs.expect(soap_re("cs", ">>", self.me, action), since=mark)
        answer = self.cs.expect(soap_re("cs", "<<", self.me, action))
        self.cp.expect(soap_re(self.me, "<<", "cs", action), since=cp_mark)
        self.cp.expect(soap_re(self.me, ">>", "cs", action))
        return json.loads(sent["json"]), json.loads(answer["json"])

    def rebooted(self) -> None:
        """After a Reset the CP's model reboots: over SOAP, where there is no connection to
        close, it boots again at once."""
        self.cp.expect(rf"{re.escape(self.me)}: Rebooting \(\w+\)\.")
        self.cp.expect(soap_re(self.me, ">>", "cs", "BootNotification"))
        self.cp.expect(soap_re(self.me, "<<", "cs", "BootNotification"))

    def marks(self) -> tuple[int, int]:
        return self.cs.mark(), self.cp.mark()

    def assert_no_errors(self, marks: tuple[int, int]) -> None:
        assert self.cs.errors(marks[0]) == []
        assert self.cp.errors(marks[1]) == []


@pytest.fixture(scope="module", params=["1.2", "1.5", "1.6"], ids=["ocpp1.2", "ocpp1.5", "ocpp1.6"])
def pair(request: pytest.FixtureRequest, module_sims) -> SoapPair:
    version = request.param
    protocol = f"ocpp{version}"
    port, callback = free_port(), free_port()
    cp_id = f"box{version.replace('.', '')}"
    cs = module_sims.raw("start_cs", str(port), "-t", "soap", "-p", protocol)
    cs.expect(rf"cs: SOAP Server listening on port {port}$")
    cp = module_sims.raw(
        "start_cp",
        f"http://127.0.0.1:{port}",
        cp_id,
        "-t",
        "soap",
        "-p",
        protocol,
        "-f",
        f"http://127.0.0.1:{callback}",
    )
    cp.expect(rf"cp#{cp_id}: SOAP Server listening on port {callback}$")
    soap = SoapPair(version, cs, cp, cp_id)
    soap.cp_call("heartbeat", "Heartbeat")  # the CS learns the CP and its From address
    cs.expect(rf"cs: ChargePoint #{cp_id} connected\.$", since=0)
    return soap


def test_every_cp_command(pair: SoapPair) -> None:
    marks = pair.marks()
    sent = 0
    for command, action in CP_COMMANDS[pair.version].items():
        if soap_carries(pair.version, "cs", action):  # 1.6: the core actions
            _, answer = pair.cp_call(command, action)
            assert isinstance(answer, dict)
            sent += 1
    assert sent == {"1.2": 9, "1.5": 10, "1.6": 10}[pair.version]
    pair.assert_no_errors(marks)


def test_every_remote_command(pair: SoapPair) -> None:
    marks = pair.marks()
    sent = 0
    for command, action in CS_COMMANDS[pair.version].items():
        if soap_carries(pair.version, "cp", action):
            _, answer = pair.cs_call(command, action)
            assert isinstance(answer, dict)
            if action == "Reset":
                pair.rebooted()
            sent += 1
    assert sent == {"1.2": 9, "1.5": 15, "1.6": 19}[pair.version]
    pair.assert_no_errors(marks)


def test_customised_commands(pair: SoapPair) -> None:
    marks = pair.marks()
    sent, _ = pair.cp_call('bootnotification chargePointVendor="ACME"', "BootNotification")
    assert isinstance(sent, dict) and sent["chargePointVendor"] == "ACME"
    received = re.escape(f"cs: <<{pair.me} /BootNotification ") + r'\{"chargePointVendor":"ACME"'
    pair.cs.expect(received, since=marks[0])
    sent, answer = pair.cs_call(
        "remote_changeavailability connectorId=1 type=Operative", "ChangeAvailability"
    )
    assert sent == {"connectorId": 1, "type": "Operative"}
    assert answer == {"status": "Accepted"}
    sent, answer = pair.cs_call('remote_send -n Reset -p {"type":"Soft"}', "Reset")
    assert (sent, answer) == ({"type": "Soft"}, {"status": "Accepted"})
    pair.rebooted()
    pair.assert_no_errors(marks)


def test_print_xml_shows_the_envelopes(pair: SoapPair) -> None:
    marks = pair.marks()
    cp, me = pair.cp, pair.me
    cp.send("set cp print_xml=true")
    mark = cp.send("heartbeat")
    heartbeat = re.escape('<wsa:Action soap:mustUnderstand="true">/Heartbeat</wsa:Action>')
    sent = cp.expect(rf"{re.escape(me)}: >>cs <\?xml .*<soap:Envelope .*{heartbeat}", since=mark)
    assert "<wsa:From><wsa:Address>http://127.0.0.1:" in sent.string  # [fix] From with -f
    got = cp.expect(rf"{re.escape(me)}: <<cs <\?xml .*heartbeatResponse")
    assert "RelatesTo" in got.string and "undefined" not in got.string
    pair.cs.expect(soap_re("cs", ">>", me, "Heartbeat"))
    cp.send("set cp print_xml=false")
    pair.cp_call("heartbeat", "Heartbeat")
    pair.assert_no_errors(marks)


def test_send_errors_are_clear_lines(pair: SoapPair) -> None:
    cp, cs = pair.cp, pair.cs
    mark = cp.send("send -n Nope -p {}")
    cp.expect(r"^Error: Nope not sent: `Nope' is not an operation of the OCPP", since=mark)
    mark = cp.send("send -n Authorize -p {}")
    cp.expect(r"^Error: Authorize not sent: .*use send_raw", since=mark)
    mark = cs.send("remote_send_raw -e hello")
    cs.expect(rf"cs: <<{re.escape(pair.me)} <\?xml .*FormationViolation", since=mark)
    cp.expect(rf'{re.escape(pair.me)}: >>cs Fault \{{"code":"FormationViolation"')
    mark = cs.send("websocket_ping_cp")
    cs.expect(r"^Error: websocket ping is not available in SOAP mode", since=mark)
    # both still work afterwards
    pair.cp_call("heartbeat", "Heartbeat")
    pair.cs_call("remote_clearcache", "ClearCache")


def test_one_soap_cs_serves_12_15_and_16_charge_boxes(sims) -> None:
    """`-p ocpp1.2,ocpp1.5,ocpp1.6`: each box speaks its own version, told by its namespace."""
    port = free_port()
    cs = sims.raw("start_cs", str(port), "-t", "soap", "-p", "ocpp1.2,ocpp1.5,ocpp1.6")
    cs.expect(rf"cs: SOAP Server listening on port {port}$")
    pairs = []
    for version in ("1.2", "1.5", "1.6"):
        cp_id, callback = f"multi{version.replace('.', '')}", free_port()
        cp = sims.raw(
            "start_cp",
            f"http://127.0.0.1:{port}",
            cp_id,
            "-t",
            "soap",
            "-p",
            f"ocpp{version}",
            "-f",
            f"http://127.0.0.1:{callback}",
        )
        cp.expect(rf"cp#{cp_id}: SOAP Server listening on port {callback}$")
        pair = SoapPair(version, cs, cp, cp_id)
        pair.cp_call("heartbeat", "Heartbeat")
        cs.expect(rf"cs: ChargePoint #{cp_id} connected\.$", since=0)
        pairs.append(pair)
    old, mid, new = pairs
    marks = [p.marks() for p in pairs]
    _, answer = new.cp_call("bootnotification", "BootNotification")
    assert isinstance(answer, dict) and "interval" in answer  # 1.6's name
    _, answer = mid.cp_call("bootnotification", "BootNotification")
    assert isinstance(answer, dict) and "heartbeatInterval" in answer  # 1.5's
    sent, _ = new.cp_call("metervalues", "MeterValues")
    assert isinstance(sent, dict) and "meterValue" in sent
    new.cs_call(f"remote_setchargingprofile --remote-id {new.cp_id}", "SetChargingProfile")
    new.cs_call(f"remote_triggermessage --remote-id {new.cp_id}", "TriggerMessage")
    old.cs_call(f"remote_reset --remote-id {old.cp_id}", "Reset")
    only = "is not an operation of the OCPP 1.6 {} SOAP service (OCPP-J only)."
    mark = new.cp.send("signcertificate")
    new.cp.expect(re.escape(only.format("Central System")), since=mark)
    mark = cs.send(f"remote_getlog --remote-id {new.cp_id}")
    cs.expect(re.escape(only.format("Charge Point")), since=mark)
    mid.cs_call(f"remote_getconfiguration --remote-id {mid.cp_id}", "GetConfiguration")
    for pair, (_, cp_mark) in zip(pairs, marks, strict=True):
        assert pair.cp.errors(cp_mark, ignore=("OCPP-J only",)) == []
    assert cs.errors(marks[0][0], ignore=("OCPP-J only",)) == []
