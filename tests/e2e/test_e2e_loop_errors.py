"""What the event loop reports under the prompt is an error line, never a traceback."""

from __future__ import annotations

import socket
import sys

import pytest
from harness import SimProcess, free_port

#: ocppsim on asyncio's own loop (uvloop sheds connections it cannot accept without a word)
#: and with few file descriptors, so that accepting connections runs out of them.
LIMITED_ASYNCIO = (
    "import resource, sys;"
    "sys.modules['uvloop'] = None;"
    "resource.setrlimit(resource.RLIMIT_NOFILE, (int(sys.argv[1]), int(sys.argv[1])));"
    "from ocppsim.cli import main;"
    "sys.exit(main(sys.argv[2:]))"
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_NOFILE is a POSIX limit")
def test_running_out_of_descriptors_is_an_error_line_not_a_traceback() -> None:
    """accept() failing with EMFILE: asyncio tells the loop's exception handler once per
    connection waiting (its default prints a traceback on stderr each time); under the
    prompt it is one error line, and the repeats are counted, not printed."""
    port = free_port()
    command = [sys.executable, "-c", LIMITED_ASYNCIO, "48"]
    with SimProcess(["start_cs", str(port)], name="cs", command=command) as cs:
        cs.expect(rf"cs: Server is listening on port {port}$")
        clients = []
        try:
            for _ in range(60):  # more than the descriptors left
                clients.append(socket.create_connection(("127.0.0.1", port), timeout=10))
            cs.expect(r"\] Error: socket\.accept\(\) out of system resource: OSError\(24")
        finally:
            for client in clients:
                client.close()
        cs.send("help")  # still serving the prompt
        cs.expect(r"stop_cs")
        lines = cs.lines()
        assert not [line for line in lines if "Traceback" in line]
        assert len([line for line in lines if "out of system resource" in line]) == 1
