"""Makes ocppsim's Central System a target for `ocppsim check --suite csms`: it carries out the
suite's asks and behaves as the specification says where ocppsim's defaults are lenient.

Load it at the Central System's prompt (`load check_target`). Then:

* **asks**: a charge point's `DataTransfer` with vendorId `ocppsim` and messageId `ask`
  carries what a case needs done (docs/conformance.md, "Asks"); it is answered Accepted
  (`data`: the ask's id) and done: `{"send": Action, "payload": {...}}` sends that CALL to
  the charge point (a
  RemoteStopTransaction without a transactionId names the charge point's transaction on the
  connector asked, or its latest; a CancelReservation without a reservationId its latest
  reservation), `{"boot": "Pending" | "Rejected", "interval": N}` answers its next
  BootNotification so (and the one after Accepted);
* **idTags**: only `B4F62CEF` (ocppsim's default idTag, the suites' `valid_tag`) is known;
  another is Invalid (OCPP 1.x) or Unknown (2.x);
* **transaction ids** are unique: each StartTransaction gets a new one;
* **DataTransfer** of another vendorId is answered UnknownVendorId (OCPP 1.6 §4.3);
* **registration**: in OCPP 2.x, while a charging station's boot is Pending or Rejected, a
  CALL other than BootNotification or what a TriggerMessage asked for is refused with
  SecurityError (OCPP 2.0.1 B02.FR.09, B03.FR.07).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from ocppsim.api import CallError, Context, PluginApi

name = "Conformance target"
description = "Carries out the asks of `ocppsim check --suite csms`; strict answers"
author = "ocppsim"
system = "cs"

VENDOR_ID = "ocppsim"
KNOWN_TAGS = {"B4F62CEF"}
#: the messages a TriggerMessage may ask for, by the action that carries them
TRIGGERED = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}


class Station:
    """What the Central System remembers of one charge point."""

    def __init__(self) -> None:
        self.boots: list[tuple[str, int]] = []  # answers of its next boots
        self.registration = "Accepted"
        self.transactions: dict[Any, int | None] = {}  # open transaction id → connector/evse
        self.reservations: list[int] = []
        self.triggered: dict[str, int] = {}


_stations: dict[str, Station] = {}
_transaction_ids = itertools.count(int(time.time()) % 100_000 * 10 + 1)
_reservation_ids = itertools.count(9001)


def _station(ctx: Context) -> Station:
    return _stations.setdefault(ctx.charge_point_id, Station())


def _is_2x(ctx: Context) -> bool:
    return not ctx.ocpp_version.startswith("1.")


def on_load(api: PluginApi) -> None:
    """Register the handlers."""
    _stations.clear()
    api.on_call("BootNotification", _boot)
    api.on_call("DataTransfer", _data_transfer)
    api.on_call("Authorize", _authorize)
    api.on_call("StartTransaction", _start_transaction)
    api.on_call("StopTransaction", _stop_transaction)
    api.on_call("TransactionEvent", _transaction_event)
    for action in _GUARDED:
        api.on_call(action, _guard(action))
    api.log("[check_target] Ready: this Central System takes the asks of `ocppsim check`.")


def _refuse_unless_registered(action: str, ctx: Context) -> None:
    """OCPP 2.0.1 B02.FR.09, B03.FR.07: SecurityError while Pending or Rejected."""
    station = _station(ctx)
    if not _is_2x(ctx) or station.registration == "Accepted":
        return
    if station.triggered.get(action):
        station.triggered[action] -= 1
        return
    raise CallError(
        "SecurityError",
        f"the charging station's registration is {station.registration}: only"
        " BootNotification (or a triggered message) is taken",
    )


#: the CALLs a charge point sends that the guard alone handles (others have their own handler)
_GUARDED = (
    "Heartbeat",
    "StatusNotification",
    "MeterValues",
    "FirmwareStatusNotification",
    "DiagnosticsStatusNotification",
    "LogStatusNotification",
    "NotifyEvent",
    "NotifyReport",
    "SecurityEventNotification",
)


def _guard(action: str) -> Any:
    def handler(payload: dict, ctx: Context) -> None:
        _refuse_unless_registered(action, ctx)

    return handler


def _boot(payload: dict, ctx: Context) -> dict | None:
    station = _station(ctx)
    station.triggered.clear()  # what was asked for before this boot is no more
    if station.boots:
        status, interval = station.boots.pop(0)
        station.registration = status
        return {"status": status, "interval": interval, "currentTime": _now()}
    station.registration = "Accepted"
    return None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _tag_status(tag: Any, ctx: Context) -> str:
    if tag in KNOWN_TAGS:
        return "Accepted"
    return "Unknown" if _is_2x(ctx) else "Invalid"


def _authorize(payload: dict, ctx: Context) -> dict:
    _refuse_unless_registered("Authorize", ctx)
    if "idToken" in payload:
        token = payload["idToken"].get("idToken")
        return {"idTokenInfo": {"status": _tag_status(token, ctx)}}
    return {"idTagInfo": {"status": _tag_status(payload.get("idTag"), ctx)}}


def _start_transaction(payload: dict, ctx: Context) -> dict:
    transaction_id = next(_transaction_ids)
    _station(ctx).transactions[transaction_id] = payload.get("connectorId")
    return {
        "transactionId": transaction_id,
        "idTagInfo": {"status": _tag_status(payload.get("idTag"), ctx)},
    }


def _stop_transaction(payload: dict, ctx: Context) -> None:
    _station(ctx).transactions.pop(payload.get("transactionId"), None)


def _transaction_event(payload: dict, ctx: Context) -> dict | None:
    _refuse_unless_registered("TransactionEvent", ctx)
    station = _station(ctx)
    info = payload.get("transactionInfo") or {}
    transaction_id = info.get("transactionId")
    if payload.get("eventType") == "Ended":
        station.transactions.pop(transaction_id, None)
    elif transaction_id is not None:
        evse = (payload.get("evse") or {}).get("id")
        station.transactions.setdefault(transaction_id, evse)
    token = payload.get("idToken")
    if isinstance(token, dict):
        return {"idTokenInfo": {"status": _tag_status(token.get("idToken"), ctx)}}
    return {}


def _data_transfer(payload: dict, ctx: Context) -> dict:
    if payload.get("vendorId") != VENDOR_ID:
        _refuse_unless_registered("DataTransfer", ctx)
        return {"status": "UnknownVendorId"}
    if payload.get("messageId") != "ask":
        return {"status": "UnknownMessageId"}
    try:
        document = json.loads(payload.get("data") or "{}")
        do = document["do"]
    except (ValueError, KeyError, TypeError):
        return {"status": "Rejected", "data": "an ask is JSON with a `do' object"}
    station = _station(ctx)
    if "boot" in do:
        status = do["boot"]
        interval = int(do.get("interval", 2))
        station.boots = [(status, interval)]
        return {"status": "Accepted", "data": document.get("id")}
    action = do.get("send")
    if not isinstance(action, str):
        return {"status": "Rejected", "data": "this ask is not understood"}
    body = dict(do.get("payload") or {})
    stop = action in ("RemoteStopTransaction", "RequestStopTransaction")
    if stop and "transactionId" not in body:
        point = do.get("connectorId", do.get("evseId"))
        open_ones = [t for t, p in station.transactions.items() if point in (None, p)]
        if not open_ones:
            return {"status": "Rejected", "data": "no open transaction to stop"}
        body["transactionId"] = open_ones[-1]
    if action == "CancelReservation" and "reservationId" not in body:
        if not station.reservations:
            return {"status": "Rejected", "data": "no reservation to cancel"}
        body["reservationId"] = station.reservations[-1]
    if action == "ReserveNow":
        key = "id" if _is_2x(ctx) else "reservationId"
        body.setdefault(key, next(_reservation_ids))
        station.reservations.append(body[key])
    if action == "TriggerMessage":
        wanted = body.get("requestedMessage")
        if isinstance(wanted, str):
            wanted = TRIGGERED.get(wanted, wanted)
            station.triggered[wanted] = station.triggered.get(wanted, 0) + 1
    ctx.call(action, body)  # a task: it goes out once the answer to the ask has
    return {"status": "Accepted", "data": document.get("id")}
