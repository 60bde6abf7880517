"""Checks a built request passes: header names and values, text that is valid Unicode."""

from __future__ import annotations

import re

from ..errors import UsageError
from .interpolate import Template, show
from .specs import CallSpec

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token: a method or header name


def header(name: str, value: str, source: Template) -> tuple[str, str]:
    """A ``Header:value`` item's pair, name and value checked."""
    if not TOKEN.fullmatch(name):
        raise UsageError(
            f"{name!r} in {show(source)!r} is not a header name (letters, digits and -)."
        )
    return name, header_value(name, value)


def header_value(name: str, value: str) -> str:
    """``value``, refused when it is not one line of ASCII."""
    if re.search(r"[\r\n\x00]", value):
        raise UsageError(
            f"Header {name} would hold a line break or NUL; a header value is one line."
        )
    if not value.isascii():
        raise UsageError(
            f"Header {name} holds non-ASCII text ({value!r}); header values are ASCII: "
            "percent-encode it first (urllib.parse.quote)."
        )
    return value


def check_unicode(spec: CallSpec) -> None:
    """Refuse lone surrogates (from a value) before they break the HTTP client."""
    texts = [spec.path, *(text for pair in spec.query + spec.headers for text in pair)]
    try:
        "".join(texts).encode("utf-8")
        if spec.body is not None:
            spec.body.encode()
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        raise UsageError(
            f"The request holds text that is not valid Unicode ({bad!r}); check the values "
            "given with {{ }}."
        ) from None
