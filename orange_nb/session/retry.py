"""Which failed calls are tried again, and how long to wait first: the one retry rule."""

from __future__ import annotations

import random
import re
import time
from collections import deque
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
    max_rate: float | None = None  # requests per second at most (see Pacer)

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


_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,9})?")


def _number(value: str | None) -> float | None:
    # ASCII decimals only: float() also reads "٣", "１e9", "nan" and "inf".
    value = value.strip() if value else ""
    return float(value) if _DECIMAL.fullmatch(value) else None


def quota_of(headers: httpx.Headers) -> tuple[float | None, float | None, float | None]:
    """``(requests per second, remaining, seconds to reset)`` from rate-limit headers.

    Reads ``RateLimit-Policy: q;w=W`` (or ``"name";q=Q;w=W``), ``RateLimit-Limit``,
    ``RateLimit-Remaining`` and ``RateLimit-Reset`` (IETF draft), and their ``X-RateLimit-*``
    forms; a limit without a window is per second. Absent or unreadable: ``None``.
    """
    rate: float | None = None
    policy = headers.get("ratelimit-policy")
    if policy:
        quota, window = None, 1.0
        for part in policy.split(",")[0].split(";"):
            name, _, value = part.strip().partition("=")
            if not value and quota is None:
                quota = _number(name)
            elif name == "q":
                quota = _number(value)
            elif name == "w":
                window = _number(value) or 1.0
        rate = quota / window if quota else None
    if rate is None:
        rate = _number(headers.get("ratelimit-limit") or headers.get("x-ratelimit-limit"))
    remaining = _number(headers.get("ratelimit-remaining") or headers.get("x-ratelimit-remaining"))
    reset = _number(headers.get("ratelimit-reset") or headers.get("x-ratelimit-reset"))
    return rate, remaining, reset


class Pacer:
    """Spaces the starts of a session's requests to stay under the API's quota.

    The pace is the lowest of ``max_rate`` (set by someone who knows their quota) and what
    the API says: a rate-limit policy header sets it (with a 3 % margin); a refusal (403
    code 53, 429) without one drops it to 85 % of what was getting through, holds the next
    start for one interval at the new pace, and each success then raises it by 0.1 %,
    probing back up (the pace saws between 85 % and the quota whatever the probe's step, so
    its mean is the same; a small step is refused less often: once per ~160 answers, not 55).
    Only a request scheduled after the last cut can cut again: :meth:`wait`
    returns a ticket (the count of cuts when it was scheduled) to give :meth:`observe`, and
    the refusals of requests already under way at a cut, sent at the old pace, do not cut
    once more each. ``Retry-After`` or an exhausted ``RateLimit-Remaining`` pauses every
    request until the time given. Without a limit known and nothing refused, :meth:`wait`
    costs one comparison. A concurrent pull asks :meth:`window` how many pages it may have
    under way. Thread-safe.
    """

    MARGIN = 0.97
    BACKOFF = 0.85
    PROBE = 1.001
    RAMP_START = 2  # pages under way when a pull starts with no pace known
    RAMP_STEP = 20  # pages answered per page more under way

    def __init__(self, max_rate: float | None = None) -> None:
        import threading

        self.max_rate = max_rate if max_rate and max_rate > 0 else None
        self.learned: float | None = None  # requests/s the API's answers point to
        self.rate = self.max_rate
        self.next_start = 0.0  # monotonic time before which no request starts
        self.refused = 0
        self.cuts = 0  # refusals that cut the pace; a request's ticket is this at its turn
        self.proven = 0  # pages an earlier pull had under way at once, none refused
        self._recent: deque[float] = deque(maxlen=1024)  # when recent successes came
        self._lock = threading.Lock()
        self._clock = time.monotonic

    def _set(self, learned: float | None) -> None:
        self.learned = learned
        rates = [rate for rate in (self.max_rate, learned) if rate]
        self.rate = min(rates) if rates else None

    def delay(self) -> float:
        """Seconds to wait before starting one request, and count it as started."""
        if self.rate is None and not self.next_start:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self.next_start)
            if self.rate is not None:
                self.next_start = start + 1.0 / self.rate
            elif self.next_start <= now:
                self.next_start = 0.0
            return start - now

    def window(self, workers: int, answered: int) -> int:
        """How many pages a pull of ``workers`` may have under way once ``answered`` of its
        pages came back.

        With a pace known (``max_rate``, a rate-limit header, a cut), all ``workers``: the
        pace spaces their starts. Before, 2 (or what an earlier pull had under way unrefused,
        :meth:`proved`) plus one per 20 pages answered. An API that tells nothing of its
        quota until it refuses (Orange documents no rate-limit header) refuses every request
        under way when its limit is met: ramping up, that is one or two, not one per worker.
        """
        if self.rate is not None:
            return workers
        start = max(self.RAMP_START, self.proven)
        return max(1, min(workers, start + answered // self.RAMP_STEP))

    def proved(self, under_way: int, refused_before: int) -> None:
        """A pull had ``under_way`` pages at once and nothing was refused since the pacer's
        count was ``refused_before``: the next pull may start with as many."""
        with self._lock:
            if self.refused == refused_before:
                self.proven = max(self.proven, under_way)

    def wait(self) -> int:
        """Sleep until this request may start; returns its ticket for :meth:`observe`.

        A turn given at the old pace is void after a cut: the request asks for a new one.
        Starts booked ahead (a worker per slot) would otherwise go out at the pace just
        refused, into a spent quota.
        """
        ticket = self.cuts  # read before scheduling: a cut meanwhile counts as after it
        pause = self.delay()
        while pause > 0:
            time.sleep(pause)
            if self.cuts == ticket:
                break
            ticket = self.cuts
            pause = self.delay()
        return ticket

    async def await_turn(self) -> int:
        """:meth:`wait` for asyncio."""
        import asyncio

        ticket = self.cuts
        pause = self.delay()
        while pause > 0:
            await asyncio.sleep(pause)
            if self.cuts == ticket:
                break
            ticket = self.cuts
            pause = self.delay()
        return ticket

    def observe(self, response: httpx.Response, ticket: int | None = None) -> None:
        """Learn from an answer: its rate-limit headers, and whether it was a refusal.

        ``ticket`` is what :meth:`wait` returned for this request; a refusal of a request
        scheduled before the last cut does not cut again (``None``: it may cut).
        """
        headers = response.headers
        refused = response.status_code in (403, 429) and is_throttled(response)
        now = self._clock()
        if not refused:
            self._recent.append(now)  # what gets through: the base of a drop after a refusal
            if self.learned is None and _QUOTA_HEADERS.isdisjoint(headers.keys()):
                return  # the common case: nothing to learn, nothing to pace (one pass)
        rate, remaining, reset = quota_of(headers)
        with self._lock:
            if rate is not None:
                self._set(rate * self.MARGIN)
            if refused:
                self.refused += 1
                got = float(sum(1 for t in self._recent if now - t <= 1.0))
                after_cut = ticket is None or ticket >= self.cuts
                if rate is None and got and after_cut:  # no successes: the retry's backoff paces
                    self._set(max(0.5, self.BACKOFF * min(got, self.learned or got)))
                    self.cuts += 1
                    # The quota is spent now: the next start one interval on at the new pace.
                    # Turns booked at the old pace are void (wait() books again).
                    self.next_start = now + 1.0 / (self.rate or got)
                asked = retry_after_seconds(headers.get("retry-after"))
                if asked:
                    self.next_start = max(self.next_start, now + asked)
            elif rate is None and self.learned is not None:
                self._set(self.learned * self.PROBE)
            if remaining == 0 and reset:
                self.next_start = max(self.next_start, now + reset)


_QUOTA_HEADERS = frozenset(
    {"ratelimit-policy", "ratelimit-limit", "x-ratelimit-limit", "ratelimit-remaining"}
)
