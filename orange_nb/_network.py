"""How every HTTP client of orange_nb reaches the network: proxies and CA bundles from the
environment, like other Python HTTP tools, but never a proxy for loopback or the kernel's server.

``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``ALL_PROXY`` (lower case wins, as in ``urllib``) and
``NO_PROXY`` choose a proxy per request; ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``,
``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` replace the default CA bundle. Loopback hosts
(``127.0.0.0/8``, ``::1``, ``localhost``) and the Jupyter server of ``ORANGE_NB_SERVER_URL``
are always reached directly: a proxy must never see the kernel key or a sandbox token.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import ssl
import threading
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._protocol import SERVER_URL_VAR
from .errors import ConfigError

CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")  # in this order


def is_loopback(host: str | None) -> bool:
    """``localhost`` (and its subdomains), ``127.0.0.0/8`` or ``::1``."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Routes:
    """Which proxy (or none) a URL goes through, from a snapshot of the environment."""

    def __init__(self, env: Mapping[str, str], direct: Iterable[str] = ()) -> None:
        proxies = _environment_proxies(env)
        self._no_proxy = proxies.pop("no", "")
        self.proxies = {k: v for k, v in proxies.items() if k in ("http", "https", "all") and v}
        hosts = (urlsplit(url).hostname for url in (env.get(SERVER_URL_VAR) or "", *direct))
        self._direct = {host.lower() for host in hosts if host}
        self._cache: dict[tuple[str, str, int | None], str | None] = {}
        self._lock = threading.Lock()

    def proxy_for(self, url: httpx.URL) -> str | None:
        """The proxy URL for ``url``, or ``None`` to connect directly."""
        if not self.proxies:
            return None
        key = (url.scheme, url.host, url.port)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        chosen = self._choose(url)
        with self._lock:
            self._cache[key] = chosen
        return chosen

    def _choose(self, url: httpx.URL) -> str | None:
        host = url.host.lower()
        if is_loopback(host) or host in self._direct or self._bypassed(host, url.port):
            return None
        return self.proxies.get(url.scheme) or self.proxies.get("all")

    def _bypassed(self, host: str, port: int | None) -> bool:
        # NO_PROXY as curl and requests read it: "*", names (a leading dot or not: the name
        # and its subdomains), optionally with ":port", IP addresses and networks.
        try:
            address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(
                host
            )
        except ValueError:
            address = None
        for raw in self._no_proxy.replace(" ", ",").split(","):
            entry = raw.strip().lower()
            if not entry:
                continue
            if entry == "*":
                return True
            if address is not None:
                try:
                    if address in ipaddress.ip_network(entry.strip("[]"), strict=False):
                        return True
                    continue
                except ValueError:
                    pass
            name, _, wanted = entry.lstrip(".").rpartition(":") if ":" in entry else ("", "", "")
            if not name or not wanted.isdigit():
                name, wanted = entry.lstrip("."), ""
            if wanted and port is not None and int(wanted) != port:
                continue
            if host == name or host.endswith("." + name):
                return True
        return False


def _environment_proxies(env: Mapping[str, str]) -> dict[str, str]:
    # urllib's rules (lower case over upper case), read from ``env`` rather than os.environ.
    found: dict[str, str] = {}
    for name, value in env.items():
        if value and len(name) > 6 and name[-6:] == "_proxy":
            found[name[:-6]] = value
    for name, value in env.items():
        if len(name) > 6 and name[-6:] == "_PROXY" and name[:-6].lower() not in found:
            if name == "HTTP_PROXY" and "REQUEST_METHOD" in env:
                continue  # CGI: HTTP_PROXY may come from a request's "Proxy:" header (httpoxy)
            if value:
                found[name[:-6].lower()] = value
    return found


@functools.lru_cache(maxsize=8)
def _ssl_context(cafile: str | None, capath: str | None) -> ssl.SSLContext:
    # Loading a bundle takes milliseconds; one context serves every client (they are thread-safe).
    return ssl.create_default_context(cafile=cafile, capath=capath)


def verification(env: Mapping[str, str]) -> ssl.SSLContext | bool:
    """The CA bundle the environment names, as an ``ssl.SSLContext``; ``True`` for httpx's own."""
    cafile = capath = None
    named = ""
    for name in CA_VARIABLES:
        if env.get(name):
            named, path = name, env[name]
            if os.path.isdir(path):
                capath = path
            else:
                cafile = path
            break
    if named == "" and env.get("SSL_CERT_DIR"):
        named, capath = "SSL_CERT_DIR", env["SSL_CERT_DIR"]
    if not named:
        return True
    try:
        return _ssl_context(cafile, capath)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"{named} names {(cafile or capath or '')[:200]!r}, which holds no readable CA "
            f"certificates ({type(exc).__name__}). Point it at a PEM bundle, or unset it."
        ) from None


def _proxy_error(url: str, exc: Exception) -> ConfigError:
    shown = httpx.URL(url).copy_with(username=None, password=None)  # no credentials in messages
    extra = " (install `httpx[socks]` for a SOCKS proxy)" if isinstance(exc, ImportError) else ""
    return ConfigError(
        f"The proxy {str(shown)[:200]!r} from the environment cannot be used{extra}. Fix or unset "
        "HTTPS_PROXY / HTTP_PROXY / ALL_PROXY."
    )


class _Router(httpx.BaseTransport):
    """Sends each request directly or through the proxy :class:`Routes` chooses for it."""

    def __init__(self, routes: Routes, verify: ssl.SSLContext | bool, limits: httpx.Limits) -> None:
        self._routes = routes
        self._direct = httpx.HTTPTransport(verify=verify, limits=limits, trust_env=False)
        self._proxied: dict[str, httpx.HTTPTransport] = {}
        for proxy in set(routes.proxies.values()):
            try:
                self._proxied[proxy] = httpx.HTTPTransport(
                    proxy=proxy, verify=verify, limits=limits, trust_env=False
                )
            except (ValueError, ImportError) as exc:
                raise _proxy_error(proxy, exc) from None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on the transport its URL is routed to."""
        proxy = self._routes.proxy_for(request.url)
        transport = self._direct if proxy is None else self._proxied[proxy]
        return transport.handle_request(request)

    def close(self) -> None:
        """Close every pool."""
        self._direct.close()
        for transport in self._proxied.values():
            transport.close()


class _AsyncRouter(httpx.AsyncBaseTransport):
    """:class:`_Router` for ``httpx.AsyncClient``."""

    def __init__(self, routes: Routes, verify: ssl.SSLContext | bool, limits: httpx.Limits) -> None:
        self._routes = routes
        self._direct = httpx.AsyncHTTPTransport(verify=verify, limits=limits, trust_env=False)
        self._proxied: dict[str, httpx.AsyncHTTPTransport] = {}
        for proxy in set(routes.proxies.values()):
            try:
                self._proxied[proxy] = httpx.AsyncHTTPTransport(
                    proxy=proxy, verify=verify, limits=limits, trust_env=False
                )
            except (ValueError, ImportError) as exc:
                raise _proxy_error(proxy, exc) from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on the transport its URL is routed to."""
        proxy = self._routes.proxy_for(request.url)
        transport = self._direct if proxy is None else self._proxied[proxy]
        return await transport.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every pool."""
        await self._direct.aclose()
        for transport in self._proxied.values():
            await transport.aclose()


def http_options(
    *,
    asynchronous: bool = False,
    verify: bool | None = None,
    direct: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
    limits: httpx.Limits | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client`` (or ``AsyncClient`` when ``asynchronous``).

    The one place that decides proxies and certificate checks for orange_nb's clients: the
    environment is read now (a client built later sees later changes), each request then
    goes directly or through its proxy. ``verify=False`` turns certificate checks off (the
    kernel's own server on loopback); ``None`` uses the CA bundle the environment names.
    The hosts of the ``direct`` URLs, like loopback and ``ORANGE_NB_SERVER_URL``'s, never go
    through a proxy.
    """
    env = os.environ if env is None else env
    checks: ssl.SSLContext | bool = verification(env) if verify is None or verify else False
    routes = Routes(env, direct)
    pools = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    transport: httpx.BaseTransport | httpx.AsyncBaseTransport = (
        _AsyncRouter(routes, checks, pools) if asynchronous else _Router(routes, checks, pools)
    )
    # trust_env=False: httpx would otherwise apply the environment its own way, loopback too.
    return {"transport": transport, "trust_env": False}
