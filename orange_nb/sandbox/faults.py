"""Scripted faults: answers the sandbox gives instead of (or before) the real ones."""

from __future__ import annotations

import dataclasses
import math
import re
from collections import deque
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

ENDPOINT_NAMES = frozenset(
    {"authorize", "token", "userinfo", "revoke", "discovery", "jwks", "backchannel"}
)
"""Names a fault's ``match`` may use instead of a path prefix."""

_MAX_TEXT = 100_000
MAX_QUEUED = 1000
"""Faults that may wait at once: a bounded queue, whoever fills it."""

# A fault body is data, never a page: an HTML or SVG body chosen by whoever reached the
# control API would run on the origin serving the sandbox (a Jupyter server's own).
_BODY_TYPES = ("application/json", "text/plain")


@dataclass(frozen=True)
class Fault:
    """One scripted fault, served to the next ``count`` matching requests.

    ``match`` is an endpoint name (``ENDPOINT_NAMES``), ``"*"`` (everything but the
    control API), or a path prefix under the sandbox's root (``"/sandbox/"``).
    ``status=None``, or a status below 400 without ``body``, lets the real handler
    answer (after ``latency``; with ``truncate`` the real answer is cut). ``drop`` closes the connection without any answer;
    ``truncate`` sends the headers with the full ``Content-Length`` and half the body.
    ``body`` replaces the envelope (sent as ``content_type``); ``error`` makes the token
    and revocation endpoints answer ``{"error": error, ...}``. ``code``, ``message`` and
    ``description`` fill Orange's envelope (``code`` defaults from ``status``).
    """

    match: str = "/sandbox/"
    status: int | None = 503
    code: int | None = None
    message: str | None = None
    description: str | None = None
    error: str | None = None
    count: int = 1
    retry_after: int | str | None = None
    latency: float = 0.0
    drop: bool = False
    truncate: bool = False
    body: str | None = None
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        if not isinstance(self.match, str) or len(self.match) > 500:
            raise ValueError("match must be a string (endpoint name, '*' or path prefix)")
        if self.status is not None and (
            isinstance(self.status, bool)
            or not isinstance(self.status, int)
            or not 200 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP status from 200 to 599, or null")
        if self.code is not None and (
            isinstance(self.code, bool) or not isinstance(self.code, int)
        ):
            raise ValueError("code must be an integer")
        if isinstance(self.count, bool) or not isinstance(self.count, int) or self.count < 1:
            raise ValueError("count must be an integer >= 1")
        if (
            isinstance(self.latency, bool)
            or not isinstance(self.latency, (int, float))
            or not 0 <= self.latency <= 300
            or math.isnan(self.latency)
        ):
            raise ValueError("latency must be a number of seconds from 0 to 300")
        for name in ("drop", "truncate"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false")
        for name in ("message", "description", "error", "body"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > _MAX_TEXT):
                raise ValueError(f"{name} must be a string (at most {_MAX_TEXT} characters)")
        if not isinstance(self.content_type, str) or not _header_safe(self.content_type):
            raise ValueError("content_type must be a plain header value")
        if not _inert(self.content_type):
            raise ValueError(
                "content_type must be application/json, application/…+json or text/plain "
                "(a fault body is data, never a page)"
            )
        _check_retry_after(self.retry_after)

    @property
    def passes_through(self) -> bool:
        """Whether the real handler answers (the fault only delays, truncates)."""
        return self.status is None or (self.status < 400 and self.body is None)

    def matches(self, endpoint: str, path: str) -> bool:
        """Whether a request to ``endpoint`` (a name, or "") at ``path`` (under the root) matches."""
        if self.match == "*":
            return True
        if self.match in ENDPOINT_NAMES:
            return self.match == endpoint
        return path.lstrip("/").startswith(self.match.lstrip("/"))

    def as_json(self) -> dict[str, object]:
        """The fault as a JSON object."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, obj: object) -> Fault:
        """A fault from the control API's JSON; ``ValueError`` on anything malformed."""
        if not isinstance(obj, dict):
            raise ValueError("a fault must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        extra = set(obj) - known
        if extra:
            raise ValueError(f"unknown fault fields: {sorted(extra)}; known: {sorted(known)}")
        try:
            return cls(**obj)
        except TypeError as exc:  # a value of the wrong type reached a comparison
            raise ValueError(f"invalid fault: {exc}") from None


class FaultQueue:
    """Queued faults, each with how many more requests it answers, first queued first served.

    Not thread-safe on its own: ``Sandbox`` holds its lock around every call.
    """

    def __init__(self) -> None:
        self._queue: deque[tuple[Fault, int]] = deque()

    def add(self, fault: Fault) -> None:
        """Queue ``fault``; ``ValueError`` when ``MAX_QUEUED`` are waiting."""
        if len(self._queue) >= MAX_QUEUED:
            raise ValueError(f"at most {MAX_QUEUED} faults may be queued; clear some first")
        self._queue.append((fault, fault.count))

    def listing(self) -> list[dict[str, object]]:
        """Queued faults as JSON, each with its ``remaining`` count."""
        return [{**fault.as_json(), "remaining": left} for fault, left in self._queue]

    def clear(self) -> None:
        """Forget every queued fault."""
        self._queue.clear()

    def take(self, endpoint: str, path: str) -> Fault | None:
        """The first fault matching this request, counted down (dropped at zero)."""
        for index, (fault, left) in enumerate(self._queue):
            if fault.matches(endpoint, path):
                if left <= 1:
                    del self._queue[index]
                else:
                    self._queue[index] = (fault, left - 1)
                return fault
        return None

    def remaining(self) -> int:
        """How many more requests the queued faults will answer."""
        return sum(left for _, left in self._queue)


def _inert(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in _BODY_TYPES:
        return True
    kind, _, sub = media.partition("/")
    return kind == "application" and re.fullmatch(r"[a-z0-9.-]+\+json", sub) is not None


def _header_safe(value: str) -> bool:
    return 0 < len(value) <= 200 and all(32 <= ord(ch) < 127 for ch in value)


def _check_retry_after(value: object) -> None:
    if value is None:
        return
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return
    if isinstance(value, str) and _header_safe(value):
        try:
            parsedate_to_datetime(value)
        except (TypeError, ValueError):
            pass
        else:
            return
    raise ValueError("retry_after must be null, seconds (an integer >= 0) or an HTTP-date")
