"""Figure 4: 64 threads hit an expired token at once.

One session, 64 threads released together by a barrier, each making one ``orange.request``.
Expired round: the session holds an expired token (with a refresh token), so the calls
must refresh first; the JSON server counts the requests its token endpoint gets, which
answers after a fixed delay (a remote token endpoint's time). Valid round: the same with
a valid token. Added latency = expired round - valid round (wall time until the last
thread is done), paired per round; the token endpoint's own round trip (a raw ``httpx``
POST, keep-alive) is measured in the same rounds. Target: exactly one refresh request per
round, and the added latency within one round trip (10 % allowed for the client's own
handling of the answer, which the raw round trip does not include).
"""

from __future__ import annotations

import threading
import time

from .calls import session
from .core import Bench, Row, median

TOLERANCE = 1.10


def _burst(orange: object, threads: int) -> float:
    """Release ``threads`` threads at once, each making one call; seconds until all are done."""
    from orange_nb.session.orange import Orange

    assert isinstance(orange, Orange)
    barrier = threading.Barrier(threads + 1)
    done: list[float] = []
    errors: list[BaseException] = []

    def call() -> None:
        barrier.wait()
        try:
            orange.request("GET", "/small")
        except BaseException as exc:  # reported below, never lost in a thread
            errors.append(exc)
        done.append(time.perf_counter())

    workers = [threading.Thread(target=call, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    for worker in workers:
        worker.join(60)
    if errors:
        raise errors[0]
    if len(done) != threads:
        raise RuntimeError("a thread did not finish within 60 s")
    return max(done) - start


def run(bench: Bench) -> list[Row]:
    """Rounds of (valid burst, expired burst, token round trips)."""
    import httpx

    from orange_nb.oauth.endpoint import basic_credentials
    from orange_nb.oauth.token import Token

    server = bench.json_server()
    threads, rounds, delay_ms = (64, 2, 20) if bench.quick else (64, 7, 50)
    server.configure(token_delay_ms=delay_ms)
    orange = session(server)

    def set_token(*, expired: bool) -> None:
        now = time.time()
        start = now - 7200 if expired else now
        orange.keeper.set(
            Token(
                access_token="bench-access-token",
                refresh_token="bench-refresh-token",
                expires_at=start + 3600,
                issued_at=start,
            )
        )

    raw = httpx.Client(trust_env=False, timeout=30)
    form = {"grant_type": "refresh_token", "refresh_token": "bench-refresh-token"}
    auth = {"Authorization": basic_credentials("bench", "bench-secret")}

    def round_trip() -> float:
        start = time.perf_counter()
        raw.post(server.url + "/token", data=form, headers=auth).raise_for_status()
        return time.perf_counter() - start

    valid: list[float] = []
    expired: list[float] = []
    trips: list[float] = []
    refreshes: list[int] = []
    try:
        set_token(expired=True)
        _burst(orange, threads)  # warm-up: threads, connections, the refresh path
        round_trip()
        for index in range(rounds):
            for kind in ("valid", "expired") if index % 2 == 0 else ("expired", "valid"):
                set_token(expired=kind == "expired")
                before = server.stats().get("/token", 0)
                took = _burst(orange, threads)
                count = server.stats().get("/token", 0) - before
                if kind == "expired":
                    expired.append(took)
                    refreshes.append(count)
                else:
                    valid.append(took)
                    if count:
                        raise RuntimeError("a valid token was refreshed")
            trips.extend(round_trip() for _ in range(3))
    finally:
        raw.close()
        orange.close()
        server.configure(token_delay_ms=0)
    added = [e - v for e, v in zip(expired, valid, strict=True)]
    trip = median(trips)
    ratio = median(added) / trip
    single = all(count == 1 for count in refreshes)
    return [
        Row(
            name="refresh",
            title=f"refresh under contention, {threads} threads",
            baseline=trip,
            candidate=median(added),
            ratio=ratio,
            above_ms=(median(added) - trip) * 1000,
            target="1 refresh; added ≤ 1 round trip",
            met=single and ratio <= TOLERANCE,
            note=(
                f"refresh requests per round: {refreshes}; baseline = token round trip "
                f"({delay_ms} ms server delay), candidate = latency added by the expired token; "
                f"burst {median(valid) * 1000:.0f} ms valid, {median(expired) * 1000:.0f} ms expired"
            ),
            data={
                "threads": threads,
                "token_delay_ms": delay_ms,
                "refreshes": refreshes,
                "valid": valid,
                "expired": expired,
                "round_trips": trips,
            },
        )
    ]
