"""The device model of a simulated 2.x charging station: GetVariables, SetVariables, GetBaseReport
and GetReport answered from it (OCPP 2.0.1 Part 2 §B05-B08), every payload checked against the
official schemas."""

from __future__ import annotations

from typing import Any

import pytest
from ocppsim_testing import needs_version
from station_testing import VERSIONS, Driven, check

from ocppsim.core.station import VERSIONS as STATION_VERSIONS
from ocppsim.core.station import (
    ChargingStation,
    StationInfo,
    StationRefusal,
    VariableDefinition,
    standard_definitions,
)
from ocppsim.core.station.device_model import DeviceModel, Layout


def get(name: str, variable: str, **more: Any) -> dict[str, Any]:
    """A GetVariableData item."""
    component: dict[str, Any] = {"name": name}
    if "evse" in more:
        component["evse"] = more.pop("evse")
    if "component_instance" in more:
        component["instance"] = more.pop("component_instance")
    item: dict[str, Any] = {"component": component, "variable": {"name": variable}}
    if "instance" in more:
        item["variable"]["instance"] = more.pop("instance")
    item.update(more)
    return item


def put(name: str, variable: str, value: str, **more: Any) -> dict[str, Any]:
    """A SetVariableData item."""
    return {**get(name, variable, **more), "attributeValue": value}


def get_one(driven: Driven, item: dict[str, Any]) -> dict[str, Any]:
    (result,) = driven.call("GetVariables", {"getVariableData": [item]}).payload[
        "getVariableResult"
    ]
    return result


def set_one(driven: Driven, item: dict[str, Any]) -> dict[str, Any]:
    (result,) = driven.call("SetVariables", {"setVariableData": [item]}).payload[
        "setVariableResult"
    ]
    return result


@pytest.fixture(params=VERSIONS)
def driven(request: pytest.FixtureRequest) -> Driven:
    return Driven(request.param, StationInfo(identity="CP-7", evses=(1, 2)))


# --- the standard model --------------------------------------------------------------------------


def test_the_core_profile_variables_are_there(driven: Driven) -> None:
    model = driven.station.model
    expected = {
        ("OCPPCommCtrlr", "HeartbeatInterval", None),
        ("OCPPCommCtrlr", "NetworkConfigurationPriority", None),
        ("OCPPCommCtrlr", "NetworkProfileConnectionAttempts", None),
        ("OCPPCommCtrlr", "OfflineThreshold", None),
        ("OCPPCommCtrlr", "MessageTimeout", "Default"),
        ("OCPPCommCtrlr", "MessageAttempts", "TransactionEvent"),
        ("OCPPCommCtrlr", "MessageAttemptInterval", "TransactionEvent"),
        ("TxCtrlr", "EVConnectionTimeOut", None),
        ("TxCtrlr", "StopTxOnEVSideDisconnect", None),
        ("TxCtrlr", "StopTxOnInvalidId", None),
        ("TxCtrlr", "TxStartPoint", None),
        ("TxCtrlr", "TxStopPoint", None),
        ("AuthCtrlr", "Enabled", None),
        ("AuthCtrlr", "AuthorizeRemoteStart", None),
        ("AuthCtrlr", "LocalAuthorizeOffline", None),
        ("AuthCtrlr", "LocalPreAuthorize", None),
        ("SampledDataCtrlr", "TxUpdatedInterval", None),
        ("SampledDataCtrlr", "TxUpdatedMeasurands", None),
        ("SampledDataCtrlr", "TxEndedMeasurands", None),
        ("SampledDataCtrlr", "TxStartedMeasurands", None),
        ("AlignedDataCtrlr", "Measurands", None),
        ("AlignedDataCtrlr", "Interval", None),
        ("SecurityCtrlr", "Identity", None),
        ("SecurityCtrlr", "BasicAuthPassword", None),
        ("SecurityCtrlr", "SecurityProfile", None),
        ("SecurityCtrlr", "OrganizationName", None),
        ("ChargingStation", "AvailabilityState", None),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetReport"),
        ("DeviceDataCtrlr", "ItemsPerMessage", "GetVariables"),
        ("DeviceDataCtrlr", "ItemsPerMessage", "SetVariables"),
        ("DeviceDataCtrlr", "BytesPerMessage", "GetReport"),
        ("ClockCtrlr", "DateTime", None),
    }
    present = {(e.component.name, e.variable.name, e.variable.instance) for e in model}
    assert expected <= present
    for controller in ("ReservationCtrlr", "SmartChargingCtrlr", "LocalAuthListCtrlr"):
        assert model.value(controller, "Available") == "true"
        assert model.value(controller, "Enabled") == "true"
    # one EVSE component per EVSE, one Connector component per connector
    assert model.value("EVSE", "AvailabilityState", evse=2) == "Available"
    assert model.value("Connector", "AvailabilityState", evse=2, connector=2) == "Available"
    with pytest.raises(KeyError, match="EVSE 3"):
        model.value("EVSE", "AvailabilityState", evse=3)


def test_writable_variables_are_persistent_and_every_default_is_valid() -> None:
    for version in STATION_VERSIONS:
        for row in standard_definitions(version):
            assert row.persistent == (row.mutability != "ReadOnly")  # Part 2 §2 of the list
            if row.value is not None and row.mutability != "ReadOnly":
                from ocppsim.core.station import check_value

                assert check_value(row, row.value) is None, row


def test_stations_share_one_layout_and_keep_their_own_values() -> None:
    a = ChargingStation("2.0.1", StationInfo(identity="A"))
    b = ChargingStation("2.0.1", StationInfo(identity="B"))
    assert a.model.layout is b.model.layout
    a.model.set_value("OCPPCommCtrlr", "HeartbeatInterval", "42")
    assert b.model.value("OCPPCommCtrlr", "HeartbeatInterval") == "300"
    assert a.model.value("SecurityCtrlr", "Identity") == "A"
    assert b.model.value("SecurityCtrlr", "Identity") == "B"
    other = ChargingStation("2.0.1", StationInfo(evses=(2,)))
    assert other.model.layout is not a.model.layout  # another kind of station


# --- GetVariables (B06) --------------------------------------------------------------------------


def test_get_variables_answers_each_item_with_its_status(driven: Driven) -> None:
    items = [
        get("OCPPCommCtrlr", "HeartbeatInterval"),
        get("SecurityCtrlr", "Identity", attributeType="Actual"),
        get("NoSuchCtrlr", "HeartbeatInterval"),
        get("OCPPCommCtrlr", "NoSuchVariable"),
        get("OCPPCommCtrlr", "HeartbeatInterval", attributeType="Target"),
        get("SecurityCtrlr", "BasicAuthPassword"),
        get("OCPPCommCtrlr", "MessageTimeout"),  # exists only with instance Default (B06.FR.15)
        get("OCPPCommCtrlr", "MessageTimeout", instance="Default"),
        get("EVSE", "AvailabilityState", evse={"id": 2}),
        get("Connector", "ConnectorType", evse={"id": 1, "connectorId": 1}),
        get("EVSE", "AvailabilityState", evse={"id": 9}),
    ]
    results = driven.call("GetVariables", {"getVariableData": items}).payload["getVariableResult"]
    assert len(results) == len(items)  # B06.FR.01
    assert [r["attributeStatus"] for r in results] == [
        "Accepted",
        "Accepted",
        "UnknownComponent",
        "UnknownVariable",
        "NotSupportedAttributeType",
        "Rejected",
        "UnknownVariable",
        "Accepted",
        "Accepted",
        "Accepted",
        "UnknownComponent",
    ]
    assert [r.get("attributeValue") for r in results] == [
        "300",
        "CP-7",
        None,
        None,
        None,
        None,  # WriteOnly is never read (B06.FR.09)
        None,
        "30",
        "Available",
        "cType2",
        None,
    ]
    assert results[5]["attributeStatusInfo"]["reasonCode"] == "WriteOnly"
    # B06.FR.02/03/11: component and variable echoed, attributeType Actual when absent
    for item, result in zip(items, results, strict=True):
        assert result["component"] == item["component"]
        assert result["variable"] == item["variable"]
        assert result["attributeType"] == item.get("attributeType", "Actual")


def test_an_unset_attribute_reads_as_an_empty_string() -> None:
    rows = (VariableDefinition("Ctrl", "Limit", "5", "integer", attributes=("Actual", "Target")),)
    model = DeviceModel(Layout(rows, {1: (1,)}))
    (result,) = model.get_variables([get("Ctrl", "Limit", attributeType="Target")])
    assert (result["attributeStatus"], result["attributeValue"]) == ("Accepted", "")  # B06.FR.13
    (result,) = model.set_variables([put("Ctrl", "Limit", "7", attributeType="Target")])
    assert result["attributeStatus"] == "Accepted"
    (target, actual) = model.get_variables(
        [get("Ctrl", "Limit", attributeType="Target"), get("Ctrl", "Limit")]
    )
    assert (target["attributeValue"], actual["attributeValue"]) == ("7", "5")


def test_the_clock_reads_as_the_time_of_the_call(driven: Driven) -> None:
    driven.at(3600)
    assert get_one(driven, get("ClockCtrlr", "DateTime"))["attributeValue"] == (
        "2026-11-24T11:00:00.000Z"
    )


def test_too_many_items_or_bytes_are_refused(driven: Driven) -> None:
    items = [get("OCPPCommCtrlr", "HeartbeatInterval")] * 51  # ItemsPerMessage[GetVariables] 50
    with pytest.raises(StationRefusal) as refused:
        driven.call("GetVariables", {"getVariableData": items})
    assert refused.value.kind == "occurrence"  # B06.FR.16: OccurrenceConstraintViolation
    assert "ItemsPerMessage[GetVariables] (50)" in refused.value.description
    driven.station.model.set_value(
        "DeviceDataCtrlr", "BytesPerMessage", "100", instance="SetVariables"
    )
    with pytest.raises(StationRefusal) as refused:
        driven.call("SetVariables", {"setVariableData": [put("TxCtrlr", "TxStartPoint", "x" * 90)]})
    assert refused.value.kind == "format"  # B06.FR.17 / B08.FR.18: FormatViolation


# --- SetVariables (B05) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "status", "reason"),
    [
        (put("OCPPCommCtrlr", "HeartbeatInterval", "60"), "Accepted", None),
        (put("OCPPCommCtrlr", "HeartbeatInterval", "0"), "Rejected", "ValueTooLow"),
        (put("OCPPCommCtrlr", "HeartbeatInterval", "sixty"), "Rejected", "InvalidValue"),
        (put("OCPPCommCtrlr", "HeartbeatInterval", "6.5"), "Rejected", "InvalidValue"),
        (put("SmartChargingCtrlr", "LimitChangeSignificance", "2.5"), "Accepted", None),
        (put("SmartChargingCtrlr", "LimitChangeSignificance", "150"), "Rejected", "ValueTooHigh"),
        (put("SmartChargingCtrlr", "LimitChangeSignificance", "nan"), "Rejected", "InvalidValue"),
        (put("AuthCtrlr", "AuthorizeRemoteStart", "true"), "Accepted", None),
        (put("AuthCtrlr", "AuthorizeRemoteStart", "yes"), "Rejected", "InvalidValue"),
        (put("TxCtrlr", "TxStartPoint", "EVConnected,Authorized"), "Accepted", None),
        (put("TxCtrlr", "TxStartPoint", "Authorized,Authorized"), "Rejected", "InvalidValue"),
        (put("TxCtrlr", "TxStartPoint", "DataSigned"), "Rejected", "InvalidValue"),
        (put("SampledDataCtrlr", "TxEndedMeasurands", ""), "Accepted", None),
        (put("ClockCtrlr", "TimeSource", "NTP,Heartbeat"), "Accepted", None),
        (put("ClockCtrlr", "DateTime", "2026-01-01T00:00:00Z"), "Rejected", "ReadOnly"),
        (put("SecurityCtrlr", "Identity", "other"), "Rejected", "ReadOnly"),
        (put("ChargingStation", "AvailabilityState", "Faulted"), "Rejected", "ReadOnly"),
        (put("SecurityCtrlr", "BasicAuthPassword", "Secret-Password_1234"), "Accepted", None),
        (put("SecurityCtrlr", "BasicAuthPassword", "short"), "Rejected", "ValueTooLow"),
        (put("SecurityCtrlr", "BasicAuthPassword", "with spaces is not ok"), "Rejected", None),
        (put("SecurityCtrlr", "BasicAuthPassword", "x" * 41), "Rejected", "ValueTooHigh"),
        (put("OCPPCommCtrlr", "NetworkConfigurationPriority", "1"), "RebootRequired", None),
        (put("OCPPCommCtrlr", "NetworkConfigurationPriority", "4"), "Rejected", "InvalidValue"),
        (put("NoSuchCtrlr", "HeartbeatInterval", "60"), "UnknownComponent", None),
        (put("OCPPCommCtrlr", "Nope", "60"), "UnknownVariable", None),
        (
            put("OCPPCommCtrlr", "HeartbeatInterval", "60", attributeType="MaxSet"),
            "NotSupportedAttributeType",
            None,
        ),
    ],
)
def test_set_variables_statuses(
    driven: Driven, item: dict[str, Any], status: str, reason: str | None
) -> None:
    before = get_one(driven, {k: v for k, v in item.items() if k != "attributeValue"})
    result = set_one(driven, item)
    assert result["attributeStatus"] == status
    assert result["attributeType"] == item.get("attributeType", "Actual")  # B05.FR.03/12
    assert result["component"] == item["component"] and result["variable"] == item["variable"]
    if reason is not None:
        assert result["attributeStatusInfo"]["reasonCode"] == reason
    after = get_one(driven, {k: v for k, v in item.items() if k != "attributeValue"})
    if status in ("Accepted", "RebootRequired") and after["attributeStatus"] == "Accepted":
        assert after["attributeValue"] == item["attributeValue"]
    else:
        assert after.get("attributeValue") == before.get("attributeValue")  # nothing changed


def test_a_new_password_is_what_the_transport_uses(driven: Driven) -> None:
    assert driven.station.basic_auth_password is None
    set_one(driven, put("SecurityCtrlr", "BasicAuthPassword", "0123456789abcdef"))
    assert driven.station.basic_auth_password == "0123456789abcdef"


def test_values_longer_than_configuration_value_size_are_rejected(driven: Driven) -> None:
    driven.station.model.set_value("DeviceDataCtrlr", "ConfigurationValueSize", "20")
    result = set_one(driven, put("OCPPCommCtrlr", "HeartbeatInterval", "0" * 20 + "1"))
    assert result["attributeStatus"] == "Rejected"
    assert result["attributeStatusInfo"]["reasonCode"] == "TooLargeElement"


@needs_version("2.1")
def test_2_1_takes_longer_values() -> None:
    """2.1's SetVariables carries up to 2500 characters, 2.0.1's up to 1000."""
    long_value = "1" + "0" * 1199
    rows = {"2.0.1": "Rejected", "2.1": "Accepted"}
    for version, status in rows.items():
        model = ChargingStation(version).model
        model.entry("OCPPCommCtrlr", "HeartbeatInterval")
        (result,) = model.set_variables(
            [put("SmartChargingCtrlr", "LimitChangeSignificance", "0" * 1199 + "1")]
        )
        assert result["attributeStatus"] == status, version
        assert long_value  # the length that matters: 1200 characters


# --- GetBaseReport, GetReport (B07, B08) --------------------------------------------------------


def _report_items(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page.get("reportData", [])]


def test_full_inventory_is_paged_by_items_per_message(driven: Driven) -> None:
    driven.station.model.set_value("DeviceDataCtrlr", "ItemsPerMessage", "7", instance="GetReport")
    driven.at(12.345)
    reply = driven.call("GetBaseReport", {"requestId": 42, "reportBase": "FullInventory"})
    assert reply.payload == {"status": "Accepted"}
    pages = [o.payload for o in reply.outgoing]
    assert {o.action for o in reply.outgoing} == {"NotifyReport"}
    total = len(driven.station.model)
    assert len(pages) == -(-total // 7) > 2
    assert [p["seqNo"] for p in pages] == list(range(len(pages)))  # B07.FR.10
    assert [p["tbc"] for p in pages] == [True] * (len(pages) - 1) + [False]
    assert {p["requestId"] for p in pages} == {42}  # B07.FR.04
    assert {p["generatedAt"] for p in pages} == {"2026-11-24T10:00:12.345Z"}
    assert all(len(p["reportData"]) == 7 for p in pages[:-1]) and 1 <= len(pages[-1]["reportData"])
    items = _report_items(pages)
    assert len(items) == total  # every variable once
    keys = {(repr(i["component"]), repr(i["variable"])) for i in items}
    assert len(keys) == total
    password = next(i for i in items if i["variable"]["name"] == "BasicAuthPassword")
    assert password["variableAttribute"] == [
        {"type": "Actual", "mutability": "WriteOnly", "persistent": True, "constant": False}
    ]  # the value of a WriteOnly variable is never reported
    heartbeat = next(i for i in items if i["variable"]["name"] == "HeartbeatInterval")
    assert heartbeat["variableAttribute"][0]["value"] == "300"
    assert heartbeat["variableCharacteristics"] == {
        "dataType": "integer",
        "supportsMonitoring": False,
        "unit": "s",
        "minLimit": 1,
    }


def test_configuration_and_summary_inventories(driven: Driven) -> None:
    config = _report_items(
        [
            o.payload
            for o in driven.call(
                "GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}
            ).outgoing
        ]
    )
    assert config and all(
        i["variableAttribute"][0]["mutability"] in ("ReadWrite", "WriteOnly") for i in config
    )
    assert any(i["variable"]["name"] == "TxStartPoint" for i in config)
    summary = _report_items(
        [
            o.payload
            for o in driven.call(
                "GetBaseReport", {"requestId": 2, "reportBase": "SummaryInventory"}
            ).outgoing
        ]
    )
    names = {(i["component"]["name"], i["variable"]["name"]) for i in summary}
    assert names == {
        (component, variable)
        for component in ("ChargingStation", "EVSE", "Connector")
        for variable in ("AvailabilityState", "Available")
    }
    # EVSE 1, EVSE 2 and their three connectors each report their state
    states = [i for i in summary if i["variable"]["name"] == "AvailabilityState"]
    assert len(states) == 1 + 2 + 3


def test_a_base_report_the_station_does_not_know_is_not_supported(driven: Driven) -> None:
    reply = driven.station.on_call(
        "GetBaseReport", {"requestId": 1, "reportBase": "Bogus"}, driven.now
    )
    assert reply is not None and reply.payload == {"status": "NotSupported"} and not reply.outgoing


def test_an_empty_base_report_is_an_empty_result_set() -> None:
    rows = (VariableDefinition("Ctrl", "Fixed", "1", "integer", "ReadOnly"),)
    station = ChargingStation("2.0.1")
    station.model = DeviceModel(Layout(rows, {1: (1,)}))
    reply = station.on_call(
        "GetBaseReport", {"requestId": 1, "reportBase": "ConfigurationInventory"}, Driven().now
    )
    assert reply is not None and reply.payload == {"status": "EmptyResultSet"}
    assert reply.outgoing == []


def cv(
    name: str, variable: str | None = None, instance: str | None = None, evse: int | None = None
) -> dict[str, Any]:
    """A ComponentVariableType."""
    item: dict[str, Any] = {"component": {"name": name}}
    if evse is not None:
        item["component"]["evse"] = {"id": evse}
    if variable is not None:
        item["variable"] = {"name": variable}
        if instance is not None:
            item["variable"]["instance"] = instance
    return item


AUTH = ("Enabled", "AuthorizeRemoteStart", "LocalAuthorizeOffline", "LocalPreAuthorize")
LIMITS = ("GetReport", "GetVariables", "SetVariables")


@pytest.mark.parametrize(
    ("request_payload", "expected"),
    [
        (  # one variable of one component (B08.FR.11)
            {"componentVariable": [cv("TxCtrlr", "TxStopPoint")]},
            {("TxCtrlr", None, "TxStopPoint", None)},
        ),
        (  # every variable of a component (B08.FR.20)
            {"componentVariable": [cv("AuthCtrlr")]},
            {("AuthCtrlr", None, v, None) for v in AUTH},
        ),
        (  # every instance of a variable (B08.FR.21)
            {"componentVariable": [cv("DeviceDataCtrlr", "ItemsPerMessage")]},
            {("DeviceDataCtrlr", None, "ItemsPerMessage", i) for i in LIMITS},
        ),
        (  # one instance
            {"componentVariable": [cv("DeviceDataCtrlr", "ItemsPerMessage", "GetReport")]},
            {("DeviceDataCtrlr", None, "ItemsPerMessage", "GetReport")},
        ),
        (  # every EVSE when none is given (B08.FR.23)
            {"componentVariable": [cv("EVSE", "AvailabilityState")]},
            {("EVSE", (e, None), "AvailabilityState", None) for e in (1, 2)},
        ),
        (  # every connector of the EVSE given (B08.FR.22)
            {"componentVariable": [cv("Connector", "ConnectorType", evse=2)]},
            {("Connector", (2, c), "ConnectorType", None) for c in (1, 2)},
        ),
        (  # criteria: Problem is never true here (B08.FR.10)
            {"componentCriteria": ["Problem"], "componentVariable": [cv("AuthCtrlr")]},
            set(),
        ),
        (  # criteria are OR-ed, then limited to the component variables (B08.FR.05/13)
            {
                "componentCriteria": ["Enabled", "Problem"],
                "componentVariable": [cv("ReservationCtrlr", "NonEvseSpecific")],
            },
            {("ReservationCtrlr", None, "NonEvseSpecific", None)},
        ),
    ],
)
def test_get_report_filters(
    driven: Driven, request_payload: dict[str, Any], expected: set[tuple[Any, ...]]
) -> None:
    reply = driven.call("GetReport", {"requestId": 9, **request_payload})
    got = {
        (
            i["component"]["name"],
            (i["component"]["evse"]["id"], i["component"]["evse"].get("connectorId"))
            if "evse" in i["component"]
            else None,
            i["variable"]["name"],
            i["variable"].get("instance"),
        )
        for i in _report_items([o.payload for o in reply.outgoing])
    }
    assert got == expected
    assert reply.payload["status"] == ("Accepted" if expected else "EmptyResultSet")  # B08.FR.15
    if not expected:
        assert reply.outgoing == []


def test_get_report_criteria_follow_the_values(driven: Driven) -> None:
    def enabled_components() -> set[str]:
        reply = driven.call("GetReport", {"requestId": 3, "componentCriteria": ["Enabled"]})
        return {i["component"]["name"] for i in _report_items([o.payload for o in reply.outgoing])}

    assert "ReservationCtrlr" in enabled_components()
    set_one(driven, put("ReservationCtrlr", "Enabled", "false"))
    components = enabled_components()
    assert "ReservationCtrlr" not in components and "OCPPCommCtrlr" in components  # no Enabled


def test_get_report_without_filters_reports_everything(driven: Driven) -> None:
    reply = driven.call("GetReport", {"requestId": 4})
    assert len(_report_items([o.payload for o in reply.outgoing])) == len(driven.station.model)


def test_get_report_with_too_many_component_variables_is_refused(driven: Driven) -> None:
    wanted = [{"component": {"name": "TxCtrlr"}}] * 51  # ItemsPerMessage[GetReport] 50
    with pytest.raises(StationRefusal) as refused:
        driven.call("GetReport", {"requestId": 5, "componentVariable": wanted})
    assert refused.value.kind == "occurrence"  # B08.FR.17


def test_the_official_schema_check_is_strict() -> None:
    """The helper that checks every payload here would catch a bad date-time or a missing field."""
    with pytest.raises(AssertionError, match="date-time"):
        check("2.0.1", "HeartbeatResponse", {"currentTime": "2026-11-24 10:00:00"})
    with pytest.raises(AssertionError, match="required"):
        check("2.0.1", "NotifyReportRequest", {"requestId": 1, "seqNo": 0})
