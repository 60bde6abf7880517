"""The one interface every handoff implements: how the browser's callback reaches the kernel."""

from __future__ import annotations

import abc
from typing import ClassVar

from ..oauth.flow import Callback, LoginFlow


class Handoff(abc.ABC):
    """Carries the authorization response from the browser to this kernel.

    ``start`` prepares the handoff for ``flow`` and returns the link a person opens (it may be
    path-only: the server handoff's link is on the host the browser already uses). ``wait``
    blocks, over plain HTTP or sockets and never through comm messages, until the browser
    lands or ``timeout`` seconds pass (``TimeoutError``). ``close`` frees what ``start`` took.
    """

    name: ClassVar[str]
    waits_for_paste: ClassVar[bool] = False
    """True when the browser's answer can only come back pasted (``complete_login``): the
    session then starts no background wait, and the widget shows a paste box."""

    @abc.abstractmethod
    def start(self, flow: LoginFlow) -> str:
        """Prepare for ``flow``; return the sign-in link."""

    @abc.abstractmethod
    def wait(self, flow: LoginFlow, timeout: float) -> Callback:
        """Block until the callback for ``flow`` arrives; ``TimeoutError`` after ``timeout`` s."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release sockets or server-side state; safe to call twice."""
