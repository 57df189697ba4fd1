"""Source addresses for a fleet's connections (`--source-ip`): what a range names, what is
refused and why, and that a connection really goes out from the address it was given."""

from __future__ import annotations

import asyncio

import pytest

from ocppsim.transport import ConnectFailed
from ocppsim.transport.addresses import (
    SourceAddressError,
    parse_source_addresses,
    spread,
)
from ocppsim.transport.ws.client import open_connection
from ocppsim.transport.ws.connection import Connection
from ocppsim.transport.ws.server import Handshake, start_server


def test_a_range_names_every_address_from_first_to_last() -> None:
    assert parse_source_addresses("127.0.0.2-127.0.0.5") == [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.4",
        "127.0.0.5",
    ]


def test_ranges_and_single_addresses_mix_in_order_each_once() -> None:
    text = "127.0.0.9, 127.0.0.2-127.0.0.3,127.0.0.2,::1"
    assert parse_source_addresses(text) == ["127.0.0.9", "127.0.0.2", "127.0.0.3", "::1"]


def test_a_range_crosses_octets() -> None:
    addresses = parse_source_addresses("127.0.0.254-127.0.1.1")
    assert addresses == ["127.0.0.254", "127.0.0.255", "127.0.1.0", "127.0.1.1"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("10.0.0.1", "10.0.0.1 is not a loopback address"),
        ("127.0.0.1-128.0.0.1", "128.0.0.1 is not a loopback address"),
        ("localhost", "'localhost' is not an IP address (write e.g. 127.0.0.2-127.0.0.9)"),
        ("127.0.0.9-127.0.0.2", "the range ends before it starts"),
        ("127.0.0.1-::1", "mixes IPv4 and IPv6"),
        ("", "no source address given"),
        ("127.0.0.0-127.255.255.255", "names more than 65536 addresses"),
    ],
)
def test_what_cannot_be_used_is_refused_saying_why(text: str, words: str) -> None:
    with pytest.raises(SourceAddressError, match=words.replace("(", r"\(").replace(")", r"\)")):
        parse_source_addresses(text)


def test_outside_a_load_test_any_address_may_be_named() -> None:
    assert parse_source_addresses("10.0.0.1-10.0.0.2", loopback_only=False) == [
        "10.0.0.1",
        "10.0.0.2",
    ]


def test_connections_are_spread_round_robin() -> None:
    addresses = ["127.0.0.2", "127.0.0.3"]
    assert [spread(addresses, n) for n in range(5)] == [
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.2",
        "127.0.0.3",
        "127.0.0.2",
    ]
    assert spread([], 3) is None


def test_a_connection_goes_out_from_the_local_address_given() -> None:
    async def scenario() -> list[str]:
        seen: list[str] = []

        def admit(path: str, offered: list[str] | None, handshake: Handshake) -> tuple[str, str]:
            seen.append(handshake.remote.rsplit(":", 1)[0])
            return path.rsplit("/", 1)[1], "ocpp1.6"

        server = await start_server("127.0.0.1", 0, admit, lambda link, cp_id: None)
        url = f"ws://127.0.0.1:{server.port}/ocpp"
        links: list[Connection] = []
        try:
            for n, source in enumerate(["127.0.0.2", "127.0.0.3", None]):
                links.append(await open_connection(f"{url}/cp{n}", "ocpp1.6", local_address=source))
        finally:
            for link in links:
                await link.close()
            server.close()
            await server.wait_closed()
        return seen

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == ["127.0.0.2", "127.0.0.3", "127.0.0.1"]


def test_a_local_address_this_host_lacks_is_a_connect_failure_naming_it() -> None:
    async def scenario() -> None:
        # 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never an address of this host
        await open_connection("ws://127.0.0.1:9/ocpp/cp", "ocpp1.6", local_address="192.0.2.1")

    with pytest.raises(ConnectFailed, match="192.0.2.1"):
        asyncio.run(asyncio.wait_for(scenario(), 10))
