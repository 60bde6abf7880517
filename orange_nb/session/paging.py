"""Finding the next page of an API's answer, and addressing offset pages ahead.

Where the next page may be announced, first match wins:

1. the ``Link`` header's ``rel="next"`` (RFC 8288);
2. a next-page URL in the body, at ``next``, ``links.next`` (or a ``links`` list of
   ``{"rel": "next", "href": …}``), ``_links.next``, ``paging.next`` or ``pagination.next``;
   each may be a string or an object with ``href``. A string counts as a URL when it has a
   scheme (``https://…``) or starts with ``/``, ``?`` or ``.``; any other string is a cursor;
3. a cursor in the body, set in the request URL's query: ``next_cursor``, ``nextCursor`` and
   ``cursor.next`` under ``cursor_param``; ``nextPageToken`` as ``pageToken``;
   ``next_page_token`` as ``page_token``.

``has_more: false`` (or ``hasMore``) in the body, or a null or empty value, ends the pages.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote_plus, urljoin, urlsplit, urlunsplit

from .._urls import origin_of
from ..errors import ForeignPageError

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Unquoted parameter values: lenient, as servers often send URLs or odd characters bare.
_BARE_VALUE = re.compile(r"[^\s;,\"]*")
_OFFSET = re.compile(r"[0-9]{1,18}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_PLACES: tuple[tuple[str, ...], ...] = (
    ("next",),
    ("links", "next"),
    ("_links", "next"),
    ("paging", "next"),
    ("pagination", "next"),
)
_CURSOR_PLACES: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("next_cursor",), None),
    (("nextCursor",), None),
    (("cursor", "next"), None),
    (("nextPageToken",), "pageToken"),
    (("next_page_token",), "page_token"),
)


def parse_link_header(value: str) -> list[tuple[str, dict[str, str]]]:
    """The links of a ``Link`` header value: ``[(target, {param: value})]``, in order.

    Parameter names are lower-cased; only a parameter's first occurrence counts (RFC 8288
    §3). Commas and semicolons inside ``<…>`` or quoted strings are part of them. A link that
    does not parse is skipped; this never raises.
    """
    links: list[tuple[str, dict[str, str]]] = []
    at, end = 0, len(value)
    while at < end:
        while at < end and value[at] in " \t,":
            at += 1
        if at == end:
            break
        close = value.find(">", at + 1) if value[at] == "<" else -1
        params, after = _link_params(value, close + 1) if close >= 0 else (None, at)
        if params is None:
            at = _skip_link(value, after)
        else:
            links.append((value[at + 1 : close].strip(), params))
            at = after
    return links


def _link_params(value: str, at: int) -> tuple[dict[str, str] | None, int]:
    """The ``; name=value`` parameters from ``at`` to the link's end, or None if malformed."""
    params: dict[str, str] = {}
    while True:
        at = _space(value, at)
        if at == len(value) or value[at] == ",":
            return params, at
        if value[at] != ";":
            return None, at
        name = _TOKEN.match(value, _space(value, at + 1))
        if name is None:
            return None, at + 1
        at = _space(value, name.end())
        text = ""
        if at < len(value) and value[at] == "=":
            at = _space(value, at + 1)
            if at < len(value) and value[at] == '"':
                quoted = _quoted(value, at)
                if quoted is None:
                    return None, len(value)
                text, at = quoted
            else:
                bare = _BARE_VALUE.match(value, at)
                text, at = (bare.group(), bare.end()) if bare else ("", at)
        params.setdefault(name.group().lower(), text)


def _space(value: str, at: int) -> int:
    while at < len(value) and value[at] in " \t":
        at += 1
    return at


def _quoted(value: str, at: int) -> tuple[str, int] | None:
    """The quoted string starting at ``value[at] == '"'`` and the index after it, or None."""
    out: list[str] = []
    index = at + 1
    while index < len(value):
        char = value[index]
        if char == "\\" and index + 1 < len(value):
            out.append(value[index + 1])
            index += 2
        elif char == '"':
            return "".join(out), index + 1
        else:
            out.append(char)
            index += 1
    return None


def _skip_link(value: str, at: int) -> int:
    """The index of the next comma outside a quoted string: where the next link may start."""
    quoted = False
    while at < len(value):
        char = value[at]
        if quoted and char == "\\":
            at += 1
        elif char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            return at
        at += 1
    return at


def _header(headers: Mapping[str, str], name: str) -> str:
    # A mapping's keys may have any case; httpx.Headers.items() already joins repeated fields.
    return ",".join(value for key, value in headers.items() if key.lower() == name)


def _dig(body: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = body
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _candidates(body: Any) -> Iterator[tuple[str, str | None, bool]]:
    """``(value, cursor param, is_url)`` for each next-page announcement in the body."""
    if not isinstance(body, Mapping):
        return
    if body.get("has_more") is False or body.get("hasMore") is False:
        return
    for path in _URL_PLACES:
        found = _dig(body, path)
        if isinstance(found, Mapping):
            found = found.get("href")
        if isinstance(found, str) and found:
            yield found, None, _looks_like_url(found)
    links = body.get("links")
    if isinstance(links, list):
        for link in links:
            if isinstance(link, Mapping) and "next" in str(link.get("rel", "")).lower().split():
                href = link.get("href")
                if isinstance(href, str) and href:
                    yield href, None, True
    for path, param in _CURSOR_PLACES:
        found = _dig(body, path)
        if isinstance(found, bool) or found is None or found == "":
            continue
        if isinstance(found, str | int):
            yield str(found), param, False


def _looks_like_url(text: str) -> bool:
    return text.startswith(("/", "?", ".")) or _SCHEME.match(text) is not None


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with query parameter ``name`` set to ``value``.

    Every other parameter is kept byte for byte, in order, repeats included; ``name``'s
    first occurrence is replaced in place and its repeats are removed. The fragment is dropped.
    """
    parts = urlsplit(url)
    pair = f"{quote(name, safe='')}={quote(value, safe='')}"
    query: list[str] = []
    placed = False
    for item in parts.query.split("&") if parts.query else []:
        if unquote_plus(item.split("=", 1)[0]) == name:
            if not placed:
                query.append(pair)
                placed = True
        else:
            query.append(item)
    if not placed:
        query.append(pair)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(query), ""))


def next_link(
    headers: Mapping[str, str], body: Any, request_url: str, *, cursor_param: str = "cursor"
) -> str | None:
    """The absolute URL of the page after this one, or ``None`` when this is the last.

    ``headers`` is any mapping of the response headers (``httpx.Headers`` included), ``body``
    the parsed JSON (anything else is ignored), ``request_url`` the URL that returned them:
    relative links resolve against it. See the module's docstring for where the next page
    is looked for. A next URL equal to the request URL ends the pages (it would loop).

    Raises :class:`ForeignPageError` when the next page is on another scheme, host or
    port than ``request_url``: silently stopping would return a partial result that looks
    complete, and the token must never be sent there.
    """
    request_url = urlunsplit(urlsplit(request_url)._replace(fragment=""))
    target: str | None = None
    link = _header(headers, "link")
    for href, params in parse_link_header(link) if link else []:
        if "next" in params.get("rel", "").lower().split():
            target = href
            break
    if target is None:
        for value, param, is_url in _candidates(body):
            target = value if is_url else with_param(request_url, param or cursor_param, value)
            break
    if target is None:
        return None
    try:
        found = urlunsplit(urlsplit(urljoin(request_url, target))._replace(fragment=""))
        same_origin = origin_of(found) == origin_of(request_url)
    except ValueError:  # not a URL (a bad port or IPv6 literal): nowhere to go
        return None
    if not same_origin:
        raise ForeignPageError(found, request_url)
    return None if found == request_url else found


def offset_range(first_url: str, total: int, limit: int, offset_param: str = "offset") -> range:
    """The offsets of the pages holding rows ``[start, total)``, ``limit`` rows each.

    ``start`` is ``first_url``'s own offset (0 when absent). A ``range`` is computed, not
    listed: its length and slices cost nothing, so a server's absurd ``total`` sizes no
    list; callers bound it (``max_pages``, ``limit``) before building any URL.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    start = 0
    for item in urlsplit(first_url).query.split("&"):
        name, _, value = item.partition("=")
        if unquote_plus(name) == offset_param:
            value = unquote_plus(value)
            if _OFFSET.fullmatch(value):  # ASCII digits only: int() also reads "٣"
                start = int(value)
                break
    return range(start, max(start, total), limit)


def offset_url(
    first_url: str,
    offset: int,
    limit: int,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> str:
    """``first_url`` with ``offset_param`` and ``limit_param`` set, other parameters kept."""
    return with_param(with_param(first_url, offset_param, str(offset)), limit_param, str(limit))


def offset_pages(
    first_url: str,
    total: int,
    limit: int,
    offset_param: str = "offset",
    limit_param: str = "limit",
) -> list[str]:
    """The URL of every page holding rows ``[start, total)``, ``limit`` rows each.

    ``start`` is ``first_url``'s own offset (0 when absent); each URL has ``offset_param``
    and ``limit_param`` set, other parameters kept. The first URL is the first page's, so a
    caller that already has it fetches ``[1:]`` concurrently. ``total <= start`` gives ``[]``.
    Every URL is built: bound ``total`` first, or use :func:`offset_range` and
    :func:`offset_url` to build only the pages wanted.
    """
    return [
        offset_url(first_url, offset, limit, offset_param, limit_param)
        for offset in offset_range(first_url, total, limit, offset_param)
    ]
