"""Simulated Charge Points that behave: each runs its charge point model (1.x `ChargePointModel`,
2.x `ChargingStation`) through a `ModelDriver`, against an ocppsim Central System over real
sockets on 127.0.0.1. Time-driven behaviour (heartbeats, meter values) runs on a `FastClock`,
so a minute of the model's time passes in a second; every wait is on an event."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from ocppsim_testing import Lines

from ocppsim.core import events
from ocppsim.core.defaults import default_payload
from ocppsim.core.rpc import Call
from ocppsim.core.station import ChargePointModel, ChargingStation, StationError
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.model import TRANSACTION_ACTIONS, FastClock, ModelDriver
from ocppsim.sim.peer import CallFailed
from ocppsim.sim.simulator import CommandError, Simulator

Payload = dict[str, Any]


def run(coro: Any, timeout: float = 60) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


class Heard:
    """The CALLs the Central System received, in order, with the model time each came at;
    `wait_for` waits for the next one that matches."""

    def __init__(self, clock: Callable[[], Any] | None = None) -> None:
        self.calls: list[tuple[str, str, Payload, Any]] = []  # (cp id, action, payload, when)
        self._clock = clock
        self._changed = asyncio.Event()

    def __call__(self, event: Any) -> None:
        if isinstance(event, events.FrameReceived) and event.speaker == "cs":
            message = event.message
            if isinstance(message, Call):
                when = self._clock() if self._clock is not None else None
                cp_id = event.peer.removeprefix("cp#")
                self.calls.append((cp_id, message.action, message.payload, when))
                self._changed.set()

    def mark(self) -> int:
        return len(self.calls)

    def of(self, action: str, start: int = 0, cp_id: str | None = None) -> list[Payload]:
        return [
            payload
            for who, name, payload, _ in self.calls[start:]
            if name == action and (cp_id is None or who == cp_id)
        ]

    async def wait_for(
        self,
        action: str,
        start: int = 0,
        where: Callable[[Payload], bool] = lambda payload: True,
        count: int = 1,
    ) -> list[tuple[Payload, Any]]:
        """The first `count` CALLs `action` from index `start` that `where` accepts."""
        while True:
            found = [
                (payload, when)
                for _, name, payload, when in self.calls[start:]
                if name == action and where(payload)
            ]
            if len(found) >= count:
                return found[:count]
            self._changed.clear()
            await self._changed.wait()


class Rig:
    """A Simulator with a Central System and its Charge Points, all in one process."""

    def __init__(self, speed: float = 1.0) -> None:
        self.sim = Simulator()
        self.clock = FastClock(speed)
        self.heard = Heard(self.clock.now)
        self.sim.bus.subscribe(self.heard)
        self.cs: CentralSystem | None = None

    async def start_cs(self, transport: str = "websocket") -> CentralSystem:
        cs = CentralSystem(
            0,
            transport=transport,
            host="127.0.0.1",
            behaviour=self.sim.cs_behaviour,
            bus=self.sim.bus,
            resources=self.sim.resources,
        )
        self.sim.add_central_system(cs)
        await cs.start()
        self.cs = cs
        return cs

    async def start_cp(
        self, cp_id: str, protocol: str, transport: str = "websocket", **options: Any
    ) -> ChargePoint:
        """A Charge Point of this rig, connected, its boot and StatusNotifications answered."""
        assert self.cs is not None
        scheme = "ws" if transport == "websocket" else "http"
        if transport == "soap":
            options.setdefault("host", "127.0.0.1")
        cp = ChargePoint(
            f"{scheme}://127.0.0.1:{self.cs.port}/",
            cp_id,
            version=protocol,
            transport=transport,
            behaviour=self.sim.cp_behaviour,
            bus=self.sim.bus,
            resources=self.sim.resources,
            clock=self.clock,
            **{"behave": True, **options},
        )
        self.sim.add_charge_point(cp)
        cp.start()
        await cp.ready()
        if cp.driver is not None:
            await cp.driver.idle()
        return cp

    def driver(self, cp_id: str) -> ModelDriver:
        return self.sim.model_driver(cp_id)

    async def remote(self, cp_id: str, action: str, payload: Payload) -> Any:
        return await self.sim.remote_call(cp_id, action, payload=payload)


def scenario(speed: float = 1.0) -> Callable[[Callable[[Rig], Any]], Callable[[], None]]:
    """Run an async test body with a fresh Rig, shut down whatever happens."""

    def wrap(body: Callable[[Rig], Any]) -> Callable[[], None]:
        def test() -> None:
            async def go() -> None:
                rig = Rig(speed)
                try:
                    await body(rig)
                finally:
                    await rig.sim.shutdown()

            run(go())

        test.__name__ = body.__name__
        test.__doc__ = body.__doc__
        return test

    return wrap


def energy_16(meter_values: Payload) -> float:
    """The energy register of a 1.6 MeterValues request."""
    return max(
        float(sv["value"])
        for mv in meter_values["meterValue"]
        for sv in mv["sampledValue"]
        if sv.get("measurand", "Energy.Active.Import.Register") == "Energy.Active.Import.Register"
    )


def energy_2x(event: Payload) -> float:
    """The energy register of a 2.x TransactionEvent's meter values."""
    return max(
        float(sv["value"])
        for mv in event.get("meterValue", [])
        for sv in mv["sampledValue"]
        if sv.get("measurand") == "Energy.Active.Import.Register"
    )


# -- boot, status, heartbeats ---------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["ocpp1.2", "ocpp1.5", "ocpp1.6", "ocpp2.0.1"])
def test_a_charge_point_boots_on_connection_and_reports_its_connectors(protocol: str) -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        cp = await rig.start_cp("cp1", protocol)
        actions = [action for _, action, _, _ in rig.heard.calls]
        assert actions[0] == "BootNotification"
        assert actions[1:] == ["StatusNotification"] * len(actions[1:]) and len(actions) >= 3
        boot = rig.heard.calls[0][2]
        vendor = boot.get("chargePointVendor") or boot["chargingStation"]["vendorName"]
        assert vendor == "DBT"  # the version's default BootNotification describes it
        assert cp.model is not None and cp.model.registration == "Accepted"
        assert cp.model.heartbeat_interval == 1200  # the Central System's interval

    scenario()(body)()


def _trigger(protocol: str) -> Payload:
    if protocol == "ocpp2.0.1":
        return {"requestedMessage": "StatusNotification", "evse": {"id": 1, "connectorId": 1}}
    return {"requestedMessage": "StatusNotification", "connectorId": 1}


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_a_trigger_message_for_status_notification_makes_the_cp_send_one(
    protocol: str, lines: Lines
) -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        await rig.start_cp("cp1", protocol)
        rig.driver("cp1").plug(1)
        await rig.driver("cp1").idle()
        mark, line_mark = rig.heard.mark(), lines.mark()
        answer = await rig.remote("cp1", "TriggerMessage", _trigger(protocol))
        assert answer == {"status": "Accepted"}
        ((status, _),) = await rig.heard.wait_for("StatusNotification", mark)
        assert status.get("connectorId") == 1
        assert status.get("status", status.get("connectorStatus")) in ("Preparing", "Occupied")
        # the answer went out before the StatusNotification it announced
        answered = await lines.wait_for(
            r'cp#cp1: >>cs \[3,"\w+",\{"status":"Accepted"\}\]', line_mark
        )
        sent = await lines.wait_for(r'cp#cp1: >>cs \[2,"\w+","StatusNotification"', line_mark)
        assert lines.lines.index(answered, line_mark) < lines.lines.index(sent, line_mark)

    scenario()(body)()


def test_change_configuration_of_heartbeat_interval_is_reported_and_beats_at_it() -> None:
    """OCPP 1.6: GetConfiguration reports the new HeartbeatInterval, and heartbeats come every
    60 s of the model's time (a second here) after the last exchange."""

    async def body(rig: Rig) -> None:
        await rig.start_cs()
        cp = await rig.start_cp("cp1", "ocpp1.6")
        change = {"key": "HeartbeatInterval", "value": "60"}
        assert await rig.remote("cp1", "ChangeConfiguration", change) == {"status": "Accepted"}
        asked = rig.clock.now()  # the last exchange starts after this
        report = await rig.remote("cp1", "GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert report["configurationKey"] == [
            {"key": "HeartbeatInterval", "readonly": False, "value": "60"}
        ]
        assert cp.configuration is cp.model.configuration  # one store: the model's
        beats = await rig.heard.wait_for("Heartbeat", rig.heard.mark(), count=3)
        times = [asked, *(when for _, when in beats)]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert all(59 <= gap < 80 for gap in gaps), gaps

    scenario(speed=60)(body)()


def test_set_variables_of_heartbeat_interval_is_reported_and_beats_at_it() -> None:
    """OCPP 2.0.1: the same through the device model (SetVariables, GetVariables)."""

    async def body(rig: Rig) -> None:
        await rig.start_cs()
        await rig.start_cp("cs1", "ocpp2.0.1")
        address = {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
        result = await rig.remote(
            "cs1", "SetVariables", {"setVariableData": [{"attributeValue": "60", **address}]}
        )
        assert result["setVariableResult"][0]["attributeStatus"] == "Accepted"
        asked = rig.clock.now()  # the last exchange starts after this
        got = await rig.remote("cs1", "GetVariables", {"getVariableData": [address]})
        assert got["getVariableResult"][0]["attributeValue"] == "60"
        view = rig.sim.charge_point("cs1").configuration  # what ctx.configuration reads
        assert view.get("HeartbeatInterval") == view.get("OCPPCommCtrlr.HeartbeatInterval") == "60"
        assert view.report(["OCPPCommCtrlr.HeartbeatInterval", "Nope"]) == {
            "configurationKey": [
                {"key": "OCPPCommCtrlr.HeartbeatInterval", "readonly": False, "value": "60"}
            ],
            "unknownKey": ["Nope"],
        }
        beats = await rig.heard.wait_for("Heartbeat", rig.heard.mark(), count=2)
        times = [asked, *(when for _, when in beats)]
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
        assert all(59 <= gap < 80 for gap in gaps), gaps

    scenario(speed=60)(body)()


# -- 1.6 transactions, smart charging, reset ------------------------------------------------------


def test_remote_start_runs_a_1_6_transaction_with_the_cs_transaction_id() -> None:
    """RemoteStartTransaction → StartTransaction, which takes the id the Central System gives →
    MeterValues that increase → RemoteStopTransaction → StopTransaction."""

    async def body(rig: Rig) -> None:
        rig.sim.cs_behaviour.on_call(
            "StartTransaction",
            lambda payload: {"transactionId": 42, "idTagInfo": {"status": "Accepted"}},
        )
        await rig.start_cs()
        cp = await rig.start_cp("cp1", "ocpp1.6")
        rig.driver("cp1").plug(1)
        mark = rig.heard.mark()
        start = {"idTag": "TAG-1", "connectorId": 1}
        assert await rig.remote("cp1", "RemoteStartTransaction", start) == {"status": "Accepted"}
        ((started, _),) = await rig.heard.wait_for("StartTransaction", mark)
        assert (started["connectorId"], started["idTag"]) == (1, "TAG-1")
        samples = await rig.heard.wait_for("MeterValues", mark, count=2)
        assert all(s["transactionId"] == 42 for s, _ in samples)
        readings = [energy_16(s) for s, _ in samples]
        assert 0 < readings[0] < readings[1]
        assert cp.model.transaction(1).transaction_id == 42
        mark = rig.heard.mark()
        stop = await rig.remote("cp1", "RemoteStopTransaction", {"transactionId": 42})
        assert stop == {"status": "Accepted"}
        ((stopped, _),) = await rig.heard.wait_for("StopTransaction", mark)
        assert stopped["transactionId"] == 42 and stopped["reason"] == "Remote"
        assert stopped["meterStop"] >= int(readings[1])
        assert cp.model.transaction(1) is None

    scenario(speed=60)(body)()


def test_a_charging_profile_is_kept_and_the_composite_schedule_computed_from_it() -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        await rig.start_cp("cp1", "ocpp1.6")
        profile = {
            "connectorId": 1,
            "csChargingProfiles": {
                "chargingProfileId": 7,
                "stackLevel": 1,
                "chargingProfilePurpose": "TxDefaultProfile",
                "chargingProfileKind": "Relative",
                "chargingSchedule": {
                    "chargingRateUnit": "A",
                    "chargingSchedulePeriod": [
                        {"startPeriod": 0, "limit": 10.0},
                        {"startPeriod": 600, "limit": 6.0},
                    ],
                },
            },
        }
        assert await rig.remote("cp1", "SetChargingProfile", profile) == {"status": "Accepted"}
        asked = {"connectorId": 1, "duration": 1200, "chargingRateUnit": "A"}
        composite = await rig.remote("cp1", "GetCompositeSchedule", asked)
        assert composite["status"] == "Accepted" and composite["connectorId"] == 1
        periods = composite["chargingSchedule"]["chargingSchedulePeriod"]
        assert [(p["startPeriod"], p["limit"]) for p in periods] == [(0, 10.0), (600, 6.0)]
        assert composite != default_payload("1.6", "GetCompositeScheduleResponse")
        cleared = await rig.remote("cp1", "ClearChargingProfile", {"id": 7})
        assert cleared == {"status": "Accepted"}
        composite = await rig.remote("cp1", "GetCompositeSchedule", asked)
        periods = composite["chargingSchedule"]["chargingSchedulePeriod"]
        assert [p["limit"] for p in periods] == [16.0]  # the hardware's limit again

    scenario()(body)()


def test_a_hard_reset_ends_the_transaction_reconnects_and_boots_again(lines: Lines) -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        cp = await rig.start_cp("cp1", "ocpp1.6")
        driver = rig.driver("cp1")
        driver.plug(1)
        driver.badge("TAG-1")
        await driver.idle()
        assert cp.model.transaction(1) is not None
        first_peer, mark, line_mark = cp.peer, rig.heard.mark(), lines.mark()
        assert await rig.remote("cp1", "Reset", {"type": "Hard"}) == {"status": "Accepted"}
        ((stopped, _),) = await rig.heard.wait_for("StopTransaction", mark)
        assert stopped["reason"] == "HardReset"
        await lines.wait_for(r"cp#cp1: Rebooting \(HardReset\)\.", line_mark)
        await lines.wait_for(r"cs: ChargePoint #cp1 connected", line_mark)
        ((boot, _),) = await rig.heard.wait_for("BootNotification", mark)
        await rig.heard.wait_for("StatusNotification", mark, lambda p: p["connectorId"] == 2)
        assert cp.peer is not first_peer and cp.connected
        actions = [action for _, action, _, _ in rig.heard.calls[mark:]]
        assert actions.index("StopTransaction") < actions.index("BootNotification")
        assert not lines.matching(r"Connection lost|\bError\b", line_mark)  # a reboot, no failure

    scenario()(body)()


def test_a_station_refusal_is_a_callerror_in_the_versions_dialect() -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        await rig.start_cp("cp1", "ocpp1.6")
        await rig.start_cp("cs1", "ocpp2.0.1")
        keys = {"key": [f"Key{i}" for i in range(200)]}  # more than GetConfigurationMaxKeys
        with pytest.raises(CallFailed) as refused:
            await rig.cs.peers["cp1"].call("GetConfiguration", keys)  # type: ignore[union-attr]
        assert refused.value.error is not None
        assert refused.value.error.code == "OccurenceConstraintViolation"
        address = {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "HeartbeatInterval"},
        }
        many = {"getVariableData": [address] * 51}  # more than ItemsPerMessage[GetVariables]
        with pytest.raises(CallFailed) as refused:
            await rig.cs.peers["cs1"].call("GetVariables", many)  # type: ignore[union-attr]
        assert refused.value.error is not None
        assert refused.value.error.code == "OccurrenceConstraintViolation"

    scenario()(body)()


# -- 2.0.1 transactions and device model ----------------------------------------------------------


def test_a_badge_at_a_2_0_1_station_runs_a_whole_transaction() -> None:
    """Authorize → TransactionEvent Started → Updated with increasing meter values → Ended
    when the same badge comes back."""

    async def body(rig: Rig) -> None:
        await rig.start_cs()
        station = await rig.start_cp("cs1", "ocpp2.0.1")
        driver = rig.driver("cs1")
        driver.plug(1)
        mark = rig.heard.mark()
        driver.badge("B4F62CEF")
        ((authorize, _),) = await rig.heard.wait_for("Authorize", mark)
        assert authorize["idToken"] == {"idToken": "B4F62CEF", "type": "ISO14443"}
        ((started, _),) = await rig.heard.wait_for("TransactionEvent", mark)
        assert (started["eventType"], started["triggerReason"]) == ("Started", "Authorized")
        tx_id = started["transactionInfo"]["transactionId"]
        updated = await rig.heard.wait_for(
            "TransactionEvent", mark, lambda e: e["eventType"] == "Updated", count=2
        )
        readings = [energy_2x(e) for e, _ in updated]
        assert 0 < readings[0] < readings[1]
        assert all(e["transactionInfo"]["transactionId"] == tx_id for e, _ in updated)
        driver.badge("B4F62CEF")
        ((ended, _),) = await rig.heard.wait_for(
            "TransactionEvent", mark, lambda e: e["eventType"] == "Ended"
        )
        assert ended["transactionInfo"]["stoppedReason"] == "Local"
        assert energy_2x(ended) > readings[1]
        numbers = [e["seqNo"] for e in rig.heard.of("TransactionEvent", mark)]
        assert numbers == list(range(len(numbers)))  # seqNo 0, 1, 2, …
        assert isinstance(station.model, ChargingStation) and station.model.transaction(1) is None

    scenario(speed=60)(body)()


def test_a_base_report_comes_as_notify_report_pages() -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        await rig.start_cp("cs1", "ocpp2.0.1")
        mark = rig.heard.mark()
        answer = await rig.remote(
            "cs1", "GetBaseReport", {"requestId": 5, "reportBase": "FullInventory"}
        )
        assert answer == {"status": "Accepted"}
        last = await rig.heard.wait_for("NotifyReport", mark, lambda p: not p.get("tbc", False))
        pages = rig.heard.of("NotifyReport", mark)
        assert len(pages) > 1 and last[0][0] is pages[-1]
        assert [p["seqNo"] for p in pages] == list(range(len(pages)))
        assert all(p["requestId"] == 5 for p in pages)
        assert all(p["tbc"] for p in pages[:-1])
        names = {
            (d["component"]["name"], d["variable"]["name"]) for p in pages for d in p["reportData"]
        }
        assert ("OCPPCommCtrlr", "HeartbeatInterval") in names

    scenario()(body)()


def test_request_start_and_stop_transaction_at_a_2_0_1_station() -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        await rig.start_cp("cs1", "ocpp2.0.1")
        rig.driver("cs1").plug(1)
        mark = rig.heard.mark()
        token = {"idToken": "REMOTE-1", "type": "Central"}
        start = {"idToken": token, "remoteStartId": 7, "evseId": 1}
        assert (await rig.remote("cs1", "RequestStartTransaction", start))["status"] == "Accepted"
        ((started, _),) = await rig.heard.wait_for("TransactionEvent", mark)
        assert (started["eventType"], started["triggerReason"]) == ("Started", "RemoteStart")
        assert started["transactionInfo"]["remoteStartId"] == 7
        tx_id = started["transactionInfo"]["transactionId"]
        stop = await rig.remote("cs1", "RequestStopTransaction", {"transactionId": tx_id})
        assert stop == {"status": "Accepted"}
        ((ended, _),) = await rig.heard.wait_for(
            "TransactionEvent", mark, lambda e: e["eventType"] == "Ended"
        )
        assert (ended["triggerReason"], ended["transactionInfo"]["stoppedReason"]) == (
            "RemoteStop",
            "Remote",
        )
        again = await rig.remote("cs1", "RequestStopTransaction", {"transactionId": tx_id})
        assert again["status"] == "Rejected"  # it is over

    scenario()(body)()


# -- who answers ----------------------------------------------------------------------------------


def test_a_plugin_answer_wins_and_the_model_does_not_see_the_call(lines: Lines) -> None:
    async def body(rig: Rig) -> None:
        rig.sim.cp_behaviour.on_call("Reset", lambda payload: {"status": "Rejected"})
        await rig.start_cs()
        cp = await rig.start_cp("cp1", "ocpp1.6")
        mark = lines.mark()
        assert await rig.remote("cp1", "Reset", {"type": "Hard"}) == {"status": "Rejected"}
        # the model answers what the plugin leaves alone
        report = await rig.remote("cp1", "GetConfiguration", {"key": ["NumberOfConnectors"]})
        assert report["configurationKey"][0]["value"] == "2"
        assert cp.model.reboot is None and not lines.matching("Rebooting", mark)

    scenario()(body)()


def test_a_stateless_charge_point_gives_the_originals_canned_answers(lines: Lines) -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        cp = await rig.start_cp("cp1", "ocpp1.6", behave=False)
        assert cp.model is None and cp.driver is None and cp.stateless
        mark = rig.heard.mark()
        assert await rig.sim.cp_call("cp1", "Heartbeat", []) is not None
        assert [a for _, a, _, _ in rig.heard.calls] == ["Heartbeat"]  # no boot of its own
        trigger = await rig.remote("cp1", "TriggerMessage", _trigger("ocpp1.6"))
        start = await rig.remote("cp1", "RemoteStartTransaction", {"idTag": "T", "connectorId": 9})
        composite = await rig.remote(
            "cp1", "GetCompositeSchedule", {"connectorId": 1, "duration": 60}
        )
        assert trigger == default_payload("1.6", "TriggerMessageResponse")
        assert start == {"status": "Accepted"}  # connector 9 does not exist: a canned answer
        assert composite["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 16.0
        assert await rig.sim.cp_call("cp1", "Heartbeat", []) is not None  # a round trip later
        assert [a for _, a, _, _ in rig.heard.calls[mark:]] == ["Heartbeat", "Heartbeat"]
        with pytest.raises(CommandError, match="stateless"):
            rig.sim.at_charger("cp1", "badge", "T", None)

    scenario()(body)()


def test_two_charge_points_in_one_process_keep_their_own_state() -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        a = await rig.start_cp("a", "ocpp1.6")
        b = await rig.start_cp("b", "ocpp1.6")
        change = {"key": "HeartbeatInterval", "value": "77"}
        assert await rig.remote("a", "ChangeConfiguration", change) == {"status": "Accepted"}
        asked = {"key": ["HeartbeatInterval"]}
        assert (await rig.remote("a", "GetConfiguration", asked))["configurationKey"][0][
            "value"
        ] == "77"
        assert (await rig.remote("b", "GetConfiguration", asked))["configurationKey"][0][
            "value"
        ] == "1200"
        mark = rig.heard.mark()
        rig.sim.at_charger("a", "plug", 1)
        rig.sim.at_charger("a", "badge", "TAG-A", None)
        await rig.driver("a").idle()
        assert {who for who, _, _, _ in rig.heard.calls[mark:]} == {"a"}
        assert a.model.transaction(1) is not None and b.model.transaction(1) is None
        assert "transaction" in rig.sim.describe("a") and "transaction" not in rig.sim.describe("b")
        with pytest.raises(CommandError, match=r"cp#b: nothing is plugged in"):
            rig.sim.at_charger("b", "unplug", None)
        with pytest.raises(CommandError, match=r"cp#a: no connector 5"):
            rig.sim.at_charger("a", "plug", 5)

    scenario()(body)()


def test_a_soap_charge_point_runs_its_model_and_boots_again_after_a_reset(lines: Lines) -> None:
    async def body(rig: Rig) -> None:
        cs = await rig.start_cs("soap")
        cp = await rig.start_cp("box", "ocpp1.5", transport="soap")
        assert [a for _, a, _, _ in rig.heard.calls][:1] == ["BootNotification"]
        assert cs.peers["box"].transport == "soap"
        report = await rig.remote("box", "GetConfiguration", {"key": ["NumberOfConnectors"]})
        assert report["unknownKey"] == ["NumberOfConnectors"]  # a 1.6 key: unknown in 1.5
        rig.driver("box").plug(2)
        mark, line_mark = rig.heard.mark(), lines.mark()
        start = {"idTag": "TAG-S", "connectorId": 2}
        assert await rig.remote("box", "RemoteStartTransaction", start) == {"status": "Accepted"}
        await rig.heard.wait_for("StartTransaction", mark)
        assert await rig.remote("box", "Reset", {"type": "Soft"}) == {"status": "Accepted"}
        ((stopped, _),) = await rig.heard.wait_for("StopTransaction", mark)
        assert stopped["transactionId"] == 1  # the id the Central System gave (its first)
        await lines.wait_for(r"cp#box: Rebooting \(SoftReset\)\.", line_mark)
        await rig.heard.wait_for("BootNotification", mark)
        assert cp.connected

    scenario()(body)()


# -- the driver's own rules ----------------------------------------------------------------------


def test_an_idle_charge_point_holds_a_timer_and_no_task() -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        cp = await rig.start_cp("cp1", "ocpp1.6")
        driver = cp.driver
        assert driver is not None
        assert driver._task is None and driver._timer is not None
        due = cp.model.next_due(rig.clock.now())
        assert due is not None
        assert 1190 <= (due - rig.clock.now()).total_seconds() <= 1200  # its heartbeat

    scenario()(body)()


def test_transaction_messages_wait_for_the_link_and_the_rest_is_dropped() -> None:
    """What the driver keeps while its link is down: transaction messages, not status."""
    from datetime import datetime, timezone

    from ocppsim.core.station import Outgoing

    class Owner:
        speaker, peer, connected = "cp#x", None, False

        def notice(self, text: str, level: int = 0) -> None: ...

        async def restart(self, reboot: Any) -> bool:
            return False

    driver = ModelDriver(ChargePointModel(), Owner())
    driver._outbox.extend(
        [
            Outgoing("StatusNotification", {}),
            Outgoing("StopTransaction", {"transactionId": 1}),
            Outgoing("Heartbeat", {}),
            Outgoing("MeterValues", {"connectorId": 1}),
        ]
    )
    driver.disconnected()
    assert [o.action for o in driver._outbox] == ["StopTransaction", "MeterValues"]
    assert {"StartTransaction", "StopTransaction", "TransactionEvent"} <= TRANSACTION_ACTIONS
    with pytest.raises(StationError):
        driver.unplug()  # nothing plugged
    now = datetime.now(timezone.utc)
    assert driver.model.next_due(now) is None  # no boot accepted: nothing due but a retry
