"""OrangeAPIError: Orange's and CAMARA's envelopes, the request id, advice, no query secrets."""

from __future__ import annotations

import httpx
import pytest

from orange_nb.errors import OrangeAPIError, redact_url
from orange_nb.oauth.endpoint import basic_credentials


def response(status: int, body: object, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("GET", "https://api.example/v1/x?access_token=sbx_at_secret&zone=a")
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "body", "code", "advice"),
    [
        (
            401,
            {"code": 42, "message": "Expired credentials", "description": "x"},
            42,
            "Sign in again",
        ),
        (403, {"code": 50, "message": "Access denied"}, 50, "scope"),
        (403, {"code": 53, "message": "Too many requests"}, 53, "slow down"),
        (
            401,
            {"status": 401, "code": "UNAUTHENTICATED", "message": "bad"},
            "UNAUTHENTICATED",
            "Sign in again",
        ),
        (500, {"unexpected": True}, None, "try again"),
    ],
)
def test_envelopes(status: int, body: object, code: object, advice: str) -> None:
    err = OrangeAPIError.from_response(response(status, body, {"X-OAPI-Request-Id": "req-1"}))
    assert err.status == status and err.code == code
    assert err.request_id == "req-1"
    text = str(err)
    assert "req-1" in text and advice.lower() in text.lower()
    assert "sbx_at_secret" not in text and "\n" not in text


def test_redact_url_drops_query_values_and_fragment() -> None:
    assert redact_url("https://h/p?code=abc&state=def#x") == "https://h/p?code=…&state=…"


def test_basic_credentials_form_encodes_before_base64() -> None:
    import base64

    value = basic_credentials("my app", "s:e%c+r et/é")
    decoded = base64.b64decode(value.split()[1]).decode()
    assert decoded == "my+app:s%3Ae%25c%2Br+et%2F%C3%A9"
