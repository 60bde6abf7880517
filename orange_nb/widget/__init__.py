"""The sign-in widget (``login.py``) and the words for a session state (``words.py``,
shared with ``%orange status``). ``Orange.login()`` shows ``show_login`` in a notebook."""

from __future__ import annotations

from .login import LoginWidget, show_login

__all__ = ["LoginWidget", "show_login"]
