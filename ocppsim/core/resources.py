"""Locate the data folders (wsdl/, schemas/, plugins/, suites/) of an installed or a source tree
ocppsim.

In a wheel they live in `ocppsim/data/<name>` (force-included at build time); in a source
checkout or an editable install they are the top-level folders of the repository. Which file
of a folder belongs to which OCPP version is the version registry's (`ocppsim.core.versions`).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path


@cache
def data_dir(name: str) -> Path:
    """The folder holding the data set `name` (`wsdl`, `schemas`, `plugins` or `suites`)."""
    packaged = Path(str(files("ocppsim"))) / "data" / name
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parents[2] / name
    if source.is_dir():
        return source
    raise FileNotFoundError(f"ocppsim data folder {name!r} not found (looked in {packaged})")
