"""orange_nb's benchmarks: each figure a ratio against a baseline measured in the same run.

``python -m benchmarks`` (``make bench``) runs them all, prints a table and writes
``benchmarks/results/latest.json``; ``--quick`` uses small sizes, ``--only NAME`` picks
figures. Methods and the last measured values are in ``benchmarks/README.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from .core import Bench, Row

#: Figure name → module (each has ``run(bench) -> list[Row]``), in the order they run.
FIGURES = {
    "calls": "benchmarks.calls",
    "frames": "benchmarks.frames",
    "pages": "benchmarks.pages",
    "throttle": "benchmarks.throttle",
    "refresh": "benchmarks.refresh",
    "handoff": "benchmarks.handoff",
    "imports": "benchmarks.imports",
    "callbacks": "benchmarks.callbacks",
    "sweep": "benchmarks.sweep",
    "hub": "benchmarks.hub",
}


def figure(name: str) -> Callable[[Bench], list[Row]]:
    """The ``run`` function of figure ``name``."""
    runner: Callable[[Bench], list[Row]] = import_module(FIGURES[name]).run
    return runner


__all__ = ["FIGURES", "Bench", "Row", "figure"]
