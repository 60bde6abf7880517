"""Issued tokens: access and refresh tokens by hash, their families, rotation, revocation.

A family is every token issued from one authorization code (RFC 6749 §4.1.2, §10.4): a
replayed code or a revoked refresh token revokes it whole. Not thread-safe on its own:
``Sandbox`` holds its lock around every call.
"""

from __future__ import annotations

from typing import Literal

from . import camara
from .clients import ISSUER, Client
from .data import user_profile
from .errors import OAuthError
from .idtoken import sign_hs256
from .records import FORGET_AFTER, CodeGrant, IssuedToken, digest, new_secret
from .settings import Settings

ACCESS_PREFIX = "sbx_at_"
REFRESH_PREFIX = "sbx_rt_"

BearerStatus = Literal["ok", "invalid", "expired"]


class Tokens:
    """Every token the sandbox issued and has not forgotten, grouped by family."""

    def __init__(self) -> None:
        self._tokens: dict[str, IssuedToken] = {}
        self._families: dict[str, set[str]] = {}  # family (grant) id → token digests

    def grant(
        self, client: Client, code: CodeGrant, family: str, settings: Settings, now: float
    ) -> dict[str, object]:
        """The token answer for a redeemed code: access, refresh and (openid) ID token."""
        self._forget_old(now)
        return self._answer(client, family, code.user, code.scopes, code.nonce, settings, now, True)

    def refresh(
        self,
        client: Client,
        refresh_token: str,
        scopes: tuple[str, ...] | None,
        settings: Settings,
        now: float,
    ) -> dict[str, object]:
        """RFC 6749 §6: new tokens for a refresh token, optionally for fewer scopes.

        Raises ``OAuthError`` (invalid_grant, invalid_scope) when refused.
        """
        found = self._tokens.get(digest(refresh_token))
        if found is None or found.kind != "refresh" or found.revoked:
            raise OAuthError("invalid_grant", "The refresh token is unknown or revoked.")
        if found.client_id != client.client_id:
            raise OAuthError("invalid_grant", "The refresh token was issued to another client.")
        if found.expired(now):
            raise OAuthError("invalid_grant", "The refresh token expired.")
        if scopes is not None:
            extra = [s for s in scopes if s not in found.scopes]
            if extra:
                raise OAuthError(
                    "invalid_scope",
                    f"The refresh token was not granted: {' '.join(extra)[:200]}.",
                )
        rotate = settings.rotate_refresh_tokens
        if rotate:
            found.revoked = True
        self._forget_old(now)
        answer = self._answer(
            client, found.grant_id, found.user, scopes or found.scopes, None, settings, now, False
        )
        if rotate:
            # RFC 6749 §6: a new refresh token keeps the scope of the old one.
            answer["refresh_token"] = self._issue(
                "refresh", client.client_id, found.user, found.scopes, found.grant_id, settings, now
            )
        return answer

    def revoke(self, client_id: str, token: str) -> bool:
        """RFC 7009: revoke a token of ``client_id`` (a refresh token takes its family along).

        Returns whether it was one: unknown tokens and other clients' are ignored.
        """
        found = self._tokens.get(digest(token))
        if found is None or found.client_id != client_id:
            return False
        if found.kind == "refresh":
            self.revoke_family(found.grant_id)
        else:
            found.revoked = True
        return True

    def revoke_family(self, family: str) -> None:
        """Revoke every token issued from one authorization code."""
        for key in self._families.get(family, ()):
            token = self._tokens.get(key)
            if token is not None:
                token.revoked = True

    def check_bearer(self, token: str, now: float) -> tuple[BearerStatus, IssuedToken | None]:
        """``ok`` (with its record), ``invalid`` or ``expired`` (with its record)."""
        found = self._tokens.get(digest(token))
        if found is None or found.kind != "access" or found.revoked:
            return "invalid", None
        if found.expired(now):
            return "expired", found
        return "ok", found

    def revoke_all(self) -> int:
        """Revoke every token not revoked yet; returns how many."""
        live = [t for t in self._tokens.values() if not t.revoked]
        for token in live:
            token.revoked = True
        return len(live)

    def expire_access(self, now: float) -> int:
        """Make every usable access token expired; returns how many."""
        live = [t for t in self._live(now) if t.kind == "access"]
        for token in live:
            token.expires_at = now - 1
        return len(live)

    def active(self, now: float) -> dict[str, int]:
        """How many access and refresh tokens are usable."""
        live = self._live(now)
        return {
            "access": sum(1 for t in live if t.kind == "access"),
            "refresh": sum(1 for t in live if t.kind == "refresh"),
        }

    def _live(self, now: float) -> list[IssuedToken]:
        return [t for t in self._tokens.values() if not t.revoked and not t.expired(now)]

    def _issue(
        self,
        kind: str,
        client_id: str,
        user: str,
        scopes: tuple[str, ...],
        family: str,
        settings: Settings,
        now: float,
    ) -> str:
        lifetime: float | None
        if kind == "access":
            value = new_secret(ACCESS_PREFIX)
            lifetime = camara.access_lifetime(scopes, settings.access_token_lifetime)
        else:
            value, lifetime = new_secret(REFRESH_PREFIX), settings.refresh_token_lifetime
        key = digest(value)
        expires = None if lifetime is None else now + lifetime
        self._tokens[key] = IssuedToken(kind, client_id, user, scopes, family, expires)
        self._families.setdefault(family, set()).add(key)
        return value

    def _answer(
        self,
        client: Client,
        family: str,
        user: str,
        scopes: tuple[str, ...],
        nonce: str | None,
        settings: Settings,
        now: float,
        issue_refresh: bool,
    ) -> dict[str, object]:
        """RFC 6749 §5.1's answer, with an OIDC ID token when ``openid`` is granted."""
        lifetime = int(camara.access_lifetime(scopes, settings.access_token_lifetime))
        issue_refresh = issue_refresh and camara.refresh_allowed(scopes)
        client_id = client.client_id
        answer: dict[str, object] = {
            "access_token": self._issue("access", client_id, user, scopes, family, settings, now),
            "token_type": "Bearer",
            "expires_in": str(lifetime) if settings.expires_in_as_string else lifetime,
            "scope": " ".join(scopes),
        }
        if issue_refresh:
            answer["refresh_token"] = self._issue(
                "refresh", client_id, user, scopes, family, settings, now
            )
        if "openid" in scopes:
            profile = user_profile(user)
            claims: dict[str, object] = {
                "iss": ISSUER,
                "sub": profile["sub"],
                "aud": client_id,
                "iat": int(now),
                "exp": int(now) + max(lifetime, 60),
                "name": profile["name"],
            }
            if nonce is not None:
                claims["nonce"] = nonce
            answer["id_token"] = sign_hs256(claims, client.client_secret)
        return answer

    def _forget_old(self, now: float) -> None:
        old = [
            k
            for k, t in self._tokens.items()
            if t.expires_at is not None and t.expires_at + FORGET_AFTER < now
        ]
        for key in old:
            token = self._tokens.pop(key)
            keys = self._families.get(token.grant_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._families[token.grant_id]
