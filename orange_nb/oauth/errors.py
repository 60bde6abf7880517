"""Errors a person sees: each message is one short paragraph saying what happened and what to do.

``OrangeNBError`` marks an *expected* error: the notebook face shows its message alone
(no traceback through our internals) and still fails the cell.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

SIGN_IN_AGAIN = "Sign in again with `%orange login` or `orange.login()`."


class OrangeNBError(Exception):
    """Base of every error orange_nb raises on purpose; its text is meant for people."""


class ConfigError(OrangeNBError, ValueError):
    """A setting is missing or malformed."""


class LoginError(OrangeNBError):
    """The sign-in did not complete: refused, stale, tampered with, or the token endpoint said no."""

    def __init__(
        self, message: str, *, error: str | None = None, description: str | None = None
    ) -> None:
        super().__init__(message)
        self.error = error
        self.description = description


class LoginRequired(LoginError):
    """There is no usable token: never signed in, signed out, or the refresh token was refused."""


# What to do, by Orange gateway code (ORANGE.md, "API errors").
_ADVICE = {
    40: "The request carried no access token. " + SIGN_IN_AGAIN,
    41: "The access token was not accepted. " + SIGN_IN_AGAIN,
    42: "The access token has expired. " + SIGN_IN_AGAIN,
    50: "Access denied: the application is not subscribed to this API, or the token lacks "
    "its scope. Add the scope to `Orange(scopes=…)` and sign in again, or subscribe the "
    "application on the developer portal.",
    51: "This application may not call this API. Check its subscription on the developer portal.",
    52: "This user may not call this API.",
    53: "Too many requests: slow down (at most a few calls a second) and try again in a moment.",
    60: "Check the path: no such resource.",
    61: "This method is not allowed on this path.",
    62: "The API could not answer in an acceptable format.",
    5: "Orange's service is temporarily unavailable; try again shortly.",
    6: "Orange's API is over capacity; try again later.",
}
_CAMARA_ADVICE = {
    "UNAUTHENTICATED": _ADVICE[41],
    "PERMISSION_DENIED": _ADVICE[50],
    "TOO_MANY_REQUESTS": _ADVICE[53],
    "QUOTA_EXCEEDED": _ADVICE[53],
}


def redact_url(url: str) -> str:
    """``url`` without its query values and fragment, which may carry codes or tokens."""
    parts = urlsplit(str(url))
    query = "&".join(
        f"{kv.split('=', 1)[0]}=…" if "=" in kv else kv for kv in parts.query.split("&") if kv
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class OrangeAPIError(OrangeNBError):
    """An Orange API answered with an error.

    Attributes: ``status`` (HTTP), ``code`` (Orange's integer code, or CAMARA's string code),
    ``message``, ``description``, ``request_id`` (``X-OAPI-Request-Id``: support asks for it),
    ``url`` (without query values) and ``method``.
    """

    def __init__(
        self,
        status: int,
        *,
        code: int | str | None = None,
        message: str | None = None,
        description: str | None = None,
        request_id: str | None = None,
        url: str = "",
        method: str = "GET",
        advice: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.description = description
        self.request_id = request_id
        self.url = redact_url(url)
        self.method = method
        self.advice = advice or self._default_advice()
        super().__init__(self._text())

    def _default_advice(self) -> str:
        if isinstance(self.code, int) and self.code in _ADVICE:
            return _ADVICE[self.code]
        if isinstance(self.code, str) and self.code in _CAMARA_ADVICE:
            return _CAMARA_ADVICE[self.code]
        if self.status == 401:
            return _ADVICE[41]
        if self.status == 429:
            return _ADVICE[53]
        if self.status >= 500:
            return "The API failed on its side; try again shortly."
        return ""

    def _text(self) -> str:
        what = f"{self.method} {self.url} failed: HTTP {self.status}"
        if self.code is not None:
            what += f", code {self.code}"
        if self.message:
            what += f" ({self.message}"
            what += f": {self.description})" if self.description else ")"
        what += "."
        if self.request_id:
            what += f" Request id {self.request_id}."
        return f"{what} {self.advice}".strip()

    @classmethod
    def from_response(cls, response: Any, advice: str | None = None) -> OrangeAPIError:
        """Build from an ``httpx.Response`` holding Orange's or CAMARA's error envelope (or neither)."""
        code: int | str | None = None
        message = description = None
        try:
            body = response.json()
        except Exception:
            body = None
        if isinstance(body, dict):
            raw = body.get("code")
            if isinstance(raw, bool):
                raw = None
            if isinstance(raw, int | str):
                code = int(raw) if isinstance(raw, str) and raw.isdigit() else raw
            msg = body.get("message") or body.get("error")
            desc = body.get("description") or body.get("error_description")
            message = str(msg)[:300] if msg is not None else None
            description = str(desc)[:500] if desc is not None else None
        elif response.text and "json" not in response.headers.get("content-type", ""):
            message = response.reason_phrase or None
        return cls(
            response.status_code,
            code=code,
            message=message,
            description=description,
            request_id=response.headers.get("x-oapi-request-id"),
            url=str(response.request.url),
            method=response.request.method,
            advice=advice,
        )


class NetworkError(OrangeNBError):
    """A server could not be reached, or the connection broke before a complete answer."""
