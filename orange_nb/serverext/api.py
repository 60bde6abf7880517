"""The kernel API: register a login flow, long-poll for its answer, cancel it.

Kernels hold no Jupyter token, so these routes skip Jupyter's login and are guarded by the
per-server key instead (header ``X-Orange-NB-Key``, compared in constant time). The key
comes in a header, never in a cookie, so cross-site request forgery has nothing to ride on
and Jupyter's XSRF cookie check is switched off here.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from jupyter_server.auth.decorator import allow_unauthenticated
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .._protocol import KEY_HEADER, LOGIN_ROUTE, MAX_POLL
from .context import ServerContext
from .store import DuplicateState

MAX_FIELD = 8192  # bytes of text per field
MAX_BODY = 4 * MAX_FIELD
MAX_WAIT = MAX_POLL
_FIELDS = {"state", "authorize_url", "redirect_uri", "relay"}


@dataclass(frozen=True, repr=False)
class Registration:
    """A validated ``POST orange/api/flows`` body."""

    state: str
    authorize_url: str
    redirect_uri: str | None
    relay: bool = False  # ``redirect_uri`` is a relay page (orange_nb.relay)


def _is_http_url(url: str) -> bool:
    if not all("!" <= ch <= "~" for ch in url):  # printable ASCII only: it goes into Location
        return False
    try:
        parts = urlsplit(url)
    except ValueError:  # such as a broken IPv6 literal
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _text(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"`{name}` must be a non-empty string.")
    if len(value.encode("utf-8", "surrogatepass")) > MAX_FIELD:
        raise ValueError(f"`{name}` is longer than {MAX_FIELD} bytes.")
    return value


def parse_registration(body: bytes) -> Registration:
    """Check a registration body; ``ValueError`` says what is wrong without echoing values."""
    if len(body) > MAX_BODY:
        raise ValueError("The body is too large.")
    try:
        data: Any = json.loads(body)
    except ValueError:
        raise ValueError("The body is not JSON.") from None
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"Unknown fields: {', '.join(sorted(unknown))[:200]}.")
    state = _text(data, "state")
    authorize_url = _text(data, "authorize_url")
    redirect_uri = None if data.get("redirect_uri") is None else _text(data, "redirect_uri")
    if not _is_http_url(authorize_url):
        raise ValueError("`authorize_url` must be an absolute http(s) URL.")
    if redirect_uri is not None and not _is_http_url(redirect_uri):
        raise ValueError("`redirect_uri` must be an absolute http(s) URL.")
    query = parse_qsl(urlsplit(authorize_url).query, keep_blank_values=True)
    states = [v for k, v in query if k == "state"]
    if len(states) != 1 or not hmac.compare_digest(states[0].encode(), state.encode()):
        raise ValueError("`authorize_url` must carry the registered `state` exactly once.")
    if redirect_uri is None and any(k == "redirect_uri" for k, _ in query):
        raise ValueError("`authorize_url` carries a `redirect_uri` but `redirect_uri` is null.")
    relay = data.get("relay", False)
    if not isinstance(relay, bool) or (relay and (redirect_uri is None or "." in state)):
        raise ValueError("`relay` must be a boolean, with the relay as `redirect_uri`.")
    return Registration(state, authorize_url, redirect_uri, relay)


def parse_wait(raw: str | None) -> float:
    """The long-poll wait in seconds from ``?timeout=``, clamped to ``[0, MAX_WAIT]``."""
    if raw is None:
        return MAX_WAIT
    try:
        seconds = float(raw)
    except ValueError:
        raise ValueError("`timeout` must be a number of seconds.") from None
    if not math.isfinite(seconds):
        raise ValueError("`timeout` must be a finite number of seconds.")
    return min(max(seconds, 0.0), MAX_WAIT)


class KernelAPIHandler(APIHandler):
    """Common ground: the key check, JSON replies that are never cached."""

    context: ServerContext

    def initialize(self, context: ServerContext) -> None:
        """Tornado hook: receive the extension's shared context."""
        self.context = context

    def check_xsrf_cookie(self) -> None:
        """No XSRF check: these routes authenticate by a header, not by cookies."""

    async def prepare(self) -> None:  # type: ignore[override]
        """Refuse (403, nothing done) any request without the right key."""
        await super().prepare()
        given = self.request.headers.get(KEY_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.context.key.encode()):
            self.reply(403, {"message": f"Missing or wrong {KEY_HEADER} header."})

    def reply(self, status: int, body: dict[str, Any] | None = None) -> None:
        """Finish with ``status`` and an optional JSON body."""
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        if body is None:
            self.finish()
            return
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class FlowsHandler(KernelAPIHandler):
    """``POST orange/api/flows``: register a flow, answer its path-only login link."""

    @allow_unauthenticated
    def post(self) -> None:
        """Register the flow described by the JSON body."""
        try:
            reg = parse_registration(self.request.body)
        except ValueError as e:
            self.reply(400, {"message": str(e)})
            return
        store = self.context.store
        try:
            flow = store.add(reg.state, reg.authorize_url, reg.redirect_uri, relay=reg.relay)
        except DuplicateState:
            self.reply(409, {"message": "A login with this state is already registered."})
            return
        login_path = url_path_join(self.context.base_url, LOGIN_ROUTE, flow.id)
        self.reply(201, {"id": flow.id, "login_path": login_path, "expires_in": int(store.ttl)})


class FlowHandler(KernelAPIHandler):
    """``GET`` (long-poll) and ``DELETE`` ``orange/api/flows/{id}``."""

    def initialize(self, context: ServerContext) -> None:
        """Tornado hook: also prepare the event that ends a long-poll early."""
        super().initialize(context)
        self._wake = asyncio.Event()
        self._hung_up = False

    def on_connection_close(self) -> None:
        """The kernel hung up: stop waiting, and keep any answer for its next poll."""
        self._hung_up = True
        self._wake.set()

    @allow_unauthenticated
    async def get(self, flow_id: str) -> None:
        """Wait until the flow is answered (or gone) or ``timeout`` seconds pass."""
        try:
            wait = parse_wait(self.get_query_argument("timeout", None))
        except ValueError as e:
            self.reply(400, {"message": str(e)})
            return
        store = self.context.store
        flow = store.get(flow_id)
        if flow is not None and flow.answer is None and wait > 0:
            unsubscribe = store.subscribe(flow_id, self._wake.set)
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except asyncio.TimeoutError:
                pass
            finally:
                if unsubscribe is not None:
                    unsubscribe()
            if self._hung_up:
                return
        answer = store.take(flow_id)
        if answer is not None:
            body = {
                "status": "done",
                "params": dict(answer.params),
                "redirect_uri": answer.redirect_uri,
            }
            self.reply(200, body)
        elif store.get(flow_id) is not None:
            self.reply(200, {"status": "pending"})
        else:
            self.reply(404, {"status": "unknown"})

    @allow_unauthenticated
    def delete(self, flow_id: str) -> None:
        """Cancel the flow; unknown ids are fine (204 either way)."""
        self.context.store.cancel(flow_id)
        self.reply(204)
