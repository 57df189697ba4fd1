"""The sans-I/O ModelRunner: what a simulated Charge Point's model wants sent and when, with no
loop (what the asyncio driver and the gevent driver for Locust both run)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cp_testing import T0, Driven

from ocppsim.core.errors import OcppError
from ocppsim.core.station import Outgoing
from ocppsim.core.station.runner import ModelRunner, model_for


class Clock:
    """Model time that moves only when a test says so."""

    def __init__(self) -> None:
        self.moment = T0

    def now(self) -> datetime:
        return self.moment

    def delay(self, seconds: float) -> float:
        return seconds


class Recorder(ModelRunner):
    """A runner whose driver hooks count their calls."""

    __slots__ = ("kicks", "arms")

    def __init__(self, version: str = "1.6") -> None:
        model = model_for(version, "cp01")
        assert model is not None
        super().__init__(model, Clock())
        self.kicks = 0
        self.arms = 0

    def _kick(self) -> None:
        self.kicks += 1

    def _arm(self, after_tick: bool = False) -> None:
        self.arms += 1

    def drain(self) -> list[Outgoing]:
        out = []
        while (sent := self.next_call()) is not None:
            out.append(sent)
        return out

    def answer_plainly(self) -> list[str]:
        """Send what waits, each answered as a plain Central System would (and what follows)."""
        plain = Driven("1.6")
        plain.now = self.clock.now()
        sent_actions = []
        while (sent := self.next_call()) is not None:
            sent_actions.append(sent.action)
            self.heard(sent.action, sent.payload, plain.answer(sent))
        return sent_actions


def booted() -> Recorder:
    runner = Recorder()
    runner.boot_if_due()
    assert runner.answer_plainly() == ["BootNotification"] + ["StatusNotification"] * 3
    return runner


def test_boot_on_the_first_link_and_not_again_once_accepted() -> None:
    runner = booted()
    assert runner.model.registration == "Accepted"
    runner.link_lost()
    runner.boot_if_due()
    assert runner.drain() == []


def test_follow_ups_of_an_answer_wait_until_it_has_gone() -> None:
    runner = booted()
    answer = runner.answer(
        "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 1}
    )
    assert answer == {"status": "Accepted"}
    assert not runner.has_work()  # the StatusNotification must not overtake the answer
    kicks = runner.kicks
    runner.answered()
    assert runner.kicks == kicks + 1
    assert [o.action for o in runner.drain()] == ["StatusNotification"]


def test_a_call_the_model_cannot_read_gets_the_default_answer() -> None:
    runner = booted()
    assert runner.answer("ClearCache", ["not", "an", "object"]) is None
    assert runner.answer_or_default("ClearCache", []) == {"status": "Accepted"}


def test_a_refusal_is_an_ocpp_error_of_the_versions_dialect() -> None:
    runner = booted()
    with pytest.raises(OcppError) as caught:
        runner.answer("ChangeAvailability", {"connectorId": "one"})
    assert caught.value.code == "FormationViolation"  # 1.6's spelling (2.x: FormatViolation)


def test_a_transaction_message_waits_for_the_next_link_the_rest_is_dropped() -> None:
    runner = booted()
    runner.plug(1)
    runner.badge("TAG-1", 1)
    assert runner.answer_plainly()[-2:] == ["StartTransaction", "StatusNotification"]
    runner.unplug(1)
    out = runner.drain()
    stop = next(o for o in out if o.action == "StopTransaction")
    runner.failed(stop, link_lost=True)
    runner.failed(Outgoing("Heartbeat", {}), link_lost=True)
    runner.link_lost()
    assert [o.action for o in runner.drain()] == ["StopTransaction"]


def test_time_brings_the_heartbeat_at_the_interval_the_cs_gave() -> None:
    runner = booted()
    delay = runner.delay()
    assert delay is not None and 0 < delay <= 300
    assert isinstance(runner.clock, Clock)
    runner.clock.moment = T0 + timedelta(seconds=300)
    runner.tick()
    assert "Heartbeat" in [o.action for o in runner.drain()]
    runner.halt()
    assert runner.delay() is None and runner.stopped


def test_a_hard_reset_asks_the_driver_to_reboot_and_boot_again() -> None:
    runner = booted()
    assert runner.answer("Reset", {"type": "Hard"}) == {"status": "Accepted"}
    runner.answered()
    runner.drain()
    reboot = runner.take_reboot()
    assert reboot is not None and reboot.boot_again
    runner.link_lost()
    runner.boot_if_due()
    assert [o.action for o in runner.drain()][:1] == ["BootNotification"]


def test_a_2x_station_runs_the_same_way() -> None:
    runner = Recorder("2.0.1")
    runner.boot_if_due()
    assert [o.action for o in runner.drain()] == ["BootNotification"]
    assert runner.points() == [1, 2] and runner.point_name == "EVSE"
