"""A simulated OCPP 2.0.1 / 2.1 charging station, sans-I/O: its EVSEs, connectors, meter and
transactions, the device model, and what it sends and answers.

The simulator drives it with events and gets back the CALLs to send (`Outgoing`), in order:

* local events: `boot`, `present_badge`, `plug_in`, `unplug`, `set_fault`, and `tick` for
  what time brings (meter values, heartbeats, timeouts);
* a CALL from the CSMS: `on_call` gives the answer and the CALLs that follow it (None for an
  action the station leaves to the simulator's default answers);
* the answer to one of its own CALLs: `on_result` (CALLRESULT) or `on_failure` (CALLERROR,
  timeout).

Every method takes `now`, an aware datetime: the station never reads a clock. Transaction ids
come from an injected generator. Payloads are wire dicts as the OCPP 2.0.1 (and 2.1) JSON
schemas define them, optional fields omitted when empty. Requirements cited are OCPP 2.0.1
Part 2 (2.1 Part 2 keeps their numbers).

The station does not hold back its own CALLs before its boot is accepted (B01.FR.08): a
simulator sends what its user asks for; heartbeats wait for the acceptance, and a Pending
station rejects remote starts and stops (B02.FR.05).

OCPP 2.1 has the same core, and the station sends what is valid in both. Where 2.1 differs:
Reset `ImmediateAndResume` is Rejected (no transaction resumption, 2.1 B13.FR.01); the new
TriggerMessage values (`SignV2G20Certificate`, `CustomTrigger`) are NotImplemented;
ConfigurationValueSize is 2500 (2.1 SetVariables values may be that long); the optional fields
2.1 adds (NotifyReport `maxElements`, TransactionEvent `costDetails`/`preconditioningStatus`,
statusInfo of Log/FirmwareStatusNotification, SignCertificate `requestId`) are not sent. 2.1
makes IdToken `type` a free string of up to 20 characters (2.0.1: an enumeration) and allows
longer idTokens (255); the tokens given are passed through as they are.
"""

from __future__ import annotations

import json
import logging
import math
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ocppsim.core import versions
from ocppsim.core.station.certificates import StationCertificates
from ocppsim.core.station.common import (
    METER_UNITS,
    Connector,
    Liveness,
    Meter,
    Outgoing,
    Reboot,
    Reply,
    StationError,
    StationRefusal,
    earliest,
    next_on_grid,
    next_slot,
    parse_time,
    regrid,
    sample_due,
    wire_time,
)
from ocppsim.core.station.device_model import REPORT_BASES, DeviceModel
from ocppsim.core.station.variables import NETWORK_SLOTS, StationInfo, device_model

logger = logging.getLogger("ocppsim.core.station")

if TYPE_CHECKING:
    from ocppsim.security.store import CertificateStore

Payload = dict[str, Any]

#: The OCPP versions a station model plays: the registry's versions with TransactionEvent
#: (2.0.1 and 2.1; 2.1 only where the installed `ocpp` package has its schemas).
VERSIONS = tuple(
    entry.name for entry in versions.all_versions() if entry.handles("cs", "TransactionEvent")
)

#: CSMS → station CALLs the station answers from its state (`on_call`), and the method that
#: answers each (a class-wide table: a fleet of stations holds one).
_HANDLERS = {
    "ChangeAvailability": "_change_availability",
    "GetBaseReport": "_get_base_report",
    "GetReport": "_get_report",
    "GetTransactionStatus": "_get_transaction_status",
    "GetVariables": "_get_variables",
    "RequestStartTransaction": "_request_start_transaction",
    "RequestStopTransaction": "_request_stop_transaction",
    "Reset": "_reset",
    "SetNetworkProfile": "_set_network_profile",
    "SetVariables": "_set_variables",
    "TriggerMessage": "_trigger_message",
    "UnlockConnector": "_unlock_connector",
    "DataTransfer": "_data_transfer",
    "UpdateFirmware": "_update_firmware",
    "GetLog": "_get_log",
    "ReserveNow": "_reserve_now",
    "CancelReservation": "_cancel_reservation",
}
HANDLED_CALLS = frozenset(_HANDLERS)

#: How many ended transactions the station remembers for GetTransactionStatus.
REMEMBERED_TRANSACTIONS = 16
#: The most meter samples kept for TransactionEvent(Ended) when TxEndedInterval > 0; beyond,
#: every other intermediate sample is dropped (E06.FR.13).
MAX_ENDED_SAMPLES = 64

_UNITS = METER_UNITS


def _status_info(reason: str, info: str) -> Payload:
    """StatusInfoType with a reason code of Part 2 Appendix 5 and a short explanation."""
    return {"reasonCode": reason, "additionalInfo": info[:512]}


def _same_token(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """True when two IdTokenType values name the same token (value and type)."""
    return (
        a is not None
        and b is not None
        and a.get("idToken") == b.get("idToken")
        and a.get("type") == b.get("type")
    )


@dataclass(slots=True)
class Authorization:
    """A driver authorized on an EVSE before any transaction started there (badge first)."""

    id_token: Payload
    since: datetime
    remote_start_id: int | None = None
    group_id_token: str | None = None


@dataclass(slots=True)
class Transaction:
    """A transaction on an EVSE (OCPP 2.0.1 Part 2 §E)."""

    transaction_id: str
    evse_id: int
    connector_id: int | None
    started_at: datetime
    seq_no: int = 0
    authorized: bool = False
    id_token: Payload | None = None
    group_id_token: str | None = None
    remote_start_id: int | None = None
    stop_reason: str | None = None
    charging_seconds: float = 0.0
    phases_reported: bool = False
    next_update: datetime | None = None
    next_ended_sample: datetime | None = None
    ended_samples: list[Payload] = field(default_factory=list)


@dataclass(slots=True)
class Evse:
    """An EVSE: its connectors, availability, energy meter and transaction."""

    id: int
    connectors: dict[int, Connector]
    operative: bool = True
    reserved: bool = False
    meter: Meter = field(default_factory=Meter)
    transaction: Transaction | None = None
    authorization: Authorization | None = None
    pending_operative: bool | None = None

    @property
    def energy_wh(self) -> float:
        """The EVSE's meter reading (Wh)."""
        return self.meter.energy_wh


@dataclass(slots=True)
class _Job:
    """A firmware update or a log upload: the statuses still to report, and when."""

    action: str
    request_id: int
    steps: list[tuple[datetime, str]]
    status: str = "Idle"


@dataclass(slots=True)
class _Pending:
    """An Authorize the station sent and waits the answer to."""

    evse_id: int
    id_token: Payload
    purpose: str  # "start", "stop" or "remote"
    remote_start_id: int | None = None


class ChargingStation(Liveness):
    """The state of one simulated OCPP 2.0.1 or 2.1 charging station.

    `make_csr(common_name, organization)` makes the CSR of TriggerMessage(
    SignChargingStationCertificate) (without it that trigger is answered NotImplemented);
    `accept_certificate` checks the chain CertificateSigned brings and `certificates` is the
    store InstallCertificate, GetInstalledCertificateIds and DeleteCertificate act on (see
    `StationCertificates`). `new_transaction_id` makes transaction ids (at most 36 characters).
    """

    __slots__ = (
        "version",
        "info",
        "model",
        "evses",
        "operative",
        "pending_operative",
        "registration",
        "certificates",
        "network_profiles",
        "active_slot",
        "reboot",
        "_boot_reason",
        "_new_transaction_id",
        "_pending",
        "_reset_scheduled",
        "_reset_evse",
        "_reported",
        "_ended",
        "_unconfirmed",
        "_boot_retry_at",
        "_aligned_slot",
        "_jobs",
        "_reservations",
    )

    def __init__(
        self,
        version: str | None = None,
        info: StationInfo | None = None,
        *,
        new_transaction_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        make_csr: Callable[[str, str | None], Any] | None = None,
        accept_certificate: Callable[[str, Any, str], Any] | None = None,
        certificates: CertificateStore | None = None,
    ):
        if version is None:  # the oldest it plays (none when the `ocpp` package is missing)
            version = VERSIONS[0] if VERSIONS else ""
        if version not in VERSIONS:
            why = versions.unavailable().get(version)
            plays = versions.one_of(VERSIONS)
            raise ValueError(why or f"a charging station model plays OCPP {plays}")
        super().__init__()
        self.version = version
        self.info = info if info is not None else StationInfo()
        self.model: DeviceModel = device_model(version, self.info)
        self.evses: dict[int, Evse] = {
            evse_id: Evse(evse_id, {c: Connector(c) for c in range(1, n + 1)})
            for evse_id, n in enumerate(self.info.evses, start=1)
        }
        self.operative = True
        self.pending_operative: bool | None = None
        self.registration = "Unknown"  # RegistrationStatusEnumType once a boot is answered
        self.reboot: Reboot | None = None
        self._boot_reason: str | None = None  # of the next boot, after a reboot
        self._new_transaction_id = new_transaction_id
        #: its certificate store, pending CSR and next client certificate
        self.certificates = StationCertificates(
            make_csr=make_csr, accept_certificate=accept_certificate, store=certificates
        )
        #: connectionData of SetNetworkProfile by configuration slot (slot 1, unless set: the
        #: connection the simulator was started with) and the slot it connects with
        self.network_profiles: dict[int, Payload] = {}
        self.active_slot = 1
        self._pending: list[_Pending] = []
        self._reset_scheduled = False
        self._reset_evse: int | None = None
        self._reported: dict[tuple[int, int], str] = {}
        self._ended: dict[str, None] = {}
        self._unconfirmed: dict[str, int] = {}
        self._boot_retry_at: datetime | None = None
        self._aligned_slot: int | None = None
        #: firmware update and log upload: the notifications still to send and when (L01, N01)
        self._jobs: dict[str, _Job] = {}
        #: reservation id → (EVSE id or None, expiry) (H01)
        self._reservations: dict[int, tuple[int | None, datetime]] = {}

    # --- what the simulator reads ---------------------------------------------------------------

    @property
    def basic_auth_password(self) -> str | None:
        """The password of HTTP Basic authentication (SecurityCtrlr.BasicAuthPassword, A01)."""
        return self.model.value("SecurityCtrlr", "BasicAuthPassword")

    @property
    def heartbeat_interval(self) -> int:
        """Seconds of silence after which the station sends a Heartbeat (0: never)."""
        return self.model.integer("OCPPCommCtrlr", "HeartbeatInterval", 0)

    def connector_status(self, evse_id: int, connector_id: int) -> str:
        """The ConnectorStatusEnumType of a connector, as StatusNotification reports it."""
        evse = self._evse(evse_id)
        return self._status(evse, self._connector(evse, connector_id))

    def transaction(self, evse_id: int) -> Transaction | None:
        """The transaction on an EVSE, if any."""
        return self._evse(evse_id).transaction

    def advance(self, now: datetime) -> None:
        """Run the meters up to `now` (to read them; nothing is sent)."""
        self._advance(now)

    @property
    def csms_url(self) -> str | None:
        """The URL of the CSMS its active network profile names (None: slot 1 as started)."""
        profile = self.network_profiles.get(self.active_slot)
        return profile["ocppCsmsUrl"] if profile is not None else None

    def take_reboot(self) -> Reboot | None:
        """The reboot a Reset asked for, if any; taken, it is forgotten, the next `boot`
        gives its reason (RemoteReset, ScheduledReset), and the station connects with the
        first profile of NetworkConfigurationPriority (A05, B10)."""
        reboot, self.reboot = self.reboot, None
        if reboot is not None:
            self._boot_reason = reboot.reason
            self._use_network_priority()
        return reboot

    def _use_network_priority(self) -> None:
        """Connect with the first slot of NetworkConfigurationPriority that holds a profile
        (slot 1 always does), taking its security profile (never lower, A05.FR.02)."""
        priority = self.model.value("OCPPCommCtrlr", "NetworkConfigurationPriority") or "1"
        for item in priority.split(","):
            slot = int(item)
            if slot == 1 or slot in self.network_profiles:
                self.active_slot = slot
                break
        profile = self.network_profiles.get(self.active_slot)
        if profile is not None and profile["securityProfile"] > self.security_profile:
            self.model.set_value(
                "SecurityCtrlr", "SecurityProfile", str(profile["securityProfile"])
            )

    @property
    def security_profile(self) -> int:
        """SecurityCtrlr.SecurityProfile: the profile it connects with."""
        return self.model.integer("SecurityCtrlr", "SecurityProfile", 1)

    # --- local events ---------------------------------------------------------------------------

    def boot(self, now: datetime, reason: str | None = None) -> list[Outgoing]:
        """The BootNotification of a (re)starting station (B01); without a `reason`, that of
        the reboot taken last, else PowerUp. What it reported before is forgotten, so every
        connector is reported again once accepted."""
        self._advance(now)
        if reason is None:
            reason = self._boot_reason or "PowerUp"
        self._boot_reason = None
        self.reboot = None
        self.registration = "Unknown"
        self._reported.clear()
        self._pending.clear()
        return self._sent(now, [self._boot_notification(reason)])

    def status_notifications(self, now: datetime) -> list[Outgoing]:
        """A StatusNotification for every connector (after a boot is accepted, B01.FR.05, or
        after a long offline period)."""
        self._advance(now)
        return self._sent(now, self._sync_status(now, force=True))

    def present_badge(
        self, evse_id: int, id_token: str, now: datetime, token_type: str = "ISO14443"
    ) -> list[Outgoing]:
        """A driver presents a badge at an EVSE: Authorize (C01) to start, or the end of the
        authorization of the transaction it started (E07)."""
        self._advance(now)
        evse = self._evse(evse_id)
        token: Payload = {"idToken": id_token, "type": token_type}
        tx = evse.transaction
        out: list[Outgoing] = []
        if tx is not None and tx.stop_reason is not None:
            raise StationError(f"the transaction at EVSE {evse_id} is ending: unplug first")
        if tx is not None and tx.authorized:
            if _same_token(token, tx.id_token):
                out += self._stop_authorized(evse, token, now)
            elif self.model.flag("AuthCtrlr", "Enabled", True):
                self._pending.append(_Pending(evse_id, token, "stop"))
                out.append(Outgoing("Authorize", {"idToken": token}))
            else:
                raise StationError(
                    f"EVSE {evse_id} is charging for another badge; present that badge to stop"
                )
        elif evse.authorization is not None and _same_token(token, evse.authorization.id_token):
            evse.authorization = None  # the same badge again before plugging in: cancelled
        else:
            self._check_usable(evse)
            if self.model.flag("AuthCtrlr", "Enabled", True):
                self._pending.append(_Pending(evse_id, token, "start"))
                out.append(Outgoing("Authorize", {"idToken": token}))
            else:  # no authorization: the token goes straight into the transaction
                out += self._authorized(evse, token, now, "Authorized")
        return self._sent(now, out)

    def plug_in(
        self, evse_id: int, now: datetime, connector_id: int | None = None
    ) -> list[Outgoing]:
        """The EV is connected at a connector (the first free one when None): Occupied (E02.FR.05),
        and the transaction starts or resumes as TxStartPoint says (E01, E02)."""
        self._advance(now)
        evse = self._evse(evse_id)
        if connector_id is None:
            free = [c for c in evse.connectors.values() if not c.plugged]
            if not free:
                raise StationError(f"every connector of EVSE {evse_id} is already plugged in")
            connector = free[0]
        else:
            connector = self._connector(evse, connector_id)
            if connector.plugged:
                raise StationError(f"connector {connector_id} of EVSE {evse_id} is plugged in")
        tx = evse.transaction
        if tx is not None and tx.connector_id not in (None, connector.id):
            raise StationError(
                f"EVSE {evse_id} has a transaction on connector {tx.connector_id} (E01.FR.14)"
            )
        connector.plugged = True
        out = self._sync_status(now)
        if tx is not None:
            tx.connector_id = connector.id
            out.append(self._event(evse, "Updated", "CablePluggedIn", now))
        elif self._start_point_reached(evse):
            out += self._start_transaction(evse, "CablePluggedIn", now)
        return self._sent(now, out)

    def unplug(
        self, evse_id: int, now: datetime, connector_id: int | None = None
    ) -> list[Outgoing]:
        """The cable is unplugged (from the plugged connector when None): the transaction ends or
        is deauthorized as TxStopPoint and StopTxOnEVSideDisconnect say (E06, E09)."""
        self._advance(now)
        evse = self._evse(evse_id)
        plugged = [c for c in evse.connectors.values() if c.plugged]
        if connector_id is not None:
            plugged = [c for c in plugged if c.id == connector_id]
            self._connector(evse, connector_id)
        if not plugged:
            raise StationError(f"nothing is plugged in at EVSE {evse_id}")
        connector = plugged[0]
        connector.plugged = False
        out: list[Outgoing] = []
        tx = evse.transaction
        if tx is not None and tx.connector_id == connector.id:
            stop_points = self._points("TxStopPoint")
            disconnect_stops = self.model.flag("TxCtrlr", "StopTxOnEVSideDisconnect", True)
            if stop_points & {"EVConnected", "PowerPathClosed"} or (
                disconnect_stops and "Authorized" in stop_points
            ):
                reason = tx.stop_reason or "EVDisconnected"
                out += self._end_transaction(evse, "EVCommunicationLost", reason, now)
            else:
                if disconnect_stops:  # E09.FR.01: no energy until authorized again
                    tx.authorized = False
                out.append(self._event(evse, "Updated", "EVCommunicationLost", now))
        out += self._sync_status(now)
        return self._sent(now, out)

    def set_fault(
        self, evse_id: int, connector_id: int, now: datetime, faulted: bool = True
    ) -> list[Outgoing]:
        """A connector becomes Faulted (or recovers): its status, and the end of a transaction
        it carried (E06.FR.16: triggerReason AbnormalCondition)."""
        self._advance(now)
        evse = self._evse(evse_id)
        connector = self._connector(evse, connector_id)
        connector.faulted = faulted
        out: list[Outgoing] = []
        tx = evse.transaction
        if faulted and tx is not None and tx.connector_id in (None, connector_id):
            out += self._end_transaction(evse, "AbnormalCondition", "Other", now)
        out += self._sync_status(now)
        return self._sent(now, out)

    def tick(self, now: datetime) -> list[Outgoing]:
        """What time brings: periodic and clock-aligned meter values, samples kept for the end of
        a transaction, EV connection timeouts, heartbeats and boot retries."""
        self._advance(now)
        out: list[Outgoing] = []
        updated_interval = self.model.integer("SampledDataCtrlr", "TxUpdatedInterval", 0)
        ended_interval = self.model.integer("SampledDataCtrlr", "TxEndedInterval", 0)
        timeout = self.model.integer("TxCtrlr", "EVConnectionTimeOut", 0)
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None:
                # an interval switched off (0) and on again, or made shorter than the time left
                # to the next sample, starts a new grid from now
                tx.next_update = regrid(tx.next_update, updated_interval, now)
                tx.next_ended_sample = regrid(tx.next_ended_sample, ended_interval, now)
                if updated_interval > 0 and tx.next_update is not None and now >= tx.next_update:
                    measurands = self.model.members("SampledDataCtrlr", "TxUpdatedMeasurands")
                    sample = self._sample(evse, measurands, "Sample.Periodic", now)
                    meter = [sample] if sample else None
                    out.append(self._event(evse, "Updated", "MeterValuePeriodic", now, meter=meter))
                    tx.next_update = next_on_grid(tx.next_update, updated_interval, now)
                if ended_interval > 0 and tx.next_ended_sample is not None:
                    if now >= tx.next_ended_sample:
                        self._keep_ended_sample(evse, tx, now)
                        due = tx.next_ended_sample
                        tx.next_ended_sample = next_on_grid(due, ended_interval, now)
                if (
                    timeout > 0
                    and tx.connector_id is None
                    and tx.stop_reason is None
                    and (now - tx.started_at).total_seconds() >= timeout
                ):  # E03.FR.05 / F02.FR.07: the EV never came
                    out += self._end_transaction(evse, "EVConnectTimeout", "Timeout", now)
            auth = evse.authorization
            if auth is not None and timeout > 0 and (now - auth.since).total_seconds() >= timeout:
                evse.authorization = None
        out += self._aligned_data(now)
        out += self._due_jobs(now)
        out += self._expire_reservations(now)
        if self.registration == "Accepted":
            interval = self.heartbeat_interval
            if self._silent(now, interval) and not out:  # anything else sent: a sign of life
                out.append(Outgoing("Heartbeat", {}))
        elif self._boot_retry_at is not None and now >= self._boot_retry_at:
            self._boot_retry_at = None
            out.append(self._boot_notification("PowerUp"))
        return self._sent(now, out)

    def next_due(self, now: datetime) -> datetime | None:
        """When `tick` next has something to do (`now` or earlier: at once), None when nothing
        is due until an event or a CALL comes: an idle station wakes only for its heartbeat, a
        charging one for its periodic TransactionEvents too."""
        model = self.model
        updated_interval = model.integer("SampledDataCtrlr", "TxUpdatedInterval", 0)
        ended_interval = model.integer("SampledDataCtrlr", "TxEndedInterval", 0)
        timeout = model.integer("TxCtrlr", "EVConnectionTimeOut", 0)
        due: list[datetime | None] = []
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None:
                if updated_interval > 0:
                    due.append(sample_due(tx.next_update, updated_interval, now))
                if ended_interval > 0:
                    due.append(sample_due(tx.next_ended_sample, ended_interval, now))
                if timeout > 0 and tx.connector_id is None and tx.stop_reason is None:
                    due.append(tx.started_at + timedelta(seconds=timeout))
            auth = evse.authorization
            if auth is not None and timeout > 0:
                due.append(auth.since + timedelta(seconds=timeout))
        interval = model.integer("AlignedDataCtrlr", "Interval", 0)
        due.append(next_slot(now, interval, self._aligned_slot))
        due += [job.steps[0][0] for job in self._jobs.values() if job.steps]
        due += [expiry for _, expiry in self._reservations.values()]
        if self.registration == "Accepted":
            due.append(self._heartbeat_due(self.heartbeat_interval))
        else:
            due.append(self._boot_retry_at)
        return earliest(due)

    # --- CALLs from the CSMS --------------------------------------------------------------------

    def handles(self, action: str) -> bool:
        """True for a CSMS CALL the station answers from its state."""
        return action in _HANDLERS or self.certificates.handles(action)

    def on_call(self, action: str, payload: Payload, now: datetime) -> Reply | None:
        """The answer to a CSMS CALL and the CALLs that follow it, or None for an action the
        station leaves to the simulator (default answers, plugins). Raises `StationRefusal`
        for a CALL to be answered with a CALLERROR."""
        name = _HANDLERS.get(action)
        if name is None and not self.certificates.handles(action):
            return None
        self._advance(now)
        self._last_activity = now
        self.model.update("ClockCtrlr", "DateTime", wire_time(now))
        try:
            if name is None:
                reply = self._certificate_call(action, payload, now)
            else:
                handler: Callable[[Payload, datetime], Reply] = getattr(self, name)
                reply = handler(payload, now)
        except StationRefusal:
            raise
        except OverflowError as exc:  # a valid number or date too large to compute with
            raise StationRefusal("value", f"{action}: a value is out of range ({exc})") from exc
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise StationRefusal("format", f"{action}: cannot read the payload ({exc})") from exc
        return Reply(reply.payload, self._sent(now, reply.outgoing))

    # --- answers to the station's own CALLs -----------------------------------------------------

    def on_result(
        self, action: str, request: Payload, result: Payload, now: datetime
    ) -> list[Outgoing]:
        """Take the CALLRESULT of a CALL the station sent; returns the CALLs that follow."""
        self._advance(now)
        self._last_activity = now
        try:
            if action == "BootNotification":
                out = self._boot_result(result, now)
            elif action == "Authorize":
                out = self._authorize_result(request, result, now)
            elif action == "TransactionEvent":
                out = self._transaction_event_result(request, result, now)
            else:
                out = []
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            logger.warning("%s result not understood (%s): %r", action, exc, result)
            out = []
        return self._sent(now, out)

    def on_failure(self, action: str, request: Payload, now: datetime) -> list[Outgoing]:
        """A CALL the station sent got a CALLERROR or no answer: an Authorize is forgotten, a
        TransactionEvent no longer counts as queued."""
        self._advance(now)
        if action == "Authorize":
            self._take_pending(request.get("idToken"))
        elif action == "TransactionEvent":
            self._confirmed(request)
        elif action == "BootNotification" and self.registration != "Accepted":
            self._boot_retry_at = now + timedelta(seconds=60)
        return []

    # --- device model: GetVariables, SetVariables, reports (B05-B08) ---------------------------

    def _check_limits(self, action: str, payload: Payload, items: list[Any], name: str) -> None:
        """Refuse a request with more items or bytes than DeviceDataCtrlr allows (B06.FR.16/17,
        B08.FR.17/18)."""
        instance = action if action in ("GetVariables", "SetVariables") else "GetReport"
        most = self.model.integer("DeviceDataCtrlr", "ItemsPerMessage", 0, instance=instance)
        if most > 0 and len(items) > most:
            raise StationRefusal(
                "occurrence",
                f"{name}: {len(items)} items, more than ItemsPerMessage[{instance}] ({most})",
            )
        most_bytes = self.model.integer("DeviceDataCtrlr", "BytesPerMessage", 0, instance=instance)
        size = len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        if most_bytes > 0 and size > most_bytes:
            raise StationRefusal(
                "format", f"{size} bytes, more than BytesPerMessage[{instance}] ({most_bytes})"
            )

    def _get_variables(self, payload: Payload, now: datetime) -> Reply:
        """GetVariables (B06)."""
        data = payload["getVariableData"]
        self._check_limits("GetVariables", payload, data, "getVariableData")
        return Reply({"getVariableResult": self.model.get_variables(data)}, [])

    def _set_variables(self, payload: Payload, now: datetime) -> Reply:
        """SetVariables (B05); a NetworkConfigurationPriority must name slots that hold a
        profile and put none first whose security profile is lower (A05)."""
        data = payload["setVariableData"]
        self._check_limits("SetVariables", payload, data, "setVariableData")
        refused = {i: self._priority_refused(item) for i, item in enumerate(data)}
        refused = {i: result for i, result in refused.items() if result is not None}
        if not refused:
            return Reply({"setVariableResult": self.model.set_variables(data)}, [])
        rest = iter(self.model.set_variables([d for i, d in enumerate(data) if i not in refused]))
        results = [refused[i] if i in refused else next(rest) for i in range(len(data))]
        return Reply({"setVariableResult": results}, [])

    def _priority_refused(self, item: Payload) -> Payload | None:
        """The Rejected SetVariableResult of a NetworkConfigurationPriority that names an empty
        slot or puts a lower security profile first; None for any other item."""
        if (item["component"].get("name"), item["variable"].get("name")) != (
            "OCPPCommCtrlr",
            "NetworkConfigurationPriority",
        ) or item.get("attributeType", "Actual") != "Actual":
            return None
        slots = [s.strip() for s in str(item["attributeValue"]).split(",")]
        problem = None
        known = NETWORK_SLOTS.split(",")[1:]  # slot 1 always holds one; others: the model says
        empty = [s for s in slots if s in known and int(s) not in self.network_profiles]
        if empty:
            problem = ("InvalidConfSlot", f"slot {empty[0]} holds no network profile")
        elif slots and slots[0].isdigit() and int(slots[0]) in self.network_profiles:
            first = self.network_profiles[int(slots[0])]["securityProfile"]
            if first < self.security_profile:
                problem = (
                    "NoSecurityDowngrade",
                    f"slot {slots[0]} has security profile {first}, lower than "
                    f"{self.security_profile}",
                )
        if problem is None:
            return None  # the device model checks the rest (known slots, duplicates)
        return {
            "attributeType": "Actual",
            "attributeStatus": "Rejected",
            "component": item["component"],
            "variable": item["variable"],
            "attributeStatusInfo": _status_info(*problem),
        }

    def _set_network_profile(self, payload: Payload, now: datetime) -> Reply:
        """SetNetworkProfile (B09): the profile is kept in its slot for a later
        NetworkConfigurationPriority and reboot (A05); Rejected for a slot that is not one
        (or the one in use), a transport other than JSON, a security profile lower than the
        current one (A05.FR.02) or whose needs are not met (3: a client certificate; a URL
        scheme that fits: ws:// for 1, wss:// for 2 and 3)."""
        slot, data = payload["configurationSlot"], payload["connectionData"]
        wanted = data["securityProfile"]
        url = str(data["ocppCsmsUrl"]).lower()
        problem = None
        if str(slot) not in NETWORK_SLOTS.split(","):
            problem = ("InvalidConfSlot", f"slot {slot} is not one of {NETWORK_SLOTS}")
        elif slot == self.active_slot:
            problem = ("InvalidConfSlot", f"slot {slot} is the connection in use")
        elif data["ocppTransport"] != "JSON":
            problem = ("InvalidNetworkConf", "only JSON (OCPP-J) is supported")
        elif wanted < self.security_profile:
            problem = (
                "NoSecurityDowngrade",
                f"security profile {wanted} is lower than {self.security_profile}",
            )
        elif wanted >= 3 and self.certificates.client_certificate is None:
            problem = ("InvalidNetworkConf", "security profile 3 needs a client certificate")
        elif wanted not in (1, 2, 3) or url.startswith("wss://") != (wanted >= 2):
            scheme = "wss://" if wanted >= 2 else "ws://"
            problem = ("InvalidURL", f"security profile {wanted} needs a {scheme} URL")
        elif not url.startswith(("ws://", "wss://")):
            problem = ("InvalidURL", "the URL must be ws:// or wss://")
        if problem is not None:
            logger.info("SetNetworkProfile rejected: %s", problem[1])
            return Reply({"status": "Rejected", "statusInfo": _status_info(*problem)}, [])
        self.network_profiles[slot] = dict(data)
        return Reply({"status": "Accepted"}, [])

    def _report(self, request_id: int, report: list[Any], now: datetime) -> Reply:
        """Accepted and the NotifyReport pages of a report, or EmptyResultSet (B08.FR.15)."""
        if not report:
            return Reply({"status": "EmptyResultSet"}, [])
        size = self.model.integer("DeviceDataCtrlr", "ItemsPerMessage", 50, instance="GetReport")
        pages = self.model.report_pages(request_id, wire_time(now), report, size)
        return Reply({"status": "Accepted"}, [Outgoing("NotifyReport", p) for p in pages])

    def _get_base_report(self, payload: Payload, now: datetime) -> Reply:
        """GetBaseReport (B07): every base report is supported."""
        base = payload["reportBase"]
        if base not in REPORT_BASES:
            return Reply({"status": "NotSupported"}, [])
        return self._report(payload["requestId"], self.model.base_report(base), now)

    def _get_report(self, payload: Payload, now: datetime) -> Reply:
        """GetReport (B08) with componentVariable and componentCriteria filters."""
        wanted = payload.get("componentVariable")
        self._check_limits("GetReport", payload, wanted or [], "componentVariable")
        report = self.model.custom_report(wanted, payload.get("componentCriteria"))
        return self._report(payload["requestId"], report, now)

    # --- availability, unlock, reset, trigger (G03, G04, F05, B11-B13, F06) ---------------------

    def _change_availability(self, payload: Payload, now: datetime) -> Reply:
        """ChangeAvailability of the station, an EVSE or a connector (G03, G04): Scheduled while a
        transaction runs there, Accepted otherwise (also when nothing changes)."""
        status = payload["operationalStatus"]
        if status not in ("Operative", "Inoperative"):
            raise ValueError(f"operationalStatus {status!r} is neither Operative nor Inoperative")
        operative = status == "Operative"
        target = payload.get("evse")
        if target is None or target["id"] == 0:
            if self.operative == operative:
                self.pending_operative = None
                return Reply({"status": "Accepted"}, [])
            if any(e.transaction for e in self.evses.values()):
                self.pending_operative = operative
                return Reply({"status": "Scheduled"}, [])
            self.operative, self.pending_operative = operative, None
            return Reply({"status": "Accepted"}, self._sync_status(now))
        evse = self.evses.get(target["id"])
        if evse is None:
            info = _status_info("UnknownEvse", f"no EVSE {target['id']}")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        connector_id = target.get("connectorId")
        part: Evse | Connector = evse
        if connector_id is not None:
            found = evse.connectors.get(connector_id)
            if found is None:
                info = _status_info("UnknownConnectorId", f"no connector {connector_id}")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            part = found
        if part.operative == operative:
            part.pending_operative = None
            return Reply({"status": "Accepted"}, [])
        if evse.transaction is not None:
            part.pending_operative = operative
            return Reply({"status": "Scheduled"}, [])
        part.operative, part.pending_operative = operative, None
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _unlock_connector(self, payload: Payload, now: datetime) -> Reply:
        """UnlockConnector (F05)."""
        evse = self.evses.get(payload["evseId"])
        connector = evse.connectors.get(payload["connectorId"]) if evse is not None else None
        if evse is None or connector is None:
            return Reply({"status": "UnknownConnector"}, [])
        tx = evse.transaction
        if (
            tx is not None
            and tx.authorized
            and tx.stop_reason is None
            and tx.connector_id in (None, connector.id)
        ):
            return Reply({"status": "OngoingAuthorizedTransaction"}, [])
        if connector.fixed_cable:
            info = _status_info("FixedCable", "the connector has its own fixed cable")
            return Reply({"status": "UnlockFailed", "statusInfo": info}, [])
        return Reply({"status": "Unlocked"}, [])

    def _reset(self, payload: Payload, now: datetime) -> Reply:
        """Reset of the station or an EVSE (B11, B12): Immediate ends the transactions first;
        OnIdle waits for them (Scheduled). 2.1's ImmediateAndResume is Rejected: this station
        does not resume transactions (no TxResumptionTimeout, 2.1 B13.FR.01)."""
        kind = payload["type"]
        if kind not in ("Immediate", "OnIdle"):
            info = _status_info("UnsupportedParam", f"{kind}: transactions are not resumed")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        evse_id = payload.get("evseId") or None
        if evse_id is not None and evse_id not in self.evses:
            info = _status_info("UnknownEvse", f"no EVSE {evse_id}")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        affected = [self.evses[evse_id]] if evse_id is not None else list(self.evses.values())
        if kind == "OnIdle" and any(e.transaction for e in affected):
            self._reset_scheduled, self._reset_evse = True, evse_id
            return Reply({"status": "Scheduled"}, [])
        return Reply({"status": "Accepted"}, self._do_reset(evse_id, now, scheduled=False))

    def _do_reset(self, evse_id: int | None, now: datetime, scheduled: bool) -> list[Outgoing]:
        """Reset an EVSE, or reboot the station: transactions end (B12.FR.04/08), a rebooted
        station (`reboot`) connects again, boots and reports its connectors once accepted."""
        self._reset_scheduled, self._reset_evse = False, None
        affected = [self.evses[evse_id]] if evse_id is not None else list(self.evses.values())
        out: list[Outgoing] = []
        for evse in affected:
            if evse.transaction is not None:
                out += self._end_transaction(evse, "ResetCommand", "ImmediateReset", now)
            evse.authorization = None
        if evse_id is None:
            self._pending.clear()
            self.reboot = Reboot("ScheduledReset" if scheduled else "RemoteReset")
        return out

    def _trigger_message(self, payload: Payload, now: datetime) -> Reply:
        """TriggerMessage (F06): the answer, then the requested message(s)."""
        requested = payload["requestedMessage"]
        target = payload.get("evse")
        evse = None
        if target is not None and target["id"] != 0:
            evse = self.evses.get(target["id"])
            if evse is None:
                info = _status_info("UnknownEvse", f"no EVSE {target['id']}")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
        evses = [evse] if evse is not None else list(self.evses.values())
        out: list[Outgoing] = []
        if requested == "BootNotification":
            if self.registration == "Accepted":  # F06.FR.17
                info = _status_info("InvalidMessageSeq", "the last boot was accepted")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            out.append(self._boot_notification("Triggered"))
        elif requested == "Heartbeat":
            out.append(Outgoing("Heartbeat", {}))
        elif requested == "StatusNotification":
            connector_id = target.get("connectorId") if target is not None else None
            if evse is None or connector_id is None:  # F06.FR.12
                info = _status_info("MissingParam", "give evse.id and evse.connectorId")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            connector = evse.connectors.get(connector_id)
            if connector is None:
                info = _status_info("UnknownConnectorId", f"no connector {connector_id}")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            out.append(self._status_notification(evse, connector, now))
        elif requested == "MeterValues":  # F06.FR.06
            measurands = self.model.members("AlignedDataCtrlr", "Measurands")
            for each in evses:
                sample = self._sample(each, measurands, "Trigger", now)
                if sample is not None:
                    out.append(Outgoing("MeterValues", {"evseId": each.id, "meterValue": [sample]}))
            if not out:
                info = _status_info("MissingDevModelInfo", "AlignedDataCtrlr.Measurands is empty")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
        elif requested == "TransactionEvent":  # F06.FR.07
            measurands = self.model.members("SampledDataCtrlr", "TxUpdatedMeasurands")
            for each in evses:
                if each.transaction is not None:
                    sample = self._sample(each, measurands, "Trigger", now)
                    meter = [sample] if sample else None
                    out.append(self._event(each, "Updated", "Trigger", now, meter=meter))
            if not out:
                info = _status_info("TxNotFound", "no transaction is ongoing")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
        elif requested in ("LogStatusNotification", "FirmwareStatusNotification"):
            out.append(self._job_status(requested))  # F06.FR.15/16: Idle when none runs
        elif requested == "SignChargingStationCertificate" and self.certificates.can_sign:
            # CN = the station's identity, as security profile 3 checks it against the URL's
            # (A00.FR.511 names the serial number there; docs/security.md says why not)
            name = self.info.identity
            organization = self.model.value("SecurityCtrlr", "OrganizationName")
            out.append(self.certificates.sign_certificate(name, organization))
        else:  # F06.FR.08
            return Reply({"status": "NotImplemented"}, [])
        return Reply({"status": "Accepted"}, out)

    # --- data transfer, firmware, logs, reservations (P01, L01, N01, H01-H03) ------------------

    def _data_transfer(self, payload: Payload, now: datetime) -> Reply:
        """DataTransfer (P01.FR.06): the station has no vendor extension, UnknownVendorId."""
        return Reply({"status": "UnknownVendorId"}, [])

    def _update_firmware(self, payload: Payload, now: datetime) -> Reply:
        """UpdateFirmware (L01): Accepted (AcceptedCanceled when it replaces an update going
        on, L01.FR.24), then FirmwareStatusNotification Downloading, Downloaded, Installing and
        Installed from retrieveDateTime, one step every transfer_seconds, with its requestId."""
        busy = self._busy("FirmwareStatusNotification")
        firmware = payload["firmware"]
        start = max(parse_time(firmware["retrieveDateTime"]), now)
        statuses = ("Downloading", "Downloaded", "Installing", "Installed")
        self._new_job("FirmwareStatusNotification", payload["requestId"], start, statuses)
        status = "AcceptedCanceled" if busy else "Accepted"
        return Reply({"status": status}, self._due_jobs(now))

    def _get_log(self, payload: Payload, now: datetime) -> Reply:
        """GetLog (N01): Accepted (AcceptedCanceled when it replaces an upload going on) with
        the file name, then LogStatusNotification Uploading and Uploaded, with its requestId."""
        busy = self._busy("LogStatusNotification")
        kind = "security" if payload["logType"] == "SecurityLog" else "diagnostics"
        name = f"{kind}-{self.info.identity}-{now.strftime('%Y%m%dT%H%M%SZ')}.log"[:255]
        self._new_job("LogStatusNotification", payload["requestId"], now, ("Uploading", "Uploaded"))
        status = "AcceptedCanceled" if busy else "Accepted"
        return Reply({"status": status, "filename": name}, self._due_jobs(now))

    def _new_job(
        self, action: str, request_id: int, start: datetime, statuses: tuple[str, ...]
    ) -> None:
        step = timedelta(seconds=self.info.transfer_seconds)
        steps = [(start + i * step, status) for i, status in enumerate(statuses)]
        self._jobs[action] = _Job(action, request_id, steps)

    def _busy(self, action: str) -> bool:
        job = self._jobs.get(action)
        return job is not None and bool(job.steps)

    def _due_jobs(self, now: datetime) -> list[Outgoing]:
        out = []
        for job in self._jobs.values():
            while job.steps and job.steps[0][0] <= now:
                _, job.status = job.steps.pop(0)
                out.append(self._job_notification(job))
        return out

    def _job_status(self, action: str) -> Outgoing:
        """What a TriggerMessage asks for: the status of the job going on, else Idle."""
        job = self._jobs.get(action)
        if job is None or not job.steps:
            return Outgoing(action, {"status": "Idle"})
        return self._job_notification(job)

    def _job_notification(self, job: _Job) -> Outgoing:
        return Outgoing(job.action, {"status": job.status, "requestId": job.request_id})

    def _reserve_now(self, payload: Payload, now: datetime) -> Reply:
        """ReserveNow (H01): an EVSE that is Available is Reserved until expiryDateTime
        (Occupied, Faulted or Unavailable otherwise, H01.FR.04-07); without evseId the
        reservation holds for the station (H01.FR.11). A known id replaces its reservation
        (H01.FR.02)."""
        reservation_id = payload["id"]
        expiry = parse_time(payload["expiryDateTime"])
        self._drop_reservation(reservation_id)
        evse_id = payload.get("evseId")
        if evse_id is not None and evse_id != 0:
            evse = self.evses.get(evse_id)
            if evse is None:
                info = _status_info("UnknownEvse", f"no EVSE {evse_id}")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            state = self._evse_state(evse)
            if state != "Available":
                status = state if state in ("Occupied", "Faulted", "Unavailable") else "Occupied"
                return Reply({"status": status}, [])
            evse.reserved = True
        else:
            evse_id = None
        self._reservations[reservation_id] = (evse_id, expiry)
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _cancel_reservation(self, payload: Payload, now: datetime) -> Reply:
        """CancelReservation (H02): Accepted for a reservation the station holds, else
        Rejected (H02.FR.02)."""
        if payload["reservationId"] not in self._reservations:
            return Reply({"status": "Rejected"}, [])
        self._drop_reservation(payload["reservationId"])
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _drop_reservation(self, reservation_id: int) -> None:
        held = self._reservations.pop(reservation_id, None)
        if held is not None and held[0] is not None:
            evse_id = held[0]
            self.evses[evse_id].reserved = any(e == evse_id for e, _ in self._reservations.values())

    def _expire_reservations(self, now: datetime) -> list[Outgoing]:
        """ReservationStatusUpdate Expired for each reservation past its expiry (H01.FR.17)."""
        out = []
        for reservation_id, (_, expiry) in list(self._reservations.items()):
            if expiry <= now:
                self._drop_reservation(reservation_id)
                update = {"reservationId": reservation_id, "reservationUpdateStatus": "Expired"}
                out.append(Outgoing("ReservationStatusUpdate", update))
        if out:
            out += self._sync_status(now)
        return out

    # --- certificates (A02, A03, M03-M05) -------------------------------------------------------

    def _certificate_call(self, action: str, payload: Payload, now: datetime) -> Reply:
        """A certificate CALL, answered by the station's certificates; a CertificateSigned it
        rejects is reported (security event InvalidChargingStationCertificate, A02.FR.06)."""

        def refused(why: str) -> list[Outgoing]:
            event = {"type": "InvalidChargingStationCertificate", "timestamp": wire_time(now)}
            event["techInfo"] = why[:255]
            return [Outgoing("SecurityEventNotification", event)]

        return self.certificates.on_call(action, payload, self.info.identity, refused)

    # --- remote start and stop, transaction status (F01-F04, E14) -------------------------------

    def _request_start_transaction(self, payload: Payload, now: datetime) -> Reply:
        """RequestStartTransaction (F01, F02): the EVSE asked for (or the first free one) takes
        the token, authorized first when AuthorizeRemoteStart is true."""
        token = payload["idToken"]
        remote_start_id = payload["remoteStartId"]
        if self.registration == "Pending":  # B02.FR.05
            info = _status_info("CSNotAccepted", "the boot is still Pending")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        evse_id = payload.get("evseId")
        if evse_id is None:
            free = [e for e in self.evses.values() if self._free(e)]
            if not free:
                info = _status_info("TxInProgress", "no EVSE is free")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            evse = free[0]
        else:
            found = self.evses.get(evse_id)
            if found is None:
                info = _status_info("UnknownEvse", f"no EVSE {evse_id}")
                return Reply({"status": "Rejected", "statusInfo": info}, [])
            evse = found
        state = self._evse_state(evse)
        if state in ("Unavailable", "Faulted"):  # F01.FR.23
            info = _status_info("Unspecified", f"EVSE {evse.id} is {state}")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        if not self._free(evse):  # F01.FR.24
            info = _status_info("TxInProgress", f"EVSE {evse.id} is in use")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        answer: Payload = {"status": "Accepted"}
        if evse.transaction is not None:  # F01.FR.13: started by the cable, not authorized
            answer["transactionId"] = evse.transaction.transaction_id
        group = payload.get("groupIdToken", {}).get("idToken")
        if self.model.flag("AuthCtrlr", "AuthorizeRemoteStart", False):  # F01.FR.01
            self._pending.append(_Pending(evse.id, token, "remote", remote_start_id))
            return Reply(answer, [Outgoing("Authorize", {"idToken": token})])
        out = self._authorized(evse, token, now, "RemoteStart", remote_start_id, group)
        return Reply(answer, out)

    def _request_stop_transaction(self, payload: Payload, now: datetime) -> Reply:
        """RequestStopTransaction (F03, F04): Rejected for a transaction not ongoing here."""
        wanted = payload["transactionId"]
        if self.registration == "Pending":  # B02.FR.05
            info = _status_info("CSNotAccepted", "the boot is still Pending")
            return Reply({"status": "Rejected", "statusInfo": info}, [])
        for evse in self.evses.values():
            tx = evse.transaction
            if tx is not None and tx.transaction_id == wanted:
                tx.stop_reason = "Remote"
                if self._points("TxStopPoint") & {"Authorized", "PowerPathClosed"}:  # F03.FR.03
                    out = self._end_transaction(evse, "RemoteStop", "Remote", now)
                else:  # F03.FR.02: energy stops, the transaction ends when the EV leaves
                    tx.authorized = False
                    out = [self._event(evse, "Updated", "RemoteStop", now)]
                return Reply({"status": "Accepted"}, out)
        info = _status_info("TxNotFound", f"no ongoing transaction {wanted}")
        return Reply({"status": "Rejected", "statusInfo": info}, [])

    def _get_transaction_status(self, payload: Payload, now: datetime) -> Reply:
        """GetTransactionStatus (E14): messagesInQueue counts TransactionEvents not answered."""
        wanted = payload.get("transactionId")
        if wanted is None:  # E14.FR.06-08
            return Reply({"messagesInQueue": any(self._unconfirmed.values())}, [])
        ongoing = any(
            e.transaction is not None and e.transaction.transaction_id == wanted
            for e in self.evses.values()
        )
        queued = self._unconfirmed.get(wanted, 0) > 0
        return Reply({"ongoingIndicator": ongoing, "messagesInQueue": queued}, [])

    # --- results ---------------------------------------------------------------------------------

    def _boot_result(self, result: Payload, now: datetime) -> list[Outgoing]:
        """BootNotificationResponse (B01-B03): Accepted sets the heartbeat interval and reports
        every connector; Pending and Rejected retry after the interval."""
        status = result["status"]
        interval = result["interval"]
        self.registration = status
        if status == "Accepted":
            self._boot_retry_at = None
            if interval > 0:
                self.model.update("OCPPCommCtrlr", "HeartbeatInterval", str(interval))
            return self._sync_status(now, force=True)
        self._boot_retry_at = now + timedelta(seconds=interval if interval > 0 else 60)
        return []

    def _authorize_result(self, request: Payload, result: Payload, now: datetime) -> list[Outgoing]:
        """AuthorizeResponse (C01): an accepted token starts or stops as it was presented for."""
        pending = self._take_pending(request.get("idToken"))
        if pending is None:
            return []
        info = result["idTokenInfo"]
        if info["status"] != "Accepted":
            return []
        group = (info.get("groupIdToken") or {}).get("idToken")
        evse = self.evses[pending.evse_id]
        tx = evse.transaction
        if pending.purpose == "stop":  # E07.FR.01 b: the same group may stop
            if tx is not None and tx.group_id_token is not None and group == tx.group_id_token:
                return self._stop_authorized(evse, pending.id_token, now)
            return []
        if tx is not None and tx.authorized:
            return []  # someone else was quicker
        if pending.purpose == "remote":
            return self._authorized(
                evse, pending.id_token, now, "RemoteStart", pending.remote_start_id, group
            )
        return self._authorized(evse, pending.id_token, now, "Authorized", None, group)

    def _transaction_event_result(
        self, request: Payload, result: Payload, now: datetime
    ) -> list[Outgoing]:
        """TransactionEventResponse: a token no longer valid deauthorizes the transaction when
        StopTxOnInvalidId is true (E05.FR.09/10)."""
        self._confirmed(request)
        info = result.get("idTokenInfo")
        if info is None or request.get("eventType") == "Ended":
            return []
        wanted = request["transactionInfo"]["transactionId"]
        evse = next(
            (
                e
                for e in self.evses.values()
                if e.transaction is not None and e.transaction.transaction_id == wanted
            ),
            None,
        )
        if evse is None or evse.transaction is None:
            return []
        tx = evse.transaction
        group = (info.get("groupIdToken") or {}).get("idToken")
        if group is not None:
            tx.group_id_token = group
        if info["status"] == "Accepted" or not tx.authorized or tx.stop_reason is not None:
            return []
        if not self.model.flag("TxCtrlr", "StopTxOnInvalidId", True):
            return []
        tx.stop_reason = "DeAuthorized"
        if self._points("TxStopPoint") & {"Authorized", "PowerPathClosed"}:
            return self._end_transaction(evse, "Deauthorized", "DeAuthorized", now)
        tx.authorized = False
        return [self._event(evse, "Updated", "Deauthorized", now)]

    # --- the transaction machinery ---------------------------------------------------------------

    def _authorized(
        self,
        evse: Evse,
        token: Payload,
        now: datetime,
        trigger: str,
        remote_start_id: int | None = None,
        group: str | None = None,
    ) -> list[Outgoing]:
        """A driver is authorized at an EVSE: the transaction there gets the token (E02.FR.01,
        E02.FR.20), or one starts as TxStartPoint says (E01), or the EVSE waits for the EV."""
        tx = evse.transaction
        if tx is not None:
            tx.authorized, tx.id_token, tx.group_id_token = True, token, group
            if remote_start_id is not None:
                tx.remote_start_id = remote_start_id
            return [self._event(evse, "Updated", trigger, now, id_token=token)]
        evse.authorization = Authorization(token, now, remote_start_id, group)
        if self._start_point_reached(evse):
            return self._start_transaction(evse, trigger, now)
        return []

    def _start_point_reached(self, evse: Evse) -> bool:
        """True when, on a usable EVSE without a transaction, one of the TxStartPoint events
        holds (Part 2 §2.6.6.1)."""
        if evse.transaction is not None or self._evse_state(evse) in ("Unavailable", "Faulted"):
            return False
        plugged = any(c.plugged for c in evse.connectors.values())
        authorized = evse.authorization is not None
        points = self._points("TxStartPoint")
        return (
            ("EVConnected" in points and plugged)
            or ("Authorized" in points and authorized)
            or ("PowerPathClosed" in points and plugged and authorized)
        )

    def _start_transaction(self, evse: Evse, trigger: str, now: datetime) -> list[Outgoing]:
        """TransactionEvent(Started) with the TxStartedMeasurands (E01.FR.09); a remote start
        shows as RemoteStart with its remoteStartId (F01.FR.19/25, F02.FR.01)."""
        plugged = [c.id for c in evse.connectors.values() if c.plugged]
        tx = Transaction(self._new_transaction_id(), evse.id, plugged[0] if plugged else None, now)
        auth = evse.authorization
        if auth is not None:
            evse.authorization = None
            tx.authorized, tx.id_token, tx.group_id_token = True, auth.id_token, auth.group_id_token
            tx.remote_start_id = auth.remote_start_id
            if auth.remote_start_id is not None:
                trigger = "RemoteStart"
        evse.transaction = tx
        for reservation_id, (reserved_at, _) in list(self._reservations.items()):
            if reserved_at == evse.id:  # the reservation is used (H03)
                self._drop_reservation(reservation_id)
        updated_interval = self.model.integer("SampledDataCtrlr", "TxUpdatedInterval", 0)
        if updated_interval > 0:
            tx.next_update = now + timedelta(seconds=updated_interval)
        ended_interval = self.model.integer("SampledDataCtrlr", "TxEndedInterval", 0)
        if ended_interval > 0:
            tx.next_ended_sample = now + timedelta(seconds=ended_interval)
        ended = self.model.members("SampledDataCtrlr", "TxEndedMeasurands")
        begin = self._sample(evse, ended, "Transaction.Begin", now)
        if begin is not None:
            tx.ended_samples.append(begin)
        started = self.model.members("SampledDataCtrlr", "TxStartedMeasurands")
        sample = self._sample(evse, started, "Transaction.Begin", now)
        meter = [sample] if sample else None
        return [self._event(evse, "Started", trigger, now, id_token=tx.id_token, meter=meter)]

    def _stop_authorized(self, evse: Evse, token: Payload, now: datetime) -> list[Outgoing]:
        """The driver ends the authorization with a badge (E07): the transaction ends when
        TxStopPoint has Authorized or PowerPathClosed, else energy stops until the EV leaves."""
        tx = evse.transaction
        assert tx is not None
        tx.stop_reason = "Local"
        if self._points("TxStopPoint") & {"Authorized", "PowerPathClosed"}:
            return self._end_transaction(evse, "StopAuthorized", "Local", now, id_token=token)
        tx.authorized = False
        return [self._event(evse, "Updated", "StopAuthorized", now, id_token=token)]

    def _end_transaction(
        self,
        evse: Evse,
        trigger: str,
        reason: str,
        now: datetime,
        id_token: Payload | None = None,
    ) -> list[Outgoing]:
        """TransactionEvent(Ended) with the TxEndedMeasurands from the start to now (E06.FR.11),
        then whatever waited for the EVSE to be idle (scheduled availability, reset)."""
        tx = evse.transaction
        assert tx is not None
        tx.stop_reason = reason
        ended = self.model.members("SampledDataCtrlr", "TxEndedMeasurands")
        end = self._sample(evse, ended, "Transaction.End", now)
        samples = tx.ended_samples + ([end] if end is not None else [])
        meter = samples if samples else None
        event = self._event(
            evse, "Ended", trigger, now, id_token=id_token, meter=meter, stopped_reason=reason
        )
        evse.transaction = None
        self._ended[tx.transaction_id] = None
        while len(self._ended) > REMEMBERED_TRANSACTIONS:
            del self._ended[next(iter(self._ended))]
        return [event, *self._after_idle(evse, now)]

    def _after_idle(self, evse: Evse, now: datetime) -> list[Outgoing]:
        """Apply what was Scheduled until this EVSE (or the whole station) is idle: availability
        changes (G03.FR.05, G04.FR.06) and an OnIdle reset (B12.FR.01)."""
        parts: list[Evse | Connector] = [evse, *evse.connectors.values()]
        for part in parts:
            if part.pending_operative is not None:
                part.operative, part.pending_operative = part.pending_operative, None
        idle = all(e.transaction is None for e in self.evses.values())
        if idle and self.pending_operative is not None:
            self.operative, self.pending_operative = self.pending_operative, None
        out = self._sync_status(now)
        if self._reset_scheduled and (idle or self._reset_evse == evse.id):
            out += self._do_reset(self._reset_evse, now, scheduled=True)
        return out

    def _event(
        self,
        evse: Evse,
        event_type: str,
        trigger: str,
        now: datetime,
        *,
        id_token: Payload | None = None,
        meter: list[Payload] | None = None,
        stopped_reason: str | None = None,
    ) -> Outgoing:
        """A TransactionEventRequest for the EVSE's transaction, numbered by seqNo from 0
        (Part 2 §E, "Sequence number generation")."""
        tx = evse.transaction
        assert tx is not None
        charging = self._charging(evse)
        info: Payload = {"transactionId": tx.transaction_id}
        if charging:
            info["chargingState"] = "Charging"
        elif tx.connector_id is not None and evse.connectors[tx.connector_id].plugged:
            suspended = tx.authorized and tx.stop_reason is None  # the EVSE holds the energy back
            info["chargingState"] = "SuspendedEVSE" if suspended else "EVConnected"
        else:
            info["chargingState"] = "Idle"
        if tx.charging_seconds >= 1:
            info["timeSpentCharging"] = int(tx.charging_seconds)
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if tx.remote_start_id is not None:  # F01.FR.25: in the next event only
            info["remoteStartId"] = tx.remote_start_id
            tx.remote_start_id = None
        evse_field: Payload = {"id": evse.id}
        if tx.connector_id is not None:
            evse_field["connectorId"] = tx.connector_id
        payload: Payload = {
            "eventType": event_type,
            "timestamp": wire_time(now),
            "triggerReason": trigger,
            "seqNo": tx.seq_no,
            "transactionInfo": info,
            "evse": evse_field,
        }
        tx.seq_no += 1
        if id_token is not None:
            payload["idToken"] = id_token
        if meter:
            payload["meterValue"] = meter
        if charging and not tx.phases_reported:  # E02.FR.18
            payload["numberOfPhasesUsed"] = self.info.phases
            tx.phases_reported = True
        self._unconfirmed[tx.transaction_id] = self._unconfirmed.get(tx.transaction_id, 0) + 1
        return Outgoing("TransactionEvent", payload)

    def _confirmed(self, request: Payload) -> None:
        """A TransactionEvent is answered (or given up on): one fewer in the queue."""
        wanted = request.get("transactionInfo", {}).get("transactionId")
        count = self._unconfirmed.get(wanted, 0) - 1
        if count > 0:
            self._unconfirmed[wanted] = count
        else:
            self._unconfirmed.pop(wanted, None)

    def _take_pending(self, token: Any) -> _Pending | None:
        """The Authorize waiting for this token's answer, removed from the waiting list."""
        for i, pending in enumerate(self._pending):
            if _same_token(pending.id_token, token):
                return self._pending.pop(i)
        return None

    # --- meter ---------------------------------------------------------------------------------

    def _charging(self, evse: Evse) -> bool:
        """True while energy flows: an authorized, unstopped transaction with the EV plugged on a
        usable connector."""
        tx = evse.transaction
        if tx is None or not tx.authorized or tx.stop_reason is not None or tx.connector_id is None:
            return False
        connector = evse.connectors[tx.connector_id]
        return connector.plugged and self._status(evse, connector) == "Occupied"

    def _power(self, evse: Evse) -> float:
        """The EVSE's power now, in W."""
        return self.info.max_power_w if self._charging(evse) else 0.0

    def _advance(self, now: datetime) -> None:
        """Run every meter up to `now` at the power it had since it was last read (a clock that
        goes back changes nothing)."""
        wire_time(now)  # refuses a naive datetime at once
        for evse in self.evses.values():
            charging = self._charging(evse)
            seconds = evse.meter.run(now, self.info.max_power_w if charging else 0.0)
            if charging and evse.transaction is not None:
                evse.transaction.charging_seconds += seconds

    def _sample(
        self, evse: Evse, measurands: list[str], context: str, now: datetime
    ) -> Payload | None:
        """A MeterValueType of the measurands the meter knows, or None when there is none."""
        values = evse.meter.readings(self._power(evse), self.info.voltage, self.info.phases)
        sampled = [
            {
                "value": values[m],
                "context": context,
                "measurand": m,
                "unitOfMeasure": {"unit": _UNITS[m]},
            }
            for m in measurands
            if m in values
        ]
        return {"timestamp": wire_time(now), "sampledValue": sampled} if sampled else None

    def _keep_ended_sample(self, evse: Evse, tx: Transaction, now: datetime) -> None:
        """Keep a TxEndedMeasurands sample for the Ended event, dropping every other intermediate
        one when too many are kept (E06.FR.12/13)."""
        measurands = self.model.members("SampledDataCtrlr", "TxEndedMeasurands")
        sample = self._sample(evse, measurands, "Sample.Periodic", now)
        if sample is None:
            return
        tx.ended_samples.append(sample)
        if len(tx.ended_samples) > MAX_ENDED_SAMPLES:
            first, *middle, last = tx.ended_samples
            tx.ended_samples = [first, *middle[1::2], last]

    def _aligned_data(self, now: datetime) -> list[Outgoing]:
        """Clock-aligned meter values every AlignedDataCtrlr.Interval seconds (Part 2 §J01): in a
        TransactionEvent (MeterValueClock) during a transaction, in MeterValues otherwise."""
        interval = self.model.integer("AlignedDataCtrlr", "Interval", 0)
        if interval <= 0:
            self._aligned_slot = None
            return []
        slot = math.floor(now.timestamp() / interval)
        previous, self._aligned_slot = self._aligned_slot, slot
        if previous is None or slot <= previous:
            return []
        at = datetime.fromtimestamp(slot * interval, timezone.utc)
        measurands = self.model.members("AlignedDataCtrlr", "Measurands")
        idle_only = self.model.flag("AlignedDataCtrlr", "SendDuringIdle", False)
        out: list[Outgoing] = []
        for evse in self.evses.values():
            sample = self._sample(evse, measurands, "Sample.Clock", at)
            if sample is None:
                continue
            if evse.transaction is None:
                out.append(Outgoing("MeterValues", {"evseId": evse.id, "meterValue": [sample]}))
            elif not idle_only:
                out.append(self._event(evse, "Updated", "MeterValueClock", now, meter=[sample]))
        return out

    # --- status ---------------------------------------------------------------------------------

    def _status(self, evse: Evse, connector: Connector) -> str:
        """ConnectorStatusEnumType of a connector."""
        if connector.faulted:
            return "Faulted"
        if not (self.operative and evse.operative and connector.operative):
            return "Unavailable"
        if connector.plugged:
            return "Occupied"
        if evse.reserved:
            return "Reserved"
        return "Available"

    def _evse_state(self, evse: Evse) -> str:
        """The AvailabilityState of an EVSE (Part 2 §2.13.2)."""
        states = [self._status(evse, c) for c in evse.connectors.values()]
        if all(s == "Faulted" for s in states):
            return "Faulted"
        if not (self.operative and evse.operative):
            return "Unavailable"
        if evse.transaction is not None or "Occupied" in states:
            return "Occupied"
        if evse.reserved:
            return "Reserved"
        if "Available" in states:
            return "Available"
        return "Unavailable"

    def _free(self, evse: Evse) -> bool:
        """True when a new driver may use the EVSE: no driver authorized there, no transaction
        but one the cable started that waits for a driver."""
        tx = evse.transaction
        waiting = tx is None or (not tx.authorized and tx.stop_reason is None)
        return waiting and evse.authorization is None

    def _check_usable(self, evse: Evse) -> None:
        """Refuse a badge at an EVSE that cannot charge."""
        state = self._evse_state(evse)
        if state in ("Unavailable", "Faulted"):
            raise StationError(f"EVSE {evse.id} is {state}")

    def _status_notification(self, evse: Evse, connector: Connector, now: datetime) -> Outgoing:
        """StatusNotificationRequest of a connector (2.0.1: timestamp, connectorStatus, evseId,
        connectorId)."""
        return Outgoing(
            "StatusNotification",
            {
                "timestamp": wire_time(now),
                "connectorStatus": self._status(evse, connector),
                "evseId": evse.id,
                "connectorId": connector.id,
            },
        )

    def _sync_status(self, now: datetime, force: bool = False) -> list[Outgoing]:
        """StatusNotifications of the connectors whose status changed since last reported (all
        of them when forced), and the AvailabilityState and Power of the device model."""
        out = []
        for evse in self.evses.values():
            for connector in evse.connectors.values():
                status = self._status(evse, connector)
                key = (evse.id, connector.id)
                if force or self._reported.get(key, "Available") != status:
                    self._reported[key] = status
                    out.append(self._status_notification(evse, connector, now))
                self.model.update(
                    "Connector",
                    "AvailabilityState",
                    status,
                    evse=evse.id,
                    connector=connector.id,
                )
            self.model.update("EVSE", "AvailabilityState", self._evse_state(evse), evse=evse.id)
            self.model.update("EVSE", "Power", f"{self._power(evse):g}", evse=evse.id)
        station = "Available" if self.operative else "Unavailable"
        self.model.update("ChargingStation", "AvailabilityState", station)
        return out

    # --- helpers ---------------------------------------------------------------------------------

    def _boot_notification(self, reason: str) -> Outgoing:
        """BootNotificationRequest describing this station."""
        station: Payload = {"model": self.info.model, "vendorName": self.info.vendor_name}
        if self.info.serial_number is not None:
            station["serialNumber"] = self.info.serial_number
        if self.info.firmware_version is not None:
            station["firmwareVersion"] = self.info.firmware_version
        return Outgoing("BootNotification", {"chargingStation": station, "reason": reason})

    def _points(self, variable: str) -> set[str]:
        """The members of TxStartPoint or TxStopPoint."""
        return set(self.model.members("TxCtrlr", variable))

    def _evse(self, evse_id: int) -> Evse:
        """The EVSE of that id; StationError lists the ids otherwise."""
        evse = self.evses.get(evse_id)
        if evse is None:
            known = ", ".join(str(i) for i in self.evses)
            raise StationError(f"no EVSE {evse_id}: this station has EVSE {known}")
        return evse

    def _connector(self, evse: Evse, connector_id: int) -> Connector:
        """The connector of that id on the EVSE; StationError lists the ids otherwise."""
        connector = evse.connectors.get(connector_id)
        if connector is None:
            known = ", ".join(str(i) for i in evse.connectors)
            raise StationError(f"no connector {connector_id} on EVSE {evse.id}: it has {known}")
        return connector
