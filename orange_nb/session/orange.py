"""``Orange``: configuration, token, login handoff and an authenticated ``httpx.Client``."""

from __future__ import annotations

import asyncio
import os
import threading
import warnings
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
from traitlets import (
    Bool,
    Dict,
    DottedObjectName,
    Enum,
    Float,
    HasTraits,
    Instance,
    Int,
    List,
    TraitType,
    Unicode,
    Union,
    default,
    observe,
)
from traitlets.config import Config, Configurable

from .._ipython import install_error_display, running_shell
from .._network import http_options
from .._protocol import KEY_HEADER, SANDBOX_ROUTE, SANDBOX_VAR, SERVER_KEY_VAR, SERVER_URL_VAR
from ..errors import ConfigError
from ..oauth import presets
from ..oauth.auth import BearerAuth
from ..oauth.endpoint import TokenEndpoint
from ..oauth.flow import split_scopes
from ..oauth.keeper import TokenKeeper
from ..oauth.secret import Secret
from ..oauth.token import Token
from ..stores.base import TokenStore, make_store, store_key
from .calls import CallsMixin
from .retry import RetryPolicy
from .signin import LoginMixin, _Waiter

USER_AGENT = "orange_nb/0.1"
_SECRET_TRAITS = ("client_secret",)
# Settings that change which server, client or token is used: changing one drops what was derived.
_WIRING = [
    "preset",
    "client_id",
    "client_secret",
    "scopes",
    "redirect_uri",
    "authorize_url",
    "token_url",
    "userinfo_url",
    "revocation_url",
    "api_url",
    "issuer",
    "token_auth_method",
    "allowed_hosts",
    "timeout",
    "token_store",
]

# What a token belongs to: its client and every endpoint that receives it or issued it.
# Changing one of these on a signed-in session drops the token (see Orange._rewire); scopes,
# the client secret and allowed_hosts do not: the token goes nowhere new with them.
_BINDING = (
    "client_id",
    "authorize_url",
    "token_url",
    "api_url",
    "userinfo_url",
    "revocation_url",
    "issuer",
)

_current: Orange | None = None
_embedded_sandbox: Any = None
_embedded_lock = threading.Lock()


def current() -> Orange:
    """The kernel's current session: the last ``Orange`` created, or one made from configuration."""
    return _current if _current is not None else Orange()


def _register_for_config(shell: Any, orange: Orange) -> None:
    # `%config` updates the configurables the shell lists: the current session only.
    shell.configurables[:] = [c for c in shell.configurables if not isinstance(c, Orange)]
    shell.configurables.append(orange)


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def sandbox_root() -> tuple[str, bool]:
    """Where the sandbox is, and whether it is the Jupyter server's (else embedded in this process)."""
    server = _env(SERVER_URL_VAR)
    if server and _env(SERVER_KEY_VAR) and _env(SANDBOX_VAR) == "1":
        return server.rstrip("/") + "/" + SANDBOX_ROUTE, True
    global _embedded_sandbox
    with _embedded_lock:
        if _embedded_sandbox is None:
            from ..sandbox import serve_in_thread

            _embedded_sandbox = serve_in_thread()
    return str(_embedded_sandbox.url), False


class SecretText(TraitType[Secret | None, "str | Secret | None"]):
    """A text setting held as a :class:`Secret`: listings (``%config Orange``, help,
    ``trait_values()``) show ``Secret('…')``, never the text."""

    default_value = None
    allow_none = True
    info_text = "a secret string"

    def validate(self, obj: HasTraits | None, value: Any) -> Secret | None:
        """Text becomes a ``Secret``; ``None`` stays."""
        if value is None or isinstance(value, Secret):
            return value
        if isinstance(value, str):
            return Secret(value)
        self.error(obj, value)

    def default_value_repr(self) -> str:
        """``None``: a default from ORANGE_CLIENT_SECRET is never shown."""
        return "None"


class Orange(LoginMixin, CallsMixin, Configurable):
    """A signed-in (or signing-in) session with Orange's APIs.

    Settings come from keyword arguments, then traitlets configuration (``%config Orange.…``,
    jupyter config files), then ``ORANGE_*`` environment variables, then the preset.
    """

    # --- configuration ------------------------------------------------------------------
    preset = Enum(["france", "playground", "sandbox"], "france", help="Endpoint preset.").tag(
        config=True
    )
    client_id = Unicode(None, allow_none=True, help="Application's client id.").tag(config=True)
    client_secret = SecretText(
        help="Application's client secret (held as a Secret: never shown)."
    ).tag(config=True)
    scopes = Union(
        [Unicode(), List(Unicode())],
        default_value=None,
        allow_none=True,
        help='Scopes: "openid profile" or ["openid", "profile"].',
    ).tag(config=True)
    redirect_uri = Unicode(None, allow_none=True, help="Registered redirect URI.").tag(config=True)
    authorize_url = Unicode(None, allow_none=True, help="Authorize endpoint.").tag(config=True)
    token_url = Unicode(None, allow_none=True, help="Token endpoint.").tag(config=True)
    userinfo_url = Unicode(None, allow_none=True, help="Userinfo endpoint.").tag(config=True)
    revocation_url = Unicode(None, allow_none=True, help="Revocation endpoint.").tag(config=True)
    api_url = Unicode(None, allow_none=True, help="Base URL of relative API paths.").tag(
        config=True
    )
    issuer = Unicode(None, allow_none=True, help="Issuer checked against `iss`.").tag(config=True)
    token_auth_method = Enum(
        ["client_secret_basic", "client_secret_post"], "client_secret_basic"
    ).tag(config=True)
    authorize_params = Dict(
        help="Extra authorize parameters, e.g. {'prompt': 'login', 'login_hint': 'tel:+33…'}."
    ).tag(config=True)
    leeway = Float(60.0, help="Refresh this many seconds before expiry.").tag(config=True)
    timeout = Float(30.0, help="Seconds to wait for any HTTP answer.").tag(config=True)
    max_retries = Int(4, help="Tries more after throttling, 5xx or broken connections.").tag(
        config=True
    )
    max_retry_wait = Float(60.0, help="Seconds of waiting between retries, at most.").tag(
        config=True
    )
    retry_backoff = Float(1.0, help="First backoff step in seconds.").tag(config=True)
    allowed_hosts = List(
        Unicode(), help="More hosts (or origins) that may receive the bearer token."
    ).tag(config=True)
    handoff = Enum(["auto", "server", "loopback", "paste"], "auto").tag(config=True)
    open_browser = Bool(True, help="Open the browser for a loopback sign-in.").tag(config=True)
    login_timeout = Float(600.0, help="Seconds a sign-in link stays usable.").tag(config=True)
    login_ui = DottedObjectName(
        "orange_nb.widget.show_login",
        help="What `login()` shows in IPython: the dotted name of a callable taking the "
        'session (the sign-in widget by default); "" prints the link instead.',
    ).tag(config=True)
    token_store = Enum(["memory", "file", "keyring"], "memory").tag(config=True)

    # --- live state (observed by the widget; never holds a secret except `token`) ---------
    status = Unicode("signed_out")
    token = Instance(Token, allow_none=True)
    user = Unicode(None, allow_none=True)
    last_error = Unicode("")
    login_url = Unicode("")

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        scopes: str | Sequence[str] | None = None,
        redirect_uri: str | None = None,
        authorize_url: str | None = None,
        token_url: str | None = None,
        api_url: str | None = None,
        **kwargs: Any,
    ) -> None:
        given = dict(
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            redirect_uri=redirect_uri,
            authorize_url=authorize_url,
            token_url=token_url,
            api_url=api_url,
        )
        kwargs.update({k: v for k, v in given.items() if v is not None})
        if isinstance(kwargs.get("scopes"), tuple):
            kwargs["scopes"] = list(kwargs["scopes"])
        shell = running_shell()
        # In IPython, orange_nb's expected errors read as one paragraph and fail the cell.
        install_error_display(shell)
        if shell is not None and "config" not in kwargs and "parent" not in kwargs:
            kwargs["config"] = shell.config
        # Settings given here win over any `%config Orange.…`, even a later one.
        self._given = frozenset(k for k in kwargs if k not in ("config", "parent"))
        self._sandbox_root: str | None = kwargs.pop("_sandbox_root", None)
        self._lock = threading.RLock()
        self._http: httpx.Client | None = None
        # One AsyncClient per event loop: a client's connections belong to the loop that opened
        # them, and `asyncio.run` closes its loop at the end.
        self._ahttp: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._ahttp_loopless: httpx.AsyncClient | None = None
        self._plain: httpx.Client | None = None
        self._ahead: httpx.Client | None = None
        self._endpoints: presets.Endpoints | None = None
        self._retry: RetryPolicy | None = None
        self._waiter: _Waiter | None = None
        self._token_scopes: tuple[str, ...] = ()
        self._store: TokenStore | None = None
        self.keeper = TokenKeeper(listener=self._on_token_event, store=self._token_store)
        super().__init__(**kwargs)
        self.keeper.leeway = self.leeway
        self._bound = self._binding()
        self._restore()
        global _current
        _current = self
        if shell is not None:
            _register_for_config(shell, self)

    # --- defaults: environment, then preset --------------------------------------------
    @default("client_id")
    def _default_client_id(self) -> str | None:
        return _env("ORANGE_CLIENT_ID")

    @default("client_secret")
    def _default_client_secret(self) -> Secret | None:
        secret = _env("ORANGE_CLIENT_SECRET")
        return Secret(secret) if secret else None

    @default("scopes")
    def _default_scopes(self) -> str | None:
        return _env("ORANGE_SCOPES")

    @default("redirect_uri")
    def _default_redirect_uri(self) -> str | None:
        return _env("ORANGE_REDIRECT_URI")

    @default("authorize_url")
    def _default_authorize_url(self) -> str | None:
        return _env("ORANGE_AUTHORIZE_URL")

    @default("token_url")
    def _default_token_url(self) -> str | None:
        return _env("ORANGE_TOKEN_URL")

    @default("api_url")
    def _default_api_url(self) -> str | None:
        return _env("ORANGE_API_URL")

    def update_config(self, config: Config) -> None:
        """``%config Orange.x = v``: applies here unless ``x`` was a keyword argument, and to
        every session created afterwards (it is kept in the shell's configuration)."""
        section = config.get("Orange", {}) if isinstance(config, Config) else {}
        if isinstance(section.get("client_secret"), str):  # kept for later sessions: as a Secret
            section["client_secret"] = Secret(section["client_secret"])
        shell = running_shell()
        if shell is not None:
            shell.config.merge(config)
        mine = Config({"Orange": {k: v for k, v in section.items() if k not in self._given}})
        super().update_config(mine)

    @observe(*_WIRING)
    def _rewire(self, change: Mapping[str, Any]) -> None:
        # Called for config loading too, before __init__ finished: only drop what exists.
        if getattr(self, "_lock", None) is None:
            return
        self._endpoints = None
        bound, self._bound = getattr(self, "_bound", None), self._binding()
        if bound is not None and bound != self._bound:
            self._unbind(str(change["name"]))
        self._close_clients()

    def _binding(self) -> tuple[str | None, ...]:
        """The settings a token belongs to, as they are in force now (see ``_BINDING``)."""
        ends = self.endpoints
        return (self.client_id, *(getattr(ends, name, None) for name in _BINDING[1:]))

    def _unbind(self, name: str) -> None:
        # The token (and a sign-in under way) belong to the old setting: neither may reach the
        # new host or token endpoint. The store keeps it under the old setting's key.
        waiting = self._waiter is not None and not self._waiter.done.is_set()
        if self.keeper.token is None and not waiting:
            return
        self._cancel_login()
        self.keeper.set(None)
        note = (
            f"Signed out: `{name}` changed, and the token belonged to the old value. Sign in again."
        )
        self.user = None
        self.login_url = ""
        self.status = "signed_out"
        self.last_error = note
        warnings.warn(note, stacklevel=2)

    @observe("max_retries", "max_retry_wait", "retry_backoff")
    def _retry_changed(self, change: Mapping[str, Any]) -> None:
        self._retry = None

    @observe("leeway")
    def _leeway_changed(self, change: Mapping[str, Any]) -> None:
        if getattr(self, "keeper", None) is not None:
            self.keeper.leeway = float(change["new"])

    # --- derived settings (cached; dropped when a setting changes) ---------------------
    @property
    def endpoints(self) -> presets.Endpoints:
        """The endpoints in force: explicit settings over the preset's."""
        # Read on every call (url_for, the bearer's allowed hosts): built once per wiring.
        ends = self._endpoints
        if ends is None:
            ends = self._endpoints = self._build_endpoints()
        return ends

    def _build_endpoints(self) -> presets.Endpoints:
        base = (
            presets.sandbox(self._sandbox_root)
            if self.preset == "sandbox" and self._sandbox_root
            else presets.PRESETS.get(self.preset, presets.FRANCE)
        )
        return presets.Endpoints(
            authorize_url=self.authorize_url or base.authorize_url,
            token_url=self.token_url or base.token_url,
            api_url=self.api_url or base.api_url,
            userinfo_url=self.userinfo_url or base.userinfo_url,
            revocation_url=self.revocation_url or base.revocation_url,
            issuer=self.issuer or base.issuer,
        )

    @property
    def scope_list(self) -> tuple[str, ...]:
        """The scopes asked for, as a tuple."""
        scopes = split_scopes(self.scopes)
        if scopes:
            return scopes
        return presets.SANDBOX_SCOPES if self.preset == "sandbox" else ("openid",)

    def _credentials(self) -> tuple[str, Secret]:
        if not self.client_id:
            raise ConfigError(
                "No Orange client id: set ORANGE_CLIENT_ID (or `Orange(client_id=…)`, or "
                "`%config Orange.client_id = '…'`), or use `Orange.sandbox()` to try without an account."
            )
        if not self.client_secret:
            raise ConfigError(
                "No Orange client secret: set ORANGE_CLIENT_SECRET (or `Orange(client_secret=…)`)."
            )
        return self.client_id, self.client_secret

    def _allowed_origins(self) -> list[str]:
        ends = self.endpoints
        allowed = [ends.api_url, ends.token_url]
        if ends.userinfo_url:
            allowed.append(ends.userinfo_url)
        for host in self.allowed_hosts:
            allowed.append(host if "://" in host else f"https://{host}")
        return allowed

    def _plain_http(self) -> httpx.Client:
        with self._lock:
            if self._plain is None:
                self._plain = httpx.Client(
                    timeout=self.timeout, headers={"User-Agent": USER_AGENT}, **http_options()
                )
            return self._plain

    def _token_endpoint(self) -> TokenEndpoint:
        client_id, secret = self._credentials()
        ends = self.endpoints
        return TokenEndpoint(
            ends.token_url,
            client_id,
            secret,
            http=self._plain_http(),
            auth_method="client_secret_post"
            if self.token_auth_method == "client_secret_post"
            else "client_secret_basic",
            issuer=ends.issuer,
            revocation_url=ends.revocation_url,
        )

    def _wire_keeper(self) -> None:
        # The keeper refreshes through the token endpoint of the settings in force.
        if self.keeper.endpoint is None and self.client_id and self.client_secret:
            self.keeper.endpoint = self._token_endpoint()

    def _client_settings(self, asynchronous: bool = False) -> dict[str, Any]:
        """What every authenticated client shares: the bearer auth and its allowed hosts."""
        self._wire_keeper()
        return dict(
            auth=BearerAuth(self.keeper, self._allowed_origins()),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            timeout=self.timeout,
            **http_options(asynchronous=asynchronous),
        )

    @property
    def client(self) -> httpx.Client:
        """The authenticated ``httpx.Client`` (keep-alive; the token goes to the API's host only)."""
        with self._lock:
            if self._http is None:
                self._http = httpx.Client(**self._client_settings())
            return self._http

    @property
    def aclient(self) -> httpx.AsyncClient:
        """The authenticated ``httpx.AsyncClient`` of the running event loop (same token, same
        rules): each loop has its own, so ``asyncio.run`` twice, or on another thread, works."""
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

    @property
    def retry_policy(self) -> RetryPolicy:
        """Retry limits from the settings (built once; dropped when one changes)."""
        policy = self._retry
        if policy is None:
            policy = self._retry = RetryPolicy(
                max_retries=self.max_retries,
                max_wait=self.max_retry_wait,
                backoff=self.retry_backoff,
            )
        return policy

    @property
    def ahead_client(self) -> httpx.Client:
        """The client for pages fetched ahead (``concurrency=N``): its own connection pool.

        After a concurrent pull the pool keeps N idle connections, and httpx checks every
        idle connection of a pool on each request: kept apart, they cost ``client`` nothing.
        """
        with self._lock:
            if self._ahead is None:
                self._ahead = httpx.Client(**self._client_settings())
            return self._ahead

    def _close_clients(self) -> None:
        with self._lock:
            for client in (self._http, self._plain, self._ahead):
                if client is not None:
                    client.close()
            self._http = self._plain = self._ahead = None
            for loop, aclient in list(self._ahttp.items()):
                _aclose_on(loop, aclient)
            self._ahttp.clear()  # clients of closed loops cannot be closed: collected instead
            self._ahttp_loopless = None
            self.keeper.endpoint = None
            self._store = None

    def close(self) -> None:
        """Close connections (the token is kept)."""
        self._close_clients()

    # --- sign-in -----------------------------------------------------------------------
    @classmethod
    def sandbox(cls, root: str | None = None, **kwargs: Any) -> Orange:
        """A session on the embedded Orange emulator: demo application, synthetic data.

        Under a Jupyter server with orange_nb's extension it uses the server's sandbox, so the
        browser reaches its pages on the host it already uses; elsewhere it starts one in this
        process and signs in through a loopback redirect. ``root`` names another sandbox
        (e.g. one started with ``python -m orange_nb.sandbox``).
        """
        via_server = False
        if root is None:
            root, via_server = sandbox_root()
        ends = presets.sandbox(root)
        settings: dict[str, Any] = dict(
            preset="sandbox",
            client_id=presets.SANDBOX_CLIENT_ID,
            client_secret=presets.SANDBOX_CLIENT_SECRET,
            authorize_url=ends.authorize_url,
            token_url=ends.token_url,
            api_url=ends.api_url,
            userinfo_url=ends.userinfo_url,
            revocation_url=ends.revocation_url,
            issuer=ends.issuer,
        )
        if not via_server:
            settings["redirect_uri"] = "http://127.0.0.1:0/callback"
        settings.update(kwargs)
        return cls(_sandbox_root=root, **settings)

    def configure_sandbox(self, **settings: Any) -> dict[str, Any]:
        """Change the sandbox's settings (token lifetimes, rotation, rate limit…); returns them all."""
        if self.preset != "sandbox":
            raise ConfigError("`configure_sandbox` works on `Orange.sandbox()` sessions only.")
        url = self.endpoints.api_url.rstrip("/") + "/_sandbox/settings"
        # The sandbox mounted in a Jupyter server obeys its kernels' key only (or Jupyter's login).
        server, key = _env(SERVER_URL_VAR), _env(SERVER_KEY_VAR)
        mounted = bool(server and key and url.startswith(f"{server.rstrip('/')}/{SANDBOX_ROUTE}/"))
        headers = {KEY_HEADER: key} if mounted and key else {}
        response = self._plain_http().post(url, json=settings, headers=headers)
        if not response.is_success:
            raise ConfigError(f"The sandbox refused these settings: {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    # --- token state -----------------------------------------------------------------------
    def _on_token_event(self, event: str, token: Token | None) -> None:
        if event == "refreshing":
            self.status = "refreshing"
            return
        if event == "refresh_failed":
            self.status = "signed_in"
            return
        self.token = token
        store = self._token_store()
        if event == "expired":
            self.status = "expired"
            self.last_error = "Session expired — sign in again."
            # The keeper cleared the store if it still held the refused token.
        elif token is not None:
            self.status = "signed_in"
            self.last_error = ""
            if store is not None and event == "token":  # "stored": the keeper saved it, locked
                store.save(token)

    def _token_store(self) -> TokenStore | None:
        if self._store is None and self.client_id:
            key = store_key(self.client_id, self.scope_list, self.endpoints.token_url)
            self._store = make_store(self.token_store, key)
        return self._store

    def _restore(self) -> None:
        if self.token_store == "memory" or not self.client_id:
            return
        store = self._token_store()
        token = store.load() if store is not None else None
        if token is not None and not (token.expired and not token.refresh_token):
            self.user = self._user_of(token, ask=False)
            self._token_scopes = self.scope_list  # the store is keyed by the scopes
            self.keeper.set(token, stored=True)  # not saved back: may undo a newer refresh

    @property
    def logged_in(self) -> bool:
        """True while a token is held (it may be due for a refresh, which happens by itself)."""
        return self.keeper.token is not None

    def refresh(self) -> Token:
        """Refresh the token now."""
        self._wire_keeper()
        return self.keeper.refresh_now()

    # --- safety ------------------------------------------------------------------------
    def __repr__(self) -> str:
        state = self.status.replace("_", " ")
        who = f" as {self.user}" if self.user and self.logged_in else ""
        return f"<Orange {self.preset} client_id={self.client_id!r} {state}{who}>"

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickling keeps the public settings only: never the client secret, never a token.
        public = {
            name: getattr(self, name)
            for name in self.trait_names(config=True)
            if name not in _SECRET_TRAITS and getattr(self, name) is not None
        }
        return (_unpickle, (public,))


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


def _unpickle(settings: dict[str, Any]) -> Orange:
    return Orange(**settings)
