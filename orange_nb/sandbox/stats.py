"""The counters behind ``Sandbox.stats()`` and the control API's ``stats``."""

from __future__ import annotations

from collections import Counter


def report(
    counters: Counter[str], *, faults_pending: int, active_tokens: dict[str, int]
) -> dict[str, object]:
    """The stats document: counters since the last reset, plus what is alive now."""
    c = counters
    return {
        "token_requests": {
            "authorization_code": c["token.authorization_code"],
            "refresh_token": c["token.refresh_token"],
            "other": c["token.other"],
        },
        "token_errors": c["token_errors"],
        "refreshes": c["refreshes"],
        "authorizations": {
            "requested": c["authorize.requested"],
            "approved": c["authorize.approved"],
            "denied": c["authorize.denied"],
            "refused": c["authorize.refused"],
        },
        "backchannel": {  # CIBA (ciba.py)
            "requested": c["ciba.requested"],
            "refused": c["ciba.refused"],
            "approved": c["ciba.approved"],
            "denied": c["ciba.denied"],
            "issued": c["ciba.issued"],
        },
        "codes_issued": c["codes_issued"],
        "userinfo_calls": c["userinfo_calls"],
        "revocations": c["revocations"],
        "api_calls": c["api_calls"],
        "api_errors": c["api_errors"],
        "rate_limited": c["rate_limited"],
        "reports_created": c["reports_created"],
        "faults_served": c["faults_served"],
        "faults_pending": faults_pending,
        "active_tokens": active_tokens,
    }
