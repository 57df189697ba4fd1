"""The fleet's decisions without I/O (`ocppsim.fleet.behaviour`): repeatable randomness, the
reconnection back-off, Poisson sessions and what their steps do to the charge point models."""

from __future__ import annotations

import math
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from ocppsim_testing import needs_version

from ocppsim.core.station import ChargePointModel, ChargingStation, Outgoing
from ocppsim.fleet.behaviour import (
    AWAY,
    BADGE,
    PLUG,
    STOP,
    UNPLUG,
    Backoff,
    Sessions,
    Step,
    badge_of,
    charge_point_id,
    first_free,
    free_points,
    id_template_problem,
    perform,
    retry_jitter,
    take_all,
    unit,
)
from ocppsim.sim.model import model_for

T0 = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)
Payload = dict[str, Any]

# -- randomness --------------------------------------------------------------------------------


def test_unit_is_a_pure_function_of_seed_and_keys() -> None:
    assert unit(7, 1, 2, 3) == unit(7, 1, 2, 3)
    assert unit(7, 1, 2, 3) != unit(8, 1, 2, 3)
    assert unit(7, 1, 2, 3) != unit(7, 1, 2, 4)
    assert unit(7, 1, 2) != unit(7, 2, 1)  # order matters


def test_unit_is_uniform_enough() -> None:
    values = [unit(1, n) for n in range(20_000)]
    assert all(0.0 <= v < 1.0 for v in values)
    assert abs(sum(values) / len(values) - 0.5) < 0.01
    tenths = [0] * 10
    for v in values:
        tenths[int(v * 10)] += 1
    assert min(tenths) > 1_800 and max(tenths) < 2_200


# -- reconnecting -----------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_repeat_count_plus_a_random_share() -> None:
    backoff = Backoff(5, 10, 3)
    assert [backoff.delay(a, 0.0) for a in range(6)] == [5, 10, 20, 40, 40, 40]
    assert backoff.delay(0, 0.5) == 10.0
    assert backoff.longest() == 50.0
    assert Backoff().delay(0, 0.0) == 5.0  # OCPP 2.0.1's OCPPCommCtrlr defaults


def test_backoff_parse_and_its_errors() -> None:
    assert Backoff.parse("1") == Backoff(1.0, 10.0, 3)
    assert Backoff.parse("0.5, 2, 1") == Backoff(0.5, 2.0, 1)
    for bad in ("", "a", "1,,2", "1,2,3,4", "1,2,x"):
        with pytest.raises(ValueError, match="MIN\\[,RANGE\\[,TIMES\\]\\]"):
            Backoff.parse(bad)
    with pytest.raises(ValueError, match="negative"):
        Backoff.parse("-1")
    with pytest.raises(ValueError, match="finite"):
        Backoff.parse("inf")


def test_a_reboot_storm_does_not_reconnect_in_lock_step() -> None:
    """A thousand charge points that lost their link at once spread their first retries over
    the random range: no second of it gets more than a few percent of them."""
    backoff = Backoff(5, 10, 3)
    delays = [backoff.delay(0, retry_jitter(42, index, 1, 0)) for index in range(1000)]
    assert min(delays) >= 5 and max(delays) < 15
    per_second = [0] * 10
    for delay in delays:
        per_second[int(delay - 5)] += 1
    assert max(per_second) < 150
    # each loss and each attempt draws anew
    assert retry_jitter(42, 3, 1, 0) != retry_jitter(42, 3, 2, 0)
    assert retry_jitter(42, 3, 1, 0) != retry_jitter(42, 3, 1, 1)


# -- sessions ------------------------------------------------------------------------------------


def always(point: int) -> Any:
    return lambda busy: None if point in busy else point


def test_sessions_refuse_bad_settings() -> None:
    with pytest.raises(ValueError, match="per hour"):
        Sessions(per_hour=-1)
    with pytest.raises(ValueError, match="per hour"):
        Sessions(per_hour=math.nan)
    with pytest.raises(ValueError, match="length"):
        Sessions(minutes=0)


def test_no_sessions_means_nothing_is_due() -> None:
    plan = Sessions(per_hour=0).plan(0, 0.0)
    assert plan.next_due() is None
    assert take_all(plan, 1e9, always(1)) == []


def test_a_session_is_plug_badge_stop_unplug_in_order_within_its_length() -> None:
    settings = Sessions(per_hour=1, minutes=30, seed=3)
    plan = settings.plan(5, 0.0)
    arrival = plan.next_due()
    assert arrival is not None and arrival > 0
    steps = take_all(plan, arrival, always(1))
    assert steps == [Step(arrival, PLUG, 1, badge_of(3, 5, 1), 1)]
    rest = take_all(plan, arrival + 3 * 3600, lambda busy: None)
    kinds = [step.kind for step in rest if step.session == 1]
    assert kinds == [BADGE, STOP, UNPLUG]
    badge, stop, unplug = (s.at for s in rest if s.session == 1)
    assert arrival < badge < stop < unplug
    assert 15 * 60 <= stop - arrival <= 45 * 60 + 20
    assert all(step.id_tag == badge_of(3, 5, 1) for step in rest if step.session == 1)
    assert len(badge_of(3, 5, 1)) == 8 and int(badge_of(3, 5, 1), 16) >= 0


def test_sessions_are_repeatable_with_a_seed_and_differ_between_charge_points() -> None:
    def run(seed: int, index: int) -> list[Step]:
        return take_all(Sessions(per_hour=4, seed=seed).plan(index, 0.0), 86_400, always(1))

    assert run(1, 0) == run(1, 0)
    assert run(1, 0) != run(2, 0)
    assert run(1, 0) != run(1, 1)


def test_sessions_arrive_at_the_rate_asked_for() -> None:
    """Over 200 charge points and 10 hours at 3 per hour, about 6,000 arrive (Poisson: within
    a few standard deviations)."""
    arrivals = 0
    for index in range(200):
        plan = Sessions(per_hour=3, minutes=1, seed=9).plan(index, 0.0)
        take_all(plan, 36_000, lambda busy: None)  # every driver turned away: counts only
        arrivals += plan.count
    assert abs(arrivals - 6_000) < 4 * math.sqrt(6_000)


def test_a_driver_who_finds_no_free_point_goes_away() -> None:
    plan = Sessions(per_hour=60, minutes=60, seed=1).plan(0, 0.0)
    steps = take_all(plan, 3600, always(1))  # one point, long sessions: later drivers leave
    assert steps[0].kind == PLUG
    assert any(step.kind == AWAY for step in steps)
    busy_windows = [s for s in steps if s.kind in (PLUG, UNPLUG)]
    # never two sessions at once on the one point
    holding = 0
    for step in busy_windows:
        holding += 1 if step.kind == PLUG else -1
        assert holding in (0, 1)


# -- ids ----------------------------------------------------------------------------------------


def test_id_templates() -> None:
    assert charge_point_id("cp{n:05d}", 42) == "cp00042"
    assert charge_point_id("fleet-{n}", 7) == "fleet-7"
    assert id_template_problem("cp{n:05d}") is None
    assert "needs one {n} field" in (id_template_problem("cp") or "")
    assert "needs one {n} field" in (id_template_problem("cp{n}{n}") or "")
    assert "needs one {n} field" in (id_template_problem("cp{x}") or "")
    assert "cannot be formatted" in (id_template_problem("cp{n:q}") or "")


# -- acting on a model -------------------------------------------------------------------------


def plain_answer(model: Any, out: Outgoing, now: datetime) -> Payload:
    """What a Central System that accepts everything answers."""
    time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    action = out.action
    if action == "BootNotification":
        if isinstance(model, ChargingStation):
            return {"status": "Accepted", "interval": 300, "currentTime": time}
        return {"status": "Accepted", "interval": 300, "currentTime": time}
    if action == "Authorize":
        if isinstance(model, ChargingStation):
            return {"idTokenInfo": {"status": "Accepted"}}
        return {"idTagInfo": {"status": "Accepted"}}
    if action == "StartTransaction":
        return {"transactionId": 17, "idTagInfo": {"status": "Accepted"}}
    if action == "TransactionEvent" and "idToken" in out.payload:
        return {"idTokenInfo": {"status": "Accepted"}}
    if action == "Heartbeat":
        return {"currentTime": time}
    return {}


def exchange(model: Any, out: list[Outgoing], now: datetime) -> list[Outgoing]:
    """Send `out` and what follows from the answers; every CALL sent, in order."""
    sent: list[Outgoing] = []
    queue = list(out)
    while queue:
        call = queue.pop(0)
        sent.append(call)
        queue += model.on_result(call.action, call.payload, plain_answer(model, call, now), now)
    return sent


@pytest.mark.parametrize(
    "version", ["1.2", "1.5", "1.6", "2.0.1", pytest.param("2.1", marks=needs_version("2.1"))]
)
def test_a_session_runs_a_whole_transaction_on_the_model(version: str) -> None:
    model = model_for(version, "cp1", 2)
    assert model is not None
    now = T0
    exchange(model, model.boot(now), now)
    assert free_points(model, now) == [1, 2]
    tag = "0A1B2C3D"
    actions: list[str] = []

    def step(kind: str, seconds: float) -> list[Outgoing] | None:
        at = now + timedelta(seconds=seconds)
        out = perform(model, Step(seconds, kind, 1, tag, 1), at)
        if out is not None:
            actions.extend(o.action for o in exchange(model, out, at))
        return out

    assert step(PLUG, 0) is not None
    assert free_points(model, now) == [2]
    assert step(PLUG, 1) is None  # plugged already: the step no longer applies
    assert step(BADGE, 10) is not None
    assert step(BADGE, 11) is None  # charging: a second badge step starts nothing
    assert step(STOP, 1800) is not None
    assert step(STOP, 1801) is None  # nothing left to stop
    assert step(UNPLUG, 1810) is not None
    assert step(UNPLUG, 1811) is None
    assert free_points(model, now + timedelta(seconds=1812)) == [1, 2]
    assert "Authorize" in actions
    if isinstance(model, ChargingStation):
        events = [a for a in actions if a == "TransactionEvent"]
        assert len(events) >= 2
    else:
        assert isinstance(model, ChargePointModel)
        assert actions.index("StartTransaction") < actions.index("StopTransaction")
        assert model.connectors[1].meter.energy_wh > 0  # it charged


def test_a_step_for_a_point_that_cannot_take_it_is_dropped() -> None:
    model = model_for("1.6", "cp1", 1)
    assert model is not None
    exchange(model, model.boot(T0), T0)
    assert perform(model, Step(0, PLUG, 9, "A", 1), T0) is None  # no connector 9
    assert perform(model, Step(0, "dance", 1, "A", 1), T0) is None
    assert first_free(model, T0)({1}) is None
    assert first_free(model, T0)(set()) == 1


def test_the_behaviour_is_sans_io() -> None:
    """Every driver of a fleet (asyncio, gevent) can run it: it imports no I/O library."""
    code = (
        "import sys\n"
        "import ocppsim.fleet.behaviour\n"
        "bad = [m for m in ('asyncio', 'websockets', 'gevent', 'socket', 'aiohttp')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
