"""The server handoff: the Jupyter server that started this kernel receives the callback.

The kernel registers its flow with the server's extension over loopback HTTP, shows the
path-only login link, and long-polls until the browser lands on the server's callback.
The server's URL and key come from the environment the kernel inherited from it.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from .._network import http_options
from .._protocol import CALLBACK_ROUTE, KEY_HEADER, POLL, SERVER_KEY_VAR, SERVER_URL_VAR
from ..errors import ConfigError, LoginError
from ..oauth.flow import Callback, LoginFlow
from .base import Handoff

# Set by orange_nb's server extension in the server's process (see orange_nb._protocol).
POLL_SECONDS = POLL

_LOST = (
    "The Jupyter server no longer knows this sign-in: it was restarted, or the sign-in "
    "expired (after 10 minutes). Run the login cell again."
)

_CANCELLED = (
    "This sign-in was cancelled: a newer one started, or it was closed. Use the newest "
    "sign-in link, or run the login cell again."
)
_ODD = (
    "The Jupyter server gave an answer this kernel cannot read; is orange_nb the same version "
    "in the server and the kernel? Run the login cell again."
)


def _json(reply: httpx.Response) -> dict[str, Any]:
    try:
        data = reply.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise LoginError(_ODD)
    return data


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ServerHandoff(Handoff):
    """Hand the login to the Jupyter server at ``server_url`` (its base URL, ending in ``/``)."""

    name = "server"

    def __init__(
        self, server_url: str, key: str, *, http_timeout: float = 10.0, relay_url: str | None = None
    ) -> None:
        parts = urlsplit(server_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"{SERVER_URL_VAR} must be the Jupyter server's http(s) URL, not {server_url[:100]!r}."
            )
        self.server_url = server_url if server_url.endswith("/") else server_url + "/"
        self._key = key
        self.http_timeout = http_timeout
        self.relay_url = relay_url
        # The server's certificate, if any, names its public host, not the loopback address
        # the kernel uses; on loopback nobody sits between the two, so it is not verified.
        self._verify = not (parts.scheme == "https" and _is_loopback(parts.hostname))
        self._client: httpx.Client | None = None
        self._flows: dict[str, str] = {}  # LoginFlow.id → the server's flow id
        self._closed = False  # set by close(), possibly from another thread than wait()'s

    def __repr__(self) -> str:
        return f"ServerHandoff({self.server_url!r})"

    @classmethod
    def from_environ(
        cls, env: Mapping[str, str] = os.environ, *, relay_url: str | None = None
    ) -> ServerHandoff | None:
        """The handoff to the server this kernel runs under, or ``None`` when there is none."""
        url, key = env.get(SERVER_URL_VAR), env.get(SERVER_KEY_VAR)
        if not url or not key:
            return None
        return cls(url, key, relay_url=relay_url)

    def owns_redirect_uri(self, redirect_uri: str) -> bool:
        """Whether ``redirect_uri`` is this server's callback, on whichever host the browser uses.

        The host may differ (a hub's public name versus the kernel's loopback address); the
        path must be the server's base URL followed by ``orange/callback``.
        """
        path = urlsplit(self.server_url).path
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and parts.path == path + CALLBACK_ROUTE

    def start(self, flow: LoginFlow) -> str:
        """Register ``flow`` with the server; return the path-only login link."""
        self._closed = False
        body: dict[str, Any] = {
            "state": flow.state,
            "authorize_url": flow.authorization_url(flow.redirect_uri),
            "redirect_uri": flow.redirect_uri,
        }
        if self.relay_url is not None:
            # Orange answers the relay; the server adds this server's callback, as the browser
            # reaches it, to the state on the way out (serverext/browser.py LoginHandler).
            flow.redirect_uri = self.relay_url
            body.update(
                authorize_url=flow.authorization_url(self.relay_url),
                redirect_uri=self.relay_url,
                relay=True,
            )
        reply = self._call("POST", "orange/api/flows", json=body)
        if reply.status_code != 201:
            raise self._refusal(reply, "register the sign-in")
        data = _json(reply)
        server_id, login_path = data.get("id"), data.get("login_path")
        if not isinstance(server_id, str) or not isinstance(login_path, str):
            raise LoginError(_ODD)
        self._flows[flow.id] = server_id
        flow.url = login_path
        return login_path

    def wait(self, flow: LoginFlow, timeout: float) -> Callback:
        """Long-poll the server until the browser's answer for ``flow`` arrives."""
        server_id = self._flows.get(flow.id)
        if server_id is None:
            raise LoginError("This sign-in was not started here. Run the login cell again.")
        deadline = time.monotonic() + timeout
        path = "orange/api/flows/" + quote(server_id, safe="")
        while True:
            left = deadline - time.monotonic()
            if self._closed:
                raise LoginError(_CANCELLED)
            if left <= 0:
                raise TimeoutError(
                    f"No sign-in arrived within {timeout:g} s. Open the sign-in link and finish "
                    "signing in, then run the login cell again (or wait longer with a larger timeout)."
                )
            poll = min(left, POLL_SECONDS)
            try:
                reply = self._call(
                    "GET", path, params={"timeout": f"{poll:.3f}"}, timeout=poll + self.http_timeout
                )
            except (LoginError, RuntimeError):  # RuntimeError: close() shut the client meanwhile
                if self._closed:
                    raise LoginError(_CANCELLED) from None
                raise
            if self._closed:
                raise LoginError(_CANCELLED)
            if reply.status_code == 404:
                self._flows.pop(flow.id, None)
                raise LoginError(_LOST)
            if reply.status_code != 200:
                raise self._refusal(reply, "wait for the sign-in")
            data = _json(reply)
            if data.get("status") == "done":
                self._flows.pop(flow.id, None)
                params, redirect_uri = data.get("params"), data.get("redirect_uri")
                if not isinstance(params, dict) or not isinstance(redirect_uri, str):
                    raise LoginError(_ODD)
                return Callback({str(k): str(v) for k, v in params.items()}, redirect_uri)

    def close(self) -> None:
        """Cancel the flows still registered (best effort) and close the HTTP client.

        A ``wait`` running on another thread then ends at once with ``LoginError``.
        """
        self._closed = True
        for server_id in list(self._flows.values()):
            try:
                self._http().delete(
                    self.server_url + "orange/api/flows/" + quote(server_id, safe="")
                )
            except httpx.HTTPError:
                pass  # the server is gone: so are its flows
        self._flows.clear()
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            # Never through a proxy (http_options routes the server's own host directly): a
            # proxy from HTTP_PROXY must never see these calls, or the key.
            self._client = httpx.Client(
                timeout=self.http_timeout,
                headers={KEY_HEADER: self._key},
                **http_options(verify=self._verify, direct=(self.server_url,)),
            )
        return self._client

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http().request(method, self.server_url + path, **kwargs)
        except httpx.TransportError as e:
            raise LoginError(
                f"This kernel cannot reach its Jupyter server at {self.server_url} "
                f"({type(e).__name__}); it may have been restarted. Run the login cell again."
            ) from None

    def _refusal(self, reply: httpx.Response, doing: str) -> LoginError:
        if reply.status_code == 403:
            return LoginError(
                "The Jupyter server refused this kernel's key: the server was restarted after "
                "this kernel started. Restart the kernel, then run the login cell again."
            )
        try:
            body = reply.json()
        except ValueError:
            body = None
        message = str(body.get("message", ""))[:300] if isinstance(body, dict) else ""
        said = f": {message}" if message else ""
        return LoginError(
            f"The Jupyter server could not {doing} (HTTP {reply.status_code}{said}). "
            "Run the login cell again."
        )
