"""The project's exception root and the OCPP error codes: one dialect per family of versions.

A refusal is decided as a *kind* of failure (`ErrorKind`: what went wrong); the version's
`ErrorDialect` names it on the wire. OCPP 1.x and 2.x name some kinds differently
(`FormationViolation`/`FormatViolation`, `OccurenceConstraintViolation`/
`OccurrenceConstraintViolation`), and 2.x has codes 1.x lacks (`RpcFrameworkError`,
`MessageTypeNotSupported`). Each version entry of the registry (`ocppsim.core.versions`) says
which dialect it speaks.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

#: What went wrong, whatever a version calls it:
#: `format` the message is not well-formed (and no finer kind applies);
#: `type` a field has the wrong JSON type; `value` a field's value is not allowed (enumeration,
#: length, bounds, date-time or URI format); `occurrence` a required field is missing or a list
#: has too few or too many items; `unknown_field` a field the message does not define;
#: `protocol` the RPC rules are broken (a unique id too long); `not_implemented` an unknown
#: action; `not_supported` a known action this side does not support; `internal`, `security`,
#: `generic` as their codes say; `rpc_framework` not a valid RPC frame; `message_type` a
#: message type number the receiver does not support.
ErrorKind = Literal[
    "format",
    "type",
    "value",
    "occurrence",
    "unknown_field",
    "protocol",
    "not_implemented",
    "not_supported",
    "internal",
    "security",
    "generic",
    "rpc_framework",
    "message_type",
]
ERROR_KINDS: tuple[ErrorKind, ...] = get_args(ErrorKind)


@dataclass(frozen=True, eq=False)
class ErrorDialect:
    """The error codes of a family of OCPP versions and the code of each kind of failure.

    `descriptions` holds every code the dialect sends, with its default description; `codes`
    names each `ErrorKind`. `malformed` is the kind a CALL gets whose unique id can be read
    but which is not well-formed (not JSON, wrong element count); `unreadable_id` is the id
    of the error answering a frame whose id cannot be read (None: such a frame is not
    answered); `unknown_message_type` the kind a frame of an unknown message type number gets
    (None: not answered), and `ignores_unknown_message_types` says such a frame is ignored
    on purpose (OCPP 2.1) rather than taken for junk; `long_id` the kind a CALL whose unique
    id is longer than 36 characters gets; `not_an_object` the kind a CALL whose payload is no
    JSON object gets before its schema is read (None: the schema decides). `aliases` are
    other spellings accepted on receipt.
    """

    name: str
    descriptions: Mapping[str, str]
    codes: Mapping[ErrorKind, str]
    malformed: ErrorKind = "format"
    unreadable_id: str | None = None
    unknown_message_type: ErrorKind | None = None
    ignores_unknown_message_types: bool = False
    long_id: ErrorKind = "protocol"
    not_an_object: ErrorKind | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)

    def code(self, kind: ErrorKind) -> str:
        """The code this dialect sends for `kind`."""
        return self.codes[kind]

    def describe(self, code: str) -> str:
        """The default description of `code` (a code of another dialect, which a handler may
        choose to send, keeps its own; an unknown one has none)."""
        code = self.aliases.get(code, code)
        return self.descriptions.get(code) or ERROR_DESCRIPTIONS.get(code, "")

    def knows(self, code: str) -> bool:
        """True for a code of this dialect, under any accepted spelling."""
        return code in self.descriptions or code in self.aliases


_COMMON_DESCRIPTIONS: dict[str, str] = {
    "NotImplemented": "Method name is not recognized.",
    "NotSupported": "Method name is recognized but not supported by the receiver.",
    "InternalError": (
        "An internal error occurred and the receiver is not able to complete the operation."
    ),
    "ProtocolError": "Sender's message does not comply with protocol specification.",
    "SecurityError": (
        "Sender failed authentication or is not authorized to use the requested operation."
    ),
    "TypeConstraintViolation": "Sender's message violates data type constraints.",
    "GenericError": "Other error.",
}

#: OCPP 1.x (OCPP-J 1.5 draft and 1.6 §4.2.3, both spellings kept by the 1.6 errata):
#: a value not allowed is a TypeConstraintViolation, an unknown field a PropertyConstraintViolation.
OCPP_1X = ErrorDialect(
    name="OCPP 1.x",
    descriptions={
        **_COMMON_DESCRIPTIONS,
        "FormationViolation": "Sender's message is not well-formed.",
        "PropertyConstraintViolation": (
            "A property name in sender's message is not conform to the PDU structure."
        ),
        "OccurenceConstraintViolation": "Sender's message violates occurence constraints.",
    },
    codes={
        "format": "FormationViolation",
        "type": "TypeConstraintViolation",
        "value": "TypeConstraintViolation",
        "occurrence": "OccurenceConstraintViolation",
        "unknown_field": "PropertyConstraintViolation",
        "protocol": "ProtocolError",
        "not_implemented": "NotImplemented",
        "not_supported": "NotSupported",
        "internal": "InternalError",
        "security": "SecurityError",
        "generic": "GenericError",
        # 1.x has no code of its own for these two: the frame is not well-formed
        "rpc_framework": "FormationViolation",
        "message_type": "FormationViolation",
    },
    aliases={
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
    },
)

#: OCPP 2.x (OCPP-J 2.0.1 and 2.1 Part 4 §4.3): an unparseable frame is an RpcFrameworkError,
#: answered with the id "-1" when its id cannot be read (§4.2.3), and so is a message id
#: longer than 36 characters (Table 4: not a valid RPC request); a payload that is no JSON
#: object is a FormatViolation ("payload for Action is syntactically incorrect"); an unknown
#: message type is MessageTypeNotSupported (2.0.1 §4.4; 2.1 ignores it instead); a value not
#: allowed is a PropertyConstraintViolation; an unknown field breaks the payload's format.
OCPP_2X = ErrorDialect(
    name="OCPP 2.x",
    descriptions={
        **_COMMON_DESCRIPTIONS,
        "FormatViolation": "Sender's payload is not well-formed.",
        "PropertyConstraintViolation": "A field of sender's message holds a value not allowed.",
        "OccurrenceConstraintViolation": "Sender's message violates occurrence constraints.",
        "RpcFrameworkError": "Sender's message is not a valid RPC request.",
        "MessageTypeNotSupported": "The message type number is not supported by the receiver.",
    },
    codes={
        "format": "FormatViolation",
        "type": "TypeConstraintViolation",
        "value": "PropertyConstraintViolation",
        "occurrence": "OccurrenceConstraintViolation",
        "unknown_field": "FormatViolation",
        "protocol": "ProtocolError",
        "not_implemented": "NotImplemented",
        "not_supported": "NotSupported",
        "internal": "InternalError",
        "security": "SecurityError",
        "generic": "GenericError",
        "rpc_framework": "RpcFrameworkError",
        "message_type": "MessageTypeNotSupported",
    },
    malformed="rpc_framework",
    unreadable_id="-1",
    unknown_message_type="message_type",
    long_id="rpc_framework",
    not_an_object="format",
    aliases={
        "FormationViolation": "FormatViolation",
        "OccurenceConstraintViolation": "OccurrenceConstraintViolation",
    },
)

DIALECTS: tuple[ErrorDialect, ...] = (OCPP_1X, OCPP_2X)

#: Every error code ocppsim knows and its default description (a name both dialects send keeps
#: the 1.x wording): what a handler's `OcppError(code)` may carry, what a SOAP Fault is read as.
ERROR_DESCRIPTIONS: dict[str, str] = {**OCPP_2X.descriptions, **OCPP_1X.descriptions}


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


class CallError(OcppError):
    """A CALLERROR (OCPP-J §4.2.3): `call()` raises it when the peer refused a CALL, and a
    handler raises it to refuse one with any OCPP error code. `str()` reads
    `code: description`, then the details when there are some."""

    #: the action of the refused CALL and its unique id, when this side sent it
    action: str | None = None
    unique_id: str | None = None

    def __str__(self) -> str:
        text = f"{self.code}: {self.description}"
        if self.details:
            try:
                text += " " + json.dumps(self.details, ensure_ascii=False)
            except (TypeError, ValueError):
                text += f" {self.details!r}"
        if self.action is not None:
            text += f" (the answer to {self.action} #{self.unique_id})"
        return text

    @classmethod
    def received(
        cls, code: str, description: str, details: Any, action: str, unique_id: str
    ) -> CallError:
        """The CALLERROR a peer sent to our CALL `action` (whatever its code: a peer may send
        one ocppsim does not know)."""
        error = cls.__new__(cls)
        OcppSimError.__init__(error, f"{code}: {description}")
        error.code, error.description = code, description
        error.details = details if details is not None else {}
        error.action, error.unique_id = action, unique_id
        return error


class NotSupportedAnswer(OcppError):
    """Raised (or returned) by a handler to answer a CALL with `NotSupported`."""

    def __init__(self, description: str | None = None):
        super().__init__("NotSupported", description)


# what users catch, shown as `ocppsim.<name>` in tracebacks (importable from there too)
OcppSimError.__module__ = "ocppsim"
CallError.__module__ = "ocppsim"
