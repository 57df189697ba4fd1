"""Rough edges a user met at the prompt: what a missing dependency, a wrong scheme, a slow or
odd peer and a refused boot look like from the `ocppsim` command. Each test is the line (or
the answer) the user should get instead of a traceback, a silent close or a guess."""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
from pathlib import Path

import pytest
from harness import free_port, ocppsim_command


def _run(args: list[str], env_path: Path, stdin: str = "quit\n") -> str:
    """`ocppsim <args>` with `env_path` first on PYTHONPATH; its whole output."""
    import os

    env = dict(os.environ)
    env.update({"PYTHONPATH": str(env_path), "PYTHONUNBUFFERED": "1", "TERM": "dumb"})
    done = subprocess.run(
        [*ocppsim_command(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return done.stdout + done.stderr


@pytest.fixture
def without_ocpp(tmp_path: Path) -> Path:
    """A PYTHONPATH folder that makes `import ocpp` fail, as if the package were not installed."""
    (tmp_path / "sitecustomize.py").write_text('import sys\nsys.modules["ocpp"] = None\n')
    return tmp_path


@pytest.fixture
def ocpp_without_21(tmp_path: Path) -> Path:
    """A PYTHONPATH folder with an `ocpp` package that has the 1.6 and 2.0.1 schema folders and
    no 2.1 one: the `ocpp` 2.0.0 that Python 3.10 gets."""
    package = tmp_path / "ocpp"
    for folder in ("v16/schemas", "v201/schemas"):
        (package / folder).mkdir(parents=True)
    (package / "__init__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["start_cs", "0", "-p", "ocpp1.6"], "Error: OCPP 1.6 needs the `ocpp` package"),
        (["start_cs", "0", "-p", "ocpp2.0.1"], "Error: OCPP 2.0.1 needs the `ocpp` package"),
        (
            ["start_cp", "ws://127.0.0.1:9/ocpp", "cp1", "-p", "ocpp1.6"],
            "Error: OCPP 1.6 needs the `ocpp` package",
        ),
        (
            ["fleet", "ws://127.0.0.1:9/ocpp", "1", "-p", "ocpp2.0.1"],
            "OCPP 2.0.1 needs the `ocpp` package",
        ),
    ],
)
def test_without_the_ocpp_package_a_version_that_needs_it_says_what_to_install(
    without_ocpp: Path, args: list[str], expected: str
) -> None:
    """Without `ocpp` the command started with an ImportError traceback, whatever version was
    asked for; now only a version that needs it is refused, with what to install."""
    output = _run(args, without_ocpp)
    assert expected in output and "pip install ocpp" in output, output
    assert "Traceback" not in output, output


def test_without_the_ocpp_package_1_2_and_1_5_still_work(without_ocpp: Path) -> None:
    """OCPP 1.2 and 1.5 need nothing from `ocpp`: a Central System starts and stops."""
    output = _run(["start_cs", "0", "-p", "ocpp1.2,ocpp1.5"], without_ocpp)
    assert "cs: Server is listening on port" in output, output
    assert "Traceback" not in output and "Error" not in output, output


def test_ocpp_2_1_without_its_schemas_says_what_it_needs(ocpp_without_21: Path) -> None:
    """On Python 3.10 the newest `ocpp` (2.0.0) has no 2.1 schemas: asking for 2.1 says which
    release it needs and that that release needs Python 3.11 (no `pip install` advice: pip
    finds no 2.1 release for 3.10); the other versions still start."""
    output = _run(["start_cs", "0", "-p", "ocpp2.1"], ocpp_without_21)
    assert "Error: OCPP 2.1 needs the `ocpp` package 2.1 or newer (Python 3.11+)." in output
    assert "Traceback" not in output, output
    output = _run(["start_cs", "0", "-p", "ocpp1.2,ocpp1.5"], ocpp_without_21)
    assert "cs: Server is listening on port" in output, output


def _ask(port: int, data: bytes, tls: ssl.SSLContext | None = None) -> bytes:
    """Send `data` to 127.0.0.1:`port` (over TLS with `tls`); what comes back until the
    connection closes or a response's Content-Length is read."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        sock = tls.wrap_socket(raw, server_hostname="localhost") if tls is not None else raw
        sock.sendall(data)
        answer = b""
        while True:
            try:
                chunk = sock.recv(4096)
            except (ssl.SSLError, ConnectionResetError):
                break
            if not chunk:
                break
            answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            length = re.search(rb"Content-Length: (\d+)", head)
            if length and len(body) >= int(length.group(1)):
                break
        return answer


def test_plain_http_to_a_wss_central_system_gets_400_and_a_line(sims, certs) -> None:  # type: ignore[no-untyped-def]
    """A ws:// URL at a wss:// Central System (the `ocppsim` process, on uvloop when it is
    installed): the request used to get a closed connection; now nginx's 400 in plain HTTP,
    and the Central System's line says what happened."""
    port = free_port()
    cs = sims.cs(port, "-u", "/ocpp", "--tls-cert", certs.server, "--tls-key", certs.server_key)
    cs.expect(r"cs: wss on port \d+")
    mark = cs.mark()
    request = b"GET /ocpp/cp01 HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n\r\n"
    answer = _ask(port, request)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n"), answer
    assert answer.endswith(
        b"The plain HTTP request was sent to a TLS port: use wss:// (or https://)\n"
    )
    cs.expect(
        r"cs: Error: TLS handshake refused: the peer sent plain HTTP to the TLS port and was"
        r" answered 400: wss:// or https:// is needed \(not-tls\)\.$",
        since=mark,
    )


def test_tls_to_a_plain_soap_central_system_is_a_line(sims, certs) -> None:  # type: ignore[no-untyped-def]
    """An https:// URL at a plain http:// SOAP Central System: its HTTP server answers the
    ClientHello 400 and the Central System used to say nothing; now a line says why."""
    port = free_port()
    cs = sims.raw("start_cs", str(port), "-t", "soap", "-u", "/ocpp")
    cs.expect(rf"cs: SOAP Server listening on port {port}\b")
    mark = cs.mark()
    client = ssl.create_default_context(cafile=certs.ca)
    with pytest.raises(ssl.SSLError):
        _ask(port, b"POST /ocpp HTTP/1.1\r\n\r\n", tls=client)
    cs.expect(
        r"cs: Error: connection from 127\.0\.0\.1 refused \(HTTP 400 Bad Request\): it began a"
        r" TLS handshake \(https://\) and this port speaks plain http:// \(start_cs --tls-cert"
        r" FILE --tls-key FILE serves https://\)\.$",
        since=mark,
    )
