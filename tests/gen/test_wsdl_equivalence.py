"""Our own WSDL files are wire-compatible with the published OCPP 1.2/1.5 WSDLs (SPEC §7).

Both sides are reduced to the facts that decide what goes on the wire (operations, messages,
WS-Addressing actions, the SOAP 1.2 binding, every schema type and global element) and
compared as sorted text lines, so a failure shows a unified diff of what differs.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
import zeep
from lxml import etree
from zeep.wsdl.bindings.soap import Soap12Binding

from ocppsim.core.resources import wsdl_path

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "wsdl"
needs_reference = pytest.mark.skipif(
    not REFERENCE.is_dir(), reason=f"reference OCPP WSDLs not found in {REFERENCE}"
)

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
NS = {"wsdl": WSDL, "soap12": SOAP12, "xs": XS}

VERSIONS = ("1.2", "1.5")
SERVICES = ("cs", "cp")
CASES = [(v, s) for v in VERSIONS for s in SERVICES]

#: the operations each service offers, from the OCPP 1.2 and 1.5 specifications
OPERATIONS = {
    ("1.2", "cs"): {
        "Authorize",
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    },
    ("1.2", "cp"): {
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "GetDiagnostics",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "UnlockConnector",
        "UpdateFirmware",
    },
}
OPERATIONS[("1.5", "cs")] = OPERATIONS[("1.2", "cs")] | {"DataTransfer"}
OPERATIONS[("1.5", "cp")] = OPERATIONS[("1.2", "cp")] | {
    "CancelReservation",
    "DataTransfer",
    "GetConfiguration",
    "GetLocalListVersion",
    "ReserveNow",
    "SendLocalList",
}

NAMESPACES = {
    ("1.2", "cs"): "urn://Ocpp/Cs/2010/08/",
    ("1.2", "cp"): "urn://Ocpp/Cp/2010/08/",
    ("1.5", "cs"): "urn://Ocpp/Cs/2012/06/",
    ("1.5", "cp"): "urn://Ocpp/Cp/2012/06/",
}
SERVICE_NAMES = {"cs": "CentralSystemService", "cp": "ChargePointService"}


def reference_path(version: str, service: str) -> Path:
    """The published WSDL of `service` for OCPP `version`."""
    name = {"cs": "centralsystem", "cp": "chargepoint"}[service]
    return REFERENCE / f"ocpp_{name}service_{version}_final.wsdl"


def parse(path: Path) -> etree._Element:
    """Parse a local WSDL without entities, DTDs or network access."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    return etree.parse(str(path), parser).getroot()


# --- reducing a WSDL to comparable facts ---------------------------------------------------


class Facts:
    """The wire-relevant facts of one WSDL document, as `section key -> lines`."""

    def __init__(self, path: Path) -> None:
        self.root = parse(path)
        self.tns = self.root.get("targetNamespace", "")
        self.sections: dict[str, list[str]] = {}
        self.messages = {
            m.get("name"): m for m in self.root.iterfind("wsdl:message", NS) if m.get("name")
        }
        self._definitions()
        self._schema()
        self._messages()
        self._port_types()
        self._bindings()
        self._services()

    # QNames are compared by (namespace, local name), written with fixed short prefixes.
    def qname(self, node: etree._Element, value: str | None) -> str:
        if value is None:
            return "-"
        prefix, _, local = value.rpartition(":")
        ns = node.nsmap.get(prefix or None, "")
        return {XS: "xs:", self.tns: "tns:"}.get(ns, f"{{{ns}}}") + local

    def add(self, key: str, lines: list[str]) -> None:
        assert key not in self.sections, f"{key} defined twice"
        self.sections[key] = lines

    def lines(self) -> list[str]:
        return [
            f"{key}{' ' + line if line else ''}"
            for key in sorted(self.sections)
            for line in self.sections[key] or [""]
        ]

    # --- document and schema ---
    def _definitions(self) -> None:
        self.add("definitions", [f"targetNamespace={self.tns}"])

    def _schema(self) -> None:
        schemas = self.root.findall("wsdl:types/xs:schema", NS)
        assert len(schemas) == 1, "expected exactly one embedded schema"
        schema = schemas[0]
        self.add(
            "schema",
            [
                f"targetNamespace={schema.get('targetNamespace')}",
                f"elementFormDefault={schema.get('elementFormDefault', 'unqualified')}",
                f"attributeFormDefault={schema.get('attributeFormDefault', 'unqualified')}",
            ],
        )
        for child in schema:
            kind = etree.QName(child).localname
            if kind == "annotation":
                continue
            name = child.get("name")
            if kind == "element":
                self.add(f"element {name}", self.element(child))
            elif kind == "complexType":
                self.add(f"complexType {name}", self.complex_type(child))
            elif kind == "simpleType":
                self.add(f"simpleType {name}", self.simple_type(child))
            else:
                self.add(f"{kind} {name}", [f"unhandled {etree.tostring(child)!r}"])

    def element(self, node: etree._Element) -> list[str]:
        """One element declaration: name, type (or its inline type), occurrences."""
        head = (
            f"name={node.get('name') or self.qname(node, node.get('ref'))}"
            f" type={self.qname(node, node.get('type'))}"
            f" minOccurs={node.get('minOccurs', '1')} maxOccurs={node.get('maxOccurs', '1')}"
        )
        for flag in ("nillable", "default", "fixed"):
            if node.get(flag) is not None:
                head += f" {flag}={node.get(flag)}"
        inline = []
        for child in node:
            kind = etree.QName(child).localname
            if kind == "complexType":
                inline += ["  inline " + line for line in self.complex_type(child)]
            elif kind == "simpleType":
                inline += ["  inline " + line for line in self.simple_type(child)]
            elif kind != "annotation":
                inline.append(f"  unhandled {kind}")
        return [head, *inline]

    def complex_type(self, node: etree._Element) -> list[str]:
        """A complex type: its particles in order, its attributes, any simple/complex content."""
        lines: list[str] = []
        mixed = node.get("mixed")
        if mixed is not None:
            lines.append(f"mixed={mixed}")
        for child in node:
            kind = etree.QName(child).localname
            if kind == "annotation":
                continue
            if kind in ("sequence", "all", "choice"):
                lines += self.group(child)
            elif kind == "attribute":
                lines.append(self.attribute(child))
            elif kind in ("simpleContent", "complexContent"):
                for derivation in child:
                    how = etree.QName(derivation).localname
                    if how == "annotation":
                        continue
                    base = self.qname(derivation, derivation.get("base"))
                    lines.append(f"{kind} {how} base={base}")
                    for part in derivation:
                        pkind = etree.QName(part).localname
                        if pkind == "attribute":
                            lines.append(self.attribute(part))
                        elif pkind in ("sequence", "all", "choice"):
                            lines += self.group(part)
                        elif pkind != "annotation":
                            lines.append(f"unhandled {pkind}")
            else:
                lines.append(f"unhandled {kind}")
        return lines

    def group(self, node: etree._Element) -> list[str]:
        kind = etree.QName(node).localname
        occurs = f"minOccurs={node.get('minOccurs', '1')} maxOccurs={node.get('maxOccurs', '1')}"
        lines = [f"{kind} {occurs}"]
        index = 0
        for child in node:
            ckind = etree.QName(child).localname
            if ckind == "annotation":
                continue
            prefix = f"  [{index:02d}] "
            index += 1
            if ckind == "element":
                lines += [prefix + line for line in self.element(child)]
            elif ckind in ("sequence", "all", "choice"):
                lines += [prefix + line for line in self.group(child)]
            else:
                lines.append(f"{prefix}unhandled {ckind}")
        return lines

    def attribute(self, node: etree._Element) -> str:
        line = (
            f"attribute name={node.get('name') or self.qname(node, node.get('ref'))}"
            f" type={self.qname(node, node.get('type'))} use={node.get('use', 'optional')}"
        )
        for flag in ("default", "fixed", "form"):
            if node.get(flag) is not None:
                line += f" {flag}={node.get(flag)}"
        return line

    def simple_type(self, node: etree._Element) -> list[str]:
        """A simple type: restriction base, then every facet in document order."""
        lines = []
        for child in node:
            kind = etree.QName(child).localname
            if kind == "annotation":
                continue
            if kind != "restriction":
                lines.append(f"unhandled {kind}")
                continue
            lines.append(f"restriction base={self.qname(child, child.get('base'))}")
            for facet in child:
                fkind = etree.QName(facet).localname
                if fkind != "annotation":
                    lines.append(f"  {fkind}={facet.get('value')}")
        return lines

    # --- WSDL parts ---
    def message_parts(self, ref: str | None, node: etree._Element) -> list[str]:
        """The parts of a referenced message and the global elements they carry."""
        if ref is None:
            return ["(no message)"]
        prefix, _, local = ref.rpartition(":")
        assert node.nsmap.get(prefix or None) == self.tns, f"message {ref} not in tns"
        message = self.messages.get(local)
        if message is None:
            return [f"{local}: undefined message"]
        return [
            f"{local}.{part.get('name')} element={self.qname(part, part.get('element'))}"
            f" type={self.qname(part, part.get('type'))}"
            for part in message.iterfind("wsdl:part", NS)
        ]

    def _messages(self) -> None:
        for name, message in self.messages.items():
            self.add(f"message {name}", self.message_parts(f"tns:{name}", message))

    def _port_types(self) -> None:
        for port_type in self.root.iterfind("wsdl:portType", NS):
            name = port_type.get("name")
            self.add(f"portType {name}", [])
            for op in port_type.iterfind("wsdl:operation", NS):
                lines = []
                for direction in ("input", "output", "fault"):
                    for msg in op.iterfind(f"wsdl:{direction}", NS):
                        action = msg.get(f"{{{WSAW}}}Action", "-")
                        lines.append(f"{direction} wsaw:Action={action}")
                        lines += [
                            f"{direction} {line}"
                            for line in self.message_parts(msg.get("message"), msg)
                        ]
                self.add(f"portType {name} operation {op.get('name')}", lines)

    def _bindings(self) -> None:
        for binding in self.root.iterfind("wsdl:binding", NS):
            name = binding.get("name")
            soap = binding.find("soap12:binding", NS)
            assert soap is not None, f"binding {name} is not a SOAP 1.2 binding"
            default_style = soap.get("style", "document")
            self.add(
                f"binding {name}",
                [
                    f"type={self.qname(binding, binding.get('type'))}",
                    f"soap12 transport={soap.get('transport')}",
                ],
            )
            for op in binding.iterfind("wsdl:operation", NS):
                soap_op = op.find("soap12:operation", NS)
                style = default_style
                action = "-"
                if soap_op is not None:
                    style = soap_op.get("style", default_style)
                    action = soap_op.get("soapAction", "-")
                lines = [f"style={style} soapAction={action}"]
                for direction in ("input", "output"):
                    for msg in op.iterfind(f"wsdl:{direction}", NS):
                        lines += [f"{direction} {line}" for line in self.binding_io(msg)]
                self.add(f"binding {name} operation {op.get('name')}", lines)

    def binding_io(self, node: etree._Element) -> list[str]:
        lines = []
        for body in node.iterfind("soap12:body", NS):
            lines.append(f"body use={body.get('use')} parts={body.get('parts', '-')}")
        headers = []
        for header in node.iterfind("soap12:header", NS):
            part = header.get("part")
            carried = [
                line
                for line in self.message_parts(header.get("message"), header)
                if line.split(" ")[0].endswith(f".{part}")
            ]
            headers.append(f"header use={header.get('use')} part={part} -> {carried}")
        return lines + sorted(headers)

    def _services(self) -> None:
        for service in self.root.iterfind("wsdl:service", NS):
            ports = [
                f"port {port.get('name')} binding={self.qname(port, port.get('binding'))}"
                f" soap12:address={'yes' if port.find('soap12:address', NS) is not None else 'no'}"
                for port in service.iterfind("wsdl:port", NS)
            ]
            self.add(f"service {service.get('name')}", sorted(ports))


def diff(expected: list[str], actual: list[str], expected_name: str, actual_name: str) -> str:
    return "\n".join(
        difflib.unified_diff(expected, actual, expected_name, actual_name, n=2, lineterm="")
    )


# --- tests ---------------------------------------------------------------------------------


@needs_reference
@pytest.mark.parametrize(("version", "service"), CASES)
def test_wsdl_matches_reference_on_the_wire(version: str, service: str) -> None:
    ours, theirs = wsdl_path(version, service), reference_path(version, service)
    expected, actual = Facts(theirs).lines(), Facts(ours).lines()
    assert expected == actual, "\n" + diff(expected, actual, theirs.name, ours.name)


@needs_reference
@pytest.mark.parametrize(("version", "service"), CASES)
def test_wsdl_is_not_a_copy_of_reference(version: str, service: str) -> None:
    """The published files may not be redistributed modified; ours are written from scratch."""

    def squeeze(path: Path) -> str:
        return re.sub(r"\s+", "", path.read_text(encoding="utf-8"))

    assert squeeze(wsdl_path(version, service)) != squeeze(reference_path(version, service))


@pytest.mark.parametrize(("version", "service"), CASES)
def test_wsdl_carries_no_third_party_notice(version: str, service: str) -> None:
    text = wsdl_path(version, service).read_text(encoding="utf-8").lower()
    assert "e-laad" not in text
    assert "copyright" not in text
    assert "ocppsim" in text


@pytest.mark.parametrize("version", VERSIONS)
def test_types_shared_by_both_services_are_identical(version: str) -> None:
    """A type declared by the CS and the CP service of one version must mean the same thing."""
    cs, cp = Facts(wsdl_path(version, "cs")), Facts(wsdl_path(version, "cp"))
    shared = sorted(
        key
        for key in cs.sections.keys() & cp.sections.keys()
        if key.startswith(("complexType ", "simpleType "))
    )
    if version == "1.5":  # OCPP 1.2's CP service has no identification types
        assert {"simpleType IdToken", "complexType IdTagInfo"} <= set(shared)
    for key in shared:
        assert cs.sections[key] == cp.sections[key], key


class OfflineTransport(zeep.Transport):
    """A zeep transport that reads local files only and refuses every URL."""

    def _load_remote_data(self, url: str) -> bytes:
        raise AssertionError(f"zeep tried to fetch {url}")


@pytest.mark.parametrize(("version", "service"), CASES)
def test_zeep_loads_wsdl_offline(version: str, service: str) -> None:
    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    client = zeep.Client(
        str(wsdl_path(version, service)), transport=OfflineTransport(), settings=settings
    )
    name = SERVICE_NAMES[service]
    port = client.wsdl.services[name].ports[f"{name}Soap12"]
    binding = port.binding
    assert isinstance(binding, Soap12Binding)
    assert set(binding._operations) == OPERATIONS[(version, service)]
    for op_name in OPERATIONS[(version, service)]:
        operation = binding.get(op_name)
        assert operation.soapaction == f"/{op_name}"
        # zeep keeps the request's action only; the reply actions are checked above
        assert operation.abstract.wsa_action == f"/{op_name}"
        header = operation.input.header
        assert header is not None
        carried = [element.qname for _, element in header.type.elements]
        assert carried == [etree.QName(NAMESPACES[(version, service)], "chargeBoxIdentity")]
