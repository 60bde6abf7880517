"""Mounting and serving: prefixes, foreign applications, the thread server, the command line, logs."""

from __future__ import annotations

import asyncio
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.web import Application, RequestHandler

from orange_nb.sandbox import ISSUER, Sandbox, handlers, serve_in_thread

PREFIX = "/user/alice/orange/sandbox/"


@pytest.fixture
def prefixed() -> Iterator[str]:
    server = serve_in_thread(prefix=PREFIX)
    yield server.url
    server.stop()


def test_url_has_no_trailing_slash_and_carries_the_prefix(prefixed) -> None:
    assert prefixed.startswith("http://127.0.0.1:") and prefixed.endswith(
        "/user/alice/orange/sandbox"
    )


def test_mounted_under_a_prefix(prefixed, make_driver, sandbox) -> None:
    discovery = httpx.get(prefixed + "/openidconnect/fr/v1/.well-known/openid-configuration").json()
    assert discovery["issuer"] == ISSUER
    assert discovery["authorization_endpoint"] == prefixed + "/openidconnect/fr/v1/authorize"
    assert discovery["token_endpoint"] == prefixed + "/openidconnect/fr/v1/token"
    assert discovery["userinfo_endpoint"] == prefixed + "/openidconnect/fr/v1/userinfo"
    assert discovery["revocation_endpoint"] == prefixed + "/openidconnect/fr/v1/revoke"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    assert discovery["authorization_response_iss_parameter_supported"] is True
    assert discovery["token_endpoint_auth_methods_supported"] == [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
    ]
    # The whole flow works there, the pages' relative form URLs included.
    driver = make_driver()
    driver.http.base_url = httpx.URL(prefixed)
    tokens = driver.login()
    presence = driver.api(
        "GET",
        "/sandbox/mobility/v1/zones/zone-01/presence",
        tokens["access_token"],
        params={"start": "2024-07-01"},
    )
    assert presence.json()["next"] is None
    first = driver.api(
        "GET",
        "/sandbox/mobility/v1/zones/zone-01/presence",
        tokens["access_token"],
        params={"start": "2024-07-01", "limit": 5},
    )
    assert first.json()["next"].startswith(
        prefixed + "/sandbox/mobility/v1/zones/zone-01/presence?"
    )
    assert httpx.get(prefixed.rsplit("/", 4)[0] + "/openidconnect/fr/v1/jwks").json()["code"] == 60


def test_discovery_uses_the_callers_host(sandbox) -> None:
    answer = httpx.get(
        sandbox.url + "/openidconnect/fr/v1/.well-known/openid-configuration",
        headers={"Host": "hub.example:8443"},
    )
    assert (
        answer.json()["authorization_endpoint"]
        == "http://hub.example:8443/openidconnect/fr/v1/authorize"
    )


class Elsewhere(RequestHandler):
    def get(self) -> None:
        self.write("the host application")


def test_handlers_mount_in_a_foreign_application_with_xsrf_cookies() -> None:
    """Like Jupyter: other routes, xsrf_cookies on; the token endpoint still takes POSTs."""
    sandbox = Sandbox()
    app = Application(
        [(r"/other", Elsewhere), *handlers("/base/orange/sandbox", sandbox)],
        xsrf_cookies=True,
        cookie_secret="x",
    )
    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    ready = threading.Event()
    holder: dict[str, object] = {}

    async def serve() -> None:
        server = HTTPServer(app)
        server.add_sockets(sockets)
        done = asyncio.Event()
        holder.update(loop=asyncio.get_running_loop(), done=done)
        ready.set()
        await done.wait()
        server.stop()

    thread = threading.Thread(target=lambda: asyncio.run(serve()), daemon=True)
    thread.start()
    ready.wait(5)
    try:
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + "/other").text == "the host application"
        token = httpx.post(
            base + "/base/orange/sandbox/openidconnect/fr/v1/token",
            data={"grant_type": "refresh_token"},
        )
        assert (
            token.status_code == 401 and token.json()["error"] == "invalid_client"
        )  # not an XSRF 403
        missing = httpx.get(base + "/base/orange/sandbox/nothing")
        assert missing.json()["code"] == 60
    finally:
        loop = holder["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(holder["done"].set)  # type: ignore[attr-defined]
        thread.join(5)
        for sock in sockets:
            sock.close()


def test_stop_closes_the_socket() -> None:
    server = serve_in_thread()
    port = server.port
    assert httpx.get(server.url + "/_sandbox/stats").status_code == 200
    server.stop()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    server.stop()  # twice is fine


def test_context_manager_and_own_sandbox() -> None:
    mine = Sandbox()
    mine.configure(access_token_lifetime=10)
    with serve_in_thread(sandbox=mine) as server:
        assert server.sandbox is mine
        assert httpx.get(server.url + "/_sandbox/settings").json()["access_token_lifetime"] == 10


def test_command_line_prints_urls() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "orange_nb.sandbox", "--port", "0", "--host", "127.0.0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(9)]
        text = "".join(lines)
        assert "synthetic data, not Orange" in text
        assert "orange-nb-sandbox-secret" in text and "client_id=orange-nb-sandbox" in text
        discovery = next(line.split()[-1] for line in lines if "discovery" in line)
        assert httpx.get(discovery, timeout=5).json()["issuer"] == ISSUER
        for name in ("authorize", "token", "API base"):
            assert any(line.strip().startswith(name) for line in lines)
    finally:
        process.terminate()
        process.wait(10)


def test_logs_never_show_secrets_or_query_strings(oauth, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    tokens = oauth.login()
    oauth.refresh(tokens["refresh_token"])
    oauth.api("GET", "/sandbox/mobility/v1/zones", tokens["access_token"])
    oauth.api(
        "GET",
        "/sandbox/mobility/v1/zones/zone-01/presence?start=2024-07-01&x=querymarker",
        tokens["access_token"],
    )

    def logged() -> str:
        # The server side's loggers (the client library's own debug logs do show URLs).
        return "\n".join(
            r.getMessage() for r in caplog.records if r.name.startswith(("orange_nb", "tornado"))
        )

    deadline = time.monotonic() + 5
    while "zone-01/presence" not in logged() and time.monotonic() < deadline:
        time.sleep(0.01)  # the server logs a request after the client has its answer
    assert "/sandbox/mobility/v1/zones/zone-01/presence" in logged()  # the access log is on
    for secret in (
        "sbx_at_",
        "sbx_rt_",
        "sbx_code_",
        "querymarker",
        oauth.state,
        oauth.verifier,
        "orange-nb-sandbox-secret",
    ):
        assert secret not in logged()


def test_reprs_hide_secrets(oauth) -> None:
    sandbox = oauth.server.sandbox
    client = sandbox.client("orange-nb-sandbox")
    assert "secret" not in repr(client).replace("client_secret", "")
    assert "orange-nb-sandbox-secret" not in repr(client)
    page = oauth.authorize()
    assert page.status_code == 200
    pending = sandbox.pending(page.text.split('name="pending" value="')[1].split('"')[0])
    assert pending is not None and oauth.state not in repr(pending)


def test_auto_consent_redirect_does_not_leak_into_the_page(oauth) -> None:
    oauth.server.sandbox.configure(auto_consent="demo")
    answer = oauth.authorize()
    params = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    assert answer.status_code == 302 and params["code"] not in answer.text
    assert answer.headers["referrer-policy"] == "no-referrer"
