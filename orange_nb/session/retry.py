"""Which failed calls are tried again, and how long to wait first: the one retry rule."""

from __future__ import annotations

import random
import re
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx

from ..errors import error_code, json_body

_DELTA_SECONDS = re.compile(r"[0-9]+")
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds to wait: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip(" \t")
    if _DELTA_SECONDS.fullmatch(value):  # ASCII digits only: int() also takes "٣" and "３"
        return float(value)  # a huge number is inf: longer than any max_wait, so no retry
    try:
        when = parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        return None  # not a date either: as if the header were absent


def _orange_code(response: httpx.Response) -> int | str | None:
    body = json_body(response)
    return error_code(body.get("code")) if isinstance(body, dict) else None


def is_throttled(response: httpx.Response) -> bool:
    """Orange's rate limit (403 code 53), 429, or 503: the request was not processed."""
    return response.status_code in (429, 503) or (
        response.status_code == 403 and _orange_code(response) == 53
    )


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries: at most ``max_retries`` tries more, waiting at most ``max_wait`` s in all.

    Throttling answers (403/53, 429, 503) are retried for any method, honouring
    ``Retry-After``; other 5xx and broken connections only for idempotent methods, since a
    POST may already have taken effect. A refused connection means nothing was sent, so
    it is retried for every method. Without ``Retry-After`` the wait is exponential from
    ``backoff`` seconds with jitter (half to full of the step).
    """

    max_retries: int = 4
    max_wait: float = 60.0
    backoff: float = 1.0
    backoff_cap: float = 30.0

    def _step(self, attempt: int) -> float:
        step = min(self.backoff_cap, self.backoff * 2**attempt)
        return float(step * random.uniform(0.5, 1.0))

    def delay_for_response(
        self, response: httpx.Response, method: str, attempt: int, waited: float
    ) -> float | None:
        """Seconds to wait before trying again, or ``None`` to give up and report the answer."""
        if attempt >= self.max_retries:
            return None
        if is_throttled(response):
            asked = retry_after_seconds(response.headers.get("retry-after"))
            delay = asked if asked is not None else self._step(attempt)
        elif response.status_code >= 500 and method.upper() in IDEMPOTENT:
            delay = self._step(attempt)
        else:
            return None
        return delay if waited + delay <= self.max_wait else None

    def delay_for_error(
        self, error: httpx.TransportError, method: str, attempt: int, waited: float
    ) -> float | None:
        """Seconds to wait after a transport error, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        nothing_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
        if not nothing_sent and method.upper() not in IDEMPOTENT:
            return None
        delay = self._step(attempt)
        return delay if waited + delay <= self.max_wait else None
