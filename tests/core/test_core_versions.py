"""The version registry: each entry's data is consistent, the error dialects are complete, and
validation follows the entry (its schema source, draft and error dialect)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft6Validator

from ocppsim.core import versions
from ocppsim.core.configuration import Configuration
from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import ERROR_DESCRIPTIONS, ERROR_KINDS, MAX_DESCRIPTION
from ocppsim.core.validation import (
    KIND_OF_KEYWORD,
    UnknownMessage,
    load_schema,
    validate,
    validator_for,
)
from ocppsim.core.versions import (
    ATTR_AT,
    OCPP_1X,
    OCPP_2X,
    SERVICES,
    Erratum,
    OcppVersion,
    SchemaSource,
    UnknownVersion,
)
from ocppsim.gen.derive import describe

ENTRIES = versions.all_versions()
DRAFT_URIS = {
    "draft4": "http://json-schema.org/draft-04/schema#",
    "draft6": "http://json-schema.org/draft-06/schema#",
}


def _ids(entry: OcppVersion) -> str:
    return entry.name


def messages_of(entry: OcppVersion) -> set[str]:
    return set(entry.messages())


WITH_SOAP = [entry for entry in ENTRIES if entry.soap is not None]
#: The OCPP 2.x entries (TransactionEvent, the 2.x dialect), those installed here.
ENTRIES_2X = [entry for entry in ENTRIES if entry.handles("cs", "TransactionEvent")]


# -- the registry itself -------------------------------------------------------------------------


def test_names_and_subprotocols_round_trip() -> None:
    assert versions.names() == tuple(entry.name for entry in ENTRIES)
    assert len(set(versions.names())) == len(ENTRIES)
    for entry in ENTRIES:
        assert versions.get(entry.name) is entry
        assert versions.by_subprotocol(entry.subprotocol) is entry
        assert entry.subprotocol == "ocpp" + entry.name  # OCPP-J §3.1: "ocpp" + version
        assert entry.title == "OCPP " + entry.name
    assert versions.subprotocols() == tuple(entry.subprotocol for entry in ENTRIES)
    assert versions.default() in ENTRIES


def test_unknown_names_get_one_clear_error_listing_the_known_ones() -> None:
    with pytest.raises(UnknownVersion) as caught:
        versions.get("9.9")
    assert (
        str(caught.value) == f"unknown OCPP version `9.9' (use {versions.one_of(versions.names())})"
    )
    with pytest.raises(UnknownVersion) as caught:
        versions.by_subprotocol("ocpp9.9")
    text = str(caught.value)
    assert text.startswith("unknown protocol `ocpp9.9' (use ")
    for entry in ENTRIES:
        assert entry.subprotocol in text
    # today's wording, which the prompt shows
    assert versions.one_of(["ocpp1.2", "ocpp1.5"]) == "ocpp1.2 or ocpp1.5"
    assert versions.one_of(["a", "b", "c"]) == "a, b or c"
    assert versions.one_of(["a"]) == "a"
    assert isinstance(caught.value, LookupError)


def test_transports_follow_the_soap_binding() -> None:
    for entry in ENTRIES:
        assert "websocket" in entry.transports
        assert ("soap" in entry.transports) == (entry.soap is not None)
    assert versions.with_transport("websocket") == ENTRIES
    assert versions.subprotocols("soap") == tuple(
        entry.subprotocol for entry in ENTRIES if entry.soap is not None
    )


def test_command_names_are_unique() -> None:
    commands: dict[str, tuple[str, str]] = {}
    for entry in ENTRIES:
        for service in SERVICES:
            for action in entry.actions[service]:
                name = versions.command_name(service, action)
                assert commands.setdefault(name, (service, action)) == (service, action)
    assert versions.command_name("cp", "RemoteStartTransaction") == "remote_starttransaction"
    assert versions.command_name("cs", "Heartbeat") == "heartbeat"
    assert versions.known_action("Heartbeat") and not versions.known_action("Nope")


# -- each entry's data ------------------------------------------------------------------------


@pytest.mark.parametrize("entry", WITH_SOAP, ids=_ids)
def test_actions_are_the_wsdl_operations(entry: OcppVersion) -> None:
    assert entry.soap is not None
    for service in SERVICES:
        operations = [op.name for op in describe(entry.soap.wsdl_path(service)).operations]
        carried = entry.actions_over("soap", service)
        assert sorted(operations) == sorted(carried), service
        assert len(set(entry.actions[service])) == len(entry.actions[service])
        assert set(carried) <= set(entry.actions[service])
        assert entry.actions_over("websocket", service) == entry.actions[service]


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_schema_files_are_exactly_the_messages(entry: OcppVersion) -> None:
    source = entry.schemas
    files = {p.name for p in source.root().glob("*.json")}
    assert files == {source.file_name(m) for m in messages_of(entry)}
    drafts = set(DRAFT_URIS.values()) if source.declared_draft else {DRAFT_URIS[source.dialect]}
    for path in source.root().glob("*.json"):
        declared = json.loads(path.read_text(encoding="utf-8-sig")).get("$schema")
        assert declared is None or declared in drafts, path.name
    for variant, templates in entry.variants.items():
        assert set(templates) <= messages_of(entry), variant
        variant_files = {p.name for p in (source.root() / variant).glob("*.json")}
        assert variant_files == {source.file_name(m) for m in templates}


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_every_message_has_a_default_valid_against_its_schema(entry: OcppVersion) -> None:
    assert set(entry.defaults) == messages_of(entry)
    for message in sorted(messages_of(entry)):
        payload = default_payload(entry.name, message)
        assert validate(entry.name, message, payload) is None, message
    for variant, templates in entry.variants.items():
        for message in templates:
            payload = default_payload(entry.name, message, variant)
            assert validate(entry.name, message, payload, variant) is None, (variant, message)
            assert payload != default_payload(entry.name, message), "a variant changes the form"


@pytest.mark.parametrize("entry", ENTRIES, ids=_ids)
def test_configuration_keys_are_valid(entry: OcppVersion) -> None:
    names = [key.name.lower() for key in entry.configuration]
    assert len(names) == len(set(names))
    for key in entry.configuration:
        unset = key.write_only and key.value == ""  # a secret nobody has set yet
        assert key.accepts(key.value) or unset, key.name
    if entry.handles("cp", "GetConfiguration"):
        report = Configuration.for_version(entry.name).report()
        assert validate(entry.name, "GetConfigurationResponse", report) is None


def test_soap_namespaces_are_distinct_and_map_back_to_their_version() -> None:
    from ocppsim.soap.codec import service_namespace

    seen: set[str] = set()
    for entry in ENTRIES:
        if entry.soap is None:
            continue
        for service in SERVICES:
            namespace = entry.soap.namespaces[service]
            assert namespace not in seen
            seen.add(namespace)
            assert service_namespace(entry.name, service) == namespace
            assert versions.wsdl_path(entry.name, service).is_file()


def test_message_types_are_at_least_the_three_of_ocpp_j() -> None:
    for entry in ENTRIES:
        assert {2, 3, 4} <= entry.message_types
        assert entry.message_types <= {2, 3, 4, 5, 6}
        assert (6 in entry.message_types) == bool(entry.sends), entry.name  # SEND is type 6


# -- variants are per version ----------------------------------------------------------------------


def test_a_variant_a_version_does_not_have_is_its_plain_form() -> None:
    """`--with-attr-at` is a form of the versions that list it; elsewhere (a 1.2 CP in a
    process started with the option) messages keep their plain form."""
    without = [entry for entry in ENTRIES if ATTR_AT not in entry.variants]
    assert without, "some version has no --with-attr-at form"
    for entry in without:
        for message in ("MeterValuesRequest", "StopTransactionRequest"):
            if message not in entry.messages():
                continue
            plain = default_payload(entry.name, message, clock=lambda: 0)
            assert default_payload(entry.name, message, ATTR_AT, clock=lambda: 0) == plain
            assert load_schema(entry.name, message, ATTR_AT) == load_schema(entry.name, message)
            assert validate(entry.name, message, plain, ATTR_AT) is None
    with_it = [entry for entry in ENTRIES if ATTR_AT in entry.variants]
    for entry in with_it:
        assert entry.variant_for(ATTR_AT, "HeartbeatRequest") is None
        assert entry.variant_for(ATTR_AT, "MeterValuesRequest") == ATTR_AT


# -- error dialects --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", [OCPP_1X, OCPP_2X], ids=lambda d: d.name)
def test_error_dialects_are_complete(dialect: versions.ErrorDialect) -> None:
    assert set(dialect.codes) == set(ERROR_KINDS)
    for kind in ERROR_KINDS:
        assert dialect.code(kind) in dialect.descriptions, kind
    assert set(dialect.codes.values()) == set(
        dialect.descriptions
    )  # every code is sent for something
    for code, text in dialect.descriptions.items():
        assert 0 < len(text) <= MAX_DESCRIPTION
        assert ERROR_DESCRIPTIONS[code]  # a handler may raise OcppError(code)
    for alias, code in dialect.aliases.items():
        assert code in dialect.descriptions and alias not in dialect.descriptions
        assert dialect.knows(alias) and dialect.describe(alias) == dialect.describe(code)
    assert dialect.malformed in ERROR_KINDS
    assert dialect.unknown_message_type in (*ERROR_KINDS, None)
    assert set(KIND_OF_KEYWORD.values()) <= set(ERROR_KINDS)


def test_the_1x_names_are_the_ones_on_the_wire_today() -> None:
    """OCPP-J 1.5/1.6 Table 7, both typos kept (the 1.6 errata §5 will not fix them)."""
    assert sorted(OCPP_1X.descriptions) == sorted(
        [
            "NotImplemented",
            "NotSupported",
            "InternalError",
            "ProtocolError",
            "SecurityError",
            "FormationViolation",
            "PropertyConstraintViolation",
            "OccurenceConstraintViolation",
            "TypeConstraintViolation",
            "GenericError",
        ]
    )
    schema_kinds = {keyword: OCPP_1X.code(kind) for keyword, kind in KIND_OF_KEYWORD.items()}
    assert schema_kinds["required"] == "OccurenceConstraintViolation"
    assert schema_kinds["additionalProperties"] == "PropertyConstraintViolation"
    assert schema_kinds["enum"] == schema_kinds["type"] == "TypeConstraintViolation"
    assert OCPP_1X.code("format") == OCPP_1X.code(OCPP_1X.malformed) == "FormationViolation"
    assert OCPP_1X.unreadable_id is None and OCPP_1X.unknown_message_type is None
    assert all(entry.errors is OCPP_1X for entry in ENTRIES if entry not in ENTRIES_2X)


def test_the_2x_dialect_has_the_2x_names() -> None:
    """OCPP-J 2.0.1 Part 4 §4.3 (the same list in 2.1)."""
    assert sorted(OCPP_2X.descriptions) == sorted(
        [
            "FormatViolation",
            "GenericError",
            "InternalError",
            "MessageTypeNotSupported",
            "NotImplemented",
            "NotSupported",
            "OccurrenceConstraintViolation",
            "PropertyConstraintViolation",
            "ProtocolError",
            "RpcFrameworkError",
            "SecurityError",
            "TypeConstraintViolation",
        ]
    )
    assert OCPP_2X.code(OCPP_2X.malformed) == "RpcFrameworkError"
    assert OCPP_2X.unreadable_id == "-1"
    assert OCPP_2X.code("message_type") == "MessageTypeNotSupported"
    assert OCPP_2X.code("occurrence") == "OccurrenceConstraintViolation"
    assert OCPP_2X.code("value") == "PropertyConstraintViolation"
    assert OCPP_2X.knows("OccurenceConstraintViolation")  # the other spelling, on receipt


# -- validation follows the entry ----------------------------------------------------------------

_DRAFT6_ONLY = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "object",
    "properties": {
        "n": {"type": "number", "exclusiveMinimum": 0},
        "s": {"type": "string", "const": "a"},
    },
    "required": ["n"],
    "additionalProperties": False,
}


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch) -> Callable[[OcppVersion], None]:
    """Add an entry to the registry for one test (each test uses its own version name, as the
    validators are cached per version name)."""

    def add(entry: OcppVersion) -> None:
        monkeypatch.setattr(versions, "_ENTRIES", (*versions._ENTRIES, entry))
        monkeypatch.setitem(versions._BY_NAME, entry.name, entry)
        monkeypatch.setitem(versions._BY_SUBPROTOCOL, entry.subprotocol, entry)

    return add


@pytest.fixture
def schema_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An installed package holding schemas named the way the PyPI `ocpp` package's 1.6 folder
    names them (`Thing.json` for the request, `ThingResponse.json`)."""
    package = tmp_path / "fake_ocpp_schemas"
    (package / "v9" / "schemas").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "v9" / "schemas" / "Thing.json").write_text(json.dumps(_DRAFT6_ONLY))
    response = {"type": "object", "properties": {}, "additionalProperties": False}
    (package / "v9" / "schemas" / "ThingResponse.json").write_text(json.dumps(response))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "fake_ocpp_schemas"


def _entry(name: str, source: SchemaSource, errors: versions.ErrorDialect) -> OcppVersion:
    return OcppVersion(
        name=name,
        title=f"test {name}",
        subprotocol=f"test{name}",
        actions={"cs": ("Thing",), "cp": ()},
        schemas=source,
        errors=errors,
        defaults={"ThingRequest": {"n": 1}, "ThingResponse": {}},
    )


def test_validation_uses_the_entrys_draft_and_dialect(
    register: Callable[[OcppVersion], None], schema_package: str
) -> None:
    """The same schema file read as draft 6 (2.x style) and as draft 4: `exclusiveMinimum: 0`
    and `const` only mean something in draft 6; the codes are the entry's dialect's."""
    six = SchemaSource("v9/schemas", dialect="draft6", package=schema_package, request_suffix="")
    four = SchemaSource("v9/schemas", dialect="draft4", package=schema_package, request_suffix="")
    register(_entry("t-draft6", six, OCPP_2X))
    register(_entry("t-draft4", four, OCPP_1X))
    assert validator_for("t-draft6", "ThingRequest").META_SCHEMA == Draft6Validator.META_SCHEMA
    assert validator_for("t-draft4", "ThingRequest").META_SCHEMA == Draft4Validator.META_SCHEMA
    assert validate("t-draft6", "ThingRequest", {"n": 1, "s": "a"}) is None
    zero = validate("t-draft6", "ThingRequest", {"n": 0})
    assert zero is not None and (zero.kind, zero.code) == ("value", "PropertyConstraintViolation")
    other = validate("t-draft6", "ThingRequest", {"n": 1, "s": "b"})
    assert other is not None and other.code == "PropertyConstraintViolation"
    assert validate("t-draft4", "ThingRequest", {"n": 0, "s": "b"}) is None
    missing = validate("t-draft6", "ThingRequest", {})
    assert missing is not None and missing.code == "OccurrenceConstraintViolation"
    assert validate("t-draft4", "ThingRequest", {}).code == "OccurenceConstraintViolation"  # type: ignore[union-attr]
    extra = validate("t-draft6", "ThingRequest", {"n": 1, "x": 1})
    assert extra is not None and (extra.kind, extra.code) == ("unknown_field", "FormatViolation")
    assert validate("t-draft4", "ThingRequest", {"n": 1, "x": 1}).code == (  # type: ignore[union-attr]
        "PropertyConstraintViolation"
    )
    assert validate("t-draft6", "ThingResponse", {}) is None
    with pytest.raises(UnknownMessage):
        validate("t-draft6", "OtherRequest", {})


def test_errata_are_applied_when_a_schema_is_loaded(
    register: Callable[[OcppVersion], None], schema_package: str
) -> None:
    def allow_b(schema: dict[str, Any], message: str) -> None:
        assert message == "ThingRequest"
        schema["properties"]["s"] = {"type": "string", "enum": ["a", "b"]}

    fix = Erratum(frozenset({"ThingRequest"}), "`s` may also be `b`", allow_b)
    source = SchemaSource(
        "v9/schemas", dialect="draft6", package=schema_package, request_suffix="", errata=(fix,)
    )
    register(_entry("t-errata", source, OCPP_2X))
    assert validate("t-errata", "ThingRequest", {"n": 1, "s": "b"}) is None
    assert validate("t-errata", "ThingRequest", {"n": 1, "s": "c"}) is not None
    assert source.path("ThingRequest").name == "Thing.json"
    assert json.loads(source.path("ThingRequest").read_text())["properties"]["s"]["const"] == "a"


def test_the_rpc_session_refuses_in_its_versions_dialect(
    register: Callable[[OcppVersion], None], schema_package: str
) -> None:
    """The same refusals, named by OCPP_2X for a 2.x-like entry and by OCPP_1X for 1.5."""
    from ocppsim.core.rpc import CallRefused, RpcSession

    six = SchemaSource("v9/schemas", dialect="draft6", package=schema_package, request_suffix="")
    register(_entry("t-rpc", six, OCPP_2X))

    def refusal(version: str, frame: str) -> tuple[str, str]:
        event = RpcSession(version, "cs").receive(frame)
        assert isinstance(event, CallRefused), event
        return event.error.unique_id, event.error.code

    long_id = "g" * 37
    cases = [
        ("t-rpc", '[2,"a","Nope",{}]', "a", "NotImplemented"),
        ("t-rpc", '[2,"b","Thing"]', "b", "RpcFrameworkError"),
        ("t-rpc", '[2,"c","Thing",{"n":NaN}]', "c", "RpcFrameworkError"),
        ("t-rpc", '[2,"d","Thing",{}]', "d", "OccurrenceConstraintViolation"),
        ("t-rpc", '[2,"e","Thing",{"n":1,"zz":1}]', "e", "FormatViolation"),
        ("t-rpc", '[2,"f","Thing",{"n":"1"}]', "f", "TypeConstraintViolation"),
        ("t-rpc", '[2,"f","Thing",{"n":0}]', "f", "PropertyConstraintViolation"),
        # a unique id over 36 characters makes no valid RPC request (not a payload's fault)
        ("t-rpc", f'[2,"{long_id}","Thing",{{"n":1}}]', long_id, "RpcFrameworkError"),
        ("t-rpc", '[2,"g","Thing",[1]]', "g", "FormatViolation"),
        ("1.5", '[2,"a","Nope",{}]', "a", "NotImplemented"),
        ("1.5", '[2,"b","Authorize"]', "b", "FormationViolation"),
        ("1.5", '[2,"c","Authorize",{"idTag":NaN}]', "c", "FormationViolation"),
        ("1.5", '[2,"d","Authorize",{}]', "d", "OccurenceConstraintViolation"),
        ("1.5", '[2,"e","Authorize",{"idTag":"1","zz":1}]', "e", "PropertyConstraintViolation"),
        ("1.5", '[2,"f","Authorize",{"idTag":1}]', "f", "TypeConstraintViolation"),
        ("1.5", '[2,"f","Authorize",{"idTag":"' + "x" * 21 + '"}]', "f", "TypeConstraintViolation"),
        ("1.5", f'[2,"{long_id}","Authorize",{{"idTag":"1"}}]', long_id, "ProtocolError"),
    ]
    for version, frame, uid, code in cases:
        assert refusal(version, frame) == (uid, code), frame
