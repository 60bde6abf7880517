"""The token never follows a reconfiguration; the client secret never shows in a listing.

Real peers: the sandbox on 127.0.0.1 signs the session in, and a second HTTP server on
loopback (started here) records everything it receives: it plays the new host a setting
now points at. ``%config`` runs in a real IPython ``InteractiveShell``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from IPython import get_ipython
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython

from orange_nb import LoginRequired, Orange
from orange_nb.oauth import presets
from orange_nb.sandbox import SandboxServer

ZONES = "/sandbox/mobility/v1/zones"


class _Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Record)
        self.seen: list[dict[str, Any]] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Record(BaseHTTPRequestHandler):
    server: _Recorder

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        self.server.seen.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        # An answer a token endpoint or an API could give: the token must not get here at all.
        payload = json.dumps({"access_token": "other_at", "token_type": "Bearer", "items": []})
        data = payload.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


@pytest.fixture
def recorder() -> Iterator[_Recorder]:
    server = _Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def signed_in(sandbox: SandboxServer) -> Iterator[Callable[..., Orange]]:
    sandbox.sandbox.configure(auto_consent="demo")
    made: list[Orange] = []

    def make(by_config: bool = False) -> Orange:
        if by_config:  # endpoints from the preset, so `%config Orange.api_url` applies
            orange = Orange(
                preset="sandbox",
                _sandbox_root=sandbox.url,
                client_id=presets.SANDBOX_CLIENT_ID,
                client_secret=presets.SANDBOX_CLIENT_SECRET,
                redirect_uri="http://127.0.0.1:0/callback",
                open_browser=False,
            )
        else:
            orange = Orange.sandbox(root=sandbox.url, open_browser=False, retry_backoff=0.01)
        made.append(orange)
        flow = orange.begin_login()
        httpx.get(flow.url, follow_redirects=True, timeout=10)
        orange.wait_for_login(10)
        assert orange.status == "signed_in"
        return orange

    yield make
    for orange in made:
        orange.close()


@pytest.fixture(scope="module")
def shell() -> Any:
    """The test IPython shell (an ``InteractiveShell``; IPython is untyped, hence ``Any``)."""
    # One test shell per process: another suite may have started it already.
    ip: Any = start_ipython() or get_ipython()  # type: ignore[no-untyped-call]
    assert isinstance(ip, InteractiveShell)
    ip.run_line_magic("load_ext", "orange_nb")
    return ip


def _secrets_of(orange: Orange) -> list[str]:
    token = orange.keeper.token
    assert token is not None and token.refresh_token is not None
    return [token.access_token.reveal(), token.refresh_token.reveal()]


def _assert_nothing_leaked(recorder: _Recorder, secrets: list[str]) -> None:
    for request in recorder.seen:
        text = json.dumps(request)
        assert "authorization" not in {k.lower() for k in request["headers"]}, request
        assert not any(secret in text for secret in secrets), request


def test_harmless_settings_keep_the_session_a_new_api_url_gets_no_token(
    signed_in: Callable[..., Orange], recorder: _Recorder
) -> None:
    orange = signed_in()
    secrets = _secrets_of(orange)
    token = orange.token
    orange.timeout = 12.0
    orange.max_retries = 1
    orange.leeway = 30.0
    orange.scopes = "openid profile mobility:read"  # the token still goes nowhere new
    orange.allowed_hosts = ["https://partner.example"]  # trusting a host is the user's choice
    orange.api_url = orange.endpoints.api_url  # the same value again changes nothing
    assert orange.status == "signed_in" and orange.token is token and orange.last_error == ""
    assert len(orange.get(ZONES)) > 0
    with pytest.warns(UserWarning, match="api_url"):
        orange.api_url = recorder.url
    assert orange.status == "signed_out" and not orange.logged_in and orange.token is None
    assert "api_url" in orange.last_error and "Sign in again" in orange.last_error
    with pytest.raises(LoginRequired, match="not signed in"):
        orange.get(ZONES)
    with pytest.raises(LoginRequired):
        orange.refresh()
    _assert_nothing_leaked(recorder, secrets)


def test_a_new_token_url_gets_no_refresh_token(
    signed_in: Callable[..., Orange], recorder: _Recorder
) -> None:
    orange = signed_in()
    secrets = _secrets_of(orange)
    with pytest.warns(UserWarning, match="token_url"):
        orange.token_url = recorder.url + "/token"
    with pytest.raises(LoginRequired):
        orange.refresh()  # forced: the old code sent the refresh token to the new endpoint
    with pytest.raises(LoginRequired):
        orange.get(ZONES)
    assert orange.status == "signed_out"
    _assert_nothing_leaked(recorder, secrets)


def test_config_magic_on_api_url_drops_the_token(
    signed_in: Callable[..., Orange],
    recorder: _Recorder,
    shell: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    orange = signed_in(by_config=True)
    secrets = _secrets_of(orange)
    assert len(orange.get(ZONES)) > 0
    shell.user_ns["orange"] = orange
    try:
        with pytest.warns(UserWarning, match="api_url"):
            shell.run_cell(f"%config Orange.api_url = {recorder.url!r}")
        assert orange.endpoints.api_url == recorder.url and orange.status == "signed_out"
        result = shell.run_cell("orange.get('/anything')")
        assert isinstance(result.error_in_exec, LoginRequired)
        assert "sign in" in str(result.error_in_exec).lower()
    finally:
        shell.config.Orange.clear()
    _assert_nothing_leaked(recorder, secrets)


def test_a_sign_in_under_way_is_not_finished_on_new_settings(
    sandbox: SandboxServer, recorder: _Recorder
) -> None:
    sandbox.sandbox.configure(auto_consent="demo")
    orange = Orange.sandbox(root=sandbox.url, open_browser=False)
    try:
        flow = orange.begin_login()
        with pytest.warns(UserWarning, match="token_url"):
            orange.token_url = recorder.url + "/token"
        assert orange.status == "signed_out" and "token_url" in orange.last_error
        with pytest.raises(httpx.ConnectError):  # the browser: the listener stopped waiting
            httpx.get(flow.url, follow_redirects=True, timeout=10)
        assert not orange.logged_in
        assert recorder.seen == []  # neither the code nor the PKCE verifier went there
    finally:
        orange.close()


def test_config_listings_never_show_the_client_secret(
    shell: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env_secret, config_secret = "env-secret-Zq81x", "cfg-secret-Pw93y"
    monkeypatch.setenv("ORANGE_CLIENT_SECRET", env_secret)
    monkeypatch.setenv("ORANGE_CLIENT_ID", "some-app")
    try:
        orange = Orange()  # the shell's current session, listed by %config
        assert orange.client_secret == env_secret  # still there, for the token endpoint
        capsys.readouterr()
        shell.run_cell("%config Orange")
        shell.run_cell("%config Orange.client_secret")
        shown = [
            capsys.readouterr().out,
            Orange.class_config_section(),
            Orange.class_get_help(orange),
            Orange.class_config_rst_doc(),
            repr(orange.trait_values()),
            repr(orange.trait_values(config=True)),
        ]
        assert "client_secret" in shown[0] and "Secret('…')" in shown[0]
        shell.run_cell(f"%config Orange.client_secret = {config_secret!r}")
        assert orange.client_secret == config_secret
        shell.run_cell("%config Orange")
        later = Orange()  # %config is kept for later sessions: as a Secret
        assert later.client_secret == config_secret
        shown += [
            capsys.readouterr().out,
            repr(shell.config),
            Orange.class_get_help(later),
            repr(later.trait_values()),
        ]
        for text in shown:
            assert env_secret not in text and config_secret not in text
    finally:
        shell.config.Orange.clear()
