"""``private_key_jwt`` client authentication (RFC 7523 §2.2, §3; OIDC Core §9).

A client registers a public JWK set (``configure(jwks={"keys": [...]})``, for the demo client
unless the set names ``client_id``); its token and backchannel requests then carry
``client_assertion_type`` and ``client_assertion``, a JWT signed by the matching private key
with ``iss`` = ``sub`` = the client id, ``aud`` = the sandbox's issuer or the endpoint's URL,
a one-time ``jti``, ``iat`` and ``exp``. Verified with PyJWT; refusals are ``invalid_client``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .errors import OAuthError

if TYPE_CHECKING:
    from .clients import Client
    from .state import Sandbox

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS256", "PS256", "ES256")
LEEWAY = 60.0  # seconds of clock difference tolerated on iat and exp
MAX_LIFETIME = 600.0  # an assertion valid longer than this is refused (RFC 7523 §3, item 4)


def _refused(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, status=401)


def parse_jwks(value: object) -> tuple[str | None, list[dict[str, Any]]]:
    """``configure(jwks=…)``'s value: ``(client id or None, public keys)``; ``ValueError``."""
    if not isinstance(value, Mapping) or not isinstance(value.get("keys"), list):
        raise ValueError('jwks must be a JWK set: {"keys": [...]} (optionally with client_id)')
    extra = set(value) - {"keys", "client_id"}
    if extra:
        raise ValueError(f"unknown jwks fields: {sorted(extra)}")
    client_id = value.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise ValueError("jwks.client_id must be a string")
    keys = value["keys"]
    if len(keys) > 20:
        raise ValueError("jwks holds at most 20 keys")
    for key in keys:
        if not isinstance(key, dict) or key.get("kty") not in ("RSA", "EC"):
            raise ValueError('every key must be an RSA or EC JWK ("kty")')
        if "d" in key:
            raise ValueError('jwks must hold public keys only (a JWK with "d" is private)')
    return client_id, [dict(key) for key in keys]


def verify(
    assertion: str,
    *,
    client_id: str,
    keys: Sequence[Mapping[str, Any]],
    audiences: Sequence[str],
    now: float | None = None,
) -> tuple[str, float]:
    """Check ``assertion`` for ``client_id`` against its public ``keys``; ``(jti, exp)``.

    ``OAuthError`` (invalid_client) for a bad signature, algorithm, audience, issuer, subject,
    lifetime or a missing claim.
    """
    import jwt

    if not keys:
        raise _refused(f"No JWK set is registered for {client_id[:100]}: register its public keys.")
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError:
        raise _refused("The client assertion is not a signed JWT.") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise _refused(f"The client assertion must be signed with {', '.join(ALGORITHMS)}.")
    kid = header.get("kid")
    candidates = [k for k in keys if kid is None or k.get("kid") in (None, kid)]
    if not candidates:
        raise _refused("No registered key has the client assertion's kid.")
    at = time.time() if now is None else now
    last = "The client assertion's signature does not match any registered key."
    for jwk in candidates:
        try:
            key = jwt.PyJWK(dict(jwk), algorithm=alg).key
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            continue  # a key of another type than the algorithm's
        try:
            claims = _decode(jwt, assertion, key, alg, audiences, at)
        except jwt.InvalidSignatureError:
            continue
        except jwt.ExpiredSignatureError:
            raise _refused(
                "The client assertion has expired (check the client's clock: exp is past)."
            ) from None
        except jwt.ImmatureSignatureError:
            raise _refused(
                "The client assertion is issued in the future (check the client's clock: iat)."
            ) from None
        except jwt.InvalidAudienceError:
            raise _refused("The client assertion's aud is not this server or endpoint.") from None
        except jwt.MissingRequiredClaimError as exc:
            raise _refused(f"The client assertion lacks the {exc.claim} claim.") from None
        except jwt.PyJWTError:
            last = "The client assertion could not be verified."
            continue
        return _checked(claims, client_id, at)
    raise _refused(last)


def _decode(
    jwt: Any, assertion: str, key: Any, alg: str, audiences: Sequence[str], at: float
) -> dict[str, Any]:
    # PyJWT reads the real clock; exp and iat are checked here against the sandbox's own
    # (shifted by `clock_offset`), so a test can play a server whose clock is off.
    claims: dict[str, Any] = jwt.decode(
        assertion,
        key,
        algorithms=[alg],
        audience=list(audiences),
        options={
            "require": ["iss", "sub", "aud", "exp", "iat", "jti"],
            "verify_exp": False,
            "verify_iat": False,
        },
        leeway=LEEWAY,
    )
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise jwt.InvalidTokenError("exp and iat must be numbers")
    if exp + LEEWAY <= at:
        raise jwt.ExpiredSignatureError("expired")
    if iat - LEEWAY > at:
        raise jwt.ImmatureSignatureError("iat in the future")
    return claims


def _checked(claims: Mapping[str, Any], client_id: str, at: float) -> tuple[str, float]:
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        raise _refused("The client assertion's iss and sub must both be the client id.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti or len(jti) > 256:
        raise _refused("The client assertion's jti must be a non-empty string.")
    exp = float(claims["exp"])
    if exp - at > MAX_LIFETIME:
        raise _refused(f"The client assertion lives too long (at most {MAX_LIFETIME:g} s).")
    return jti, exp


def client_from_assertion(
    sandbox: Sandbox, form: Mapping[str, str], *, has_basic: bool, audiences: Sequence[str]
) -> Client:
    """The client a ``private_key_jwt`` request authenticates as; ``OAuthError`` otherwise."""
    if has_basic or "client_secret" in form:
        raise OAuthError(
            "invalid_request",
            "Use one client authentication method: a client assertion, or a client secret.",
        )
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise _refused(f"client_assertion_type must be {ASSERTION_TYPE}.")
    assertion = form.get("client_assertion", "")
    import jwt

    try:
        claimed = jwt.decode(assertion, options={"verify_signature": False}).get("sub")
    except jwt.PyJWTError:
        raise _refused("The client assertion is not a signed JWT.") from None
    client_id = form.get("client_id") or claimed
    if not isinstance(client_id, str) or (form.get("client_id") and claimed != client_id):
        raise _refused("The client assertion's sub is not the client_id.")
    client = sandbox.client(client_id)
    if client is None:
        raise _refused("Client authentication failed.")
    sandbox.accept_assertion(client_id, assertion, list(audiences))
    return client
