"""frames: where the records are, flat and nested frames, ISO datetimes, page concatenation."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pandas as pd
import pytest

from orange_nb.errors import OrangeNBError
from orange_nb.session.frames import (
    RecordsPathError,
    find_records,
    to_frame,
    to_result,
)

ROWS = [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ROWS, ROWS),
        ([], []),
        ({"items": ROWS, "total": 2}, ROWS),
        ({"data": [], "next": None}, []),
        ({"results": ROWS}, ROWS),
        ({"records": ROWS}, ROWS),
        ({"values": ROWS}, ROWS),
        ({"entries": ROWS}, ROWS),
        ({"zones": ROWS, "count": 2}, ROWS),
        # A known key wins over another list of objects (e.g. a list of links).
        ({"items": ROWS, "links": [{"rel": "next", "href": "/p2"}]}, ROWS),
        ({"zones": [], "count": 0}, None),
        ({"items": ROWS, "data": ROWS}, None),
        ({"zones": ROWS, "areas": ROWS}, None),
        ([1, 2, 3], None),
        ({"items": [1, 2]}, None),
        ([{"id": 1}, 2], None),
        ({"data": {"id": 1}}, None),
        ({"id": 1, "name": "a"}, None),
        ("text", None),
        (42, None),
        (None, None),
    ],
)
def test_find_records(data: Any, expected: Any) -> None:
    assert find_records(data) == expected


@pytest.mark.parametrize(
    ("data", "path", "expected"),
    [
        ({"data": {"items": ROWS}}, "data.items", ROWS),
        ({"pages": [{"rows": []}, {"rows": ROWS}]}, "pages.1.rows", ROWS),
        ({"pages": [{"rows": ROWS}]}, "pages.-1.rows", ROWS),
        ({"zones": ROWS, "areas": [{"x": 1}]}, "areas", [{"x": 1}]),
        (ROWS, "", ROWS),
    ],
)
def test_records_path_forces_the_place(data: Any, path: str, expected: Any) -> None:
    assert find_records(data, path) == expected


@pytest.mark.parametrize(
    ("data", "path", "says"),
    [
        ({"data": {"items": ROWS}}, "data.rows", "no key 'rows' in data (its keys: items)"),
        ({"pages": [ROWS]}, "pages.3", "'3' is not an index"),
        ({"pages": [ROWS]}, "pages.first", "'first' is not an index"),
        ({"total": 3}, "total.items", "is a int, which has no 'items'"),
        ({"data": {"items": ROWS}}, "data", "leads to a dict, not a list of objects"),
        ({"data": [1, 2]}, "data", "a list that is not all objects"),
    ],
)
def test_records_path_errors_are_clear(data: Any, path: str, says: str) -> None:
    with pytest.raises(RecordsPathError) as caught:
        find_records(data, path)
    assert isinstance(caught.value, OrangeNBError)
    assert says in str(caught.value) and repr(path) in str(caught.value)


def test_flat_records_take_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("json_normalize called for flat records")

    monkeypatch.setattr(pd, "json_normalize", refuse)
    frame = to_frame([{"b": 1, "a": [1, 2]}, {"a": None, "c": "x"}])
    assert list(frame.columns) == ["b", "a", "c"]
    assert frame["a"].tolist() == [[1, 2], None]


def test_nested_objects_are_flattened_with_dots() -> None:
    frame = to_frame([{"zone": {"id": "z1", "geo": {"lat": 1.5}}, "n": 1}])
    assert set(frame.columns) == {"zone.id", "zone.geo.lat", "n"}
    assert frame.loc[0, "zone.geo.lat"] == 1.5


def test_a_nested_object_in_the_last_record_only_is_still_flattened() -> None:
    records: list[dict[str, Any]] = [{"n": i, "zone": None} for i in range(5000)]
    records.append({"n": 5000, "zone": {"id": "z9"}})
    frame = to_frame(records)
    assert "zone.id" in frame.columns
    assert frame["zone.id"].iloc[-1] == "z9"


def test_no_records_give_an_empty_frame() -> None:
    frame = to_result({"items": []})
    assert isinstance(frame, pd.DataFrame) and frame.empty


def test_iso_timestamps_become_datetimes_and_nothing_else_does() -> None:
    frame = to_frame(
        [
            {
                "utc": "2026-01-01T10:00:00Z",
                "offset": "2026-01-01T12:00:00+02:00",
                "fraction": "2026-01-01 12:00:00.000+0200",
                "day": "2026-01-01",
                "naive": "2026-01-01T10:00",
                "digits": "20260101",
                "number": 20260101,
                "ident": "2026-01-01-batch",
                "text": "hello",
                "year": "2026",
            },
            {
                "utc": None,
                "offset": "2026-01-01T13:30:00+02:00",
                "fraction": "2026-01-01 10:00:01+0000",
                "day": "2026-01-02",
                "naive": "2026-01-01T11:00:05",
                "digits": "20260102",
                "number": 20260102,
                "ident": "2026-01-02-batch",
                "text": "2026-01-01",
                "year": "2026-01-01",
            },
        ]
    )
    utc = pd.Timestamp("2026-01-01T10:00:00Z")
    for name in ("utc", "offset", "fraction"):
        assert isinstance(frame[name].dtype, pd.DatetimeTZDtype), name
        assert str(frame[name].dtype.tz) == "UTC"
        assert frame[name].iloc[0] == utc, name
    assert pd.isna(frame["utc"].iloc[1])
    assert frame["offset"].iloc[1] == pd.Timestamp("2026-01-01T11:30:00Z")
    for name in ("day", "naive"):
        assert frame[name].dtype.kind == "M" and frame[name].dt.tz is None, name
    assert frame["day"].iloc[1] == pd.Timestamp("2026-01-02")
    assert frame["number"].dtype == "int64"
    for name in ("digits", "ident", "text", "year"):
        assert frame[name].dtype.kind not in "Mi", name
    assert frame["digits"].tolist() == ["20260101", "20260102"]


@pytest.mark.parametrize("late", ["unknown", "2026-02-30", "2026-01-01T25:00:00"])
def test_a_late_value_that_is_not_a_date_leaves_the_column_as_text(late: str) -> None:
    records = [{"d": f"2026-01-{day:02d}"} for day in range(1, 29)] + [{"d": late}]
    column = to_frame(records)["d"]
    assert column.dtype.kind != "M" and column.iloc[-1] == late


def test_offsets_met_after_a_naive_sample_leave_the_column_as_text() -> None:
    records = [{"t": "2026-01-01T00:00:00"}] * 10 + [{"t": "2026-01-01T00:00:00Z"}]
    assert to_frame(records)["t"].dtype.kind != "M"


def test_dates_after_a_long_run_of_nulls_are_found() -> None:
    records: list[dict[str, Any]] = [{"ended": None}] * 1000 + [{"ended": "2026-03-01T00:00:00Z"}]
    column = to_frame(records)["ended"]
    assert isinstance(column.dtype, pd.DatetimeTZDtype)
    assert column.iloc[-1] == pd.Timestamp("2026-03-01T00:00:00Z")


def test_nested_timestamps_are_parsed_too() -> None:
    frame = to_frame([{"meta": {"created": "2026-01-01T00:00:00Z"}}])
    assert isinstance(frame["meta.created"].dtype, pd.DatetimeTZDtype)


def test_parse_dates_false_keeps_the_strings() -> None:
    frame = to_frame([{"t": "2026-01-01T00:00:00Z"}], parse_dates=False)
    assert frame["t"].tolist() == ["2026-01-01T00:00:00Z"]


def test_to_result_returns_other_json_unchanged() -> None:
    data = {"id": 1, "tags": ["a", "b"]}
    assert to_result(data) is data
    assert to_result([1, 2]) == [1, 2]
    frame = to_result({"meta": {}, "data": {"rows": ROWS}}, "data.rows")
    assert isinstance(frame, pd.DataFrame) and frame["name"].tolist() == ["a", "b"]


def test_importing_the_package_does_not_import_pandas() -> None:
    code = "import sys, orange_nb.session.frames; assert 'pandas' not in sys.modules, 'pandas imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
