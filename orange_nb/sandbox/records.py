"""What the sandbox remembers between requests. Secrets are stored only as hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field

FORGET_AFTER = 3600.0
"""Seconds an expired code or token is still remembered: it answers "expired" (or, for a
code, still detects a replay) this long, then "unknown"."""


def new_secret(prefix: str) -> str:
    """A fresh code or token: ``prefix`` and 43 url-safe characters (256 bits)."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """The key under which a token or code is remembered (never the value itself)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(repr=False)
class Pending:
    """An authorization request waiting for sign-in and consent, keyed by a random id."""

    id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str | None
    code_challenge: str | None
    login_hint: str | None
    created_at: float
    user: str | None = None

    def __repr__(self) -> str:
        return f"Pending(client_id={self.client_id!r}, scopes={self.scopes!r})"


@dataclass
class CodeGrant:
    """An issued authorization code (remembered by hash) and what it stands for."""

    client_id: str
    redirect_uri: str | None
    scopes: tuple[str, ...]
    user: str
    nonce: str | None = field(repr=False)
    code_challenge: str | None = field(repr=False)
    expires_at: float
    used: bool = False
    grant_id: str | None = None


@dataclass
class IssuedToken:
    """An access or refresh token (remembered by hash)."""

    kind: str  # "access" or "refresh"
    client_id: str
    user: str
    scopes: tuple[str, ...]
    grant_id: str
    expires_at: float | None
    revoked: bool = False

    def expired(self, now: float) -> bool:
        """Whether its lifetime has run out."""
        return self.expires_at is not None and now >= self.expires_at
