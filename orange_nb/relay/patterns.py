"""Origin patterns: which hosts the relay may send a sign-in answer back to.

A pattern is ``scheme://host[:port]``:

- ``scheme`` is ``http`` or ``https``;
- ``host`` is a name, an IPv4 address or a bracketed IPv6 address; a name may start with
  one ``*.`` label wildcard, which stands for one or more whole labels *before* the rest
  (``https://*.mybinder.org`` matches ``https://hub.2i2c.mybinder.org``, never
  ``https://mybinder.org`` itself nor ``https://mybinder.org.evil.com``); the rest must
  have at least two labels (no ``*.org``);
- ``port`` is a number, ``*`` (any port), or absent: the scheme's default port only.

Patterns and addresses are compared after lower-casing and IDNA (punycode) encoding, as a
browser's URL parser does; userinfo, a path, a query, a fragment, a trailing dot or a ``*``
anywhere else is refused. The page (``page.py``) applies the same rule in the browser to the
JSON of :meth:`OriginPattern.as_json`; the tests check both agree.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443}
LOOPBACK_PATTERNS = ("http://127.0.0.1:*", "http://localhost:*")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_PATTERN = re.compile(
    r"^(?i:(https?))://(\[[0-9a-fA-F:.]+\]|[^/:?#@\[\]]+)(?::(\*|[0-9]{1,5}))?/?$"
)


class PatternError(ValueError):
    """An allow-list pattern that cannot be read, or would match more than it says."""


def canonical_host(host: str) -> str:
    """``host`` lower-cased and IDNA-encoded; ``ValueError`` for a name no browser would load."""
    if host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            raise ValueError("not an IPv6 address") from None
    if host.endswith("."):
        raise ValueError("a trailing dot")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("not a valid international domain name") from None
    labels = ascii_host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise ValueError("not a host name")
    return ascii_host


@dataclass(frozen=True)
class OriginPattern:
    """One parsed pattern; ``port`` is ``None`` for any port."""

    scheme: str
    host: str  # canonical, without the wildcard
    wildcard: bool
    port: int | None

    @classmethod
    def parse(cls, text: str) -> OriginPattern:
        """Read ``scheme://host[:port]``; ``PatternError`` says what is wrong."""
        found = _PATTERN.match(text.strip())
        if found is None:
            raise PatternError(
                f"{text[:100]!r} is not an origin pattern: write scheme://host[:port], such as "
                "https://*.mybinder.org or http://127.0.0.1:* (no user, path, query or fragment)."
            )
        scheme, host, port_text = found.group(1).lower(), found.group(2), found.group(3)
        wildcard = host.startswith("*.")
        if wildcard:
            host = host[2:]
        if "*" in host:
            raise PatternError(
                f"{text[:100]!r}: a `*` may only stand as the whole first label (`*.example.org`)."
            )
        try:
            host = canonical_host(host)
        except ValueError as e:
            raise PatternError(f"{text[:100]!r}: the host has {e}.") from None
        if wildcard and (host.startswith("[") or _is_ipv4(host) or host.count(".") < 1):
            raise PatternError(
                f"{text[:100]!r}: `*.` needs a domain of at least two labels after it "
                "(`*.mybinder.org`, not `*.org` nor an address)."
            )
        port: int | None = DEFAULT_PORTS[scheme]
        if port_text == "*":
            port = None
        elif port_text is not None:
            port = int(port_text)
            if not 0 < port < 65536:
                raise PatternError(f"{text[:100]!r}: the port must be 1 to 65535, or `*`.")
        return cls(scheme, host, wildcard, port)

    def matches(self, url: str) -> bool:
        """Whether ``url``'s origin is one this pattern allows (see the module docstring)."""
        origin = url_origin(url)
        if origin is None:
            return False
        scheme, host, port = origin
        if scheme != self.scheme or (self.port is not None and port != self.port):
            return False
        if self.wildcard:
            return host.endswith("." + self.host)
        return host == self.host

    def as_json(self) -> dict[str, object]:
        """What the page bakes in: ``{"scheme", "host", "wildcard", "port"}`` (port null: any)."""
        return {
            "scheme": self.scheme,
            "host": self.host,
            "wildcard": self.wildcard,
            "port": self.port,
        }

    def __str__(self) -> str:
        port = "*" if self.port is None else str(self.port)
        shown_port = "" if self.port == DEFAULT_PORTS[self.scheme] else ":" + port
        return f"{self.scheme}://{'*.' if self.wildcard else ''}{self.host}{shown_port}"


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def url_origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, canonical host, port)`` of an http(s) URL without userinfo, else ``None``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or "@" in parts.netloc or not parts.hostname:
        return None
    netloc = parts.netloc
    host = netloc[: netloc.index("]") + 1] if netloc.startswith("[") else netloc.split(":")[0]
    try:
        host = canonical_host(host)
    except ValueError:
        return None
    return scheme, host, port if port is not None else DEFAULT_PORTS[scheme]


def parse_all(texts: list[str] | tuple[str, ...]) -> tuple[OriginPattern, ...]:
    """Every pattern of ``texts``, in order, duplicates dropped."""
    return tuple(dict.fromkeys(OriginPattern.parse(t) for t in texts))


def allowed(patterns: tuple[OriginPattern, ...], url: str) -> bool:
    """Whether one of ``patterns`` matches ``url``."""
    return any(p.matches(url) for p in patterns)
