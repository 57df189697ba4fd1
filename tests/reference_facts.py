"""Facts the tests need from the original's reference data, kept as the project's own data.

The reference data (the published OCPP 1.2/1.5/1.6 WSDLs, and the JSON Schemas and default
payloads of the original simulator, 1.2/1.5 only) is not part of the project. What the tests
need from it is derived here and committed under `tests/data/reference-facts/`, so the whole
suite runs in a fresh clone:

* `wsdl-<version>-<service>.txt`: each WSDL reduced to what decides what goes on the wire
  (operations, messages, WS-Addressing actions and policy, the SOAP 1.2 binding, every schema
  type and global element), one fact per line; documentation and comments are left out;
* `default-payloads.jsonl`: the original's default payload of every message, one per line;
* `schema-verdicts.jsonl`: the verdict of the original's schema (valid, or the failing keyword
  and its OCPP error code) on each default payload and on each mutation of it the tests make;
* `fingerprints.json`: a SHA-256 of every reference file with its whitespace removed, so a
  test can tell that no project file is a copy of one.

Run `python tests/reference_facts.py` where the reference data is at hand (a `shared` folder
beside the checkout holding `reference/`, or `OCPPSIM_REFERENCE=<dir>`) to write them again;
`tests/gen/test_reference_facts.py` checks there that the committed files are what it derives.
"""

from __future__ import annotations

import argparse
import copy
import difflib
import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator
from lxml import etree

from ocppsim.core.errors import OCPP_1X
from ocppsim.core.validation import KIND_OF_KEYWORD

REPO = Path(__file__).resolve().parents[1]
FACTS_DIR = Path(__file__).resolve().parent / "data" / "reference-facts"
REFERENCE = Path(os.environ.get("OCPPSIM_REFERENCE") or REPO.parent / "shared" / "reference")

#: the versions the original simulator played: its default payloads and schemas
VERSIONS = ("1.2", "1.5")
#: the versions whose published WSDLs are reduced to wire facts
WSDL_VERSIONS = ("1.2", "1.5", "1.6")
SERVICES = ("cs", "cp")
#: the two forms of payload: the default one, and the 1.5 `--with-attr-at` MeterValue form
DEFAULT, ATTR_AT = "default", "with-attr-at"
#: the key of each form in the original's default-payload file
_ORIGINAL_FORM_KEYS = {DEFAULT: "default", ATTR_AT: "with-attr-at (1.5 only)"}

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12 = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"
WSAW = "http://www.w3.org/2006/05/addressing/wsdl"
WSP = "http://schemas.xmlsoap.org/ws/2004/09/policy"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
NS = {"wsdl": WSDL, "soap12": SOAP12, "xs": XS}


def have_reference() -> bool:
    """Whether the reference data is at hand (the facts can be derived and checked)."""
    return (REFERENCE / "wsdl").is_dir()


def reference_wsdl(version: str, service: str, reference: Path = REFERENCE) -> Path:
    """The published WSDL of `service` ('cs' or 'cp') for OCPP `version`."""
    name = {"cs": "centralsystem", "cp": "chargepoint"}[service]
    return reference / "wsdl" / f"ocpp_{name}service_{version}_final.wsdl"


def parse(path: Path) -> etree._Element:
    """Parse a local WSDL without entities, DTDs or network access."""
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True
    )
    return etree.parse(str(path), parser).getroot()


# --- a WSDL reduced to the facts that decide what goes on the wire ---------------------------


class WsdlFacts:
    """The wire-relevant facts of one WSDL document, as `section key -> lines`."""

    #: every element kind the reduction reads, with the attributes it reads (by local name);
    #: anything else in a document becomes an `unread` fact, so two files with equal facts
    #: cannot differ in something the reduction overlooks. A port's address is only "present":
    #: it is a placeholder endpoint. `documentation` and `annotation` are left out whole.
    _READ = {
        "definitions": {"targetNamespace"},
        "types": set(),
        "schema": {"targetNamespace", "elementFormDefault", "attributeFormDefault"},
        "element": {
            "name",
            "ref",
            "type",
            "minOccurs",
            "maxOccurs",
            "nillable",
            "default",
            "fixed",
        },
        "attribute": {"name", "ref", "type", "use", "default", "fixed", "form"},
        "complexType": {"name", "mixed"},
        "simpleType": {"name"},
        **{
            kind: set() for kind in ("sequence", "all", "choice", "simpleContent", "complexContent")
        },
        **{kind: {"minOccurs", "maxOccurs"} for kind in ("sequence", "all", "choice")},
        "restriction": {"base"},
        "extension": {"base"},
        **{facet: {"value"} for facet in ("enumeration", "maxLength", "minLength", "length")},
        **{facet: {"value"} for facet in ("pattern", "minInclusive", "maxInclusive")},
        **{facet: {"value"} for facet in ("minExclusive", "maxExclusive", "totalDigits")},
        "fractionDigits": {"value"},
        "message": {"name"},
        "part": {"name", "element", "type"},
        "portType": {"name"},
        "operation": {"name", "soapAction", "style"},
        **{kind: {"message", f"{{{WSAW}}}Action"} for kind in ("input", "output", "fault")},
        "binding": {"name", "type", "style", "transport"},
        "body": {"use", "parts"},
        "header": {"message", "part", "use"},
        "service": {"name"},
        "port": {"name", "binding"},
        "address": {"location"},
        "Policy": {f"{{{WSU}}}Id"},
        "PolicyReference": {"URI"},
        **{kind: set() for kind in ("ExactlyOne", "All", "UsingAddressing")},
    }

    def __init__(self, path: Path) -> None:
        self.root = parse(path)
        self.tns = self.root.get("targetNamespace", "")
        self.sections: dict[str, list[str]] = {}
        self.messages = {
            m.get("name"): m for m in self.root.iterfind("wsdl:message", NS) if m.get("name")
        }
        # WS-Policy elements are found by local name: one published WSDL misspells their namespace
        self.policies = {
            child.get(f"{{{WSU}}}Id"): child
            for child in self.root
            if isinstance(child.tag, str) and etree.QName(child).localname == "Policy"
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
        unread: list[str] = []

        def audit(node: etree._Element) -> None:
            kind = etree.QName(node).localname
            if kind in ("documentation", "annotation"):
                return
            if kind not in self._READ:
                unread.append(f"element {etree.QName(node).text}")
            unread.extend(
                f"attribute {kind}@{name}"
                for name in node.attrib
                if name not in self._READ.get(kind, set())
            )
            for child in node:
                if isinstance(child.tag, str):
                    audit(child)

        audit(self.root)
        if unread:
            self.add("unread", sorted(set(unread)))

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
            policies = [
                line
                for ref in binding
                if isinstance(ref.tag, str) and etree.QName(ref).localname == "PolicyReference"
                for line in self.policy(ref.get("URI"))
            ]
            self.add(
                f"binding {name}",
                [
                    f"type={self.qname(binding, binding.get('type'))}",
                    f"soap12 transport={soap.get('transport')}",
                    *policies,
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

    def policy(self, reference: str | None) -> list[str]:
        """The assertions of the WS-Policy a binding refers to (`#Id`), as nested QNames (with
        their namespace: a policy in an unknown namespace is not one)."""
        policy = self.policies.get((reference or "").removeprefix("#"))
        if policy is None:
            return [f"policy {reference}: undefined"]

        def walk(node: etree._Element, depth: int) -> Iterator[str]:
            for child in node:
                yield f"policy {'  ' * depth}{etree.QName(child).text}"
                yield from walk(child, depth + 1)

        return list(walk(policy, 0))


def diff_lines(expected: list[str], actual: list[str], expected_name: str, actual_name: str) -> str:
    """A unified diff of two fact lists, for an assertion message."""
    return "\n".join(
        difflib.unified_diff(expected, actual, expected_name, actual_name, n=2, lineterm="")
    )


# --- the original's schemas on payloads and their mutations ---------------------------------


def original_verdict(schema: dict[str, Any], payload: Any) -> tuple[str | None, str | None]:
    """The first keyword the original's schema fails on `payload`, and its OCPP error code."""
    error = next(Draft4Validator(schema).iter_errors(payload), None)
    if error is None:
        return None, None
    keyword = str(error.validator)
    return keyword, OCPP_1X.code(KIND_OF_KEYWORD[keyword])


def leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """Paths to every field of a payload (dict keys and list indexes)."""
    found: list[tuple] = []
    if isinstance(value, dict):
        for key, sub in value.items():
            found.append(path + (key,))
            found += leaves(sub, path + (key,))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            found += leaves(sub, path + (index,))
    return found


def get_at(value: Any, path: tuple | list) -> Any:
    """The value at `path` in a payload."""
    for step in path:
        value = value[step]
    return value


def _schema_at(schema: dict[str, Any], path: tuple) -> dict[str, Any]:
    for step in path:
        schema = schema["items"] if isinstance(step, int) else schema["properties"][step]
    return schema


def mutations(payload: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The mutations the tests judge: as is, a field added, and per field removed, mistyped,
    out of its enumeration, too long (`kind`, `path`, and the `value` set unless removed)."""
    yield {"kind": "as is", "path": []}
    yield {"kind": "added field", "path": ["bogusField"], "value": 1}
    for path in leaves(payload):
        if isinstance(path[-1], int):
            continue
        value = get_at(payload, path)
        yield {"kind": "removed", "path": list(path)}
        if isinstance(value, (dict, list)):
            wrong: Any = "not-a-structure"
        else:
            wrong = 12345 if isinstance(value, str) else "not-a-number"
        yield {"kind": "wrong type", "path": list(path), "value": wrong}
        if isinstance(value, dict):
            yield {"kind": "added field", "path": [*path, "bogusNested"], "value": True}
        sub = _schema_at(schema, path)
        if "enum" in sub:
            yield {"kind": "out of enum", "path": list(path), "value": "NotInTheEnumeration"}
        if "maxLength" in sub:
            too_long = "x" * (sub["maxLength"] + 1)
            yield {"kind": "too long", "path": list(path), "value": too_long}


def mutate(payload: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    """`payload` with the mutation `case` applied (a copy)."""
    mutated = copy.deepcopy(payload)
    path = case["path"]
    if not path:
        return mutated
    parent = get_at(mutated, path[:-1])
    if case["kind"] == "removed":
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(case["value"])
    return mutated


# --- deriving the facts from the reference data ----------------------------------------------


def _squeezed_sha256(data: bytes) -> str:
    """SHA-256 of a file's bytes without spaces, tabs and line ends (a copy re-indented still
    matches)."""
    return hashlib.sha256(data.translate(None, b" \t\r\n")).hexdigest()


def _jsonl(rows: list[dict[str, Any]]) -> str:
    return "".join(
        json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows
    )


def derive(reference: Path = REFERENCE) -> dict[str, str]:
    """Every facts file (name -> text) as derived from the reference data in `reference`."""
    files = {
        "README.md": "# Reference facts\n\nWritten by `python tests/reference_facts.py` from the"
        " original's files (not part of\nthe project); do not edit by hand. The script's"
        " docstring says what each file holds.\n"
    }
    for version in WSDL_VERSIONS:
        for service in SERVICES:
            path = reference_wsdl(version, service, reference)
            lines = WsdlFacts(path).lines()
            head = f"# the wire facts of {path.name} (tests/reference_facts.py)\n"
            files[f"wsdl-{version}-{service}.txt"] = head + "".join(f"{x}\n" for x in lines)

    originals = json.loads((reference / "original-default-payloads.json").read_text("utf-8"))
    schemas = json.loads((reference / "original-json-schemas.json").read_text("utf-8"))
    payload_rows, verdict_rows = [], []
    for form, key in _ORIGINAL_FORM_KEYS.items():
        by_version = originals[key] if form == DEFAULT else {"1.5": originals[key]}
        for version, payloads in sorted(by_version.items()):
            for message, payload in sorted(payloads.items()):
                row = {"form": form, "version": version, "message": message, "payload": payload}
                payload_rows.append(row)
    for version in VERSIONS:
        for service in SERVICES:
            for message, schema in sorted(schemas[version][service].items()):
                payload = originals["default"][version][message]
                for case in mutations(payload, schema):
                    keyword, code = original_verdict(schema, mutate(payload, case))
                    row = {"version": version, "service": service, "message": message, **case}
                    verdict_rows.append({**row, "keyword": keyword, "verdict": code})
    files["default-payloads.jsonl"] = _jsonl(payload_rows)
    files["schema-verdicts.jsonl"] = _jsonl(verdict_rows)

    prints = {
        str(p.relative_to(reference)): _squeezed_sha256(p.read_bytes())
        for p in sorted(reference.rglob("*"))
        if p.is_file()
    }
    files["fingerprints.json"] = json.dumps(prints, indent=1, sort_keys=True) + "\n"
    return files


# --- reading the committed facts -------------------------------------------------------------


def committed() -> dict[str, str]:
    """Every committed facts file, name -> text."""
    return {p.name: p.read_text("utf-8") for p in sorted(FACTS_DIR.iterdir()) if p.is_file()}


def _read_jsonl(name: str) -> list[dict[str, Any]]:
    text = (FACTS_DIR / name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line]


def wire_facts(version: str, service: str) -> list[str]:
    """The committed wire facts of the published WSDL of `service` in `version`."""
    text = (FACTS_DIR / f"wsdl-{version}-{service}.txt").read_text("utf-8")
    return [line for line in text.splitlines() if not line.startswith("#")]


def original_payloads() -> dict[str, Any]:
    """The original's default payloads, shaped as the tests read them:
    `{"default": {version: {message: payload}}, "with-attr-at (1.5 only)": {message: payload}}`.
    """
    found: dict[str, Any] = {key: {} for key in _ORIGINAL_FORM_KEYS.values()}
    for row in _read_jsonl("default-payloads.jsonl"):
        key = _ORIGINAL_FORM_KEYS[row["form"]]
        where = found[key].setdefault(row["version"], {}) if row["form"] == DEFAULT else found[key]
        where[row["message"]] = row["payload"]
    return found


def verdict_cases() -> list[dict[str, Any]]:
    """Each payload and mutation the tests judge, with the original schema's verdict."""
    return _read_jsonl("schema-verdicts.jsonl")


def fingerprints() -> dict[str, str]:
    """Reference file -> SHA-256 of its bytes without whitespace."""
    return json.loads((FACTS_DIR / "fingerprints.json").read_text("utf-8"))


def squeezed_sha256(path: Path) -> str:
    """The fingerprint of a file, comparable with `fingerprints()`."""
    return _squeezed_sha256(path.read_bytes())


def main(argv: list[str] | None = None) -> int:
    """Write the facts files from the reference data."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=REFERENCE, help="reference data dir")
    parser.add_argument("--out", type=Path, default=FACTS_DIR, help="where to write the facts")
    args = parser.parse_args(argv)
    if not (args.reference / "wsdl").is_dir():
        parser.error(f"no reference data in {args.reference} (give --reference DIR)")
    files = derive(args.reference)
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in set(p.name for p in args.out.iterdir() if p.is_file()) - set(files):
        (args.out / stale).unlink()
    for name, text in files.items():
        (args.out / name).write_text(text, "utf-8")
    print(f"wrote {len(files)} facts files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
