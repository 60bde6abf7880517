"""The paste handoff: the person copies the URL the browser landed on back into the notebook.

For redirect URIs that cannot reach this kernel (a registered public page, a remote kernel).
Nothing can be waited for: the widget's paste box is handled on the kernel's own thread.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from .._urls import origin_of
from ..errors import ConfigError, LoginError
from ..oauth.flow import Callback, LoginFlow, callback_params
from ..relay.links import go_link
from .base import Handoff

_ANSWER_KEYS = {"code", "error", "state"}


def _origin_and_path(url: str) -> tuple[str, str, int | None, str]:
    try:
        return (*origin_of(url), urlsplit(url.strip()).path or "/")
    except ValueError:  # a broken IPv6 literal or port: refused as "not an address" by the caller
        return "", "", None, ""


class PasteHandoff(Handoff):
    """The person signs in with the full authorize URL and pastes where the browser landed."""

    name = "paste"
    waits_for_paste = True

    def __init__(self, redirect_uri: str, *, relay: bool = False) -> None:
        if not redirect_uri:
            raise ConfigError(
                "The paste handoff needs the redirect URI registered for the application: set "
                "`Orange(redirect_uri=…)` or ORANGE_REDIRECT_URI."
            )
        self.redirect_uri = redirect_uri
        self.relay = relay  # ``redirect_uri`` is a relay page: the link opens it first

    def __repr__(self) -> str:
        return f"PasteHandoff({self.redirect_uri!r})"

    def start(self, flow: LoginFlow) -> str:
        """Return the full authorize URL, with this handoff's redirect URI."""
        flow.redirect_uri = self.redirect_uri
        flow.url = flow.authorization_url(self.redirect_uri)
        if self.relay:  # a state without a target: the relay shows the address to paste
            flow.url = go_link(self.redirect_uri, flow.url)
        return flow.url

    def wait(self, flow: LoginFlow, timeout: float) -> Callback:
        """Cannot wait: always raises ``LoginError`` saying how to finish the sign-in."""
        raise LoginError(
            "This sign-in finishes by hand: open the sign-in link, sign in, then copy the whole "
            "address the browser landed on (starting with http) and pass it to "
            "`orange.complete_login(url)`, or paste it into the sign-in box."
        )

    @staticmethod
    def callback_from_url(flow: LoginFlow, url: str) -> Callback:
        """The callback held by a pasted landed URL, checked against ``flow.redirect_uri``.

        ``state``, PKCE and ``iss`` are checked later, by ``LoginFlow.code_from`` and the
        token exchange. Error messages never repeat the pasted query (it holds the code).
        """
        pasted = url.strip()
        scheme, host, port, path = _origin_and_path(pasted)
        if scheme not in ("http", "https") or not host:
            raise LoginError(
                "That is not the address the browser landed on. Copy the whole URL from the "
                "address bar after signing in (it starts with https:// or http://) and paste it."
            )
        expected = flow.redirect_uri
        if expected is not None and (scheme, host, port, path) != _origin_and_path(expected):
            seen = f"{scheme}://{host}{path}"
            raise LoginError(
                f"That address ({seen[:200]}) is not this login's redirect URI ({expected}): it "
                "belongs to another page or application. Paste the URL the browser landed on "
                "after signing in from this notebook's link."
            )
        params = callback_params(pasted)
        if not _ANSWER_KEYS & set(params):
            raise LoginError(
                "That address holds no sign-in answer (no `code` or `error`). Finish signing in, "
                "then paste the full URL the browser shows afterwards, with everything after `?`."
            )
        if expected is None:
            parts = urlsplit(pasted)
            expected = f"{parts.scheme}://{parts.netloc}{parts.path}"
        return Callback(params, expected)
