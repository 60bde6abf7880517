"""Corporate networks: Orange's endpoints through the environment's proxy and CA bundle,
loopback (the sandbox, the kernel's Jupyter server) never through a proxy.

The proxy is a real forwarding HTTP proxy on 127.0.0.1, written here: it takes
absolute-form requests, records them, and resolves ``api.orange.test`` (a name nothing else
resolves) to the sandbox. The HTTPS server has a certificate from a test CA (trustme).
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import trustme

from orange_nb import Orange
from orange_nb.errors import ConfigError, LoginError, NetworkError
from orange_nb.handoff import ServerHandoff
from orange_nb.sandbox import SandboxServer

ZONES = "/sandbox/mobility/v1/zones"
API_NAME = "api.orange.test"  # only the proxy knows where it is
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, hosts: dict[str, tuple[str, int]]) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.hosts = hosts
        self.seen: list[str] = []  # the absolute URLs asked for
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Forward(BaseHTTPRequestHandler):
    server: _Proxy

    def _forward(self) -> None:
        self.server.seen.append(self.path)
        parts = urlsplit(self.path)
        target = self.server.hosts.get(parts.hostname or "")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if parts.scheme != "http" or target is None:
            self.send_error(502, "unknown host")
            return
        hop = {"proxy-connection", "connection", "keep-alive", "proxy-authorization"}
        headers = {k: v for k, v in self.headers.items() if k.lower() not in hop}
        upstream = http.client.HTTPConnection(*target, timeout=10)
        try:
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            upstream.request(self.command, path or "/", body or None, headers)
            answer = upstream.getresponse()
            data = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in hop | {"transfer-encoding", "content-length"}:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


def _serve(server: ThreadingHTTPServer) -> Iterator[Any]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA setting from the machine running the tests."""
    for name in (
        PROXY_VARIABLES
        + CA_VARIABLES
        + ("ORANGE_NB_SERVER_URL", "ORANGE_NB_SERVER_KEY", "ORANGE_NB_SERVER_SANDBOX")
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture
def proxy(sandbox: SandboxServer) -> Iterator[_Proxy]:
    yield from _serve(_Proxy({API_NAME: ("127.0.0.1", sandbox.port)}))


@pytest.fixture
def signed_in(sandbox: SandboxServer) -> Iterator[Callable[..., Orange]]:
    sandbox.sandbox.configure(auto_consent="demo")
    made: list[Orange] = []

    def make(**settings: Any) -> Orange:
        orange = Orange.sandbox(
            root=sandbox.url, open_browser=False, max_retries=0, timeout=5, **settings
        )
        made.append(orange)
        flow = orange.begin_login()
        httpx.get(flow.url, follow_redirects=True, timeout=10, trust_env=False)  # the browser
        orange.wait_for_login(10)
        return orange

    yield make
    for orange in made:
        orange.close()


def test_orange_calls_go_through_the_proxy_and_loopback_never_does(
    signed_in: Callable[..., Orange],
    proxy: _Proxy,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("ALL_PROXY", proxy.url)
    orange = signed_in(api_url=f"http://{API_NAME}")
    assert proxy.seen == []  # sign-in, code exchange, userinfo: all on the loopback sandbox
    zones = orange.get(ZONES)
    assert len(zones) > 0
    assert proxy.seen == [f"http://{API_NAME}{ZONES}"]
    orange.refresh()  # the token endpoint is on loopback: direct
    assert len(orange.get(ZONES)) == len(zones)
    local = signed_in()  # a session wholly on the sandbox, the proxy still set
    assert len(local.get(ZONES)) == len(zones)
    local.configure_sandbox(latency=0)
    local.logout()
    assert len(proxy.seen) == 2


def test_no_proxy_names_a_host_reached_directly(
    signed_in: Callable[..., Orange], proxy: _Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    orange = signed_in(api_url=f"http://{API_NAME}")
    assert len(orange.get(ZONES)) > 0 and len(proxy.seen) == 1
    monkeypatch.setenv("NO_PROXY", f"example.com,.{API_NAME}")
    orange.close()  # clients read the environment when they are built
    with pytest.raises(NetworkError, match=f"could not connect to {API_NAME}"):
        orange.get(ZONES)  # directly: nobody resolves the name
    assert len(proxy.seen) == 1


def test_the_kernels_server_is_never_reached_through_a_proxy(
    proxy: _Proxy, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server URL on a name only the proxy resolves: reaching it would mean the proxy saw
    # the kernel key. It must fail to connect instead, and the proxy see nothing.
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("ORANGE_NB_SERVER_URL", f"http://{API_NAME}/")
    handoff = ServerHandoff(f"http://{API_NAME}/", "kernel-key-1234")
    try:
        with pytest.raises(LoginError, match="cannot reach its Jupyter server"):
            handoff._call("GET", "orange/api/flows/x")
    finally:
        handoff.close()
    assert proxy.seen == []
    # And the proxy did work for that name, for a client that may use it.
    plain = Orange.sandbox(root=sandbox.url, api_url=f"http://{API_NAME}")
    try:
        monkeypatch.delenv("ORANGE_NB_SERVER_URL")
        assert plain.wiring.plain.get(f"http://{API_NAME}/_sandbox/stats").status_code == 200
    finally:
        plain.close()
    assert proxy.seen == [f"http://{API_NAME}/_sandbox/stats"]


class _Records(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        ok = self.headers.get("Authorization", "").startswith("Bearer sbx_at_")
        data = json.dumps({"items": [{"id": 1}, {"id": 2}]} if ok else {"code": 41}).encode()
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        """Silent."""


@pytest.fixture
def https_api(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An HTTPS API on 127.0.0.1 with a certificate of a test CA; yields (url, ca.pem)."""
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Records)
    server.daemon_threads = True
    server.socket = context.wrap_socket(server.socket, server_side=True)
    ca_pem = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_pem))
    for served in _serve(server):
        yield f"https://127.0.0.1:{served.server_address[1]}", ca_pem


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_a_ca_bundle_from_the_environment_is_trusted(
    signed_in: Callable[..., Orange],
    https_api: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    url, ca_pem = https_api
    orange = signed_in(api_url=url)
    with pytest.raises(NetworkError, match=r"could not connect to 127\.0\.0\.1"):
        orange.get("/records")  # the test CA is nobody's by default
    monkeypatch.setenv(variable, str(ca_pem))
    orange.close()
    records = orange.get("/records")
    assert list(records["id"]) == [1, 2]
    monkeypatch.setenv(variable, str(ca_pem.parent / "missing.pem"))
    orange.close()
    with pytest.raises(ConfigError, match=f"{variable} names"):
        orange.get("/records")
