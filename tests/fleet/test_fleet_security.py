"""A fleet against an ocppsim Central System that wants HTTP Basic auth (OCPP security
profiles 1 and 2), over real sockets on 127.0.0.1: right passwords (`--password` with `{id}`,
one `--auth-key` for OCPP 1.x) connect, wrong ones are refused and counted by their HTTP
status (401); `--password` and `--auth-key` are checked as `start_cp` checks them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ocppsim_testing import TestCerts

from ocppsim.fleet.engine import Fleet
from ocppsim.fleet.options import FleetOptionError, fleet_options
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.security import CentralSystemSecurity
from ocppsim.sim.simulator import Simulator

#: an OCPP 1.6 AuthorizationKey (16 bytes, hexadecimal)
KEY = "00112233445566778899AABBCCDDEEFF"


async def _cs(sim: Simulator, **security: Any) -> CentralSystem:
    cs = CentralSystem(
        0,
        host="127.0.0.1",
        endpoint="/ocpp",
        behaviour=sim.cs_behaviour,
        bus=sim.bus,
        history=0,
        security=CentralSystemSecurity.from_options(**security),
    )
    sim.central_system = cs
    await cs.start()
    return cs


async def _until(done: Callable[[], bool]) -> None:
    """The statistics change on every frame and attempt: poll them (bounded by the test)."""
    while not done():
        await asyncio.sleep(0.02)


def _run(body: Callable[[Simulator, list[Fleet]], Awaitable[None]]) -> None:
    async def go() -> None:
        sim, fleets = Simulator(), []
        try:
            await asyncio.wait_for(body(sim, fleets), 60)
        finally:
            for fleet in fleets:
                await fleet.stop()
            await sim.shutdown()

    asyncio.run(go())


async def _fleet(fleets: list[Fleet], url: str, count: int, *words: str) -> Fleet:
    values: dict[str, str | None] = {
        "--ramp": "0",
        "--sessions-per-hour": "0",
        "--backoff": "0.05,0.05,1",
        "-p": "ocpp1.6",
    }
    values.update(dict(zip(words[::2], words[1::2], strict=True)))
    fleet = Fleet(fleet_options(url, str(count), values))
    fleets.append(fleet)
    await fleet.start()
    return fleet


def test_a_fleet_gives_each_charge_point_its_password_over_ws() -> None:
    """Profile 1: `--password secret-{id}` gives each its own; a wrong one is refused 401."""

    async def body(sim: Simulator, fleets: list[Fleet]) -> None:
        auth = ",".join(f"pa{n:02d}:secret-pa{n:02d}" for n in range(4))
        cs = await _cs(sim, auth=auth)
        url = f"ws://127.0.0.1:{cs.port}/ocpp"
        good = await _fleet(fleets, url, 4, "--id", "pa{n:02d}", "--password", "secret-{id}")
        await good.wait_connected()
        assert good.stats.connected == 4 and not good.stats.refused
        wrong = await _fleet(fleets, url, 2, "--id", "pa{n:02d}", "--password", "secret")
        await _until(lambda: wrong.stats.refused.get("401", 0) >= 4)  # each tries again
        assert wrong.stats.connected == 0
        assert wrong.snapshot()["connections"]["refused"]["401"] >= 4
        none = await _fleet(fleets, url, 1, "--id", "pa{n:02d}")  # no password at all
        await _until(lambda: none.stats.refused.get("401", 0) >= 1)
        assert good.stats.up == 4  # the others were refused, these stayed

    _run(body)


def test_a_1_6_fleet_sends_its_authorization_key_as_bytes() -> None:
    """`--auth-key` (hexadecimal) is sent as the bytes it stands for, as start_cp sends it."""

    async def body(sim: Simulator, fleets: list[Fleet]) -> None:
        cs = await _cs(sim, auth=f"pk00:{KEY},pk01:{KEY}")
        url = f"ws://127.0.0.1:{cs.port}/ocpp"
        fleet = await _fleet(fleets, url, 2, "--id", "pk{n:02d}", "--auth-key", KEY)
        await fleet.wait_connected()
        assert fleet.stats.connected == 2
        other = await _fleet(fleets, url, 2, "--id", "pk{n:02d}", "--auth-key", "AB" * 16)
        await _until(lambda: other.stats.refused.get("401", 0) >= 2)
        assert other.stats.connected == 0

    _run(body)


def test_a_wss_fleet_with_passwords_is_profile_2(certs: TestCerts) -> None:
    async def body(sim: Simulator, fleets: list[Fleet]) -> None:
        auth = "pt00:right,pt01:right,pt02:right"
        cs = await _cs(sim, tls_cert=certs.server, tls_key=certs.server_key, auth=auth)
        url = f"wss://localhost:{cs.port}/ocpp"
        words = ("-p", "ocpp2.0.1", "--id", "pt{n:02d}", "--ca", certs.ca)
        fleet = await _fleet(fleets, url, 3, *words, "--password", "right")
        await fleet.wait_connected()
        assert fleet.stats.connected == 3
        wrong = await _fleet(fleets, url, 3, *words, "--password", "wrong")
        await _until(lambda: wrong.stats.refused.get("401", 0) >= 3)
        assert wrong.stats.connected == 0

    _run(body)


@pytest.mark.parametrize(
    ("words", "said"),
    [
        (("--password", ""), "--password must not be empty"),
        (("--password", "a", "--auth-key", KEY), "give --password or --auth-key, not both"),
        (("--auth-key", "xyz"), "--auth-key xyz: not hexadecimal"),
        (("--auth-key", KEY, "-p", "ocpp2.0.1"), "this version's password is text"),
        (("--password", "{colour}"), "{colour} is no field: its fields are {id} and {n}"),
    ],
)
def test_passwords_that_cannot_work_are_option_errors(words: tuple[str, ...], said: str) -> None:
    values: dict[str, str | None] = {"-p": "ocpp1.6"}
    values.update(dict(zip(words[::2], words[1::2], strict=True)))
    with pytest.raises(FleetOptionError, match="^Error: ") as caught:
        fleet_options("ws://127.0.0.1:1/ocpp", "2", values)
    assert said in str(caught.value)


def test_the_password_template_names_each_charge_point() -> None:
    options = fleet_options(
        "ws://127.0.0.1:1/ocpp", "3", {"--id": "cp{n:03d}", "--password": "{id}-{n}-{{x}}"}
    )
    assert options.secret(2) == b"cp002-2-{x}"
    assert fleet_options("ws://127.0.0.1:1/ocpp", "3", {}).secret(0) is None
