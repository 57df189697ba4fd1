"""Tab completion of the terminal prompt: commands, payload fields, charge point ids."""

from __future__ import annotations

from types import SimpleNamespace

from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from ocppsim.core import versions
from ocppsim.repl.shell import Shell
from ocppsim.repl.terminal import OcppCompleter, history_path


def complete(shell: Shell, text: str) -> list[str]:
    completer = OcppCompleter(shell)
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_commands_fields_and_ids_complete() -> None:
    shell = Shell()
    assert complete(shell, "heartb") == ["heartbeat"]
    assert set(complete(shell, "remote_st")) == {
        "remote_starttransaction",
        "remote_stoptransaction",
    }
    assert complete(shell, "authorize id") == ["idTag="]
    assert "chargePointVendor=" in complete(shell, "bootnotification ")
    assert complete(shell, "remote_reset ty") == ["type="]
    assert complete(shell, "start_cs 9000 -") == [
        "-i",
        "-u",
        "-p",
        "-t",
        "--tls-cert",
        "--tls-key",
        "--auth",
        "--client-ca",
        "--security-profile",
        "--ca-key",
        "--ca",
        "--reuse-port",
        "--accept-tags",
        "--vendor-ids",
        "--stateless",
    ]
    assert complete(shell, "start_cp wss://h/ocpp cp01 --c") == ["--ca", "--cert", "--connectors"]
    shell.sim.central_system = SimpleNamespace(
        peers={"cp01": SimpleNamespace(version="1.2"), "cp02": SimpleNamespace(version="1.5")}
    )
    assert complete(shell, "remote_reset --remote-id ") == ["cp01", "cp02"]
    assert complete(shell, "remote_reset --remote-id cp02 ") == ["type="]
    shell.sim.charge_points["box"] = SimpleNamespace(version="1.5")
    assert complete(shell, "heartbeat --id b") == ["box"]


def test_subprotocols_complete_after_p() -> None:
    shell = Shell()
    assert complete(shell, "start_cp ws://h/ocpp cp01 -p ") == list(versions.subprotocols())
    ones = [p for p in versions.subprotocols() if p.startswith("ocpp1.")]
    assert ones and len(ones) < len(versions.subprotocols())
    assert complete(shell, "start_cp ws://h/ocpp cp01 -p ocpp1.") == ones
    assert complete(shell, "start_cs 9000 -p ocpp1.2,ocpp1.") == ones
    twos = [p for p in versions.subprotocols() if p.startswith("ocpp2")]
    assert complete(shell, "start_cs 9000 -p ocpp1.2,ocpp2") == twos
    assert complete(shell, "start_cs 9000 -p ocpp1.2,x") == []


def test_fields_of_an_action_the_default_version_lacks_come_from_a_version_that_has_it(
    monkeypatch,
) -> None:
    monkeypatch.setattr(versions, "DEFAULT_VERSION", versions.names()[0])
    assert versions.default().name == versions.names()[0]
    only_later = [
        a
        for a in versions.all_versions()[-1].actions["cp"]
        if not versions.default().handles("cp", a)
    ]
    assert only_later, "some action is not in the oldest version"
    command = versions.command_name("cp", only_later[0])
    assert complete(Shell(), command + " ")


def test_history_lives_where_the_environment_says(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("OCPPSIM_HISTORY", str(tmp_path / "h"))
    assert history_path() == tmp_path / "h"


def test_ctrl_c_clears_a_typed_line_and_leaves_on_an_empty_one(
    lines, monkeypatch, tmp_path
) -> None:
    """Through a real prompt_toolkit prompt fed by a pipe: Ctrl-C drops `heartb`, the next
    line runs alone, Ctrl-C on the empty prompt ends the simulation as `quit` does."""
    import asyncio

    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    monkeypatch.setenv("OCPPSIM_HISTORY", str(tmp_path / "history"))

    async def scenario(keys: list[str]) -> Shell:
        shell = Shell()
        with create_pipe_input() as pipe, create_app_session(input=pipe, output=DummyOutput()):
            session = asyncio.create_task(shell.interact(terminal=True))
            for text in keys:
                start = lines.mark()
                pipe.send_text(text)
                if text.endswith("\r"):  # a whole line: wait until it has run
                    await lines.wait_for(r"Available commands|unknown command", start)
            await asyncio.wait_for(session, 10)
        return shell

    asyncio.run(scenario(["heartb\x03", "help\r", "\x03"]))
    assert not lines.matching("unknown command")  # `heartbhelp` would be one
    assert len(lines.matching("Available commands")) == 1
    assert lines.lines[-1].endswith("End of simulation : interrupted by user.")

    mark = lines.mark()
    asyncio.run(scenario(["\x04"]))  # Ctrl-D on an empty line leaves too
    assert lines.matching("End of simulation : interrupted by user.", mark)


def test_help_completes_commands_and_stop_cp_completes_charge_point_ids() -> None:
    shell = Shell()
    assert complete(shell, "help remote_rese") == ["remote_reset", "remote_reservenow"]
    assert "stop_cs" in complete(shell, "help stop")
    shell.sim.charge_points["cp01"] = SimpleNamespace(version="1.5")
    assert complete(shell, "stop_cp ") == ["cp01"]
    assert complete(shell, "stop_") == ["stop_cp", "stop_cs", "stop_fleet"]


def test_plugin_names_and_plugin_commands_complete(tmp_path) -> None:
    """`load <Tab>` offers the plugins there are, `unload <Tab>` the loaded ones, and the
    commands a loaded plugin declared complete like the built-in ones."""
    import asyncio

    (tmp_path / "mine.py").write_text(
        "def on_load(api):\n"
        "    api.on_command(lambda line: line.startswith('zap'), ['zap', 'unzap'])\n"
    )
    shell = Shell(plugins_dirs=[tmp_path])
    assert {"helloworld", "cbxs_automatic_mode", "mine"} <= set(complete(shell, "load "))
    assert complete(shell, "load hel") == ["helloworld"]
    assert complete(shell, "load mi") == ["mine"]
    assert complete(shell, "unload ") == []
    assert complete(shell, "plu") == ["plugins", "plug"]
    assert complete(shell, "za") == []

    async def load() -> None:
        await shell.execute("load mine")

    asyncio.run(load())
    assert complete(shell, "unload ") == ["mine"]
    assert complete(shell, "za") == ["zap"]
    assert complete(shell, "unz") == ["unzap"]
    shell.sim.charge_points["box1"] = SimpleNamespace(version="1.5")
    assert complete(shell, "zap --id b") == ["box1"]  # a plugin command's --id too
    assert complete(shell, "load mine ") == []


def test_nested_fields_complete_by_their_dotted_path() -> None:
    """`bootnotification chargingStation.model=X reason=PowerUp`: after `chargingStation.`
    Tab offers its children; an object or a list of objects ends with `.`, a value with `=`."""
    shell = Shell()
    shell.sim.charge_points["cp201"] = SimpleNamespace(version="2.0.1")
    assert complete(shell, "bootnotification ") == ["chargingStation.", "reason="]
    assert complete(shell, "bootnotification chargingStation.") == [
        "chargingStation.serialNumber=",
        "chargingStation.model=",
        "chargingStation.modem.",
        "chargingStation.vendorName=",
        "chargingStation.firmwareVersion=",
    ]
    assert complete(shell, "bootnotification chargingStation.mo") == [
        "chargingStation.model=",
        "chargingStation.modem.",
    ]
    assert complete(shell, "bootnotification chargingStation.model=X chargingStation.modem.") == [
        "chargingStation.modem.iccid=",
        "chargingStation.modem.imsi=",
    ]
    assert complete(shell, "bootnotification chargingStation.model=X re") == ["reason="]
    assert complete(shell, "bootnotification chargingStation.nope.") == []
    assert "customData." not in complete(shell, "bootnotification ")
    # a list of objects: its first item, then that item's fields
    shell.sim.central_system = SimpleNamespace(peers={"cp201": SimpleNamespace(version="2.0.1")})
    assert complete(shell, "remote_getvariables getVariableData.") == ["getVariableData.0."]
    assert complete(shell, "remote_getvariables getVariableData.0.component.n") == [
        "getVariableData.0.component.name="
    ]


def test_a_nested_path_the_preferred_version_lacks_comes_from_one_that_has_it() -> None:
    """No charge point yet: top-level fields are the default version's, and a dotted path it
    does not have is looked up in the versions that have the action."""
    shell = Shell()
    top = complete(shell, "bootnotification ")
    assert "chargePointVendor=" in top and "chargingStation." not in top
    assert "chargingStation.vendorName=" in complete(shell, "bootnotification chargingStation.")


def test_a_16_charge_points_fields_complete_in_16_terms() -> None:
    """A 1.6 peer's commands complete its own fields: smart charging's nested profile, the
    security whitepaper's fields (written with `$ref` in OCA's files), and 1.6's meterValue."""
    shell = Shell()
    shell.sim.central_system = SimpleNamespace(peers={"cp16": SimpleNamespace(version="1.6")})
    assert complete(shell, "remote_setchargingprofile ") == ["connectorId=", "csChargingProfiles."]
    assert "csChargingProfiles.chargingSchedule." in complete(
        shell, "remote_setchargingprofile csChargingProfiles.charging"
    )
    assert complete(shell, "remote_getlog log.") == [
        "log.remoteLocation=",
        "log.oldestTimestamp=",
        "log.latestTimestamp=",
    ]
    assert complete(shell, "remote_triggermessage req") == ["requestedMessage="]
    shell.sim.charge_points["cp16"] = SimpleNamespace(version="1.6")
    assert complete(shell, "metervalues me") == ["meterValue."]
    assert complete(shell, "signcertificate ") == ["csr="]


def test_a_fields_values_complete_in_its_charge_points_version() -> None:
    """After `name=` Tab offers the field's enumeration (or true/false), in the version of the
    Charge Point the command goes to: `type=` is Hard or Soft for a 1.6 Charge Point, Immediate,
    OnIdle, … for a 2.x one; nested paths and list items too; a free-text field offers none."""
    shell = Shell()
    assert complete(shell, "remote_reset type=") == ["type=Hard", "type=Soft"]
    assert complete(shell, "remote_reset type=S") == ["type=Soft"]
    shell.sim.central_system = SimpleNamespace(peers={"cp201": SimpleNamespace(version="2.0.1")})
    assert complete(shell, "remote_reset --remote-id cp201 type=") == [
        "type=Immediate",
        "type=OnIdle",
    ]
    assert "requestedMessage=StatusNotification" in complete(
        shell, "remote_triggermessage requestedMessage=St"
    )
    assert complete(shell, "remote_getvariables getVariableData.0.attributeType=M") == [
        "getVariableData.0.attributeType=MinSet",
        "getVariableData.0.attributeType=MaxSet",
    ]
    assert complete(shell, "remote_getvariables getVariableData.0.component.name=") == []
    shell.sim.charge_points["cp16"] = SimpleNamespace(version="1.6")
    assert complete(shell, "metervalues meterValue.0.sampledValue.0.unit=Cel") == [
        "meterValue.0.sampledValue.0.unit=Celcius",
        "meterValue.0.sampledValue.0.unit=Celsius",  # the 1.6 errata's spelling too
    ]


def test_certificate_files_and_profiles_complete(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "certs").mkdir()
    for name in ("ca.pem", "ca.key", "cp01.pem"):
        (tmp_path / "certs" / name).write_text("")
    monkeypatch.chdir(tmp_path)
    shell = Shell()
    assert sorted(complete(shell, "start_cp wss://h/ocpp cp01 --ca certs/c")) == [
        "a.key",
        "a.pem",
        "p01.pem",
    ]
    assert complete(shell, "start_cs 9443 --tls-cert certs/cp") == ["01.pem"]
    assert complete(shell, "start_cs 9443 --security-profile ") == ["1", "2", "3"]
    assert complete(shell, "start_cp wss://h/ocpp cp01 --password ") == []  # no file there
