"""Rate limiting of the sample APIs: a sliding one-second window per client.

Not thread-safe on its own: ``Sandbox`` holds its lock around every call.
"""

from __future__ import annotations

from collections import deque


class RateLimiter:
    """Counts calls per client over the last second."""

    def __init__(self) -> None:
        self._calls: dict[str, deque[float]] = {}

    def allow(self, client_id: str, limit: float, now: float) -> bool:
        """Count a call at ``now`` (monotonic seconds); False, uncounted, when over ``limit``."""
        window = self._calls.setdefault(client_id, deque())
        while window and now - window[0] >= 1.0:
            window.popleft()
        if len(window) >= limit:
            return False
        window.append(now)
        return True
