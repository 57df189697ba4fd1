"""Helpers for the 1.x Charge Point model's tests: every payload checked against its version's
schema (OCA's OCPP 1.6 JSON schemas from the PyPI `ocpp` package, the project's 1.2 and 1.5
schemas), with draft 4, date-times really checked and numbers read as Decimal (so `multipleOf:
0.1` means what it says: 8.1 is a multiple, 8.15 is not); and a model driven by a fake clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

from jsonschema import Draft4Validator

from ocppsim.core.station import ChargePointInfo, ChargePointModel, Outgoing, Reply
from ocppsim.core.station.shapes import entry

Payload = dict[str, Any]

#: The start of every test's clock (a Tuesday).
T0 = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)
V16 = "1.6"


def _decimal(value: Any) -> Any:
    """JSON text read back with floats as Decimal."""
    return json.loads(json.dumps(value), parse_float=Decimal)


@cache
def validator(version: str, message: str) -> Draft4Validator:
    """The validator of one message's schema (`BootNotificationRequest`)."""
    schema = _decimal(entry(version).schemas.load(message))
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def check(version: str, message: str, payload: Payload) -> None:
    """Fail unless `payload` is valid against the schema of `message` in `version`."""
    errors = sorted(validator(version, message).iter_errors(_decimal(payload)), key=str)
    assert not errors, f"{message} ({version}) breaks its schema: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


class Driven:
    """A Charge Point model, its clock, everything it sent, and a Central System that answers
    plainly (every idTag Accepted, transaction ids from 1); every payload checked."""

    def __init__(
        self, version: str = V16, info: ChargePointInfo | None = None, **options: Any
    ) -> None:
        self.version = version
        self.cp = ChargePointModel(version, info, **options)
        self.now = T0
        self.sent: list[Outgoing] = []
        self.next_transaction_id = 1
        self.id_tag_info: dict[str, Payload] = {}

    def at(self, seconds: float) -> Driven:
        """Set the clock to T0 + seconds."""
        self.now = T0 + timedelta(seconds=seconds)
        return self

    def _took(self, out: list[Outgoing]) -> list[Outgoing]:
        for action, payload in out:
            check(self.version, f"{action}Request", payload)
        self.sent += out
        return out

    def call(self, action: str, payload: Payload) -> Reply:
        """The Central System sends a CALL (checked first); the answer and follow-ups too."""
        check(self.version, f"{action}Request", payload)
        reply = self.cp.on_call(action, payload, self.now)
        assert reply is not None, f"the model does not answer {action}"
        check(self.version, f"{action}Response", reply.payload)
        self._took(reply.outgoing)
        return reply

    def answer(self, sent: Outgoing) -> Payload:
        """What a plain Central System answers to a CALL."""
        time = self.now.strftime("%Y-%m-%dT%H:%M:%SZ")
        action, request = sent
        info = self.id_tag_info.get(request.get("idTag", ""), {"status": "Accepted"})
        if action == "BootNotification":
            field = entry(self.version).schemas.load("BootNotificationResponse")["properties"]
            key = "interval" if "interval" in field else "heartbeatInterval"
            answer: Payload = {"status": "Accepted", "currentTime": time, key: 300}
        elif action == "Heartbeat":
            answer = {"currentTime": time}
        elif action == "Authorize":
            answer = {"idTagInfo": info}
        elif action == "StartTransaction":
            answer = {"transactionId": self.next_transaction_id, "idTagInfo": info}
            self.next_transaction_id += 1
        elif action in ("SignCertificate", "DataTransfer"):
            answer = {"status": "Accepted"}
        else:
            answer = {}
        return answer

    def result(self, sent: Outgoing, answer: Payload | None = None) -> list[Outgoing]:
        """The Central System answers one of the model's CALLs (checked)."""
        answer = self.answer(sent) if answer is None else answer
        check(self.version, f"{sent.action}Response", answer)
        return self._took(self.cp.on_result(sent.action, sent.payload, answer, self.now))

    def answer_all(self, out: list[Outgoing]) -> list[Outgoing]:
        """Answer every CALL as a plain Central System would, and the follow-ups too."""
        everything: list[Outgoing] = []
        queue = list(out)
        while queue:
            sent = queue.pop(0)
            everything.append(sent)
            queue += self.result(sent)
        return everything

    def boot(self) -> list[Outgoing]:
        """Boot, accepted: the boot and the StatusNotifications that follow."""
        return self.answer_all(self._took(self.cp.boot(self.now)))

    def badge(self, id_tag: str, connector: int = 1) -> list[Outgoing]:
        return self._took(self.cp.present_badge(connector, id_tag, self.now))

    def plug(self, connector: int = 1) -> list[Outgoing]:
        return self._took(self.cp.plug_in(connector, self.now))

    def unplug(self, connector: int = 1) -> list[Outgoing]:
        return self._took(self.cp.unplug(connector, self.now))

    def tick(self) -> list[Outgoing]:
        return self._took(self.cp.tick(self.now))

    def fault(
        self, connector: int, faulted: bool = True, code: str = "OtherError"
    ) -> list[Outgoing]:
        return self._took(self.cp.set_fault(connector, self.now, faulted, code))

    def charging(self, id_tag: str = "TAG-1", connector: int = 1) -> int:
        """Plug in, badge, everything answered: the transaction id."""
        self.answer_all(self.plug(connector))
        self.answer_all(self.badge(id_tag, connector))
        tx = self.cp.transaction(connector)
        assert tx is not None and tx.transaction_id is not None
        return tx.transaction_id


def booted(version: str = V16, **info: Any) -> Driven:
    """A booted model (StatusNotifications answered), nothing sent yet."""
    driven = Driven(version, ChargePointInfo(**info))
    driven.boot()
    driven.sent.clear()
    return driven


def actions(out: list[Outgoing]) -> list[str]:
    """The actions of a list of CALLs."""
    return [o.action for o in out]


def of(out: list[Outgoing], action: str) -> list[Payload]:
    """The payloads of the CALLs of one action."""
    return [o.payload for o in out if o.action == action]


def statuses(out: list[Outgoing]) -> list[tuple[int, str]]:
    """(connectorId, status) of the StatusNotifications of a list of CALLs."""
    return [(p["connectorId"], p["status"]) for p in of(out, "StatusNotification")]


def sampled(meter_value: Payload, measurand: str = "Energy.Active.Import.Register") -> list[float]:
    """The readings of a measurand in a 1.6 MeterValue (or transactionData item)."""
    return [
        float(sv["value"])
        for sv in meter_value["sampledValue"]
        if sv.get("measurand", "Energy.Active.Import.Register") == measurand
    ]
