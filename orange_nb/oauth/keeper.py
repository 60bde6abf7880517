"""Holds a session's token and refreshes it: single flight across threads and asyncio tasks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Protocol

from ..errors import SIGN_IN_AGAIN, TOKEN_SPENT, LoginRequired, NetworkError
from .endpoint import TokenEndpoint
from .token import DEFAULT_LEEWAY, Token

# Events reported to the listener: "token" (set, refreshed or cleared), "stored" (refreshed
# or adopted, and already in the shared store), "refreshing", "expired" (the refresh token
# was refused), "spent" (a single-use token did its one call), "refresh_failed" (network;
# the old token is kept).
Listener = Callable[[str, "Token | None"], None]


class SharedStore(Protocol):
    """A token store other processes may share (``orange_nb.stores.base.TokenStore``)."""

    def load(self) -> Token | None:
        """What the store holds now."""

    def save(self, token: Token) -> None:
        """Replace what the store holds."""

    def clear(self) -> None:
        """Forget what the store holds."""

    def lock(self) -> AbstractContextManager[None]:
        """Exclusive across the processes sharing the store."""


def _same(a: Token | None, b: Token) -> bool:
    """The same token set (``Token.__eq__`` leaves the secrets out)."""
    return a is not None and a.access_token == b.access_token and a.refresh_token == b.refresh_token


def _newer(stored: Token | None, ours: Token) -> Token | None:
    """``stored`` when another kernel put a newer, still usable token set there."""
    if stored is None or _same(stored, ours) or stored.issued_at < ours.issued_at:
        return None
    if stored.expired and stored.refresh_token is None:
        return None
    return stored


class TokenKeeper:
    """The current token, refreshed when :meth:`Token.refresh_due` says so.

    Single flight: when many threads (or asyncio tasks, which go through a worker thread)
    find the token due at once, exactly one refresh request goes out and all of them use
    its result. ``stale`` marks the token a caller saw fail (a 401): a refresh happens only
    if that token is still current, so N simultaneous 401s cost one refresh too.

    ``store`` gives the token store other kernels may share: a refresh then holds its lock,
    adopts a newer token found there instead of refreshing, saves what it gets, and after
    ``invalid_grant`` clears the store only if it still holds the refused token.
    """

    def __init__(
        self,
        endpoint: TokenEndpoint | None = None,
        *,
        leeway: float = DEFAULT_LEEWAY,
        listener: Listener | None = None,
        store: Callable[[], SharedStore | None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.leeway = leeway
        self._listener = listener
        self._store = store
        self._token: Token | None = None
        self._spent = False  # the last token was single-use and a call spent it
        self._lock = threading.Lock()

    @property
    def token(self) -> Token | None:
        """The token held now (maybe due for refresh), or ``None``."""
        return self._token

    def set(self, token: Token | None, *, stored: bool = False) -> None:
        """Replace the token (sign-in, restore from a store with ``stored=True``, sign-out)."""
        with self._lock:
            self._token = token
            self._spent = False
        self._emit("stored" if stored else "token", token)

    def _emit(self, event: str, token: Token | None) -> None:
        if self._listener is not None:
            self._listener(event, token)

    def valid(self) -> Token:
        """A token usable now, refreshing first when it is due. ``LoginRequired`` when there is none."""
        token = self._token
        if token is None:
            raise self._none_held()
        if not token.refresh_due(self.leeway):
            return token
        return self._refresh(token, forced=False)

    def _none_held(self) -> LoginRequired:
        if self._spent:
            return LoginRequired(TOKEN_SPENT + " " + SIGN_IN_AGAIN)
        return LoginRequired("You are not signed in to Orange. " + SIGN_IN_AGAIN)

    def spend(self, token: Token) -> None:
        """A call with single-use ``token`` went through: the API will not take it again, so
        the next call says so instead of sending it (and no refresh is tried: there is none)."""
        with self._lock:
            if self._token is not token:
                return  # already replaced (a new sign-in) or spent by a concurrent call
            self._token, self._spent = None, True
            store = self._store() if self._store is not None else None
            if store is not None and _same(store.load(), token):
                store.clear()
        self._emit("spent", None)

    def after_rejection(self, stale: Token) -> Token:
        """The API rejected ``stale`` as invalid: refresh once unless someone already did."""
        if stale.single_use and stale.refresh_token is None:
            current = self._token
            if current is not None and current is not stale:
                return current  # signed in again meanwhile: the new token is the one to use
            # Spent before this kernel knew (another kernel used it): nothing to refresh.
            self.spend(stale)
            raise self._none_held()
        # A token another kernel stored may predate what made the API reject ours (an
        # expiry or revocation on its side): refresh from it rather than use it as it is.
        return self._refresh(stale, forced=True, adopt=False)

    def refresh_now(self) -> Token:
        """Refresh whatever the current token is (the "Refresh now" button, ``orange.refresh()``)."""
        token = self._token
        if token is None:
            raise self._none_held()
        return self._refresh(token, forced=True)

    def _refresh(self, seen: Token, *, forced: bool, adopt: bool = True) -> Token:
        event = "token"
        with self._lock:
            current = self._token
            if current is None:
                raise self._none_held()
            if current is not seen and not current.refresh_due(self.leeway):
                return current  # another caller refreshed while we waited for the lock
            store = self._store() if self._store is not None else None
            if store is None:
                fresh = self._refresh_from(current, None, forced=forced, adopt=adopt)
            else:
                # Other kernels share the store: one refresh at a time, from the newest token.
                with store.lock():
                    fresh = self._refresh_shared(current, store, forced=forced, adopt=adopt)
                event = "stored"
            if fresh is current:
                return current
            self._token = fresh
        self._emit(event, fresh)
        return fresh

    def _refresh_shared(
        self, current: Token, store: SharedStore, *, forced: bool, adopt: bool
    ) -> Token:
        """Under the store's lock: adopt a newer stored token, else refresh the newest one and
        store the result (its refresh token is the one a rotating server still accepts)."""
        newer = _newer(store.load(), current)
        if newer is not None and adopt and not newer.refresh_due(self.leeway):
            return newer  # another kernel refreshed: its token is ours too
        return self._refresh_from(newer or current, store, forced=forced, adopt=adopt)

    def _refresh_from(
        self, base: Token, store: SharedStore | None, *, forced: bool, adopt: bool
    ) -> Token:
        """Refresh ``base`` (saving the result to ``store``); ``base`` back when it must do."""
        endpoint = self.endpoint
        if endpoint is None or (base.refresh_token is None and not endpoint.brokered):
            if forced or base.expired:
                self._expire(base, store)
                raise LoginRequired(
                    "Your Orange session has expired and cannot be refreshed. " + SIGN_IN_AGAIN
                )
            return base  # due soon but still valid: use what is left of it
        try:
            fresh = self._ask(endpoint, base, forced=forced)
        except LoginRequired:
            # invalid_grant: a kernel that does not lock may have rotated it. Retry once
            # from what the store holds now; forget the store only if it holds what failed.
            again = _newer(store.load(), base) if store is not None else None
            if again is None or again.refresh_token is None:
                self._expire(base, store)
                raise
            if adopt and not again.refresh_due(self.leeway):
                return again
            base = again
            try:
                fresh = self._ask(endpoint, base, forced=forced)
            except LoginRequired:
                self._expire(base, store)
                raise
        if store is not None and fresh is not base:
            store.save(fresh)
        return fresh

    def _ask(self, endpoint: TokenEndpoint, base: Token, *, forced: bool) -> Token:
        """One refresh request; on a network failure ``base`` itself while it still works."""
        self._emit("refreshing", base)
        try:
            return endpoint.refresh(base)
        except NetworkError:
            self._emit("refresh_failed", base)
            if forced or base.expired:
                raise
            return base  # the token still works for a while; the next call retries

    def _expire(self, failed: Token, store: SharedStore | None) -> None:
        """Sign out after ``failed`` was refused; the store is cleared only if it still holds it."""
        if store is not None and _same(store.load(), failed):
            store.clear()
        self._token = None
        self._emit("expired", None)

    async def avalid(self) -> Token:
        """:meth:`valid` for asyncio: the refresh, when due, runs in a worker thread."""
        token = self._token
        if token is not None and not token.refresh_due(self.leeway):
            return token
        return await asyncio.to_thread(self.valid)

    async def aafter_rejection(self, stale: Token) -> Token:
        """:meth:`after_rejection` for asyncio."""
        return await asyncio.to_thread(self.after_rejection, stale)
