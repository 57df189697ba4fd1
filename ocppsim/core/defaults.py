"""Default ("prefilled") payloads of every message, built from the templates of the version
registry (each entry's `defaults` and `variants`).

Templates hold placeholders for dates; a payload is built with them set relative to a clock
(now, unless a test or the docs fix it), so a real peer never sees an expired badge or a stale
timestamp. Building is on the hot path (every default answer): each template is kept as JSON
text, its dates are filled in once per second, and a payload is a parse of that text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from ocppsim.core.versions import DAY_AHEAD, DAY_BEFORE, NOW, NOW_STAMP, Payload, get

__all__ = ["DATES", "OCPP_TIME", "Payload", "default_payload", "messages", "utc_now"]

DAY = 86400
OCPP_TIME = "%Y-%m-%dT%H:%M:%SZ"
#: Each date placeholder's offset from now (seconds) and strftime format.
DATES: dict[str, tuple[int, str]] = {
    NOW: (0, OCPP_TIME),
    DAY_AHEAD: (DAY, OCPP_TIME),
    DAY_BEFORE: (-DAY, OCPP_TIME),
    NOW_STAMP: (0, "%Y%m%d%H%M%S"),  # in a file name
}


_dates_cache: list[Any] = [None, {}]


def _dates(second: int) -> dict[str, str]:
    """Each placeholder's date for the time `second`, formatted once per second (hot path)."""
    if _dates_cache[0] != second:
        _dates_cache[:] = [
            second,
            {
                marker: time.strftime(form, time.gmtime(second + offset))
                for marker, (offset, form) in DATES.items()
            },
        ]
    dates: dict[str, str] = _dates_cache[1]
    return dates


#: template text -> (second, the text with that second's dates); one entry per template
_dated_texts: dict[str, tuple[int, str]] = {}


def utc_now() -> str:
    """The current UTC time as OCPP writes it: `2013-02-01T15:09:18Z`."""
    return _dates(int(time.time()))[NOW]


def messages(version: str) -> list[str]:
    """Names of every message that has a default payload in `version`."""
    return sorted(get(version).defaults)


@cache
def _template(version: str, message: str, variant: str | None) -> tuple[str, tuple[str, ...]]:
    """The default payload as JSON text (copied by parsing it) and the date placeholders in it."""
    text = json.dumps(get(version).template(message, variant))
    return text, tuple(marker for marker in DATES if marker in text)


def default_payload(
    version: str,
    message: str,
    variant: str | None = None,
    clock: Callable[[], float] = time.time,
) -> Payload:
    """A fresh copy of the default payload of `message` (e.g. `ResetRequest`), its dates set
    relative to `clock()` (seconds since the epoch: now, unless a test or the docs fix it)."""
    text, markers = _template(version, message, variant)
    if markers:
        second = int(clock())
        dated = _dated_texts.get(text)  # a template's dated text is made once per second
        if dated is None or dated[0] != second:
            filled, dates = text, _dates(second)
            for marker in markers:
                filled = filled.replace(marker, dates[marker])
            dated = _dated_texts[text] = (second, filled)
        text = dated[1]
    payload: Payload = json.loads(text)
    return payload
