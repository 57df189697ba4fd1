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


def test_console_lines_escape_control_bytes_of_frames() -> None:
    import logging

    from ocppsim.repl.console import LineFormatter

    record = logging.LogRecord("ocppsim.sim", logging.INFO, "", 0, '[2,"a\x00\x1b[2J"]', (), None)
    record.__dict__.update(speaker="cs", direction="<<", peer="cp#1")
    assert LineFormatter().format(record).endswith('cs: <<cp#1 [2,"a\\x00\\x1b[2J"]')
