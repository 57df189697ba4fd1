"""Our own WSDL files are wire-compatible with the published OCPP 1.2/1.5/1.6 WSDLs (SPEC §7).

Both are reduced to the facts that decide what goes on the wire (operations, messages,
WS-Addressing actions and policy, the SOAP 1.2 binding, every schema type and global element)
and compared as sorted text lines, so a failure shows a unified diff of what differs. The
published files' facts are committed (`tests/reference_facts.py` derives them).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import zeep
import zeep.helpers
from lxml import etree
from ocppsim_testing import our_wsdl as wsdl_path
from ocppsim_testing import wsdl_versions
from reference_facts import WSP, WsdlFacts, diff_lines, fingerprints, squeezed_sha256, wire_facts
from zeep.wsdl.bindings.soap import Soap12Binding

from ocppsim.core import versions

VERSIONS = wsdl_versions()
SERVICES = ("cs", "cp")
CASES = [(v, s) for v in VERSIONS for s in SERVICES]

#: the operations each service offers, from the OCPP 1.2, 1.5 and 1.6 specifications
OPERATIONS = {
    ("1.2", "cs"): {
        "Authorize",
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
    },
    ("1.2", "cp"): {
        "ChangeAvailability",
        "ChangeConfiguration",
        "ClearCache",
        "GetDiagnostics",
        "RemoteStartTransaction",
        "RemoteStopTransaction",
        "Reset",
        "UnlockConnector",
        "UpdateFirmware",
    },
}
OPERATIONS[("1.5", "cs")] = OPERATIONS[("1.2", "cs")] | {"DataTransfer"}
OPERATIONS[("1.5", "cp")] = OPERATIONS[("1.2", "cp")] | {
    "CancelReservation",
    "DataTransfer",
    "GetConfiguration",
    "GetLocalListVersion",
    "ReserveNow",
    "SendLocalList",
}
OPERATIONS[("1.6", "cs")] = OPERATIONS[("1.5", "cs")]
OPERATIONS[("1.6", "cp")] = OPERATIONS[("1.5", "cp")] | {
    "ClearChargingProfile",
    "GetCompositeSchedule",
    "SetChargingProfile",
    "TriggerMessage",
}

NAMESPACES = {
    ("1.2", "cs"): "urn://Ocpp/Cs/2010/08/",
    ("1.2", "cp"): "urn://Ocpp/Cp/2010/08/",
    ("1.5", "cs"): "urn://Ocpp/Cs/2012/06/",
    ("1.5", "cp"): "urn://Ocpp/Cp/2012/06/",
    ("1.6", "cs"): "urn://Ocpp/Cs/2015/10/",
    ("1.6", "cp"): "urn://Ocpp/Cp/2015/10/",
}
SERVICE_NAMES = {"cs": "CentralSystemService", "cp": "ChargePointService"}


# --- tests ---------------------------------------------------------------------------------


def test_registry_names_these_files_and_namespaces() -> None:
    """A version's registry entry and these tests speak of the same WSDL files."""
    assert VERSIONS[:3] == ("1.2", "1.5", "1.6")
    for entry in versions.with_transport("soap"):
        assert entry.soap is not None
        for service in SERVICES:
            assert entry.soap.namespaces[service] == NAMESPACES[(entry.name, service)]
            assert entry.soap.wsdl_path(service) == wsdl_path(entry.name, service)
            assert wsdl_path(entry.name, service).is_file()


#: where our files differ from the published ones on purpose: the published 1.5 Central System
#: WSDL misspells the WS-Policy namespace (`xmlsoapf.org`), so its addressing policy is in no
#: known namespace; ours uses the right one
FIXED = {("1.5", "cs"): ("{http://schemas.xmlsoapf.org/ws/2004/09/policy}", f"{{{WSP}}}")}


@pytest.mark.parametrize(("version", "service"), CASES)
def test_wsdl_matches_reference_on_the_wire(version: str, service: str) -> None:
    expected = wire_facts(version, service)
    if (version, service) in FIXED:
        wrong, right = FIXED[(version, service)]
        assert any(wrong in line for line in expected)
        expected = [line.replace(wrong, right) for line in expected]
    actual = WsdlFacts(wsdl_path(version, service)).lines()
    name = f"published OCPP {version} {service} WSDL"
    assert expected == actual, "\n" + diff_lines(
        expected, actual, name, wsdl_path(version, service).name
    )


@pytest.mark.parametrize(("version", "service"), CASES)
def test_wsdl_is_not_a_copy_of_reference(version: str, service: str) -> None:
    """The published files may not be redistributed modified; ours are written from scratch."""
    published = {v for k, v in fingerprints().items() if k.startswith("wsdl/")}
    assert len(published) >= 4
    assert squeezed_sha256(wsdl_path(version, service)) not in published


@pytest.mark.parametrize(("version", "service"), CASES)
def test_wsdl_carries_no_third_party_notice(version: str, service: str) -> None:
    text = wsdl_path(version, service).read_text(encoding="utf-8").lower()
    assert "e-laad" not in text
    assert "copyright" not in text
    assert "ocppsim" in text


@pytest.mark.parametrize("version", VERSIONS)
def test_types_shared_by_both_services_are_identical(version: str) -> None:
    """A type declared by the CS and the CP service of one version must mean the same thing."""
    cs, cp = WsdlFacts(wsdl_path(version, "cs")), WsdlFacts(wsdl_path(version, "cp"))
    shared = sorted(
        key
        for key in cs.sections.keys() & cp.sections.keys()
        if key.startswith(("complexType ", "simpleType "))
    )
    if version != "1.2":  # OCPP 1.2's CP service has no identification types
        assert {"simpleType IdToken", "complexType IdTagInfo"} <= set(shared)
    if version == "1.6":
        assert {f"simpleType CiString{n}Type" for n in (20, 25, 50, 255, 500)} <= set(shared)
    for key in shared:
        assert cs.sections[key] == cp.sections[key], key


class OfflineTransport(zeep.Transport):
    """A zeep transport that reads local files only and refuses every URL."""

    def _load_remote_data(self, url: str) -> bytes:
        raise AssertionError(f"zeep tried to fetch {url}")


@pytest.mark.parametrize(("version", "service"), CASES)
def test_zeep_loads_wsdl_offline(version: str, service: str) -> None:
    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    client = zeep.Client(
        str(wsdl_path(version, service)), transport=OfflineTransport(), settings=settings
    )
    name = SERVICE_NAMES[service]
    port = client.wsdl.services[name].ports[f"{name}Soap12"]
    binding = port.binding
    assert isinstance(binding, Soap12Binding)
    assert set(binding._operations) == OPERATIONS[(version, service)]
    for op_name in OPERATIONS[(version, service)]:
        operation = binding.get(op_name)
        assert operation.soapaction == f"/{op_name}"
        # zeep keeps the request's action only; the reply actions are checked above
        assert operation.abstract.wsa_action == f"/{op_name}"
        header = operation.input.header
        assert header is not None
        carried = [element.qname for _, element in header.type.elements]
        assert carried == [etree.QName(NAMESPACES[(version, service)], "chargeBoxIdentity")]


def test_zeep_writes_and_reads_1_6_bodies() -> None:
    """The 1.6 types work in zeep: a decimal limit, nested profile, repeated sampled values."""
    settings = zeep.Settings(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    cases = {
        "cp": (
            "setChargingProfileRequest",
            {
                "connectorId": 1,
                "csChargingProfiles": {
                    "chargingProfileId": 7,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [
                            {"startPeriod": 0, "limit": Decimal("8.1")},
                            {"startPeriod": 60, "limit": Decimal("16"), "numberPhases": 3},
                        ],
                    },
                },
            },
        ),
        "cs": (
            "meterValuesRequest",
            {
                "connectorId": 1,
                "meterValue": [
                    {
                        "timestamp": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc),
                        "sampledValue": [
                            {"value": "10", "unit": "Wh"},
                            {"value": "230", "measurand": "Voltage", "phase": "L1-N"},
                        ],
                    }
                ],
            },
        ),
    }
    for service, (name, value) in cases.items():
        client = zeep.Client(
            str(wsdl_path("1.6", service)), transport=OfflineTransport(), settings=settings
        )
        element = client.get_element(f"{{{NAMESPACES[('1.6', service)]}}}{name}")
        body = etree.Element("body")
        element.render(body, value)
        probe, texts = {"cp": ("limit", ["8.1", "16"]), "cs": ("phase", ["L1-N"])}[service]
        assert [n.text for n in body[0].iter() if etree.QName(n).localname == probe] == texts
        back = zeep.helpers.serialize_object(element.parse(body[0], client.wsdl.types), dict)
        assert _without_none(back) == value


def _without_none(value: object) -> object:
    """A zeep result without its absent (None) optional fields."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_none(v) for v in value]
    return value
