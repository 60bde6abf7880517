"""The extension as a whole: kernels' environment, the mounted sandbox, and what reaches the log."""

from __future__ import annotations

import json
import logging
import os
from types import SimpleNamespace
from typing import Any

import pytest

from orange_nb.serverext import _start_jupyter_server_extension
from orange_nb.serverext.context import ServerContext
from orange_nb.serverext.environ import SERVER_KEY_VAR, SERVER_URL_VAR, loopback_url
from orange_nb.serverext.extension import SETTINGS_KEY, publish_environ


async def test_kernels_get_the_loopback_url_and_key(
    jp_serverapp: Any, context: ServerContext, jp_http_port: int, jp_base_url: str
) -> None:
    assert os.environ[SERVER_URL_VAR] == f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    assert os.environ[SERVER_KEY_VAR] == context.key
    assert len(context.key) >= 43


async def test_sandbox_is_mounted_under_the_prefix(
    fetch: Any, jp_base_url: str, jp_http_port: int
) -> None:
    response = await fetch(
        "orange",
        "sandbox",
        "openidconnect",
        "fr",
        "v1",
        ".well-known",
        "openid-configuration",
        headers={"Authorization": ""},  # an outside server: no Jupyter login needed
    )
    assert response.code == 200
    discovery = json.loads(response.body)
    root = f"http://127.0.0.1:{jp_http_port}{jp_base_url}orange/sandbox/openidconnect/fr/v1/"
    assert discovery["authorization_endpoint"] == root + "authorize"
    assert discovery["token_endpoint"] == root + "token"


async def test_codes_states_and_key_never_reach_the_log(
    caplog: pytest.LogCaptureFixture,
    fetch: Any,
    api: Any,
    register: Any,
    make_flow: Any,
    context: ServerContext,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets_seen: list[str] = [context.key]
    for error in (None, "access_denied"):
        flow = make_flow()
        secrets_seen.append(flow.state)
        flow_id = await register(flow)
        await fetch("orange", "login", flow_id)
        code = f"code-{flow.state[:12]}"
        secrets_seen.append(code)
        params = (
            {"code": code, "state": flow.state}
            if error is None
            else {"error": error, "state": flow.state}
        )
        await fetch("orange", "callback", params=params)
        await fetch("orange", "callback", params=params)  # replayed: stale
        await fetch("orange", "callback", params=[*params.items(), ("state", "x")])  # repeated
        await fetch(
            "orange", "callback", params=params, headers={"Authorization": ""}
        )  # signed out
        await api("GET", flow_id, params={"timeout": "0"})
    await api("POST", body={"state": "leaky-state", "authorize_url": "ftp://x"}, key="bad")
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "orange/callback" in logged and "orange/login" in logged  # the log did see the requests
    for secret in (*secrets_seen, "leaky-state"):
        assert secret not in logged


def _fake_serverapp(**server: Any) -> Any:
    # Only the attributes publish_environ reads: a unix-socket server cannot run beside
    # pytest-jupyter's TCP one.
    context = ServerContext(key="k" * 43, base_url="/user/alice/")
    web_app = SimpleNamespace(settings={SETTINGS_KEY: context})
    defaults = {"ip": "localhost", "port": 8888, "certfile": "", "sock": ""}
    return SimpleNamespace(web_app=web_app, **{**defaults, **server})


async def test_the_final_port_is_published_once_the_server_listens() -> None:
    serverapp = _fake_serverapp(port=0)
    publish_environ(serverapp)
    serverapp.port = 41234  # what binding to port 0 gave
    await _start_jupyter_server_extension(serverapp)
    assert os.environ[SERVER_URL_VAR] == "http://127.0.0.1:41234/user/alice/"
    assert serverapp.web_app.settings[SETTINGS_KEY].loopback_url == os.environ[SERVER_URL_VAR]


def test_a_unix_socket_server_publishes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVER_URL_VAR, "http://127.0.0.1:1/")  # inherited from an outer server
    monkeypatch.setenv(SERVER_KEY_VAR, "outer-key")
    serverapp = _fake_serverapp(sock="/tmp/jupyter.sock")
    publish_environ(serverapp)
    assert SERVER_URL_VAR not in os.environ and SERVER_KEY_VAR not in os.environ
    assert serverapp.web_app.settings[SETTINGS_KEY].loopback_origin is None


@pytest.mark.parametrize(
    ("ip", "https", "expected"),
    [
        ("localhost", False, "http://127.0.0.1:8888/user/alice/"),
        ("", False, "http://127.0.0.1:8888/user/alice/"),
        ("0.0.0.0", False, "http://127.0.0.1:8888/user/alice/"),
        ("127.0.0.1", True, "https://127.0.0.1:8888/user/alice/"),
        ("127.0.1.1", False, "http://127.0.0.1:8888/user/alice/"),
        ("::", False, "http://[::1]:8888/user/alice/"),
        ("::1", False, "http://[::1]:8888/user/alice/"),
        ("10.1.2.3", False, "http://10.1.2.3:8888/user/alice/"),
        ("fd00::5", False, "http://[fd00::5]:8888/user/alice/"),
        ("jupyter.internal", True, "https://jupyter.internal:8888/user/alice/"),
    ],
)
def test_loopback_url(ip: str, https: bool, expected: str) -> None:
    assert loopback_url(ip=ip, port=8888, base_url="/user/alice/", https=https) == expected


@pytest.mark.parametrize("base_url", ["/", "", "//"])
def test_loopback_url_at_the_root(base_url: str) -> None:
    assert loopback_url(ip="", port=1, base_url=base_url, https=False) == "http://127.0.0.1:1/"
