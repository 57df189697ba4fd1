"""SOAP 1.2 Faults carrying OCPP error codes (SPEC §7): the exception and its envelope."""

from __future__ import annotations

from lxml import etree

from ocppsim.core.errors import ERROR_DESCRIPTIONS, OcppError

SOAP_ENV = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://www.w3.org/2005/08/addressing"
#: the WS-Addressing action of a fault message (WS-Addressing 1.0 SOAP Binding §6)
WSA_FAULT_ACTION = "http://www.w3.org/2005/08/addressing/soap/fault"


class SoapFaultError(OcppError):
    """An OCPP error as a SOAP Fault: `code` is the OCPP error code, `reason` the Reason text."""

    def __init__(self, code: str, reason: str | None = None):
        super().__init__(code, reason)
        self.reason = self.description


def _qname(ns: str, name: str) -> str:
    """Clark notation `{ns}name`."""
    return f"{{{ns}}}{name}"


def add_fault(body: etree._Element, code: str, reason: str) -> etree._Element:
    """Append to `body` an `env:Fault`: Code Sender, Subcode the OCPP error code, Reason text."""
    fault = etree.SubElement(body, _qname(SOAP_ENV, "Fault"))
    code_el = etree.SubElement(fault, _qname(SOAP_ENV, "Code"))
    prefix = fault.prefix  # the Value is a QName: use the prefix the envelope declared
    sender = f"{prefix}:Sender" if prefix else "Sender"
    etree.SubElement(code_el, _qname(SOAP_ENV, "Value")).text = sender
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
