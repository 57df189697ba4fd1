"""The collection policy of a process with thousands of connections (`sim/collector.py`):
while held, what survived is frozen out of the collector's sight; a full collection still
frees cycles in the end; released, nothing stays frozen."""

from __future__ import annotations

import asyncio
import gc
import weakref

import pytest

from ocppsim.sim import collector
from ocppsim.sim.collector import Collector


class Node:
    """An object in a reference cycle (only the cyclic collector frees it)."""

    def __init__(self) -> None:
        self.me = self


def test_held_it_freezes_what_survived_and_released_it_unfreezes() -> None:
    async def scenario() -> tuple[int, int, int]:
        policy = Collector()
        policy.hold()
        policy.hold()  # a second large simulator
        frozen = gc.get_freeze_count()
        policy.release()
        still = gc.get_freeze_count()
        policy.release()
        return frozen, still, gc.get_freeze_count()

    frozen, still, after = asyncio.run(scenario())
    assert frozen > 0 and still > 0
    assert after == 0


def test_held_it_collects_the_young_generation_less_often_and_released_as_before() -> None:
    async def scenario() -> tuple[tuple[int, ...], tuple[int, ...]]:
        policy = Collector()
        policy.hold()
        held = gc.get_threshold()
        policy.release()
        return held, gc.get_threshold()

    before = gc.get_threshold()
    held, after = asyncio.run(scenario())
    assert held == (max(before[0], collector.YOUNG_THRESHOLD), *before[1:])
    assert after == before


def test_cycles_frozen_while_held_are_freed_by_the_full_collection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(collector, "FREEZE_EVERY", 0.01)

    async def scenario() -> bool:
        policy = Collector()
        node = Node()
        alive = weakref.ref(node)
        policy.hold()  # node is frozen now
        del node
        gc.collect()
        frozen_survived = alive() is not None
        monkeypatch.setattr(collector, "FULL_EVERY", 0.0)
        policy._full_at = 0.0  # the next tick collects everything
        while alive() is not None:
            await asyncio.sleep(0.01)
        policy.release()
        return frozen_survived

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) is True
    assert gc.get_freeze_count() == 0
