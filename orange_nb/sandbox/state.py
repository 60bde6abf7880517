"""``Sandbox``: the emulator's state, one part per concern, behind one lock.

The parts (``Grants``, ``Tokens``, ``FaultQueue``, ``RateLimiter``) are plain objects;
the handlers run on a tornado loop (Jupyter's, or a thread's) and tests poke the same
object from other threads, so every public method here takes the lock and delegates.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterable

from . import jwtauth
from .ciba import BackchannelMixin
from .clients import DEMO_CLIENT, PASTE_REDIRECT_URI, REDIRECT_RULES, SCOPES, Client, parse_clients
from .faults import Fault, FaultQueue
from .grants import Grants
from .limits import RateLimiter
from .records import IssuedToken, Pending
from .settings import Settings
from .stats import report
from .tokens import BearerStatus, Tokens

AUTO_CONSENT_ENV = "ORANGE_SANDBOX_AUTO_CONSENT"


class Sandbox(BackchannelMixin):
    """The emulator's state: settings, clients, pending sign-ins, codes, tokens, faults, counters
    (and, from ``BackchannelMixin``, CIBA requests, client JWK sets, spent tokens)."""

    def __init__(self, settings: Settings | None = None, *, demo: Client = DEMO_CLIENT) -> None:
        self._lock = threading.RLock()
        self._defaults = settings or Settings()
        self._demo = demo  # the demo client as configured (kept by reset())
        self._init_state()

    def _init_state(self) -> None:
        self._settings = self._defaults
        self._clients: dict[str, Client] = {self._demo.client_id: self._demo}
        self._grants = Grants()
        self._tokens = Tokens()
        self._faults = FaultQueue()
        self._limiter = RateLimiter()
        self._counters: Counter[str] = Counter()
        self._init_backchannel()

    # ---- settings and clients ----------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings (an immutable snapshot)."""
        with self._lock:
            return self._settings

    def configure(self, **changes: object) -> Settings:
        """Change settings by name (see ``Settings``); ``clients=[...]`` registers clients,
        ``jwks={"keys": [...]}`` a client's public keys (``private_key_jwt``).

        Raises ``ValueError`` for an unknown name or a bad value, changing nothing.
        """
        clients = changes.pop("clients", None)
        jwks = changes.pop("jwks", None)
        parsed = [] if clients is None else parse_clients(clients)
        if jwks is not None:
            jwtauth.parse_jwks(jwks)  # checked before anything changes
        with self._lock:
            settings = self._settings.updated(changes)
            self._settings = settings
            for client in parsed:
                self._clients[client.client_id] = client
            if jwks is not None:
                self.register_jwks(jwks)
            return settings

    def add_client(
        self,
        client_id: str,
        client_secret: str,
        *,
        redirect_uris: Iterable[str] = (PASTE_REDIRECT_URI,),
        redirect_rules: Iterable[str] = REDIRECT_RULES,
        scopes: Iterable[str] = tuple(SCOPES),
    ) -> Client:
        """Register (or replace) a client; by default it accepts the demo client's redirects."""
        client = Client.make(
            client_id,
            client_secret,
            redirect_uris=redirect_uris,
            redirect_rules=redirect_rules,
            scopes=scopes,
        )
        with self._lock:
            self._clients[client.client_id] = client
        return client

    def client(self, client_id: str) -> Client | None:
        """The registered client ``client_id``, if any."""
        with self._lock:
            return self._clients.get(client_id)

    def clients(self) -> list[Client]:
        """Every registered client."""
        with self._lock:
            return list(self._clients.values())

    def auto_consent_user(self) -> str | None:
        """Who the authorize endpoint signs in without pages: the setting, else the environment."""
        user = self.settings.auto_consent
        if user:
            return user
        from_env = os.environ.get(AUTO_CONSENT_ENV, "").strip()
        return from_env[:64] or None

    # ---- faults and counters -----------------------------------------------------

    def add_fault(self, fault: Fault | None = None, **fields: object) -> Fault:
        """Queue a scripted fault (a ``Fault``, or its fields by name); ``ValueError`` if bad."""
        if fault is None:
            fault = Fault.from_json(fields)
        elif fields:
            raise TypeError("give a Fault or its fields, not both")
        with self._lock:
            self._faults.add(fault)
        return fault

    def faults(self) -> list[dict[str, object]]:
        """Queued faults, each with its ``remaining`` count."""
        with self._lock:
            return self._faults.listing()

    def clear_faults(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._faults.clear()

    def take_fault(self, endpoint: str, path: str) -> Fault | None:
        """The first queued fault matching this request, counted down (used by the handlers)."""
        with self._lock:
            fault = self._faults.take(endpoint, path)
            if fault is not None:
                self._counters["faults_served"] += 1
            return fault

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter shown by ``stats()``."""
        with self._lock:
            self._counters[name] += amount

    def stats(self) -> dict[str, object]:
        """Counters since the last reset, plus what is alive now."""
        now = time.time()
        with self._lock:
            return report(
                self._counters,
                faults_pending=self._faults.remaining(),
                active_tokens=self._tokens.active(now),
            )

    def reset(self) -> None:
        """Back to the defaults: forget clients but the demo one, tokens, faults and counters."""
        with self._lock:
            self._init_state()

    def revoke_all(self) -> int:
        """Revoke every issued token (the next API call answers 401 code 41); returns how many."""
        with self._lock:
            return self._tokens.revoke_all()

    def expire_access_tokens(self) -> int:
        """Make every current access token expired (401 code 42); returns how many."""
        now = time.time()
        with self._lock:
            return self._tokens.expire_access(now)

    # ---- authorization (used by the handlers) ---------------------------------------

    def begin_authorization(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        state: str,
        nonce: str | None,
        code_challenge: str | None,
        login_hint: str | None,
    ) -> Pending:
        """Remember a validated authorization request until the person decides."""
        now = time.time()
        pending = Pending(
            secrets.token_urlsafe(32),
            client_id,
            redirect_uri,
            scopes,
            state,
            nonce,
            code_challenge,
            login_hint,
            now,
        )
        with self._lock:
            self._counters["authorize.requested"] += 1
            self._grants.add_pending(pending, now)
        return pending

    def pending(self, pending_id: str) -> Pending | None:
        """A pending authorization that has not expired."""
        with self._lock:
            return self._grants.pending(pending_id, time.time())

    def sign_in(self, pending_id: str, user: str) -> Pending | None:
        """Record who signed in for a pending authorization."""
        with self._lock:
            found = self._grants.pending(pending_id, time.time())
            if found is not None:
                found.user = user
            return found

    def take_pending(self, pending_id: str) -> Pending | None:
        """Remove and return a pending authorization (a decision is made once)."""
        with self._lock:
            return self._grants.take_pending(pending_id, time.time())

    def issue_code(self, pending: Pending, user: str) -> str:
        """An authorization code for an approved request."""
        with self._lock:
            code = self._grants.issue_code(pending, user, self._settings.code_lifetime, time.time())
            self._counters["codes_issued"] += 1
            self._counters["authorize.approved"] += 1
        return code

    # ---- tokens (used by the handlers) -----------------------------------------------

    def exchange_code(
        self, client: Client, code: str, redirect_uri: str | None, verifier: str | None
    ) -> dict[str, object]:
        """RFC 6749 §4.1.3: tokens for a code; ``OAuthError`` (invalid_grant) when refused."""
        with self._lock:
            now = time.time()
            grant, family = self._grants.redeem(
                client.client_id, code, redirect_uri, verifier, now, self._tokens.revoke_family
            )
            return self._tokens.grant(client, grant, family, self._settings, now)

    def refresh(
        self, client: Client, refresh_token: str, scopes: tuple[str, ...] | None
    ) -> dict[str, object]:
        """RFC 6749 §6: new tokens for a refresh token, optionally for fewer scopes."""
        with self._lock:
            answer = self._tokens.refresh(
                client, refresh_token, scopes, self._settings, time.time()
            )
            self._counters["refreshes"] += 1
            return answer

    def revoke(self, client: Client, token: str) -> None:
        """RFC 7009: revoke an access or refresh token of ``client`` (a refresh token takes
        its grant's access tokens along); unknown tokens and other clients' are ignored."""
        with self._lock:
            if self._tokens.revoke(client.client_id, token):
                self._counters["revocations"] += 1

    def check_bearer(self, token: str) -> tuple[BearerStatus, IssuedToken | None]:
        """Whether an access token is usable: ``ok`` (with its record), ``invalid`` or ``expired``."""
        with self._lock:
            return self._tokens.check_bearer(token, time.time())

    def allow_call(self, client_id: str) -> bool:
        """Count an API call against the client's rate limit; False when over the limit."""
        limit = self.settings.rate_limit_per_second
        if limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            if self._limiter.allow(client_id, limit, now):
                return True
            self._counters["rate_limited"] += 1
            return False

    def rate_headers(self, client_id: str) -> dict[str, str]:
        """The rate-limit headers for an answer to ``client_id`` (none when unlimited)."""
        limit = self.settings.rate_limit_per_second
        if limit is None:
            return {}
        with self._lock:
            return self._limiter.headers(client_id, limit, time.monotonic())

    def next_report_id(self) -> str:
        """A sequential id for a created report."""
        with self._lock:
            self._counters["reports_created"] += 1
            return f"report-{self._counters['reports_created']:06d}"
