"""Helpers for the sandbox's tests: a loopback redirect target and an OAuth client driver."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any
from urllib.parse import parse_qsl, urljoin, urlsplit

import httpx
import pytest

from orange_nb.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SandboxServer

OIDC = "/openidconnect/fr/v1/"
# One TLS context for every client: building one per client costs ~0.1 s (plain HTTP here).
TLS = ssl.create_default_context()


class Listener:
    """A loopback HTTP server standing for an application's redirect URI.

    Bound at creation (so its port is known and reserved) but accepting connections only
    after ``listen()``: tests can show that a user agent copes with a late listener.
    """

    def __init__(self) -> None:
        self.hits: list[dict[str, str]] = []
        self.arrived = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits.append(dict(parse_qsl(urlsplit(self.path).query)))
                body = b"<!doctype html><title>landed</title><p>Signed in.</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                outer.arrived.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.server.server_bind()
        self.port = self.server.server_address[1]
        self.redirect_uri = f"http://127.0.0.1:{self.port}/callback"
        self._thread: threading.Thread | None = None

    def listen(self) -> Listener:
        self.server.server_activate()
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def wait(self, timeout: float = 10) -> dict[str, str]:
        assert self.arrived.wait(timeout), "nothing reached the redirect URI"
        return self.hits[0]

    def close(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    """A listening loopback redirect target."""
    target = Listener().listen()
    yield target
    target.close()


@pytest.fixture
def late_listener() -> Iterator[Listener]:
    """A redirect target bound but not yet listening (call ``.listen()``)."""
    target = Listener()
    yield target
    target.close()


def challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def pending_id(page: str) -> str:
    found = re.search(r'name="pending" value="([^"]+)"', page)
    assert found, "no pending id on the page"
    return found.group(1)


def form_target(page: httpx.Response) -> str:
    found = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert found, "no form on the page"
    return urljoin(str(page.url), found.group(1))


class OAuthDriver:
    """Plays an application and a person against the sandbox, with httpx only."""

    def __init__(
        self,
        server: SandboxServer,
        client_id: str = DEMO_CLIENT_ID,
        client_secret: str = DEMO_CLIENT_SECRET,
        redirect_uri: str = "http://127.0.0.1:9/callback",
    ) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=10, verify=TLS)
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.verifier = secrets.token_urlsafe(48)
        self.state = secrets.token_urlsafe(16)
        self.nonce = secrets.token_urlsafe(8)

    def params(self, scope: str = "openid profile mobility:read", **extra: str) -> dict[str, str]:
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": self.state,
            "code_challenge": challenge(self.verifier),
            "code_challenge_method": "S256",
            "nonce": self.nonce,
        }
        params.update(extra)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, **params: Any) -> httpx.Response:
        return self.http.get(OIDC + "authorize", params=params or self.params())

    def step(self, pending: str, **fields: str) -> httpx.Response:
        return self.http.post(OIDC + "authorize", data={"pending": pending, **fields})

    def sign_in(
        self, decision: str = "approve", username: str = "demo", **params: Any
    ) -> dict[str, str]:
        """Walk the pages; return the parameters the redirect carries."""
        page = self.authorize(**(params or self.params()))
        assert page.status_code == 200, page.text
        pending = pending_id(page.text)
        # Post where the browser would: the form's (relative) action, resolved against the page.
        fields = {"pending": pending, "step": "sign-in", "username": username, "password": "pw"}
        consent = self.http.post(form_target(page), data=fields)
        assert consent.status_code == 200 and 'id="approve"' in consent.text
        fields = {"pending": pending, "step": "consent", "decision": decision}
        landed = self.http.post(form_target(consent), data=fields)
        assert landed.status_code == 303
        location = landed.headers["location"]
        assert location[: len(self.redirect_uri) + 1] in (
            self.redirect_uri + "?",
            self.redirect_uri + "&",
        )
        return dict(parse_qsl(urlsplit(location).query))

    def token(self, auth: Any = "basic", **form: str) -> httpx.Response:
        if auth == "basic":
            auth = (self.client_id, self.client_secret)
        return self.http.post(OIDC + "token", data=form, auth=auth)

    def exchange(self, code: str, **extra: str) -> httpx.Response:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": self.verifier,
        }
        form.update(extra)
        return self.token(**{k: v for k, v in form.items() if v is not None})

    def login(self, scope: str = "openid profile mobility:read") -> dict[str, Any]:
        """A whole sign-in; returns the token answer."""
        code = self.sign_in(**self.params(scope=scope))["code"]
        answer = self.exchange(code)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def refresh(self, refresh_token: str, **extra: str) -> httpx.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token, **extra)

    def api(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, path, headers=headers, **kwargs)


@pytest.fixture
def oauth(sandbox: SandboxServer) -> Iterator[OAuthDriver]:
    """A driver for the demo client on a freshly reset sandbox."""
    driver = OAuthDriver(sandbox)
    yield driver
    driver.http.close()


@pytest.fixture
def login(oauth: OAuthDriver) -> dict[str, Any]:
    """Tokens of a completed sign-in (openid profile mobility:read)."""
    return oauth.login()


@pytest.fixture
def make_driver(sandbox: SandboxServer) -> Iterator[Any]:
    """Build more drivers (another client, another redirect URI) on the same sandbox."""
    made: list[OAuthDriver] = []

    def make(**kwargs: Any) -> OAuthDriver:
        made.append(OAuthDriver(sandbox, **kwargs))
        return made[-1]

    yield make
    for driver in made:
        driver.http.close()
