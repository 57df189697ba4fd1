"""The generated message reference is committed, complete and stable."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocppsim_testing import needs_version

from ocppsim.cli import main
from ocppsim.core import versions
from ocppsim.gen.docs import render_docs

VERSIONS = versions.names()
ACTIONS = {entry.name: entry.actions for entry in versions.all_versions()}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "messages"


@pytest.mark.skipif(
    bool(versions.unavailable()),
    reason="; ".join(versions.unavailable().values()) + ": its page cannot be rendered here",
)
def test_committed_docs_are_not_stale() -> None:
    if not DOCS.is_dir():  # running from an installed copy without the source tree
        return
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(render_docs())
    for name, text in render_docs().items():
        assert (DOCS / name).read_text(encoding="utf-8") == text, f"regenerate docs: {name}"


def test_every_message_is_documented_with_example_and_schemas() -> None:
    pages = render_docs()
    for version in VERSIONS:
        page = pages[f"ocpp{version}.md"]
        for service in ("cs", "cp"):
            for action in ACTIONS[version][service]:
                for kind in ("Request", "Response"):
                    assert f"#### {action}{kind}: example" in page
                    shows = "fields" if versions.get(version).schemas.package else "schema"
                    assert f"#### {action}{kind}: {shows}" in page
    assert "remote_starttransaction" in pages["ocpp1.5.md"]
    assert "DataTransfer" not in pages["ocpp1.2.md"]


def test_a_2x_page_lists_fields_by_dotted_path_and_names_the_csms() -> None:
    page = render_docs()["ocpp2.0.1.md"]
    assert "## Charging Station → CSMS" in page and "## CSMS → Charging Station" in page
    assert "### RequestStartTransaction (CSMS → Charging Station)" in page
    assert "Prompt command: `remote_requeststarttransaction`" in page
    assert "Schema: `ocpp/v201/schemas/BootNotificationRequest.json`." in page
    assert "| `chargingStation.model` | required | string, at most 20 characters |" in page
    assert '"definitions"' not in page and "customData" not in page


@needs_version("2.1")
def test_the_2_1_page_has_its_send_message() -> None:
    pages = render_docs()
    page = pages["ocpp2.1.md"]
    assert (
        "## SEND" in page
        and "- [NotifyPeriodicEventStream](#notifyperiodiceventstream-send)" in page
    )
    assert "### NotifyPeriodicEventStream (SEND, Charging Station → CSMS)" in page
    assert "#### NotifyPeriodicEventStream: example" in page
    assert "NotifyPeriodicEventStreamResponse" not in page
    assert "| [OCPP 2.1](ocpp2.1.md) | 36 | 55 | 1 |" in pages["index.md"]


def test_generator_twice_changes_nothing(tmp_path: Path, capsys) -> None:
    args = ["docs", "--out", str(tmp_path / "docs"), "--schemas", str(tmp_path / "schemas")]
    assert main(args) == 0
    first = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert len(first) > 80
    assert main(args) == 0
    assert "0 file(s) changed." in capsys.readouterr().out
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == first


def test_outside_a_source_checkout_docs_do_not_scatter_schemas(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["docs", "--out", "reference"]) == 0
    assert "schemas not written" in capsys.readouterr().out
    assert (tmp_path / "reference" / "ocpp1.5.md").is_file()
    assert not (tmp_path / "schemas").exists()
