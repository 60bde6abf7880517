"""Key pairs for ``private_key_jwt``: ``python -m orange_nb.keys new [--out DIR] [--alg ALG]``.

:func:`new_key_pair` writes the private key as a JWK readable by its owner only (0600) and the
public JWK set beside it, and returns that set: it is what you paste into the application's
settings on Orange's developer portal. The private JWK names its ``alg`` and ``kid`` (the key's
RFC 7638 thumbprint), so ``private_key`` pointing at the file is all a session needs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import PrivateKeyError
from ..oauth.assertion import ALGORITHMS, public_jwk

PRIVATE_NAME = "orange-private-key.jwk"
PUBLIC_NAME = "orange-public-jwks.json"


@dataclass(frozen=True)
class KeyPair:
    """Where a new key pair was written, its key id, and the public JWK set."""

    private_path: Path
    public_path: Path
    kid: str
    jwks: dict[str, Any]


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK (base64url, no padding)."""
    members = ("crv", "kty", "x", "y") if jwk["kty"] == "EC" else ("e", "kty", "n")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_key_pair(out: str | os.PathLike[str] = ".", alg: str = "RS256") -> KeyPair:
    """Generate a key for ``alg`` (RS256, PS256: RSA 2048; ES256: P-256) and write both halves.

    ``PrivateKeyError`` when ``alg`` is unknown or a private key file is already there (it
    is never overwritten: an application may still be registered with it).
    """
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm

    if alg not in ALGORITHMS:
        raise PrivateKeyError(f"Unknown algorithm {alg[:20]!r}: use {', '.join(ALGORITHMS)}.")
    folder = Path(out).expanduser()
    private_path, public_path = folder / PRIVATE_NAME, folder / PUBLIC_NAME
    if private_path.exists():
        raise PrivateKeyError(
            f"{private_path} exists already; it is not overwritten (an application may be "
            "registered with it). Choose another folder with --out, or remove it first."
        )
    key: Any = (
        ec.generate_private_key(ec.SECP256R1())
        if alg == "ES256"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    jwk = public_jwk(key, alg=alg, kid=None)
    kid = thumbprint(jwk)
    jwk["kid"] = kid
    jwks = {"keys": [jwk]}
    maker = ECAlgorithm if alg == "ES256" else RSAAlgorithm
    private = {**maker.to_jwk(key, as_dict=True), "use": "sig", "alg": alg, "kid": kid}
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created 0600 from the start (never world-readable, even for an instant), never replaced.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump(private, file, indent=2)
        file.write("\n")
    public_path.write_text(json.dumps(jwks, indent=2) + "\n", encoding="utf-8")
    return KeyPair(private_path, public_path, kid, jwks)
