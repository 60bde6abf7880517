"""Sign-in answers that reached the callback before the browser signed in to Jupyter.

Held for a short time under a random key, so that Jupyter's login can bring the browser
back to ``orange/callback?resume_key=…`` without the code and state ever being part of a
URL the server logs. Bounded: anyone can park (nobody is signed in yet), so the oldest
answer is dropped when full and each waits a few minutes at most; a dropped answer only
means running the login cell again.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping

RESUME_PARAM = "resume_key"  # Jupyter's access log masks any parameter whose name holds "key"
DEFAULT_TTL = 300.0
DEFAULT_MAX = 200


class ParkedAnswers:
    """Answers by random key, each taken once, for ``ttl`` seconds at most."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_answers: int = DEFAULT_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_answers
        self._clock = clock
        self._answers: OrderedDict[str, tuple[float, dict[str, str]]] = OrderedDict()

    def __len__(self) -> int:
        self._expire()
        return len(self._answers)

    def __repr__(self) -> str:
        return f"ParkedAnswers({len(self._answers)} held)"

    def park(self, params: Mapping[str, str]) -> str:
        """Keep ``params``; returns the key that takes them back."""
        self._expire()
        while len(self._answers) >= self._max:
            self._answers.popitem(last=False)
        key = secrets.token_urlsafe(24)
        self._answers[key] = (self._clock() + self._ttl, dict(params))
        return key

    def take(self, key: str) -> dict[str, str] | None:
        """The answer parked under ``key``, once; ``None`` when unknown or expired."""
        self._expire()
        held = self._answers.pop(key, None)
        return None if held is None else held[1]

    def _expire(self) -> None:
        now = self._clock()
        while self._answers:
            first = next(iter(self._answers.values()))
            if first[0] > now:
                return
            self._answers.popitem(last=False)
