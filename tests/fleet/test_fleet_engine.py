"""A fleet against an ocppsim Central System over real sockets on 127.0.0.1: it connects, boots
and reports its connectors in every OCPP-J version, heartbeats at the interval it is given,
runs charging sessions, answers from each charge point's own state, reconnects after losing
its links, and counts all of it. Model time runs fast where time matters (`--speed`); every
wait is on an event or on the statistics, never a fixed sleep."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from ocppsim_testing import TestCerts, needs_version

from ocppsim.core import events
from ocppsim.core.errors import CallError
from ocppsim.core.rpc import Call
from ocppsim.fleet.behaviour import badge_of
from ocppsim.fleet.engine import Fleet
from ocppsim.fleet.options import FleetOptionError, fleet_options
from ocppsim.fleet.stats import NO_STATUS
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.security import CentralSystemSecurity
from ocppsim.sim.simulator import Simulator

Payload = dict[str, Any]
ALL = [
    "ocpp1.2",
    "ocpp1.5",
    "ocpp1.6",
    "ocpp2.0.1",
    pytest.param("ocpp2.1", marks=needs_version("2.1")),
]


def run(coro: Awaitable[Any], timeout: float = 60) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


class Heard:
    """The CALLs the Central System received: (cp id, action, payload), in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, Payload]] = []
        self._changed = asyncio.Event()

    def __call__(self, event: Any) -> None:
        if isinstance(event, events.FrameReceived) and isinstance(event.message, Call):
            message = event.message
            self.calls.append((event.peer.removeprefix("cp#"), message.action, message.payload))
            self._changed.set()

    def of(self, action: str, cp_id: str | None = None) -> list[Payload]:
        return [p for who, a, p in self.calls if a == action and cp_id in (None, who)]

    async def until(self, done: Callable[[], bool]) -> None:
        while not done():
            self._changed.clear()
            await self._changed.wait()


class Rig:
    """An ocppsim Central System on 127.0.0.1 and the fleets of a test."""

    def __init__(self) -> None:
        self.sim = Simulator()
        self.heard = Heard()
        self.sim.bus.subscribe(self.heard)
        self.cs: CentralSystem | None = None
        self.fleets: list[Fleet] = []

    async def start_cs(self, port: int = 0, **options: Any) -> CentralSystem:
        cs = CentralSystem(
            port,
            host="127.0.0.1",
            behaviour=self.sim.cs_behaviour,
            bus=self.sim.bus,
            history=0,
            **{"endpoint": "/ocpp", **options},
        )
        self.sim.central_system = cs
        await cs.start()
        self.cs = cs
        return cs

    @property
    def url(self) -> str:
        assert self.cs is not None
        return f"ws://127.0.0.1:{self.cs.port}/ocpp"

    async def fleet(
        self, count: int, *words: str, behaviour: Behaviour | None = None, url: str | None = None
    ) -> Fleet:
        values: dict[str, str | None] = {"--ramp": "0", "--sessions-per-hour": "0"}
        values.update(dict(zip(words[::2], words[1::2], strict=True)))
        fleet = Fleet(fleet_options(url or self.url, str(count), values), behaviour=behaviour)
        self.fleets.append(fleet)
        await fleet.start()
        return fleet

    async def close(self) -> None:
        for fleet in self.fleets:
            await fleet.stop()
        await self.sim.shutdown()


def scenario(body: Callable[[Rig], Awaitable[None]]) -> Callable[[], None]:
    def test() -> None:
        async def go() -> None:
            rig = Rig()
            try:
                await body(rig)
            finally:
                await rig.close()

        run(go())

    test.__name__ = body.__name__
    test.__doc__ = body.__doc__
    return test


async def until(fleet: Fleet, done: Callable[[], bool]) -> None:
    """Wait for the statistics to say something (polled: they change on every frame)."""
    while not done():
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("protocol", ALL)
def test_a_fleet_connects_boots_and_reports_its_connectors(protocol: str) -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        fleet = await rig.fleet(8, "-p", protocol, "--connectors", "2", "--id", "f{n:02d}")
        await fleet.wait_connected()
        two_x = protocol.startswith("ocpp2")
        per_cp = 2 if two_x else 3  # 1.x reports connector 0 too
        await rig.heard.until(lambda: len(rig.heard.of("StatusNotification")) >= 8 * per_cp)
        assert sorted({who for who, a, _ in rig.heard.calls if a == "BootNotification"}) == [
            f"f{n:02d}" for n in range(8)
        ]
        await until(fleet, lambda: fleet.stats.action("StatusNotification").count >= 8 * per_cp)
        report = fleet.snapshot()
        assert report["connections"]["up"] == 8
        assert report["connections"]["connected"] == 8
        assert report["connections"]["all_up_s"] > 0
        assert report["actions"]["BootNotification"]["count"] == 8
        assert report["actions"]["BootNotification"]["errors"] == {}
        latency = report["actions"]["BootNotification"]["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"] <= latency["max"]
        assert report["calls"]["failed"] == 0 and not fleet.failed
        assert report["fleet"]["protocol"] == protocol
        await fleet.stop()
        assert fleet.snapshot()["connections"]["up"] == 0
        assert fleet.snapshot()["connections"]["lost"] == 0  # closed by the fleet: none lost

    scenario(body)()


@scenario
async def test_heartbeats_come_at_the_interval_the_central_system_gives(rig: Rig) -> None:
    """The CS says 60 s; at 120 times real speed each charge point beats every half second."""
    rig.sim.cs_behaviour.on_call(
        "BootNotification",
        lambda p: {"status": "Accepted", "currentTime": "2026-11-24T10:00:00Z", "interval": 60},
    )
    await rig.start_cs()
    fleet = await rig.fleet(4, "-p", "ocpp1.6", "--speed", "120")
    loop = asyncio.get_running_loop()
    seen: dict[str, list[float]] = {}

    def beat(event: Any) -> None:
        if isinstance(event, events.FrameReceived) and isinstance(event.message, Call):
            if event.message.action == "Heartbeat":
                seen.setdefault(event.peer, []).append(loop.time())

    rig.sim.bus.subscribe(beat)
    await until(fleet, lambda: len(seen) == 4 and all(len(t) >= 3 for t in seen.values()))
    for times in seen.values():
        gaps = [(b - a) * 120 for a, b in zip(times, times[1:], strict=False)]
        # model seconds: about 60, never the default 1200 (a busy machine may be late)
        assert all(45 < gap < 600 for gap in gaps), gaps
    # the fleet counts a heartbeat when its answer comes back, after the Central System has
    # heard it: each one heard is counted once its answer has had the time to arrive
    heard = sum(len(times) for times in seen.values())
    await asyncio.wait_for(until(fleet, lambda: fleet.stats.action("Heartbeat").count >= heard), 10)
    assert fleet.stats.action("Heartbeat").errors == {}


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_sessions_run_whole_transactions_with_rising_energy(protocol: str) -> None:
    async def body(rig: Rig) -> None:
        await rig.start_cs()
        fleet = await rig.fleet(
            4,
            "-p",
            protocol,
            "--speed",
            "200",
            "--sessions-per-hour",
            "30",
            "--session-minutes",
            "4",
            "--meter-interval",
            "20",
            "--seed",
            "7",
        )
        two_x = protocol.startswith("ocpp2")

        def ended() -> list[Payload]:
            if two_x:
                return [
                    p for p in rig.heard.of("TransactionEvent") if p.get("eventType") == "Ended"
                ]
            return rig.heard.of("StopTransaction")

        await rig.heard.until(lambda: len(ended()) >= 2)
        authorized = [
            (who, p["idToken"]["idToken"] if two_x else p["idTag"])
            for who, action, p in rig.heard.calls
            if action == "Authorize"
        ]
        assert authorized
        for who, tag in authorized:  # the seed's badges: charge point n's own sessions
            assert tag in {badge_of(7, int(who[2:]), session) for session in range(1, 200)}
        if two_x:
            events_ = rig.heard.of("TransactionEvent")
            by_tx: dict[str, list[float]] = {}
            for event in sorted(events_, key=lambda e: e["seqNo"]):
                tx = event["transactionInfo"]["transactionId"]
                energy = [
                    float(sv["value"])
                    for mv in event.get("meterValue", [])
                    for sv in mv["sampledValue"]
                    if sv.get("measurand", "Energy.Active.Import.Register")
                    == "Energy.Active.Import.Register"
                ]
                if energy:
                    by_tx.setdefault(tx, []).append(max(energy))
            ended_ids = {e["transactionInfo"]["transactionId"] for e in ended()}
            readings = [by_tx[tx] for tx in ended_ids if len(by_tx.get(tx, [])) >= 2]
        else:
            starts = rig.heard.of("StartTransaction")
            stops = ended()
            assert len(starts) >= len(stops)
            readings = [
                [float(s["meterStart"]) for s in starts if s["idTag"] == stop["idTag"]][:1]
                + [float(stop["meterStop"])]
                for stop in stops
            ]
            assert rig.heard.of("MeterValues")
        assert readings
        for values in readings:
            assert values == sorted(values) and values[-1] > values[0]  # it charged
        sessions = fleet.snapshot()["sessions"]
        assert sessions.get("arrived", 0) >= 2

    scenario(body)()


@scenario
async def test_answers_come_from_each_charge_points_own_state(rig: Rig) -> None:
    await rig.start_cs()
    fleet = await rig.fleet(3, "-p", "ocpp1.6", "--id", "s{n}")
    await fleet.wait_connected()
    await rig.heard.until(lambda: len(rig.heard.of("StatusNotification")) >= 9)
    changed = await rig.sim.remote_call(
        "s1", "ChangeConfiguration", payload={"key": "HeartbeatInterval", "value": "77"}
    )
    assert changed == {"status": "Accepted"}
    one = await rig.sim.remote_call(
        "s1", "GetConfiguration", payload={"key": ["HeartbeatInterval"]}
    )
    two = await rig.sim.remote_call(
        "s2", "GetConfiguration", payload={"key": ["HeartbeatInterval"]}
    )
    assert one["configurationKey"][0]["value"] == "77"
    assert two["configurationKey"][0]["value"] != "77"
    boots = len(rig.heard.of("BootNotification", "s0"))
    assert await rig.sim.remote_call("s0", "Reset", payload={"type": "Hard"}) == {
        "status": "Accepted"
    }
    await rig.heard.until(lambda: len(rig.heard.of("BootNotification", "s0")) > boots)
    await until(fleet, lambda: fleet.stats.reconnects == 1)
    assert fleet.stats.lost == 0  # a reboot is no lost link
    assert fleet.snapshot()["received"]["Reset"] == {"count": 1, "refused": 0}


@scenario
async def test_a_behaviour_plugin_keeps_one_state_per_charge_point(rig: Rig) -> None:
    behaviour = Behaviour("cp")
    counts: dict[str, int] = {}

    def data_transfer(payload: Payload, ctx: Any) -> Payload:
        counts[ctx.charge_point_id] = counts.get(ctx.charge_point_id, 0) + 1
        return {
            "status": "Accepted",
            "data": f"{ctx.charge_point_id}:{counts[ctx.charge_point_id]}",
        }

    behaviour.on_call("DataTransfer", data_transfer)
    await rig.start_cs()
    fleet = await rig.fleet(2, "-p", "ocpp1.6", "--id", "b{n}", behaviour=behaviour)
    await fleet.wait_connected()
    ask = {"vendorId": "x"}
    assert (await rig.sim.remote_call("b0", "DataTransfer", payload=ask))["data"] == "b0:1"
    assert (await rig.sim.remote_call("b0", "DataTransfer", payload=ask))["data"] == "b0:2"
    assert (await rig.sim.remote_call("b1", "DataTransfer", payload=ask))["data"] == "b1:1"


@scenario
async def test_errors_are_counted_by_ocpp_error_code(rig: Rig) -> None:
    def refuse(payload: Payload) -> Payload:
        raise CallError("InternalError", "no room")

    rig.sim.cs_behaviour.on_call("StatusNotification", refuse)
    await rig.start_cs()
    fleet = await rig.fleet(3, "-p", "ocpp1.6")
    await until(fleet, lambda: fleet.stats.action("StatusNotification").count >= 9)
    report = fleet.snapshot()
    assert report["errors"] == {"InternalError": report["actions"]["StatusNotification"]["count"]}
    assert report["calls"]["failed"] >= 9
    assert fleet.failed
    assert any("InternalError" in line for line in fleet.summary())


@scenario
async def test_refused_connections_are_counted_by_http_status(rig: Rig) -> None:
    await rig.start_cs(versions=["ocpp2.0.1"])
    # the CS does not serve 1.6: 400, tried again after the back-off
    fleet = await rig.fleet(2, "-p", "ocpp1.6", "--backoff", "0.05,0.05,1")
    await until(fleet, lambda: fleet.stats.refused.get("400", 0) >= 4)
    assert fleet.stats.up == 0 and fleet.stats.connected == 0
    assert fleet.failed


@scenario
async def test_a_wrong_endpoint_gives_up_at_once(rig: Rig) -> None:
    await rig.start_cs(endpoint="/ocpp")
    assert rig.cs is not None
    fleet = await rig.fleet(2, "-p", "ocpp1.6", url=f"ws://127.0.0.1:{rig.cs.port}/wrong")
    await until(fleet, lambda: sum(fleet.gave_up_reasons.values()) == 2)
    assert fleet.stats.refused == {"404": 2}
    assert fleet.snapshot()["problems"] == 2  # a line each (in --log-file)
    assert fleet.failed
    assert any("gave up: 2 charge points" in line for line in fleet.summary())


@scenario
async def test_lost_links_are_dialled_again_with_a_jittered_back_off(rig: Rig) -> None:
    cs = await rig.start_cs()
    port = cs.port
    fleet = await rig.fleet(5, "-p", "ocpp2.0.1", "--backoff", "0.05,0.3,2")
    await fleet.wait_connected()
    await rig.sim.stop_central_system()
    await until(fleet, lambda: fleet.stats.lost == 5)
    await until(fleet, lambda: sum(fleet.stats.refused.values()) >= 5)  # the CS is away
    rig.sim.central_system = None
    await rig.start_cs(port)
    await until(fleet, lambda: fleet.stats.up == 5)
    assert fleet.stats.reconnects == 5
    assert fleet.snapshot()["connections"]["lost"] == 5


def test_a_wss_fleet_checks_the_central_system_with_its_ca(certs: TestCerts) -> None:
    async def body(rig: Rig) -> None:
        security = CentralSystemSecurity.from_options(
            tls_cert=certs.server, tls_key=certs.server_key
        )
        cs = await rig.start_cs(security=security)
        url = f"wss://localhost:{cs.port}/ocpp"
        fleet = await rig.fleet(3, "-p", "ocpp2.0.1", "--ca", certs.ca, url=url)
        await fleet.wait_connected()
        assert fleet.stats.connected == 3
        # without the CA: the system's CAs do not know it, every attempt is refused
        other = await rig.fleet(2, "-p", "ocpp2.0.1", "--backoff", "0.05,0.05,1", url=url)
        await until(other, lambda: other.stats.refused.get(NO_STATUS, 0) >= 2)
        assert other.stats.connected == 0

    scenario(body)()


def test_a_ca_that_cannot_be_read_is_an_option_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    options = fleet_options("wss://localhost:1/ocpp", "1", {"--ca": str(bad)})
    with pytest.raises(FleetOptionError, match="^Error: --ca "):
        Fleet(options)
