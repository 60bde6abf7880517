"""What the kernel, the server and the relay page agree on: the state's shape and the go link.

``state`` = ``RANDOM`` or ``RANDOM.TARGET``: ``RANDOM`` is the flow's secret (what the server
and the loopback listener match), ``TARGET`` the base64url (no padding) of the callback this
session can receive (``{origin}{base_url}orange/callback`` or the loopback listener's URL).
No ``TARGET``: nothing can reach the kernel, and the relay shows the address to paste.

The sign-in link is ``{relay_url}#go={authorize URL, percent-encoded}``: the relay marks this
browser for the state in its ``sessionStorage`` and continues to the authorize URL.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

SEPARATOR = "."  # in neither token_urlsafe's alphabet nor base64url's
GO = "go="


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8")).rstrip(b"=").decode("ascii")


def wrap_state(random_part: str, target: str) -> str:
    """``RANDOM.TARGET`` for a flow whose answer the relay returns to ``target``."""
    if SEPARATOR in random_part:
        raise ValueError("the random part of a state must not contain a dot")
    return random_part + SEPARATOR + _b64(target)


def unwrap_state(state: str) -> tuple[str, str | None]:
    """``(RANDOM, TARGET or None)``; ``ValueError`` for a target that is not base64url text."""
    random_part, sep, encoded = state.partition(SEPARATOR)
    if not sep:
        return state, None
    try:
        padded = encoded + "=" * (-len(encoded) % 4)
        target = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError):
        raise ValueError("the state's return target cannot be read") from None
    if not target or _b64(target) != encoded:  # one spelling only: an edit shows
        raise ValueError("the state's return target cannot be read")
    return random_part, target


def go_link(relay_url: str, authorize_url: str) -> str:
    """The sign-in link that opens the relay first: ``{relay_url}#go={authorize_url}``."""
    return relay_url.split("#", 1)[0] + "#" + GO + quote(authorize_url, safe="")


def with_state(authorize_url: str, state: str) -> str:
    """``authorize_url`` with its one ``state`` parameter replaced by ``state``."""
    parts = urlsplit(authorize_url)
    pairs = [(k, state if k == "state" else v) for k, v in parse_qsl(parts.query, True)]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def check_relay_url(relay_url: str) -> str | None:
    """Why ``relay_url`` cannot be a relay's address (``None`` when it can)."""
    try:
        parts = urlsplit(relay_url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        return "it is not a URL"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "it is not an absolute http(s) URL"
    if "@" in parts.netloc or parts.query or parts.fragment or "#" in relay_url:
        return "it carries a user, a query or a fragment"
    return None
