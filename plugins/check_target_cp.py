"""Makes ocppsim's Charge Points a target for `ocppsim check --suite cp`: they carry out the
suite's asks, what a person does at the charger.

Load it at the Charge Point's prompt (`load check_target_cp`, or `start_cp … --plugin
check_target_cp`). A `DataTransfer` from the Central System with vendorId `ocppsim` and
messageId `ask` carries what a case needs done (docs/conformance.md, "Asks"); it is answered
Accepted (`data`: the ask's id) and done at the charger, once the answer has gone:

* `{"plug": N}`: an EV is plugged in at connector (1.x) or EVSE (2.x) N;
* `{"unplug": N}`: it is unplugged;
* `{"badge": TAG, "at": N}`: a driver presents TAG there.

Another DataTransfer is left to the Charge Point's model (UnknownVendorId for another vendor).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ocppsim.api import Context, PluginApi

name = "Conformance target (charge point)"
description = "Carries out the asks of `ocppsim check --suite cp` at the charger"
author = "ocppsim"
system = "cp"

VENDOR_ID = "ocppsim"
#: what an ask may have done, and the `api.cp` method that does it
DEEDS = ("plug", "unplug", "badge")

_api: PluginApi | None = None


def on_load(api: PluginApi) -> None:
    """Register the handler."""
    global _api
    _api = api
    api.on_call("DataTransfer", _data_transfer)
    api.log("[check_target_cp] Ready: this Charge Point takes the asks of `ocppsim check`.")


def _data_transfer(payload: dict, ctx: Context) -> dict | None:
    if payload.get("vendorId") != VENDOR_ID or payload.get("messageId") != "ask":
        return None  # the model's answer
    try:
        document = json.loads(payload.get("data") or "{}")
        do = document["do"]
        deed = next(d for d in DEEDS if d in do)
    except (ValueError, KeyError, TypeError, StopIteration):
        return {"status": "Rejected", "data": "an ask is JSON with `do': plug, unplug or badge"}
    assert _api is not None
    api = _api
    cp_id = ctx.charge_point_id

    async def act() -> None:
        await asyncio.sleep(0)  # the answer to the ask goes first
        try:
            if deed == "badge":
                api.cp.badge(str(do["badge"]), _point(do.get("at")), id=cp_id)
            else:
                getattr(api.cp, deed)(_point(do[deed]), id=cp_id)
        except Exception as exc:  # what the charger refused (an unknown connector, …)
            api.log(f"[check_target_cp] could not {deed}: {exc}")

    api.spawn(act())
    return {"status": "Accepted", "data": document.get("id")}


def _point(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None
