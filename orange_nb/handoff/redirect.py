"""The redirect URI a sign-in from this kernel sends: what to register for the application.

One rule, read from the handoff ``choose()`` picks (so it cannot disagree with it), for
``%orange status`` and the sign-in widget alike:

- server: the browser's own origin (scheme, host and port it uses for this Jupyter server)
  plus the server's base URL and ``orange/callback``; the kernel does not know that origin,
  so the URI is given with ``{origin}`` in it. ``http://localhost:8888`` and
  ``http://127.0.0.1:8888`` are different URIs to Orange. A configured ``redirect_uri`` on
  the server's callback path is sent as it is.
- loopback: the configured ``http://127.0.0.1:PORT/…`` (or ``localhost``) URI; port 0 means a
  free port chosen at each sign-in, which only a provider accepting any loopback port takes.
- paste: the configured URI, character for character.
- relay: the relay page's URL (``relay_url``) whatever the handoff behind it: Orange always
  answers the relay, which hands the answer on (see docs/relay.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._protocol import CALLBACK_ROUTE
from ..errors import ConfigError
from . import choose
from .loopback import LoopbackHandoff
from .server import ServerHandoff

ORIGIN = "{origin}"
"""Stands, in :attr:`RedirectRule.uri`, for the origin the browser uses for the Jupyter server."""


@dataclass(frozen=True)
class RedirectRule:
    """The redirect URI this kernel's next sign-in sends, and the rule that makes it.

    ``handoff``: the handoff ``choose()`` picks (``""`` when none can work: ``note`` says
    why). ``uri``: the URI, exact when ``exact``, else holding ``{origin}`` (server) or
    ``PORT`` (loopback on port 0). ``note``: the rule in one or two sentences.
    """

    handoff: str
    uri: str
    exact: bool
    note: str

    def for_origin(self, origin: str) -> str:
        """``uri`` for a browser at ``origin`` (``scheme://host[:port]``, e.g. the widget's
        ``window.location.origin``); unchanged when it holds no ``{origin}``."""
        return self.uri.replace(ORIGIN, origin.rstrip("/"))


def redirect_rule(
    redirect_uri: str | None,
    *,
    forced: str | None = None,
    env: Mapping[str, str] = os.environ,
    relay_url: str | None = None,
) -> RedirectRule:
    """The redirect URI for ``Orange(redirect_uri=…, handoff=forced or "auto", relay_url=…)``
    in ``env``."""
    try:
        if relay_url is None:
            handoff = choose(redirect_uri, forced=forced, env=env)
        else:
            handoff = choose(redirect_uri, forced=forced, env=env, relay_url=relay_url)
    except ConfigError as exc:
        return RedirectRule("", "", False, str(exc))
    if relay_url is not None:
        return RedirectRule(
            handoff.name,
            relay_url,
            True,
            "The relay page: Orange answers it and it hands the answer on to this kernel. "
            "Register exactly this one, once for every kernel.",
        )
    if isinstance(handoff, ServerHandoff):
        if redirect_uri:
            return RedirectRule(
                "server",
                redirect_uri,
                True,
                "The configured redirect URI, sent as it is: register exactly this one.",
            )
        base = urlsplit(handoff.server_url).path
        return RedirectRule(
            "server",
            f"{ORIGIN}{base}{CALLBACK_ROUTE}",
            False,
            "{origin} is the scheme, host and port your browser uses for this Jupyter server "
            "(as in its address bar): http://localhost:8888 and http://127.0.0.1:8888 are "
            "different redirect URIs to Orange, so register the one you open.",
        )
    if isinstance(handoff, LoopbackHandoff):
        if handoff.port == 0:
            parts = urlsplit(handoff.redirect_uri)
            return RedirectRule(
                "loopback",
                f"{parts.scheme}://{parts.hostname}:PORT{parts.path}",
                False,
                "PORT is a free port chosen at each sign-in: only a provider that accepts any "
                "loopback port takes it. Otherwise register a fixed port and set that URI.",
            )
        return RedirectRule(
            "loopback",
            handoff.redirect_uri,
            True,
            "The browser lands on this kernel's listener on that port; localhost and "
            "127.0.0.1 are different URIs to Orange: register exactly this one.",
        )
    return RedirectRule(
        handoff.name,
        redirect_uri or "",
        True,
        "The browser lands on this page after signing in; paste its address into "
        "`orange.complete_login(url)` or the sign-in box. Register exactly this one.",
    )
