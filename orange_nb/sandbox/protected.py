"""Bearer-protected handlers: token check, per-client rate limit, scope check."""

from __future__ import annotations

from typing import ClassVar

from .base import SandboxHandler
from .errors import ApiError
from .records import IssuedToken

_REALM = 'Bearer realm="orange_nb sandbox"'


def _invalid_token(description: str) -> dict[str, str]:
    # RFC 6750 §3: a presented token that fails says so in WWW-Authenticate.
    return {"WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'}


class ProtectedHandler(SandboxHandler):
    """A handler whose methods start with ``self.authorize_call()``."""

    scope: ClassVar[str | None] = "mobility:read"
    counter: ClassVar[str] = "api_calls"

    def authorize_call(self) -> IssuedToken:
        """The caller's access token record, or ``ApiError`` (40/41/42/50/53)."""
        self.sandbox.count(self.counter)
        try:
            return self._check_token()
        except ApiError:
            self.sandbox.count("api_errors")
            raise

    def _check_token(self) -> IssuedToken:
        values = self.request.headers.get_list("Authorization")
        if not values:
            raise ApiError(
                40,
                "No access token. Send the header 'Authorization: Bearer <access token>'.",
                headers={"WWW-Authenticate": _REALM},
            )
        scheme, _, token = values[0].strip().partition(" ")
        token = token.strip()
        if len(values) > 1 or scheme.lower() != "bearer" or not token:
            raise ApiError(
                40,
                "The Authorization header must be given once, as 'Bearer <access token>'.",
                headers={"WWW-Authenticate": _REALM},
            )
        status, record = self.sandbox.check_bearer(token)
        if status == "invalid" or record is None:
            raise ApiError(
                41,
                "The access token is unknown or was revoked. Refresh it, or sign in again.",
                headers=_invalid_token("The access token is invalid"),
            )
        if status == "expired":
            raise ApiError(
                42,
                "The access token expired. Refresh it, or sign in again.",
                headers=_invalid_token("The access token expired"),
            )
        allowed = self.sandbox.allow_call(record.client_id)
        quota = self.sandbox.rate_headers(record.client_id)  # on every answer, as gateways do
        if not allowed:
            limit = self.sandbox.settings.rate_limit_per_second
            raise ApiError(
                53,
                f"This sandbox allows {limit:g} per second per application. "
                "Wait a second and retry.",
                headers=quota,
            )
        for name, value in quota.items():
            self.set_header(name, value)
        if self.scope is not None and self.scope not in record.scopes:
            raise ApiError(
                50,
                f"The access token was not granted the scope '{self.scope}'. Sign in again "
                "asking for it.",
                headers={
                    "WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{self.scope}"'
                },
            )
        return record
