"""One exception root: everything ocppsim raises on purpose is an `OcppSimError`."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import ocppsim
from ocppsim.core.errors import ERROR_DESCRIPTIONS, NotSupportedAnswer, OcppError, OcppSimError

#: Modules that import Locust, whose import monkey-patches the whole process for gevent: they
#: run only under the `locust` command (tests/locust runs them there), and define no exception.
UNDER_LOCUST = {"ocppsim.locust.user", "ocppsim.locust.locustfile"}


def _modules() -> list[object]:
    found = []
    for info in pkgutil.walk_packages(ocppsim.__path__, "ocppsim."):
        if info.name == "ocppsim.__main__":
            continue  # running it starts the simulator
        if info.name in UNDER_LOCUST:
            continue
        found.append(importlib.import_module(info.name))
    return found


def test_every_exception_class_of_the_package_derives_from_the_root() -> None:
    strays = [
        f"{module.__name__}.{name}"  # type: ignore[attr-defined]
        for module in _modules()
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, BaseException)
        and value.__module__ == module.__name__  # type: ignore[attr-defined]
        and not issubclass(value, OcppSimError)
    ]
    assert strays == []


def test_ocpp_errors_carry_their_code_and_default_description() -> None:
    error = OcppError("GenericError")
    assert (error.code, error.description, error.details) == ("GenericError", "Other error.", {})
    assert str(error) == "GenericError: Other error."
    refused = NotSupportedAnswer("not here")
    assert (refused.code, refused.description) == ("NotSupported", "not here")
    assert all(isinstance(text, str) and text for text in ERROR_DESCRIPTIONS.values())
