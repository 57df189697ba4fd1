"""Recording a session: every frame of a bus, one JSON object per line, as it happens.

A `Recorder` subscribes to the events of a bus (the prompt's, or the buses of the
simulators given to `record`) and writes each frame with its time, direction, speaker and
peer, charge point id, OCPP version, transport, message type, unique id, action and payload
(a CALLERROR's code, description and details), and the fault that changed it when one was
injected (`ocppsim.sim.faults`). Connections, disconnections, timeouts and faults are lines
too. The first line is a header: the ocppsim version, when and with which options it was
started. Lines go to the file as they come (nothing is kept but the action of each CALL
awaiting its answer), so a recording of a long session costs no memory.

    {"record":"ocppsim-trace","format":1,"ocppsim":"0.1.0","started":"…","options":{…}}
    {"t":0.0012,"time":"…","event":"frame","dir":"sent","speaker":"cp#cp01","peer":"cs",
     "chargePointId":"cp01","version":"1.6","transport":"websocket","type":"CALL",
     "id":"…","action":"Heartbeat","payload":{}}

Over SOAP a frame's unique id is its MessageID (its answer's RelatesTo), its payload the
envelope's JSON view; `xml=True` adds the envelope itself. `ocppsim replay` reads these files
(`ocppsim.core.trace`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from ocppsim import __version__
from ocppsim.core import events
from ocppsim.core.rpc import (
    Call,
    CallError,
    CallResult,
    CallResultError,
    FrameError,
    Message,
    Send,
    dumps,
    parse_frame,
)
from ocppsim.core.versions import UnknownVersion, by_subprotocol
from ocppsim.sim.log import message_type_of

#: What the first line says the file is, and the version of its layout.
TRACE_KIND, TRACE_FORMAT = "ocppsim-trace", 1
#: How long a line may wait in the buffer before it is written out, and the buffer's size.
FLUSH_SECONDS, BUFFER = 0.2, 1 << 16
#: CALLs remembered per link while they await their answer (one at a time each way: plenty).
PENDING_LIMIT = 64

#: The faults whose frame is sent later than they act (found again by its unique id).
LATER = frozenset({"delay", "drop", "duplicate"})

#: version_of(speaker, peer) -> the OCPP version of that link, when known
VersionOf = Callable[[str, str], "str | None"]


#: The last whole second written, and how it reads (one strftime per second, not per line).
_second: list[Any] = [None, ""]


def _iso(moment: float) -> str:
    """`2026-11-30T10:00:00.123Z` (UTC, milliseconds)."""
    whole = int(moment)
    if _second[0] != whole:
        _second[0] = whole
        _second[1] = datetime.fromtimestamp(whole, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second[1]}.{int((moment - whole) * 1000):03d}Z"


def raw_message(wire: str) -> Message | None:
    """The message a raw OCPP-J text is, when it reads as one."""
    if not wire.lstrip().startswith("["):
        return None
    try:
        message = parse_frame(wire)
    except FrameError:
        return None
    return None if isinstance(message, tuple) else message


def charge_point_of(speaker: str, peer: str) -> str | None:
    """The charge point id of a link: `cp#cp01` on either end."""
    for name in (speaker, peer):
        if name.startswith("cp#"):
            return name[3:]
    return None


class Recorder:
    """Writes the events of the buses it subscribes to as JSON lines (see the module
    docstring); `close()` ends the file."""

    def __init__(
        self,
        path: str | Path,
        *,
        options: dict[str, Any] | None = None,
        version_of: VersionOf | None = None,
        xml: bool = False,
    ):
        self.path = Path(path)
        self.xml = xml
        self._version_of = version_of
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8", buffering=BUFFER)
        self._start = time.monotonic()
        self._flush_due = False
        #: (speaker, peer) -> the OCPP version of that link
        self._versions: dict[tuple[str, str], str] = {}
        #: what a frame's line says of its link, by (speaker, peer, transport, direction)
        self._heads: dict[tuple[str, str, str, str], str] = {}
        #: (speaker, peer) -> {unique id: action} of the CALLs awaiting their answer
        self._pending: dict[tuple[str, str], dict[str, str]] = {}
        #: the fault that acted on the frame about to be sent on a link: (link, marker)
        self._last_fault: tuple[tuple[str, str], dict[str, Any]] | None = None
        #: faults whose frame goes later (a held answer, a duplicate): (link, id) -> marker
        self._held: dict[tuple[tuple[str, str], str], dict[str, Any]] = {}
        self._unsubscribe: list[Callable[[], None]] = []
        self.frames = 0
        self.by_type: dict[type, Callable[[Any], None]] = {
            events.FrameSent: self._sent,
            events.FrameReceived: self._received,
            events.Connected: self._connected,
            events.Disconnected: self._disconnected,
            events.CallTimedOut: self._timed_out,
            events.FaultInjected: self._fault,
            events.FaultChanged: self._fault_changed,
        }
        self._write(
            {
                "record": TRACE_KIND,
                "format": TRACE_FORMAT,
                "ocppsim": __version__,
                "started": _iso(time.time()),
                "options": options or {},
            }
        )

    def __call__(self, event: Any) -> None:
        handler = self.by_type.get(type(event))
        if handler is not None:
            handler(event)

    # -- wiring -------------------------------------------------------------------------------

    def attach(self, bus: events.EventBus) -> None:
        """Record what `bus` publishes from now on (until `close`)."""
        self._unsubscribe.append(bus.subscribe(self))

    @property
    def recording(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        """Stop recording and close the file."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    # -- writing ------------------------------------------------------------------------------

    def _write(self, record: dict[str, Any]) -> None:
        self._write_line(dumps(record))

    def _write_line(self, line: str) -> None:
        file = self._file
        if file is None:
            return
        file.write(line + "\n")
        if not self._flush_due:  # at most every FLUSH_SECONDS, not per line
            try:
                asyncio.get_running_loop().call_later(FLUSH_SECONDS, self._flush)
                self._flush_due = True
            except RuntimeError:
                file.flush()

    def _flush(self) -> None:
        self._flush_due = False
        if self._file is not None:
            self._file.flush()

    def _stamp(self, event: str, speaker: str | None, peer: str | None) -> dict[str, Any]:
        now = time.monotonic()
        record: dict[str, Any] = {
            "t": round(now - self._start, 6),
            "time": _iso(time.time()),
            "event": event,
            "speaker": speaker,
        }
        if peer is not None:
            record["peer"] = peer
            record["chargePointId"] = charge_point_of(speaker or "", peer)
        return record

    def _version(self, speaker: str, peer: str) -> str | None:
        key = (speaker, peer)
        version = self._versions.get(key)
        if version is None and self._version_of is not None:
            version = self._version_of(speaker, peer)
            if version is not None:
                self._versions[key] = version
        return version

    # -- events -------------------------------------------------------------------------------

    def _sent(self, event: events.FrameSent) -> None:
        self._frame(event, "sent")

    def _received(self, event: events.FrameReceived) -> None:
        self._frame(event, "received")

    def _head(self, speaker: str, peer: str, transport: str, direction: str) -> str:
        """What a frame's line says of its link, as JSON members (made once per link and
        direction once its version is known: two frames per round trip go through here)."""
        key = (speaker, peer, transport, direction)
        head = self._heads.get(key)
        if head is None:
            version = self._version(speaker, peer)
            members = {
                "event": "frame",
                "speaker": speaker,
                "peer": peer,
                "chargePointId": charge_point_of(speaker, peer),
                "dir": direction,
                "version": version,
                "transport": transport,
            }
            head = dumps(members)[1:-1]
            if version is not None:
                self._heads[key] = head
        return head

    def _frame(self, event: events.Frame, direction: str) -> None:
        speaker, peer = event.speaker, event.peer
        key = (speaker, peer)
        head = self._head(speaker, peer, event.transport, direction)
        record: dict[str, Any] = {"type": message_type_of(event)}
        message = event.message
        if message is None and event.transport == events.WEBSOCKET:
            message = raw_message(event.wire)  # a raw text (send_raw, a duplicate) that is one
        pending = self._pending.setdefault(key, {})
        if isinstance(message, (Call, Send)):
            record["id"] = message.unique_id
            record["action"] = message.action
            record["payload"] = message.payload
            if isinstance(message, Call):
                if len(pending) >= PENDING_LIMIT:
                    pending.pop(next(iter(pending)))
                pending[message.unique_id] = message.action
        elif isinstance(message, (CallResult, CallError, CallResultError)):
            uid = message.unique_id
            record["id"] = uid
            action = pending.pop(uid, None) if not isinstance(message, CallResultError) else None
            if action is not None:
                record["action"] = action
            if isinstance(message, CallResult):
                record["payload"] = message.payload
            else:
                record["code"] = message.code
                record["description"] = message.description
                record["details"] = message.details
        else:  # a raw text, or what could not be read
            record["wire"] = event.wire
        if event.transport == events.SOAP:
            record["text"] = event.text
            if self.xml:
                record["xml"] = event.wire
        last, self._last_fault = self._last_fault, None
        if direction == "sent":
            fault = self._held.pop((key, record["id"]), None) if "id" in record else None
            if fault is None and last is not None and last[0] == key:
                marker = last[1]
                if marker.get("action") in (None, record.get("action")):
                    fault = marker
            if fault is not None:
                record["fault"] = fault
        self.frames += 1
        stamp = time.monotonic() - self._start
        self._write_line(
            f'{{"t":{stamp:.6f},"time":"{_iso(time.time())}",{head},{dumps(record)[1:]}'
        )

    def _connected(self, event: events.Connected) -> None:
        version: str | None
        try:
            version = by_subprotocol(event.protocol).name
        except (UnknownVersion, Exception):
            version = self._version_of(event.speaker, event.peer) if self._version_of else None
        if version is not None:
            self._versions[(event.speaker, event.peer)] = version
        for head in [k for k in self._heads if k[:2] == (event.speaker, event.peer)]:
            del self._heads[head]  # a charge point may come back speaking another version
        record = self._stamp("connected", event.speaker, event.peer)
        record.update(transport=event.transport, version=version, protocol=event.protocol)
        if event.profile:
            record["profile"] = event.profile
        self._write(record)

    def _disconnected(self, event: events.Disconnected) -> None:
        key = (event.speaker, event.peer)
        self._pending.pop(key, None)
        record = self._stamp("disconnected", event.speaker, event.peer)
        record.update(transport=event.transport, reason=event.reason)
        self._write(record)

    def _timed_out(self, event: events.CallTimedOut) -> None:
        self._pending.get((event.speaker, event.peer), {}).pop(event.unique_id, None)
        record = self._stamp("timeout", event.speaker, event.peer)
        record.update(id=event.unique_id, action=event.action)
        self._write(record)

    def _fault(self, event: events.FaultInjected) -> None:
        key = (event.speaker, event.peer)
        marker: dict[str, Any] = {"kind": event.kind, "text": event.text}
        if event.action is not None:
            marker["action"] = event.action
        if event.unique_id is not None and event.kind in LATER:
            if len(self._held) >= PENDING_LIMIT:
                self._held.pop(next(iter(self._held)))
            self._held[(key, event.unique_id)] = marker
        elif event.unique_id is not None or event.action is not None:
            self._last_fault = (key, marker)  # its frame is the next one sent on that link
        record = self._stamp("fault", event.speaker, event.peer)
        record.update(kind=event.kind, text=event.text, id=event.unique_id, action=event.action)
        if event.left is not None:
            record["left"] = event.left
        self._write(record)

    def _fault_changed(self, event: events.FaultChanged) -> None:
        record = self._stamp("fault-" + event.state, event.speaker, None)
        record.update(kind=event.kind, text=event.text, chargePointId=event.charge_point_id)
        self._write(record)


def versions_of(simulators: Iterable[Any]) -> VersionOf:
    """The `version_of` of some CentralSystems and ChargePoints: a link's version as its peer
    knows it."""
    listed = list(simulators)

    def version_of(speaker: str, peer: str) -> str | None:
        for sim in listed:
            if sim.speaker != speaker:
                continue
            if speaker == "cs":
                found = sim.peers.get(peer[3:]) if peer.startswith("cp#") else None
                return found.version if found is not None else None
            return str(sim.version)
        return None

    return version_of


@contextmanager
def record(
    path: str | Path, *simulators: Any, xml: bool = False, options: dict[str, Any] | None = None
) -> Iterator[Recorder]:
    """Record the frames of `simulators` (CentralSystems, ChargePoints; those sharing a bus
    are heard once) to `path` while the block runs:

        with record("trace.jsonl", cs, cp):
            await cp.call("BootNotification")
    """
    recorder = Recorder(path, options=options, version_of=versions_of(simulators), xml=xml)
    buses: list[Any] = []
    for sim in simulators:
        if not any(sim.bus is bus for bus in buses):
            buses.append(sim.bus)
            recorder.attach(sim.bus)
    try:
        yield recorder
    finally:
        recorder.close()
