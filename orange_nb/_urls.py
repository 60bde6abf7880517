"""Origins: the one rule for comparing where a URL points (and so where a token may go).

An origin is ``(scheme, host, port)`` with the scheme and host lower-cased and the default
port made explicit (``https://API.orange.com`` = ``https://api.orange.com:443``). The bearer
token goes only to an allowed origin (``oauth.auth.BearerAuth``), a next page only from the
request's own origin (``session.paging``), a pasted sign-in answer only from the redirect
URI's origin and path (``handoff.paste``): all three compare with ``origin_of``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int | None]


def origin_of(url: str) -> Origin:
    """``(scheme, host, port)``; ``ValueError`` for a URL or port that cannot be read."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme)


def origin_text(url: str | httpx.URL) -> str:
    """``scheme://host:port`` for an origin comparison of already parsed ``httpx.URL``s.

    Used on every request (``BearerAuth``): it reads httpx's parsed URL, so a check costs
    no parsing.
    """
    if isinstance(url, str):
        scheme, host, port = origin_of(url)
        return f"{scheme}://{host}:{port or 0}"
    host = url.raw_host.decode("ascii").lower()
    return f"{url.scheme}://{host}:{url.port or DEFAULT_PORTS.get(url.scheme, 0)}"


def shown_origin(url: str) -> str:
    """``scheme://host`` for messages (no port, no path, no query)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"
