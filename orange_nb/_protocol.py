"""The kernel ⇄ Jupyter server contract: both sides read these names from here only.

A kernel cannot be told where its Jupyter server is, so the server extension puts it in its
own environment at start-up, which every kernel it starts inherits:

- ``ORANGE_NB_SERVER_URL``: the server's loopback URL with its base URL
  (``http://127.0.0.1:8888/user/alice/``);
- ``ORANGE_NB_SERVER_KEY``: a random key made per server start; the kernel API needs it in
  the ``X-Orange-NB-Key`` header (never a cookie or a query, so nothing can ride on it);
- ``ORANGE_NB_SERVER_SANDBOX``: ``"1"`` when the server mounts the sandbox.

Routes, all under the server's base URL:

- ``POST orange/api/flows`` ``{"state", "authorize_url", "redirect_uri": str | null,
  "relay": bool}`` → ``201 {"id", "login_path", "expires_in"}``; ``login_path`` is path-only
  (kernel key); with ``"relay": true`` the ``redirect_uri`` is a relay page (orange_nb.relay):
  the login link then carries this server's callback inside the state, to the relay;
- ``GET orange/api/flows/{id}?timeout=S`` long-polls at most ``MAX_POLL`` seconds →
  ``200 {"status": "done", "params": {...}, "redirect_uri"}`` once, ``200 {"status":
  "pending"}`` when the wait ends first, ``404 {"status": "unknown"}``; ``DELETE`` cancels
  (kernel key);
- ``GET orange/login/{id}`` → 302 to the authorize URL (Jupyter's login);
- ``GET orange/callback?code&state…`` → hands the answer to the flow (Jupyter's login);
- ``orange/sandbox/…`` the mounted sandbox.

A flow lives ``FLOW_TTL`` seconds from registration, answered or not.
"""

from __future__ import annotations

SERVER_URL_VAR = "ORANGE_NB_SERVER_URL"
SERVER_KEY_VAR = "ORANGE_NB_SERVER_KEY"
SANDBOX_VAR = "ORANGE_NB_SERVER_SANDBOX"
KEY_HEADER = "X-Orange-NB-Key"

FLOWS_ROUTE = "orange/api/flows"
LOGIN_ROUTE = "orange/login"
CALLBACK_ROUTE = "orange/callback"
SANDBOX_ROUTE = "orange/sandbox"

MAX_POLL = 30.0
"""Seconds the server holds one long-poll at most."""
POLL = 25.0
"""Seconds a kernel asks one long-poll to last: below ``MAX_POLL``, so the server answers first."""
FLOW_TTL = 600.0
"""Seconds a registered flow lives."""
