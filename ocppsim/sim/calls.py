"""What `call()` does on a Central System or a Charge Point: build the request, check it,
send it on a peer's link and check its answer.

The prompt, plugins and the public API all send through `send_call`. With `validate` (the
default) a request that breaks its schema is not sent (`InvalidMessage` says why) and a
CALLRESULT that breaks its schema raises `InvalidMessage` too; `validate=False` sends what it
is given, to see how a peer copes with an invalid message, and takes any answer (the log
still warns about an invalid one). A CALLERROR raises `CallError`, a timeout `CallTimeout`,
a link that cannot carry the CALL `CallFailed`.
"""

from __future__ import annotations

from typing import Any

from ocppsim.core.errors import CallError, OcppSimError
from ocppsim.core.validation import UnknownMessage, validate
from ocppsim.core.versions import Service, get, known_action
from ocppsim.sim.behaviour import request_payload
from ocppsim.sim.peer import CallFailed, Peer

#: The role that sends the CALLs a service answers, as OCPP names it.
_SENDER: dict[Service, str] = {"cs": "Charge Point", "cp": "Central System"}


class InvalidMessage(OcppSimError, ValueError):
    """A payload breaks its OCPP schema: a request, which was not sent, or the answer to one.

    `action` and `message` (`BootNotificationRequest`) name it, `code` is the OCPP error code
    a receiver gives it, `reason` and `details` say which field is wrong and how, `payload`
    is the payload itself."""

    def __init__(
        self,
        text: str,
        *,
        action: str,
        message: str,
        payload: Any,
        code: str = "",
        reason: str = "",
        details: dict[str, Any] | None = None,
    ):
        super().__init__(text)
        self.action = action
        self.message = message
        self.payload = payload
        self.code = code
        self.reason = reason
        self.details = details or {}


def _check_request(
    peer: Peer, service: Service, action: str, body: Any, variant: str | None
) -> None:
    """Raise InvalidMessage when `body` is not a valid request `action` this side may send."""
    __tracebackhide__ = True
    entry = get(peer.version)
    message = action + "Request"
    if not entry.handles(service, action):
        if entry.is_send(service, action):
            why = f"`{action}' is a SEND in {entry.title} (no answer comes): send it with send()"
        elif entry.handles("cp" if service == "cs" else "cs", action):
            why = f"a {_SENDER[service]} does not send `{action}' in {entry.title}"
        elif known_action(action):
            why = f"`{action}' is not an action of {entry.title}"
        else:
            why = f"unknown action `{action}' for {entry.title}"
        raise InvalidMessage(
            f"{action} not sent: {why} (send it with validate=False to see how the peer copes)",
            action=action,
            message=message,
            payload=body,
        )
    violation = validate(peer.version, message, body, variant)
    if violation is not None:
        raise InvalidMessage(
            f"{action} not sent: {violation.reason} ({violation.code}; send it with"
            " validate=False to see how the peer copes)",
            action=action,
            message=message,
            payload=body,
            code=violation.code,
            reason=violation.reason,
            details=violation.details,
        )


def _check_answer(peer: Peer, action: str, result: Any, variant: str | None) -> None:
    __tracebackhide__ = True
    message = action + "Response"
    try:
        violation = validate(peer.version, message, result, variant)
    except UnknownMessage:
        return
    if violation is not None:
        raise InvalidMessage(
            f"the answer to {action} breaks its schema: {violation.reason} ({violation.code})",
            action=action,
            message=message,
            payload=result,
            code=violation.code,
            reason=violation.reason,
            details=violation.details,
        )


async def send_call(
    peer: Peer,
    action: str,
    payload: Any = None,
    *,
    validate: bool = True,
    defaults: bool = True,
    variant: str | None = None,
) -> Any:
    """Send `action` to the other end of `peer`'s link; the CALLRESULT's payload.

    Fields missing from `payload` come from the version's default request unless
    `defaults=False` (a None value drops a default field)."""
    __tracebackhide__ = True  # pytest shows the caller's line and the error
    service: Service = "cp" if peer.service == "cs" else "cs"  # the service that answers
    if validate:
        entry = get(peer.version)
        if entry.handles(service, action):
            body = request_payload(peer.version, service, action, payload, defaults)
        else:
            body = payload if payload is not None else {}
        _check_request(peer, service, action, body, variant)
    else:
        try:
            body = request_payload(peer.version, service, action, payload, defaults)
        except OcppSimError:  # an action of another version or the other side: as given
            body = payload if payload is not None else {}
    try:
        result = await peer.call(action, body)
    except CallFailed as exc:
        error = exc.error
        if error is None:
            raise
        raise CallError.received(
            error.code, error.description, error.details, action, error.unique_id
        ) from None
    if validate:
        _check_answer(peer, action, result, variant)
    return result


def _check_send(peer: Peer, service: Service, action: str, body: Any, variant: str | None) -> None:
    """Raise InvalidMessage when `body` is not a valid SEND `action` this side may send."""
    __tracebackhide__ = True
    entry = get(peer.version)
    if not entry.is_send(service, action):
        kind = "a CALL" if entry.handles(service, action) else "no SEND"
        raise InvalidMessage(
            f"{action} not sent: `{action}' is {kind} of {entry.title}"
            " (send it with validate=False to see how the peer copes)",
            action=action,
            message=action,
            payload=body,
        )
    violation = validate(peer.version, action, body, variant)
    if violation is not None:
        raise InvalidMessage(
            f"{action} not sent: {violation.reason} ({violation.code}; send it with"
            " validate=False to see how the peer copes)",
            action=action,
            message=action,
            payload=body,
            code=violation.code,
            reason=violation.reason,
            details=violation.details,
        )


async def send_message(
    peer: Peer,
    action: str,
    payload: Any = None,
    *,
    validate: bool = True,
    defaults: bool = True,
    variant: str | None = None,
) -> str:
    """Send the SEND `action` (OCPP 2.1) to the other end of `peer`'s link; its unique id once
    it went out. Nothing answers a SEND, so nothing waits (OCPP-J 2.1 §4.2.5).

    Fields missing from `payload` come from the SEND's default payload unless `defaults=False`;
    `validate=False` sends it unchecked. Raises InvalidMessage, CallFailed, and OcppSimError
    where the version has no SEND."""
    __tracebackhide__ = True
    service: Service = "cp" if peer.service == "cs" else "cs"  # the service that receives it
    try:
        body = request_payload(peer.version, service, action, payload, defaults)
    except OcppSimError:  # an action of another version: as given
        body = payload if payload is not None else {}
    if validate:
        _check_send(peer, service, action, body, variant)
    return (await peer.send(action, body)).unique_id


# what users catch, shown as `ocppsim.<name>` in tracebacks (importable from there too)
InvalidMessage.__module__ = "ocppsim"
