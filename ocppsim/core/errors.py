"""The project's exception root and the one table of OCPP error codes (SPEC §4)."""

from __future__ import annotations

#: OCPP-J error codes and their default descriptions (OCPP-J §4.2.3, SPEC §4).
ERROR_DESCRIPTIONS: dict[str, str] = {
    "NotImplemented": "Method name is not recognized.",
    "NotSupported": "Method name is recognized but not supported by the receiver.",
    "InternalError": (
        "An internal error occurred and the receiver is not able to complete the operation."
    ),
    "ProtocolError": "Sender's message does not comply with protocol specification.",
    "SecurityError": (
        "Sender failed authentication or is not authorized to use the requested operation."
    ),
    "FormationViolation": "Sender's message is not well-formed.",
    "PropertyConstraintViolation": (
        "A property name in sender's message is not conform to the PDU structure."
    ),
    "OccurenceConstraintViolation": "Sender's message violates occurence constraints.",
    "TypeConstraintViolation": "Sender's message violates data type constraints.",
    "GenericError": "Other error.",
}


#: The longest errorDescription (or SOAP Fault reason) ocppsim sends: a reason quotes values
#: the peer sent, and those must not travel back whole.
MAX_DESCRIPTION = 255


def bounded_description(text: str) -> str:
    """`text` cut to MAX_DESCRIPTION characters (the last one `…` when it was longer)."""
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


class OcppSimError(Exception):
    """Root of every error ocppsim raises on purpose."""


class OcppError(OcppSimError):
    """An error that travels to the peer as an OCPP error code (CALLERROR or SOAP Fault)."""

    def __init__(self, code: str, description: str | None = None, details: dict | None = None):
        if code not in ERROR_DESCRIPTIONS:
            raise ValueError(f"unknown OCPP error code {code!r}")
        self.code = code
        self.description = description if description is not None else ERROR_DESCRIPTIONS[code]
        self.details = details if details is not None else {}
        super().__init__(f"{code}: {self.description}")


class NotSupportedAnswer(OcppError):
    """Raised (or returned) by a handler to answer a CALL with `NotSupported`."""

    def __init__(self, description: str | None = None):
        super().__init__("NotSupported", description)
