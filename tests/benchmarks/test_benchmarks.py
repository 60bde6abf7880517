"""Each benchmark at ``--quick`` sizes: it runs, measures what it says, and its output holds.

Bounds are loose on purpose: these prove the benchmarks work, not the speed (a shared
machine's noise would make speed checks flaky). The properties that are not about speed
(one refresh for 64 threads, every bogus callback refused, pandas not loaded by the
import) are checked exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import FIGURES, figure
from benchmarks.__main__ import main
from benchmarks.core import Bench, Row

pytestmark = pytest.mark.slow


def rows_of(bench: Bench, name: str) -> dict[str, Row]:
    rows = figure(name)(bench)
    for row in rows:
        assert row.candidate is not None and row.candidate > 0, row
        if row.baseline is not None:
            assert row.baseline > 0 and row.ratio is not None and row.ratio > 0, row
    return {row.name: row for row in rows}


def test_calls(bench: Bench) -> None:
    rows = rows_of(bench, "calls")
    assert set(rows) == {"calls", "calls_after_concurrent"}
    assert rows["calls"].ratio is not None and rows["calls"].ratio < 3
    assert rows["calls"].data["calls"] == 100


def test_frames(bench: Bench) -> None:
    rows = rows_of(bench, "frames")  # the figure itself checks both sides build equal frames
    assert rows["frames"].ratio is not None and rows["frames"].ratio < 5
    assert rows["frames_pure"].ratio is not None and rows["frames_pure"].ratio < 5


def test_pages(bench: Bench) -> None:
    rows = rows_of(bench, "pages")
    assert rows["pages"].ratio is not None and rows["pages"].ratio < 5
    assert rows["pages_concurrent"].data["speedup"] > 0.5


def test_refresh_is_single_flight(bench: Bench) -> None:
    row = rows_of(bench, "refresh")["refresh"]
    assert row.data["refreshes"] == [1] * len(row.data["refreshes"])
    assert row.ratio is not None and row.ratio < 100


def test_handoffs(bench: Bench) -> None:
    rows = rows_of(bench, "handoff")
    assert set(rows) == {"handoff_server", "handoff_loopback"}
    for row in rows.values():
        assert row.above_ms is not None and row.above_ms < 5000


def test_imports(bench: Bench) -> None:
    rows = rows_of(bench, "imports")
    assert rows["import"].data["modules"]["pandas"] is False
    assert rows["load_ext"].data["modules"]["IPython"] is True


def test_callbacks(bench: Bench) -> None:
    row = rows_of(bench, "callbacks")["callbacks"]  # raises unless every answer was 400
    assert row.data["rss_after_mb"] - row.data["rss_before_mb"] < 50
    assert row.data["p99"] >= row.data["p50"] > 0


def test_command_writes_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "latest.json"
    assert main(["--quick", "--only", "refresh", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "refresh under contention" in printed and "Python" in printed
    saved = json.loads(out.read_text())
    assert [row["name"] for row in saved["rows"]] == ["refresh"]
    assert saved["quick"] is True and saved["failed"] == []
    assert saved["machine"]["nproc"] >= 1


def test_every_figure_is_tested() -> None:
    tested = {"calls", "frames", "pages", "refresh", "handoff", "imports", "callbacks"}
    assert set(FIGURES) == tested
