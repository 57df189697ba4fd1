"""SOAP 1.2 envelope codec of the OCPP versions with a SOAP binding (SPEC §7): zeep, lxml."""

from ocppsim.soap.codec import (
    CONTENT_TYPE,
    SoapCodec,
    SoapRequest,
    SoapResponse,
    build_fault,
    get_codec,
    parse_envelope,
    parse_fault,
    request_version,
    service_namespace,
)
from ocppsim.soap.faults import SoapFaultError
from ocppsim.soap.xml import MAX_XML_BYTES, make_parser, parse_xml

__all__ = [
    "CONTENT_TYPE",
    "MAX_XML_BYTES",
    "SoapCodec",
    "SoapFaultError",
    "SoapRequest",
    "SoapResponse",
    "build_fault",
    "get_codec",
    "make_parser",
    "parse_envelope",
    "parse_fault",
    "parse_xml",
    "request_version",
    "service_namespace",
]
