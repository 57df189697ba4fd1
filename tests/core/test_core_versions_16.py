"""OCPP 1.6 as a registry entry: its actions, OCA's schemas read from the installed `ocpp`
package in the draft each file names, the errata (each with a payload the published schema
judges wrongly), the rules kept as published, and default payloads a real peer reads."""

from __future__ import annotations

import base64
import copy
import json
from importlib.resources import files
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from jsonschema import Draft4Validator, Draft6Validator

from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.rpc import CallRefused, RpcSession
from ocppsim.core.validation import (
    dialect_of,
    is_multiple_of,
    load_schema,
    validate,
    validator_for,
)
from ocppsim.core.versions import OCPP_1X, certificates16, v16
from ocppsim.core.versions.errata import enum_values, node_at
from ocppsim.core.versions.keys16 import KEYS_16
from ocppsim.security.csr import parse_csr
from ocppsim.security.hashdata import certificate_hash_data
from ocppsim.security.pem import common_name

V16 = versions.get("1.6")
PACKAGE = files("ocpp") / "v16" / "schemas"


def published(message: str) -> dict[str, Any]:
    """OCA's schema as the `ocpp` package ships it, read directly (no errata)."""
    name = message.removesuffix("Request")
    return json.loads((PACKAGE / f"{name}.json").read_text("utf-8-sig"))


def plainly_valid(message: str, payload: Any) -> bool:
    """What a validator given the published file and nothing else decides (as the `ocpp`
    package does: draft 4, no format checks, binary floats)."""
    return Draft4Validator(published(message)).is_valid(payload)


# -- the entry ----------------------------------------------------------------------------------


def test_the_entry_has_every_action_of_the_published_schemas() -> None:
    names = {p.name.removesuffix(".json") for p in PACKAGE.iterdir() if p.name.endswith(".json")}
    actions = {n for n in names if not n.endswith("Response")}
    assert set(V16.all_actions()) == actions
    assert len(V16.actions["cs"]) == 10 + 4 and len(V16.actions["cp"]) == 19 + 7
    assert V16.subprotocol == "ocpp1.6" and V16.errors is OCPP_1X
    assert V16.configuration is KEYS_16
    assert versions.by_subprotocol("ocpp1.6") is V16


def test_soap_carries_the_core_actions_only() -> None:
    security = set(v16.SECURITY_CS_ACTIONS) | set(v16.SECURITY_CP_ACTIONS)
    assert len(security) == 11
    for service in versions.SERVICES:
        carried = set(V16.actions_over("soap", service))
        assert carried == set(V16.actions[service]) - security
        assert V16.actions_over("websocket", service) == V16.actions[service]
    assert V16.carries("soap", "cp", "TriggerMessage")
    assert not V16.carries("soap", "cs", "SignCertificate")
    assert V16.carries("websocket", "cs", "SignCertificate")
    assert V16.soap is not None
    assert V16.soap.namespaces == {"cs": "urn://Ocpp/Cs/2015/10/", "cp": "urn://Ocpp/Cp/2015/10/"}


def test_a_soap_binding_cannot_carry_an_action_the_version_lacks() -> None:
    import dataclasses

    assert V16.soap is not None
    binding = dataclasses.replace(V16.soap, actions={"cs": ("Nope",), "cp": ()})
    with pytest.raises(ValueError, match="Nope"):
        dataclasses.replace(V16, soap=binding)


def test_prompt_commands_are_named_as_the_others() -> None:
    names = {
        versions.command_name(service, action)
        for service in versions.SERVICES
        for action in V16.actions[service]
    }
    expected = {
        "remote_triggermessage",
        "remote_extendedtriggermessage",
        "remote_setchargingprofile",
        "remote_getcompositeschedule",
        "remote_clearchargingprofile",
        "remote_certificatesigned",
        "remote_signedupdatefirmware",
        "signcertificate",
        "securityeventnotification",
        "signedfirmwarestatusnotification",
        "logstatusnotification",
        "remote_starttransaction",
    }
    assert expected <= names


def test_each_file_is_validated_in_the_draft_it_names() -> None:
    for action in V16.all_actions():
        for kind in ("Request", "Response"):
            message = action + kind
            declared = published(message)["$schema"]
            expected = "draft6" if "draft-06" in declared else "draft4"
            assert dialect_of("1.6", message) == expected, message
            meta = Draft6Validator if expected == "draft6" else Draft4Validator
            assert validator_for("1.6", message).META_SCHEMA == meta.META_SCHEMA
    assert dialect_of("1.6", "SignCertificateRequest") == "draft6"
    assert dialect_of("1.6", "BootNotificationRequest") == "draft4"


def test_schemas_are_read_from_the_package_and_their_references_followed() -> None:
    """Loaded from the installed package (never copied), as published: the security
    whitepaper's `$ref`s to `definitions` stay, and help, field paths and the reason of a
    refusal follow them."""
    from ocppsim.core.fields import at_path, fields_of

    assert V16.schemas.path("GetLogRequest") == PACKAGE / "GetLog.json"
    loaded = load_schema("1.6", "GetLogRequest")
    assert loaded == published("GetLogRequest")
    assert at_path(loaded, "log.remoteLocation") == {"type": "string", "maxLength": 512}
    assert "log.remoteLocation" in {f.path for f in fields_of(loaded)}
    bad = default_payload("1.6", "GetLogRequest")
    bad["log"]["remoteLocation"] = "x" * 513
    violation = validate("1.6", "GetLogRequest", bad)
    assert violation is not None
    assert (violation.code, violation.field) == ("TypeConstraintViolation", "log.remoteLocation")
    hashes_bad = {"status": "Accepted", "certificateHashData": [{"hashAlgorithm": "MD5"}]}
    violation = validate("1.6", "GetInstalledCertificateIdsResponse", hashes_bad)
    assert violation is not None
    assert violation.field == "certificateHashData[0].hashAlgorithm"


def test_the_installed_files_are_never_changed() -> None:
    before = (PACKAGE / "StopTransaction.json").read_bytes()
    load_schema.cache_clear()
    try:
        loaded = load_schema("1.6", "StopTransactionRequest")
    finally:
        load_schema.cache_clear()
    assert "Hertz" in node_at(loaded, "transactionData[].sampledValue[].unit")["enum"]
    assert (PACKAGE / "StopTransaction.json").read_bytes() == before
    assert b"Hertz" not in before


def test_the_rpc_session_refuses_16_in_the_1x_names() -> None:
    def code(frame: str) -> str:
        event = RpcSession("1.6", "cs").receive(frame)
        assert isinstance(event, CallRefused), event
        return event.error.code

    assert code('[2,"a","Authorize",{}]') == "OccurenceConstraintViolation"
    assert code('[2,"b","Authorize"]') == "FormationViolation"
    assert code('[2,"c","Authorize",{"idTag":"1","x":1}]') == "PropertyConstraintViolation"
    assert code('[2,"d","SignCertificate",{"csr":1}]') == "TypeConstraintViolation"
    assert code('[2,"e","Reset",{"type":"Hard"}]') == "NotImplemented"  # not the CS's action


# -- errata: each with a payload the published schema judges wrongly ----------------------------


def _with_limit(limit: Any) -> dict[str, Any]:
    payload = default_payload("1.6", "SetChargingProfileRequest")
    schedule = payload["csChargingProfiles"]["chargingSchedule"]
    schedule["chargingSchedulePeriod"][0]["limit"] = limit
    return payload


@pytest.mark.parametrize("limit", [8.1, 21.4, 0.3, 16, 16.0, 1e20])
def test_a_one_decimal_limit_is_a_multiple_of_a_tenth(limit: float) -> None:
    message = "SetChargingProfileRequest"
    assert validate("1.6", message, _with_limit(limit)) is None
    assert validator_for("1.6", message).is_valid(_with_limit(limit))
    if limit in (8.1, 21.4, 0.3):
        assert not plainly_valid(message, _with_limit(limit))  # binary floating point


def test_a_limit_off_the_tenth_grid_is_refused_by_both_validators() -> None:
    violation = validate("1.6", "SetChargingProfileRequest", _with_limit(8.15))
    assert violation is not None and violation.code == "TypeConstraintViolation"
    assert violation.field == "csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit"
    assert "is not a multiple of 0.1" in violation.reason
    assert not is_multiple_of(8.15, 0.1) and is_multiple_of(8.1, 0.1)
    assert is_multiple_of(6, 2) and not is_multiple_of(7, 2) and is_multiple_of(7.5, 2.5)


@pytest.mark.parametrize("unit", ["Celsius", "Celcius"])
@pytest.mark.parametrize(
    ("message", "path"),
    [
        ("MeterValuesRequest", ("meterValue", 0, "sampledValue", 0)),
        ("StopTransactionRequest", ("transactionData", 0, "sampledValue", 0)),
    ],
)
def test_both_spellings_of_celsius_are_accepted(
    unit: str, message: str, path: tuple[Any, ...]
) -> None:
    payload = default_payload("1.6", message)
    sample = payload
    for step in path:
        sample = sample[step]
    sample.update(measurand="Temperature", unit=unit)
    assert validate("1.6", message, payload) is None


def test_the_celsius_erratum_fixes_a_schema_that_lacks_one_spelling() -> None:
    """OCA's published StopTransaction schema had only `Celcius`; the ocpp package added
    `Celsius`. The erratum makes both hold whichever file is installed."""
    erratum = v16.ERRATA[0]
    schema = copy.deepcopy(published("StopTransactionRequest"))
    units = node_at(schema, "transactionData[].sampledValue[].unit")["enum"]
    units.remove("Celsius")
    erratum.apply(schema, "StopTransactionRequest")
    assert units.count("Celsius") == 1 and units.count("Celcius") == 1
    erratum.apply(schema, "StopTransactionRequest")  # applied twice: still once each
    assert units.count("Celsius") == 1


def test_hertz_is_a_unit_of_stop_transaction_as_of_meter_values() -> None:
    payload = default_payload("1.6", "StopTransactionRequest")
    payload["transactionData"][0]["sampledValue"].append(
        {"value": "50.0", "measurand": "Frequency", "unit": "Hertz"}
    )
    assert not plainly_valid("StopTransactionRequest", payload)
    assert validate("1.6", "StopTransactionRequest", payload) is None
    meter = default_payload("1.6", "MeterValuesRequest")
    meter["meterValue"][0]["sampledValue"][0]["unit"] = "Hertz"
    assert validate("1.6", "MeterValuesRequest", meter) is None


@pytest.mark.parametrize(
    ("message", "path"),
    [
        ("SetChargingProfileRequest", "csChargingProfiles.chargingSchedule.chargingSchedulePeriod"),
        (
            "RemoteStartTransactionRequest",
            "chargingProfile.chargingSchedule.chargingSchedulePeriod",
        ),
        ("GetCompositeScheduleResponse", "chargingSchedule.chargingSchedulePeriod"),
        ("StopTransactionRequest", "transactionData.0.sampledValue"),
    ],
)
def test_lists_the_specification_gives_as_1_to_n_are_not_empty(message: str, path: str) -> None:
    payload = default_payload("1.6", message)
    if message == "RemoteStartTransactionRequest":
        set_charging = default_payload("1.6", "SetChargingProfileRequest")
        payload["chargingProfile"] = set_charging["csChargingProfiles"]
    target = payload
    *parents, last = path.split(".")
    for step in parents:
        target = target[int(step)] if step.isdigit() else target[step]
    assert validate("1.6", message, payload) is None
    target[last] = []
    assert plainly_valid(message, payload)
    violation = validate("1.6", message, payload)
    assert violation is not None and violation.code == "OccurenceConstraintViolation"
    assert violation.reason.endswith("fewer than 1 items")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2024-05-01T12:00:00", "has no time zone (RFC 3339: add Z or an offset)"),
        ("2024-05-01T12:00:00.123", "has no time zone (RFC 3339: add Z or an offset)"),
        ("2024-05-01 12:00:00Z", "is not a valid date-time"),
        ("2024-02-30T12:00:00Z", "is not a valid date-time"),
        ("yesterday", "is not a valid date-time"),
    ],
)
def test_date_times_are_really_checked(value: str, reason: str) -> None:
    payload = {**default_payload("1.6", "StatusNotificationRequest"), "timestamp": value}
    assert plainly_valid("StatusNotificationRequest", payload)  # the published file alone
    violation = validate("1.6", "StatusNotificationRequest", payload)
    assert violation is not None and violation.code == "TypeConstraintViolation"
    assert violation.reason == f"timestamp: {value!r} {reason}"
    assert violation.field == "timestamp"


@pytest.mark.parametrize(
    "value", ["2024-05-01T12:00:00Z", "2024-05-01T14:00:00+02:00", "2024-05-01t12:00:00.1234567z"]
)
def test_rfc_3339_date_times_pass(value: str) -> None:
    payload = {**default_payload("1.6", "StatusNotificationRequest"), "timestamp": value}
    assert validate("1.6", "StatusNotificationRequest", payload) is None


def test_configuration_values_keep_their_published_lengths() -> None:
    change = {"key": "K" * 50, "value": "v" * 500}
    assert validate("1.6", "ChangeConfigurationRequest", change) is None
    for field, too_long in (("key", "K" * 51), ("value", "v" * 501)):
        violation = validate("1.6", "ChangeConfigurationRequest", {**change, field: too_long})
        assert violation is not None and violation.code == "TypeConstraintViolation"
        assert violation.field == field
    report = {"configurationKey": [{"key": "K", "readonly": False, "value": "v" * 501}]}
    violation = validate("1.6", "GetConfigurationResponse", report)
    assert violation is not None and violation.field == "configurationKey[0].value"


def test_every_erratum_and_kept_rule_is_documented() -> None:
    from ocppsim.gen.docs import render_docs

    pages = render_docs()
    for erratum in V16.schemas.errata:
        assert erratum.note in pages["index.md"]
        assert f"Erratum applied: {erratum.note}" in pages["ocpp1.6.md"]
    for note in V16.schemas.kept:
        assert note in pages["index.md"]
    assert "OCPP-J only: the SOAP binding has no operation for it." in pages["ocpp1.6.md"]


def test_an_erratum_that_no_longer_fits_is_noticed() -> None:
    broken = enum_values({"StatusNotificationRequest": "nosuch[].unit"}, ("X",), "x")
    with pytest.raises(KeyError, match="nosuch"):
        broken.apply(
            copy.deepcopy(published("StatusNotificationRequest")), "StatusNotificationRequest"
        )


# -- default payloads a real peer reads ---------------------------------------------------------


def test_the_example_certificates_hang_together() -> None:
    root = x509.load_pem_x509_certificate(certificates16.ROOT_PEM.encode())
    assert certificate_hash_data(root, root) == certificates16.ROOT_HASH_DATA
    csr = parse_csr(certificates16.CSR_PEM)
    assert (
        common_name(csr)
        == default_payload("1.6", "BootNotificationRequest")["chargePointSerialNumber"]
    )
    signed = x509.load_pem_x509_certificate(certificates16.SIGNED_PEM.encode())
    assert signed.issuer == root.subject
    assert signed.public_key() == csr.public_key()
    signed.verify_directly_issued_by(root)
    signer = x509.load_pem_x509_certificate(certificates16.FIRMWARE_SIGNER_PEM.encode())
    signer.verify_directly_issued_by(root)
    key = signer.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(
        base64.b64decode(certificates16.FIRMWARE_SIGNATURE),
        certificates16.SIGNED_FIRMWARE,
        ec.ECDSA(hashes.SHA256()),
    )
    assert default_payload("1.6", "InstallCertificateRequest")["certificate"] == (
        certificates16.ROOT_PEM
    )


def test_defaults_are_what_a_plain_16_peer_says() -> None:
    boot = default_payload("1.6", "BootNotificationRequest")
    assert (boot["chargePointVendor"], boot["chargePointModel"]) == ("DBT", "NQC-ACDC")
    assert "iccid" not in boot
    assert default_payload("1.6", "BootNotificationResponse")["interval"] == 1200
    assert default_payload("1.6", "ChangeConfigurationRequest")["key"] == "HeartbeatInterval"
    assert default_payload("1.6", "UnlockConnectorResponse") == {"status": "Unlocked"}
    assert default_payload("1.6", "TriggerMessageRequest")["requestedMessage"] == (
        "StatusNotification"
    )
    for message in ("MeterValuesRequest", "StopTransactionRequest"):
        assert plainly_valid(message, default_payload("1.6", message))
    limit = default_payload("1.6", "SetChargingProfileRequest")["csChargingProfiles"][
        "chargingSchedule"
    ]["chargingSchedulePeriod"][0]["limit"]
    assert limit == 16.0 and (limit / 0.1).is_integer()  # exact even for binary validators
