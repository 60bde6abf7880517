"""One authorization-code login attempt: state, PKCE, nonce, and checking what comes back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..errors import LoginError
from .secret import Secret

# What each RFC 6749 §4.1.2.1 / OIDC error means for the person, and what to do.
_CALLBACK_ADVICE = {
    "access_denied": "The sign-in was refused (Deny on the consent page, or the account "
    "may not use this application). Sign in again and approve to continue.",
    "invalid_scope": "Orange refused the requested scopes. Check `scopes` against the APIs "
    "the application is subscribed to.",
    "unauthorized_client": "This application may not use the authorization-code flow. "
    "Check its settings on the developer portal.",
    "invalid_request": "Orange refused the sign-in request as malformed; check the client id "
    "and redirect URI registered for the application.",
    "unsupported_response_type": "Orange does not accept this kind of sign-in request.",
    "server_error": "Orange failed during sign-in; try again in a moment.",
    "temporarily_unavailable": "Orange's sign-in is temporarily unavailable; try again shortly.",
    "login_required": "Orange needs you to sign in interactively; sign in again without "
    "`prompt=none`.",
    "consent_required": "Orange needs your consent; sign in again without `prompt=none`.",
}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str | Secret) -> str:
    """The S256 code challenge of ``verifier`` (RFC 7636 §4.2)."""
    return _b64url(hashlib.sha256(Secret.of(verifier).reveal().encode("ascii")).digest())


def split_scopes(scopes: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"openid profile"`` or ``["openid", "profile"]`` → ``("openid", "profile")``, order kept, no repeats."""
    if scopes is None:
        return ()
    items = (
        scopes.split() if isinstance(scopes, str) else [s for x in scopes for s in str(x).split()]
    )
    return tuple(dict.fromkeys(items))


@dataclass(frozen=True)
class Callback:
    """What the browser brought back: the redirect's query parameters and the redirect URI used."""

    params: Mapping[str, str]
    redirect_uri: str

    def __repr__(self) -> str:
        return f"Callback(keys={sorted(self.params)}, redirect_uri={self.redirect_uri!r})"


def callback_params(url: str) -> dict[str, str]:
    """Query (or, for a fragment response, fragment) parameters of a landed URL.

    A parameter given twice is refused: a duplicated ``state`` or ``code`` is a sign of
    tampering (RFC 6749 §3.1: parameters must not be included more than once).
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # a broken IPv6 literal: not an address a browser landed on
        raise LoginError(
            "That is not the address the browser landed on. Copy the whole URL from the "
            "address bar after signing in and paste it.",
            error="invalid_request",
        ) from None
    raw = parts.query or parts.fragment
    if not raw and "=" in url and "://" not in url:
        raw = url.strip().lstrip("?#")
    pairs = parse_qsl(raw, keep_blank_values=True)
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise LoginError(
                f"The sign-in answer carries `{key}` twice, so it cannot be trusted. Sign in again.",
                error="invalid_request",
            )
        params[key] = value
    return params


@dataclass(repr=False)
class LoginFlow:
    """A login attempt. Secrets (``state``, ``code_verifier``, ``nonce``) never show in ``repr``.

    ``code_verifier`` is a :class:`~orange_nb.oauth.secret.Secret` (text given is wrapped):
    it leaves this object only in the code exchange.

    ``redirect_uri`` may be ``None`` until a handoff decides it (the server handoff builds it
    from the browser's request); the code exchange must then use the one reported back.
    """

    authorize_endpoint: str
    client_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None = None
    issuer: str | None = None
    extra_params: Mapping[str, str] = field(default_factory=dict)
    state: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # 256 bits
    code_verifier: Secret = field(default_factory=lambda: Secret(secrets.token_urlsafe(64)))
    nonce: str | None = None
    created_at: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    url: str = ""  # what a person opens to sign in; set by the handoff

    def __post_init__(self) -> None:
        if self.nonce is None and "openid" in self.scopes:
            self.nonce = secrets.token_urlsafe(32)
        self.code_verifier = Secret.of(self.code_verifier)  # text passed in is wrapped too
        if not 43 <= len(self.code_verifier.reveal()) <= 128:
            raise ValueError("PKCE code_verifier must be 43 to 128 characters (RFC 7636 §4.1)")

    def authorization_url(self, redirect_uri: str | None = None) -> str:
        """The authorize URL; without any redirect URI it leaves ``redirect_uri`` out (the server adds it)."""
        params: dict[str, str] = {
            "response_type": "code",
            "client_id": self.client_id,
            "scope": " ".join(self.scopes),
            "state": self.state,
            "code_challenge": pkce_challenge(self.code_verifier),
            "code_challenge_method": "S256",
        }
        if self.nonce:
            params["nonce"] = self.nonce
        for key, value in self.extra_params.items():
            if key not in params and key != "redirect_uri":
                params[key] = str(value)
        uri = redirect_uri or self.redirect_uri
        if uri:
            params["redirect_uri"] = uri
        sep = "&" if urlsplit(self.authorize_endpoint).query else "?"
        return self.authorize_endpoint + sep + urlencode(params)

    def check_state(self, state: str | None) -> bool:
        """Constant-time comparison of a returned ``state`` with ours."""
        return state is not None and hmac.compare_digest(state.encode(), self.state.encode())

    def code_from(self, params: Mapping[str, str]) -> Secret:
        """Check a callback's parameters and return the authorization code (as a ``Secret``).

        Raises ``LoginError`` for an OAuth error, a missing or wrong ``state`` (a link from
        another login attempt, or forged), an ``iss`` other than our issuer (RFC 9207
        mix-up defence), or a missing ``code``.
        """
        if "state" not in params:
            raise LoginError(
                "The sign-in answer has no `state`, so it cannot be matched to this login. "
                "Sign in again from the notebook's link.",
                error="invalid_request",
            )
        if not self.check_state(params.get("state")):
            raise LoginError(
                "This sign-in answer belongs to another login attempt (its `state` does not "
                "match). Use the link from the latest `orange.login()` and sign in again.",
                error="invalid_state",
            )
        iss = params.get("iss")
        if (
            iss is not None
            and self.issuer is not None
            and not hmac.compare_digest(iss.encode(), self.issuer.encode())
        ):
            raise LoginError(
                f"The sign-in answer comes from another issuer ({iss[:100]!r}, expected "
                f"{self.issuer!r}). It was refused; sign in again.",
                error="invalid_issuer",
            )
        error = params.get("error")
        if error:
            description = params.get("error_description", "")[:300]
            advice = _CALLBACK_ADVICE.get(
                error,
                "Sign in again; if it keeps failing, check the "
                "application's settings on the developer portal.",
            )
            said = f" Orange said: “{description.strip().rstrip('.')}”." if description else ""
            raise LoginError(
                f"Sign-in failed ({error[:60]}).{said} {advice}",
                error=error,
                description=description,
            )
        code = params.get("code")
        if not code:
            raise LoginError(
                "The sign-in answer carries no authorization code. Sign in again.",
                error="invalid_request",
            )
        return Secret(code)

    def __repr__(self) -> str:
        return (
            f"LoginFlow(id={self.id!r}, client_id={self.client_id!r}, "
            f"scopes={' '.join(self.scopes)!r}, redirect_uri={self.redirect_uri!r})"
        )
