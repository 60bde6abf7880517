"""polars frames follow the pandas path's rules, by the fast path (msgspec) and the pure one alike.

Each case is decoded both ways into polars and into pandas; the values must agree, with their
JSON types: polars' own supertypes (``1`` and ``"x"`` → strings, ``True`` and ``1`` →
integers) would change the data silently, so a mixed column stays the Python objects it is.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pandas as pd
import polars as pl
import pytest

from orange_nb.session import frames

CASES: list[Any] = [
    [{"a": 1}, {"a": "x"}],  # int then str: both kept as they are
    [{"a": "x"}, {"a": 5}],  # str then int: the int stays an int
    [{"a": True}, {"a": 1}],  # bool then int: the bool stays a bool
    [{"a": 1.5}, {"a": "x"}],
    [{"a": 1}, {"a": 2.5}],  # ints with floats: floats, as pandas
    [{"a": 1}, {"a": 99999999999999999999}],  # past int64: exact
    [{"a": 99999999999999999999}],
    [{"a": {"b": 1}}, {"a": {"b": "x"}}],  # nested and mixed
    [{"a": {"b": 1, "d": {"e": 2}, "x": 3}, "c": 2}],  # json_normalize's column order
    [{"a": None}, {"a": 3}],
    [{"a": True}, {"a": None}, {}],
    [{"a": 1, "b": "x"}, {"a": 2}],
    [{"a": [1, 2], "t": "2026-01-01T00:00:00Z"}],
    [{"t": "2026-01-01T00:00:00+02:00"}, {"t": "2026-01-01T05:00:00Z"}],
    [{"t": "2026-01-01T00:00:00Z"}, {"t": "2026-01-01T05:00:00"}, {"t": None}],  # naive as UTC
    [{"t": "2026-01-01"}, {"t": "2026-01-02T10:00"}],
    {"items": [{"a": 1}, {"a": "x"}], "next": None},
]


def _tagged(value: Any) -> Any:
    """A value with its kind, so ``True`` and ``1`` or ``1`` and ``"1"`` never compare equal."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, list | dict):
        value = value.item()  # a numpy scalar
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int | float):
        return ("number", value)
    if isinstance(value, dt.datetime):
        return ("datetime", value)
    return (type(value).__name__, value)


def _pandas_values(frame: pd.DataFrame) -> dict[str, list[Any]]:
    return {name: [_tagged(v) for v in frame[name].tolist()] for name in frame.columns}


def _polars_values(frame: pl.DataFrame) -> dict[str, list[Any]]:
    return {name: [_tagged(v) for v in frame.get_column(name).to_list()] for name in frame.columns}


def _fast_polars(body: bytes) -> pl.DataFrame:
    _, found = frames.read(body)
    assert found is not None
    collector = frames.Collector()
    collector.add(found)
    got = collector.frame("polars")
    assert isinstance(got, pl.DataFrame)
    return got


@pytest.mark.parametrize("case", CASES, ids=[json.dumps(case)[:60] for case in CASES])
def test_polars_values_are_the_pandas_values(case: Any) -> None:
    body = json.dumps(case).encode()
    pandas = frames.to_result(json.loads(body))
    pure = frames.to_result(json.loads(body), kind="polars")
    fast = _fast_polars(body)
    assert isinstance(pandas, pd.DataFrame) and isinstance(pure, pl.DataFrame)
    expected = _pandas_values(pandas)
    assert pure.columns == fast.columns == list(expected)  # the same columns, in order
    assert _polars_values(pure) == expected
    assert _polars_values(fast) == expected
    assert pure.schema == fast.schema
    for name, dtype in pandas.dtypes.items():
        if str(dtype).startswith("datetime64"):  # the same columns become datetimes
            assert isinstance(pure.schema[str(name)], pl.Datetime)


def test_a_mixed_column_is_objects_not_strings() -> None:
    got = _fast_polars(b'[{"a": 1, "b": "x"}, {"a": "2", "b": "y"}]')
    assert got.schema["a"] == pl.Object and got.schema["b"] == pl.String
    assert got.get_column("a").to_list() == [1, "2"]


def test_ints_past_64_bits_are_integers_by_both_paths() -> None:
    body = b'[{"a": 1}, {"a": 99999999999999999999}]'
    assert _fast_polars(body).schema["a"] == pl.Int128
    assert frames.to_result(json.loads(body), kind="polars").schema["a"] == pl.Int128


def test_pages_of_different_types_join_by_the_same_rules() -> None:
    collector = frames.Collector()
    for page in (b'[{"a": 1, "b": 1}]', b'[{"a": "x", "b": 2.5}]'):
        found = frames.read(page)[1]
        assert found is not None
        collector.add(found)
    got = collector.frame("polars")
    assert got.get_column("a").to_list() == [1, "x"] and got.schema["b"] == pl.Float64
