"""What a version entry of the registry holds: the shapes of its data, and nothing version-specific.

A leaf module (it imports nothing else of ocppsim but the error dialects), so the data modules
(`v12.py`, `v15.py`, …) and the modules built on the registry (`defaults`, `validation`,
`configuration`, the prompt, the docs generator, the SOAP codec) can all import it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from ocppsim.core.errors import ErrorDialect
from ocppsim.core.resources import data_dir

#: `cs` is the Central System service (CALLs a Charge Point sends and the CS answers);
#: `cp` is the Charge Point service (CALLs the Central System sends and a CP answers).
Service = Literal["cs", "cp"]
SERVICES: tuple[Service, ...] = ("cs", "cp")

#: How a simulator reaches its peer: OCPP-J frames over a websocket, or SOAP over HTTP.
Transport = Literal["websocket", "soap"]

#: The JSON Schema draft a version's schemas are validated with.
Dialect = Literal["draft4", "draft6"]
#: The `$schema` URI of each draft (a schema file may name its own).
DRAFT_URIS: dict[Dialect, str] = {
    "draft4": "http://json-schema.org/draft-04/schema#",
    "draft6": "http://json-schema.org/draft-06/schema#",
}
_DRAFT_OF_URI = {uri.rstrip("#"): name for name, uri in DRAFT_URIS.items()}

Payload = dict[str, Any]

#: Placeholders for dates in default payload templates, filled in when a payload is built:
#: now, a day ahead (expiry dates), a day before (a diagnostics window), now in a file name.
NOW, DAY_AHEAD, DAY_BEFORE, NOW_STAMP = "@now@", "@now+1d@", "@now-1d@", "@stamp@"

#: The `--with-attr-at` variant: the older JSON form of meter values (a version that has it
#: lists the messages it changes in `OcppVersion.variants`).
ATTR_AT = "with-attr-at"


@dataclass(frozen=True, eq=False)
class Erratum:
    """A fix applied to a published schema when it is loaded: the messages it touches, what it
    changes and why (a line of the docs), and the change itself: `apply(schema, message)`
    changes the loaded schema of `message` in place (the installed file is never touched)."""

    messages: frozenset[str]
    note: str
    apply: Callable[[dict[str, Any], str], None]


@dataclass(frozen=True, eq=False)
class SchemaSource:
    """Where a version's JSON Schemas are read from, in which draft, and what is fixed on load.

    `folder` is a folder of ocppsim's data set `schemas/` or, with `package`, a folder inside
    that installed package (read with importlib.resources, never copied). A message's file is
    its name (`BootNotificationRequest`) with the `Request`/`Response` suffix replaced by
    `request_suffix`/`response_suffix`, plus `.json`; a variant's files are in a sub-folder
    named after the variant. `derived_from_wsdl`: `ocppsim docs` writes the files from the
    version's WSDL (the committed schemas of the SOAP-era versions). `origin` says where they
    come from, in the message reference. `requirement` says what to install when the folder
    is missing (`the ocpp package 2.1 or newer`): a version whose schemas are not installed
    is not offered, and asking for it says that.
    """

    folder: str
    dialect: Dialect = "draft4"
    package: str | None = None
    request_suffix: str = "Request"
    response_suffix: str = "Response"
    derived_from_wsdl: bool = False
    origin: str = "the project's WSDL files"
    errata: tuple[Erratum, ...] = ()
    requirement: str | None = None
    declared_draft: bool = False
    kept: tuple[str, ...] = ()

    def root(self) -> Path:
        """The folder holding the schema files."""
        if self.package is not None:
            return Path(str(files(self.package))) / self.folder
        return data_dir("schemas") / self.folder

    def installed(self) -> bool:
        """True when the folder exists: an older release of the package may lack it (the
        `ocpp` package's 2.1 schemas need ocpp 2.1, which needs Python 3.11)."""
        try:
            return self.root().is_dir()
        except (ImportError, FileNotFoundError):
            return False

    def file_name(self, message: str) -> str:
        """`BootNotificationRequest` → `BootNotificationRequest.json` (or the source's naming)."""
        for suffix, replacement in (
            ("Request", self.request_suffix),
            ("Response", self.response_suffix),
        ):
            if message.endswith(suffix):
                return message.removesuffix(suffix) + replacement + ".json"
        return message + ".json"

    def path(self, message: str, variant: str | None = None) -> Path:
        """The file of `message` (in its variant's sub-folder when `variant` is given)."""
        base = self.root() / variant if variant else self.root()
        return base / self.file_name(message)

    def load(self, message: str, variant: str | None = None) -> dict[str, Any]:
        """The schema of `message` with the errata applied; FileNotFoundError when none."""
        with self.path(message, variant).open(encoding="utf-8-sig") as handle:
            schema: dict[str, Any] = json.load(handle)
        for erratum in self.errata:
            if message in erratum.messages:
                erratum.apply(schema, message)
        return schema

    def dialect_of(self, schema: Mapping[str, Any]) -> Dialect:
        """The draft a loaded schema is validated in (see the class docstring)."""
        if self.declared_draft:
            declared = _DRAFT_OF_URI.get(str(schema.get("$schema", "")).rstrip("#"))
            if declared is not None:
                return declared
        return self.dialect


@dataclass(frozen=True, eq=False)
class SoapBinding:
    """A version's SOAP binding: each service's XML namespace and WSDL file (in `wsdl/`).

    `actions` lists the actions each service carries over SOAP when that is fewer than the
    version has (1.6: its core actions; the security whitepaper's are OCPP-J only); None: all
    of them. `local_time_as_utc`: an xs:dateTime without a time zone is read as UTC (the
    original's reading, kept for 1.2 and 1.5); otherwise it is left without one, so the JSON
    view is refused as OCPP-J refuses it (1.6: one message, one meaning).
    """

    namespaces: Mapping[Service, str]
    wsdl: Mapping[Service, str]
    actions: Mapping[Service, tuple[str, ...]] | None = None
    local_time_as_utc: bool = True

    def wsdl_path(self, service: Service | str) -> Path:
        """The project's WSDL file of `service`."""
        return data_dir("wsdl") / self.wsdl[service]  # type: ignore[index]


#: The longest value a configuration key takes (OCPP 1.6 gives values as CiString500Type).
MAX_VALUE_LENGTH = 500

#: The largest OCPP integer: 32 bits, 31 of them for the value (OCPP 1.6 §7, OCPP 2.0.1 Part 2
#: §2.1 primitive datatypes); an interval beyond it is no OCPP value, and no date can be 10**23
#: seconds away.
MAX_INTEGER = 2**31 - 1

KeyKind = Literal["integer", "boolean", "string", "list"]


@dataclass(frozen=True)
class KeyDefinition:
    """One configuration key: its name, value type, initial value and whether it is read-only.

    `allowed` limits a `string` value, or each item of a comma-separated `list`, to those words;
    `minimum`/`maximum` bound an `integer`; `pattern` (a regular expression the whole value
    matches) constrains a `string`. A `write_only` key is changed but never shown (OCPP 1.6
    security whitepaper: AuthorizationKey); a `reboot_required` change is answered
    RebootRequired (it takes effect after a reboot, OCPP 1.6 §5.3).
    """

    name: str
    value: str
    kind: KeyKind = "string"
    readonly: bool = False
    allowed: frozenset[str] | None = None
    minimum: int | None = None
    maximum: int | None = None
    pattern: str | None = None
    write_only: bool = False
    reboot_required: bool = False

    def accepts(self, value: str) -> bool:
        """True when `value` is a valid value of this key."""
        if len(value) > MAX_VALUE_LENGTH:
            return False
        if self.kind == "integer":
            if not (value.isascii() and value.isdigit()):  # counts and seconds: never negative
                return False
            number = int(value)
            most = MAX_INTEGER if self.maximum is None else self.maximum
            return (self.minimum is None or number >= self.minimum) and number <= most
        if self.kind == "boolean":
            return value.lower() in ("true", "false")
        if self.kind == "list":
            items = [item.strip() for item in value.split(",")] if value else []
            return all(items) and (self.allowed is None or set(items) <= self.allowed)
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            return False
        return self.allowed is None or value in self.allowed


@dataclass(frozen=True, eq=False)
class OcppVersion:
    """One OCPP version as data: everything ocppsim needs to speak it.

    `actions` lists each service's actions in the order help shows them. `defaults` holds the
    default payload template of every message (`BootNotificationRequest`; dates as the
    placeholders above); `variants` maps a variant name to the messages whose JSON form it
    changes and their templates (their schemas are in the variant's sub-folder). A variant a
    version does not have, or a message it does not change, falls back to the plain form.
    `message_types` are the OCPP-J message type numbers the version knows (CALL 2, CALLRESULT
    3, CALLERROR 4; OCPP 2.1 adds CALLRESULTERROR 5 and SEND 6). `sends` lists, per service, the
    messages that travel as SEND (unconfirmed, no response: the message's name is its action,
    its schema and default are named after it, without `Request`). `configuration` defines a
    Charge Point's configuration keys. `central_system` is what the version calls the central
    side (`Central System`; OCPP 2.x: `CSMS`), for help and docs. `identity` is the rule a
    charge point identity in an OCPP-J connection URL follows, when the version has one: its
    longest length and a regex of the characters it may hold. `silent_while_rejected`: a
    Charge Point whose boot was answered Rejected answers no CALL of the Central System until
    a boot is accepted (OCPP 1.6 §4.2).
    """

    name: str
    title: str
    subprotocol: str
    actions: Mapping[Service, tuple[str, ...]]
    schemas: SchemaSource
    errors: ErrorDialect
    defaults: Mapping[str, Payload]
    variants: Mapping[str, Mapping[str, Payload]] = field(default_factory=dict)
    soap: SoapBinding | None = None
    message_types: frozenset[int] = frozenset({2, 3, 4})
    sends: Mapping[Service, tuple[str, ...]] = field(default_factory=dict)
    configuration: tuple[KeyDefinition, ...] = ()
    central_system: str = "Central System"
    identity: tuple[int, str] | None = None
    silent_while_rejected: bool = False
    _handled: Mapping[str, frozenset[str]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        handled = {service: frozenset(self.actions.get(service, ())) for service in SERVICES}
        object.__setattr__(self, "_handled", handled)
        if self.soap is not None and self.soap.actions is not None:
            for service, carried in self.soap.actions.items():
                extra = set(carried) - handled[service]
                if extra:
                    raise ValueError(
                        f"{self.title} {service}: SOAP carries unknown {sorted(extra)}"
                    )

    @property
    def transports(self) -> tuple[Transport, ...]:
        """The transports this version runs on: OCPP-J always, SOAP when it has a binding."""
        return ("websocket", "soap") if self.soap is not None else ("websocket",)

    def actions_over(self, transport: str, service: Service | str) -> tuple[str, ...]:
        """The actions `service` carries over `transport` (help order); () when it has none."""
        every = self.actions.get(service, ())  # type: ignore[arg-type]
        if transport == "soap":
            if self.soap is None:
                return ()
            if self.soap.actions is not None:
                return self.soap.actions.get(service, ())  # type: ignore[arg-type]
        return tuple(every)

    def carries(self, transport: str, service: Service | str, action: str) -> bool:
        """True when `service` of this version has `action` over `transport`."""
        return action in self.actions_over(transport, service)

    def handles(self, service: str, action: str) -> bool:
        """True when `service` of this version answers CALLs named `action`."""
        handled = self._handled.get(service)
        return handled is not None and action in handled

    def all_actions(self) -> tuple[str, ...]:
        """Every action of both services, each once, in help order (CALLs: SENDs aside)."""
        return tuple(dict.fromkeys(a for s in SERVICES for a in self.actions.get(s, ())))

    def is_send(self, service: str, action: str) -> bool:
        """True when `action` reaches `service` as a SEND (OCPP 2.1 message type 6)."""
        return action in self.sends.get(service, ())  # type: ignore[call-overload]

    def message_of(self, service: str, action: str) -> str | None:
        """The message `service` receives for `action`: its Request when it is a CALL, the
        message itself when it is a SEND, None when this version has neither."""
        if self.handles(service, action):
            return action + "Request"
        return action if self.is_send(service, action) else None

    def messages(self) -> tuple[str, ...]:
        """Every message name: each CALL action's `Request` and `Response`, then each SEND."""
        pairs = [a + kind for a in self.all_actions() for kind in ("Request", "Response")]
        sent = dict.fromkeys(a for s in SERVICES for a in self.sends.get(s, ()))
        return (*pairs, *sent)

    def variant_for(self, variant: str | None, message: str) -> str | None:
        """`variant` when it changes `message` in this version, else None (the plain form)."""
        if variant is None or message not in self.variants.get(variant, ()):
            return None
        return variant

    def template(self, message: str, variant: str | None = None) -> Payload:
        """The default payload template of `message` (in `variant`'s form when it has one)."""
        variant = self.variant_for(variant, message)
        table = self.variants[variant] if variant is not None else self.defaults
        try:
            return table[message]
        except KeyError:
            raise KeyError(f"no default payload for {message} in {self.title}") from None
