"""The token a session holds, and the one rule for when it must be refreshed."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_LEEWAY = 60.0


def parse_expires_in(value: Any) -> float | None:
    """``expires_in`` as seconds: Orange sends a number, or sometimes a JSON string ("3600")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return (
        seconds if seconds == seconds and 0 <= seconds < 10**9 else None
    )  # drop NaN, absurd values


@dataclass(frozen=True, repr=False)
class Token:
    """An OAuth 2.0 token set. ``repr``/``str`` never show the access or refresh token.

    ``expires_at`` and ``issued_at`` are Unix times from the local clock when the request
    was sent (so the server's clock never matters); ``scopes`` is what was *granted*.
    """

    access_token: str = field(compare=False)
    refresh_token: str | None = field(default=None, compare=False)
    expires_at: float | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"
    issued_at: float = field(default_factory=time.time)
    id_claims: Mapping[str, Any] | None = None

    @classmethod
    def from_response(
        cls,
        body: Mapping[str, Any],
        *,
        requested_at: float,
        requested_scopes: tuple[str, ...] = (),
        previous: Token | None = None,
        id_claims: Mapping[str, Any] | None = None,
    ) -> Token:
        """Build from a token endpoint's JSON answer (RFC 6749 §5.1).

        A refresh answer without ``refresh_token`` keeps ``previous``'s; one without ``scope``
        keeps the scopes asked for (or held before), as §5.1 says the scope is unchanged then.
        """
        expires_in = parse_expires_in(body.get("expires_in"))
        scope = body.get("scope")
        if isinstance(scope, str) and scope.strip():
            scopes = tuple(scope.split())
        elif previous is not None and previous.scopes:
            scopes = previous.scopes
        else:
            scopes = requested_scopes
        refresh = body.get("refresh_token") or (previous.refresh_token if previous else None)
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=str(refresh) if refresh else None,
            expires_at=requested_at + expires_in if expires_in is not None else None,
            scopes=scopes,
            token_type=str(body.get("token_type") or "Bearer"),
            issued_at=requested_at,
            id_claims=id_claims
            if id_claims is not None
            else (previous.id_claims if previous else None),
        )

    @property
    def lifetime(self) -> float | None:
        """Seconds between issue and expiry, when the server said."""
        return None if self.expires_at is None else self.expires_at - self.issued_at

    def expires_in(self, now: float | None = None) -> float | None:
        """Seconds left (negative once expired); ``None`` when the server gave no lifetime."""
        if self.expires_at is None:
            return None
        return self.expires_at - (time.time() if now is None else now)

    def refresh_due(self, leeway: float = DEFAULT_LEEWAY, now: float | None = None) -> bool:
        """THE refresh rule: refresh ``leeway`` seconds ahead of expiry, never more than half the lifetime.

        Without a known expiry the token is used until the API says it is invalid (401).
        """
        left = self.expires_in(now)
        if left is None:
            return False
        lifetime = self.lifetime or 0.0
        return left <= min(leeway, max(lifetime, 0.0) / 2)

    @property
    def expired(self) -> bool:
        """True once the expiry time has passed."""
        left = self.expires_in()
        return left is not None and left <= 0

    def with_(self, **changes: Any) -> Token:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def __repr__(self) -> str:
        left = self.expires_in()
        when = (
            "no expiry given"
            if left is None
            else (f"expired {-left:.0f}s ago" if left <= 0 else f"expires in {left:.0f}s")
        )
        return (
            f"Token({when}, scopes={' '.join(self.scopes)!r}, "
            f"refreshable={self.refresh_token is not None})"
        )

    __str__ = __repr__

    # The token store's format; it holds secrets and is written only by a token store.
    def to_json(self) -> str:
        """Serialise every field, secrets included (for a token store only)."""
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
                "scopes": list(self.scopes),
                "token_type": self.token_type,
                "issued_at": self.issued_at,
                "id_claims": dict(self.id_claims) if self.id_claims else None,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Token:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on anything malformed."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
            raise ValueError("not a stored token")
        refresh = data.get("refresh_token")
        expires_at = data.get("expires_at")
        scopes = data.get("scopes") or []
        if refresh is not None and not isinstance(refresh, str):
            raise ValueError("bad refresh token")
        if expires_at is not None and not isinstance(expires_at, int | float):
            raise ValueError("bad expiry")
        if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
            raise ValueError("bad scopes")
        claims = data.get("id_claims")
        return cls(
            access_token=data["access_token"],
            refresh_token=refresh,
            expires_at=float(expires_at) if expires_at is not None else None,
            scopes=tuple(scopes),
            token_type=str(data.get("token_type") or "Bearer"),
            issued_at=float(data.get("issued_at") or time.time()),
            id_claims=claims if isinstance(claims, dict) else None,
        )
