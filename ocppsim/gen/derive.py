"""Derive one JSON Schema (draft 4) per OCPP message from a WSDL file (SPEC §4 "Schemas").

Mapping: `int` → integer (32-bit range), `string` → string, `dateTime` → string/date-time,
`anyURI` → string/uri, `boolean` → boolean; restrictions → `enum`/`maxLength`; minOccurs
≥ 1 (the XSD default) → `required`; maxOccurs > 1 → array (`minItems` when minOccurs > 0);
every object closes with `additionalProperties: false`. A simple-content element with
attributes (the 1.5 `MeterValue.value`) becomes an object: the text as `value`, each
attribute a property; repeated, it is named `values` (`{timestamp, values: [..]}`). With
`attr_at=True` the older form is produced instead: the texts as a `value` array and their
attributes as a parallel `@value` array.

This runs in the generator (`ocppsim docs`), never on the OCPP-J hot path: at run time the
committed JSON files are loaded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from ocppsim.soap.xml import parse_xml

XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
JSON_SCHEMA_DRAFT4 = "http://json-schema.org/draft-04/schema#"

_XS_TYPES: dict[str, dict[str, Any]] = {
    # xs:int is 32-bit: a value outside it is not an int on the wire (SOAP) either
    "int": {"type": "integer", "minimum": -(2**31), "maximum": 2**31 - 1},
    "integer": {"type": "integer"},
    "long": {"type": "integer"},
    "decimal": {"type": "number"},
    "double": {"type": "number"},
    "string": {"type": "string"},
    "dateTime": {"type": "string", "format": "date-time"},
    "anyURI": {"type": "string", "format": "uri"},
    "boolean": {"type": "boolean"},
}

Schema = dict[str, Any]


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _resolve(node: etree._Element, qname: str) -> tuple[str, str]:
    """Split a `prefix:local` reference into (namespace, local name) using node's scope."""
    prefix, _, local = qname.rpartition(":")
    ns = node.nsmap.get(prefix or None)
    if ns is None:
        raise ValueError(f"unknown namespace prefix in {qname!r}")
    return ns, local


@dataclass
class _Types:
    """The named types of a WSDL's embedded XML Schema."""

    target_ns: str
    simple: dict[str, etree._Element] = field(default_factory=dict)
    complex: dict[str, etree._Element] = field(default_factory=dict)
    elements: dict[str, etree._Element] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One WSDL operation: its name and the message (type) names of its input and output."""

    name: str
    request: str
    response: str


@dataclass
class ServiceDescription:
    """What a WSDL describes: its operations and one JSON Schema per message type."""

    target_ns: str
    operations: list[Operation]
    schemas: dict[str, Schema]


class _Deriver:
    def __init__(self, types: _Types, attr_at: bool):
        self.types = types
        self.attr_at = attr_at

    def simple_type(self, ns: str, name: str) -> Schema:
        if ns == XS:
            if name not in _XS_TYPES:
                raise ValueError(f"unsupported XML Schema type xs:{name}")
            return dict(_XS_TYPES[name])
        node = self.types.simple.get(name)
        if node is None:
            raise ValueError(f"unknown simple type {name!r}")
        restriction = node.find(_q(XS, "restriction"))
        if restriction is None:
            raise ValueError(f"simple type {name!r} is not a restriction")
        schema = self.simple_type(*_resolve(restriction, restriction.get("base", "")))
        enum = [e.get("value") for e in restriction.findall(_q(XS, "enumeration"))]
        if enum:
            schema["enum"] = enum
        max_length = restriction.find(_q(XS, "maxLength"))
        if max_length is not None:
            schema["maxLength"] = int(max_length.get("value", "0"))
        return schema

    def type_ref(self, node: etree._Element, ref: str) -> Schema:
        ns, name = _resolve(node, ref)
        if ns == self.types.target_ns and name in self.types.complex:
            return self.complex_type(self.types.complex[name])
        return self.simple_type(ns, name)

    def complex_type(self, node: etree._Element, title: str | None = None) -> Schema:
        schema: Schema = {}
        if title is not None:
            schema["$schema"] = JSON_SCHEMA_DRAFT4
            schema["title"] = title
        schema["type"] = "object"
        properties: dict[str, Schema] = {}
        required: list[str] = []
        for element in node.findall(f"{_q(XS, 'sequence')}/{_q(XS, 'element')}"):
            name = element.get("name", "")
            if _is_simple_content(element) and not self.attr_at:
                name += "s"  # SPEC §4: repeated `<value unit=..>` elements → `values: [{..}]`
            properties[name] = self.element(element)
            if int(element.get("minOccurs", "1")) >= 1:
                required.append(name)
        schema["properties"] = properties
        if required:
            schema["required"] = required
        schema["additionalProperties"] = False
        return schema

    def element(self, element: etree._Element) -> Schema:
        min_occurs = int(element.get("minOccurs", "1"))
        max_occurs = element.get("maxOccurs", "1")
        inline = element.find(_q(XS, "complexType"))
        if inline is not None and _is_simple_content(element):
            return self.simple_content(inline, min_occurs, max_occurs)
        item = (
            self.complex_type(inline)
            if inline is not None
            else self.type_ref(element, element.get("type", ""))
        )
        if max_occurs == "1":
            return item
        array: Schema = {"type": "array", "items": item}
        if min_occurs > 0:
            array["minItems"] = min_occurs
        return array

    def simple_content(self, node: etree._Element, min_occurs: int, max_occurs: str) -> Schema:
        """A text value with attributes (1.5 `MeterValue.value`)."""
        extension = node.find(f"{_q(XS, 'simpleContent')}/{_q(XS, 'extension')}")
        if extension is None:
            raise ValueError("simpleContent without extension")
        text = self.simple_type(*_resolve(extension, extension.get("base", "")))
        attributes: dict[str, Schema] = {}
        required: list[str] = []
        for attribute in extension.findall(_q(XS, "attribute")):
            name = attribute.get("name", "")
            attributes[name] = self.type_ref(attribute, attribute.get("type", ""))
            if attribute.get("use") == "required":
                required.append(name)
        if self.attr_at:
            # Older form: marker consumed by `_attr_at_parent`; see `derive`.
            return {"$attr_at": True, "text": text, "attributes": attributes}
        item: Schema = {
            "type": "object",
            "properties": {"value": text, **attributes},
            "required": ["value", *required],
            "additionalProperties": False,
        }
        if max_occurs == "1":
            return item
        array: Schema = {"type": "array", "items": item}
        if min_occurs > 0:
            array["minItems"] = min_occurs
        return array


def _is_simple_content(element: etree._Element) -> bool:
    """True for an element whose inline type is text plus attributes."""
    return element.find(f"{_q(XS, 'complexType')}/{_q(XS, 'simpleContent')}") is not None


def _rewrite_attr_at(schema: Schema) -> Schema:
    """Turn a `{.., value: <$attr_at marker>}` object into `{.., value: [..], @value: [..]}`."""
    if schema.get("type") == "array":
        return {**schema, "items": _rewrite_attr_at(schema["items"])}
    if schema.get("type") != "object":
        return schema
    properties: dict[str, Schema] = {}
    for name, sub in schema["properties"].items():
        if sub.get("$attr_at"):
            properties[name] = {"type": "array", "items": sub["text"], "minItems": 1}
            properties["@" + name] = {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": sub["attributes"],
                    "additionalProperties": False,
                },
            }
        else:
            properties[name] = _rewrite_attr_at(sub)
    return {**schema, "properties": properties}


def _read_types(root: etree._Element) -> _Types:
    schema = root.find(f"{_q(WSDL, 'types')}/{_q(XS, 'schema')}")
    if schema is None:
        raise ValueError("WSDL without an embedded XML Schema")
    types = _Types(target_ns=schema.get("targetNamespace", ""))
    for node in schema:
        name = node.get("name")
        if name is None:
            continue
        if node.tag == _q(XS, "simpleType"):
            types.simple[name] = node
        elif node.tag == _q(XS, "complexType"):
            types.complex[name] = node
        elif node.tag == _q(XS, "element"):
            types.elements[name] = node
    return types


def _read_operations(root: etree._Element, types: _Types) -> list[Operation]:
    messages: dict[str, str] = {}
    for message in root.findall(_q(WSDL, "message")):
        for part in message.findall(_q(WSDL, "part")):
            element_ref = part.get("element")
            if element_ref is None:
                continue
            _, element_name = _resolve(part, element_ref)
            element = types.elements.get(element_name)
            if element is None or element.get("type") is None:
                continue
            _, type_name = _resolve(element, element.get("type", ""))
            if type_name in types.complex:
                messages.setdefault(message.get("name", ""), type_name)
    operations: list[Operation] = []
    port_type = root.find(_q(WSDL, "portType"))
    if port_type is None:
        raise ValueError("WSDL without a portType")
    for op in port_type.findall(_q(WSDL, "operation")):
        io = []
        for tag in ("input", "output"):
            node = op.find(_q(WSDL, tag))
            if node is None:
                raise ValueError(f"operation {op.get('name')} without {tag}")
            io.append(messages[_resolve(node, node.get("message", ""))[1]])
        operations.append(Operation(op.get("name", ""), io[0], io[1]))
    return operations


def describe(wsdl: Path, *, attr_at: bool = False) -> ServiceDescription:
    """Read a WSDL file: its operations and a JSON Schema for each request and response."""
    root = parse_xml(wsdl.read_bytes())
    types = _read_types(root)
    operations = _read_operations(root, types)
    deriver = _Deriver(types, attr_at)
    schemas: dict[str, Schema] = {}
    for op in operations:
        for name in (op.request, op.response):
            schema = deriver.complex_type(types.complex[name], title=name)
            schemas[name] = _rewrite_attr_at(schema) if attr_at else schema
    return ServiceDescription(types.target_ns, operations, schemas)
