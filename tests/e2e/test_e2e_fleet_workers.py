"""`ocppsim fleet --workers N --source-ip …`: the installed command runs its charge points in
N worker processes, each connecting from the source addresses in turn, and merges their
statistics. Checked at the Central System's side (an ocppsim CentralSystem in this process):
which ids came, and from which addresses."""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path
from typing import Any

from harness import ocppsim_command

from ocppsim.core import events
from ocppsim.core.rpc import Call
from ocppsim.sim.central_system import CentralSystem

COUNT = 20
SOURCES = ("127.0.0.2", "127.0.0.3")


def test_workers_share_the_fleet_and_connect_from_each_source_address(tmp_path: Path) -> None:
    report = tmp_path / "report.json"

    async def scenario() -> tuple[dict[str, str], int, str]:
        cs = CentralSystem(0, host="127.0.0.1", endpoint="/ocpp", history=0, versions="ocpp1.6")
        addresses: dict[str, str] = {}
        statuses = [0]
        settled = asyncio.Event()

        def heard(event: Any) -> None:
            if isinstance(event, events.Connected):
                peer = cs.peers[event.charge_point_id]
                addresses[event.charge_point_id] = peer.link.connection.remote_address
            elif isinstance(event, events.FrameReceived) and isinstance(event.message, Call):
                if event.message.action == "StatusNotification":
                    statuses[0] += 1  # 3 each (connectors 0, 1, 2), after the boot's answer
                    if statuses[0] == 3 * COUNT:
                        settled.set()

        cs.bus.subscribe(heard)
        await cs.start()
        fleet = await asyncio.create_subprocess_exec(
            *ocppsim_command(),
            "fleet",
            cs.url,
            str(COUNT),
            "-p",
            "ocpp1.6",
            "--ramp",
            "0",
            "--workers",
            "2",
            "--source-ip",
            f"{SOURCES[0]}-{SOURCES[1]}",
            "--duration",
            "120s",
            "--report",
            str(report),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await asyncio.wait_for(settled.wait(), 60)  # every call answered: none cut short
        finally:
            fleet.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(fleet.communicate(), 60)
            await cs.stop()
        assert fleet.returncode is not None
        return addresses, fleet.returncode, out.decode() + err.decode()

    addresses, code, text = asyncio.run(scenario())
    assert sorted(addresses) == [f"cp{n:05d}" for n in range(COUNT)]
    for n in range(COUNT):  # charge point n connects from source n mod 2, whichever worker
        assert addresses[f"cp{n:05d}"].rsplit(":", 1)[0] == SOURCES[n % 2], addresses
    assert "in 2 worker processes" in text
    assert code == 0, text
    written = json.loads(report.read_text())
    assert written["fleet"]["workers"] == 2 and written["fleet"]["started"] == COUNT
    assert written["connections"]["connected"] == COUNT
    assert written["actions"]["BootNotification"]["count"] == COUNT
