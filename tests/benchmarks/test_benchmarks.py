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
        if row.candidate is None:  # a ratio alone (peak memory over the frame's)
            assert row.ratio is not None and row.ratio > 0, row
            continue
        assert row.candidate > 0, row
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
    assert rows["frames_polars"].ratio is not None and rows["frames_polars"].ratio < 5
    assert rows["frames_memory"].data["frame_bytes"] > 0


def test_throttle(bench: Bench) -> None:
    rows = rows_of(bench, "throttle")
    for row in rows.values():  # every row came back, whatever was refused on the way
        assert row.data["rows"] == row.data["pages"] * 3


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
    # The fresh kernel's first call made its DataFrame (the script asserts 100 rows).
    assert rows["first_call"].data["modules"]["pandas"] is True
    assert rows["first_call"].above_ms is not None


def test_sweep_draws_the_throttled_pull(bench: Bench) -> None:
    row = rows_of(bench, "sweep")["throttle_sweep"]
    assert [(p["concurrency"], p["headers"]) for p in row.data["points"]] == [
        (1, True),
        (4, True),
        (1, False),
        (4, False),
    ]
    for point in row.data["points"]:
        assert point["rows"] == point["pages"] * 3 and point["rate"] > 0
    png = Path(row.data["png"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_callbacks(bench: Bench) -> None:
    row = rows_of(bench, "callbacks")["callbacks"]  # raises unless every answer was 400
    assert row.data["rss_after_mb"] - row.data["rss_before_mb"] < 50
    assert row.data["p99"] >= row.data["p50"] > 0


def test_hub_service_refreshes_each_user_once(bench: Bench) -> None:
    row = rows_of(bench, "hub")["hub"]
    assert row.data["refreshes_per_user"] == 1 and row.met is True
    assert row.data["kernels"] == 40 and row.data["users"] == 10
    assert row.data["valid_p99_ms"] >= row.data["valid_p50_ms"] > 0


def test_command_writes_table_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "latest.json"
    assert main(["--quick", "--only", "refresh", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "refresh under contention" in printed and "Python" in printed
    saved = json.loads(out.read_text())
    assert [row["name"] for row in saved["rows"]] == ["refresh"]
    assert saved["quick"] is True and saved["failed"] == []
    assert saved["machine"]["nproc"] >= 1


def test_a_missed_target_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import benchmarks.__main__ as command

    def missed(bench: Bench) -> list[Row]:
        return [Row("x", "a figure", 1.0, 2.0, 2.0, "ratio ≤ 1", met=False)]

    monkeypatch.setattr(command, "figure", lambda name: missed)
    assert command.main(["--only", "refresh", "--json", str(tmp_path / "out.json")]) == 1
    assert "targets missed (1 of 1): a figure" in capsys.readouterr().out


def test_every_figure_is_tested() -> None:
    tested = {
        "calls",
        "frames",
        "pages",
        "throttle",
        "refresh",
        "handoff",
        "imports",
        "callbacks",
        "sweep",
        "hub",
    }
    assert set(FIGURES) == tested
