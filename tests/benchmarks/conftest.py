"""The benchmarks package lives at the repository's root, beside ``orange_nb``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:  # `pytest` run as a script does not put the working directory there
    sys.path.insert(0, ROOT)

from benchmarks.core import Bench  # noqa: E402


@pytest.fixture(scope="module")
def bench() -> Iterator[Bench]:
    """Small sizes; servers started once for the module and stopped after it."""
    with Bench(quick=True) as bench:
        yield bench
