"""Figure 3: paginated pulls, sequential and ahead-of-time concurrent.

Sequential: ``orange.get(path, paginate=True, max_pages=100)`` against a raw ``httpx``
loop that follows the body's ``next`` link, collects the items and makes one DataFrame;
100 pages of 100 records, no added latency (so only the client's cost shows).

Concurrent: the same API addressed by offset (``offset``/``limit``, ``total`` in the body),
each page answered after a 20 ms server-side delay (a realistic API's time): the baseline
is the raw sequential loop, the candidate ``orange.get(…, concurrency=8)``. Rounds
alternate (A B B A …); ratios are medians of per-round ratios.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

import httpx
import pandas as pd

from .calls import raw_client, session
from .core import Bench, Row, alternate, cpu_note, median, paired_ratio


def follow(client: httpx.Client, url: str) -> pd.DataFrame:
    """The baseline: GET, take ``items``, follow ``next`` until it is null; one DataFrame."""
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url is not None:
        response = client.get(next_url)
        response.raise_for_status()
        body = response.json()
        rows.extend(body["items"])
        next_url = urljoin(next_url, body["next"]) if body.get("next") else None
    frame: pd.DataFrame = pd.DataFrame(rows)
    return frame


def run(bench: Bench) -> list[Row]:
    """Sequential overhead, then the concurrent speed-up."""
    server = bench.json_server()
    pages, size, delay, workers = (10, 50, 5, 8) if bench.quick else (100, 100, 20, 8)
    rounds, slow_rounds = (3, 2) if bench.quick else (21, 5)
    # Two sessions: after a concurrent pull the connection pool holds `workers` idle
    # connections, which makes every later request dearer (see the README).
    orange, ahead = session(server), session(server)
    rows = pages * size
    seq_path = f"/pages?page=0&pages={pages}&size={size}&delay=0"
    off_path = f"/offset?offset=0&limit={size}&total={rows}&delay={delay}"

    with raw_client() as client:

        def check(frame: pd.DataFrame) -> None:
            assert len(frame) == rows, len(frame)

        def seq_base() -> None:
            check(follow(client, server.url + seq_path))

        def seq_cand() -> None:
            check(orange.get(seq_path, paginate=True, max_pages=pages))

        def conc_base() -> None:
            check(follow(client, server.url + off_path))

        def conc_cand() -> None:
            check(ahead.get(off_path, paginate=True, max_pages=pages, concurrency=workers))

        for warm in (seq_base, seq_cand, conc_cand):
            warm()
        base, cand = alternate(rounds, seq_base, seq_cand)
        slow_base, slow_cand = alternate(slow_rounds, conc_base, conc_cand)
    orange.close()
    ahead.close()
    ratio = paired_ratio(base.wall, cand.wall)
    speedup = 1 / paired_ratio(slow_base.wall, slow_cand.wall)
    return [
        Row(
            name="pages",
            title=f"paginated pull, {pages} pages sequential",
            baseline=median(base.wall),
            candidate=median(cand.wall),
            ratio=ratio,
            above_ms=(median(cand.wall) - median(base.wall)) * 1000,
            target="ratio ≤ 1.05",
            met=ratio <= 1.05,
            note=f"{pages} pages × {size} records following `next`, no added latency; {cpu_note(base, cand)}",
            data={"pages": pages, "size": size, "baseline": vars(base), "candidate": vars(cand)},
        ),
        Row(
            name="pages_concurrent",
            title=f"offset pages, concurrency={workers}",
            baseline=median(slow_base.wall),
            candidate=median(slow_cand.wall),
            ratio=1 / speedup,
            above_ms=None,
            target="≥ 3× faster",
            met=speedup >= 3,
            note=f"{speedup:.1f}× faster than the sequential raw loop; {delay} ms server latency per page",
            data={
                "speedup": speedup,
                "delay_ms": delay,
                "workers": workers,
                "baseline": vars(slow_base),
                "candidate": vars(slow_cand),
            },
        ),
    ]
