"""The relay: one static page, registered once as the redirect URI, that hands sign-ins back.

Build it with ``python -m orange_nb.relay build --allow 'https://*.mybinder.org' --out site/``
and host ``site/`` anywhere static; sessions set ``Orange.relay_url`` (or
``ORANGE_RELAY_URL``) to its address. ``links`` is what the kernel, the server extension and
the page agree on (the state's shape, the go link); ``patterns`` the allow-list rule;
``page`` the page itself. Self-contained: imports nothing else of ``orange_nb``. See
``docs/relay.md``.
"""

from .links import check_relay_url, go_link, unwrap_state, with_state, wrap_state
from .page import RelayPage, build_page, write_site
from .patterns import OriginPattern, PatternError, allowed, parse_all

__all__ = [
    "OriginPattern",
    "PatternError",
    "RelayPage",
    "allowed",
    "build_page",
    "check_relay_url",
    "go_link",
    "parse_all",
    "unwrap_state",
    "with_state",
    "wrap_state",
    "write_site",
]
