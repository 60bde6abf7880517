"""The tornado application of the hub service: browser pages and the kernel API.

Every handler knows its caller through JupyterHub: a kernel by the ``Authorization: token``
header (its server's ``JUPYTERHUB_API_TOKEN``), a browser by the service's ``HubOAuth``
cookie. Both must hold ``access:services!service=<name>``; only users (not services) get
tokens, and only their own: no route takes a user name.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from html import escape
from typing import Any
from urllib.parse import urlsplit

import httpx
from jupyterhub.services.auth import HubOAuth, HubOAuthCallbackHandler, HubOAuthenticated
from tornado import web

from .._network import http_options
from ..errors import LoginError, NetworkError, OrangeNBError
from ..oauth.endpoint import TokenEndpoint
from . import (
    CALLBACK_ROUTE,
    LOGIN_ROUTE,
    LOGOUT_API_ROUTE,
    LOGOUT_ROUTE,
    MAX_WAIT,
    REFRESH_ROUTE,
    TOKEN_ROUTE,
)
from .broker import Broker, LoginFlowSettings
from .config import ServiceSettings
from .store import GrantStore

log = logging.getLogger("orange_nb.hub")

CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40em; margin: 4em auto;
padding: 0 1em; }} dt {{ font-weight: bold; }}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def _page(title: str, body: str) -> str:
    return _PAGE.format(title=escape(title), body=body)


def _p(text: str) -> str:
    return f"<p>{escape(text)}</p>"


class Context:
    """What every handler shares."""

    def __init__(self, settings: ServiceSettings, broker: Broker, hub_auth: HubOAuth) -> None:
        self.settings = settings
        self.broker = broker
        self.hub_auth = hub_auth

    def login_url(self) -> str:
        """The sign-in link a kernel shows: absolute when the hub's public URL is known."""
        path = self.settings.prefix + LOGIN_ROUTE
        return (self.settings.public_url or "") + path


class _Base(HubOAuthenticated, web.RequestHandler):
    """Authentication through the hub, asynchronously, and pages that are never cached."""

    context: Context
    hub_user: str | None = None

    def initialize(self, context: Context) -> None:
        """Tornado hook: the shared context."""
        self.context = context
        self.hub_auth = context.hub_auth

    def set_default_headers(self) -> None:
        """No caching, no framing, no referrer for any page or answer."""
        self.set_header("Cache-Control", "no-store")
        self.set_header("Content-Security-Policy", CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Referrer-Policy", "no-referrer")

    async def prepare(self) -> None:
        """Ask the hub who this is (without blocking the loop); users with the access scope only."""
        model = await self.hub_auth.get_user(self, sync=False)
        allowed = None
        if model and model.get("kind", "user") == "user":
            try:
                allowed = self.check_hub_user(model)
            except web.HTTPError:
                allowed = None
            except Exception:  # UserNotAllowed
                allowed = None
        self._hub_auth_user_cache = allowed  # what get_current_user answers from now on
        self.hub_user = allowed["name"] if allowed else None

    def html(self, status: int, title: str, body: str) -> None:
        """Finish with a page."""
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.finish(_page(title, body))


class _Api(_Base):
    """The kernel API: JSON, token in a header (no cookie, so no XSRF to check)."""

    def check_xsrf_cookie(self) -> None:
        """Cookies are not accepted here: nothing for a cross-site request to ride on."""

    async def prepare(self) -> None:
        """Refuse (403) anyone the hub does not vouch for, and cookies (browsers)."""
        if not self.hub_auth.get_token(self, in_cookie=False):
            self.reply(403, {"status": "forbidden", "message": "Send the hub API token."})
            return
        await super().prepare()
        if self.hub_user is None:
            self.reply(
                403, {"status": "forbidden", "message": "The hub did not accept this token."}
            )

    def reply(self, status: int, body: dict[str, Any]) -> None:
        """Finish with ``status`` and a JSON body."""
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def signed_out(self) -> None:
        """401 with the sign-in link and why."""
        assert self.hub_user is not None
        self.reply(
            401,
            {
                "status": "signed_out",
                "login_url": self.context.login_url(),
                "message": self.context.broker.message(self.hub_user),
            },
        )

    def token_answer(self, token: Any) -> None:
        """200 with the access token and what a kernel needs to know of it (no refresh token)."""
        if token is None:
            self.signed_out()
            return
        now = time.time()
        claims = token.id_claims or {}
        name = claims.get("name") or claims.get("preferred_username") or claims.get("sub")
        self.reply(
            200,
            {
                "status": "signed_in",
                "access_token": token.access_token.reveal(),
                "token_type": "Bearer",
                "expires_in": None if token.expires_at is None else token.expires_at - now,
                "age": now - token.issued_at,
                "scopes": list(token.scopes),
                "user": name,
            },
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors as JSON, one sentence, no traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = str(exc) if isinstance(exc, OrangeNBError) else "The Orange hub service failed."
        self.finish(json.dumps({"status": "error", "message": message}))


class TokenHandler(_Api):
    """``GET api/token[?wait=S]``: the user's access token, or 401 with the sign-in link."""

    async def get(self) -> None:
        """Answer now, or (with ``wait``) when the user signs in, at most ``MAX_WAIT`` s."""
        assert self.hub_user is not None
        try:
            wait = min(max(float(self.get_query_argument("wait", "0")), 0.0), MAX_WAIT)
        except ValueError:
            self.reply(400, {"status": "error", "message": "`wait` must be a number of seconds."})
            return
        broker = self.context.broker
        try:
            token = await broker.wait_signed_in(self.hub_user, wait)
        except NetworkError as exc:
            self.reply(502, {"status": "error", "message": str(exc)})
            return
        self.token_answer(token)

    async def delete(self) -> None:
        """Same as ``POST api/logout``."""
        assert self.hub_user is not None
        await self.context.broker.sign_out(self.hub_user)
        self.set_status(204)
        self.finish()


class RefreshHandler(_Api):
    """``POST api/refresh {"seen": fingerprint}``: one refresh however many kernels ask."""

    async def post(self) -> None:
        """Refresh unless another kernel already did; answer the token in force."""
        assert self.hub_user is not None
        try:
            seen = json.loads(self.request.body or b"{}").get("seen", "")
            if not isinstance(seen, str):
                raise ValueError
        except (ValueError, AttributeError):
            self.reply(400, {"status": "error", "message": 'The body must be {"seen": "…"}.'})
            return
        try:
            token = await self.context.broker.refresh(self.hub_user, seen)
        except NetworkError as exc:
            self.reply(502, {"status": "error", "message": str(exc)})
            return
        self.token_answer(token)


class LogoutApiHandler(_Api):
    """``POST api/logout``: revoke and forget; every kernel of the user is signed out."""

    async def post(self) -> None:
        """Sign the user out."""
        assert self.hub_user is not None
        revoked = await self.context.broker.sign_out(self.hub_user)
        self.reply(200, {"status": "signed_out", "revoked": revoked})


class _Browser(_Base):
    """Pages for a person: the hub's login first when there is no session."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """A plain page, never a traceback."""
        self.finish(_page("Orange", _p(f"Error {status_code}.")))


class StatusHandler(_Browser):
    """``GET /services/orange/``: signed in as, scopes, expires in, sign in / sign out."""

    @web.authenticated
    async def get(self) -> None:
        """The status page."""
        assert self.hub_user is not None
        token = self.context.broker.peek(self.hub_user)
        prefix = self.context.settings.prefix
        if token is None:
            body = _p(f"Hub user {self.hub_user}: not signed in to Orange.") + (
                f'<p><a href="{escape(prefix + LOGIN_ROUTE)}">Sign in with Orange</a></p>'
            )
        else:
            claims = token.id_claims or {}
            who = claims.get("name") or claims.get("preferred_username") or claims.get("sub")
            left = (
                "unknown"
                if token.expires_at is None
                else f"{max(token.expires_at - time.time(), 0):.0f} s"
            )
            body = (
                f"<dl><dt>Hub user</dt><dd>{escape(self.hub_user)}</dd>"
                f"<dt>Signed in to Orange as</dt><dd>{escape(str(who or 'unknown'))}</dd>"
                f"<dt>Scopes</dt><dd>{escape(' '.join(token.scopes))}</dd>"
                f"<dt>Access token expires in</dt><dd>{escape(left)}</dd></dl>"
                f'<form method="post" action="{escape(prefix + LOGOUT_ROUTE)}">'
                f"{self.xsrf_form_html()}<button>Sign out of Orange</button></form>"
            )
        self.html(200, "Orange on this hub", body)


class LoginHandler(_Browser):
    """``GET login``: start the user's sign-in and send the browser to Orange."""

    @web.authenticated
    def get(self) -> None:
        """302 to Orange's authorize URL, with the service's one callback."""
        assert self.hub_user is not None
        settings = self.context.settings
        redirect_uri = settings.redirect_uri or (
            f"{self.request.protocol}://{self.request.host}{settings.prefix}{CALLBACK_ROUTE}"
        )
        self.redirect(self.context.broker.begin(self.hub_user, redirect_uri))


class CallbackHandler(_Browser):
    """``GET callback?code&state``: finish the sign-in of the hub user who began it."""

    async def get(self) -> None:
        """Match ``state`` to this user's pending sign-in, exchange the code, say so."""
        params = {k: self.get_query_argument(k) for k in self.request.query_arguments}
        again = f'<p><a href="{escape(self.context.settings.prefix + LOGIN_ROUTE)}">Sign in again</a></p>'
        if self.hub_user is None:
            # Not sent through the hub's login: that would put the code in logged URLs.
            self.html(
                403,
                "Not signed in to the hub",
                _p("Sign in to the hub, then open the sign-in link from your notebook again."),
            )
            return
        broker = self.context.broker
        pending = broker.pending(params.get("state", ""))
        if pending is None:
            self.html(
                400,
                "Sign-in not found",
                _p("This sign-in answer matches no sign-in under way (used already, or too old).")
                + again,
            )
            return
        if pending.user != self.hub_user:
            log.warning(
                "orange_nb hub: %s brought a callback of another user's sign-in", self.hub_user
            )
            self.html(403, "Not your sign-in", _p("This sign-in was begun by another hub user."))
            return
        try:
            token = await broker.finish(self.hub_user, pending, params)
        except (LoginError, NetworkError) as exc:
            self.html(400, "Sign-in failed", _p(str(exc)) + again)
            return
        claims = token.id_claims or {}
        who = claims.get("name") or claims.get("sub") or "you"
        self.html(
            200,
            "Signed in",
            _p(
                f"Signed in to Orange as {who}. You can close this tab and return to your notebook."
            ),
        )


class LogoutHandler(_Browser):
    """``POST logout`` (the status page's button; XSRF-checked): sign out of Orange."""

    @web.authenticated
    async def post(self) -> None:
        """Revoke, forget, say so."""
        assert self.hub_user is not None
        await self.context.broker.sign_out(self.hub_user)
        self.html(200, "Signed out", _p("Signed out of Orange in every notebook on this hub."))


def _log_request(handler: web.RequestHandler) -> None:
    """Access log without queries: a callback's query holds the code and state."""
    request = handler.request
    log.info(
        "%d %s %s %.1fms",
        handler.get_status(),
        request.method,
        urlsplit(request.uri or "").path,
        1000 * request.request_time(),
    )


def make_app(
    settings: ServiceSettings, *, hub_auth: HubOAuth | None = None
) -> tuple[web.Application, Broker]:
    """The service's application and its broker (one database, one token endpoint)."""
    store = GrantStore(settings.db_path, settings.keys)
    http = httpx.Client(timeout=30.0, headers={"User-Agent": "orange_nb-hub/0.1"}, **http_options())
    ends = settings.endpoints
    endpoint = TokenEndpoint(
        ends.token_url,
        settings.client_id,
        settings.client_secret,
        http=http,
        issuer=ends.issuer,
        revocation_url=ends.revocation_url,
    )
    broker = Broker(
        store, endpoint, LoginFlowSettings(ends.authorize_url, settings.scopes, ends.issuer)
    )
    hub_auth = hub_auth or HubOAuth.instance(cache_max_age=60)
    context = Context(settings, broker, hub_auth)
    prefix = settings.prefix
    kw = {"context": context}
    routes: list[Any] = [
        (prefix, StatusHandler, kw),
        (prefix + TOKEN_ROUTE, TokenHandler, kw),
        (prefix + REFRESH_ROUTE, RefreshHandler, kw),
        (prefix + LOGOUT_API_ROUTE, LogoutApiHandler, kw),
        (prefix + LOGIN_ROUTE, LoginHandler, kw),
        (prefix + CALLBACK_ROUTE, CallbackHandler, kw),
        (prefix + LOGOUT_ROUTE, LogoutHandler, kw),
        (
            urlsplit(hub_auth.oauth_redirect_uri).path or prefix + "oauth_callback",
            HubOAuthCallbackHandler,
        ),
    ]
    app = web.Application(
        routes,
        # Stable across restarts (a sign-in under way survives one), secret as the key is.
        cookie_secret=hmac.new(
            settings.keys[0].reveal().encode(), b"orange_nb hub cookies", hashlib.sha256
        ).digest(),
        log_function=_log_request,
        login_url=hub_auth.login_url,
        xsrf_cookies=True,
    )
    app.settings["hub_auth"] = hub_auth  # HubOAuthCallbackHandler finds it here
    return app, broker
