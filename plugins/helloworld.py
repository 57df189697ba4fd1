"""Hello world: the smallest plugin, a line in the log when it is loaded and unloaded."""

from ocppsim.api import PluginApi

name = "Hello world"
description = "Logs a line on load and on unload"
author = "ocppsim"


def on_load(api: PluginApi) -> None:
    """Greet the user."""
    api.log("Hi, I'm the Hello world! plugin !")


def on_unload(api: PluginApi) -> None:
    """Say goodbye."""
    api.log("Goodbye !")
