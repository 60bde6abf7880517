"""Endpoint presets: Orange France, the CAMARA playground, and the embedded sandbox."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoints:
    """Where a provider's endpoints are. ``issuer`` is set only where it is known for sure.

    ``backchannel_url`` is the CIBA backchannel authentication endpoint: Orange documents none
    for its presets, so it is set (``backchannel_url``) per API, from Orange's API page.
    """

    authorize_url: str
    token_url: str
    api_url: str
    userinfo_url: str | None = None
    revocation_url: str | None = None
    issuer: str | None = None
    backchannel_url: str | None = None


FRANCE = Endpoints(
    authorize_url="https://api.orange.com/openidconnect/fr/v1/authorize",
    token_url="https://api.orange.com/openidconnect/fr/v1/token",
    userinfo_url="https://api.orange.com/openidconnect/fr/v1/userinfo",
    api_url="https://api.orange.com",
)

PLAYGROUND = Endpoints(
    authorize_url="https://api.orange.com/openidconnect/playground/v1.0/authorize",
    token_url="https://api.orange.com/openidconnect/playground/v1.0/token",
    api_url="https://api.orange.com",
)

SANDBOX_CLIENT_ID = "orange-nb-sandbox"
SANDBOX_CLIENT_SECRET = "orange-nb-sandbox-secret"  # public on purpose: the sandbox's demo app
SANDBOX_ISSUER = "https://sandbox.orange-nb.invalid/openidconnect/fr/v1"
SANDBOX_SCOPES = ("openid", "profile", "mobility:read")


def sandbox(root: str) -> Endpoints:
    """The endpoints of a sandbox served at ``root`` (no trailing slash needed)."""
    root = root.rstrip("/")
    oidc = f"{root}/openidconnect/fr/v1"
    return Endpoints(
        authorize_url=f"{oidc}/authorize",
        token_url=f"{oidc}/token",
        userinfo_url=f"{oidc}/userinfo",
        revocation_url=f"{oidc}/revoke",
        api_url=root,
        issuer=SANDBOX_ISSUER,
        backchannel_url=f"{oidc}/bc-authorize",
    )


PRESETS = {"france": FRANCE, "playground": PLAYGROUND}
