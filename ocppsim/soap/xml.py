"""The one hardened XML parser of ocppsim: no entities, no DTD, no network, a size cap (SPEC §7)."""

from __future__ import annotations

import re
import threading

from lxml import etree

from ocppsim.soap.faults import SoapFaultError

#: largest XML document accepted, in bytes; checked before any parsing happens
MAX_XML_BYTES = 1024 * 1024

# The prolog ends at the first tag that is not `<?…`, `<!…`: a DOCTYPE can only come before it.
_ROOT_TAG = re.compile(rb"<[^?!]")
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)

_local = threading.local()


def _rejected(reason: str) -> SoapFaultError:
    """The error of a refused document (SPEC §7: malformed XML is a `FormationViolation`)."""
    return SoapFaultError("FormationViolation", reason)


def make_parser() -> etree.XMLParser:
    """Build an lxml parser that never resolves entities, loads a DTD or touches the network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _parser() -> etree.XMLParser:
    """This thread's parser (lxml parsers are cheap to reuse but not to share across threads)."""
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = make_parser()
    return parser


def parse_xml(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse an untrusted XML document; any DOCTYPE, oversize or malformed input is refused."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise _rejected("XML input must be bytes")
    if len(data) > max_bytes:
        raise _rejected(f"XML document too large ({len(data)} bytes > {max_bytes})")
    data = bytes(data)
    root_tag = _ROOT_TAG.search(data)
    prolog = data[: root_tag.start()] if root_tag else data
    if _DOCTYPE.search(prolog):
        raise _rejected("DOCTYPE is not allowed")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise _rejected(f"malformed XML: {exc}") from exc
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        raise _rejected(f"malformed XML: {exc}") from exc
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise _rejected("DOCTYPE is not allowed")
    return root
