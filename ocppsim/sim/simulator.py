"""Everything one ocppsim process simulates: at most one Central System and any number of
Charge Points, with the target selection rules of the prompt (SPEC §3)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any

from ocppsim.core import observe
from ocppsim.core.customise import apply_fields
from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import CallError, OcppSimError
from ocppsim.core.events import EventBus
from ocppsim.core.rpc import Send
from ocppsim.core.station import StationError
from ocppsim.core.versions import Service, get
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.log import ERROR, WARNING, LogConsumer
from ocppsim.sim.model import ModelDriver, describe
from ocppsim.sim.peer import CallFailed, CallTimeout, Peer
from ocppsim.sim.resources import Resources


class CommandError(OcppSimError):
    """A command that cannot run; its text is the error line shown at the prompt."""


#: How many ids an error line lists before it says how many more there are.
LISTED_IDS = 10


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:LISTED_IDS])
    return shown + (f", … ({len(ids) - LISTED_IDS} more)" if len(ids) > LISTED_IDS else "")


def several_connected(flag: str, ids: list[str]) -> CommandError:
    """The error of a command without `--id`/`--remote-id` when several CPs could be meant."""
    return CommandError(
        f"Error: more than one charge point is connected: use {flag} <id>; connected: {_ids(ids)}"
    )


def no_such(cp_id: str, which: str, ids: list[str]) -> CommandError:
    """The error for an id no charge point has; it lists the ids there are (`which`:
    `Running`, `Connected`)."""
    there = f"{which}: {_ids(ids)}." if ids else f"None is {which.lower()}."
    return CommandError(f"Error: charge point #{cp_id} does not exist. {there}")


def not_available(action: str, version: str) -> CommandError:
    return CommandError(
        f"Error: procedure `{action}' is not available for a OCPP {version} Charge Point Simulator"
    )


class Simulator:
    """The simulated systems of this process and the operations the prompt offers."""

    def __init__(self, *, variant: str | None = None):
        self.variant = variant
        self.central_system: Any = None
        self.charge_points: dict[str, Any] = {}
        self.cs_behaviour = Behaviour("cs", spawn=self.spawn)
        self.cp_behaviour = Behaviour("cp", spawn=self.spawn)
        #: what the simulators of this process do, as events; the log is a subscriber
        self.log = LogConsumer()
        self.bus = EventBus(self.log, *observe.subscribers())
        #: what they share: one HTTP client, the SOAP Charge Points' callback servers
        self.resources = Resources()
        self._tasks: set[asyncio.Task[Any]] = set()
        #: the recording under way (`--record`, `record start`), if any
        self.recorder: Any = None
        #: the monitor checking every frame of the peers (`--verdicts`, `verdicts on`), if any
        self.verdicts: Any = None
        self._stop_verdicts: Any = None
        #: the fleet started at the prompt (`start_fleet`), if any
        self.fleet: Any = None

    # -- lifecycle ------------------------------------------------------------------------------

    def spawn(self, coro: Any, name: str | None = None) -> asyncio.Task[Any]:
        """Run `coro` as a tracked task (cancelled on quit)."""
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float) -> None:
        """Wait (up to `timeout`) for commands still in flight."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        try:
            await self._shutdown()
        finally:
            self.stop_recording()

    async def _shutdown(self) -> None:
        if self.fleet is not None:
            await self.fleet.stop()
        charge_points = list(self.charge_points.values())
        stopped = await asyncio.gather(  # each stop is bounded: all at once
            *(cp.stop() for cp in charge_points), return_exceptions=True
        )
        for cp, outcome in zip(charge_points, stopped, strict=True):
            if isinstance(outcome, Exception):
                self.bus.notice(cp.speaker, f"Error: stop failed: {outcome!r}", ERROR)
        if self.central_system is not None:
            await self.central_system.stop()
        await self.resources.close()

    def add_central_system(self, cs: Any) -> None:
        if self.central_system is not None:
            raise CommandError("Central System already started.")
        self.central_system = cs

    def add_charge_point(self, cp: Any) -> None:
        """Register a Charge Point; it is forgotten again if its start fails for good."""
        cp_id: str = cp.charge_point_id
        if cp_id in self.charge_points:
            raise CommandError(f"Error: charge point #{cp_id} already exists.")
        self.charge_points[cp_id] = cp

        def forget() -> None:
            if self.charge_points.get(cp_id) is cp:
                del self.charge_points[cp_id]

        cp.on_gave_up = forget

    async def stop_charge_point(self, cp_id: str) -> None:
        """Close a Charge Point's link (or stop its retries) and forget it."""
        cp = self.charge_points.get(cp_id)
        if cp is None:
            raise no_such(cp_id, "Running", list(self.charge_points))
        del self.charge_points[cp_id]
        await cp.stop()
        self.bus.notice(cp.speaker, "Charge point stopped.")

    async def stop_central_system(self) -> None:
        """Close every connection and stop listening (the port is free again)."""
        cs = self.central_system
        if cs is None:
            raise CommandError("Error: no Central System is running.")
        try:
            await cs.stop()
        finally:
            self.central_system = None
        self.bus.notice(None, "CentralSystem stopped.")

    # -- target selection -----------------------------------------------------------------------

    def charge_point(self, cp_id: str | None) -> Any:
        """The local Charge Point `--id` names, else the only one, else the only connected one."""
        if cp_id is None:
            running = self.charge_points
            if len(running) == 1:
                return next(iter(running.values()))
            if not running:
                raise CommandError(
                    "Error: no charge point is running: start one with start_cp <url> <id>."
                )
            connected = [cp for cp in running.values() if cp.connected]
            if len(connected) == 1:
                return connected[0]
            if not connected:
                raise CommandError(
                    "Error: no charge point is connected: use --id <id>; running: "
                    + _ids(list(running))
                )
            raise several_connected("--id", [cp.charge_point_id for cp in connected])
        try:
            return self.charge_points[cp_id]
        except KeyError:
            raise no_such(cp_id, "Running", list(self.charge_points)) from None

    def model_driver(self, cp_id: str | None) -> ModelDriver:
        """What runs the model of a local Charge Point (`--id`, else the only one); an error
        for a stateless one, which has no charger to act at."""
        cp = self.charge_point(cp_id)
        if cp.driver is None:
            raise CommandError(
                f"Error: charge point #{cp.charge_point_id} is stateless (started with"
                " --stateless): it has no connectors to act on."
            )
        driver: ModelDriver = cp.driver
        return driver

    def at_charger(self, cp_id: str | None, event: str, *args: Any) -> ModelDriver:
        """What a person does at a local Charge Point: `badge`, `plug`, `unplug` or `faulted`
        (see ModelDriver); the CALLs it causes go out in the background. CommandError says
        why the Charge Point cannot take it."""
        driver = self.model_driver(cp_id)
        try:
            getattr(driver, event)(*args)
        except StationError as exc:
            speaker = self.charge_point(cp_id).speaker
            raise CommandError(f"Error: {speaker}: {exc}.") from exc
        return driver

    def describe(self, cp_id: str | None) -> str:
        """What `state` shows of a local Charge Point (a stateless one: its configuration)."""
        cp = self.charge_point(cp_id)
        link = "connected" if cp.connected else "not connected"
        if cp.driver is None:
            kind = "stateless Charge Point"
            lines = ["answers every CALL with the default payload (--stateless)"]
            interval = cp.configuration.get("HeartbeatInterval")
            if interval is not None:
                lines.append(f"configuration: HeartbeatInterval={interval}")
        else:
            kind = "Charging Station" if cp.driver.point_name == "EVSE" else "Charge Point"
            lines = describe(cp.driver.model, cp.driver.clock.now())
        title = f"{cp.speaker}: OCPP {cp.version} {kind}, {cp.transport}, {link}"
        return "\n".join([title, *(f"  {line}" for line in lines)])

    def remote_peer(self, remote_id: str | None) -> Peer:
        """The connected Charge Point `--remote-id` names, or the only one."""
        cs = self.central_system
        if cs is None:
            raise CommandError("Error: no Central System is running: start one with start_cs.")
        peers: dict[str, Peer] = cs.peers
        if remote_id is None:
            if len(peers) == 1:
                return next(iter(peers.values()))
            if not peers:
                raise CommandError("Error: no charge point is connected to the Central System.")
            raise several_connected("--remote-id", list(peers))
        try:
            return peers[remote_id]
        except KeyError:
            left = cs.departed.get(remote_id)
            if left is not None:
                at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(left))
                raise CommandError(
                    f"Error: charge point #{remote_id} is not connected (disconnected at {at})."
                ) from None
            raise no_such(remote_id, "Connected", list(peers)) from None

    # -- building CALLs ---------------------------------------------------------------------------

    def build_payload(
        self,
        version: str,
        service: Service,
        action: str,
        fields: list[tuple[str, Any]],
        variant: str | None = None,
    ) -> dict[str, Any]:
        """The default request of `action` (or the default of the SEND `action`, OCPP 2.1), in
        the sender's JSON form, with `fields` applied."""
        message = get(version).message_of(service, action)
        if message is None:
            raise not_available(action, version)
        payload = default_payload(version, message, variant)
        try:
            return apply_fields(version, message, payload, fields, variant)
        except OcppSimError as exc:
            raise CommandError(str(exc)) from exc

    async def cp_call(
        self,
        cp_id: str | None,
        action: str,
        fields: list[tuple[str, Any]] | None = None,
        payload: Any = None,
    ) -> Any:
        """A Charge Point sends `action` to its Central System."""
        cp = self.charge_point(cp_id)
        if payload is None:
            payload = self.build_payload(cp.version, "cs", action, fields or [], cp.variant)
        self._say_if_waiting(await self._ready(cp), action)
        return await self._call(cp.call(action, payload, validate=False, defaults=False), action)

    async def remote_call(
        self,
        remote_id: str | None,
        action: str,
        fields: list[tuple[str, Any]] | None = None,
        payload: Any = None,
    ) -> Any:
        """The Central System sends `action` to a connected Charge Point."""
        cs = self.central_system
        peer = self.remote_peer(remote_id)
        if payload is None:
            payload = self.build_payload(peer.version, "cp", action, fields or [], cs.variant)
        self._say_if_waiting(peer, action)
        call = cs.call(peer.charge_point_id, action, payload, validate=False, defaults=False)
        return await self._call(call, action)

    def _say_if_waiting(self, peer: Peer, action: str) -> None:
        """A command's CALL waits while another CALL of that side to that peer is unanswered
        (one at a time, OCPP-J §4.1.1), up to that CALL's timeout: say so, rather than seem
        to do nothing for half a minute."""
        out = next(iter(peer.session.pending.values()), None)
        if out is not None:
            self.bus.notice(
                peer.speaker,
                f"{action} to {peer.label} waits: {out.action} #{out.unique_id} is still"
                f" unanswered (one CALL at a time; it times out after {peer.timeout:g} s)",
            )

    async def _ready(self, cp: Any) -> Peer:
        try:
            peer: Peer = await cp.ready()
        except OcppSimError as exc:
            raise CommandError(f"Error: {exc}") from exc
        return peer

    async def _call(self, call: Coroutine[Any, Any, Any], action: str) -> Any:
        """The CALLRESULT's payload of a public `call`; None after a CALLERROR or a timeout
        (the log said so), an error line when the CALL could not go out or got no answer."""
        try:
            return await call
        except (CallError, CallTimeout):
            return None
        except CallFailed as exc:
            if exc.sent:
                raise CommandError(f"Error: {action}: no answer: {exc.reason}.") from exc
            raise CommandError(f"Error: {action} not sent: {exc.reason}.") from exc
        except OcppSimError as exc:
            raise CommandError(f"Error: {exc}") from exc

    async def cp_send(
        self,
        cp_id: str | None,
        action: str,
        fields: list[tuple[str, Any]] | None = None,
        payload: Any = None,
    ) -> Send:
        """A Charge Point sends the SEND `action` (OCPP 2.1) to its Central System."""
        cp = self.charge_point(cp_id)
        if payload is None:
            payload = self.build_payload(cp.version, "cs", action, fields or [], cp.variant)
        peer = await self._ready(cp)
        return await self._send(peer, action, payload)

    async def remote_send(
        self,
        remote_id: str | None,
        action: str,
        fields: list[tuple[str, Any]] | None = None,
        payload: Any = None,
    ) -> Send:
        """The Central System sends the SEND `action` (OCPP 2.1) to a connected Charge Point."""
        peer = self.remote_peer(remote_id)
        if payload is None:
            variant = self.central_system.variant
            payload = self.build_payload(peer.version, "cp", action, fields or [], variant)
        return await self._send(peer, action, payload)

    async def _send(self, peer: Peer, action: str, payload: Any) -> Send:
        try:
            return await peer.send(action, payload)
        except CallFailed as exc:
            raise CommandError(f"Error: {action} not sent: {exc.reason}.") from exc
        except OcppSimError as exc:  # the version has no SEND
            raise CommandError(f"Error: {exc}.") from exc

    async def cp_send_raw(self, cp_id: str | None, text: str, show_headers: bool) -> None:
        peer = await self._ready(self.charge_point(cp_id))
        await self._raw(peer, text, show_headers)

    async def remote_send_raw(self, remote_id: str | None, text: str, show_headers: bool) -> None:
        await self._raw(self.remote_peer(remote_id), text, show_headers)

    async def _raw(self, peer: Peer, text: str, show_headers: bool) -> None:
        try:
            await peer.send_raw(text, show_headers)
        except CallFailed as exc:
            raise CommandError(f"Error: {'no answer: ' if exc.sent else ''}{exc}") from exc
        except OcppSimError as exc:
            raise CommandError(f"Error: {exc}") from exc

    async def cp_ping(self, cp_id: str | None) -> None:
        peer = await self._ready(self.charge_point(cp_id))
        await self._ping(peer)

    async def remote_ping(self, remote_id: str | None) -> None:
        await self._ping(self.remote_peer(remote_id))

    # -- recording ------------------------------------------------------------------------------

    def version_of(self, speaker: str, peer: str) -> str | None:
        """The OCPP version of a link of this process (`cs`/`cp#<id>`), while it is up."""
        if speaker == "cs":
            cs = self.central_system
            found = cs.peers.get(peer[3:]) if cs is not None and peer.startswith("cp#") else None
            return found.version if found is not None else None
        cp = self.charge_points.get(speaker[3:])
        return str(cp.version) if cp is not None else None

    def start_recording(
        self, path: str, *, xml: bool = False, options: dict[str, Any] | None = None
    ) -> Any:
        """Record every frame of this process to `path` (JSON lines) from now on."""
        from ocppsim.sim.record import Recorder

        if self.recorder is not None:
            raise CommandError(
                f"Error: already recording to {self.recorder.path} (record stop stops it)."
            )
        try:
            recorder = Recorder(path, options=options, version_of=self.version_of, xml=xml)
        except OSError as exc:
            raise CommandError(f"Error: cannot record to {path}: {exc.strerror or exc}.") from None
        recorder.attach(self.bus)
        self.recorder = recorder
        return recorder

    def stop_recording(self) -> Any:
        """End the recording under way; the recorder, or None when there was none."""
        recorder, self.recorder = self.recorder, None
        if recorder is not None:
            recorder.close()
        return recorder

    # -- verdicts -------------------------------------------------------------------------------

    def start_verdicts(self, answer_timeout: float = 30.0) -> Any:
        """Check every frame of the peers from now on (ocppsim.check.monitor.Monitor); each
        finding is a line as it is made: `verdict FAIL boot: … — frame […]`."""
        from ocppsim.check.monitor import FAIL, Monitor

        if self.verdicts is not None:
            return self.verdicts

        def told(finding: Any) -> None:
            level = ERROR if finding.severity == FAIL else WARNING
            self.bus.notice(finding.speaker, f"verdict {finding.line()}", level)

        monitor = Monitor(
            answer_timeout=answer_timeout, on_finding=told, version_of=self.version_of
        )
        self._stop_verdicts = self.bus.subscribe(monitor)
        self.verdicts = monitor
        return monitor

    def stop_verdicts(self) -> Any:
        """Stop checking; the monitor that was checking (with its findings), or None."""
        monitor, self.verdicts = self.verdicts, None
        if self._stop_verdicts is not None:
            self._stop_verdicts()
            self._stop_verdicts = None
        return monitor

    # -- faults ---------------------------------------------------------------------------------

    def _fault_targets(
        self, cp_id: str | None, remote_id: str | None, every_cp: bool, all_cps: bool
    ) -> list[tuple[Any, str | None]]:
        """Where a fault goes: (a CentralSystem, the charge point id or None for every one),
        or (a ChargePoint, None). Without a target: the only simulator of the process."""
        cs = self.central_system
        if remote_id is not None or every_cp:
            if cs is None:
                raise CommandError("Error: no Central System is running: start one with start_cs.")
            return [(cs, remote_id)]
        if all_cps:
            if not self.charge_points:
                raise CommandError("Error: no charge point is running.")
            return [(cp, None) for cp in self.charge_points.values()]
        if cp_id is not None:
            return [(self.charge_point(cp_id), None)]
        if cs is not None and self.charge_points:
            raise CommandError(
                "Error: say which side injects it: --id <id> (a Charge Point of this process),"
                " --remote-id <id> or --cs (the Central System)."
            )
        if cs is not None:
            return [(cs, None)]
        return [(self.charge_point(None), None)]

    def fault(
        self,
        kind: str,
        *,
        times: int | None = None,
        action: str | None = None,
        options: dict[str, Any] | None = None,
        cp_id: str | None = None,
        remote_id: str | None = None,
        every_cp: bool = False,
        all_cps: bool = False,
        fraction: float | None = None,
    ) -> list[Any]:
        """Set a fault where the prompt's options say (FaultError says what is wrong); the
        faults set, one per simulator (`fraction` of the Charge Points with `all_cps`)."""
        from ocppsim.sim.faults import KINDS, NOW, FaultError, inject, inject_fraction

        targets = self._fault_targets(cp_id, remote_id, every_cp, all_cps)
        if fraction is not None:
            cps = [target for target, _ in targets]
            return inject_fraction(
                cps, fraction, kind, times=times, action=action, **(options or {})
            )
        now = KINDS[kind].acts_on == NOW if kind in KINDS else False
        for target, charge_point_id in targets:
            if now and charge_point_id is not None and charge_point_id not in target.peers:
                raise FaultError(f"charge point #{charge_point_id} is not connected")
            if now and target.speaker != "cs" and not target.connected and not all_cps:
                raise FaultError(f"{target.speaker} is not connected")
        return [
            inject(target, kind, charge_point_id, times=times, action=action, **(options or {}))
            if target.speaker == "cs"
            else inject(target, kind, times=times, action=action, **(options or {}))
            for target, charge_point_id in targets
        ]

    def clear_faults(
        self,
        kind: str | None = None,
        *,
        cp_id: str | None = None,
        remote_id: str | None = None,
        every_cp: bool = False,
        all_cps: bool = False,
    ) -> list[Any]:
        """Clear faults: of `kind` (every kind when None), where the options say (everywhere
        when none is given); the faults cleared."""
        from ocppsim.sim.faults import clear

        everywhere = cp_id is None and remote_id is None and not every_cp and not all_cps
        if everywhere:
            targets: list[tuple[Any, str | None]] = [
                (cp, None) for cp in self.charge_points.values()
            ]
            if self.central_system is not None:
                targets.append((self.central_system, None))
        else:
            targets = self._fault_targets(cp_id, remote_id, every_cp, all_cps)
        cleared: list[Any] = []
        for target, charge_point_id in targets:
            cleared += clear(target, kind, charge_point_id)
        if everywhere and self.fleet is not None:  # the fleet's charge points too
            cleared += self.fleet.clear_faults(kind)
        return cleared

    def fault_lines(self) -> list[str]:
        """`fault list`: one line per fault set, or a line saying there is none."""
        from ocppsim.sim.faults import active, summary

        simulators = [*self.charge_points.values()]
        if self.central_system is not None:
            simulators.insert(0, self.central_system)
        lines = [summary(fault) for sim in simulators for fault in active(sim)]
        if self.fleet is not None and self.fleet.running:
            lines += self.fleet.fault_lines()
        return lines or ["No fault is set."]

    async def _ping(self, peer: Peer) -> None:
        try:
            await asyncio.wait_for(peer.ping(), 30)
        except asyncio.TimeoutError:
            peer.notice("Error: no PONG within 30 seconds.", ERROR)
        except OcppSimError as exc:
            raise CommandError(f"Error: {exc}") from exc
        except Exception as exc:
            raise CommandError(f"Error: ping failed: {exc}") from exc
