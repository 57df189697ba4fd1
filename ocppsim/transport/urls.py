"""Whether a URL can ever be dialled, checked once before a Charge Point starts: a URL that
cannot work (wrong scheme, no host, a port out of range) is an error at once, never a retry."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

WEBSOCKET_SCHEMES = ("ws", "wss")
HTTP_SCHEMES = ("http", "https")
#: A blank (any Unicode white space) or an ASCII control character.
_BLANK_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")


def url_problem(url: str, schemes: tuple[str, ...]) -> str | None:
    """Why `url` can never be reached with one of `schemes`, or None when it may be."""
    if _BLANK_OR_CONTROL.search(url):
        return "it contains a blank or a control character"
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes:
        wanted = " or ".join(f"{scheme}://" for scheme in schemes)
        if schemes == WEBSOCKET_SCHEMES:
            hint = " (add -t soap for an http:// Central System)" if url.startswith("http") else ""
            return f"a websocket URL starts with {wanted}{hint}"
        return f"the URL must start with {wanted}"
    if not parts.hostname:
        return "it names no host"
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is not None and not 1 <= port <= 65535:
        shown = parts.netloc.rsplit(":", 1)[-1]
        return f"port {shown} is not a number from 1 to 65535"
    if parts.fragment and schemes == WEBSOCKET_SCHEMES:
        return "a websocket URL has no #fragment"
    return None
