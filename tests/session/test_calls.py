"""Authenticated calls: refresh rules, single flight, retries, errors, hosts, DataFrames."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import httpx
import pytest

from orange_nb import LoginRequired, Orange, OrangeAPIError
from orange_nb.errors import NetworkError, TokenSentElsewhere
from orange_nb.sandbox import SandboxServer

ZONES = "/sandbox/mobility/v1/zones"
PRESENCE = "/sandbox/mobility/v1/zones/zone-01/presence"
WEEK = {"start": "2026-01-01", "end": "2026-01-07"}


def refreshes(sandbox: SandboxServer) -> int:
    return int(sandbox.sandbox.stats()["token_requests"]["refresh_token"])  # type: ignore[index]


def test_get_records_as_dataframe_and_other_json_as_is(session: Orange) -> None:
    zones = session.get(ZONES)
    assert len(zones) >= 10 and {"id", "name", "lat", "lon"} <= set(zones.columns)
    one = session.get(f"{ZONES}/zone-01")
    assert isinstance(one, dict) and one["id"] == "zone-01"


def test_paginate_a_week_gives_168_rows(session: Orange) -> None:
    fetched = session.fetch(PRESENCE, WEEK, paginate=True, max_pages=50)
    assert fetched.rows == 168 and len(fetched.result) == 168 and fetched.pages > 1
    assert str(fetched.result["timestamp"].dtype).startswith("datetime64")
    first_page = session.get(PRESENCE, WEEK)
    assert len(first_page) < 168


def test_max_pages_stops_and_says_so(session: Orange) -> None:
    told: list[int] = []
    fetched = session.fetch(PRESENCE, WEEK, paginate=True, max_pages=2, on_truncated=told.append)
    assert fetched.truncated and fetched.pages == 2 and told == [2]


def test_limit_rows(session: Orange) -> None:
    assert len(session.get(PRESENCE, WEEK, paginate=True, limit=30)) == 30


def test_relative_paths_keep_api_url_prefix(make_session: Callable[..., Orange]) -> None:
    orange = make_session(signed_in=False, api_url="http://h/user/alice/orange/sandbox")
    assert orange.url_for("/sandbox/x") == "http://h/user/alice/orange/sandbox/sandbox/x"
    assert orange.url_for("sandbox/x?a=1") == "http://h/user/alice/orange/sandbox/sandbox/x?a=1"


def test_refresh_ahead_of_expiry(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    sandbox.sandbox.configure(access_token_lifetime=3)  # leeway capped to half: 1.5 s
    orange = make_session()
    first = orange.token
    assert first is not None
    orange.get(ZONES)
    assert refreshes(sandbox) == 0
    time.sleep(1.6)
    orange.get(ZONES)
    assert refreshes(sandbox) == 1 and orange.token is not first


@pytest.mark.parametrize("rotate", [True, False])
def test_refresh_with_and_without_rotation(
    make_session: Callable[..., Orange], sandbox: SandboxServer, rotate: bool
) -> None:
    sandbox.sandbox.configure(rotate_refresh_tokens=rotate)
    orange = make_session()
    before = orange.token
    assert before is not None
    after = orange.refresh()
    assert after.access_token != before.access_token
    assert (after.refresh_token != before.refresh_token) is rotate
    again = orange.refresh()  # the kept (or rotated) refresh token still works
    assert again.access_token != after.access_token
    assert orange.get(ZONES) is not None


def test_invalid_grant_on_refresh_means_login_required(
    session: Orange, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.revoke_all()
    with pytest.raises(LoginRequired, match="login"):
        session.refresh()
    assert session.status == "expired" and not session.logged_in


def test_401_expired_forces_one_refresh_and_one_retry(
    session: Orange, sandbox: SandboxServer
) -> None:
    sandbox.sandbox.expire_access_tokens()  # server side: the next call gets 401 code 42
    calls = int(sandbox.sandbox.stats()["api_calls"])  # type: ignore[call-overload]
    assert len(session.get(ZONES)) >= 10
    assert refreshes(sandbox) == 1
    assert int(sandbox.sandbox.stats()["api_calls"]) == calls + 2  # type: ignore[call-overload]


def test_401_that_persists_is_not_a_loop(session: Orange, sandbox: SandboxServer) -> None:
    sandbox.sandbox.add_fault(
        match="/sandbox/", status=401, code=41, message="Invalid credentials", count=5
    )
    with pytest.raises(OrangeAPIError) as info:
        session.get(ZONES)
    assert info.value.status == 401 and info.value.code == 41
    assert refreshes(sandbox) == 1  # one refresh, one retry, then the error


def test_single_flight_32_threads(session: Orange, sandbox: SandboxServer) -> None:
    sandbox.sandbox.expire_access_tokens()
    token = session.token
    assert token is not None
    session.keeper.set(token.with_(issued_at=time.time() - 100, expires_at=time.time() - 1))
    barrier = threading.Barrier(32)
    errors: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            session.get(f"{ZONES}/zone-01")
        except BaseException as exc:  # collected: the test asserts none happened
            errors.append(exc)

    threads = [threading.Thread(target=call) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and refreshes(sandbox) == 1


def test_single_flight_32_tasks(session: Orange, sandbox: SandboxServer) -> None:
    token = session.token
    assert token is not None
    session.keeper.set(token.with_(issued_at=time.time() - 100, expires_at=time.time() - 1))

    async def main() -> list[object]:
        return await asyncio.gather(*(session.aget(f"{ZONES}/zone-01") for _ in range(32)))

    results = asyncio.run(main())
    assert len(results) == 32 and all(r["id"] == "zone-01" for r in results)  # type: ignore[index]
    assert refreshes(sandbox) == 1


def test_503_twice_then_success(session: Orange, sandbox: SandboxServer) -> None:
    sandbox.sandbox.add_fault(
        match="/sandbox/", status=503, code=5, message="Service temporarily unavailable", count=2
    )
    assert len(session.get(ZONES)) >= 10
    assert sandbox.sandbox.stats()["faults_served"] == 2


@pytest.mark.parametrize("retry_after", [None, 1])
def test_rate_limit_403_53_retried(
    session: Orange, sandbox: SandboxServer, retry_after: int | None
) -> None:
    sandbox.sandbox.add_fault(
        match="/sandbox/",
        status=403,
        code=53,
        message="Too many requests",
        retry_after=retry_after,
        count=1,
    )
    started = time.monotonic()
    assert session.get(f"{ZONES}/zone-01")["id"] == "zone-01"
    waited = time.monotonic() - started
    assert waited >= 0.9 if retry_after else waited < 0.9


def test_retries_are_bounded(make_session: Callable[..., Orange], sandbox: SandboxServer) -> None:
    orange = make_session(max_retries=2)
    sandbox.sandbox.add_fault(
        match="/sandbox/", status=503, code=5, message="Service temporarily unavailable", count=10
    )
    with pytest.raises(OrangeAPIError) as info:
        orange.get(ZONES)
    assert info.value.status == 503 and sandbox.sandbox.stats()["faults_served"] == 3


def test_post_not_retried_on_500(session: Orange, sandbox: SandboxServer) -> None:
    sandbox.sandbox.add_fault(
        match="/sandbox/", status=500, code=1, message="Internal error", count=1
    )
    with pytest.raises(OrangeAPIError):
        session.request("POST", "/sandbox/mobility/v1/reports", json={"name": "x"})
    assert sandbox.sandbox.stats()["reports_created"] == 0


def test_dropped_connection_retried_for_get(session: Orange, sandbox: SandboxServer) -> None:
    sandbox.sandbox.add_fault(match="/sandbox/", drop=True, count=1)
    assert session.get(f"{ZONES}/zone-01")["id"] == "zone-01"


def test_truncated_body_is_a_clear_error_when_it_persists(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    orange = make_session(max_retries=1)
    sandbox.sandbox.add_fault(match="/sandbox/", status=200, truncate=True, count=5)
    with pytest.raises(NetworkError, match="broke before the answer was complete"):
        orange.get(ZONES)


def test_error_text_has_code_request_id_and_advice(session: Orange) -> None:
    with pytest.raises(OrangeAPIError) as info:
        session.get(f"{ZONES}/nowhere")
    err = info.value
    assert err.status == 404 and err.code == 60 and err.request_id
    assert err.request_id in str(err)


def test_missing_scope_is_403_50_with_advice(make_session: Callable[..., Orange]) -> None:
    orange = make_session(scopes="openid")
    with pytest.raises(OrangeAPIError, match="scope") as info:
        orange.get(ZONES)
    assert (info.value.status, info.value.code) == (403, 50)


def test_token_never_sent_to_another_host(session: Orange) -> None:
    received: list[str] = []

    def catch(request: httpx.Request) -> httpx.Response:
        received.append(request.headers.get("authorization", ""))
        return httpx.Response(200, json={})

    with pytest.raises(TokenSentElsewhere, match="allowed_hosts"):
        session.get("http://other.example/steal")
    with pytest.raises(TokenSentElsewhere):
        session.get("http://localhost:1/steal")  # same machine, another origin
    assert received == []


def test_allowed_host_receives_token(
    make_session: Callable[..., Orange], sandbox: SandboxServer
) -> None:
    port = sandbox.url.rsplit(":", 1)[1]
    orange = make_session(allowed_hosts=[f"http://localhost:{port}"])
    echo = orange.get(f"http://localhost:{port}/sandbox/echo/v1/x")
    assert echo["method"] == "GET"


def test_connection_refused_is_a_clear_error(make_session: Callable[..., Orange]) -> None:
    orange = make_session(max_retries=0)
    orange.allowed_hosts = ["http://127.0.0.1:9"]
    with pytest.raises(NetworkError, match="could not connect"):
        orange.get("http://127.0.0.1:9/x")


def test_concurrent_offset_pages_equal_sequential(session: Orange, sandbox: SandboxServer) -> None:
    sequential = session.get(PRESENCE, {**WEEK, "limit": 10}, paginate=True, max_pages=50)
    before = sandbox.sandbox.stats()["api_calls"]
    ahead = session.fetch(
        PRESENCE, {**WEEK, "limit": 10}, paginate=True, max_pages=50, concurrency=4
    )
    assert ahead.pages == 17 and sandbox.sandbox.stats()["api_calls"] == before + 17  # type: ignore[operator]
    assert ahead.result.equals(sequential)


def test_concurrent_pages_respect_limit_and_max_pages(session: Orange) -> None:
    told: list[int] = []
    some = session.fetch(PRESENCE, {**WEEK, "limit": 10}, paginate=True, limit=35, concurrency=4)
    assert some.rows == 35 and some.pages == 4
    few = session.fetch(
        PRESENCE,
        {**WEEK, "limit": 10},
        paginate=True,
        max_pages=3,
        concurrency=4,
        on_truncated=told.append,
    )
    assert few.rows == 30 and few.truncated and told == [3]


def test_aget_takes_the_keywords_of_get(session: Orange, sandbox: SandboxServer) -> None:
    import asyncio
    import inspect

    assert set(inspect.signature(session.get).parameters) <= set(
        inspect.signature(session.aget).parameters
    )
    sequential = session.get(PRESENCE, {**WEEK, "limit": 10}, paginate=True, max_pages=50)
    told: list[int] = []
    ahead = asyncio.run(
        session.aget(
            PRESENCE,
            {**WEEK, "limit": 10},
            paginate=True,
            max_pages=50,
            concurrency=4,
            timeout=10,
        )
    )
    assert ahead.equals(sequential)
    few = asyncio.run(
        session.aget(
            PRESENCE, {**WEEK, "limit": 10}, paginate=True, max_pages=3, on_truncated=told.append
        )
    )
    assert len(few) == 30 and told == [3]
