"""Where a kernel reaches its Jupyter server: the loopback URL the extension publishes.

Kernels inherit the server's environment, so the server puts its own URL and a random key
into ``os.environ`` (names and meaning: ``orange_nb._protocol``).
"""

from __future__ import annotations

import ipaddress

from .._protocol import SANDBOX_VAR, SERVER_KEY_VAR, SERVER_URL_VAR

__all__ = ["SANDBOX_VAR", "SERVER_KEY_VAR", "SERVER_URL_VAR", "loopback_host", "loopback_url"]

# Addresses that make the server listen on every interface, or on the loopback one.
_ALL_V4 = {"", "0.0.0.0", "localhost"}  # noqa: S104 - names to compare; nothing binds here
_ALL_V6 = {"::"}


def loopback_host(ip: str) -> str:
    """The host a local process uses to reach a server started with ``ServerApp.ip = ip``.

    Wildcards, ``localhost`` and 127.x give ``127.0.0.1``; ``::`` and ``::1`` give ``[::1]``
    (an IPv6 wildcard socket does not accept IPv4). A server bound to one specific address
    is only reachable there, so that address (or host name) is kept.
    """
    if ip in _ALL_V4:
        return "127.0.0.1"
    if ip in _ALL_V6:
        return "[::1]"
    try:
        address = ipaddress.ip_address(ip.strip("[]"))
    except ValueError:
        return ip  # a host name: the server bound to whatever it resolves to
    if address.is_loopback:
        return "127.0.0.1" if address.version == 4 else "[::1]"
    return f"[{address}]" if address.version == 6 else str(address)


def loopback_url(*, ip: str, port: int, base_url: str, https: bool) -> str:
    """``http(s)://127.0.0.1:PORT/base/``: the server URL a kernel on this machine uses."""
    scheme = "https" if https else "http"
    base = "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"
    return f"{scheme}://{loopback_host(ip)}:{port}{base}"
