"""Signing in and out: one login at a time per session, waited for on a background thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
from traitlets.utils.importstring import import_item

from .._ipython import running_shell
from ..errors import LoginError, OrangeNBError
from ..handoff import choose as choose_handoff
from ..handoff.base import Handoff
from ..oauth.flow import Callback, LoginFlow
from ..oauth.token import Token

if TYPE_CHECKING:
    from ..oauth.keeper import TokenKeeper
    from .wiring import Wiring


class _Waiter:
    """The wait for one login flow; ``wait_for_login`` and the widget join it."""

    def __init__(
        self, flow: LoginFlow, handoff: Handoff, binding: tuple[str | None, ...] = ()
    ) -> None:
        self.flow = flow
        self.handoff = handoff
        self.binding = binding  # the session's endpoints and client when the login began
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.token: Token | None = None
        self.cancelled = False
        self.reported = False  # its error was raised to a caller of wait_for_login


class LoginMixin:
    """``begin_login`` / ``wait_for_login`` / ``complete_login`` / ``login`` / ``logout``."""

    if TYPE_CHECKING:
        login_ui: str  # a setting: the dotted name of the callable that shows the sign-in
        keeper: TokenKeeper
        redirect_uri: str | None
        handoff: str
        open_browser: bool
        login_timeout: float
        authorize_params: dict[str, Any]
        status: str
        user: str | None
        last_error: str
        login_url: str
        _lock: threading.RLock
        _waiter: _Waiter | None
        _token_scopes: tuple[str, ...]  # the scopes asked for when the token was obtained

        # Endpoints, credentials, token endpoint, plain client and store: all the wiring's.
        @property
        def wiring(self) -> Wiring: ...

        @property
        def scope_list(self) -> tuple[str, ...]: ...

        def _binding(self) -> tuple[str | None, ...]: ...

    def begin_login(self) -> LoginFlow:
        """Start a login; ``flow.url`` is what a person opens to sign in.

        A login already under way is cancelled: only the newest link works.
        """
        wiring = self.wiring
        client_id, _ = wiring.credentials()
        self._cancel_login()
        ends = wiring.endpoints
        handoff = choose_handoff(
            self.redirect_uri,
            forced=None if self.handoff == "auto" else self.handoff,
            open_browser=self.open_browser,
        )
        flow = LoginFlow(
            authorize_endpoint=ends.authorize_url,
            client_id=client_id,
            scopes=self.scope_list,
            redirect_uri=self.redirect_uri,
            issuer=ends.issuer,
            extra_params={str(k): str(v) for k, v in self.authorize_params.items()},
        )
        try:
            flow.url = handoff.start(flow)
        except BaseException:
            handoff.close()
            raise
        waiter = _Waiter(flow, handoff, self._binding())
        with self._lock:
            self._waiter = waiter
        self.last_error = ""
        self.login_url = flow.url
        self.status = "waiting"
        if not handoff.waits_for_paste:  # otherwise complete_login finishes it
            threading.Thread(
                target=self._wait_in_background, args=(waiter,), name="orange-login", daemon=True
            ).start()
        return flow

    @property
    def handoff_name(self) -> str | None:
        """The handoff of the latest login (``server``, ``loopback``, ``paste``), if any."""
        waiter = self._waiter
        return waiter.handoff.name if waiter is not None else None

    @property
    def waits_for_paste(self) -> bool:
        """Whether the login under way can only be finished by pasting the landed URL."""
        waiter = self._waiter
        return waiter is not None and waiter.handoff.waits_for_paste

    def _wait_in_background(self, waiter: _Waiter) -> None:
        try:
            callback = waiter.handoff.wait(waiter.flow, max(self.login_timeout, 1.0))
            if not waiter.cancelled:
                waiter.token = self._finish_login(waiter, callback)
        except BaseException as exc:  # kept for wait_for_login and the widget, never lost
            waiter.error = exc
            if not waiter.cancelled:
                self._login_failed(exc)
        finally:
            waiter.handoff.close()
            waiter.done.set()

    def wait_for_login(self, timeout: float = 120) -> Token:
        """Block until signed in, starting a login when none is under way.

        ``TimeoutError`` when nobody signs in within ``timeout`` seconds (the link stays
        usable); ``LoginError`` when the sign-in failed. Works while a cell runs: the wait is
        plain HTTP or a socket, never a widget message.
        """
        waiter = self._waiter
        unreported = waiter is not None and waiter.done.is_set() and not waiter.reported
        if unreported and waiter is not None and waiter.error is not None:
            waiter.reported = True  # a sign-in that failed before anyone waited still counts
            raise waiter.error
        if waiter is None or (waiter.done.is_set() and waiter.error is not None):
            if self.keeper.token is not None and self.status == "signed_in":
                return self.keeper.token
            self.begin_login()
            waiter = self._waiter
        assert waiter is not None
        if waiter.handoff.waits_for_paste:
            waiter.handoff.wait(waiter.flow, timeout)  # raises, saying how to paste
        if not waiter.done.wait(timeout):
            raise TimeoutError(
                f"Nobody signed in within {timeout:g} s. The sign-in link stays valid: open "
                "it, sign in, then run this cell again."
            )
        if waiter.error is not None:
            waiter.reported = True
            raise waiter.error
        assert waiter.token is not None
        return waiter.token

    def complete_login(self, url: str) -> Token:
        """Finish a login with the URL the browser landed on (the paste handoff)."""
        waiter = self._waiter
        if waiter is None or waiter.done.is_set():
            raise LoginError(
                "No sign-in is under way in this kernel. Run `orange.login()` (or "
                "`orange.begin_login()`), open the link, then paste the URL you land on."
            )
        from ..handoff.paste import PasteHandoff

        # Any handoff's login can be finished by pasting (a browser on another machine).
        callback = PasteHandoff.callback_from_url(waiter.flow, url)
        waiter.cancelled = True  # the background wait must not report on this flow any more
        try:
            waiter.token = self._finish_login(waiter, callback)
        except BaseException as exc:
            waiter.error = exc
            self._login_failed(exc)
            raise
        finally:
            waiter.handoff.close()
            waiter.done.set()
        return waiter.token

    def _finish_login(self, waiter: _Waiter, callback: Callback) -> Token:
        flow = waiter.flow
        code = flow.code_from(callback.params)  # state, iss and error checks
        if self._binding() != waiter.binding:  # the code and verifier go where the flow began
            raise LoginError(
                "The session's endpoints or client changed during this sign-in, so it was not "
                "finished. Run the login cell again."
            )
        endpoint = self.wiring.token_endpoint()
        token = endpoint.exchange_code(
            code,
            redirect_uri=callback.redirect_uri,
            code_verifier=flow.code_verifier,
            scopes=flow.scopes,
            nonce=flow.nonce,
        )
        with self._lock:
            if self._waiter is not waiter:
                raise LoginError("This sign-in was replaced by a newer one; use the newest link.")
        self.keeper.endpoint = endpoint
        self._token_scopes = flow.scopes
        self.user = self._user_of(token)
        self.keeper.set(token)
        self.login_url = ""
        return token

    def _login_failed(self, exc: BaseException) -> None:
        if isinstance(exc, OrangeNBError | TimeoutError):
            self.last_error = str(exc)
        else:
            self.last_error = f"Sign-in failed ({type(exc).__name__}). Run the login again."
        self.login_url = ""
        self.status = "error"

    def _cancel_login(self) -> None:
        with self._lock:
            waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done.is_set():
            waiter.cancelled = True
            waiter.handoff.close()

    def login(self, wait: bool = False, timeout: float | None = None) -> None:
        """Show the sign-in widget (in a notebook) and start signing in, unless signed in.

        With ``wait=True`` the cell blocks until signed in, so "Run All" works.
        """
        ui = self._login_ui()
        signed_in = self.keeper.token is not None and self.status == "signed_in"
        if not (signed_in and self._token_scopes == self.scope_list):  # new scopes: sign in again
            flow = self.begin_login()
            if ui is None:
                print(f"Open this link to sign in with Orange: {flow.url}")
        if ui is not None:
            ui(self)
        if wait:
            self.wait_for_login(timeout if timeout is not None else self.login_timeout)

    def _login_ui(self) -> Callable[[Any], Any] | None:
        # Named, not imported: the widget sits above the session. Outside IPython (or with
        # `login_ui = ""`) the link is printed instead.
        if not self.login_ui or running_shell() is None:
            return None
        ui: Callable[[Any], Any] = import_item(self.login_ui)
        return ui

    def _user_of(self, token: Token, *, ask: bool = True) -> str | None:
        """Who signed in: the ID token's name or subject, else (with ``ask``) userinfo's.

        The one rule for a fresh sign-in and a restored session alike; a restored one does
        not ask (no request at start-up), so it names the user only from the ID token.
        """
        claims = dict(token.id_claims or {})
        wiring = self.wiring
        userinfo = wiring.endpoints.userinfo_url
        if ask and not claims and "openid" in token.scopes and userinfo:
            try:
                response = wiring.plain.get(
                    userinfo,
                    headers={
                        "Authorization": f"Bearer {token.access_token.reveal()}",
                        "Accept": "application/json",
                    },
                )
                body = response.json() if response.is_success else None
                claims = body if isinstance(body, dict) else {}
            except (httpx.HTTPError, ValueError):
                claims = {}  # the widget then shows no name; the session works all the same
        name = claims.get("name") or claims.get("preferred_username") or claims.get("sub")
        return str(name) if name else None

    def logout(self) -> None:
        """Sign out: revoke where the provider allows, forget the tokens here and in the store."""
        self._cancel_login()
        token = self.keeper.token
        wiring = self.wiring
        if token is not None and wiring.settings.client_id and wiring.settings.client_secret:
            wiring.token_endpoint().revoke(token)
        store = wiring.store()
        if store is not None:
            store.clear()
        self.keeper.set(None)
        self.user = None
        self.login_url = ""
        self.last_error = ""
        self.status = "signed_out"
