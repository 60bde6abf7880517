"""PATH: its template, each value quoted into its own segment, its ``?query``, URL checks."""

from __future__ import annotations

import difflib
import ipaddress
import re
from urllib.parse import parse_qsl, unquote, unquote_plus, urlsplit

from ..errors import UsageError
from .interpolate import (
    Expr,
    Interpolator,
    Template,
    partition_at,
    show,
    split_at,
    split_path_variables,
)
from .specs import COMMANDS, METHODS

_URL = re.compile(r"https?://[^/?#\s]+", re.IGNORECASE)
_IPV4_STYLE = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")  # what httpx reads as IPv4
_IPV6_LITERAL = re.compile(r"\[([^\[\]]*)\](?::[0-9]*)?")
_BAD_HOST = re.compile(r"[\x00-\x20\x7f<>\[\]^`{}|\\\"]")


def path_template(word: Template) -> Template:
    """The PATH word as a template, ``{name}`` read; ``UsageError`` when it is no path."""
    text = word[0] if word and isinstance(word[0], str) else ""
    if word and not isinstance(word[0], Expr) and not (text.startswith("/") or _URL.match(text)):
        raise UsageError(not_a_path(show(word)))
    return split_path_variables(word)


def render_path(values: Interpolator, template: Template) -> tuple[str, list[tuple[str, str]]]:
    """The path, and the query an opening expression's URL may bring along."""
    head, rest = "", template
    if template and isinstance(template[0], Expr):
        head, rest = values.text(template[0]), template[1:]
    text = head + _segments(values, head, rest, template)
    text, _, query = text.partition("?")
    if not (text.startswith("/") or _URL.match(text)):
        raise UsageError(not_a_path(text))
    if "#" in text or re.search(r"[\x00-\x20\x7f]", text):
        raise UsageError(
            f"The path {text!r} holds a #fragment, a space or a control character: "
            "remove it, or percent-encode it (%23, %20)."
        )
    if _URL.match(text):
        _check_url(text)
    return text, parse_qsl(query, keep_blank_values=True)


def _segments(values: Interpolator, head: str, template: Template, whole: Template) -> str:
    """The path after ``head``, each value quoted into its own segment.

    A segment a value makes empty, ``.`` or ``..`` is refused: the URL would then reach
    another resource than the one written (``/users/{uid}/reports`` with ``uid = ".."``
    is ``/reports``), and encoding it as ``%2E%2E`` is no cure, as servers and proxies
    decode it.
    """
    out: list[str] = []
    for index, part in enumerate(split_at(template, "/")):
        text = values.render(part, "segment")
        out.append(text)
        exprs = [str(piece) for piece in part if isinstance(piece, Expr)]
        if not exprs or (index == 0 and "?" in head):
            continue
        segment = head.rpartition("/")[2] + text if index == 0 else text
        if unquote(segment) in ("", ".", ".."):
            named = ", ".join(f"`{value}`" for value in exprs)
            raise UsageError(
                f"The value of {named} makes the segment {segment!r} in the path "
                f"{show(whole)!r}: an empty, . or .. segment would send the request to "
                f"another path than the one written. Check {named}."
            )
    return "/".join(out)


def query_pairs(values: Interpolator, template: Template) -> list[tuple[str, str]]:
    """The pairs of a path's ``?query`` as written, percent-decoded."""
    pairs = []
    for pair in split_at(template, "&"):
        if not pair:
            continue
        name, value = partition_at(pair, "=")
        pairs.append((_decoded(values, name), _decoded(values, value)))
    return pairs


def _decoded(values: Interpolator, template: Template) -> str:
    """Literal query text percent-decoded; values from expressions taken as they are."""
    return values.render(
        tuple(unquote_plus(p) if isinstance(p, str) else p for p in template), "raw"
    )


def not_a_path(word: str) -> str:
    """Why ``word`` is no PATH, with the command or method it may have meant."""
    close = difflib.get_close_matches(word.lower(), [*COMMANDS, *(m.lower() for m in METHODS)])
    hint = (
        f" Did you mean {close[0] if close[0] in COMMANDS else close[0].upper()}?" if close else ""
    )
    return (
        f"{word!r} is not a path: a path starts with / (or is an http(s):// URL), "
        f"as in `%orange GET /sandbox/mobility/v1/zones`.{hint}"
    )


def _check_url(url: str) -> None:
    """Refuse an absolute URL whose host or port no HTTP client can use, before any request."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # an unclosed [, a port out of range or not a number
        raise UsageError(_bad_url(url, str(exc))) from None
    host = parts.netloc.rpartition("@")[2]
    literal = _IPV6_LITERAL.fullmatch(host)
    host = literal.group(1) if literal else re.sub(r":[0-9]*\Z", "", host)
    if not host:
        raise UsageError(_bad_url(url, "no host"))
    if port == 0:
        raise UsageError(_bad_url(url, "port 0"))
    try:
        if literal:
            ipaddress.IPv6Address(host)
        elif _IPV4_STYLE.fullmatch(host):
            ipaddress.IPv4Address(host)
    except ValueError:
        raise UsageError(_bad_url(url, f"{host!r} is not an IP address")) from None
    if not literal and _BAD_HOST.search(host):
        raise UsageError(_bad_url(url, f"the host {host!r} holds a character no host name can"))


def _bad_url(url: str, reason: str) -> str:
    url = re.sub(r"//[^/?#@]*@", "//…@", url)  # a password in the URL is not shown
    return (
        f"{url!r} is not a URL that can be requested ({reason}): check its host and port, "
        "as in https://api.example.com:8443/v1/things."
    )
