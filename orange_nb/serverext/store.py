"""Login flows the server holds for its kernels, between registration and the kernel's pickup.

Pure Python, driven from the server's event loop (one thread), with an injectable clock.

Rules:

- A flow expires ``ttl`` seconds (10 min) after registration, answered or not.
- An answer is delivered once (``take``), then the flow is forgotten.
- At most ``max_flows`` flows are held. When full, registering evicts the *oldest* flow:
  only kernels holding the server key can register, and the newest flow is the one a
  person is about to open, so refusing it would let one runaway cell block every login
  for ten minutes.
- Callbacks look flows up by ``state`` and store nothing unless it matches a pending
  flow, so a flood of bogus callbacks cannot grow memory.

``state`` lookup: the index is keyed by SHA-256 of the state and the stored state is then
compared with ``hmac.compare_digest``. Any timing the dict lookup shows concerns a hash
an attacker cannot steer toward a real state, and a state is 256 random bits anyway.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .._protocol import FLOW_TTL

DEFAULT_TTL = FLOW_TTL
DEFAULT_MAX_FLOWS = 1000

Listener = Callable[[], None]


class DuplicateState(ValueError):
    """A pending flow already uses this ``state``."""


@dataclass(frozen=True)
class Answer:
    """What the browser brought back for a flow, and the redirect URI it was sent to."""

    params: Mapping[str, str]
    redirect_uri: str

    def __repr__(self) -> str:
        return f"Answer(keys={sorted(self.params)}, redirect_uri={self.redirect_uri!r})"


@dataclass(repr=False)
class PendingFlow:
    """One registered login: where to send the browser, and later the answer."""

    id: str
    state: str
    authorize_url: str
    redirect_uri: str | None
    expires_at: float
    relay: bool = False  # answered through a relay page: see serverext/browser.py
    answer: Answer | None = None
    listeners: set[Listener] = field(default_factory=set)

    def __repr__(self) -> str:
        done = "answered" if self.answer else "pending"
        return f"PendingFlow(id={self.id!r}, {done})"


def _state_key(state: str) -> bytes:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).digest()


class PendingStore:
    """Pending login flows by id (for kernels) and by state (for callbacks)."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL,
        max_flows: int = DEFAULT_MAX_FLOWS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_flows < 1:
            raise ValueError("max_flows must be at least 1")
        self.ttl = ttl
        self.max_flows = max_flows
        self._clock = clock
        self._flows: OrderedDict[str, PendingFlow] = OrderedDict()  # oldest first
        self._by_state: dict[bytes, str] = {}

    def __len__(self) -> int:
        self._purge()
        return len(self._flows)

    def add(
        self, state: str, authorize_url: str, redirect_uri: str | None, *, relay: bool = False
    ) -> PendingFlow:
        """Register a flow; ``DuplicateState`` if a pending flow has this state."""
        self._purge()
        key = _state_key(state)
        if key in self._by_state:
            raise DuplicateState("a pending flow already uses this state")
        while len(self._flows) >= self.max_flows:
            self._drop(next(iter(self._flows)))
        flow = PendingFlow(
            id=secrets.token_urlsafe(16),
            state=state,
            authorize_url=authorize_url,
            redirect_uri=redirect_uri,
            expires_at=self._clock() + self.ttl,
            relay=relay,
        )
        self._flows[flow.id] = flow
        self._by_state[key] = flow.id
        return flow

    def get(self, flow_id: str) -> PendingFlow | None:
        """The flow, answered or not; ``None`` when unknown or expired."""
        self._purge()
        return self._flows.get(flow_id)

    def pending_by_state(self, state: str) -> PendingFlow | None:
        """The unanswered flow registered with ``state``, else ``None``."""
        self._purge()
        flow_id = self._by_state.get(_state_key(state))
        flow = self._flows.get(flow_id) if flow_id is not None else None
        if flow is None or not hmac.compare_digest(flow.state.encode(), state.encode()):
            return None
        return flow

    def answer(self, flow: PendingFlow, params: Mapping[str, str], redirect_uri: str) -> None:
        """Record the browser's answer for ``flow`` and wake whoever waits for it.

        The state leaves the index: a second callback with it finds no pending flow.
        """
        self._by_state.pop(_state_key(flow.state), None)
        flow.answer = Answer(dict(params), redirect_uri)
        self._notify(flow)

    def take(self, flow_id: str) -> Answer | None:
        """The answer, once: the flow is forgotten when it is handed out."""
        flow = self.get(flow_id)
        if flow is None or flow.answer is None:
            return None
        self._drop(flow_id)
        return flow.answer

    def cancel(self, flow_id: str) -> None:
        """Forget a flow (unknown ids are ignored); waiters wake and find it gone."""
        if flow_id in self._flows:
            self._drop(flow_id)

    def subscribe(self, flow_id: str, listener: Listener) -> Listener | None:
        """Call ``listener`` when the flow is answered, cancelled, evicted or expired.

        Returns the function that unsubscribes, or ``None`` for an unknown flow.
        """
        flow = self.get(flow_id)
        if flow is None:
            return None
        flow.listeners.add(listener)
        return lambda: flow.listeners.discard(listener)

    def _purge(self) -> None:
        # Flows expire in registration order: the ttl is the same for all, the clock monotonic.
        now = self._clock()
        while self._flows:
            oldest = next(iter(self._flows.values()))
            if oldest.expires_at > now:
                break
            self._drop(oldest.id)

    def _drop(self, flow_id: str) -> None:
        flow = self._flows.pop(flow_id)
        key = _state_key(flow.state)
        if self._by_state.get(key) == flow_id:
            del self._by_state[key]
        self._notify(flow)

    @staticmethod
    def _notify(flow: PendingFlow) -> None:
        for listener in list(flow.listeners):
            listener()
