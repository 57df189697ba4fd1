"""Default payloads: every date relative to the time they are built, every badge accepted."""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.versions import ATTR_AT

VERSIONS = versions.names()
#: The 1.x versions (idTag, StartTransaction) and the 2.x ones (idToken, TransactionEvent).
VERSIONS_1X = [v.name for v in versions.all_versions() if v.handles("cs", "StartTransaction")]
VERSIONS_2X = [v.name for v in versions.all_versions() if v.handles("cs", "TransactionEvent")]

NOW = calendar.timegm((2031, 5, 6, 7, 8, 9, 0, 0, 0))
AT = {
    "now": "2031-05-06T07:08:09Z",
    "day ahead": "2031-05-07T07:08:09Z",
    "day before": "2031-05-05T07:08:09Z",
}
_DATE = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def every_default(version: str) -> Iterator[tuple[str, str | None]]:
    entry = versions.get(version)
    for message in entry.messages():
        yield message, None
        for variant in entry.variants:
            if entry.variant_for(variant, message):
                yield message, variant


def at(version: str, message: str, variant: str | None = None) -> dict[str, Any]:
    return default_payload(version, message, variant, clock=lambda: NOW + 0.75)


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, f"{path}[{index}]")
    else:
        yield path, value


@pytest.mark.parametrize("version", VERSIONS)
def test_every_date_is_now_a_day_ahead_or_a_day_before(version: str) -> None:
    seen = 0
    for message, variant in every_default(version):
        text = json.dumps(at(version, message, variant))  # also dates inside JSON texts
        for date in _DATE.findall(text):
            assert date in AT.values(), (message, date)
            seen += 1
        # the original's fixed dates (and file names)
        assert not re.search(r"2013-\d\d-|2013\d{10}", text), message
    assert seen > 10


@pytest.mark.parametrize("version", VERSIONS_1X)
def test_which_date_is_which(version: str) -> None:
    now, ahead, before = AT["now"], AT["day ahead"], AT["day before"]
    assert at(version, "HeartbeatResponse") == {"currentTime": now}
    assert at(version, "BootNotificationResponse")["currentTime"] == now
    for message in ("StartTransactionRequest", "StopTransactionRequest"):
        assert at(version, message)["timestamp"] == now
    diagnostics = at(version, "GetDiagnosticsRequest")
    assert (diagnostics["startTime"], diagnostics["stopTime"]) == (before, now)
    assert at(version, "GetDiagnosticsResponse")["fileName"].endswith("-20310506070809.txt")
    assert at(version, "UpdateFirmwareRequest")["retrieveDate"] == now
    meter = at(version, "MeterValuesRequest")
    samples = [v["timestamp"] for v in meter.get("values", meter.get("meterValue"))]
    assert samples and set(samples) == {now}
    for message in ("AuthorizeResponse", "StartTransactionResponse", "StopTransactionResponse"):
        assert at(version, message)["idTagInfo"]["expiryDate"] == ahead
    if version == "1.5":
        assert at("1.5", "ReserveNowRequest")["expiryDate"] == ahead
        assert at("1.5", "StatusNotificationRequest")["timestamp"] == now
        entry = at("1.5", "SendLocalListRequest")["localAuthorisationList"][0]
        assert entry["idTagInfo"]["expiryDate"] == ahead
        data = json.loads(at("1.5", "DataTransferResponse")["data"])
        assert data["expiration"] == ahead
        stop = at("1.5", "StopTransactionRequest")["transactionData"]
        assert {v["timestamp"] for d in stop for v in d["values"]} == {now}
        attr_at = at("1.5", "MeterValuesRequest", ATTR_AT)["values"]
        assert [v["timestamp"] for v in attr_at] == [now, now]
    if version == "1.6":
        assert at("1.6", "ReserveNowRequest")["expiryDate"] == ahead
        assert at("1.6", "StatusNotificationRequest")["timestamp"] == now
        entry = at("1.6", "SendLocalListRequest")["localAuthorizationList"][0]
        assert entry["idTagInfo"]["expiryDate"] == ahead
        stop = at("1.6", "StopTransactionRequest")["transactionData"]
        assert {d["timestamp"] for d in stop} == {now}
        composite = at("1.6", "GetCompositeScheduleResponse")
        assert composite["scheduleStart"] == composite["chargingSchedule"]["startSchedule"] == now
        assert at("1.6", "GetLogRequest")["log"]["oldestTimestamp"] == before
        assert at("1.6", "GetLogResponse")["filename"].endswith("-20310506070809.txt")
        assert at("1.6", "SignedUpdateFirmwareRequest")["firmware"]["retrieveDateTime"] == now
        assert at("1.6", "SecurityEventNotificationRequest")["timestamp"] == now


@pytest.mark.parametrize("version", VERSIONS_2X)
def test_which_date_is_which_in_2x(version: str) -> None:
    now, ahead = AT["now"], AT["day ahead"]
    assert at(version, "HeartbeatResponse") == {"currentTime": now}
    assert at(version, "BootNotificationResponse")["currentTime"] == now
    for message in ("StatusNotificationRequest", "TransactionEventRequest"):
        assert at(version, message)["timestamp"] == now
    event = at(version, "TransactionEventRequest")
    assert event["meterValue"][0]["timestamp"] == now
    assert at(version, "MeterValuesRequest")["meterValue"][0]["timestamp"] == now
    for message in ("AuthorizeResponse", "TransactionEventResponse"):
        assert at(version, message)["idTokenInfo"]["cacheExpiryDateTime"] == ahead
    assert at(version, "ReserveNowRequest")["expiryDateTime"] == ahead
    assert at(version, "UpdateFirmwareRequest")["firmware"]["retrieveDateTime"] == now
    assert at(version, "GetLogResponse")["filename"].endswith("-20310506070809.log")
    assert at(version, "NotifyReportRequest")["generatedAt"] == now


@pytest.mark.parametrize("version", VERSIONS_1X)
def test_every_default_badge_is_accepted(version: str) -> None:
    found = 0
    for message, variant in every_default(version):
        for path, value in leaves(at(version, message, variant)):
            if path.endswith("idTagInfo.status"):
                assert value == "Accepted", (message, path)
                found += 1
    assert found >= 3
    assert at(version, "StopTransactionResponse")["idTagInfo"]["status"] == "Accepted"


@pytest.mark.parametrize("version", VERSIONS_2X)
def test_every_default_idtoken_is_accepted_in_2x(version: str) -> None:
    """Every idTokenInfo of a default is Accepted (an answer that lets the driver charge)."""
    found = 0
    for message, variant in every_default(version):
        for path, value in leaves(at(version, message, variant)):
            if path.endswith("idTokenInfo.status"):
                assert value == "Accepted", (message, path)
                found += 1
    assert found >= 3
    for message in ("AuthorizeResponse", "TransactionEventResponse"):
        assert at(version, message)["idTokenInfo"]["status"] == "Accepted"


def test_the_rest_are_the_originals_values() -> None:
    boot = at("1.5", "BootNotificationRequest")
    assert (boot["chargePointVendor"], boot["chargePointModel"]) == ("DBT", "NQC-ACDC")
    assert at("1.5", "AuthorizeRequest") == {"idTag": "B4F62CEF"}
    assert at("1.5", "BootNotificationResponse")["heartbeatInterval"] == 1200
    assert at("1.5", "AuthorizeResponse")["idTagInfo"]["parentIdTag"] == "PARENT"


def test_the_real_clock_is_the_default_and_copies_are_fresh() -> None:
    before = time.time()
    payload = default_payload("1.5", "AuthorizeResponse")
    expiry = calendar.timegm(
        time.strptime(payload["idTagInfo"]["expiryDate"], "%Y-%m-%dT%H:%M:%SZ")
    )
    assert before + 86400 - 1 <= expiry <= time.time() + 86400
    payload["idTagInfo"]["status"] = "Blocked"  # a customised copy does not leak
    assert default_payload("1.5", "AuthorizeResponse")["idTagInfo"]["status"] == "Accepted"
