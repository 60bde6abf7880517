"""Figure 7: the server extension's callback handler under a flood of bogus callbacks.

A real Jupyter server with orange_nb's extension in a child process; a bounded load loop
here sends ``GET {base}orange/callback?state=<random>&code=x`` (signed in to Jupyter with
its token, as a browser would be) from a few threads, each with its own keep-alive
connection. Every answer must be the 400 stale-link page: a bogus state matches no flow
and stores nothing. The server's resident memory (``VmRSS``) is read after a warm-up and
at the end; per-request latency (p50, p99) is measured on the client. For scale, the same
loop sends Jupyter's own ``GET {base}api/status`` (authenticated, tiny JSON) in chunks
alternating with the callbacks' (one status chunk per fifth of the callbacks): the ratio is
the callbacks' p50 over that baseline's.
"""

from __future__ import annotations

import secrets
import threading
import time

from .core import Bench, JupyterServer, Row, median, percentile, rss_mb

FLAT_MB = 5.0  # growth allowed after warm-up: allocator noise, not a per-request leak


def _flood(
    server: JupyterServer, count: int, workers: int, path: str = "orange/callback"
) -> tuple[list[float], dict[int, int]]:
    """``count`` requests (bogus callbacks) from ``workers`` threads; latencies, status counts."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    share = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    url = server.url + path

    def load(n: int) -> None:
        mine: list[float] = []
        seen: dict[int, int] = {}
        with server.http() as http:
            for _ in range(n):
                params = {"state": secrets.token_urlsafe(32), "code": "x"}
                start = time.perf_counter()
                status = http.get(url, params=params).status_code
                mine.append(time.perf_counter() - start)
                seen[status] = seen.get(status, 0) + 1
        with lock:
            latencies.extend(mine)
            for status, k in seen.items():
                statuses[status] = statuses.get(status, 0) + k

    threads = [threading.Thread(target=load, args=(n,), daemon=True) for n in share]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    return latencies, statuses


def run(bench: Bench) -> list[Row]:
    """Warm-up, then the flood in chunks alternating with the baseline's, memory read around it."""
    server = bench.jupyter()
    count, warmup, workers = (200, 40, 4) if bench.quick else (10_000, 1_000, 4)
    chunks = 5
    _flood(server, warmup, workers)
    _flood(server, warmup // 5, workers, "api/status")
    before = rss_mb(server.process.pid)
    latencies: list[float] = []
    status_latencies: list[float] = []
    statuses: dict[int, int] = {}
    middle = before
    elapsed = 0.0
    for chunk in range(chunks):
        size = count // chunks + (1 if chunk < count % chunks else 0)
        start = time.perf_counter()
        took, seen = _flood(server, size, workers)
        elapsed += time.perf_counter() - start
        latencies += took
        for status, k in seen.items():
            statuses[status] = statuses.get(status, 0) + k
        base, ok = _flood(server, max(workers, size // 5), workers, "api/status")
        if set(ok) != {200}:
            raise RuntimeError(f"api/status answered {ok}")
        status_latencies += base
        if chunk == chunks // 2:
            middle = rss_mb(server.process.pid)
    after = rss_mb(server.process.pid)
    if statuses != {400: count}:
        raise RuntimeError(f"expected {count} answers of 400, got {statuses}")
    growth = after - before
    p50, p99 = median(latencies), percentile(latencies, 99)
    b50, b99 = median(status_latencies), percentile(status_latencies, 99)
    return [
        Row(
            name="callbacks",
            title=f"{count:,} bogus callbacks, {workers} connections",
            baseline=b50,
            candidate=p50,
            ratio=p50 / b50,
            above_ms=(p50 - b50) * 1000,
            target=f"RSS flat (≤ {FLAT_MB:g} MB); p99 reported",
            met=growth <= FLAT_MB,
            note=(
                f"server RSS {before:.1f} → {middle:.1f} → {after:.1f} MB ({growth:+.1f} MB); "
                f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms (api/status p50 "
                f"{b50 * 1000:.1f} ms, p99 {b99 * 1000:.1f} ms); "
                f"{count / elapsed:.0f} callbacks/s; all answered 400"
            ),
            data={
                "count": count,
                "workers": workers,
                "rss_before_mb": before,
                "rss_middle_mb": middle,
                "rss_after_mb": after,
                "p50": p50,
                "p99": p99,
                "status_p50": b50,
                "status_p99": b99,
                "callbacks_per_second": count / elapsed,
            },
        )
    ]
