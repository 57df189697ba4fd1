"""End to end over OCPP-J: a real CS process and a real CP process talking over a websocket.

The port of the original's `test-cp-*` / `test-cs-*` (SPEC §9): every command of a version
goes through the standard input of the process that sends it, and both logs must show the
CALL and its CALLRESULT (SPEC §2, §4) with no error anywhere.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import pytest
from harness import CP_COMMANDS, SimProcess, frame_of, frame_re, free_port

#: CS command -> action
CS_COMMANDS_12 = {
    "remote_reset": "Reset",
    "remote_unlockconnector": "UnlockConnector",
    "remote_changeavailability": "ChangeAvailability",
    "remote_clearcache": "ClearCache",
    "remote_changeconfiguration": "ChangeConfiguration",
    "remote_getdiagnostics": "GetDiagnostics",
    "remote_updatefirmware": "UpdateFirmware",
    "remote_starttransaction": "RemoteStartTransaction",
    "remote_stoptransaction": "RemoteStopTransaction",
}
CS_COMMANDS_15 = {
    **CS_COMMANDS_12,
    "remote_cancelreservation": "CancelReservation",
    "remote_datatransfer": "DataTransfer",
    "remote_getconfiguration": "GetConfiguration",
    "remote_getlocallistversion": "GetLocalListVersion",
    "remote_reservenow": "ReserveNow",
    "remote_sendlocallist": "SendLocalList",
}

CS_COMMANDS_16 = {
    **CS_COMMANDS_15,
    "remote_clearchargingprofile": "ClearChargingProfile",
    "remote_getcompositeschedule": "GetCompositeSchedule",
    "remote_setchargingprofile": "SetChargingProfile",
    "remote_triggermessage": "TriggerMessage",
    "remote_certificatesigned": "CertificateSigned",
    "remote_deletecertificate": "DeleteCertificate",
    "remote_extendedtriggermessage": "ExtendedTriggerMessage",
    "remote_getinstalledcertificateids": "GetInstalledCertificateIds",
    "remote_getlog": "GetLog",
    "remote_installcertificate": "InstallCertificate",
    "remote_signedupdatefirmware": "SignedUpdateFirmware",
}

CS_COMMANDS = {"1.2": CS_COMMANDS_12, "1.5": CS_COMMANDS_15, "1.6": CS_COMMANDS_16}

SHORTENED = "Error: more than one charge point is connected: use --remote-id <id>; connected: a, b"


def not_available(action: str, version: str = "1.2") -> str:
    return re.escape(
        f"Error: procedure `{action}' is not available for a OCPP {version} Charge Point Simulator"
    )


@dataclass
class Pair:
    """A CS process and one CP process connected to it."""

    version: str
    cs: SimProcess
    cp: SimProcess
    cp_id: str

    @property
    def cp_speaker(self) -> str:
        return f"cp#{self.cp_id}"

    def cp_call(self, line: str, action: str) -> tuple[str, str, str]:
        """CP command `line`: CALL and CALLRESULT on both sides; returns (uid, call, result)."""
        cp, cs, me = self.cp, self.cs, self.cp_speaker
        cp.send(line)
        call = cp.expect(frame_re(me, ">>", "cs", 2, action=action))
        uid = call["uid"]
        result = cp.expect(frame_re(me, "<<", "cs", 3, unique_id=uid))
        cs.expect(frame_re("cs", "<<", me, 2, action=action, unique_id=uid))
        cs.expect(frame_re("cs", ">>", me, 3, unique_id=uid))
        return uid, call.string, result.string

    def cs_call(self, line: str, action: str) -> tuple[str, str, str]:
        """CS command `line`: the mirror of `cp_call`."""
        cp, cs, me = self.cp, self.cs, self.cp_speaker
        cs.send(line)
        call = cs.expect(frame_re("cs", ">>", me, 2, action=action))
        uid = call["uid"]
        result = cs.expect(frame_re("cs", "<<", me, 3, unique_id=uid))
        cp.expect(frame_re(me, "<<", "cs", 2, action=action, unique_id=uid))
        cp.expect(frame_re(me, ">>", "cs", 3, unique_id=uid))
        return uid, call.string, result.string

    def rebooted(self) -> None:
        """After a Reset the CP reboots: it closes its connection, connects again and boots
        (its model's BootNotification answered)."""
        cp, cs, me = self.cp, self.cs, self.cp_speaker
        cp.expect(rf"{re.escape(me)}: Rebooting \((Hard|Soft)Reset\)\.")
        cs.expect(rf"cs: ChargePoint #{re.escape(self.cp_id)} connected")
        cp.expect(rf"{re.escape(me)}: Connected to Central System\.")
        boot = cp.expect(frame_re(me, ">>", "cs", 2, action="BootNotification"))
        cp.expect(frame_re(me, "<<", "cs", 3, unique_id=boot["uid"]))

    def marks(self) -> tuple[int, int]:
        return self.cs.mark(), self.cp.mark()

    def assert_no_errors(self, marks: tuple[int, int], ignore: tuple[str, ...] = ()) -> None:
        assert self.cs.errors(marks[0], ignore=ignore) == []
        assert self.cp.errors(marks[1], ignore=ignore) == []


@pytest.fixture(scope="module", params=["1.2", "1.5", "1.6"], ids=["ocpp1.2", "ocpp1.5", "ocpp1.6"])
def pair(request: pytest.FixtureRequest, module_sims) -> Pair:
    version = request.param
    port = free_port()
    protocol = f"ocpp{version}"
    cp_id = f"cp{version.replace('.', '')}"
    if version == "1.5":
        cs = module_sims.cs(port, "-u", "/ocpp")
    else:
        cs = module_sims.cs(port, "-u", "/ocpp", "-p", protocol)
    cp = module_sims.cp(f"ws://127.0.0.1:{port}/ocpp", cp_id, "-p", protocol)
    cs.expect(rf"cs: ChargePoint #{cp_id} connected \(protocol: {re.escape(protocol)}\)\.", since=0)
    # its model's own boot answered first: a test's `bootnotification` must not match it
    boot = cp.expect(frame_re(f"cp#{cp_id}", ">>", "cs", 2, action="BootNotification"))
    cp.expect(frame_re(f"cp#{cp_id}", "<<", "cs", 3, unique_id=boot["uid"]))
    return Pair(version, cs, cp, cp_id)


def test_every_cp_command(pair: Pair) -> None:
    marks = pair.marks()
    for command, action in CP_COMMANDS[pair.version].items():
        _, _, result = pair.cp_call(command, action)
        assert frame_of(result)[0] == 3
    pair.assert_no_errors(marks)


def test_every_remote_command(pair: Pair) -> None:
    marks = pair.marks()
    for command, action in CS_COMMANDS[pair.version].items():
        _, _, result = pair.cs_call(command, action)
        assert frame_of(result)[0] == 3
        if action == "Reset":  # the Charge Point's model reboots: wait until it is back
            assert frame_of(result)[2] == {"status": "Accepted"}
            pair.rebooted()
    pair.assert_no_errors(marks)


def test_heartbeat_answers_the_current_time(pair: Pair) -> None:
    _, _, result = pair.cp_call("heartbeat", "Heartbeat")
    answer = frame_of(result)[2]
    assert isinstance(answer, dict)
    current = datetime.datetime.fromisoformat(answer["currentTime"].replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - current).total_seconds()) < 120


@pytest.mark.parametrize("pair", ["1.2"], ids=["ocpp1.2"], indirect=True)
def test_15_only_procedures_are_refused_on_12(pair: Pair) -> None:
    assert pair.version == "1.2"
    cp_mark = pair.cp.send("datatransfer")
    pair.cp.expect(not_available("DataTransfer"), since=cp_mark)
    cs_mark = pair.cs.send("remote_getconfiguration")
    pair.cs.expect(not_available("GetConfiguration"), since=cs_mark)
    # and nothing was sent
    pair.cp.expect_none(r'"DataTransfer"', since=cp_mark)
    pair.cs.expect_none(r'"GetConfiguration"', since=cs_mark)
    # both still work afterwards
    pair.cp_call("heartbeat", "Heartbeat")
    pair.cs_call("remote_clearcache", "ClearCache")


def test_customised_bootnotification(pair: Pair) -> None:
    marks = pair.marks()
    _, call, _ = pair.cp_call('bootnotification chargePointVendor="ACME"', "BootNotification")
    payload = frame_of(call)[3]
    assert isinstance(payload, dict)
    assert payload["chargePointVendor"] == "ACME"
    assert payload["chargePointModel"] == "NQC-ACDC"  # the other defaults stay
    pair.assert_no_errors(marks)


def test_authorize_with_a_number_is_a_type_violation(pair: Pair) -> None:
    marks = pair.marks()
    cp, cs, me = pair.cp, pair.cs, pair.cp_speaker
    cp.send("authorize idTag=12345")
    call = cp.expect(frame_re(me, ">>", "cs", 2, action="Authorize"))
    assert frame_of(call.string)[3] == {"idTag": 12345}
    uid = call["uid"]
    error = cp.expect(frame_re(me, "<<", "cs", 4, unique_id=uid))
    assert frame_of(error.string)[2] == "TypeConstraintViolation"
    cs.expect(frame_re("cs", ">>", me, 4, unique_id=uid) + r'"TypeConstraintViolation"')
    # the provoked CALLERROR is the only error
    pair.assert_no_errors(marks, ignore=(re.escape(uid),))


def test_customised_remote_commands(pair: Pair) -> None:
    marks = pair.marks()
    _, call, result = pair.cs_call(
        "remote_changeavailability connectorId=1 type=Operative", "ChangeAvailability"
    )
    assert frame_of(call)[3] == {"connectorId": 1, "type": "Operative"}
    assert frame_of(result)[2] == {"status": "Accepted"}
    if pair.version == "1.5":
        _, call, _ = pair.cs_call("remote_sendlocallist localAuthorisationList=[]", "SendLocalList")
        payload = frame_of(call)[3]
        assert isinstance(payload, dict)
        assert payload["localAuthorisationList"] == []
        assert payload["updateType"] == "Full"
        # [beyond] a dotted path reaches a nested field, the rest stays the default
        _, call, _ = pair.cs_call(
            "remote_sendlocallist localAuthorisationList.0.idTagInfo.status=Blocked",
            "SendLocalList",
        )
        payload = frame_of(call)[3]
        assert isinstance(payload, dict)
        entry = payload["localAuthorisationList"][0]
        assert entry["idTagInfo"]["status"] == "Blocked"
        assert entry["idTag"] == "044943121F1D80"
    pair.assert_no_errors(marks)


def test_the_tours_answers_are_sensible(pair: Pair) -> None:
    """The README's tour: a badge accepted until tomorrow, a configuration that remembers."""
    marks = pair.marks()
    _, _, result = pair.cp_call('authorize idTag="12345"', "Authorize")
    info = frame_of(result)[2]["idTagInfo"]  # type: ignore[index]
    assert info["status"] == "Accepted"
    expiry = datetime.datetime.fromisoformat(info["expiryDate"].replace("Z", "+00:00"))
    ahead = expiry - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(hours=23) < ahead <= datetime.timedelta(days=1)
    _, _, result = pair.cp_call("stoptransaction", "StopTransaction")
    assert frame_of(result)[2]["idTagInfo"]["status"] == "Accepted"  # type: ignore[index]
    change = 'remote_changeconfiguration key=HeartbeatInterval value="60"'
    _, _, result = pair.cs_call(change, "ChangeConfiguration")
    assert frame_of(result)[2] == {"status": "Accepted"}
    if pair.version != "1.2":
        line = 'remote_getconfiguration key=["HeartbeatInterval"]'
        _, _, result = pair.cs_call(line, "GetConfiguration")
        assert frame_of(result)[2] == {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "60"}],
            "unknownKey": [],
        }
    pair.assert_no_errors(marks)


def test_unknown_field_is_refused(pair: Pair) -> None:
    cp_mark = pair.cp.send("authorize foo=1")
    pair.cp.expect(re.escape("Error: unknown field `foo' for procedure `Authorize'"), since=cp_mark)
    pair.cp.expect_none(r'"Authorize"', since=cp_mark)
    cs_mark = pair.cs.send("remote_reset bar=1")
    pair.cs.expect(re.escape("Error: unknown field `bar' for procedure `Reset'"), since=cs_mark)
    pair.cs.expect_none(r'"Reset"', since=cs_mark)


def test_remote_send_any_action(pair: Pair) -> None:
    marks = pair.marks()
    _, call, result = pair.cs_call('remote_send -n Reset -p {"type":"Soft"}', "Reset")
    assert frame_of(call)[2:] == ["Reset", {"type": "Soft"}]
    assert frame_of(result)[2] == {"status": "Accepted"}
    pair.rebooted()  # the model acts on it as on any Reset
    pair.assert_no_errors(marks)


def test_remote_send_raw(pair: Pair) -> None:
    marks = pair.marks()
    cp, cs, me = pair.cp, pair.cs, pair.cp_speaker
    cs.send('remote_send_raw -e [2,"abc","ClearCache",{}]')
    cs.expect(re.escape(f'cs: >>{me} [2,"abc","ClearCache",{{}}]'))
    cp.expect(re.escape(f'{me}: <<cs [2,"abc","ClearCache",{{}}]'))
    cp.expect(re.escape(f'{me}: >>cs [3,"abc",{{"status":"Accepted"}}]'))
    cs.expect(re.escape(f'cs: <<{me} [3,"abc",{{"status":"Accepted"}}]'))
    # one more round trip, so whatever the CS logs about "abc" comes before the check
    pair.cs_call("remote_clearcache", "ClearCache")
    # the answer to a raw CALL is an answer: no "no pending CALL" warning (the README's tour)
    pair.assert_no_errors(marks)


def test_send_any_action_from_the_cp(pair: Pair) -> None:
    marks = pair.marks()
    _, call, result = pair.cp_call("send -n Heartbeat -p {}", "Heartbeat")
    assert frame_of(call)[3] == {}
    assert "currentTime" in frame_of(result)[2]  # type: ignore[operator]
    pair.assert_no_errors(marks)


def test_one_cs_serves_a_12_a_15_and_a_16_charge_point(sims, port: int) -> None:
    cs = sims.cs(port, "-u", "/ocpp", "-p", "ocpp1.2,ocpp1.5,ocpp1.6")
    url = f"ws://127.0.0.1:{port}/ocpp"
    cp_a = sims.cp(url, "a", "-p", "ocpp1.2")
    cs.expect(r"cs: ChargePoint #a connected \(protocol: ocpp1\.2\)\.", since=0)
    cp_b = sims.cp(url, "b", "-p", "ocpp1.5")
    cs.expect(r"cs: ChargePoint #b connected \(protocol: ocpp1\.5\)\.", since=0)
    cp_c = sims.cp(url, "c", "-p", "ocpp1.6")
    cs.expect(r"cs: ChargePoint #c connected \(protocol: ocpp1\.6\)\.", since=0)

    # two CPs: a remote command needs --remote-id
    mark = cs.send("remote_clearcache")
    cs.expect(re.escape(SHORTENED), since=mark)
    cs.expect_none(r'"ClearCache"', since=mark)

    # each connection keeps its own version
    a = Pair("1.2", cs, cp_a, "a")
    b = Pair("1.5", cs, cp_b, "b")
    _, _, result = b.cs_call("remote_getconfiguration --remote-id b", "GetConfiguration")
    assert "configurationKey" in frame_of(result)[2]  # type: ignore[operator]
    mark = cs.send("remote_getconfiguration --remote-id a")
    cs.expect(not_available("GetConfiguration"), since=mark)
    cp_a.expect_none(r'"GetConfiguration"')

    # 1.2-only and shared actions still go to the right CP; a's next command waits for its
    # reboot (typed while it reboots, it could go out on the link being closed)
    a.cs_call("remote_reset --remote-id a", "Reset")
    a.rebooted()
    b.cs_call("remote_datatransfer --remote-id b", "DataTransfer")
    a.cp_call("heartbeat", "Heartbeat")
    b.cp_call("datatransfer", "DataTransfer")

    # the 1.6 CP in its own form: 1.6-only actions, 1.6 meter values, each checked as 1.6
    c = Pair("1.6", cs, cp_c, "c")
    c.cs_call("remote_triggermessage --remote-id c", "TriggerMessage")
    _, call, _ = c.cp_call("metervalues", "MeterValues")
    assert "meterValue" in frame_of(call)[3]  # type: ignore[operator]
    _, call, _ = b.cp_call("metervalues", "MeterValues")
    assert "values" in frame_of(call)[3]  # type: ignore[operator]
    mark = cs.send("remote_triggermessage --remote-id b")
    cs.expect(not_available("TriggerMessage", "1.5"), since=mark)

    # an unknown id
    mark = cs.send("remote_reset --remote-id nosuch")
    cs.expect(re.escape("Error: charge point #nosuch does not exist."), since=mark)

    ignore = (
        re.escape(SHORTENED),
        not_available("GetConfiguration"),
        not_available("TriggerMessage", "1.5"),
        "nosuch",
    )
    assert cs.errors(ignore=ignore) == []
    assert cp_a.errors() == []
    assert cp_b.errors() == []
    assert cp_c.errors() == []
