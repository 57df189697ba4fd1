"""The JSON view of an OCPP 1.6 SOAP body against the official 1.6 JSON schemas, as facts.

The JSON view of a body names each child element's value by the element's name, makes a
repeated element (maxOccurs > 1) an array and a complex type an object. `WsdlTypes` reduces a
WSDL (read from its wire facts, `reference_facts.WsdlFacts`) and `json_facts` a JSON schema to
one fact per field path (`meterValue[].sampledValue[].unit`): JSON type, required or not,
`minItems`, enumeration (as a set: order means nothing to a validator), `maxLength`, `format`,
`multipleOf` (XSD `fractionDigits=1` is `multipleOf: 0.1`) and whether an object is closed.
`DIFFERENCES` lists where the two disagree on purpose: what the SOAP codec and the validation
have to handle. The schemas are OCA's, read unchanged from the installed `ocpp` package.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Any

#: 1.6 actions of the security extension (OCPP-J only: the 1.6 WSDLs have no operation for
#: them, so they have no SOAP form)
SECURITY_EXTENSION = {
    "CertificateSigned",
    "DeleteCertificate",
    "ExtendedTriggerMessage",
    "GetInstalledCertificateIds",
    "GetLog",
    "InstallCertificate",
    "LogStatusNotification",
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "SignedUpdateFirmware",
}

#: where the JSON view of a 1.6 SOAP body and the 1.6 JSON schema differ on purpose:
#: (message, field path, fact) -> (WSDL value, JSON value, why). `-` is "not said".
DIFFERENCES: dict[tuple[str, str, str], tuple[str, str, str]] = {
    ("MeterValuesRequest", "meterValue", "required"): (
        "False",
        "True",
        "the 1.6 specification says 1..* meter values; the WSDL lets a body have none",
    ),
    ("MeterValuesRequest", "meterValue", "minItems"): (
        "0",
        "1",
        "the 1.6 specification says 1..* meter values; the WSDL lets a body have none",
    ),
    **{
        (message, path, "minItems"): (
            "1",
            "0",
            "1..* in the 1.6 specification and the WSDL; the JSON schema requires the array"
            " but lets it be empty. A body never shows an empty array (no element reads as an"
            " absent field), but `[]` in a payload to send cannot be written as a valid body",
        )
        for message, path in (
            ("StopTransactionRequest", "transactionData[].sampledValue"),
            (
                "RemoteStartTransactionRequest",
                "chargingProfile.chargingSchedule.chargingSchedulePeriod",
            ),
            (
                "SetChargingProfileRequest",
                "csChargingProfiles.chargingSchedule.chargingSchedulePeriod",
            ),
            ("GetCompositeScheduleResponse", "chargingSchedule.chargingSchedulePeriod"),
        )
    },
    ("MeterValuesRequest", "meterValue[].sampledValue[].unit", "enum"): (
        "-",
        "Celcius,Hertz",
        "JSON also has OCA's misspelling Celcius (errata: send Celsius, accept both) and"
        " Hertz (added by the errata); the WSDL's enumeration has neither",
    ),
    ("StopTransactionRequest", "transactionData[].sampledValue[].unit", "enum"): (
        "-",
        "Celcius",
        "JSON also has OCA's misspelling Celcius (errata: send Celsius, accept both); the"
        " WSDL's enumeration has not (and no Hertz on either side here)",
    ),
}

#: the JSON reading of each built-in XSD type the 1.6 WSDLs use. The value spaces differ at
#: the edges, which the facts leave out: xs:int is 32-bit (JSON integer is not bounded);
#: xs:dateTime may lack a time zone (RFC 3339 date-time may not); xs:decimal has no exponent
#: (a JSON number may); xs:anyURI may be relative (format uri may not); xs:boolean also reads
#: 1/0 (JSON has true/false only)
_XS = {
    "xs:string": {"type": "string"},
    "xs:int": {"type": "integer"},
    "xs:decimal": {"type": "number"},
    "xs:boolean": {"type": "boolean"},
    "xs:dateTime": {"type": "string", "format": "date-time"},
    "xs:anyURI": {"type": "string", "format": "uri"},
}
_PARTICLE = re.compile(
    r"^\s+\[\d+\] name=(\S+) type=(\S+) minOccurs=(\d+) maxOccurs=(\d+|unbounded)$"
)
_PORT_PART = re.compile(r"^(input|output) \w+\.parameters element=tns:(\w+) type=-$")

Facts = dict[tuple[str, str], str]


class WsdlTypes:
    """The operations and types of one WSDL, read back from its wire facts."""

    def __init__(self, lines: list[str]) -> None:
        self.sections: dict[str, list[str]] = {}
        for line in lines:
            kind, name, rest = (line.split(" ", 2) + ["", ""])[:3]
            if kind in ("complexType", "simpleType", "element"):
                self.sections.setdefault(f"{kind} {name}", []).append(rest)
            elif kind == "portType" and rest.startswith("operation "):
                self.sections.setdefault(f"operation {rest.split(' ')[1]}", []).append(
                    rest.split(" ", 2)[2]
                )
            elif kind == "unread":
                raise AssertionError(f"the wire facts did not read everything: {line}")

    def operations(self) -> dict[str, tuple[str, str]]:
        """Operation name -> (request type, response type)."""
        found = {}
        for key, lines in self.sections.items():
            if not key.startswith("operation "):
                continue
            elements = dict(m.groups() for m in map(_PORT_PART.match, lines) if m)
            found[key.split(" ", 1)[1]] = (
                self.element_type(elements["input"]),
                self.element_type(elements["output"]),
            )
        return found

    def element_type(self, element: str) -> str:
        head = self.sections[f"element {element}"]
        assert len(head) == 1, f"element {element} has an inline type"
        type_ = head[0].split(" type=", 1)[1].split(" ", 1)[0]
        return type_.removeprefix("tns:")

    def simple(self, type_: str) -> dict[str, Any]:
        """The JSON facts of a simple type (a built-in or a restriction of one)."""
        if type_ in _XS:
            return dict(_XS[type_])
        lines = self.sections[f"simpleType {type_.removeprefix('tns:')}"]
        base = lines[0].removeprefix("restriction base=")
        facts = self.simple(base)
        enum = {
            line.strip().removeprefix("enumeration=") for line in lines if "enumeration=" in line
        }
        if enum:
            facts["enum"] = enum
        for line in lines[1:]:
            facet, _, value = line.strip().partition("=")
            if facet == "maxLength":
                facts["maxLength"] = int(value)
            elif facet == "fractionDigits":
                assert value == "1", "only DecimalOne is known"
                facts["multipleOf"] = 0.1
            elif facet != "enumeration":
                raise AssertionError(f"facet {facet} of {type_} has no JSON reading here")
        return facts

    def walk(self, type_: str, path: str = "") -> Facts:
        """Every field of a complex type as `(path, fact) -> value`."""
        facts: Facts = {(path, "closed"): "True"}
        lines = self.sections[f"complexType {type_}"]
        if lines == [""]:
            return facts
        assert lines[0] == "sequence minOccurs=1 maxOccurs=1", f"{type_}: {lines[0]}"
        for line in lines[1:]:
            match = _PARTICLE.match(line)
            assert match, f"{type_}: cannot read {line!r}"
            name, child, low, high = match.groups()
            where = f"{path}.{name}" if path else name
            facts[(where, "required")] = str(int(low) >= 1)
            if high != "1":
                facts[(where, "type")] = "array"
                facts[(where, "minItems")] = low
                where += "[]"
            if f"complexType {child.removeprefix('tns:')}" in self.sections:
                facts[(where, "type")] = "object"
                facts.update(self.walk(child.removeprefix("tns:"), where))
            else:
                facts.update(_leaf(where, self.simple(child)))
        return facts


def _leaf(path: str, facts: dict[str, Any]) -> Facts:
    """The facts of one simple field, sets written sorted."""
    out = {}
    for fact, value in facts.items():
        out[(path, fact)] = ",".join(sorted(value)) if isinstance(value, set) else str(value)
    return out


#: the keywords `json_facts` reads, per kind of schema; any other becomes an `unread` fact, so
#: a constraint the walk does not know of shows up as a difference instead of passing unseen
_JSON_READ = {
    "object": {"$schema", "title", "type", "properties", "required", "additionalProperties"},
    "array": {"type", "items", "minItems"},
    # a string enumeration of OCA's schemas carries a meaningless additionalProperties
    "leaf": {"type", "enum", "maxLength", "format", "multipleOf", "additionalProperties"},
}


def _unread(schema: dict[str, Any], kind: str, path: str) -> Facts:
    extra = sorted(set(schema) - _JSON_READ[kind])
    return {(path, "unread"): ",".join(extra)} if extra else {}


def json_facts(schema: dict[str, Any], path: str = "") -> Facts:
    """Every field of a JSON schema object as `(path, fact) -> value`, in the WSDL's terms."""
    assert schema.get("type") == "object", f"{path}: not an object"
    facts: Facts = {(path, "closed"): str(schema.get("additionalProperties") is False)}
    facts.update(_unread(schema, "object", path))
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        where = f"{path}.{name}" if path else name
        facts[(where, "required")] = str(name in required)
        if sub.get("type") == "array":
            facts[(where, "type")] = "array"
            facts[(where, "minItems")] = str(sub.get("minItems", 0))
            facts.update(_unread(sub, "array", where))
            where += "[]"
            sub = sub["items"]
        if sub.get("type") == "object":
            facts[(where, "type")] = "object"
            facts.update(json_facts(sub, where))
            continue
        facts.update(_unread(sub, "leaf", where))
        leaf: dict[str, Any] = {"type": sub["type"]}
        for keyword in ("format", "maxLength", "multipleOf"):
            if keyword in sub:
                leaf[keyword] = sub[keyword]
        if "enum" in sub:
            leaf["enum"] = set(sub["enum"])
        facts.update(_leaf(where, leaf))
    return facts


@cache
def json_schema(message: str) -> dict[str, Any]:
    """The official 1.6 JSON schema of `message` (`BootNotificationRequest`), as installed."""
    name = message.removesuffix("Request")
    text = (files("ocpp") / "v16" / "schemas" / f"{name}.json").read_text("utf-8-sig")
    return json.loads(text)


def json_actions() -> set[str]:
    """Every 1.6 action the official schemas describe (core and security extension)."""
    folder = files("ocpp") / "v16" / "schemas"
    names = {entry.name.removesuffix(".json") for entry in folder.iterdir()}
    return {name for name in names if not name.endswith("Response")}


def differences(wsdl: Facts, json_side: Facts) -> dict[tuple[str, str], tuple[str, str]]:
    """Each (path, fact) on which the two sides disagree; set facts only by their excess."""
    found = {}
    for key in sorted(wsdl.keys() | json_side.keys()):
        ours, theirs = wsdl.get(key, "-"), json_side.get(key, "-")
        if ours == theirs:
            continue
        if key[1] == "enum" and ours != "-" and theirs != "-":
            a, b = set(ours.split(",")), set(theirs.split(","))
            ours, theirs = ",".join(sorted(a - b)) or "-", ",".join(sorted(b - a)) or "-"
        found[key] = (ours, theirs)
    return found


def messages(types: WsdlTypes) -> dict[str, str]:
    """Message name (`BootNotificationRequest`) -> its WSDL type, both directions."""
    found = {}
    for request, response in types.operations().values():
        found[request] = request
        found[response] = response
    return found
