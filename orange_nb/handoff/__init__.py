"""How the browser's callback reaches the kernel, and the one rule for which way to use."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._protocol import SERVER_KEY_VAR, SERVER_URL_VAR
from ..errors import ConfigError
from .base import Handoff
from .loopback import LoopbackHandoff, loopback_port
from .paste import PasteHandoff
from .server import ServerHandoff

__all__ = ["Handoff", "LoopbackHandoff", "PasteHandoff", "ServerHandoff", "choose"]

NAMES = ("server", "loopback", "paste")


def choose(
    redirect_uri: str | None,
    *,
    forced: str | None = None,
    env: Mapping[str, str] = os.environ,
    open_browser: bool = False,
) -> Handoff:
    """The handoff for this login.

    ``forced`` ("server", "loopback" or "paste") wins, or raises ``ConfigError`` when it
    cannot work. Otherwise: the server handoff when this kernel runs under a Jupyter server
    with orange_nb's extension and the redirect URI is unset or is that server's own
    ``orange/callback`` (whatever host the browser uses for it, such as a hub's public name);
    else the loopback handoff for an ``http://127.0.0.1:PORT/…`` or ``http://localhost:PORT/…``
    redirect URI; else the paste handoff.
    """
    server = ServerHandoff.from_environ(env)
    if forced is not None:
        return _forced(forced, redirect_uri, server, open_browser)
    if server is not None and (redirect_uri is None or server.owns_redirect_uri(redirect_uri)):
        return server
    if redirect_uri is None:
        raise ConfigError(
            "No redirect URI is configured and this kernel does not run under a Jupyter server "
            "with orange_nb. Set `Orange(redirect_uri=…)` or ORANGE_REDIRECT_URI to the URI "
            "registered for the application (http://127.0.0.1:PORT/… signs in from here)."
        )
    if loopback_port(redirect_uri) is not None:
        return LoopbackHandoff(redirect_uri, open_browser=open_browser)
    return PasteHandoff(redirect_uri)


def _forced(
    name: str, redirect_uri: str | None, server: ServerHandoff | None, open_browser: bool
) -> Handoff:
    if name not in NAMES:
        raise ConfigError(f"Unknown handoff {name[:40]!r}: use one of {', '.join(NAMES)}.")
    if name == "server":
        if server is None:
            raise ConfigError(
                "The server handoff needs a kernel started by a Jupyter server with orange_nb's "
                f"extension ({SERVER_URL_VAR} and {SERVER_KEY_VAR} are not set). Choose another "
                "handoff, or start the notebook from such a server."
            )
        return server
    if redirect_uri is None:
        raise ConfigError(
            f"The {name} handoff needs a redirect URI: set `Orange(redirect_uri=…)` or "
            "ORANGE_REDIRECT_URI to the one registered for the application."
        )
    if name == "loopback":
        return LoopbackHandoff(redirect_uri, open_browser=open_browser)
    return PasteHandoff(redirect_uri)
