"""The base of every sandbox handler: request ids, faults, latency, envelopes, parsing."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from asyncio import Future
from collections.abc import Mapping
from http import HTTPStatus
from types import TracebackType
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl

from tornado.iostream import StreamClosedError
from tornado.web import HTTPError, RequestHandler

from .errors import (
    ApiError,
    ControlError,
    OAuthError,
    PageError,
    SandboxError,
    camara_code_for_status,
    orange_code_for_status,
)
from .faults import Fault
from .pages import PAGE_HEADERS, error_page
from .state import Sandbox

log = logging.getLogger("orange_nb.sandbox")

Envelope = Literal["orange", "oauth", "html", "camara", "control"]

MAX_VALUE = 4096  # characters in one parameter value
MAX_FIELDS = 100  # parameters in one query string or form body
JSON = "application/json"
CORRELATOR = re.compile(r"[A-Za-z0-9\-_:;./<>{}]{1,256}")  # CAMARA's x-correlator pattern

# Every answer: no script, no plugin, no frame may come of it, and no type sniffing (a
# fault body or an echoed value must never turn into a page). HTML pages add their own.
SAFE_HEADERS: Mapping[str, str] = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'",
    "X-Content-Type-Options": "nosniff",
}


class ParamProblem(ValueError):
    """A query string or form body that cannot be read as single-valued parameters."""


def parse_pairs(raw: str | bytes, *, limit: bool = True) -> list[tuple[str, str]]:
    """Decode ``a=1&b=2`` (UTF-8, strict); ``ParamProblem`` when it cannot be read.

    With ``limit``, a value over ``MAX_VALUE`` characters is refused too.
    """
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except UnicodeDecodeError:
        raise ParamProblem("The parameters are not valid UTF-8.") from None
    except ValueError:
        raise ParamProblem(f"More than {MAX_FIELDS} parameters.") from None
    for key, value in pairs:
        if limit and (len(key) > 256 or len(value) > MAX_VALUE):
            raise ParamProblem(f"A parameter is longer than {MAX_VALUE} characters.")
    return pairs


def group_pairs(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Every value of each key, in order."""
    groups: dict[str, list[str]] = {}
    for key, value in pairs:
        groups.setdefault(key, []).append(value)
    return groups


def single_values(raw: str | bytes) -> dict[str, str]:
    """Parameters that may appear once each (RFC 6749 §3.1); ``ParamProblem`` otherwise."""
    values: dict[str, str] = {}
    for key, value in parse_pairs(raw):
        if key in values:
            raise ParamProblem(f"{key[:60]} is given more than once.")
        values[key] = value
    return values


def media_type(value: str | None) -> str:
    """``"Application/JSON; charset=utf-8"`` → ``"application/json"``."""
    return (value or "").split(";", 1)[0].strip().lower()


class SandboxHandler(RequestHandler):
    """Common behaviour. Subclasses set ``endpoint`` (a name faults can match) and
    ``envelope`` (how errors look)."""

    endpoint: ClassVar[str] = ""
    envelope: ClassVar[Envelope] = "orange"
    faultable: ClassVar[bool] = True

    sandbox: Sandbox
    prefix: str
    request_id: str
    _truncate: bool = False

    def initialize(self, sandbox: Sandbox, prefix: str) -> None:
        """Bind the handler to its sandbox and the path prefix it is mounted under."""
        self.sandbox = sandbox
        self.prefix = prefix

    def set_default_headers(self) -> None:
        """``X-OAPI-Request-Id`` on every answer, errors included (kept across ``clear()``)."""
        if "request_id" not in self.__dict__:
            self.request_id = str(uuid.uuid4())
        self.set_header("X-OAPI-Request-Id", self.request_id)
        for name, value in SAFE_HEADERS.items():
            self.set_header(name, value)
        correlator = self.request.headers.get("x-correlator")  # CAMARA: echoed on every answer
        if correlator and CORRELATOR.fullmatch(correlator):
            self.set_header("x-correlator", correlator)

    def redirect_permitted(self, uri: str) -> bool:
        """Whether this mount may send a browser to ``uri`` (already registered for the
        client). Standalone: yes; a host application (a Jupyter server) narrows it."""
        return True

    def form_token(self) -> str | None:
        """The token a page's form must carry back (a host application's XSRF token); none here."""
        return None

    def check_xsrf_cookie(self) -> None:
        """No XSRF cookie: these endpoints play an external server (token requests and the
        consent form come from elsewhere), even when mounted in a Jupyter server."""

    async def prepare(self) -> None:
        """Apply the ``latency`` setting and the next matching scripted fault."""
        if not self.faultable:
            return
        latency = self.sandbox.settings.latency
        if latency:
            await asyncio.sleep(latency)
        fault = self.sandbox.take_fault(self.endpoint, self.path_under_root())
        if fault is not None:
            if fault.latency:
                await asyncio.sleep(fault.latency)
            self._serve_fault(fault)

    def _serve_fault(self, fault: Fault) -> None:
        if fault.drop:
            self.detach().close()
            return
        self._truncate = fault.truncate
        status = fault.status
        if status is None or fault.passes_through:
            return  # the real handler answers (possibly truncated)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        if fault.body is not None:
            self.answer(status, fault.body.encode("utf-8"), fault.content_type, headers)
            return
        description = fault.description or fault.message or "A scripted fault of the sandbox."
        if self.envelope == "html":
            page = error_page("Sign-in unavailable", description)
            self.answer(status, page.encode("utf-8"), None, {**PAGE_HEADERS, **headers})
            return
        body: dict[str, object]
        if self.envelope == "oauth" and fault.error:
            body = {"error": fault.error, "error_description": description}
        elif self.envelope == "camara":
            body = {
                "status": status,
                "code": camara_code_for_status(status),
                "message": description,
            }
        else:
            code = fault.code if fault.code is not None else orange_code_for_status(status)
            error = ApiError(code, description, status=status)
            body = error.orange_body()
            if fault.message:
                body["message"] = fault.message
        self.answer_json(status, body, headers)

    # ---- request helpers -------------------------------------------------------------

    def root_url(self) -> str:
        """``scheme://host/prefix/`` as the client reached us."""
        return f"{self.request.protocol}://{self.request.host}{self.prefix}"

    def path_under_root(self) -> str:
        """The request path below the prefix, without a leading slash."""
        path = self.request.path
        return path[len(self.prefix) :] if path.startswith(self.prefix) else path.lstrip("/")

    # ---- answers ---------------------------------------------------------------------

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Send a whole answer (or, under a ``truncate`` fault, half of it)."""
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        if self._truncate:
            self._send_truncated(status, body, all_headers)
            return
        self.set_status(status)
        for name, value in all_headers.items():
            self.set_header(name, value)
        self.finish(body)

    def answer_json(
        self, status: int, obj: object, headers: Mapping[str, str] | None = None
    ) -> None:
        """Send ``obj`` as JSON."""
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self.answer(status, body, JSON, headers)

    def answer_page(self, status: int, page: str) -> None:
        """Send an HTML page with the pages' protective headers."""
        self.answer(status, page.encode("utf-8"), None, PAGE_HEADERS)

    def _send_truncated(self, status: int, body: bytes, headers: Mapping[str, str]) -> None:
        # Headers promise the whole body; half of it arrives, then the connection closes.
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Unknown"
        lines = [f"HTTP/1.1 {status} {phrase}", f"X-OAPI-Request-Id: {self.request_id}"]
        lines += [f"{name}: {value}" for name, value in {**SAFE_HEADERS, **headers}.items()]
        lines += [f"Content-Length: {len(body)}", "Connection: close", "", ""]
        stream = self.detach()
        try:
            written = stream.write("\r\n".join(lines).encode("latin-1") + body[: len(body) // 2])
        except StreamClosedError:
            return  # the client left first

        def close(done: Future[None]) -> None:
            if not done.cancelled():
                done.exception()  # retrieved, so asyncio does not log it
            stream.close()

        written.add_done_callback(close)

    def log_exception(
        self,
        typ: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Log real failures by path only: tornado's own line shows the query string
        (codes, state). Answered errors (``HTTPError``) are the access log's business."""
        if isinstance(value, HTTPError):
            return
        log.error(
            "Uncaught exception in %s %s",
            self.request.method,
            self.request.path,
            exc_info=(typ, value, tb) if typ and value else None,
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Errors in the endpoint's envelope; never a traceback."""
        exc = kwargs.get("exc_info", (None, None, None))[1]
        headers = exc.headers if isinstance(exc, SandboxError) else {}
        reason = self._reason if status_code < 500 else "The sandbox failed; try again."
        if isinstance(exc, OAuthError):
            no_store = {"Cache-Control": "no-store", "Pragma": "no-cache"}
            self.answer_json(status_code, exc.body(), {**no_store, **headers})
        elif isinstance(exc, PageError):
            self.answer_page(status_code, error_page(exc.title, exc.message))
        elif isinstance(exc, ControlError):
            self.answer_json(status_code, {"error": exc.message}, headers)
        elif isinstance(exc, ApiError) and self.envelope == "camara":
            self.answer_json(exc.camara_status, exc.camara_body(), headers)
        elif isinstance(exc, ApiError):
            self.answer_json(status_code, exc.orange_body(), headers)
        elif self.envelope == "html":
            self.answer_page(status_code, error_page("Sign-in failed", reason))
        elif self.envelope == "oauth":
            oauth_error = "invalid_request" if status_code < 500 else "server_error"
            self.answer_json(
                status_code,
                {"error": oauth_error, "error_description": reason},
                {"Cache-Control": "no-store"},
            )
        elif self.envelope == "control":
            self.answer_json(status_code, {"error": reason})
        else:
            error = ApiError(orange_code_for_status(status_code), reason, status=status_code)
            if self.envelope == "camara":
                self.answer_json(error.camara_status, error.camara_body())
            else:
                self.answer_json(status_code, error.orange_body())


class NotFoundHandler(SandboxHandler):
    """Anything under the root no route claims: 404 with Orange's code 60."""

    def prepare(self) -> None:  # type: ignore[override]
        """Answer before any method dispatch (every method gets the same 404)."""
        raise ApiError(60, f"No resource at {self.request.path[:200]}.")
