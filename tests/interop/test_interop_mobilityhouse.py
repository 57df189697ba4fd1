"""Interop with the field's Python OCPP library, PyPI `ocpp` (mobilityhouse), over real
WebSockets on 127.0.0.1: every action of OCPP 1.6 (core and security whitepaper), 2.0.1 and 2.1
in both directions, against an ocppsim Central System and an ocppsim Charge Point.

Each side validates what it receives and what it sends against OCA's schemas (the library:
`Draft4Validator` on every CALL and CALLRESULT; ocppsim: its own checks, whose failures are log
lines). The library's messages are made from the published schemas alone
(`interop_testing.make`, every field filled); ocppsim sends its registry's default payloads.
For each action the receiver's handler gets exactly what was sent, and the answer comes back
as a CALLRESULT that validates.

Known bugs of the library (ocpp 2.1.0), recorded where they matter:
* its snake_case/camelCase renaming cannot spell some 2.1 fields (`limit_L2`, `soc`, …): it
  never sends them (`INEXPRESSIBLE`), but reads them;
* it answers an action it has no handler for NotImplemented and an unknown one NotSupported
  (OCPP-J 1.6 §4.2.3, 2.0.1 Part 4 §4.3: the other way round), and in 2.1 not at all;
* on 1.6 it names a format failure FormatViolation (1.6 says FormationViolation).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from interop_testing import json_versions, make, ordered, published_schema, run
from ocpp.charge_point import camel_to_snake_case, snake_to_camel_case
from ocpp.exceptions import OCPPError
from ocpp.routing import on
from ocppsim_testing import Lines
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

import ocppsim
from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import validate

VERSIONS = json_versions()

#: fields of OCPP 2.1 the library's key renaming cannot spell: `limit_L2` becomes `limitL2`,
#: `soc` becomes `SoC`, and its dataclasses' `receipt_url`, `prioritized_emaids` and
#: `fixed_pf_absorb` become `receiptURL`, `prioritizedEmaids` and `fixedPfAbsorb`. Its messages
#: leave them out (they are all optional): it cannot send them, though it reads them.
INEXPRESSIBLE = re.compile(
    r"^\w+_L[23]$|^soc$|^receiptUrl$|^prioritizedEMAIDs$|^fixedPF(Absorb|Inject)$"
)


def library(version: str) -> Any:
    """The library's package of `version` (`ocpp.v16`)."""
    return importlib.import_module("ocpp.v" + version.replace(".", ""))


def _snake_key(key: str) -> str | None:
    """The snake_case name the library turns into `key`, None when there is none."""
    for candidate in (
        next(iter(camel_to_snake_case({key: 0}))),
        re.sub(r"([A-Z])", lambda m: "_" + m[1].lower(), key),
        key,
    ):
        if _camel(candidate) == key:
            return candidate
    return None


def _camel(name: str) -> str:
    """The camelCase key the library turns the snake_case `name` into."""
    return str(next(iter(snake_to_camel_case({name: 0}))))


def _snake(value: Any) -> Any:
    """A payload as the library takes it (snake_case keys)."""
    if isinstance(value, list):
        return [_snake(item) for item in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        name = _snake_key(key)
        assert name is not None, f"the library cannot send {key}"
        out[name] = _snake(item)
    return out


def library_message(module: Any, action: str, payload: dict[str, Any]) -> Any:
    """The library's dataclass of `action` (from `module.call` or `module.call_result`) holding
    `payload`, its fields named as the library names them."""
    cls = getattr(module, action)
    fields = {_camel(f.name): f.name for f in dataclasses.fields(cls)}
    assert set(payload) <= set(fields), (action, set(payload) - set(fields))
    return cls(**{fields[key]: _snake(value) for key, value in payload.items()})


def sayable(version: str, message: str) -> Any:
    """A payload of `message` made from its published schema, with every field the library can
    send."""
    return make(published_schema(version, message), full=True, omit=INEXPRESSIBLE.match)


def peer_class(version: str, answered: tuple[str, ...]) -> type:
    """A ChargePoint class of the library (it plays either role) with a handler for each
    action in `answered`: it records the payload received and answers `self.answers[action]`."""
    module = library(version)
    namespace: dict[str, Any] = {}

    def handler(action: str) -> Callable[..., Any]:
        def handle(self: Any, **payload: Any) -> Any:
            self.received.setdefault(action, []).append(payload)
            return library_message(module.call_result, action, self.answers[action])

        handle.__name__ = f"on_{action}"
        return on(action)(handle)

    for action in answered:
        namespace[f"on_{action}"] = handler(action)
    return type(f"Library{version.replace('.', '')}", (module.ChargePoint,), namespace)


class Tap:
    """A connection as the library sees it (`send`, `recv`), keeping the frames it receives:
    the library hands back a CALLRESULT as a dataclass, and its validator checks no format."""

    def __init__(self, connection: Any):
        self.connection = connection
        #: each received frame, parsed
        self.received: list[Any] = []

    async def send(self, text: str) -> None:
        await self.connection.send(text)

    async def recv(self) -> str:
        text = await self.connection.recv()
        self.received.append(json.loads(text))
        return str(text)

    def result(self, unique_id: str) -> Any:
        """The payload of the CALLRESULT to the CALL `unique_id`."""
        found = [f[2] for f in self.received if f[:2] == [3, unique_id]]
        assert len(found) == 1, (unique_id, self.received[-3:])
        return found[0]


def make_peer(cls: type, version: str, identity: str, connection: Any, answered: tuple[str, ...]):
    """An instance of `cls` on `connection`, with its answers made from the schemas."""
    peer = cls(identity, Tap(connection), response_timeout=15)
    peer.received = {}
    peer.answers = {a: sayable(version, a + "Response") for a in answered}
    return peer


@asynccontextmanager
async def running(coro: Awaitable[Any]) -> AsyncIterator[asyncio.Task[Any]]:
    task = asyncio.ensure_future(coro)
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def library_calls(peer: Any, version: str, actions: tuple[str, ...]) -> dict[str, Any]:
    """The library sends every action of `actions` (its payload made from the schema); each
    answer is a CALLRESULT valid for the library and for ocppsim's stricter checks. Returns
    what was sent, per action."""
    module = library(version)
    sent = {}
    for action in ordered(actions):
        payload = sayable(version, action + "Request")
        message = library_message(module.call, action, payload)
        unique_id = f"{action}-{uuid.uuid4()}"[:36]
        result = await peer.call(message, suppress=False, unique_id=unique_id)
        assert type(result).__name__ == action and type(result).__module__.endswith("call_result")
        # what the library took, with the date-times it does not check checked too
        answer = peer._connection.result(unique_id)
        assert validate(version, action + "Response", answer) is None, (action, answer)
        sent[action] = payload
    return sent


async def ocppsim_calls(
    send: Callable[..., Awaitable[Any]], version: str, peer: Any, actions: tuple[str, ...]
) -> None:
    """ocppsim sends (`send(action, payload)`: a simulator's `call`) every action of `actions`
    with its default payload; the library's handler gets exactly that (validated first) and
    its answer validates at ocppsim (`call` raises InvalidMessage otherwise)."""
    for action in ordered(actions):
        request = default_payload(version, action + "Request")
        assert await send(action, request) == peer.answers[action], action
        assert camel_to_snake_case(request) in peer.received[action], action


async def ocppsim_received(side: Any, sent: dict[str, Any]) -> None:
    """ocppsim's side received each action of `sent` as the library sent it (and answered it:
    `wait_for` hands out only CALLs that passed ocppsim's checks)."""
    for action, payload in sent.items():
        assert (await side.wait_for(action)).payload == payload, action


@dataclasses.dataclass
class Nope:
    """A CALL of an action no OCPP version has (the library names a CALL after its class)."""


@asynccontextmanager
async def library_charge_point(
    url: str, version: str, answered: tuple[str, ...]
) -> AsyncIterator[Any]:
    """A Charge Point `lib` of the library connected to the Central System at `url`,
    answering `answered`."""
    subprotocol = versions.get(version).subprotocol
    async with connect(f"{url}/lib", subprotocols=[subprotocol]) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == subprotocol
        peer = make_peer(peer_class(version, answered), version, "lib", ws, answered)
        async with running(peer.start()):
            yield peer


@pytest.mark.parametrize("version", VERSIONS)
def test_library_charge_point_against_ocppsim_central_system(version: str, lines: Lines) -> None:
    entry = versions.get(version)
    answered = entry.actions["cp"]

    async def scenario() -> None:
        cs = ocppsim.CentralSystem(host="127.0.0.1", endpoint="/ocpp", versions=version)
        async with cs, library_charge_point(cs.url, version, answered) as peer:
            sent = await library_calls(peer, version, entry.actions["cs"])
            await ocppsim_received(cs, sent)
            await ocppsim_calls(functools.partial(cs.call, "lib"), version, peer, answered)

    run(scenario())
    assert lines.problems() == []


@pytest.mark.parametrize("version", VERSIONS)
def test_library_central_system_against_ocppsim_charge_point(version: str, lines: Lines) -> None:
    entry = versions.get(version)
    answered = entry.actions["cs"]
    cls = peer_class(version, answered)

    async def scenario() -> None:
        peers: asyncio.Queue[Any] = asyncio.Queue()

        async def serve_one(connection: ServerConnection) -> None:
            assert connection.subprotocol == entry.subprotocol
            identity = connection.request.path.rsplit("/", 1)[-1]
            peer = make_peer(cls, version, identity, connection, answered)
            peers.put_nowait(peer)
            try:
                await peer.start()
            except ConnectionClosed:
                pass

        protocols = [entry.subprotocol]
        async with serve(serve_one, "127.0.0.1", 0, subprotocols=protocols) as server:  # type: ignore[arg-type]
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
            async with ocppsim.ChargePoint(url, "sim", version=version) as cp:
                peer = await peers.get()
                assert peer.id == "sim"
                await ocppsim_calls(cp.call, version, peer, answered)
                # 2.1's SENDs: the library knows no message type 6 and drops the frame with
                # an error in its log (so no answer, as OCPP 2.1 Part 4 §4.1.3 wants, but no
                # handler hears it either); a CALL after it is answered as usual, and nothing
                # came back before its answer
                for action in entry.sends.get("cs", ()):
                    await cp.send(action)
                    assert await cp.call("Heartbeat") == peer.answers["Heartbeat"]
                sent = await library_calls(peer, version, entry.actions["cp"])
                await ocppsim_received(cp, sent)

    run(scenario())
    assert lines.problems() == []


@pytest.mark.parametrize("version", VERSIONS)
def test_library_and_ocppsim_refusals(version: str, lines: Lines) -> None:
    """Each side refuses what the other sends wrong; where the library and the specification
    disagree ocppsim follows the specification, and the library's wrong answers do not upset
    ocppsim."""
    module = library(version)

    async def scenario() -> None:
        async with ocppsim.CentralSystem(
            host="127.0.0.1", endpoint="/ocpp", versions=version
        ) as cs:
            async with library_charge_point(cs.url, version, ("Reset",)) as peer:
                # an action no version has: ocppsim answers NotImplemented ("Requested Action
                # is not known by receiver", OCPP-J 1.6 §4.2.3, 2.0.1 Part 4 §4.3)
                with pytest.raises(OCPPError) as refused:
                    await peer.call(Nope(), suppress=False, skip_schema_validation=True)
                assert refused.value.code == "NotImplemented"

                # a date-time that is none: the library does not check formats (its validator
                # has no format checker); ocppsim refuses it, naming the field
                payload = default_payload(version, "StatusNotificationRequest")
                payload["timestamp"] = "yesterday"
                violation = validate(version, "StatusNotificationRequest", payload)
                assert violation is not None
                message = library_message(module.call, "StatusNotification", payload)
                with pytest.raises(OCPPError) as refused:
                    await peer.call(message, suppress=False)
                assert refused.value.code == violation.code
                assert refused.value.details == {"field": "timestamp"}

                # the library's answers to an unknown action and to one it has no handler
                # for are each other's (NotSupported, NotImplemented); in 2.1 it does not
                # answer at all, and ocppsim's CALLs time out
                cs.peer("lib").timeout = 1
                for action, code in {
                    "Nope": "NotSupported",
                    "ClearCache": "NotImplemented",
                }.items():
                    if version == "2.1":
                        with pytest.raises(ocppsim.CallTimeout):
                            await cs.call("lib", action, {}, validate=False)
                    else:
                        with pytest.raises(ocppsim.CallError) as error:
                            await cs.call("lib", action, {}, validate=False)
                        assert error.value.code == code
                cs.peer("lib").timeout = 30

                # a field the schema does not have: the library says FormatViolation, which
                # OCPP 1.6 calls FormationViolation (2.0.1 and 2.1: FormatViolation)
                request = default_payload(version, "ResetRequest") | {"bogus": 1}
                with pytest.raises(ocppsim.CallError) as error:
                    await cs.call("lib", "Reset", request, validate=False)
                assert error.value.code == "FormatViolation"

                # and the link still works both ways
                assert await cs.call("lib", "Reset") == peer.answers["Reset"]
                assert await peer.call(library_message(module.call, "Heartbeat", {}))

    run(scenario())
