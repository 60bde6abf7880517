"""RetryPolicy: what is retried, for which methods, and how long it waits."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from orange_nb.session.retry import RetryPolicy, retry_after_seconds

POLICY = RetryPolicy(max_retries=3, max_wait=10, backoff=1.0)


def answer(
    status: int, json: object = None, headers: dict[str, str] | None = None, method: str = "GET"
) -> httpx.Response:
    return httpx.Response(
        status, json=json, headers=headers, request=httpx.Request(method, "https://api.example/x")
    )


def test_retry_after_seconds_and_date() -> None:
    assert retry_after_seconds("3") == 3.0
    future = email.utils.formatdate(time.time() + 5, usegmt=True)
    assert 3.0 <= (retry_after_seconds(future) or 0) <= 5.0
    assert retry_after_seconds("garbage") is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_throttling_retried_for_any_method_honouring_retry_after(method: str) -> None:
    for response in (
        answer(503, headers={"Retry-After": "2"}),
        answer(429, headers={"Retry-After": "2"}),
        answer(
            403, json={"code": 53, "message": "Too many requests"}, headers={"Retry-After": "2"}
        ),
    ):
        assert POLICY.delay_for_response(response, method, 0, 0) == 2.0


def test_backoff_without_retry_after_is_exponential_with_jitter() -> None:
    response = answer(403, json={"code": 53})
    for attempt, step in enumerate((1, 2, 4)):
        delay = POLICY.delay_for_response(response, "GET", attempt, 0)
        assert delay is not None and step / 2 <= delay <= step


def test_other_403_and_4xx_not_retried() -> None:
    assert POLICY.delay_for_response(answer(403, json={"code": 50}), "GET", 0, 0) is None
    assert POLICY.delay_for_response(answer(404), "GET", 0, 0) is None
    assert POLICY.delay_for_response(answer(401, json={"code": 42}), "GET", 0, 0) is None


def test_5xx_only_for_idempotent_methods() -> None:
    assert POLICY.delay_for_response(answer(500), "GET", 0, 0) is not None
    assert POLICY.delay_for_response(answer(502), "PUT", 0, 0) is not None
    assert POLICY.delay_for_response(answer(500), "POST", 0, 0) is None


def test_bounded_count_and_total_wait() -> None:
    assert POLICY.delay_for_response(answer(503), "GET", 3, 0) is None
    assert (
        POLICY.delay_for_response(answer(503, headers={"Retry-After": "30"}), "GET", 0, 0) is None
    )
    assert POLICY.delay_for_response(answer(503, headers={"Retry-After": "2"}), "GET", 1, 9) is None


def test_transport_errors() -> None:
    request = httpx.Request("POST", "https://api.example/x")
    assert (
        POLICY.delay_for_error(httpx.ConnectError("refused", request=request), "POST", 0, 0)
        is not None
    )
    assert POLICY.delay_for_error(httpx.ReadError("reset", request=request), "POST", 0, 0) is None
    assert (
        POLICY.delay_for_error(httpx.ReadError("reset", request=request), "GET", 0, 0) is not None
    )
