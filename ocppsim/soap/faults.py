"""SOAP 1.2 Faults carrying OCPP error codes (SPEC §7): the exception and its envelope; and
the two faults of the SOAP processing model itself, VersionMismatch and MustUnderstand."""

from __future__ import annotations

from lxml import etree

from ocppsim.core.errors import ERROR_DESCRIPTIONS, OcppError

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
#: the SOAP 1.1 envelope namespace, only ever answered with a VersionMismatch Fault
SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
#: the WS-Addressing action of a fault message (WS-Addressing 1.0 SOAP Binding §6)
WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"


class SoapFaultError(OcppError):
    """An OCPP error as a SOAP Fault: `code` is the OCPP error code, `reason` the Reason text."""

    def __init__(self, code: str, reason: str | None = None):
        super().__init__(code, reason)
        self.reason = self.description


class SoapEnvelopeFault(SoapFaultError):
    """A fault of the SOAP layer, not of OCPP (SOAP 1.2 Part 1 §5.4.6): its Code is
    `env:VersionMismatch` or `env:MustUnderstand`, with no OCPP Subcode. `code` is the
    nearest OCPP error code, for a side that reads it as an answer."""

    def __init__(self, soap_code: str, ocpp_code: str, reason: str):
        super().__init__(ocpp_code, reason)
        self.soap_code = soap_code


class VersionMismatchFault(SoapEnvelopeFault):
    """The message is an Envelope of another SOAP version (SOAP 1.2 Part 1 §5.4.7);
    `namespace` is its namespace (SOAP 1.1's is answered in SOAP 1.1, Appendix A)."""

    def __init__(self, namespace: str | None):
        self.namespace = namespace
        self.soap11 = namespace == SOAP11_ENV
        name = namespace or ""
        shown = repr(name) if len(name) <= 200 else repr(name[:200]) + "…"
        what = "a SOAP 1.1 Envelope" if self.soap11 else f"an Envelope in namespace {shown}"
        super().__init__(
            "VersionMismatch",
            "FormationViolation",
            f"{what}: this node speaks SOAP 1.2 only ({SOAP_ENV})",
        )


class MustUnderstandFault(SoapEnvelopeFault):
    """Mandatory header blocks this node does not understand (SOAP 1.2 Part 1 §5.4.8)."""

    def __init__(self, not_understood: list[str]):
        self.not_understood = tuple(not_understood)
        names = ", ".join(not_understood)
        super().__init__(
            "MustUnderstand", "ProtocolError", f"mandatory header blocks not understood: {names}"
        )


def _qname(ns: str, name: str) -> str:
    """Clark notation `{ns}name`."""
    return f"{{{ns}}}{name}"


def add_fault(
    body: etree._Element, code: str | None, reason: str, value: str = "Sender"
) -> etree._Element:
    """Append to `body` an `env:Fault`: Code `value` (Sender), Subcode the OCPP error code
    (none when `code` is None), Reason text."""
    fault = etree.SubElement(body, _qname(SOAP_ENV, "Fault"))
    code_el = etree.SubElement(fault, _qname(SOAP_ENV, "Code"))
    prefix = fault.prefix  # the Value is a QName: use the prefix the envelope declared
    etree.SubElement(code_el, _qname(SOAP_ENV, "Value")).text = (
        f"{prefix}:{value}" if prefix else value
    )
    if code is not None:
        subcode = etree.SubElement(code_el, _qname(SOAP_ENV, "Subcode"))
        etree.SubElement(subcode, _qname(SOAP_ENV, "Value")).text = code
    reason_el = etree.SubElement(fault, _qname(SOAP_ENV, "Reason"))
    text = etree.SubElement(reason_el, _qname(SOAP_ENV, "Text"))
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = reason
    return fault


def fault_from_element(fault: etree._Element) -> SoapFaultError:
    """Read an `env:Fault` back into a SoapFaultError (unknown codes become GenericError)."""
    values = [
        (value.text or "").strip().rpartition(":")[2]
        for value in fault.iterfind(f".//{{{SOAP_ENV}}}Value")
    ]
    reason = fault.findtext(f"{{{SOAP_ENV}}}Reason/{{{SOAP_ENV}}}Text")
    ocpp_codes = [value for value in values if value in ERROR_DESCRIPTIONS]
    if ocpp_codes:
        return SoapFaultError(ocpp_codes[-1], reason)
    code = "InternalError" if values[:1] == ["Receiver"] else "GenericError"
    described = " ".join(filter(None, ["/".join(values), reason]))
    return SoapFaultError(code, described or None)
