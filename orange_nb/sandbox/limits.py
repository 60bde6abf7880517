"""Rate limiting of the sample APIs: a token bucket per client, refilled continuously.

Each client's bucket holds up to ``limit`` calls (one second's worth, the burst) and gains
``limit`` per second; a call takes one, and is refused when less than one is left. Unlike
a count over fixed windows, it refuses a burst at any moment, as a real gateway does, and
it tells how many calls are left and when the next one will be allowed (the rate-limit
headers of the answers).

Not thread-safe on its own: ``Sandbox`` holds its lock around every call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per client: ``limit`` calls per second, bursts of ``limit``."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, client_id: str, limit: float, now: float) -> _Bucket:
        bucket = self._buckets.get(client_id)
        if bucket is None:
            bucket = self._buckets[client_id] = _Bucket(tokens=limit, at=now)
        else:
            bucket.tokens = min(limit, bucket.tokens + (now - bucket.at) * limit)
            bucket.at = now
        return bucket

    def allow(self, client_id: str, limit: float, now: float) -> bool:
        """Take a call at ``now`` (monotonic seconds); False, nothing taken, when over ``limit``."""
        bucket = self._bucket(client_id, limit, now)
        if bucket.tokens < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def headers(self, client_id: str, limit: float, now: float) -> dict[str, str]:
        """The rate-limit headers of an answer to ``client_id`` (IETF draft names).

        ``RateLimit-Policy`` (``q`` calls per ``w`` seconds), ``RateLimit-Limit``,
        ``RateLimit-Remaining`` (whole calls left now) and ``RateLimit-Reset`` (whole
        seconds until the bucket is full again); ``Retry-After`` (seconds until the next
        call is allowed, at least 1 as the header takes whole seconds) when none is left.
        """
        bucket = self._bucket(client_id, limit, now)
        remaining = math.floor(bucket.tokens)
        out = {
            "RateLimit-Policy": f"{limit:g};w=1",
            "RateLimit-Limit": f"{limit:g}",
            "RateLimit-Remaining": str(remaining),
            "RateLimit-Reset": str(math.ceil((limit - bucket.tokens) / limit)),
        }
        if remaining < 1:
            out["Retry-After"] = str(max(1, math.ceil((1.0 - bucket.tokens) / limit)))
        return out
