"""``Orange``: configuration, token, login handoff and an authenticated ``httpx.Client``."""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
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
from traitlets.utils.importstring import import_item

from .._ipython import install_error_display, running_shell
from .._protocol import KEY_HEADER, SANDBOX_ROUTE, SANDBOX_VAR, SERVER_KEY_VAR, SERVER_URL_VAR
from ..errors import ConfigError, NetworkError
from ..handoff.redirect import RedirectRule, redirect_rule
from ..hub.kernel import HubAttempt
from ..oauth import presets
from ..oauth.flow import LoginFlow, split_scopes
from ..oauth.keeper import TokenKeeper
from ..oauth.secret import Secret
from ..oauth.token import Token
from ..stores.base import TokenStore
from .calls import CallsMixin
from .ciba import CibaAttempt, begin_ciba
from .retry import RetryPolicy
from .signin import Binding, SignIn, SignInSettings
from .wiring import Wiring, WiringSettings

_SECRET_TRAITS = ("client_secret", "private_key")
# Settings that change which server, client or token is used: changing one (or a retry
# setting) replaces the wiring, everything built from them.
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
    "private_key",
    "key_id",
    "backchannel_url",
    "allowed_hosts",
    "timeout",
    "token_store",
]
_RETRY = ("max_retries", "max_retry_wait", "retry_backoff", "max_rate")

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

# The observed state SignIn may publish.
_PUBLISHED = frozenset({"status", "user", "last_error", "login_url"})

_current: Orange | None = None
_embedded_sandbox: Any = None
_embedded_lock = threading.Lock()


def current() -> Orange:
    """The kernel's current session: the last ``Orange`` created, or one made from configuration."""
    return _current if _current is not None else Orange()


def current_or_none() -> Orange | None:
    """The kernel's current session, or ``None`` when none exists yet (this creates none)."""
    return _current


def use(orange: Orange) -> Orange:
    """Make ``orange`` the current session (what ``current()`` and ``%orange`` use, and what
    ``%config Orange.…`` changes); returns it."""
    global _current
    _current = orange
    shell = running_shell()
    if shell is not None:
        _register_for_config(shell, orange)
    return orange


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


class Orange(CallsMixin, Configurable):
    """A signed-in (or signing-in) session with Orange's APIs.

    Settings come from keyword arguments, then traitlets configuration (``%config Orange.…``,
    jupyter config files), then ``ORANGE_*`` environment variables, then the preset.

    A session is a composition: ``signin`` (:class:`SignIn`: logins, waits, logout), the
    ``keeper`` (the token and its refreshes) and the ``wiring`` (everything the connection
    settings build, replaced whole when one changes). The methods below delegate to them.
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
    relay_url = Unicode(
        None,
        allow_none=True,
        help="A relay page registered as the redirect URI (docs/relay.md): sign-ins go "
        "through it and back to this session from any host.",
    ).tag(config=True)
    authorize_url = Unicode(None, allow_none=True, help="Authorize endpoint.").tag(config=True)
    token_url = Unicode(None, allow_none=True, help="Token endpoint.").tag(config=True)
    userinfo_url = Unicode(None, allow_none=True, help="Userinfo endpoint.").tag(config=True)
    revocation_url = Unicode(None, allow_none=True, help="Revocation endpoint.").tag(config=True)
    api_url = Unicode(None, allow_none=True, help="Base URL of relative API paths.").tag(
        config=True
    )
    issuer = Unicode(None, allow_none=True, help="Issuer checked against `iss`.").tag(config=True)
    token_auth_method = Enum(
        ["client_secret_basic", "client_secret_post", "private_key_jwt"], "client_secret_basic"
    ).tag(config=True)
    # private_key_jwt (CAMARA Network APIs): the key, its id, and the CIBA endpoint.
    private_key = SecretText(
        help="private_key_jwt: path to a PEM or JWK private key file, or the key itself "
        "(held as a Secret; default ORANGE_PRIVATE_KEY)."
    ).tag(config=True)
    key_id = Unicode(None, allow_none=True, help="`kid` of the private key (ORANGE_KEY_ID).").tag(
        config=True
    )
    backchannel_url = Unicode(
        None, allow_none=True, help="CIBA backchannel authentication endpoint."
    ).tag(config=True)

    @default("private_key")
    def _default_private_key(self) -> Secret | None:
        key = _env("ORANGE_PRIVATE_KEY")
        return Secret(key) if key else None

    @default("key_id")
    def _default_key_id(self) -> str | None:
        return _env("ORANGE_KEY_ID")

    @default("backchannel_url")
    def _default_backchannel_url(self) -> str | None:
        return _env("ORANGE_BACKCHANNEL_URL")

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
    max_rate = Float(
        None,
        allow_none=True,
        help="Requests per second at most, for who knows the API's quota (None: paced only "
        "by what the API says).",
    ).tag(config=True)
    allowed_hosts = List(
        Unicode(), help="More hosts (or origins) that may receive the bearer token."
    ).tag(config=True)
    handoff = Enum(["auto", "server", "loopback", "paste"], "auto").tag(config=True)
    open_browser = Bool(True, help="Open the browser for a loopback sign-in.").tag(config=True)
    login_timeout = Float(600.0, help="Seconds a sign-in link stays usable.").tag(config=True)
    login_ui = Union(
        [Enum([""]), DottedObjectName()],
        default_value="orange_nb.widget.show_login",
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
        self._wiring: Wiring | None = None
        self.signin = SignIn(self)
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

    @default("relay_url")
    def _default_relay_url(self) -> str | None:
        return _env("ORANGE_RELAY_URL")

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
        for name in _SECRET_TRAITS:  # kept for later sessions: as a Secret
            if isinstance(section.get(name), str):
                section[name] = Secret(section[name])
        shell = running_shell()
        if shell is not None:
            shell.config.merge(config)
        mine = Config({"Orange": {k: v for k, v in section.items() if k not in self._given}})
        super().update_config(mine)

    @observe(*_WIRING, *_RETRY)
    def _rewire(self, change: Mapping[str, Any]) -> None:
        # Called for config loading too, before __init__ finished: only drop what exists.
        if getattr(self, "_lock", None) is None:
            return
        self._drop_wiring()
        bound, self._bound = getattr(self, "_bound", None), self._binding()
        if bound is not None and bound != self._bound:
            self._unbind(str(change["name"]))

    def _binding(self) -> Binding:
        """The settings a token belongs to, as they are in force now (see ``_BINDING``)."""
        ends = self.endpoints
        return (self.client_id, *(getattr(ends, name, None) for name in _BINDING[1:]))

    def _unbind(self, name: str) -> None:
        # The token (and a sign-in under way) belong to the old setting: neither may reach the
        # new host or token endpoint. The store keeps it under the old setting's key.
        if self.keeper.token is None and not self.signin.waiting:
            return
        self.signin.cancel()
        self.keeper.set(None)
        note = (
            f"Signed out: `{name}` changed, and the token belonged to the old value. Sign in again."
        )
        self.user = None
        self.login_url = ""
        self.status = "signed_out"
        self.last_error = note
        warnings.warn(note, stacklevel=2)

    @observe("leeway")
    def _leeway_changed(self, change: Mapping[str, Any]) -> None:
        if getattr(self, "keeper", None) is not None:
            self.keeper.leeway = float(change["new"])

    # --- wiring: built once from the settings, replaced whole when one changes ------------
    @property
    def wiring(self) -> Wiring:
        """Endpoints, clients, retry policy, token endpoint and store of the settings in force."""
        wiring = self._wiring  # read without the lock: every call does, and it is replaced whole
        if wiring is not None:
            return wiring
        with self._lock:
            wiring = self._wiring
            if wiring is None:
                wiring = self._wiring = Wiring(self._wiring_settings(), self.keeper)
            return wiring

    def _wiring_settings(self) -> WiringSettings:
        return WiringSettings(
            preset=self.preset,
            sandbox_root=self._sandbox_root,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scopes=self.scope_list,
            authorize_url=self.authorize_url,
            token_url=self.token_url,
            api_url=self.api_url,
            userinfo_url=self.userinfo_url,
            revocation_url=self.revocation_url,
            issuer=self.issuer,
            token_auth_method=self.token_auth_method,
            private_key=self.private_key,
            key_id=self.key_id,
            backchannel_url=self.backchannel_url,
            allowed_hosts=tuple(self.allowed_hosts),
            timeout=self.timeout,
            token_store=self.token_store,
            max_retries=self.max_retries,
            max_retry_wait=self.max_retry_wait,
            retry_backoff=self.retry_backoff,
            max_rate=self.max_rate,
        )

    def _drop_wiring(self) -> None:
        # The next use builds a new wiring; the keeper's token endpoint belonged to this one.
        with self._lock:
            old, self._wiring = self._wiring, None
            self.keeper.endpoint = None
        if old is not None:
            old.close()

    @property
    def endpoints(self) -> presets.Endpoints:
        """The endpoints in force: explicit settings over the preset's."""
        return self.wiring.endpoints

    @property
    def scope_list(self) -> tuple[str, ...]:
        """The scopes asked for, as a tuple."""
        scopes = split_scopes(self.scopes)
        if scopes:
            return scopes
        return presets.SANDBOX_SCOPES if self.preset == "sandbox" else ("openid",)

    @property
    def client(self) -> httpx.Client:
        """The authenticated ``httpx.Client`` (keep-alive; the token goes to the API's host only)."""
        return self.wiring.client

    @property
    def aclient(self) -> httpx.AsyncClient:
        """The authenticated ``httpx.AsyncClient`` of the running event loop (same token, same
        rules): each loop has its own, so ``asyncio.run`` twice, or on another thread, works."""
        return self.wiring.aclient()

    @property
    def retry_policy(self) -> RetryPolicy:
        """Retry limits from the settings (built with the wiring; replaced when one changes)."""
        return self.wiring.retry

    @property
    def ahead_client(self) -> httpx.Client:
        """The client for pages fetched ahead (``concurrency=N``): its own connection pool.

        After a concurrent pull the pool keeps N idle connections, and httpx checks every
        idle connection of a pool on each request: kept apart, they cost ``client`` nothing.
        """
        return self.wiring.ahead

    def close(self) -> None:
        """Close connections (the token is kept)."""
        self._drop_wiring()

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
        response = self.wiring.plain.post(url, json=settings, headers=headers)
        if not response.is_success:
            raise ConfigError(f"The sandbox refused these settings: {response.text[:300]}")
        result: dict[str, Any] = response.json()
        return result

    # --- sign-in: the Session that SignIn needs, and the public methods it serves -----------
    def sign_in_settings(self) -> SignInSettings:
        """The sign-in settings in force now."""
        return SignInSettings(
            scopes=self.scope_list,
            redirect_uri=self.redirect_uri,
            relay_url=self.relay_url,
            handoff=self.handoff,
            open_browser=self.open_browser,
            login_timeout=self.login_timeout,
            authorize_params={str(k): str(v) for k, v in self.authorize_params.items()},
        )

    def binding(self) -> Binding:
        """What a token belongs to now: its client and the endpoints that see it."""
        return self._binding()

    def publish(self, **state: Any) -> None:
        """Set the observed state (``status``, ``user``, ``last_error``, ``login_url``)."""
        for name, value in state.items():
            if name not in _PUBLISHED:
                raise AttributeError(name)
            setattr(self, name, value)

    def begin_login(self) -> LoginFlow | HubAttempt:
        """Start a login; ``flow.url`` is what a person opens to sign in.

        A login already under way is cancelled: only the newest link works.
        """
        return self.signin.begin_login()

    def begin_ciba(self, login_hint: str, binding_message: str | None = None) -> CibaAttempt:
        """Sign in by phone (OpenID CIBA): Orange asks the person at ``login_hint``
        (``tel:+33612345678``) to approve; ``wait_for_login()`` then waits for the token.

        ``binding_message`` (at most 64 characters) is shown on the phone, so the person can
        tell this request from another. Needs ``backchannel_url`` (the sandbox has one) and,
        at Orange, ``token_auth_method="private_key_jwt"``. A sign-in under way is cancelled.
        """
        return begin_ciba(self, self.signin, login_hint, binding_message)

    def wait_for_login(self, timeout: float = 120) -> Token:
        """Block until signed in, starting a login when none is under way.

        ``TimeoutError`` when nobody signs in within ``timeout`` seconds (the link stays
        usable); ``LoginError`` when the sign-in failed. Works while a cell runs: the wait is
        plain HTTP or a socket, never a widget message.
        """
        return self.signin.wait_for_login(timeout)

    def complete_login(self, url: str) -> Token:
        """Finish a login with the URL the browser landed on (the paste handoff)."""
        return self.signin.complete_login(url)

    def login(
        self,
        wait: bool = False,
        timeout: float | None = None,
        *,
        ciba: str | None = None,
        binding_message: str | None = None,
    ) -> None:
        """Show the sign-in widget (in a notebook) and start signing in, unless signed in.

        With ``wait=True`` the cell blocks until signed in, so "Run All" works. With
        ``ciba="tel:+33…"`` the person signs in on that phone (:meth:`begin_ciba`).
        """
        begin = None
        if ciba is not None:
            hint = ciba

            def begin() -> str:
                attempt = self.begin_ciba(hint, binding_message)
                return f"Approve the sign-in on your phone {attempt.phone}."

        self.signin.login(self._login_ui(), wait=wait, timeout=timeout, begin=begin)

    def _login_ui(self) -> Callable[[Any], Any] | None:
        # Named, not imported: the widget sits above the session. Outside IPython (or with
        # `login_ui = ""`) the link is printed instead.
        if not self.login_ui or running_shell() is None:
            return None
        ui: Callable[[Any], Any] = import_item(self.login_ui)
        return ui

    def cancel_login(self) -> None:
        """Stop the sign-in under way (its link, or the phone's request, stops working)."""
        self.signin.cancel_login()

    def logout(self) -> None:
        """Sign out: revoke where the provider allows, forget the tokens here and in the store."""
        self.signin.logout()

    def redirect_rule(self) -> RedirectRule:
        """The redirect URI this session's next sign-in sends (what to register at Orange),
        with the rule behind it; ``%orange status`` and the widget show it."""
        forced = None if self.handoff == "auto" else self.handoff
        return redirect_rule(self.redirect_uri, forced=forced, relay_url=self.relay_url or None)

    @property
    def handoff_name(self) -> str | None:
        """How the latest sign-in reaches the kernel (``server``, ``loopback``, ``paste``…)."""
        return self.signin.handoff_name

    @property
    def waits_for_paste(self) -> bool:
        """Whether the sign-in under way can only be finished by pasting the landed URL."""
        return self.signin.waits_for_paste

    # --- token state -----------------------------------------------------------------------
    def _on_token_event(self, event: str, token: Token | None) -> None:
        if event == "refreshing":
            self.status = "refreshing"
            return
        if event == "refresh_failed":
            self.status = "signed_in"
            return
        self.token = token
        if event in ("expired", "spent"):
            self.status = "expired"
            self.last_error = (
                "Single-use token spent — sign in again."
                if event == "spent"
                else "Session expired — sign in again."
            )
            # The keeper cleared the store if it still held the refused token.
        elif token is not None:
            self.status = "signed_in"
            self.last_error = ""
            store = self._token_store() if event == "token" else None
            if store is not None:  # "stored": the keeper saved it, locked
                store.save(token)

    def _token_store(self) -> TokenStore | None:
        return self.wiring.store()

    def _restore(self) -> None:
        hub = self.wiring.hub
        if hub is not None:  # on a JupyterHub, the service holds the user's one sign-in
            try:
                token = hub.token()
            except (NetworkError, ConfigError):
                token = None  # the first call says why, with the sign-in link
            if token is not None:
                self.signin.restored(token, self.scope_list)
            return
        if self.token_store == "memory" or not self.client_id:
            return
        store = self._token_store()
        token = store.load() if store is not None else None
        if token is not None and not (token.expired and not token.refresh_token):
            self.signin.restored(token, self.scope_list)

    @property
    def logged_in(self) -> bool:
        """True while a token is held (it may be due for a refresh, which happens by itself)."""
        return self.keeper.token is not None

    def refresh(self) -> Token:
        """Refresh the token now."""
        self.wiring.wire_keeper()
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


def _unpickle(settings: dict[str, Any]) -> Orange:
    return Orange(**settings)
