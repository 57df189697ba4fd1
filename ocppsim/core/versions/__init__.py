"""The OCPP versions ocppsim speaks, as data: one registry entry (`OcppVersion`) per version.

Each entry lives in its own module (`v12.py`, `v15.py`, `v201.py`, `v21.py`) and holds its
subprotocol name, its actions per service, where its JSON Schemas come from and their draft, its
error dialect, its SOAP binding if it has one, its default payloads and their variants, and its
Charge Point configuration keys. Everything that lists versions or actions (the prompt's
commands and completion, `-p`, `help`, the docs generator, validation, SOAP's namespaces) is
built from here, so adding a version is adding an entry and its data (see
docs/architecture.md).

No other module of ocppsim names an OCPP version; a test pins that.

An entry whose schemas are not installed (OCPP 2.1 needs the `ocpp` package 2.1, which needs
Python 3.11) is registered but not offered: the functions below leave it out, and asking for it
by name or subprotocol says what to install (`VersionUnavailable`).
"""

from __future__ import annotations

from pathlib import Path

from ocppsim.core.errors import (
    ERROR_KINDS,
    OCPP_1X,
    OCPP_2X,
    ErrorDialect,
    ErrorKind,
    OcppSimError,
)
from ocppsim.core.versions import v12, v15, v16, v21, v201
from ocppsim.core.versions.model import (
    ATTR_AT,
    DAY_AHEAD,
    DAY_BEFORE,
    DRAFT_URIS,
    NOW,
    NOW_STAMP,
    SERVICES,
    Dialect,
    Erratum,
    KeyDefinition,
    OcppVersion,
    Payload,
    SchemaSource,
    Service,
    SoapBinding,
    Transport,
)

__all__ = [
    "ATTR_AT",
    "DAY_AHEAD",
    "DAY_BEFORE",
    "DEFAULT_VERSION",
    "DRAFT_URIS",
    "ERROR_KINDS",
    "NOW",
    "NOW_STAMP",
    "OCPP_1X",
    "OCPP_2X",
    "SERVICES",
    "Dialect",
    "ErrorDialect",
    "ErrorKind",
    "Erratum",
    "KeyDefinition",
    "OcppVersion",
    "Payload",
    "SchemaSource",
    "Service",
    "SoapBinding",
    "Transport",
    "UnknownVersion",
    "VersionUnavailable",
    "all_versions",
    "by_subprotocol",
    "command_name",
    "default",
    "get",
    "known_action",
    "names",
    "one_of",
    "registered",
    "resolve",
    "subprotocols",
    "unavailable",
    "with_transport",
    "wsdl_path",
]

#: Every version ocppsim knows, oldest first (the order help, docs and `-p` defaults list them in).
_REGISTERED: tuple[OcppVersion, ...] = (
    v12.VERSION,
    v15.VERSION,
    v16.VERSION,
    v201.VERSION,
    v21.VERSION,
)


def _missing(entry: OcppVersion) -> str | None:
    """Why `entry` cannot be used here (its schemas are not installed), else None."""
    if entry.schemas.installed():
        return None
    need = entry.schemas.requirement
    if need is None:
        try:
            need = f"its schemas in {entry.schemas.root()}"
        except ImportError:  # the package that holds them is not installed
            need = f"the `{entry.schemas.package}` package"
    return f"{entry.title} needs {need}"


#: Why each registered version that cannot be used here cannot be.
_UNAVAILABLE: dict[str, str] = {
    entry.name: reason for entry in _REGISTERED if (reason := _missing(entry)) is not None
}
#: The versions this installation speaks, oldest first.
_ENTRIES: tuple[OcppVersion, ...] = tuple(e for e in _REGISTERED if e.name not in _UNAVAILABLE)
_BY_NAME: dict[str, OcppVersion] = {entry.name: entry for entry in _ENTRIES}
_BY_SUBPROTOCOL: dict[str, OcppVersion] = {entry.subprotocol: entry for entry in _ENTRIES}

#: The version a Charge Point speaks when no `-p` is given.
DEFAULT_VERSION = v15.VERSION.name


def one_of(words: list[str] | tuple[str, ...], final: str = "or") -> str:
    """`a`, `a or b`, `a, b or c`: how an error line lists the valid choices."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + f" {final} " + words[-1]


class UnknownVersion(OcppSimError, LookupError):
    """A version name or subprotocol ocppsim does not speak; the text lists the known ones."""


class VersionUnavailable(UnknownVersion):
    """A registered version this installation cannot speak; the text says what it needs."""


def _unavailable(entry: OcppVersion | None) -> None:
    if entry is not None and entry.name in _UNAVAILABLE:
        raise VersionUnavailable(_UNAVAILABLE[entry.name])


def get(name: str) -> OcppVersion:
    """The entry of version `name` (`1.5`)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        _unavailable(next((e for e in _REGISTERED if e.name == name), None))
        known = one_of(names())
        raise UnknownVersion(f"unknown OCPP version `{name}' (use {known})") from None


def by_subprotocol(subprotocol: str) -> OcppVersion:
    """The entry whose websocket subprotocol is `subprotocol` (`ocpp1.5`)."""
    try:
        return _BY_SUBPROTOCOL[subprotocol]
    except KeyError:
        _unavailable(next((e for e in _REGISTERED if e.subprotocol == subprotocol), None))
        known = one_of(subprotocols())
        raise UnknownVersion(f"unknown protocol `{subprotocol}' (use {known})") from None


def resolve(version: str) -> OcppVersion:
    """The entry a user means by `version`: its name (`1.6`) or its subprotocol (`ocpp1.6`),
    in any case, blanks around it ignored."""
    text = version.strip().lower()
    if text.startswith("ocpp"):
        return by_subprotocol(text)
    try:
        return get(text)
    except VersionUnavailable:
        raise
    except UnknownVersion:
        known = one_of([*names(), *subprotocols()])
        raise UnknownVersion(f"unknown OCPP version `{version}' (use {known})") from None


def all_versions() -> tuple[OcppVersion, ...]:
    """Every entry this installation speaks, oldest first."""
    return _ENTRIES


def registered() -> tuple[OcppVersion, ...]:
    """Every entry, those this installation cannot speak too (see `unavailable`)."""
    return _REGISTERED


def unavailable() -> dict[str, str]:
    """Each registered version this installation cannot speak, and why (what to install)."""
    return dict(_UNAVAILABLE)


def names() -> tuple[str, ...]:
    """Every version name, oldest first (`1.2`, `1.5`)."""
    return tuple(entry.name for entry in _ENTRIES)


def with_transport(transport: str) -> tuple[OcppVersion, ...]:
    """The entries that run on `transport` (`websocket` or `soap`), oldest first."""
    return tuple(entry for entry in _ENTRIES if transport in entry.transports)


def subprotocols(transport: str | None = None) -> tuple[str, ...]:
    """The subprotocol names of every version (that runs on `transport`), oldest first."""
    entries = _ENTRIES if transport is None else with_transport(transport)
    return tuple(entry.subprotocol for entry in entries)


def default() -> OcppVersion:
    """The entry a Charge Point speaks when no `-p` is given."""
    return _BY_NAME[DEFAULT_VERSION]


def known_action(action: str) -> bool:
    """True when some version has an action named `action` (a CALL's or a SEND's)."""
    return any(
        action in entry.all_actions() or any(action in sent for sent in entry.sends.values())
        for entry in _ENTRIES
    )


def command_name(service: Service | str, action: str) -> str:
    """The prompt command that sends `action`: `heartbeat` (a CP's), `remote_reset` (the CS's;
    a leading `Remote` is not repeated: `remote_starttransaction`)."""
    word = action.lower()
    if service == "cs":
        return word
    return "remote_" + word.removeprefix("remote")


def wsdl_path(version: str, service: Service | str) -> Path:
    """The project's WSDL file of `service` in `version`; UnknownVersion when it has no SOAP."""
    entry = get(version)
    if entry.soap is None:
        raise UnknownVersion(f"{entry.title} has no SOAP binding")
    return entry.soap.wsdl_path(service)


# what users catch, shown as `ocppsim.<name>` in tracebacks (importable from there too)
UnknownVersion.__module__ = "ocppsim"
VersionUnavailable.__module__ = "ocppsim"
