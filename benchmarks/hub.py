"""The JupyterHub service under 200 kernels asking for a token at once.

``python -m benchmarks.hub [--kernels 200] [--users 50]`` (or ``run(bench)`` as a figure).

The service (``python -m orange_nb.hub``, its own process) talks to the sandbox as Orange
and to a stand-in of the hub's ``/hub/api/user`` (the one hub route a service calls, which
answers each kernel token's user; the service caches the answer as it would the hub's).
``users`` users each hold a real sandbox grant, seeded in the service's database with the
access token already expired. Round 1: every kernel (``kernels / users`` per user, each
its own ``HubService`` client on its own thread, released together by a barrier) asks for
its token: each user's grant must be refreshed, once. Round 2: the same with valid tokens.
Reported: p50/p99 latency of both rounds, refreshes per user (target: exactly 1), and the
service's resident memory per signed-in user (RSS growth over the users loaded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from .core import Bench, Row, percentile, rss_mb

SCOPE = "access:services!service=orange"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fake_hub(users: dict[str, str]) -> tuple[str, Any]:
    """A loopback stand-in for ``GET /hub/api/user``: token → user model."""
    from tornado import web
    from tornado.httpserver import HTTPServer
    from tornado.netutil import bind_sockets

    class User(web.RequestHandler):
        def get(self) -> None:
            token = self.request.headers.get("Authorization", "").partition(" ")[2]
            name = users.get(token)
            if name is None:
                self.set_status(403)
                self.finish("{}")
                return
            self.finish(json.dumps({"name": name, "kind": "user", "scopes": [SCOPE]}))

    sockets = bind_sockets(0, "127.0.0.1")
    port = sockets[0].getsockname()[1]
    loop = asyncio.new_event_loop()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        server = HTTPServer(web.Application([(r"/hub/api/user", User)]))
        server.add_sockets(sockets)
        loop.run_forever()

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{port}/hub/api", loop


def _grant(sandbox_url: str, user: str) -> Any:
    """A real sandbox grant for ``user`` (auto-consent, code exchanged), access token expired."""
    from orange_nb.oauth import presets
    from orange_nb.oauth.endpoint import TokenEndpoint
    from orange_nb.oauth.flow import LoginFlow
    from orange_nb.oauth.token import Token

    ends = presets.sandbox(sandbox_url)
    redirect = "http://127.0.0.1:9/callback"  # a loopback URI the demo client accepts
    flow = LoginFlow(ends.authorize_url, presets.SANDBOX_CLIENT_ID, ("openid",), redirect)
    with httpx.Client() as http:
        answer = http.get(flow.authorization_url())
        params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
        endpoint = TokenEndpoint(
            ends.token_url, presets.SANDBOX_CLIENT_ID, presets.SANDBOX_CLIENT_SECRET, http=http
        )
        token = endpoint.exchange_code(
            flow.code_from(params), redirect_uri=redirect, code_verifier=flow.code_verifier
        )
    past = time.time() - 7200
    return Token(
        token.access_token,
        token.refresh_token,
        expires_at=past + 3600,
        issued_at=past,
        scopes=token.scopes,
        id_claims={"name": user},
    )


def _round(url: str, tokens: list[str]) -> list[float]:
    """Every kernel asks once, all released together; each one's latency in seconds."""
    from orange_nb.hub.kernel import HubService

    clients = [HubService(url, token) for token in tokens]
    barrier = threading.Barrier(len(clients))
    latencies: list[float] = []
    errors: list[BaseException] = []

    def ask(client: HubService) -> None:
        barrier.wait()
        began = time.perf_counter()
        try:
            if client.token() is None:
                raise RuntimeError("signed out")
        except BaseException as exc:  # reported below, never lost in a thread
            errors.append(exc)
        latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=ask, args=(c,), daemon=True) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    for client in clients:
        client.close()
    if errors:
        raise errors[0]
    return latencies


def measure(kernels: int = 200, users: int = 50) -> dict[str, Any]:
    """Run both rounds; the figures as a dict."""
    from cryptography.fernet import Fernet

    from orange_nb.hub.store import GrantStore
    from orange_nb.oauth.secret import Secret
    from orange_nb.sandbox import Sandbox, serve_in_thread

    sandbox = Sandbox()
    sandbox.configure(rate_limit_per_second=None, auto_consent="demo")
    server = serve_in_thread(sandbox=sandbox)
    names = [f"user{i:03d}" for i in range(users)]
    kernel_tokens = {secrets.token_hex(16): names[i % users] for i in range(kernels)}
    hub_api, hub_loop = _fake_hub(kernel_tokens)
    tmp = Path(tempfile.mkdtemp(prefix="orange-hub-bench-"))
    key = Fernet.generate_key().decode()
    store = GrantStore(str(tmp / "hub.sqlite"), [Secret(key)])
    for name in names:
        store.save(name, _grant(server.url, name))
    store.close()
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "JUPYTERHUB_API_TOKEN": secrets.token_hex(16),
        "JUPYTERHUB_API_URL": hub_api,
        "JUPYTERHUB_SERVICE_NAME": "orange",
        "JUPYTERHUB_SERVICE_PREFIX": "/services/orange/",
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
        "JUPYTERHUB_CLIENT_ID": "service-orange",
        "JUPYTERHUB_OAUTH_ACCESS_SCOPES": json.dumps([SCOPE]),
        "ORANGE_CLIENT_ID": "orange-nb-sandbox",
        "ORANGE_CLIENT_SECRET": "orange-nb-sandbox-secret",
        "ORANGE_PRESET": "sandbox",
        "ORANGE_SANDBOX_ROOT": server.url,
        "ORANGE_HUB_KEY": key,
        "ORANGE_HUB_DB": str(tmp / "hub.sqlite"),
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "orange_nb.hub"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/services/orange/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "api/token").status_code == 403:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the hub service did not start")
            time.sleep(0.1)
        rss_empty = rss_mb(service.pid)
        refreshes = sandbox.stats()["refreshes"]
        expired = _round(url, list(kernel_tokens))
        refreshed = sandbox.stats()["refreshes"] - refreshes  # type: ignore[operator]
        valid = _round(url, list(kernel_tokens))
        rss_loaded = rss_mb(service.pid)
    finally:
        service.terminate()
        service.wait(10)
        hub_loop.call_soon_threadsafe(hub_loop.stop)
        server.stop()
    return {
        "kernels": kernels,
        "users": users,
        "expired_p50_ms": 1000 * percentile(expired, 50),
        "expired_p99_ms": 1000 * percentile(expired, 99),
        "valid_p50_ms": 1000 * percentile(valid, 50),
        "valid_p99_ms": 1000 * percentile(valid, 99),
        "refreshes_per_user": refreshed / users,
        "kb_per_user": 1024 * (rss_loaded - rss_empty) / users,
        "rss_mb": rss_loaded,
    }


def run(bench: Bench) -> list[Row]:
    """The figure's rows: latency of both rounds, refreshes per user, memory per user."""
    figures = measure(kernels=40 if bench.quick else 200, users=10 if bench.quick else 50)
    return [
        Row(
            "hub",
            f"hub service: {figures['kernels']} kernels at once, {figures['users']} users",
            figures["valid_p50_ms"] / 1000,
            figures["expired_p50_ms"] / 1000,
            # A round that refreshes every user against one served from the cache: reported.
            figures["expired_p50_ms"] / figures["valid_p50_ms"],
            "one refresh per user",
            figures["refreshes_per_user"] == 1,
            note=(
                f"valid p50/p99 {figures['valid_p50_ms']:.0f}/{figures['valid_p99_ms']:.0f} ms; "
                f"expired p50/p99 {figures['expired_p50_ms']:.0f}/{figures['expired_p99_ms']:.0f} ms; "
                f"{figures['kb_per_user']:.0f} kB per user"
            ),
            data=figures,
        )
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the figures as JSON; 1 when a user was refreshed other than once."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.hub", description=__doc__)
    parser.add_argument("--kernels", type=int, default=200)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args(argv)
    figures = measure(args.kernels, args.users)
    print(json.dumps(figures, indent=2))
    return 0 if figures["refreshes_per_user"] == 1 else 1


if __name__ == "__main__":
    sys.exit(main())
