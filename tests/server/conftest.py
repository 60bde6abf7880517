"""Fixtures for the server extension's tests: a pytest-jupyter server with orange_nb enabled."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

# pytest-jupyter's fixtures and async-test hooks, for this directory only: as a plugin for
# the whole suite its autouse fixtures would build a Jupyter server app around every test,
# and `pytest_plugins` is only allowed in the top-level conftest.
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.httpclient import HTTPResponse

from orange_nb.oauth.flow import LoginFlow
from orange_nb.serverext.context import ServerContext
from orange_nb.serverext.environ import SERVER_KEY_VAR, SERVER_URL_VAR
from orange_nb.serverext.extension import SETTINGS_KEY

Fetch = Callable[..., Awaitable[HTTPResponse]]


@pytest.fixture(autouse=True)
def _clean_server_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    # The extension writes os.environ (kernels inherit it); monkeypatch undoes it afterwards.
    monkeypatch.delenv(SERVER_URL_VAR, raising=False)
    monkeypatch.delenv(SERVER_KEY_VAR, raising=False)


@pytest.fixture  # type: ignore[no-redef]  # replaces pytest-jupyter's fixture of that name
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"orange_nb": True}}}


@pytest.fixture
def context(jp_serverapp: Any) -> ServerContext:
    """The extension's shared state in the running test server."""
    return jp_serverapp.web_app.settings[SETTINGS_KEY]  # type: ignore[no-any-return]


@pytest.fixture
def fetch(jp_fetch: Fetch) -> Fetch:
    """``jp_fetch`` that returns error answers instead of raising, and never follows redirects."""

    def call(*parts: str, **kwargs: Any) -> Awaitable[HTTPResponse]:
        kwargs.setdefault("raise_error", False)
        kwargs.setdefault("follow_redirects", False)
        kwargs["headers"] = dict(kwargs.get("headers") or {})  # jp_fetch adds its token to it
        return jp_fetch(*parts, **kwargs)

    return call


@pytest.fixture
def api(fetch: Fetch, context: ServerContext) -> Callable[..., Awaitable[tuple[int, Any]]]:
    """Call the kernel API with the server key; returns (status, JSON body or None)."""

    async def call(
        method: str, *parts: str, body: Any = None, key: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"X-Orange-NB-Key": context.key if key is None else key}
        headers["Authorization"] = ""  # the kernel has no Jupyter token
        if body is not None:
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body)
        elif method == "POST":
            kwargs["body"] = b""
        response = await fetch(
            "orange", "api", "flows", *parts, method=method, headers=headers, **kwargs
        )
        text = response.body.decode() if response.body else ""
        return response.code, (json.loads(text) if text else None)

    return call


@pytest.fixture
def make_flow() -> Callable[..., LoginFlow]:
    """Make real login flows (random state, PKCE) as a kernel would."""

    def make(
        authorize_endpoint: str = "https://auth.example/openidconnect/fr/v1/authorize",
        redirect_uri: str | None = None,
    ) -> LoginFlow:
        return LoginFlow(
            authorize_endpoint, "orange-nb-sandbox", ("openid",), redirect_uri=redirect_uri
        )

    return make


@pytest.fixture
def register(
    api: Callable[..., Awaitable[tuple[int, Any]]],
) -> Callable[[LoginFlow], Awaitable[str]]:
    """Register a flow as ``ServerHandoff.start`` does; returns the server's flow id."""

    async def call(flow: LoginFlow) -> str:
        body = {
            "state": flow.state,
            "authorize_url": flow.authorization_url(flow.redirect_uri),
            "redirect_uri": flow.redirect_uri,
        }
        status, reply = await api("POST", body=body)
        assert status == 201, reply
        return reply["id"]  # type: ignore[no-any-return]

    return call
