"""Routes, the tornado application, and a server on its own thread."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import threading
from types import TracebackType

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets
from tornado.routing import URLSpec
from tornado.web import Application, RequestHandler

from . import api_handlers as api
from . import ciba_handlers as ciba
from . import control
from . import oauth_handlers as oauth
from .base import NotFoundHandler
from .state import Sandbox

access_log = logging.getLogger("orange_nb.sandbox.access")

MAX_BODY_SIZE = 8 * 1024 * 1024  # bigger bodies are cut off by tornado itself


def normalize_prefix(prefix: str) -> str:
    """``"user/alice/orange/sandbox"`` → ``"/user/alice/orange/sandbox/"``."""
    return "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"


def handlers(prefix: str, sandbox: Sandbox) -> list[URLSpec]:
    """Every route of the sandbox under the path ``prefix`` (``/`` or ``{base}orange/sandbox/``).

    The last route answers 404 (Orange code 60) for anything else under the prefix.
    """
    root = normalize_prefix(prefix)
    args = {"sandbox": sandbox, "prefix": root}
    oidc = oauth.OIDC_PATH
    zones = "sandbox/mobility/v1/zones"
    routes: list[tuple[str, type[RequestHandler]]] = [
        (oidc + r"\.well-known/openid-configuration", oauth.DiscoveryHandler),
        (oidc + "jwks", oauth.JwksHandler),
        (oidc + "authorize", oauth.AuthorizeHandler),
        (oidc + "token", oauth.TokenHandler),
        (oidc + "userinfo", oauth.UserinfoHandler),
        (oidc + "revoke", oauth.RevokeHandler),
        (oidc + "bc-authorize", ciba.BackchannelHandler),
        (zones, api.ZonesHandler),
        (zones + "/([^/]+)", api.ZoneHandler),
        (zones + "/([^/]+)/presence", api.PresenceHandler),
        ("sandbox/mobility/v1/reports", api.ReportsHandler),
        ("sandbox/echo/v1/(.*)", api.EchoHandler),
        ("sandbox/kyc-match/v0.3/match", api.KycMatchHandler),
        ("sandbox/camara/number-verification/v0/verify", ciba.NumberVerificationHandler),
        ("sandbox/camara/sim-swap/v1/check", ciba.SimSwapHandler),
        ("sandbox/camara/location-verification/v1/verify", ciba.LocationVerificationHandler),
        ("_sandbox/settings", control.SettingsHandler),
        ("_sandbox/faults", control.FaultsHandler),
        ("_sandbox/stats", control.StatsHandler),
        ("_sandbox/reset", control.ResetHandler),
        ("_sandbox/revoke-all", control.RevokeAllHandler),
        ("_sandbox/expire-access-tokens", control.ExpireAccessTokensHandler),
        ("_sandbox/ciba", ciba.CibaListHandler),
        ("_sandbox/ciba/([^/]+)", ciba.CibaDecisionHandler),
        ("_sandbox/phone/([^/]+)", ciba.PhoneHandler),
        (".*", NotFoundHandler),
    ]
    return [URLSpec(re.escape(root) + path + "$", cls, args) for path, cls in routes]


def _log_request(handler: RequestHandler) -> None:
    # The path only: query strings carry state, codes and (for some clients) tokens.
    status = handler.get_status()
    # 4xx answers are the sandbox doing its job (tests provoke them): not warnings.
    level = logging.INFO if status < 500 else logging.ERROR
    request = handler.request
    access_log.log(
        level,
        "%d %s %s %.1fms",
        status,
        request.method,
        request.path,
        1000 * request.request_time(),
    )


def make_app(sandbox: Sandbox | None = None, *, prefix: str = "/") -> Application:
    """A standalone tornado application serving ``sandbox`` (a new one by default) under ``prefix``."""
    sandbox = sandbox if sandbox is not None else Sandbox()
    root = normalize_prefix(prefix)
    return Application(
        handlers(root, sandbox),
        default_handler_class=NotFoundHandler,
        default_handler_args={"sandbox": sandbox, "prefix": root},
        log_function=_log_request,
        serve_traceback=False,
        xsrf_cookies=False,
    )


class SandboxServer:
    """A sandbox served on 127.0.0.1 by its own IOLoop in a daemon thread."""

    def __init__(
        self, sandbox: Sandbox, app: Application, sockets: list[socket.socket], prefix: str
    ) -> None:
        self.sandbox = sandbox
        self._app = app
        self._sockets = sockets
        host, port = sockets[0].getsockname()[:2]
        self.port: int = port
        shown = f"[{host}]" if ":" in host else host
        self.url: str = f"http://{shown}:{port}" + normalize_prefix(prefix).rstrip("/")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"orange-nb-sandbox-{port}", daemon=True
        )

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        server = HTTPServer(self._app, max_body_size=MAX_BODY_SIZE)
        server.add_sockets(self._sockets)
        self._started.set()
        await self._stop.wait()
        server.stop()  # closes the listening sockets
        await asyncio.wait_for(server.close_all_connections(), timeout=5)

    def start(self) -> SandboxServer:
        """Start serving (``serve_in_thread`` does it); returns self."""
        self._thread.start()
        self._started.wait(10)
        return self

    def stop(self, timeout: float = 5) -> None:
        """Stop serving and close the socket and every open connection."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:  # the loop closed meanwhile
                pass
        if self._thread.is_alive():
            self._thread.join(timeout)
        for sock in self._sockets:
            sock.close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"SandboxServer(url={self.url!r})"


def serve_in_thread(
    port: int = 0, sandbox: Sandbox | None = None, *, host: str = "127.0.0.1", prefix: str = "/"
) -> SandboxServer:
    """Serve ``sandbox`` (a new one by default) on ``host:port`` (0: any free port) in a
    daemon thread. ``.url`` is ``http://127.0.0.1:PORT`` (plus the prefix, if any), no
    trailing slash."""
    sandbox = sandbox if sandbox is not None else Sandbox()
    app = make_app(sandbox, prefix=prefix)
    sockets = bind_sockets(port, host)
    return SandboxServer(sandbox, app, sockets, prefix).start()
