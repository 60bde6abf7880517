"""The token a session holds, and the one rule for when it must be refreshed."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import LoginError
from .secret import Secret, reveal

DEFAULT_LEEWAY = 60.0
_MAX_LIFETIME = 10**9  # seconds (30 years): anything longer is no lifetime a server means
SINGLE_USE_SCOPES = frozenset({"dpv:FraudPreventionAndDetection#number-verification:verify"})
"""CAMARA: a token granting one of these (Number Verification) is spent by its first good call."""


def parse_expires_in(value: Any) -> float | None:
    """``expires_in`` as seconds: Orange sends a number, or sometimes a JSON string ("3600").

    Anything else (negative, NaN, infinite, absurdly large, not a number) is no known
    lifetime: the token is then used until the API refuses it.
    """
    if value is None or isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if isinstance(value, int):
        return float(value) if 0 <= value < _MAX_LIFETIME else None  # float(10**400) overflows
    try:
        seconds = float(value.strip() if isinstance(value, str) else value)
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and 0 <= seconds < _MAX_LIFETIME else None


def _malformed(what: str) -> LoginError:
    return LoginError(
        f"Orange's token endpoint answered with a malformed token ({what}). Try again; if it "
        "persists, check the token URL.",
        error="invalid_token_response",
    )


def _scopes_of(value: Any) -> tuple[str, ...] | None:
    """A granted ``scope``: a space-separated string (RFC 6749 §3.3), or a list of them."""
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(value.split()) or None
    if isinstance(value, list) and all(isinstance(s, str) for s in value):
        return tuple(x for s in value for x in s.split()) or None
    raise _malformed("`scope` is neither text nor a list of text")


@dataclass(frozen=True, repr=False, init=False)
class Token:
    """An OAuth 2.0 token set. ``repr``/``str`` never show the access or refresh token.

    ``access_token`` and ``refresh_token`` are ``Secret`` objects:
    ``token.access_token.reveal()`` gives the text. ``expires_at`` and ``issued_at`` are
    Unix times from the local clock when the request was sent (so the server's clock never
    matters); ``scopes`` is what was *granted*.
    """

    access_token: Secret = field(compare=False)
    refresh_token: Secret | None = field(default=None, compare=False)
    expires_at: float | None = None
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"
    issued_at: float = field(default_factory=time.time)
    id_claims: Mapping[str, Any] | None = None

    def __init__(
        self,
        access_token: str | Secret,
        refresh_token: str | Secret | None = None,
        expires_at: float | None = None,
        scopes: tuple[str, ...] = (),
        token_type: str = "Bearer",
        issued_at: float | None = None,
        id_claims: Mapping[str, Any] | None = None,
    ) -> None:
        # Written out so that text given for a token is held as a Secret from the start.
        values = {
            "access_token": Secret.of(access_token),
            "refresh_token": None if refresh_token is None else Secret.of(refresh_token),
            "expires_at": expires_at,
            "scopes": tuple(scopes),
            "token_type": token_type,
            "issued_at": time.time() if issued_at is None else issued_at,
            "id_claims": id_claims,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_response(
        cls,
        body: Any,
        *,
        requested_at: float,
        requested_scopes: tuple[str, ...] = (),
        previous: Token | None = None,
        id_claims: Mapping[str, Any] | None = None,
    ) -> Token:
        """Build from a token endpoint's JSON answer (RFC 6749 §5.1).

        A refresh answer without ``refresh_token`` keeps ``previous``'s; one without ``scope``
        keeps the scopes asked for (or held before), as §5.1 says the scope is unchanged then.
        Raises ``LoginError`` for an answer that is no token: not an object, no access token,
        a token type other than Bearer, a scope or refresh token that is not text.
        """
        if not isinstance(body, Mapping):
            raise _malformed("not a JSON object")
        access = body.get("access_token")
        if not isinstance(access, str | Secret) or not access:
            raise _malformed("no `access_token`")
        token_type = body.get("token_type")
        if token_type is not None and not (
            isinstance(token_type, str) and token_type.lower() == "bearer"
        ):
            shown = token_type[:30] if isinstance(token_type, str) else type(token_type).__name__
            raise _malformed(f"token type {shown!r}, not Bearer")
        refresh = body.get("refresh_token")
        if refresh is not None and not isinstance(refresh, str | Secret):
            raise _malformed("`refresh_token` is not text")
        granted = _scopes_of(body.get("scope"))
        if granted is not None:
            scopes = granted
        elif previous is not None and previous.scopes:
            scopes = previous.scopes
        else:
            scopes = requested_scopes
        expires_in = parse_expires_in(body.get("expires_in"))
        return cls(
            access_token=access,
            refresh_token=refresh or (previous.refresh_token if previous else None),
            expires_at=requested_at + expires_in if expires_in is not None else None,
            scopes=scopes,
            token_type="Bearer",
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
    def single_use(self) -> bool:
        """Whether the API spends this token on its first successful call (CAMARA)."""
        return any(scope in SINGLE_USE_SCOPES for scope in self.scopes)

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
                "access_token": self.access_token.reveal(),
                "refresh_token": reveal(self.refresh_token),
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
