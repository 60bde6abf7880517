"""``Sandbox``: every piece of the emulator's state, behind one lock.

The handlers run on a tornado loop (Jupyter's, or a thread's); tests poke the same
object from other threads, so every public method takes the lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from typing import Literal

from .clients import DEMO_CLIENT, ISSUER, PASTE_REDIRECT_URI, REDIRECT_RULES, SCOPES, Client
from .data import user_profile
from .errors import OAuthError
from .faults import MAX_QUEUED, Fault
from .idtoken import sign_hs256
from .records import CodeGrant, IssuedToken, Pending, digest
from .settings import Settings

AUTO_CONSENT_ENV = "ORANGE_SANDBOX_AUTO_CONSENT"
ACCESS_PREFIX = "sbx_at_"
REFRESH_PREFIX = "sbx_rt_"
CODE_PREFIX = "sbx_code_"

PENDING_LIFETIME = 900.0  # seconds a person has to get through the sign-in pages
_MAX_PENDING = 10_000  # a bound on memory when someone reloads the authorize URL in a loop
_FORGET_AFTER = 3600.0  # an expired token answers "expired" this long, then "unknown"

BearerStatus = Literal["ok", "invalid", "expired"]


def _new_secret(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)  # 43 url-safe characters: 256 bits


def pkce_s256(verifier: str) -> str:
    """RFC 7636 §4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


class Sandbox:
    """The emulator's state: settings, clients, pending sign-ins, codes, tokens, faults, counters."""

    def __init__(self, settings: Settings | None = None) -> None:
        self._lock = threading.RLock()
        self._defaults = settings or Settings()
        self._init_state()

    def _init_state(self) -> None:
        self._settings = self._defaults
        self._clients: dict[str, Client] = {DEMO_CLIENT.client_id: DEMO_CLIENT}
        self._pending: dict[str, Pending] = {}
        self._codes: dict[str, CodeGrant] = {}
        self._tokens: dict[str, IssuedToken] = {}
        self._grants: dict[str, set[str]] = {}  # grant id → token digests
        self._faults: deque[tuple[Fault, int]] = deque()
        self._calls: dict[str, deque[float]] = {}
        self._counters: Counter[str] = Counter()

    # ---- settings and clients ----------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The current settings (an immutable snapshot)."""
        with self._lock:
            return self._settings

    def configure(self, **changes: object) -> Settings:
        """Change settings by name (see ``Settings``); ``clients=[...]`` registers clients.

        Raises ``ValueError`` for an unknown name or a bad value, changing nothing.
        """
        clients = changes.pop("clients", None)
        parsed = [] if clients is None else _parse_clients(clients)
        with self._lock:
            settings = self._settings.updated(changes)
            self._settings = settings
            for client in parsed:
                self._clients[client.client_id] = client
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
            if len(self._faults) >= MAX_QUEUED:
                raise ValueError(f"at most {MAX_QUEUED} faults may be queued; clear some first")
            self._faults.append((fault, fault.count))
        return fault

    def faults(self) -> list[dict[str, object]]:
        """Queued faults, each with its ``remaining`` count."""
        with self._lock:
            return [{**fault.as_json(), "remaining": left} for fault, left in self._faults]

    def clear_faults(self) -> None:
        """Forget every queued fault."""
        with self._lock:
            self._faults.clear()

    def take_fault(self, endpoint: str, path: str) -> Fault | None:
        """The first queued fault matching this request, counted down (used by the handlers)."""
        with self._lock:
            for index, (fault, left) in enumerate(self._faults):
                if fault.matches(endpoint, path):
                    if left <= 1:
                        del self._faults[index]
                    else:
                        self._faults[index] = (fault, left - 1)
                    self._counters["faults_served"] += 1
                    return fault
        return None

    def count(self, name: str, amount: int = 1) -> None:
        """Add to a counter shown by ``stats()``."""
        with self._lock:
            self._counters[name] += amount

    def stats(self) -> dict[str, object]:
        """Counters since the last reset, plus what is alive now."""
        now = time.time()
        with self._lock:
            c = self._counters
            live = [t for t in self._tokens.values() if not t.revoked and not t.expired(now)]
            return {
                "token_requests": {
                    "authorization_code": c["token.authorization_code"],
                    "refresh_token": c["token.refresh_token"],
                    "other": c["token.other"],
                },
                "token_errors": c["token_errors"],
                "refreshes": c["refreshes"],
                "authorizations": {
                    "requested": c["authorize.requested"],
                    "approved": c["authorize.approved"],
                    "denied": c["authorize.denied"],
                    "refused": c["authorize.refused"],
                },
                "codes_issued": c["codes_issued"],
                "userinfo_calls": c["userinfo_calls"],
                "revocations": c["revocations"],
                "api_calls": c["api_calls"],
                "api_errors": c["api_errors"],
                "rate_limited": c["rate_limited"],
                "reports_created": c["reports_created"],
                "faults_served": c["faults_served"],
                "faults_pending": sum(left for _, left in self._faults),
                "active_tokens": {
                    "access": sum(1 for t in live if t.kind == "access"),
                    "refresh": sum(1 for t in live if t.kind == "refresh"),
                },
            }

    def reset(self) -> None:
        """Back to the defaults: forget clients but the demo one, tokens, faults and counters."""
        with self._lock:
            self._init_state()

    def revoke_all(self) -> int:
        """Revoke every issued token (the next API call answers 401 code 41); returns how many."""
        with self._lock:
            live = [t for t in self._tokens.values() if not t.revoked]
            for token in live:
                token.revoked = True
            return len(live)

    def expire_access_tokens(self) -> int:
        """Make every current access token expired (401 code 42); returns how many."""
        now = time.time()
        with self._lock:
            live = [
                t
                for t in self._tokens.values()
                if t.kind == "access" and not t.revoked and not t.expired(now)
            ]
            for token in live:
                token.expires_at = now - 1
            return len(live)

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
            for key in [
                k for k, p in self._pending.items() if now - p.created_at > PENDING_LIFETIME
            ]:
                del self._pending[key]
            while len(self._pending) >= _MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[pending.id] = pending
        return pending

    def pending(self, pending_id: str) -> Pending | None:
        """A pending authorization that has not expired."""
        with self._lock:
            found = self._pending.get(pending_id)
            if found is None or time.time() - found.created_at > PENDING_LIFETIME:
                return None
            return found

    def sign_in(self, pending_id: str, user: str) -> Pending | None:
        """Record who signed in for a pending authorization."""
        with self._lock:
            found = self.pending(pending_id)
            if found is not None:
                found.user = user
            return found

    def take_pending(self, pending_id: str) -> Pending | None:
        """Remove and return a pending authorization (a decision is made once)."""
        with self._lock:
            found = self.pending(pending_id)
            self._pending.pop(pending_id, None)
            return found

    def issue_code(self, pending: Pending, user: str) -> str:
        """An authorization code for an approved request."""
        code = _new_secret(CODE_PREFIX)
        with self._lock:
            now = time.time()
            for key in [k for k, g in self._codes.items() if g.expires_at + _FORGET_AFTER < now]:
                del self._codes[key]
            self._codes[digest(code)] = CodeGrant(
                client_id=pending.client_id,
                redirect_uri=pending.redirect_uri,
                scopes=pending.scopes,
                user=user,
                nonce=pending.nonce,
                code_challenge=pending.code_challenge,
                expires_at=now + self._settings.code_lifetime,
            )
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
            grant = self._codes.get(digest(code))
            if grant is None:
                raise OAuthError("invalid_grant", "The authorization code is unknown.")
            if grant.client_id != client.client_id:
                raise OAuthError(
                    "invalid_grant", "The authorization code was issued to another client."
                )
            if grant.used:
                # RFC 6749 §4.1.2: a replayed code revokes what it was exchanged for.
                if grant.grant_id is not None:
                    self._revoke_grant(grant.grant_id)
                raise OAuthError(
                    "invalid_grant",
                    "The authorization code was already used; the tokens issued from it are "
                    "now revoked.",
                )
            if now >= grant.expires_at:
                raise OAuthError("invalid_grant", "The authorization code expired.")
            if grant.redirect_uri is not None and redirect_uri != grant.redirect_uri:
                raise OAuthError(
                    "invalid_grant",
                    "redirect_uri does not match the one of the authorization request.",
                )
            _check_pkce(grant.code_challenge, verifier)
            grant.used = True
            grant.grant_id = secrets.token_urlsafe(16)
            self._grants[grant.grant_id] = set()
            self._forget_old(now)
            return self._answer(client, grant.grant_id, grant.user, grant.scopes, grant.nonce, True)

    def refresh(
        self, client: Client, refresh_token: str, scopes: tuple[str, ...] | None
    ) -> dict[str, object]:
        """RFC 6749 §6: new tokens for a refresh token, optionally for fewer scopes."""
        with self._lock:
            now = time.time()
            found = self._tokens.get(digest(refresh_token))
            if found is None or found.kind != "refresh" or found.revoked:
                raise OAuthError("invalid_grant", "The refresh token is unknown or revoked.")
            if found.client_id != client.client_id:
                raise OAuthError("invalid_grant", "The refresh token was issued to another client.")
            if found.expired(now):
                raise OAuthError("invalid_grant", "The refresh token expired.")
            if scopes is not None:
                extra = [s for s in scopes if s not in found.scopes]
                if extra:
                    raise OAuthError(
                        "invalid_scope",
                        f"The refresh token was not granted: {' '.join(extra)[:200]}.",
                    )
            rotate = self._settings.rotate_refresh_tokens
            if rotate:
                found.revoked = True
            self._counters["refreshes"] += 1
            self._forget_old(now)
            answer = self._answer(
                client,
                found.grant_id,
                found.user,
                scopes or found.scopes,
                None,
                issue_refresh=False,
            )
            if rotate:
                # RFC 6749 §6: a new refresh token keeps the scope of the old one.
                answer["refresh_token"] = self._issue(
                    "refresh", client.client_id, found.user, found.scopes, found.grant_id, now
                )
            return answer

    def revoke(self, client: Client, token: str) -> None:
        """RFC 7009: revoke an access or refresh token of ``client`` (a refresh token takes
        its grant's access tokens along); unknown tokens and other clients' are ignored."""
        with self._lock:
            found = self._tokens.get(digest(token))
            if found is None or found.client_id != client.client_id:
                return
            self._counters["revocations"] += 1
            if found.kind == "refresh":
                self._revoke_grant(found.grant_id)
            else:
                found.revoked = True

    def check_bearer(self, token: str) -> tuple[BearerStatus, IssuedToken | None]:
        """Whether an access token is usable: ``ok`` (with its record), ``invalid`` or ``expired``."""
        with self._lock:
            found = self._tokens.get(digest(token))
            if found is None or found.kind != "access" or found.revoked:
                return "invalid", None
            if found.expired(time.time()):
                return "expired", found
            return "ok", found

    def allow_call(self, client_id: str) -> bool:
        """Count an API call against the client's rate limit; False when over the limit."""
        limit = self.settings.rate_limit_per_second
        if limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            window = self._calls.setdefault(client_id, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= limit:
                self._counters["rate_limited"] += 1
                return False
            window.append(now)
            return True

    def next_report_id(self) -> str:
        """A sequential id for a created report."""
        with self._lock:
            self._counters["reports_created"] += 1
            return f"report-{self._counters['reports_created']:06d}"

    # ---- internals -----------------------------------------------------------------

    def _issue(
        self,
        kind: str,
        client_id: str,
        user: str,
        scopes: tuple[str, ...],
        grant_id: str,
        now: float,
    ) -> str:
        lifetime: float | None
        if kind == "access":
            value, lifetime = _new_secret(ACCESS_PREFIX), self._settings.access_token_lifetime
        else:
            value, lifetime = _new_secret(REFRESH_PREFIX), self._settings.refresh_token_lifetime
        key = digest(value)
        expires = None if lifetime is None else now + lifetime
        self._tokens[key] = IssuedToken(kind, client_id, user, scopes, grant_id, expires)
        self._grants.setdefault(grant_id, set()).add(key)
        return value

    def _answer(
        self,
        client: Client,
        grant_id: str,
        user: str,
        scopes: tuple[str, ...],
        nonce: str | None,
        issue_refresh: bool,
    ) -> dict[str, object]:
        now = time.time()
        settings = self._settings
        lifetime = int(settings.access_token_lifetime)
        answer: dict[str, object] = {
            "access_token": self._issue("access", client.client_id, user, scopes, grant_id, now),
            "token_type": "Bearer",
            "expires_in": str(lifetime) if settings.expires_in_as_string else lifetime,
            "scope": " ".join(scopes),
        }
        if issue_refresh:
            answer["refresh_token"] = self._issue(
                "refresh", client.client_id, user, scopes, grant_id, now
            )
        if "openid" in scopes:
            profile = user_profile(user)
            claims: dict[str, object] = {
                "iss": ISSUER,
                "sub": profile["sub"],
                "aud": client.client_id,
                "iat": int(now),
                "exp": int(now) + max(lifetime, 60),
                "name": profile["name"],
            }
            if nonce is not None:
                claims["nonce"] = nonce
            answer["id_token"] = sign_hs256(claims, client.client_secret)
        return answer

    def _revoke_grant(self, grant_id: str) -> None:
        for key in self._grants.get(grant_id, ()):
            token = self._tokens.get(key)
            if token is not None:
                token.revoked = True

    def _forget_old(self, now: float) -> None:
        old = [
            k
            for k, t in self._tokens.items()
            if t.expires_at is not None and t.expires_at + _FORGET_AFTER < now
        ]
        for key in old:
            token = self._tokens.pop(key)
            keys = self._grants.get(token.grant_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._grants[token.grant_id]


def _check_pkce(challenge: str | None, verifier: str | None) -> None:
    if challenge is None:
        if verifier is not None:
            # Without a challenge a verifier proves nothing; accepting it would hide a
            # client bug (or a PKCE downgrade attempt).
            raise OAuthError(
                "invalid_grant",
                "code_verifier sent, but the authorization request carried no code_challenge.",
            )
        return
    if verifier is None:
        raise OAuthError("invalid_grant", "code_verifier is required (PKCE, RFC 7636).")
    if not _valid_verifier(verifier) or not hmac.compare_digest(pkce_s256(verifier), challenge):
        raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge.")


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _valid_verifier(verifier: str) -> bool:
    return 43 <= len(verifier) <= 128 and all(ch in _UNRESERVED for ch in verifier)


def _parse_clients(value: object) -> list[Client]:
    if isinstance(value, Client):
        return [value]
    if not isinstance(value, (list, tuple)):
        raise ValueError("clients must be a list of clients")
    return [item if isinstance(item, Client) else Client.from_json(item) for item in value]
