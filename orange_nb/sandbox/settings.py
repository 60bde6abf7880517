"""The sandbox's tunable behaviour (the control API's ``settings``)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass

_OPTIONAL = frozenset({"refresh_token_lifetime", "rate_limit_per_second", "auto_consent"})


@dataclass(frozen=True)
class Settings:
    """Settings; every duration is in seconds.

    ``rate_limit_per_second`` is per client over the sample APIs (``None``: no limit).
    ``auto_consent`` names the user the authorize endpoint signs in at once, without
    pages; ``None`` falls back to the ``ORANGE_SANDBOX_AUTO_CONSENT`` environment variable.
    ``latency`` delays every answer but the control API's. ``ciba_interval`` and
    ``ciba_expires_in`` are what the backchannel endpoint answers; ``clock_offset`` is how
    far the sandbox's clock runs ahead (negative: behind) when it checks client assertions.
    """

    access_token_lifetime: float = 3600
    refresh_token_lifetime: float | None = 30 * 24 * 3600
    rotate_refresh_tokens: bool = True
    expires_in_as_string: bool = False
    rate_limit_per_second: float | None = 50
    code_lifetime: float = 60
    auto_consent: str | None = None
    latency: float = 0.0
    ciba_interval: float = 5.0
    ciba_expires_in: float = 120.0
    clock_offset: float = 0.0

    def updated(self, changes: Mapping[str, object]) -> Settings:
        """A copy with ``changes`` applied; ``ValueError`` names a bad key or value."""
        known = {f.name: f for f in dataclasses.fields(self)}
        clean: dict[str, object] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown setting {name!r}; known: {', '.join(sorted(known))}")
            clean[name] = _check(name, known[name].default, value)
        return dataclasses.replace(self, **clean)  # type: ignore[arg-type]

    def as_json(self) -> dict[str, object]:
        """The settings as a JSON object."""
        return dataclasses.asdict(self)


def _check(name: str, default: object, value: object) -> object:
    if value is None and name in _OPTIONAL:
        return None
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(default, (int, float)):
        high = 300 if name == "latency" else 10**9
        if (
            name == "clock_offset"
            and isinstance(value, int | float)
            and not isinstance(value, bool)
        ):
            if not math.isfinite(value) or abs(value) > 86400:
                raise ValueError("clock_offset must be a number from -86400 to 86400")
            return value
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
            or not 0 <= value <= high
        ):
            raise ValueError(f"{name} must be a number from 0 to {high}")
        if name == "rate_limit_per_second" and value == 0:
            raise ValueError("rate_limit_per_second must be > 0 (null turns the limit off)")
        return value
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise ValueError(f"{name} must be a user name of 1 to 64 characters, or null")
    return value.strip()
