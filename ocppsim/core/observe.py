"""One process-wide observer of the events of every simulator, for a test runner.

ocppsim's pytest plugin shows the frames a failed test's simulators exchanged: it calls
`enable()` once per session and `observe(recorder)` around each test. A simulator made
while observing is enabled gets `subscribers()` on the event bus it makes for itself, which
forward each event to the current observer (none between tests). Outside pytest nothing is
enabled and the buses get nothing: no cost on the hot path. This module imports nothing, so
the plugin stays cheap to load in every pytest session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Observer = Callable[[Any], None]

_enabled = False
_current: Observer | None = None


def enable() -> None:
    """From now on, simulators made without a bus report to the current observer."""
    global _enabled
    _enabled = True


def observe(observer: Observer | None) -> Observer | None:
    """Make `observer` the one told of every event (None: nobody); returns the previous one."""
    global _current
    previous, _current = _current, observer
    return previous


def _forward(event: Any) -> None:
    observer = _current
    if observer is not None:
        observer(event)


def subscribers() -> tuple[Observer, ...]:
    """What a simulator's own event bus subscribes besides its log."""
    return (_forward,) if _enabled else ()
