"""Every error orange_nb raises on purpose, and how an error answer reads.

Each message is one short paragraph: what happened and what to do (with the server's
request id when it sent one). ``OrangeNBError`` marks an *expected* error: in IPython its
message shows alone, without a traceback through our internals, and the cell still fails.

    OrangeNBError
    ├── ConfigError (ValueError)   a setting is missing or malformed
    │   └── PrivateKeyError        the private key (private_key_jwt) is missing, exposed or unusable
    ├── LoginError                 the sign-in did not complete
    │   ├── LoginRequired          no usable token: sign in (again)
    │   ├── LoginDenied            the person refused (on the phone, for a backchannel sign-in)
    │   ├── LoginExpired           the backchannel sign-in request expired before approval
    │   └── LoginCancelled         the sign-in was cancelled here before it finished
    ├── OrangeAPIError             an API answered with an error (status, code, request id)
    ├── NetworkError               unreachable, timed out, or an answer cut or undecodable
    ├── TokenSentElsewhere         a request would carry the token to a host not allowed
    ├── ForeignPageError           a next page on another host: not fetched
    ├── UsageError                 a %orange line or cell that cannot be understood
    ├── RecordsPathError (ValueError)  ``records`` does not lead to records
    ├── NestingError (ValueError)  an answer nested too deeply to flatten or show
    ├── TokenStoreBusy             another kernel held the shared token store too long
    └── SecretNotPicklable (TypeError)  something tried to pickle a secret

Below the classes: the readers of error answers (Orange's envelope, CAMARA's, RFC 6749's),
request ids, and strict JSON decoding, so that every answer reads the same way everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from ._urls import shown_origin

if TYPE_CHECKING:  # httpx loads with the first call, not with `import orange_nb`
    import httpx

SIGN_IN_AGAIN = "Sign in again with `%orange login` or `orange.login()`."
TOKEN_SPENT = (
    "The access token was single-use (CAMARA Number Verification) and a call has spent it: "
    "each verification needs a new sign-in."
)


class OrangeNBError(Exception):
    """Base of every error orange_nb raises on purpose; its text is meant for people."""


class ConfigError(OrangeNBError, ValueError):
    """A setting is missing or malformed."""


class LoginError(OrangeNBError):
    """The sign-in did not complete: refused, stale, tampered with, or the token endpoint said no.

    ``request_id``, when the token endpoint sent one, ends the message: support asks for it.
    """

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        description: str | None = None,
        request_id: str | None = None,
    ) -> None:
        if request_id:
            message = f"{message} Request id {request_id}."
        super().__init__(message)
        self.error = error
        self.description = description
        self.request_id = request_id


class LoginRequired(LoginError):
    """There is no usable token: never signed in, signed out, or the refresh token was refused."""


class LoginDenied(LoginError):
    """The person refused the sign-in (``access_denied``), e.g. tapped Deny on the phone."""


class LoginExpired(LoginError):
    """A backchannel (CIBA) sign-in request expired before anyone approved it."""


class LoginCancelled(LoginError):
    """The sign-in was cancelled in this kernel before it finished."""


class PrivateKeyError(ConfigError):
    """The private key for ``private_key_jwt`` is missing, readable by others, or no usable key."""


# What to do, by Orange gateway code (Orange's "error handling" documentation).
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SPACES = re.compile(r"\s+")
_ASCII_DIGITS = re.compile(r"[0-9]{1,6}")
_CAMARA_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,99}")
_REQUEST_ID = re.compile(r"[!-~]{1,128}")  # visible ASCII: ids are tokens, not prose


def one_line(text: str, limit: int) -> str:
    """``text`` from a server as one short line: no control characters, no line breaks."""
    return _SPACES.sub(" ", _CONTROL.sub(" ", text[: limit * 4])).strip()[:limit]


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The id a server gave its answer: ``X-OAPI-Request-Id`` (Orange) or ``x-correlator`` (CAMARA).

    Only a plain token of visible ASCII is kept: a header is the server's text, not ours.
    """
    for name in ("x-oapi-request-id", "x-correlator"):
        value = (headers.get(name) or "").strip()
        if _REQUEST_ID.fullmatch(value):
            return value
    return None


def correlator_of(response: Any) -> str | None:
    """A call's ``x-correlator``: as the server echoed it, else as the request sent it."""
    for headers in (response.headers, response.request.headers):
        value = (headers.get("x-correlator") or "").strip()
        if _REQUEST_ID.fullmatch(value):
            return value
    return None


def ids_text(request_id: str | None, correlator: str | None) -> str:
    """``"Request id R, x-correlator C."`` (what support asks for), or less, or ``""``."""
    parts = [f"Request id {request_id}"] if request_id else []
    if correlator and correlator != request_id:
        parts.append(
            f"x-correlator {correlator}" if parts else f"Request x-correlator {correlator}"
        )
    return ", ".join(parts) + "." if parts else ""


def parse_json(content: bytes | str) -> Any:
    """JSON text as Python values; ``ValueError`` for anything that is not JSON.

    Nesting deeper than the interpreter's recursion limit is malformed too (``json`` raises
    ``RecursionError`` there, which is no ``ValueError``).
    """
    try:
        return json.loads(content)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def json_body(response: Any) -> Any:
    """An ``httpx.Response``'s body as JSON, or ``None`` when it is not JSON."""
    try:
        return parse_json(response.content)
    except ValueError:
        return None


def error_code(raw: Any) -> int | str | None:
    """An envelope's ``code``: Orange's small integer (``53`` or ``"53"``), CAMARA's word, else ``None``.

    Only ASCII digits make a number (``int()`` also reads "٣" or "３"); booleans, floats,
    lists, objects and huge numbers are no code at all.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 <= raw < 10**6 else None
    if isinstance(raw, str):
        text = raw.strip()
        if _ASCII_DIGITS.fullmatch(text):
            return int(text)
        if _CAMARA_CODE.fullmatch(text):
            return text
    return None


def _text_field(value: Any, limit: int) -> str | None:
    return (one_line(value, limit) or None) if isinstance(value, str) else None


def error_envelope(body: Any) -> tuple[int | str | None, str | None, str | None]:
    """``(code, message, description)`` of any JSON value.

    Reads Orange's ``{"code", "message", "description"}``, CAMARA's ``{"status", "code",
    "message"}`` and RFC 6749's ``{"error", "error_description"}``; whatever else comes back
    gives ``None`` fields, never an exception.
    """
    if not isinstance(body, dict):
        return None, None, None
    code = error_code(body.get("code"))
    message = _text_field(body.get("message"), 300) or _text_field(body.get("error"), 300)
    description = _text_field(body.get("description"), 500) or _text_field(
        body.get("error_description"), 500
    )
    return code, message, description


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
    ``correlator`` (the call's ``x-correlator``, CAMARA's: both ids end the message),
    ``url`` (without query values) and ``method``. The message names a URL under ``base``
    (the session's ``api_url``) by its path, as it was typed: ``GET /sandbox/x failed``.
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
        base: str | None = None,
        correlator: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.description = description
        self.request_id = request_id
        self.correlator = correlator
        self.url = redact_url(url)
        self.shown_url = _under(self.url, base)
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
        what = f"{self.method} {self.shown_url} failed: HTTP {self.status}"
        if self.code is not None:
            what += f", code {self.code}"
        if self.message:
            what += f" ({self.message}"
            what += f": {self.description})" if self.description else ")"
        what += "."
        ids = ids_text(self.request_id, self.correlator)
        return " ".join(part for part in (what, ids, self.advice) if part)

    @classmethod
    def from_response(
        cls, response: Any, advice: str | None = None, base: str | None = None
    ) -> OrangeAPIError:
        """Build from an ``httpx.Response`` holding Orange's or CAMARA's error envelope (or neither)."""
        body = json_body(response)
        code, message, description = error_envelope(body)
        if (
            not isinstance(body, dict)
            and response.content
            and "json" not in response.headers.get("content-type", "")
        ):
            message = one_line(response.reason_phrase or "", 100) or None
        return cls(
            response.status_code,
            code=code,
            message=message,
            description=description,
            request_id=request_id_of(response.headers),
            url=str(response.request.url),
            method=response.request.method,
            advice=advice,
            base=base,
            correlator=correlator_of(response),
        )


def _under(url: str, base: str | None) -> str:
    """``url`` as a path when it is under ``base`` (the API's root), else whole."""
    root = redact_url(base).rstrip("/") if base else ""
    if root and url.startswith(root + "/"):
        return url[len(root) :]
    return url


class NetworkError(OrangeNBError):
    """A server could not be reached, or the connection broke before a complete answer."""


class TokenSentElsewhere(OrangeNBError):
    """A request would have carried the bearer token to a host that is not allowed."""


class UsageError(OrangeNBError):
    """The %orange line or cell cannot be understood; the message names the bad part."""


class RecordsPathError(OrangeNBError, ValueError):
    """``records_path`` does not lead to a list of objects in the answer."""


class NestingError(OrangeNBError, ValueError):
    """An answer nests objects or lists too deeply to flatten into columns or to show."""


class TokenStoreBusy(OrangeNBError):
    """Another kernel held the shared token store's lock for too long."""


class SecretNotPicklable(OrangeNBError, TypeError):
    """Something tried to pickle a secret (a token, a code, a client secret)."""


class ForeignPageError(OrangeNBError):
    """The next page is on another scheme or host than the request: it is not fetched.

    ``url`` is that page's URL; the bearer token must never be sent there.
    """

    def __init__(self, url: str, request_url: str) -> None:
        self.url = url
        super().__init__(
            f"The next page is on {shown_origin(url)}, not {shown_origin(request_url)}: "
            "pagination stops here, as orange_nb never sends your token to another host. "
            "Fetch that page yourself, without the token, if you trust it."
        )


def _undecodable(response: httpx.Response) -> NetworkError:
    request = response.request
    rid = request_id_of(response.headers)
    encoding = one_line(response.headers.get("content-encoding", ""), 40) or "none"
    return NetworkError(
        f"{request.method} {redact_url(str(request.url))} failed: the answer (HTTP "
        f"{response.status_code}) could not be decoded: its body does not match its "
        f"Content-Encoding ({encoding}). Try again; if it persists, the server or a proxy on "
        f"the way is at fault.{f' Request id {rid}.' if rid else ''}"
    )


def _decoding_error() -> type[Exception]:
    import httpx

    return httpx.DecodingError


#: Above this many bytes, an uncompressed body is gathered in one growing buffer.
_LARGE_BODY = 1 << 20


def _large_plain(response: httpx.Response) -> bool:
    """Whether the body is large and not compressed (the stream's bytes are the body)."""
    length = response.headers.get("content-length", "")  # one lookup for a small answer
    if not (length.isascii() and length.isdigit() and int(length) > _LARGE_BODY):
        return False
    encoding: str = response.headers.get("content-encoding", "identity")
    return encoding.strip().lower() == "identity"


def _gathered(response: httpx.Response, body: bytearray) -> None:
    """Put ``response``'s body, read as it came, back as a stream ``read()`` takes whole."""
    import httpx

    response.stream = httpx.ByteStream(bytes(body))


def read_answer(response: httpx.Response) -> httpx.Response:
    """Read a streamed ``httpx.Response``; a body that cannot be decompressed is a ``NetworkError``.

    ``httpx`` raises ``DecodingError`` (no ``TransportError``) for a ``Content-Encoding``
    the body does not match; reading here, the headers (and request id) are still at hand.

    A large uncompressed body is gathered chunk by chunk into one buffer, each chunk let go
    at once: httpx keeps every 64 KiB chunk until it joins them, which holds the body twice
    and, in about a quarter of runs, leaves the chunks' memory to the process after they
    are freed (a 93 MB answer: peak RSS 2.9–3.2× the frame built from it, not 2.55×).
    """
    try:
        if _large_plain(response):
            body = bytearray()
            for chunk in response.stream:  # type: ignore[union-attr]
                body += chunk
            response.stream.close()  # type: ignore[union-attr]  # the connection goes back
            _gathered(response, body)
            del body
        response.read()
    except _decoding_error():
        response.close()
        raise _undecodable(response) from None
    except BaseException:  # a broken connection: give it back to the pool all the same
        response.close()
        raise
    return response


async def aread_answer(response: httpx.Response) -> httpx.Response:
    """:func:`read_answer` for an ``httpx.AsyncClient``'s streamed response."""
    try:
        if _large_plain(response):
            body = bytearray()
            async for chunk in response.stream:  # type: ignore[union-attr]
                body += chunk
            await response.stream.aclose()  # type: ignore[union-attr]
            _gathered(response, body)
            del body
        await response.aread()
    except _decoding_error():
        await response.aclose()
        raise _undecodable(response) from None
    except BaseException:
        await response.aclose()
        raise
    return response
