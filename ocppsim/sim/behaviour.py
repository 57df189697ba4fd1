"""How a simulator answers CALLs and hears about results and connections (SPEC §5, §8).

The default answer is the version's default response payload; plugins register handlers
here (`on_call`, `on_result`, connection and idle listeners) without touching transports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocppsim.core.defaults import default_payload
from ocppsim.core.errors import OcppError
from ocppsim.sim import log
from ocppsim.sim.peer import maybe_await

if TYPE_CHECKING:
    from ocppsim.sim.peer import Peer

Handler = Callable[..., Any]
#: local(action, payload) -> the simulator's own answer from its state (a Charge Point's
#: configuration), or None for the version's default answer.
LocalAnswer = Callable[[str, Any], "dict[str, Any] | None"]
_log = logging.getLogger("ocppsim.sim")


class Behaviour:
    """The handlers one simulator role (`cs` or `cp`) runs; plugins add to them."""

    def __init__(self, role: str):
        self.role = role
        self.call_handlers: dict[str, list[Handler]] = {}
        self.result_handlers: dict[str, list[Handler]] = {}
        self.connection_listeners: list[Handler] = []
        self.idle_listeners: list[Handler] = []

    def clear(self, owner: object) -> None:
        """Forget every handler registered by `owner` (a plugin being unloaded)."""

        def keep(fn: Handler) -> bool:
            return getattr(fn, "__ocppsim_owner__", None) is not owner

        for table in (self.call_handlers, self.result_handlers):
            for action in list(table):
                table[action] = [fn for fn in table[action] if keep(fn)]
        self.connection_listeners[:] = [fn for fn in self.connection_listeners if keep(fn)]
        self.idle_listeners[:] = [fn for fn in self.idle_listeners if keep(fn)]

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
        (`local`, from its state), else the version's default."""
        answer = None
        for handler in self.call_handlers.get(action, []):
            value = await maybe_await(handler(payload))
            if isinstance(value, dict):
                answer = value
        await self.idle()
        if answer is not None:
            return answer
        return self._own_answer(peer, action, payload, local)

    @staticmethod
    def _own_answer(peer: Peer, action: str, payload: Any, local: LocalAnswer | None) -> Any:
        if local is not None:
            answer = local(action, payload)
            if answer is not None:
                return answer
        return default_payload(peer.version, action + "Response")

    async def result(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        """Tell `on_result` handlers that `action` was answered with `result`."""
        for handler in self.result_handlers.get(action, []):
            await self._safely(handler, result)
        await self.idle()

    async def connection(self, state: str, charge_point_id: str) -> None:
        """Tell listeners a link went `connected` or `disconnected`."""
        for handler in list(self.connection_listeners):
            await self._safely(handler, state, charge_point_id)

    async def idle(self) -> None:
        for handler in list(self.idle_listeners):
            await self._safely(handler)

    async def _safely(self, handler: Handler, *args: Any) -> None:
        try:
            await maybe_await(handler(*args))
        except OcppError:
            raise
        except Exception as exc:  # a plugin's bug is reported, never fatal
            _log.debug("plugin handler failed", exc_info=True)
            owner = getattr(getattr(handler, "__ocppsim_owner__", None), "name", "plugin")
            log.error(f"Error in {owner}: {exc!r}")
