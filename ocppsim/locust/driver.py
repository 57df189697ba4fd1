"""One simulated Charge Point under gevent: the sans-I/O model runner (`core/station/runner.py`)
and RPC session (`core/rpc.py`) over a blocking WebSocket client (websocket-client) that gevent's
monkey patching (done by Locust) makes cooperative.

A `GeventChargePoint` runs what the asyncio fleet runs: it connects as `<url>/<id>` with its
version's subprotocol, boots, answers the Central System's CALLs from its model's state, sends
what its model wants one CALL at a time (StatusNotifications, heartbeats at the interval the
Central System gave, meter values), plays the fleet's charging sessions (`fleet/behaviour.py`:
Poisson arrivals, plug → badge → stop → unplug, the same numbers for the same seed and index),
reboots when asked (a Reset) and, when its link drops, dials again after a jittered back-off
(OCPP 2.0.1 Part 4, Reconnecting).

Two greenlets per Charge Point while its link is up: `run` (sends, waits for answers and for
what time brings) and a reader (answers the Central System's CALLs, hands the answers of its
own to `run`). Every CALL it sent and every connection attempt is reported to `report`: the
Locust user turns them into Locust requests.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

import gevent
import websocket
from gevent.event import AsyncResult
from gevent.event import Event as Signal

from ocppsim.core.errors import OcppError, OcppSimError
from ocppsim.core.rpc import (
    BadFrame,
    CallReceived,
    CallRefused,
    ErrorReceived,
    ResultReceived,
    RpcSession,
)
from ocppsim.core.station import ChargingStation, Outgoing
from ocppsim.core.station.runner import WALL_CLOCK, Clock, Model, ModelRunner
from ocppsim.core.versions import get
from ocppsim.fleet.behaviour import Backoff, SessionPlan, first_free, perform, retry_jitter

_log = logging.getLogger("ocppsim.locust")

#: Seconds a WebSocket opening handshake may take.
CONNECT_TIMEOUT = 10.0
#: Seconds the closing handshake of a link the Charge Point closes may take.
CLOSE_TIMEOUT = 2.0
#: What a CALL whose link went down before its answer came is reported as.
CONNECTION_LOST = "ConnectionLost"
#: What a CALL with no answer within the RPC timeout is reported as.
TIMEOUT = "Timeout"
#: What a CALL whose CALLRESULT breaks its schema is reported as (as `ocppsim fleet` counts it).
INVALID_RESULT = "InvalidResult"

#: Where the report of one CALL or connection attempt goes: (request type, name, milliseconds,
#: bytes of the answer, failure or None). Request type: the subprotocol (`ocpp1.6`) for a CALL,
#: `ws` for a connection attempt (named `connect`).
Report = Callable[[str, str, float, int, str | None], None]


class LinkDown(OcppSimError):
    """The link went down while a CALL waited for its answer."""


def set_meter_interval(model: Model, seconds: int) -> None:
    """Meter values every `seconds` during a transaction: MeterValueSampleInterval (OCPP 1.x)
    or SampledDataCtrlr.TxUpdatedInterval (2.x)."""
    if isinstance(model, ChargingStation):
        model.model.set_value("SampledDataCtrlr", "TxUpdatedInterval", str(seconds))
    elif model.configuration.definition("MeterValueSampleInterval") is not None:
        model.configuration.set("MeterValueSampleInterval", str(seconds))


def basic_auth(identity: str, password: str) -> str:
    """The Authorization header of HTTP Basic auth (RFC 7617) with the Charge Point's id and
    password (OCPP 1.6 security whitepaper §2.1, 2.0.1 Part 2 A00.FR.2)."""
    token = base64.b64encode(f"{identity}:{password}".encode()).decode("ascii")
    return f"Authorization: Basic {token}"


def connect_failure(exc: Exception) -> str:
    """What a failed connection attempt is reported as: `HTTP 404` for a refused handshake,
    else the kind of failure (`ConnectionRefusedError`, `timeout`, the handshake's problem)."""
    if isinstance(exc, websocket.WebSocketBadStatusException):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, websocket.WebSocketException):
        return str(exc) or type(exc).__name__
    return type(exc).__name__


class GeventChargePoint(ModelRunner):
    """One Charge Point of a fleet under gevent (see the module docstring); `run` it in a
    greenlet, `halt` it to stop."""

    __slots__ = (
        "identity",
        "url",
        "subprotocol",
        "index",
        "seed",
        "backoff",
        "plan",
        "_report",
        "_rpc",
        "_ws",
        "_up",
        "_wake",
        "_answer",
        "_waiting",
        "_after_tick",
        "_origin",
        "_losses",
        "_header",
        "_sslopt",
    )

    def __init__(
        self,
        model: Model,
        url: str,
        report: Report,
        *,
        index: int = 0,
        seed: int = 0,
        plan: SessionPlan | None = None,
        backoff: Backoff | None = None,
        password: str | None = None,
        ca: str | None = None,
        clock: Clock = WALL_CLOCK,
    ):
        super().__init__(model, clock)
        entry = get(model.version)
        self.identity = model.info.identity
        self.url = url.rstrip("/") + "/" + quote(self.identity, safe="")
        self.subprotocol = entry.subprotocol
        self.index = index
        self.seed = seed
        self.backoff = backoff if backoff is not None else Backoff()
        self.plan = plan
        self._report = report
        self._rpc = RpcSession(model.version, "cp")
        self._ws: websocket.WebSocket | None = None
        self._up = False
        self._wake = Signal()
        self._answer: AsyncResult | None = None  # what the CALL under way waits for
        self._waiting: str | None = None  # its unique id
        self._after_tick = False
        self._origin = time.monotonic()  # the sessions' clock starts with the Charge Point
        self._losses = 0
        # OCPP security profiles 1 and 2: HTTP Basic auth with the id and the password
        self._header = [basic_auth(self.identity, password)] if password is not None else None
        self._sslopt = {"ca_certs": ca} if ca is not None else None

    def __repr__(self) -> str:
        return f"<GeventChargePoint {self.identity} {self.subprotocol}>"

    # -- what the runner asks of a driver ---------------------------------------------------

    def _kick(self) -> None:
        self._wake.set()

    def _arm(self, after_tick: bool = False) -> None:
        self._after_tick = after_tick
        self._wake.set()

    # -- the life of the Charge Point -------------------------------------------------------

    def run(self) -> None:
        """Connect, boot, behave; after a lost link dial again after a jittered back-off, after
        a reboot at once; until `halt`."""
        attempt = 0
        try:
            while not self.stopped:
                ws = self._connect()
                if ws is None:
                    jitter = retry_jitter(self.seed, self.index, self._losses, attempt)
                    gevent.sleep(self.backoff.delay(attempt, jitter))
                    attempt += 1
                    continue
                attempt = 0
                if not self._serve(ws) and not self.stopped:
                    self._losses += 1
                    jitter = retry_jitter(self.seed, self.index, self._losses, 0)
                    gevent.sleep(self.backoff.delay(0, jitter))
                    attempt = 1
        finally:
            self._close()

    def halt(self) -> None:
        """The Charge Point stops: nothing goes out any more, and its link closes."""
        super().halt()
        self._wake.set()
        answer = self._answer
        if answer is not None and not answer.ready():
            answer.set_exception(LinkDown())

    def _connect(self) -> websocket.WebSocket | None:
        """Open the link (reported as `ws connect`), None when it cannot be opened."""
        start = time.perf_counter()
        try:
            ws = websocket.create_connection(
                self.url,
                subprotocols=[self.subprotocol],
                header=self._header,
                sslopt=self._sslopt,
                timeout=CONNECT_TIMEOUT,
                enable_multithread=True,
            )
        except (websocket.WebSocketException, OSError) as exc:
            self._report("ws", "connect", _ms(start), 0, connect_failure(exc))
            return None
        ws.settimeout(None)
        self._report("ws", "connect", _ms(start), 0, None)
        return ws

    def _serve(self, ws: websocket.WebSocket) -> bool:
        """Run the Charge Point on one link until it goes down (False) or the model asks for a
        reboot (True)."""
        self._ws, self._up = ws, True
        reader = gevent.spawn(self._read, ws)
        try:
            self.boot_if_due()
            while self._up and not self.stopped:
                sent = self.next_call()
                if sent is not None:
                    self._call(ws, sent)
                    continue
                if self.take_reboot() is not None:
                    return True
                self._due()
                if self.has_work():
                    continue
                self._wake.clear()
                if self._up and not self.stopped:
                    self._wake.wait(self._next_wait())
            return False
        except Exception as exc:  # a bug of ours: a line, and the Charge Point dials again
            _log.error("charge point %s failed: %r", self.identity, exc, exc_info=True)
            return False
        finally:
            self._up = False
            reader.kill(block=True)
            self._close()
            self._rpc.pending.clear()
            self.link_lost()

    def _close(self) -> None:
        ws, self._ws = self._ws, None
        if ws is not None:
            try:
                ws.close(timeout=CLOSE_TIMEOUT)
            except (websocket.WebSocketException, OSError):
                ws.shutdown()

    # -- sending ----------------------------------------------------------------------------

    def _call(self, ws: websocket.WebSocket, sent: Outgoing) -> None:
        """Send one of the model's CALLs, wait for its answer, report it and feed it back."""
        call = self._rpc.call(sent.action, sent.payload)
        answer: AsyncResult = AsyncResult()
        self._answer, self._waiting = answer, call.unique_id
        start = time.perf_counter()
        try:
            ws.send(call.to_frame())
            event = answer.get(timeout=self._rpc.timeout)
        except gevent.Timeout:
            self._rpc.forget(call.unique_id)
            self._report(self.subprotocol, sent.action, _ms(start), 0, TIMEOUT)
            self.failed(sent, link_lost=False)
            return
        except (LinkDown, websocket.WebSocketException, OSError):
            self._up = False
            if not self.stopped:
                self._report(self.subprotocol, sent.action, _ms(start), 0, CONNECTION_LOST)
            self.failed(sent, link_lost=True)
            return
        finally:
            self._answer = self._waiting = None
        elapsed = _ms(start)
        if isinstance(event, ErrorReceived):
            error = event.error
            self._report(self.subprotocol, sent.action, elapsed, len(error.to_frame()), error.code)
            self.failed(sent, link_lost=False)
            return
        result = event.result
        failure = INVALID_RESULT if event.violation is not None else None
        if event.reply is not None:  # OCPP 2.1: a CALLRESULT we cannot accept is answered
            self._send(ws, event.reply.to_frame())
        self._report(self.subprotocol, sent.action, elapsed, len(result.to_frame()), failure)
        self.heard(sent.action, sent.payload, result.payload)

    def _send(self, ws: websocket.WebSocket, frame: str) -> None:
        try:
            ws.send(frame)
        except (websocket.WebSocketException, OSError):
            self._up = False
            self._wake.set()

    # -- receiving --------------------------------------------------------------------------

    def _read(self, ws: websocket.WebSocket) -> None:
        """The reader: every frame from the Central System, until the link goes down."""
        try:
            while True:
                opcode, data = ws.recv_data()
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    break
                if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
                    self._receive(ws, data)
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            self._up = False
            answer = self._answer
            if answer is not None and not answer.ready():
                answer.set_exception(LinkDown())
            self._wake.set()

    def _receive(self, ws: websocket.WebSocket, data: bytes) -> None:
        """One frame: a CALL is answered from the model (its follow-ups go after the answer),
        an answer goes to the CALL waiting for it."""
        event = self._rpc.receive(data)
        if isinstance(event, CallReceived):
            call = event.call
            try:
                payload = self.answer_or_default(call.action, call.payload)
                reply = self._rpc.answer(call, payload).to_frame()
            except OcppError as exc:
                reply = self._rpc.refuse(call.unique_id, exc.code, exc.description).to_frame()
            except Exception as exc:  # a bug of ours: the Central System hears of it
                _log.error("charge point %s: %s failed: %r", self.identity, call.action, exc)
                reply = self._rpc.refuse(call.unique_id, "InternalError", repr(exc)).to_frame()
            self._send(ws, reply)
            self.answered()
        elif isinstance(event, ResultReceived | ErrorReceived):
            answer = self._answer
            if answer is not None and event.pending.unique_id == self._waiting:
                answer.set(event)
        elif isinstance(event, CallRefused):
            self._send(ws, event.reply)
        elif isinstance(event, BadFrame) and event.error is not None:
            self._send(ws, event.error.to_frame())
        else:
            _log.debug("charge point %s: %r", self.identity, event)

    # -- time -------------------------------------------------------------------------------

    def _seconds(self) -> float:
        """Seconds on the sessions' clock."""
        return time.monotonic() - self._origin

    def _due(self) -> None:
        """What is due now: the drivers' steps at the charger, then what time brings to the
        model (meter values, heartbeats)."""
        plan = self.plan
        if plan is not None:
            due = plan.next_due()
            if due is not None and due <= self._seconds():
                now: datetime = self.clock.now()
                for step in plan.take_due(self._seconds(), first_free(self.model, now)):
                    out = perform(self.model, step, now)
                    if out:
                        self.take(out)
        delay = self.delay(self._after_tick)
        if delay is not None and delay <= 0:
            self.tick()  # the next wait is at least SPIN_GUARD if it leaves something due

    def _next_wait(self) -> float | None:
        """Seconds until something is due (None: nothing, wait to be woken)."""
        waits: list[float] = []
        delay = self.delay(self._after_tick)
        self._after_tick = False  # the guard after a tick holds for one wait (a timer's)
        if delay is not None:
            waits.append(delay)
        if self.plan is not None and (due := self.plan.next_due()) is not None:
            waits.append(max(0.0, due - self._seconds()))
        return min(waits) if waits else None


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
