"""The loopback handoff from plain Python, against a sandbox served on a thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from orange_nb.errors import ConfigError, LoginError
from orange_nb.handoff import LoopbackHandoff
from orange_nb.oauth.flow import LoginFlow
from orange_nb.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, ISSUER, SandboxServer

OIDC = "/openidconnect/fr/v1/"


@pytest.fixture
def consenting(sandbox: SandboxServer) -> SandboxServer:
    """The sandbox, approving every sign-in at once as user alice."""
    sandbox.sandbox.configure(auto_consent="alice")
    return sandbox


@pytest.fixture
def flow(sandbox: SandboxServer) -> LoginFlow:
    return LoginFlow(sandbox.url + OIDC + "authorize", DEMO_CLIENT_ID, ("openid",), issuer=ISSUER)


@pytest.fixture
def handoff() -> Iterator[LoopbackHandoff]:
    handoff = LoopbackHandoff("http://127.0.0.1:0/callback")
    yield handoff
    handoff.close()


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def test_sign_in_lands_on_the_listener(
    consenting: SandboxServer, flow: LoginFlow, handoff: LoopbackHandoff
) -> None:
    url = handoff.start(flow)
    port = _port(flow.redirect_uri or "")
    assert port != 0 and flow.redirect_uri == f"http://127.0.0.1:{port}/callback"
    assert parse_qs(urlsplit(url).query)["redirect_uri"] == [flow.redirect_uri]
    assert flow.url == url
    # Strays first: the browser's favicon, another path, a bare hit. The listener keeps waiting.
    for stray in ("/favicon.ico", "/other?code=x&state=y", "/callback", "/callback?utm=1"):
        assert httpx.get(f"http://127.0.0.1:{port}{stray}").status_code == 404
    landing = httpx.get(url, follow_redirects=True)  # the browser: sandbox, then the listener
    assert landing.status_code == 200
    assert landing.url.port == port
    assert "Signed in — return to your notebook" in landing.text
    assert landing.headers["cache-control"] == "no-store"
    assert landing.headers["referrer-policy"] == "no-referrer"
    callback = handoff.wait(flow, timeout=5)
    assert callback.redirect_uri == flow.redirect_uri
    code = flow.code_from(callback.params).reveal()
    assert code not in landing.text and flow.state not in landing.text
    token = httpx.post(
        consenting.url + OIDC + "token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback.redirect_uri,
            "code_verifier": flow.code_verifier.reveal(),
        },
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )
    assert token.status_code == 200
    assert token.json()["access_token"].startswith("sbx_at_")
    with pytest.raises(httpx.ConnectError):  # the listener stopped after the landing
        httpx.get(f"http://127.0.0.1:{port}/callback?code=x&state=y")


def test_listener_is_bound_at_start_on_loopback_only(
    flow: LoginFlow, handoff: LoopbackHandoff
) -> None:
    handoff.start(flow)
    assert handoff._listener is not None
    assert handoff._listener.server_address[0] == "127.0.0.1"
    # The browser may land before wait() is called: the answer is kept for it.
    landed = httpx.get(f"{flow.redirect_uri}?code=early&state={flow.state}")
    assert landed.status_code == 200
    assert handoff.wait(flow, timeout=5).params["code"] == "early"


def test_a_silent_connection_holds_nothing_up(flow: LoginFlow, handoff: LoopbackHandoff) -> None:
    # Browsers open spare connections and send nothing on them.
    handoff.start(flow)
    with socket.create_connection(("127.0.0.1", _port(flow.redirect_uri or ""))):
        time.sleep(0.1)
        assert httpx.get(f"{flow.redirect_uri}?code=c&state={flow.state}").status_code == 200
        began = time.monotonic()
        handoff.wait(flow, timeout=5)
        assert time.monotonic() - began < 2


def test_stale_or_tampered_answers_are_refused_and_waiting_goes_on(
    flow: LoginFlow, handoff: LoopbackHandoff
) -> None:
    handoff.start(flow)
    base = flow.redirect_uri
    for query, text in (
        ("code=x&state=wrong", "stale"),
        ("code=x", "stale"),  # a code with no state cannot be matched
        (f"code=x&state={flow.state}&code=y", "twice"),
    ):
        response = httpx.get(f"{base}?{query}")
        assert response.status_code == 400 and text in response.text
    with pytest.raises(TimeoutError):
        handoff.wait(flow, timeout=0.2)
    assert httpx.get(f"{base}?code=good&state={flow.state}").status_code == 200
    assert handoff.wait(flow, timeout=5).params["code"] == "good"


def test_a_refusal_lands_and_is_passed_on(flow: LoginFlow, handoff: LoopbackHandoff) -> None:
    handoff.start(flow)
    response = httpx.get(
        f"{flow.redirect_uri}?error=access_denied&error_description=%3Cb%3Eno&state={flow.state}"
    )
    assert response.status_code == 200
    assert "Sign-in failed" in response.text and "access_denied" in response.text
    callback = handoff.wait(flow, timeout=5)
    with pytest.raises(LoginError, match="refused"):
        flow.code_from(callback.params)


def test_close_on_another_thread_ends_the_wait(flow: LoginFlow, handoff: LoopbackHandoff) -> None:
    # As when a newer login replaces this one while a background thread waits.
    handoff.start(flow)
    closer = threading.Timer(0.2, handoff.close)
    closer.start()
    began = time.monotonic()
    with pytest.raises(LoginError, match="cancelled"):
        handoff.wait(flow, timeout=10)
    assert time.monotonic() - began < 2
    closer.join()


def test_timeout_says_what_to_do(flow: LoginFlow, handoff: LoopbackHandoff) -> None:
    handoff.start(flow)
    began = time.monotonic()
    with pytest.raises(
        TimeoutError, match=r"No sign-in reached http://127\.0\.0\.1:\d+/callback within 0\.3 s"
    ):
        handoff.wait(flow, timeout=0.3)
    assert time.monotonic() - began < 1.5


def test_port_in_use_names_the_fixes(flow: LoginFlow) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        handoff = LoopbackHandoff(f"http://localhost:{port}/cb")
        with pytest.raises(LoginError) as info:
            handoff.start(flow)
    text = str(info.value)
    assert f"port {port} on 127.0.0.1 is in use" in text
    assert (
        "Free the port" in text and "another port in the redirect URI" in text and "port 0" in text
    )


def test_a_fixed_port_keeps_the_redirect_uri_verbatim(flow: LoginFlow) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handoff = LoopbackHandoff(f"http://localhost:{port}/cb?app=1")
    try:
        handoff.start(flow)
        assert flow.redirect_uri == f"http://localhost:{port}/cb?app=1"
        assert (
            httpx.get(f"http://127.0.0.1:{port}/cb?app=1&code=c&state={flow.state}").status_code
            == 200
        )
        assert handoff.wait(flow, timeout=5).redirect_uri == flow.redirect_uri
    finally:
        handoff.close()


@pytest.mark.parametrize(
    "uri",
    [
        "https://127.0.0.1:8765/cb",
        "http://127.0.0.1/cb",
        "http://example.com:8765/cb",
        "http://[::1]:8765/",
    ],
)
def test_only_loopback_http_uris_with_a_port(uri: str) -> None:
    with pytest.raises(ConfigError, match="loopback handoff needs"):
        LoopbackHandoff(uri)


def test_open_browser_with_the_sandbox_agent_as_browser(consenting: SandboxServer) -> None:
    # A fresh process: webbrowser reads $BROWSER once per process.
    script = textwrap.dedent(
        f"""
        from orange_nb.handoff import LoopbackHandoff
        from orange_nb.oauth.flow import LoginFlow
        flow = LoginFlow({consenting.url + OIDC + "authorize"!r}, {DEMO_CLIENT_ID!r}, ("openid",))
        handoff = LoopbackHandoff("http://127.0.0.1:0/cb", open_browser=True)
        handoff.start(flow)
        callback = handoff.wait(flow, timeout=20)
        print("code" if flow.code_from(callback.params) else "none")
        """
    )
    env = {**os.environ, "BROWSER": f"{sys.executable} -m orange_nb.sandbox.agent %s"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "code"
