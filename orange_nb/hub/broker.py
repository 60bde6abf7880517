"""The token broker: each hub user's Orange session, refreshed single-flight.

Runs on the service's event loop; provider requests (code exchange, refresh, revocation) go
through ``TokenEndpoint`` in worker threads. Per user: one lock, so any number of kernels
asking at once cost at most one refresh; waiters woken when the user signs in or out.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import LoginError, LoginRequired, NetworkError
from ..oauth.endpoint import TokenEndpoint
from ..oauth.flow import LoginFlow
from ..oauth.secret import Secret
from ..oauth.token import DEFAULT_LEEWAY, Token
from . import FLOW_TTL, fingerprint
from .store import GrantStore, PendingFlow

log = logging.getLogger(__name__)

LEEWAY = DEFAULT_LEEWAY + 5.0
"""The service refreshes a little before a kernel would ask (their clocks are read apart)."""

SIGNED_OUT = "You are not signed in to Orange on this hub. Open the sign-in link."
REVOKED = (
    "Your Orange sign-in on this hub has ended (Orange refused to renew it: revoked or "
    "expired). Open the sign-in link to sign in again."
)


@dataclass
class _User:
    token: Token | None = None
    loaded: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    message: str = SIGNED_OUT
    refreshes: int = 0


class Broker:
    """Sign-ins, tokens and sign-outs of every hub user."""

    def __init__(
        self, store: GrantStore, endpoint: TokenEndpoint, flow_settings: LoginFlowSettings
    ) -> None:
        self.store = store
        self.endpoint = endpoint
        self.flows = flow_settings
        self._users: dict[str, _User] = {}

    def _user(self, name: str) -> _User:
        user = self._users.get(name)
        if user is None:
            user = self._users[name] = _User()
        if not user.loaded:
            user.token, user.loaded = self.store.load(name), True
        return user

    def _set(self, name: str, user: _User, token: Token | None, message: str = SIGNED_OUT) -> None:
        user.token, user.message = token, message
        if token is None:
            self.store.delete(name)
        else:
            self.store.save(name, token)
        user.changed.set()  # wake every waiter, then arm again
        user.changed = asyncio.Event()

    def message(self, name: str) -> str:
        """Why ``name`` is signed out (never signed in, signed out, or revoked)."""
        return self._user(name).message

    def refreshes(self, name: str) -> int:
        """Refresh requests made for ``name`` since the service started."""
        return self._user(name).refreshes

    def peek(self, name: str) -> Token | None:
        """``name``'s token as held (maybe due), without refreshing."""
        return self._user(name).token

    # --- tokens ------------------------------------------------------------------------
    async def current(self, name: str) -> Token | None:
        """``name``'s usable token (refreshed first when due), or ``None`` when signed out."""
        user = self._user(name)
        token = user.token
        if token is None or not token.refresh_due(LEEWAY):
            return token
        return await self._refresh(name, user, token)

    async def refresh(self, name: str, seen: str) -> Token | None:
        """A newer token than the one with fingerprint ``seen``, or ``None`` when signed out.

        Only a ``seen`` that is still the current token causes a refresh: every kernel that
        saw the old one is then answered the new one, so N kernels cost one refresh.
        """
        user = self._user(name)
        token = user.token
        if token is None:
            return None
        if not hmac.compare_digest(fingerprint(token.access_token), seen):
            return await self.current(name)  # someone refreshed already
        return await self._refresh(name, user, token)

    async def _refresh(self, name: str, user: _User, seen: Token) -> Token | None:
        async with user.lock:  # single flight per user
            current = user.token
            if current is not seen:
                return current  # refreshed (or signed out) while we waited
            user.refreshes += 1
            try:
                fresh = await asyncio.to_thread(self.endpoint.refresh, current)
            except LoginRequired:
                log.info("orange_nb hub: Orange refused to refresh %s's grant", name)
                self._set(name, user, None, REVOKED)
                return None
            except (NetworkError, LoginError) as exc:
                if not current.expired:
                    log.warning("orange_nb hub: refresh for %s failed: %s", name, exc)
                    return current  # still usable; the next request tries again
                raise
            self._set(name, user, fresh)  # keeps the refresh token when Orange did not rotate
            return fresh

    async def wait_signed_in(self, name: str, timeout: float) -> Token | None:
        """``name``'s token, waiting up to ``timeout`` s for a sign-in when there is none."""
        deadline = time.monotonic() + timeout
        while True:
            token = await self.current(name)
            left = deadline - time.monotonic()
            if token is not None or left <= 0:
                return token
            try:
                await asyncio.wait_for(self._user(name).changed.wait(), left)
            except asyncio.TimeoutError:
                return None

    # --- signing in and out ------------------------------------------------------------
    def begin(self, name: str, redirect_uri: str) -> str:
        """Start ``name``'s sign-in (replacing any other of theirs): the authorize URL."""
        flow = LoginFlow(
            authorize_endpoint=self.flows.authorize_url,
            client_id=self.endpoint.client_id,
            scopes=self.flows.scopes,
            redirect_uri=redirect_uri,
            issuer=self.flows.issuer,
        )
        self.store.drop_flows(name)
        self.store.add_flow(
            PendingFlow(
                user=name,
                state=Secret(flow.state),
                code_verifier=flow.code_verifier,
                nonce=flow.nonce,
                redirect_uri=redirect_uri,
                scopes=flow.scopes,
                created=time.time(),
            )
        )
        return flow.authorization_url()

    def pending(self, state: str) -> PendingFlow | None:
        """The live sign-in ``state`` belongs to, whoever began it."""
        return self.store.find_flow(state, FLOW_TTL)

    async def finish(self, name: str, pending: PendingFlow, params: Mapping[str, str]) -> Token:
        """Check the callback of ``pending`` (``name``'s) and exchange its code: signed in.

        The sign-in is used up first, so a replayed callback finds nothing.
        """
        if not self.store.take_flow(pending.state.reveal()):
            raise LoginError("This sign-in was already used. Open the sign-in link again.")
        flow = LoginFlow(
            authorize_endpoint=self.flows.authorize_url,
            client_id=self.endpoint.client_id,
            scopes=pending.scopes,
            redirect_uri=pending.redirect_uri,
            issuer=self.flows.issuer,
            state=pending.state.reveal(),
            code_verifier=pending.code_verifier,
            nonce=pending.nonce,
        )
        code = flow.code_from(params)  # state, iss and error checks
        token = await asyncio.to_thread(
            self.endpoint.exchange_code,
            code,
            redirect_uri=pending.redirect_uri,
            code_verifier=pending.code_verifier,
            scopes=pending.scopes,
            nonce=pending.nonce,
        )
        user = self._user(name)
        async with user.lock:
            self._set(name, user, token)
        return token

    async def sign_out(self, name: str) -> bool:
        """Revoke ``name``'s grant at Orange and forget it; whether Orange confirmed."""
        user = self._user(name)
        async with user.lock:
            token = user.token
            self.store.drop_flows(name)
            self._set(name, user, None)
        if token is None:
            return False
        return await asyncio.to_thread(self.endpoint.revoke, token)


@dataclass(frozen=True)
class LoginFlowSettings:
    """What every sign-in's authorize URL is made of."""

    authorize_url: str
    scopes: tuple[str, ...]
    issuer: str | None


def new_key() -> str:
    """A new Fernet key (for ``ORANGE_HUB_KEY``)."""
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode("ascii")
