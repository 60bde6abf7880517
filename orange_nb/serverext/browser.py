"""The two routes the person's browser visits: the sign-in link and the OAuth callback.

Both require Jupyter's own login: the browser that opens them is signed in to Jupyter, and
a stranger cannot feed a code into a kernel's flow. Query strings here carry codes and
states, so nothing in this module logs a URL with its query.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from types import TracebackType
from urllib.parse import urlencode, urlsplit, urlunsplit

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado import web

from .._protocol import CALLBACK_ROUTE
from ..relay.links import go_link, unwrap_state, with_state, wrap_state
from . import pages
from .api import MAX_FIELD
from .context import ServerContext
from .origin import browser_origin
from .parked import RESUME_PARAM
from .store import PendingFlow

# What the kernel gets from a callback, with how much of each it keeps. The code, state and
# issuer must arrive whole or not at all; error texts are only shown, so they are cut.
_ANSWER_KEYS = ("code", "state", "iss", "error", "error_description")
_DISPLAY_CAPS = {"error": 200, "error_description": 1000}


class BrowserHandler(JupyterHandler):
    """Pages for the person's browser: never cached, never leaking a Referer."""

    context: ServerContext

    def initialize(self, context: ServerContext) -> None:
        """Tornado hook: receive the extension's shared context."""
        self.context = context

    def set_default_headers(self) -> None:
        """Jupyter's headers, plus no caching and no Referer (these URLs carry codes)."""
        super().set_default_headers()
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("Content-Security-Policy", pages.CSP)
        self.set_header("X-Content-Type-Options", "nosniff")

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log failures with the path only: the query holds the code and the state."""
        if isinstance(value, web.HTTPError):
            return
        self.log.error(
            "orange_nb: %s %s failed", self.request.method, self.request.path, exc_info=value
        )

    def page(self, status: int, html: str) -> None:
        """Finish with an HTML page."""
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(html)

    def request_origin(self) -> str:
        """``scheme://host`` as the browser sees this server (see ``origin.browser_origin``)."""
        origin = browser_origin(self.request, trust_xheaders=self.context.trust_xheaders)
        if origin is None:
            raise web.HTTPError(400)
        return origin

    def callback_uri(self) -> str:
        """This server's callback as the browser reaches it: ``{origin}{base}orange/callback``."""
        return self.request_origin() + url_path_join(self.context.base_url, CALLBACK_ROUTE)


class LoginHandler(BrowserHandler):
    """``GET orange/login/{id}``: send the browser to the authorize URL the kernel registered."""

    @web.authenticated
    def get(self, flow_id: str) -> None:
        """302 to the flow's authorize URL, with this server's redirect URI when it has none."""
        flow = self.context.store.get(flow_id)
        if flow is None or flow.answer is not None:
            self.page(404, pages.stale())
            return
        url = self._as_seen_by_browser(flow.authorize_url)
        if flow.relay and flow.redirect_uri is not None:
            # Orange answers the relay; the state tells it where to hand the answer on: this
            # server's callback as this browser reaches it. The relay page opens first.
            url = with_state(url, wrap_state(flow.state, self.callback_uri()))
            self.redirect(go_link(flow.redirect_uri, url))
            return
        if flow.redirect_uri is None:
            sep = "&" if urlsplit(url).query else "?"
            url += sep + urlencode({"redirect_uri": self.callback_uri()})
        self.redirect(url)

    def _as_seen_by_browser(self, url: str) -> str:
        # The sandbox mounted here is registered on the kernel's loopback origin; the browser
        # may be elsewhere (Binder), so it gets the origin it already uses.
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}".lower() != self.context.loopback_origin:
            return url
        scheme, netloc = self.request_origin().split("://", 1)
        return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


class CallbackHandler(BrowserHandler):
    """``GET orange/callback``: hand the authorization response to the waiting kernel.

    Jupyter's login comes first, but not through ``web.authenticated``: it would send the
    browser to ``/login?next=<this URL>``, and that ``next`` (code and state in clear) is
    written to the server's log. A browser without a Jupyter session gets its answer parked
    under a random key instead, and ``next`` names only that key (``resume_key``, which
    Jupyter's log masks like every ``*key*`` parameter).
    """

    @allow_unauthenticated  # checked below, so that the answer can be parked first
    def get(self) -> None:
        """Match ``state`` to a pending flow, store the answer, tell the person."""
        try:
            params = _single_params(self.request.query_arguments)
        except ValueError as e:
            self.page(400, pages.malformed(str(e)))
            return
        if self.current_user is None:
            self._sign_in_first(params)
            return
        if RESUME_PARAM in params:
            parked = self.context.parked.take(params[RESUME_PARAM])
            if parked is None:
                self.page(400, pages.stale())
                return
            params = dict(parked)
        self._deliver(params)

    def _sign_in_first(self, params: Mapping[str, str]) -> None:
        if RESUME_PARAM in params or not params.get("state"):
            # Nothing worth keeping: let Jupyter's login bring the person back to a clean URL.
            params = {}
        resume = url_path_join(self.context.base_url, CALLBACK_ROUTE)
        if params:
            resume += "?" + urlencode({RESUME_PARAM: self.context.parked.park(params)})
        url = self.get_login_url()
        if "?" not in url:
            next_url = self.request_origin() + resume if urlsplit(url).scheme else resume
            url += "?" + urlencode({"next": next_url})
        self.redirect(url)

    def _deliver(self, params: Mapping[str, str]) -> None:
        state = params.get("state")
        if not state:
            self.page(400, pages.malformed("The sign-in answer carries no state."))
            return
        flow = self._pending(state)
        if flow is None:
            self.log.info("orange_nb: a sign-in answer matched no pending login")
            self.page(400, pages.stale())
            return
        answer = {k: params[k][: _DISPLAY_CAPS.get(k)] for k in _ANSWER_KEYS if k in params}
        answer["state"] = flow.state  # relayed: the kernel checks the part it made
        self.context.store.answer(flow, answer, flow.redirect_uri or self.callback_uri())
        self.log.info("orange_nb: sign-in answer handed to login %s", flow.id)
        if answer.get("code") and not answer.get("error"):
            self.page(200, pages.signed_in())
        else:
            self.page(200, pages.refused(answer))

    def _pending(self, state: str) -> PendingFlow | None:
        """The flow ``state`` answers. A relayed state (``RANDOM.TARGET``) must name exactly
        this server's callback as this browser reaches it; any other shape, or a relayed
        flow answered without its target, matches nothing (like a forged answer)."""
        store = self.context.store
        flow = store.pending_by_state(state)
        if flow is not None:
            return None if flow.relay else flow
        try:
            random_part, target = unwrap_state(state)
        except ValueError:
            return None
        if target is None:
            return None
        flow = store.pending_by_state(random_part)
        if flow is None or not flow.relay:
            return None
        if not hmac.compare_digest(target.encode(), self.callback_uri().encode()):
            return None
        return flow


def _single_params(arguments: Mapping[str, list[bytes]]) -> dict[str, str]:
    """Query parameters, each once (RFC 6749 §3.1), as bounded UTF-8 text."""
    params: dict[str, str] = {}
    for key, values in arguments.items():
        if len(values) != 1:
            raise ValueError(
                f"The sign-in answer carries `{key[:40]}` twice, so it cannot be trusted."
            )
        if len(values[0]) > MAX_FIELD:
            raise ValueError("The sign-in answer is too large.")
        try:
            params[key] = values[0].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("The sign-in answer is not valid text.") from None
    return params
