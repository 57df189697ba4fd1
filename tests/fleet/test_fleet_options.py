"""A fleet's options: defaults, and a sentence for every value that cannot work."""

from __future__ import annotations

import pytest

from ocppsim.core import versions
from ocppsim.fleet.behaviour import Backoff
from ocppsim.fleet.options import (
    FleetOptionError,
    fleet_options,
    parse_duration,
    parse_source_ips,
)

URL = "ws://127.0.0.1:9000/ocpp"


def test_defaults() -> None:
    options = fleet_options(URL, "10", {})
    assert options.count == 10
    assert options.protocol == versions.default().subprotocol
    assert options.id_template == "cp{n:05d}"
    assert options.ramp == 1000 and options.connectors == 2 and options.meter_interval == 60
    assert options.sessions.per_hour == 1 and options.sessions.minutes == 30
    assert options.backoff == Backoff(5, 10, 3)
    assert options.workers == 1 and options.source_ips == () and options.duration is None
    assert 0 <= options.seed < 2**31  # a new one each run, reported so it can be repeated


def test_given_values() -> None:
    options = fleet_options(
        URL,
        "3",
        {
            "-p": "ocpp2.0.1",
            "--id": "x-{n}",
            "--ramp": "0",
            "--seed": "42",
            "--sessions-per-hour": "2.5",
            "--duration": "2m",
            "--workers": "4",
            "--source-ip": "127.0.0.2-127.0.0.4",
            "--backoff": "1,2,3",
        },
    )
    assert options.version == "2.0.1" and options.seed == 42 and options.ramp == 0
    assert options.duration == 120 and options.workers == 4
    assert options.source_ips == ("127.0.0.2", "127.0.0.3", "127.0.0.4")
    assert "3 charge points (ocpp2.0.1)" in options.describe() and "seed 42" in options.describe()


@pytest.mark.parametrize(
    ("url", "count", "values", "message"),
    [
        (
            "http://h/ocpp",
            "1",
            {},
            "invalid URL 'http://h/ocpp': a fleet's charge points speak OCPP-J: its URL starts"
            " with ws:// or wss://",
        ),
        ("ftp://h/ocpp", "1", {}, "invalid URL 'ftp://h/ocpp': a websocket URL starts with"),
        (URL, "0", {}, "must be a whole number above 0, not `0'"),
        (URL, "ten", {}, "not `ten'"),
        (URL, "1", {"-p": "ocpp9"}, "unknown protocol `ocpp9' for a fleet (use ocpp1.2,"),
        (URL, "1", {"--id": "cp"}, "--id: the id template `cp' needs one {n} field"),
        (URL, "1", {"--ramp": "-1"}, "--ramp takes a number 0 or more, not `-1'"),
        (URL, "1", {"--ramp": "fast"}, "--ramp takes a number 0 or more, not `fast'"),
        (URL, "1", {"--connectors": "0"}, "--connectors takes a number from 1 to 100, not `0'"),
        (URL, "1", {"--seed": "-3"}, "--seed takes a number from 0 to"),
        (URL, "1", {"--session-minutes": "0"}, "--session-minutes takes a number above 0"),
        (URL, "1", {"--backoff": "x"}, "--backoff: `x' is not MIN[,RANGE[,TIMES]]"),
        (URL, "1", {"--duration": "soon"}, "--duration: `soon' is not a duration (60s, 5m, 1h)"),
        (URL, "1", {"--speed": "0"}, "--speed takes a number above 0, not `0'"),
        (URL, "1", {"--workers": "0"}, "--workers takes a number from 1 to 64, not `0'"),
        (URL, "1", {"--source-ip": "127.0.0.9-127.0.0.1"}, "the range ends before it starts"),
        (URL, "1", {"--source-ip": "10.0.0.1"}, "10.0.0.1 is not a loopback address"),
        (URL, "1", {"--source-ip": "localhost"}, "'localhost' is not an IP address"),
        (URL, "1", {"--behaviour": " "}, "--behaviour needs a plugin's name"),
        (URL, "1", {"--ca": "ca.pem"}, "--ca is for a wss:// URL (TLS)"),
        (URL, "1", {"--ramp": None}, "option `--ramp' needs a value"),
        (URL, "1", {"--colour": "red"}, "`--colour' is an unknown option of a fleet"),
    ],
)
def test_bad_values_say_what_to_give(
    url: str, count: str, values: dict[str, str | None], message: str
) -> None:
    with pytest.raises(FleetOptionError) as caught:
        fleet_options(url, count, values)
    assert message in str(caught.value)
    assert str(caught.value).startswith("Error: ")


def test_an_http_url_is_not_told_to_add_a_soap_option_a_fleet_lacks() -> None:
    """start_cp's hint for an http:// URL (add -t soap) is no advice for a fleet, which has
    no -t and no SOAP charge points."""
    with pytest.raises(FleetOptionError) as caught:
        fleet_options("https://h/ocpp", "1", {})
    assert "-t soap" not in str(caught.value)


def test_durations_and_address_ranges() -> None:
    assert parse_duration("90") == 90 and parse_duration("90s") == 90
    assert parse_duration("1.5h") == 5400 and parse_duration("5m") == 300
    with pytest.raises(ValueError, match="above 0"):
        parse_duration("0s")
    assert parse_source_ips("127.0.0.1") == ("127.0.0.1",)
    assert len(parse_source_ips("127.0.0.0-127.0.255.255")) == 65536
    with pytest.raises(ValueError, match="more than 65536"):
        parse_source_ips("127.0.0.0-127.1.0.0")
