"""Holds a session's token and refreshes it: single flight across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from .endpoint import TokenEndpoint
from .errors import SIGN_IN_AGAIN, LoginRequired, NetworkError
from .token import DEFAULT_LEEWAY, Token

# Events reported to the listener: "token" (set, refreshed or cleared), "refreshing",
# "expired" (the refresh token was refused), "refresh_failed" (network; the old token is kept).
Listener = Callable[[str, "Token | None"], None]


class TokenKeeper:
    """The current token, refreshed when :meth:`Token.refresh_due` says so.

    Single flight: when many threads (or asyncio tasks, which go through a worker thread)
    find the token due at once, exactly one refresh request goes out and all of them use
    its result. ``stale`` marks the token a caller saw fail (a 401): a refresh happens only
    if that token is still current, so N simultaneous 401s cost one refresh too.
    """

    def __init__(
        self,
        endpoint: TokenEndpoint | None = None,
        *,
        leeway: float = DEFAULT_LEEWAY,
        listener: Listener | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.leeway = leeway
        self._listener = listener
        self._token: Token | None = None
        self._lock = threading.Lock()

    @property
    def token(self) -> Token | None:
        """The token held now (maybe due for refresh), or ``None``."""
        return self._token

    def set(self, token: Token | None) -> None:
        """Replace the token (sign-in, restore from a store, sign-out)."""
        with self._lock:
            self._token = token
        self._emit("token", token)

    def _emit(self, event: str, token: Token | None) -> None:
        if self._listener is not None:
            self._listener(event, token)

    def valid(self) -> Token:
        """A token usable now, refreshing first when it is due. ``LoginRequired`` when there is none."""
        token = self._token
        if token is None:
            raise LoginRequired("You are not signed in to Orange. " + SIGN_IN_AGAIN)
        if not token.refresh_due(self.leeway):
            return token
        return self._refresh(token, forced=False)

    def after_rejection(self, stale: Token) -> Token:
        """The API rejected ``stale`` as invalid: refresh once unless someone already did."""
        return self._refresh(stale, forced=True)

    def refresh_now(self) -> Token:
        """Refresh whatever the current token is (the "Refresh now" button, ``orange.refresh()``)."""
        token = self._token
        if token is None:
            raise LoginRequired("You are not signed in to Orange. " + SIGN_IN_AGAIN)
        return self._refresh(token, forced=True)

    def _refresh(self, seen: Token, *, forced: bool) -> Token:
        with self._lock:
            current = self._token
            if current is None:
                raise LoginRequired("You are not signed in to Orange. " + SIGN_IN_AGAIN)
            if current is not seen and not current.refresh_due(self.leeway):
                return current  # another caller refreshed while we waited for the lock
            if self.endpoint is None or current.refresh_token is None:
                if forced or current.expired:
                    self._token = None
                    self._emit("expired", None)
                    raise LoginRequired(
                        "Your Orange session has expired and cannot be refreshed. " + SIGN_IN_AGAIN
                    )
                return current  # due soon but still valid: use what is left of it
            self._emit("refreshing", current)
            try:
                fresh = self.endpoint.refresh(current)
            except LoginRequired:
                self._token = None
                self._emit("expired", None)
                raise
            except NetworkError:
                self._emit("refresh_failed", current)
                if forced or current.expired:
                    raise
                return current  # the token still works for a while; the next call retries
            self._token = fresh
        self._emit("token", fresh)
        return fresh

    async def avalid(self) -> Token:
        """:meth:`valid` for asyncio: the refresh, when due, runs in a worker thread."""
        token = self._token
        if token is not None and not token.refresh_due(self.leeway):
            return token
        return await asyncio.to_thread(self.valid)

    async def aafter_rejection(self, stale: Token) -> Token:
        """:meth:`after_rejection` for asyncio."""
        return await asyncio.to_thread(self.after_rejection, stale)
