"""What the simulators do, as values: small frozen events on a synchronous bus.

A Central System or Charge Point publishes one event per thing that happens (a server
listening, a charge point connected, a frame sent or received, a CALL refused, a timeout…)
to its `EventBus`. The text and JSON logs are subscribers that render them as lines; tests,
plugins, checks and recordings subscribe the same way, and nothing waits on formatted text.

Every event names its `speaker` (`cs`, `cp#<id>`, or None for the process as a whole); the
events of one link also name the `peer` at its other end (`cp#<id>`, `cs`) and the
`transport` (`websocket` for OCPP-J, `soap`). Frame events carry the text that went over
the wire, the text the log shows for it, and the message it was read as, when it was one.

Publishing is on the hot path (two frames per round trip): subscribers are plain callables
called in order, at once; one that raises is reported and the others still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocppsim.core.rpc import Message

_log = logging.getLogger("ocppsim.events")

WEBSOCKET, SOAP = "websocket", "soap"


@dataclass(frozen=True, slots=True)
class ServerStarted:
    """A Central System listens on `port`."""

    speaker: str
    transport: str
    port: int


@dataclass(frozen=True, slots=True)
class Connected:
    """A link is up: a charge point connected to the CS (SOAP: its first request), or a CP
    reached its CS (SOAP: its callback server listens)."""

    speaker: str
    peer: str
    transport: str
    charge_point_id: str
    protocol: str
    #: the security profile of the link (OCPP-J: 1, 2 or 3), None without one
    profile: int | None = None


@dataclass(frozen=True, slots=True)
class Disconnected:
    """A link is down; `reason` says how it ended (`1000 normal closure`, why a SOAP box
    was forgotten). `replaced`: a newer connection of the same charge point took its place.
    `retry_in`: seconds until a Charge Point dials again (None when it does not)."""

    speaker: str
    peer: str
    transport: str
    charge_point_id: str
    reason: str
    replaced: bool = False
    retry_in: float | None = None


@dataclass(frozen=True, slots=True)
class FrameSent:
    """One message went out: `wire` as sent (an OCPP-J frame, a SOAP envelope, a raw text),
    `text` as the log shows it (the compact frame; for SOAP the JSON view `/Action {…}`),
    `message` what it is when it is one."""

    speaker: str
    peer: str
    transport: str
    wire: str
    text: str
    message: Message | None = None


@dataclass(frozen=True, slots=True)
class FrameReceived:
    """One message came in (same fields as `FrameSent`)."""

    speaker: str
    peer: str
    transport: str
    wire: str
    text: str
    message: Message | None = None


Frame = FrameSent | FrameReceived


@dataclass(frozen=True, slots=True)
class FrameUnreadable:
    """What came in cannot be read as a message of the link's version. OCPP 1.x does not
    answer it; OCPP-J 2.x answers it with the CALLERROR `code` under `unique_id` (`"-1"` when
    its id cannot be read: RpcFrameworkError, Part 4 §4.2.3; 2.0.1's MessageTypeNotSupported
    for an unknown message type, §4.4)."""

    speaker: str
    peer: str
    transport: str
    text: str
    reason: str
    unique_id: str | None = None
    code: str | None = None


@dataclass(frozen=True, slots=True)
class FrameIgnored:
    """What came in is ignored as OCPP says (2.1: an unknown message type, §4.4; a malformed
    SEND, which nothing answers): nothing answers it."""

    speaker: str
    peer: str
    transport: str
    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class SendInvalid:
    """A SEND received (OCPP 2.1) is not a valid one: `code` and `reason` say why, as a
    CALLERROR would, but nothing answers a SEND (Part 4 §4.2.5); it is still handed on."""

    speaker: str
    peer: str
    transport: str
    unique_id: str
    action: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class CallResultErrorReceived:
    """The peer could not accept our CALLRESULT `unique_id` (the answer to a CALL `action`,
    None when it is no longer remembered) and said so with a CALLRESULTERROR (OCPP 2.1)."""

    speaker: str
    peer: str
    transport: str
    unique_id: str
    action: str | None
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class CallRefused:
    """A CALL received was answered with the CALLERROR `code` (OCPP-J §4.2.3) because of
    `reason` (a malformed message, an unknown action, a schema violation)."""

    speaker: str
    peer: str
    transport: str
    unique_id: str
    action: str | None
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class ResultInvalid:
    """The CALLRESULT of a CALL this side sent breaks its schema (it is still taken; in OCPP
    2.1 a CALLRESULTERROR with `code` goes back, Part 4 §4.2.4)."""

    speaker: str
    peer: str
    transport: str
    unique_id: str
    action: str
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class AnswerIgnored:
    """A CALLRESULT or CALLERROR whose unique id no pending CALL has."""

    speaker: str
    peer: str
    transport: str
    unique_id: str


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """No answer came to a CALL in time; the caller gave up on it."""

    speaker: str
    peer: str
    transport: str
    unique_id: str
    action: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Anything else worth a line: `text` at a `logging` level (INFO, WARNING, ERROR)."""

    speaker: str | None
    text: str
    level: int = logging.INFO


Event = (
    ServerStarted
    | Connected
    | Disconnected
    | FrameSent
    | FrameReceived
    | FrameUnreadable
    | FrameIgnored
    | SendInvalid
    | CallResultErrorReceived
    | CallRefused
    | ResultInvalid
    | AnswerIgnored
    | CallTimedOut
    | Notice
)
Subscriber = Callable[[Any], None]


class EventBus:
    """Delivers each event to every subscriber, synchronously, in subscription order."""

    __slots__ = ("_subscribers",)

    def __init__(self, *subscribers: Subscriber):
        self._subscribers: tuple[Subscriber, ...] = subscribers

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Add `subscriber(event)`; returns the function that removes it again."""
        self._subscribers = (*self._subscribers, subscriber)

        def unsubscribe() -> None:
            self._subscribers = tuple(s for s in self._subscribers if s != subscriber)

        return unsubscribe

    def publish(self, event: Event) -> None:
        """Tell every subscriber; one that raises is reported and the others still hear."""
        for subscriber in self._subscribers:
            try:
                subscriber(event)
            except Exception:  # a subscriber's bug never stops the simulator
                _log.error("event subscriber %r failed on %r", subscriber, event, exc_info=True)

    def notice(self, speaker: str | None, text: str, level: int = logging.INFO) -> None:
        """Publish a `Notice`."""
        self.publish(Notice(speaker, text, level))
