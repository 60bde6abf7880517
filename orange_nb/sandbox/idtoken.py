"""OpenID Connect ID tokens: compact JWS, HS256 signed with the client secret (OIDC Core §10.1)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def sign_hs256(claims: Mapping[str, object], key: str) -> str:
    """The compact JWS of ``claims`` signed with HMAC-SHA256 under ``key``."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = hmac.new(key.encode("utf-8"), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"
