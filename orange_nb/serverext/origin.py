"""The origin a browser used to reach this Jupyter server, proxies included when trusted."""

from __future__ import annotations

import re

from tornado.httputil import HTTPServerRequest

_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def browser_origin(request: HTTPServerRequest, *, trust_xheaders: bool) -> str | None:
    """``scheme://host`` as the browser sees this server; ``None`` for a malformed Host.

    With ``ServerApp.trust_xheaders`` the scheme comes from ``X-Scheme`` /
    ``X-Forwarded-Proto`` (the last value, as tornado reads it) and the host from
    ``X-Forwarded-Host`` (the first value: the one the browser used).
    """
    scheme, host = request.protocol, request.host
    if trust_xheaders:
        headers = request.headers
        proto = headers.get("X-Scheme") or headers.get("X-Forwarded-Proto") or ""
        proto = proto.split(",")[-1].strip().lower()
        if proto in ("http", "https"):
            scheme = proto
        forwarded = (headers.get("X-Forwarded-Host") or "").split(",")[0].strip()
        if _HOST.match(forwarded):
            host = forwarded
    if not _HOST.match(host):
        return None
    return f"{scheme}://{host}"
