"""`ocppsim.core` stays sans-I/O: it imports no asyncio, sockets, lxml or prompt_toolkit."""

from __future__ import annotations

import subprocess
import sys


def test_core_imports_no_io_libraries() -> None:
    code = (
        "import sys\n"
        "import ocppsim.core.rpc, ocppsim.core.defaults, ocppsim.core.validation\n"
        "import ocppsim.core.catalog, ocppsim.core.errors, ocppsim.core.resources\n"
        "import ocppsim.core.versions, ocppsim.core.configuration\n"
        "import ocppsim.core.events\n"
        "bad = [m for m in ('asyncio', 'websockets', 'lxml', 'prompt_toolkit', 'socket',"
        " 'aiohttp', 'zeep') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_ocpp_j_path_needs_no_xml() -> None:
    code = (
        "import sys, asyncio\n"
        "from ocppsim.repl.shell import Shell\n"
        "async def main():\n"
        "    shell = Shell()\n"
        "    assert await shell.execute_words(['start_cs', '0'])\n"
        "    await shell.sim.shutdown()\n"
        "asyncio.run(main())\n"
        "print(','.join(m for m in ('lxml', 'zeep', 'aiohttp') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
