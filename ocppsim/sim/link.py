"""What a `Peer` drives: one link to the other end of an OCPP conversation, whatever carries it.

Two kinds exist. An OCPP-J link (`sim/websocket.py`) carries frames over a WebSocket: a
CALL is a frame out, its answer a frame in; a reply is written at once. A SOAP link
(`sim/soap.py`) carries a CALL as an HTTP request and its answer as the HTTP response
(MessageID/RelatesTo ↔ unique id): `send_call` returns once the response has been fed back
to the peer, and `send_reply` completes the HTTP response a received request waits for.

A link encodes the messages the peer's `RpcSession` makes (`encode`: the text on the wire
and the text the log shows), tells its peer what came in (`LinkUser`), and says how it
ended (`close_description`). Links are picked by name (`websocket`, `soap`), never tested
with `isinstance`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ocppsim.core.errors import OcppSimError
from ocppsim.core.rpc import Call, CallError, CallResult, CallResultError, Message, Send


class EncodeError(OcppSimError):
    """A message this link cannot carry (SOAP: its payload does not fit the WSDL)."""


class LinkUser(Protocol):
    """What a link tells the peer it serves."""

    def receive_frame(self, text: str) -> None:
        """An OCPP-J frame came in."""

    def receive_message(self, message: Message, wire: str, text: str) -> None:
        """A message the link decoded came in (`wire` as received, `text` for the log)."""

    def frame_sent(self, wire: str, text: str, message: Message | None = None) -> None:
        """The link sent something on its own (a raw text)."""

    def frame_received(self, wire: str, text: str, message: Message | None = None) -> None:
        """The link received something that is no message for the session (a raw answer)."""

    def notice(self, text: str, level: int = ...) -> None:
        """A line about the link (HTTP headers, a RelatesTo that does not match)."""

    def link_closed(self, error: BaseException | None) -> None:
        """The link is over (`error`: what ended it, when it was a failure of ours)."""


class Link(Protocol):
    """One link to the other end; see the module docstring."""

    #: `websocket` or `soap`
    transport: str
    #: whether `ping` works on this link
    pings: bool
    #: the unique ids of the CALLs sent on it (OCPP-J: 32 characters; SOAP: `urn:uuid:…`)
    new_unique_id: Callable[[], str]

    @property
    def is_open(self) -> bool:
        """True while messages can be sent."""

    @property
    def remote_address(self) -> str:
        """`host:port` of the other end, for PING lines."""

    @property
    def close_description(self) -> str:
        """How the link ended, for a log line (`1000 normal closure`)."""

    def start(self, peer: LinkUser) -> None:
        """Deliver what comes in to `peer` from now on (no task per link)."""

    def encode(self, message: Message) -> tuple[str, str]:
        """The text `message` travels as, and the text the log shows (EncodeError)."""

    async def send_call(
        self, call: Call, wire: str, timeout: float, sent: Callable[[], None]
    ) -> None:
        """Send a CALL, telling `sent()` once it goes out (not when it cannot); its answer
        reaches the peer like any message. CallFailed when it cannot be sent or its link
        fails (`sent=True` once it went out), asyncio.TimeoutError when no answer comes
        within `timeout`."""

    def send_reply(self, reply: CallResult | CallError | CallResultError, wire: str) -> None:
        """Send the answer to a received message, now (a CALL's CALLRESULT or CALLERROR; in
        OCPP-J 2.x, a CALLERROR for a frame it cannot read and a CALLRESULT's
        CALLRESULTERROR)."""

    async def send(self, message: Send, wire: str) -> None:
        """Send a message nothing answers (an OCPP 2.1 SEND); CallFailed when it cannot go."""

    def raw_call(self, text: str) -> Call | None:
        """The CALL a raw text is, when its answer will come back as a message."""

    async def send_raw(self, text: str, show_headers: bool) -> None:
        """Send `text` as is (reporting it, and what came back, to the peer)."""

    async def ping(self) -> Any:
        """One transport-level ping, answered."""

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """End the link properly (a close frame; SOAP: no more requests routed to it)."""

    def abort(self, code: int = 1011, reason: str = "") -> None:
        """End the link at once (a dead peer)."""
