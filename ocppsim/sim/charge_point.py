"""The Charge Point simulator over OCPP-J (SPEC §6): dials `<url>/<id>`, retries, answers
the Central System's CALLs and sends its own."""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ocppsim.core.configuration import Configuration
from ocppsim.core.errors import OcppSimError
from ocppsim.core.rpc import RpcSession
from ocppsim.core.versions import by_subprotocol, default
from ocppsim.sim import log
from ocppsim.sim.behaviour import Behaviour
from ocppsim.sim.peer import JsonPeer, Peer
from ocppsim.sim.pinger import Pinger
from ocppsim.transport.urls import WEBSOCKET_SCHEMES, url_problem
from ocppsim.transport.websocket import ConnectFailed, open_link


def retry_delay() -> float:
    """Seconds between connection attempts (10, as the original; tests may shorten it)."""
    return float(os.environ.get("OCPPSIM_RETRY_SECONDS", "10"))


class NotConnected(OcppSimError):
    """The Charge Point has no link to its Central System."""


class ChargePoint:
    """One simulated Charge Point and its link to the Central System."""

    transport = "websocket"

    def __init__(
        self,
        url: str,
        charge_point_id: str,
        *,
        protocol: str = default().subprotocol,
        ping_interval: float = 0,
        variant: str | None = None,
        behaviour: Behaviour | None = None,
    ):
        version = by_subprotocol(protocol).name  # UnknownVersion (an OcppSimError) names them
        self.url = url
        self.charge_point_id = charge_point_id
        self.protocol = protocol
        self.version = version
        self.variant = variant
        self.speaker = f"cp#{charge_point_id}"
        self.behaviour = behaviour or Behaviour("cp")
        #: its configuration keys, kept across reconnections like a real Charge Point's
        self.configuration = Configuration.for_version(version)
        self.pinger = Pinger(ping_interval)
        problem = url_problem(self.target, WEBSOCKET_SCHEMES)
        if problem is not None:
            raise OcppSimError(f"Error: invalid URL {url!r}: {problem}.")
        self.peer: Peer | None = None
        self._settled = asyncio.Event()  # no connection attempt is under way
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        #: loop time of the next connection attempt while waiting to retry, else None
        self._next_try: float | None = None
        #: why the charge point stopped trying for good (a 404, a URL that cannot work)
        self.failure: str | None = None
        #: told when the charge point gives up for good (the simulator forgets it)
        self.on_gave_up: Callable[[], None] | None = None

    @property
    def target(self) -> str:
        return self.url.rstrip("/") + "/" + quote(self.charge_point_id, safe="")

    @property
    def connected(self) -> bool:
        return self.peer is not None and self.peer.connected

    def start(self) -> None:
        """Start dialling in the background."""
        self._task = asyncio.create_task(self._run(), name=f"charge point {self.speaker}")

    async def stop(self) -> None:
        """Close the link properly (close frame 1000), then stop dialling."""
        self._stopping = True
        peer = self.peer
        task = self._task
        if isinstance(peer, JsonPeer) and peer.connected:
            try:
                await asyncio.wait_for(peer.link.close(1000, "charge point stopped"), 2)
            except (asyncio.TimeoutError, OSError, ConnectionError):
                pass
            if task is not None:  # let it tell the listeners it is disconnected
                await asyncio.wait({task}, timeout=2)
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as exc:  # already reported where it happened
                log.error(f"Error: charge point stopped on {exc!r}", self.speaker)

    async def ready(self) -> Peer:
        """The link, waiting for a connection attempt that is under way; NotConnected says
        why there is none and when the next try is."""
        if not self._settled.is_set():
            await self._settled.wait()
        if self.peer is not None and self.peer.connected:
            return self.peer
        raise NotConnected(f"Error: {self.speaker} is not connected ({self._state()}).")

    def _state(self) -> str:
        """Why there is no link: `reconnecting, next try in 7 s`, `stopped: …`."""
        if self.failure is not None:
            return f"stopped: {self.failure}"
        if self._stopping:
            return "stopped"
        if self._next_try is not None:
            wait = max(0.0, self._next_try - asyncio.get_running_loop().time())
            return f"reconnecting, next try in {math.ceil(wait)} s"
        return "connecting"

    async def _wait_to_retry(self) -> None:
        """Sleep until the next connection attempt (commands meanwhile say when it is)."""
        loop = asyncio.get_running_loop()
        delay = retry_delay()
        self._next_try = loop.time() + delay
        try:
            await asyncio.sleep(delay)
        finally:
            self._next_try = None

    def _give_up(self, reason: str) -> None:
        """Stop for good: this start cannot succeed (the simulator forgets the charge point)."""
        self.failure = reason
        log.error(f"Connect Error: {reason}.", self.speaker)
        if self.on_gave_up is not None:
            self.on_gave_up()
        log.event(
            self.speaker, "Charge point removed: fix its URL or options and start_cp it again."
        )

    async def _answer(self, peer: Peer, action: str, payload: Any) -> Any:
        """A plugin's answer, else this Charge Point's own (its configuration), else the default."""
        return await self.behaviour.answer(peer, action, payload, self.configuration.answer)

    def _quick_answer(self, peer: Peer, action: str, payload: Any) -> Any:
        return self.behaviour.quick_answer(peer, action, payload, self.configuration.answer)

    async def _on_result(self, peer: Peer, action: str, request: Any, result: Any) -> None:
        self.configuration.heard(action, result)
        await self.behaviour.result(peer, action, request, result)

    async def _run(self) -> None:
        while True:
            self._settled.clear()
            try:
                link = await open_link(self.target, self.protocol)
            except ConnectFailed as exc:
                if not exc.retry:
                    self._give_up(exc.reason)
                    self._settled.set()
                    return
                self._settled.set()
                log.error(
                    f"Connect Error: {exc.reason}. Retry in {retry_delay():g} seconds ...",
                    self.speaker,
                )
                await self._wait_to_retry()
                continue
            except BaseException:
                self._settled.set()
                raise
            session = RpcSession(self.version, "cp", variant=self.variant)
            peer = JsonPeer(
                link,
                session,
                speaker=self.speaker,
                label="cs",
                charge_point_id=self.charge_point_id,
                answer=self._answer,
                quick_answer=self._quick_answer,
                on_result=self._on_result,
            )
            peer.configuration = self.configuration
            self.peer = peer
            log.event(self.speaker, "Connected to Central System.")
            self._settled.set()
            await self.behaviour.connection("connected", self.charge_point_id)
            pinging = asyncio.create_task(self.pinger.run(peer))
            try:
                await peer.run()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # never let one bad link end the charge point
                log.error(f"Error: connection failed: {exc!r}", self.speaker)
            finally:
                pinging.cancel()
            await self.behaviour.connection("disconnected", self.charge_point_id)
            if self._stopping:
                return
            log.error(
                f"Connection lost ({link.close_description}), retry in {retry_delay():g} seconds.",
                self.speaker,
            )
            await self._wait_to_retry()
