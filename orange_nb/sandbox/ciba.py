"""CIBA (poll mode) on the sandbox's side, and the client JWK sets of ``private_key_jwt``.

A backchannel request waits for the person's decision: the consent control approves it at
once (``auto_consent`` or ``ORANGE_SANDBOX_AUTO_CONSENT``), or the control API decides it
(``POST R/_sandbox/ciba/{auth_req_id or id}`` with ``{"decision": "approve" | "deny"}``;
``GET R/_sandbox/ciba`` lists the pending ones, without their auth_req_id), or the person on
the "phone" page ``R/_sandbox/phone/{number}``. The client polls
the token endpoint with ``grant_type=urn:openid:params:grant-type:ciba``: a poll sooner than
``interval`` answers ``slow_down`` and adds 5 s to it (CIBA §11).

``BackchannelMixin`` gives ``Sandbox`` these methods; they take the sandbox's lock.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import jwtauth
from .clients import DEMO_CLIENT_ID, Client
from .errors import OAuthError
from .records import CodeGrant, digest, new_secret

if TYPE_CHECKING:
    from .grants import Grants
    from .settings import Settings
    from .tokens import Tokens

GRANT_TYPE = "urn:openid:params:grant-type:ciba"
AUTH_REQ_PREFIX = "sbx_ar_"
E164_HINT = re.compile(r"tel:\+[1-9][0-9]{5,14}")
MAX_EXPIRY = 600.0
SLOW_DOWN_STEP = 5.0
_MAX_REQUESTS = 10_000


@dataclass(repr=False)
class BackchannelRequest:
    """A backchannel authentication request (remembered under its auth_req_id's hash)."""

    id: str  # a public handle for the control API's listing
    client_id: str
    scopes: tuple[str, ...]
    login_hint: str
    binding_message: str | None
    created_at: float
    expires_at: float
    interval: float
    last_poll: float
    decision: str = "pending"  # "approved", "denied", "issued"

    def view(self, now: float) -> dict[str, object]:
        """What the control API lists (never the auth_req_id)."""
        return {
            "id": self.id,
            "client_id": self.client_id,
            "login_hint": self.login_hint,
            "binding_message": self.binding_message,
            "scopes": list(self.scopes),
            "decision": self.decision,
            "expires_in": max(0, round(self.expires_at - now)),
        }


def public_id(auth_req_id: str) -> str:
    """A request's public handle: the control API's and its phone page's. Derived from the
    auth_req_id (16 hex digits of its hash) so a client can link to its request's page
    without holding the number or revealing the auth_req_id."""
    return digest(auth_req_id)[:16]


class BackchannelMixin:
    """Backchannel requests, client JWK sets and used assertion ids, for ``Sandbox``."""

    _lock: threading.RLock
    _settings: Settings
    _tokens: Tokens
    _grants: Grants

    def _init_backchannel(self) -> None:
        self._backchannel: dict[str, BackchannelRequest] = {}
        self._jwks: dict[str, list[dict[str, object]]] = {}
        self._jtis: dict[str, float] = {}
        self._spent: set[str] = set()

    if TYPE_CHECKING:  # Sandbox's own

        def auto_consent_user(self) -> str | None: ...
        def count(self, name: str, amount: int = 1) -> None: ...

    def now(self) -> float:
        """The sandbox's clock: the real one plus the ``clock_offset`` setting."""
        return time.time() + self._settings.clock_offset

    # ---- private_key_jwt ---------------------------------------------------------------

    def register_jwks(self, value: object) -> str:
        """Register a client's public JWK set (``{"keys": […]}``, the demo client's unless it
        names ``client_id``); an empty set removes it. Returns the client id."""
        client_id, keys = jwtauth.parse_jwks(value)
        client_id = client_id or DEMO_CLIENT_ID
        with self._lock:
            if keys:
                self._jwks[client_id] = keys
            else:
                self._jwks.pop(client_id, None)
        return client_id

    def jwks_of(self, client_id: str) -> list[dict[str, object]]:
        """The public keys registered for ``client_id``."""
        with self._lock:
            return list(self._jwks.get(client_id, ()))

    def accept_assertion(self, client_id: str, assertion: str, audiences: list[str]) -> None:
        """Verify a client assertion, once: a replayed ``jti`` is refused (invalid_client)."""
        now = self.now()
        jti, exp = jwtauth.verify(
            assertion,
            client_id=client_id,
            keys=self.jwks_of(client_id),
            audiences=audiences,
            now=now,
        )
        key = digest(f"{client_id}\n{jti}")
        with self._lock:
            for old in [k for k, until in self._jtis.items() if until < now]:
                del self._jtis[old]
            if key in self._jtis:
                raise OAuthError(
                    "invalid_client", "The client assertion was used already (jti).", status=401
                )
            self._jtis[key] = exp + jwtauth.LEEWAY

    # ---- CIBA ------------------------------------------------------------------------

    def begin_backchannel(
        self,
        client: Client,
        *,
        login_hint: str,
        scopes: tuple[str, ...],
        binding_message: str | None,
        requested_expiry: float | None,
    ) -> dict[str, object]:
        """Accept a validated backchannel request; the answer (auth_req_id, expires_in, interval)."""
        now = time.time()
        settings = self._settings
        lifetime = min(requested_expiry or settings.ciba_expires_in, MAX_EXPIRY)
        auth_req_id = new_secret(AUTH_REQ_PREFIX)
        request = BackchannelRequest(
            public_id(auth_req_id),
            client.client_id,
            scopes,
            login_hint,
            binding_message,
            now,
            now + lifetime,
            settings.ciba_interval,
            now,
        )
        if self.auto_consent_user():
            request.decision = "approved"
        with self._lock:
            for key in [k for k, r in self._backchannel.items() if r.expires_at + 3600 < now]:
                del self._backchannel[key]
            while len(self._backchannel) >= _MAX_REQUESTS:
                del self._backchannel[next(iter(self._backchannel))]
            self._backchannel[digest(auth_req_id)] = request
        self.count("ciba.requested")
        return {
            "auth_req_id": auth_req_id,
            "expires_in": int(lifetime),
            "interval": request.interval,
        }

    def backchannel_requests(self) -> list[dict[str, object]]:
        """Every backchannel request still remembered (the control API's listing)."""
        now = time.time()
        with self._lock:
            return [r.view(now) for r in self._backchannel.values()]

    def phone_requests(
        self, number: str | None, handle: str | None = None
    ) -> list[dict[str, object]]:
        """The requests pending on the phone ``number`` (or the one with public id ``handle``),
        oldest first: what the phone page shows."""
        now = time.time()
        with self._lock:
            return [
                r.view(now)
                for r in self._backchannel.values()
                if (r.login_hint == f"tel:{number}" if number else r.id == handle)
                and r.decision == "pending"
                and now < r.expires_at
            ]

    def decide_backchannel(self, handle: str, approve: bool, number: str | None = None) -> bool:
        """Approve or deny a pending request, by auth_req_id or public id (and, from a number's
        phone page, only one sent to that ``number``); False if none."""
        now = time.time()
        with self._lock:
            request = self._backchannel.get(digest(handle)) or next(
                (r for r in self._backchannel.values() if r.id == handle), None
            )
            if request is None or request.decision != "pending" or now >= request.expires_at:
                return False
            if number is not None and request.login_hint != "tel:" + number:
                return False
            request.decision = "approved" if approve else "denied"
        self.count("ciba.approved" if approve else "ciba.denied")
        return True

    def ciba_token(self, client: Client, auth_req_id: str) -> dict[str, object]:
        """CIBA §10.1: tokens once approved; ``OAuthError`` (authorization_pending, slow_down,
        expired_token, access_denied, invalid_grant) otherwise."""
        now = time.time()
        with self._lock:
            request = self._backchannel.get(digest(auth_req_id))
            if request is None or request.client_id != client.client_id:
                raise OAuthError("invalid_grant", "The auth_req_id is unknown.")
            if request.decision == "issued":
                raise OAuthError("invalid_grant", "The auth_req_id was used already.")
            if now >= request.expires_at:
                raise OAuthError("expired_token", "The backchannel request expired.")
            if request.decision == "denied":
                raise OAuthError("access_denied", "The user denied the request.")
            early = now - request.last_poll < request.interval - min(0.5, request.interval / 2)
            request.last_poll = now
            if early:
                request.interval += SLOW_DOWN_STEP
                raise OAuthError("slow_down", f"Poll at most every {request.interval:g} s.")
            if request.decision == "pending":
                raise OAuthError("authorization_pending", "The user has not decided yet.")
            request.decision = "issued"
            user = request.login_hint.removeprefix("tel:")
            grant = CodeGrant(client.client_id, None, request.scopes, user, None, None, now)
            family = secrets.token_urlsafe(16)
            answer = self._tokens.grant(client, grant, family, self._settings, now)
        self.count("ciba.issued")
        return answer

    # ---- single-use tokens (CAMARA Number Verification) ----------------------------------

    def spend(self, client_id: str, access_token: str) -> None:
        """Mark a single-use access token spent: it is refused from now on."""
        with self._lock:
            self._spent.add(digest(access_token))
            self._tokens.revoke(client_id, access_token)

    def spent(self, access_token: str) -> bool:
        """Whether a single-use access token was spent already."""
        with self._lock:
            return digest(access_token) in self._spent
