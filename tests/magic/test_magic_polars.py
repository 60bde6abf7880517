"""``%orange`` giving polars frames: ``%config OrangeMagic.dataframe``, ``--polars``/``--pandas``,
the same footer and datetime columns as pandas, in a real IPython shell against the sandbox."""

from __future__ import annotations

import pickle
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import polars as pl  # the polars extra is part of the test install
import pytest
from IPython.core.interactiveshell import InteractiveShell

from orange_nb import Orange

Run = Callable[[str], tuple[Any, str]]
PRESENCE = "/sandbox/mobility/v1/zones/zone-01/presence start==2026-01-01 end==2026-01-07"


@pytest.fixture
def polars_by_default(run: Run) -> Iterator[None]:
    """``%config OrangeMagic.dataframe = "polars"`` for one test."""
    result, out = run('%config OrangeMagic.dataframe = "polars"')
    assert result.success, out
    yield
    run('%config OrangeMagic.dataframe = "pandas"')


def test_polars_option_gives_a_polars_frame_with_footer_and_dates(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    result, out = run(f"%orange GET {PRESENCE} --paginate -o week --polars")
    assert result.success, out
    week = shell.user_ns["week"]
    assert isinstance(week, pl.DataFrame) and week.height == 168
    assert week.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert "week: 200 OK · 168 rows · 7 pages" in out
    # The same rows and columns as the pandas result of the same call.
    _, _ = run(f"%orange GET {PRESENCE} --paginate -o pandas_week")
    pandas_week = shell.user_ns["pandas_week"]
    assert isinstance(pandas_week, pd.DataFrame)
    assert week.columns == list(pandas_week.columns)
    assert week.get_column("visitors").to_list() == pandas_week["visitors"].tolist()
    assert week.get_column("timestamp").to_list() == [
        stamp.to_pydatetime() for stamp in pandas_week["timestamp"]
    ]


def test_config_makes_polars_the_default_and_pandas_still_available(
    orange: Orange, run: Run, shell: InteractiveShell, polars_by_default: None
) -> None:
    result, _ = run("zones = %orange GET /sandbox/mobility/v1/zones")
    assert result.success and isinstance(shell.user_ns["zones"], pl.DataFrame)
    result, _ = run("zones = %orange GET /sandbox/mobility/v1/zones --pandas")
    assert result.success and isinstance(shell.user_ns["zones"], pd.DataFrame)


def test_polars_display_shows_displaylimit_rows_and_the_footer(
    orange: Orange, run: Run, polars_by_default: None
) -> None:
    run("%config OrangeMagic.displaylimit = 5")
    try:
        result, _ = run(f"%orange GET {PRESENCE} --paginate")
        frame = result.result
        assert isinstance(frame, pl.DataFrame) and frame.height == 168
        text = repr(frame)
        assert text.splitlines()[-1].startswith("200 OK · 168 rows · 7 pages")
        assert text.endswith(" · first 5 shown")
        assert text.count("2026-01-01") == 5  # five rows shown, no more
        page = frame._repr_html_()
        assert "orange-nb-footer" in page and "168 rows" in page and page.count("2026-01-01") == 5
        # Frames derived from it are plain polars frames, without the call's footer.
        assert type(frame.head()) is pl.DataFrame
        assert type(frame.filter(pl.col("visitors") > 0)) is pl.DataFrame
        assert "168 rows" not in repr(frame.head())
        again = pickle.loads(pickle.dumps(frame))
        assert again.equals(frame) and "rows ·" not in repr(again)
    finally:
        run("%config OrangeMagic.displaylimit = 10")


def test_the_footer_says_when_more_pages_wait_for_polars_too(
    orange: Orange, run: Run, shell: InteractiveShell
) -> None:
    result, out = run(f"%orange GET {PRESENCE} -o first --polars")
    assert result.success and isinstance(shell.user_ns["first"], pl.DataFrame)
    assert "more pages: add --paginate" in out


def test_polars_and_pandas_exclude_each_other(orange: Orange, run: Run) -> None:
    result, out = run("%orange GET /sandbox/mobility/v1/zones --polars --pandas")
    assert not result.success and "--polars and --pandas exclude each other" in out


def test_a_bad_dataframe_setting_is_refused(
    run: Run, shell: InteractiveShell, caplog: pytest.LogCaptureFixture
) -> None:
    run('%config OrangeMagic.dataframe = "arrow"')  # %config logs what it refuses
    assert shell._orange_nb_magic.dataframe == "pandas"  # type: ignore[attr-defined]
    assert "expected any of ['pandas', 'polars'], not the str 'arrow'" in caplog.text


def test_without_polars_the_cell_fails_in_one_paragraph(
    orange: Orange, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    result, out = run("%orange GET /sandbox/mobility/v1/zones --polars")
    assert not result.success
    assert "orange_nb[polars]" in out and "Traceback" not in out


def test_completion_and_usage_offer_the_frame_options(shell: InteractiveShell, run: Run) -> None:
    line = "%orange GET /sandbox/mobility/v1/zones --pol"
    _, matches = shell.Completer.complete(line_buffer=line, cursor_pos=len(line))
    assert "--polars" in matches
    _, out = run("%orange")
    assert "--polars, --pandas" in out
