"""orange_nb: sign in with Orange (3-legged OAuth 2.0) from Jupyter; API answers as DataFrames.

Public names: ``Orange``, ``current``, ``LoginError``, ``LoginRequired``, ``OrangeAPIError``.
``%load_ext orange_nb`` registers the ``%orange`` magic. Heavy modules (httpx, pandas,
ipywidgets) load on first use, so importing this package stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .notebook import install_error_display, running_shell
from .oauth.errors import LoginError, LoginRequired, OrangeAPIError, OrangeNBError
from .serverext import _jupyter_server_extension_points as _jupyter_server_extension_points

if TYPE_CHECKING:
    from .session import Orange, current

__version__ = "0.1.0"
__all__ = [
    "LoginError",
    "LoginRequired",
    "Orange",
    "OrangeAPIError",
    "OrangeNBError",
    "current",
    "load_ipython_extension",
]


def _show_login_widget(orange: Any) -> Any:
    from .widget import show_login

    return show_login(orange)


def _session_module() -> Any:
    """The session module, with the widget installed as its login UI (the notebook face's job)."""
    from . import session

    if session.Orange.login_ui is None:
        session.Orange.login_ui = _show_login_widget
    return session


def __getattr__(name: str) -> Any:
    if name in ("Orange", "current"):
        return getattr(_session_module(), name)
    raise AttributeError(f"module 'orange_nb' has no attribute {name!r}")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext orange_nb``: register ``%orange`` / ``%%orange`` and the short error display."""
    from .magics import register

    install_error_display(ipython)
    register(ipython)


install_error_display(running_shell())
