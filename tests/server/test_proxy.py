"""Behind a reverse proxy (a hub, Binder): redirect URIs follow X-Forwarded-* when trusted."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from orange_nb.serverext.context import ServerContext

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example, inner.example"}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"orange_nb": True}, "trust_xheaders": True}}


def _redirect_uri(location: str) -> str:
    return parse_qs(urlsplit(location).query)["redirect_uri"][0]


async def test_forwarded_scheme_and_host_build_the_redirect_uri(
    fetch: Any, api: Any, register: Any, make_flow: Any, jp_base_url: str
) -> None:
    flow = make_flow()
    flow_id = await register(flow)
    login = await fetch("orange", "login", flow_id, headers=FORWARDED)
    assert (
        _redirect_uri(login.headers["Location"])
        == f"https://hub.example{jp_base_url}orange/callback"
    )
    await fetch("orange", "callback", params={"code": "c", "state": flow.state}, headers=FORWARDED)
    _, reply = await api("GET", flow_id, params={"timeout": "0"})
    assert reply["redirect_uri"] == f"https://hub.example{jp_base_url}orange/callback"


async def test_the_sandbox_is_shown_on_the_proxys_origin(
    fetch: Any, register: Any, make_flow: Any, context: ServerContext, jp_base_url: str
) -> None:
    path = f"{jp_base_url}orange/sandbox/openidconnect/fr/v1/authorize"
    flow_id = await register(make_flow(f"{context.loopback_origin}{path}"))
    login = await fetch("orange", "login", flow_id, headers=FORWARDED)
    assert login.headers["Location"].startswith(f"https://hub.example{path}?")
    assert _redirect_uri(login.headers["Location"]).startswith("https://hub.example/")


async def test_a_malformed_forwarded_host_is_ignored(
    fetch: Any, register: Any, make_flow: Any, jp_base_url: str, jp_http_port: int
) -> None:
    flow_id = await register(make_flow())
    headers = {"X-Forwarded-Host": "evil.example/path?x=", "X-Forwarded-Proto": "gopher"}
    login = await fetch("orange", "login", flow_id, headers=headers)
    assert (
        _redirect_uri(login.headers["Location"])
        == f"http://127.0.0.1:{jp_http_port}{jp_base_url}orange/callback"
    )
