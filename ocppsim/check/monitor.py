"""Verdicts beyond the steps: a subscriber of a simulator's events that checks every frame of
the peer and lists what it finds, each finding with the frame that caused it.

`Monitor` hears the events of one simulator (a Central System and its charge points, or one
Charge Point and its Central System) and, per link, checks:

========== ======== ====================================================================
check      severity what
========== ======== ====================================================================
schema     fail     the peer's CALL was refused (its schema, an unknown action, a malformed
                    frame), its answer to our CALL breaks its schema, a frame cannot be read
answer     fail     no answer to our CALL within the answer timeout, or one that came late
unique-id  fail     the peer reuses a CALL's unique id, or answers an id no CALL had
transaction fail    1.x: MeterValues or StopTransaction name a transaction that is not open, a
                    Central System gives an open transaction's id to another; 2.x: a
                    TransactionEvent after Ended, Started twice, seqNo not increasing
transaction warn    a seqNo gap, a transaction id never seen Started, meterStop below meterStart
boot       fail     a charge point's CALL while its boot is Rejected, or Pending and not
                    triggered; a CSMS's CALL while the station is Rejected (2.x) or, on a
                    connection that boots, before the boot was answered Accepted or Pending
                    (2.x); a 1.x Central System's RemoteStart/Stop while Pending
boot       warn     a 1.x Central System's CALL while Rejected or before the boot was answered
                    (SHOULD NOT), a charge point's CALL before any BootNotification on a
                    connection that must boot, a BootNotification again before the interval
heartbeat  warn     Heartbeats closer than the interval, or a silence longer than it (1.6 over
                    OCPP-J makes heartbeats optional, hence a warning)
error-code warn     a CALLERROR whose code is not one of the version's error codes
clock      warn     a Central System's currentTime more than 5 minutes from ours
========== ======== ====================================================================

It keeps no task and does no I/O: the time comes from an injected clock, and checks that
need time to pass (a silence) are made when the next event comes or on `finish()`. The
check runner (`ocppsim check`), the prompt (`--verdicts`) and a fleet subscribe it the same way.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeGuard

from ocppsim.check.matching import parse_time
from ocppsim.core import events
from ocppsim.core.rpc import Call, CallError, CallResult, Send
from ocppsim.core.versions import OcppVersion, UnknownVersion, by_subprotocol, get

FAIL, WARN = "fail", "warn"
#: what the 2.x transaction findings cite
E_TX = "Part 2 E (transactions)"
#: How far a peer's clock may be from ours before a `clock` finding (seconds).
CLOCK_TOLERANCE = 300.0
#: How many unique ids of a peer's CALLs a link remembers.
REMEMBERED_IDS = 10_000
#: What a TriggerMessage's requestedMessage makes the charge point send (2.x names the
#: certificate messages after what they sign).
TRIGGERED_ACTION = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a peer did wrong: the `check` that saw it, `fail` or `warn`, what it was,
    the requirement it breaks, and the frame that caused it (its wire text)."""

    check: str
    severity: str
    text: str
    requirement: str = ""
    frame: str | None = None
    speaker: str | None = None
    peer: str | None = None
    at: float = 0.0

    def line(self) -> str:
        """`FAIL boot: … (OCPP 2.0.1 B02.FR.09) — frame […]`."""
        cite = f" ({self.requirement})" if self.requirement else ""
        frame = f" — frame {shorten(self.frame)}" if self.frame else ""
        return f"{self.severity.upper()} {self.check}: {self.text}{cite}{frame}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "text": self.text,
            "requirement": self.requirement,
            "frame": self.frame,
            "speaker": self.speaker,
            "peer": self.peer,
        }


def shorten(text: str | None, limit: int = 300) -> str:
    """A frame's text, cut to `limit` characters for a line."""
    if text is None:
        return ""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class _Sent:
    action: str
    payload: Any
    at: float


@dataclass
class _Link:
    """What one link's checks remember."""

    entry: OcppVersion | None
    peer_is_cs: bool
    #: the connection must boot before anything else (a charge point that just started)
    booting: bool = False
    ours: dict[str, _Sent] = field(default_factory=dict)
    timed_out: dict[str, str] = field(default_factory=dict)
    theirs: dict[str, _Sent] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    seen_order: deque[str] = field(default_factory=deque)
    boot: str | None = None  # the last boot status: Accepted, Pending, Rejected
    boot_at: float = 0.0
    boot_interval: float = 0.0
    booted_here: bool = False  # a boot was answered on this connection
    allowed: dict[str, int] = field(default_factory=dict)  # triggered actions allowed once
    heartbeat_interval: float | None = None
    last_heartbeat: float | None = None
    last_activity: float | None = None
    silence_reported: bool = False
    #: the wire text of the last frame the peer sent (a refusal's event does not carry it)
    last_wire: str | None = None
    #: unique ids of raw frames we sent on purpose: their answers are no stray answers
    raw_ids: set[str] = field(default_factory=set)
    #: 1.x transactions: id → (connector, meterStart); 2.x: id → last seqNo
    open_tx: dict[Any, Any] = field(default_factory=dict)
    ended_tx: set[Any] = field(default_factory=set)


def _is_2x(entry: OcppVersion | None) -> bool:
    """A version whose transactions are TransactionEvents (OCPP 2.x)."""
    return entry is not None and entry.handles("cs", "TransactionEvent")


def _cite(entry: OcppVersion | None, family_1x: str, family_2x: str) -> str:
    """The requirement a finding breaks, in the link's version (`OCPP 1.6 §4.2`)."""
    if entry is None:
        return ""
    return f"{entry.title} {family_2x if _is_2x(entry) else family_1x}"


class Monitor:
    """Checks every frame of the peers of one simulator; see the module's table.

    `answer_timeout` is how long our CALLs may wait for their answer (seconds);
    `heartbeat_tolerance` the share of the interval a heartbeat may be early or late (plus
    `heartbeat_slack` seconds); `booting(speaker, peer)` says whether a link that just
    connected must boot first (a check runner's fresh charge point: True); `on_finding` is
    told of each finding as it is made (the prompt prints it)."""

    def __init__(
        self,
        *,
        answer_timeout: float = 30.0,
        heartbeat_tolerance: float = 0.25,
        heartbeat_slack: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        booting: Callable[[str, str], bool] | None = None,
        on_finding: Callable[[Finding], None] | None = None,
        version_of: Callable[[str, str], str | None] | None = None,
    ):
        self.answer_timeout = answer_timeout
        self.heartbeat_tolerance = heartbeat_tolerance
        self.heartbeat_slack = heartbeat_slack
        self.clock = clock
        self.booting = booting
        self.on_finding = on_finding
        self.version_of = version_of
        self.findings: list[Finding] = []
        self._links: dict[tuple[str, str], _Link] = {}
        self._handlers: dict[type, Callable[[Any], None]] = {
            events.Connected: self._connected,
            events.FrameSent: self._sent,
            events.FrameReceived: self._received,
            events.CallRefused: self._refused,
            events.ResultInvalid: self._result_invalid,
            events.FrameUnreadable: self._unreadable,
            events.SendInvalid: self._send_invalid,
            events.AnswerIgnored: self._answer_ignored,
            events.CallTimedOut: self._timed_out,
        }

    # -- the subscriber ---------------------------------------------------------------------

    def __call__(self, event: Any) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)

    def finish(self) -> list[Finding]:
        """Make the checks that need time to pass (a silence) now; every finding so far."""
        now = self.clock()
        for (speaker, peer), link in list(self._links.items()):
            self._silence(link, speaker, peer, now)
        return self.findings

    def since(self, index: int) -> list[Finding]:
        """The findings made after the first `index` ones."""
        return self.findings[index:]

    def allow_answer(self, speaker: str, peer: str, unique_id: str) -> None:
        """An answer under `unique_id` is expected although no CALL of ours is pending (a
        raw frame sent on purpose)."""
        link = self._link(speaker, peer)
        link.raw_ids.add(unique_id)
        if len(link.raw_ids) > 100:
            link.raw_ids.pop()

    def link_state(self, speaker: str, peer: str) -> dict[str, Any]:
        """What the monitor knows of a link (boot status, open transactions), for a report."""
        link = self._links.get((speaker, peer))
        if link is None:
            return {}
        return {"boot": link.boot, "open_transactions": sorted(map(str, link.open_tx))}

    # -- bookkeeping ------------------------------------------------------------------------

    def _link(self, speaker: str, peer: str) -> _Link:
        key = (speaker, peer)
        link = self._links.get(key)
        if link is None:
            entry = None
            if self.version_of is not None:
                name = self.version_of(speaker, peer)
                if name is not None:
                    try:
                        entry = get(name)
                    except UnknownVersion:
                        entry = None
            link = _Link(entry, peer_is_cs=not peer.startswith("cp#"))
            self._links[key] = link
        return link

    def _find(
        self,
        check: str,
        severity: str,
        text: str,
        requirement: str = "",
        frame: str | None = None,
        speaker: str | None = None,
        peer: str | None = None,
    ) -> None:
        finding = Finding(check, severity, text, requirement, frame, speaker, peer, self.clock())
        self.findings.append(finding)
        if self.on_finding is not None:
            self.on_finding(finding)

    def _connected(self, event: events.Connected) -> None:
        try:
            entry: OcppVersion | None = by_subprotocol(event.protocol)
        except UnknownVersion:
            entry = None
        key = (event.speaker, event.peer)
        old = self._links.get(key)
        link = _Link(entry, peer_is_cs=not event.peer.startswith("cp#"))
        if old is not None:  # a reconnection: the registration and transactions go on
            link.boot, link.boot_interval = old.boot, old.boot_interval
            link.heartbeat_interval = old.heartbeat_interval
            link.open_tx, link.ended_tx = old.open_tx, old.ended_tx
            link.seen_ids, link.seen_order = old.seen_ids, old.seen_order
        link.booting = bool(self.booting and self.booting(event.speaker, event.peer))
        if link.booting:
            link.boot = None
            link.open_tx, link.ended_tx = {}, set()
        link.last_activity = self.clock()
        self._links[key] = link

    # -- what we send -----------------------------------------------------------------------

    def _sent(self, event: events.FrameSent) -> None:
        message = event.message
        link = self._link(event.speaker, event.peer)
        now = self.clock()
        if isinstance(message, Call):
            link.ours[message.unique_id] = _Sent(message.action, message.payload, now)
        elif isinstance(message, CallResult):
            call = link.theirs.pop(message.unique_id, None)
            if call is not None and not link.peer_is_cs:
                self._we_answered_cp(link, call, message.payload, event, now)
        elif isinstance(message, CallError):
            link.theirs.pop(message.unique_id, None)

    def _we_answered_cp(
        self, link: _Link, call: _Sent, answer: Any, event: events.FrameSent, now: float
    ) -> None:
        """Our answer to a charge point's CALL (we are its Central System)."""
        if not isinstance(answer, dict):
            return
        request = call.payload if isinstance(call.payload, dict) else {}
        if call.action == "BootNotification":
            status = answer.get("status")
            link.boot = status if isinstance(status, str) else None
            link.boot_at = now
            link.booted_here = True
            interval = answer.get("interval", answer.get("heartbeatInterval"))
            link.boot_interval = float(interval) if _number(interval) else 0.0
            if status == "Accepted" and _number(interval) and interval > 0:
                link.heartbeat_interval = float(interval)
                link.last_heartbeat = now
        elif call.action == "StartTransaction":
            tx = _get(answer, "transactionId")
            if tx is not None:
                link.open_tx[tx] = (request.get("connectorId"), request.get("meterStart"))
                link.ended_tx.discard(tx)

    # -- what the peer sends ------------------------------------------------------------------

    def _received(self, event: events.FrameReceived) -> None:
        message = event.message
        link = self._link(event.speaker, event.peer)
        now = self.clock()
        link.last_wire = event.wire
        self._silence(link, event.speaker, event.peer, now)
        if isinstance(message, (Call, Send)):
            link.last_activity = now
            self._unique(link, message.unique_id, message, event)
            if isinstance(message, Send):
                return
            link.theirs[message.unique_id] = _Sent(message.action, message.payload, now)
            if link.peer_is_cs:
                self._cs_call(link, message, event)
            else:
                self._cp_call(link, message, event, now)
        elif isinstance(message, (CallResult, CallError)):
            link.last_activity = now
            sent = link.ours.pop(message.unique_id, None)
            if sent is None:
                return  # AnswerIgnored says what it is
            waited = now - sent.at
            if waited > self.answer_timeout:
                self._find(
                    "answer",
                    FAIL,
                    f"the answer to {sent.action} came after {waited:.1f} s"
                    f" (at most {self.answer_timeout:g} s)",
                    "OCPP-J §4.1.1 (one CALL at a time, answered within the timeout)",
                    event.wire,
                    event.speaker,
                    event.peer,
                )
            if isinstance(message, CallError):
                self._error_code(link, message, sent, event)
            else:
                self._answered(link, sent, message.payload, event, now)

    def _unique(self, link: _Link, uid: str, message: Call | Send, event: Any) -> None:
        if uid in link.seen_ids:
            self._find(
                "unique-id",
                FAIL,
                f"{message.action} reuses the unique id {uid!r} of an earlier message",
                _cite(link.entry, "OCPP-J §4.1.4", "Part 4 §4.1.4"),
                event.wire,
                event.speaker,
                event.peer,
            )
            return
        link.seen_ids.add(uid)
        link.seen_order.append(uid)
        if len(link.seen_order) > REMEMBERED_IDS:
            link.seen_ids.discard(link.seen_order.popleft())

    def _error_code(self, link: _Link, error: CallError, sent: _Sent, event: Any) -> None:
        entry = link.entry
        if entry is not None and not entry.errors.knows(error.code):
            self._find(
                "error-code",
                WARN,
                f"the CALLERROR answering {sent.action} has the code {error.code!r},"
                f" which is not an error code of {entry.title}",
                _cite(entry, "OCPP-J §4.2.3 (error codes)", "Part 4 §4.3 (error codes)"),
                event.wire,
                event.speaker,
                event.peer,
            )

    def _answered(self, link: _Link, sent: _Sent, answer: Any, event: Any, now: float) -> None:
        """The peer's CALLRESULT to one of our CALLs."""
        if not isinstance(answer, dict):
            return
        action = sent.action
        request = sent.payload if isinstance(sent.payload, dict) else {}
        status = answer.get("status")
        if action in ("TriggerMessage", "ExtendedTriggerMessage") and status == "Accepted":
            wanted = request.get("requestedMessage")
            if isinstance(wanted, str):
                wanted = TRIGGERED_ACTION.get(wanted, wanted)
                link.allowed[wanted] = link.allowed.get(wanted, 0) + 1
        elif action in ("GetBaseReport", "GetReport") and status == "Accepted":
            link.allowed["NotifyReport"] = 1_000_000  # as many pages as the report has
        elif action == "ChangeConfiguration" and status == "Accepted":
            if request.get("key") == "HeartbeatInterval" and _number(_as_number(request)):
                link.heartbeat_interval = float(_as_number(request))
        elif action == "SetVariables":
            self._heartbeat_variable(link, request, answer)
        if not link.peer_is_cs:
            return
        # we are a charge point: the Central System's answers
        if action == "BootNotification":
            link.boot = status if isinstance(status, str) else None
            link.boot_at = now
            link.booted_here = True
            interval = answer.get("interval", answer.get("heartbeatInterval"))
            link.boot_interval = float(interval) if _number(interval) else 0.0
            if status == "Accepted" and _number(interval) and interval <= 0:
                self._find(
                    "heartbeat",
                    WARN,
                    f"the boot is Accepted with a heartbeat interval of {interval}",
                    _cite(link.entry, "§4.2 (BootNotification)", "B01 (heartbeat interval)"),
                    event.wire,
                    event.speaker,
                    event.peer,
                )
        if action in ("BootNotification", "Heartbeat"):
            self._clock_check(link, answer.get("currentTime"), action, event)
        elif action == "StartTransaction":
            tx = _get(answer, "transactionId")
            if tx is None:
                return
            if tx in link.open_tx:
                self._find(
                    "transaction",
                    FAIL,
                    f"the Central System gave transactionId {tx!r} to a new transaction while"
                    " a transaction with that id is still open",
                    _cite(link.entry, "§4.8 (StartTransaction.conf transactionId)", ""),
                    event.wire,
                    event.speaker,
                    event.peer,
                )
            link.open_tx[tx] = (request.get("connectorId"), request.get("meterStart"))
        elif action == "StopTransaction":
            link.open_tx.pop(request.get("transactionId"), None)
            link.ended_tx.add(request.get("transactionId"))

    def _heartbeat_variable(self, link: _Link, request: dict[str, Any], answer: Any) -> None:
        """A SetVariables of OCPPCommCtrlr.HeartbeatInterval that was Accepted (2.x)."""
        data = request.get("setVariableData")
        results = answer.get("setVariableResult") if isinstance(answer, dict) else None
        if not isinstance(data, list) or not isinstance(results, list):
            return
        for item, result in zip(data, results, strict=False):
            if not isinstance(item, dict) or not isinstance(result, dict):
                continue
            variable = item.get("variable", {}).get("name")
            if variable == "HeartbeatInterval" and result.get("attributeStatus") == "Accepted":
                value = item.get("attributeValue")
                if _number(_to_number(value)):
                    link.heartbeat_interval = float(_to_number(value))

    def _clock_check(self, link: _Link, current: Any, action: str, event: Any) -> None:
        moment = parse_time(current)
        if moment is None:
            return
        skew = (moment - datetime.now(timezone.utc)).total_seconds()
        if abs(skew) > CLOCK_TOLERANCE:
            self._find(
                "clock",
                WARN,
                f"the currentTime of the {action} answer is {abs(skew):.0f} s"
                f" {'ahead of' if skew > 0 else 'behind'} ours",
                _cite(link.entry, "§4.6 (Heartbeat: time synchronisation)", "G02 (Heartbeat)"),
                event.wire,
                event.speaker,
                event.peer,
            )

    # -- a Central System's CALLs (we are the charge point) -----------------------------------

    def _cs_call(self, link: _Link, call: Call, event: Any) -> None:
        entry = link.entry
        two = _is_2x(entry)
        if link.boot == "Rejected":
            self._find(
                "boot",
                FAIL if two else WARN,
                f"the Central System sends {call.action} while the boot is Rejected",
                _cite(entry, "§4.2.1 (Rejected: SHOULD NOT initiate)", "B03 (Rejected)"),
                event.wire,
                event.speaker,
                event.peer,
            )
        elif link.boot == "Pending":
            if not two and call.action in ("RemoteStartTransaction", "RemoteStopTransaction"):
                self._find(
                    "boot",
                    FAIL,
                    f"the Central System sends {call.action} while the boot is Pending",
                    _cite(entry, "§4.2.1 (Pending: no remote start or stop)", ""),
                    event.wire,
                    event.speaker,
                    event.peer,
                )
        elif link.boot is None and link.booting:
            self._find(
                "boot",
                FAIL if two else WARN,
                f"the Central System sends {call.action} before it answered the"
                " BootNotification with Accepted or Pending",
                _cite(entry, "§4.2.1", "B02.FR.01, B03 (requests after Accepted or Pending)"),
                event.wire,
                event.speaker,
                event.peer,
            )
        payload = call.payload if isinstance(call.payload, dict) else {}
        if call.action in ("RemoteStopTransaction", "RequestStopTransaction"):
            tx = payload.get("transactionId")
            if two:
                return  # a station's transaction ids are its own: the step checks them
            if tx not in link.open_tx:
                shown = ", ".join(map(str, link.open_tx)) or "none"
                self._find(
                    "transaction",
                    FAIL,
                    f"{call.action} names transactionId {tx!r}, which the Central System never"
                    f" gave to an open transaction (open: {shown})",
                    _cite(entry, "§5.12 (RemoteStopTransaction.req transactionId)", ""),
                    event.wire,
                    event.speaker,
                    event.peer,
                )

    # -- a charge point's CALLs (we are its Central System) -----------------------------------

    def _cp_call(self, link: _Link, call: Call, event: Any, now: float) -> None:
        entry = link.entry
        two = _is_2x(entry)
        action = call.action
        # a message a TriggerMessage asked for may come at any time (OCPP 1.6 §5.17, F06)
        triggered = action != "BootNotification" and self._take_allowed(link, action)
        if action == "BootNotification":
            if link.boot in ("Pending", "Rejected") and link.boot_interval > 0:
                early = link.boot_interval - (now - link.boot_at) - self.heartbeat_slack
                if early > 0 and not link.allowed.get(action):
                    self._find(
                        "boot",
                        WARN,
                        f"BootNotification again {now - link.boot_at:.1f} s after a"
                        f" {link.boot} boot, before the interval of {link.boot_interval:g} s",
                        _cite(entry, "§4.2.1 (not earlier than the interval)", "B03.FR.06"),
                        event.wire,
                        event.speaker,
                        event.peer,
                    )
            self._take_allowed(link, action)
        elif link.boot == "Rejected":
            self._find(
                "boot",
                FAIL,
                f"the charge point sends {action} while its boot is Rejected",
                _cite(entry, "§4.2.1 (Rejected: no message until the interval)", "B03.FR.02"),
                event.wire,
                event.speaker,
                event.peer,
            )
        elif link.boot == "Pending" and not triggered:
            self._find(
                "boot",
                FAIL,
                f"the charge point sends {action} while its boot is Pending, and no"
                " TriggerMessage asked for it",
                _cite(entry, "§4.2.1 (Pending: only triggered messages)", "B02.FR.02"),
                event.wire,
                event.speaker,
                event.peer,
            )
        elif link.boot is None and link.booting and not link.booted_here:
            self._find(
                "boot",
                WARN,
                f"the charge point sends {action} before any BootNotification on this"
                " connection (a charge point that just started SHALL boot first)",
                _cite(entry, "§4.2 (BootNotification first)", "B01.FR.01"),
                event.wire,
                event.speaker,
                event.peer,
            )
        if action == "Heartbeat":
            self._heartbeat(link, event, now, triggered)
        payload = call.payload if isinstance(call.payload, dict) else {}
        if action in ("MeterValues", "StopTransaction") and not two:
            self._tx_1x(link, action, payload, event)
        elif action == "TransactionEvent":
            self._tx_2x(link, payload, event)

    def _take_allowed(self, link: _Link, action: str) -> bool:
        count = link.allowed.get(action, 0)
        if count <= 0:
            return False
        if count == 1:
            del link.allowed[action]
        else:
            link.allowed[action] = count - 1
        return True

    def _heartbeat(self, link: _Link, event: Any, now: float, triggered: bool = False) -> None:
        interval = link.heartbeat_interval
        last = link.last_heartbeat
        link.last_heartbeat = now
        if interval is None or last is None or triggered:
            return
        gap = now - last
        shortest = interval * (1 - self.heartbeat_tolerance) - self.heartbeat_slack
        if gap < shortest:
            self._find(
                "heartbeat",
                WARN,
                f"a Heartbeat {gap:.1f} s after the previous one, with an interval of"
                f" {interval:g} s",
                _cite(link.entry, "§4.6 (Heartbeat interval)", "G02 (Heartbeat interval)"),
                event.wire,
                event.speaker,
                event.peer,
            )

    def _silence(self, link: _Link, speaker: str, peer: str, now: float) -> None:
        """A charge point that said nothing for longer than its heartbeat interval allows."""
        interval = link.heartbeat_interval
        if link.peer_is_cs or interval is None or link.last_activity is None:
            return
        if link.boot != "Accepted" or link.silence_reported:
            return
        longest = interval * (1 + self.heartbeat_tolerance) + self.heartbeat_slack
        quiet = now - max(link.last_activity, link.last_heartbeat or 0.0)
        if quiet > longest:
            link.silence_reported = True
            self._find(
                "heartbeat",
                WARN,
                f"no Heartbeat (nor any other CALL) for {quiet:.1f} s, with an interval of"
                f" {interval:g} s",
                _cite(link.entry, "§4.6 (Heartbeat interval)", "G02 (Heartbeat interval)"),
                None,
                speaker,
                peer,
            )

    def _tx_1x(self, link: _Link, action: str, payload: dict[str, Any], event: Any) -> None:
        tx = payload.get("transactionId")
        if tx is None:
            return  # MeterValues outside a transaction
        entry = link.entry
        if tx not in link.open_tx:
            shown = ", ".join(map(str, link.open_tx)) or "none"
            ended = " (it was stopped already)" if tx in link.ended_tx else ""
            section = "§4.7 (MeterValues)" if action == "MeterValues" else "§4.10 (StopTransaction)"
            self._find(
                "transaction",
                FAIL,
                f"{action} names transactionId {tx!r}, which is not an open transaction"
                f"{ended} (open: {shown})",
                _cite(entry, section, ""),
                event.wire,
                event.speaker,
                event.peer,
            )
            return
        if action == "StopTransaction":
            connector, meter_start = link.open_tx.pop(tx)
            link.ended_tx.add(tx)
            meter_stop = payload.get("meterStop")
            if _number(meter_start) and _number(meter_stop) and meter_stop < meter_start:
                self._find(
                    "transaction",
                    WARN,
                    f"StopTransaction's meterStop {meter_stop} is below the meterStart"
                    f" {meter_start} of transaction {tx!r}",
                    _cite(entry, "§4.10 (StopTransaction meterStop)", ""),
                    event.wire,
                    event.speaker,
                    event.peer,
                )

    def _tx_2x(self, link: _Link, payload: dict[str, Any], event: Any) -> None:
        info = payload.get("transactionInfo")
        tx = info.get("transactionId") if isinstance(info, dict) else None
        kind = payload.get("eventType")
        seq = payload.get("seqNo")
        if tx is None:
            return
        entry = link.entry

        def find(severity: str, text: str, requirement: str) -> None:
            cite = f"{entry.title} {requirement}" if entry is not None else requirement
            self._find("transaction", severity, text, cite, event.wire, event.speaker, event.peer)

        if tx in link.ended_tx:
            find(
                FAIL,
                f"TransactionEvent {kind} for transaction {tx!r} after it Ended",
                E_TX,
            )
            return
        if kind == "Started":
            if tx in link.open_tx:
                find(
                    FAIL,
                    f"TransactionEvent Started again for transaction {tx!r}",
                    E_TX,
                )
            link.open_tx[tx] = seq
            return
        if tx not in link.open_tx:
            find(
                WARN,
                f"TransactionEvent {kind} for transaction {tx!r}, never Started",
                E_TX,
            )
            link.open_tx[tx] = seq
        else:
            last = link.open_tx[tx]
            if _number(seq) and _number(last):
                if seq <= last:
                    find(
                        FAIL,
                        f"TransactionEvent {kind} of transaction {tx!r} has seqNo {seq},"
                        f" not above the previous {last}",
                        "Part 2 E (TransactionEvent seqNo)",
                    )
                elif seq > last + 1:
                    find(
                        WARN,
                        f"TransactionEvent {kind} of transaction {tx!r} has seqNo {seq} after"
                        f" {last}: {seq - last - 1} message(s) missing",
                        "Part 2 E (TransactionEvent seqNo)",
                    )
            link.open_tx[tx] = seq
        if kind == "Ended":
            link.open_tx.pop(tx, None)
            link.ended_tx.add(tx)

    # -- what the pipeline reported ---------------------------------------------------------

    def _refused(self, event: events.CallRefused) -> None:
        link = self._link(event.speaker, event.peer)
        who = "Central System" if link.peer_is_cs else "charge point"
        action = f" {event.action}" if event.action else ""
        self._find(
            "schema",
            FAIL,
            f"the {who}'s CALL{action} was refused with {event.code}: {event.reason}",
            _cite(link.entry, "OCPP-J §4.2.3 / the JSON schemas", "Part 4 §4.2.3 / schemas"),
            link.last_wire,
            event.speaker,
            event.peer,
        )

    def _result_invalid(self, event: events.ResultInvalid) -> None:
        link = self._link(event.speaker, event.peer)
        self._find(
            "schema",
            FAIL,
            f"the answer to {event.action} breaks its schema ({event.code}): {event.reason}",
            _cite(link.entry, "the JSON schemas", "Part 3 (schemas)"),
            link.last_wire,
            event.speaker,
            event.peer,
        )

    def _unreadable(self, event: events.FrameUnreadable) -> None:
        link = self._link(event.speaker, event.peer)
        self._find(
            "schema",
            FAIL,
            f"a frame that cannot be read: {event.reason}",
            _cite(link.entry, "OCPP-J §4.1.3", "Part 4 §4.1.3"),
            event.text,
            event.speaker,
            event.peer,
        )

    def _send_invalid(self, event: events.SendInvalid) -> None:
        link = self._link(event.speaker, event.peer)
        self._find(
            "schema",
            FAIL,
            f"the SEND {event.action} is not valid ({event.code}): {event.reason}",
            _cite(link.entry, "", "Part 4 §4.2.5"),
            link.last_wire,
            event.speaker,
            event.peer,
        )

    def _answer_ignored(self, event: events.AnswerIgnored) -> None:
        link = self._link(event.speaker, event.peer)
        uid = event.unique_id
        action = link.timed_out.pop(uid, None)
        if action is not None:
            self._find(
                "answer",
                FAIL,
                f"the answer to {action} came after we gave up waiting for it",
                "OCPP-J §4.1.1 (answered within the timeout)",
                link.last_wire,
                event.speaker,
                event.peer,
            )
        elif uid in link.raw_ids:
            link.raw_ids.discard(uid)
        elif uid != "-1":  # 2.x answers an unreadable frame under -1 (Part 4 §4.2.3)
            self._find(
                "unique-id",
                FAIL,
                f"an answer with the unique id {uid!r}, which no CALL of ours had",
                _cite(link.entry, "OCPP-J §4.1.4 (same id as the CALL)", "Part 4 §4.2.2"),
                link.last_wire,
                event.speaker,
                event.peer,
            )

    def _timed_out(self, event: events.CallTimedOut) -> None:
        link = self._link(event.speaker, event.peer)
        sent = link.ours.pop(event.unique_id, None)
        link.timed_out[event.unique_id] = event.action
        while len(link.timed_out) > 100:
            del link.timed_out[next(iter(link.timed_out))]
        waited = self.clock() - sent.at if sent is not None else 0.0
        self._find(
            "answer",
            FAIL,
            f"no answer to {event.action} within {waited:.1f} s",
            "OCPP-J §4.1.1 (every CALL is answered)",
            None,
            event.speaker,
            event.peer,
        )


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _to_number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return value


def _as_number(request: dict[str, Any]) -> Any:
    return _to_number(request.get("value"))


def _get(payload: Any, key: str) -> Any:
    return payload.get(key) if isinstance(payload, dict) else None
