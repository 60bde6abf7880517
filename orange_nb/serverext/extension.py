"""Wiring into a running Jupyter server: routes, the mounted sandbox, the kernels' environment."""

from __future__ import annotations

import os
import secrets
import warnings
from typing import Any

from jupyter_server.utils import JupyterServerAuthWarning, url_path_join

from .._protocol import CALLBACK_ROUTE, FLOWS_ROUTE, LOGIN_ROUTE, SANDBOX_ROUTE
from ..sandbox import Sandbox
from ..sandbox.clients import demo_client
from .api import FlowHandler, FlowsHandler
from .browser import CallbackHandler, LoginHandler
from .context import ServerContext
from .environ import SANDBOX_VAR, SERVER_KEY_VAR, SERVER_URL_VAR, loopback_url
from .sandbox_mount import MountPolicy, mounted_handlers
from .settings import OrangeNB

SETTINGS_KEY = "orange_nb"
_FLOW_ID = r"([A-Za-z0-9_-]{1,64})"


def load(serverapp: Any) -> ServerContext:
    """Add orange_nb's routes and the sandbox under ``base_url``; publish the kernel environment."""
    base_url = serverapp.base_url
    context = ServerContext(
        key=secrets.token_urlsafe(32),
        base_url=base_url,
        trust_xheaders=bool(serverapp.trust_xheaders),
    )
    kwargs = {"context": context}
    routes: list[Any] = [
        (url_path_join(base_url, FLOWS_ROUTE), FlowsHandler, kwargs),
        (url_path_join(base_url, FLOWS_ROUTE, _FLOW_ID), FlowHandler, kwargs),
        (url_path_join(base_url, LOGIN_ROUTE, _FLOW_ID), LoginHandler, kwargs),
        (url_path_join(base_url, CALLBACK_ROUTE), CallbackHandler, kwargs),
    ]
    serverapp.web_app.add_handlers(".*$", routes)
    settings = OrangeNB(config=serverapp.config)
    context.sandbox_mounted = settings.mount_sandbox
    if settings.mount_sandbox:
        mount = MountPolicy(context, tuple(settings.sandbox_redirect_uris))
        prefix = url_path_join(base_url, SANDBOX_ROUTE) + "/"
        with warnings.catch_warnings():
            # The sandbox plays an outside authorization server: its OAuth endpoints and
            # APIs are public by design (sandbox_mount.py says what is guarded, and how).
            warnings.simplefilter("ignore", JupyterServerAuthWarning)
            exact = settings.sandbox_exact_redirects
            sandbox = Sandbox(demo=demo_client(settings.sandbox_redirect_uris if exact else None))
            serverapp.web_app.add_handlers(".*$", mounted_handlers(prefix, sandbox, mount))
    else:
        serverapp.log.info("orange_nb: the sandbox is not mounted (OrangeNB.mount_sandbox)")
    serverapp.web_app.settings[SETTINGS_KEY] = context
    publish_environ(serverapp)
    if serverapp.sock:
        serverapp.log.info(
            "orange_nb: the server listens on a unix socket, so kernels cannot reach it; they "
            "sign in through a loopback redirect URI or by pasting the landed URL."
        )
    return context


def publish_environ(serverapp: Any) -> None:
    """Put the server's loopback URL and key into ``os.environ``, which kernels inherit.

    Called at load and again once the server listens: with port 0 or port retries the
    port is only final after binding. On a unix socket there is no kernel API: the
    variables are removed (a server started inside a kernel must not point at the outer one).
    """
    context: ServerContext = serverapp.web_app.settings[SETTINGS_KEY]
    if serverapp.sock:
        context.loopback_url = None
        for name in (SERVER_URL_VAR, SERVER_KEY_VAR, SANDBOX_VAR):
            os.environ.pop(name, None)
        return
    context.loopback_url = loopback_url(
        ip=serverapp.ip,
        port=serverapp.port,
        base_url=context.base_url,
        https=bool(serverapp.certfile),
    )
    os.environ[SERVER_URL_VAR] = context.loopback_url
    os.environ[SERVER_KEY_VAR] = context.key
    if context.sandbox_mounted:
        os.environ[SANDBOX_VAR] = "1"
    else:
        os.environ.pop(SANDBOX_VAR, None)
