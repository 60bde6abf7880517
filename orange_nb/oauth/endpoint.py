"""The token endpoint: code exchange, refresh, revocation (RFC 6749 §4.1.3, §6; RFC 7009).

Every call authenticates the client one way: HTTP Basic, the secret in the form, or a signed
client assertion (``private_key_jwt``, RFC 7523: see ``assertion.py``). :meth:`TokenEndpoint.post`
gives the same authentication to other endpoints of the provider (CIBA's backchannel one).
"""

from __future__ import annotations

import base64
import hmac
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote_plus

import httpx

from ..errors import (
    SIGN_IN_AGAIN,
    LoginError,
    LoginRequired,
    NetworkError,
    one_line,
    parse_json,
    read_answer,
    request_id_of,
)
from .assertion import ClientAssertion
from .secret import Secret
from .token import Token

AuthMethod = Literal["client_secret_basic", "client_secret_post", "private_key_jwt"]

_TOKEN_ERROR_ADVICE = {
    "invalid_client": "Orange did not accept the client id and secret: check ORANGE_CLIENT_ID "
    "and ORANGE_CLIENT_SECRET against the application on the developer portal.",
    "invalid_grant": "The authorization code was refused (used already, expired, or issued "
    "for another redirect URI or app). " + SIGN_IN_AGAIN,
    "invalid_request": "Orange refused the token request as malformed.",
    "unauthorized_client": "This application may not use this grant; check its settings on "
    "the developer portal.",
    "unsupported_grant_type": "Orange does not support this grant type here.",
    "invalid_scope": "Orange refused the requested scopes; check `scopes`.",
}
_ASSERTION_ADVICE = {
    **_TOKEN_ERROR_ADVICE,
    "invalid_client": "Orange did not accept the signed client assertion: check ORANGE_CLIENT_ID, "
    "that the public JWK set registered for the application holds this key (and `key_id`), "
    "and that this computer's clock is right.",
}


_SECRET_FIELDS = ("access_token", "refresh_token", "id_token")
_OAUTH_ERROR = re.compile(r"[\x20-\x21\x23-\x5b\x5d-\x7e]{1,60}")  # RFC 6749 §5.2's charset
Form = Mapping[str, "str | Secret"]
_MESSAGE_BUDGET = 300  # characters of a token endpoint's refusal, request id included


def basic_credentials(client_id: str, client_secret: str | Secret) -> str:
    """The ``Authorization: Basic`` value of RFC 6749 §2.3.1.

    Id and secret are form-url-encoded *before* base64, so a secret holding ``:``, ``%``, ``+``,
    spaces or non-ASCII reaches the server intact.
    """
    raw = f"{quote_plus(client_id)}:{quote_plus(Secret.of(client_secret).reveal())}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _bad_id_token() -> LoginError:
    return LoginError("Orange returned a malformed ID token. Sign in again.")


def id_token_claims(id_token: str | Secret) -> dict[str, Any]:
    """The claims of a JWT, unverified; ``LoginError`` for anything that is not one.

    The ID token arrives straight from the token endpoint over TLS, which OIDC Core §3.1.3.7
    accepts in place of checking its signature; we still check nonce, audience and issuer.
    """
    parts = Secret.of(id_token).reveal().split(".")
    if len(parts) != 3:
        raise _bad_id_token()
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = parse_json(payload)
    except ValueError:  # binascii.Error, UnicodeDecodeError and bad JSON are all ValueErrors
        raise _bad_id_token() from None
    if not isinstance(claims, dict):
        raise _bad_id_token()
    return claims


def _same_text(a: Any, b: str) -> bool:
    """Constant-time equality of a claim and our value (``compare_digest`` refuses non-ASCII str)."""
    return isinstance(a, str) and hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))


def sealed(body: Any) -> Any:
    """A token answer with its tokens wrapped as :class:`Secret` the moment it is decoded."""
    if not isinstance(body, dict):
        return body
    return {
        k: Secret(v) if k in _SECRET_FIELDS and isinstance(v, str) else v for k, v in body.items()
    }


def read_token_answer(
    status: int,
    body: Any,
    *,
    refreshing: bool = False,
    request_id: str | None = None,
    advice: Mapping[str, str] | None = None,
) -> Mapping[str, Any]:
    """The token endpoint's answer (any JSON value, or ``None`` when not JSON) as a token body.

    Returns the body of a success that carries an access token; raises ``LoginRequired``
    for a refused refresh token and ``LoginError`` for everything else, whatever came back.
    ``advice`` (what to do, by OAuth error) replaces the code flow's.
    """
    success = 200 <= status < 300
    if success and isinstance(body, dict) and isinstance(body.get("access_token"), str | Secret):
        return body
    raw = body.get("error") if isinstance(body, dict) else None
    error = raw.strip() if isinstance(raw, str) and _OAUTH_ERROR.fullmatch(raw.strip()) else ""
    described = body.get("error_description") if isinstance(body, dict) else None
    description = one_line(described, 300) if isinstance(described, str) else ""
    if refreshing and error in ("invalid_grant", "invalid_token"):
        raise LoginRequired(
            "Your Orange session has ended (the refresh token was refused). " + SIGN_IN_AGAIN,
            error=error,
            description=description,
            request_id=request_id,
        )
    if not error:
        what = "no token" if success else f"HTTP {status}"
        raise LoginError(
            f"Orange's token endpoint answered with {what} and no OAuth error. "
            "Check the token URL, then try again.",
            request_id=request_id,
        )
    what_to_do = (advice if advice is not None else _TOKEN_ERROR_ADVICE).get(error, "")

    # The server's description only as far as the whole stays one short paragraph (a
    # widget shows 300 characters); all of it stays in `.description`.
    def text(said: str) -> str:
        return f"Orange's token endpoint refused the request ({error}{said}). {what_to_do}".strip()

    room = _MESSAGE_BUDGET - len(text(": ")) - (len(request_id) + 13 if request_id else 0)
    raise LoginError(
        text(f": {_cut(description, room)}" if description and room >= 20 else ""),
        error=error,
        description=description,
        request_id=request_id,
    )


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _with_request_id(exc: LoginError, request_id: str | None) -> LoginError:
    if not request_id or exc.request_id:
        return exc
    return type(exc)(str(exc), error=exc.error, description=exc.description, request_id=request_id)


class TokenEndpoint:
    """Talks to one token endpoint for one client. Thread-safe (``httpx.Client`` is).

    The client secret, codes, verifiers and tokens it handles are ``Secret`` objects, revealed
    only in the expression that hands them to ``httpx``. With ``auth_method="private_key_jwt"``
    each request carries a new assertion made by ``assertion`` (and no secret at all).
    """

    brokered: ClassVar[bool] = False
    """True for an endpoint that refreshes on the kernel's behalf without a refresh token of
    the kernel's (the JupyterHub service's): the keeper then asks it even without one."""

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str | Secret | None,
        *,
        http: httpx.Client,
        auth_method: AuthMethod = "client_secret_basic",
        issuer: str | None = None,
        revocation_url: str | None = None,
        assertion: ClientAssertion | None = None,
    ) -> None:
        if auth_method == "private_key_jwt" and assertion is None:
            raise ValueError("private_key_jwt needs a ClientAssertion")
        self.url = url
        self.client_id = client_id
        self._client_secret = Secret.of(client_secret or "")
        self.auth_method = auth_method
        self.issuer = issuer
        self.revocation_url = revocation_url
        self.assertion = assertion
        self._http = http

    def __repr__(self) -> str:
        return f"TokenEndpoint({self.url!r}, client_id={self.client_id!r})"

    @property
    def advice(self) -> Mapping[str, str]:
        """What to do, by OAuth error, for this endpoint's way of authenticating the client."""
        return _ASSERTION_ADVICE if self.auth_method == "private_key_jwt" else _TOKEN_ERROR_ADVICE

    def _client_auth(self, url: str, form: Form) -> tuple[Form, Form]:
        headers: dict[str, str | Secret] = {"Accept": "application/json"}
        if self.auth_method == "private_key_jwt" and self.assertion is not None:
            form = {**form, **self.assertion.form(url)}  # a new jti for every request
        elif self.auth_method == "client_secret_post":
            form = {**form, "client_id": self.client_id, "client_secret": self._client_secret}
        else:
            headers["Authorization"] = Secret(
                basic_credentials(self.client_id, self._client_secret)
            )
        return form, headers

    def post(
        self, url: str, form: Form, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """POST ``form`` to ``url`` with this client's authentication; the answer, read.

        ``NetworkError`` when the endpoint cannot be reached or does not answer in time.
        """
        return self._post(url, form, headers)

    def _post(
        self, url: str, form: Form, extra_headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        fields, headers = self._client_auth(url, form)
        headers = {**headers, **(extra_headers or {})}
        try:
            # Streamed, then read by read_answer: a body that fails to decompress becomes a
            # NetworkError that still knows the answer's headers (and request id).
            return read_answer(
                self._http.send(
                    self._http.build_request(
                        "POST", url, data=_revealed(fields), headers=_revealed(headers)
                    ),
                    stream=True,
                )
            )
        except httpx.TimeoutException as exc:
            raise NetworkError(
                f"Orange's token endpoint ({url}) did not answer in time. Check the network "
                "and try again."
            ) from exc
        except httpx.TransportError as exc:
            raise NetworkError(
                f"Could not reach Orange's token endpoint ({url}): {type(exc).__name__}. "
                "Check the network and the token URL, then try again."
            ) from exc

    def _token(
        self,
        form: Form,
        *,
        refreshing: bool,
        nonce: str | None,
        requested_scopes: tuple[str, ...] = (),
        previous: Token | None = None,
    ) -> Token:
        requested_at = time.time()
        response = self._post(self.url, form)
        return self.token_from(
            response.status_code,
            response.content,
            response.headers,
            refreshing=refreshing,
            nonce=nonce,
            requested_at=requested_at,
            requested_scopes=requested_scopes,
            previous=previous,
        )

    def token_from(
        self,
        status: int,
        content: bytes,
        headers: Mapping[str, str],
        *,
        refreshing: bool,
        nonce: str | None,
        requested_at: float,
        requested_scopes: tuple[str, ...] = (),
        previous: Token | None = None,
        advice: Mapping[str, str] | None = None,
    ) -> Token:
        """The token in an answer of the token endpoint (status, body bytes, headers).

        Whatever the answer, this returns a ``Token`` or raises ``LoginError`` (``LoginRequired``
        for a refused refresh token), with the answer's request id when it has one. ``advice``
        (what to do, by OAuth error) replaces this endpoint's for another grant's errors.
        """
        request_id = request_id_of(headers)
        try:
            body = sealed(parse_json(content))  # tokens become Secrets as they are decoded
        except ValueError:
            body = None
        answer = read_token_answer(
            status,
            body,
            refreshing=refreshing,
            request_id=request_id,
            advice=self.advice if advice is None else {**self.advice, **advice},
        )
        try:
            id_token = answer.get("id_token")
            claims = self.check_id_token(id_token, nonce) if id_token or not refreshing else None
            return Token.from_response(
                answer,
                requested_at=requested_at,
                requested_scopes=requested_scopes,
                previous=previous,
                id_claims=claims,
            )
        except LoginError as exc:
            raise _with_request_id(exc, request_id) from None

    def exchange_code(
        self,
        code: str | Secret,
        *,
        redirect_uri: str,
        code_verifier: str | Secret,
        scopes: tuple[str, ...] = (),
        nonce: str | None = None,
    ) -> Token:
        """Trade an authorization code for tokens (PKCE verifier included)."""
        form: dict[str, str | Secret] = {
            "grant_type": "authorization_code",
            "code": Secret.of(code),
            "redirect_uri": redirect_uri,
            "code_verifier": Secret.of(code_verifier),
        }
        return self._token(form, refreshing=False, nonce=nonce, requested_scopes=scopes)

    def refresh(self, token: Token, scopes: tuple[str, ...] | None = None) -> Token:
        """Refresh ``token``; an answer without a new refresh token keeps the old one."""
        if not token.refresh_token:
            raise LoginRequired(
                "Your Orange session has expired and cannot be refreshed. " + SIGN_IN_AGAIN
            )
        form: dict[str, str | Secret] = {
            "grant_type": "refresh_token",
            "refresh_token": token.refresh_token,
        }
        if scopes:
            form["scope"] = " ".join(scopes)
        return self._token(form, refreshing=True, nonce=None, previous=token)

    def revoke(self, token: Token) -> bool:
        """Revoke the refresh token (and with it, per RFC 7009, its access tokens) where possible.

        Returns whether the provider confirmed. Never raises: signing out must always work.
        """
        if not self.revocation_url:
            return False
        ok = True
        for value, hint in (
            (token.refresh_token, "refresh_token"),
            (token.access_token, "access_token"),
        ):
            if not value:
                continue
            try:
                response = self._post(
                    self.revocation_url, {"token": value, "token_type_hint": hint}
                )
                ok = ok and response.is_success
            except NetworkError:
                ok = False
        return ok

    def check_id_token(self, id_token: Any, nonce: str | None) -> dict[str, Any] | None:
        """The claims of a token answer's ``id_token`` (``None`` without one), checked.

        ``LoginError`` when it is no JWT (or not text), or its nonce, audience or issuer is
        not this login's.
        """
        if id_token is None or id_token == "":
            return None
        if not isinstance(id_token, Secret):
            raise _bad_id_token()
        claims = id_token_claims(id_token)
        if nonce is not None and not _same_text(claims.get("nonce"), nonce):
            raise LoginError(
                "The ID token does not answer this login (nonce mismatch). Sign in again."
            )
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if aud is not None and self.client_id not in audiences:
            raise LoginError("The ID token was issued to another application. Sign in again.")
        if self.issuer and claims.get("iss") not in (None, self.issuer):
            raise LoginError("The ID token comes from another issuer. Sign in again.")
        return claims


def _revealed(values: Form) -> dict[str, str]:
    return {k: v.reveal() if isinstance(v, Secret) else v for k, v in values.items()}
