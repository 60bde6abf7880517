"""Signing in and out: the ``SignIn`` object a session holds.

One attempt at a time per session, waited for on a background thread. An *attempt* is one way
of getting a token; ``SignIn`` runs any kind the same way (one waiter, one error reported once,
the newest attempt wins, the token adopted only if the session still points where the attempt
began). A kind is a class with the members of :class:`Attempt`:

- ``CodeAttempt`` (here): the authorization-code flow with PKCE through a handoff
  (``server``, ``loopback``, ``paste``; ``handoff.choose()`` is the rule for which).
- Others (a backchannel sign-in, a token service) implement the same five members and are
  started with :meth:`SignIn.start`.

``SignIn`` needs six things of its session, named by :class:`Session`: the keeper, the
wiring, the sign-in settings, the binding (what a token belongs to), the status, and a way to
publish state. ``Orange`` is that session; it delegates its public sign-in methods here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from ..errors import LoginError, OrangeNBError
from ..handoff import choose as choose_handoff
from ..handoff.base import Handoff
from ..hub.kernel import HubAttempt
from ..oauth.flow import Callback, LoginFlow
from ..oauth.token import Token

if TYPE_CHECKING:
    from ..oauth.keeper import TokenKeeper
    from .wiring import Wiring

Binding = tuple[str | None, ...]

_CHANGED = (
    "The session's endpoints or client changed during this sign-in, so it was not finished. "
    "Run the login cell again."
)


@dataclass(frozen=True)
class SignInSettings:
    """The settings a sign-in reads when it begins (a snapshot of the session's)."""

    scopes: tuple[str, ...]
    redirect_uri: str | None = None
    relay_url: str | None = None
    handoff: str = "auto"
    open_browser: bool = True
    login_timeout: float = 600.0
    authorize_params: dict[str, str] = field(default_factory=dict)


class Session(Protocol):
    """What ``SignIn`` needs of the session that holds it."""

    keeper: TokenKeeper
    status: str

    @property
    def wiring(self) -> Wiring:
        """Endpoints, credentials, clients and store of the settings in force."""

    def sign_in_settings(self) -> SignInSettings:
        """The sign-in settings in force now."""

    def binding(self) -> Binding:
        """What a token belongs to now: its client and the endpoints that see it."""

    def publish(self, **state: Any) -> None:
        """Set ``status``, ``user``, ``last_error``, ``login_url`` (in the order given)."""


class Attempt(Protocol):
    """One way of getting a token, run by :class:`SignIn`."""

    name: str  # shown by `%orange status`: "server", "loopback", "paste", …
    url: str  # what a person opens to sign in ("" when there is nothing to open)
    waits_for_paste: bool  # finished only by `complete_login`: no background wait

    def wait(self, timeout: float) -> Token:
        """Block until a token comes; ``TimeoutError`` after ``timeout`` s, ``LoginError``."""

    def close(self) -> None:
        """Release what the attempt holds; safe to call twice."""


class CodeAttempt:
    """The authorization-code flow through a handoff: the code exchanged for a token."""

    def __init__(
        self, flow: LoginFlow, handoff: Handoff, exchange: Callable[[LoginFlow, Callback], Token]
    ) -> None:
        self.flow = flow
        self.handoff = handoff
        self.name = handoff.name
        self.waits_for_paste = handoff.waits_for_paste
        self._exchange = exchange
        self.url = ""

    def start(self) -> None:
        """Prepare the handoff; the link is then ``url``."""
        try:
            self.url = self.flow.url = self.handoff.start(self.flow)
        except BaseException:
            self.handoff.close()
            raise

    def wait(self, timeout: float) -> Token:
        """The handoff's callback, exchanged (for paste, raises saying how to paste)."""
        return self._exchange(self.flow, self.handoff.wait(self.flow, timeout))

    def pasted(self, url: str) -> Callback:
        """The callback in the URL the browser landed on (any handoff's login can be pasted);
        ``LoginError`` for a URL that is not one, leaving the attempt as it was."""
        from ..handoff.paste import PasteHandoff

        return PasteHandoff.callback_from_url(self.flow, url)

    def finish(self, callback: Callback) -> Token:
        """Exchange the code of ``callback``."""
        return self._exchange(self.flow, callback)

    def close(self) -> None:
        """Close the handoff."""
        self.handoff.close()


class _Waiter:
    """The wait for one attempt; ``wait_for_login`` and the widget join it."""

    def __init__(
        self,
        attempt: Attempt,
        binding: Binding,
        scopes: tuple[str, ...],
        again: Callable[[], object] | None = None,
    ) -> None:
        self.attempt = attempt
        self.again = again  # starts the same kind of attempt anew (None: the code flow)
        self.binding = binding  # the session's endpoints and client when the attempt began
        self.scopes = scopes
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.token: Token | None = None
        self.cancelled = False
        self.reported = False  # its error was raised to a caller of wait_for_login


class SignIn:
    """``begin_login`` / ``wait_for_login`` / ``complete_login`` / ``login`` / ``logout``."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lock = threading.RLock()
        self._waiter: _Waiter | None = None
        self.token_scopes: tuple[str, ...] = ()  # asked for when the token was obtained

    # --- what is under way ---------------------------------------------------------------
    @property
    def attempt(self) -> Attempt | None:
        """The latest attempt, finished or not."""
        waiter = self._waiter
        return waiter.attempt if waiter is not None else None

    @property
    def waiting(self) -> bool:
        """Whether an attempt is under way."""
        waiter = self._waiter
        return waiter is not None and not waiter.done.is_set()

    @property
    def handoff_name(self) -> str | None:
        """The kind of the latest attempt (``server``, ``loopback``, ``paste``…), if any."""
        attempt = self.attempt
        return attempt.name if attempt is not None else None

    @property
    def waits_for_paste(self) -> bool:
        """Whether the attempt under way can only be finished by pasting the landed URL."""
        attempt = self.attempt
        return attempt is not None and attempt.waits_for_paste

    def signed_in(self) -> bool:
        """A token is held and the session says signed in."""
        return self._session.keeper.token is not None and self._session.status == "signed_in"

    # --- starting ------------------------------------------------------------------------
    def begin_login(self) -> LoginFlow | HubAttempt:
        """Start an authorization-code login; ``flow.url`` is what a person opens.

        An attempt already under way is cancelled: only the newest link works.
        """
        session = self._session
        settings = session.sign_in_settings()
        wiring = session.wiring
        if wiring.hub is not None:  # a JupyterHub's orange service signs in for every kernel
            hub_attempt = HubAttempt(wiring.hub)
            hub_attempt.start()
            self.start(hub_attempt, settings.scopes)
            return hub_attempt
        client_id, _ = wiring.credentials()
        self.cancel()
        ends = wiring.endpoints
        handoff = choose_handoff(
            settings.redirect_uri,
            forced=None if settings.handoff == "auto" else settings.handoff,
            open_browser=settings.open_browser,
            relay_url=settings.relay_url,
        )
        flow = LoginFlow(
            authorize_endpoint=ends.authorize_url,
            client_id=client_id,
            scopes=settings.scopes,
            redirect_uri=settings.redirect_uri,
            issuer=ends.issuer,
            extra_params=dict(settings.authorize_params),
        )
        attempt = CodeAttempt(flow, handoff, self._exchange_for(session.binding()))
        attempt.start()
        self.start(attempt, settings.scopes)
        return flow

    def start(
        self,
        attempt: Attempt,
        scopes: tuple[str, ...],
        again: Callable[[], object] | None = None,
    ) -> None:
        """Run ``attempt`` (already started) as this session's sign-in, replacing any other.

        ``again`` starts one of the same kind when a wait follows its failure (a sign-in by
        phone asks the phone again, not for a browser link); without it, the code flow.
        """
        self.cancel()
        waiter = _Waiter(attempt, self._session.binding(), scopes, again)
        with self._lock:
            self._waiter = waiter
        self._session.publish(last_error="", login_url=attempt.url, status="waiting")
        if not attempt.waits_for_paste:  # otherwise complete_login finishes it
            threading.Thread(
                target=self._wait_in_background, args=(waiter,), name="orange-login", daemon=True
            ).start()

    def _exchange_for(self, binding: Binding) -> Callable[[LoginFlow, Callback], Token]:
        def exchange(flow: LoginFlow, callback: Callback) -> Token:
            code = flow.code_from(callback.params)  # state, iss and error checks
            if self._session.binding() != binding:  # the code and verifier go where it began
                raise LoginError(_CHANGED)
            endpoint = self._session.wiring.token_endpoint()
            token = endpoint.exchange_code(
                code,
                redirect_uri=callback.redirect_uri,
                code_verifier=flow.code_verifier,
                scopes=flow.scopes,
                nonce=flow.nonce,
            )
            self._session.keeper.endpoint = endpoint
            return token

        return exchange

    # --- finishing -----------------------------------------------------------------------
    def _wait_in_background(self, waiter: _Waiter) -> None:
        try:
            settings = self._session.sign_in_settings()
            token = waiter.attempt.wait(max(settings.login_timeout, 1.0))
            if not waiter.cancelled:
                waiter.token = self._adopt(waiter, token)
        except BaseException as exc:  # kept for wait_for_login and the widget, never lost
            waiter.error = exc
            if not waiter.cancelled:
                self._failed(exc)
        finally:
            waiter.attempt.close()
            waiter.done.set()

    def _adopt(self, waiter: _Waiter, token: Token) -> Token:
        with self._lock:
            if self._waiter is not waiter:
                raise LoginError("This sign-in was replaced by a newer one; use the newest link.")
        if self._session.binding() != waiter.binding:
            raise LoginError(_CHANGED)
        session = self._session
        self.token_scopes = waiter.scopes
        session.publish(user=self.user_of(token))
        session.keeper.set(token)  # the keeper's event publishes status and saves the token
        session.publish(login_url="")
        return token

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, OrangeNBError | TimeoutError):
            message = str(exc)
        else:
            message = f"Sign-in failed ({type(exc).__name__}). Run the login again."
        self._session.publish(last_error=message, login_url="", status="error")

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
            token = self._session.keeper.token
            if token is not None and self.signed_in():
                return token
            if waiter is not None and waiter.again is not None:
                waiter.again()
            else:
                self.begin_login()
            waiter = self._waiter
        assert waiter is not None
        if waiter.attempt.waits_for_paste:
            waiter.attempt.wait(timeout)  # raises, saying how to paste
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
        """Finish a code login with the URL the browser landed on (the paste handoff)."""
        waiter = self._waiter
        attempt = waiter.attempt if waiter is not None else None
        if waiter is None or waiter.done.is_set() or not isinstance(attempt, CodeAttempt):
            raise LoginError(
                "No sign-in is under way in this kernel. Run `orange.login()` (or "
                "`orange.begin_login()`), open the link, then paste the URL you land on."
            )
        callback = attempt.pasted(url)  # a wrong paste leaves the sign-in waiting
        waiter.cancelled = True  # the background wait must not report on this flow any more
        try:
            waiter.token = self._adopt(waiter, attempt.finish(callback))
        except BaseException as exc:
            waiter.error = exc
            self._failed(exc)
            raise
        finally:
            attempt.close()
            waiter.done.set()
        return waiter.token

    def cancel_login(self) -> None:
        """Stop the sign-in under way (a person's choice): the session is as it was before."""
        waiting = self.waiting
        self.cancel()
        if waiting:
            held = self._session.keeper.token is not None
            self._session.publish(
                login_url="", last_error="", status="signed_in" if held else "signed_out"
            )

    def cancel(self) -> None:
        """Cancel the attempt under way, if any (its link stops working)."""
        with self._lock:
            waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done.is_set():
            waiter.cancelled = True
            waiter.attempt.close()

    def login(
        self,
        ui: Callable[[Any], Any] | None,
        wait: bool = False,
        timeout: float | None = None,
        begin: Callable[[], str] | None = None,
    ) -> None:
        """Show ``ui`` (else print what to do) and start signing in, unless signed in.

        ``begin`` starts another kind of attempt than the code flow and says what to do.
        """
        settings = self._session.sign_in_settings()
        if not (self.signed_in() and self.token_scopes == settings.scopes):  # new scopes: again
            if begin is not None:
                what = begin()
            else:
                started = self.begin_login()
                what = f"Open this link to sign in with Orange: {started.url}"
            if ui is None:
                print(what)
        if ui is not None:
            ui(self._session)
        if wait:
            self.wait_for_login(timeout if timeout is not None else settings.login_timeout)

    # --- who, and signing out --------------------------------------------------------------
    def user_of(self, token: Token, *, ask: bool = True) -> str | None:
        """Who signed in: the ID token's name or subject, else (with ``ask``) userinfo's.

        The one rule for a fresh sign-in and a restored session alike; a restored one does
        not ask (no request at start-up), so it names the user only from the ID token.
        """
        claims = dict(token.id_claims or {})
        wiring = self._session.wiring
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

    def restored(self, token: Token, scopes: tuple[str, ...]) -> None:
        """Adopt a token found in the store at start-up (not saved back: it may be older)."""
        self.token_scopes = scopes  # the store is keyed by the scopes
        self._session.publish(user=self.user_of(token, ask=False))
        self._session.keeper.set(token, stored=True)

    def logout(self) -> None:
        """Sign out: revoke where the provider allows, forget the tokens here and in the store."""
        self.cancel()
        session = self._session
        token = session.keeper.token
        wiring = session.wiring
        if token is not None and wiring.authenticates:  # a secret, a key, or the hub's service
            wiring.token_endpoint().revoke(token)
        store = wiring.store()
        if store is not None:
            store.clear()
        session.keeper.set(None)
        session.publish(user=None, login_url="", last_error="", status="signed_out")
