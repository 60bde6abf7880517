"""Authorization grants: pending authorization requests and the codes issued for them.

Not thread-safe on its own: ``Sandbox`` holds its lock around every call.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from . import pkce
from .errors import OAuthError
from .records import FORGET_AFTER, CodeGrant, Pending, digest, new_secret

CODE_PREFIX = "sbx_code_"
PENDING_LIFETIME = 900.0  # seconds a person has to get through the sign-in pages
_MAX_PENDING = 10_000  # a bound on memory when someone reloads the authorize URL in a loop


class Grants:
    """Authorization requests waiting for a decision, and authorization codes (by hash)."""

    def __init__(self) -> None:
        self._pending: dict[str, Pending] = {}
        self._codes: dict[str, CodeGrant] = {}

    def add_pending(self, pending: Pending, now: float) -> None:
        """Remember ``pending``, forgetting expired ones (and the oldest beyond the bound)."""
        for key in [k for k, p in self._pending.items() if now - p.created_at > PENDING_LIFETIME]:
            del self._pending[key]
        while len(self._pending) >= _MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        self._pending[pending.id] = pending

    def pending(self, pending_id: str, now: float) -> Pending | None:
        """The pending authorization ``pending_id``, unless unknown or expired."""
        found = self._pending.get(pending_id)
        if found is None or now - found.created_at > PENDING_LIFETIME:
            return None
        return found

    def take_pending(self, pending_id: str, now: float) -> Pending | None:
        """Remove the pending authorization; return it unless it had expired."""
        found = self.pending(pending_id, now)
        self._pending.pop(pending_id, None)
        return found

    def issue_code(self, pending: Pending, user: str, lifetime: float, now: float) -> str:
        """A new authorization code standing for ``pending`` approved by ``user``."""
        for key in [k for k, g in self._codes.items() if g.expires_at + FORGET_AFTER < now]:
            del self._codes[key]
        code = new_secret(CODE_PREFIX)
        self._codes[digest(code)] = CodeGrant(
            client_id=pending.client_id,
            redirect_uri=pending.redirect_uri,
            scopes=pending.scopes,
            user=user,
            nonce=pending.nonce,
            code_challenge=pending.code_challenge,
            expires_at=now + lifetime,
        )
        return code

    def redeem(
        self,
        client_id: str,
        code: str,
        redirect_uri: str | None,
        verifier: str | None,
        now: float,
        on_replay: Callable[[str], None],
    ) -> tuple[CodeGrant, str]:
        """RFC 6749 §4.1.3: use ``code`` once; returns its grant and a new token family id.

        Raises ``OAuthError`` (invalid_grant) when refused; a refused attempt leaves the
        code usable, but a replay of a used one calls ``on_replay`` with its family first.
        """
        grant = self._codes.get(digest(code))
        if grant is None:
            raise OAuthError("invalid_grant", "The authorization code is unknown.")
        if grant.client_id != client_id:
            raise OAuthError(
                "invalid_grant", "The authorization code was issued to another client."
            )
        if grant.used:
            # RFC 6749 §4.1.2: a replayed code revokes what it was exchanged for.
            if grant.grant_id is not None:
                on_replay(grant.grant_id)
            raise OAuthError(
                "invalid_grant",
                "The authorization code was already used; the tokens issued from it are "
                "now revoked.",
            )
        if now >= grant.expires_at:
            raise OAuthError("invalid_grant", "The authorization code expired.")
        if grant.redirect_uri is not None and redirect_uri != grant.redirect_uri:
            raise OAuthError(
                "invalid_grant",
                "redirect_uri does not match the one of the authorization request.",
            )
        pkce.verify(grant.code_challenge, verifier)
        grant.used = True
        grant.grant_id = secrets.token_urlsafe(16)
        return grant, grant.grant_id
