"""Smart charging of the 1.6 Charge Point model (OCPP 1.6 §3.13, §5.5, §5.7, §5.16): the
profiles it keeps or refuses, ClearChargingProfile, and GetCompositeSchedule computed from the
kept profiles (purposes, stack levels, kinds, validity, units), checked against OCA's schemas;
the composite cases follow the specification's examples and the OCTT's TC_066/TC_072 set-ups."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from cp_testing import T0, Driven, actions, booted, of, sampled, statuses

from ocppsim.core.station import ChargePointInfo
from ocppsim.core.station.common import wire_time
from ocppsim.core.station.smart_charging import MAX_COMPOSITE_PERIODS

Payload = dict[str, Any]


def profile(
    profile_id: int,
    purpose: str,
    periods: list[tuple[Any, ...]],
    *,
    stack: int = 0,
    kind: str = "Absolute",
    start: datetime | None = T0,
    duration: int | None = None,
    unit: str = "A",
    recurrency: str | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: int | None = None,
) -> Payload:
    """A ChargingProfileType; a period is (startPeriod, limit) or (startPeriod, limit, phases)."""
    schedule: Payload = {
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [
            {"startPeriod": p[0], "limit": p[1], **({"numberPhases": p[2]} if len(p) > 2 else {})}
            for p in periods
        ],
    }
    if start is not None:
        schedule["startSchedule"] = wire_time(start)
    if duration is not None:
        schedule["duration"] = duration
    wire: Payload = {
        "chargingProfileId": profile_id,
        "stackLevel": stack,
        "chargingProfilePurpose": purpose,
        "chargingProfileKind": kind,
        "chargingSchedule": schedule,
    }
    optional = {
        "recurrencyKind": recurrency,
        "validFrom": wire_time(valid_from) if valid_from else None,
        "validTo": wire_time(valid_to) if valid_to else None,
        "transactionId": transaction_id,
    }
    wire.update((k, v) for k, v in optional.items() if v is not None)
    return wire


def set_profile(driven: Driven, connector: int, wire: Payload) -> str:
    reply = driven.call(
        "SetChargingProfile", {"connectorId": connector, "csChargingProfiles": wire}
    )
    return str(reply.payload["status"])


def composite(
    driven: Driven, connector: int, duration: int, unit: str | None = None
) -> list[tuple[int, float]]:
    """(startPeriod, limit) of the composite schedule (asserting its frame)."""
    request: Payload = {"connectorId": connector, "duration": duration}
    if unit is not None:
        request["chargingRateUnit"] = unit
    answer = driven.call("GetCompositeSchedule", request).payload
    assert answer["status"] == "Accepted"
    assert answer["connectorId"] == connector
    assert answer["scheduleStart"] == wire_time(driven.now)
    schedule = answer["chargingSchedule"]
    assert schedule["duration"] == duration
    assert schedule["chargingRateUnit"] == (unit or "A")
    return [(p["startPeriod"], p["limit"]) for p in schedule["chargingSchedulePeriod"]]


# --- which profiles are kept (§5.16, §3.13.1) ----------------------------------------------------


def test_a_profile_goes_where_its_purpose_says() -> None:
    driven = booted(connectors=2)
    cp_max = profile(1, "ChargePointMaxProfile", [(0, 10)])
    assert set_profile(driven, 1, cp_max) == "Rejected"  # only on connector 0
    assert set_profile(driven, 0, cp_max) == "Accepted"
    assert set_profile(driven, 0, profile(2, "TxDefaultProfile", [(0, 8)])) == "Accepted"
    assert set_profile(driven, 2, profile(3, "TxDefaultProfile", [(0, 8)])) == "Accepted"
    tx_profile = profile(4, "TxProfile", [(0, 6)])
    assert set_profile(driven, 1, tx_profile) == "Rejected"  # no transaction on connector 1
    assert set_profile(driven, 0, tx_profile) == "Rejected"
    assert set_profile(driven, 3, profile(5, "TxDefaultProfile", [(0, 8)])) == "Rejected"
    transaction_id = driven.charging()
    assert set_profile(driven, 1, tx_profile) == "Accepted"
    other = profile(6, "TxProfile", [(0, 6)], transaction_id=transaction_id + 1)
    assert set_profile(driven, 1, other) == "Rejected"  # not the running transaction
    assert len(driven.cp.profiles) == 4
    kept = next(p for p in driven.cp.profiles.profiles if p.id == 4)
    assert kept.transaction_id == transaction_id  # bound to the transaction it came in


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"stackLevel": 11}, "ChargeProfileMaxStackLevel is 10"),
        ({"chargingProfileKind": "Recurring"}, "Recurring without recurrencyKind"),
        ({"validFrom": "2026-11-24T12:00:00Z", "validTo": "2026-11-24T11:00:00Z"}, "validTo first"),
    ],
)
def test_profiles_the_charge_point_cannot_take_are_rejected(change: Payload, why: str) -> None:
    driven = booted()
    wire = {**profile(1, "TxDefaultProfile", [(0, 8)]), **change}
    assert set_profile(driven, 1, wire) == "Rejected", why
    assert len(driven.cp.profiles) == 0


def test_schedules_the_charge_point_cannot_take_are_rejected() -> None:
    driven = booted()
    assert set_profile(driven, 1, profile(1, "TxDefaultProfile", [(10, 8)])) == "Rejected"
    assert set_profile(driven, 1, profile(1, "TxDefaultProfile", [(0, 8), (0, 6)])) == "Rejected"
    too_many = [(i * 60, 8) for i in range(25)]  # ChargingScheduleMaxPeriods is 24
    assert set_profile(driven, 1, profile(1, "TxDefaultProfile", too_many)) == "Rejected"
    assert set_profile(driven, 1, profile(1, "TxDefaultProfile", too_many[:24])) == "Accepted"
    driven.cp.configuration.set("ChargingScheduleAllowedChargingRateUnit", "Current")
    assert set_profile(driven, 1, profile(2, "TxDefaultProfile", [(0, 5000)], unit="W")) == (
        "Rejected"
    )
    driven.cp.configuration.set("SupportedFeatureProfiles", "Core,RemoteTrigger")
    assert set_profile(driven, 1, profile(3, "TxDefaultProfile", [(0, 8)])) == "NotSupported"


def test_a_profile_replaces_the_one_of_its_id_or_stack_level_and_purpose() -> None:
    driven = booted(connectors=2)
    assert set_profile(driven, 1, profile(1, "TxDefaultProfile", [(0, 8)], stack=1)) == "Accepted"
    assert set_profile(driven, 1, profile(2, "TxDefaultProfile", [(0, 7)], stack=1)) == "Accepted"
    assert [p.id for p in driven.cp.profiles.profiles] == [2]  # same stack level and purpose
    assert set_profile(driven, 2, profile(2, "TxDefaultProfile", [(0, 6)], stack=3)) == "Accepted"
    assert [(p.id, p.connector_id) for p in driven.cp.profiles.profiles] == [(2, 2)]  # same id
    assert set_profile(driven, 1, profile(3, "TxDefaultProfile", [(0, 5)], stack=3)) == "Accepted"
    assert len(driven.cp.profiles) == 2  # same stack level, other connector: both kept


def test_max_charging_profiles_installed() -> None:
    driven = booted()
    driven.cp.configuration.set("MaxChargingProfilesInstalled", "2")
    for n in (1, 2):
        assert set_profile(driven, 1, profile(n, "TxDefaultProfile", [(0, 8)], stack=n)) == (
            "Accepted"
        )
    assert set_profile(driven, 1, profile(3, "TxDefaultProfile", [(0, 8)], stack=3)) == "Rejected"
    assert set_profile(driven, 1, profile(2, "TxDefaultProfile", [(0, 9)], stack=2)) == "Accepted"


# --- ClearChargingProfile (§5.5) -----------------------------------------------------------------


def test_clear_charging_profile_by_id_connector_purpose_and_stack_level() -> None:
    driven = booted(connectors=2)

    def install() -> None:
        set_profile(driven, 0, profile(1, "ChargePointMaxProfile", [(0, 30)]))
        set_profile(driven, 1, profile(2, "TxDefaultProfile", [(0, 8)], stack=1))
        set_profile(driven, 2, profile(3, "TxDefaultProfile", [(0, 8)], stack=2))

    def clear(**criteria: Any) -> str:
        return str(driven.call("ClearChargingProfile", criteria).payload["status"])

    def kept() -> list[int]:
        return sorted(p.id for p in driven.cp.profiles.profiles)

    install()
    assert clear(id=9) == "Unknown"
    assert clear(id=2) == "Accepted" and kept() == [1, 3]
    assert clear(connectorId=2) == "Accepted" and kept() == [1]
    install()
    assert clear(chargingProfilePurpose="TxDefaultProfile") == "Accepted" and kept() == [1]
    install()
    assert clear(chargingProfilePurpose="TxDefaultProfile", stackLevel=2) == "Accepted"
    assert kept() == [1, 2]
    assert clear(connectorId=1, stackLevel=2) == "Unknown"
    assert clear() == "Accepted" and kept() == []
    assert clear() == "Unknown"


# --- GetCompositeSchedule (§5.7, §3.13.4) --------------------------------------------------------


def test_without_profiles_the_hardware_limits() -> None:
    driven = booted(connectors=2)
    assert composite(driven, 1, 3600) == [(0, 16.0)]
    assert composite(driven, 1, 3600, "W") == [(0, 11040.0)]  # 16 A x 230 V x 3 phases
    assert composite(driven, 0, 3600) == [(0, 32.0)]  # the whole Charge Point
    reply = driven.call("GetCompositeSchedule", {"connectorId": 3, "duration": 60})
    assert reply.payload == {"status": "Rejected"}


def test_stacked_profiles_fall_back_to_the_lower_level_when_the_higher_ends() -> None:
    """TC_072_CS: two TxDefaultProfiles, the higher stack level's schedule shorter."""
    driven = booted()
    low = profile(1, "TxDefaultProfile", [(0, 6), (100, 8), (200, 10)], duration=400)
    high = profile(2, "TxDefaultProfile", [(0, 7), (100, 9)], stack=1, duration=150)
    assert set_profile(driven, 1, low) == "Accepted"
    assert set_profile(driven, 1, high) == "Accepted"
    assert composite(driven, 1, 500) == [(0, 7.0), (100, 9.0), (150, 8.0), (200, 10.0), (400, 16.0)]
    driven.at(120)  # asked later: the same schedule, from now
    assert composite(driven, 1, 380) == [(0, 9.0), (30, 8.0), (80, 10.0), (280, 16.0)]


def test_the_least_of_charge_point_max_and_the_transaction_profile() -> None:
    """TC_066_CS: a ChargePointMaxProfile, a TxDefaultProfile and a TxProfile."""
    driven = booted()
    set_profile(driven, 0, profile(1, "ChargePointMaxProfile", [(0, 10)], duration=86400))
    set_profile(driven, 0, profile(2, "TxDefaultProfile", [(0, 6), (300, 14)]))
    transaction_id = driven.charging()
    tx = profile(3, "TxProfile", [(0, 8), (100, 12)], duration=200, transaction_id=transaction_id)
    assert set_profile(driven, 1, tx) == "Accepted"
    # the TxProfile overrides the TxDefaultProfile while it runs, ChargePointMax caps both
    assert composite(driven, 1, 400) == [(0, 8.0), (100, 10.0), (200, 6.0), (300, 10.0)]
    # connector 0: the Charge Point's limit only
    assert composite(driven, 0, 400) == [(0, 10.0)]
    # the TxProfile ends with its transaction
    driven.answer_all(driven.badge("TAG-1"))
    assert driven.cp.transaction(1) is None
    assert composite(driven, 1, 400) == [(0, 6.0), (300, 10.0)]


def test_a_connector_default_wins_over_the_charge_point_default_at_the_same_level() -> None:
    driven = booted(connectors=2)
    set_profile(driven, 0, profile(1, "TxDefaultProfile", [(0, 6)]))
    set_profile(driven, 2, profile(2, "TxDefaultProfile", [(0, 12)]))
    assert composite(driven, 1, 60) == [(0, 6.0)]
    assert composite(driven, 2, 60) == [(0, 12.0)]
    set_profile(driven, 0, profile(3, "TxDefaultProfile", [(0, 9)], stack=1))
    assert composite(driven, 2, 60) == [(0, 9.0)]  # a higher stack level still wins


def test_units_convert_at_the_voltage_and_phases() -> None:
    driven = booted()
    set_profile(driven, 0, profile(1, "ChargePointMaxProfile", [(0, 6900.0)], unit="W"))
    assert composite(driven, 1, 60, "A") == [(0, 10.0)]  # 6900 W / (230 V x 3)
    assert composite(driven, 1, 60, "W") == [(0, 6900.0)]
    set_profile(driven, 0, profile(1, "ChargePointMaxProfile", [(0, 11000.0)], unit="W"))
    assert composite(driven, 1, 60, "A") == [(0, 15.9)]  # 15.94 A, rounded down to 0.1
    set_profile(driven, 1, profile(2, "TxDefaultProfile", [(0, 8.1, 1)]))
    answer = driven.call(
        "GetCompositeSchedule", {"connectorId": 1, "duration": 60, "chargingRateUnit": "W"}
    ).payload
    assert answer["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 1863.0, "numberPhases": 1}  # 8.1 A on one phase
    ]


def test_a_single_phase_charge_point_converts_with_one_phase() -> None:
    driven = booted(phases=1, max_current_a=32.0)
    assert composite(driven, 1, 60, "W") == [(0, 7360.0)]
    set_profile(driven, 1, profile(1, "TxDefaultProfile", [(0, 3680.0)], unit="W"))
    assert composite(driven, 1, 60, "A") == [(0, 16.0)]


def test_a_daily_profile_recurs() -> None:
    driven = booted()
    midnight = datetime(2026, 11, 23, tzinfo=T0.tzinfo)  # the day before T0 (10:00)
    daily = profile(
        1,
        "TxDefaultProfile",
        [(0, 6), (8 * 3600, 12), (18 * 3600, 8)],
        kind="Recurring",
        recurrency="Daily",
        start=midnight,
    )
    assert set_profile(driven, 1, daily) == "Accepted"
    # from 10:00 for 16 hours: 12 A until 18:00, 8 A until midnight, 6 A after
    assert composite(driven, 1, 16 * 3600) == [(0, 12.0), (8 * 3600, 8.0), (14 * 3600, 6.0)]
    driven.at(30 * 86400)  # a month later, the same day
    assert composite(driven, 1, 16 * 3600) == [(0, 12.0), (8 * 3600, 8.0), (14 * 3600, 6.0)]
    driven.at(-2 * 86400)  # and before its startSchedule too (it recurs both ways)
    assert composite(driven, 1, 3600) == [(0, 12.0)]


def test_a_weekly_profile_recurs() -> None:
    driven = booted()
    monday = datetime(2026, 11, 23, tzinfo=T0.tzinfo)
    weekly = profile(
        1,
        "TxDefaultProfile",
        [(0, 6), (2 * 86400, 10)],  # Monday and Tuesday 6 A, from Wednesday 10 A
        kind="Recurring",
        recurrency="Weekly",
        start=monday,
    )
    assert set_profile(driven, 1, weekly) == "Accepted"
    wednesday = 14 * 3600  # Tuesday 10:00 + 14 h
    next_monday = wednesday + 5 * 86400
    assert composite(driven, 1, 7 * 86400) == [(0, 6.0), (wednesday, 10.0), (next_monday, 6.0)]


def test_a_relative_profile_starts_with_the_transaction() -> None:
    driven = booted()
    set_profile(
        driven, 1, profile(1, "TxDefaultProfile", [(0, 6), (600, 10)], kind="Relative", start=None)
    )
    driven.at(300)
    assert composite(driven, 1, 900) == [(0, 6.0), (600, 10.0)]  # no transaction: from now
    driven.at(0)
    driven.charging()  # started at T0
    driven.at(300)
    assert composite(driven, 1, 900) == [(0, 6.0), (300, 10.0)]


def test_an_absolute_profile_without_start_runs_from_the_transaction_start() -> None:
    driven = booted()
    driven.charging()
    set_profile(driven, 1, profile(1, "TxDefaultProfile", [(0, 6), (600, 10)], start=None))
    driven.at(100)
    assert composite(driven, 1, 900) == [(0, 6.0), (500, 10.0)]


def test_a_profile_applies_only_while_it_is_valid() -> None:
    driven = booted()
    set_profile(driven, 1, profile(1, "TxDefaultProfile", [(0, 10)]))
    window = profile(
        2,
        "TxDefaultProfile",
        [(0, 6)],
        stack=1,
        valid_from=T0 + timedelta(seconds=300),
        valid_to=T0 + timedelta(seconds=900),
    )
    set_profile(driven, 1, window)
    assert composite(driven, 1, 1200) == [(0, 10.0), (300, 6.0), (900, 10.0)]


def test_a_long_composite_stops_at_the_most_periods() -> None:
    driven = booted()
    daily = profile(
        1, "TxDefaultProfile", [(0, 6), (43200, 8)], kind="Recurring", recurrency="Daily"
    )
    set_profile(driven, 1, daily)
    answer = driven.call("GetCompositeSchedule", {"connectorId": 1, "duration": 2000 * 86400})
    schedule = answer.payload["chargingSchedule"]
    periods = schedule["chargingSchedulePeriod"]
    assert len(periods) == MAX_COMPOSITE_PERIODS
    assert schedule["duration"] == 500 * 86400  # two periods a day: where the 1001st starts


def test_a_unit_not_allowed_is_rejected() -> None:
    driven = booted()
    driven.cp.configuration.set("ChargingScheduleAllowedChargingRateUnit", "Power")
    request = {"connectorId": 1, "duration": 60, "chargingRateUnit": "A"}
    assert driven.call("GetCompositeSchedule", request).payload == {"status": "Rejected"}
    assert composite(driven, 1, 60, "W") == [(0, 11040.0)]
    answer = driven.call("GetCompositeSchedule", {"connectorId": 1, "duration": 60}).payload
    assert answer["chargingSchedule"]["chargingRateUnit"] == "W"  # the allowed one


# --- what the meter does with it -----------------------------------------------------------------


def test_the_meter_delivers_what_the_profiles_allow() -> None:
    driven = booted()
    transaction_id = driven.charging()
    tx = profile(1, "TxProfile", [(0, 8), (120, 16)], transaction_id=transaction_id)
    set_profile(driven, 1, tx)
    driven.at(60)
    (first,) = of(driven.tick(), "MeterValues")
    assert sampled(first["meterValue"][0], "Power.Active.Import") == [5520.0]  # 8 A x 690 V
    assert sampled(first["meterValue"][0]) == [92.0]  # 5520 W for 60 s
    driven.at(180)
    (second,) = of(driven.tick(), "MeterValues")
    assert sampled(second["meterValue"][0], "Power.Active.Import") == [11040.0]
    assert sampled(second["meterValue"][0]) == [92.0 + 92.0 + 184.0]


def test_a_zero_limit_suspends_the_charging() -> None:
    driven = booted()
    transaction_id = driven.charging()
    zero = profile(1, "TxProfile", [(0, 0), (300, 16)], transaction_id=transaction_id)
    reply = driven.call("SetChargingProfile", {"connectorId": 1, "csChargingProfiles": zero})
    assert statuses(reply.outgoing) == [(1, "SuspendedEVSE")]  # §4.9: the EVSE holds back
    energy = driven.cp.connectors[1].meter.energy_wh
    driven.at(200)
    assert actions(driven.tick()) == ["MeterValues"]
    assert driven.cp.connectors[1].meter.energy_wh == energy
    driven.at(300)
    assert statuses(driven.tick()) == [(1, "Charging")]


def test_remote_start_with_a_charging_profile() -> None:
    driven = booted(**{"connectors": 1})
    driven.answer_all(driven.plug())
    tx = profile(7, "TxProfile", [(0, 6)], start=None, kind="Relative")
    reply = driven.call(
        "RemoteStartTransaction", {"connectorId": 1, "idTag": "REMOTE", "chargingProfile": tx}
    )
    assert reply.payload == {"status": "Accepted"}
    driven.answer_all(reply.outgoing)
    assert composite(driven, 1, 60) == [(0, 6.0)]
    kept = driven.cp.profiles.profiles[0]
    assert (kept.id, kept.transaction_id) == (7, 1)  # bound once the id came
    not_tx = profile(8, "TxDefaultProfile", [(0, 6)])
    driven.answer_all(driven.unplug())
    reply = driven.call("RemoteStartTransaction", {"idTag": "R", "chargingProfile": not_tx})
    assert reply.payload == {"status": "Rejected"}  # §5.11: a TxProfile only
    assert composite(driven, 1, 60) == [(0, 16.0)]


def test_charging_info_is_checked() -> None:
    with pytest.raises(ValueError):
        ChargePointInfo(phases=4)
    with pytest.raises(ValueError):
        ChargePointInfo(connectors=0)
