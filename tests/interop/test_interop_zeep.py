"""Interop over SOAP with zeep (an independent SOAP stack) built from the published OCPP 1.6
WSDL files, against an ocppsim Central System and an ocppsim Charge Point on real HTTP on
127.0.0.1: every core 1.6 action in both directions.

zeep plays a Charge Point (a client of our Central System's service; an HTTP server whose
SOAP zeep reads and writes, for the CALLs our Central System sends it) and a Central System
(the same the other way round). Its requests and answers are made from OCA's JSON schemas
alone (`interop_testing.make`); ocppsim sends its registry's default payloads. Whatever the
receiver gets is what the sender meant, and each answer's JSON view validates against the
1.6 schemas.

The published WSDLs are not part of the project: where they are not beside this clone (a
fresh clone), zeep is built from the project's own 1.6 WSDLs, which have the published
files' wire facts (tests/gen/test_wsdl_equivalence.py) and make the same envelopes
(tests/soap/test_codec.py::test_the_published_wsdl_gives_the_same_envelopes).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import reference_facts
import zeep
import zeep.wsa
from aiohttp import web
from interop_testing import make, ordered, published_schema, run
from lxml import etree
from ocppsim_testing import Lines
from zeep.helpers import serialize_object

import ocppsim
from ocppsim.core import versions
from ocppsim.core.defaults import default_payload
from ocppsim.core.validation import validate

VERSION = "1.6"
WSA = "http://www.w3.org/2005/08/addressing"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
#: the actions each service carries over SOAP (1.6: its core ones)
ACTIONS = {s: versions.get(VERSION).actions_over("soap", s) for s in ("cs", "cp")}


def wsdl(service: str) -> Path:
    """The published 1.6 WSDL of `service` when it is at hand, else the project's own."""
    if reference_facts.have_reference():
        return reference_facts.reference_wsdl(VERSION, service)
    return versions.wsdl_path(VERSION, service)


class FromPlugin(zeep.Plugin):
    """Adds WS-Addressing `From` (OCPP-S 1.6: the sender's own service address)."""

    def __init__(self, address: str):
        self.address = address

    def egress(self, envelope: Any, http_headers: Any, operation: Any, options: Any) -> Any:
        header = envelope.find(f"{{{SOAP12}}}Header")
        source = etree.SubElement(header, f"{{{WSA}}}From")
        etree.SubElement(source, f"{{{WSA}}}Address").text = self.address
        return envelope, http_headers


def zeep_client(service: str, plugins: list[Any] | None = None) -> zeep.Client:
    """A zeep client of `service`'s WSDL; it fetches nothing while loading it."""
    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    return zeep.Client(str(wsdl(service)), settings=settings, plugins=plugins or [])


def json_view(value: Any) -> Any:
    """What zeep read, as the JSON payload it means: dates as UTC `Z` strings, decimals as
    numbers, absent (None) fields and empty lists left out."""
    value = serialize_object(value, dict)
    if isinstance(value, list):
        return [json_view(item) for item in value]
    if isinstance(value, dict):
        return {k: json_view(v) for k, v in value.items() if v is not None and v != []}
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def as_sent(payload: Any) -> Any:
    """A JSON payload as it survives XML: an empty list or string is no element at all."""
    if isinstance(payload, dict):
        return {k: as_sent(v) for k, v in payload.items() if v not in ([], "")}
    if isinstance(payload, list):
        return [as_sent(item) for item in payload]
    return payload


def answers(service: str) -> dict[str, Any]:
    """The answer zeep gives each CALL `service` answers, made from the JSON schemas."""
    return {
        action: make(published_schema(VERSION, action + "Response"), full=True)
        for action in ACTIONS[service]
    }


class ZeepService:
    """An HTTP server for the SOAP service of `service`, whose envelopes zeep reads and
    writes from the WSDL: each request body parsed by the operation's input message, each
    answer serialised by its output message, with the WS-Addressing headers OCPP-S 1.6 asks
    for (Action, MessageID, RelatesTo)."""

    def __init__(self, service: str):
        self.client = zeep_client(service)
        self.binding = next(iter(self.client.wsdl.bindings.values()))
        self.answers = answers(service)
        #: per action, the JSON view of each request received
        self.received: dict[str, list[Any]] = {}
        #: the WS-Addressing From of the last request (the caller's own service address)
        self.last_from: str | None = None
        self.charge_box_ids: set[str] = set()
        self._by_element = {op.input.body.qname: op for op in self.binding.all().values()}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        envelope = etree.fromstring(await request.read(), parser)
        body = envelope.find(f"{{{SOAP12}}}Body")
        operation = self._by_element[etree.QName(body[0]).text]
        action = operation.name
        self.received.setdefault(action, []).append(
            json_view(operation.input.body.parse(body[0], self.client.wsdl.types)) or {}
        )
        headers = {etree.QName(h).localname: h for h in envelope.find(f"{{{SOAP12}}}Header")}
        self.charge_box_ids.add(headers["chargeBoxIdentity"].text)
        if "From" in headers:
            self.last_from = headers["From"].findtext(f"{{{WSA}}}Address")
        answer = operation.output.serialize(**self.answers[action]).content
        header = answer.find(f"{{{SOAP12}}}Header")
        if header is None:
            header = etree.Element(f"{{{SOAP12}}}Header")
            answer.insert(0, header)
        for name, text in (
            ("Action", f"/{action}Response"),
            ("MessageID", f"urn:uuid:{uuid.uuid4()}"),
            ("RelatesTo", headers["MessageID"].text),
        ):
            etree.SubElement(header, f"{{{WSA}}}{name}").text = text
        return web.Response(
            body=etree.tostring(answer, xml_declaration=True, encoding="utf-8"),
            content_type="application/soap+xml",
        )


@asynccontextmanager
async def zeep_service(service: str) -> AsyncIterator[ZeepService]:
    server = ZeepService(service)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def zeep_calls(client: zeep.Client, url: str, service: str, box: str) -> dict[str, Any]:
    """zeep calls every action of `service` at `url` (its payloads made from the schemas);
    each answer parses with zeep's WSDL and its JSON view validates. Returns what was sent."""
    binding = next(iter(client.wsdl.bindings))
    proxy = client.create_service(binding, url)
    sent = {}
    for action in ordered(ACTIONS[service]):
        payload = make(published_schema(VERSION, action + "Request"), full=True)
        headers = {"ChargeBoxIdentity": box}
        answer = await asyncio.to_thread(getattr(proxy, action), **payload, _soapheaders=headers)
        operation = client.wsdl.bindings[binding].get(action)
        parts = list(operation.output.body.type.elements)
        if len(parts) == 1:  # zeep unwraps a one-field answer to its value
            answer = {parts[0][0]: answer}
        view = json_view(answer) or {}
        assert validate(VERSION, action + "Response", view) is None, (action, view)
        sent[action] = as_sent(payload)
    return sent


async def ocppsim_calls(
    send: Callable[..., Awaitable[Any]], server: ZeepService, service: str
) -> None:
    """ocppsim sends (`send(action, payload)`: a simulator's `call`) every action of `service`
    with its default payload: zeep reads exactly that, and ocppsim gets zeep's answer as it
    was meant (and valid: `call` raises InvalidMessage otherwise)."""
    for action in ordered(ACTIONS[service]):
        request = default_payload(VERSION, action + "Request")
        assert await send(action, request) == as_sent(server.answers[action]), action
        assert as_sent(request) in server.received[action], action


async def ocppsim_received(side: Any, sent: dict[str, Any]) -> None:
    """ocppsim's side received each action of `sent` as zeep sent it (and answered it:
    `wait_for` hands out only CALLs that passed ocppsim's checks)."""
    for action, payload in sent.items():
        assert (await side.wait_for(action)).payload == payload, action


def test_zeep_charge_point_against_ocppsim_central_system(lines: Lines) -> None:
    async def scenario() -> None:
        cs = ocppsim.CentralSystem(transport="soap", host="127.0.0.1", versions=VERSION)
        async with cs, zeep_service("cp") as callback:
            plugins = [zeep.wsa.WsAddressingPlugin(), FromPlugin(callback.url)]
            sent = await zeep_calls(zeep_client("cs", plugins), cs.url, "cs", "zeepbox")
            await ocppsim_received(cs, sent)
            assert cs.peer("zeepbox").version == VERSION
            await ocppsim_calls(functools.partial(cs.call, "zeepbox"), callback, "cp")
            assert callback.charge_box_ids == {"zeepbox"}

    run(scenario())
    assert lines.problems() == []


def test_zeep_central_system_against_ocppsim_charge_point(lines: Lines) -> None:
    async def scenario() -> None:
        async with zeep_service("cs") as central:
            box = ocppsim.ChargePoint(
                central.url, "simbox", transport="soap", host="127.0.0.1", version=VERSION
            )
            async with box:
                await ocppsim_calls(box.call, central, "cs")
                assert central.charge_box_ids == {"simbox"}
                assert central.last_from is not None  # OCPP-S 1.6: From is required
                client = zeep_client("cp", [zeep.wsa.WsAddressingPlugin()])
                sent = await zeep_calls(client, central.last_from, "cp", "simbox")
                await ocppsim_received(box, sent)

    run(scenario())
    assert lines.problems() == []


@pytest.mark.skipif(
    not reference_facts.have_reference(),
    reason="published WSDLs not beside this clone: zeep is built from the project's own",
)
def test_zeep_reads_the_published_wsdls() -> None:
    """The tests above use the published files here, not the project's copies."""
    for service in ("cs", "cp"):
        assert wsdl(service) == reference_facts.reference_wsdl(VERSION, service)
        assert set(next(iter(zeep_client(service).wsdl.bindings.values())).all()) == set(
            ACTIONS[service]
        )
