"""What the extension's handlers share: the pending store, the kernel key, the server's URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .parked import ParkedAnswers
from .store import PendingStore


@dataclass(repr=False)
class ServerContext:
    """One per Jupyter server. ``loopback_url`` is ``None`` on a unix socket (no kernel API)."""

    key: str
    base_url: str
    trust_xheaders: bool = False
    loopback_url: str | None = None
    sandbox_mounted: bool = True
    store: PendingStore = field(default_factory=PendingStore)
    parked: ParkedAnswers = field(default_factory=ParkedAnswers)

    def __repr__(self) -> str:
        return f"ServerContext(base_url={self.base_url!r}, loopback_url={self.loopback_url!r})"

    @property
    def loopback_origin(self) -> str | None:
        """``scheme://host:port`` of ``loopback_url``: what kernels see of this server."""
        if self.loopback_url is None:
            return None
        parts = urlsplit(self.loopback_url)
        return f"{parts.scheme}://{parts.netloc}".lower()
