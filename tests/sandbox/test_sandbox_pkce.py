"""PKCE at both ends of the flow, as checked in one place (orange_nb/sandbox/pkce.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from orange_nb.sandbox import DEMO_CLIENT_ID, SandboxServer

# RFC 7636 Appendix B
RFC_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
RFC_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


@pytest.mark.parametrize(
    "bad",
    [
        RFC_CHALLENGE + "A",  # 44 base64url characters: no SHA-256 gives that
        "A" * 128,  # a verifier's length, sent as the challenge
        "~" + RFC_CHALLENGE[1:],  # 43 characters, but "~" is not base64url
        "." * 43,
    ],
)
def test_challenge_no_verifier_can_match_is_refused_at_authorize(oauth: Any, bad: str) -> None:
    # Refused while the developer looks at the redirect, not after the person signed in.
    answer = oauth.authorize(**oauth.params(code_challenge=bad))
    assert answer.status_code == 302, answer.text[:200]
    params = dict(parse_qsl(urlsplit(answer.headers["location"]).query))
    assert params["error"] == "invalid_request"
    assert "43 base64url characters" in params["error_description"]
    assert params["state"] == oauth.state and "code" not in params
    assert oauth.server.sandbox.stats()["authorizations"] == {
        "requested": 0,
        "approved": 0,
        "denied": 0,
        "refused": 1,
    }


def test_non_ascii_challenge_from_python_is_invalid_grant_not_a_crash(
    sandbox: SandboxServer, oauth: Any
) -> None:
    # The Python API takes any challenge; the token endpoint must still answer in OAuth terms.
    state = sandbox.sandbox
    pending = state.begin_authorization(
        client_id=DEMO_CLIENT_ID,
        redirect_uri=oauth.redirect_uri,
        scopes=("openid",),
        state="s",
        nonce=None,
        code_challenge="é" * 43,
        login_hint=None,
    )
    code = state.issue_code(pending, "demo")
    answer = oauth.exchange(code, code_verifier=RFC_VERIFIER)
    assert answer.status_code == 400, answer.text[:200]
    assert answer.json() == {
        "error": "invalid_grant",
        "error_description": "code_verifier does not match the code_challenge.",
    }
    assert state.stats()["token_errors"] == 1
