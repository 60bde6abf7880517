"""orange_nb's embedded emulator of Orange's OAuth 2.0 authorization server and sample APIs.

Self-contained: it imports nothing else from ``orange_nb``. Mount ``handlers(prefix,
sandbox)`` in a tornado application (the server extension does), build a standalone app
with ``make_app()``, serve one on a thread with ``serve_in_thread()``, or run
``python -m orange_nb.sandbox --port 8765``. Data are synthetic; nothing here is Orange.

Below a root ``R`` (the prefix):

- ``R/openidconnect/fr/v1/``: ``authorize`` (sign-in and consent pages), ``token``,
  ``userinfo``, ``revoke``, ``jwks``, ``.well-known/openid-configuration``.
- ``R/sandbox/mobility/v1/zones[/{id}[/presence]]``, ``R/sandbox/mobility/v1/reports``
  (scope ``mobility:read``), ``R/sandbox/echo/v1/…`` (any valid token),
  ``R/sandbox/kyc-match/v0.3/match`` (scope ``kyc-match:match``, CAMARA's error envelope).
- ``R/_sandbox/``: the control API, JSON and without authentication (it is a sandbox;
  POSTs need ``Content-Type: application/json``): ``settings`` (GET, POST changes),
  ``faults`` (GET, POST one or a list, DELETE), ``stats`` (GET), ``reset``,
  ``revoke-all``, ``expire-access-tokens`` (POST). The same on ``Sandbox``:
  ``configure()``, ``add_fault()``, ``stats()``, ``reset()``, ``revoke_all()``,
  ``expire_access_tokens()``.

The default rate limit is 50 requests per second per client on the sample APIs;
``configure(rate_limit_per_second=None)`` turns it off.
"""

import logging

from .clients import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ISSUER, SCOPES, Client
from .faults import Fault
from .server import SandboxServer, handlers, make_app, serve_in_thread
from .settings import Settings
from .state import AUTO_CONSENT_ENV, Sandbox

# Silent unless the application configures logging (the command line does).
logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AUTO_CONSENT_ENV",
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "ISSUER",
    "SCOPES",
    "Client",
    "Fault",
    "Sandbox",
    "SandboxServer",
    "Settings",
    "handlers",
    "make_app",
    "serve_in_thread",
]
