"""Faults injected on purpose, each on the side that runs it, to see how the other end copes.

A fault is set on a simulator: on a Central System it acts on what it sends to one charge
point (`charge_point_id`) or to every one, those that connect later included; on a Charge
Point it acts on what that Charge Point sends to its Central System. `KINDS` is the table of
kinds (what each does, what the other end sees, its options, whether SOAP has it); the
prompt's `fault` command, its help and completion, the scenarios' `fault` step and the docs
read it.

While faults apply to a link, its `Peer.faults` is a `PeerFaults`, which the pipeline asks at
three points: an answer about to go out (`answer`: held, dropped, doubled, its unique id
changed, broken, replaced by a CALLERROR, its date-times skewed), a CALL or SEND being built
(`outgoing`: date-times skewed) and one that went out (`sent`: doubled, counted for a close
after N frames). Without faults `Peer.faults` is None and the pipeline pays one test per
message (the hot path stays as fast: `bench/bench_ws.py`). Link faults (a TCP reset, reading
stopped, a reconnect storm) act on the connection itself.

Every time a fault acts it publishes `FaultInjected` (the log's `fault: …` line) just before
the frame it changed, and `FaultChanged` when it is set, cleared or over, so that
recordings and verdicts tell an injected fault from a real one.

    fault = inject(cs, "drop", "cp01", times=3)   # the next 3 answers to cp01 are not sent
    clear(cs, "drop")
"""

from __future__ import annotations

import asyncio
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from ocppsim.core import events
from ocppsim.core.errors import OcppSimError
from ocppsim.core.rpc import Call, CallError, CallResult, CallResultError, Message, Send
from ocppsim.core.versions import get

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer

Side = Literal["cs", "cp"]
Answer = CallResult | CallError | CallResultError

#: When a fault acts: on the answers this side sends, on every frame it sends, on the link
#: itself while set, when a link comes up, or once, at once.
ANSWER, FRAME, LINK, CONNECT, NOW = "answer", "frame", "link", "connect", "now"

#: How long a SOAP request whose answer was dropped is held before its HTTP exchange is ended
#: (with a Fault nobody waits for any more): the caller gave up on it long before.
SOAP_DROP_HOLD = 120.0


class FaultError(OcppSimError, ValueError):
    """A fault that cannot be set: an unknown kind or option, a value out of range, a kind
    the side or the transport does not have. The text says what to do."""


@dataclass(frozen=True)
class FaultOption:
    """One option of a kind (`--seconds 2`): its name, what it means, how its value reads."""

    name: str
    help: str
    #: `seconds` (a number ≥ 0), `signed` (a number, maybe negative), `count` (an integer ≥ 0),
    #: `text`, `action` (an OCPP action name), `flag` (no value)
    type: str
    default: Any = None
    required: bool = False

    @property
    def flag(self) -> str:
        return f"--{self.name}"

    @property
    def metavar(self) -> str:
        return {"seconds": "<s>", "signed": "<±s>", "count": "<n>", "flag": ""}.get(
            self.type, f"<{self.name}>"
        )

    def read(self, value: Any) -> Any:
        """The option's value from text (the prompt), or as given (the API, a scenario)."""
        try:
            if self.type in ("seconds", "signed"):
                number = float(value)
                if not math.isfinite(number) or (self.type == "seconds" and number < 0):
                    raise ValueError
                return number
            if self.type == "count":
                if isinstance(value, bool):
                    raise ValueError
                count = int(value)
                if count < 0 or float(value) != count:
                    raise ValueError
                return count
            if self.type == "flag":
                return value not in (False, None, "false", "no", "0")
        except (TypeError, ValueError):
            what = {
                "seconds": "a number of seconds, 0 or more",
                "signed": "a number of seconds (negative: earlier)",
                "count": "a whole number, 0 or more",
            }[self.type]
            raise FaultError(f"--{self.name} takes {what}, not {value!r}") from None
        text = str(value)
        if not text:
            raise FaultError(f"--{self.name} needs a value")
        return text


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault: what it does (`title`), what the other end sees (`seen`), when it
    acts, its options, the sides that have it and why SOAP has not (None: SOAP has it)."""

    name: str
    title: str
    seen: str
    acts_on: str
    options: tuple[FaultOption, ...] = ()
    sides: tuple[Side, ...] = ("cs", "cp")
    soap: str | None = None
    #: takes --for N / --once (how many times it acts); otherwise it acts once, or as long as
    #: its own option says
    counted: bool = True
    #: takes --action (acts only on that action's messages)
    filtered: bool = True

    def option(self, name: str) -> FaultOption | None:
        return next((o for o in self.options if o.name == name), None)


_SECONDS = FaultOption("seconds", "how long each answer is held", "seconds", required=True)

KINDS: dict[str, FaultKind] = {
    kind.name: kind
    for kind in (
        FaultKind(
            "delay",
            "delay answers",
            "each answer arrives `--seconds` late (after its CALL timed out, if longer)",
            ANSWER,
            (_SECONDS,),
        ),
        FaultKind(
            "drop",
            "drop answers",
            "no answer: the CALL times out (SOAP: no HTTP response)",
            ANSWER,
        ),
        FaultKind(
            "duplicate",
            "duplicate frames",
            "every frame twice: a CALL is answered twice, the second answer to a CALL is"
            " `no pending CALL` (SOAP: CALLs only, posted twice)",
            FRAME,
        ),
        FaultKind(
            "wrong-id",
            "wrong unique id in answers",
            "answers under a unique id no CALL has: `no pending CALL`, then a timeout (SOAP:"
            " RelatesTo)",
            ANSWER,
        ),
        FaultKind(
            "invalid-answer",
            "answers that break their schema",
            "a CALLRESULT with a value its schema does not allow (or a required field"
            " missing): refused or warned about",
            ANSWER,
        ),
        FaultKind(
            "callerror",
            "CALLERROR answers",
            "a CALLERROR with `--code` and `--description` instead of each answer (SOAP: a Fault)",
            ANSWER,
            (
                FaultOption("code", "the error code", "text", "InternalError"),
                FaultOption("description", "the error description", "text", "injected by ocppsim"),
            ),
        ),
        FaultKind(
            "close",
            "close the connection",
            "a close frame (`--code`) after `--after` more frames this side sends",
            FRAME,
            (
                FaultOption("after", "frames to send first (0: now)", "count", 0),
                FaultOption("code", "the close code", "count", 1000),
            ),
            soap="a SOAP link has no connection to close",
            counted=False,
            filtered=False,
        ),
        FaultKind(
            "reset",
            "TCP reset",
            "the TCP connection reset (RST), no close frame: 1006 abnormal closure",
            NOW,
            soap="a SOAP link has no connection to reset",
            counted=False,
            filtered=False,
        ),
        FaultKind(
            "stop-reading",
            "stop reading",
            "a slow consumer: what the other end sends backs up, its pings go unanswered",
            LINK,
            (FaultOption("seconds", "read again after this long (default: never)", "seconds"),),
            soap="SOAP requests are answered or not: use drop or delay",
            counted=False,
            filtered=False,
        ),
        FaultKind(
            "send-before-boot",
            "a CALL before BootNotification",
            "on each connection, a CALL (`--action`) before the BootNotification",
            CONNECT,
            (FaultOption("action", "the CALL sent first", "action", "Heartbeat"),),
            sides=("cp",),
            filtered=False,
        ),
        FaultKind(
            "clock-skew",
            "clock skew",
            "every date-time this side sends is `--seconds` off (negative: earlier)",
            FRAME,
            (FaultOption("seconds", "the offset", "signed", required=True),),
        ),
        FaultKind(
            "reconnect-storm",
            "reconnect storm",
            "the link dropped `--count` times, `--interval` after each connection (a Charge"
            " Point dials again at once)",
            NOW,
            (
                FaultOption("count", "how many times", "count", 10),
                FaultOption("interval", "seconds connected before each drop", "seconds", 0.5),
            ),
            soap="a SOAP link has no connection to drop",
            counted=False,
            filtered=False,
        ),
    )
}

#: The options every counted kind takes, and --action for the filtered ones.
COMMON_OPTIONS = (
    FaultOption("for", "act this many times, then stop (default: until cleared)", "count"),
    FaultOption("once", "act once (--for 1)", "flag"),
    FaultOption("action", "act only on the messages of this action", "action"),
)


def kind_of(name: str) -> FaultKind:
    """The kind called `name` (FaultError listing the kinds otherwise)."""
    kind = KINDS.get(name)
    if kind is None:
        raise FaultError(f"unknown fault `{name}' (kinds: {', '.join(KINDS)})")
    return kind


def read_options(kind: FaultKind, given: Mapping[str, Any]) -> dict[str, Any]:
    """The kind's options from `given` (names with or without `--`), checked, defaults
    filled in; FaultError for an option the kind does not take or a missing one."""
    values: dict[str, Any] = {}
    for key, value in given.items():
        name = key.removeprefix("--")
        option = kind.option(name)
        if option is None:
            takes = ", ".join(o.flag for o in kind.options) or "no options of its own"
            raise FaultError(f"`--{name}' is no option of fault {kind.name} (it takes {takes})")
        values[name] = option.read(value)
    for option in kind.options:
        if option.name not in values:
            if option.required:
                raise FaultError(f"fault {kind.name} needs {option.flag} {option.metavar}")
            values[option.name] = option.default
    return values


@dataclass(eq=False)
class Fault:
    """One fault set on one side: its kind and options, which charge point it is for (a
    Central System's: None for every one), the action it is limited to, and how many more
    times it acts (`left`, None: until cleared)."""

    kind: FaultKind
    options: dict[str, Any]
    side: Side
    speaker: str
    charge_point_id: str | None = None
    action: str | None = None
    left: int | None = None
    #: its number in `fault list`
    number: int = 0
    #: set once it no longer acts (cleared, or over)
    done: bool = False
    _table: FaultTable | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.kind.name

    def applies_to(self, charge_point_id: str) -> bool:
        return self.charge_point_id is None or self.charge_point_id == charge_point_id

    def matches(self, action: str | None) -> bool:
        return self.action is None or self.action == action

    def describe(self) -> str:
        """`drop answers to cp#cp01 (Heartbeat), 3 times`: what `fault list` shows."""
        text = self.kind.title
        options = self.options
        name = self.kind.name
        if name == "delay":
            text += f" by {options['seconds']:g} s"
        elif name == "callerror":
            text = f"CALLERROR {options['code']} answers"
        elif name == "close":
            after = options["after"]
            text += f" ({options['code']})" + (f" after {after} frames" if after else "")
        elif name == "stop-reading" and options.get("seconds"):
            text += f" for {options['seconds']:g} s"
        elif name == "send-before-boot":
            text = f"{options['action']} before BootNotification"
        elif name == "clock-skew":
            text += f" {options['seconds']:+g} s"
        elif name == "reconnect-storm":
            text += f" ({options['count']} drops, {options['interval']:g} s apart)"
        if self.side == "cs":
            target = self.charge_point_id
            text += f" to cp#{target}" if target is not None else " to every charge point"
        if self.action is not None:
            text += f" ({self.action})"
        if self.left and self.kind.counted:
            text += ", once" if self.left == 1 else f", {self.left} times"
        return text


class FaultTable:
    """The faults set on one simulator (a Central System or a Charge Point) and the links they
    apply to: it gives each link of its owner the `PeerFaults` that concern it."""

    def __init__(self, owner: Any):
        #: the CentralSystem or ChargePoint it belongs to
        self.owner = owner
        self.side: Side = "cs" if owner.speaker == "cs" else "cp"
        self.faults: list[Fault] = []
        self._numbers = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timers: dict[Fault, asyncio.TimerHandle] = {}
        #: answers held (delayed, or a SOAP exchange whose answer was dropped), to end at stop
        self._held: dict[asyncio.TimerHandle, tuple[Peer, Answer, str, str, Message | None]] = {}
        #: connections seen while a reconnect storm waits for them
        self._connected: asyncio.Event | None = None

    # -- the owner's links ---------------------------------------------------------------------

    def _peers(self) -> list[Peer]:
        owner = self.owner
        if self.side == "cs":
            return list(owner.peers.values())
        peer = owner.peer
        return [peer] if peer is not None and peer.connected else []

    def _for(self, peer: Peer) -> PeerFaults | None:
        mine = [f for f in self.faults if f.applies_to(peer.charge_point_id)]
        return PeerFaults(self, mine) if mine else None

    def refresh(self) -> None:
        """Give every link of the owner the faults that concern it now."""
        for peer in self._peers():
            peer.faults = self._for(peer)

    def attach(self, peer: Peer) -> None:
        """A link came up: its faults, and those that act on a new connection."""
        peer.faults = self._for(peer)
        if self._connected is not None:
            self._connected.set()
        for fault in list(self.faults):
            if not fault.applies_to(peer.charge_point_id):
                continue
            if fault.name == "stop-reading":
                _stall(peer, True)
            elif fault.name == "send-before-boot":
                self._send_before_boot(fault, peer, connecting=True)
            elif fault.name == "reconnect-storm" and self.side == "cs":
                self._drop_later(fault, peer)

    # -- setting and clearing -------------------------------------------------------------------

    def add(self, fault: Fault) -> Fault:
        """Set `fault` and act at once where it does (a reset, a storm, a stalled link)."""
        self._numbers += 1
        fault.number = self._numbers
        fault._table = self
        self._publish_change(fault, "set")
        name = fault.name
        peers = [p for p in self._peers() if fault.applies_to(p.charge_point_id)]
        if name == "reset":
            for peer in peers:
                self.injected(peer, fault, "TCP connection reset")
                _connection(peer).reset()
            self._over(fault)
            return fault
        if name == "close" and fault.options["after"] == 0:
            for peer in peers:
                self._close(peer, fault)
            self._over(fault)
            return fault
        if name == "reconnect-storm":
            fault.left = fault.options["count"]
            if fault.left == 0:
                self._over(fault)
                return fault
        if name == "close":
            fault.left = fault.options["after"]
        self.faults.append(fault)
        self.refresh()
        if name == "stop-reading":
            for peer in peers:
                _stall(peer, True)
                self.injected(peer, fault, "reading stopped")
            seconds = fault.options.get("seconds")
            if seconds:
                loop = asyncio.get_running_loop()
                self._timers[fault] = loop.call_later(seconds, self._over, fault)
        elif name == "send-before-boot":
            for peer in peers:
                self._send_before_boot(fault, peer)
        elif name == "reconnect-storm":
            if self.side == "cp":
                self._spawn(self._storm(fault))
            else:
                for peer in peers:
                    self._drop_later(fault, peer)
        return fault

    def clear(self, kind: str | None = None, charge_point_id: str | None = None) -> list[Fault]:
        """Clear the faults of `kind` (every kind when None) for `charge_point_id` (every one
        when None); the cleared ones."""
        gone = [
            f
            for f in self.faults
            if (kind is None or f.name == kind)
            and (charge_point_id is None or f.charge_point_id in (None, charge_point_id))
        ]
        for fault in gone:
            self._end(fault, "cleared")
        return gone

    def close(self) -> None:
        """The owner stops: every fault ends, quietly; a SOAP exchange held gets its answer
        now (an HTTP server stops only once every request is answered)."""
        for fault in list(self.faults):
            fault.done = True
        self.faults.clear()
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        held, self._held = self._held, {}
        for timer, (peer, reply, wire, text, shown) in held.items():
            timer.cancel()
            if peer.transport == "soap":
                peer.send_answer(reply, wire, text, shown)
        for task in list(self._tasks):
            task.cancel()

    def _end(self, fault: Fault, state: str) -> None:
        if fault.done:
            return
        fault.done = True
        if fault in self.faults:
            self.faults.remove(fault)
        timer = self._timers.pop(fault, None)
        if timer is not None:
            timer.cancel()
        if fault.name == "stop-reading":
            for peer in self._peers():
                if fault.applies_to(peer.charge_point_id) and not any(
                    f.name == "stop-reading" and f.applies_to(peer.charge_point_id)
                    for f in self.faults
                ):
                    _stall(peer, False)
        self.refresh()
        self._publish_change(fault, state)

    def _over(self, fault: Fault) -> None:
        self._end(fault, "over")

    def used(self, fault: Fault) -> int | None:
        """`fault` acted once more: how many times it has left (at 0 it is over once
        `injected` has said what it did)."""
        if fault.left is None:
            return None
        fault.left = max(0, fault.left - 1)
        return fault.left

    # -- events ---------------------------------------------------------------------------------

    def _publish_change(self, fault: Fault, state: str) -> None:
        owner = self.owner
        owner.bus.publish(
            events.FaultChanged(
                owner.speaker, fault.name, state, fault.describe(), fault.charge_point_id
            )
        )

    def injected(
        self,
        peer: Peer,
        fault: Fault,
        text: str,
        unique_id: str | None = None,
        action: str | None = None,
        left: int | None = None,
    ) -> None:
        """Publish that `fault` acted on the link to `peer` (`fault: …` in the log)."""
        about = f"{fault.kind.title}" + (f" to {peer.label}" if self.side == "cs" else "")
        peer.bus.publish(
            events.FaultInjected(
                peer.speaker,
                peer.label,
                peer.transport,
                fault.name,
                f"{about}: {text}",
                unique_id,
                action,
                left,
            )
        )
        if fault.left == 0 and fault.kind.counted:
            self._over(fault)

    # -- link faults ---------------------------------------------------------------------------

    def hold(
        self, seconds: float, peer: Peer, reply: Answer, wire: str, text: str, shown: Message | None
    ) -> None:
        """Send an answer `seconds` from now (if its link is still there)."""
        loop = asyncio.get_running_loop()
        held = self._held

        def send() -> None:
            held.pop(timer, None)
            peer.send_answer(reply, wire, text, shown)

        timer = loop.call_later(seconds, send)
        held[timer] = (peer, reply, wire, text, shown)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _close(self, peer: Peer, fault: Fault) -> None:
        """Close the link properly (a close frame with the fault's code), in the background."""
        code = int(fault.options["code"])
        self.injected(peer, fault, f"closing the connection ({code})")

        async def close() -> None:
            try:
                await peer.close(code, "fault injected by ocppsim")
            except (OSError, ConnectionError, asyncio.TimeoutError):
                pass

        self._spawn(close())

    def _send_before_boot(self, fault: Fault, peer: Peer, connecting: bool = False) -> None:
        """The fault's CALL, then a BootNotification, each with its default payload. On a
        new connection of a Charge Point whose model boots by itself, only the CALL: it goes
        first (asked for before the model's boot, and one CALL goes at a time)."""
        from ocppsim.sim.behaviour import request_payload
        from ocppsim.sim.peer import CallFailed

        action = fault.options["action"]
        left = self.used(fault)
        self.injected(peer, fault, f"{action} before BootNotification", action=action, left=left)
        boots_itself = connecting and getattr(self.owner, "driver", None) is not None
        sequence = (action,) if boots_itself else (action, "BootNotification")

        async def calls() -> None:
            for each in sequence:
                try:
                    await peer.call(each, request_payload(peer.version, "cs", each, None))
                except (CallFailed, OcppSimError):
                    return  # its line is logged: the link went, or the CS refused

        self._spawn(calls())

    def _drop_later(self, fault: Fault, peer: Peer) -> None:
        """A Central System's reconnect storm: drop this link after the interval."""
        loop = asyncio.get_running_loop()
        loop.call_later(fault.options["interval"], self._drop, fault, peer)

    def _drop(self, fault: Fault, peer: Peer) -> None:
        if fault.done or not peer.connected:
            return
        left = self.used(fault)
        self.injected(peer, fault, "dropping the connection", left=left)
        peer.abort(1001, "reconnect storm injected by ocppsim")
        if left == 0:
            self._over(fault)

    async def _storm(self, fault: Fault) -> None:
        """A Charge Point's reconnect storm: drop the link, dial again at once, `count` times."""
        cp = self.owner
        self._connected = asyncio.Event()
        try:
            while not fault.done and (fault.left or 0) > 0:
                if not cp.connected:
                    self._connected.clear()
                    await self._connected.wait()
                await asyncio.sleep(fault.options["interval"])
                peer = cp.peer
                if fault.done or peer is None or not peer.connected:
                    continue
                left = self.used(fault)
                self.injected(peer, fault, "dropping the connection", left=left)
                self._connected.clear()
                cp.drop(1001, "reconnect storm injected by ocppsim")
            self._over(fault)
        finally:
            self._connected = None


def _connection(peer: Peer) -> Any:
    """The WebSocket connection under an OCPP-J link (link faults exist for OCPP-J only)."""
    return peer.link.connection  # type: ignore[attr-defined]


def _stall(peer: Peer, stalled: bool) -> None:
    if peer.transport == "websocket" and peer.connected:
        _connection(peer).stall(stalled)


class PeerFaults:
    """The faults that apply to one link, as the pipeline asks them (see the module
    docstring)."""

    __slots__ = ("table", "faults")

    def __init__(self, table: FaultTable, faults: list[Fault]):
        self.table = table
        self.faults = faults

    def _acting(self, acts_on: tuple[str, ...], action: str | None) -> list[Fault]:
        return [
            f for f in self.faults if f.kind.acts_on in acts_on and not f.done and f.matches(action)
        ]

    # -- a CALL or SEND ------------------------------------------------------------------------

    def outgoing(self, peer: Peer, action: str, payload: Any) -> Any:
        """The payload of a CALL or SEND about to be built: its date-times skewed."""
        for fault in self._acting((FRAME,), action):
            if fault.name == "clock-skew":
                shifted, count = skew(payload, fault.options["seconds"])
                if count:
                    payload = shifted
                    left = self.table.used(fault)
                    self.table.injected(
                        peer, fault, _skewed(action, count, fault), action=action, left=left
                    )
        return payload

    def sent(self, peer: Peer, message: Call | Send, wire: str) -> None:
        """A CALL or SEND went out: doubled, counted for a close."""
        for fault in self._acting((FRAME,), message.action):
            if fault.name == "duplicate":
                left = self.table.used(fault)
                uid = message.unique_id
                kind = "CALL" if isinstance(message, Call) else "SEND"
                self.table.injected(
                    peer, fault, f"{kind} #{uid} sent twice", uid, message.action, left
                )
                self.table._spawn(_send_again(peer, wire))
        self._count(peer)

    # -- an answer ------------------------------------------------------------------------------

    def answer(self, peer: Peer, reply: Answer, action: str | None, payload: Any) -> bool:
        """Send `reply` as the faults say; False when none acts on it (the pipeline sends it)."""
        acting = self._acting((ANSWER, FRAME), action)
        if not acting:
            self._count(peer)
            return False
        table = self.table
        uid = reply.unique_id
        about = f"answer #{uid}" + (f" to {action}" if action else "")
        for fault in acting:
            name = fault.name
            if name == "callerror" and not isinstance(reply, CallResultError):
                code, description = fault.options["code"], fault.options["description"]
                reply = CallError(uid, code, description, {})
                left = table.used(fault)
                table.injected(peer, fault, f"{about} is CALLERROR {code}", uid, action, left)
            elif name == "invalid-answer" and isinstance(reply, CallResult) and action:
                broken = break_answer(peer, action, reply)
                if broken is not None:
                    reply, why = broken
                    left = table.used(fault)
                    table.injected(peer, fault, f"{about}: {why}", uid, action, left)
            elif name == "clock-skew" and isinstance(reply, CallResult):
                shifted, count = skew(reply.payload, fault.options["seconds"])
                if count:
                    reply = CallResult(uid, shifted)
                    left = table.used(fault)
                    table.injected(peer, fault, _skewed(about, count, fault), uid, action, left)
        encoded = peer.encode_answer(reply, action, payload)
        if encoded is None:
            return True
        reply, wire, text = encoded
        shown: Message | None = None
        copies, delay = 1, 0.0
        for fault in acting:
            name = fault.name
            if name == "wrong-id":
                shown = replace(reply, unique_id=_wrong_id(peer))
                if peer.transport == "websocket":
                    wire = text = shown.to_frame()
                else:
                    wire = _relates_to(wire, uid, shown.unique_id)
                    peer.link.rewrite_answer(uid, wire)  # type: ignore[attr-defined]
                wrong = shown.unique_id
                left = table.used(fault)
                table.injected(peer, fault, f"{about} sent as #{wrong}", uid, action, left)
            elif name == "drop":
                left = table.used(fault)
                table.injected(peer, fault, f"{about} not sent", uid, action, left)
                if peer.transport == "soap":  # end the HTTP exchange once nobody waits
                    table.hold(SOAP_DROP_HOLD, peer, reply, wire, text, shown)
                return True
            elif name == "delay":
                delay = max(delay, fault.options["seconds"])
                left = table.used(fault)
                table.injected(
                    peer, fault, f"{about} held {fault.options['seconds']:g} s", uid, action, left
                )
            elif name == "duplicate" and peer.transport == "websocket":
                copies = 2
                left = table.used(fault)
                table.injected(peer, fault, f"{about} sent twice", uid, action, left)
        if delay:
            for _ in range(copies):
                table.hold(delay, peer, reply, wire, text, shown)
        else:
            for _ in range(copies):
                peer.send_answer(reply, wire, text, shown)
        self._count(peer)
        return True

    def _count(self, peer: Peer) -> None:
        """A frame went out: a close after N frames comes nearer."""
        for fault in self.faults:
            if fault.name == "close" and not fault.done:
                left = fault.left = max(0, (fault.left or 0) - 1)
                if left == 0:
                    self.table._close(peer, fault)
                    self.table._over(fault)


async def _send_again(peer: Peer, wire: str) -> None:
    """The duplicate of a CALL or SEND, once the original went (OCPP-J: the same frame;
    SOAP: the same request posted again, its answer shown as it comes)."""
    from ocppsim.sim.peer import CallFailed

    try:
        await peer.link.send_raw(wire, False)
    except (CallFailed, OcppSimError, OSError, ConnectionError):
        pass  # the link went meanwhile


def _wrong_id(peer: Peer) -> str:
    """A unique id no CALL has: `ocppsim-fault-…` (36 characters) over OCPP-J, a fresh
    `urn:uuid:` over SOAP."""
    fresh = peer.link.new_unique_id()
    return fresh if peer.transport == "soap" else ("ocppsim-fault-" + fresh)[:36]


def _relates_to(wire: str, unique_id: str, wrong: str) -> str:
    """A SOAP answer's envelope with RelatesTo naming `wrong` instead of `unique_id`."""
    pattern = re.compile(r"(RelatesTo[^>]*>\s*)" + re.escape(unique_id))
    return pattern.sub(lambda m: m.group(1) + wrong, wire, count=1)


def _skewed(what: str, count: int, fault: Fault) -> str:
    dates = "date-time" if count == 1 else "date-times"
    return f"{what}: {count} {dates} moved {fault.options['seconds']:+g} s"


# -- clock skew --------------------------------------------------------------------------------

#: An RFC 3339 date-time as OCPP writes them (fraction and zone optional: 1.2/1.5 SOAP).
_DATE_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"
)


def shift_date_time(text: str, seconds: float) -> str | None:
    """`text` moved by `seconds`, written as it was (fraction digits, zone); None when it is
    no date-time."""
    found = _DATE_TIME.match(text)
    if found is None:
        return None
    whole, fraction, zone = found.groups()
    try:
        moment = datetime.fromisoformat(whole)
    except ValueError:
        return None
    if fraction:  # by hand: Python 3.10's fromisoformat reads 3 or 6 digits only
        moment += timedelta(microseconds=int((fraction[1:] + "000000")[:6]))
    moment += timedelta(seconds=seconds)
    written = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        digits = len(fraction) - 1
        micro = f"{moment.microsecond:06d}"
        written += "." + (micro[:digits] if digits <= 6 else micro + "0" * (digits - 6))
    return written + (zone or "")


def skew(payload: Any, seconds: float) -> tuple[Any, int]:
    """A copy of `payload` with every date-time string moved by `seconds`, and how many."""
    count = 0

    def walk(value: Any) -> Any:
        nonlocal count
        if isinstance(value, str):
            moved = shift_date_time(value, seconds)
            if moved is not None:
                count += 1
                return moved
            return value
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return value

    return walk(payload), count


# -- answers that break their schema ----------------------------------------------------------

#: The value that replaces an enumerated string (no OCPP enumeration has it).
NOT_ALLOWED = "OcppsimFault"
#: The value that replaces a date-time.
NOT_A_DATE = "not-a-date-time"


def _candidates(schema: dict[str, Any], payload: Any) -> Iterable[tuple[Any, str]]:
    """Broken copies of `payload`, the most telling first: an enumerated value not allowed, a
    date-time that is none, a required field left out, a field no schema has."""
    from ocppsim.core.fields import resolve

    Leaf = tuple[list[Any], dict[str, Any]]

    def leaves(node: dict[str, Any], value: Any, path: list[Any]) -> Iterable[Leaf]:
        node = resolve(schema, node)
        if isinstance(value, dict):
            for key, item in value.items():
                sub = node.get("properties", {}).get(key)
                if isinstance(sub, dict):
                    yield from leaves(sub, item, [*path, key])
        elif isinstance(value, list):
            items = node.get("items", {})
            for index, item in enumerate(value):
                yield from leaves(items if isinstance(items, dict) else {}, item, [*path, index])
        else:
            yield path, node

    found = list(leaves(schema, payload, []))
    for path, node in found:
        if "enum" in node and isinstance(node["enum"][0], str):
            yield _set(payload, path, NOT_ALLOWED), f"{_dotted(path)} is {NOT_ALLOWED!r}"
    for path, node in found:
        if node.get("format") == "date-time":
            yield _set(payload, path, NOT_A_DATE), f"{_dotted(path)} is {NOT_A_DATE!r}"
    if isinstance(payload, dict):
        for name in resolve(schema, schema).get("required", []):
            if name in payload:
                broken = dict(payload)
                del broken[name]
                yield broken, f"{name} left out"
        yield {**payload, "ocppsimFault": True}, "unknown field ocppsimFault added"


def _set(payload: Any, path: list[Any], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(payload, dict):
        return {**payload, head: _set(payload[head], rest, value)}
    copy = list(payload)
    copy[head] = _set(copy[head], rest, value)
    return copy


def _dotted(path: list[Any]) -> str:
    return ".".join(str(step) for step in path) or "the payload"


def break_answer(peer: Peer, action: str, result: CallResult) -> tuple[CallResult, str] | None:
    """The CALLRESULT `result` made invalid against its schema in a way the link can still
    carry, and what was broken; None when no broken form fits (a SOAP answer with nothing to
    break)."""
    from ocppsim.core.validation import UnknownMessage, load_schema, validate
    from ocppsim.sim.link import EncodeError

    message = action + "Response"
    try:
        schema = load_schema(peer.version, message)
    except UnknownMessage:
        return None
    for payload, why in _candidates(schema, result.payload):
        if validate(peer.version, message, payload) is None:
            continue
        broken = CallResult(result.unique_id, payload)
        try:
            peer.link.encode(broken)
        except (EncodeError, OcppSimError):
            continue
        return broken, why
    return None


# -- the API ----------------------------------------------------------------------------------


def table_of(target: Any) -> FaultTable:
    """The fault table of a CentralSystem or ChargePoint, made on first use."""
    table: FaultTable | None = target.faults
    if table is None:
        table = target.faults = FaultTable(target)
    return table


def inject(
    target: Any,
    kind: str,
    charge_point_id: str | None = None,
    *,
    times: int | None = None,
    action: str | None = None,
    **options: Any,
) -> Fault:
    """Set a fault on `target` (a CentralSystem: for `charge_point_id`, or every charge point;
    a ChargePoint: on its link) and return it. `times`: how many times it acts (None: until
    cleared); `action`: only on that action's messages; `options`: the kind's (`seconds=2`,
    `code="NotSupported"`, …). FaultError says what is wrong."""
    fault_kind = kind_of(kind)
    table = table_of(target)
    side = table.side
    if side not in fault_kind.sides:
        raise FaultError(f"fault {kind} is a Charge Point's: set it on a Charge Point (--id)")
    transport = getattr(target, "transport", "websocket")
    if fault_kind.soap is not None and transport == "soap":
        raise FaultError(f"fault {kind} is not available over SOAP ({fault_kind.soap})")
    if times is not None and not fault_kind.counted:
        raise FaultError(f"fault {kind} takes no --for/--once (it acts as its options say)")
    if times is not None and (isinstance(times, bool) or int(times) != times or times < 1):
        raise FaultError(f"--for takes a whole number, 1 or more, not {times!r}")
    if action is not None and not fault_kind.filtered:
        if fault_kind.option("action") is None:
            raise FaultError(f"fault {kind} takes no --action")
        options = {**options, "action": action}  # the kind's own option (send-before-boot)
        action = None
    values = read_options(fault_kind, options)
    if side == "cp":
        charge_point_id = target.charge_point_id
        if kind == "send-before-boot":
            _check_action(target.version, values["action"])
    fault = Fault(
        fault_kind,
        values,
        side,
        target.speaker,
        charge_point_id,
        action,
        None if times is None else int(times),
    )
    return table.add(fault)


class _OneLink:
    """What `apply` sets a fault on: one link, as a simulator with only that link would be
    (its charge point dials again as it always does after a drop)."""

    def __init__(self, peer: Peer):
        self.link = peer
        self.speaker = peer.speaker
        self.bus = peer.bus
        self.transport = peer.transport
        self.version = peer.version
        self.charge_point_id = peer.charge_point_id
        self.peers = {peer.charge_point_id: peer}
        self.faults: FaultTable | None = None

    @property
    def peer(self) -> Peer:
        return self.link

    @property
    def connected(self) -> bool:
        return self.link.connected

    def drop(self, code: int, reason: str) -> None:
        self.link.abort(code, reason)


def apply(peer: Peer, kind: str, **options: Any) -> Fault:
    """Set a fault on one link only (a scenario's `fault` step): what this side sends on
    `peer`. `options` are the prompt's, by name: the kind's (`seconds`, `code`, …), `for`
    (how many times), `once`, `action` (only that action's messages). FaultError says what
    is wrong. Faults its simulator set on the link give way while these act."""
    if kind == "reconnect-storm":  # each round is a new link, which this one is not
        raise FaultError(
            "reconnect-storm drops a simulator's connections one after another, not one link:"
            " set it on the Central System or the Charge Point (fault, ChargePoint.fault)"
        )
    times = options.pop("for", None)
    if options.pop("once", False):
        if times is not None:
            raise FaultError("--for and --once both say how often: give one")
        times = 1
    action = options.pop("action", None)
    current = peer.faults
    owner = current.table.owner if current is not None else None
    if not isinstance(owner, _OneLink) or owner.link is not peer:
        owner = _OneLink(peer)
    cp_id = peer.charge_point_id if peer.speaker == "cs" else None
    return inject(owner, kind, cp_id, times=times, action=action, **options)


def _check_action(version: str, action: str) -> None:
    entry = get(version)
    if not entry.handles("cs", action):
        raise FaultError(f"`{action}' is no CALL a {entry.title} Charge Point sends")


def clear(target: Any, kind: str | None = None, charge_point_id: str | None = None) -> list[Fault]:
    """Clear `target`'s faults of `kind` (all when None) for `charge_point_id` (all when
    None); the faults cleared."""
    if kind is not None:
        kind_of(kind)
    table: FaultTable | None = target.faults
    return table.clear(kind, charge_point_id) if table is not None else []


def active(target: Any) -> list[Fault]:
    """The faults set on `target` now."""
    table: FaultTable | None = target.faults
    return list(table.faults) if table is not None else []


def inject_fraction(
    charge_points: Sequence[Any],
    fraction: float,
    kind: str,
    *,
    seed: int | None = None,
    times: int | None = None,
    action: str | None = None,
    **options: Any,
) -> list[Fault]:
    """Set the same fault on a `fraction` of `charge_points` (a fleet's `--fraction 0.1`:
    rounded, at least one when the fraction is above 0), picked at random (`seed`: the same
    ones each run); the faults set."""
    if not 0 <= fraction <= 1:
        raise FaultError(f"--fraction takes a number from 0 to 1, not {fraction!r}")
    total = len(charge_points)
    count = min(total, max(1 if fraction > 0 else 0, round(fraction * total)))
    chosen = random.Random(seed).sample(list(charge_points), count)
    return [inject(cp, kind, times=times, action=action, **options) for cp in chosen]


def kinds_help(width: int = 100) -> list[str]:
    """The lines of `help fault` that list the kinds, their options and what the other end
    sees."""
    import textwrap

    lines = []
    for kind in KINDS.values():
        words = [kind.name]
        for option in kind.options:
            text = f"{option.flag} {option.metavar}"
            words.append(text if option.required else f"[{text}]")
        lines.append("  " + " ".join(words))
        notes = []
        if kind.sides == ("cp",):
            notes.append("a Charge Point's")
        if kind.soap is not None:
            notes.append("OCPP-J only")
        if not kind.counted:
            notes.append("no --for/--once")
        note = f" ({'; '.join(notes)})" if notes else ""
        lines += textwrap.wrap(
            f"{kind.title}{note}: {kind.seen}",
            width,
            initial_indent="      ",
            subsequent_indent="        ",
        )
        for option in kind.options:
            default = f" (default: {option.default})" if option.default is not None else ""
            lines += textwrap.wrap(
                f"{option.flag} {option.metavar}  {option.help}{default}",
                width,
                initial_indent="      ",
                subsequent_indent="          ",
            )
    return lines


def summary(fault: Fault) -> str:
    """`#1 cs: drop answers to cp#cp01, 3 times`: a line of `fault list`."""
    return f"#{fault.number} {fault.speaker}: {fault.describe()}"


__all__ = [
    "COMMON_OPTIONS",
    "KINDS",
    "Fault",
    "FaultError",
    "FaultKind",
    "FaultOption",
    "FaultTable",
    "PeerFaults",
    "active",
    "apply",
    "clear",
    "inject",
    "inject_fraction",
    "kind_of",
    "read_options",
    "skew",
    "shift_date_time",
]
