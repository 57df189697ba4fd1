"""What a large fleet and a Central System with many peers do for their process: the
collection policy (`sim/collector.py`) holds while they run and lets go when they stop. The
threshold is lowered here: a test holds three connections, not a thousand."""

from __future__ import annotations

import asyncio
import gc

import pytest

from ocppsim.fleet import engine
from ocppsim.fleet.engine import Fleet
from ocppsim.fleet.options import fleet_options
from ocppsim.sim import central_system
from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.collector import COLLECTOR


def test_a_large_fleet_and_its_central_system_hold_the_collector_while_they_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine, "LARGE", 3)
    monkeypatch.setattr(central_system, "LARGE", 3)

    async def scenario() -> list[tuple[bool, int]]:
        seen = [(COLLECTOR.active, COLLECTOR._holders)]
        cs = CentralSystem(0, host="127.0.0.1", endpoint="/ocpp", history=0)
        await cs.start()
        values = {"-p": "ocpp1.6", "--ramp": "0", "--sessions-per-hour": "0"}
        fleet = Fleet(fleet_options(cs.url, "3", values))
        try:
            await fleet.start()
            seen.append((COLLECTOR.active, COLLECTOR._holders))  # the fleet's
            await fleet.wait_connected()
            while len(cs.peers) < 3:
                await asyncio.sleep(0.01)
            seen.append((COLLECTOR.active, COLLECTOR._holders))  # and the CS's
        finally:
            await fleet.stop()
            seen.append((COLLECTOR.active, COLLECTOR._holders))
            await cs.stop()
        seen.append((COLLECTOR.active, COLLECTOR._holders))
        return seen

    seen = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert seen == [(False, 0), (True, 1), (True, 2), (True, 1), (False, 0)]
    assert gc.get_freeze_count() == 0


def test_each_charge_points_timers_run_late_by_a_share_of_their_own() -> None:
    """Heartbeats are due an interval after the last exchange (its answer included): without
    a spread, charge points whose answers came together beat together ever after."""
    from ocppsim.fleet.engine import TIMER_SPREAD, LateClock
    from ocppsim.sim.model import WALL_CLOCK

    clocks = [LateClock(WALL_CLOCK, 7, index) for index in range(1000)]
    waits = [clock.delay(10.0) for clock in clocks]
    assert all(10.0 <= wait <= 10.0 * (1 + TIMER_SPREAD) for wait in waits)
    assert len({round(wait, 6) for wait in waits}) > 990  # each its own
    assert max(waits) - min(waits) > 0.09  # spread over the whole share
    assert [LateClock(WALL_CLOCK, 7, n).delay(10.0) for n in range(5)] == waits[:5]  # seeded
    assert LateClock(WALL_CLOCK, 8, 0).delay(10.0) != waits[0]
