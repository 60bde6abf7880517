"""Without ServerApp.trust_xheaders, X-Forwarded-* headers change nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit


async def test_forwarded_headers_are_ignored_by_default(
    fetch: Any, register: Any, make_flow: Any, jp_base_url: str, jp_http_port: int
) -> None:
    flow_id = await register(make_flow())
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "hub.example"}
    login = await fetch("orange", "login", flow_id, headers=headers)
    redirect_uri = parse_qs(urlsplit(login.headers["Location"]).query)["redirect_uri"][0]
    assert redirect_uri == f"http://127.0.0.1:{jp_http_port}{jp_base_url}orange/callback"
