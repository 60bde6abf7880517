"""CAMARA's rules, as Orange's Network APIs follow them (CAMARA security profile).

- A request asking for any ``dpv:`` purpose scope asks for exactly one.
- Such a request gets a refresh token only when it asks for ``offline_access``.
- Number Verification's access tokens are single-use, live at most 300 s and come without
  a refresh token.

Requests without any ``dpv:`` scope (the sandbox's own sample APIs) keep the plain OAuth
behaviour. Pure functions over scope tuples; the handlers and ``Tokens`` call them.
"""

from __future__ import annotations

from collections.abc import Iterable

PURPOSE_PREFIX = "dpv:"
OFFLINE_ACCESS = "offline_access"
FRAUD_PREVENTION = "dpv:FraudPreventionAndDetection"
NUMBER_VERIFICATION = "dpv:FraudPreventionAndDetection#number-verification:verify"
SIM_SWAP = "sim-swap:check"
LOCATION_VERIFICATION = "location-verification:verify"
SINGLE_USE_SCOPES = frozenset({NUMBER_VERIFICATION})
SINGLE_USE_LIFETIME = 300.0

SCOPE_WORDS = {
    OFFLINE_ACCESS: "Stay connected after this session (a refresh token)",
    FRAUD_PREVENTION: "Purpose: fraud prevention and detection",
    NUMBER_VERIFICATION: "Purpose: fraud prevention — verify that this phone number is "
    "your device's (once)",
    SIM_SWAP: "Check whether your SIM card was recently swapped",
    LOCATION_VERIFICATION: "Verify whether your device is in a given area",
}
"""The CAMARA scopes the sandbox knows, with the consent page's words."""


def is_camara(scopes: Iterable[str]) -> bool:
    """Whether a request asks for a ``dpv:`` purpose (and so follows CAMARA's rules)."""
    return any(s.startswith(PURPOSE_PREFIX) for s in scopes)


def purpose_problem(scopes: Iterable[str]) -> str | None:
    """Why the scopes break the one-purpose rule, or ``None``."""
    purposes = [s for s in scopes if s.startswith(PURPOSE_PREFIX)]
    if len(purposes) > 1:
        return f"Ask for exactly one dpv: purpose scope, not {len(purposes)}."
    return None


def single_use(scopes: Iterable[str]) -> bool:
    """Whether tokens for these scopes are spent by their first successful API call."""
    return any(s in SINGLE_USE_SCOPES for s in scopes)


def refresh_allowed(scopes: tuple[str, ...]) -> bool:
    """Whether a grant of ``scopes`` comes with a refresh token."""
    if single_use(scopes):
        return False
    return not is_camara(scopes) or OFFLINE_ACCESS in scopes


def access_lifetime(scopes: tuple[str, ...], configured: float) -> float:
    """The access token's lifetime: the setting, capped at 300 s for single-use tokens."""
    return min(configured, SINGLE_USE_LIFETIME) if single_use(scopes) else configured
