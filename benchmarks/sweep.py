"""Figure 8: throughput of the throttled pull against concurrency, drawn as a PNG.

The pull of ``throttle.py`` (the sandbox limited to 20 requests/s, rate-limit headers on
every answer) at ``concurrency`` 1, 2, 4, 8 and 16: pages per second and requests refused,
each against the quota (20/s); then the same with the headers stripped (the ``Pacer``
learning from refusals alone, as with an API that sends none). Writes ``docs/images/throttle-concurrency.png`` (matplotlib,
the ``bench`` extra; ``--quick`` writes it to the run's temporary directory instead). The
row reports; the target is the throttle figure's.
"""

from __future__ import annotations

from pathlib import Path

from .core import REPO, Bench, Row
from .throttle import RATE, _pull

PNG = REPO / "docs" / "images" / "throttle-concurrency.png"


def run(bench: Bench) -> list[Row]:
    """Each concurrency once, on one sandbox; then the picture."""
    from orange_nb.sandbox import serve_in_thread

    pages, levels = (20, (1, 4)) if bench.quick else (200, (1, 2, 4, 8, 16))
    server = serve_in_thread()
    points: list[dict[str, float]] = []
    try:
        server.sandbox.configure(auto_consent="demo", rate_limit_per_second=RATE)
        for headers in (True, False):
            for workers in levels:
                got = _pull(server, pages, workers, headers=headers)
                rate = pages / got["elapsed"]
                points.append({"concurrency": workers, "headers": headers, **got, "rate": rate})
    finally:
        server.stop()
    path = bench.tmp / PNG.name if bench.quick else PNG
    plot(points, path)
    paced = [point for point in points if point["headers"]]
    best = max(paced, key=lambda point: point["rate"])
    return [
        Row(
            name="throttle_sweep",
            title=f"{pages} pages at {RATE:g} req/s, concurrency {levels[0]}–{levels[-1]}",
            baseline=pages / RATE,
            candidate=best["elapsed"],
            ratio=best["elapsed"] / (pages / RATE),
            target="(reported)",
            met=None,
            note=", ".join(
                f"c={p['concurrency']:.0f}{'' if p['headers'] else ' no headers'}: "
                f"{p['rate']:.1f}/s, {p['refused']:.0f} refused"
                for p in points
            )
            + f"; picture {path.relative_to(REPO) if path.is_relative_to(REPO) else path}",
            data={"points": points, "png": str(path)},
        )
    ]


def plot(points: list[dict[str, float]], path: Path) -> None:
    """Pages/s and refusals against concurrency, with the quota as a line."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    levels = sorted({p["concurrency"] for p in points})
    figure, axis = plt.subplots(figsize=(6.4, 3.6), dpi=120)
    for headers, label in ((True, "rate-limit headers read"), (False, "no headers: refusals only")):
        line = [p for p in points if p["headers"] is headers]
        axis.plot(
            [p["concurrency"] for p in line], [p["rate"] for p in line], marker="o", label=label
        )
    axis.axhline(RATE, linestyle="--", color="grey", label=f"quota: {RATE:g} requests/s")
    axis.set_xscale("log", base=2)
    axis.set_xticks(levels, [f"{level:g}" for level in levels])
    axis.set_xlabel("concurrency (pages in flight)")
    axis.set_ylabel("pages per second")
    axis.set_ylim(0, RATE * 1.25)
    for point in points:
        if point["refused"]:
            axis.annotate(
                f"{point['refused']:.0f} refused",
                (point["concurrency"], point["rate"]),
                textcoords="offset points",
                xytext=(6, 6),
                ha="left",
                fontsize=8,
            )
    pages = points[0]["pages"]
    axis.set_title(f"orange.get: {pages:.0f} pages from an API limited to {RATE:g} requests/s")
    axis.set_xlim(levels[0] / 1.4, levels[-1] * 1.6)
    axis.legend(loc="lower left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
