"""The service's settings, read from its own environment (never from a user's)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import ConfigError
from ..oauth import presets
from ..oauth.flow import split_scopes
from ..oauth.secret import Secret

KEY_VAR = "ORANGE_HUB_KEY"
DB_VAR = "ORANGE_HUB_DB"
REDIRECT_VAR = "ORANGE_HUB_REDIRECT_URI"
PUBLIC_VAR = "ORANGE_HUB_PUBLIC_URL"


@dataclass(frozen=True, repr=False)
class ServiceSettings:
    """Who the service is to Orange, where Orange is, and where its secrets are kept."""

    client_id: str
    client_secret: Secret
    endpoints: presets.Endpoints
    scopes: tuple[str, ...]
    keys: tuple[Secret, ...]  # Fernet keys: the first encrypts, all decrypt (rotation)
    db_path: str
    prefix: str  # /services/orange/
    redirect_uri: str | None  # the one registered with Orange; else built from the request
    public_url: str | None  # the hub's public origin, for absolute links given to kernels

    def __repr__(self) -> str:
        return f"ServiceSettings(client_id={self.client_id!r}, db_path={self.db_path!r})"


def _get(env: Mapping[str, str], name: str) -> str | None:
    return env.get(name) or None


def from_env(env: Mapping[str, str] | None = None) -> ServiceSettings:
    """The settings in ``env`` (``os.environ``); ``ConfigError`` naming what is missing."""
    env = os.environ if env is None else env
    missing = [n for n in ("ORANGE_CLIENT_ID", "ORANGE_CLIENT_SECRET", KEY_VAR) if not env.get(n)]
    if missing:
        raise ConfigError(
            f"The orange_nb hub service needs {', '.join(missing)} in its environment "
            "(c.JupyterHub.services[…]['environment']). `python -m orange_nb.hub --new-key` "
            f"makes a {KEY_VAR}."
        )
    preset = env.get("ORANGE_PRESET", "france")
    root = _get(env, "ORANGE_SANDBOX_ROOT")
    if preset == "sandbox" and root:
        base = presets.sandbox(root)
    elif preset in presets.PRESETS:
        base = presets.PRESETS[preset]
    else:
        raise ConfigError(
            f"ORANGE_PRESET must be one of france, playground, sandbox (with ORANGE_SANDBOX_ROOT), "
            f"not {preset[:40]!r}."
        )
    ends = presets.Endpoints(
        authorize_url=_get(env, "ORANGE_AUTHORIZE_URL") or base.authorize_url,
        token_url=_get(env, "ORANGE_TOKEN_URL") or base.token_url,
        api_url=_get(env, "ORANGE_API_URL") or base.api_url,
        userinfo_url=_get(env, "ORANGE_USERINFO_URL") or base.userinfo_url,
        revocation_url=_get(env, "ORANGE_REVOCATION_URL") or base.revocation_url,
        issuer=_get(env, "ORANGE_ISSUER") or base.issuer,
    )
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "/services/orange/")
    if not prefix.endswith("/"):
        prefix += "/"
    public = _get(env, PUBLIC_VAR) or _get(env, "JUPYTERHUB_PUBLIC_URL")
    return ServiceSettings(
        client_id=env["ORANGE_CLIENT_ID"],
        client_secret=Secret(env["ORANGE_CLIENT_SECRET"]),
        endpoints=ends,
        scopes=split_scopes(env.get("ORANGE_SCOPES")) or ("openid",),
        keys=tuple(Secret(k.strip()) for k in env[KEY_VAR].split(",") if k.strip()),
        db_path=env.get(DB_VAR, "orange_hub.sqlite"),
        prefix=prefix,
        redirect_uri=_get(env, REDIRECT_VAR),
        public_url=public.rstrip("/") if public else None,
    )
