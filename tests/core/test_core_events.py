"""Events are small immutable values; the bus tells every subscriber, in order, at once."""

from __future__ import annotations

import logging

import pytest

from ocppsim.core.events import (
    Connected,
    EventBus,
    FrameReceived,
    FrameSent,
    Notice,
)
from ocppsim.core.rpc import Call


def test_events_are_immutable_values() -> None:
    call = Call("a", "Heartbeat", {})
    sent = FrameSent("cs", "cp#1", "websocket", call.to_frame(), call.to_frame(), call)
    assert sent == FrameSent("cs", "cp#1", "websocket", call.to_frame(), call.to_frame(), call)
    assert sent != FrameReceived("cs", "cp#1", "websocket", call.to_frame(), call.to_frame(), call)
    with pytest.raises(AttributeError):
        sent.wire = "x"  # type: ignore[misc]
    assert not hasattr(sent, "__dict__")  # a tuple: cheap on the hot path
    assert Notice("cs", "hello").level == logging.INFO
    notice = Notice("cs", "x")
    assert len({notice, Notice("cs", "x"), Notice("cp#1", "x")}) == 2  # hashable by value
    match sent:  # subscribers may match on them
        case FrameSent(speaker="cs", message=Call(action=action)):
            assert action == "Heartbeat"
        case _:
            raise AssertionError(sent)


def test_every_subscriber_hears_every_event_in_order() -> None:
    heard: list[tuple[str, object]] = []
    bus = EventBus(lambda event: heard.append(("first", event)))
    bus.subscribe(lambda event: heard.append(("second", event)))
    event = Connected("cs", "cp#1", "websocket", "1", "ocpp1.5")
    bus.publish(event)
    assert heard == [("first", event), ("second", event)]


def test_unsubscribing_stops_the_events_even_during_a_publish() -> None:
    bus = EventBus()
    heard: list[object] = []
    remove_second: list = []

    def first(event: object) -> None:
        heard.append(("first", event))
        remove_second[0]()

    bus.subscribe(first)
    remove_second.append(bus.subscribe(lambda event: heard.append(("second", event))))
    bus.notice(None, "one")
    bus.notice(None, "two")
    assert [who for who, _ in heard] == ["first", "second", "first"]


def test_a_bound_method_can_be_unsubscribed() -> None:
    class Counter:
        count = 0

        def hear(self, event: object) -> None:
            self.count += 1

    counter = Counter()
    bus = EventBus()
    remove = bus.subscribe(counter.hear)
    bus.notice(None, "x")
    remove()
    bus.notice(None, "y")
    assert counter.count == 1


def test_a_failing_subscriber_is_reported_and_the_others_still_hear(caplog) -> None:
    heard: list[object] = []

    def broken(event: object) -> None:
        raise RuntimeError("subscriber bug")

    bus = EventBus(broken, heard.append)
    with caplog.at_level(logging.ERROR, logger="ocppsim.events"):
        bus.notice("cs", "still told")
    assert heard == [Notice("cs", "still told")]
    assert any("subscriber" in record.getMessage() for record in caplog.records)
