"""`ocppsim.security` is a layer of pure functions: importing it pulls in no asyncio, no
transport, simulator or prompt code."""

from __future__ import annotations

import subprocess
import sys


def test_security_imports_no_event_loop_and_no_upper_layer() -> None:
    code = (
        "import sys\n"
        "import ocppsim.security, ocppsim.security.command\n"
        "bad = [m for m in ('asyncio', 'websockets', 'aiohttp', 'prompt_toolkit', 'lxml', 'zeep',"
        " 'ocppsim.sim', 'ocppsim.transport', 'ocppsim.repl', 'ocppsim.cli') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
