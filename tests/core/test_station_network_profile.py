"""A 2.x station's network connection profiles (SetNetworkProfile, B09) and the upgrade of its
security profile (A05): a profile in a slot, NetworkConfigurationPriority, a reboot."""

from __future__ import annotations

from typing import Any

import pytest
from station_testing import VERSIONS, Driven

from ocppsim.core.station import StationInfo


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def booted(version: str, profile: int = 2, certificate: bool = True) -> Driven:
    """A booted station on `profile`, with a client certificate (what profile 3 needs)."""
    driven = Driven(version, StationInfo(identity="cs01", security_profile=profile))
    if certificate:
        driven.station.certificates.client_certificate = "its certificate"
    driven.boot()
    driven.sent.clear()
    return driven


def connection(profile: int, url: str = "wss://csms.test/ocpp", **extra: Any) -> dict[str, Any]:
    data = {
        "ocppVersion": "OCPP20",
        "ocppTransport": "JSON",
        "ocppCsmsUrl": url,
        "messageTimeout": 30,
        "securityProfile": profile,
        "ocppInterface": "Wired0",
    }
    return {**data, **extra}


def priority(driven: Driven, value: str) -> dict[str, Any]:
    """The SetVariableResult of NetworkConfigurationPriority = `value`."""
    data = {
        "component": {"name": "OCPPCommCtrlr"},
        "variable": {"name": "NetworkConfigurationPriority"},
        "attributeValue": value,
    }
    answer = driven.call("SetVariables", {"setVariableData": [data]}).payload
    return dict(answer["setVariableResult"][0])


def test_raising_the_security_profile_takes_a_profile_a_priority_and_a_reboot(
    version: str,
) -> None:
    driven = booted(version, 2)
    answer = driven.call(
        "SetNetworkProfile", {"configurationSlot": 2, "connectionData": connection(3)}
    )
    assert answer.payload == {"status": "Accepted"}
    station = driven.station
    assert (station.security_profile, station.active_slot, station.csms_url) == (2, 1, None)
    assert priority(driven, "2,1")["attributeStatus"] == "RebootRequired"
    assert driven.call("Reset", {"type": "Immediate"}).payload == {"status": "Accepted"}
    assert station.take_reboot() is not None
    assert (station.security_profile, station.active_slot) == (3, 2)
    assert station.csms_url == "wss://csms.test/ocpp"  # where the simulator dials now


@pytest.mark.parametrize(
    ("slot", "data", "reason"),
    [
        (2, connection(1, "ws://csms.test/ocpp"), "NoSecurityDowngrade"),  # never lower
        (1, connection(3), "InvalidConfSlot"),  # the connection in use
        (4, connection(3), "InvalidConfSlot"),  # not a slot (NetworkConfigurationPriority)
        (2, connection(3, ocppTransport="SOAP"), "InvalidNetworkConf"),
        (2, connection(3, "ws://csms.test/ocpp"), "InvalidURL"),  # TLS needs wss://
    ],
)
def test_what_set_network_profile_rejects(
    version: str, slot: int, data: dict[str, Any], reason: str
) -> None:
    driven = booted(version, 2)
    answer = driven.call("SetNetworkProfile", {"configurationSlot": slot, "connectionData": data})
    assert answer.payload["status"] == "Rejected"
    assert answer.payload["statusInfo"]["reasonCode"] == reason
    assert driven.station.network_profiles == {}


def test_profile_3_needs_a_client_certificate(version: str) -> None:
    driven = booted(version, 2, certificate=False)
    answer = driven.call(
        "SetNetworkProfile", {"configurationSlot": 2, "connectionData": connection(3)}
    )
    assert answer.payload["status"] == "Rejected"
    assert "client certificate" in answer.payload["statusInfo"]["additionalInfo"]


def test_a_priority_of_an_empty_slot_or_a_lower_profile_first_is_rejected(version: str) -> None:
    driven = booted(version, 2)
    refused = priority(driven, "3,1")
    assert (refused["attributeStatus"], refused["attributeStatusInfo"]["reasonCode"]) == (
        "Rejected",
        "InvalidConfSlot",
    )
    accepted = driven.call(
        "SetNetworkProfile", {"configurationSlot": 2, "connectionData": connection(2)}
    )
    assert accepted.payload == {"status": "Accepted"}
    driven.station.model.set_value("SecurityCtrlr", "SecurityProfile", "3")  # raised since
    refused = priority(driven, "2,1")
    assert refused["attributeStatusInfo"]["reasonCode"] == "NoSecurityDowngrade"
    assert driven.station.model.value("OCPPCommCtrlr", "NetworkConfigurationPriority") == "1"
    # a reboot without a new priority keeps slot 1 and its profile
    driven.call("Reset", {"type": "Immediate"})
    driven.station.take_reboot()
    assert (driven.station.active_slot, driven.station.security_profile) == (1, 3)
