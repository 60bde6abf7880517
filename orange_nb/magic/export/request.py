"""The request to export, made safe to show: placeholders for secrets, no automatic headers."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from ...errors import UsageError

ACCESS_TOKEN = "YOUR_ACCESS_TOKEN"
CLIENT_SECRET = "YOUR_CLIENT_SECRET"
_BASIC = "Basic base64(YOUR_CLIENT_ID:YOUR_CLIENT_SECRET)"
_SECRET_PARAMETERS = {
    "access_token": ACCESS_TOKEN,
    "refresh_token": "YOUR_REFRESH_TOKEN",
    "client_secret": CLIENT_SECRET,
}
# Set by every HTTP client on its own; some clients refuse them (Java's HttpClient throws).
_AUTOMATIC = frozenset(
    {"host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "upgrade"}
    | {"accept-encoding"}  # a snippet asking for gzip would print compressed bytes in some clients
)
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FORM_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class ExportRequest:
    """A request as it was sent: method, URL with its query encoded, headers, body."""

    method: str
    url: str
    headers: Sequence[tuple[str, str]] = ()
    body: bytes | str | None = None
    content_type: str | None = None

    @classmethod
    def from_request(cls, request: Any) -> ExportRequest:
        """From an ``httpx.Request`` (duck-typed), header names in the case they were sent."""
        headers = tuple(
            (name.decode("latin-1"), value.decode("latin-1")) for name, value in request.headers.raw
        )
        return cls(str(request.method), str(request.url), headers, bytes(request.content))


@dataclass(frozen=True)
class Prepared:
    """What every language's snippet is written from; values are checked and redacted."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None

    @property
    def content_type(self) -> str | None:
        """The Content-Type header's value, if any."""
        return next((v for n, v in self.headers if n.lower() == "content-type"), None)

    def header_lines(self) -> list[str]:
        """``Name: value`` lines as libcurl takes them (``Name;`` sends an empty value)."""
        return [f"{name}: {value}" if value else f"{name};" for name, value in self.headers]

    def headers_except(self, name: str) -> tuple[tuple[str, str], ...]:
        """The headers without ``name`` (any case)."""
        return tuple((n, v) for n, v in self.headers if n.lower() != name.lower())

    @property
    def scheme(self) -> str:
        """``http`` or ``https``."""
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        """``host`` or ``host:port``, as in the URL."""
        return urlsplit(self.url).netloc

    @property
    def target(self) -> str:
        """The path and query: what the request line carries."""
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def prepare(request: ExportRequest) -> Prepared:
    """Check ``request``, put placeholders for secrets, drop headers clients set themselves."""
    if not _TOKEN.fullmatch(request.method):
        raise UsageError(f"Cannot export the method {request.method!r}: it is not an HTTP method.")
    content_type = request.content_type
    headers: dict[str, tuple[str, str]] = {}  # by lower-case name; repeats joined with ", "
    for name, value in request.headers:
        if not _TOKEN.fullmatch(name) or re.search(r"[\r\n\x00]", value):
            raise UsageError(f"Cannot export the header {name!r}: its name or value is malformed.")
        key = name.lower()
        if key in _AUTOMATIC or (key == "user-agent" and value.startswith("python-httpx/")):
            continue
        if key in ("authorization", "proxy-authorization"):
            value = _credentials_placeholder(value)
        if key in headers:
            value = f"{headers[key][1]}, {value}"
            name = headers[key][0]
        headers[key] = (name, value)
    if content_type and "content-type" not in headers:
        headers["content-type"] = ("Content-Type", content_type)
    body = _text(request.body)
    if body is not None and (headers.get("content-type", ("", ""))[1].startswith(_FORM_TYPE)):
        body = _redact_pairs(body)
    return Prepared(request.method, _url(request.url), tuple(headers.values()), body)


def _credentials_placeholder(value: str) -> str:
    scheme, _, credentials = value.strip().partition(" ")
    if scheme.lower() == "basic":
        return _BASIC
    if scheme.lower() == "bearer":
        return f"Bearer {ACCESS_TOKEN}"
    return f"{scheme} {ACCESS_TOKEN}" if credentials else ACCESS_TOKEN


def _url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"Cannot export {url!r}: only absolute http(s) URLs can be exported.")
    if re.search(r"[\x00-\x20\x7f]", url):
        raise UsageError(f"Cannot export {url!r}: the URL holds spaces or control characters.")
    host = parts.netloc.rpartition("@")[2]  # credentials in a URL never reach a snippet
    return urlunsplit((parts.scheme, host, parts.path, _redact_pairs(parts.query), ""))


def _redact_pairs(encoded: str) -> str:
    """``a=1&access_token=…`` with placeholders for secret parameters' values."""
    pairs = []
    for pair in encoded.split("&"):
        name = pair.partition("=")[0]
        placeholder = _SECRET_PARAMETERS.get(unquote_plus(name).lower())
        pairs.append(f"{name}={placeholder}" if placeholder else pair)
    return "&".join(pairs)


def _text(body: bytes | str | None) -> str | None:
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(
                "The request body is binary (not UTF-8 text); only text bodies can be exported."
            ) from None
    return body or None
