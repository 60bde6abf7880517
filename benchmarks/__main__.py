"""``python -m benchmarks [--quick] [--only NAME …] [--json PATH]``: run, print, save."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from . import FIGURES, figure
from .core import Bench, Row, machine, table, to_json

RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def main(argv: list[str] | None = None) -> int:
    """Run the chosen figures; exit status 1 when a target is missed or a figure fails."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes (proves it works)")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(FIGURES),
        metavar="NAME",
        help=f"run only this figure (repeatable): {', '.join(FIGURES)}",
    )
    parser.add_argument("--json", type=Path, default=RESULTS, help=f"where to write ({RESULTS})")
    args = parser.parse_args(argv)
    names = [name for name in FIGURES if not args.only or name in args.only]
    info = machine()
    print(f"{info['nproc']} CPUs · {info['cpu']} · Python {info['python']}", flush=True)
    rows: list[Row] = []
    failed: list[str] = []
    started = time.perf_counter()
    with Bench(quick=args.quick) as bench:
        for name in names:
            began = time.perf_counter()
            try:
                rows += figure(name)(bench)
            except Exception as exc:  # one broken figure must not hide the others
                failed.append(name)
                print(f"{name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
            print(f"{name}: {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    if args.quick:  # sizes too small for the targets: the run proves the figures work
        for row in rows:
            row.met = None
    print(table(rows))
    load = os.getloadavg()
    print(f"\nmachine load (1, 5, 15 min): {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    missed = [row.title for row in rows if row.met is False]
    judged = [row for row in rows if row.met is not None]
    if missed:
        print(f"targets missed ({len(missed)} of {len(judged)}): " + "; ".join(missed))
    elif judged:
        print(f"targets met: all {len(judged)}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        to_json(
            rows,
            quick=args.quick,
            failed=failed,
            seconds=time.perf_counter() - started,
            load=os.getloadavg(),
        )
    )
    if args.quick:
        print("\n--quick: sizes too small to judge the targets; run without it for figures.")
    print(f"written to {args.json}")
    return 1 if failed or any(row.met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
