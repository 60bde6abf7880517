"""Figure 2: ``orange.get`` → DataFrame for 100,000 flat records (~10 MB of JSON).

Baseline: ``pandas.DataFrame(json.loads(body))`` on the same bytes, fetched by a raw
``httpx.Client`` from the same server. Both sides are timed on the client from the request
to the DataFrame, alternating (A B B A …); the ratio is the median of per-round ratios.
A second row times the conversion alone, no HTTP: ``frames.to_result(json.loads(body))``
against the same baseline expression, on bytes held in memory.
"""

from __future__ import annotations

import json

import pandas as pd

from .calls import raw_client, session
from .core import Bench, Row, alternate, cpu_note, median, paired_ratio
from .jsonserver import records_body


def run(bench: Bench) -> list[Row]:
    """Through HTTP, then the conversion alone."""
    from orange_nb.session import frames

    server = bench.json_server()
    n, rounds = (5_000, 3) if bench.quick else (100_000, 9)
    orange = session(server)
    path = f"/records?n={n}"
    url = server.url + path

    with raw_client() as client:
        body = client.get(url).content  # also warms the server's cache
        expected = pd.DataFrame(json.loads(body))
        for got in (orange.get(path), frames.to_result(json.loads(body))):
            # The same frame on both sides, or the comparison would not be fair.
            assert isinstance(got, pd.DataFrame)
            pd.testing.assert_frame_equal(got, expected)
        del expected, got
        base, cand = alternate(
            rounds,
            lambda: pd.DataFrame(json.loads(client.get(url).content)),
            lambda: orange.get(path),
        )
    orange.close()
    assert body == records_body(n)
    pure_base, pure_cand = alternate(
        rounds,
        lambda: pd.DataFrame(json.loads(body)),
        lambda: frames.to_result(json.loads(body)),
    )
    ratio, pure_ratio = (
        paired_ratio(base.wall, cand.wall),
        paired_ratio(pure_base.wall, pure_cand.wall),
    )
    return [
        Row(
            name="frames",
            title=f"orange.get → DataFrame, {n:,} records",
            baseline=median(base.wall),
            candidate=median(cand.wall),
            ratio=ratio,
            above_ms=(median(cand.wall) - median(base.wall)) * 1000,
            target="ratio ≤ 1.15",
            met=ratio <= 1.15,
            note=f"{len(body) / 1e6:.1f} MB of JSON over HTTP; {cpu_note(base, cand)}",
            data={
                "records": n,
                "bytes": len(body),
                "rounds": rounds,
                "baseline": vars(base),
                "candidate": vars(cand),
            },
        ),
        Row(
            name="frames_pure",
            title=f"to_result(json.loads), {n:,} records",
            baseline=median(pure_base.wall),
            candidate=median(pure_cand.wall),
            ratio=pure_ratio,
            above_ms=(median(pure_cand.wall) - median(pure_base.wall)) * 1000,
            target="(reported)",
            met=None,
            note=f"conversion alone, no HTTP; {cpu_note(pure_base, pure_cand)}",
            data={"baseline": vars(pure_base), "candidate": vars(pure_cand)},
        ),
    ]
