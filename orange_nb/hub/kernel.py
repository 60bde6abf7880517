"""The kernel's side of the hub service: tokens, sign-in and sign-out through it.

When ``ORANGE_HUB_SERVICE_URL`` is set (by ``c.Spawner.environment``) and the kernel holds
no client secret of its own, a session takes its access tokens from the service:

- :class:`HubEndpoint` stands where a ``TokenEndpoint`` would for the ``TokenKeeper``: its
  ``refresh`` asks the service for a newer token than the one seen (the keeper already
  makes that one request for all the kernel's threads; the service makes it one refresh
  for all the user's kernels), its ``revoke`` signs out at the service;
- :class:`HubAttempt` is a sign-in attempt for ``SignIn``: its link is the service's sign-in
  page, and it long-polls the service until the user has signed in (in any kernel or tab).

The kernel never holds a refresh token or the client secret: the service does not give them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import httpx

from .._network import http_options
from ..errors import SIGN_IN_AGAIN, ConfigError, LoginError, LoginRequired, NetworkError
from ..oauth.endpoint import TokenEndpoint
from ..oauth.secret import Secret
from ..oauth.token import Token
from . import (
    HUB_TOKEN_VAR,
    LOGIN_ROUTE,
    LOGOUT_API_ROUTE,
    POLL,
    REFRESH_ROUTE,
    SERVICE_URL_VAR,
    TOKEN_ROUTE,
    fingerprint,
)

_FORBIDDEN = (
    "The orange_nb hub service refused this kernel's JUPYTERHUB_API_TOKEN. The hub's "
    "configuration must give servers the scope access:services!service=orange "
    "(c.JupyterHub.load_roles, see orange_nb's docs/jupyterhub.md); ask the hub's admin."
)


class HubService:
    """The service as a kernel reaches it: ``url`` (with its prefix) and the hub API token."""

    def __init__(self, url: str, hub_token: str | Secret, *, timeout: float = 30.0) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self._hub_token = Secret.of(hub_token)
        self._http = httpx.Client(timeout=timeout + POLL, **http_options())
        self.timeout = timeout
        self.login_url = httpx.URL(self.url).path + LOGIN_ROUTE  # until the service says
        self.message = ""

    def __repr__(self) -> str:
        return f"HubService({self.url!r})"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HubService | None:
        """The service named by ``ORANGE_HUB_SERVICE_URL``, or ``None`` when it is not set."""
        env = os.environ if env is None else env
        url = env.get(SERVICE_URL_VAR)
        if not url:
            return None
        token = env.get(HUB_TOKEN_VAR)
        if not token:
            raise ConfigError(
                f"{SERVICE_URL_VAR} is set but {HUB_TOKEN_VAR} is not: this kernel does not "
                "run under a JupyterHub user server, so it cannot reach the hub's Orange service."
            )
        return cls(url, token)

    def close(self) -> None:
        """Close the HTTP client."""
        self._http.close()

    def _call(
        self, method: str, route: str, *, wait: float = 0.0, body: Any = None
    ) -> httpx.Response:
        headers = {
            "Authorization": f"token {self._hub_token.reveal()}",
            "Accept": "application/json",
        }
        try:
            return self._http.request(
                method,
                self.url + route,
                headers=headers,
                params={"wait": f"{wait:g}"} if wait else None,
                json=body,
                timeout=self.timeout + wait,
            )
        except httpx.HTTPError as exc:
            raise NetworkError(
                f"Could not reach the hub's Orange service ({self.url}): {type(exc).__name__}. "
                "Try again; if it persists, ask the hub's admin whether the service runs."
            ) from exc

    def _answer(self, response: httpx.Response) -> Token | None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise NetworkError(
                f"The hub's Orange service answered {response.status_code} without JSON. Try again."
            )
        if response.status_code == 403:
            raise ConfigError(_FORBIDDEN)
        if response.status_code == 401 and body.get("status") == "signed_out":
            if isinstance(body.get("login_url"), str):
                self.login_url = body["login_url"]
            self.message = str(body.get("message") or "")[:300]
            return None
        if response.status_code != 200 or body.get("status") != "signed_in":
            said = str(body.get("message") or "")[:300]
            raise NetworkError(
                f"The hub's Orange service could not give a token ({response.status_code}"
                f"{': ' + said if said else ''}). Try again."
            )
        return _token_of(body)

    def token(self, wait: float = 0.0) -> Token | None:
        """The user's current access token, or ``None`` when they are not signed in
        (waiting up to ``wait`` seconds for a sign-in)."""
        return self._answer(self._call("GET", TOKEN_ROUTE, wait=min(wait, POLL)))

    def refresh(self, seen: Token) -> Token | None:
        """A newer token than ``seen`` (refreshed at the service only if nobody did yet)."""
        return self._answer(
            self._call("POST", REFRESH_ROUTE, body={"seen": fingerprint(seen.access_token)})
        )

    def logout(self) -> bool:
        """Sign the user out at the service (every kernel); whether Orange confirmed."""
        response = self._call("POST", LOGOUT_API_ROUTE)
        if response.status_code == 403:
            raise ConfigError(_FORBIDDEN)
        try:
            return bool(response.json().get("revoked"))
        except (ValueError, AttributeError):
            return False

    def signed_out(self) -> LoginRequired:
        """The error for a user who is not (or no longer) signed in, with the link."""
        said = self.message or "You are not signed in to Orange on this hub."
        return LoginRequired(f"{said.rstrip('.')}. Sign in at {self.login_url} — {SIGN_IN_AGAIN}")


def _token_of(body: Mapping[str, Any]) -> Token:
    access = body.get("access_token")
    if not isinstance(access, str) or not access:
        raise NetworkError(
            "The hub's Orange service answered a token without `access_token`. Try again."
        )
    now = time.time()
    expires_in, age = body.get("expires_in"), body.get("age")
    # The service's clock may differ from ours: rebuild the times from durations.
    issued_at = now - float(age) if isinstance(age, int | float) and age >= 0 else now
    scopes = body.get("scopes")
    user = body.get("user")
    return Token(
        access_token=access,
        expires_at=now + float(expires_in) if isinstance(expires_in, int | float) else None,
        issued_at=issued_at,
        scopes=tuple(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else (),
        id_claims={"name": user} if isinstance(user, str) and user else None,
    )


class HubEndpoint(TokenEndpoint):
    """The token endpoint a keeper uses on a hub: the service, which refreshes for it."""

    brokered = True  # refreshes without a refresh token of its own (the keeper asks it)

    def __init__(self, service: HubService, *, http: httpx.Client) -> None:
        super().__init__(service.url + TOKEN_ROUTE, "orange-hub", None, http=http)
        self.service = service

    def __repr__(self) -> str:
        return f"HubEndpoint({self.service.url!r})"

    def refresh(self, token: Token, scopes: tuple[str, ...] | None = None) -> Token:
        """The service's token newer than ``token``; ``LoginRequired`` when signed out there."""
        fresh = self.service.refresh(token)
        if fresh is None:
            raise self.service.signed_out()
        return fresh

    def revoke(self, token: Token) -> bool:
        """Sign out at the service: every kernel of this user is signed out."""
        try:
            return self.service.logout()
        except NetworkError:
            return False

    def exchange_code(self, code: Any, **_: Any) -> Token:
        """No code reaches a kernel on a hub: the service exchanges it."""
        raise LoginError("On this hub, the Orange sign-in is finished by the hub service.")


class HubAttempt:
    """A sign-in through the hub service (an attempt for ``SignIn``): open ``url``, and the
    wait ends when the user has signed in, in this kernel's link or any other."""

    name = "hub"
    waits_for_paste = False

    def __init__(self, service: HubService) -> None:
        self.service = service
        self.url = service.login_url
        self._closed = threading.Event()
        self._ready: Token | None = None

    def start(self) -> None:
        """Ask once: the user may be signed in already (another kernel); the link is then known."""
        self._ready = self.service.token()
        self.url = self.service.login_url

    def wait(self, timeout: float) -> Token:
        """Long-poll the service until signed in; ``TimeoutError`` after ``timeout`` s."""
        if self._ready is not None:
            return self._ready
        deadline = time.monotonic() + timeout
        while not self._closed.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            token = self.service.token(wait=min(left, POLL))
            if token is not None:
                return token
        if self._closed.is_set():
            raise LoginError("This sign-in was cancelled.")
        raise TimeoutError(
            f"Nobody signed in within {timeout:g} s. Open {self.url}, sign in, then run this "
            "cell again."
        )

    def close(self) -> None:
        """Stop waiting (at the end of the current long-poll at the latest)."""
        self._closed.set()


def hub_service_for(settings: Any) -> HubService | None:
    """The hub service a session with ``settings`` (a ``WiringSettings``) uses, if any: when
    ``ORANGE_HUB_SERVICE_URL`` is set and the session has no secret or key of its own and
    is not a sandbox session."""
    if settings.client_secret or settings.private_key or settings.preset == "sandbox":
        return None
    return HubService.from_env()
