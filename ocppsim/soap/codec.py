"""SOAP 1.2 envelopes of OCPP from and to the JSON view of their bodies (SPEC §4, §7).

Sans-I/O: bytes in, bytes out. Which versions have a SOAP binding, their namespaces and WSDL
files are the version registry's. The WSDL of each (version, service) is loaded once per
process from a local file by zeep, which renders bodies from its types; incoming bodies are
read by a walker over those same types so every conversion failure maps to an OCPP error code.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, Literal

import zeep
import zeep.exceptions
from lxml import etree
from zeep.wsdl import Document
from zeep.xsd.elements.element import Element
from zeep.xsd.types.builtins import Boolean, DateTime, String
from zeep.xsd.types.builtins import Decimal as XsdDecimal
from zeep.xsd.types.complex import ComplexType
from zeep.xsd.types.simple import AnySimpleType

from ocppsim.core.versions import all_versions, get
from ocppsim.soap.faults import (
    SOAP11_ENV,
    SOAP_ENV,
    WSA,
    WSA_FAULT_ACTION,
    MustUnderstandFault,
    SoapEnvelopeFault,
    SoapFaultError,
    VersionMismatchFault,
    add_fault,
)
from ocppsim.soap.faults import fault_from_element as _fault_from_element
from ocppsim.soap.xml import parse_xml

__all__ = [
    "CONTENT_TYPE",
    "SoapCodec",
    "SoapFaultError",
    "SoapRequest",
    "SoapResponse",
    "build_envelope_fault",
    "build_fault",
    "check_must_understand",
    "envelope_namespace",
    "get_codec",
    "parse_envelope",
    "fault_of",
    "parse_fault",
    "request_version",
    "service_namespace",
]

Service = Literal["cs", "cp"]

#: HTTP Content-Type of a SOAP 1.2 message (RFC 3902); add `; action="/<Action>"` on requests
CONTENT_TYPE = "application/soap+xml; charset=utf-8"
#: HTTP Content-Type of a SOAP 1.1 message: only the VersionMismatch Fault is sent in it
SOAP11_CONTENT_TYPE = "text/xml; charset=utf-8"

#: (version, service) -> the OCPP XML namespace of that service, for every SOAP binding
_NAMESPACES: dict[tuple[str, str], str] = {
    (entry.name, service): namespace
    for entry in all_versions()
    if entry.soap is not None
    for service, namespace in entry.soap.namespaces.items()
}
_WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
_WSDL = "http://schemas.xmlsoap.org/wsdl/"
_MUST_UNDERSTAND = f"{{{SOAP_ENV}}}mustUnderstand"
_ROLE = f"{{{SOAP_ENV}}}role"
#: the roles a header block may target and still be for ocppsim (SOAP 1.2 Part 1 §2.2):
#: none (no role attribute), `next` and `ultimateReceiver`; `none` and any other are not
_OUR_ROLES = {f"{SOAP_ENV}/role/next", f"{SOAP_ENV}/role/ultimateReceiver"}
_FRACTION = re.compile(r"T\d\d:\d\d:\d\d\.(\d+)")
#: the lexical space of xs:decimal (XML Schema Part 2 §3.2.3.1): no exponent, no NaN
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")

# JSON names that differ from the XML element names, per (complex type, element) (SPEC §4:
# in 1.5 a MeterValue's repeated `value` elements are the JSON `values` list).
_JSON_RENAMES: dict[tuple[str, str], str] = {("MeterValue", "value"): "values"}
#: the JSON key holding the text of a simple-content element (its attributes are the others)
_TEXT_KEY = "value"
#: zeep's name for the text of a simple-content element
_ZEEP_TEXT = "_value_1"


#: header blocks ocppsim understands, so a `mustUnderstand` on them is fine (SOAP 1.2 Part 1
#: §5.2.3): OCPP's chargeBoxIdentity and the WS-Addressing 1.0 headers it reads or ignores
_UNDERSTOOD = frozenset(
    {f"{{{namespace}}}chargeBoxIdentity" for namespace in _NAMESPACES.values()}
    | {f"{{{WSA}}}{name}" for name in ("Action", "To", "MessageID", "From", "RelatesTo", "ReplyTo")}
)


#: The longest chargeBoxIdentity and From address read: a Central System keeps both for
#: every box it hears from, so their length is what a peer could make each box cost.
MAX_CHARGE_BOX_ID = 255
MAX_FROM_ADDRESS = 512


def _bounded_headers(headers: Mapping[str, str]) -> None:
    """Refuse a chargeBoxIdentity or From address longer than what is kept of them."""
    for name, shown, limit in (
        ("chargeBoxIdentity", "chargeBoxIdentity", MAX_CHARGE_BOX_ID),
        ("From", "From Address", MAX_FROM_ADDRESS),
    ):
        if len(headers.get(name, "")) > limit:
            raise SoapFaultError("ProtocolError", f"{shown}: longer than {limit} characters")


def service_namespace(version: str, service: str) -> str:
    """The OCPP XML namespace of `service` ('cs' or 'cp') in `version` (SPEC §7)."""
    return _NAMESPACES[(version, service)]


@dataclass(frozen=True)
class SoapRequest:
    """An incoming OCPP request: action name, JSON payload and its addressing headers."""

    action: str
    payload: dict[str, Any]
    charge_box_id: str | None = None
    message_id: str | None = None
    from_address: str | None = None
    to: str | None = None


@dataclass(frozen=True)
class SoapResponse:
    """An incoming OCPP response: action name, JSON payload and its addressing headers."""

    action: str
    payload: dict[str, Any]
    relates_to: str | None = None
    message_id: str | None = None
    charge_box_id: str | None = None


class _NoNetworkTransport(zeep.Transport):
    """A zeep transport that reads local files and refuses every network access."""

    def load(self, url: str) -> bytes:
        """Read a local WSDL/XSD file; any URL with a network scheme is refused."""
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", url) and not url.startswith("file://"):
            raise OSError(f"ocppsim never fetches {url!r}: WSDL and XSD come from local files")
        return Path(url.removeprefix("file://")).expanduser().read_bytes()

    def _load_remote_data(self, url: str) -> bytes:
        """Refuse: zeep must not download anything."""
        raise OSError(f"ocppsim never fetches {url!r}")

    def get(self, address: str, params: Any, headers: Any) -> Any:
        """Refuse: the codec is sans-I/O."""
        raise OSError("the SOAP codec sends nothing")

    def post(self, address: str, message: Any, headers: Any) -> Any:
        """Refuse: the codec is sans-I/O."""
        raise OSError("the SOAP codec sends nothing")


def _zeep_settings() -> zeep.Settings:
    """zeep settings for trusted local WSDL files: still no DTD, entities or external refs."""
    return zeep.Settings(
        strict=True,
        xml_huge_tree=False,
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )


# ----------------------------------------------------------------------------- type shapes


@dataclass(eq=False)
class _Field:
    """One child element of a complex type, with its JSON key."""

    xml_name: str
    json_key: str
    element: Element
    multiple: bool
    shape: _Shape


@dataclass(eq=False)
class _Shape:
    """What the codec needs to know about one XSD type to convert its values both ways."""

    kind: Literal["simple", "complex", "text"]
    xsd_type: Any
    fields: dict[str, _Field] = field(default_factory=dict)
    by_json: dict[str, _Field] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    text_type: Any = None


def _is_text_content(xsd_type: ComplexType) -> bool:
    """True for a complex type with simple content (text plus attributes)."""
    elements = xsd_type.elements
    return (
        len(elements) == 1
        and elements[0][0] == _ZEEP_TEXT
        and isinstance(elements[0][1].type, AnySimpleType)
    )


def _shape_of(xsd_type: Any, shapes: dict[int, _Shape]) -> _Shape:
    """Describe `xsd_type` (memoised in `shapes`, keyed by the type's identity)."""
    known = shapes.get(id(xsd_type))
    if known is not None:
        return known
    if not isinstance(xsd_type, ComplexType):
        shape = shapes[id(xsd_type)] = _Shape("simple", xsd_type)
        return shape
    attributes = {name: attr.type for name, attr in xsd_type.attributes}
    if _is_text_content(xsd_type):
        shape = _Shape("text", xsd_type, attributes=attributes)
        shape.text_type = xsd_type.elements[0][1].type
        shapes[id(xsd_type)] = shape
        return shape
    shape = shapes[id(xsd_type)] = _Shape("complex", xsd_type, attributes=attributes)
    type_name = xsd_type.qname.localname if xsd_type.qname is not None else ""
    for name, element in xsd_type.elements:
        child_shape = _shape_of(element.type, shapes)
        json_key = name
        if child_shape.kind == "text":  # 1.2's MeterValue has a plain int `value`: no rename
            json_key = _JSON_RENAMES.get((type_name, name), name)
        child = _Field(
            xml_name=name,
            json_key=json_key,
            element=element,
            multiple=bool(element.accepts_multiple),
            shape=child_shape,
        )
        shape.fields[name] = child
        shape.by_json[json_key] = child
    return shape


# ----------------------------------------------------------------------------- XML -> JSON


def _path(parent: str, name: str) -> str:
    """A dotted path for error messages."""
    return f"{parent}.{name}" if parent else name


def _datetime_json(value: dt.datetime, text: str, local_time_as_utc: bool = True) -> str:
    """ISO 8601 in UTC with `Z`, keeping as many fraction digits as the text had (SPEC §4). A
    time without a zone is read as UTC, or, without `local_time_as_utc`, left without one
    (the JSON schema then refuses it, as it refuses the same time over OCPP-J)."""
    zoned = value.tzinfo is not None
    if zoned:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    out = value.isoformat(timespec="seconds")
    fraction = _FRACTION.search(text)
    if fraction:
        digits = min(len(fraction.group(1)), 6)
        out += "." + f"{value.microsecond:06d}"[:digits]
    return out + "Z" if zoned or local_time_as_utc else out


def _decimal_json(value: Decimal, text: str, path: str) -> int | float:
    """An xs:decimal as a JSON number: an integer when written without a fraction, else the
    float nearest to it (whose shortest form is the text for the one-decimal OCPP values)."""
    if _DECIMAL.fullmatch(text) is None:  # Python's Decimal also reads 1e5, NaN, Infinity
        raise SoapFaultError("TypeConstraintViolation", f"{path}: {text[:32]!r} is not a decimal")
    if "." not in text and value == value.to_integral_value():
        return int(value)
    number = float(value)
    if not math.isfinite(number):
        raise SoapFaultError("TypeConstraintViolation", f"{path}: {text[:32]!r} is out of range")
    return number


def _simple_from_text(xsd_type: Any, text: str, path: str, local_time_as_utc: bool = True) -> Any:
    """Convert element or attribute text to its JSON value, or raise TypeConstraintViolation."""
    if isinstance(xsd_type, String):
        return text
    stripped = text.strip()
    if isinstance(xsd_type, Boolean):
        if stripped in ("true", "1"):
            return True
        if stripped in ("false", "0"):
            return False
        raise SoapFaultError("TypeConstraintViolation", f"{path}: {text!r} is not a boolean")
    try:
        value = xsd_type.pythonvalue(stripped)
    except Exception as exc:  # zeep and isodate raise ValueError, TypeError, ISO8601Error...
        type_name = getattr(xsd_type.qname, "localname", type(xsd_type).__name__)
        raise SoapFaultError(
            "TypeConstraintViolation", f"{path}: {text!r} is not a valid {type_name}"
        ) from exc
    if isinstance(xsd_type, DateTime):
        return _datetime_json(value, stripped, local_time_as_utc)
    if isinstance(value, Decimal):
        return _decimal_json(value, stripped, path)
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _attributes_to_json(
    shape: _Shape, node: etree._Element, path: str, out: dict, utc: bool = True
) -> None:
    """Copy the attributes of `node` (unqualified ones are the schema's) into `out`."""
    for raw_key, raw_text in node.attrib.items():
        key, text = str(raw_key), str(raw_text)
        if key.startswith("{"):
            continue  # xsi:type, xml:lang and friends are not payload
        attr_type = shape.attributes.get(key)
        if attr_type is None:
            raise SoapFaultError("PropertyConstraintViolation", f"unknown attribute {path}@{key}")
        out[key] = _simple_from_text(attr_type, text, f"{path}@{key}", utc)


def _node_to_json(shape: _Shape, node: etree._Element, path: str, utc: bool = True) -> Any:
    """Convert one element to its JSON view, following its XSD shape (`utc`: a time without a
    zone is UTC, see `_datetime_json`)."""
    if shape.kind == "simple":
        if len(node):
            raise SoapFaultError("TypeConstraintViolation", f"{path}: unexpected child elements")
        return _simple_from_text(shape.xsd_type, node.text or "", path, utc)
    if shape.kind == "text":
        if len(node):
            raise SoapFaultError("TypeConstraintViolation", f"{path}: unexpected child elements")
        text = _simple_from_text(shape.text_type, node.text or "", path, utc)
        out: dict[str, Any] = {_TEXT_KEY: text}
        _attributes_to_json(shape, node, path, out, utc)
        return out
    out = {}
    _attributes_to_json(shape, node, path, out, utc)
    if node.text and node.text.strip():
        raise SoapFaultError("TypeConstraintViolation", f"{path}: unexpected text content")
    for child in node:
        if not isinstance(child.tag, str):
            continue  # comments and processing instructions (the parser drops them anyway)
        name = etree.QName(child).localname
        child_field = shape.fields.get(name)
        if child_field is None:
            raise SoapFaultError("PropertyConstraintViolation", f"unknown element {path}.{name}")
        child_path = _path(path, child_field.json_key)
        value = _node_to_json(child_field.shape, child, child_path, utc)
        if child_field.multiple:
            out.setdefault(child_field.json_key, []).append(value)
        elif child_field.json_key in out:
            raise SoapFaultError("OccurenceConstraintViolation", f"{child_path} occurs twice")
        else:
            out[child_field.json_key] = value
    return out


# ----------------------------------------------------------------------------- JSON -> zeep


def _json_to_zeep(shape: _Shape, value: Any, path: str) -> Any:
    """Turn a JSON view value into what zeep renders, refusing shapes the schema cannot hold."""
    if shape.kind == "simple":
        if isinstance(value, (dict, list)):
            raise SoapFaultError("TypeConstraintViolation", f"{path}: expected a simple value")
        if isinstance(value, bool) and not isinstance(shape.xsd_type, Boolean):
            return "true" if value else "false"
        if isinstance(value, float) and isinstance(shape.xsd_type, XsdDecimal):
            if not math.isfinite(value):
                raise SoapFaultError("TypeConstraintViolation", f"{path}: {value} is no decimal")
            return Decimal(repr(value))  # written as its shortest decimal form: 8.1, not 8.09…
        return value
    if not isinstance(value, Mapping):
        raise SoapFaultError("TypeConstraintViolation", f"{path}: expected an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if key in shape.attributes:
            if isinstance(item, (dict, list)):
                raise SoapFaultError("TypeConstraintViolation", f"{path}.{key}: expected a value")
            out[key] = "true" if item is True else "false" if item is False else item
        elif shape.kind == "text" and key == _TEXT_KEY:
            if isinstance(item, (dict, list)):
                raise SoapFaultError("TypeConstraintViolation", f"{path}.{key}: expected a value")
            out[_ZEEP_TEXT] = item
        elif shape.kind == "complex" and key in shape.by_json:
            child = shape.by_json[key]
            child_path = _path(path, key)
            if child.multiple:
                if not isinstance(item, list):
                    raise SoapFaultError(
                        "TypeConstraintViolation", f"{child_path}: expected a list"
                    )
                out[child.xml_name] = [
                    _json_to_zeep(child.shape, one, f"{child_path}[{i}]")
                    for i, one in enumerate(item)
                ]
            else:
                out[child.xml_name] = _json_to_zeep(child.shape, item, child_path)
        else:
            raise SoapFaultError("PropertyConstraintViolation", f"unknown property {path}.{key}")
    return out


# ----------------------------------------------------------------------------- envelopes


@dataclass(frozen=True)
class _Operation:
    """One WSDL operation: its body elements, their shapes and its WS-Addressing actions."""

    name: str
    request: Element
    response: Element
    request_shape: _Shape
    response_shape: _Shape
    input_action: str
    output_action: str


def _new_envelope(
    ocpp_ns: str | None = None,
) -> tuple[etree._Element, etree._Element, etree._Element]:
    """An empty SOAP 1.2 envelope: (Envelope, Header, Body)."""
    nsmap = {"soap": SOAP_ENV, "wsa": WSA}
    if ocpp_ns is not None:
        nsmap["tns"] = ocpp_ns
    envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=nsmap)
    header = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Header")
    body = etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body")
    return envelope, header, body


def _wsa(header: etree._Element, name: str, text: str, must_understand: bool = False) -> None:
    """Append a WS-Addressing header `wsa:<name>`."""
    node = etree.SubElement(header, f"{{{WSA}}}{name}")
    node.text = text
    if must_understand:
        node.set(_MUST_UNDERSTAND, "true")


def _serialize(envelope: etree._Element) -> bytes:
    """The envelope as UTF-8 bytes with an XML declaration."""
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def parse_envelope(data: bytes | etree._Element) -> etree._Element:
    """Parse (hardened) and check a SOAP 1.2 envelope: VersionMismatchFault for an Envelope of
    another version (SOAP 1.2 Part 1 §5.4.7), FormationViolation for anything else."""
    root = data if isinstance(data, etree._Element) else parse_xml(data)
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        name = etree.QName(root)
        if name.localname == "Envelope":
            raise VersionMismatchFault(name.namespace)
        raise SoapFaultError("FormationViolation", f"not a SOAP 1.2 Envelope: {root.tag}")
    if root.find(f"{{{SOAP_ENV}}}Body") is None:
        raise SoapFaultError("FormationViolation", "SOAP Envelope without a Body")
    return root


def envelope_namespace(data: bytes) -> str | None:
    """The namespace of the document's root if it is an `Envelope`, else None (not SOAP)."""
    try:
        root = parse_xml(data)
    except SoapFaultError:
        return None
    name = etree.QName(root)
    return name.namespace if name.localname == "Envelope" else None


def check_must_understand(envelope: etree._Element) -> None:
    """MustUnderstandFault when a header block for this node is mandatory and not one ocppsim
    understands (SOAP 1.2 Part 1 §5.2.3: `mustUnderstand` is "true" or "1")."""
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    if header is None:
        return
    not_understood = []
    for block in header:
        if not isinstance(block.tag, str):
            continue
        flag = block.get(_MUST_UNDERSTAND)
        if flag is None:
            continue
        flag = flag.strip()
        if flag not in ("true", "1", "false", "0"):
            raise SoapFaultError(
                "FormationViolation",
                f"mustUnderstand={flag[:20]!r} on header {block.tag} is not a boolean",
            )
        role = (block.get(_ROLE) or "").strip()
        if flag in ("false", "0") or (role and role not in _OUR_ROLES):
            continue
        if block.tag not in _UNDERSTOOD:
            not_understood.append(block.tag)
    if not_understood:
        raise MustUnderstandFault(not_understood)


def _body_child(envelope: etree._Element) -> etree._Element:
    """The single element inside the Body."""
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None  # checked by parse_envelope
    children = [child for child in body if isinstance(child.tag, str)]
    if len(children) != 1:
        raise SoapFaultError(
            "FormationViolation", f"SOAP Body must hold one element, found {len(children)}"
        )
    return children[0]


def _headers(envelope: etree._Element) -> dict[str, str]:
    """The OCPP and WS-Addressing headers by local name (`From` is its `Address`)."""
    found: dict[str, str] = {}
    header = envelope.find(f"{{{SOAP_ENV}}}Header")
    if header is None:
        return found
    for node in header:
        if not isinstance(node.tag, str):
            continue
        name = etree.QName(node).localname
        if name in ("From", "ReplyTo"):
            address = next((c for c in node if etree.QName(c).localname == "Address"), None)
            if address is not None and address.text:
                found[name] = address.text.strip()
        elif node.text is not None:
            found[name] = node.text.strip()
    return found


def build_fault(
    code: str, reason: str, *, relates_to: str | None = None, message_id: str | None = None
) -> bytes:
    """A SOAP 1.2 Fault envelope: Code Sender, Subcode the OCPP error code (SPEC §7)."""
    envelope, header, body = _new_envelope()
    _wsa(header, "Action", WSA_FAULT_ACTION)
    if relates_to is not None:
        _wsa(header, "RelatesTo", relates_to)
    if message_id is not None:
        _wsa(header, "MessageID", message_id)
    add_fault(body, code, reason)
    return _serialize(envelope)


def build_envelope_fault(
    fault: SoapEnvelopeFault, *, relates_to: str | None = None, message_id: str | None = None
) -> tuple[bytes, str]:
    """(envelope, Content-Type) of a VersionMismatch or MustUnderstand Fault (SOAP 1.2 Part 1
    §5.4.7, §5.4.8): an Upgrade header naming SOAP 1.2, or a NotUnderstood header per block.
    A SOAP 1.1 sender gets the SOAP 1.1 form it can read (SOAP 1.2 Part 1 Appendix A)."""
    if isinstance(fault, VersionMismatchFault) and fault.soap11:
        nsmap = {"soap11": SOAP11_ENV}
        envelope = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap=nsmap)
        _upgrade(etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Header"))
        body = etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Body")
        soap11_fault = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
        etree.SubElement(soap11_fault, "faultcode").text = "soap11:VersionMismatch"
        etree.SubElement(soap11_fault, "faultstring").text = fault.reason
        return _serialize(envelope), SOAP11_CONTENT_TYPE
    envelope, header, body = _new_envelope()
    if isinstance(fault, VersionMismatchFault):
        _upgrade(header)
    elif isinstance(fault, MustUnderstandFault):
        for tag in fault.not_understood:
            qname = etree.QName(tag)
            if qname.namespace:
                block = etree.SubElement(
                    header, f"{{{SOAP_ENV}}}NotUnderstood", nsmap={"ns": qname.namespace}
                )
                block.set("qname", f"ns:{qname.localname}")
            else:
                block = etree.SubElement(header, f"{{{SOAP_ENV}}}NotUnderstood")
                block.set("qname", qname.localname)
    _wsa(header, "Action", WSA_FAULT_ACTION)
    if relates_to is not None:
        _wsa(header, "RelatesTo", relates_to)
    if message_id is not None:
        _wsa(header, "MessageID", message_id)
    add_fault(body, None, fault.reason, value=fault.soap_code)
    return _serialize(envelope), CONTENT_TYPE


def _upgrade(header: etree._Element) -> None:
    """Append the `env:Upgrade` header block listing SOAP 1.2 (SOAP 1.2 Part 1 §5.4.7)."""
    upgrade = etree.SubElement(header, f"{{{SOAP_ENV}}}Upgrade", nsmap={"soap": SOAP_ENV})
    supported = etree.SubElement(upgrade, f"{{{SOAP_ENV}}}SupportedEnvelope")
    supported.set("qname", "soap:Envelope")


def fault_of(envelope: etree._Element) -> SoapFaultError | None:
    """The SoapFaultError an envelope's Body carries, None when it is not a Fault."""
    child = _body_child(envelope)
    if child.tag == f"{{{SOAP_ENV}}}Fault":
        return _fault_from_element(child)
    return None


def parse_fault(data: bytes | etree._Element) -> tuple[str, str]:
    """(OCPP error code, reason) of a Fault envelope; FormationViolation when it is none."""
    fault = fault_of(parse_envelope(data))
    if fault is None:
        raise SoapFaultError("FormationViolation", "SOAP Body is not a Fault")
    return fault.code, fault.reason


class SoapCodec:
    """Envelopes of one OCPP service ('cs' or 'cp') of one version, built from its WSDL."""

    def __init__(self, version: str, service: str, wsdl: str | Path | None = None):
        if (version, service) not in _NAMESPACES:
            raise ValueError(f"no SOAP service {service!r} in OCPP version {version!r}")
        self.version = version
        self.service = service
        self.namespace = _NAMESPACES[(version, service)]
        soap = get(version).soap
        assert soap is not None  # every (version, service) of _NAMESPACES has one
        self.wsdl = Path(wsdl) if wsdl is not None else soap.wsdl_path(service)
        self._utc = soap.local_time_as_utc
        transport = _NoNetworkTransport()
        document = Document(str(self.wsdl), transport, settings=_zeep_settings())  # type: ignore[arg-type]
        self._box_id_element: Element = document.types.get_element(
            f"{{{self.namespace}}}chargeBoxIdentity"
        )
        actions = self._wsaw_actions(self.wsdl)
        shapes: dict[int, _Shape] = {}
        self._operations: dict[str, _Operation] = {}
        for binding in document.bindings.values():
            for name, operation in binding._operations.items():
                request = operation.input.body
                response = operation.output.body
                input_action, output_action = actions.get(name, (None, None))
                self._operations[name] = _Operation(
                    name=name,
                    request=request,
                    response=response,
                    request_shape=_shape_of(request.type, shapes),
                    response_shape=_shape_of(response.type, shapes),
                    input_action=input_action or operation.soapaction or f"/{name}",
                    output_action=output_action or f"/{name}Response",
                )
        self._by_request_tag = {op.request.qname.text: op for op in self._operations.values()}
        self._by_action_uri = {op.input_action: op for op in self._operations.values()}

    @staticmethod
    def _wsaw_actions(wsdl: Path) -> dict[str, tuple[str | None, str | None]]:
        """The wsaw:Action of each portType operation's input and output (zeep keeps only one)."""
        root = parse_xml(wsdl.read_bytes(), max_bytes=16 * 1024 * 1024)
        actions: dict[str, tuple[str | None, str | None]] = {}
        attr = f"{{{_WSAW}}}Action"
        for operation in root.iterfind(f"{{{_WSDL}}}portType/{{{_WSDL}}}operation"):
            input_node = operation.find(f"{{{_WSDL}}}input")
            output_node = operation.find(f"{{{_WSDL}}}output")
            actions[operation.get("name", "")] = (
                input_node.get(attr) if input_node is not None else None,
                output_node.get(attr) if output_node is not None else None,
            )
        return actions

    @property
    def actions(self) -> tuple[str, ...]:
        """The operations of this service, in WSDL order."""
        return tuple(self._operations)

    def action_uri(self, action: str) -> str:
        """The WS-Addressing Action of a request (also the HTTP `action` parameter)."""
        return self._operation(action).input_action

    def _operation(self, action: str) -> _Operation:
        """The operation called `action`, NotImplemented when this service has none."""
        operation = self._operations.get(action)
        if operation is None:
            raise SoapFaultError(
                "NotImplemented",
                f"{action!r} is not an operation of the OCPP {self.version} {self.service} service",
            )
        return operation

    def _render(self, element: Element, shape: _Shape, payload: Mapping[str, Any]) -> Any:
        """Render a body element from its JSON view, mapping zeep's refusals to OCPP codes."""
        value = _json_to_zeep(shape, payload, "")
        body = etree.Element("body")
        try:
            element.render(body, value)
        except zeep.exceptions.ValidationError as exc:
            raise SoapFaultError("OccurenceConstraintViolation", str(exc)) from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise SoapFaultError("TypeConstraintViolation", str(exc)) from exc
        return body[0]

    def _box_id(self, header: etree._Element, charge_box_id: str) -> None:
        """Append the `chargeBoxIdentity` header (OCPP namespace of this service)."""
        self._box_id_element.render(header, charge_box_id)
        header[-1].set(_MUST_UNDERSTAND, "true")

    def build_request(
        self,
        action: str,
        payload: Mapping[str, Any],
        *,
        charge_box_id: str,
        to: str,
        message_id: str,
        from_address: str | None = None,
    ) -> bytes:
        """The request envelope of `action` with chargeBoxIdentity and WS-Addressing headers."""
        operation = self._operation(action)
        envelope, header, body = _new_envelope(self.namespace)
        self._box_id(header, charge_box_id)
        _wsa(header, "MessageID", message_id)
        if from_address is not None:
            from_node = etree.SubElement(header, f"{{{WSA}}}From")
            etree.SubElement(from_node, f"{{{WSA}}}Address").text = from_address
        _wsa(header, "To", to, must_understand=True)
        _wsa(header, "Action", operation.input_action, must_understand=True)
        body.append(self._render(operation.request, operation.request_shape, payload))
        return _serialize(envelope)

    def build_response(
        self,
        action: str,
        payload: Mapping[str, Any],
        *,
        charge_box_id: str | None,
        relates_to: str | None,
        message_id: str | None = None,
    ) -> bytes:
        """The response envelope of `action`, RelatesTo the request's MessageID."""
        operation = self._operation(action)
        envelope, header, body = _new_envelope(self.namespace)
        if charge_box_id is not None:
            self._box_id(header, charge_box_id)
        _wsa(header, "Action", operation.output_action, must_understand=True)
        if message_id is not None:
            _wsa(header, "MessageID", message_id)
        if relates_to is not None:
            _wsa(header, "RelatesTo", relates_to, must_understand=True)
        body.append(self._render(operation.response, operation.response_shape, payload))
        return _serialize(envelope)

    def build_fault(
        self,
        code: str,
        reason: str,
        *,
        relates_to: str | None = None,
        message_id: str | None = None,
    ) -> bytes:
        """A SOAP 1.2 Fault envelope (Sender, Subcode = OCPP error code); see `build_fault`."""
        return build_fault(code, reason, relates_to=relates_to, message_id=message_id)

    def _unknown_action(self, action_uri: str) -> str:
        """Why an Action is none of this service's, saying so when it is the other role's (a
        Charge Point's Reset posted to a Central System), as OCPP-J's refusal does."""
        action = action_uri.rstrip("/").rpartition("/")[2]
        other = "cp" if self.service == "cs" else "cs"
        if action and get(self.version).handles(other, action):
            roles = {"cs": "Central System", "cp": "Charge Point"}
            return (
                f"unknown action {action_uri}: a {roles[self.service]} does not answer"
                f" `{action}' (a {roles[other]} does, OCPP {self.version})"
            )
        return f"unknown action {action_uri}"

    def _request_operation(self, headers: Mapping[str, str], body: etree._Element) -> _Operation:
        """Pick the operation from the Action header, else from the body element (SPEC §7)."""
        by_body = self._by_request_tag.get(body.tag)
        action_uri = headers.get("Action")
        by_action = None
        if action_uri:
            by_action = self._by_action_uri.get(action_uri) or self._operations.get(
                action_uri.rstrip("/").rpartition("/")[2]
            )
            if by_action is None:
                raise SoapFaultError("NotImplemented", self._unknown_action(action_uri))
        if by_body is None:
            raise SoapFaultError("NotImplemented", f"unknown request element {body.tag}")
        if by_action is None:
            return by_body
        if by_body is not by_action:
            raise SoapFaultError(
                "ProtocolError", f"Action {action_uri} does not match body element {body.tag}"
            )
        return by_action

    def parse_request(self, data: bytes | etree._Element) -> SoapRequest:
        """Read a request envelope into its action, JSON payload and headers."""
        envelope = parse_envelope(data)
        check_must_understand(envelope)
        body = _body_child(envelope)
        headers = _headers(envelope)
        _bounded_headers(headers)
        operation = self._request_operation(headers, body)
        payload = _node_to_json(operation.request_shape, body, "", self._utc)
        return SoapRequest(
            action=operation.name,
            payload=payload,
            charge_box_id=headers.get("chargeBoxIdentity"),
            message_id=headers.get("MessageID"),
            from_address=headers.get("From"),
            to=headers.get("To"),
        )

    def parse_response_message(self, data: bytes | etree._Element, action: str) -> SoapResponse:
        """Read the response envelope of `action`; a Fault body raises SoapFaultError."""
        operation = self._operation(action)
        envelope = parse_envelope(data)
        fault = fault_of(envelope)
        if fault is not None:
            raise fault
        body = _body_child(envelope)
        if body.tag != operation.response.qname.text:
            raise SoapFaultError(
                "ProtocolError", f"expected {operation.response.qname.text}, got {body.tag}"
            )
        headers = _headers(envelope)
        return SoapResponse(
            action=operation.name,
            payload=_node_to_json(operation.response_shape, body, "", self._utc),
            relates_to=headers.get("RelatesTo"),
            message_id=headers.get("MessageID"),
            charge_box_id=headers.get("chargeBoxIdentity"),
        )

    def parse_response(self, data: bytes | etree._Element, action: str) -> dict[str, Any]:
        """The JSON payload of the response envelope of `action`; a Fault raises SoapFaultError."""
        return self.parse_response_message(data, action).payload


@cache
def _cached_codec(version: str, service: str, wsdl: str | None) -> SoapCodec:
    """One codec per (version, service, WSDL file) per process."""
    return SoapCodec(version, service, wsdl)


def get_codec(version: str, service: str, wsdl: str | Path | None = None) -> SoapCodec:
    """The process-wide codec of `service` ('cs'/'cp') for `version` (a registry name)."""
    return _cached_codec(version, service, str(Path(wsdl).resolve()) if wsdl else None)


def request_version(data: bytes | etree._Element, service: str) -> str | None:
    """The OCPP version whose `service` namespace the request body uses, None if none."""
    body = _body_child(parse_envelope(data))
    namespace = etree.QName(body).namespace
    for (version, svc), ns in _NAMESPACES.items():
        if svc == service and ns == namespace:
            return version
    return None
