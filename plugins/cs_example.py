"""Central System example: greets each Charge Point that connects and asks for the version
of its local authorisation list (GetLocalListVersion, OCPP 1.5); says goodbye when it leaves.

Port of the original's `cs-example.js`, which asked "the" CP (so failed as soon as two were
connected) and asked a 1.2 CP for a 1.5-only message.
"""

from ocppsim.api import PluginApi

name = "Central System example"
description = "Greets each Charge Point and asks its local list version"
author = "ocppsim"
ocpp_version = "1.5"
system = "cs"

PREFIX = "[CS-Example] "


def on_load(api: PluginApi) -> None:
    """Listen to Charge Points connecting to the Central System."""

    async def on_connection(event: str, cp_id: str) -> None:
        if event == "disconnected":
            api.log(f"{PREFIX}Goodbye {cp_id} !")
            return
        api.log(f"{PREFIX}Hi {cp_id} !")
        if api.cs.version(cp_id) != "1.5":
            api.log(f"{PREFIX}{cp_id} speaks OCPP 1.2: no local list to ask about.")
            return
        result = await api.cs.call("GetLocalListVersion", remote_id=cp_id)
        if result is not None:
            api.log(f"{PREFIX}{cp_id} has local list version {result.get('listVersion')}.")

    api.on_client_connection_event(on_connection)
    api.log(f"{PREFIX}Started.")


def on_unload(api: PluginApi) -> None:
    """Say so."""
    api.log(f"{PREFIX}Stopped.")
