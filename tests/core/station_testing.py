"""Helpers for the charging-station tests: the official OCPP 2.x schemas of the PyPI `ocpp`
package (draft 6, date-time checked) and a station driven by a fake clock whose every payload,
sent or answered, is checked against them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any

import pytest
from jsonschema import Draft6Validator
from ocppsim_testing import needs_version

from ocppsim.core.station import ChargingStation, Outgoing, Reply, StationInfo

Payload = dict[str, Any]

_FOLDERS = {"2.0.1": "v201", "2.1": "v21"}
#: The versions under test; 2.1 needs `ocpp` 2.1, which needs Python 3.11 (the registry says so).
VERSIONS = ["2.0.1", pytest.param("2.1", marks=needs_version("2.1"))]
#: The start of every test's clock.
T0 = datetime(2026, 11, 24, 10, 0, 0, tzinfo=timezone.utc)


@cache
def validator(version: str, message: str) -> Draft6Validator:
    """The validator of one message's official schema (e.g. `TransactionEventRequest`)."""
    folder = resources.files("ocpp").joinpath(_FOLDERS[version], "schemas")
    schema = json.loads(folder.joinpath(f"{message}.json").read_text("utf-8"))
    Draft6Validator.check_schema(schema)
    return Draft6Validator(schema, format_checker=Draft6Validator.FORMAT_CHECKER)


def check(version: str, message: str, payload: Payload) -> None:
    """Fail unless `payload` is valid against the official schema of `message`."""
    errors = sorted(validator(version, message).iter_errors(payload), key=str)
    assert not errors, f"{message} ({version}) breaks its schema: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors
    )


def csms_answer(version: str, action: str, request: Payload, now: datetime) -> Payload:
    """A CSMS's plain answer to a station's CALL (every badge Accepted)."""
    time = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    answers: dict[str, Payload] = {
        "BootNotification": {"status": "Accepted", "interval": 300, "currentTime": time},
        "Heartbeat": {"currentTime": time},
        "Authorize": {"idTokenInfo": {"status": "Accepted"}},
        "SignCertificate": {"status": "Accepted"},
    }
    answer = answers.get(action, {})
    if action == "TransactionEvent" and "idToken" in request:
        answer = {"idTokenInfo": {"status": "Accepted"}}
    check(version, f"{action}Response", answer)
    return answer


class Driven:
    """A station, its clock and everything it sent; each payload checked against its schema."""

    def __init__(self, version: str = "2.0.1", info: StationInfo | None = None, **options: Any):
        counter = iter(range(1, 1_000_000))
        options.setdefault("new_transaction_id", lambda: f"tx-{next(counter)}")
        self.version = version
        self.station = ChargingStation(version, info, **options)
        self.now = T0
        self.sent: list[Outgoing] = []

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
        """The CSMS sends a CALL (checked first); the answer and follow-ups are checked."""
        check(self.version, f"{action}Request", payload)
        reply = self.station.on_call(action, payload, self.now)
        assert reply is not None, f"the station does not answer {action}"
        check(self.version, f"{action}Response", reply.payload)
        self._took(reply.outgoing)
        return reply

    def result(self, sent: Outgoing, answer: Payload) -> list[Outgoing]:
        """The CSMS answers one of the station's CALLs with `answer` (checked)."""
        check(self.version, f"{sent.action}Response", answer)
        return self._took(self.station.on_result(sent.action, sent.payload, answer, self.now))

    def answer_all(self, out: list[Outgoing]) -> list[Outgoing]:
        """Answer every CALL as a plain CSMS would, and the follow-ups too; all that was sent."""
        everything: list[Outgoing] = []
        queue = list(out)
        while queue:
            sent = queue.pop(0)
            everything.append(sent)
            answer = csms_answer(self.version, sent.action, sent.payload, self.now)
            queue += self.result(sent, answer)
        return everything

    def boot(self) -> list[Outgoing]:
        """Boot, accepted: the boot and the StatusNotifications that follow."""
        return self.answer_all(self._took(self.station.boot(self.now)))

    def badge(self, token: str, evse: int = 1) -> list[Outgoing]:
        return self._took(self.station.present_badge(evse, token, self.now))

    def plug(self, evse: int = 1, connector: int | None = None) -> list[Outgoing]:
        return self._took(self.station.plug_in(evse, self.now, connector))

    def unplug(self, evse: int = 1, connector: int | None = None) -> list[Outgoing]:
        return self._took(self.station.unplug(evse, self.now, connector))

    def tick(self) -> list[Outgoing]:
        return self._took(self.station.tick(self.now))

    def fault(self, evse: int, connector: int, faulted: bool = True) -> list[Outgoing]:
        return self._took(self.station.set_fault(evse, connector, self.now, faulted))


def actions(out: list[Outgoing]) -> list[str]:
    """The actions of a list of CALLs."""
    return [o.action for o in out]


def events(out: list[Outgoing]) -> list[Payload]:
    """The TransactionEvent payloads of a list of CALLs."""
    return [o.payload for o in out if o.action == "TransactionEvent"]


def energy(event: Payload) -> list[float]:
    """The Energy.Active.Import.Register readings of a TransactionEvent or MeterValues."""
    return [
        sv["value"]
        for mv in event.get("meterValue", [])
        for sv in mv["sampledValue"]
        if sv.get("measurand") == "Energy.Active.Import.Register"
    ]


def statuses(out: list[Outgoing]) -> list[tuple[int, int, str]]:
    """(evseId, connectorId, connectorStatus) of the StatusNotifications of a list of CALLs."""
    return [
        (o.payload["evseId"], o.payload["connectorId"], o.payload["connectorStatus"])
        for o in out
        if o.action == "StatusNotification"
    ]
