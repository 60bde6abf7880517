"""``frame="polars"``: polars frames from the sandbox over loopback, same rows and dates."""

from __future__ import annotations

import sys

import pandas as pd
import polars as pl  # the polars extra is part of the test install
import pytest

from orange_nb import ConfigError, Orange
from orange_nb.session import frames

PRESENCE = "/sandbox/mobility/v1/zones/zone-01/presence"


def test_get_gives_a_polars_frame_with_dates(session: Orange) -> None:
    params = {"start": "2026-01-01", "end": "2026-01-02", "limit": "10"}
    frame = session.get(PRESENCE, params, paginate=True, frame="polars")
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == 48
    assert frame.schema["timestamp"] == pl.Datetime("us", "UTC")
    pandas = session.get(PRESENCE, params, paginate=True)
    assert list(pandas.columns) == frame.columns
    assert frame.get_column("visitors").to_list() == pandas["visitors"].tolist()


def test_polars_pure_path_flattens_nested_records() -> None:
    got = frames.to_frame(
        [{"a": {"b": 1, "c": "2026-01-01"}}, {"a": {"b": 2, "c": "2026-01-02"}}], kind="polars"
    )
    assert got.columns == ["a.b", "a.c"]
    assert got.schema["a.c"] == pl.Datetime("us")


def test_polars_concurrent_pages(session: Orange) -> None:
    params = {"start": "2026-01-01", "end": "2026-01-03", "limit": "12", "offset": "0"}
    frame = session.get(PRESENCE, params, paginate=True, concurrency=3, frame="polars")
    assert isinstance(frame, pl.DataFrame) and frame.height == 72


def test_no_polars_is_a_config_error(session: Orange, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ConfigError, match=r"orange_nb\[polars\]"):
        session.get(PRESENCE, {"start": "2026-01-01"}, frame="polars")
    with pytest.raises(ConfigError, match="'pandas' or 'polars'"):
        session.get(PRESENCE, {"start": "2026-01-01"}, frame="arrow")
    assert isinstance(session.get(PRESENCE, {"start": "2026-01-01"}), pd.DataFrame)
