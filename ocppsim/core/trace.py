"""Recordings read back (sans-I/O): the CALLs of each charge point and their answers, and how
an answer got in a replay differs from the recorded one.

A recording (`ocppsim.sim.record`) holds every frame one process saw, maybe from both ends of
a link (a Central System and its Charge Points in one process). `load` reads it and `Trace`
gives, for each charge point, its `Exchange`s in order: who sent the CALL (or SEND), its
payload, when, and what answered it (`Outcome`: a CALLRESULT, a CALLERROR, a timeout, no
answer). The exchanges come from one end's view of the link: the end the replay plays
(`view`), the other when only that one was recorded.

`compare` says where two outcomes differ, leaving aside what legitimately changes between
two runs: unique ids (never compared), date-times (equal when both are date-times), and the
ids a peer assigns (`transactionId`): the first time a recorded id meets a live one they are
paired in an `IdMap`, which later payloads are translated with, and a later pair that does
not match is a difference.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ocppsim.core.errors import OcppSimError

Role = Literal["cp", "cs"]

#: What the first line of a recording says it is.
TRACE_KIND = "ocppsim-trace"
#: Fields whose values a peer assigns: paired between the recording and the replay.
MAPPED_FIELDS = frozenset({"transactionId"})
#: The faults whose frame is no exchange of its own (a copy of one).
COPIES = frozenset({"duplicate"})

_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$")


class TraceError(OcppSimError, ValueError):
    """A file that is no ocppsim recording (or a broken line of one); the text says where."""


@dataclass(frozen=True)
class Outcome:
    """What answered a CALL: `CALLRESULT` (its payload), `CALLERROR` (code, description),
    `timeout`, `none` (no answer was recorded) or `failed` (the CALL could not go: why)."""

    type: str
    payload: Any = None
    code: str | None = None
    description: str | None = None

    def shown(self) -> str:
        """How a difference shows it: `CALLRESULT {…}`, `CALLERROR NotSupported (why)`."""
        if self.type == "CALLRESULT":
            return "CALLRESULT " + json.dumps(self.payload, separators=(",", ":"))
        if self.type == "CALLERROR":
            return f"CALLERROR {self.code}" + (f" ({self.description})" if self.description else "")
        if self.type == "timeout":
            return "no answer (timeout)"
        if self.type == "failed":
            return f"not sent ({self.description})"
        return "no answer"


@dataclass
class Exchange:
    """One CALL (or SEND) of a charge point's conversation and what answered it."""

    #: its line in the recording (1 = the header)
    line: int
    #: seconds since the recording started
    t: float
    #: who sent it: `cp` or `cs`
    sender: Role
    charge_point_id: str
    action: str
    payload: Any
    unique_id: str
    #: `CALL` or `SEND` (nothing answers a SEND)
    kind: str = "CALL"
    answer: Outcome | None = None
    #: the fault injected on its answer or on itself, as recorded
    fault: dict[str, Any] | None = None
    #: how many CALLs the other end had sent before it (a replay waits for as many)
    calls_before: int = 0

    @property
    def outcome(self) -> Outcome:
        return self.answer if self.answer is not None else Outcome("none")


@dataclass
class Conversation:
    """The exchanges of one charge point with its Central System, in order."""

    charge_point_id: str
    version: str | None
    transport: str
    exchanges: list[Exchange] = field(default_factory=list)

    def sent_by(self, role: Role) -> list[Exchange]:
        return [e for e in self.exchanges if e.sender == role]


@dataclass
class Trace:
    """A recording read back: its header and its frame records."""

    path: str
    header: dict[str, Any]
    records: list[tuple[int, dict[str, Any]]]

    @property
    def frames(self) -> int:
        return sum(1 for _, record in self.records if record.get("event") == "frame")

    def charge_point_ids(self) -> list[str]:
        """The charge points the recording has frames of, in the order they appear."""
        found: dict[str, None] = {}
        for _, record in self.records:
            cp_id = record.get("chargePointId")
            if record.get("event") == "frame" and isinstance(cp_id, str):
                found[cp_id] = None
        return list(found)

    def conversation(self, charge_point_id: str, view: Role) -> Conversation:
        """The exchanges of `charge_point_id`, read from the `view` end of its link (the
        Charge Point's `cp#<id>` lines, or the Central System's `cs` lines), else from the
        other end when only that one was recorded."""
        mine = f"cp#{charge_point_id}"
        ends = {
            r.get("speaker")
            for _, r in self.records
            if r.get("event") == "frame" and r.get("chargePointId") == charge_point_id
        }
        wanted = mine if view == "cp" else "cs"
        speaker = wanted if wanted in ends else (mine if mine in ends else "cs")
        me: Role = "cp" if speaker == mine else "cs"
        other: Role = "cs" if me == "cp" else "cp"
        conversation = Conversation(charge_point_id, None, "websocket")
        injected = self._faults(charge_point_id)
        open_calls: dict[str, Exchange] = {}
        seen: set[str] = set()
        counts = {"cp": 0, "cs": 0}
        for line, record in self.records:
            if record.get("speaker") != speaker or record.get("chargePointId") != charge_point_id:
                continue
            event = record.get("event")
            if event == "timeout":
                waiting = open_calls.pop(str(record.get("id")), None)
                if waiting is not None:
                    waiting.answer = Outcome("timeout")
                continue
            if event != "frame":
                continue
            conversation.version = conversation.version or record.get("version")
            conversation.transport = record.get("transport") or conversation.transport
            kind = record.get("type")
            uid = str(record.get("id", ""))
            fault = record.get("fault")
            if kind in ("CALL", "SEND"):
                if uid in seen or (fault or {}).get("kind") in COPIES:
                    continue  # a copy (an injected duplicate), not an exchange of its own
                seen.add(uid)
                sender = me if record.get("dir") == "sent" else other
                exchange = Exchange(
                    line,
                    float(record.get("t", 0.0)),
                    sender,
                    charge_point_id,
                    str(record.get("action")),
                    record.get("payload"),
                    uid,
                    kind,
                    fault=fault,
                    calls_before=counts["cs" if sender == "cp" else "cp"],
                )
                counts[sender] += 1
                if exchange.fault is None:
                    exchange.fault = injected.get(uid)
                conversation.exchanges.append(exchange)
                if kind == "CALL":
                    open_calls[uid] = exchange
            elif kind in ("CALLRESULT", "CALLERROR"):
                waiting = open_calls.pop(uid, None)
                if waiting is None:
                    continue  # a late or duplicated answer: the first one counts
                if kind == "CALLRESULT":
                    waiting.answer = Outcome("CALLRESULT", record.get("payload"))
                else:
                    waiting.answer = Outcome(
                        "CALLERROR", None, record.get("code"), record.get("description")
                    )
                if fault is not None:
                    waiting.fault = fault
        return conversation

    def _faults(self, charge_point_id: str) -> dict[str, dict[str, Any]]:
        """The faults injected at either end of the link, by the unique id of the exchange
        they changed (the frame they marked, or the fault line of an answer not sent)."""
        found: dict[str, dict[str, Any]] = {}
        for _, record in self.records:
            if record.get("chargePointId") != charge_point_id:
                continue
            event = record.get("event")
            uid = record.get("id")
            if not isinstance(uid, str):
                continue
            if event == "frame" and isinstance(record.get("fault"), dict):
                found.setdefault(uid, record["fault"])
            elif event == "fault":
                found.setdefault(uid, {"kind": record.get("kind"), "text": record.get("text")})
        return found

    def started(self) -> str | None:
        started = self.header.get("started")
        return started if isinstance(started, str) else None


def load(path: str | Path) -> Trace:
    """Read a recording; TraceError says what is wrong with it (and on which line)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise TraceError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise TraceError(f"{path} is not a text file") from None
    return parse(text.splitlines(), str(path))


def parse(lines: Iterable[str], name: str = "<recording>") -> Trace:
    """A recording from its lines (see `load`)."""
    header: dict[str, Any] | None = None
    records: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            if header is None:
                raise TraceError(
                    f"{name}:{number}: not an ocppsim recording (its lines are JSON objects;"
                    " record one with --record FILE)"
                ) from None
            raise TraceError(f"{name}:{number}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise TraceError(f"{name}:{number}: not a JSON object")
        if header is None:
            if record.get("record") != TRACE_KIND:
                raise TraceError(
                    f"{name}:{number}: not an ocppsim recording (its first line must say"
                    f' "record":"{TRACE_KIND}"; record one with --record FILE)'
                )
            header = record
            continue
        records.append((number, record))
    if header is None:
        raise TraceError(f"{name}: empty (no header line)")
    return Trace(name, header, records)


# -- comparing ---------------------------------------------------------------------------------


class IdMap:
    """Ids a peer assigns (`transactionId`): recorded value -> the value the replay got."""

    def __init__(self) -> None:
        self.pairs: dict[str, dict[Any, Any]] = {}

    def meet(self, name: str, recorded: Any, got: Any) -> bool:
        """A recorded id met a live one: pair them the first time; False when the recorded
        one was paired with another value already."""
        pairs = self.pairs.setdefault(name, {})
        if recorded not in pairs:
            if not isinstance(recorded, (str, int)) or isinstance(recorded, bool):
                return recorded == got
            pairs[recorded] = got
            return True
        return bool(pairs[recorded] == got)

    def translate(self, payload: Any) -> Any:
        """`payload` with every paired id replaced by the live one."""
        if not self.pairs:
            return payload
        if isinstance(payload, dict):
            translated = {}
            for key, value in payload.items():
                pairs = self.pairs.get(key)
                if pairs is not None and _hashable(value) and value in pairs:
                    translated[key] = pairs[value]
                else:
                    translated[key] = self.translate(value)
            return translated
        if isinstance(payload, list):
            return [self.translate(item) for item in payload]
        return payload


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) or value is None


def is_date_time(value: Any) -> bool:
    return isinstance(value, str) and _DATE_TIME.match(value) is not None


@dataclass(frozen=True)
class Change:
    """One difference: the field's path (`idTagInfo.status`; empty for the answer as a
    whole), the recorded value and the one got, as JSON texts."""

    path: str
    recorded: str
    got: str


def _shown(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def compare(
    recorded: Outcome,
    got: Outcome,
    ids: IdMap | None = None,
    ignore: Iterable[str] = (),
) -> list[Change]:
    """Where `got` differs from `recorded` (ignoring date-times, pairing assigned ids and
    leaving out the fields named in `ignore`)."""
    ids = ids if ids is not None else IdMap()
    if recorded.type != got.type:
        return [Change("", recorded.shown(), got.shown())]
    if recorded.type == "CALLERROR":
        if recorded.code != got.code:
            return [Change("errorCode", _shown(recorded.code), _shown(got.code))]
        return []
    if recorded.type != "CALLRESULT":
        return []
    return list(_walk(recorded.payload, got.payload, "", ids, frozenset(ignore)))


def learn(recorded: Any, got: Any, ids: IdMap) -> None:
    """Pair the assigned ids of two payloads of the same message (a CALL the peer sent in the
    recording and in the replay), ignoring every other difference."""
    for _ in _walk(recorded, got, "", ids, frozenset()):
        pass


def _walk(
    recorded: Any, got: Any, path: str, ids: IdMap, ignore: frozenset[str]
) -> Iterator[Change]:
    name = path.rsplit(".", 1)[-1]
    if name in ignore:
        return
    if name in MAPPED_FIELDS and not isinstance(recorded, (dict, list)):
        if not ids.meet(name, recorded, got):
            yield Change(path, _shown(recorded), _shown(got))
        return
    if isinstance(recorded, dict) and isinstance(got, dict):
        for key in dict.fromkeys([*recorded, *got]):
            where = f"{path}.{key}" if path else str(key)
            if key not in got:
                if key not in ignore:
                    yield Change(where, _shown(recorded[key]), "(missing)")
            elif key not in recorded:
                if key not in ignore:
                    yield Change(where, "(missing)", _shown(got[key]))
            else:
                yield from _walk(recorded[key], got[key], where, ids, ignore)
        return
    if isinstance(recorded, list) and isinstance(got, list):
        for index, (before, now) in enumerate(zip(recorded, got, strict=False)):
            yield from _walk(before, now, f"{path}.{index}" if path else str(index), ids, ignore)
        if len(recorded) != len(got):
            yield Change(path, f"{len(recorded)} items", f"{len(got)} items")
        return
    if is_date_time(recorded) and is_date_time(got):
        return
    if recorded != got or type(recorded) is not type(got):
        yield Change(path, _shown(recorded), _shown(got))
