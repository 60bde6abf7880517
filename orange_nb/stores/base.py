"""Where a session's tokens live between kernel restarts: ``memory`` (default), ``file``, ``keyring``."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Protocol

from ..oauth.token import Token


class TokenStore(Protocol):
    """Keeps one session's token. Implementations never log or show what they hold.

    Kernels may share a store: the token keeper holds :meth:`lock` while it re-reads the
    store, refreshes and saves, so a rotated refresh token is never used twice.
    """

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Exclusive across processes sharing this store, for a bounded wait."""

    def load(self) -> Token | None:
        """The stored token, or ``None`` (missing, unreadable or untrusted)."""

    def save(self, token: Token) -> None:
        """Store ``token``, replacing any other."""

    def clear(self) -> None:
        """Forget the stored token."""


class MemoryStore:
    """Tokens live in the kernel only: a restart means a new sign-in."""

    def lock(self) -> contextlib.AbstractContextManager[None]:
        """Nothing is shared: no lock."""
        return contextlib.nullcontext()

    def load(self) -> Token | None:
        """Nothing survives in memory across restarts."""
        return None

    def save(self, token: Token) -> None:
        """Nothing to do: the session holds the token."""

    def clear(self) -> None:
        """Nothing to do."""


def store_key(client_id: str, scopes: tuple[str, ...], token_url: str) -> str:
    """A stable name for one application + scope set + provider."""
    raw = "\n".join([client_id, " ".join(sorted(scopes)), token_url])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def make_store(kind: str, key: str) -> TokenStore:
    """The store named ``kind`` for the session named by ``key`` (see :func:`store_key`)."""
    if kind == "memory":
        return MemoryStore()
    if kind == "file":
        from .file import FileStore

        return FileStore(key)
    if kind == "keyring":
        from .keyring import KeyringStore

        return KeyringStore(key)
    raise ValueError(f"unknown token store {kind!r}")
