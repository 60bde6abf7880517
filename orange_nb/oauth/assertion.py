"""``private_key_jwt``: the signed client assertion of RFC 7523 §2.2 (OIDC Core §9).

The client proves who it is with a short-lived JWT signed by its private key instead of a
shared secret; the provider checks it against the public JWK set registered for the
application. Signing uses PyJWT over ``cryptography``: both are widely used, PyJWT is pure
Python, and ``cryptography`` generates and loads the keys.

The key's text (a PEM or a JWK) is held as a :class:`Secret`; the parsed key object lives in
a :class:`SigningKey` whose ``repr`` names only its algorithm and key id, and which refuses
to be pickled.
"""

from __future__ import annotations

import json
import os
import secrets
import stat
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..errors import PrivateKeyError, SecretNotPicklable
from .secret import Secret

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = ("RS256", "PS256", "ES256")
LIFETIME = 120.0
"""Seconds an assertion is valid: long enough for a slow network and a server clock a minute
ahead, short enough that a copied one is soon useless (each also carries a one-time ``jti``)."""

_MIN_RSA_BITS = 2048


def _refuse(message: str) -> NoReturn:
    raise PrivateKeyError(message) from None


class SigningKey:
    """A private key that signs client assertions (``alg`` RS256, PS256 or ES256, ``kid``)."""

    __slots__ = ("_key", "_text", "alg", "kid")

    def __init__(self, text: str | Secret, *, alg: str | None = None, kid: str | None = None):
        self._text = Secret.of(text)
        key, found_alg, found_kid = _parse(self._text.reveal())
        self._key = key
        self.alg = _algorithm(key, alg or found_alg)
        self.kid = kid or found_kid

    def sign(self, claims: dict[str, Any]) -> Secret:
        """``claims`` as a compact JWS signed with this key (a ``Secret``: it is a credential)."""
        import jwt

        headers = {"typ": "JWT", **({"kid": self.kid} if self.kid else {})}
        return Secret(jwt.encode(claims, self._key, algorithm=self.alg, headers=headers))

    def public_jwk(self) -> dict[str, Any]:
        """The public half as a JWK (``kty``, key numbers, ``use``, ``alg``, ``kid``)."""
        return public_jwk(self._key, alg=self.alg, kid=self.kid)

    def __repr__(self) -> str:
        return f"SigningKey(alg={self.alg!r}, kid={self.kid!r})"

    def __reduce_ex__(self, protocol: Any) -> NoReturn:
        raise SecretNotPicklable(
            "A private key cannot be pickled: it would end up in a file or another process. "
            "Keep it in its key file (0600) or in ORANGE_PRIVATE_KEY."
        )


def load_signing_key(
    source: str | Secret, *, alg: str | None = None, kid: str | None = None
) -> SigningKey:
    """The key in ``source``: a path to a PEM or JWK file, or PEM or JWK text itself.

    ``PrivateKeyError`` when the file is missing, readable by group or others, or holds no
    private RSA (2048 bits or more) or P-256 key.
    """
    text = Secret.of(source).reveal().strip()
    if text.startswith("-----BEGIN") or text.startswith("{"):
        return SigningKey(text, alg=alg, kid=kid)
    if "\n" in text or len(text) > 1024:  # key material in another form: never shown
        _refuse(
            "The private key is neither a PEM, a JWK nor a file path. Give the path of the key "
            "file, or its PEM or JWK text."
        )
    path = Path(text).expanduser()
    try:
        mode = path.stat().st_mode
    except OSError:
        _refuse(
            f"The private key file {str(path)[:200]} does not exist (or cannot be read). Create "
            "one with `python -m orange_nb.keys new`, or set `private_key` to its path."
        )
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        _refuse(
            f"The private key file {str(path)[:200]} can be read by other users (mode "
            f"{stat.S_IMODE(mode):o}). Make it private with `chmod 600 {str(path)[:200]}`, then "
            "try again."
        )
    try:
        content = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        _refuse(
            f"The private key file {str(path)[:200]} cannot be read as text. Give a PEM or "
            "JWK file."
        )
    return SigningKey(content, alg=alg, kid=kid)


def _parse(text: str) -> tuple[Any, str | None, str | None]:
    """The cryptography key, and the ``alg`` and ``kid`` a JWK names (``None`` for a PEM)."""
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if text.lstrip().startswith("{"):
        return _parse_jwk(text)
    if "PRIVATE KEY-----" not in text:
        _refuse(
            "The key is no private key in PEM (it may be a public key or a certificate). Give "
            "the private key file, e.g. the one `python -m orange_nb.keys new` wrote."
        )
    try:
        key = load_pem_private_key(text.encode("utf-8"), password=None)
    except (ValueError, TypeError):
        _refuse(
            "The PEM private key cannot be read (it may be encrypted with a password, or "
            "damaged). Give an unencrypted PKCS#8 PEM or a JWK file."
        )
    except Exception:  # cryptography raises UnsupportedAlgorithm for exotic keys
        _refuse("The PEM private key is of a kind orange_nb cannot use: give RSA or P-256.")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        _refuse("The private key must be RSA or EC P-256 (for RS256, PS256 or ES256).")
    return key, None, None


def _parse_jwk(text: str) -> tuple[Any, str | None, str | None]:
    import jwt

    try:
        data = json.loads(text)
    except ValueError:
        _refuse("The key file looks like JSON but is not valid JSON: give a PEM or a JWK.")
    if isinstance(data, dict) and isinstance(data.get("keys"), list):
        private = [k for k in data["keys"] if isinstance(k, dict) and "d" in k]
        if len(private) != 1:
            _refuse('The JWK set must hold exactly one private key (a JWK with "d").')
        data = private[0]
    if not isinstance(data, dict) or data.get("kty") not in ("RSA", "EC"):
        _refuse('The JWK must be an RSA or EC key ("kty": "RSA" or "EC").')
    if "d" not in data:
        _refuse(
            'The JWK is a public key: orange_nb needs the private key (with "d") to sign; '
            "the public one is what you register on Orange's portal."
        )
    try:
        key = jwt.PyJWK(data).key
    except (jwt.PyJWKError, ValueError, TypeError, KeyError):
        _refuse("The JWK cannot be read as an RSA or P-256 private key.")
    alg = data.get("alg") if isinstance(data.get("alg"), str) else None
    kid = data.get("kid") if isinstance(data.get("kid"), str) else None
    return key, alg, kid


def _algorithm(key: Any, alg: str | None) -> str:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < _MIN_RSA_BITS:
            _refuse(f"The RSA key has {key.key_size} bits; use {_MIN_RSA_BITS} or more.")
        chosen = alg or "RS256"
        allowed: tuple[str, ...] = ("RS256", "PS256")
    elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        chosen, allowed = alg or "ES256", ("ES256",)
    else:
        _refuse("The EC key must be on curve P-256 (for ES256).")
    if chosen not in allowed:
        _refuse(f"A key of this kind signs with {' or '.join(allowed)}, not {chosen[:20]}.")
    return chosen


def public_jwk(key: Any, *, alg: str, kid: str | None) -> dict[str, Any]:
    """The public JWK of a private (or public) cryptography key, for a JWK set."""
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    public = key.public_key() if hasattr(key, "private_bytes") else key
    maker = ECAlgorithm if alg == "ES256" else RSAAlgorithm
    jwk: dict[str, Any] = maker.to_jwk(public, as_dict=True)
    jwk.update(use="sig", alg=alg)
    if kid:
        jwk["kid"] = kid
    return jwk


class ClientAssertion:
    """Makes the client assertion for each request: ``iss`` = ``sub`` = client id, ``aud``,
    a one-time ``jti``, ``iat`` and ``exp`` (``lifetime`` seconds later).

    ``audience`` is what the provider asks for: its issuer, or the endpoint's URL when
    ``None`` (RFC 7523 §3 allows either; OIDC CIBA §7.1 names the issuer).
    """

    def __init__(
        self,
        client_id: str,
        key: SigningKey,
        *,
        audience: str | Sequence[str] | None = None,
        lifetime: float = LIFETIME,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client_id = client_id
        self.key = key
        self.audience = audience
        self.lifetime = lifetime
        self._clock = clock

    def __repr__(self) -> str:
        return f"ClientAssertion(client_id={self.client_id!r}, key={self.key!r})"

    def claims(self, endpoint_url: str) -> dict[str, Any]:
        """The claims of an assertion sent to ``endpoint_url``."""
        now = int(self._clock())
        audience = self.audience if self.audience else endpoint_url
        return {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience if isinstance(audience, str) else list(audience),
            "jti": secrets.token_urlsafe(24),
            "iat": now,
            "exp": now + int(self.lifetime),
        }

    def make(self, endpoint_url: str) -> Secret:
        """A freshly signed assertion for a request to ``endpoint_url``."""
        return self.key.sign(self.claims(endpoint_url))

    def form(self, endpoint_url: str) -> dict[str, str | Secret]:
        """The form fields that authenticate the client (RFC 7523 §2.2)."""
        return {
            "client_id": self.client_id,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.make(endpoint_url),
        }
