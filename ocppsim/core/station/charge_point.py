"""A simulated OCPP 1.6 Charge Point (and 1.5 / 1.2 for the actions they have), sans-I/O: its
connectors, meter, transactions, configuration keys, charging profiles, reservations, local
authorization list, firmware and diagnostics jobs and certificates, and what it sends and
answers.

The simulator drives it as it drives a 2.x `ChargingStation`, with events, and gets back the
CALLs to send (`Outgoing`), in order:

* local events: `boot`, `present_badge`, `plug_in`, `unplug`, `set_fault`, and `tick` for what
  time brings (meter values, heartbeats, reservations and authorizations that expire, firmware
  and upload steps, boot retries);
* a CALL from the Central System: `on_call` gives the answer and the CALLs that follow it (None
  for an action the model leaves to the simulator's default answers and plugins);
* the answer to one of its own CALLs: `on_result` (CALLRESULT) or `on_failure` (CALLERROR,
  timeout).

After any of them, `reboot` may hold a `Reboot` (`take_reboot` takes it): once what was returned
is sent, the simulator closes the connection, connects again and (unless `boot_again` is False)
calls `boot`.

Every method takes `now`, an aware datetime. Payloads are wire dicts as the version's JSON
schemas define them: OCA's for 1.6 (with the security whitepaper's messages), the project's for
1.2 and 1.5; the differences between versions are read from those schemas (`shapes.py`).
Sections cited are OCPP 1.6 (edition 2) unless said otherwise; "whitepaper" is the OCPP 1.6
security whitepaper (edition 2).

Choices where the specification leaves room: a transaction starts once the driver is
authorized and the cable is plugged, in either order (§3.6); a badge already authorized by the
local list or the authorization cache starts without Authorize when LocalPreAuthorize is true
(§3.5); firmware, diagnostics and log jobs move one step every `transfer_seconds`; a Hard and a
Soft reset both reboot (StopTransaction reason HardReset or SoftReset, §5.14). As the 2.x
station, it does not hold back what its user asks it to send before its boot is accepted, and
a Pending Charge Point rejects remote starts and stops (§4.2: not allowed while Pending).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple

from ocppsim.core.configuration import ACCEPTED, REBOOT_REQUIRED, Configuration
from ocppsim.core.station.common import (
    METER_UNITS,
    Connector,
    Liveness,
    Meter,
    Outgoing,
    Payload,
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
from ocppsim.core.station.shapes import Shapes, entry, newest, shapes
from ocppsim.core.station.smart_charging import (
    CHARGE_POINT_MAX,
    TX_PROFILE,
    UNIT_NAMES,
    ChargingProfile,
    ChargingProfiles,
    Electrical,
    ProfileRefused,
    read_profile,
)

if TYPE_CHECKING:
    from ocppsim.security.store import CertificateStore

logger = logging.getLogger("ocppsim.core.station")

#: Central System → Charge Point CALLs the model answers from its state, and the method that
#: answers each (a version answers those of its actions that are here).
_HANDLERS = {
    "CancelReservation": "_cancel_reservation",
    "ChangeAvailability": "_change_availability",
    "ChangeConfiguration": "_change_configuration",
    "ClearCache": "_clear_cache",
    "ClearChargingProfile": "_clear_charging_profile",
    "DataTransfer": "_data_transfer",
    "GetCompositeSchedule": "_get_composite_schedule",
    "GetConfiguration": "_get_configuration",
    "GetDiagnostics": "_get_diagnostics",
    "GetLocalListVersion": "_get_local_list_version",
    "RemoteStartTransaction": "_remote_start_transaction",
    "RemoteStopTransaction": "_remote_stop_transaction",
    "ReserveNow": "_reserve_now",
    "Reset": "_reset",
    "SendLocalList": "_send_local_list",
    "SetChargingProfile": "_set_charging_profile",
    "TriggerMessage": "_trigger_message",
    "UnlockConnector": "_unlock_connector",
    "UpdateFirmware": "_update_firmware",
    "CertificateSigned": "_certificate_signed",
    "DeleteCertificate": "_delete_certificate",
    "ExtendedTriggerMessage": "_extended_trigger_message",
    "GetInstalledCertificateIds": "_get_installed_certificate_ids",
    "GetLog": "_get_log",
    "InstallCertificate": "_install_certificate",
    "SignedUpdateFirmware": "_signed_update_firmware",
}
HANDLED_CALLS_1X = frozenset(_HANDLERS)
#: the actions answered from the certificate store: left to the simulator without one
_STORE_ACTIONS = frozenset(
    {"DeleteCertificate", "GetInstalledCertificateIds", "InstallCertificate"}
)

#: The most meter samples kept for StopTransaction's transactionData; beyond, every other
#: intermediate sample is dropped.
MAX_TRANSACTION_SAMPLES = 64
#: Statuses a 1.x version without them reports as Occupied (1.6 §4.9 vs 1.5 §4.9).
_IN_USE = frozenset({"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing"})
#: Older unit names of 1.5 (Amp, Volt) for those of 1.6.
_UNIT_ALIASES = {"A": "Amp", "V": "Volt"}
_OFFERED = {"Current.Offered": "A", "Power.Offered": "W"}


@dataclass(frozen=True)
class ChargePointInfo:
    """What a simulated Charge Point is: its identity, what its BootNotification says, and its
    hardware.

    Each connector gives up to `max_current_a` on `phases` phases at `voltage` (16 A three-phase
    at 230 V: 11,040 W). `transfer_seconds` is how long each step of a firmware update, a
    diagnostics or a log upload takes. `organization` is the initial CpoName (the O of its
    CSRs).
    """

    identity: str = "cp001"
    vendor: str = "ocppsim"
    model: str = "ocppsim-1"
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None
    connectors: int = 1
    max_current_a: float = 16.0
    voltage: float = 230.0
    phases: int = 3
    organization: str = "ocppsim"
    transfer_seconds: int = 5

    def __post_init__(self) -> None:
        if self.connectors < 1:
            raise ValueError("a Charge Point needs at least one connector")
        if self.max_current_a <= 0 or self.voltage <= 0 or self.phases not in (1, 2, 3):
            raise ValueError("current and voltage must be positive, phases 1, 2 or 3")
        if self.transfer_seconds < 0:
            raise ValueError("transfer_seconds cannot be negative")

    @property
    def max_power_w(self) -> float:
        """What a connector delivers at most, in W."""
        return self.max_current_a * self.voltage * self.phases


class _Reading(NamedTuple):
    measurand: str
    value: float
    context: str


class _Sample(NamedTuple):
    """A meter sample in no version's form yet."""

    at: datetime
    readings: tuple[_Reading, ...]


@dataclass(slots=True)
class Reservation:
    """A reservation (§5.13): a connector (0: any) kept for an idTag or its parent."""

    id: int
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry: datetime

    def admits(self, id_tag: str, parent_id_tag: str | None) -> bool:
        """True for the idTag it was made for, or one of the same parent (§5.13)."""
        return id_tag == self.id_tag or (
            self.parent_id_tag is not None and parent_id_tag == self.parent_id_tag
        )


@dataclass(slots=True)
class Authorized:
    """A driver authorized at a connector, waiting for the cable (or about to start)."""

    id_tag: str
    parent_id_tag: str | None
    since: datetime
    reservation_id: int | None = None
    profile: ChargingProfile | None = None


@dataclass(slots=True)
class TransactionState:
    """A transaction on a connector (§3.6, §4.8, §4.10): its id once the Central System gave it,
    the samples kept for StopTransaction, the StopTransaction waiting for the id."""

    connector_id: int
    id_tag: str
    started_at: datetime
    meter_start: int
    transaction_id: int | None = None
    parent_id_tag: str | None = None
    reservation_id: int | None = None
    suspended: bool = False
    next_sample: datetime | None = None
    data: list[_Sample] = field(default_factory=list)
    held_stop: Payload | None = None


@dataclass(slots=True)
class ConnectorState(Connector):
    """A connector of a 1.x Charge Point: its cable, availability and fault (`Connector`), its
    meter, the transaction or the driver waiting there, and whether a transaction ended with
    the cable still plugged (Finishing)."""

    meter: Meter = field(default_factory=Meter)
    error_code: str = "NoError"
    transaction: TransactionState | None = None
    authorized: Authorized | None = None
    finishing: bool = False


@dataclass(slots=True)
class _Pending:
    """An Authorize the Charge Point sent and waits the answer to."""

    connector_id: int
    id_tag: str
    purpose: str  # "start", "stop" or "remote"
    profile: ChargingProfile | None = None


@dataclass(slots=True)
class _Job:
    """A firmware update, diagnostics or log upload: the statuses still to report and when."""

    action: str
    steps: list[tuple[datetime, str]]
    request_id: int | None = None
    status: str = "Idle"


class ChargePointModel(Liveness):
    """The state of one simulated OCPP 1.x Charge Point.

    `make_csr(common_name, organization)` makes a key pair and its CSR for
    ExtendedTriggerMessage(SignChargePointCertificate): it returns the PEM text, or an object
    with `csr_pem` (ocppsim.security's CertificateRequest, whose key the model keeps for
    CertificateSigned). `accept_certificate(certificate_chain, request, identity)` checks a
    CertificateSigned chain against that request (raising to refuse it) and returns what the
    simulator connects with next (kept in `client_certificate`); without it, a chain of PEM
    certificates is accepted when a CSR is pending. `certificates` is the Charge Point's
    certificate store (ocppsim.security.CertificateStore): InstallCertificate,
    GetInstalledCertificateIds and DeleteCertificate act on it, and are left to the simulator
    without one.
    """

    __slots__ = (
        "version",
        "shapes",
        "info",
        "configuration",
        "connectors",
        "operative",
        "pending_operative",
        "registration",
        "profiles",
        "reservations",
        "local_list",
        "local_list_version",
        "auth_cache",
        "reboot",
        "client_certificate",
        "_make_csr",
        "_accept_certificate",
        "_certificates",
        "_csr",
        "_pending",
        "_starting",
        "_jobs",
        "_reported",
        "_boot_retry_at",
        "_aligned_slot",
    )

    def __init__(
        self,
        version: str | None = None,
        info: ChargePointInfo | None = None,
        *,
        make_csr: Callable[[str, str | None], Any] | None = None,
        accept_certificate: Callable[[str, Any, str], Any] | None = None,
        certificates: CertificateStore | None = None,
    ):
        super().__init__()
        found = entry(version if version is not None else newest())
        self.version = found.name
        self.shapes: Shapes = shapes(found.name)
        self.info = info if info is not None else ChargePointInfo()
        self.configuration = Configuration(found.configuration)
        self.connectors: dict[int, ConnectorState] = {
            n: ConnectorState(n) for n in range(1, self.info.connectors + 1)
        }
        self.operative = True
        self.pending_operative: bool | None = None
        self.registration = "Unknown"  # RegistrationStatus once a boot is answered
        self.profiles = ChargingProfiles()
        self.reservations: dict[int, Reservation] = {}
        self.local_list: dict[str, Payload] = {}
        self.local_list_version = 0
        self.auth_cache: dict[str, Payload] = {}
        self.reboot: Reboot | None = None
        self.client_certificate: Any = None
        self._make_csr = make_csr
        self._accept_certificate = accept_certificate
        self._certificates = certificates
        self._csr: Any = None
        self._pending: list[_Pending] = []
        self._starting: list[TransactionState] = []
        self._jobs: dict[str, _Job] = {}
        self._reported: dict[int, str] = {}
        self._boot_retry_at: datetime | None = None
        self._aligned_slot: int | None = None
        self._own_keys()

    def _own_keys(self) -> None:
        """The keys whose values come from this Charge Point (§9.1.21, §9.1.7, whitepaper)."""
        config = self.configuration
        own = {
            "NumberOfConnectors": str(self.info.connectors),
            "ConnectorPhaseRotation": ",".join(f"{n}.RST" for n in range(self.info.connectors + 1)),
            "CpoName": self.info.organization,
        }
        store = self._certificates
        if store is not None and store.max_certificates is not None:
            own["CertificateStoreMaxLength"] = str(store.max_certificates)
        for key, value in own.items():
            if config.definition(key) is not None:
                config.set(key, value)

    # --- what the simulator reads ---------------------------------------------------------------

    @property
    def heartbeat_interval(self) -> int:
        """Seconds of silence after which the Charge Point sends a Heartbeat (0: never)."""
        return self.configuration.integer("HeartbeatInterval", 0)

    @property
    def security_profile(self) -> int:
        """The security profile to connect with (whitepaper SecurityProfile; 0 without it)."""
        return self.configuration.integer("SecurityProfile", 0)

    @property
    def basic_auth_password(self) -> str | None:
        """The HTTP Basic password: the AuthorizationKey's bytes (whitepaper: it is set as
        hexadecimal), as text that encodes back to them (surrogateescape); None when unset."""
        key = self.configuration.get("AuthorizationKey")
        if not key:
            return None
        return bytes.fromhex(key).decode("utf-8", "surrogateescape")

    def advance(self, now: datetime) -> None:
        """Run the meters up to `now` (to read them; nothing is sent)."""
        self._advance(now)

    def take_reboot(self) -> Reboot | None:
        """The reboot (or reconnection) asked for, if any; taken, it is forgotten."""
        reboot, self.reboot = self.reboot, None
        return reboot

    def connector_status(self, connector_id: int, now: datetime) -> str:
        """The status StatusNotification reports for a connector (0: the Charge Point)."""
        if connector_id == 0:
            return self._wire_status(self._main_status())
        return self._wire_status(self._status(self._connector(connector_id), now))

    def transaction(self, connector_id: int) -> TransactionState | None:
        """The transaction on a connector, if any."""
        return self._connector(connector_id).transaction

    def handles(self, action: str) -> bool:
        """True for a Central System CALL this model answers from its state."""
        if action not in _HANDLERS or not self.shapes.answers(action):
            return False
        return action not in _STORE_ACTIONS or self._certificates is not None

    # --- local events ---------------------------------------------------------------------------

    def boot(self, now: datetime) -> list[Outgoing]:
        """The BootNotification of a (re)starting Charge Point (§4.2); what it reported before
        is forgotten, so every connector is reported again once accepted."""
        self._advance(now)
        self.reboot = None
        self.registration = "Unknown"
        self._reported.clear()
        self._pending.clear()
        return self._sent(now, [self._boot_notification()])

    def status_notifications(self, now: datetime) -> list[Outgoing]:
        """A StatusNotification for the Charge Point and every connector (§4.9)."""
        self._advance(now)
        return self._sent(now, self._sync_status(now, force=True))

    def present_badge(self, connector_id: int, id_tag: str, now: datetime) -> list[Outgoing]:
        """A driver presents a badge at a connector: Authorize to start (or a start at once when
        the local list or cache knows it and LocalPreAuthorize is true, §3.5), or the end of the
        transaction it started (the same idTag, or one of the same parent after Authorize,
        §3.6.2)."""
        self._advance(now)
        connector = self._connector(connector_id)
        tx = connector.transaction
        out: list[Outgoing] = []
        if tx is not None:
            if id_tag == tx.id_tag:
                out += self._end(connector, "Local", now, id_tag=id_tag)
            else:
                self._pending.append(_Pending(connector_id, id_tag, "stop"))
                out.append(Outgoing("Authorize", {"idTag": id_tag}))
        elif connector.authorized is not None and connector.authorized.id_tag == id_tag:
            connector.authorized = None  # the same badge again before plugging: cancelled
            out += self._sync_status(now)
        else:
            if connector.authorized is not None:
                raise StationError(
                    f"connector {connector_id} waits for the cable of badge "
                    f"{connector.authorized.id_tag}: plug in, or present that badge to cancel"
                )
            status = self._status(connector, now)
            if status in ("Unavailable", "Faulted"):
                raise StationError(f"connector {connector_id} is {status}")
            known = self._known(id_tag, now)
            if known is not None and self.configuration.flag("LocalPreAuthorize"):
                out += self._authorized(connector, id_tag, known.get("parentIdTag"), now)
            else:
                self._pending.append(_Pending(connector_id, id_tag, "start"))
                out.append(Outgoing("Authorize", {"idTag": id_tag}))
        return self._sent(now, out)

    def plug_in(self, connector_id: int, now: datetime) -> list[Outgoing]:
        """The EV is connected: Preparing, or the transaction starts when a driver is
        authorized there, or a suspended one resumes."""
        self._advance(now)
        connector = self._connector(connector_id)
        if connector.plugged:
            raise StationError(f"connector {connector_id} is already plugged in")
        connector.plugged = True
        if connector.transaction is None and connector.authorized is not None:
            out = self._start(connector, now)
        else:
            out = self._sync_status(now)
        return self._sent(now, out)

    def unplug(self, connector_id: int, now: datetime) -> list[Outgoing]:
        """The cable is unplugged: the transaction stops with reason EVDisconnected when
        StopTransactionOnEVSideDisconnect is true, else it is suspended (SuspendedEV, §3.6.4)."""
        self._advance(now)
        connector = self._connector(connector_id)
        if not connector.plugged:
            raise StationError(f"nothing is plugged in at connector {connector_id}")
        connector.plugged = False
        connector.finishing = False
        out: list[Outgoing] = []
        if connector.transaction is not None and self.configuration.flag(
            "StopTransactionOnEVSideDisconnect", True
        ):
            out += self._end(connector, "EVDisconnected", now)
        out += self._sync_status(now)
        return self._sent(now, out)

    def set_fault(
        self,
        connector_id: int,
        now: datetime,
        faulted: bool = True,
        error_code: str = "OtherError",
    ) -> list[Outgoing]:
        """A connector becomes Faulted with `error_code` (or recovers): its status, and the end of
        a transaction it carried (reason Other). ConnectorLockFailure also makes UnlockConnector
        fail."""
        self._advance(now)
        connector = self._connector(connector_id)
        connector.faulted = faulted
        connector.error_code = error_code if faulted else "NoError"
        out: list[Outgoing] = []
        if faulted and connector.transaction is not None:
            out += self._end(connector, "Other", now)
        out += self._sync_status(now)
        return self._sent(now, out)

    def tick(self, now: datetime) -> list[Outgoing]:
        """What time brings: sampled and clock-aligned meter values, drivers and reservations
        that time out, firmware and upload steps, heartbeats and boot retries."""
        self._advance(now)
        config = self.configuration
        out: list[Outgoing] = []
        interval = config.integer("MeterValueSampleInterval", 0)
        timeout = config.integer("ConnectionTimeOut", 0)
        for connector in self.connectors.values():
            tx = connector.transaction
            if tx is not None:
                # switched off (0) and on again, or made shorter than the time left to the next
                # sample: a new grid from now
                planned = tx.next_sample
                tx.next_sample = regrid(planned, interval, now)
                if tx.next_sample is not None and tx.next_sample == planned and now >= planned:
                    out += self._periodic_sample(connector, tx, now)
                    tx.next_sample = next_on_grid(planned, interval, now)
            waiting = connector.authorized
            if waiting is not None and timeout > 0:
                if (now - waiting.since).total_seconds() >= timeout:  # §9.1.6
                    connector.authorized = None
        for reservation in list(self.reservations.values()):
            if now >= reservation.expiry:  # §5.13: the reservation lapses
                del self.reservations[reservation.id]
        out += self._aligned_data(now)
        out += self._due_jobs(now)
        out += self._sync_status(now)
        if self.registration == "Accepted":
            if self._silent(now, self.heartbeat_interval) and not out:
                out.append(Outgoing("Heartbeat", {}))
        elif self._boot_retry_at is not None and now >= self._boot_retry_at:
            self._boot_retry_at = None
            out.append(self._boot_notification())
        return self._sent(now, out)

    def next_due(self, now: datetime) -> datetime | None:
        """When `tick` next has something to do (`now` or earlier: at once), None when nothing
        is due until an event or a CALL comes: an idle Charge Point wakes only for its
        heartbeat, a charging one for its samples too."""
        config = self.configuration
        interval = config.integer("MeterValueSampleInterval", 0)
        timeout = config.integer("ConnectionTimeOut", 0)
        due: list[datetime | None] = []
        charging = False
        for connector in self.connectors.values():
            tx = connector.transaction
            if tx is not None:
                charging = True
                if interval > 0:
                    due.append(sample_due(tx.next_sample, interval, now))
            waiting = connector.authorized
            if waiting is not None and timeout > 0:
                due.append(waiting.since + timedelta(seconds=timeout))
        due += [r.expiry for r in self.reservations.values()]
        aligned = config.integer("ClockAlignedDataInterval", 0)
        due.append(next_slot(now, aligned, self._aligned_slot))
        due += [job.steps[0][0] for job in self._jobs.values() if job.steps]
        if charging and self.profiles.profiles:
            due.append(self._next_profile_change(now))
        if self.registration == "Accepted":
            due.append(self._heartbeat_due(self.heartbeat_interval))
        else:
            due.append(self._boot_retry_at)
        return earliest(due)

    def _next_profile_change(self, now: datetime) -> datetime | None:
        """The next moment a kept charging profile may change what a transaction gets (a
        period, a validity or a duration boundary within a day), so its status is reported."""
        horizon = now + timedelta(days=1)
        anchors = [c.transaction.started_at for c in self.connectors.values() if c.transaction]
        changes = (
            moment
            for profile in self.profiles.profiles
            for anchor in anchors
            for moment in profile.changes(now, horizon, anchor)
            if now < moment <= horizon
        )
        return earliest(changes)

    # --- CALLs from the Central System -----------------------------------------------------------

    def on_call(self, action: str, payload: Payload, now: datetime) -> Reply | None:
        """The answer to a Central System CALL and the CALLs that follow it, or None for an
        action the model leaves to the simulator (default answers, plugins). Raises
        `StationRefusal` for a CALL to be answered with a CALLERROR."""
        if not self.handles(action):
            return None
        handler: Callable[[Payload, datetime], Reply] = getattr(self, _HANDLERS[action])
        self._advance(now)
        self._last_activity = now
        try:
            reply = handler(payload, now)
        except StationRefusal:
            raise
        except OverflowError as exc:  # a valid number or date too large to compute with
            raise StationRefusal("value", f"{action}: a value is out of range ({exc})") from exc
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            raise StationRefusal("format", f"{action}: cannot read the payload ({exc})") from exc
        return Reply(reply.payload, self._sent(now, reply.outgoing))

    # --- answers to the Charge Point's own CALLs ------------------------------------------------

    def on_result(
        self, action: str, request: Payload, result: Payload, now: datetime
    ) -> list[Outgoing]:
        """Take the CALLRESULT of a CALL the Charge Point sent; returns the CALLs that follow."""
        self._advance(now)
        self._last_activity = now
        try:
            if action == "BootNotification":
                out = self._boot_result(result, now)
            elif action == "Authorize":
                out = self._authorize_result(request, result, now)
            elif action == "StartTransaction":
                out = self._start_result(request, result, now)
            elif action == "StopTransaction":
                self._remember(request.get("idTag"), result.get("idTagInfo"))
                out = []
            else:
                out = []
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError) as exc:
            logger.warning("%s result not understood (%s): %r", action, exc, result)
            out = []
        return self._sent(now, out)

    def on_failure(self, action: str, request: Payload, now: datetime) -> list[Outgoing]:
        """A CALL the Charge Point sent got a CALLERROR or no answer: an Authorize is forgotten,
        a transaction whose StartTransaction failed goes on without an id (its StopTransaction
        cannot be sent), a boot is tried again a minute later."""
        self._advance(now)
        if action == "Authorize":
            self._take_pending(request.get("idTag"))
        elif action == "StartTransaction":
            tx = self._take_starting(request)
            if tx is not None and tx.held_stop is not None:
                logger.warning("transaction on connector %d ended without an id", tx.connector_id)
        elif action == "BootNotification" and self.registration != "Accepted":
            self._boot_retry_at = now + timedelta(seconds=60)
        return []

    # --- configuration (§5.3, §5.8) ---------------------------------------------------------------

    def _get_configuration(self, payload: Payload, now: datetime) -> Reply:
        """GetConfiguration: the keys asked for (every key when none), unknown ones apart; more
        keys than GetConfigurationMaxKeys is refused (§9.1.9)."""
        keys = payload.get("key")
        most = self.configuration.integer("GetConfigurationMaxKeys", 0)
        if keys and most > 0 and len(keys) > most:
            raise StationRefusal(
                "occurrence", f"key: {len(keys)} keys, more than GetConfigurationMaxKeys ({most})"
            )
        return Reply(self.configuration.report(keys), [])

    def _change_configuration(self, payload: Payload, now: datetime) -> Reply:
        """ChangeConfiguration: Accepted, Rejected (read-only, wrong type or range), NotSupported
        (unknown key); SecurityProfile only goes up, with what the new profile needs in place,
        and makes the Charge Point connect again (whitepaper use case A05)."""
        key, value = payload["key"], payload["value"]
        definition = self.configuration.definition(key)
        if definition is not None and definition.name == "SecurityProfile":
            return self._change_security_profile(value, now)
        status = self.configuration.change(key, value)
        if status == REBOOT_REQUIRED and status not in self.shapes.configuration_statuses:
            status = ACCEPTED
        out: list[Outgoing] = []
        changed = status in (ACCEPTED, REBOOT_REQUIRED) and definition is not None
        if changed and definition is not None and definition.name == "AuthorizationKey":
            out += self._security_event("ReconfigurationOfSecurityParameters", now)
        return Reply({"status": status}, out)

    def _change_security_profile(self, value: str, now: datetime) -> Reply:
        """SecurityProfile (whitepaper A05): never lowered, 2 and 3 need a
        CentralSystemRootCertificate installed, 3 a client certificate; accepted, the Charge
        Point connects again with it."""
        definition = self.configuration.definition("SecurityProfile")
        assert definition is not None
        current = self.security_profile
        if not definition.accepts(value):
            return Reply({"status": "Rejected"}, [])
        wanted = int(value)
        problem = None
        if wanted < current:
            problem = f"the security profile cannot go down from {current}"
        elif wanted >= 2 and not self._has_root("CentralSystemRootCertificate"):
            problem = "no CentralSystemRootCertificate is installed"
        elif wanted == 3 and self.client_certificate is None:
            problem = "the Charge Point has no client certificate"
        if problem is not None:
            logger.info("SecurityProfile %s rejected: %s", value, problem)
            return Reply({"status": "Rejected"}, [])
        if wanted == current:
            return Reply({"status": "Accepted"}, [])
        self.configuration.set("SecurityProfile", str(wanted))
        self.reboot = Reboot("SecurityProfile", boot_again=False)
        return Reply(
            {"status": "Accepted"}, self._security_event("ReconfigurationOfSecurityParameters", now)
        )

    def _has_root(self, certificate_type: str) -> bool:
        store = self._certificates
        return store is not None and bool(store.installed([certificate_type]))

    # --- availability, unlock, reset (§5.2, §5.14, §5.18) ---------------------------------------

    def _change_availability(self, payload: Payload, now: datetime) -> Reply:
        """ChangeAvailability of the Charge Point (connector 0) or a connector: Scheduled while a
        transaction runs there, applied when it ends; Accepted otherwise (also when nothing
        changes); Rejected for an unknown connector (§5.2)."""
        operative = payload["type"] == "Operative"
        connector_id = payload["connectorId"]
        if connector_id == 0:
            if self.operative == operative:
                self.pending_operative = None
                return Reply({"status": "Accepted"}, [])
            if any(c.transaction for c in self.connectors.values()):
                self.pending_operative = operative
                return Reply({"status": "Scheduled"}, [])
            self.operative, self.pending_operative = operative, None
            return Reply({"status": "Accepted"}, self._sync_status(now))
        connector = self.connectors.get(connector_id)
        if connector is None:
            return Reply({"status": "Rejected"}, [])
        if connector.operative == operative:
            connector.pending_operative = None
            return Reply({"status": "Accepted"}, [])
        if connector.transaction is not None:
            connector.pending_operative = operative
            return Reply({"status": "Scheduled"}, [])
        connector.operative, connector.pending_operative = operative, None
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _unlock_connector(self, payload: Payload, now: datetime) -> Reply:
        """UnlockConnector (§5.18): a transaction there stops first (reason UnlockCommand);
        Unlocked, UnlockFailed (a connector lock failure), NotSupported (no such connector, a
        fixed cable); 1.2 and 1.5 answer Accepted or Rejected."""
        connector = self.connectors.get(payload["connectorId"])
        if connector is None or connector.fixed_cable:
            return Reply({"status": self._unlock_answer("NotSupported")}, [])
        if connector.faulted and connector.error_code == "ConnectorLockFailure":
            return Reply({"status": self._unlock_answer("UnlockFailed")}, [])
        out: list[Outgoing] = []
        if connector.transaction is not None:
            out += self._end(connector, "UnlockCommand", now)
        return Reply({"status": self._unlock_answer("Unlocked")}, out)

    def _unlock_answer(self, status: str) -> str:
        if status in self.shapes.unlock_statuses:
            return status
        return "Accepted" if status == "Unlocked" else "Rejected"

    def _reset(self, payload: Payload, now: datetime) -> Reply:
        """Reset (§5.14): Accepted; every transaction stops (reason HardReset or SoftReset) and
        the Charge Point reboots (`reboot`)."""
        kind = payload["type"]
        out: list[Outgoing] = []
        for connector in self.connectors.values():
            if connector.transaction is not None:
                out += self._end(connector, f"{kind}Reset", now, after=False)
            connector.authorized = None
        self._pending.clear()
        self.reboot = Reboot(f"{kind}Reset")
        return Reply({"status": "Accepted"}, out)

    # --- triggers (§5.17, whitepaper ExtendedTriggerMessage) -------------------------------------

    def _trigger_message(self, payload: Payload, now: datetime) -> Reply:
        """TriggerMessage (§5.17): Accepted and the message asked for, Rejected for an unknown
        connector."""
        return self._trigger(payload, now, extended=False)

    def _extended_trigger_message(self, payload: Payload, now: datetime) -> Reply:
        """ExtendedTriggerMessage (whitepaper use case F06): as TriggerMessage, plus
        LogStatusNotification, SignChargePointCertificate (a new key pair and SignCertificate)
        and FirmwareStatusNotification answered with SignedFirmwareStatusNotification."""
        return self._trigger(payload, now, extended=True)

    def _trigger(self, payload: Payload, now: datetime, extended: bool) -> Reply:
        requested = payload["requestedMessage"]
        connector_id = payload.get("connectorId")
        if connector_id is not None and connector_id != 0 and connector_id not in self.connectors:
            return Reply({"status": "Rejected"}, [])
        out: list[Outgoing] = []
        if requested == "BootNotification":
            out.append(self._boot_notification())
        elif requested == "Heartbeat":
            out.append(Outgoing("Heartbeat", {}))
        elif requested == "StatusNotification":
            ids = [connector_id] if connector_id is not None else [0, *self.connectors]
            out += [self._status_notification(n, now) for n in ids]
        elif requested == "MeterValues":
            wanted = [connector_id] if connector_id else list(self.connectors)
            measurands = self.configuration.items("MeterValuesSampledData", (_ENERGY,))
            for n in wanted:
                connector = self.connectors[n]
                sample = self._sample(connector, measurands, "Trigger", now)
                if sample is not None:
                    out.append(self._meter_values(connector, [sample]))
        elif requested == "DiagnosticsStatusNotification" and not extended:
            out.append(self._job_status("DiagnosticsStatusNotification"))
        elif requested == "FirmwareStatusNotification":
            action = "SignedFirmwareStatusNotification" if extended else requested
            out.append(self._job_status(action))
        elif requested == "LogStatusNotification" and extended:
            out.append(self._job_status("LogStatusNotification"))
        elif requested == "SignChargePointCertificate" and extended and self._make_csr is not None:
            out.append(self._sign_certificate())
        else:
            return Reply({"status": "NotImplemented"}, [])
        return Reply({"status": "Accepted"}, out)

    # --- remote start and stop (§5.11, §5.12) ---------------------------------------------------

    def _remote_start_transaction(self, payload: Payload, now: datetime) -> Reply:
        """RemoteStartTransaction (§5.11): the connector asked for (or the first free one) takes
        the idTag, after Authorize when AuthorizeRemoteTxRequests is true; its chargingProfile
        (a TxProfile) governs the transaction; Rejected for connector 0, an unknown, busy,
        unavailable or reserved connector, and while the boot is Pending (§4.2: not allowed)."""
        if self.registration == "Pending":
            return Reply({"status": "Rejected"}, [])
        id_tag = payload["idTag"]
        connector_id = payload.get("connectorId")
        if connector_id is None:
            free = [c for c in self.connectors.values() if self._free(c, id_tag, None, now)]
            if not free:
                return Reply({"status": "Rejected"}, [])
            connector = free[0]
        else:
            found = self.connectors.get(connector_id)
            if found is None or not self._free(found, id_tag, None, now):
                return Reply({"status": "Rejected"}, [])
            connector = found
        profile = None
        wire_profile = payload.get("chargingProfile")
        if wire_profile is not None:
            if wire_profile["chargingProfilePurpose"] != TX_PROFILE:
                logger.info("RemoteStartTransaction rejected: its profile is not a TxProfile")
                return Reply({"status": "Rejected"}, [])
            try:
                profile = read_profile(connector.id, wire_profile)
            except ProfileRefused as exc:
                logger.info("RemoteStartTransaction rejected: %s", exc)
                return Reply({"status": "Rejected"}, [])
        if self.configuration.flag("AuthorizeRemoteTxRequests"):
            self._pending.append(_Pending(connector.id, id_tag, "remote", profile))
            return Reply({"status": "Accepted"}, [Outgoing("Authorize", {"idTag": id_tag})])
        out = self._authorized(connector, id_tag, None, now, profile)
        return Reply({"status": "Accepted"}, out)

    def _remote_stop_transaction(self, payload: Payload, now: datetime) -> Reply:
        """RemoteStopTransaction (§5.12): Accepted and StopTransaction (reason Remote) for a
        running transaction of that id, Rejected otherwise and while the boot is Pending (§4.2:
        not allowed)."""
        if self.registration == "Pending":
            return Reply({"status": "Rejected"}, [])
        wanted = payload["transactionId"]
        for connector in self.connectors.values():
            tx = connector.transaction
            if tx is not None and tx.transaction_id == wanted:
                return Reply({"status": "Accepted"}, self._end(connector, "Remote", now))
        return Reply({"status": "Rejected"}, [])

    # --- reservations (§5.13, §5.1) --------------------------------------------------------------

    def _reserve_now(self, payload: Payload, now: datetime) -> Reply:
        """ReserveNow (§5.13): Accepted (the connector shows Reserved), Faulted, Occupied,
        Unavailable or Rejected; the same reservationId replaces a reservation; connector 0
        reserves any connector when ReserveConnectorZeroSupported is true."""
        reservation_id = payload["reservationId"]
        connector_id = payload["connectorId"]
        expiry = parse_time(payload["expiryDate"])
        if not self._feature("Reservation") or expiry <= now:
            return Reply({"status": "Rejected"}, [])
        replaced = self.reservations.pop(reservation_id, None)
        status = self._reservable(connector_id, now)
        if status != "Accepted":
            if replaced is not None:
                self.reservations[reservation_id] = replaced
            return Reply({"status": status}, [])
        self.reservations[reservation_id] = Reservation(
            reservation_id, connector_id, payload["idTag"], payload.get("parentIdTag"), expiry
        )
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _reservable(self, connector_id: int, now: datetime) -> str:
        """ReservationStatus of a connector that would be reserved now."""
        if connector_id == 0:
            if not self.configuration.flag("ReserveConnectorZeroSupported"):
                return "Rejected"
            if not self.operative:
                return "Unavailable"
            free = [c for c in self.connectors.values() if self._status(c, now) == "Available"]
            held = sum(1 for r in self.reservations.values() if r.connector_id == 0)
            return "Accepted" if len(free) > held else "Occupied"
        connector = self.connectors.get(connector_id)
        if connector is None:
            return "Rejected"
        status = self._status(connector, now)
        if status == "Faulted":
            return "Faulted"
        if status == "Unavailable":
            return "Unavailable"
        return "Accepted" if status == "Available" else "Occupied"

    def _cancel_reservation(self, payload: Payload, now: datetime) -> Reply:
        """CancelReservation (§5.1): Accepted for a reservation held, Rejected otherwise."""
        if self.reservations.pop(payload["reservationId"], None) is None:
            return Reply({"status": "Rejected"}, [])
        return Reply({"status": "Accepted"}, self._sync_status(now))

    # --- local authorization list and cache (§5.4, §5.10, §5.15) --------------------------------

    def _send_local_list(self, payload: Payload, now: datetime) -> Reply:
        """SendLocalList (§5.15): a Full list replaces the list, a Differential one updates it
        (an entry without idTagInfo is removed) and must carry a higher version
        (VersionMismatch); more entries than SendLocalListMaxLength, or a list longer than
        LocalAuthListMaxLength, Failed; NotSupported when the list is not enabled."""
        config = self.configuration
        if not self._feature("LocalAuthListManagement") or not config.flag(
            "LocalAuthListEnabled", True
        ):
            return Reply({"status": "NotSupported"}, [])
        version = payload["listVersion"]
        entries = payload.get(self.shapes.local_list_field or "localAuthorizationList") or []
        most = config.integer("SendLocalListMaxLength", 0)
        if most > 0 and len(entries) > most:
            return Reply({"status": "Failed"}, [])
        if payload["updateType"] == "Full":
            if any("idTagInfo" not in e for e in entries):
                return Reply({"status": "Failed"}, [])
            updated = {e["idTag"]: e["idTagInfo"] for e in entries}
        else:
            if version <= self.local_list_version:
                return Reply({"status": "VersionMismatch"}, [])
            updated = dict(self.local_list)
            for e in entries:
                if "idTagInfo" in e:
                    updated[e["idTag"]] = e["idTagInfo"]
                else:
                    updated.pop(e["idTag"], None)
        longest = config.integer("LocalAuthListMaxLength", 0)
        if longest > 0 and len(updated) > longest:
            return Reply({"status": "Failed"}, [])
        self.local_list, self.local_list_version = updated, version
        return Reply({"status": "Accepted"}, [])

    def _get_local_list_version(self, payload: Payload, now: datetime) -> Reply:
        """GetLocalListVersion (§5.10): -1 without the local list feature, 0 for an empty list,
        else the version of the last list received."""
        if not self._feature("LocalAuthListManagement"):
            return Reply({"listVersion": -1}, [])
        return Reply({"listVersion": self.local_list_version if self.local_list else 0}, [])

    def _clear_cache(self, payload: Payload, now: datetime) -> Reply:
        """ClearCache (§5.4): the authorization cache is emptied."""
        self.auth_cache.clear()
        return Reply({"status": "Accepted"}, [])

    def _data_transfer(self, payload: Payload, now: datetime) -> Reply:
        """DataTransfer (§5.6): the simulated Charge Point knows no vendor's data."""
        return Reply({"status": "UnknownVendorId"}, [])

    # --- smart charging (§5.5, §5.7, §5.16) -------------------------------------------------------

    def _set_charging_profile(self, payload: Payload, now: datetime) -> Reply:
        """SetChargingProfile (§5.16, §3.13): the profile is kept (replacing one of the same id,
        or stack level and purpose on the connector); Rejected for a ChargePointMaxProfile off
        connector 0, a TxProfile without a transaction on its connector, a stack level, a
        number of periods or a unit the configuration does not allow, too many profiles;
        NotSupported without the SmartCharging profile."""
        if not self._feature("SmartCharging"):
            return Reply({"status": "NotSupported"}, [])
        connector_id = payload["connectorId"]
        try:
            profile = self._acceptable_profile(connector_id, payload["csChargingProfiles"])
        except ProfileRefused as exc:
            logger.info("SetChargingProfile rejected: %s", exc)
            return Reply({"status": "Rejected"}, [])
        self.profiles.install(profile)
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _acceptable_profile(self, connector_id: int, wire: Payload) -> ChargingProfile:
        """The profile of a SetChargingProfile, checked against the Charge Point's state."""
        config = self.configuration
        if connector_id != 0 and connector_id not in self.connectors:
            raise ProfileRefused(f"no connector {connector_id}")
        profile = read_profile(connector_id, wire)
        if profile.purpose == CHARGE_POINT_MAX and connector_id != 0:
            raise ProfileRefused("a ChargePointMaxProfile goes on connector 0 (§3.13.1)")
        if profile.purpose == TX_PROFILE:
            if connector_id == 0:
                raise ProfileRefused("a TxProfile goes on the connector of its transaction")
            tx = self.connectors[connector_id].transaction
            if tx is None:
                raise ProfileRefused(f"no transaction on connector {connector_id} (§3.13.1)")
            if profile.transaction_id is not None and profile.transaction_id != tx.transaction_id:
                raise ProfileRefused(f"transaction {profile.transaction_id} is not running there")
            if profile.transaction_id is None and tx.transaction_id is not None:
                profile = profile.with_transaction(tx.transaction_id)
        highest = config.integer("ChargeProfileMaxStackLevel", 0)
        if profile.stack_level < 0 or (highest > 0 and profile.stack_level > highest):
            raise ProfileRefused(f"stackLevel {profile.stack_level} is above {highest}")
        periods = config.integer("ChargingScheduleMaxPeriods", 0)
        if periods > 0 and len(profile.periods) > periods:
            raise ProfileRefused(f"{len(profile.periods)} periods, more than {periods}")
        if not self._unit_allowed(profile.unit):
            raise ProfileRefused(f"chargingRateUnit {profile.unit} is not allowed")
        most = config.integer("MaxChargingProfilesInstalled", 0)
        if most > 0 and len(self.profiles) >= most and not self.profiles.replaces(profile):
            raise ProfileRefused(f"{most} profiles are installed already")
        return profile

    def _unit_allowed(self, unit: str) -> bool:
        allowed = self.configuration.items("ChargingScheduleAllowedChargingRateUnit", ())
        return not allowed or UNIT_NAMES[unit] in allowed

    def _clear_charging_profile(self, payload: Payload, now: datetime) -> Reply:
        """ClearChargingProfile (§5.5): Accepted when a profile matched, Unknown otherwise."""
        removed = self.profiles.clear(
            payload.get("id"),
            payload.get("connectorId"),
            payload.get("chargingProfilePurpose"),
            payload.get("stackLevel"),
        )
        if not removed:
            return Reply({"status": "Unknown"}, [])
        return Reply({"status": "Accepted"}, self._sync_status(now))

    def _get_composite_schedule(self, payload: Payload, now: datetime) -> Reply:
        """GetCompositeSchedule (§5.7, §3.13.4): the schedule the kept profiles and the hardware
        make for the connector (connector 0: the Charge Point) from now for `duration`, in the
        unit asked (A when none is, if allowed); Rejected for an unknown connector or a unit
        not allowed."""
        connector_id = payload["connectorId"]
        duration = payload["duration"]
        unit = payload.get("chargingRateUnit") or ("A" if self._unit_allowed("A") else "W")
        if connector_id != 0 and connector_id not in self.connectors:
            return Reply({"status": "Rejected"}, [])
        if not self._unit_allowed(unit) or duration < 0:
            return Reply({"status": "Rejected"}, [])
        tx = self.connectors[connector_id].transaction if connector_id else None
        hardware = self.info.max_current_a * (len(self.connectors) if connector_id == 0 else 1)
        length, periods = self.profiles.composite(
            connector_id,
            now,
            duration,
            unit,
            tx.started_at if tx is not None else now,
            self._electrical(),
            transaction=tx is not None,
            transaction_id=tx.transaction_id if tx is not None else None,
            hardware=hardware,
        )
        schedule: Payload = {
            "duration": length,
            "startSchedule": wire_time(now),
            "chargingRateUnit": unit,
            "chargingSchedulePeriod": periods,
        }
        answer = {
            "status": "Accepted",
            "connectorId": connector_id,
            "scheduleStart": wire_time(now),
            "chargingSchedule": schedule,
        }
        return Reply(answer, [])

    def _electrical(self) -> Electrical:
        return Electrical(self.info.voltage, self.info.phases, self.info.max_current_a)

    # --- firmware, diagnostics, logs (§5.9, §5.19, whitepaper L01, N01) --------------------------

    def _update_firmware(self, payload: Payload, now: datetime) -> Reply:
        """UpdateFirmware (§5.19): from retrieveDate, FirmwareStatusNotification Downloading,
        Downloaded, Installing, Installed, one step every transfer_seconds (the statuses the
        version has)."""
        start = max(parse_time(payload["retrieveDate"]), now)
        statuses = ("Downloading", "Downloaded", "Installing", "Installed")
        self._new_job("FirmwareStatusNotification", start, statuses, self.shapes.firmware_statuses)
        return Reply({}, self._due_jobs(now))

    def _get_diagnostics(self, payload: Payload, now: datetime) -> Reply:
        """GetDiagnostics (§5.9): the file name, then DiagnosticsStatusNotification Uploading
        and, transfer_seconds later, Uploaded (the statuses the version has)."""
        name = f"diagnostics-{self.info.identity}-{now.strftime('%Y%m%dT%H%M%SZ')}.log"[:255]
        statuses = ("Uploading", "Uploaded")
        self._new_job(
            "DiagnosticsStatusNotification", now, statuses, self.shapes.diagnostics_statuses
        )
        return Reply({"fileName": name}, self._due_jobs(now))

    def _get_log(self, payload: Payload, now: datetime) -> Reply:
        """GetLog (whitepaper N01): Accepted (AcceptedCanceled when it replaces an upload going
        on) and the file name, then LogStatusNotification Uploading and Uploaded."""
        busy = self._busy("LogStatusNotification")
        kind = "security" if payload["logType"] == "SecurityLog" else "diagnostics"
        name = f"{kind}-{self.info.identity}-{now.strftime('%Y%m%dT%H%M%SZ')}.log"[:255]
        self._new_job(
            "LogStatusNotification", now, ("Uploading", "Uploaded"), None, payload["requestId"]
        )
        status = "AcceptedCanceled" if busy else "Accepted"
        return Reply({"status": status, "filename": name}, self._due_jobs(now))

    def _signed_update_firmware(self, payload: Payload, now: datetime) -> Reply:
        """SignedUpdateFirmware (whitepaper L01): InvalidCertificate (and a security event
        InvalidFirmwareSigningCertificate) when no ManufacturerRootCertificate is installed to
        check the signing certificate against; else Accepted (AcceptedCanceled when it replaces
        an update going on) and SignedFirmwareStatusNotification Downloading, Downloaded,
        SignatureVerified, Installing, Installed, then a security event FirmwareUpdated."""
        firmware = payload["firmware"]
        if self._certificates is not None and not self._has_root("ManufacturerRootCertificate"):
            event = self._security_event("InvalidFirmwareSigningCertificate", now)
            return Reply({"status": "InvalidCertificate"}, event)
        busy = self._busy("SignedFirmwareStatusNotification")
        start = max(parse_time(firmware["retrieveDateTime"]), now)
        statuses = ("Downloading", "Downloaded", "SignatureVerified", "Installing", "Installed")
        job = self._new_job(
            "SignedFirmwareStatusNotification", start, statuses, None, payload["requestId"]
        )
        install = firmware.get("installDateTime")
        if install is not None:  # installation waits for installDateTime
            at = parse_time(install)
            job.steps[3:] = [
                (max(moment, at + (moment - job.steps[3][0])), status)
                for moment, status in job.steps[3:]
            ]
        status = "AcceptedCanceled" if busy else "Accepted"
        return Reply({"status": status}, self._due_jobs(now))

    def _new_job(
        self,
        action: str,
        start: datetime,
        statuses: Iterable[str],
        allowed: frozenset[str] | None,
        request_id: int | None = None,
    ) -> _Job:
        """A job reporting `statuses` one every transfer_seconds (those `allowed`: a version
        without a status reports the next one when it would have come)."""
        step = timedelta(seconds=self.info.transfer_seconds)
        steps = [
            (start + i * step, status)
            for i, status in enumerate(statuses)
            if allowed is None or status in allowed
        ]
        job = _Job(action, steps, request_id)
        self._jobs[action] = job
        return job

    def _busy(self, action: str) -> bool:
        job = self._jobs.get(action)
        return job is not None and bool(job.steps)

    def _due_jobs(self, now: datetime) -> list[Outgoing]:
        """The notifications of every job step due by now."""
        out: list[Outgoing] = []
        for job in self._jobs.values():
            while job.steps and job.steps[0][0] <= now:
                _, job.status = job.steps.pop(0)
                out.append(self._job_notification(job))
                if job.action == "SignedFirmwareStatusNotification" and job.status == "Installed":
                    out += self._security_event("FirmwareUpdated", now)
        return out

    def _job_status(self, action: str) -> Outgoing:
        """The notification a trigger asks for: the job's status while it runs, Idle else."""
        job = self._jobs.get(action)
        if job is None or not job.steps:
            return self._job_notification(_Job(action, [], None, "Idle"))
        return self._job_notification(job)

    def _job_notification(self, job: _Job) -> Outgoing:
        payload: Payload = {"status": job.status}
        if job.request_id is not None:
            payload["requestId"] = job.request_id
        return Outgoing(job.action, payload)

    # --- certificates (whitepaper A02, M03-M05) --------------------------------------------------

    def _sign_certificate(self) -> Outgoing:
        """SignCertificate with the CSR of a new key pair (CN: the identity, O: CpoName)."""
        assert self._make_csr is not None
        organization = self.configuration.get("CpoName") or self.info.organization
        request = self._make_csr(self.info.identity, organization)
        self._csr = request
        pem = request if isinstance(request, str) else request.csr_pem
        return Outgoing("SignCertificate", {"csr": pem})

    def _certificate_signed(self, payload: Payload, now: datetime) -> Reply:
        """CertificateSigned (whitepaper A02): Accepted when the chain is for the pending CSR
        and valid (what to connect with next goes to `client_certificate`); Rejected, with a
        security event InvalidChargePointCertificate, otherwise."""
        chain = payload["certificateChain"]
        most = self.configuration.integer("CertificateSignedMaxChainSize", 0)
        problem = None
        if self._csr is None:
            problem = "no CSR is pending"
        elif most > 0 and len(chain) > most:
            problem = f"the chain is longer than CertificateSignedMaxChainSize ({most})"
        elif self._accept_certificate is not None:
            try:
                accepted = self._accept_certificate(chain, self._csr, self.info.identity)
            except Exception as exc:  # the checker says why in its own exception
                problem = str(exc)
            else:
                self.client_certificate, self._csr = accepted, None
        elif "-----BEGIN CERTIFICATE-----" in chain:
            self.client_certificate, self._csr = chain, None
        else:
            problem = "the chain holds no PEM certificate"
        if problem is not None:
            logger.info("CertificateSigned rejected: %s", problem)
            event = self._security_event("InvalidChargePointCertificate", now, problem)
            return Reply({"status": "Rejected"}, event)
        return Reply({"status": "Accepted"}, [])

    def _install_certificate(self, payload: Payload, now: datetime) -> Reply:
        """InstallCertificate (whitepaper M05): the store's answer."""
        assert self._certificates is not None
        answer = self._certificates.install(payload["certificateType"], payload["certificate"])
        if answer.reason:
            logger.info("InstallCertificate %s: %s", answer.status, answer.reason)
        return Reply({"status": answer.status}, [])

    def _get_installed_certificate_ids(self, payload: Payload, now: datetime) -> Reply:
        """GetInstalledCertificateIds (whitepaper M03): Accepted and the hash data of the
        certificates of that type, NotFound when there is none."""
        assert self._certificates is not None
        ids = self._certificates.certificate_ids([payload["certificateType"]])
        if not ids:
            return Reply({"status": "NotFound"}, [])
        return Reply({"status": "Accepted", "certificateHashData": [h for _, h in ids]}, [])

    def _delete_certificate(self, payload: Payload, now: datetime) -> Reply:
        """DeleteCertificate (whitepaper M04): Accepted, NotFound or Failed, as the store says."""
        assert self._certificates is not None
        answer = self._certificates.delete(payload["certificateHashData"])
        return Reply({"status": answer.status}, [])

    def _security_event(self, kind: str, now: datetime, info: str | None = None) -> list[Outgoing]:
        """A SecurityEventNotification (whitepaper §2.4), when the version has it."""
        if not self.shapes.has("SecurityEventNotification"):
            return []
        payload: Payload = {"type": kind, "timestamp": wire_time(now)}
        if info:
            payload["techInfo"] = info[:255]
        return [Outgoing("SecurityEventNotification", payload)]

    # --- results ---------------------------------------------------------------------------------

    def _boot_result(self, result: Payload, now: datetime) -> list[Outgoing]:
        """BootNotification.conf (§4.2, §6.5): Accepted sets the heartbeat interval and reports
        every connector; Pending and Rejected retry after the interval."""
        status = result["status"]
        interval = result.get(self.shapes.interval_field) or 0
        self.registration = status
        if status == "Accepted":
            self._boot_retry_at = None
            if interval > 0 and self.configuration.definition("HeartbeatInterval") is not None:
                self.configuration.set("HeartbeatInterval", str(interval))
            return self._sync_status(now, force=True)
        self._boot_retry_at = now + timedelta(seconds=interval if interval > 0 else 60)
        return []

    def _authorize_result(self, request: Payload, result: Payload, now: datetime) -> list[Outgoing]:
        """Authorize.conf (§4.1): an accepted idTag starts, or stops a transaction of the same
        parent (§3.6.2)."""
        pending = self._take_pending(request.get("idTag"))
        info = result["idTagInfo"]
        self._remember(request.get("idTag"), info)
        if pending is None or info["status"] != "Accepted":
            return []
        connector = self.connectors[pending.connector_id]
        parent = info.get("parentIdTag")
        tx = connector.transaction
        if pending.purpose == "stop":
            if tx is not None and tx.parent_id_tag is not None and parent == tx.parent_id_tag:
                return self._end(connector, "Local", now, id_tag=pending.id_tag)
            return []
        return self._authorized(connector, pending.id_tag, parent, now, pending.profile)

    def _start_result(self, request: Payload, result: Payload, now: datetime) -> list[Outgoing]:
        """StartTransaction.conf (§4.8): the transaction takes the id the Central System gives; a
        StopTransaction that waited for it goes; an idTag not accepted stops the transaction
        (reason DeAuthorized) when StopTransactionOnInvalidId is true, else holds the energy
        back (SuspendedEVSE)."""
        tx = self._take_starting(request)
        if tx is None:
            return []
        info = result["idTagInfo"]
        self._remember(tx.id_tag, info)
        tx.transaction_id = result["transactionId"]
        tx.parent_id_tag = info.get("parentIdTag")
        if tx.held_stop is not None:  # the transaction ended before its id came
            stop = {"transactionId": tx.transaction_id, **tx.held_stop}
            tx.held_stop = None
            return [Outgoing("StopTransaction", stop)]
        self.profiles.bind(tx.connector_id, tx.transaction_id)
        if info["status"] == "Accepted":
            return []
        connector = self.connectors[tx.connector_id]
        if self.configuration.flag("StopTransactionOnInvalidId", True):
            return self._end(connector, "DeAuthorized", now)
        tx.suspended = True
        return self._sync_status(now)

    # --- the transaction machinery ---------------------------------------------------------------

    def _authorized(
        self,
        connector: ConnectorState,
        id_tag: str,
        parent: str | None,
        now: datetime,
        profile: ChargingProfile | None = None,
    ) -> list[Outgoing]:
        """A driver is authorized at a connector: the transaction starts when the cable is
        plugged, else the connector waits for it (Preparing); refused where a reservation for
        someone else holds the connector."""
        if not self._free(connector, id_tag, parent, now):
            logger.info("idTag %s cannot use connector %d now", id_tag, connector.id)
            return []
        reservation = self._reservation_used(connector, id_tag, parent)
        connector.authorized = Authorized(
            id_tag, parent, now, reservation.id if reservation is not None else None, profile
        )
        if connector.plugged:
            return self._start(connector, now)
        return self._sync_status(now)

    def _free(
        self, connector: ConnectorState, id_tag: str, parent: str | None, now: datetime
    ) -> bool:
        """True when a driver with this idTag (and parent) may use the connector now: no
        transaction, no one else waiting there, usable, and no reservation it breaks."""
        if connector.transaction is not None or self._status(connector, now) in (
            "Unavailable",
            "Faulted",
        ):
            return False
        if connector.authorized is not None and connector.authorized.id_tag != id_tag:
            return False
        own = self._reservation_on(connector.id)
        if own is not None:
            return own.admits(id_tag, parent)
        anywhere = [
            r
            for r in self.reservations.values()
            if r.connector_id == 0 and not r.admits(id_tag, parent)
        ]
        if not anywhere:
            return True
        others = [
            c
            for c in self.connectors.values()
            if c is not connector and self._status(c, now) == "Available"
        ]
        return len(others) >= len(anywhere)  # a connector stays free for each reservation

    def _reservation_on(self, connector_id: int) -> Reservation | None:
        return next((r for r in self.reservations.values() if r.connector_id == connector_id), None)

    def _reservation_used(
        self, connector: ConnectorState, id_tag: str, parent: str | None
    ) -> Reservation | None:
        """The reservation a driver uses at a connector: the connector's, or one of connector 0
        made for them."""
        own = self._reservation_on(connector.id)
        if own is not None and own.admits(id_tag, parent):
            return own
        return next(
            (
                r
                for r in self.reservations.values()
                if r.connector_id == 0 and r.admits(id_tag, parent)
            ),
            None,
        )

    def _start(self, connector: ConnectorState, now: datetime) -> list[Outgoing]:
        """StartTransaction (§4.8) for the driver authorized at the connector: meterStart, the
        reservation it ends, the TxProfile of a remote start."""
        driver = connector.authorized
        assert driver is not None
        connector.authorized = None
        connector.finishing = False
        tx = TransactionState(
            connector.id,
            driver.id_tag,
            now,
            int(connector.meter.energy_wh),
            parent_id_tag=driver.parent_id_tag,
            reservation_id=driver.reservation_id,
        )
        if driver.reservation_id is not None:
            self.reservations.pop(driver.reservation_id, None)
        connector.transaction = tx
        if driver.profile is not None:
            self.profiles.install(driver.profile)
        interval = self.configuration.integer("MeterValueSampleInterval", 0)
        if interval > 0:
            tx.next_sample = now + timedelta(seconds=interval)
        measurands = self.configuration.items("StopTxnSampledData", (_ENERGY,))
        self._keep(tx, self._sample(connector, measurands, "Transaction.Begin", now))
        payload: Payload = {
            "connectorId": connector.id,
            "idTag": driver.id_tag,
            "meterStart": tx.meter_start,
            "timestamp": wire_time(now),
        }
        if driver.reservation_id is not None and "reservationId" in self.shapes.start_fields:
            payload["reservationId"] = driver.reservation_id
        self._starting.append(tx)
        return [Outgoing("StartTransaction", payload), *self._sync_status(now)]

    def _end(
        self,
        connector: ConnectorState,
        reason: str,
        now: datetime,
        id_tag: str | None = None,
        after: bool = True,
    ) -> list[Outgoing]:
        """StopTransaction (§4.10) with meterStop, the reason (1.6) and the transactionData of
        StopTxnSampledData / StopTxnAlignedData; its TxProfiles go; then, unless `after` is
        False, whatever waited for the connector to be idle (§5.2)."""
        tx = connector.transaction
        assert tx is not None
        connector.transaction = None
        connector.finishing = connector.plugged
        self.profiles.end_transaction(connector.id)
        measurands = self.configuration.items("StopTxnSampledData", (_ENERGY,))
        self._keep(tx, self._sample(connector, measurands, "Transaction.End", now))
        stop: Payload = {"meterStop": int(connector.meter.energy_wh), "timestamp": wire_time(now)}
        if id_tag is not None:
            stop["idTag"] = id_tag
        if reason in self.shapes.stop_reasons:
            stop["reason"] = reason
        data = self._transaction_data(tx)
        if data:
            stop["transactionData"] = data
        out: list[Outgoing] = []
        if tx.transaction_id is None:
            tx.held_stop = stop  # sent once StartTransaction.conf gives the id
        else:
            out.append(Outgoing("StopTransaction", {"transactionId": tx.transaction_id, **stop}))
        if after:
            out += self._after_idle(connector, now)
        return out

    def _after_idle(self, connector: ConnectorState, now: datetime) -> list[Outgoing]:
        """Apply what was Scheduled until the connector (or every connector) is idle (§5.2)."""
        if connector.pending_operative is not None:
            connector.operative, connector.pending_operative = connector.pending_operative, None
        idle = all(c.transaction is None for c in self.connectors.values())
        if idle and self.pending_operative is not None:
            self.operative, self.pending_operative = self.pending_operative, None
        return self._sync_status(now)

    def _take_pending(self, id_tag: Any) -> _Pending | None:
        """The Authorize waiting for this idTag's answer, removed from the waiting list."""
        for i, pending in enumerate(self._pending):
            if pending.id_tag == id_tag:
                return self._pending.pop(i)
        return None

    def _take_starting(self, request: Payload) -> TransactionState | None:
        """The transaction a StartTransaction request started, removed from those waiting for
        their id."""
        for i, tx in enumerate(self._starting):
            if (
                tx.connector_id == request.get("connectorId")
                and tx.id_tag == request.get("idTag")
                and wire_time(tx.started_at) == request.get("timestamp")
            ):
                return self._starting.pop(i)
        return None

    def _remember(self, id_tag: Any, info: Any) -> None:
        """Keep an idTagInfo the Central System gave in the authorization cache (§3.5.1)."""
        if isinstance(id_tag, str) and isinstance(info, dict) and "status" in info:
            if self.configuration.flag("AuthorizationCacheEnabled", True):
                self.auth_cache[id_tag] = info

    def _known(self, id_tag: str, now: datetime) -> Payload | None:
        """The idTagInfo of an idTag the local list (first, §3.5.3) or the cache knows as
        Accepted and not expired."""
        candidates = []
        if self.configuration.flag("LocalAuthListEnabled", True):
            candidates.append(self.local_list.get(id_tag))
        if self.configuration.flag("AuthorizationCacheEnabled", True):
            candidates.append(self.auth_cache.get(id_tag))
        for info in candidates:
            if info is None:
                continue
            expiry = info.get("expiryDate")
            if info.get("status") == "Accepted" and (expiry is None or parse_time(expiry) > now):
                return info
            return None  # the list's verdict stands
        return None

    def _feature(self, profile: str) -> bool:
        """True when SupportedFeatureProfiles lists `profile` (always, for a version without
        the key)."""
        listed = self.configuration.items("SupportedFeatureProfiles", (profile,))
        return profile in listed

    # --- meter ---------------------------------------------------------------------------------

    def _offered_w(self, connector: ConnectorState, moment: datetime) -> float:
        """What the connector may deliver at `moment`, in W: the hardware as the charging
        profiles limit it."""
        tx = connector.transaction
        if not self.profiles.profiles:
            return self.info.max_power_w
        limit = self.profiles.limit_at(
            moment,
            connector.id,
            tx.started_at if tx is not None else moment,
            "W",
            self._electrical(),
            transaction=tx is not None,
            transaction_id=tx.transaction_id if tx is not None else None,
            hardware=self.info.max_current_a,
        )
        return max(0.0, limit.value)

    def _power_w(self, connector: ConnectorState, moment: datetime) -> float:
        """The power the connector delivers at `moment`, in W."""
        tx = connector.transaction
        if tx is None or tx.suspended or not connector.plugged or connector.faulted:
            return 0.0
        return self._offered_w(connector, moment)

    def _advance(self, now: datetime) -> None:
        """Run every meter up to `now` at the power it had when it was last read (a clock that
        goes back changes nothing)."""
        wire_time(now)  # refuses a naive datetime at once
        for connector in self.connectors.values():
            since = connector.meter.read_at
            power = (
                0.0 if since is None or now <= since else self._mean_power_w(connector, since, now)
            )
            connector.meter.run(now, power)

    def _mean_power_w(self, connector: ConnectorState, since: datetime, now: datetime) -> float:
        """The mean power from `since` to `now`, in W, following the limits of the charging
        profiles as they change in between."""
        tx = connector.transaction
        if tx is None or tx.suspended or not connector.plugged or connector.faulted:
            return 0.0
        if not self.profiles.profiles:
            return self.info.max_power_w
        seconds = (now - since).total_seconds()
        _, periods = self.profiles.composite(
            connector.id,
            since,
            math.ceil(seconds),
            "W",
            tx.started_at,
            self._electrical(),
            transaction=True,
            transaction_id=tx.transaction_id,
            hardware=self.info.max_current_a,
        )
        starts = [p["startPeriod"] for p in periods]
        ends = [*starts[1:], seconds]
        energy = sum(
            p["limit"] * (min(end, seconds) - start)
            for p, start, end in zip(periods, starts, ends, strict=True)
            if start < seconds
        )
        return max(0.0, energy / seconds)

    def _sample(
        self, connector: ConnectorState, measurands: list[str], context: str, now: datetime
    ) -> _Sample | None:
        """A sample of the measurands the meter gives (and the version knows), or None."""
        power = self._power_w(connector, now)
        values = connector.meter.readings(power, self.info.voltage, self.info.phases)
        offered = self._offered_w(connector, now)
        values["Power.Offered"] = round(offered, 3)
        values["Current.Offered"] = round(offered / (self.info.voltage * self.info.phases), 3)
        known = self.shapes.measurands
        readings = tuple(
            _Reading(m, values[m], context)
            for m in measurands
            if m in values and (m in known or (not known and m == _ENERGY))
        )
        return _Sample(now, readings) if readings else None

    def _keep(self, tx: TransactionState, sample: _Sample | None) -> None:
        """Keep a sample for transactionData, dropping every other intermediate one when too
        many are kept."""
        if sample is None:
            return
        tx.data.append(sample)
        if len(tx.data) > MAX_TRANSACTION_SAMPLES:
            first, *middle, last = tx.data
            tx.data = [first, *middle[1::2], last]

    def _periodic_sample(
        self, connector: ConnectorState, tx: TransactionState, now: datetime
    ) -> list[Outgoing]:
        """MeterValues of MeterValuesSampledData (Sample.Periodic) and a StopTxnSampledData
        sample kept for the end (§3.16.1)."""
        config = self.configuration
        sampled = config.items("MeterValuesSampledData", (_ENERGY,))
        self._keep(
            tx, self._sample(connector, config.items("StopTxnSampledData", ()), _PERIODIC, now)
        )
        sample = self._sample(connector, sampled, _PERIODIC, now)
        return [self._meter_values(connector, [sample])] if sample is not None else []

    def _aligned_data(self, now: datetime) -> list[Outgoing]:
        """Clock-aligned meter values every ClockAlignedDataInterval seconds (§3.16.2):
        MeterValues of MeterValuesAlignedData on every connector, and StopTxnAlignedData kept
        for the transactions' ends."""
        config = self.configuration
        interval = config.integer("ClockAlignedDataInterval", 0)
        if interval <= 0:
            self._aligned_slot = None
            return []
        slot = int(now.timestamp() // interval)
        previous, self._aligned_slot = self._aligned_slot, slot
        if previous is None or slot <= previous:
            return []
        at = datetime.fromtimestamp(slot * interval, timezone.utc)
        aligned = config.items("MeterValuesAlignedData", (_ENERGY,))
        kept = config.items("StopTxnAlignedData", ())
        out: list[Outgoing] = []
        for connector in self.connectors.values():
            tx = connector.transaction
            if tx is not None:
                self._keep(tx, self._sample(connector, kept, "Sample.Clock", at))
            sample = self._sample(connector, aligned, "Sample.Clock", at)
            if sample is not None:
                out.append(self._meter_values(connector, [sample]))
        return out

    # --- payloads in the version's form ---------------------------------------------------------

    def _render(self, sample: _Sample) -> Payload:
        """A sample as the version's MeterValue (1.6), MeterValue of 1.5 or 1.2 integer value."""
        shapes = self.shapes
        if shapes.meter_form == "integer":
            energy = next(r.value for r in sample.readings if r.measurand == _ENERGY)
            return {"timestamp": wire_time(sample.at), "value": int(energy)}
        values = []
        for reading in sample.readings:
            value: Payload = {"value": _number(reading.value)}
            if reading.context in shapes.contexts:
                value["context"] = reading.context
            value["measurand"] = reading.measurand
            unit = _OFFERED.get(reading.measurand) or METER_UNITS[reading.measurand]
            if unit not in shapes.units:
                unit = _UNIT_ALIASES.get(unit, unit)
            if unit in shapes.units:
                value["unit"] = unit
            values.append(value)
        key = "sampledValue" if shapes.meter_form == "sampled" else "values"
        return {"timestamp": wire_time(sample.at), key: values}

    def _meter_values(self, connector: ConnectorState, samples: list[_Sample]) -> Outgoing:
        """MeterValues (§4.7) of a connector, with the transaction's id once known."""
        shapes = self.shapes
        payload: Payload = {"connectorId": connector.id}
        tx = connector.transaction
        if (
            tx is not None
            and tx.transaction_id is not None
            and "transactionId" in shapes.meter_fields
        ):
            payload["transactionId"] = tx.transaction_id
        key = "meterValue" if shapes.meter_form == "sampled" else "values"
        rendered = [self._render(s) for s in samples if self._renders(s)]
        if rendered or key == "meterValue":
            payload[key] = rendered
        return Outgoing("MeterValues", payload)

    def _renders(self, sample: _Sample) -> bool:
        """False for a sample the 1.2 form cannot carry (no energy reading)."""
        return self.shapes.meter_form != "integer" or any(
            r.measurand == _ENERGY for r in sample.readings
        )

    def _transaction_data(self, tx: TransactionState) -> list[Payload]:
        """StopTransaction's transactionData in the version's form (none in 1.2)."""
        form = self.shapes.stop_data_form
        samples = [self._render(s) for s in tx.data if self._renders(s)]
        if form is None or not samples:
            return []
        if form == "wrapped":
            return [{"values": samples}]
        return samples

    def _boot_notification(self) -> Outgoing:
        """BootNotification.req describing this Charge Point (§6.4)."""
        info = self.info
        payload: Payload = {"chargePointVendor": info.vendor, "chargePointModel": info.model}
        optional = {
            "chargePointSerialNumber": info.serial_number,
            "chargeBoxSerialNumber": info.charge_box_serial_number,
            "firmwareVersion": info.firmware_version,
            "iccid": info.iccid,
            "imsi": info.imsi,
            "meterType": info.meter_type,
            "meterSerialNumber": info.meter_serial_number,
        }
        payload.update((k, v) for k, v in optional.items() if v is not None)
        return Outgoing("BootNotification", payload)

    # --- status ---------------------------------------------------------------------------------

    def _status(self, connector: ConnectorState, now: datetime) -> str:
        """ChargePointStatus of a connector in 1.6 terms (§4.9)."""
        if connector.faulted:
            return "Faulted"
        tx = connector.transaction
        if tx is not None:
            if not connector.plugged:
                return "SuspendedEV"
            if tx.suspended or self._offered_w(connector, now) <= 0:
                return "SuspendedEVSE"
            return "Charging"
        if not (self.operative and connector.operative):
            return "Unavailable"
        if connector.finishing:
            return "Finishing"
        if connector.plugged or connector.authorized is not None:
            return "Preparing"
        if self._reservation_on(connector.id) is not None:
            return "Reserved"
        return "Available"

    def _main_status(self) -> str:
        """The status of connector 0, the Charge Point itself."""
        return "Available" if self.operative else "Unavailable"

    def _wire_status(self, status: str) -> str:
        """A 1.6 status as the version says it (1.2/1.5: Occupied for a connector in use)."""
        known = self.shapes.statuses
        if status in known:
            return status
        return "Occupied" if status in _IN_USE else "Available"

    def _status_notification(self, connector_id: int, now: datetime) -> Outgoing:
        """StatusNotification.req of connector `connector_id` (0: the Charge Point)."""
        connector = self.connectors.get(connector_id)
        status = self.connector_status(connector_id, now)
        code = "NoError"
        if connector is not None and connector.faulted:
            codes = self.shapes.error_codes
            code = next(
                (c for c in (connector.error_code, "OtherError", "Mode3Error") if c in codes),
                "NoError",
            )
        payload: Payload = {"connectorId": connector_id, "errorCode": code, "status": status}
        if "timestamp" in self.shapes.status_fields:
            payload["timestamp"] = wire_time(now)
        return Outgoing("StatusNotification", payload)

    def _sync_status(self, now: datetime, force: bool = False) -> list[Outgoing]:
        """StatusNotifications of the Charge Point and the connectors whose status changed since
        last reported (all of them when forced)."""
        out = []
        for connector_id in (0, *self.connectors):
            status = self.connector_status(connector_id, now)
            if force or self._reported.get(connector_id, "Available") != status:
                self._reported[connector_id] = status
                out.append(self._status_notification(connector_id, now))
        return out

    def _connector(self, connector_id: int) -> ConnectorState:
        """The connector of that id; StationError lists the ids otherwise."""
        connector = self.connectors.get(connector_id)
        if connector is None:
            known = ", ".join(str(i) for i in self.connectors)
            raise StationError(f"no connector {connector_id}: this Charge Point has {known}")
        return connector


_ENERGY = "Energy.Active.Import.Register"
_PERIODIC = "Sample.Periodic"


def _number(value: float) -> str:
    """A reading as SampledValue's value text: at most three decimals, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
