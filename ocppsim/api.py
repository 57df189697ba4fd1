"""The one module plugins import (SPEC §8): the `PluginApi` given to `on_load(api)`, the
`Context` a handler may take, and the exceptions a handler raises to refuse a CALL.

    from ocppsim.api import Context, NotSupported, PluginApi

    def on_load(api: PluginApi) -> None:
        api.log("Hi !")
        api.on_call("Reset", lambda payload: {"status": "Rejected"})

        def data_transfer(payload: dict, ctx: Context) -> dict:
            return {"status": "Accepted", "data": ctx.charge_point_id}

        api.on_call("DataTransfer", data_transfer)

Handlers may be plain functions or `async` ones; an `on_call`/`on_result`/`on_send` handler
that takes a second parameter gets a `Context` (which charge point, its version and transport,
and `ctx.call` back to it). See docs/plugins.md for the guide.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.core.errors import CallError, NotSupportedAnswer, OcppError, OcppSimError
from ocppsim.core.versions import Service, get
from ocppsim.sim.behaviour import (
    ConfigurationView,
    Context,
    request_payload,
    takes_context,
    with_context,
)
from ocppsim.sim.peer import maybe_await

if TYPE_CHECKING:
    from ocppsim.plugins import Plugin, PluginManager
    from ocppsim.sim.behaviour import Behaviour

__all__ = [
    "CallError",
    "ConfigurationView",
    "Context",
    "NotSupported",
    "ParsedCommand",
    "PluginApi",
]

_log = logging.getLogger("ocppsim.plugins")

Handler = Callable[..., Any]


class NotSupported(NotSupportedAnswer):
    """Raise it in an `on_call` handler to answer the CALL with `NotSupported`."""


class ParsedCommand(Protocol):
    """What `api.parse(line)` returns: `show cache -n 2` → `show`, `['cache']`, `{'-n': '2'}`."""

    command: str
    arguments: list[str]
    options: dict[str, str | None]


def log_line(text: str, level: int = logging.INFO) -> None:
    """One `[time] text` line, like the simulator's own global lines."""
    _log.log(level, text, extra={"speaker": None, "direction": None, "peer": None})


class _Side:
    """What both `api.cp` and `api.cs` share: building a payload from the defaults."""

    def __init__(self, api: PluginApi):
        self._api = api

    @staticmethod
    def _payload(version: str, service: Service, action: str, payload: Any, defaults: bool) -> Any:
        """The default request of `action` updated with `payload` (a None value drops a field)."""
        return request_payload(version, service, action, payload, defaults)

    def _start(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a CALL as a task the Simulator tracks; errors become log lines, the result None."""

        async def guarded() -> Any:
            try:
                return await coro
            except asyncio.CancelledError:
                raise
            except OcppSimError as exc:
                log_line(str(exc), logging.ERROR)
            except Exception as exc:
                self._api._plugin.report(name, exc)
            return None

        task: asyncio.Task[Any] = self._api._manager.sim.spawn(guarded(), name=name)
        return task


class ChargePointSide(_Side):
    """`api.cp`: what the simulated Charge Point(s) of this process send."""

    def call(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        id: str | None = None,
        *,
        defaults: bool = True,
    ) -> asyncio.Task[Any]:
        """The Charge Point (the only one, or `id`) sends `action`; await it for the result.

        Fields missing from `payload` come from the version's default request (`defaults=False`
        sends `payload` as given). The task's result is the CALLRESULT payload, or None after a
        CALLERROR, a timeout or an error (logged). A plain handler may leave it un-awaited.
        """
        return self._start(self._call(action, payload, id, defaults), f"plugin cp.call {action}")

    async def _call(self, action: str, payload: Any, cp_id: str | None, defaults: bool) -> Any:
        sim = self._api._manager.sim
        cp = sim.charge_point(cp_id)
        body = self._payload(cp.version, "cs", action, payload, defaults)
        return await sim.cp_call(cp.charge_point_id, action, payload=body)

    def send(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        id: str | None = None,
        *,
        defaults: bool = True,
    ) -> asyncio.Task[Any]:
        """The Charge Point (the only one, or `id`) sends the OCPP 2.1 SEND `action`
        (`NotifyPeriodicEventStream`): nothing answers it and nothing waits. The task's result
        is the SEND's unique id once it went out, None after an error (logged). Fields missing
        from `payload` come from the SEND's default payload unless `defaults=False`."""
        return self._start(self._send(action, payload, id, defaults), f"plugin cp.send {action}")

    async def _send(self, action: str, payload: Any, cp_id: str | None, defaults: bool) -> Any:
        sim = self._api._manager.sim
        cp = sim.charge_point(cp_id)
        body = self._payload(cp.version, "cs", action, payload, defaults)
        return (await sim.cp_send(cp.charge_point_id, action, payload=body)).unique_id

    @property
    def ids(self) -> list[str]:
        """The ids of the Charge Points this process simulates."""
        return list(self._api._manager.sim.charge_points)

    # -- the person at the charger (what `badge`, `plug`, `unplug`, `faulted` do) ----------------

    def model(self, id: str | None = None) -> Any:
        """The model that keeps a simulated CP's state (the only CP, or `id`): a
        `ChargePointModel` (OCPP 1.x) or a `ChargingStation` (2.x) of `ocppsim.core.station`,
        to read; None for a CP started with `--stateless`. OcppSimError when there is no
        such CP."""
        cp = self._api._manager.sim.charge_point(id)
        return cp.model

    def badge(self, id_tag: str, point: int | None = None, id: str | None = None) -> None:
        """A driver presents `id_tag` at connector (1.x) or EVSE (2.x) `point` (by default
        where its transaction is, else where a cable waits, else the first free one); what
        it causes (Authorize, a transaction starting or ending) is sent in the background.
        OcppSimError says why the CP cannot take it (a stateless CP, an unknown connector)."""
        self._api._manager.sim.at_charger(id, "badge", id_tag, point)

    def plug(self, point: int | None = None, id: str | None = None) -> None:
        """An EV is plugged in at connector (1.x) or EVSE (2.x) `point` (else where a driver
        waits, else the first free one)."""
        self._api._manager.sim.at_charger(id, "plug", point)

    def unplug(self, point: int | None = None, id: str | None = None) -> None:
        """The EV is unplugged at `point` (else the first plugged one)."""
        self._api._manager.sim.at_charger(id, "unplug", point)

    def faulted(self, point: int, on: bool = True, id: str | None = None) -> None:
        """What `faulted` does: connector (1.x) or EVSE (2.x) `point` becomes Faulted (`on`)
        or recovers."""
        self._api._manager.sim.at_charger(id, "faulted", point, on)

    async def settled(self, id: str | None = None) -> None:
        """Wait until what the CP's model wants sent has gone out and been answered."""
        await self._api._manager.sim.model_driver(id).idle()

    def state(self, id: str | None = None) -> str:
        """What the `state` command shows of a CP."""
        return self._api._manager.sim.describe(id)

    def version(self, id: str | None = None) -> str | None:
        """The OCPP version of a simulated CP (the only one, or `id`); None if there is none."""
        charge_points = self._api._manager.sim.charge_points
        if id is None:
            return next(iter(charge_points.values())).version if len(charge_points) == 1 else None
        cp = charge_points.get(id)
        return cp.version if cp is not None else None


class CentralSystemSide(_Side):
    """`api.cs`: what the simulated Central System sends to its connected Charge Points."""

    def call(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        remote_id: str | None = None,
        *,
        defaults: bool = True,
    ) -> asyncio.Task[Any]:
        """The CS sends `action` to the only connected CP (or `remote_id`); await it for the result.

        Same payload rules and result as `api.cp.call`.
        """
        return self._start(
            self._call(action, payload, remote_id, defaults), f"plugin cs.call {action}"
        )

    async def _call(self, action: str, payload: Any, remote_id: str | None, defaults: bool) -> Any:
        sim = self._api._manager.sim
        peer = sim.remote_peer(remote_id)
        body = self._payload(peer.version, "cp", action, payload, defaults)
        return await sim.remote_call(peer.charge_point_id, action, payload=body)

    def send(
        self,
        action: str,
        payload: dict[str, Any] | None = None,
        remote_id: str | None = None,
        *,
        defaults: bool = True,
    ) -> asyncio.Task[Any]:
        """The CS sends a SEND `action` (OCPP 2.1) to the only connected CP (or `remote_id`);
        same payload rules and result as `api.cp.send`."""
        return self._start(
            self._send(action, payload, remote_id, defaults), f"plugin cs.send {action}"
        )

    async def _send(self, action: str, payload: Any, remote_id: str | None, defaults: bool) -> Any:
        sim = self._api._manager.sim
        peer = sim.remote_peer(remote_id)
        body = self._payload(peer.version, "cp", action, payload, defaults)
        return (await sim.remote_send(peer.charge_point_id, action, payload=body)).unique_id

    @property
    def ids(self) -> list[str]:
        """The ids of the Charge Points connected to the Central System."""
        cs = self._api._manager.sim.central_system
        return list(cs.peers) if cs is not None else []

    def version(self, remote_id: str | None = None) -> str | None:
        """The OCPP version negotiated with a connected CP (the only one, or `remote_id`)."""
        cs = self._api._manager.sim.central_system
        peers = cs.peers if cs is not None else {}
        if remote_id is None:
            return next(iter(peers.values())).version if len(peers) == 1 else None
        peer = peers.get(remote_id)
        return peer.version if peer is not None else None


class PluginApi:
    """The handle a plugin gets in `on_load(api)` and `on_unload(api)` (SPEC §8)."""

    def __init__(self, manager: PluginManager, plugin: Plugin):
        self._manager = manager
        self._plugin = plugin
        self.cp = ChargePointSide(self)
        self.cs = CentralSystemSide(self)

    # -- output and parsing ---------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The name the plugin was loaded under (its file name without `.py`)."""
        return self._plugin.name

    def log(self, msg: object) -> None:
        """Print a log line `[time] msg`."""
        log_line(str(msg))

    def parse(self, line: str) -> ParsedCommand:
        """Split a command line: `.command`, `.arguments`, `.options` (and `.fields`);
        ValueError for a line the prompt cannot read (an unclosed quote or bracket)."""
        return self._manager.parse(line)

    # -- handlers ----------------------------------------------------------------------------------

    def on_call(self, action: str, fn: Handler) -> None:
        """`fn(payload)` or `fn(payload, ctx)` when a CALL `action` arrives; a dict returned
        is the answer. `ctx` (a `Context`) says which charge point sent it and calls it back.

        Raising `NotSupported` answers NotSupported, any other exception InternalError.
        """
        plugin = self._plugin

        async def handler(*args: Any) -> Any:  # (payload) or (payload, ctx)
            try:
                return await maybe_await(fn(*args))
            except (OcppError, asyncio.CancelledError):
                raise
            except Exception as exc:
                plugin.report(f"on_call {action}", exc)
                raise OcppError("InternalError") from exc

        stored = self._own(with_context(handler) if takes_context(fn, 1) else handler)
        for behaviour in self._behaviours():
            behaviour.call_handlers.setdefault(action, []).append(stored)

    def on_result(self, action: str, fn: Handler) -> None:
        """`fn(payload)` or `fn(payload, ctx)` when the CALLRESULT of a CALL `action` arrives."""
        plugin = self._plugin

        async def handler(*args: Any) -> None:  # (payload) or (payload, ctx)
            await plugin.guard(f"on_result {action}", fn, *args)

        stored = self._own(with_context(handler) if takes_context(fn, 1) else handler)
        for behaviour in self._behaviours():
            behaviour.result_handlers.setdefault(action, []).append(stored)

    def on_send(self, action: str, fn: Handler) -> None:
        """`fn(payload)` or `fn(payload, ctx)` when a SEND `action` arrives (OCPP 2.1:
        `NotifyPeriodicEventStream`, which a Charging Station sends its CSMS). Nothing answers
        a SEND: what `fn` returns or raises is not sent (a failure is reported)."""
        plugin = self._plugin

        async def handler(*args: Any) -> None:  # (payload) or (payload, ctx)
            await plugin.guard(f"on_send {action}", fn, *args)

        stored = self._own(with_context(handler) if takes_context(fn, 1) else handler)
        for behaviour in self._behaviours():
            behaviour.send_handlers.setdefault(action, []).append(stored)

    def on_connection_event(self, fn: Handler) -> None:
        """CP side: `fn('connected' | 'disconnected', cp_id)` when a CP's link goes up or down."""
        self._manager.sim.cp_behaviour.connection_listeners.append(
            self._own(self._detached("on_connection_event", fn))
        )

    def on_client_connection_event(self, fn: Handler) -> None:
        """CS side: `fn('connected' | 'disconnected', cp_id)` when a CP connects or leaves."""
        self._manager.sim.cs_behaviour.connection_listeners.append(
            self._own(self._detached("on_client_connection_event", fn))
        )

    def on_command(self, fn: Handler, commands: Iterable[str] = ()) -> None:
        """`fn(line)` for every typed line; a truthy result consumes it (it is then not run as
        a command). An async `fn` (or one returning an awaitable) is awaited first.

        `commands` names the command words `fn` handles: the prompt completes them with Tab.
        """
        self._plugin.command_handlers.append(fn)
        self._plugin.commands.update(word for word in commands if word)

    def on_idle(self, fn: Handler) -> None:
        """`fn()` or `fn(ctx)` after each exchange (a CALL answered, a CALLRESULT handled);
        `ctx` is the `Context` of the link the exchange was on."""
        detached = self._detached("on_idle", fn)
        detached = self._own(with_context(detached) if takes_context(fn, 0) else detached)
        for behaviour in self._behaviours():
            behaviour.idle_listeners.append(detached)

    def spawn(self, coro: Awaitable[Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run `coro` in the background until it ends or the plugin is unloaded."""
        return self._plugin.spawn(coro, name or f"plugin {self.name}")

    # -- context -----------------------------------------------------------------------------------

    @property
    def system(self) -> str | None:
        """What runs: `'cs'`, `'cp'`, `'cs+cp'` (both in one process) or None (nothing yet)."""
        sim = self._manager.sim
        roles = [role for role, on in (("cs", sim.central_system), ("cp", sim.charge_points)) if on]
        return "+".join(roles) or None

    @property
    def ocpp_version(self) -> str | None:
        """Its OCPP version (`'1.5'`): of the only CP, else of the only CP connected to the CS."""
        link = self._single()
        return link.version if link is not None else None

    @property
    def protocol(self) -> str | None:
        """The websocket subprotocol of that link (`'ocpp1.5'`)."""
        version = self.ocpp_version
        return get(version).subprotocol if version else None

    @property
    def transport(self) -> str | None:
        """`'websocket'` or `'soap'`: how that link travels."""
        link = self._single()
        return getattr(link, "transport", None) if link is not None else None

    @property
    def charge_point_id(self) -> str | None:
        """The id of the only CP, else of the only CP connected to the CS."""
        link = self._single()
        return link.charge_point_id if link is not None else None

    def unload(self) -> None:
        """Unload this plugin now: its handlers are removed and `on_unload(api)` runs."""
        self._manager.unload_now(self._plugin)

    # -- plumbing ----------------------------------------------------------------------------------

    def _single(self) -> Any:
        sim = self._manager.sim
        if len(sim.charge_points) == 1:
            return next(iter(sim.charge_points.values()))
        cs = sim.central_system
        if cs is not None and len(cs.peers) == 1:
            return next(iter(cs.peers.values()))
        return None

    def _behaviours(self) -> list[Behaviour]:
        """Where CALL, result and idle handlers go: the role the plugin declares, else both."""
        sim = self._manager.sim
        declared = self._plugin.metadata.get("system")
        if declared == "cs":
            return [sim.cs_behaviour]
        if declared == "cp":
            return [sim.cp_behaviour]
        return [sim.cs_behaviour, sim.cp_behaviour]

    def _own(self, handler: Handler) -> Handler:
        """Tag `handler` so unloading the plugin removes it (`Behaviour.clear`)."""
        handler.__ocppsim_owner__ = self._plugin  # type: ignore[attr-defined]
        return handler

    def _detached(self, where: str, fn: Handler) -> Handler:
        """A listener that runs a plain `fn` inline and an async one as a plugin task.

        Connection and idle events are told before the link reads its next frame, so an
        `await api.cs.call(...)` there would wait for an answer nobody reads yet.
        """
        plugin = self._plugin

        def listener(*args: Any) -> None:
            try:
                value = fn(*args)
            except Exception as exc:
                plugin.report(where, exc)
                return
            if asyncio.iscoroutine(value) or isinstance(value, asyncio.Future):
                plugin.spawn(value, f"plugin {plugin.name} {where}")

        return listener
