"""The public Python API: `ocppsim.CentralSystem` and `ocppsim.ChargePoint` as async context
managers on 127.0.0.1, port 0; `call`, `wait_for`, `on_call`, `events()`; CallError,
InvalidMessage and switchable validation; every version the project speaks."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from ocppsim_testing import needs_version

import ocppsim
from ocppsim.core import events, versions
from ocppsim.core.defaults import default_payload

VERSIONS = versions.names()


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def central_system(**options: Any) -> ocppsim.CentralSystem:
    return ocppsim.CentralSystem(host="127.0.0.1", endpoint="/ocpp", **options)


def test_import_ocppsim_loads_nothing_heavy() -> None:
    """pytest imports ocppsim in every session (its plugin): the names load when used."""
    code = (
        "import sys, ocppsim\n"
        "print([m for m in ('asyncio', 'jsonschema', 'websockets', 'ocppsim.sim.peer')"
        " if m in sys.modules])\n"
        "assert ocppsim.CentralSystem.__name__ == 'CentralSystem'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_public_exceptions_share_the_root_and_read_as_ocppsim_names() -> None:
    for name in ("CallError", "CallFailed", "CallTimeout", "InvalidMessage", "NotConnected"):
        error = getattr(ocppsim, name)
        assert issubclass(error, ocppsim.OcppSimError)
        assert f"{error.__module__}.{error.__name__}" == f"ocppsim.{name}"
    assert issubclass(ocppsim.WaitTimeout, TimeoutError)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_charge_point_of_every_version_boots_at_a_central_system(version: str) -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            assert cs.port > 0
            assert cs.url == f"ws://127.0.0.1:{cs.port}/ocpp"
            async with ocppsim.ChargePoint(cs.url, "cp01", version=version) as cp:
                assert cp.connected and cp.version == version
                answer = await cp.call("BootNotification")  # the version's default request
                assert answer["status"] == "Accepted"
                boot = await cs.wait_for("BootNotification", "cp01")
                request = default_payload(version, "BootNotificationRequest")
                assert boot.payload.keys() == request.keys()
                assert (boot.action, boot.charge_point_id) == ("BootNotification", "cp01")
                assert len(boot.unique_id) > 0
                assert cs.charge_point_ids == ["cp01"]
            assert not cp.connected

    run(scenario())


@pytest.mark.parametrize("written", ["1.6", "ocpp1.6", "OCPP1.6", " 1.6 "])
def test_a_version_is_written_as_its_name_or_its_subprotocol(written: str) -> None:
    cp = ocppsim.ChargePoint("ws://127.0.0.1:1/ocpp", "cp01", version=written)
    assert (cp.version, cp.protocol) == ("1.6", "ocpp1.6")
    cs = ocppsim.CentralSystem(versions=[written, "2.0.1"])
    assert cs.protocols == ("ocpp1.6", "ocpp2.0.1")


def test_an_unknown_version_says_which_there_are() -> None:
    with pytest.raises(ocppsim.UnknownVersion, match=r"unknown OCPP version `1\.7' \(use 1\.2, "):
        ocppsim.ChargePoint("ws://127.0.0.1:1/ocpp", "cp01", version="1.7")


def test_a_central_system_calls_a_charge_point_that_waits_for_it() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp01") as cp:
            assert await cs.call("cp01", "Reset", {"type": "Hard"}) == {"status": "Accepted"}
            reset = await cp.wait_for("Reset")
            assert (reset.payload, reset.charge_point_id) == ({"type": "Hard"}, "cp01")
            assert await cs.call(None, "ClearCache") == {"status": "Accepted"}  # the only one

    run(scenario())


def test_wait_for_takes_each_call_once_in_order_and_by_charge_point() -> None:
    async def scenario() -> None:
        async with (
            central_system() as cs,
            ocppsim.ChargePoint(cs.url, "a") as a,
            ocppsim.ChargePoint(cs.url, "b") as b,
        ):
            await a.call("Heartbeat")
            await b.call("Heartbeat")
            await a.call("Authorize", {"idTag": "A2"})
            assert (await cs.wait_for("Heartbeat", "b")).charge_point_id == "b"
            assert (await cs.wait_for("Heartbeat")).charge_point_id == "a"
            waiting = asyncio.ensure_future(cs.wait_for("Heartbeat", timeout=5))
            await asyncio.sleep(0)  # it waits: both heartbeats were taken
            assert not waiting.done()
            await b.call("Heartbeat")
            assert (await waiting).charge_point_id == "b"
            with pytest.raises(ocppsim.WaitTimeout) as caught:
                await cs.wait_for("StatusNotification", timeout=0.05)
            assert str(caught.value) == (
                "the Central System received no StatusNotification within 0.05 s"
                " (not taken yet: Authorize from a)"
            )

    run(scenario())


def test_a_refused_call_raises_call_error_with_its_code_description_and_details() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp01") as cp:
            with pytest.raises(ocppsim.CallError) as caught:
                await cp.call("Authorize", {"idTag": "X" * 21}, validate=False)
            error = caught.value
            assert error.code == "TypeConstraintViolation"
            assert (
                error.description == "idTag: 'XXXXXXXXXXXXXXXXXXXXX' is longer than 20 characters"
            )
            assert error.details == {"field": "idTag"}
            assert (error.action, error.unique_id) == ("Authorize", error.unique_id)
            assert str(error).startswith(
                "TypeConstraintViolation: idTag: 'XXXXXXXXXXXXXXXXXXXXX' is longer than 20"
                ' characters {"field": "idTag"} (the answer to Authorize #'
            )

    run(scenario())


def test_an_invalid_request_is_not_sent_unless_validation_is_off() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp01") as cp:
            stream = cs.events()
            with pytest.raises(ocppsim.InvalidMessage) as caught:
                await cp.call("Authorize", {"idTag": "X" * 21})
            assert caught.value.code == "TypeConstraintViolation"
            assert caught.value.details == {"field": "idTag"}
            assert "with validate=False" in str(caught.value)
            with pytest.raises(
                ocppsim.InvalidMessage, match="a Charge Point does not send `Reset'"
            ):
                await cp.call("Reset")
            with pytest.raises(ocppsim.InvalidMessage, match="unknown action `Foo'"):
                await cp.call("Foo")
            with pytest.raises(ocppsim.InvalidMessage, match="`GetVariables' is not an action"):
                await cp.call("GetVariables")  # a 2.x action, at a 1.5 Charge Point
            with pytest.raises(ocppsim.CallError) as refused:  # sent on purpose
                await cp.call("Foo", {}, validate=False)
            assert refused.value.code == "NotImplemented"
            stream.close()
            received = [e for e in [e async for e in stream] if type(e) is events.FrameReceived]
            assert [e.text.split(",")[2] for e in received] == ['"Foo"']  # nothing else went out

    run(scenario())


def test_an_answer_that_breaks_its_schema_raises_unless_validation_is_off() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp01") as cp:
            cs.on_call("Heartbeat", lambda payload: {"currentTime": "yesterday"})
            with pytest.raises(ocppsim.InvalidMessage) as caught:
                await cp.call("Heartbeat")
            assert str(caught.value) == (
                "the answer to Heartbeat breaks its schema: currentTime: 'yesterday' is not a"
                " valid date-time (TypeConstraintViolation)"
            )
            assert caught.value.payload == {"currentTime": "yesterday"}
            assert await cp.call("Heartbeat", validate=False) == {"currentTime": "yesterday"}

    run(scenario())


def test_on_call_handlers_get_a_context_and_may_refuse() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp01") as cp:

            @cs.on_call("DataTransfer")
            async def data_transfer(payload: dict[str, Any], ctx: ocppsim.Context) -> Any:
                if payload.get("data") == "no":
                    raise ocppsim.CallError("GenericError", "not today")
                return {"status": "Accepted", "data": f"{ctx.charge_point_id} {ctx.ocpp_version}"}

            cp.on_call("Reset", lambda payload: {"status": "Rejected"})
            answer = await cp.call("DataTransfer", {"vendorId": "V", "data": "yes"})
            assert answer == {"status": "Accepted", "data": "cp01 1.5"}
            with pytest.raises(ocppsim.CallError, match="^GenericError: not today"):
                await cp.call("DataTransfer", {"vendorId": "V", "data": "no"})
            assert await cs.call("cp01", "Reset") == {"status": "Rejected"}

    run(scenario())


def test_events_are_an_async_iterator_that_ends_when_the_simulator_stops() -> None:
    async def scenario() -> list[str]:
        cs = central_system()
        async with cs:
            stream = cs.events()
            async with ocppsim.ChargePoint(cs.url, "cp01") as cp:
                await cp.call("Heartbeat")
        return [type(event).__name__ async for event in stream]

    assert run(scenario()) == ["Connected", "FrameReceived", "FrameSent", "Disconnected"]


def test_a_charge_point_that_cannot_connect_says_why_and_leaves_nothing_running() -> None:
    async def scenario() -> None:
        async with central_system() as cs:
            port = cs.port
        cp = ocppsim.ChargePoint(f"ws://127.0.0.1:{port}/ocpp", "cp01")
        with pytest.raises(ocppsim.NotConnected, match=r"^cp#cp01 could not connect to ws://"):
            async with cp:
                pass
        assert not cp.connected
        assert {t for t in asyncio.all_tasks() if t is not asyncio.current_task()} == set()

    run(scenario())


def test_a_call_to_a_charge_point_that_is_not_there_names_those_that_are() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp01"):
            with pytest.raises(
                ocppsim.NotConnected, match=r"#cp02 does not exist\. Connected: cp01"
            ):
                await cs.call("cp02", "Reset")

    run(scenario())


def test_soap_central_system_and_charge_point() -> None:
    async def scenario() -> None:
        version = versions.with_transport("soap")[-1].name
        async with central_system(transport="soap") as cs:
            assert cs.url == f"http://127.0.0.1:{cs.port}/ocpp"
            cp = ocppsim.ChargePoint(
                cs.url, "box", transport="soap", version=version, host="127.0.0.1"
            )
            async with cp:
                assert (await cp.call("Heartbeat"))["currentTime"]
                assert (await cs.wait_for("Heartbeat", "box")).charge_point_id == "box"
                assert await cs.call("box", "ClearCache") == {"status": "Accepted"}

    run(scenario())


def test_every_public_name_resolves() -> None:
    assert sorted(ocppsim.__all__) == sorted(ocppsim._EXPORTS)
    assert all(getattr(ocppsim, name).__name__ == name for name in ocppsim.__all__)


@needs_version("2.1")
def test_a_send_is_not_a_call() -> None:
    async def scenario() -> None:
        async with central_system() as cs, ocppsim.ChargePoint(cs.url, "cp", version="2.1") as cp:
            with pytest.raises(ocppsim.InvalidMessage, match="is a SEND in OCPP 2.1"):
                await cp.call("NotifyPeriodicEventStream")

    run(scenario())
