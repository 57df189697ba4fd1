"""ocppsim's pytest plugin, run in pytester's sessions the way a user's suite runs it: the
fixtures `ocppsim_cs` and `ocppsim_cp` in plain and async tests (pytest-asyncio and anyio),
the OCPP frames of a failed test in its report, a CallError that reads as its code and
description, the `ocppsim_cs` marker, and a plugin that costs nothing to load."""

from __future__ import annotations

import subprocess
import sys

import pytest
from ocppsim_testing import needs_version

from ocppsim.core import versions

VERSIONS = list(versions.names())


def run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    options = ("-p", "no:cacheprovider", "-o", "asyncio_default_fixture_loop_scope=function")
    return pytester.runpytest(*options, *args)


def test_a_plain_test_boots_a_charge_point_of_every_version(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        f"""
        import pytest

        @pytest.mark.parametrize("version", {VERSIONS!r})
        def test_boot(ocppsim_cs, ocppsim_cp, version):
            cp = ocppsim_cp(ocppsim_cs.url, "cp01", version=version)
            assert cp.call("BootNotification")["status"] == "Accepted"
            assert ocppsim_cs.wait_for("BootNotification", "cp01").charge_point_id == "cp01"

        def test_done_when(ocppsim_cs, ocppsim_cp):
            assert ocppsim_cp(ocppsim_cs.url, "cp01", version="1.5").call(
                "BootNotification", {{"chargePointVendor": "V", "chargePointModel": "M"}}
            )["status"] == "Accepted"
        """,
    )
    result.assert_outcomes(passed=len(VERSIONS) + 1)


def test_a_failing_test_shows_the_frames_its_simulators_exchanged(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        def test_passes(ocppsim_cs, ocppsim_cp):
            ocppsim_cp(ocppsim_cs.url, "quiet").call("Heartbeat")

        def test_fails(ocppsim_cs, ocppsim_cp):
            cp = ocppsim_cp(ocppsim_cs.url, "cp01", version="1.6")
            cp.call("BootNotification", {"chargePointVendor": "ACME", "chargePointModel": "M"})
            assert ocppsim_cs.call("cp01", "Reset", {"type": "Soft"})["status"] == "Rejected"
        """,
    )
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- Captured OCPP frames call -*",
            "* cs: listening on port *",
            "* cs: connected to cp#cp01 (ocpp1.6, websocket)",
            '* cp#cp01: >>cs [[]2,"*","BootNotification",{"chargePointVendor":"ACME",*',
            '* cs: <<cp#cp01 [[]2,"*","BootNotification",*',
            '* cs: >>cp#cp01 [[]3,"*",{"status":"Accepted",*',
            '* cs: >>cp#cp01 [[]2,"*","Reset",{"type":"Soft"}]',
            '* cs: <<cp#cp01 [[]3,"*",{"status":"Accepted"}]',
        ]
    )
    output = result.stdout.str()
    assert output.count("Captured OCPP frames") == 1  # the passing test shows none
    assert "quiet" not in output


def test_a_call_error_reads_as_its_code_and_description(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_refused(ocppsim_cs, ocppsim_cp):
            cp = ocppsim_cp(ocppsim_cs.url, "cp01")
            cp.call("Authorize", {"idTag": "X" * 21}, validate=False)
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            '>       cp.call("Authorize", {"idTag": "X" * 21}, validate=False)',
            "E       ocppsim.CallError: TypeConstraintViolation: idTag: 'XXXXXXXXXXXXXXXXXXXXX'"
            ' is longer than 20 characters {"field": "idTag"} (the answer to Authorize #*)',
            "*- Captured OCPP frames call -*",
            '* cs: >>cp#cp01 [[]4,"*","TypeConstraintViolation",*',
        ]
    )
    output = result.stdout.str()
    # the traceback is the test's own line: no frame of ocppsim or of its thread
    assert "ocppsim/sim/" not in output and "concurrent/futures" not in output


ASYNC_TESTS = """
import asyncio
import json

import pytest
import websockets

async def boot_and_reset(ocppsim_cs, ocppsim_cp):
    cp = await ocppsim_cp(ocppsim_cs.url, "cp01", version="2.0.1")
    ocppsim_cs.on_call("Heartbeat", lambda payload: {"currentTime": "2030-01-01T00:00:00Z"})
    assert (await cp.call("Heartbeat"))["currentTime"] == "2030-01-01T00:00:00Z"
    assert (await ocppsim_cs.wait_for("Heartbeat", "cp01")).payload == {}
    assert await ocppsim_cs.call("cp01", "Reset", {"type": "Immediate"}) == {"status": "Accepted"}
    assert (await cp.wait_for("Reset")).payload == {"type": "Immediate"}

async def own_client(ocppsim_cs):
    # a charge point under test on the test's own loop: the loop stays free while it waits
    async with websockets.connect(ocppsim_cs.url + "/mine", subprotocols=["ocpp1.6"]) as ws:
        waiting = asyncio.ensure_future(ocppsim_cs.wait_for("Heartbeat", "mine"))
        await ws.send(json.dumps([2, "1", "Heartbeat", {}]))
        assert json.loads(await ws.recv())[0] == 3
        assert (await waiting).unique_id == "1"

@pytest.mark.asyncio
async def test_pytest_asyncio(ocppsim_cs, ocppsim_cp):
    await boot_and_reset(ocppsim_cs, ocppsim_cp)

@pytest.mark.asyncio
async def test_pytest_asyncio_client(ocppsim_cs):
    await own_client(ocppsim_cs)

@pytest.mark.anyio
async def test_anyio(ocppsim_cs, ocppsim_cp):
    await boot_and_reset(ocppsim_cs, ocppsim_cp)

@pytest.mark.anyio
async def test_anyio_client(ocppsim_cs):
    await own_client(ocppsim_cs)

@pytest.fixture
def anyio_backend():
    return "asyncio"

def test_plain_beside_them(ocppsim_cs, ocppsim_cp):
    assert ocppsim_cp(ocppsim_cs.url, "cp02").call("Heartbeat")["currentTime"]
"""


def test_async_tests_await_the_same_fixtures(pytester: pytest.Pytester) -> None:
    result = run(pytester, ASYNC_TESTS)
    result.assert_outcomes(passed=5)


def test_a_failing_async_test_shows_its_frames_too(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        import pytest

        @pytest.mark.asyncio
        async def test_fails(ocppsim_cs, ocppsim_cp):
            cp = await ocppsim_cp(ocppsim_cs.url, "cp01", version="1.6")
            await cp.call("Heartbeat")
            await ocppsim_cs.wait_for("StatusNotification", timeout=0.1)
        """,
    )
    result.assert_outcomes(failed=1)
    assert "asyncio/" not in result.stdout.str()  # no frame of the machinery, on any Python
    result.stdout.fnmatch_lines(
        [
            "E*ocppsim.WaitTimeout: the Central System received no StatusNotification"
            " within 0.1 s (not taken yet: Heartbeat from cp01)",
            "*- Captured OCPP frames call -*",
            '* cp#cp01: >>cs [[]2,"*","Heartbeat",{}]',
        ]
    )


def test_charge_points_and_the_central_system_stop_after_the_test(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        kept = []

        def test_first(ocppsim_cs, ocppsim_cp):
            kept.extend([ocppsim_cs, ocppsim_cp(ocppsim_cs.url, "cp01")])
            assert ocppsim_cs.charge_point_ids == ["cp01"]

        def test_then(ocppsim_cs):
            cs, cp = kept
            assert not cp.connected
            assert cs.central_system.peers == {}
            assert not cs.thread._thread.is_alive()
            assert ocppsim_cs.port != cs.port and ocppsim_cs.charge_point_ids == []
        """,
    )
    result.assert_outcomes(passed=2)


def test_the_marker_gives_the_central_system_other_options(pytester: pytest.Pytester) -> None:
    soap = versions.with_transport("soap")[-1].name
    result = run(
        pytester,
        f"""
        import pytest

        @pytest.mark.ocppsim_cs(transport="soap", versions=[{soap!r}])
        def test_soap(ocppsim_cs, ocppsim_cp):
            assert ocppsim_cs.url.startswith("http://127.0.0.1:")
            cp = ocppsim_cp(ocppsim_cs.url, "box", transport="soap", version={soap!r})
            assert cp.call("Heartbeat")["currentTime"]
            assert ocppsim_cs.call("box", "ClearCache") == {{"status": "Accepted"}}
        """,
    )
    result.assert_outcomes(passed=1)


def test_a_charge_point_that_cannot_connect_fails_the_test_saying_why(
    pytester: pytest.Pytester,
) -> None:
    result = run(
        pytester,
        """
        def test_nowhere(ocppsim_cs, ocppsim_cp):
            url = ocppsim_cs.url
            ocppsim_cs.stop()
            ocppsim_cp(url, "cp01")
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E       ocppsim.NotConnected: cp#cp01 could not connect to ws://*"]
    )


def test_loading_the_plugin_imports_nothing_heavy() -> None:
    """It loads in every pytest session of whoever installed ocppsim."""
    code = (
        "import sys, pytest\n"
        "before = set(sys.modules)\n"
        "import ocppsim.pytest_plugin\n"
        "print(sorted(set(sys.modules) - before))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == (
        "['ocppsim', 'ocppsim.core', 'ocppsim.core.observe', 'ocppsim.pytest_plugin']"
    )


def test_the_plugin_is_registered_by_its_entry_point() -> None:
    from importlib.metadata import entry_points

    found = [e.value for e in entry_points(group="pytest11") if e.name == "ocppsim"]
    assert found == ["ocppsim.pytest_plugin"]


@needs_version("2.1")
def test_a_send_of_21_goes_through_the_fixtures(pytester: pytest.Pytester) -> None:
    result = run(
        pytester,
        """
        def test_send(ocppsim_cs, ocppsim_cp):
            cp = ocppsim_cp(ocppsim_cs.url, "cp01", version="2.1")
            unique_id = cp.send("NotifyPeriodicEventStream")
            heard = ocppsim_cs.wait_for("NotifyPeriodicEventStream", "cp01")
            assert heard.unique_id == unique_id and heard.payload["data"]
        """,
    )
    result.assert_outcomes(passed=1)
