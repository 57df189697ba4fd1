"""How a simulator answers CALLs and hears about results and connections (SPEC §5, §8).

The default answer is the version's default response payload; plugins register handlers
here (`on_call`, `on_result`, `on_send`, connection and idle listeners) without touching
transports.
A handler that takes a `Context` learns which charge point its CALL or result came from and
can call that charge point (or its Central System) back.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import OcppError, OcppSimError
from ocppsim.core.versions import Service, get, known_action
from ocppsim.sim import log
from ocppsim.sim.peer import CallFailed, maybe_await

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer

Handler = Callable[..., Any]
#: local(action, payload) -> the simulator's own answer from its state (a Charge Point's
#: configuration), or None for the version's default answer.
LocalAnswer = Callable[[str, Any], "dict[str, Any] | None"]
#: spawn(coroutine, name) -> a task someone tracks (the Simulator cancels its tasks on quit)
Spawn = Callable[[Coroutine[Any, Any, Any], str], "asyncio.Task[Any]"]
_log = logging.getLogger("ocppsim.sim")

#: The attribute that marks a stored handler as one that takes a `Context` last.
_WANTS_CONTEXT = "__ocppsim_context__"
#: The service whose CALLs each role sends: a CS calls the Charge Point service, a CP the CS's.
_CALLED: dict[str, Service] = {"cs": "cp", "cp": "cs"}


class ConfigurationView(Protocol):
    """Read access to a Charge Point's configuration keys (`ctx.configuration`)."""

    def get(self, key: str) -> str | None:
        """The value of `key` (a string, as on the wire), None when it is unknown."""

    def report(self, keys: list[str] | None = None) -> dict[str, Any]:
        """What GetConfiguration would answer: every key, or those asked for."""


def takes_context(fn: Handler, given: int) -> bool:
    """True when `fn` takes a context after the `given` arguments a handler always gets:
    it has `*args`, or more than `given` positional parameters without a default, or a
    positional parameter named `ctx` after them. Decided once, when the handler is added."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: the plain form
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return True
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    return len(required) > given or any(p.name == "ctx" for p in positional[given:])


def with_context(handler: Handler) -> Handler:
    """Mark a stored `handler` as one that takes a `Context` after its usual arguments."""
    setattr(handler, _WANTS_CONTEXT, True)
    return handler


def _wants_context(handler: Handler) -> bool:
    return getattr(handler, _WANTS_CONTEXT, False)


def request_payload(
    version: str, service: Service, action: str, payload: Any, defaults: bool = True
) -> Any:
    """The default request of `action` (or of the SEND `action`, OCPP 2.1) updated with
    `payload` (a None value drops a field); `payload` as given with `defaults=False`, or for an
    action no version defines (to test a peer's NotImplemented). OcppSimError for an action of
    another version only."""
    if not defaults or (payload is not None and not isinstance(payload, dict)):
        return payload if payload is not None else {}
    message = get(version).message_of(service, action)
    if message is not None:
        body: dict[str, Any] = default_payload(version, message)
    elif known_action(action):
        raise OcppSimError(
            f"Error: procedure `{action}' is not available for a OCPP {version} "
            "Charge Point Simulator"
        )
    else:
        body = {}
    for key, value in (payload or {}).items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


class Context:
    """What a handler knows about the link its CALL or result came on, and a way to call
    the other end back. Made for one handler call: keep `charge_point_id`, not the context
    (after a reconnection the link is another one)."""

    __slots__ = ("_peer", "_behaviour")

    def __init__(self, peer: Peer, behaviour: Behaviour):
        self._peer = peer
        self._behaviour = behaviour

    @property
    def charge_point_id(self) -> str:
        """The id of the charge point at either end: the one the CS talks to, or the CP itself."""
        return self._peer.charge_point_id

    @property
    def ocpp_version(self) -> str:
        """The OCPP version of the link (`'1.5'`)."""
        return self._peer.version

    @property
    def transport(self) -> str:
        """`'websocket'` (OCPP-J) or `'soap'`."""
        return getattr(self._peer, "transport", "websocket")

    @property
    def role(self) -> str:
        """`'cs'` when the handler runs for the Central System, `'cp'` for a Charge Point."""
        return self._behaviour.role

    @property
    def configuration(self) -> ConfigurationView | None:
        """The Charge Point's configuration keys (CP side), None on the Central System side."""
        configuration: ConfigurationView | None = getattr(self._peer, "configuration", None)
        return configuration

    def call(
        self, action: str, payload: dict[str, Any] | None = None, *, defaults: bool = True
    ) -> asyncio.Task[Any]:
        """Send `action` to the other end of this link; await the task for the CALLRESULT
        payload, or None after a CALLERROR, a timeout or an error (logged). Fields missing
        from `payload` come from the version's default request unless `defaults=False`."""
        coro = self._call(action, payload, defaults)
        return self._behaviour.spawn(coro, f"{self.role} ctx.call {action}")

    def send(
        self, action: str, payload: dict[str, Any] | None = None, *, defaults: bool = True
    ) -> asyncio.Task[Any]:
        """Send the OCPP 2.1 SEND `action` to the other end of this link (nothing answers it);
        the task's result is the SEND's unique id once it went out, None after an error
        (logged). Fields missing from `payload` come from the SEND's default payload."""
        coro = self._send(action, payload, defaults)
        return self._behaviour.spawn(coro, f"{self.role} ctx.send {action}")

    async def _send(self, action: str, payload: Any, defaults: bool) -> str | None:
        peer = self._peer
        speaker = getattr(peer, "speaker", None)
        try:
            body = request_payload(peer.version, _CALLED[self.role], action, payload, defaults)
            return (await peer.send(action, body)).unique_id
        except CallFailed as exc:
            log.error(f"Error: {action} not sent: {exc.reason}.", speaker)
        except OcppSimError as exc:
            log.error(f"Error: {exc}.", speaker)
        except Exception as exc:  # a bug of ours: a line, never a crash of the handler
            _log.debug("ctx.send %s failed", action, exc_info=True)
            log.error(f"Error: {action} failed: {exc!r}", speaker)
        return None

    async def _call(self, action: str, payload: Any, defaults: bool) -> Any:
        peer = self._peer
        speaker = getattr(peer, "speaker", None)
        try:
            body = request_payload(peer.version, _CALLED[self.role], action, payload, defaults)
            return await peer.call(action, body)
        except CallFailed as exc:
            if exc.error is None and exc.reason != "timeout":  # else the peer logged it
                why = "no answer" if exc.sent else "not sent"
                log.error(f"Error: {action}: {why}: {exc.reason}.", speaker)
        except OcppSimError as exc:
            log.error(str(exc), speaker)
        except Exception as exc:  # a bug of ours: a line, never a crash of the handler
            _log.debug("ctx.call %s failed", action, exc_info=True)
            log.error(f"Error: {action} failed: {exc!r}", speaker)
        return None


class Behaviour:
    """The handlers one simulator role (`cs` or `cp`) runs; plugins add to them.

    A stored handler gets the payload, and a `Context` too when it was added with
    `with_context` (the `on_*` methods decide that from its signature).
    """

    def __init__(self, role: str, *, spawn: Spawn | None = None):
        self.role = role
        self.call_handlers: dict[str, list[Handler]] = {}
        self.result_handlers: dict[str, list[Handler]] = {}
        self.send_handlers: dict[str, list[Handler]] = {}
        self.connection_listeners: list[Handler] = []
        self.idle_listeners: list[Handler] = []
        self._spawn = spawn
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run a context's CALL as a tracked task (the Simulator's when it gave its own)."""
        if self._spawn is not None:
            return self._spawn(coro, name)
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def context(self, peer: Peer) -> Context:
        """The context of a handler run for a CALL or result that came on `peer`."""
        return Context(peer, self)

    # -- registering -----------------------------------------------------------------------

    def on_call(self, action: str, fn: Handler) -> Handler:
        """Add `fn(payload)` or `fn(payload, ctx)` for CALLs `action`; returns what is stored."""
        handler = _stored(fn, 1)
        self.call_handlers.setdefault(action, []).append(handler)
        return handler

    def on_result(self, action: str, fn: Handler) -> Handler:
        """Add `fn(result)` or `fn(result, ctx)` for the CALLRESULTs of `action`."""
        handler = _stored(fn, 1)
        self.result_handlers.setdefault(action, []).append(handler)
        return handler

    def on_send(self, action: str, fn: Handler) -> Handler:
        """Add `fn(payload)` or `fn(payload, ctx)` for the SENDs `action` (OCPP 2.1); what it
        returns is ignored (nothing answers a SEND)."""
        handler = _stored(fn, 1)
        self.send_handlers.setdefault(action, []).append(handler)
        return handler

    def on_idle(self, fn: Handler) -> Handler:
        """Add `fn()` or `fn(ctx)`, told after each exchange."""
        handler = _stored(fn, 0)
        self.idle_listeners.append(handler)
        return handler

    def clear(self, owner: object) -> None:
        """Forget every handler registered by `owner` (a plugin being unloaded)."""

        def keep(fn: Handler) -> bool:
            return getattr(fn, "__ocppsim_owner__", None) is not owner

        for table in (self.call_handlers, self.result_handlers, self.send_handlers):
            for action in list(table):
                table[action] = [fn for fn in table[action] if keep(fn)]
        self.connection_listeners[:] = [fn for fn in self.connection_listeners if keep(fn)]
        self.idle_listeners[:] = [fn for fn in self.idle_listeners if keep(fn)]

    # -- running ---------------------------------------------------------------------------

    def quick_answer(
        self, peer: Peer, action: str, payload: Any, local: LocalAnswer | None = None
    ) -> Any:
        """The answer when no plugin handler has to run for `action`, else None."""
        if self.call_handlers.get(action) or self.idle_listeners:
            return None
        return self._own_answer(peer, action, payload, local)

    async def answer(
        self, peer: Peer, action: str, payload: Any, local: LocalAnswer | None = None
    ) -> Any:
        """The CALLRESULT payload for a CALL: the last plugin answer, else the simulator's own
        (`local`, from its state), else the version's default. Idle listeners hear of it once
        the answer is known (a ChangeConfiguration has changed the configuration by then)."""
        answer = None
        ctx: Context | None = None
        for handler in self.call_handlers.get(action, []):
            if _wants_context(handler):
                ctx = ctx or self.context(peer)
                value = await maybe_await(handler(payload, ctx))
            else:
                value = await maybe_await(handler(payload))
            if isinstance(value, dict):
                answer = value
        if answer is None:
            answer = self._own_answer(peer, action, payload, local)
        await self.idle(peer, ctx)
        return answer

    @staticmethod
    def _own_answer(peer: Peer, action: str, payload: Any, local: LocalAnswer | None) -> Any:
        if local is not None:
            answer = local(action, payload)
            if answer is not None:
                return answer
        return default_payload(peer.version, action + "Response")

    async def result(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        """Tell `on_result` handlers that `action` was answered with `result`."""
        ctx: Context | None = None
        for handler in self.result_handlers.get(action, []):
            if _wants_context(handler):
                ctx = ctx or self.context(peer)
                await self._safely(handler, result, ctx)
            else:
                await self._safely(handler, result)
        await self.idle(peer, ctx)

    def send_received(self, peer: Peer, action: str, payload: Any) -> None:
        """A SEND `action` arrived on `peer` (from the reading callback): its handlers run in
        a tracked task, in order; none, nothing runs. Nothing is answered, whatever they
        return or raise (a failure is reported)."""
        handlers = self.send_handlers.get(action)
        if handlers:
            coro = self._run_send(peer, list(handlers), payload)
            self.spawn(coro, f"{self.role} on_send {action}")

    async def _run_send(self, peer: Peer, handlers: list[Handler], payload: Any) -> None:
        ctx: Context | None = None
        for handler in handlers:
            try:
                if _wants_context(handler):
                    ctx = ctx or self.context(peer)
                    await maybe_await(handler(payload, ctx))
                else:
                    await maybe_await(handler(payload))
            except Exception as exc:  # an OcppError too: a SEND is never answered
                self._report(handler, exc)

    async def connection(self, state: str, charge_point_id: str) -> None:
        """Tell listeners a link went `connected` or `disconnected`."""
        for handler in list(self.connection_listeners):
            await self._safely(handler, state, charge_point_id)

    def tell_connection(self, state: str, charge_point_id: str) -> None:
        """Tell listeners a link went `connected` or `disconnected`, now (before the link
        reads on); a listener that returns an awaitable has it run as a tracked task, and
        one that fails is reported. No listener, nothing done (a fleet's links come and go)."""
        for handler in list(self.connection_listeners):
            try:
                value = handler(state, charge_point_id)
            except Exception as exc:
                self._report(handler, exc)
                continue
            if inspect.isawaitable(value):
                self.spawn(self._finish(handler, value), f"{state} listener")

    async def _finish(self, handler: Handler, awaitable: Any) -> None:
        try:
            await awaitable
        except Exception as exc:
            self._report(handler, exc)

    async def idle(self, peer: Peer | None = None, ctx: Context | None = None) -> None:
        """Tell idle listeners an exchange on `peer` is over."""
        for handler in list(self.idle_listeners):
            if _wants_context(handler):
                if peer is None:
                    continue  # no link to tell it about
                ctx = ctx or self.context(peer)
                await self._safely(handler, ctx)
            else:
                await self._safely(handler)

    async def _safely(self, handler: Handler, *args: Any) -> None:
        try:
            await maybe_await(handler(*args))
        except OcppError:
            raise
        except Exception as exc:  # a plugin's bug is reported, never fatal
            self._report(handler, exc)

    @staticmethod
    def _report(handler: Handler, exc: Exception) -> None:
        _log.debug("plugin handler failed", exc_info=exc)
        owner = getattr(getattr(handler, "__ocppsim_owner__", None), "name", "plugin")
        log.error(f"Error in {owner}: {exc!r}")


def _stored(fn: Handler, given: int) -> Handler:
    """What a table stores for `fn`: itself, or a marked wrapper when it takes a context."""
    if not takes_context(fn, given):
        return fn

    def handler(*args: Any) -> Any:
        return fn(*args)

    return with_context(handler)
