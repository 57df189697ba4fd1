"""Drive `bench/node/peer.js` (an OCPP-J peer built on ocpp-rpc) from an asyncio test: orders
go to its standard input as JSON lines, its events come back from its standard output."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from ocppsim_testing import NODE_DIR

#: how long one event may take to come (a bound for a stuck peer, not a timing assumption)
EVENT_TIMEOUT = 20.0


class NodePeer:
    """One running `peer.js`: `call` the other end through it, `expect` its events."""

    def __init__(self, process: asyncio.subprocess.Process):
        self.process = process
        #: every event printed so far, in order
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()
        self._next_id = 0
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls, node: str, *args: str, answers: Path | None = None) -> NodePeer:
        """Run `node peer.js <args>`; `answers`: the file of results it answers CALLs with."""
        extra = ["--answers", str(answers)] if answers is not None else []
        process = await asyncio.create_subprocess_exec(
            node,
            str(NODE_DIR / "peer.js"),
            *args,
            *extra,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=NODE_DIR,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            self.events.append(json.loads(line))
            self._changed.set()
        self.events.append({"event": "exited"})
        self._changed.set()

    async def expect(self, start: int = 0, **fields: Any) -> dict[str, Any]:
        """The first event from index `start` whose fields have the given values."""

        async def scan() -> dict[str, Any]:
            index = start
            while True:
                while index < len(self.events):
                    event = self.events[index]
                    if all(event.get(k) == v for k, v in fields.items()):
                        return event
                    assert event["event"] != "exited", f"peer.js exited: {self.events}"
                    index += 1
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(scan(), EVENT_TIMEOUT)
        except asyncio.TimeoutError:
            raise AssertionError(f"no event {fields}; events: {self.events[-10:]}") from None

    def matching(self, **fields: Any) -> list[dict[str, Any]]:
        """The events so far whose fields have the given values."""
        return [e for e in self.events if all(e.get(k) == v for k, v in fields.items())]

    def order(self, order: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(order).encode() + b"\n")

    async def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """The peer calls `method` on the other end: its `result` or `error` event."""
        self._next_id += 1
        call_id = self._next_id
        mark = len(self.events)
        self.order({"id": call_id, "call": method, "params": params})
        while True:
            event = await self.expect(mark, id=call_id)
            if event["event"] in ("result", "error"):
                return event
            mark = self.events.index(event) + 1

    def problems(self) -> list[dict[str, Any]]:
        """What ocpp-rpc refused: messages its strict mode found invalid, frames it could not
        read."""
        return [e for e in self.events if e["event"] in ("invalid", "bad")]

    async def close(self) -> None:
        """Ask the peer to leave; kill it if it does not within a few seconds."""
        if self.process.returncode is None:
            try:
                self.order({"quit": True})
                assert self.process.stdin is not None
                self.process.stdin.close()
                await asyncio.wait_for(self.process.wait(), 5)
            except (asyncio.TimeoutError, OSError):
                self.process.kill()
                await self.process.wait()
        await asyncio.gather(self._reader, return_exceptions=True)
