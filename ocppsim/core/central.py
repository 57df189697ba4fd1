"""What ocppsim's Central System keeps and decides by itself (sans-I/O): the answers OCPP
requires to depend on state, given without any configuration.

* **Transaction ids** come from one counter per Central System, from 1: each StartTransaction
  gets the next (OCPP 1.6 §4.8: the id identifies the transaction); the open ones are kept per
  charge point (from the answers it was given: a plugin's too) until their StopTransaction, or
  their 2.x TransactionEvent Ended.
* **idTags and idTokens** are accepted, as payment gateways accept any card number but their
  test numbers, except the reserved test tags whose name says the answer (`TagPolicy`):
  `INVALID…`, `UNKNOWN…`, `BLOCKED…`, `EXPIRED…`, `CONCURRENT…` and, in 2.x, `NOCREDIT…`, …
  (case-insensitive). A list of accepted tags (`start_cs --accept-tags`) makes it strict: any
  other tag is Invalid (1.x) or Unknown (2.x). The same answer in Authorize, StartTransaction,
  StopTransaction and TransactionEvent.
* **DataTransfer** of a vendorId it does not serve is answered UnknownVendorId (OCPP 1.6 §4.3,
  2.0.1 P02.FR.06). It serves `fr.tm.cnr` (the vendorId of ocppsim's default DataTransfer),
  the `--vendor-ids` given, and `ocppsim`: the in-band asks of `ocppsim check` (a test case's
  request that the Central System do something: send a CALL to this charge point, answer its
  next boot Pending or Rejected; docs/conformance.md, "Asks").
* **Registration** (OCPP 2.x): while a station's boot is Pending or Rejected, a CALL other
  than BootNotification (or one a TriggerMessage asked for) is refused with SecurityError
  (OCPP 2.0.1 B02.FR.09, B03.FR.07).

A plugin's answer wins over these (the model does not see that CALL), but the transaction ids
and the registration status are read from every answer given, whoever gave it.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ocppsim.core.defaults import DAY, OCPP_TIME, default_payload
from ocppsim.core.errors import CallError, OcppSimError
from ocppsim.core.station.common import Outgoing, Payload, Reply

#: The reserved test tags: a tag that starts with the prefix (case-insensitive) gets the status
#: of its version (OCPP 1.x, 2.x). 1.x has no Unknown and none of 2.x's other refusals: Invalid.
RESERVED_TAGS: tuple[tuple[str, str, str], ...] = (
    ("INVALID", "Invalid", "Invalid"),
    ("UNKNOWN", "Invalid", "Unknown"),
    ("BLOCKED", "Blocked", "Blocked"),
    ("EXPIRED", "Expired", "Expired"),
    ("CONCURRENT", "ConcurrentTx", "ConcurrentTx"),
    ("NOCREDIT", "Invalid", "NoCredit"),
    ("NOTALLOWEDTYPEEVSE", "Invalid", "NotAllowedTypeEVSE"),
    ("NOTATTHISLOCATION", "Invalid", "NotAtThisLocation"),
    ("NOTATTHISTIME", "Invalid", "NotAtThisTime"),
)
#: The vendorIds served without being asked: ocppsim's default DataTransfer request's.
DEFAULT_VENDOR_IDS = ("fr.tm.cnr",)
#: The vendorId and messageId of `ocppsim check`'s in-band asks.
ASK_VENDOR_ID = "ocppsim"
ASK_MESSAGE_ID = "ask"
#: The action that carries each message a 2.x TriggerMessage may ask for, when it differs.
TRIGGERED = {
    "SignChargingStationCertificate": "SignCertificate",
    "SignV2GCertificate": "SignCertificate",
    "SignCombinedCertificate": "SignCertificate",
}
#: The most open transactions kept per charge point (the oldest go first).
MAX_OPEN = 1000


def is_2x(version: str) -> bool:
    """True for OCPP 2.0.1 and 2.1 (idTokens, TransactionEvent, SecurityError)."""
    return not version.startswith("1.")


def read_list(text: str, what: str) -> list[str]:
    """The items of an option's `A,B,C` or `@file` (one or more per line, commas or spaces
    between them, `#` starts a comment); OcppSimError for a file that cannot be read or a
    list with nothing in it."""
    if text.startswith("@"):
        path = Path(text[1:]).expanduser()
        try:
            content = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise OcppSimError(f"cannot read the {what} file {path}: {reason}") from None
        lines = [line.split("#", 1)[0] for line in content.splitlines()]
    else:
        lines = [text]
    items = [item for line in lines for item in line.replace(",", " ").split()]
    if not items:
        where = f"the file {text[1:]}" if text.startswith("@") else "the list"
        raise OcppSimError(f"{where} names no {what}")
    return items


class TagPolicy:
    """How the Central System answers an idTag or idToken (see the module docstring)."""

    def __init__(self, accepted: Iterable[str] | None = None):
        #: the accepted tags, upper-cased; None: every tag but the reserved ones
        self.accepted = None if accepted is None else {tag.upper() for tag in accepted}

    def status(self, tag: Any, version: str) -> str:
        """The AuthorizationStatus of `tag` in `version`."""
        two_x = is_2x(version)
        text = tag.upper() if isinstance(tag, str) else ""
        if self.accepted is not None and text in self.accepted:
            return "Accepted"
        for prefix, old, new in RESERVED_TAGS:
            if text.startswith(prefix):
                return new if two_x else old
        if self.accepted is None:
            return "Accepted"
        return "Unknown" if two_x else "Invalid"

    def describe(self) -> str | None:
        """What a Central System says at start when it accepts a list only (None otherwise)."""
        if self.accepted is None:
            return None
        return (
            f"accepting {len(self.accepted)} idTag(s) only (--accept-tags): any other is"
            " Invalid (OCPP 2.x: Unknown)"
        )


class Station:
    """What the Central System keeps of one charge point (only what it needs, when it does)."""

    __slots__ = ("registration", "boots", "transactions", "reservations", "triggered")

    def __init__(self) -> None:
        #: the status of its last BootNotification's answer
        self.registration = "Accepted"
        #: how its next boots are to be answered (an ask's): status, interval
        self.boots: list[tuple[str, int]] = []
        #: its open transactions, oldest first: id -> connector (1.x) or EVSE (2.x)
        self.transactions: dict[Any, Any] = {}
        #: the reservations it accepted, oldest first
        self.reservations: list[Any] = []
        #: the CALLs a TriggerMessage asked for (2.x, while not Accepted): action -> how many
        self.triggered: dict[str, int] = {}

    def empty(self) -> bool:
        return not (
            self.boots
            or self.transactions
            or self.reservations
            or self.triggered
            or self.registration != "Accepted"
        )


class CentralSystemModel:
    """The state and answers of ocppsim's Central System, for every charge point it serves.

    `answer` gives its own answer to a CALL (None: the version's default), `answered` reads
    the answer that was given (its own or a plugin's), `heard` reads the charge point's answer
    to a CALL of the Central System's.
    """

    def __init__(
        self,
        *,
        accept_tags: Iterable[str] | None = None,
        vendor_ids: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ):
        self.tags = TagPolicy(accept_tags)
        given = list(vendor_ids)
        #: every vendorId is served (`--vendor-ids '*'`)
        self.every_vendor = "*" in given
        self.vendor_ids = {v.lower() for v in (*DEFAULT_VENDOR_IDS, *given) if v != "*"}
        self.clock = clock
        self.transaction_ids = itertools.count(1)
        self.stations: dict[str, Station] = {}
        self._handlers: dict[str, Callable[[str, str, Payload], Reply | None]] = {
            "Authorize": self._authorize,
            "BootNotification": self._boot,
            "DataTransfer": self._data_transfer,
            "StartTransaction": self._start_transaction,
            "StopTransaction": self._stop_transaction,
            "TransactionEvent": self._transaction_event,
        }

    # -- answering a charge point's CALL ---------------------------------------------------------

    def answer(self, cp_id: str, version: str, action: str, payload: Any) -> Reply | None:
        """Its own answer to `action` from `cp_id` and the CALLs to send after it; None for the
        version's default answer. CallError (SecurityError) for a 2.x station's CALL while its
        registration is not Accepted."""
        station = self.stations.get(cp_id)
        if station is not None and station.registration != "Accepted" and is_2x(version):
            self._guard(station, action, payload)
        handler = self._handlers.get(action)
        if handler is None or not isinstance(payload, dict):
            return None
        return handler(cp_id, version, payload)

    def _guard(self, station: Station, action: str, payload: Any) -> None:
        """OCPP 2.0.1 B02.FR.09, B03.FR.07: SecurityError while Pending or Rejected."""
        if action == "BootNotification" or _is_ask(action, payload):
            return
        if station.triggered.get(action):
            station.triggered[action] -= 1
            if not station.triggered[action]:
                del station.triggered[action]
            return
        raise CallError(
            "SecurityError",
            f"the charging station's registration is {station.registration}: only"
            " BootNotification (or a message a TriggerMessage asked for) is taken",
        )

    def status_info(self, version: str, tag: Any, default: Any) -> Payload:
        """The idTagInfo (1.x) or idTokenInfo (2.x) of `tag`: `default` (the version's default
        info) when accepted, else the status alone (an expired tag's date a day back)."""
        status = self.tags.status(tag, version)
        if status == "Accepted" and isinstance(default, dict):
            return default
        info: Payload = {"status": status}
        if status == "Expired" and not is_2x(version):
            info["expiryDate"] = time.strftime(OCPP_TIME, time.gmtime(self.clock() - DAY))
        return info

    def _authorize(self, cp_id: str, version: str, payload: Payload) -> Reply:
        answer = default_payload(version, "AuthorizeResponse", clock=self.clock)
        if is_2x(version):
            token = payload.get("idToken")
            tag = token.get("idToken") if isinstance(token, dict) else None
            answer["idTokenInfo"] = self.status_info(version, tag, answer.get("idTokenInfo"))
        else:
            answer["idTagInfo"] = self.status_info(
                version, payload.get("idTag"), answer.get("idTagInfo")
            )
        return Reply(answer, [])

    def _start_transaction(self, cp_id: str, version: str, payload: Payload) -> Reply:
        answer = default_payload(version, "StartTransactionResponse", clock=self.clock)
        answer["transactionId"] = next(self.transaction_ids)
        answer["idTagInfo"] = self.status_info(
            version, payload.get("idTag"), answer.get("idTagInfo")
        )
        return Reply(answer, [])

    def _stop_transaction(self, cp_id: str, version: str, payload: Payload) -> Reply | None:
        self._close(cp_id, payload.get("transactionId"))
        if "idTag" not in payload:
            return None
        answer = default_payload(version, "StopTransactionResponse", clock=self.clock)
        answer["idTagInfo"] = self.status_info(
            version, payload.get("idTag"), answer.get("idTagInfo")
        )
        return Reply(answer, [])

    def _transaction_event(self, cp_id: str, version: str, payload: Payload) -> Reply:
        info = payload.get("transactionInfo")
        transaction_id = info.get("transactionId") if isinstance(info, dict) else None
        if payload.get("eventType") == "Ended":
            self._close(cp_id, transaction_id)
        elif transaction_id is not None:
            evse = payload.get("evse")
            self._open(cp_id, transaction_id, evse.get("id") if isinstance(evse, dict) else None)
        token = payload.get("idToken")
        if not isinstance(token, dict):  # E01: idTokenInfo answers an idToken only
            return Reply({}, [])
        answer = default_payload(version, "TransactionEventResponse", clock=self.clock)
        answer["idTokenInfo"] = self.status_info(
            version, token.get("idToken"), answer.get("idTokenInfo")
        )
        return Reply(answer, [])

    def _boot(self, cp_id: str, version: str, payload: Payload) -> Reply | None:
        station = self.stations.get(cp_id)
        if station is None or not station.boots:
            return None
        status, interval = station.boots.pop(0)
        answer = default_payload(version, "BootNotificationResponse", clock=self.clock)
        answer["status"] = status
        answer["heartbeatInterval" if "heartbeatInterval" in answer else "interval"] = interval
        return Reply(answer, [])

    def _data_transfer(self, cp_id: str, version: str, payload: Payload) -> Reply | None:
        vendor = payload.get("vendorId")
        if vendor == ASK_VENDOR_ID:
            return self._ask(cp_id, version, payload)
        if self.every_vendor or (isinstance(vendor, str) and vendor.lower() in self.vendor_ids):
            return None
        return Reply({"status": "UnknownVendorId"}, [])

    # -- what it reads from the answers given and heard --------------------------------------------

    def answered(self, cp_id: str, version: str, action: str, payload: Any, answer: Any) -> None:
        """`answer` was given to `action` (by the model or a plugin): a boot's status is the
        station's registration, a StartTransaction's id an open transaction."""
        if not isinstance(answer, dict):
            return
        if action == "BootNotification":
            status = answer.get("status")
            station = self.stations.get(cp_id)
            if status not in ("Pending", "Rejected") and station is None:
                return
            station = self._station(cp_id)
            station.registration = status if status in ("Pending", "Rejected") else "Accepted"
            station.triggered.clear()  # what was asked for before this boot is no more
            self._tidy(cp_id)
        elif action == "StartTransaction" and isinstance(payload, dict):
            transaction_id = answer.get("transactionId")
            if transaction_id is not None:
                self._open(cp_id, transaction_id, payload.get("connectorId"))

    def heard(self, cp_id: str, version: str, action: str, request: Any, result: Any) -> None:
        """The charge point answered the Central System's `action` with `result`: what a 2.x
        TriggerMessage asked for is let through while not Accepted, a reservation accepted or
        cancelled is remembered or forgotten."""
        if not isinstance(request, dict) or not isinstance(result, dict):
            return
        accepted = result.get("status") == "Accepted"
        if action == "TriggerMessage" and accepted and is_2x(version):
            wanted = request.get("requestedMessage")
            station = self.stations.get(cp_id)
            if isinstance(wanted, str) and station is not None:
                wanted = TRIGGERED.get(wanted, wanted)
                station.triggered[wanted] = station.triggered.get(wanted, 0) + 1
        elif action == "ReserveNow" and accepted:
            reservation = request.get("id" if is_2x(version) else "reservationId")
            if reservation is not None:
                self._station(cp_id).reservations.append(reservation)
        elif action == "CancelReservation" and accepted:
            station = self.stations.get(cp_id)
            if station is not None and request.get("reservationId") in station.reservations:
                station.reservations.remove(request.get("reservationId"))
                self._tidy(cp_id)

    def open_transactions(self, cp_id: str, point: Any = None) -> list[Any]:
        """The ids of `cp_id`'s open transactions (on connector or EVSE `point`), oldest first."""
        station = self.stations.get(cp_id)
        if station is None:
            return []
        return [t for t, p in station.transactions.items() if point in (None, p)]

    # -- asks --------------------------------------------------------------------------------------

    def _ask(self, cp_id: str, version: str, payload: Payload) -> Reply:
        """An ask of `ocppsim check`: answered Accepted with its id and done (docs/conformance.md);
        Rejected, saying why, when it cannot be."""
        if payload.get("messageId") != ASK_MESSAGE_ID:
            return Reply({"status": "UnknownMessageId"}, [])
        try:
            document = json.loads(payload.get("data") or "{}")
            do = document["do"]
            if not isinstance(do, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _rejected("an ask is JSON with a `do' object")
        done = {"status": "Accepted", "data": document.get("id")}
        if "boot" in do:
            status = do["boot"]
            if status not in ("Accepted", "Pending", "Rejected"):
                return _rejected(f"a boot is answered Accepted, Pending or Rejected, not {status}")
            try:
                interval = int(do.get("interval", 2))
            except (TypeError, ValueError):
                return _rejected("the interval of a boot ask is a number of seconds")
            self._station(cp_id).boots = [(status, interval)]
            return Reply(done, [])
        action = do.get("send")
        if not isinstance(action, str):
            return _rejected("this ask is not understood (do: send or boot)")
        body = dict(do.get("payload") or {})
        if action in ("RemoteStopTransaction", "RequestStopTransaction"):
            if "transactionId" not in body:
                point = do.get("connectorId", do.get("evseId"))
                open_ones = self.open_transactions(cp_id, point)
                if not open_ones:
                    return _rejected("no open transaction to stop")
                body["transactionId"] = open_ones[-1]
        elif action == "CancelReservation" and "reservationId" not in body:
            station = self.stations.get(cp_id)
            if station is None or not station.reservations:
                return _rejected("no reservation to cancel")
            body["reservationId"] = station.reservations[-1]
        return Reply(done, [Outgoing(action, body)])

    # -- keeping stations ------------------------------------------------------------------------

    def _station(self, cp_id: str) -> Station:
        station = self.stations.get(cp_id)
        if station is None:
            station = self.stations[cp_id] = Station()
        return station

    def _tidy(self, cp_id: str) -> None:
        """Forget a station the Central System holds nothing of (a fleet's memory stays flat)."""
        station = self.stations.get(cp_id)
        if station is not None and station.empty():
            del self.stations[cp_id]

    def _open(self, cp_id: str, transaction_id: Any, point: Any) -> None:
        if not isinstance(transaction_id, (int, str)):
            return
        transactions = self._station(cp_id).transactions
        if transaction_id not in transactions:
            transactions[transaction_id] = point
            if len(transactions) > MAX_OPEN:
                del transactions[next(iter(transactions))]

    def _close(self, cp_id: str, transaction_id: Any) -> None:
        station = self.stations.get(cp_id)
        if not isinstance(transaction_id, (int, str)) or station is None:
            return
        if transaction_id in station.transactions:
            del station.transactions[transaction_id]
            self._tidy(cp_id)


def _is_ask(action: str, payload: Any) -> bool:
    return (
        action == "DataTransfer"
        and isinstance(payload, dict)
        and payload.get("vendorId") == ASK_VENDOR_ID
    )


def _rejected(why: str) -> Reply:
    return Reply({"status": "Rejected", "data": why}, [])
