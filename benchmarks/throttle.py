"""Figure: a pull of 200 pages from an API limited to 20 requests per second.

The sandbox (its token bucket: 20 calls/s, bursts of 20, rate-limit headers on every
answer, 403 code 53 with ``Retry-After`` over it) serves the presence API; the candidate is
``orange.get(…, limit=3 per page, concurrency=8)``, paced by what the answers say. The
baseline is the ideal: 200 pages / 20 per second = 10 s. Also counted: the requests the
sandbox refused (≤ 2 % of 200), and that none reached the user (the pull returns every
row). A second row runs the same pull with the headers ignored (``Pacer`` learning from
refusals alone, as with an API that sends none): reported.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from .core import Bench, Row

RATE = 20.0


def _signed_in(url: str) -> Any:
    from orange_nb import Orange

    orange = Orange.sandbox(root=url, open_browser=False, retry_backoff=0.05)
    flow = orange.begin_login()
    httpx.get(flow.url, follow_redirects=True, timeout=10, trust_env=False)
    orange.wait_for_login(timeout=10)
    return orange


def _pull(server: Any, pages: int, workers: int, headers: bool = True) -> dict[str, float]:
    orange = _signed_in(server.url)
    sandbox = server.sandbox
    if not headers:  # an API that sends no rate-limit headers: only refusals teach
        orange.wiring.pacer.observe = _without_headers(orange.wiring.pacer.observe)
    size = 3
    days = -(-pages * size // 24)
    path = f"/sandbox/mobility/v1/zones/zone-01/presence?start=2026-01-01&end=2026-{1 + (days - 1) // 28:02d}-{1 + (days - 1) % 28:02d}&limit={size}&offset=0"
    time.sleep(1.1)  # the bucket full again after the sign-in
    before = sandbox.stats()
    start = time.perf_counter()
    frame = orange.get(
        path, paginate=True, max_pages=10_000, concurrency=workers, limit=pages * size
    )
    elapsed = time.perf_counter() - start
    after = sandbox.stats()
    orange.close()
    refused = int(after["rate_limited"]) - int(before["rate_limited"])
    return {"elapsed": elapsed, "refused": refused, "rows": len(frame), "pages": pages}


def _without_headers(observe: Any) -> Any:
    def strip(response: httpx.Response, ticket: int | None = None) -> None:
        kept = [
            (k, v)
            for k, v in response.headers.items()
            if not k.lower().startswith(("ratelimit", "retry-after"))
        ]
        response.headers = httpx.Headers(kept)
        observe(response, ticket)

    return strip


def run(bench: Bench) -> list[Row]:
    """The paced pull, then the same without headers."""
    from orange_nb.sandbox import serve_in_thread

    pages, workers = (40, 8) if bench.quick else (200, 8)
    server = serve_in_thread()
    try:
        server.sandbox.configure(auto_consent="demo", rate_limit_per_second=RATE)
        paced = _pull(server, pages, workers)
        blind = _pull(server, pages, workers, headers=False)
    finally:
        server.stop()
    ideal = pages / RATE
    rows = []
    for name, got, target in (("throttle", paced, True), ("throttle_blind", blind, False)):
        ratio = got["elapsed"] / ideal
        share = got["refused"] / pages
        complete = got["rows"] == pages * 3
        rows.append(
            Row(
                name=name,
                title=f"{pages} pages at {RATE:g} req/s, concurrency={workers}"
                + ("" if target else ", no headers"),
                baseline=ideal,
                candidate=got["elapsed"],
                ratio=ratio,
                target="≤ 1.15, ≤ 2 % refused" if target else "(reported)",
                met=(ratio <= 1.15 and share <= 0.02 and complete) if target else None,
                note=f"{got['refused']:.0f} refused ({share:.1%}), {'all rows' if complete else 'ROWS MISSING'}; {pages / got['elapsed']:.1f} pages/s",
                data=got,
            )
        )
    return rows
