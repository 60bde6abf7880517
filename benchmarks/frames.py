"""Figure 2: ``orange.get`` → DataFrame for 100,000 flat records (~10 MB of JSON).

Baseline: ``pandas.DataFrame(json.loads(body))`` on the same bytes, fetched by a raw
``httpx.Client`` from the same server. Both sides are timed on the client from the request
to the DataFrame, alternating (A B B A …); the ratio is the median of per-round ratios.
Rows: the pandas frame (target ≤ 0.60), the polars frame against the same pandas baseline
(≤ 0.40, when polars is installed), the pure path (msgspec made unavailable: reported),
the conversion alone without HTTP (reported), and the peak memory of a 1M-record pull,
measured in a fresh subprocess (``benchmarks.memory``): peak RSS growth over the final
DataFrame's own memory (≤ 3×).
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
        polars = _has_polars()
        runs = [
            lambda: pd.DataFrame(json.loads(client.get(url).content)),
            lambda: orange.get(path),
        ]
        if polars:
            assert len(orange.get(path, frame="polars")) == n
            runs.append(lambda: orange.get(path, frame="polars"))
        base, cand, *pl_cand = alternate(rounds, *runs)
        frames.reset_decoder()
        frames._msgspec = frames._MISSING_MSGSPEC  # the pure path, as without the extra
        try:
            pure_base, pure_http = alternate(max(3, rounds // 3), *runs[:2])
        finally:
            frames.reset_decoder()
    orange.close()
    assert body == records_body(n)
    conv_base, conv_cand = alternate(
        rounds,
        lambda: pd.DataFrame(json.loads(body)),
        lambda: frames.to_result(json.loads(body)),
    )
    ratio, conv_ratio = (
        paired_ratio(base.wall, cand.wall),
        paired_ratio(conv_base.wall, conv_cand.wall),
    )
    pure_ratio = paired_ratio(pure_base.wall, pure_http.wall)
    rows = [
        Row(
            name="frames",
            title=f"orange.get → DataFrame, {n:,} records",
            baseline=median(base.wall),
            candidate=median(cand.wall),
            ratio=ratio,
            above_ms=(median(cand.wall) - median(base.wall)) * 1000,
            target="ratio ≤ 0.60",
            met=ratio <= 0.60,
            note=f"{len(body) / 1e6:.1f} MB of JSON over HTTP, msgspec fast path; {cpu_note(base, cand)}",
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
            title=f"orange.get, pure path, {n:,} records",
            baseline=median(pure_base.wall),
            candidate=median(pure_http.wall),
            ratio=pure_ratio,
            above_ms=(median(pure_http.wall) - median(pure_base.wall)) * 1000,
            target="(reported)",
            met=None,
            note=f"without msgspec (standard json); {cpu_note(pure_base, pure_http)}",
            data={"baseline": vars(pure_base), "candidate": vars(pure_http)},
        ),
        Row(
            name="frames_conversion",
            title=f"to_result(json.loads), {n:,} records",
            baseline=median(conv_base.wall),
            candidate=median(conv_cand.wall),
            ratio=conv_ratio,
            above_ms=(median(conv_cand.wall) - median(conv_base.wall)) * 1000,
            target="(reported)",
            met=None,
            note=f"conversion alone, no HTTP; {cpu_note(conv_base, conv_cand)}",
            data={"baseline": vars(conv_base), "candidate": vars(conv_cand)},
        ),
    ]
    if pl_cand:
        pl_ratio = paired_ratio(base.wall, pl_cand[0].wall)
        rows.insert(
            1,
            Row(
                name="frames_polars",
                title=f"orange.get(frame='polars'), {n:,} records",
                baseline=median(base.wall),
                candidate=median(pl_cand[0].wall),
                ratio=pl_ratio,
                above_ms=(median(pl_cand[0].wall) - median(base.wall)) * 1000,
                target="ratio ≤ 0.40",
                met=pl_ratio <= 0.40,
                note=f"against the pandas baseline; {cpu_note(base, pl_cand[0])}",
                data={"baseline": vars(base), "candidate": vars(pl_cand[0])},
            ),
        )
    rows.append(memory_row(server.url, 50_000 if bench.quick else 1_000_000))
    return rows


def _has_polars() -> bool:
    try:
        import polars  # noqa: F401
    except ImportError:
        return False
    return True


def memory_row(url: str, n: int) -> Row:
    """Peak RSS growth of one ``orange.get`` of ``n`` records, in a fresh subprocess."""
    import subprocess

    from .core import PYTHON, REPO, clean_env

    out = subprocess.run(
        [PYTHON, "-m", "benchmarks.memory", url, str(n)],
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    ratio = got["peak_growth"] / got["frame_bytes"]
    return Row(
        name="frames_memory",
        title=f"peak RSS, {n:,} records → DataFrame",
        baseline=None,
        candidate=None,
        ratio=ratio,
        target="≤ 3× the frame",
        met=ratio <= 3,
        note=(
            f"peak RSS grew {got['peak_growth'] / 1e6:.0f} MB for a frame of "
            f"{got['frame_bytes'] / 1e6:.0f} MB (deep), body {got['body_bytes'] / 1e6:.0f} MB"
        ),
        data=got,
    )
