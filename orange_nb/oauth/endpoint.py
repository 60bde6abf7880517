"""The token endpoint: code exchange, refresh, revocation (RFC 6749 §4.1.3, §6; RFC 7009)."""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote_plus

import httpx

from .errors import SIGN_IN_AGAIN, LoginError, LoginRequired, NetworkError
from .token import Token

AuthMethod = Literal["client_secret_basic", "client_secret_post"]

_TOKEN_ERROR_ADVICE = {
    "invalid_client": "Orange did not accept the client id and secret: check ORANGE_CLIENT_ID "
    "and ORANGE_CLIENT_SECRET against the application on the developer portal.",
    "invalid_grant": "The authorization code was refused (already used, expired, or issued "
    "for another redirect URI or application). " + SIGN_IN_AGAIN,
    "invalid_request": "Orange refused the token request as malformed.",
    "unauthorized_client": "This application may not use this grant; check its settings on "
    "the developer portal.",
    "unsupported_grant_type": "Orange does not support this grant type here.",
    "invalid_scope": "Orange refused the requested scopes; check `scopes`.",
}


def basic_credentials(client_id: str, client_secret: str) -> str:
    """The ``Authorization: Basic`` value of RFC 6749 §2.3.1.

    Id and secret are form-url-encoded *before* base64, so a secret holding ``:``, ``%``, ``+``,
    spaces or non-ASCII reaches the server intact.
    """
    raw = f"{quote_plus(client_id)}:{quote_plus(client_secret)}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The claims of a JWT, unverified.

    The ID token arrives straight from the token endpoint over TLS, which OIDC Core §3.1.3.7
    accepts in place of checking its signature; we still check nonce, audience and issuer.
    """
    try:
        payload = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise LoginError("Orange returned a malformed ID token. Sign in again.") from exc
    if not isinstance(claims, dict):
        raise LoginError("Orange returned a malformed ID token. Sign in again.")
    return claims


class TokenEndpoint:
    """Talks to one token endpoint for one client. Thread-safe (``httpx.Client`` is)."""

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        http: httpx.Client,
        auth_method: AuthMethod = "client_secret_basic",
        issuer: str | None = None,
        revocation_url: str | None = None,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self._client_secret = client_secret
        self.auth_method = auth_method
        self.issuer = issuer
        self.revocation_url = revocation_url
        self._http = http

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.url!r}, client_id={self.client_id!r})"

    def _client_auth(self, form: dict[str, str]) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.auth_method == "client_secret_post":
            form["client_id"] = self.client_id
            form["client_secret"] = self._client_secret
        else:
            headers["Authorization"] = basic_credentials(self.client_id, self._client_secret)
        return headers

    def _post(self, url: str, form: dict[str, str]) -> httpx.Response:
        headers = self._client_auth(form)
        try:
            return self._http.post(url, data=form, headers=headers)
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"Orange's token endpoint ({url}) did not answer in time. Check the network "
                "and try again."
            ) from exc
        except httpx.TransportError as exc:
            raise NetworkError(
                f"Could not reach Orange's token endpoint ({url}): {type(exc).__name__}. "
                "Check the network and the token URL, then try again."
            ) from exc

    def _token_body(self, response: httpx.Response, *, refreshing: bool) -> Mapping[str, Any]:
        try:
            body = response.json()
        except ValueError:
            body = None
        if (
            response.is_success
            and isinstance(body, dict)
            and isinstance(body.get("access_token"), str)
        ):
            return body
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        description = str(body.get("error_description", ""))[:300] if isinstance(body, dict) else ""
        if refreshing and error in ("invalid_grant", "invalid_token"):
            raise LoginRequired(
                "Your Orange session has ended (the refresh token was refused). " + SIGN_IN_AGAIN,
                error=error,
                description=description,
            )
        if not error:
            what = "no token" if response.is_success else f"HTTP {response.status_code}"
            raise LoginError(
                f"Orange's token endpoint answered with {what} and no OAuth error. "
                "Check the token URL, then try again.",
            )
        said = f": {description}" if description else ""
        advice = _TOKEN_ERROR_ADVICE.get(error, "")
        raise LoginError(
            f"Orange's token endpoint refused the request ({error[:60]}{said}). {advice}".strip(),
            error=error,
            description=description,
        )

    def exchange_code(
        self,
        code: str,
        *,
        redirect_uri: str,
        code_verifier: str,
        scopes: tuple[str, ...] = (),
        nonce: str | None = None,
    ) -> Token:
        """Trade an authorization code for tokens (PKCE verifier included)."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        requested_at = time.time()
        body = self._token_body(self._post(self.url, form), refreshing=False)
        claims = self._check_id_token(body.get("id_token"), nonce)
        return Token.from_response(
            body, requested_at=requested_at, requested_scopes=scopes, id_claims=claims
        )

    def refresh(self, token: Token, scopes: tuple[str, ...] | None = None) -> Token:
        """Refresh ``token``; an answer without a new refresh token keeps the old one."""
        if not token.refresh_token:
            raise LoginRequired(
                "Your Orange session has expired and cannot be refreshed. " + SIGN_IN_AGAIN
            )
        form = {"grant_type": "refresh_token", "refresh_token": token.refresh_token}
        if scopes:
            form["scope"] = " ".join(scopes)
        requested_at = time.time()
        body = self._token_body(self._post(self.url, form), refreshing=True)
        claims = self._check_id_token(body.get("id_token"), None) if body.get("id_token") else None
        return Token.from_response(
            body, requested_at=requested_at, previous=token, id_claims=claims
        )

    def revoke(self, token: Token) -> bool:
        """Revoke the refresh token (and with it, per RFC 7009, its access tokens) where possible.

        Returns whether the provider confirmed. Never raises: signing out must always work.
        """
        if not self.revocation_url:
            return False
        ok = True
        for value, hint in (
            (token.refresh_token, "refresh_token"),
            (token.access_token, "access_token"),
        ):
            if not value:
                continue
            try:
                response = self._post(
                    self.revocation_url, {"token": value, "token_type_hint": hint}
                )
                ok = ok and response.is_success
            except NetworkError:
                ok = False
        return ok

    def _check_id_token(self, id_token: Any, nonce: str | None) -> dict[str, Any] | None:
        if not isinstance(id_token, str) or not id_token:
            return None
        claims = id_token_claims(id_token)
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise LoginError(
                "The ID token does not answer this login (nonce mismatch). Sign in again."
            )
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if aud is not None and self.client_id not in audiences:
            raise LoginError("The ID token was issued to another application. Sign in again.")
        if self.issuer and claims.get("iss") not in (None, self.issuer):
            raise LoginError("The ID token comes from another issuer. Sign in again.")
        return claims
