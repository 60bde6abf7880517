"""``Wiring``: what a session builds from its connection settings, as one replaceable object.

Endpoints, the httpx clients (one ``AsyncClient`` per event loop), the retry policy, the token
endpoint, the bearer auth and the token store all follow from a few settings. ``Orange`` holds
one ``Wiring`` and, when such a setting changes, closes it and builds the next one whole:
nothing derived from an old setting can survive a change by being forgotten in a reset.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from .._network import http_options
from ..errors import ConfigError
from ..hub.kernel import HubEndpoint, HubService, hub_service_for
from ..oauth import presets
from ..oauth.assertion import ClientAssertion, SigningKey, load_signing_key
from ..oauth.auth import BearerAuth
from ..oauth.endpoint import AuthMethod, TokenEndpoint
from ..oauth.keeper import TokenKeeper
from ..oauth.secret import Secret
from ..stores.base import TokenStore, make_store, store_key
from .retry import Pacer, RetryPolicy

USER_AGENT = "orange_nb/0.1"


@dataclass(frozen=True)
class WiringSettings:
    """The settings a :class:`Wiring` is built from (a snapshot of the session's)."""

    preset: str = "france"
    sandbox_root: str | None = None
    client_id: str | None = None
    client_secret: Secret | None = None
    scopes: tuple[str, ...] = ("openid",)
    authorize_url: str | None = None
    token_url: str | None = None
    api_url: str | None = None
    userinfo_url: str | None = None
    revocation_url: str | None = None
    issuer: str | None = None
    token_auth_method: str = "client_secret_basic"
    private_key: Secret | None = None  # private_key_jwt: a key file's path, or the key's text
    key_id: str | None = None
    backchannel_url: str | None = None
    allowed_hosts: Sequence[str] = ()
    timeout: float = 30.0
    token_store: str = "memory"
    max_retries: int = 4
    max_retry_wait: float = 60.0
    retry_backoff: float = 1.0
    max_rate: float | None = None


class Wiring:
    """Endpoints, clients, retry policy, token endpoint and store of one set of settings.

    Clients and the store are made on first use; :meth:`close` closes the clients. A closed
    wiring is not used again: the session builds a new one.
    """

    def __init__(self, settings: WiringSettings, keeper: TokenKeeper) -> None:
        self.settings = settings
        self.keeper = keeper
        self.endpoints = _endpoints_of(settings)
        self.retry = RetryPolicy(
            max_retries=settings.max_retries,
            max_wait=settings.max_retry_wait,
            backoff=settings.retry_backoff,
            max_rate=settings.max_rate,
        )
        self.pacer = Pacer(settings.max_rate)  # one pace for every request of the session
        self._lock = threading.RLock()
        self._http: httpx.Client | None = None
        self._plain: httpx.Client | None = None
        self._ahead: httpx.Client | None = None
        # One AsyncClient per event loop: a client's connections belong to the loop that opened
        # them, and `asyncio.run` closes its loop at the end.
        self._ahttp: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._ahttp_loopless: httpx.AsyncClient | None = None
        self._store: TokenStore | None = None
        self._signing_key: SigningKey | None = None
        # On a JupyterHub with orange_nb's service, tokens come from it (no secret here).
        self.hub: HubService | None = hub_service_for(settings)

    # --- credentials and the token endpoint --------------------------------------------
    @property
    def uses_private_key(self) -> bool:
        """Whether the client authenticates with a signed assertion (``private_key_jwt``)."""
        return self.settings.token_auth_method == "private_key_jwt"

    @property
    def authenticates(self) -> bool:
        """Whether the settings hold what the token endpoint needs to know the client."""
        if self.hub is not None:
            return True
        settings = self.settings
        proof = settings.private_key if self.uses_private_key else settings.client_secret
        return bool(settings.client_id and proof)

    def credentials(self) -> tuple[str, Secret]:
        """The client id and secret; ``ConfigError`` saying how to set a missing one.

        With ``private_key_jwt`` the secret is not needed (it may be empty).
        """
        client_id, secret = self.settings.client_id, self.settings.client_secret
        if not client_id:
            raise ConfigError(
                "No Orange client id: set ORANGE_CLIENT_ID (or `Orange(client_id=…)`, or "
                "`%config Orange.client_id = '…'`), or use `Orange.sandbox()` to try without an account."
            )
        if self.uses_private_key:
            return client_id, secret or Secret("")
        if not secret:
            raise ConfigError(
                "No Orange client secret: set ORANGE_CLIENT_SECRET (or `Orange(client_secret=…)`)."
            )
        return client_id, secret

    def signing_key(self) -> SigningKey:
        """The private key of ``private_key_jwt`` (loaded once per wiring); ``PrivateKeyError``
        when it is unusable, ``ConfigError`` when none is set."""
        with self._lock:
            if self._signing_key is None:
                source = self.settings.private_key
                if not source:
                    raise ConfigError(
                        "token_auth_method is private_key_jwt but no private key is set: set "
                        "ORANGE_PRIVATE_KEY (the key file's path, or the key itself) or "
                        "`Orange(private_key=…)`. `python -m orange_nb.keys new` makes one."
                    )
                self._signing_key = load_signing_key(source, kid=self.settings.key_id)
            return self._signing_key

    def token_endpoint(self) -> TokenEndpoint:
        """A token endpoint for these settings (over the plain, unauthenticated client)."""
        if self.hub is not None:
            return HubEndpoint(self.hub, http=self.plain)
        client_id, secret = self.credentials()
        ends = self.endpoints
        method: AuthMethod = "client_secret_basic"
        assertion = None
        if self.uses_private_key:
            method = "private_key_jwt"
            assertion = ClientAssertion(client_id, self.signing_key(), audience=ends.issuer)
        elif self.settings.token_auth_method == "client_secret_post":
            method = "client_secret_post"
        return TokenEndpoint(
            ends.token_url,
            client_id,
            secret,
            http=self.plain,
            auth_method=method,
            issuer=ends.issuer,
            revocation_url=ends.revocation_url,
            assertion=assertion,
        )

    def wire_keeper(self) -> None:
        """Give the keeper this wiring's token endpoint when it has none (for refreshes)."""
        if self.keeper.endpoint is None and self.authenticates:
            self.keeper.endpoint = self.token_endpoint()

    def store(self) -> TokenStore | None:
        """The token store of this client, scopes and token endpoint (none without a client id)."""
        with self._lock:
            if self._store is None and self.settings.client_id:
                key = store_key(
                    self.settings.client_id, self.settings.scopes, self.endpoints.token_url
                )
                self._store = make_store(self.settings.token_store, key)
            return self._store

    # --- clients -----------------------------------------------------------------------
    def allowed_origins(self) -> list[str]:
        """Where the bearer token may go: the API, the token endpoint, userinfo, allowed hosts."""
        ends = self.endpoints
        allowed = [ends.api_url, ends.token_url]
        if ends.userinfo_url:
            allowed.append(ends.userinfo_url)
        for host in self.settings.allowed_hosts:
            allowed.append(host if "://" in host else f"https://{host}")
        return allowed

    def _client_settings(self, asynchronous: bool = False) -> dict[str, Any]:
        """What every authenticated client shares: the bearer auth and its allowed hosts."""
        self.wire_keeper()
        return dict(
            auth=BearerAuth(self.keeper, self.allowed_origins()),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=self.settings.timeout,
            **http_options(asynchronous=asynchronous),
        )

    @property
    def plain(self) -> httpx.Client:
        """The unauthenticated client (token endpoint, userinfo, sandbox control)."""
        with self._lock:
            if self._plain is None:
                self._plain = httpx.Client(
                    timeout=self.settings.timeout,
                    headers={"User-Agent": USER_AGENT},
                    **http_options(),
                )
            return self._plain

    @property
    def client(self) -> httpx.Client:
        """The authenticated client."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(**self._client_settings())
            return self._http

    @property
    def ahead(self) -> httpx.Client:
        """The authenticated client for pages fetched ahead: its own connection pool."""
        with self._lock:
            if self._ahead is None:
                self._ahead = httpx.Client(**self._client_settings())
            return self._ahead

    def aclient(self) -> httpx.AsyncClient:
        """The authenticated ``AsyncClient`` of the running event loop (one per loop)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None  # read outside a loop: a client for whichever loop first uses it
        with self._lock:
            for closed in [old for old in self._ahttp if old.is_closed()]:
                del self._ahttp[closed]  # its connections hold the loop: drop both together
            client = self._ahttp.get(loop) if loop is not None else self._ahttp_loopless
            if client is None or client.is_closed:
                client = httpx.AsyncClient(**self._client_settings(asynchronous=True))
                if loop is None:
                    self._ahttp_loopless = client
                else:
                    self._ahttp[loop] = client
            return client

    def close(self) -> None:
        """Close every client (async ones on their own loop when it still runs)."""
        with self._lock:
            for client in (self._http, self._plain, self._ahead):
                if client is not None:
                    client.close()
            self._http = self._plain = self._ahead = None
            for loop, aclient in list(self._ahttp.items()):
                _aclose_on(loop, aclient)
            self._ahttp.clear()  # clients of closed loops cannot be closed: collected instead
            self._ahttp_loopless = None
            self._store = None
            if self.hub is not None:
                self.hub.close()


def _endpoints_of(settings: WiringSettings) -> presets.Endpoints:
    """The endpoints in force: explicit settings over the preset's."""
    base = (
        presets.sandbox(settings.sandbox_root)
        if settings.preset == "sandbox" and settings.sandbox_root
        else presets.PRESETS.get(settings.preset, presets.FRANCE)
    )
    return presets.Endpoints(
        authorize_url=settings.authorize_url or base.authorize_url,
        token_url=settings.token_url or base.token_url,
        api_url=settings.api_url or base.api_url,
        userinfo_url=settings.userinfo_url or base.userinfo_url,
        revocation_url=settings.revocation_url or base.revocation_url,
        issuer=settings.issuer or base.issuer,
        backchannel_url=settings.backchannel_url or base.backchannel_url,
    )


def _aclose_on(loop: asyncio.AbstractEventLoop, client: httpx.AsyncClient) -> None:
    """Close ``client`` on its own loop when that loop still runs (else it is only dropped)."""
    if loop.is_closed() or not loop.is_running():
        return
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    try:
        if running is loop:
            task = loop.create_task(client.aclose())
            _closing.add(task)
            task.add_done_callback(_closing.discard)
        else:
            asyncio.run_coroutine_threadsafe(client.aclose(), loop)
    except RuntimeError:
        pass  # the loop closed meanwhile


_closing: set[asyncio.Task[None]] = set()  # tasks must be referenced until done
