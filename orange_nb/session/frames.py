"""JSON → pandas: find the records in an API's answer, make a DataFrame, join pages.

pandas is imported inside the functions that need it, so ``import orange_nb`` stays fast.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import NestingError, RecordsPathError

if TYPE_CHECKING:
    import pandas as pd

#: Keys under which an envelope conventionally holds its records; an empty list here is
#: still records (an empty page), while elsewhere only a non-empty list of objects counts.
RECORD_KEYS = ("items", "data", "results", "records", "values", "entries")

# RFC 3339 / ISO 8601 calendar dates and date-times; the tz group decides on UTC.
_ISO_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)
# Enough to reject a column of ids or labels without paying for a full scan.
_DATE_SAMPLE = 5
_DATE_HEAD = 256


#: How deep an answer may nest objects and lists for ``%orange`` to show it: far beyond any
#: real API's, and far below what Python's recursion limit lets display code handle.
MAX_DEPTH = 100


def depth(data: Any, limit: int = MAX_DEPTH) -> int:
    """How deep ``data`` nests dicts and lists (a scalar is 0), counted up to ``limit + 1``.

    Iterative, so any depth is measured without recursion; it stops as soon as ``limit`` is
    passed, so a deep answer costs no more than a shallow one.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        level += 1
        if level > limit:
            return level
        deepest = max(deepest, level)
        stack.extend((child, level) for child in children if isinstance(child, dict | list))
    return deepest


def check_depth(data: Any, what: str = "The answer", limit: int = MAX_DEPTH) -> None:
    """Raise :class:`NestingError` when ``data`` nests deeper than ``limit`` levels."""
    if depth(data, limit) > limit:
        raise NestingError(
            f"{what} nests objects or lists more than {limit} levels deep, too deep to show or "
            "flatten into columns. Take it with --raw (or orange.request) and read the body "
            "yourself; if you did not expect it, the API is at fault."
        )


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def _follow(data: Any, records_path: str) -> Any:
    """The value at dotted ``records_path`` (integer segments index lists)."""
    node = data
    walked: list[str] = []
    for segment in records_path.split(".") if records_path else []:
        if isinstance(node, dict):
            if segment not in node:
                keys = ", ".join(map(str, list(node)[:10])) or "none"
                raise RecordsPathError(
                    f"Records path {records_path!r}: no key {segment!r} in "
                    f"{'.'.join(walked) or 'the answer'} (its keys: {keys})."
                )
            node = node[segment]
        elif isinstance(node, list):
            try:
                node = node[int(segment)]
            except (ValueError, IndexError):
                raise RecordsPathError(
                    f"Records path {records_path!r}: {'.'.join(walked) or 'the answer'} is a "
                    f"list of {len(node)}; {segment!r} is not an index in it."
                ) from None
        else:
            raise RecordsPathError(
                f"Records path {records_path!r}: {'.'.join(walked) or 'the answer'} is a "
                f"{type(node).__name__}, which has no {segment!r}."
            )
        walked.append(segment)
    return node


def find_records(data: Any, records_path: str | None = None) -> list[dict[str, Any]] | None:
    """The list of records (JSON objects) in ``data``, or ``None`` when it holds none.

    - a list of objects is the records itself (``[]`` too: an empty result);
    - in an object, the one list of objects under a key of ``RECORD_KEYS`` (even empty), or
      else the one non-empty list of objects under any key; two candidates are ambiguous
      and give ``None``;
    - ``records_path`` (dotted, e.g. ``"data.items"`` or ``"pages.0.rows"``; ``""`` is the
      answer itself) forces the place, and raises :class:`RecordsPathError` when it does not
      lead to a list of objects.

    A list of scalars is never records.
    """
    if records_path is not None:
        found = _follow(data, records_path)
        if not _is_records(found):
            what = (
                "a list that is not all objects"
                if isinstance(found, list)
                else f"a {type(found).__name__}"
            )
            raise RecordsPathError(
                f"Records path {records_path!r} leads to {what}, not a list of objects. "
                "Give the dotted path of the list of records, e.g. 'data.items'."
            )
        return found  # type: ignore[no-any-return]
    if isinstance(data, list):
        return data if _is_records(data) else None
    if not isinstance(data, dict):
        return None
    known = [data[key] for key in RECORD_KEYS if key in data and _is_records(data[key])]
    if known:
        return known[0] if len(known) == 1 else None
    lists = [value for value in data.values() if value and _is_records(value)]
    return lists[0] if len(lists) == 1 else None


def _holds_dict(column: pd.Series) -> bool:
    # Only object columns can hold a dict: numeric, bool and string columns cannot.
    return column.dtype == object and any(isinstance(value, dict) for value in column)


def _parse_dates(frame: pd.DataFrame) -> None:
    """Convert, in place, the string columns whose values are ISO 8601 dates or date-times."""
    import pandas as pd

    # By position: flattening can, rarely, repeat a column name.
    for index in range(frame.shape[1]):
        column = frame.iloc[:, index]
        if column.dtype != object and not isinstance(column.dtype, pd.StringDtype):
            continue
        # The head first: dropping nulls from a whole column costs more than the parse saves.
        values = column.iloc[:_DATE_HEAD].dropna()
        sample = (values if len(values) else column.dropna()).iloc[:_DATE_SAMPLE].tolist()
        if not sample or not all(isinstance(value, str) for value in sample):
            continue
        matches = [_ISO_DATETIME.fullmatch(value) for value in sample]
        if not all(matches):
            continue
        # An offset in the sample makes the column UTC; a naive value met later is then
        # read as UTC, while a naive sample with offsets later fails and stays as text.
        utc = any(match is not None and match["tz"] for match in matches)
        try:
            frame.isetitem(index, pd.to_datetime(column, format="ISO8601", utc=utc).array)
        except (ValueError, TypeError, OverflowError):
            continue


def _flattened(records: list[dict[str, Any]]) -> pd.DataFrame:
    import pandas as pd

    try:
        return pd.json_normalize(records)
    except RecursionError:  # json_normalize recurses once per level of nesting
        check_depth(records, "A record")
        raise NestingError(  # pragma: no cover - only when the stack is already deep
            "A record nests objects too deeply to flatten into columns here. Take the answer "
            "with --raw (or orange.request) and read the body yourself."
        ) from None


def to_frame(records: list[dict[str, Any]], *, parse_dates: bool = True) -> pd.DataFrame:
    """A DataFrame of ``records``: nested objects flattened to ``parent.child`` columns.

    Flat records take ``pandas.DataFrame`` directly (several times faster than
    ``json_normalize``). The check is exact, not sampled: a nested object can only land in
    an object column, so only those are scanned; a nested first record skips the fast try.
    With ``parse_dates``, ISO 8601 string columns become ``datetime64`` (UTC when the values
    carry ``Z`` or an offset). Objects nested too deeply to flatten raise :class:`NestingError`.
    """
    import pandas as pd

    # The first record usually tells; when it looks flat, the exact check follows.
    if records and any(isinstance(value, dict) for value in records[0].values()):
        frame: pd.DataFrame = _flattened(records)
    else:
        frame = pd.DataFrame(records)
        if any(_holds_dict(frame.iloc[:, index]) for index in range(frame.shape[1])):
            frame = _flattened(records)
    if parse_dates:
        _parse_dates(frame)
    return frame


def to_result(
    data: Any, records_path: str | None = None, *, parse_dates: bool = True
) -> pd.DataFrame | Any:
    """A DataFrame when ``data`` holds records (see :func:`find_records`), else ``data`` itself."""
    records = find_records(data, records_path)
    return data if records is None else to_frame(records, parse_dates=parse_dates)
