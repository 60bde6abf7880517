"""The fast path (msgspec, columns) gives the pure path's frames; the pure path still works."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from orange_nb import Orange
from orange_nb.session import frames
from orange_nb.session.calls import decode_records

PRESENCE = "/sandbox/mobility/v1/zones/zone-01/presence"

CASES: list[Any] = [
    [{"a": 1, "b": "x", "c": 1.5, "d": True}, {"a": 2, "b": "y", "c": 2, "d": False}],
    [{"a": 1, "b": None}, {"a": None, "b": "y"}, {"b": "z"}],  # nulls and a missing key
    [{"a": True}, {"a": None}, {}],  # booleans: null stays None, missing is NaN
    [{"a": None}, {"a": 3}],  # first value null: inferred like pandas
    [{"a": 1}, {"a": "x"}],  # mixed types: the pure path
    [{"a": 1}, {"a": 1, "b": 2}],  # a key the first lacks: the pure path
    [{"a": {"b": 1}}, {"a": {"b": 2}}],  # nested: flattened
    [{"a": 1}, {"a": {"b": 2}}],  # nested later: flattened
    [{"a": 99999999999999999999}],  # past int64
    [{"a": [1, 2], "t": "2026-01-01T00:00:00Z"}],  # a list value, an ISO date-time
    [{"a": 1, "a ": 2, "x.y": 3}],  # keys no identifier could be
    [{"a": 1}, 3],  # not all objects: not records
    {"items": [{"a": 1}], "next": None, "total": 1},
    {"items": [{"a": 1}], "data": [{"b": 2}]},  # two conventional keys: ambiguous
    {"rows": [{"a": 1}]},  # an unconventional key: the pure rule
]


def _pure(data: Any) -> Any:
    return frames.to_result(data)


@pytest.fixture
def no_msgspec(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """msgspec made unimportable, as without the ``fast`` extra."""
    monkeypatch.setitem(sys.modules, "msgspec", None)
    frames.reset_decoder()
    yield
    monkeypatch.undo()
    frames.reset_decoder()


def _via_read(body: bytes) -> Any:
    data, found = frames.read(body)
    if found is None:
        return data
    collector = frames.Collector()
    collector.add(found)
    return collector.frame()


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_fast_path_gives_the_pure_frame(data: Any) -> None:
    assert frames._fast() is not None, "the fast extra is installed in the test venv"
    body = json.dumps(data).encode()
    want, got = _pure(data), _via_read(body)
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
    else:
        assert got == want


def test_flat_records_take_the_columns(session: Orange) -> None:
    response = session.request("GET", PRESENCE, params={"start": "2026-01-01"})
    _, found = decode_records(response)
    assert isinstance(found, frames.Columns)  # no list of dicts in between
    assert found.names[:1] and len(found) == 24


def test_pages_joined_by_columns_equal_the_pure_pull(
    session: Orange, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = {"start": "2026-01-01", "end": "2026-01-02", "limit": "10"}
    fast = session.get(PRESENCE, params, paginate=True)
    monkeypatch.setitem(sys.modules, "msgspec", None)
    frames.reset_decoder()
    try:
        pure = session.get(PRESENCE, params, paginate=True)
        assert frames._fast() is None
    finally:
        monkeypatch.undo()
        frames.reset_decoder()
    assert len(fast) == 48
    pd.testing.assert_frame_equal(fast, pure)
    assert str(fast["timestamp"].dtype) == "datetime64[us, UTC]"


def test_without_msgspec_everything_decodes(no_msgspec: None, session: Orange) -> None:
    assert frames._fast() is None
    assert frames.loads(b'{"a": NaN}')["a"] != 0  # the standard library's NaN
    frame = session.get(PRESENCE, {"start": "2026-01-01"})
    assert isinstance(frame, pd.DataFrame) and len(frame) == 24
    data, found = frames.read(json.dumps(CASES[0]).encode())
    assert isinstance(found, list) and data == CASES[0]


def test_msgspec_refusals_fall_back_to_json() -> None:
    # NaN is not JSON for msgspec; the standard library takes it, as before.
    _, found = frames.read(b'[{"a": NaN}, {"a": 1}]')
    assert isinstance(found, list) and len(found) == 2
    with pytest.raises(ValueError):
        frames.loads(b'[{"a": 1}')
