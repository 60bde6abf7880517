"""Registered OAuth clients and the redirect URIs each accepts."""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .camara import SCOPE_WORDS

ISSUER = "https://sandbox.orange-nb.invalid/openidconnect/fr/v1"
"""The sandbox's issuer, whatever host serves it (the browser and the kernel reach it
under different hosts, and RFC 9207's ``iss`` must still compare equal)."""

DEMO_CLIENT_ID = "orange-nb-sandbox"
DEMO_CLIENT_SECRET = "orange-nb-sandbox-secret"  # public and documented: a demo credential
PASTE_REDIRECT_URI = "https://orange-nb.invalid/landed"

SAMPLE_SCOPES: Mapping[str, str] = {
    "openid": "Confirm who you are (a stable, synthetic user identifier)",
    "profile": "See your name and e-mail address",
    "mobility:read": "Read synthetic mobility statistics: zones and hourly presence",
    "kyc-match:match": "Check identity details against your synthetic profile",
}
"""The sample APIs' scopes: what a registered client may ask for unless told otherwise."""

SCOPES: Mapping[str, str] = {**SAMPLE_SCOPES, **SCOPE_WORDS}
"""Scopes the sandbox knows (CAMARA's from ``camara.py`` too), with the consent page's words."""

# Named redirect rules, on top of exact URIs.
ORANGE_CALLBACK = "orange-callback"  # any http(s)://HOST/…/orange/callback (no query)
LOOPBACK = "loopback"  # any http://127.0.0.1:PORT/… or http://localhost:PORT/… (RFC 8252 §7.3)
REDIRECT_RULES = frozenset({ORANGE_CALLBACK, LOOPBACK})

_MAX_REDIRECT_URI = 2048


def _plain_ascii(text: str) -> bool:
    # No spaces, controls or non-ASCII: such a URI could not be sent back as a Location.
    return all(33 <= ord(ch) < 127 for ch in text)


@dataclass(frozen=True)
class Client:
    """A registered client. The secret never shows in ``repr``."""

    client_id: str
    client_secret: str = field(repr=False)
    redirect_uris: tuple[str, ...] = (PASTE_REDIRECT_URI,)
    redirect_rules: frozenset[str] = REDIRECT_RULES
    scopes: frozenset[str] = frozenset(SAMPLE_SCOPES)

    def __post_init__(self) -> None:
        if not self.client_id or len(self.client_id) > 200:
            raise ValueError("client_id must be 1 to 200 characters")
        if not self.client_secret:
            raise ValueError("client_secret must not be empty")
        unknown = set(self.redirect_rules) - REDIRECT_RULES
        if unknown:
            raise ValueError(f"unknown redirect rules: {sorted(unknown)}")
        unknown = set(self.scopes) - set(SCOPES)
        if unknown:
            raise ValueError(f"unknown scopes: {sorted(unknown)}")

    def secret_matches(self, secret: str) -> bool:
        """Constant-time comparison with the registered secret."""
        return hmac.compare_digest(secret.encode("utf-8"), self.client_secret.encode("utf-8"))

    def allows_redirect(self, uri: str) -> bool:
        """Whether ``uri`` is registered for this client (exactly, or by one of its rules)."""
        if not uri or len(uri) > _MAX_REDIRECT_URI or not _plain_ascii(uri):
            return False
        if uri in self.redirect_uris:
            return True
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            return False
        if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
            return False
        if parts.fragment or "#" in uri:
            return False
        if (
            LOOPBACK in self.redirect_rules
            and parts.scheme == "http"
            and parts.hostname in ("127.0.0.1", "localhost")
        ):
            return True
        return (
            ORANGE_CALLBACK in self.redirect_rules
            and not parts.query
            and parts.path.endswith("/orange/callback")
        )

    def public_view(self) -> dict[str, object]:
        """What the control API shows: everything but the secret."""
        return {
            "client_id": self.client_id,
            "redirect_uris": list(self.redirect_uris),
            "redirect_rules": sorted(self.redirect_rules),
            "scopes": sorted(self.scopes),
        }

    @classmethod
    def from_json(cls, obj: object) -> Client:
        """A client from the control API's JSON; ``ValueError`` on anything malformed."""
        if not isinstance(obj, dict):
            raise ValueError("each client must be a JSON object")
        allowed = {"client_id", "client_secret", "redirect_uris", "redirect_rules", "scopes"}
        extra = set(obj) - allowed
        if extra:
            raise ValueError(f"unknown client fields: {sorted(extra)}")
        client_id = obj.get("client_id")
        secret = obj.get("client_secret")
        if not isinstance(client_id, str) or not isinstance(secret, str):
            raise ValueError("client_id and client_secret must be strings")
        kwargs: dict[str, object] = {}
        for name in ("redirect_uris", "redirect_rules", "scopes"):
            if name in obj:
                kwargs[name] = _strings(obj[name], name)
        return cls.make(client_id, secret, **kwargs)  # type: ignore[arg-type]

    @classmethod
    def make(
        cls,
        client_id: str,
        client_secret: str,
        *,
        redirect_uris: Iterable[str] = (PASTE_REDIRECT_URI,),
        redirect_rules: Iterable[str] = REDIRECT_RULES,
        scopes: Iterable[str] = tuple(SAMPLE_SCOPES),
    ) -> Client:
        """A client from any iterables (lists from JSON, tuples from Python)."""
        return cls(
            client_id,
            client_secret,
            tuple(redirect_uris),
            frozenset(redirect_rules),
            frozenset(scopes),
        )


def parse_clients(value: object) -> list[Client]:
    """``configure(clients=…)``'s value: a ``Client``, or a list of them or of their JSON."""
    if isinstance(value, Client):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError("clients must be a list of clients")
    return [item if isinstance(item, Client) else Client.from_json(item) for item in value]


def _strings(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{name} must be a list of strings")
    return tuple(value)


DEMO_CLIENT = Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, scopes=frozenset(SCOPES))
"""The documented demo client every notebook and test may use."""


def demo_client(redirect_uris: Iterable[str] | None = None) -> Client:
    """The demo client; with ``redirect_uris``, one that accepts exactly those and nothing else
    (no loopback or ``…/orange/callback`` rule), as a real application registered with Orange.

    ``ValueError`` for a URI that is not an absolute http(s) URL without a fragment.
    """
    if redirect_uris is None:
        return DEMO_CLIENT
    uris = tuple(redirect_uris)
    for uri in uris:
        try:
            parts = urlsplit(uri)
        except ValueError:
            parts = None
        if (
            parts is None
            or parts.scheme not in ("http", "https")
            or not parts.hostname
            or "#" in uri
            or len(uri) > _MAX_REDIRECT_URI
            or not _plain_ascii(uri)
        ):
            raise ValueError(f"not an absolute http(s) redirect URI: {uri[:100]!r}")
    return Client.make(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, redirect_uris=uris, redirect_rules=())
