"""orange_nb's embedded emulator of Orange's OAuth 2.0 authorization server and sample APIs.

Self-contained: it imports nothing else from ``orange_nb``. Mount ``handlers(prefix,
sandbox)`` in a tornado application (the server extension does), build a standalone app
with ``make_app()``, serve one on a thread with ``serve_in_thread()``, or run
``python -m orange_nb.sandbox --port 8765``.
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
