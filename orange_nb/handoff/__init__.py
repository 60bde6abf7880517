"""How the browser's callback reaches the kernel, and the one rule for which way to use."""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._protocol import SERVER_KEY_VAR, SERVER_URL_VAR
from ..errors import ConfigError
from ..relay.links import check_relay_url
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
    relay_url: str | None = None,
) -> Handoff:
    """The handoff for this login.

    ``forced`` ("server", "loopback" or "paste") wins, or raises ``ConfigError`` when it
    cannot work. Otherwise: the server handoff when this kernel runs under a Jupyter server
    with orange_nb's extension and the redirect URI is unset or is that server's own
    ``orange/callback`` (whatever host the browser uses for it, such as a hub's public name);
    else the loopback handoff for an ``http://127.0.0.1:PORT/…`` or ``http://localhost:PORT/…``
    redirect URI; else the paste handoff.

    With ``relay_url`` (a relay page registered as *the* redirect URI, see docs/relay.md),
    Orange always answers the relay, and the relay hands the answer on: to the server's
    callback when there is a server, else to a loopback listener (on ``redirect_uri`` when
    it is a loopback URI, else on any free port), or, with ``forced="paste"``, to nobody (the
    relay shows the address to paste).
    """
    if relay_url is not None:
        return _relayed(relay_url, redirect_uri, forced, env, open_browser)
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


def _relayed(
    relay_url: str,
    redirect_uri: str | None,
    forced: str | None,
    env: Mapping[str, str],
    open_browser: bool,
) -> Handoff:
    why = check_relay_url(relay_url)
    if why is not None:
        raise ConfigError(
            f"`Orange.relay_url` ({relay_url[:100]!r}) cannot be a relay page's address: {why}. "
            "Set it to the exact URL of the relay page registered for the application."
        )
    if forced is not None and forced not in NAMES:
        raise ConfigError(f"Unknown handoff {forced[:40]!r}: use one of {', '.join(NAMES)}.")
    if forced == "paste":
        return PasteHandoff(relay_url, relay=True)
    server = ServerHandoff.from_environ(env, relay_url=relay_url)
    if forced == "server" and server is None:
        return _forced("server", relay_url, None, open_browser)  # raises, saying why
    if server is not None and forced != "loopback":
        return server
    listen = redirect_uri if redirect_uri and loopback_port(redirect_uri) is not None else None
    if forced == "loopback" and redirect_uri and listen is None:
        raise ConfigError(
            "With a relay, the loopback handoff listens on `redirect_uri` when it is "
            "http://127.0.0.1:PORT/… or http://localhost:PORT/…; unset it to listen on any port."
        )
    return LoopbackHandoff(
        listen or "http://127.0.0.1:0/callback", open_browser=open_browser, relay_url=relay_url
    )
