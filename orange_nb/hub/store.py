"""The service's database: each user's tokens and pending sign-ins, encrypted at rest.

SQLite (the standard library's), one file. Every token and every sign-in secret (``state``,
PKCE verifier, nonce) is sealed with Fernet (AES-128-CBC + HMAC-SHA256, from
``cryptography``) under the key in the service's environment; a copy of the file without the
key yields nothing. Pending sign-ins are found by a SHA-256 of their ``state``, so the state
itself is not in the clear either. Rows sealed under a key no longer given read as absent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..errors import ConfigError
from ..oauth.secret import Secret
from ..oauth.token import Token

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS grants (user TEXT PRIMARY KEY, sealed BLOB NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS flows (
  state_hash TEXT PRIMARY KEY, user TEXT NOT NULL, sealed BLOB NOT NULL, created REAL NOT NULL
);
"""


@dataclass(frozen=True, repr=False)
class PendingFlow:
    """A sign-in begun at ``login``: what the callback needs to finish it."""

    user: str
    state: Secret
    code_verifier: Secret
    nonce: str | None
    redirect_uri: str
    scopes: tuple[str, ...]
    created: float

    def __repr__(self) -> str:
        return f"PendingFlow(user={self.user!r}, redirect_uri={self.redirect_uri!r})"


def state_hash(state: str) -> str:
    """The key a pending sign-in is found by."""
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


def fernet_of(keys: Sequence[Secret]) -> MultiFernet:
    """The keys as one ``MultiFernet``; ``ConfigError`` when one is no Fernet key."""
    try:
        return MultiFernet([Fernet(k.reveal().encode("ascii")) for k in keys])
    except (ValueError, UnicodeEncodeError):
        raise ConfigError(
            "ORANGE_HUB_KEY is not a Fernet key (32 url-safe base64-encoded bytes, comma-"
            "separated for rotation). Make one with `python -m orange_nb.hub --new-key`."
        ) from None


def _token_json(token: Token) -> dict[str, Any]:
    claims = token.id_claims or {}
    return {
        "access_token": token.access_token.reveal(),
        "refresh_token": token.refresh_token.reveal() if token.refresh_token else None,
        "expires_at": token.expires_at,
        "issued_at": token.issued_at,
        "scopes": list(token.scopes),
        # Who signed in, for the status page and the kernels: nothing else of the ID token.
        "claims": {k: claims[k] for k in ("sub", "name", "preferred_username") if k in claims},
    }


def _token_of(data: dict[str, Any]) -> Token:
    return Token(
        access_token=data["access_token"],
        refresh_token=data.get("refresh_token"),
        expires_at=data.get("expires_at"),
        issued_at=data.get("issued_at"),
        scopes=tuple(data.get("scopes") or ()),
        id_claims=data.get("claims") or None,
    )


class GrantStore:
    """Users' tokens and pending sign-ins in one SQLite file (thread-safe)."""

    def __init__(self, path: str, keys: Sequence[Secret]) -> None:
        if not keys:
            raise ConfigError("ORANGE_HUB_KEY is empty: give at least one Fernet key.")
        self._fernet = fernet_of(keys)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self.unreadable = 0  # rows sealed under a key we no longer have (logged, not shown)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _seal(self, data: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(data).encode())

    def _open(self, sealed: bytes, what: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._fernet.decrypt(sealed))
        except (InvalidToken, ValueError):
            self.unreadable += 1
            log.warning("orange_nb hub: a %s row cannot be decrypted with ORANGE_HUB_KEY", what)
            return None
        return data if isinstance(data, dict) else None

    # --- grants ------------------------------------------------------------------------
    def load(self, user: str) -> Token | None:
        """``user``'s tokens, or ``None`` (none kept, or sealed under another key)."""
        with self._lock:
            row = self._db.execute("SELECT sealed FROM grants WHERE user=?", (user,)).fetchone()
        if row is None:
            return None
        data = self._open(row[0], "token")
        return _token_of(data) if data is not None else None

    def save(self, user: str, token: Token) -> None:
        """Keep ``token`` as ``user``'s (replacing what was there)."""
        sealed = self._seal(_token_json(token))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO grants (user, sealed, updated) VALUES (?, ?, ?)",
                (user, sealed, time.time()),
            )

    def delete(self, user: str) -> None:
        """Forget ``user``'s tokens."""
        with self._lock:
            self._db.execute("DELETE FROM grants WHERE user=?", (user,))

    # --- pending sign-ins --------------------------------------------------------------
    def add_flow(self, flow: PendingFlow) -> None:
        """Keep a sign-in begun by ``flow.user`` until its callback (or ``FLOW_TTL``)."""
        sealed = self._seal(
            {
                "state": flow.state.reveal(),
                "code_verifier": flow.code_verifier.reveal(),
                "nonce": flow.nonce,
                "redirect_uri": flow.redirect_uri,
                "scopes": list(flow.scopes),
            }
        )
        with self._lock:
            self._db.execute(
                "INSERT INTO flows (state_hash, user, sealed, created) VALUES (?, ?, ?, ?)",
                (state_hash(flow.state.reveal()), flow.user, sealed, flow.created),
            )

    def find_flow(self, state: str, ttl: float) -> PendingFlow | None:
        """The live sign-in with ``state`` (whoever began it), or ``None``."""
        with self._lock:
            self._db.execute("DELETE FROM flows WHERE created < ?", (time.time() - ttl,))
            row = self._db.execute(
                "SELECT user, sealed, created FROM flows WHERE state_hash=?", (state_hash(state),)
            ).fetchone()
        if row is None:
            return None
        data = self._open(row[1], "sign-in")
        if data is None:
            return None
        return PendingFlow(
            user=row[0],
            state=Secret(data["state"]),
            code_verifier=Secret(data["code_verifier"]),
            nonce=data.get("nonce"),
            redirect_uri=data["redirect_uri"],
            scopes=tuple(data.get("scopes") or ()),
            created=row[2],
        )

    def take_flow(self, state: str) -> bool:
        """Remove the sign-in with ``state``; whether it was there (a replay finds nothing)."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM flows WHERE state_hash=?", (state_hash(state),))
        return cursor.rowcount == 1

    def drop_flows(self, user: str) -> None:
        """Forget every sign-in ``user`` began (a newer one replaces them)."""
        with self._lock:
            self._db.execute("DELETE FROM flows WHERE user=?", (user,))
