"""Errors the sandbox answers with, in the envelope each endpoint family uses.

They subclass tornado's ``HTTPError`` so a handler may raise one anywhere; the base
handler's ``write_error`` turns it into the right body. ``log_message`` stays empty, so
tornado logs nothing for them (their text may name a parameter, never a secret).
"""

from __future__ import annotations

from collections.abc import Mapping

from tornado.web import HTTPError

# Orange's gateway error codes, as Orange's "error handling" page documents them.
ORANGE_MESSAGES: Mapping[int, str] = {
    1: "Internal error",
    5: "Service temporarily unavailable",
    6: "Orange API is over capacity, retry later",
    20: "Invalid URL parameter value",
    21: "Missing body",
    22: "Invalid body",
    23: "Missing body field",
    24: "Invalid body field",
    25: "Missing header",
    26: "Invalid header value",
    27: "Missing query-string parameter",
    28: "Invalid query-string parameter value",
    40: "Missing credentials",
    41: "Invalid credentials",
    42: "Expired credentials",
    50: "Access denied",
    51: "Forbidden requester",
    52: "Forbidden user",
    53: "Too many requests",
    60: "Resource not found",
    61: "Method not allowed",
    62: "Not acceptable",
    63: "Request time-out",
    64: "Length required",
    65: "Precondition failed",
    66: "Request entity too large",
    67: "Request-URI too long",
    68: "Unsupported Media Type",
}

_STATUS_OF_CODE: Mapping[int, int] = {
    1: 500,
    5: 503,
    6: 503,
    **{code: 400 for code in range(20, 29)},
    40: 401,
    41: 401,
    42: 401,
    **{code: 403 for code in range(50, 54)},
    60: 404,
    61: 405,
    62: 406,
    63: 408,
    64: 411,
    65: 412,
    66: 413,
    67: 414,
    68: 415,
}

# The Orange code a bare HTTP status stands for (tornado's own errors, scripted faults).
_CODE_OF_STATUS: Mapping[int, int] = {
    400: 20,
    401: 41,
    403: 50,
    404: 60,
    405: 61,
    406: 62,
    408: 63,
    411: 64,
    412: 65,
    413: 66,
    414: 67,
    415: 68,
    429: 53,
    503: 5,
}

# CAMARA's envelope: status → code.
_CAMARA_CODES: Mapping[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "INVALID_ARGUMENT",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def rfc6749_text(text: str, limit: int = 300) -> str:
    """``text`` reduced to the characters RFC 6749 allows in ``error_description``
    (printable ASCII but ``"`` and ``\\``); anything else becomes ``?``."""
    return "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "?" for ch in text[:limit])


def orange_code_for_status(status: int) -> int:
    """The Orange error code that best describes a bare HTTP ``status``."""
    if status in _CODE_OF_STATUS:
        return _CODE_OF_STATUS[status]
    return 1 if status >= 500 else 20


def camara_code_for_status(status: int) -> str:
    """CAMARA's error ``code`` for an HTTP ``status``."""
    return _CAMARA_CODES.get(status, "INTERNAL" if status >= 500 else "INVALID_ARGUMENT")


class SandboxError(HTTPError):
    """Base of the sandbox's answered errors: a status plus extra response headers."""

    def __init__(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.headers: dict[str, str] = dict(headers or {})


class ApiError(SandboxError):
    """An API error in Orange's envelope: ``{"code", "message", "description"}``.

    CAMARA-style handlers render the same error in CAMARA's envelope instead.
    """

    def __init__(
        self,
        code: int,
        description: str,
        *,
        status: int | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status or _STATUS_OF_CODE.get(code, 500), headers)
        self.code = code
        self.message = ORANGE_MESSAGES.get(code, "Error")
        self.description = description

    def orange_body(self) -> dict[str, object]:
        """Orange's envelope."""
        return {"code": self.code, "message": self.message, "description": self.description}

    @property
    def camara_status(self) -> int:
        """The HTTP status under CAMARA's conventions (rate limiting is 429 there)."""
        return 429 if self.code == 53 else self.status_code

    def camara_body(self) -> dict[str, object]:
        """CAMARA's envelope for the same error."""
        return {
            "status": self.camara_status,
            "code": camara_code_for_status(self.camara_status),
            "message": self.description,
        }


class OAuthError(SandboxError):
    """An RFC 6749 §5.2 error answer of the token or revocation endpoint."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, headers)
        self.error = error
        self.description = rfc6749_text(description)

    def body(self) -> dict[str, object]:
        """``{"error", "error_description"}``."""
        return {"error": self.error, "error_description": self.description}


class PageError(SandboxError):
    """An authorization error that must not redirect (RFC 6749 §4.1.2.1): an HTML page."""

    def __init__(self, title: str, message: str, *, status: int = 400) -> None:
        super().__init__(status)
        self.title = title
        self.message = message


class RedirectError(Exception):
    """An authorization error sent back to the client's redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, *, keep_state: bool = True) -> None:
        super().__init__(error)
        self.error = error
        self.description = rfc6749_text(description)
        self.keep_state = keep_state


class ControlError(SandboxError):
    """A refused control-API request: ``{"error": "..."}``."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__(status)
        self.message = message
