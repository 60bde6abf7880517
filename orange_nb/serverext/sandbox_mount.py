"""The sandbox mounted in a Jupyter server, under ``{base_url}orange/sandbox/``.

Standalone, the sandbox plays a public authorization server on its own port. Mounted, it
shares the Jupyter server's origin, so anything it serves runs with the person's Jupyter
session. Each of its handlers is therefore wrapped here (the sandbox itself knows nothing
of Jupyter) so that:

- every request passes Jupyter's own Host check (``allow_remote_access``,
  ``local_hostnames``): a DNS-rebound page gets the same 403 as ``/api/…``;
- the control API (``_sandbox/…``: settings, faults, clients, resets, revocations, stats)
  needs Jupyter's login or the per-server kernel key, plus Jupyter's XSRF check for a
  cookie-authenticated change; ``auto_consent`` cannot be switched on over HTTP at all
  (``ORANGE_SANDBOX_AUTO_CONSENT`` in the server's environment only);
- a browser is only ever sent back to this server's own callback on the origin it used,
  to a loopback redirect URI (RFC 8252), or to an exact URI the administrator configured:
  never to some other host's ``…/orange/callback``.

The OAuth endpoints and sample APIs stay reachable without Jupyter's login, as Orange's
are: kernels call them with client credentials or bearer tokens, not a Jupyter session.
"""

from __future__ import annotations

import hmac
import inspect
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from tornado.routing import URLSpec
from tornado.web import HTTPError, RequestHandler

from .._protocol import CALLBACK_ROUTE, KEY_HEADER
from ..sandbox import Sandbox
from ..sandbox import handlers as sandbox_handlers
from ..sandbox.base import SandboxHandler
from ..sandbox.clients import PASTE_REDIRECT_URI
from ..sandbox.control import ControlHandler
from ..sandbox.errors import ControlError
from .context import ServerContext
from .origin import browser_origin

LOCKED_SETTINGS = frozenset({"auto_consent"})
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True, repr=False)
class MountPolicy:
    """What the mounted sandbox may do on this server: where it may redirect, who controls it."""

    context: ServerContext
    redirect_uris: tuple[str, ...] = ()

    def callback_path(self) -> str:
        """This server's own callback path: ``{base_url}orange/callback``."""
        return url_path_join(self.context.base_url, CALLBACK_ROUTE)

    def permits(self, uri: str, origin: str | None) -> bool:
        """Whether a browser on ``origin`` may be sent to ``uri`` by the mounted sandbox."""
        if uri in self.redirect_uris or uri == PASTE_REDIRECT_URI:
            return True  # configured by the administrator; the paste URI never resolves
        try:
            parts = urlsplit(uri)
            parts.port  # noqa: B018 - raises ValueError for a malformed port
        except ValueError:
            return False
        if parts.username is not None or parts.password is not None:
            return False
        if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
            return True  # RFC 8252 §7.3: a listener on the person's own machine
        own = origin is not None and f"{parts.scheme}://{parts.netloc}".lower() == origin.lower()
        return own and parts.path == self.callback_path() and not parts.query

    def key_matches(self, presented: str | None) -> bool:
        """Constant-time check of the per-server kernel key."""
        if not presented:
            return False
        return hmac.compare_digest(presented.encode(), self.context.key.encode())


class _MountedHandler(SandboxHandler):
    """Put first in a mounted handler's bases, with ``JupyterHandler`` last (see ``guarded``)."""

    mount: MountPolicy

    def initialize(self, sandbox: Sandbox, prefix: str, mount: MountPolicy) -> None:  # type: ignore[override]
        """Tornado hook: the sandbox, its prefix, and this server's policy."""
        super().initialize(sandbox, prefix)
        self.mount = mount

    async def prepare(self) -> None:
        """Jupyter's Host check, then (control API) Jupyter's login or the kernel key."""
        jupyter: Any = self
        if not jupyter.check_host():
            raise HTTPError(403)
        if isinstance(self, ControlHandler):
            await self._check_controller()
        result = super().prepare()
        if inspect.isawaitable(result):
            await result

    async def _check_controller(self) -> None:
        jupyter: Any = self
        if self.mount.key_matches(self.request.headers.get(KEY_HEADER)):
            jupyter.current_user = jupyter._jupyter_current_user = None
            return
        user = jupyter.identity_provider.get_user(self)
        if inspect.isawaitable(user):
            user = await user
        jupyter.current_user = jupyter._jupyter_current_user = user
        if user is None:
            raise ControlError(
                "The sandbox's control API needs Jupyter's login or the server's kernel key.",
                status=403,
            )
        if self.request.method not in ("GET", "HEAD", "OPTIONS"):
            # A change made with the login cookie must also pass Jupyter's XSRF check.
            try:
                JupyterHandler.check_xsrf_cookie(jupyter)
            except HTTPError:
                raise ControlError(
                    "Cross-site request refused: send Jupyter's _xsrf token, or a token.",
                    status=403,
                ) from None

    def form_token(self) -> str | None:
        """Jupyter's ``_xsrf``: the phone page's form posts through the control API's check."""
        jupyter: Any = self
        token: bytes = jupyter.xsrf_token
        return token.decode("ascii")

    def redirect_permitted(self, uri: str) -> bool:
        """This server's callback on the browser's origin, loopback, or configured URIs."""
        origin = browser_origin(self.request, trust_xheaders=self.mount.context.trust_xheaders)
        return self.mount.permits(uri, origin)

    def locked_settings(self) -> frozenset[str]:
        """``auto_consent`` comes from the server's environment only."""
        return LOCKED_SETTINGS


@cache
def guarded(handler: type[RequestHandler]) -> type[RequestHandler]:
    """``handler`` with the mount's checks first and Jupyter's handler methods available.

    Method order: the checks, then the sandbox handler (its answers, envelopes, errors),
    then ``JupyterHandler`` (``check_host``, ``identity_provider``, XSRF), then tornado.
    """
    name = f"Mounted{handler.__name__}"
    return type(name, (_MountedHandler, handler, JupyterHandler), {})


def mounted_handlers(prefix: str, sandbox: Sandbox, mount: MountPolicy) -> list[URLSpec]:
    """The sandbox's routes under ``prefix``, each handler guarded for this server."""
    routes = []
    for spec in sandbox_handlers(prefix, sandbox):
        kwargs = {**(spec.kwargs or {}), "mount": mount}
        routes.append(URLSpec(spec.regex.pattern, guarded(spec.handler_class), kwargs))
    return routes
