"""The security profiles between a Central System and Charge Points in one process, on real TLS
sockets (127.0.0.1): profiles 1, 2 and 3 work, and each way a charge point can be wrong is
refused with what both ends say, while the Central System keeps serving the others."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from ocppsim_testing import Lines, TestCerts

from ocppsim.sim.central_system import CentralSystem
from ocppsim.sim.charge_point import ChargePoint
from ocppsim.sim.security import (
    CentralSystemSecurity,
    ChargePointSecurity,
    SecurityOptionsError,
    authorization_header,
)
from ocppsim.sim.simulator import CommandError, Simulator
from ocppsim.transport import ConnectFailed
from ocppsim.transport.ws.client import open_connection

PASSWORDS = "cp01:password-of-cp01,cp02:password-of-cp02"


@pytest.fixture(autouse=True)
def _slow_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """One connection attempt per case: the next one is far away."""
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "600")


def cs_options(certs: TestCerts, profile: int, server: str = "server") -> dict[str, Any]:
    """`start_cs` options of a Central System of `profile`."""
    tls = {"tls_cert": getattr(certs, server), "tls_key": getattr(certs, f"{server}_key")}
    if profile == 1:
        return {"auth": PASSWORDS}
    if profile == 2:
        return {**tls, "auth": PASSWORDS}
    return {**tls, "client_ca": certs.ca}


def good_cp_options(certs: TestCerts, profile: int) -> dict[str, Any]:
    """`start_cp` options of cp02 as the Central System of `profile` wants it."""
    if profile == 1:
        return {"password": "password-of-cp02"}
    if profile == 2:
        return {"ca": certs.ca, "password": "password-of-cp02"}
    return {"ca": certs.ca, "cert": certs.cp02, "key": certs.cp02_key}


def url(cs: CentralSystem, scheme: str, host: str = "localhost") -> str:
    return f"{scheme}://{host}:{cs.port}/ocpp"


@dataclass
class Setup:
    """A running Central System (with cp02 connected to it) and the simulator around it."""

    sim: Simulator
    cs: CentralSystem
    profile: int
    lines: Lines
    started: list[ChargePoint] = field(default_factory=list)

    def cp(
        self,
        target: str,
        cp_id: str,
        protocol: str = "ocpp1.6",
        behave: bool = False,
        **options: Any,
    ) -> ChargePoint:
        security = ChargePointSecurity.from_options(target, **options)
        cp = ChargePoint(
            target,
            cp_id,
            version=protocol,
            behaviour=self.sim.cp_behaviour,
            security=security,
            behave=behave,
        )
        self.sim.add_charge_point(cp)
        cp.start()
        return cp

    async def still_serving(self) -> None:
        """cp02 is still connected and answered."""
        assert "cp02" in self.cs.peers
        answer = await self.sim.cp_call("cp02", "Heartbeat", [])
        assert answer["currentTime"].endswith("Z")


async def started(
    certs: TestCerts, lines: Lines, profile: int, server: str = "server", **extra: Any
) -> Setup:
    sim = Simulator()
    security = CentralSystemSecurity.from_options(**cs_options(certs, profile, server), **extra)
    cs = CentralSystem(
        0, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=security
    )
    sim.add_central_system(cs)
    await cs.start()
    setup = Setup(sim, cs, profile, lines)
    scheme = "ws" if profile == 1 else "wss"
    setup.cp(url(cs, scheme), "cp02", **good_cp_options(certs, profile))
    await lines.wait_for(
        rf"cs: ChargePoint #cp02 connected \(protocol: ocpp1\.6, profile {profile}\)"
    )
    return setup


def run(
    certs: TestCerts,
    lines: Lines,
    profile: int,
    case: Callable[[Setup], Awaitable[None]],
    **kw: Any,
) -> None:
    async def scenario() -> None:
        setup = await started(certs, lines, profile, **kw)
        try:
            await asyncio.wait_for(case(setup), 30)
            await setup.still_serving()
        finally:
            await setup.sim.shutdown()

    asyncio.run(scenario())


# ---------------------------------------------------------------- the profiles, working


@pytest.mark.parametrize("profile", [1, 2, 3])
def test_each_profile_connects_and_says_so_at_both_ends(
    certs: TestCerts, lines: Lines, profile: int
) -> None:
    async def case(setup: Setup) -> None:
        scheme = "ws" if profile == 1 else "wss"
        options = good_cp_options(certs, profile)
        if profile == 3:
            options.update(cert=certs.cp01, key=certs.cp01_key)
        else:
            options["password"] = "password-of-cp01"
        setup.cp(url(setup.cs, scheme), "cp01", protocol="ocpp2.0.1", **options)
        await lines.wait_for(rf"cp#cp01: Connected to Central System \(profile {profile}\)\.")
        await lines.wait_for(
            rf"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile {profile}\)\."
        )
        answer = await setup.sim.remote_call("cp01", "GetVariables", [])
        assert answer["getVariableResult"]

    run(certs, lines, profile, case)
    expected = {
        1: r"cs: ws on port \d+, profile 1 \(Basic auth: 2 charge points\)$",
        2: r"cs: wss on port \d+, profile 2 \(Basic auth: 2 charge points; server certificate "
        r"CN=localhost\)$",
        3: r"cs: wss on port \d+, profile 3 \(client certificates from CA 'ocppsim test CA'; "
        r"server certificate CN=localhost\)$",
    }
    assert lines.matching(expected[profile])
    assert lines.errors() == []


# ------------------------------------------------------------ the negative cases (issue 12)

#: what each end says for each negative case, after its `cs: ` or `cp#<id>: ` (a CP's line then
#: goes on with ` Retry in …`); None: that end says nothing (it is not ocppsim, or it never
#: sees the connection); `…` stands for any text. docs/security.md's table says the same, word
#: for word (test_the_docs_table_says_what_each_end_says).
SAID: dict[str, tuple[str | None, str | None]] = {
    "wrong password": (
        "Error: connection of #cp01 refused (HTTP 401 Unauthorized): wrong password for cp01.",
        "Connect Error: server rejected the connection: HTTP 401 Unauthorized: wrong password "
        "for cp01.",
    ),
    "no password (no Authorization header)": (
        "Error: connection of #cp01 refused (HTTP 401 Unauthorized): no Authorization header: "
        "Basic auth with the charge point id required.",
        "Connect Error: server rejected the connection: HTTP 401 Unauthorized: no Authorization "
        "header: Basic auth with the charge point id required: give --password (1.6: or "
        "--auth-key).",
    ),
    "user name ≠ id (a client that sends another user name)": (
        "Error: connection of #cp01 refused (HTTP 401 Unauthorized): Basic auth user 'cp02' is "
        "not the charge point id 'cp01'.",
        "server rejected the connection: HTTP 401 Unauthorized: Basic auth user 'cp02' is not "
        "the charge point id 'cp01'",
    ),
    "unknown charge point id": (
        "Error: connection of #cp09 refused (HTTP 401 Unauthorized): unknown charge point id "
        "'cp09'.",
        "Connect Error: server rejected the connection: HTTP 401 Unauthorized: unknown charge "
        "point id 'cp09'.",
    ),
    "client certificate expired": (
        "Error: TLS handshake refused: certificate check failed: certificate has expired "
        "(expired).",
        "Connect Error: TLS: the peer refused our certificate: expired (expired).",
    ),
    "client certificate from another CA": (
        "Error: TLS handshake refused: certificate check failed: unable to get local issuer "
        "certificate (untrusted).",
        "Connect Error: TLS: the peer does not trust our certificate's CA (untrusted).",
    ),
    "client certificate CN ≠ id": (
        "Error: connection of #cp01 refused (HTTP 403 Forbidden): the client certificate has CN "
        "'not-cp01', not the charge point id 'cp01'.",
        "Connect Error: server rejected the connection: HTTP 403 Forbidden: the client "
        "certificate has CN 'not-cp01', not the charge point id 'cp01'.",
    ),
    "a client offers TLS 1.0/1.1 only": (
        "Error: TLS handshake refused: no TLS version both ends accept (≥ 1.2 here) "
        "(protocol-version).",
        "protocol-version",
    ),
    "a server offers TLS 1.0/1.1 only": (
        None,
        "Connect Error: TLS: the peer accepts none of our TLS versions (protocol-version): OCPP "
        "requires TLS 1.2 or newer at both ends.",
    ),
    "plain ws:// to a wss:// Central System (profile-1 CP at a profile-2 or 3 CS)": (
        "Error: TLS handshake refused: the peer sent plain HTTP to the TLS port and was answered "
        "400: wss:// or https:// is needed (not-tls).",
        "Connect Error: server rejected the connection: HTTP 400 Bad Request: The plain HTTP "
        "request was sent to a TLS port: use wss:// (or https://).",
    ),
    "wss:// to a plain ws:// Central System (profile-2 or 3 CP at a profile-1 CS)": (
        "Error: connection from … refused: it began a TLS handshake (wss://) and this port "
        "speaks plain ws:// (start_cs --tls-cert FILE --tls-key FILE serves wss://).",
        "Connect Error: TLS: the peer closed the connection during the TLS handshake (closed): "
        "if the server speaks plain ws://, use a ws:// URL.",
    ),
    "server host name ≠ the URL's host": (
        "Error: TLS handshake refused: the peer refused our certificate (untrusted): the charge "
        "point refused --tls-cert (its CA, its dates or its host names).",
        "Connect Error: TLS: certificate check failed: Hostname mismatch, certificate is not "
        "valid for 'localhost' (hostname-mismatch): the URL's host must be a name of the "
        "server's certificate.",
    ),
    "self-signed (untrusted) server certificate, no --ca": (
        "Error: TLS handshake refused: the peer does not trust our certificate's CA (untrusted): "
        "the charge point refused --tls-cert (its CA, its dates or its host names).",
        "Connect Error: TLS: certificate check failed: self-signed certificate (untrusted): give "
        "the CA of the server's certificate with --ca.",
    ),
    "profile-2 CP at a profile-3 CS": (
        "Error: TLS handshake refused: the peer sent no client certificate (no-certificate).",
        "Connect Error: TLS: the peer requires a client certificate and we sent none "
        "(no-certificate): the server requires a client certificate (profile 3: --cert, --key).",
    ),
    "profile-3 CP at a profile-2 CS": (
        "Error: connection of #cp01 refused (HTTP 401 Unauthorized): no Authorization header: "
        "Basic auth with the charge point id required.",
        "Connect Error: server rejected the connection: HTTP 401 Unauthorized: no Authorization "
        "header: Basic auth with the charge point id required: this Charge Point is on profile 3 "
        "(a client certificate, no password) and the server wants Basic auth (profiles 1, 2: "
        "--password).",
    ),
    "SOAP: https:// to a plain http:// Central System": (
        "Error: connection from … refused (HTTP 400 Bad Request): it began a TLS handshake "
        "(https://) and this port speaks plain http:// (start_cs --tls-cert FILE --tls-key FILE "
        "serves https://).",
        "Error: BootNotification not sent: cannot connect to https://localhost:…/ocpp: TLS: the "
        "peer does not speak TLS on this port (not-tls): if the Central System speaks plain "
        "HTTP, use an http:// URL.",
    ),
    "SOAP: http:// to an https:// Central System": (
        "Error: TLS handshake refused: the peer sent plain HTTP to the TLS port and was answered "
        "400: wss:// or https:// is needed (not-tls).",
        "Error: no SOAP answer to #…: HTTP 400 Bad Request: The plain HTTP request was sent to a "
        "TLS port: use wss:// (or https://)",
    ),
}


def said(text: str) -> str:
    """A regex of a SAID text (`…`: any text)."""
    return ".+".join(re.escape(part) for part in text.split("…"))


async def _refused(lines: Lines, case: str, cp_id: str = "cp01") -> None:
    """Both ends said what SAID says for `case` (a CP line goes on with its retry)."""
    cs_text, cp_text = SAID[case]
    if cs_text is not None:
        await lines.wait_for(rf"cs: {said(cs_text)}$")
    if cp_text is not None:
        await lines.wait_for(rf"cp#{cp_id}: {said(cp_text)} Retry in \d+ seconds \.\.\.$")


def test_wrong_password(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", ca=certs.ca, password="not-the-password")
        await _refused(lines, "wrong password")

    run(certs, lines, 2, case)


def test_no_authorization_header(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", ca=certs.ca)  # TLS, no password
        await _refused(lines, "no password (no Authorization header)")

    run(certs, lines, 2, case)


def test_user_name_is_not_the_id(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        context = ChargePointSecurity.from_options(url(setup.cs, "wss"), ca=certs.ca)
        assert context is not None
        header = authorization_header("cp02", b"password-of-cp02")  # cp02's, at cp01's URL
        with pytest.raises(ConnectFailed) as failed:
            await open_connection(
                url(setup.cs, "wss") + "/cp01",
                "ocpp1.6",
                ssl_context=context.context(None),
                headers=[("Authorization", header)],
            )
        cs_text, cp_text = SAID["user name ≠ id (a client that sends another user name)"]
        assert failed.value.status == 401
        assert failed.value.reason == cp_text
        await lines.wait_for(rf"cs: {said(cs_text or '')}$")

    run(certs, lines, 2, case)


def test_unknown_id(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp09", ca=certs.ca, password="password-of-cp01")
        await _refused(lines, "unknown charge point id", "cp09")

    run(certs, lines, 2, case)


def test_expired_client_certificate(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            ca=certs.ca,
            cert=certs.expired_cp01,
            key=certs.expired_cp01_key,
        )
        await _refused(lines, "client certificate expired")

    run(certs, lines, 3, case)


def test_client_certificate_from_another_ca(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            ca=certs.ca,
            cert=certs.foreign_cp01,
            key=certs.foreign_cp01_key,
        )
        await _refused(lines, "client certificate from another CA")

    run(certs, lines, 3, case)


def test_client_certificate_cn_is_not_the_id(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            ca=certs.ca,
            cert=certs.wrong_cn_cp01,
            key=certs.wrong_cn_cp01_key,
        )
        await _refused(lines, "client certificate CN ≠ id")

    run(certs, lines, 3, case)


def _old_tls(purpose: int) -> ssl.SSLContext:
    """A client or server (`ssl.PROTOCOL_TLS_*`) of TLS 1.0 and 1.1 only (OpenSSL's security
    level 0 allows them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ssl.SSLContext(purpose)
        if purpose == ssl.PROTOCOL_TLS_CLIENT:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        context.minimum_version = ssl.TLSVersion.TLSv1
        context.maximum_version = ssl.TLSVersion.TLSv1_1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def test_tls_1_0_and_1_1_are_refused(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        client = _old_tls(ssl.PROTOCOL_TLS_CLIENT)
        with pytest.raises(ConnectFailed) as failed:
            await open_connection(url(setup.cs, "wss") + "/cp01", "ocpp1.6", ssl_context=client)
        cs_text, cp_text = SAID["a client offers TLS 1.0/1.1 only"]
        assert failed.value.tls is not None and failed.value.tls.code == cp_text
        assert failed.value.reason.startswith("TLS: ")
        await lines.wait_for(rf"cs: {said(cs_text or '')}$")

    run(certs, lines, 2, case)


def test_a_server_of_tls_1_0_and_1_1_only_is_refused_by_the_charge_point(
    certs: TestCerts, lines: Lines
) -> None:
    """A server (not ocppsim's) that offers TLS 1.0 and 1.1 only: the Charge Point, which
    requires 1.2 or newer (OCPP 2.0.1 Part 2 §A00; 1.6 security whitepaper §2), says so."""

    async def scenario() -> None:
        from ocppsim.security.tls import report_handshake_failures

        server_context = _old_tls(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(certs.server, certs.server_key)
        refused: list[BaseException] = []
        # its alert goes out, as a TLS server's does (asyncio alone drops the connection first)
        report_handshake_failures(server_context, refused.append)
        hello = asyncio.Event()

        async def served(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            hello.set()  # never reached: the handshake fails first
            writer.close()

        server = await asyncio.start_server(served, "127.0.0.1", 0, ssl=server_context)
        port = server.sockets[0].getsockname()[1]
        sim = Simulator()
        security = ChargePointSecurity.from_options(
            f"wss://localhost:{port}/ocpp", ca=certs.ca, password="password-of-cp01"
        )
        cp = ChargePoint(
            f"wss://localhost:{port}/ocpp",
            "cp01",
            version="ocpp1.6",
            behaviour=sim.cp_behaviour,
            security=security,
        )
        sim.add_charge_point(cp)
        cp.start()
        try:
            await _refused(lines, "a server offers TLS 1.0/1.1 only")
            assert refused and not hello.is_set()
        finally:
            await sim.shutdown()
            server.close()

    asyncio.run(asyncio.wait_for(scenario(), 30))


def test_plain_ws_to_the_wss_port(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "ws"), "cp01", password="password-of-cp01")
        await _refused(
            lines, "plain ws:// to a wss:// Central System (profile-1 CP at a profile-2 or 3 CS)"
        )

    run(certs, lines, 2, case)


def test_wss_to_a_plain_ws_port(certs: TestCerts, lines: Lines) -> None:
    """A profile-2 Charge Point at a profile-1 Central System: the CS sees a TLS handshake on
    its plain port and says so; the CP learns that the server closed during the handshake."""

    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", ca=certs.ca, password="password-of-cp01")
        await _refused(
            lines, "wss:// to a plain ws:// Central System (profile-2 or 3 CP at a profile-1 CS)"
        )

    run(certs, lines, 1, case)


def test_server_host_name_mismatch_at_the_charge_point(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", ca=certs.ca, password="password-of-cp01")
        await _refused(lines, "server host name ≠ the URL's host")

    run_mismatch(certs, lines, case)


def run_mismatch(certs: TestCerts, lines: Lines, case: Callable[[Setup], Awaitable[None]]) -> None:
    """A profile-2 Central System whose certificate names csms.example, not localhost: cp02
    checks the chain only (a context without host name check), cp01 as charge points do."""

    async def scenario() -> None:
        sim = Simulator()
        security = CentralSystemSecurity.from_options(**cs_options(certs, 2, "other_host_server"))
        cs = CentralSystem(
            0, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=security
        )
        sim.add_central_system(cs)
        await cs.start()
        setup = Setup(sim, cs, 2, lines)
        good = ChargePointSecurity.from_options(url(cs, "wss"), **good_cp_options(certs, 2))
        assert good is not None
        from ocppsim.security import client_context

        chain_only = client_context([certs.pki.ca.certificate], check_hostname=False)
        good.context = lambda identity, installed=(): chain_only  # type: ignore[method-assign]
        cp02 = ChargePoint(
            url(cs, "wss"), "cp02", version="ocpp1.6", behaviour=sim.cp_behaviour, security=good
        )
        sim.add_charge_point(cp02)
        cp02.start()
        await lines.wait_for(r"cs: ChargePoint #cp02 connected")
        try:
            await asyncio.wait_for(case(setup), 30)
            await setup.still_serving()
        finally:
            await sim.shutdown()

    asyncio.run(scenario())


def test_self_signed_server_without_ca(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", password="password-of-cp01")  # no --ca
        await _refused(lines, "self-signed (untrusted) server certificate, no --ca")

    async def scenario() -> None:
        sim = Simulator()
        security = CentralSystemSecurity.from_options(**cs_options(certs, 2, "self_signed_server"))
        cs = CentralSystem(
            0, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=security
        )
        sim.add_central_system(cs)
        await cs.start()
        setup = Setup(sim, cs, 2, lines)
        # cp02 trusts the self-signed certificate itself
        setup.cp(url(cs, "wss"), "cp02", ca=certs.self_signed_server, password="password-of-cp02")
        await lines.wait_for(r"cs: ChargePoint #cp02 connected")
        try:
            await asyncio.wait_for(case(setup), 30)
            await setup.still_serving()
        finally:
            await sim.shutdown()

    asyncio.run(scenario())


def test_profile_2_charge_point_at_a_profile_3_central_system(
    certs: TestCerts, lines: Lines
) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", ca=certs.ca, password="password-of-cp01")
        await _refused(lines, "profile-2 CP at a profile-3 CS")

    run(certs, lines, 3, case)


def test_profile_3_charge_point_at_a_profile_2_central_system(
    certs: TestCerts, lines: Lines
) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "wss"), "cp01", ca=certs.ca, cert=certs.cp01, key=certs.cp01_key)
        await _refused(lines, "profile-3 CP at a profile-2 CS")

    run(certs, lines, 2, case)


def test_wrong_password_over_plain_ws_profile_1(certs: TestCerts, lines: Lines) -> None:
    async def case(setup: Setup) -> None:
        setup.cp(url(setup.cs, "ws"), "cp01", password="password-of-cp02")
        await _refused(lines, "wrong password")

    run(certs, lines, 1, case)


def test_the_docs_table_says_what_each_end_says() -> None:
    """docs/security.md's table of negative cases has a row per case of SAID, and each cell's
    code is what that end says (a cell without code: that end says nothing)."""
    from pathlib import Path

    docs = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    section = docs.read_text(encoding="utf-8").split("## What each end says", 1)[1]
    section = section.split("\n## ", 1)[0]
    table: dict[str, tuple[str | None, str | None]] = {}
    for row in re.findall(r"^\|(.*)\|$", section, re.M)[2:]:  # after the head and its rule
        case, cs_cell, cp_cell = (cell.strip() for cell in row.split("|"))
        code = [re.search(r"`([^`]+)`", cell) for cell in (cs_cell, cp_cell)]
        table[case] = (code[0] and code[0][1], code[1] and code[1][1])
    assert table == SAID


# ------------------------------------------------------------------- options that do not fit


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"profile": "4"}, "--security-profile 4: use 1, 2 or 3"),
        ({"profile": "1", "auth": PASSWORDS, "tls": True}, "profile 1 is Basic auth over ws://"),
        ({"profile": "2", "tls": True}, "profile 2 needs --auth"),
        ({"profile": "2", "auth": PASSWORDS}, "profile 2 needs TLS: give --tls-cert and --tls-key"),
        ({"profile": "3", "tls": True}, "profile 3 needs --tls-cert, --tls-key and --client-ca"),
        ({"client_ca": "ca"}, "--client-ca needs TLS"),
        ({"tls_cert": "server"}, "--tls-cert needs --tls-key"),
        ({"auth": "no-such-file"}, "--auth no-such-file: no such file"),
        ({"auth": "cp01:a,cp01:b"}, "--auth item 2: cp01 is given twice"),
        (
            {"tls": True, "client_ca": "ca", "ca_key": "server_key"},
            "no CA certificate of --client-ca",
        ),
        ({"tls_cert": "ca", "tls_key": "server_key"}, "is not the private key of"),
    ],
)
def test_central_system_options_that_do_not_fit(
    certs: TestCerts, options: dict[str, Any], message: str
) -> None:
    given = dict(options)
    if given.pop("tls", False):
        given.update(tls_cert=certs.server, tls_key=certs.server_key)
    for name in ("client_ca", "tls_cert", "tls_key", "ca_key"):
        if name in given and given[name] in ("ca", "server", "server_key"):
            given[name] = getattr(certs, given[name])
    with pytest.raises(SecurityOptionsError, match=message.replace("(", r"\(")):
        CentralSystemSecurity.from_options(**given)


@pytest.mark.parametrize(
    ("target", "options", "message"),
    [
        ("wss://h/ocpp", {"profile": "1", "password": "x"}, "profile 1 is Basic auth over ws://"),
        ("ws://h/ocpp", {"profile": "2", "password": "x"}, "profile 2 is TLS: use a wss:// URL"),
        ("wss://h/ocpp", {"profile": "2"}, "profile 2 needs --password"),
        ("wss://h/ocpp", {"profile": "3", "password": "x"}, "profile 3 needs --cert and --key"),
        ("ws://h/ocpp", {"ca": "ca"}, "--ca, --cert and --key are for TLS: use a wss:// URL"),
        ("ws://h/ocpp", {"password": "x", "auth_key": "00"}, "not both"),
        ("ws://h/ocpp", {"auth_key": "xyz"}, "--auth-key xyz: not hexadecimal"),
        ("wss://h/ocpp", {"cert": "cp01"}, "--cert needs --key"),
    ],
)
def test_charge_point_options_that_do_not_fit(
    certs: TestCerts, target: str, options: dict[str, Any], message: str
) -> None:
    given = {k: getattr(certs, v) if v in ("ca", "cp01") else v for k, v in options.items()}
    with pytest.raises(SecurityOptionsError, match=message.replace("(", r"\(")):
        ChargePointSecurity.from_options(target, **given)


@pytest.mark.parametrize(
    ("protocol", "event"),
    [("ocpp1.6", "InvalidCentralSystemCertificate"), ("ocpp2.0.1", "InvalidCsmsCertificate")],
)
def test_a_refused_server_certificate_is_reported_once_connected_by_other_means(
    certs: TestCerts, lines: Lines, monkeypatch: pytest.MonkeyPatch, protocol: str, event: str
) -> None:
    """The Central System's certificate fails the check (wrong host name); once it has a
    good one, the Charge Point connects, boots and sends a SecurityEventNotification."""
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.2")

    async def scenario() -> None:
        sim = Simulator()
        wrong = CentralSystemSecurity.from_options(**cs_options(certs, 2, "other_host_server"))
        cs = CentralSystem(
            0, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=wrong
        )
        sim.add_central_system(cs)
        await cs.start()
        target = url(cs, "wss")
        security = ChargePointSecurity.from_options(
            target, ca=certs.ca, password="password-of-cp01"
        )
        cp = ChargePoint(
            target, "cp01", version=protocol, behaviour=sim.cp_behaviour, security=security
        )
        sim.add_charge_point(cp)
        cp.start()
        await lines.wait_for(r"cp#cp01: Connect Error: TLS: .* \(hostname-mismatch\)")
        port = cs.port
        await sim.stop_central_system()
        right = CentralSystemSecurity.from_options(**cs_options(certs, 2))
        cs = CentralSystem(
            port, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=right
        )
        sim.add_central_system(cs)
        await cs.start()
        await lines.wait_for(r"cp#cp01: Connected to Central System \(profile 2\)\.")
        mark = lines.mark()
        await sim.cp_call("cp01", "BootNotification", [])
        sent = await lines.wait_for(r'cp#cp01: >>cs \[2,"[^"]+","SecurityEventNotification"', mark)
        assert f'"type":"{event}"' in sent
        assert "Hostname mismatch" in sent
        unique_id = re.search(r'\[2,"([^"]+)"', sent)[1]  # type: ignore[index]
        await lines.wait_for(rf'cp#cp01: <<cs \[3,"{unique_id}"', mark)
        assert len(lines.matching(r"cp#cp01: >>cs .*SecurityEventNotification", mark)) == 1
        await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# ------------------------------------------------------- the password forms (1.6 vs 2.x)

KEY_HEX = "000102030405060708090A0B0C0D0E0F10111213"  # 20 bytes, as the whitepaper sizes it


def test_a_16_key_is_its_bytes_and_its_hex_text_is_accepted_with_a_warning() -> None:
    from ocppsim.core.versions import get
    from ocppsim.sim.security import Credentials

    v16, v201 = get("1.6"), get("2.0.1")
    table = Credentials.parse(f"cp01:{KEY_HEX},cp02:plain-password-16c,*:for-anyone-else")
    assert table.describe() == "2 charge points, any other id"
    key = bytes.fromhex(KEY_HEX)
    assert table.check("cp01", key, v16) == (True, "")
    ok, warning = table.check("cp01", KEY_HEX.encode(), v16)
    assert ok and "hexadecimal text, not as the bytes" in warning
    # 2.x sends the text: the hex text is right there, its bytes are not
    assert table.check("cp01", KEY_HEX.encode(), v201) == (True, "")
    ok, warning = table.check("cp01", key, v201)
    assert ok and "hex-decoded" in warning
    # a text password: 1.6 configures it as hex and sends its bytes, which are the text
    assert table.check("cp02", b"plain-password-16c", v16) == (True, "")
    ok, warning = table.check("cp02", b"plain-password-16c".hex().encode(), v16)
    assert ok and "hexadecimal text" in warning
    assert table.check("cp02", b"plain-password-16c".hex().encode(), v201) == (
        False,
        "wrong password for cp02",
    )
    assert table.check("cp77", b"for-anyone-else", v201) == (True, "")
    assert table.check("cp77", b"nope", v201) == (False, "wrong password for cp77")


def test_the_authorization_header_carries_raw_key_bytes_as_the_16_spec_example_does() -> None:
    from websockets.datastructures import Headers

    from ocppsim.sim.security import read_authorization

    # OCPP-J 1.6 §6.2.2's example: identity AL1000, key 0001020304050607FFFFFFCCCCCCCCCCCC
    key = bytes.fromhex("0001020304050607FFFFFFCCCCCCCCCCCC")
    header = authorization_header("AL1000", key)
    assert header == "Basic QUwxMDAwOgABAgMEBQYH////zMzMzMzM"
    assert read_authorization(Headers(Authorization=header), "AL1000") == (key, "")
    # an id with a ':' (allowed in 1.6) is split after the id, not at the first ':'
    header = authorization_header("a:b", b"pw")
    assert read_authorization(Headers(Authorization=header), "a:b") == (b"pw", "")
    assert read_authorization(Headers(Authorization="Bearer xyz"), "cp01")[0] is None
    assert read_authorization(Headers(), "cp01")[1].startswith("no Authorization header")


# ---------------------------------------------------------------------- SOAP over HTTPS


def test_soap_over_https_both_ways_and_what_an_untrusted_end_says(
    certs: TestCerts, lines: Lines
) -> None:
    """A SOAP Central System on https:// and a Charge Point whose callback server is https://
    too: CALLs both ways; a Charge Point that does not trust the CS's CA, and a CS that does
    not trust a callback's, each say why at once."""

    async def scenario() -> None:
        sim = Simulator()
        security = CentralSystemSecurity.from_options(
            transport="soap", tls_cert=certs.server, tls_key=certs.server_key, ca=certs.ca
        )
        cs = CentralSystem(
            0,
            transport="soap",
            host="127.0.0.1",
            endpoint="/ocpp",
            behaviour=sim.cs_behaviour,
            security=security,
        )
        sim.add_central_system(cs)
        await cs.start()
        await lines.wait_for(
            r"cs: https on port \d+ \(server certificate CN=localhost; callbacks checked "
            r"against CA 'ocppsim test CA'\)$"
        )
        target = f"https://localhost:{cs.port}/ocpp"

        def soap_cp(cp_id: str, **options: Any) -> ChargePoint:
            cp_security = ChargePointSecurity.from_options(target, transport="soap", **options)
            cp = ChargePoint(
                target,
                cp_id,
                transport="soap",
                version="ocpp1.5",
                behaviour=sim.cp_behaviour,
                security=cp_security,
                remote_port=0,
            )
            sim.add_charge_point(cp)
            cp.start()
            return cp

        soap_cp("cp01", ca=certs.ca, tls_cert=certs.server, tls_key=certs.server_key)
        await lines.wait_for(
            r"cp#cp01: Central System at https://localhost:\d+/ocpp, From "
            r"address https://127\.0\.0\.1:\d+/$"
        )
        assert (await sim.cp_call("cp01", "Heartbeat", []))["currentTime"].endswith("Z")
        assert await sim.remote_call("cp01", "Reset", []) == {"status": "Accepted"}
        # a Charge Point without --ca: the system's CAs do not know the test CA
        soap_cp("cp02")
        with pytest.raises(CommandError) as failed:
            await sim.cp_call("cp02", "Heartbeat", [])
        assert str(failed.value) == (
            f"Error: Heartbeat not sent: cannot connect to {target}: TLS: certificate check "
            "failed: unable to get local issuer certificate (untrusted)."
        )
        await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    assert lines.matching(r"cs: <<cp#cp01 /Heartbeat") and lines.matching(r"cp#cp01: <<cs /Reset")


@pytest.mark.parametrize("tls_at", ["cs", "cp"])
def test_soap_with_tls_at_one_end_only_says_which_scheme_to_use(
    certs: TestCerts, lines: Lines, tls_at: str
) -> None:
    """A behaving SOAP Charge Point's BootNotification cannot be posted: https:// to a plain
    Central System, or http:// to an https:// one. Its post fails at once and it says so."""
    case = (
        "SOAP: http:// to an https:// Central System"
        if tls_at == "cs"
        else "SOAP: https:// to a plain http:// Central System"
    )

    async def scenario() -> None:
        sim = Simulator()
        tls = {"tls_cert": certs.server, "tls_key": certs.server_key} if tls_at == "cs" else {}
        security = CentralSystemSecurity.from_options(transport="soap", **tls)
        cs = CentralSystem(
            0,
            transport="soap",
            host="127.0.0.1",
            endpoint="/ocpp",
            behaviour=sim.cs_behaviour,
            security=security,
        )
        sim.add_central_system(cs)
        await cs.start()
        target = f"{'http' if tls_at == 'cs' else 'https'}://localhost:{cs.port}/ocpp"
        options = {"ca": certs.ca} if tls_at == "cp" else {}
        cp = ChargePoint(
            target,
            "cp01",
            transport="soap",
            version="ocpp1.5",
            behaviour=sim.cp_behaviour,
            security=ChargePointSecurity.from_options(target, transport="soap", **options),
            behave=True,
            remote_port=0,
        )
        sim.add_charge_point(cp)
        cp.start()
        cs_text, cp_text = SAID[case]
        try:
            await lines.wait_for(rf"cp#cp01: {said(cp_text or '')}$")
            if cs_text is not None:
                await lines.wait_for(rf"cs: {said(cs_text)}$")
        finally:
            await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 30))


# ------------------------------------------------------------- SignCertificate (--ca-key)


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_a_cs_with_a_ca_key_signs_a_real_csr_and_sends_certificate_signed(
    certs: TestCerts, lines: Lines, protocol: str
) -> None:
    from cryptography import x509

    from ocppsim.security import make_csr
    from ocppsim.security.pem import public_key_der

    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"), "cp01", protocol, ca=certs.ca, cert=certs.cp01, key=certs.cp01_key
        )
        await lines.wait_for(r"cs: ChargePoint #cp01 connected")
        request = make_csr("cp01", organization="ocppsim")
        payload: dict[str, Any] = {"csr": request.csr_pem}
        if protocol == "ocpp2.0.1":
            payload["certificateType"] = "ChargingStationCertificate"
        mark = lines.mark()
        assert await setup.sim.cp_call("cp01", "SignCertificate", payload=payload) == {
            "status": "Accepted"
        }
        await lines.wait_for(
            r"cs: Signed the CSR of #cp01 as CA 'ocppsim test CA': CertificateSigned follows\.",
            mark,
        )
        sent = await lines.wait_for(r'cs: >>cp#cp01 \[2,"[^"]+","CertificateSigned"', mark)
        answer_sent = lines.matching(r'cs: >>cp#cp01 \[3,"', mark)
        assert answer_sent and lines.lines.index(answer_sent[0]) < lines.lines.index(sent)
        frame = json.loads(sent.split(" ", 4)[-1])
        chain = x509.load_pem_x509_certificates(frame[3]["certificateChain"].encode())
        assert chain[0].subject.rfc4514_string() == "CN=cp01,O=ocppsim"
        assert chain[0].issuer == certs.pki.ca.certificate.subject
        assert public_key_der(chain[0]) == public_key_der(request.key)
        if protocol == "ocpp2.0.1":
            assert frame[3]["certificateType"] == "ChargingStationCertificate"
        # a CSR for another id is refused
        other = make_csr("cp02")
        assert await setup.sim.cp_call(
            "cp01", "SignCertificate", payload={"csr": other.csr_pem}
        ) == {"status": "Rejected"}
        await lines.wait_for(
            r"cs: Error: SignCertificate of #cp01 answered Rejected: the csr asks for CN "
            r"'cp02', but it came from charge point 'cp01'\."
        )

    run(certs, lines, 3, case, ca_key=certs.ca_key)


def test_charge_points_that_trust_the_same_cas_share_one_tls_context(certs: TestCerts) -> None:
    """A fleet does not build a context per charge point: the same CAs and client certificate
    give the same `ssl.SSLContext`; another certificate, or a CA more, another one."""
    first = ChargePointSecurity.from_options("wss://h/ocpp", ca=certs.ca, password="x")
    second = ChargePointSecurity.from_options("wss://h/ocpp", ca=certs.ca, password="y")
    assert first is not None and second is not None
    assert first.context(None) is second.context(None)
    with_cert = ChargePointSecurity.from_options(
        "wss://h/ocpp", ca=certs.ca, cert=certs.cp01, key=certs.cp01_key
    )
    assert with_cert is not None
    identity = with_cert.identity
    assert with_cert.context(identity) is with_cert.context(identity)
    assert with_cert.context(identity) is not first.context(None)
    other_root = certs.pki.server.certificate  # any certificate as an extra trust anchor
    assert first.context(None, [other_root]) is not first.context(None)


def test_charge_points_given_the_same_ca_share_its_checked_store_entry(certs: TestCerts) -> None:
    """A fleet given --ca checks the CA once: each charge point's store holds the same entry
    (CentralSystemRootCertificate in 1.6, CSMSRootCertificate in 2.x), and one store's
    InstallCertificate does not reach another's."""
    from ocppsim.core.versions import get
    from ocppsim.security import make_ca
    from ocppsim.security.pem import certificates_pem
    from ocppsim.sim.security import certificate_services

    def store(version: str) -> Any:
        security = ChargePointSecurity.from_options("wss://h/ocpp", ca=certs.ca, password="x")
        return certificate_services(get(version), security)["certificates"]

    first, second, station = store("1.6"), store("1.6"), store("2.0.1")
    assert first.installed()[0] is second.installed()[0]
    assert first.installed()[0].certificate_type == "CentralSystemRootCertificate"
    assert station.installed()[0].certificate_type == "CSMSRootCertificate"
    other = certificates_pem([make_ca("another root").certificate])
    assert first.install("CentralSystemRootCertificate", other).status == "Accepted"
    assert (len(first), len(second)) == (2, 1)


# ---------------------------------------------------------- credentials changed at run time


def test_a_new_authorization_key_is_used_on_the_next_connection(
    certs: TestCerts, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChangeConfiguration AuthorizationKey (1.6, hexadecimal): the Charge Point answers
    Accepted, keeps its connection, and sends the new key's bytes when it connects again (to
    a Central System that knows only the new key)."""
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.2")
    new_key = "00112233445566778899AABBCCDDEEFF"

    async def start(sim: Simulator, port: int, auth: str) -> CentralSystem:
        security = CentralSystemSecurity.from_options(
            tls_cert=certs.server, tls_key=certs.server_key, auth=auth
        )
        cs = CentralSystem(
            port, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=security
        )
        sim.add_central_system(cs)
        await cs.start()
        return cs

    async def scenario() -> None:
        sim = Simulator()
        cs = await start(sim, 0, "cp01:password-of-cp01")
        setup = Setup(sim, cs, 2, lines)
        setup.cp(url(cs, "wss"), "cp01", ca=certs.ca, password="password-of-cp01")
        await lines.wait_for(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 2\)")
        answer = await sim.remote_call(
            "cp01", "ChangeConfiguration", [("key", "AuthorizationKey"), ("value", new_key)]
        )
        assert answer == {"status": "Accepted"}
        keys = await sim.remote_call("cp01", "GetConfiguration", [("key", ["AuthorizationKey"])])
        assert "value" not in keys["configurationKey"][0]  # write-only
        port = cs.port
        await sim.stop_central_system()
        mark = lines.mark()
        await start(sim, port, f"cp01:{new_key}")
        await lines.wait_for(
            r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 2\)", mark
        )
        assert not lines.matching(r"cs: WARNING", mark)  # the bytes, as 1.6 sends them
        await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 60))


# ----------------------------- charge point models: a new profile, a signed certificate, a store


#: the Central System accepted cp01's BootNotification (1.6 and 2.x orders of fields)
BOOTED = r'cs: >>cp#cp01 \[3,"[^"]+",\{(?=.*"interval":\d+)(?=.*"status":"Accepted")'


def profiles_2_and_3(certs: TestCerts, **extra: Any) -> dict[str, Any]:
    """A Central System that lets in a password (profile 2) or a certificate (profile 3)."""
    return {
        "profile": 2,
        "tls_cert": certs.server,
        "tls_key": certs.server_key,
        "auth": PASSWORDS,
        "client_ca": certs.ca,
        **extra,
    }


async def started_2_and_3(sim: Simulator, certs: TestCerts, lines: Lines, **extra: Any) -> Setup:
    security = CentralSystemSecurity.from_options(**profiles_2_and_3(certs, **extra))
    cs = CentralSystem(
        0, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=security
    )
    sim.add_central_system(cs)
    await cs.start()
    await lines.wait_for(r"cs: wss on port \d+, profiles 2 and 3 \(")
    return Setup(sim, cs, 2, lines)


def test_raising_the_16_security_profile_reconnects_with_the_client_certificate(
    certs: TestCerts, lines: Lines
) -> None:
    """ChangeConfiguration SecurityProfile 3 at a behaving 1.6 Charge Point on profile 2: never
    lower (Rejected), 3 Accepted, then it reconnects presenting its certificate."""

    async def scenario() -> None:
        sim = Simulator()
        setup = await started_2_and_3(sim, certs, lines)
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            behave=True,
            profile="2",
            ca=certs.ca,
            password="password-of-cp01",
            cert=certs.cp01,
            key=certs.cp01_key,
        )
        await lines.wait_for(r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 2\)")
        await lines.wait_for(BOOTED)
        lower = [("key", "SecurityProfile"), ("value", "1")]
        assert await sim.remote_call("cp01", "ChangeConfiguration", lower) == {"status": "Rejected"}
        mark = lines.mark()
        higher = [("key", "SecurityProfile"), ("value", "3")]
        assert await sim.remote_call("cp01", "ChangeConfiguration", higher) == {
            "status": "Accepted"
        }
        await lines.wait_for(r"cp#cp01: Rebooting \(SecurityProfile\)\.", mark)
        await lines.wait_for(
            r"cs: ChargePoint #cp01 connected \(protocol: ocpp1\.6, profile 3\)\.", mark
        )
        await lines.wait_for(
            r'cp#cp01: >>cs \[2,"[^"]+","SecurityEventNotification",\{"type":'
            r'"ReconfigurationOfSecurityParameters"',
        )
        await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_a_signed_certificate_is_installed_and_used_on_the_next_connection(
    certs: TestCerts, lines: Lines, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    """The Central System triggers SignCertificate; the Charge Point's real CSR is signed with
    --ca-key; CertificateSigned is accepted, and the next connection presents the new
    certificate (1.6: after SecurityProfile 3; 2.0.1: a profile-3 station reconnecting)."""
    from cryptography import x509

    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.2")

    async def scenario() -> None:
        sim = Simulator()
        setup = await started_2_and_3(sim, certs, lines, ca_key=certs.ca_key)
        options: dict[str, Any] = {"ca": certs.ca}
        if protocol == "ocpp1.6":
            options.update(profile="2", password="password-of-cp01")
        else:  # a 2.x station stays on its profile: it starts on 3, with the kit's certificate
            options.update(cert=certs.cp01, key=certs.cp01_key)
        cp = setup.cp(url(setup.cs, "wss"), "cp01", protocol, behave=True, **options)
        await lines.wait_for(r"cs: ChargePoint #cp01 connected")
        await lines.wait_for(BOOTED)
        mark = lines.mark()
        if protocol == "ocpp1.6":
            trigger = [("requestedMessage", "SignChargePointCertificate")]
            answer = await sim.remote_call("cp01", "ExtendedTriggerMessage", trigger)
        else:
            trigger = [("requestedMessage", "SignChargingStationCertificate")]
            answer = await sim.remote_call("cp01", "TriggerMessage", trigger)
        assert answer == {"status": "Accepted"}
        await lines.wait_for(r"cs: Signed the CSR of #cp01 as CA 'ocppsim test CA'", mark)
        await lines.wait_for(
            r"cp#cp01: New client certificate CN=cp01 from CA 'ocppsim test CA', valid until "
            r"\d{4}-\d\d-\d\d: presented from the next connection \(profile 3\)\.$",
            mark,
        )
        await lines.wait_for(r'cp#cp01: >>cs \[3,"[^"]+",\{"status":"Accepted"\}\]', mark)
        holder = cp.model if protocol == "ocpp1.6" else cp.model.certificates  # type: ignore[union-attr]
        new = holder.client_certificate
        assert new is not None and new.certificate != certs.pki.clients["cp01"].certificate
        mark = lines.mark()
        if protocol == "ocpp1.6":
            higher = [("key", "SecurityProfile"), ("value", "3")]
            assert await sim.remote_call("cp01", "ChangeConfiguration", higher) == {
                "status": "Accepted"
            }
        else:
            await setup.cs.peers["cp01"].close(1000, "come back")
        await lines.wait_for(
            r"cs: ChargePoint #cp01 connected \(protocol: ocpp[\d.]+, profile 3\)", mark
        )
        tls = setup.cs.peers["cp01"].link.connection.tls  # type: ignore[attr-defined]
        presented = x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))
        assert presented == new.certificate
        await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_a_certificate_for_another_key_is_rejected_with_a_line_and_a_security_event(
    certs: TestCerts, lines: Lines, protocol: str
) -> None:
    """CertificateSigned with cp01's kit certificate while a CSR of a new key is pending (the
    Central System has no --ca-key: it answers SignCertificate and signs nothing): Rejected,
    a line saying why, and InvalidChargePointCertificate (2.x: ...ChargingStation...)."""
    from pathlib import Path

    event = (
        "InvalidChargePointCertificate"
        if protocol == "ocpp1.6"
        else "InvalidChargingStationCertificate"
    )

    async def case(setup: Setup) -> None:
        cp = setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            protocol,
            behave=True,
            ca=certs.ca,
            cert=certs.cp01,
            key=certs.cp01_key,
        )
        await lines.wait_for(BOOTED)
        if protocol == "ocpp1.6":
            trigger = [("requestedMessage", "SignChargePointCertificate")]
            await setup.sim.remote_call("cp01", "ExtendedTriggerMessage", trigger)
        else:
            trigger = [("requestedMessage", "SignChargingStationCertificate")]
            await setup.sim.remote_call("cp01", "TriggerMessage", trigger)
        await lines.wait_for(r'cp#cp01: <<cs \[3,"[^"]+",\{"status":"Accepted"\}\]')  # its CSR
        mark = lines.mark()
        chain = [("certificateChain", Path(certs.cp01).read_text(encoding="ascii"))]
        answer = await setup.sim.remote_call("cp01", "CertificateSigned", chain)
        assert answer == {"status": "Rejected"}
        await lines.wait_for(r"cp#cp01: Error: CertificateSigned rejected: .*key.*\.$", mark)
        sent = await lines.wait_for(r'cp#cp01: >>cs \[2,"[^"]+","SecurityEventNotification"', mark)
        assert f'"type":"{event}"' in sent
        holder = cp.model if protocol == "ocpp1.6" else cp.model.certificates  # type: ignore[union-attr]
        assert holder.client_certificate.certificate == certs.pki.clients["cp01"].certificate

    run(certs, lines, 3, case)


@pytest.mark.parametrize(
    ("protocol", "root"),
    [("ocpp1.6", "CentralSystemRootCertificate"), ("ocpp2.0.1", "CSMSRootCertificate")],
)
def test_install_list_and_delete_act_on_the_charge_points_store(
    certs: TestCerts, lines: Lines, protocol: str, root: str
) -> None:
    """The CA of --ca is in the store as the Central System's root; InstallCertificate adds one,
    GetInstalledCertificateIds lists both, DeleteCertificate removes one."""
    from ocppsim.security import make_ca
    from ocppsim.security.pem import certificates_pem

    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            protocol,
            behave=True,
            ca=certs.ca,
            password="password-of-cp01",
        )
        await lines.wait_for(r"cs: ChargePoint #cp01 connected")
        other = certificates_pem([make_ca("another root").certificate])
        install = [("certificateType", root), ("certificate", other)]
        assert await setup.sim.remote_call("cp01", "InstallCertificate", install) == {
            "status": "Accepted"
        }
        if protocol == "ocpp1.6":
            listed = await setup.sim.remote_call(
                "cp01", "GetInstalledCertificateIds", [("certificateType", root)]
            )
            hashes = listed["certificateHashData"]
        else:
            listed = await setup.sim.remote_call(
                "cp01", "GetInstalledCertificateIds", [("certificateType", [root])]
            )
            hashes = [entry["certificateHashData"] for entry in listed["certificateHashDataChain"]]
        assert listed["status"] == "Accepted" and len(hashes) == 2
        delete = [("certificateHashData", hashes[1])]
        assert await setup.sim.remote_call("cp01", "DeleteCertificate", delete) == {
            "status": "Accepted"
        }
        assert await setup.sim.remote_call("cp01", "DeleteCertificate", delete) == {
            "status": "NotFound"
        }

    run(certs, lines, 2, case)


def test_a_new_basic_auth_password_of_a_2x_station_is_used_on_the_next_connection(
    certs: TestCerts, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SetVariables SecurityCtrlr.BasicAuthPassword (A01): Accepted, write-only (GetVariables
    does not show it), and the next connection sends it as UTF-8 text."""
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.2")
    new_password = "a-new-password-of-cp01"

    async def start(sim: Simulator, port: int, auth: str) -> CentralSystem:
        security = CentralSystemSecurity.from_options(
            tls_cert=certs.server, tls_key=certs.server_key, auth=auth
        )
        cs = CentralSystem(
            port, host="127.0.0.1", endpoint="/ocpp", behaviour=sim.cs_behaviour, security=security
        )
        sim.add_central_system(cs)
        await cs.start()
        return cs

    async def scenario() -> None:
        sim = Simulator()
        cs = await start(sim, 0, "cp01:password-of-cp01")
        setup = Setup(sim, cs, 2, lines)
        setup.cp(
            url(cs, "wss"),
            "cp01",
            "ocpp2.0.1",
            behave=True,
            ca=certs.ca,
            password="password-of-cp01",
        )
        await lines.wait_for(BOOTED)
        variable = {
            "component": {"name": "SecurityCtrlr"},
            "variable": {"name": "BasicAuthPassword"},
        }
        answer = await sim.remote_call(
            "cp01",
            "SetVariables",
            [("setVariableData", [{**variable, "attributeValue": new_password}])],
        )
        assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
        read = await sim.remote_call("cp01", "GetVariables", [("getVariableData", [variable])])
        assert "attributeValue" not in read["getVariableResult"][0]  # write-only
        port = cs.port
        await sim.stop_central_system()
        mark = lines.mark()
        await start(sim, port, f"cp01:{new_password}")
        await lines.wait_for(
            r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 2\)", mark
        )
        assert not lines.matching(r"cs: WARNING", mark)  # the text, as 2.x sends it
        await sim.shutdown()

    asyncio.run(asyncio.wait_for(scenario(), 60))


@pytest.mark.parametrize("protocol", ["ocpp1.6", "ocpp2.0.1"])
def test_the_central_system_expects_the_new_password_it_set(
    certs: TestCerts, lines: Lines, monkeypatch: pytest.MonkeyPatch, protocol: str
) -> None:
    """ocppsim's Central System sets a new password (1.6: ChangeConfiguration AuthorizationKey,
    2.x: SetVariables BasicAuthPassword); once the Charge Point accepts it, the Central System
    says so and lets it in with it on its next connection (no restart, no new --auth)."""
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.2")

    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            protocol,
            behave=True,
            ca=certs.ca,
            password="password-of-cp01",
        )
        await lines.wait_for(BOOTED)
        if protocol == "ocpp1.6":
            change = [("key", "AuthorizationKey"), ("value", "00112233445566778899AABBCCDDEEFF")]
            answer = await setup.sim.remote_call("cp01", "ChangeConfiguration", change)
            assert answer == {"status": "Accepted"}
            what = "AuthorizationKey"
        else:
            data = {
                "component": {"name": "SecurityCtrlr"},
                "variable": {"name": "BasicAuthPassword"},
                "attributeValue": "a-new-password-of-cp01",
            }
            answer = await setup.sim.remote_call(
                "cp01", "SetVariables", [("setVariableData", [data])]
            )
            assert answer["setVariableResult"][0]["attributeStatus"] == "Accepted"
            what = "BasicAuthPassword"
        await lines.wait_for(
            rf"cs: #cp01 accepted a new {what}: Basic auth expects it from its next connection\.$"
        )
        mark = lines.mark()
        await setup.cs.peers["cp01"].close(1000, "come back")
        await lines.wait_for(
            rf"cs: ChargePoint #cp01 connected \(protocol: {re.escape(protocol)}, profile 2\)", mark
        )
        assert not lines.matching(r"cs: (WARNING|Error)", mark)  # the form its version sends

    run(certs, lines, 2, case)


def test_a_2x_station_raises_its_security_profile_with_a_network_profile(
    certs: TestCerts, lines: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    """OCPP 2.0.1 A05 at a behaving station on profile 2: SetNetworkProfile of a lower profile
    is Rejected; of profile 3 (the same Central System) Accepted; NetworkConfigurationPriority
    puts it first; after a Reset the station connects on profile 3 with its certificate."""
    monkeypatch.setenv("OCPPSIM_RETRY_SECONDS", "0.2")

    async def case(setup: Setup) -> None:
        setup.cp(
            url(setup.cs, "wss"),
            "cp01",
            "ocpp2.0.1",
            behave=True,
            profile="2",
            ca=certs.ca,
            password="password-of-cp01",
            cert=certs.cp01,
            key=certs.cp01_key,
        )
        await lines.wait_for(
            r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 2\)"
        )
        await lines.wait_for(BOOTED)

        def network(slot: int, profile: int, scheme: str) -> list[tuple[str, Any]]:
            data = {
                "ocppVersion": "OCPP20",
                "ocppTransport": "JSON",
                "ocppCsmsUrl": url(setup.cs, scheme),
                "messageTimeout": 30,
                "securityProfile": profile,
                "ocppInterface": "Wired0",
            }
            return [("configurationSlot", slot), ("connectionData", data)]

        lower = await setup.sim.remote_call("cp01", "SetNetworkProfile", network(2, 1, "ws"))
        assert lower["status"] == "Rejected"
        assert lower["statusInfo"]["reasonCode"] == "NoSecurityDowngrade"
        higher = await setup.sim.remote_call("cp01", "SetNetworkProfile", network(2, 3, "wss"))
        assert higher == {"status": "Accepted"}
        data = {
            "component": {"name": "OCPPCommCtrlr"},
            "variable": {"name": "NetworkConfigurationPriority"},
            "attributeValue": "2,1",
        }
        answer = await setup.sim.remote_call("cp01", "SetVariables", [("setVariableData", [data])])
        assert answer["setVariableResult"][0]["attributeStatus"] == "RebootRequired"
        mark = lines.mark()
        reset = await setup.sim.remote_call("cp01", "Reset", [("type", "Immediate")])
        assert reset == {"status": "Accepted"}
        await lines.wait_for(
            r"cs: ChargePoint #cp01 connected \(protocol: ocpp2\.0\.1, profile 3\)\.", mark
        )
        await lines.wait_for(r"cp#cp01: Connected to Central System \(profile 3\)\.", mark)

    run(certs, lines, 2, case, client_ca=certs.ca)
