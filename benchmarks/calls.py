"""Figure 1: per-call overhead of ``orange.request`` against a raw ``httpx.Client``.

Both sides send sequential authenticated GETs of a small JSON object to the benchmarks'
JSON server, each over its own keep-alive connection: the baseline with a fixed bearer
header and, as CAMARA asks of every call, a new ``x-correlator`` (``str(uuid.uuid4())``,
as code written by hand makes it), the candidate through a signed-in session (token valid
for a month, so no refresh), which sends one by itself. The same request on both sides:
the figure is orange_nb's own cost, not the header's (that one costs about 2.5 % of a
0.4 ms loopback call; ``BENCH_NO_CORRELATOR=1`` drops it from the baseline to see it). Calls alternate one by one (A B B A …), each timed alone, so a burst of load
from the shared machine lands on both sides alike; the figure is the ratio of the
median per-call wall times. The median per-call CPU time of this process is reported too.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import TYPE_CHECKING

import httpx

from .core import Bench, JsonServer, Row, Samples, median

if TYPE_CHECKING:
    from orange_nb.session.orange import Orange

TOKEN = "bench-access-token"


def session(server: JsonServer) -> Orange:
    """A session on ``server``, signed in with a token valid for 30 days."""
    from orange_nb import Orange
    from orange_nb.oauth.token import Token

    orange = Orange(
        client_id="bench",
        client_secret="bench-secret",
        api_url=server.url,
        token_url=server.url + "/token",
    )
    now = time.time()
    orange.keeper.set(
        Token(
            access_token=TOKEN,
            refresh_token="bench-refresh-token",
            expires_at=now + 30 * 24 * 3600,
            issued_at=now,
        )
    )
    return orange


def raw_client() -> httpx.Client:
    """The baseline: keep-alive, a fixed bearer header, nothing else."""
    return httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, trust_env=False, timeout=30)


def alternate_calls(
    client: httpx.Client, orange: Orange, url: str, path: str, calls: int
) -> tuple[Samples, Samples]:
    """``calls`` GETs a side, alternating one by one (A B B A …), each timed alone."""

    plain = bool(os.environ.get("BENCH_NO_CORRELATOR"))

    def baseline() -> None:
        headers = None if plain else {"x-correlator": str(uuid.uuid4())}
        if client.get(url, headers=headers).status_code != 200:
            raise RuntimeError("the baseline call failed")

    def candidate() -> None:
        orange.request("GET", path)

    sides = (baseline, candidate)
    samples = (Samples(), Samples())
    clock, cpu_clock = time.perf_counter, time.thread_time
    for _ in range(50):  # warm-up: connections, imports, caches
        baseline()
        candidate()
    for index in range(calls):
        for side in (0, 1) if index % 2 == 0 else (1, 0):
            start, start_cpu = clock(), cpu_clock()
            sides[side]()
            samples[side].cpu.append(cpu_clock() - start_cpu)
            samples[side].wall.append(clock() - start)
    return samples


def _row(name: str, title: str, base: Samples, cand: Samples, note: str = "") -> Row:
    wall_base, wall_cand = median(base.wall), median(cand.wall)
    cpu_base, cpu_cand = median(base.cpu), median(cand.cpu)
    ratio = wall_cand / wall_base
    cpu = f"client CPU per call {cpu_base * 1e6:.0f} → {cpu_cand * 1e6:.0f} µs (×{cpu_cand / cpu_base:.3f})"
    return Row(
        name=name,
        title=title,
        baseline=wall_base,
        candidate=wall_cand,
        ratio=ratio,
        above_ms=(wall_cand - wall_base) * 1000,
        target="ratio ≤ 1.05",
        met=ratio <= 1.05,
        note="; ".join(filter(None, [note, cpu])),
        data={
            "calls": len(base.wall),
            "cpu_baseline": cpu_base,
            "cpu_candidate": cpu_cand,
            "cpu_ratio": cpu_cand / cpu_base,
            "mean_ratio": sum(cand.wall) / sum(base.wall),
        },
    )


def run(bench: Bench) -> list[Row]:
    """2,000 calls a side (100 quick); again after a concurrent pull filled the pool."""
    server = bench.json_server()
    calls, workers = (100, 8) if bench.quick else (2000, 8)
    orange = session(server)
    url = server.url + "/small"
    with raw_client() as client:
        fresh = alternate_calls(client, orange, url, "/small", calls)
        # A concurrent pull leaves `workers` idle connections in the session's pool.
        orange.get(f"/offset?limit=10&total={10 * workers * 2}", paginate=True, concurrency=workers)
        pooled = alternate_calls(client, orange, url, "/small", calls)
    orange.close()
    return [
        _row("calls", f"per-call overhead, {calls:,} GETs", *fresh),
        _row(
            "calls_after_concurrent",
            f"per-call, after concurrency={workers}",
            *pooled,
            note=f"the same calls once a concurrency={workers} pull left {workers} idle connections",
        ),
    ]
