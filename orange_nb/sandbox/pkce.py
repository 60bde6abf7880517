"""PKCE (RFC 7636): the one place the sandbox checks it.

The authorization request's challenge is checked by ``check_challenge`` and the token
request's verifier by ``verify``; nothing else in the sandbox reads either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from .errors import OAuthError, RedirectError

METHODS = ("S256",)
"""Supported ``code_challenge_method`` values: ``plain`` (§4.2) protects nothing once the
authorization request is seen, so the sandbox refuses it, as Orange does."""

_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_S256_LENGTH = 43  # BASE64URL of 32 bytes, unpadded


def s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def check_challenge(method: str | None, challenge: str | None) -> None:
    """RFC 7636 §4.3: an authorization request's challenge; ``RedirectError`` if refused.

    Neither parameter means no PKCE. A challenge no verifier can match is refused here,
    while the developer is looking, rather than at the token request after the sign-in.
    """
    if method is None and challenge is None:
        return
    if method not in METHODS:  # an absent method means "plain" (§4.3)
        raise RedirectError(
            "invalid_request", "code_challenge_method must be S256 (plain is not supported)."
        )
    if not challenge:
        raise RedirectError(
            "invalid_request", "code_challenge is required with code_challenge_method."
        )
    if len(challenge) != _S256_LENGTH or not set(challenge) <= _BASE64URL:
        raise RedirectError(
            "invalid_request",
            "code_challenge is malformed: S256 gives 43 base64url characters (RFC 7636 §4.2).",
        )


def verify(challenge: str | None, verifier: str | None) -> None:
    """RFC 7636 §4.6: the token request's verifier against the stored challenge.

    Raises ``OAuthError`` (invalid_grant) when it is missing, unexpected or wrong.
    """
    if challenge is None:
        if verifier is not None:
            # Without a challenge a verifier proves nothing; accepting it would hide a
            # client bug (or a PKCE downgrade attempt).
            raise OAuthError(
                "invalid_grant",
                "code_verifier sent, but the authorization request carried no code_challenge.",
            )
        return
    if verifier is None:
        raise OAuthError("invalid_grant", "code_verifier is required (PKCE, RFC 7636).")
    # Bytes, not str: compare_digest refuses non-ASCII str (a challenge given through the
    # Python API is not checked by check_challenge).
    if not _valid_verifier(verifier) or not hmac.compare_digest(
        s256(verifier).encode("ascii"), challenge.encode("utf-8", "surrogatepass")
    ):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")


def _valid_verifier(verifier: str) -> bool:
    """RFC 7636 §4.1: 43 to 128 unreserved characters."""
    return 43 <= len(verifier) <= 128 and set(verifier) <= _UNRESERVED
