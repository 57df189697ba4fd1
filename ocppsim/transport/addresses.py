"""Local source addresses a fleet's connections are spread over (`--source-ip`).

A TCP connection is named by its source and destination address and port: towards one Central
System, one source address has at most the ephemeral port range of connections
(`/proc/sys/net/ipv4/ip_local_port_range`, 28,232 by default on Linux). Binding each
connection to one of several local addresses before connecting passes that limit. For a load
test the addresses must be loopback ones (127.0.0.0/8, ::1): every one of them is this host's
without configuration, and a load test never leaves the machine.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from ocppsim.core.errors import OcppSimError

#: The most addresses a `--source-ip` range may name (a /16 of loopback is plenty).
MAX_SOURCE_ADDRESSES = 65536

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class SourceAddressError(OcppSimError, ValueError):
    """A `--source-ip` value that cannot be used; its text says why and what to write."""


def _address(text: str) -> Address:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        raise SourceAddressError(
            f"{text.strip()!r} is not an IP address (write e.g. 127.0.0.2-127.0.0.9)"
        ) from None


def parse_source_addresses(text: str, *, loopback_only: bool = True) -> list[str]:
    """The addresses `text` names: comma-separated addresses or ranges `first-last`
    (`127.0.0.2-127.0.0.9`, `127.0.0.2,127.0.0.5`), in order, each once. With
    `loopback_only` (load tests), an address outside 127.0.0.0/8 and ::1 is refused."""
    found: list[str] = []
    seen: set[Address] = set()
    for part in text.split(","):
        if not part.strip():
            continue
        first_text, dash, last_text = part.partition("-")
        first = _address(first_text)
        last = _address(last_text) if dash else first
        if first.version != last.version:
            raise SourceAddressError(f"{part.strip()!r} mixes IPv4 and IPv6")
        if int(last) < int(first):
            raise SourceAddressError(f"{part.strip()!r}: the range ends before it starts")
        if loopback_only:  # 127.0.0.0/8 is one block: both ends in it, all of it in it
            for end in (first, last):
                if not end.is_loopback:
                    raise SourceAddressError(
                        f"{end} is not a loopback address: load tests use source addresses"
                        " on 127.0.0.0/8 (or ::1) only"
                    )
        count = int(last) - int(first) + 1
        if len(found) + count > MAX_SOURCE_ADDRESSES:
            raise SourceAddressError(
                f"{text.strip()!r} names more than {MAX_SOURCE_ADDRESSES} addresses"
            )
        for value in range(int(first), int(last) + 1):
            address: Address = (
                ipaddress.IPv4Address(value) if first.version == 4 else ipaddress.IPv6Address(value)
            )
            if address not in seen:
                seen.add(address)
                found.append(str(address))
    if not found:
        raise SourceAddressError("no source address given (write e.g. 127.0.0.2-127.0.0.9)")
    return found


def spread(addresses: Sequence[str], index: int) -> str | None:
    """The source address of the `index`-th connection: round robin over `addresses` (None
    when there are none: the system picks)."""
    if not addresses:
        return None
    return addresses[index % len(addresses)]
