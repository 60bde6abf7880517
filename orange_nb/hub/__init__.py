"""orange_nb's JupyterHub service: one Orange application for a whole hub.

The service (``python -m orange_nb.hub``, started by the hub from ``c.JupyterHub.services``)
is the confidential OAuth client: it holds the client secret and every user's refresh token
(encrypted at rest), runs the authorization-code flow on its one callback
``/services/orange/callback``, and hands kernels short-lived access tokens only. Every request
is authenticated by JupyterHub (``HubOAuth`` cookies for browsers, the server's
``JUPYTERHUB_API_TOKEN`` for kernels); each hub user reaches only their own Orange session.

The kernel ⇄ service contract (names below; see ``docs/jupyterhub.md``):

- the kernel finds the service in ``ORANGE_HUB_SERVICE_URL`` (set through
  ``c.Spawner.environment``, e.g. ``http://127.0.0.1:10101/services/orange/``) and
  authenticates with ``Authorization: token $JUPYTERHUB_API_TOKEN``;
- ``GET api/token?wait=S``: ``200 {"status": "signed_in", "access_token", "token_type",
  "expires_in", "age", "scopes", "user"}``, or ``401 {"status": "signed_out", "login_url",
  "message"}``; with ``wait`` the answer waits at most ``MAX_WAIT`` s for a sign-in;
- ``POST api/refresh {"seen": sha256(access_token)}``: a fresh token if ``seen`` is still
  the current one (one refresh for any number of kernels), else the current one;
- ``POST api/logout``: revoke and forget (every kernel of the user is signed out);
- ``GET login`` / ``GET callback`` / ``POST logout`` / ``GET`` (status page): the browser's.
"""

from __future__ import annotations

import hashlib

from ..oauth.secret import Secret

SERVICE_URL_VAR = "ORANGE_HUB_SERVICE_URL"
"""The kernel's variable: the service's URL with its prefix (set by ``c.Spawner.environment``)."""
HUB_TOKEN_VAR = "JUPYTERHUB_API_TOKEN"
"""JupyterHub gives each user server (and so its kernels) this API token."""

TOKEN_ROUTE = "api/token"
REFRESH_ROUTE = "api/refresh"
LOGOUT_API_ROUTE = "api/logout"
LOGIN_ROUTE = "login"
CALLBACK_ROUTE = "callback"
LOGOUT_ROUTE = "logout"

MAX_WAIT = 30.0
"""Seconds the service holds one long-poll at most."""
POLL = 25.0
"""Seconds a kernel asks one long-poll to last (below ``MAX_WAIT``)."""
FLOW_TTL = 600.0
"""Seconds a sign-in begun at ``login`` may take to reach the callback."""


def fingerprint(token: Secret | str) -> str:
    """What a kernel sends to say which access token it saw (never the token itself)."""
    text = token.reveal() if isinstance(token, Secret) else token
    return hashlib.sha256(text.encode()).hexdigest()
