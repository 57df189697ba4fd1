"""Splitting prompt lines and applying `field=value` customisations (SPEC §3)."""

from __future__ import annotations

import pytest

from ocppsim.core.customise import FieldError, apply_fields
from ocppsim.core.defaults import default_payload
from ocppsim.repl.parsing import ParseError, parse_line, parse_value, split_words


def test_words_keep_json_and_quotes_together() -> None:
    line = 'send -n Reset -p {"type": "Soft"} idTagInfo={"status": "Blocked"} idTag="1 2"'
    assert split_words(line) == [
        "send",
        "-n",
        "Reset",
        "-p",
        '{"type": "Soft"}',
        'idTagInfo={"status": "Blocked"}',
        'idTag="1 2"',
    ]
    assert split_words('key=["A", "B"]  x') == ['key=["A", "B"]', "x"]
    with pytest.raises(ParseError):
        split_words('idTag="open')


def test_line_parts() -> None:
    parsed = parse_line('show cache -n 2 --id cp01 connectorId=2 idTag="12345"')
    assert parsed.command == "show"
    assert parsed.arguments == ["cache"]
    assert parsed.options == {"-n": "2", "--id": "cp01"}
    assert parsed.fields == [("connectorId", "2"), ("idTag", '"12345"')]
    assert parse_line("bootnotification --id").options == {"--id": None}
    url = parse_line("start_cp ws://h:9000/ocpp?a=b cp01")
    assert url.arguments == ["ws://h:9000/ocpp?a=b", "cp01"] and url.fields == []
    assert parse_line("start_cs 9000 -i -1").options == {"-i": "-1"}  # a value, not a flag


def test_values_are_json_or_bare_strings() -> None:
    assert parse_value('"12345"') == "12345"
    assert parse_value("12345") == 12345
    assert parse_value("Soft") == "Soft"
    assert parse_value("'Soft'") == "Soft"
    assert parse_value('["A","B"]') == ["A", "B"]
    assert parse_value("true") is True


def test_apply_fields_top_level_and_dotted() -> None:
    payload = default_payload("1.5", "SendLocalListRequest")
    apply_fields(
        "1.5",
        "SendLocalListRequest",
        payload,
        [("listVersion", 7), ("localAuthorisationList.0.idTagInfo.status", "Blocked")],
    )
    assert payload["listVersion"] == 7
    assert payload["localAuthorisationList"][0]["idTagInfo"]["status"] == "Blocked"
    start = default_payload("1.5", "RemoteStartTransactionRequest")
    apply_fields("1.5", "RemoteStartTransactionRequest", start, [("connectorId", 1)])
    assert start["connectorId"] == 1
    auth = default_payload("1.5", "AuthorizeResponse")
    apply_fields("1.5", "AuthorizeResponse", auth, [("idTagInfo.status", "Blocked")])
    assert auth["idTagInfo"] == {**auth["idTagInfo"], "status": "Blocked"}


def test_unknown_fields_are_refused_with_the_originals_words() -> None:
    with pytest.raises(FieldError, match=r"Error: unknown field `x' for procedure `Authorize'"):
        apply_fields("1.5", "AuthorizeRequest", {"idTag": "a"}, [("x", 1)])
    with pytest.raises(FieldError, match="unknown field `idTagInfo.status'"):
        apply_fields("1.5", "AuthorizeRequest", {"idTag": "a"}, [("idTagInfo.status", "x")])


def test_nested_2x_fields_are_set_through_their_schema_references() -> None:
    """OCPP 2.x types are `$ref`s to `definitions`: dotted paths follow them, into lists too."""
    boot = default_payload("2.0.1", "BootNotificationRequest")
    apply_fields(
        "2.0.1",
        "BootNotificationRequest",
        boot,
        [
            ("chargingStation.model", "X"),
            ("reason", "Triggered"),
            ("chargingStation.modem.imsi", "1"),
        ],
    )
    assert boot["chargingStation"]["model"] == "X" and boot["reason"] == "Triggered"
    assert boot["chargingStation"]["modem"] == {"imsi": "1"}
    assert boot["chargingStation"]["vendorName"] == "DBT"  # the rest stays the default
    get = default_payload("2.0.1", "GetVariablesRequest")
    apply_fields(
        "2.0.1",
        "GetVariablesRequest",
        get,
        [("getVariableData.0.variable.name", "Interval"), ("getVariableData.1", {"x": 1})],
    )
    assert get["getVariableData"][0]["variable"] == {"name": "Interval"}
    assert get["getVariableData"][1] == {"x": 1}  # a whole item, as given (checked when sent)
    with pytest.raises(FieldError, match="unknown field `getVariableData.name'"):
        apply_fields("2.0.1", "GetVariablesRequest", get, [("getVariableData.name", "x")])


def test_a_field_of_another_version_says_whose_it_is() -> None:
    """A 1.x field typed at a 2.x Charge Point (or the reverse) names the versions that have it."""
    with pytest.raises(FieldError) as caught:
        apply_fields("2.0.1", "BootNotificationRequest", {}, [("chargePointVendor", "X")])
    assert str(caught.value) == (
        "Error: unknown field `chargePointVendor' for procedure `BootNotification'"
        " in OCPP 2.0.1 (a field of OCPP 1.2, 1.5 and 1.6)"
    )
    with pytest.raises(FieldError, match=r"in OCPP 1\.5 \(a field of OCPP 2\.0\.1"):
        apply_fields("1.5", "BootNotificationRequest", {}, [("chargingStation.model", "X")])


def test_console_lines_escape_control_bytes_of_frames() -> None:
    import logging

    from ocppsim.repl.console import LineFormatter

    record = logging.LogRecord("ocppsim.sim", logging.INFO, "", 0, '[2,"a\x00\x1b[2J"]', (), None)
    record.__dict__.update(speaker="cs", direction="<<", peer="cp#1")
    assert LineFormatter().format(record).endswith('cs: <<cp#1 [2,"a\\x00\\x1b[2J"]')
