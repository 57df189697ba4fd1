"""A Charge Point's configuration store: GetConfiguration reports what ChangeConfiguration set."""

from __future__ import annotations

from ocppsim.core import versions
from ocppsim.core.configuration import Configuration, KeyDefinition
from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import validate


def test_change_configuration_changes_what_get_configuration_reports() -> None:
    config = Configuration.for_version("1.5")
    asked = {"key": ["HeartbeatInterval"]}
    assert config.answer("GetConfiguration", asked) == {
        "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "1200"}],
        "unknownKey": [],
    }
    change = {"key": "HeartbeatInterval", "value": "60"}
    assert config.answer("ChangeConfiguration", change) == {"status": "Accepted"}
    reported = config.answer("GetConfiguration", asked)
    assert reported is not None and reported["configurationKey"][0]["value"] == "60"
    assert validate("1.5", "GetConfigurationResponse", reported) is None


def test_unknown_keys_are_reported_apart_and_not_supported() -> None:
    config = Configuration.for_version("1.5")
    report = config.report(["Nope", "heartbeatinterval", "KVCBX_PROFILE", "Nope"])
    assert [k["key"] for k in report["configurationKey"]] == ["HeartbeatInterval", "KVCBX_PROFILE"]
    assert report["unknownKey"] == ["Nope"]
    assert config.change("Nope", "1") == "NotSupported"
    assert config.get("Nope") is None


def test_read_only_keys_and_bad_values_are_rejected() -> None:
    config = Configuration.for_version("1.5")
    assert config.change("KVCBX_PROFILE", "other") == "Rejected"
    assert config.get("KVCBX_PROFILE") == "NQC-ACDC"
    for value in ("abc", "-5", "", "1.5", "9" * 501, str(2**31)):
        assert config.change("HeartbeatInterval", value) == "Rejected", value
    assert config.get("HeartbeatInterval") == "1200"
    assert config.change("MeterValuesSampledData", "Voltage,Bogus") == "Rejected"
    assert config.change("MeterValuesSampledData", "Voltage, Current.Import") == "Accepted"
    assert config.get("meterValuesSampledData") == "Voltage, Current.Import"


def test_every_key_without_a_list_and_the_originals_defaults() -> None:
    config = Configuration.for_version("1.5")
    everything = config.report()
    names = [k["key"] for k in everything["configurationKey"]]
    assert "HeartbeatInterval" in names and "KVCBX_LANG" in names and len(names) >= 10
    assert config.report([]) == everything
    # the default requests get the original simulator's default answers
    get = default_payload("1.5", "GetConfigurationRequest")
    assert config.answer("GetConfiguration", get) == default_payload(
        "1.5", "GetConfigurationResponse"
    )
    change = default_payload("1.5", "ChangeConfigurationRequest")
    assert config.answer("ChangeConfiguration", change) == {"status": "Accepted"}
    assert config.get("KVCBX_LANG") == change["value"]


def test_each_charge_point_has_its_own_store() -> None:
    first, second = Configuration.for_version("1.5"), Configuration.for_version("1.5")
    first.change("HeartbeatInterval", "30")
    assert second.get("HeartbeatInterval") == "1200"
    assert Configuration.for_version("1.2").get("HeartbeatInterval") == "1200"


def test_an_accepted_boot_sets_the_heartbeat_interval() -> None:
    config = Configuration.for_version("1.5")
    config.heard("BootNotification", {"status": "Rejected", "heartbeatInterval": 5})
    assert config.get("HeartbeatInterval") == "1200"
    config.heard("BootNotification", {"status": "Accepted", "heartbeatInterval": 300})
    assert config.get("HeartbeatInterval") == "300"
    config.heard("Heartbeat", {"currentTime": "x"})
    assert config.get("HeartbeatInterval") == "300"


def test_key_definitions_are_data_a_version_can_add() -> None:
    """A later version adds its keys as a table: read-only flags and types come with them."""
    keys = (
        KeyDefinition("SupportedFeatureProfiles", "Core", "list", readonly=True),
        KeyDefinition("LocalAuthListEnabled", "true", "boolean"),
    )
    config = Configuration(keys)
    assert config.change("SupportedFeatureProfiles", "Core,Reservation") == "Rejected"
    assert config.change("LocalAuthListEnabled", "FALSE") == "Accepted"
    assert config.get("LocalAuthListEnabled") == "false"
    assert config.change("LocalAuthListEnabled", "maybe") == "Rejected"
    assert all(isinstance(d, KeyDefinition) for d in versions.get("1.5").configuration)


def test_an_integer_key_holds_at_most_a_32_bit_value() -> None:
    """OCPP integers are 32 bits (OCPP 1.6 §7): 2**31 - 1 is taken, more is Rejected, and a
    value the Charge Point stored itself (a boot's interval) reads as at most that."""
    config = Configuration.for_version("1.6")
    assert config.change("HeartbeatInterval", str(2**31 - 1)) == "Accepted"
    config.set("HeartbeatInterval", str(10**23))
    assert config.integer("HeartbeatInterval") == 2**31 - 1
