"""CBXS automatic mode: the Charge Point behaves like a real charge box.

It boots when loaded, keeps its connectors' state and a whitelist cache of id tags, sends
heartbeats at the interval the Central System gives, runs a whole transaction when a badge is
presented (Authorize → StartTransaction → MeterValues, then StopTransaction when the same
badge comes back; readings come from each connector's own meter, taken at the current time),
and obeys RemoteStartTransaction / RemoteStopTransaction, ClearCache, SendLocalList,
GetLocalListVersion, ChangeAvailability, GetDiagnostics and UpdateFirmware.

Commands it adds to the prompt:

    cache                           the whitelist cache
    connectors                      the state of each connector
    connector_liaison <id> <on|off> the link to a connector works / is cut
    identification <idTag>          present a badge (again to stop its transaction)

Port of the original's `cbxs-automatic-mode.js`; see docs/plugins.md for the bugs it fixes.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from dataclasses import dataclass
from typing import Any

from ocppsim.api import PluginApi

name = "CBXS automatic mode"
description = "A charge box with connectors and a whitelist that runs transactions by itself"
author = "ocppsim"
ocpp_version = "1.2, 1.5"
system = "cp"

PREFIX = "[CBXS] "
CONNECTORS = 2
ENERGY = "Energy.Active.Import.Register"
#: Energy a charging connector adds per second (Wh), so meter readings grow.
WH_PER_SECOND = 10
#: The prompt commands this plugin adds.
COMMANDS = ("cache", "connectors", "connector_liaison", "identification")


def now() -> str:
    """The current UTC time as OCPP writes it."""
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Connector:
    """One connector of the charge box."""

    connector_id: int
    liaison: bool = True  # the link to the connector works
    operative: bool = True  # ChangeAvailability
    id_tag: str | None = None  # badge of the transaction starting or running here
    transaction_id: int | None = None
    meter: int = 0  # Wh, the connector's own energy meter
    started_at: float = 0.0
    meter_start: int = 0  # the reading when its transaction started
    start_time: str = ""  # and when (OCPP time)

    @property
    def free(self) -> bool:
        return self.liaison and self.operative and self.id_tag is None

    def reading(self) -> int:
        """The meter now: what it showed, plus what the running transaction has charged."""
        if self.transaction_id is None:
            return self.meter
        return self.meter + round((time.monotonic() - self.started_at) * WH_PER_SECOND)

    def status(self) -> str:
        if not self.liaison:
            return "Faulted"
        if self.id_tag is not None:
            return "Occupied"
        return "Available" if self.operative else "Unavailable"

    def describe(self) -> str:
        if self.transaction_id is not None:
            state = f"charging (transaction #{self.transaction_id}, idTag {self.id_tag})"
        elif self.id_tag is not None:
            state = f"starting a transaction for {self.id_tag}"
        else:
            state = "not charging"
        return (
            f"Connector #{self.connector_id} - status: {self.status()}, {state}, "
            f"liaison {'on' if self.liaison else 'off'}, meter {self.reading()} Wh"
        )


class ChargeBox:
    """The state of the simulated charge box and what it does on each event."""

    def __init__(self, api: PluginApi):
        self.api = api
        self.connectors = {i: Connector(i) for i in range(1, CONNECTORS + 1)}
        self.whitelist: dict[str, dict[str, Any]] = {}  # idTag -> idTagInfo
        self.list_version = 0
        self.heartbeat_interval: float | None = None
        self.last_exchange = time.monotonic()
        self.heartbeat: asyncio.Task[Any] | None = None
        self.booting: asyncio.Task[Any] | None = None

    def start_boot(self) -> None:
        """BootNotification, unless one is already on its way."""
        if self.booting is None or self.booting.done():
            self.booting = self.api.spawn(self.boot(), "cbxs boot")

    def log(self, text: str) -> None:
        self.api.log(PREFIX + text)

    def free_connector(self, connector_id: int | None = None) -> Connector | None:
        if connector_id:
            connector = self.connectors.get(connector_id)
            return connector if connector is not None and connector.free else None
        return next((c for c in self.connectors.values() if c.free), None)

    # -- messages ---------------------------------------------------------------------------------

    async def boot(self) -> None:
        result = await self.api.cp.call("BootNotification")
        if result is None:
            return
        self.log(f"BootNotification: {result.get('status')}.")
        if result.get("status") != "Accepted":
            return
        interval = result.get("heartbeatInterval")
        if isinstance(interval, (int, float)) and interval > 0:
            self.heartbeat_interval = float(interval)
            if self.heartbeat is None or self.heartbeat.done():
                self.heartbeat = self.api.spawn(self.beat(), "cbxs heartbeat")
        for connector in self.connectors.values():
            await self.notify(connector)

    async def beat(self) -> None:
        """A Heartbeat after each `heartbeatInterval` seconds without any exchange."""
        while self.heartbeat_interval:
            due = self.last_exchange + self.heartbeat_interval
            if time.monotonic() < due:
                await asyncio.sleep(due - time.monotonic())
                continue
            self.last_exchange = time.monotonic()
            await self.api.cp.call("Heartbeat")

    async def notify(self, connector: Connector) -> None:
        status = connector.status()
        payload: dict[str, Any] = {"connectorId": connector.connector_id, "status": status}
        if status != "Faulted":
            payload["errorCode"] = "NoError"
        else:  # OtherError is 1.5 only; the liaison is the Mode 3 link in 1.2 terms
            payload["errorCode"] = "Mode3Error" if self.api.ocpp_version == "1.2" else "OtherError"
        await self.api.cp.call("StatusNotification", payload)

    async def authorize(self, id_tag: str) -> bool:
        """Whitelisted badges start at once; others are asked to the Central System."""
        cached = self.whitelist.get(id_tag)
        if cached is not None and cached.get("status") == "Accepted":
            self.log(f"{id_tag} found in the whitelist.")
            return True
        result = await self.api.cp.call("Authorize", {"idTag": id_tag})
        if result is None:
            self.log(f"{id_tag} could not be authorised.")
            return False
        return self.remember(id_tag, result.get("idTagInfo") or {})

    def remember(self, id_tag: str, info: dict[str, Any]) -> bool:
        """Cache an idTagInfo the Central System sent; True when the tag is accepted."""
        if info.get("status") == "Accepted":
            self.whitelist[id_tag] = info
            return True
        self.whitelist.pop(id_tag, None)
        self.log(f"{id_tag} refused: {info.get('status')}.")
        return False

    async def start(self, connector: Connector) -> None:
        """StartTransaction, then a first MeterValues."""
        id_tag = connector.id_tag
        assert id_tag is not None
        payload = {
            "connectorId": connector.connector_id,
            "idTag": id_tag,
            "timestamp": now(),
            "meterStart": connector.meter,
            "reservationId": None,  # no reservation: drop the default's field
        }
        result = await self.api.cp.call("StartTransaction", payload)
        if result is None or not self.remember(id_tag, result.get("idTagInfo") or {}):
            connector.id_tag = None
            self.log(f"Can't start a transaction on connector #{connector.connector_id}.")
            return
        connector.transaction_id = result.get("transactionId")
        connector.started_at = time.monotonic()
        connector.meter_start, connector.start_time = connector.meter, payload["timestamp"]
        self.log(
            f"Transaction #{connector.transaction_id} started on connector "
            f"#{connector.connector_id} for {id_tag}."
        )
        await self.notify(connector)
        await self.meter_values(connector)

    def sample(self, reading: int, at: str) -> dict[str, Any]:
        """One meter value: the register reading (Wh) at time `at`, in the version's form."""
        if self.api.ocpp_version == "1.2":
            return {"timestamp": at, "value": reading}
        register = {"value": str(reading), "unit": "Wh", "measurand": ENERGY}
        return {"timestamp": at, "values": [register]}

    async def meter_values(self, connector: Connector) -> None:
        """MeterValues with the connector's own reading, now."""
        payload: dict[str, Any] = {
            "connectorId": connector.connector_id,
            "values": [self.sample(connector.reading(), now())],
        }
        if self.api.ocpp_version != "1.2":  # 1.2 MeterValues has no transactionId
            payload["transactionId"] = connector.transaction_id
        await self.api.cp.call("MeterValues", payload)

    async def stop(self, connector: Connector, why: str) -> None:
        """StopTransaction with the meter reading; the connector is free again."""
        transaction_id, id_tag = connector.transaction_id, connector.id_tag
        if transaction_id is None:
            connector.id_tag = None
            return
        charged = max(1, connector.reading() - connector.meter)
        connector.meter += charged
        payload: dict[str, Any] = {
            "transactionId": transaction_id,
            "idTag": id_tag,
            "timestamp": now(),
            "meterStop": connector.meter,
        }
        if self.api.ocpp_version != "1.2":  # the readings of the transaction, not the defaults'
            begin = self.sample(connector.meter_start, connector.start_time)
            end = self.sample(connector.meter, payload["timestamp"])
            payload["transactionData"] = [{"values": [begin, end]}]
        connector.transaction_id = None
        connector.id_tag = None
        await self.api.cp.call("StopTransaction", payload)
        self.log(
            f"Transaction #{transaction_id} stopped on connector #{connector.connector_id} "
            f"({why}, {charged} Wh)."
        )
        await self.notify(connector)

    # -- what the user does -----------------------------------------------------------------------

    async def present(self, id_tag: str) -> None:
        """A badge at the reader: it stops its own transaction, else starts one."""
        for busy in self.connectors.values():
            if busy.id_tag == id_tag:
                await self.stop(busy, "badge presented again")
                return
        if not await self.authorize(id_tag):
            return
        connector = self.free_connector()
        if connector is None:
            self.log(f"No free connector for {id_tag}.")
            return
        connector.id_tag = id_tag
        await self.start(connector)

    async def set_liaison(self, connector: Connector, working: bool) -> None:
        """Cut or restore the link; one StatusNotification says the new status (a cut during a
        transaction stops it, and the StopTransaction's StatusNotification says Faulted)."""
        connector.liaison = working
        if not working and connector.transaction_id is not None:
            await self.stop(connector, "liaison lost")
            return
        await self.notify(connector)

    def command(self, line: str) -> bool:
        """The plugin's prompt commands; True when the line was one of them."""
        words = line.split(maxsplit=1)
        if not words or words[0] not in COMMANDS:
            return False  # not ours: the prompt runs it
        try:
            parsed = self.api.parse(line)
        except ValueError as exc:  # an unclosed quote or bracket
            self.log(f"Error: cannot read the line: {exc}.")
            return True
        args = parsed.arguments
        if parsed.command == "cache":
            self.log(f"Whitelist content: {json.dumps(self.whitelist, separators=(',', ':'))}")
            return True
        if parsed.command == "connectors":
            for each in self.connectors.values():
                self.log(each.describe())
            return True
        if parsed.command == "connector_liaison":
            connector: Connector | None = None
            if len(args) == 2 and args[0].isdigit() and args[1] in ("on", "off"):
                connector = self.connectors.get(int(args[0]))
            if connector is None:
                self.log(
                    "Usage: connector_liaison <id> <on|off> for simulating a connection "
                    f"interruption (connectors 1 to {CONNECTORS})."
                )
                return True
            if connector.liaison == (args[1] == "on"):
                self.log(
                    f"Connector #{connector.connector_id} liaison is already {args[1]}: "
                    "nothing changes."
                )
                return True
            connector.liaison = args[1] == "on"  # at once: the next command sees it
            self.api.spawn(self.set_liaison(connector, args[1] == "on"), "cbxs liaison")
            return True
        if parsed.command == "identification":
            if len(args) != 1:
                self.log("Usage: identification <idTag>")
                return True
            self.api.spawn(self.present(args[0]), "cbxs identification")
            return True
        return False

    # -- what the Central System asks -------------------------------------------------------------

    def remote_start(self, payload: dict[str, Any]) -> dict[str, Any]:
        connector = self.free_connector(payload.get("connectorId"))
        id_tag = payload.get("idTag")
        if connector is None or not id_tag:
            return {"status": "Rejected"}
        connector.id_tag = id_tag
        self.api.spawn(self.start(connector), "cbxs remote start")
        return {"status": "Accepted"}

    def remote_stop(self, payload: dict[str, Any]) -> dict[str, Any]:
        for connector in self.connectors.values():
            if connector.transaction_id is not None and connector.transaction_id == payload.get(
                "transactionId"
            ):
                self.api.spawn(self.stop(connector, "remote stop"), "cbxs remote stop")
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def clear_cache(self, payload: dict[str, Any]) -> dict[str, Any]:
        self.whitelist.clear()
        self.log("Whitelist cleared.")
        return {"status": "Accepted"}

    def send_local_list(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("updateType") == "Full":
            self.whitelist.clear()
        for entry in payload.get("localAuthorisationList") or []:
            info = entry.get("idTagInfo")
            if info:
                self.whitelist[entry["idTag"]] = info
            else:
                self.whitelist.pop(entry["idTag"], None)
        self.list_version = payload.get("listVersion", self.list_version)
        return {"status": "Accepted"}

    def change_availability(self, payload: dict[str, Any]) -> dict[str, Any]:
        wanted = payload.get("connectorId", 0)
        operative = payload.get("type") == "Operative"
        targets = [c for c in self.connectors.values() if wanted in (0, c.connector_id)]
        if not targets:
            return {"status": "Rejected"}
        busy = False
        for connector in targets:
            connector.operative = operative
            busy = busy or connector.transaction_id is not None
            if connector.id_tag is None:
                self.api.spawn(self.notify(connector), "cbxs availability")
        return {"status": "Scheduled" if busy and not operative else "Accepted"}

    def get_diagnostics(self, payload: dict[str, Any]) -> None:
        self.api.cp.call("DiagnosticsStatusNotification", {"status": "Uploaded"})

    def update_firmware(self, payload: dict[str, Any]) -> None:
        async def install() -> None:
            await self.api.cp.call("FirmwareStatusNotification", {"status": "Downloaded"})
            await self.api.cp.call("FirmwareStatusNotification", {"status": "Installed"})

        self.api.spawn(install(), "cbxs firmware")

    def idle(self) -> None:
        self.last_exchange = time.monotonic()


def on_load(api: PluginApi) -> None:
    """Register the charge box's handlers and boot it."""
    if api.system is None or "cp" not in api.system or len(api.cp.ids) != 1:
        api.log(PREFIX + "Error: this plugin needs one Charge Point Simulator to run.")
        api.unload()
        return
    box = ChargeBox(api)

    def on_connection(event: str, cp_id: str) -> None:
        if event == "connected":
            box.log("Connected to Central System.")
            box.start_boot()
        else:
            box.log("Disconnected from Central System.")

    api.on_connection_event(on_connection)
    api.on_command(box.command, COMMANDS)
    api.on_idle(box.idle)
    api.on_call("RemoteStartTransaction", box.remote_start)
    api.on_call("RemoteStopTransaction", box.remote_stop)
    api.on_call("ClearCache", box.clear_cache)
    api.on_call("ChangeAvailability", box.change_availability)
    api.on_call("GetDiagnostics", box.get_diagnostics)
    api.on_call("UpdateFirmware", box.update_firmware)
    if api.ocpp_version != "1.2":
        api.on_call("SendLocalList", box.send_local_list)
        api.on_call("GetLocalListVersion", lambda payload: {"listVersion": box.list_version})
    box.start_boot()
    box.log(f"Started with {CONNECTORS} connectors.")


def on_unload(api: PluginApi) -> None:
    """Say so (the heartbeat and the flows in progress stop with the plugin)."""
    api.log(PREFIX + "Stopped.")
