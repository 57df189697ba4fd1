"""A raw websocket client against a CS process: bad handshakes and bad frames (SPEC §4, §5).

The client is `websockets` itself, not ocppsim, so nothing here depends on ocppsim's
own CP being right. Compare `reference/transcripts/ws-cs-bad-input.*` (the original),
with the [fix]es of the spec: 400 for an unknown subprotocol or a missing id,
TypeConstraintViolation for a bad date-time, NotImplemented for an unknown action.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import importlib.util
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from harness import SimProcess, free_port, start_cs
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

NOW = "2024-05-01T12:00:00Z"
START = {"connectorId": 1, "idTag": "a", "timestamp": NOW, "meterStart": 0}

#: (CALL sent on an ocpp1.5 connection, expected CALLERROR code, description, field)
#: Every refusal tells the peer why; a schema violation also names the field.
INVALID_CALLS_15: list[tuple[list[Any], str, str | None, str | None]] = [
    (
        [2, "id2", "Heartbeat", {"extra": 1}],
        "PropertyConstraintViolation",
        "extra: unexpected field",
        "extra",
    ),
    (
        [2, "id3", "Authorize", {}],
        "OccurenceConstraintViolation",
        "idTag: missing (required)",
        "idTag",
    ),
    (
        [2, "id4", "Authorize", {"idTag": "x" * 21}],
        "TypeConstraintViolation",
        "idTag: 'xxxxxxxxxxxxxxxxxxxxx' is longer than 20 characters",
        "idTag",
    ),
    (
        [2, "id5", "Authorize", {"idTag": 12345}],
        "TypeConstraintViolation",
        "idTag: 12345 is not of type string",
        "idTag",
    ),
    (
        [2, "id6", "StatusNotification", {"connectorId": 1, "status": "Bogus", "errorCode": "E"}],
        "TypeConstraintViolation",
        None,
        None,  # status or errorCode: whichever is checked first
    ),
    (
        [2, "id8", "StartTransaction", {**START, "timestamp": "not-a-date"}],
        "TypeConstraintViolation",
        "timestamp: 'not-a-date' is not a valid date-time",
        "timestamp",
    ),
    (
        [2, "id9", "StartTransaction", {**START, "connectorId": "1"}],
        "TypeConstraintViolation",
        "connectorId: '1' is not of type integer",
        "connectorId",
    ),
    (
        [2, "id10", "StartTransaction", {k: v for k, v in START.items() if k != "idTag"}],
        "OccurenceConstraintViolation",
        "idTag: missing (required)",
        "idTag",
    ),
    (
        [
            2,
            "id11",
            "MeterValues",
            {
                "connectorId": 1,
                "values": [{"timestamp": NOW, "values": [{"value": "1", "bogus": 1}]}],
            },
        ],
        "PropertyConstraintViolation",
        "values[0].values[0].bogus: unexpected field",
        "values[0].values[0].bogus",
    ),
    ([2, "id12", "FooBar", {}], "NotImplemented", "unknown action `FooBar' for OCPP 1.5", None),
    # an action of the other role (the CS does not answer Reset)
    (
        [2, "id13", "Reset", {"type": "Soft"}],
        "NotImplemented",
        "a Central System does not answer `Reset' (a Charge Point does, OCPP 1.5)",
        None,
    ),
    ([2, "x" * 37, "Heartbeat", {}], "ProtocolError", "callId is too long (>36 chars)", None),
]


def run(coro_fn: Callable[[], Awaitable[Any]], timeout: float = 20) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)

    return asyncio.run(bounded())


async def call(ws: ClientConnection, frame: list[Any], timeout: float = 5) -> list[Any]:
    """Send one frame and return the next frame received."""
    await ws.send(json.dumps(frame))
    answer = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert isinstance(answer, list)
    return answer


async def assert_heartbeat(ws: ClientConnection, unique_id: str) -> None:
    """A Heartbeat is answered at once with the current UTC time."""
    answer = await call(ws, [2, unique_id, "Heartbeat", {}])
    assert answer[:2] == [3, unique_id]
    assert list(answer[2]) == ["currentTime"]
    text = answer[2]["currentTime"]
    assert text.endswith("Z")
    sent = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    now = datetime.datetime.now(datetime.timezone.utc)
    assert sent.year == now.year  # the original answered 2013
    assert abs((now - sent).total_seconds()) < 120


@pytest.fixture(scope="module")
def cs() -> Iterator[tuple[SimProcess, str]]:
    if importlib.util.find_spec("ocppsim.cli") is None:
        pytest.skip("the ocppsim command line (ocppsim.cli) does not exist yet")
    port = free_port()
    sim = start_cs(port, "-u", "/ocpp")
    try:
        yield sim, f"ws://127.0.0.1:{port}"
    finally:
        sim.close()


def handshake_status(url: str, subprotocols: list[str]) -> int:
    async def attempt() -> int:
        try:
            async with connect(url, subprotocols=subprotocols, open_timeout=5):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    return int(run(attempt))


@pytest.mark.parametrize("path", ["/other/CP1", "/", "/ocp/CP1"])
def test_a_path_outside_the_endpoint_is_404(cs: tuple[SimProcess, str], path: str) -> None:
    sim, base = cs
    assert handshake_status(base + path, ["ocpp1.5"]) == 404
    assert sim.running


@pytest.mark.parametrize("path", ["/ocpp/", "/ocpp"])
def test_no_identity_is_rejected(cs: tuple[SimProcess, str], path: str) -> None:
    sim, base = cs
    mark = sim.mark()
    assert handshake_status(base + path, ["ocpp1.5"]) == 400
    sim.expect_none(r"ChargePoint # connected", since=mark)


def test_an_unknown_subprotocol_is_rejected(cs: tuple[SimProcess, str]) -> None:
    sim, base = cs
    mark = sim.mark()
    assert handshake_status(base + "/ocpp/CP9", ["ocpp9.9"]) == 400
    sim.expect(r"Unknown protocol `ocpp9\.9'", since=mark)
    sim.expect_none(r"ChargePoint #CP9 connected", since=mark)


@pytest.mark.parametrize("protocol", ["ocpp1.2", "ocpp1.5"])
def test_the_first_known_subprotocol_is_accepted(cs: tuple[SimProcess, str], protocol: str) -> None:
    sim, base = cs
    mark = sim.mark()

    async def scenario() -> str | None:
        async with connect(base + "/ocpp/CPsub", subprotocols=["ocpp9.9", protocol]) as ws:
            await assert_heartbeat(ws, "hb")
            return ws.subprotocol

    assert run(scenario) == protocol
    sim.expect(rf"ChargePoint #CPsub connected \(protocol: {protocol}\)", since=mark)


def test_invalid_calls_get_the_right_callerror(cs: tuple[SimProcess, str]) -> None:
    sim, base = cs

    async def scenario() -> list[tuple[list[Any], list[Any]]]:
        answers = []
        async with connect(base + "/ocpp/CP9", subprotocols=["ocpp1.5"]) as ws:
            assert ws.subprotocol == "ocpp1.5"
            await assert_heartbeat(ws, "id1")
            for frame, *_ in INVALID_CALLS_15:
                answers.append((frame, await call(ws, frame)))
            # a valid minimal BootNotification is accepted
            minimal = {"chargePointVendor": "v", "chargePointModel": "m"}
            boot = await call(ws, [2, "id7", "BootNotification", minimal])
            assert boot[:2] == [3, "id7"]
            assert boot[2]["status"] == "Accepted"
            assert isinstance(boot[2]["heartbeatInterval"], int)
        return answers

    for (frame, code, description, field), (sent, answer) in zip(
        INVALID_CALLS_15, run(scenario), strict=True
    ):
        assert answer[:3] == [4, sent[1], code], (frame, answer)
        if description is None:  # the reason names one of the bad fields
            assert answer[4]["field"] in ("status", "errorCode"), answer
            assert re.match(rf"{answer[4]['field']}: '\w+' is not one of ", answer[3]), answer
        else:
            assert answer[3:] == [description, {"field": field} if field else {}], (frame, answer)
    sim.expect(r'>>cp#CP9 \[4,"id12","NotImplemented"', since=0)
    assert sim.running


def test_the_version_is_the_connections(cs: tuple[SimProcess, str]) -> None:
    """DataTransfer exists in 1.5 only, so a 1.2 connection gets NotImplemented."""
    _, base = cs
    transfer = {"vendorId": "v"}

    async def scenario(protocol: str) -> list[Any]:
        async with connect(base + f"/ocpp/V{protocol}", subprotocols=[protocol]) as ws:
            assert ws.subprotocol == protocol
            return await call(ws, [2, "dt", "DataTransfer", transfer])

    assert run(lambda: scenario("ocpp1.2"))[:3] == [4, "dt", "NotImplemented"]
    assert run(lambda: scenario("ocpp1.5"))[:2] == [3, "dt"]


def test_junk_frames_get_no_answer_and_keep_the_connection(cs: tuple[SimProcess, str]) -> None:
    sim, base = cs
    junk = ["not json at all", '[5,"x"]', '[3,"unknown-id",{}]', '{"a":1}', "[]", "[2]"]

    async def scenario() -> None:
        async with connect(base + "/ocpp/CPjunk", subprotocols=["ocpp1.5"]) as ws:
            for index, text in enumerate(junk):
                await ws.send(text)
                # the next frame received answers this Heartbeat: the junk got no answer
                await assert_heartbeat(ws, f"after{index}")

    run(scenario)
    assert sim.running
    # each line says why, so the peer's developer knows what to fix
    sim.expect(r"message not json at all can't be parsed \(not JSON \(Expecting value", since=0)
    sim.expect(
        r"message \[5,\"x\"\] can't be parsed \(message type 5 .*is not an OCPP 1\.5", since=0
    )
    sim.expect(r"message \{\"a\":1\} can't be parsed \(not a JSON array\)\.", since=0)


def test_a_malformed_call_with_a_readable_id(cs: tuple[SimProcess, str]) -> None:
    """No answer, or a FormationViolation for that id; the connection stays up either way."""
    _, base = cs
    malformed = {"m1": '[2,"m1"]', "m2": '[2,"m2",5,{}]', "m3": '[2,"m3","Heartbeat"]'}

    async def scenario() -> list[list[Any]]:
        extra = []
        async with connect(base + "/ocpp/CPmal", subprotocols=["ocpp1.5"]) as ws:
            for unique_id, text in malformed.items():
                await ws.send(text)
                await ws.send(json.dumps([2, f"hb-{unique_id}", "Heartbeat", {}]))
                while True:
                    answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if answer[1] == f"hb-{unique_id}":
                        assert answer[0] == 3
                        break
                    extra.append(answer)
        return extra

    for answer in run(scenario):
        assert answer[0] == 4 and answer[1] in malformed and answer[2] == "FormationViolation"


#: a CP id with a newline, a forged log line and an escape sequence that clears the screen
FORGED_PATH = "/ocpp/x%0A%5B2026-01-01%2000:00:00%5D%20cs:%20FORGED%1b%5B2J"


def test_a_cp_id_can_neither_forge_a_line_nor_drive_the_terminal(
    cs: tuple[SimProcess, str],
) -> None:
    """An identity with control characters is refused (400: no identity holds one), and the
    line that says so shows it escaped."""
    sim, base = cs
    mark = sim.mark()

    async def scenario() -> int:
        try:
            async with connect(base + FORGED_PATH, subprotocols=["ocpp1.5"]):
                return 101
        except InvalidStatus as exc:
            return exc.response.status_code

    assert run(scenario) == 400
    escaped = r"x\\n\[2026-01-01 00:00:00\] cs: FORGED\\x1b\[2J"
    sim.expect(
        rf"cs: Error: connection of #{escaped} refused \(HTTP 400 Bad Request\): the charge"
        r" point identity holds a control character\.$",
        since=mark,
    )
    sim.expect_none(r"^\[2026-01-01 00:00:00\] cs: FORGED", since=mark)
    sim.expect_none("\x1b", since=mark)


def test_huge_strings_in_refused_calls_give_bounded_lines(cs: tuple[SimProcess, str]) -> None:
    sim, base = cs
    mark = sim.mark()
    huge = "v" * 3_900_000

    async def scenario() -> list[list[Any]]:
        async with connect(base + "/ocpp/CPvendor", subprotocols=["ocpp1.5"]) as ws:
            boot = {"chargePointVendor": huge, "chargePointModel": "m"}
            return [
                await call(ws, [2, "bn", "BootNotification", boot], timeout=10),
                await call(ws, [2, "na", huge, {}], timeout=10),  # quoted in the reason
            ]

    boot, action = run(scenario)
    assert boot[:3] == [4, "bn", "TypeConstraintViolation"]
    assert action[:3] == [4, "na", "NotImplemented"]
    sim.expect(r"cs: WARNING : TypeConstraintViolation for CALL #bn", since=mark)
    warning = sim.expect(r"cs: WARNING : NotImplemented for CALL #na", since=mark)
    assert re.search(r"vvv… \(\d+ more characters\)$", warning.string)
    assert max(len(line) for line in sim.lines()[mark:]) < 8100


def test_lone_surrogates_are_answered_and_logged_escaped(cs: tuple[SimProcess, str]) -> None:
    """json.loads accepts `"\\ud800"`; it is still a string: validated, answered, escaped."""
    sim, base = cs
    mark = sim.mark()

    async def scenario() -> list[list[Any]]:
        async with connect(base + "/ocpp/CPsurrogate", subprotocols=["ocpp1.5"]) as ws:
            return [
                await call(ws, [2, "\ud800", "Heartbeat", {}]),
                await call(ws, [2, "s2", "Authorize", {"idTag": "\udfff"}]),
                await call(ws, [2, "\udc00", "Authorize", {}]),
                await call(ws, [2, "s4", "Authorize", {"idTag": "\ud800" * 21}]),
            ]

    heartbeat, authorize, missing, too_long = run(scenario)
    assert heartbeat[:2] == [3, "\ud800"] and "currentTime" in heartbeat[2]
    assert authorize[:2] == [3, "s2"] and "idTagInfo" in authorize[2]
    assert missing[:3] == [4, "\udc00", "OccurenceConstraintViolation"]
    assert too_long[:3] == [4, "s4", "TypeConstraintViolation"]
    sim.expect(r'cs: <<cp#CPsurrogate \[2,"\\ud800","Heartbeat",\{\}\]$', since=mark)
    sim.expect(r'cs: >>cp#CPsurrogate \[3,"\\ud800",\{"currentTime":', since=mark)
    sim.expect(r"cs: WARNING : OccurenceConstraintViolation for CALL #\\udc00", since=mark)
    sim.expect_none(r"Logging error|could not answer|can't be processed", since=mark)


@pytest.mark.parametrize("mebibytes", [2, 8])
def test_a_huge_frame_does_not_bring_the_cs_down(
    cs: tuple[SimProcess, str], mebibytes: int
) -> None:
    sim, base = cs
    huge = json.dumps([2, "big", "Heartbeat", {"pad": "x" * (mebibytes * 1024 * 1024)}])

    async def scenario() -> None:
        ws = await connect(base + "/ocpp/CPbig", subprotocols=["ocpp1.5"], max_size=None)
        try:
            await ws.send(huge)
            answer = json.loads(await asyncio.wait_for(ws.recv(), 10))
            # if it is read at all, it must be refused
            assert answer[0] == 4 and answer[1] == "big", answer
        except ConnectionClosed:
            pass
        finally:
            # closing a connection the server dropped mid-write can trip asyncio itself
            # ('NoneType' object has no attribute 'call_soon'): not what this test is about
            with contextlib.suppress(Exception):
                await ws.close()
        async with connect(base + "/ocpp/CPbig", subprotocols=["ocpp1.5"]) as ws:
            await assert_heartbeat(ws, "again")

    run(scenario)
    assert sim.running


def test_no_error_line_except_the_provoked_ones(cs: tuple[SimProcess, str]) -> None:
    """The CS process never printed a traceback."""
    sim, base = cs

    async def scenario() -> None:
        async with connect(base + "/ocpp/CPlast", subprotocols=["ocpp1.5"]) as ws:
            await assert_heartbeat(ws, "last")

    run(scenario)
    sim.expect_none(r"Traceback|Exception", since=0)
