"""A sign-in attempt by phone (OpenID CIBA, poll mode): ``Orange.begin_ciba(login_hint)``.

The attempt kind of ``signin.py`` for Orange's Network APIs: nothing to open and no redirect;
the provider asks the person on their phone, and ``wait`` polls the token endpoint
(``oauth/ciba.py``). ``SignIn`` runs it as any other attempt: the newest wins, a failure is
reported once, ``wait_for_login()`` joins it, ``close()`` (a newer sign-in, a setting change,
logout) stops the polling at once.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from .._protocol import SERVER_URL_VAR
from ..errors import ConfigError
from ..oauth.ciba import Backchannel, BackchannelRequest
from ..oauth.token import Token
from .signin import Session, SignIn

if TYPE_CHECKING:
    from .wiring import Wiring


PHONE_ROUTE = "/_sandbox/phone/"
SANDBOX_BACKCHANNEL = "/openidconnect/fr/v1/bc-authorize"


class CibaAttempt:
    """One backchannel sign-in under way. ``phone`` is the number masked for display.

    ``phone_page`` is the sandbox's "phone" page for this request (Approve / Deny in a
    browser) when the backchannel endpoint is the sandbox's, else ``None``.
    """

    name = "ciba"
    url = ""  # nothing to open: the person approves on the phone
    waits_for_paste = False

    def __init__(
        self,
        backchannel: Backchannel,
        request: BackchannelRequest,
        binding_message: str | None,
        phone_page: str | None = None,
    ) -> None:
        self.backchannel = backchannel
        self.request = request
        self.binding_message = binding_message
        self.phone_page = phone_page
        self._cancel = threading.Event()

    @property
    def phone(self) -> str:
        """The login hint as outputs show it (``+33 6 •• •• •• 78``)."""
        return self.request.phone

    @property
    def expires_at(self) -> float:
        """When the provider stops waiting for the approval (a Unix time)."""
        return self.request.expires_at

    def wait(self, timeout: float) -> Token:
        """Poll until approved: the token; ``TimeoutError``, ``LoginDenied``, ``LoginExpired``,
        ``LoginCancelled`` (closed) or ``LoginError`` otherwise."""
        return self.backchannel.wait(self.request, timeout=timeout, cancel=self._cancel)

    def close(self) -> None:
        """Stop polling (safe to call twice)."""
        self._cancel.set()

    def __repr__(self) -> str:
        return f"CibaAttempt({self.phone})"


def begin_ciba(
    session: Session, signin: SignIn, login_hint: str, binding_message: str | None = None
) -> CibaAttempt:
    """Send the backchannel request for ``login_hint`` and run it as the session's sign-in.

    ``ConfigError`` (before any request) without a backchannel endpoint, for a hint that is no
    ``tel:+E164`` number, or two ``dpv:`` purposes; ``LoginError`` when the provider refuses.
    """
    settings = session.sign_in_settings()
    wiring = session.wiring
    url = wiring.endpoints.backchannel_url
    if not url:
        raise ConfigError(
            "No CIBA backchannel endpoint: set `backchannel_url` (ORANGE_BACKCHANNEL_URL) to the "
            "one on the API's page at Orange (its bc-authorize URL)."
        )
    backchannel = Backchannel(wiring.token_endpoint(), url)
    request = backchannel.start(login_hint, settings.scopes, binding_message=binding_message)
    attempt = CibaAttempt(backchannel, request, binding_message, _phone_page(wiring, request))
    signin.start(
        attempt,
        settings.scopes,
        again=lambda: begin_ciba(session, signin, login_hint, binding_message),
    )
    return attempt


def _phone_page(wiring: Wiring, request: BackchannelRequest) -> str | None:
    """The sandbox's phone page for this request, when the sandbox is the provider."""
    root = wiring.endpoints.api_url.rstrip("/")
    hint = request.login_hint
    if wiring.settings.preset != "sandbox" or not hint.startswith("tel:+"):
        return None
    if wiring.endpoints.backchannel_url != root + SANDBOX_BACKCHANNEL:
        return None  # another provider answers the backchannel: its phone is a real one
    from ..sandbox.ciba import public_id  # the sandbox's own rule; kernels load tornado anyway

    # The request's public id: a link that holds neither the number nor the auth_req_id,
    # so it may sit in a saved notebook.
    page = root + PHONE_ROUTE + public_id(request.auth_req_id.reveal())
    server = (os.environ.get(SERVER_URL_VAR) or "").rstrip("/")
    if server and page.startswith(server + "/"):
        # Mounted in this Jupyter server: the browser reaches it on the host it already uses.
        return urlsplit(page).path
    return page
