"""The authorization server: discovery, authorize (+ its pages), token, userinfo, revoke."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import unquote_plus, urlencode, urlsplit

from . import camara, jwtauth, pkce
from .base import (
    MAX_VALUE,
    ParamProblem,
    SandboxHandler,
    group_pairs,
    media_type,
    parse_pairs,
    single_values,
)
from .ciba import GRANT_TYPE as CIBA_GRANT
from .clients import ISSUER, SCOPES, Client
from .data import DEFAULT_USER, user_profile
from .errors import OAuthError, PageError, RedirectError
from .pages import consent_page, sign_in_page
from .protected import ProtectedHandler
from .records import Pending

OIDC_PATH = "openidconnect/fr/v1/"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_BODY = 64 * 1024
NO_STORE: Mapping[str, str] = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_BASIC_CHALLENGE: Mapping[str, str] = {"WWW-Authenticate": 'Basic realm="orange_nb sandbox"'}
_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
_TOKEN_AUTH_METHODS = [*_AUTH_METHODS, "private_key_jwt"]


class DiscoveryHandler(SandboxHandler):
    """OpenID Provider metadata, with endpoints on the host and prefix the caller used."""

    endpoint = "discovery"

    def get(self) -> None:
        """The metadata document."""
        base = self.root_url() + OIDC_PATH
        self.answer_json(
            200,
            {
                "issuer": ISSUER,
                "authorization_endpoint": base + "authorize",
                "token_endpoint": base + "token",
                "userinfo_endpoint": base + "userinfo",
                "revocation_endpoint": base + "revoke",
                "jwks_uri": base + "jwks",
                "scopes_supported": list(SCOPES),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "grant_types_supported": ["authorization_code", "refresh_token", CIBA_GRANT],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["HS256"],
                "token_endpoint_auth_methods_supported": _TOKEN_AUTH_METHODS,
                "token_endpoint_auth_signing_alg_values_supported": list(jwtauth.ALGORITHMS),
                "backchannel_authentication_endpoint": base + "bc-authorize",
                "backchannel_token_delivery_modes_supported": ["poll"],
                "backchannel_user_code_parameter_supported": False,
                "revocation_endpoint_auth_methods_supported": _AUTH_METHODS,
                "code_challenge_methods_supported": list(pkce.METHODS),
                "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "name", "email"],
                "authorization_response_iss_parameter_supported": True,
            },
        )


class JwksHandler(SandboxHandler):
    """No public keys: ID tokens are HS256, signed with the client secret."""

    endpoint = "jwks"

    def get(self) -> None:
        """An empty key set."""
        self.answer_json(200, {"keys": []})


class AuthorizeHandler(SandboxHandler):
    """RFC 6749 §4.1.1 authorization requests, then the sign-in and consent pages.

    Every form posts back here (relative URL ``authorize``) with the hidden ``pending`` id
    that keys the request server side.
    """

    endpoint = "authorize"
    envelope = "html"

    def get(self) -> None:
        """An authorization request in the query string."""
        self._authorize(_read_groups(self.request.query), 302)

    def post(self) -> None:
        """A form step (``pending`` present), or an authorization request sent as a form."""
        if media_type(self.request.headers.get("Content-Type")) != FORM:
            raise PageError("Sign-in failed", "The sign-in form was not sent as a form.")
        if len(self.request.body) > MAX_FORM_BODY:
            raise PageError("Sign-in failed", "The form is too large.")
        groups = _read_groups(self.request.body)
        if "pending" in groups:
            self._step(groups)
        else:
            self._authorize(groups, 303)

    # ---- the authorization request ---------------------------------------------------

    def _authorize(self, groups: Mapping[str, list[str]], status: int) -> None:
        client = self._client(groups)
        redirect_uri = self._redirect_uri(groups, client)
        try:
            request = _validate(groups, client)
        except RedirectError as exc:
            self.sandbox.count("authorize.refused")
            states = groups.get("state", [])
            params = {"error": exc.error, "error_description": exc.description}
            if exc.keep_state and len(states) == 1:
                params["state"] = states[0]
            self._send_back(redirect_uri, params, status)
            return
        auto_user = self.sandbox.auto_consent_user()
        if "none" in request.get("prompt", "").split() and not auto_user:
            self.sandbox.count("authorize.refused")
            params = {
                "error": "login_required",
                "error_description": "prompt=none, but nobody is signed in to the sandbox.",
                "state": request["state"],
            }
            self._send_back(redirect_uri, params, status)
            return
        pending = self.sandbox.begin_authorization(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            scopes=tuple(request["scope"].split()),
            state=request["state"],
            nonce=request.get("nonce"),
            code_challenge=request.get("code_challenge"),
            login_hint=request.get("login_hint"),
        )
        if auto_user:
            self._approve(self.sandbox.take_pending(pending.id) or pending, auto_user, status)
            return
        hint = pending.login_hint if pending.login_hint and len(pending.login_hint) <= 64 else None
        self.answer_page(200, sign_in_page(pending.id, client.client_id, hint or DEFAULT_USER))

    def _client(self, groups: Mapping[str, list[str]]) -> Client:
        values = groups.get("client_id", [])
        if len(values) != 1 or not values[0]:
            missing = "is missing" if not values or not values[0] else "is given more than once"
            raise PageError("Invalid sign-in request", f"The request's client_id {missing}.")
        client = self.sandbox.client(values[0])
        if client is None:
            raise PageError(
                "Unknown application",
                f"No application is registered as “{values[0][:200]}”. Check the client id.",
            )
        return client

    def _redirect_uri(self, groups: Mapping[str, list[str]], client: Client) -> str:
        values = groups.get("redirect_uri", [])
        if len(values) != 1 or not values[0]:
            missing = "is missing" if not values or not values[0] else "is given more than once"
            raise PageError("Invalid sign-in request", f"The request's redirect_uri {missing}.")
        if not (client.allows_redirect(values[0]) and self.redirect_permitted(values[0])):
            raise PageError(
                "Unregistered redirect URI",
                f"“{values[0][:300]}” is not registered for {client.client_id}, so the sandbox "
                "will not send you there. Check the redirect URI the application uses.",
            )
        return values[0]

    def _send_back(self, redirect_uri: str, params: dict[str, str], status: int) -> None:
        params["iss"] = ISSUER  # RFC 9207
        separator = "&" if urlsplit(redirect_uri).query else "?"
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.redirect(redirect_uri + separator + urlencode(params), status=status)

    def _approve(self, pending: Pending, user: str, status: int) -> None:
        code = self.sandbox.issue_code(pending, user)
        self._send_back(pending.redirect_uri, {"code": code, "state": pending.state}, status)

    # ---- the pages' forms -------------------------------------------------------------

    def _step(self, groups: Mapping[str, list[str]]) -> None:
        if any(len(values) > 1 or len(values[0]) > MAX_VALUE for values in groups.values()):
            raise PageError("Sign-in failed", "The form repeats a field, or one is too long.")
        form = {key: values[0] for key, values in groups.items()}
        pending = self.sandbox.pending(form.get("pending", ""))
        if pending is None:
            raise PageError(
                "This sign-in page expired",
                "The sign-in took too long or was already finished.",
            )
        step = form.get("step")
        if step == "sign-in":
            self._signed_in(pending, form.get("username", "").strip())
        elif step == "consent" and form.get("decision") in ("approve", "deny"):
            self._decided(pending, form["decision"] == "approve")
        else:
            raise PageError("Sign-in failed", "The form was not understood.")

    def _signed_in(self, pending: Pending, username: str) -> None:
        problem = None
        if not username:
            problem = "Enter a user name (any will do, for example demo)."
        elif len(username) > 64 or not username.isprintable():
            problem = "Use at most 64 printable characters for the user name."
        if problem:
            page = sign_in_page(pending.id, pending.client_id, username[:64], problem)
            self.answer_page(400, page)
            return
        self.sandbox.sign_in(pending.id, username)
        page = consent_page(
            pending.id, pending.client_id, user_profile(username)["name"], pending.scopes, SCOPES
        )
        self.answer_page(200, page)

    def _decided(self, pending: Pending, approved: bool) -> None:
        if pending.user is None:
            raise PageError("Sign-in failed", "Sign in before approving.")
        taken = self.sandbox.take_pending(pending.id)
        if taken is None:  # another tab decided first
            raise PageError("This sign-in page expired", "This sign-in was already finished.")
        if approved:
            self._approve(taken, pending.user, 303)
            return
        self.sandbox.count("authorize.denied")
        params = {
            "error": "access_denied",
            "error_description": "The user denied the request.",
            "state": taken.state,
        }
        self._send_back(taken.redirect_uri, params, 303)


def _read_groups(raw: str | bytes) -> dict[str, list[str]]:
    # Values are not length-checked yet: an oversized one is refused by a redirect once
    # the client and its redirect URI are known (RFC 6749 §4.1.2.1).
    try:
        return group_pairs(parse_pairs(raw, limit=False))
    except ParamProblem as exc:
        raise PageError("Invalid sign-in request", str(exc)) from None


def _validate(groups: Mapping[str, list[str]], client: Client) -> dict[str, str]:
    """Check an authorization request once client and redirect URI are trusted.

    Returns single values by name; raises ``RedirectError`` for RFC 6749 §4.1.2.1 errors.
    """
    states = groups.get("state", [])
    if len(states) > 1:
        raise RedirectError("invalid_request", "state is given more than once.", keep_state=False)
    if not states or not states[0]:
        raise RedirectError("invalid_request", "state is required.", keep_state=False)
    if len(states[0]) > MAX_VALUE:
        raise RedirectError(
            "invalid_request", f"state is longer than {MAX_VALUE} characters.", keep_state=False
        )
    for key, values in groups.items():
        if len(values) > 1:
            raise RedirectError("invalid_request", f"{key[:60]} is given more than once.")
        if len(key) > 256 or len(values[0]) > MAX_VALUE:
            raise RedirectError(
                "invalid_request", f"A parameter is longer than {MAX_VALUE} characters."
            )
    request = {key: values[0] for key, values in groups.items()}
    response_type = request.get("response_type")
    if not response_type:
        raise RedirectError("invalid_request", "response_type is required.")
    if response_type != "code":
        raise RedirectError("unsupported_response_type", "Only response_type=code is supported.")
    scopes = request.get("scope", "").split()
    if not scopes:
        raise RedirectError("invalid_scope", "scope is required (for example: openid).")
    unknown = [s for s in scopes if s not in client.scopes]
    if unknown:
        raise RedirectError("invalid_scope", f"Unknown scope: {' '.join(unknown)[:200]}.")
    problem = camara.purpose_problem(scopes)
    if problem:
        raise RedirectError("invalid_scope", problem)
    request["scope"] = " ".join(dict.fromkeys(scopes))
    pkce.check_challenge(request.get("code_challenge_method"), request.get("code_challenge"))
    return request


# ---- token, userinfo, revoke -------------------------------------------------------------


class _ClientAuthHandler(SandboxHandler):
    """Form-encoded POST with client authentication (RFC 6749 §2.3.1)."""

    envelope = "oauth"

    def read_form(self) -> dict[str, str]:
        """The form body as single values; ``OAuthError`` (invalid_request) otherwise.

        An empty body reads as an empty form, whatever its Content-Type.
        """
        if not self.request.body:
            return {}
        if media_type(self.request.headers.get("Content-Type")) != FORM:
            raise OAuthError(
                "invalid_request",
                f"Send the parameters in the body as {FORM} (Content-Type header).",
            )
        if len(self.request.body) > MAX_FORM_BODY:
            raise OAuthError("invalid_request", "The request body is too large.")
        try:
            return single_values(self.request.body)
        except ParamProblem as exc:
            raise OAuthError("invalid_request", str(exc)) from None

    def authenticate_client(self, form: Mapping[str, str]) -> Client:
        """The client, from HTTP Basic or ``client_secret_post``; ``OAuthError`` otherwise."""
        headers = self.request.headers.get_list("Authorization")
        if "client_assertion" in form or "client_assertion_type" in form:  # private_key_jwt
            base = self.root_url() + OIDC_PATH
            return jwtauth.client_from_assertion(
                self.sandbox,
                form,
                has_basic=bool(headers),
                audiences=[ISSUER, base + "token", base + "bc-authorize"],
            )
        body_id, body_secret = form.get("client_id"), form.get("client_secret")
        if len(headers) > 1:
            raise OAuthError("invalid_request", "Authorization is given more than once.")
        if headers:
            client_id, secret = _basic_credentials(headers[0])
            if body_secret is not None:
                raise OAuthError(
                    "invalid_request",
                    "Use one client authentication method: HTTP Basic or client_secret in the "
                    "body, not both.",
                )
            if body_id is not None and body_id != client_id:
                raise OAuthError(
                    "invalid_request", "client_id in the body differs from HTTP Basic."
                )
            challenge: Mapping[str, str] = _BASIC_CHALLENGE
        elif body_id is not None and body_secret is not None:
            client_id, secret, challenge = body_id, body_secret, {}
        else:
            raise OAuthError(
                "invalid_client",
                "Client authentication is missing: use HTTP Basic (client_secret_basic) or "
                "client_id and client_secret in the body (client_secret_post).",
                status=401,
            )
        client = self.sandbox.client(client_id)
        if client is None or not client.secret_matches(secret):
            raise OAuthError(
                "invalid_client", "Client authentication failed.", status=401, headers=challenge
            )
        return client


def _basic_credentials(header: str) -> tuple[str, str]:
    """RFC 6749 §2.3.1: base64, split on the first ':', then form-url-decode each part."""
    scheme, _, encoded = header.strip().partition(" ")
    problem = None
    if scheme.lower() != "basic":
        problem = "Use HTTP Basic for client authentication."
    else:
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            decoded = ""
            problem = "The Basic credentials are not valid base64."
        if not problem and ":" not in decoded:
            problem = "The Basic credentials must be client_id:client_secret."
    if problem:
        raise OAuthError("invalid_client", problem, status=401, headers=_BASIC_CHALLENGE)
    raw_id, _, raw_secret = decoded.partition(":")
    return unquote_plus(raw_id), unquote_plus(raw_secret)


class TokenHandler(_ClientAuthHandler):
    """RFC 6749 §4.1.3 and §6: authorization code and refresh token grants."""

    endpoint = "token"
    grants: ClassVar[frozenset[str]] = frozenset(
        {"authorization_code", "refresh_token", CIBA_GRANT}
    )

    def post(self) -> None:
        """Exchange a code or a refresh token for tokens."""
        try:
            answer = self._grant()
        except OAuthError:
            self.sandbox.count("token_errors")
            raise
        self.answer_json(200, answer, NO_STORE)

    def _grant(self) -> dict[str, object]:
        form = self.read_form()
        grant_type = form.get("grant_type")
        self.sandbox.count(f"token.{grant_type if grant_type in self.grants else 'other'}")
        client = self.authenticate_client(form)
        if not grant_type:
            raise OAuthError("invalid_request", "Missing grant_type in body")
        if grant_type == "authorization_code":
            code = form.get("code")
            if not code:
                raise OAuthError("invalid_request", "Missing code in body")
            return self.sandbox.exchange_code(
                client, code, form.get("redirect_uri"), form.get("code_verifier")
            )
        if grant_type == "refresh_token":
            refresh_token = form.get("refresh_token")
            if not refresh_token:
                raise OAuthError("invalid_request", "Missing refresh_token in body")
            scopes = tuple(dict.fromkeys(form.get("scope", "").split())) or None
            unknown = [s for s in scopes or () if s not in SCOPES]
            if unknown:
                raise OAuthError("invalid_scope", f"Unknown scope: {' '.join(unknown)[:200]}.")
            return self.sandbox.refresh(client, refresh_token, scopes)
        if grant_type == CIBA_GRANT:
            auth_req_id = form.get("auth_req_id")
            if not auth_req_id:
                raise OAuthError("invalid_request", "Missing auth_req_id in body")
            return self.sandbox.ciba_token(client, auth_req_id)
        raise OAuthError(
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token.",
        )

    def get(self) -> None:
        """The token endpoint takes POST only."""
        raise OAuthError("invalid_request", "The token endpoint accepts POST only.", status=405)


class RevokeHandler(_ClientAuthHandler):
    """RFC 7009 token revocation."""

    endpoint = "revoke"

    def post(self) -> None:
        """Revoke a token; 200 whether or not it was known."""
        form = self.read_form()
        client = self.authenticate_client(form)
        token = form.get("token")
        if not token:
            raise OAuthError("invalid_request", "Missing token in body")
        self.sandbox.revoke(client, token)
        self.answer(200, b"", None, NO_STORE)


class UserinfoHandler(ProtectedHandler):
    """OIDC userinfo: ``sub`` (scope openid), ``name`` and ``email`` (scope profile)."""

    endpoint = "userinfo"
    scope = "openid"
    counter = "userinfo_calls"

    def get(self) -> None:
        """The signed-in user's claims."""
        record = self.authorize_call()
        profile = user_profile(record.user)
        claims = {"sub": profile["sub"]}
        if "profile" in record.scopes:
            claims.update(name=profile["name"], email=profile["email"])
        self.answer_json(200, claims, NO_STORE)

    def post(self) -> None:
        """Userinfo accepts POST as well (OIDC Core §5.3.1)."""
        self.get()
