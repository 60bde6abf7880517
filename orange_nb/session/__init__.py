"""The session: ``Orange`` (settings, sign-in, API calls) and the kernel's current one.

``orange.py`` holds the traitlets ``Configurable``; ``signin.py`` the sign-in and sign-out;
``calls.py`` the API calls (URL, retries, decoding, pages) with ``paging.py``, ``retry.py``
and ``frames.py`` (JSON → DataFrame).
"""

from __future__ import annotations

from .orange import Orange, current

__all__ = ["Orange", "current"]
