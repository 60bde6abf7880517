"""orange_nb: sign in with Orange (3-legged OAuth 2.0) from Jupyter; API answers as DataFrames.

Public names: ``Orange``, ``current``, ``load_ipython_extension`` and every error (their
hierarchy is drawn in ``orange_nb.errors``). ``%load_ext orange_nb`` registers the
``%orange`` magic. Heavy modules (httpx, pandas, ipywidgets) load on first use, so importing
this package stays fast, and importing it changes nothing in a running IPython.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._ipython import install_error_display
from .errors import (
    ConfigError,
    ForeignPageError,
    LoginCancelled,
    LoginDenied,
    LoginError,
    LoginExpired,
    LoginRequired,
    NestingError,
    NetworkError,
    OrangeAPIError,
    OrangeNBError,
    PrivateKeyError,
    RecordsPathError,
    SecretNotPicklable,
    TokenSentElsewhere,
    TokenStoreBusy,
    UsageError,
)
from .serverext import _jupyter_server_extension_points as _jupyter_server_extension_points

if TYPE_CHECKING:
    from .session.orange import Orange, current

__version__ = "0.1.0"
__all__ = [
    "ConfigError",
    "ForeignPageError",
    "LoginCancelled",
    "LoginDenied",
    "LoginError",
    "LoginExpired",
    "LoginRequired",
    "NestingError",
    "NetworkError",
    "Orange",
    "OrangeAPIError",
    "OrangeNBError",
    "PrivateKeyError",
    "RecordsPathError",
    "SecretNotPicklable",
    "TokenSentElsewhere",
    "TokenStoreBusy",
    "UsageError",
    "current",
    "load_ipython_extension",
]


def __getattr__(name: str) -> Any:
    # Lazy: `import orange_nb` (every kernel with the extension) must not load httpx.
    if name in ("Orange", "current"):
        from .session import orange

        return getattr(orange, name)
    raise AttributeError(f"module 'orange_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext orange_nb``: register ``%orange`` / ``%%orange`` and the short error display."""
    from .magic.magics import register

    install_error_display(ipython)
    register(ipython)
