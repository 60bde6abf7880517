"""Quota-aware pacing: what the answers say sets the pace; the sandbox's limiter is a bucket."""

from __future__ import annotations

import httpx
import pytest

from orange_nb import Orange
from orange_nb.sandbox import SandboxServer
from orange_nb.sandbox.limits import RateLimiter
from orange_nb.session.retry import Pacer, quota_of

PRESENCE = "/sandbox/mobility/v1/zones/zone-01/presence"


class Clock:
    """A clock the test moves by hand: delays are computed, never slept."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _pacer(max_rate: float | None = None) -> tuple[Pacer, Clock]:
    pacer, clock = Pacer(max_rate), Clock()
    pacer._clock = clock
    return pacer, clock


def _answer(status: int = 200, body: bytes = b"{}", **headers: str) -> httpx.Response:
    named = {name.replace("_", "-"): value for name, value in headers.items()}
    return httpx.Response(status, content=body, headers=named)


def test_quota_headers_read() -> None:
    assert quota_of(httpx.Headers({"RateLimit-Policy": "20;w=1"})) == (20.0, None, None)
    assert quota_of(httpx.Headers({"RateLimit-Policy": '"d";q=100;w=10'}))[0] == 10.0
    got = quota_of(
        httpx.Headers(
            {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2"}
        )
    )
    assert got == (5.0, 0.0, 2.0)
    assert quota_of(httpx.Headers({"RateLimit-Limit": "lots"})) == (None, None, None)


def test_no_limit_known_no_pace() -> None:
    pacer, _ = _pacer()
    pacer.observe(_answer())
    assert [pacer.delay() for _ in range(5)] == [0.0] * 5


def test_max_rate_spaces_starts() -> None:
    pacer, clock = _pacer(max_rate=4)
    delays = [pacer.delay() for _ in range(3)]
    assert delays == pytest.approx([0.0, 0.25, 0.5])
    clock.now += 10
    assert pacer.delay() == 0.0  # idle time is not banked beyond one request


def test_policy_header_sets_the_pace_below_max_rate() -> None:
    pacer, _ = _pacer(max_rate=50)
    pacer.observe(_answer(RateLimit_Policy="20;w=1", RateLimit_Remaining="19"))
    assert pacer.rate == pytest.approx(20 * Pacer.MARGIN)
    pacer.delay()
    assert pacer.delay() == pytest.approx(1 / (20 * Pacer.MARGIN))


def test_refusal_with_retry_after_pauses_everyone() -> None:
    pacer, _ = _pacer()
    refused = _answer(403, b'{"code": 53, "message": "Too many requests"}', Retry_After="2")
    pacer.observe(refused)
    assert pacer.refused == 1
    assert pacer.delay() == pytest.approx(2.0)


def test_exhausted_remaining_waits_for_reset() -> None:
    pacer, _ = _pacer()
    pacer.observe(_answer(RateLimit_Limit="10", RateLimit_Remaining="0", RateLimit_Reset="3"))
    assert pacer.delay() == pytest.approx(3.0)


def test_refusals_without_headers_slow_then_probe_up() -> None:
    pacer, clock = _pacer()
    for _ in range(10):  # ten successes within the last second
        clock.now += 0.05
        pacer.observe(_answer())
    pacer.observe(_answer(429))
    assert pacer.rate == pytest.approx(10 * Pacer.BACKOFF)
    before = pacer.rate
    pacer.observe(_answer())
    assert pacer.rate == pytest.approx(before * Pacer.PROBE)
    pacer.observe(_answer(500))  # a server error is no sign of quota
    assert pacer.refused == 1


def _sleeping_on(clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """``time.sleep`` in the pacer moves the test's clock instead of sleeping."""
    from orange_nb.session import retry

    monkeypatch.setattr(
        retry.time, "sleep", lambda seconds: setattr(clock, "now", clock.now + seconds)
    )


def _got_through(pacer: Pacer, clock: Clock, count: int = 10) -> None:
    for _ in range(count):  # successes within the last second: the base of a cut
        clock.now += 0.05
        pacer.observe(_answer())


def test_refusals_of_requests_in_flight_at_a_cut_cut_once(monkeypatch: pytest.MonkeyPatch) -> None:
    pacer, clock = _pacer()
    _sleeping_on(clock, monkeypatch)
    _got_through(pacer, clock)
    tickets = [pacer.wait() for _ in range(16)]  # sixteen under way at the unknown pace
    for ticket in tickets:  # the quota is spent: every one of them is refused
        pacer.observe(_answer(429), ticket)
    assert pacer.refused == 16 and pacer.cuts == 1
    assert pacer.rate == pytest.approx(10 * Pacer.BACKOFF)  # not 10 × 0.85 ** 16
    assert pacer.delay() == pytest.approx(1 / pacer.rate)  # the next start one interval on


def test_a_refusal_of_a_request_started_after_the_cut_cuts_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pacer, clock = _pacer()
    _sleeping_on(clock, monkeypatch)
    _got_through(pacer, clock)
    early = pacer.wait()
    pacer.observe(_answer(429), early)
    assert pacer.cuts == 1
    late = pacer.wait()  # scheduled at the new pace
    pacer.observe(_answer(429), early)  # one more from before: no cut
    assert pacer.rate == pytest.approx(10 * Pacer.BACKOFF)
    pacer.observe(_answer(429), late)
    assert pacer.cuts == 2
    assert pacer.rate == pytest.approx(10 * Pacer.BACKOFF**2)
    pacer.observe(_answer(429))  # no ticket (a caller that has none): it may cut, as before
    assert pacer.cuts == 3


def test_await_turn_gives_a_ticket_too(monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    pacer, clock = _pacer()
    _got_through(pacer, clock)
    early = asyncio.run(pacer.await_turn())
    pacer.observe(_answer(429), early)
    assert pacer.cuts == 1
    monkeypatch.setattr(asyncio, "sleep", _no_sleep)
    assert asyncio.run(pacer.await_turn()) == 1


async def _no_sleep(seconds: float) -> None:
    return None


def test_after_a_cut_successes_probe_back_to_the_quota(monkeypatch: pytest.MonkeyPatch) -> None:
    pacer, clock = _pacer()
    _sleeping_on(clock, monkeypatch)
    _got_through(pacer, clock)
    pacer.observe(_answer(429), pacer.wait())
    cut = pacer.rate
    assert cut == pytest.approx(8.5)
    successes = 0
    while pacer.rate is not None and pacer.rate < 10 and successes < 1000:
        pacer.observe(_answer(), pacer.wait())
        successes += 1
    assert successes == 163  # 1 / 0.85 in steps of 0.1 %: about 17.7 s at this pace
    assert 17.6 < clock.now - 100.5 < 17.8  # the time those 163 took at the pace probed


def test_refusals_with_quota_headers_do_not_cut() -> None:
    pacer, clock = _pacer()
    _got_through(pacer, clock)
    quota = {"RateLimit_Policy": "10;w=1", "RateLimit_Remaining": "0"}
    for _ in range(3):
        pacer.observe(_answer(429, **quota), 0)
    assert pacer.rate == pytest.approx(10 * Pacer.MARGIN) and pacer.cuts == 0


def test_sandbox_bucket_refills_over_time() -> None:
    limiter = RateLimiter()
    assert all(limiter.allow("c", 5, 0.0) for _ in range(5))  # a burst of one second's worth
    assert not limiter.allow("c", 5, 0.0)
    assert not limiter.allow("c", 5, 0.1)  # half a call back: still none
    assert limiter.allow("c", 5, 0.2)  # one call back after 1/5 s, not a new window
    assert not limiter.allow("c", 5, 0.2)
    headers = limiter.headers("c", 5, 0.2)
    assert headers["RateLimit-Remaining"] == "0" and headers["Retry-After"] == "1"
    assert limiter.headers("c", 5, 10.0)["RateLimit-Remaining"] == "5"


def test_sandbox_answers_carry_quota_headers_and_refusals_retry_after(
    sandbox: SandboxServer, make_session: object
) -> None:
    sandbox.sandbox.configure(rate_limit_per_second=3)
    orange: Orange = make_session(max_retries=0)  # type: ignore[operator]
    ok = orange.request("GET", PRESENCE, params={"start": "2026-01-01"})
    assert ok.headers["RateLimit-Policy"] == "3;w=1"
    assert int(ok.headers["RateLimit-Remaining"]) <= 2
    refused = None
    for _ in range(6):
        sent = orange.client.get(orange.url_for(PRESENCE), params={"start": "2026-01-01"})
        if sent.status_code == 403:
            refused = sent
            break
    assert refused is not None and refused.json()["code"] == 53
    assert refused.headers["Retry-After"] == "1"


def test_paced_pull_is_not_refused(sandbox: SandboxServer, make_session: object) -> None:
    sandbox.sandbox.configure(rate_limit_per_second=10)
    orange: Orange = make_session()  # type: ignore[operator]
    params = {"start": "2026-01-01", "end": "2026-01-02", "limit": "2", "offset": "0"}
    before = sandbox.sandbox.stats()["rate_limited"]
    frame = orange.get(PRESENCE, params, paginate=True, concurrency=4, max_pages=30)
    assert len(frame) == 48
    assert sandbox.sandbox.stats()["rate_limited"] == before  # the headers set the pace
    assert orange.wiring.pacer.rate == pytest.approx(10 * Pacer.MARGIN)


def test_max_rate_is_a_setting_of_the_session(make_session: object) -> None:
    orange: Orange = make_session(signed_in=False, max_rate=7.5)  # type: ignore[operator]
    assert orange.wiring.pacer.max_rate == 7.5 and orange.retry_policy.max_rate == 7.5
    orange.max_rate = None
    assert orange.wiring.pacer.max_rate is None


def test_rate_headers_in_other_digits_are_ignored() -> None:
    raw = {"RateLimit-Limit": "٣", "RateLimit-Remaining": "１", "RateLimit-Reset": "nan"}
    headers = httpx.Headers({name: value.encode() for name, value in raw.items()})
    assert quota_of(headers) == (None, None, None)  # float() would read 3, 1 and nan


def test_a_first_refusal_leaves_the_pace_to_the_retry_backoff() -> None:
    pacer, _ = _pacer()
    pacer.observe(_answer(429))  # nothing got through yet: no rate to cut from
    assert pacer.rate is None and pacer.delay() == 0.0


def test_a_cut_voids_the_turns_booked_at_the_old_pace(monkeypatch: pytest.MonkeyPatch) -> None:
    pacer, clock = _pacer()
    _got_through(pacer, clock)
    pacer.observe(_answer(429), pacer.wait())  # the first cut: 8.5/s
    for _ in range(8):  # eight workers' turns booked ahead at that pace, ~1 s of them
        pacer.delay()
    refused_at = clock.now + 0.05
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 1:  # while this one waits its turn, a request before it is refused
            clock.now = refused_at
            pacer.observe(_answer(429), pacer.cuts)
            seconds -= 0.05
        clock.now += seconds

    from orange_nb.session import retry

    monkeypatch.setattr(retry.time, "sleep", sleep)
    assert pacer.wait() == 2  # booked again after the second cut: its refusal may cut
    assert pacer.cuts == 2 and pacer.rate == pytest.approx(10 * Pacer.BACKOFF**2)
    # The next start is one interval after the cut at the new pace, not after the turns
    # booked at the old one (a second of them): those waiters book again when they wake.
    assert sleeps[0] > 1.0
    assert clock.now + pacer.delay() - refused_at < 1.5 / pacer.rate + sleeps[0]


def test_next_start_after_a_cut_ignores_turns_booked_before() -> None:
    pacer, clock = _pacer()
    _got_through(pacer, clock)
    pacer.observe(_answer(429), pacer.wait())
    for _ in range(16):
        pacer.delay()  # booked at 8.5/s: almost 2 s ahead
    pacer.observe(_answer(429), pacer.cuts)
    assert pacer.delay() == pytest.approx(1 / pacer.rate)  # one interval at the new pace


def test_a_pull_with_no_pace_known_ramps_up_what_it_has_under_way() -> None:
    pacer, _ = _pacer()
    assert [pacer.window(8, answered) for answered in (0, 19, 20, 40, 500)] == [2, 2, 3, 4, 8]
    assert pacer.window(1, 0) == 1
    pacer.proved(6, pacer.refused)  # an earlier pull had six under way, none refused
    assert pacer.window(8, 0) == 6 and pacer.window(4, 0) == 4
    assert pacer.window(8, 20) == 7 and pacer.window(8, 40) == 8  # and ramps on from there
    refused = pacer.refused
    pacer.observe(_answer(429))
    pacer.proved(8, refused)  # one was refused since: nothing proved
    assert pacer.proven == 6
    paced, _ = _pacer(max_rate=20)
    assert paced.window(8, 0) == 8  # a pace spaces the starts: every worker at once


def test_an_api_without_quota_headers_refuses_few_of_a_concurrent_pull(
    sandbox: SandboxServer, make_session: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.sandbox.configure(rate_limit_per_second=20)
    orange: Orange = make_session()  # type: ignore[operator]
    observe = orange.wiring.pacer.observe

    def without_headers(response: httpx.Response, ticket: int | None = None) -> None:
        kept = [(k, v) for k, v in response.headers.items() if "ratelimit" not in k.lower()]
        response.headers = httpx.Headers(kept)
        observe(response, ticket)

    monkeypatch.setattr(orange.wiring.pacer, "observe", without_headers)
    params = {"start": "2026-01-01", "end": "2026-03-01", "limit": "24", "offset": "0"}
    import time

    time.sleep(1.05)  # the bucket full again after the sign-in
    before = sandbox.sandbox.stats()["rate_limited"]
    frame = orange.get(PRESENCE, params, paginate=True, concurrency=8, max_pages=100)
    assert len(frame) == 60 * 24  # every page, the refused ones retried
    # Eight at once into a spent bucket of twenty were eight refused; ramping up from two
    # under way, one or two are.
    assert int(sandbox.sandbox.stats()["rate_limited"]) - int(before) <= 3
