"""CBXS automatic mode: each Charge Point of the process behaves like a real charge box.

Each one boots when the plugin is loaded and whenever it connects, keeps its own connectors'
state and whitelist cache of id tags, sends heartbeats at its HeartbeatInterval (set by the
BootNotification answer, changed by ChangeConfiguration), runs a whole transaction when a
badge is presented (Authorize → StartTransaction → MeterValues, then StopTransaction when the
same badge comes back; readings come from each connector's own meter, taken at the current
time), and obeys RemoteStartTransaction / RemoteStopTransaction, ClearCache, SendLocalList,
GetLocalListVersion, ChangeAvailability, GetDiagnostics and UpdateFirmware.

Commands it adds to the prompt (`--id <cp>` names the charge point when several run):

    cache                           the whitelist cache
    connectors                      the state of each connector
    connector_liaison <id> <on|off> the link to a connector works / is cut
    identification <idTag>          present a badge (again to stop its transaction)

It drives Charge Points started with `--stateless` (which answer with default payloads, as
the original's did): a Charge Point with its own model already behaves like this and more (see
`badge`, `plug`, `state`), and the plugin leaves it alone.

Port of the original's `cbxs-automatic-mode.js`; see docs/plugins.md for the bugs it fixes.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ocppsim.api import ConfigurationView, Context, PluginApi

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


class Station:
    """One charge box: a Charge Point of the process with its own connectors, whitelist,
    boot state and heartbeat timer (no task of its own while nothing happens)."""

    def __init__(self, box: ChargeBox, cp_id: str):
        self.box = box
        self.api = box.api
        self.cp_id = cp_id
        self.version = box.api.cp.version(cp_id)
        self.connectors = {i: Connector(i) for i in range(1, CONNECTORS + 1)}
        self.whitelist: dict[str, dict[str, Any]] = {}  # idTag -> idTagInfo
        self.list_version = 0
        #: the Charge Point's configuration keys, known from the first exchange's context
        self.configuration: ConfigurationView | None = None
        self.boot_interval = 0.0  # heartbeatInterval of the accepted boot, until then
        self.booted = False
        self.last_exchange = 0.0  # loop time of the last exchange with the Central System
        self.timer: asyncio.TimerHandle | None = None
        self.booting: asyncio.Task[Any] | None = None

    def log(self, text: str) -> None:
        self.box.log(text, self.cp_id)

    async def call(self, action: str, payload: dict[str, Any] | None = None) -> Any:
        """This Charge Point sends `action`; the result payload, or None (the error is logged)."""
        return await self.api.cp.call(action, payload, self.cp_id)

    def free_connector(self, connector_id: int | None = None) -> Connector | None:
        if connector_id:
            connector = self.connectors.get(connector_id)
            return connector if connector is not None and connector.free else None
        return next((c for c in self.connectors.values() if c.free), None)

    # -- link and heartbeat -----------------------------------------------------------------------

    def start_boot(self) -> None:
        """BootNotification, unless one is already on its way."""
        if self.booting is None or self.booting.done():
            self.booting = self.api.spawn(self.boot(), "cbxs boot")

    def disconnected(self) -> None:
        """No heartbeat until the next accepted boot."""
        self.booted = False
        self.disarm()

    def exchanged(self, ctx: Context) -> None:
        """An exchange with the Central System is over: the heartbeat waits again, at the
        interval the configuration now says (a ChangeConfiguration may have changed it)."""
        self.configuration = ctx.configuration
        self.last_exchange = asyncio.get_running_loop().time()
        self.arm()

    def interval(self) -> float:
        """Seconds between heartbeats: the Charge Point's HeartbeatInterval (0: none)."""
        if not self.booted:
            return 0.0
        value = self.configuration.get("HeartbeatInterval") if self.configuration else None
        if value is not None and value.isdigit():
            return float(value)
        return self.boot_interval

    def arm(self) -> None:
        """Schedule the next Heartbeat `interval` seconds after the last exchange: one timer,
        moved only when it would fire too late (when it fires early it looks again)."""
        interval = self.interval()
        if interval <= 0 or self.box.closed:
            self.disarm()
            return
        due = self.last_exchange + interval
        if self.timer is not None and self.timer.when() <= due:
            return
        self.disarm()
        self.timer = asyncio.get_running_loop().call_at(due, self.fire)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def fire(self) -> None:
        """The heartbeat timer: a Heartbeat when the interval passed without any exchange."""
        self.timer = None
        interval = self.interval()
        now = asyncio.get_running_loop().time()
        if interval > 0 and self.last_exchange + interval > now:
            self.arm()  # an exchange happened meanwhile, or the interval grew
        elif interval > 0:
            self.last_exchange = now
            self.api.spawn(self.heartbeat(), "cbxs heartbeat")

    async def heartbeat(self) -> None:
        await self.call("Heartbeat")
        self.arm()  # also when it got no answer: try again an interval later

    # -- messages ---------------------------------------------------------------------------------

    async def boot(self) -> None:
        result = await self.call("BootNotification")
        if result is None:
            return
        self.log(f"BootNotification: {result.get('status')}.")
        if result.get("status") != "Accepted":
            return
        interval = result.get("heartbeatInterval")
        self.boot_interval = float(interval) if isinstance(interval, (int, float)) else 0.0
        self.booted = True
        self.last_exchange = asyncio.get_running_loop().time()
        self.arm()
        for connector in self.connectors.values():
            await self.notify(connector)

    async def notify(self, connector: Connector) -> None:
        status = connector.status()
        payload: dict[str, Any] = {"connectorId": connector.connector_id, "status": status}
        if status != "Faulted":
            payload["errorCode"] = "NoError"
        else:  # OtherError is 1.5 only; the liaison is the Mode 3 link in 1.2 terms
            payload["errorCode"] = "Mode3Error" if self.version == "1.2" else "OtherError"
        await self.call("StatusNotification", payload)

    async def authorize(self, id_tag: str) -> bool:
        """Whitelisted badges start at once; others are asked to the Central System."""
        cached = self.whitelist.get(id_tag)
        if cached is not None and cached.get("status") == "Accepted":
            self.log(f"{id_tag} found in the whitelist.")
            return True
        result = await self.call("Authorize", {"idTag": id_tag})
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
        payload: dict[str, Any] = {
            "connectorId": connector.connector_id,
            "idTag": id_tag,
            "timestamp": now(),
            "meterStart": connector.meter,
            "reservationId": None,  # no reservation: drop the default's field
        }
        result = await self.call("StartTransaction", payload)
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
        if self.version == "1.2":
            return {"timestamp": at, "value": reading}
        register = {"value": str(reading), "unit": "Wh", "measurand": ENERGY}
        return {"timestamp": at, "values": [register]}

    async def meter_values(self, connector: Connector) -> None:
        """MeterValues with the connector's own reading, now."""
        payload: dict[str, Any] = {
            "connectorId": connector.connector_id,
            "values": [self.sample(connector.reading(), now())],
        }
        if self.version != "1.2":  # 1.2 MeterValues has no transactionId
            payload["transactionId"] = connector.transaction_id
        await self.call("MeterValues", payload)

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
        if self.version != "1.2":  # the readings of the transaction, not the defaults'
            begin = self.sample(connector.meter_start, connector.start_time)
            end = self.sample(connector.meter, payload["timestamp"])
            payload["transactionData"] = [{"values": [begin, end]}]
        connector.transaction_id = None
        connector.id_tag = None
        await self.call("StopTransaction", payload)
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

    def command(self, command: str, args: list[str]) -> None:
        """Run one of the plugin's prompt commands for this charge box."""
        if command == "cache":
            self.log(f"Whitelist content: {json.dumps(self.whitelist, separators=(',', ':'))}")
        elif command == "connectors":
            for each in self.connectors.values():
                self.log(each.describe())
        elif command == "connector_liaison":
            connector: Connector | None = None
            if len(args) == 2 and args[0].isdigit() and args[1] in ("on", "off"):
                connector = self.connectors.get(int(args[0]))
            if connector is None:
                self.log(
                    f"Usage: {USAGE[command]} for simulating a connection interruption "
                    f"(connectors 1 to {CONNECTORS})."
                )
            elif connector.liaison == (args[1] == "on"):
                self.log(
                    f"Connector #{connector.connector_id} liaison is already {args[1]}: "
                    "nothing changes."
                )
            else:
                connector.liaison = args[1] == "on"  # at once: the next command sees it
                self.api.spawn(self.set_liaison(connector, args[1] == "on"), "cbxs liaison")
        elif command == "identification":
            if len(args) != 1:
                self.log(f"Usage: {USAGE[command]}")
            else:
                self.api.spawn(self.present(args[0]), "cbxs identification")

    # -- what the Central System asks -------------------------------------------------------------

    def remote_start(self, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
        connector = self.free_connector(payload.get("connectorId"))
        id_tag = payload.get("idTag")
        if connector is None or not id_tag:
            return {"status": "Rejected"}
        connector.id_tag = id_tag
        self.api.spawn(self.start(connector), "cbxs remote start")
        return {"status": "Accepted"}

    def remote_stop(self, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
        for connector in self.connectors.values():
            if connector.transaction_id is not None and connector.transaction_id == payload.get(
                "transactionId"
            ):
                self.api.spawn(self.stop(connector, "remote stop"), "cbxs remote stop")
                return {"status": "Accepted"}
        return {"status": "Rejected"}

    def clear_cache(self, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
        self.whitelist.clear()
        self.log("Whitelist cleared.")
        return {"status": "Accepted"}

    def send_local_list(self, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
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

    def local_list_version(self, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
        return {"listVersion": self.list_version}

    def change_availability(self, payload: dict[str, Any], ctx: Context) -> dict[str, Any]:
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

    def get_diagnostics(self, payload: dict[str, Any], ctx: Context) -> None:
        ctx.call("DiagnosticsStatusNotification", {"status": "Uploaded"})

    def update_firmware(self, payload: dict[str, Any], ctx: Context) -> None:
        async def install() -> None:
            await ctx.call("FirmwareStatusNotification", {"status": "Downloaded"})
            await ctx.call("FirmwareStatusNotification", {"status": "Installed"})

        self.api.spawn(install(), "cbxs firmware")


#: `<command> …` as the usage lines show it.
USAGE = {
    "cache": "cache [--id <cp>]",
    "connectors": "connectors [--id <cp>]",
    "connector_liaison": "connector_liaison <id> <on|off> [--id <cp>]",
    "identification": "identification <idTag> [--id <cp>]",
}
#: How many charge point ids an error line lists.
LISTED_IDS = 10


class ChargeBox:
    """The plugin: one `Station` per Charge Point of the process, and the prompt commands."""

    def __init__(self, api: PluginApi):
        self.api = api
        self.stations: dict[str, Station] = {}
        self.closed = False

    def log(self, text: str, cp_id: str | None = None) -> None:
        """`[CBXS] text`, naming the charge point when several run."""
        several = cp_id is not None and len(self.api.cp.ids) > 1
        self.api.log(PREFIX + (f"cp#{cp_id}: " if several else "") + text)

    def station(self, cp_id: str) -> Station:
        """The charge box of Charge Point `cp_id` (made on first use)."""
        station = self.stations.get(cp_id)
        if station is None:
            station = self.stations[cp_id] = Station(self, cp_id)
        return station

    def running(self) -> list[str]:
        """The ids of the Charge Points that run now (the boxes of stopped ones go)."""
        ids = self.api.cp.ids
        for gone in set(self.stations) - set(ids):
            self.stations.pop(gone).disarm()
        return ids

    def drives(self, cp_id: str) -> bool:
        """True for a Charge Point this plugin plays: a stateless one (one with a model of its
        own behaves by itself)."""
        try:
            return self.api.cp.model(cp_id) is None
        except Exception:  # a Charge Point that just stopped
            return False

    def close(self) -> None:
        """Unloaded: no more heartbeats."""
        self.closed = True
        for station in self.stations.values():
            station.disarm()

    def route(self, method: Callable[[Station, dict[str, Any], Context], Any]) -> Any:
        """An `on_call` handler that hands the CALL to the box of the CP it came to."""

        def handler(payload: dict[str, Any], ctx: Context) -> Any:
            if not self.drives(ctx.charge_point_id):
                return None  # its model answers
            return method(self.station(ctx.charge_point_id), payload, ctx)

        return handler

    def connection(self, event: str, cp_id: str) -> None:
        if not self.drives(cp_id):
            return
        station = self.station(cp_id)
        if event == "connected":
            station.log("Connected to Central System.")
            station.start_boot()
        else:
            station.log("Disconnected from Central System.")
            station.disconnected()

    def exchanged(self, ctx: Context) -> None:
        if self.drives(ctx.charge_point_id):
            self.station(ctx.charge_point_id).exchanged(ctx)

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
        station = self.target(parsed)
        if station is not None:
            station.command(parsed.command, parsed.arguments)
        return True

    def target(self, parsed: Any) -> Station | None:
        """The box `--id` names, else the only one; None after an error line saying why."""
        options = dict(parsed.options)
        wanted = options.pop("--id", None)
        if options:
            self.log(
                f"Error: unknown option `{next(iter(options))}'; usage: {USAGE[parsed.command]}"
            )
            return None
        if "--id" in parsed.options and not wanted:
            self.log(f"Error: --id needs a charge point id; usage: {USAGE[parsed.command]}")
            return None
        running = self.running()
        chosen = wanted if wanted is not None else running[0] if len(running) == 1 else None
        if chosen is not None and chosen in running and not self.drives(chosen):
            self.log(
                f"Error: charge point #{chosen} runs its own model: use badge, plug, unplug and"
                " state (or start it with --stateless to run it as a CBXS box)."
            )
            return None
        if chosen is not None and chosen in running:
            return self.station(chosen)
        if not running:
            self.log("Error: no charge point runs: start one with start_cp <url> <id>.")
        elif wanted is None:
            self.log(
                f"Error: more than one charge point runs: use --id <id>; running: {_ids(running)}."
            )
        else:
            self.log(f"Error: charge point #{wanted} does not run; running: {_ids(running)}.")
        return None


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:LISTED_IDS])
    return shown + (f", … ({len(ids) - LISTED_IDS} more)" if len(ids) > LISTED_IDS else "")


#: The plugin's boxes, for `on_unload` (each load runs a fresh copy of this module).
BOX: ChargeBox | None = None


def on_load(api: PluginApi) -> None:
    """Register the charge boxes' handlers and boot each Charge Point."""
    global BOX
    if api.system is None or "cp" not in api.system:
        api.log(
            PREFIX + "Error: this plugin needs a Charge Point Simulator to run: "
            "start one with start_cp first."
        )
        api.unload()
        return
    box = BOX = ChargeBox(api)
    api.on_connection_event(box.connection)
    api.on_command(box.command, COMMANDS)
    api.on_idle(box.exchanged)
    api.on_call("RemoteStartTransaction", box.route(Station.remote_start))
    api.on_call("RemoteStopTransaction", box.route(Station.remote_stop))
    api.on_call("ClearCache", box.route(Station.clear_cache))
    api.on_call("ChangeAvailability", box.route(Station.change_availability))
    api.on_call("GetDiagnostics", box.route(Station.get_diagnostics))
    api.on_call("UpdateFirmware", box.route(Station.update_firmware))
    # OCPP 1.5 only: a 1.2 Charge Point refuses them before any handler runs
    api.on_call("SendLocalList", box.route(Station.send_local_list))
    api.on_call("GetLocalListVersion", box.route(Station.local_list_version))
    driven = [cp_id for cp_id in box.running() if box.drives(cp_id)]
    for cp_id in driven:
        box.station(cp_id).start_boot()
    box.log(f"Started with {CONNECTORS} connectors" + _each(driven) + ".")
    modelled = [cp_id for cp_id in box.running() if not box.drives(cp_id)]
    if modelled:
        box.log(
            f"Left alone: {_ids(modelled)} (a Charge Point with its own model behaves by itself;"
            " start one with --stateless for this plugin to drive it)."
        )


def _each(ids: list[str]) -> str:
    return f" on each of {len(ids)} charge points ({_ids(ids)})" if len(ids) > 1 else ""


def on_unload(api: PluginApi) -> None:
    """Say so (the heartbeats and the flows in progress stop with the plugin)."""
    if BOX is not None:
        BOX.close()
    api.log(PREFIX + "Stopped.")
