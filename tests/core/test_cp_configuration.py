"""The configuration of the 1.6 Charge Point model (OCPP 1.6 §5.3, §5.8, §9; the security
whitepaper's keys): GetConfiguration reads the store, ChangeConfiguration changes it with the
statuses the specification gives, and what changes takes effect (the heartbeat)."""

from __future__ import annotations

import pytest
from cp_testing import V16, actions, booted, check

from ocppsim.core.configuration import Configuration
from ocppsim.core.station import KEYS_16, ChargePointModel, StationRefusal
from ocppsim.core.versions import KeyDefinition

#: OCPP 1.6 §9.1-9.4: the keys a Charge Point of every profile must have
REQUIRED_16 = {
    "AuthorizeRemoteTxRequests",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "ConnectorPhaseRotation",
    "GetConfigurationMaxKeys",
    "HeartbeatInterval",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "MeterValuesAlignedData",
    "MeterValuesSampledData",
    "MeterValueSampleInterval",
    "NumberOfConnectors",
    "ResetRetries",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "StopTxnAlignedData",
    "StopTxnSampledData",
    "SupportedFeatureProfiles",
    "TransactionMessageAttempts",
    "TransactionMessageRetryInterval",
    "UnlockConnectorOnEVSideDisconnect",
    "LocalAuthListEnabled",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
}
#: OCPP 1.6 §9 keys with accessibility R
READ_ONLY_16 = {
    "ConnectorPhaseRotationMaxLength",
    "GetConfigurationMaxKeys",
    "MeterValuesAlignedDataMaxLength",
    "MeterValuesSampledDataMaxLength",
    "NumberOfConnectors",
    "StopTxnAlignedDataMaxLength",
    "StopTxnSampledDataMaxLength",
    "SupportedFeatureProfiles",
    "SupportedFeatureProfilesMaxLength",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "ReserveConnectorZeroSupported",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "ConnectorSwitch3to1PhaseSupported",
    "MaxChargingProfilesInstalled",
    "AdditionalRootCertificateCheck",
    "CertificateSignedMaxChainSize",
    "CertificateStoreMaxLength",
}
SECURITY_16 = {
    "AdditionalRootCertificateCheck",
    "AuthorizationKey",
    "CertificateSignedMaxChainSize",
    "CertificateStoreMaxLength",
    "CpoName",
    "SecurityProfile",
}


def change(key: str, value: str) -> str:
    driven = booted()
    return str(driven.call("ChangeConfiguration", {"key": key, "value": value}).payload["status"])


def test_the_keys_are_the_specifications() -> None:
    names = [k.name for k in KEYS_16]
    assert len(names) == len(set(names))
    assert set(names) >= REQUIRED_16 | SECURITY_16
    assert {k.name for k in KEYS_16 if k.readonly} == READ_ONLY_16
    for key in KEYS_16:
        if key.name != "AuthorizationKey":  # empty until set: no password
            assert key.accepts(key.value), key.name
        assert len(key.name) <= 50 and len(key.value) <= 500


def test_get_configuration_reports_every_key_valid_against_the_schema() -> None:
    driven = booted(connectors=2)
    report = driven.call("GetConfiguration", {}).payload
    values = {k["key"]: k.get("value") for k in report["configurationKey"]}
    assert set(values) == {k.name for k in KEYS_16}
    assert values["NumberOfConnectors"] == "2"  # the Charge Point's own
    assert values["ConnectorPhaseRotation"] == "0.RST,1.RST,2.RST"
    assert values["AuthorizationKey"] is None  # write-only: never shown
    assert report["unknownKey"] == []
    asked = driven.call("GetConfiguration", {"key": ["heartbeatinterval", "Nope"]}).payload
    assert asked == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
        "unknownKey": ["Nope"],
    }


def test_more_keys_than_get_configuration_max_keys_is_refused() -> None:
    driven = booted()
    driven.cp.configuration.set("GetConfigurationMaxKeys", "2")
    with pytest.raises(StationRefusal) as refusal:
        driven.cp.on_call("GetConfiguration", {"key": ["A", "B", "C"]}, driven.now)
    assert refusal.value.kind == "occurrence"
    assert "GetConfigurationMaxKeys" in refusal.value.description


@pytest.mark.parametrize(
    ("key", "value", "status"),
    [
        ("HeartbeatInterval", "60", "Accepted"),
        ("heartbeatinterval", "60", "Accepted"),  # keys are case-insensitive
        ("HeartbeatInterval", "-1", "Rejected"),
        ("HeartbeatInterval", "sixty", "Rejected"),
        ("NumberOfConnectors", "3", "Rejected"),  # read-only
        ("SupportedFeatureProfiles", "Core", "Rejected"),
        ("Unknown", "1", "NotSupported"),
        ("LocalPreAuthorize", "TRUE", "Accepted"),
        ("LocalPreAuthorize", "yes", "Rejected"),
        ("LightIntensity", "100", "Accepted"),
        ("LightIntensity", "101", "Rejected"),  # a percentage
        ("MeterValuesSampledData", "Voltage,Current.Offered", "Accepted"),
        ("MeterValuesSampledData", "Temperature", "Rejected"),  # not measured here
        ("MeterValuesSampledData", ",".join(["Voltage"] * 7), "Rejected"),  # MaxLength 6
        ("StopTxnAlignedData", "", "Accepted"),
        ("SecurityProfile", "4", "Rejected"),
        ("CpoName", "ACME Charging", "Accepted"),
        ("AuthorizationKey", "00112233445566778899AABBCCDDEEFF", "Accepted"),  # 16 bytes
        ("AuthorizationKey", "00112233445566778899aabbccddeeff00112233", "Accepted"),  # 20
        ("AuthorizationKey", "0011223344556677", "Rejected"),  # 8 bytes: too short
        ("AuthorizationKey", "not a hexadecimal key at all!", "Rejected"),
    ],
)
def test_change_configuration_statuses(key: str, value: str, status: str) -> None:
    assert change(key, value) == status


def test_a_change_is_what_get_configuration_reports_next() -> None:
    driven = booted()
    driven.call("ChangeConfiguration", {"key": "LocalPreAuthorize", "value": "TRUE"})
    report = driven.call("GetConfiguration", {"key": ["LocalPreAuthorize"]}).payload
    assert report["configurationKey"][0]["value"] == "true"
    driven.call("ChangeConfiguration", {"key": "NumberOfConnectors", "value": "9"})
    report = driven.call("GetConfiguration", {"key": ["NumberOfConnectors"]}).payload
    assert report["configurationKey"][0] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "1",
    }


def test_heartbeat_interval_changes_the_heartbeat() -> None:
    driven = booted()
    assert driven.cp.heartbeat_interval == 300  # from the boot answer
    driven.at(299)
    assert driven.tick() == []
    driven.at(300)
    assert actions(driven.tick()) == ["Heartbeat"]
    reply = driven.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"})
    assert reply.payload == {"status": "Accepted"}
    assert driven.cp.heartbeat_interval == 60
    driven.at(359)
    assert driven.tick() == []
    driven.at(360)  # 60 s after the ChangeConfiguration, the last exchange
    assert actions(driven.tick()) == ["Heartbeat"]
    driven.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "0"})
    driven.at(10_000)
    assert driven.tick() == []  # 0: no heartbeat


def test_the_authorization_key_is_the_basic_auth_password() -> None:
    driven = booted()
    assert driven.cp.basic_auth_password is None
    key = "0001020304050607FFFFFFCCCCCCCCCCCCCCCCCC"
    reply = driven.call("ChangeConfiguration", {"key": "AuthorizationKey", "value": key})
    assert reply.payload == {"status": "Accepted"}
    assert [o.payload["type"] for o in reply.outgoing] == ["ReconfigurationOfSecurityParameters"]
    password = driven.cp.basic_auth_password
    assert password is not None
    assert password.encode("utf-8", "surrogateescape") == bytes.fromhex(key)  # the raw bytes


def test_a_reboot_required_key_answers_reboot_required_in_1_6_only() -> None:
    keys = (KeyDefinition("Volume", "1", "integer", reboot_required=True),)
    config = Configuration(keys)
    assert config.change("Volume", "2") == "RebootRequired"
    assert config.get("Volume") == "2"
    model = ChargePointModel(V16)
    model.configuration = config
    reply = model.on_call("ChangeConfiguration", {"key": "Volume", "value": "3"}, booted().now)
    assert reply is not None and reply.payload == {"status": "RebootRequired"}
    check(V16, "ChangeConfigurationResponse", reply.payload)
    older = ChargePointModel("1.5")
    older.configuration = Configuration(keys)
    reply = older.on_call("ChangeConfiguration", {"key": "Volume", "value": "3"}, booted().now)
    assert reply is not None and reply.payload == {"status": "Accepted"}  # 1.5 has no such status


def test_every_charge_point_shares_the_key_table_and_keeps_its_changes() -> None:
    first, second = Configuration(KEYS_16), Configuration(KEYS_16)
    assert first._definitions is second._definitions
    first.change("HeartbeatInterval", "10")
    assert (first.get("HeartbeatInterval"), second.get("HeartbeatInterval")) == ("10", "300")
    first.change("HeartbeatInterval", "300")
    assert first._values == {}  # back to the initial value: nothing kept


def test_a_1_6_boot_answer_sets_the_heartbeat_interval() -> None:
    config = Configuration(KEYS_16)
    config.heard("BootNotification", {"status": "Accepted", "interval": 42, "currentTime": "x"})
    assert config.get("HeartbeatInterval") == "42"
