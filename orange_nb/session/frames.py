"""JSON → DataFrame: find the records in an API's answer, make a frame, join pages.

pandas (and polars, msgspec) are imported inside the functions that need them, so
``import orange_nb`` stays fast.

Two ways from bytes to a frame, with the same result:

- the **fast path** (with the ``fast`` extra, msgspec): the records of a top-level list, or
  of an envelope's ``items``/``data``/… key, are decoded straight into typed structs whose
  fields are the first record's keys; decoding them *is* the check that every item is an
  object with no key the first lacks and no value of another type (a mismatch stops the
  decode, and the page takes the pure path). Each column is then built once, typed, with no
  inference pass; the rest of the envelope is decoded as usual;
- the **pure path** (standard library ``json``): the whole answer in Python objects,
  :func:`find_records`, then ``pandas.DataFrame`` (or ``json_normalize`` when nested).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, NestingError, RecordsPathError

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


def to_frame(
    records: list[dict[str, Any]], *, parse_dates: bool = True, kind: str = "pandas"
) -> pd.DataFrame | Any:
    """A DataFrame of ``records``: nested objects flattened to ``parent.child`` columns.

    Flat records take ``pandas.DataFrame`` directly (several times faster than
    ``json_normalize``). The check is exact, not sampled: a nested object can only land in
    an object column, so only those are scanned; a nested first record skips the fast try.
    With ``parse_dates``, ISO 8601 string columns become ``datetime64`` (UTC when the values
    carry ``Z`` or an offset). Objects nested too deeply to flatten raise :class:`NestingError`.
    ``kind="polars"`` makes a polars frame by the same rules.
    """
    if kind == "polars":
        return _polars_of_records(records, parse_dates)
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
    data: Any, records_path: str | None = None, *, parse_dates: bool = True, kind: str = "pandas"
) -> pd.DataFrame | Any:
    """A DataFrame when ``data`` holds records (see :func:`find_records`), else ``data`` itself."""
    records = find_records(data, records_path)
    return data if records is None else to_frame(records, parse_dates=parse_dates, kind=kind)


# --- decoding and the fast path -------------------------------------------------------------

#: The frame kinds a call can return.
FRAME_KINDS = ("pandas", "polars")

_MISSING_MSGSPEC: Any = object()
_msgspec: Any = None
# Beyond this many keys a record is not what the typed structs are for.
_MAX_FAST_KEYS = 512


def _fast() -> Any:
    """The msgspec module, or ``None`` without it (import tried once, as it costs ~5 ms)."""
    global _msgspec
    if _msgspec is None:
        try:
            import msgspec
        except ImportError:
            _msgspec = _MISSING_MSGSPEC
        else:
            _msgspec = msgspec
    return None if _msgspec is _MISSING_MSGSPEC else _msgspec


def reset_decoder() -> None:
    """Look for msgspec again on the next decode (after installing it, or in tests)."""
    global _msgspec
    _msgspec = None
    _decoders.clear()


def loads(body: bytes) -> Any:
    """``body`` decoded as JSON: msgspec when installed, else (or for what msgspec refuses,
    such as ``NaN``) the standard library, which raises ``ValueError`` on malformed JSON."""
    msgspec = _fast()
    if msgspec is not None:
        try:
            return msgspec.json.decode(body)
        except msgspec.DecodeError:
            pass  # json.loads says for sure: it also takes NaN and Infinity
    import json

    return json.loads(body)


class Columns:
    """One page's records decoded column by column (the fast path).

    ``kinds[i]`` is the Python type every value of column ``i`` has when not null (``int``,
    ``float``, ``str``, ``bool``), or ``None`` for a column of any values; a column holds
    ``None`` for a JSON null and :data:`msgspec.UNSET` for a missing key.

    The columns stay in the decoded structs until the frame is built, and :meth:`take`
    reads them out one at a time: the lists of every column (8 MB each per million records)
    are never all alive at once, which keeps building the frame below the decode's own peak.
    """

    __slots__ = ("_left", "_structs", "_values", "count", "kinds", "names")

    def __init__(
        self,
        names: list[str],
        kinds: list[type | None],
        values: list[list[Any]] | None = None,
        structs: list[Any] | None = None,
    ):
        self.names, self.kinds = names, kinds
        self._values, self._structs = values, structs
        self._left = len(names)  # columns not yet taken out of the structs
        if structs is not None:
            self.count = len(structs)
        else:
            self.count = len(values[0]) if values else 0

    def __len__(self) -> int:
        return self.count

    @property
    def values(self) -> list[list[Any]]:
        """Every column as a list (read out of the structs, which are then let go)."""
        if self._values is None:
            structs = self._structs
            self._values = [_field_reader(index)(structs) for index in range(len(self.names))]
            self._structs = None
        return self._values

    def take(self, index: int) -> list[Any]:
        """Column ``index``, no longer held here: building a frame uses each column once, and
        the structs go with the last one."""
        if self._values is not None:
            values, self._values[index] = self._values[index], []
            return values
        taken: list[Any] = _field_reader(index)(self._structs)
        self._left -= 1
        if not self._left:
            self._structs = None
        return taken

    def records(self) -> list[dict[str, Any]]:
        """Back to JSON objects (for the pure path, when pages cannot be joined by columns)."""
        unset = _fast().UNSET
        names = self.names
        return [
            {name: value for name, value in zip(names, row, strict=True) if value is not unset}
            for row in zip(*self.values, strict=True)
        ]


_SIMPLE = (bool, int, float, str)
_decoders: dict[tuple[tuple[str, type | None], ...], Any] = {}
_field_readers: dict[int, Any] = {}


def _field_reader(index: int) -> Any:
    """``read(structs) -> [s.f{index} for s in structs]``, one column's values.

    Written out as a list comprehension, as attribute reads the interpreter specializes run
    a third faster than ``map(attrgetter(...))`` (13 ms of ~40 on 100,000 records of six
    fields). The source names only ``f{index}``: nothing of the answer reaches it.
    """
    reader = _field_readers.get(index)
    if reader is None:
        namespace: dict[str, Any] = {}
        source = f"def read(structs):\n    return [s.f{int(index)} for s in structs]\n"
        exec(source, namespace)  # noqa: S102
        reader = _field_readers[index] = namespace["read"]
    return reader


def _decoder_for(first: dict[str, Any]) -> tuple[Any, list[str], list[type | None]] | None:
    """A decoder of a list of records shaped like ``first``, or None when it is not flat."""
    msgspec = _fast()
    names = list(first)
    if len(names) > _MAX_FAST_KEYS:
        return None
    kinds: list[type | None] = []
    for value in first.values():
        kind = type(value)
        if kind is dict:
            return None  # nested: flattened by the pure path
        kinds.append(kind if kind in _SIMPLE else None)
    key = tuple(zip(names, kinds, strict=True))
    made = _decoders.get(key)
    if made is None:
        fields: list[tuple[str, Any, Any]] = []
        for index, column_kind in enumerate(kinds):
            # A missing str/int/float value reads as NaN in pandas just like null, so both
            # decode to None; for booleans and any-typed columns they differ (None vs NaN).
            if column_kind in (int, float, str):
                fields.append((f"f{index}", column_kind | None, None))
            elif column_kind is bool:
                fields.append((f"f{index}", bool | None, msgspec.UNSET))
            else:
                fields.append((f"f{index}", Any, msgspec.UNSET))
        struct = msgspec.defstruct(
            "Record",
            fields,
            rename={f"f{index}": name for index, name in enumerate(names)},
            forbid_unknown_fields=True,
            gc=False,  # records hold no cycles: the collector need not track a million of them
        )
        if len(_decoders) > 64:
            _decoders.clear()
        made = _decoders[key] = msgspec.json.Decoder(list[struct])  # type: ignore[valid-type]
    return made, names, kinds


def _first_object(raw: bytes | memoryview, start: int) -> bytes | None:
    """The bytes of the first object in the JSON array starting at ``raw[start] == '['``."""
    data = bytes(raw[start : start + 65536])
    at = 1
    while at < len(data) and data[at] in b" \t\r\n":
        at += 1
    if data[at : at + 1] != b"{":
        return None
    depth, in_string, index = 0, False, at
    while index < len(data):
        char = data[index]
        if in_string:
            if char == 0x5C:  # backslash: skip the escaped character
                index += 1
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in (0x7B, 0x5B):
            depth += 1
        elif char in (0x7D, 0x5D):
            depth -= 1
            if depth == 0:
                return data[at : index + 1]
        index += 1
    return None  # a first record over 64 KiB: not what this path is for


def _columns_of(raw: bytes | memoryview) -> Columns | None:
    """The records of JSON array ``raw`` as :class:`Columns`, or None to take the pure path."""
    msgspec = _fast()
    start = 0
    while start < len(raw) and raw[start] in b" \t\r\n":
        start += 1
    first_bytes = _first_object(raw, start)
    if first_bytes is None:
        return None
    try:
        first = msgspec.json.decode(first_bytes)
    except msgspec.DecodeError:
        return None
    made = _decoder_for(first) if isinstance(first, dict) and first else None
    if made is None:
        return None
    decoder, names, kinds = made
    try:
        structs = decoder.decode(raw)
    except msgspec.DecodeError:  # ValidationError included: not all alike, take the pure path
        return None
    return Columns(names, kinds, structs=structs)


def read(body: bytes, records_path: str | None = None) -> tuple[Any, Columns | list[Any] | None]:
    """``(data, records)`` of a JSON ``body``: the decoded answer and the records it holds.

    With the fast path, ``records`` are :class:`Columns` and ``data`` holds ``[]`` in their
    place (the envelope's other keys, such as ``next`` or ``total``, are decoded as usual).
    Otherwise ``records`` is :func:`find_records`' list, or ``None`` when there are none.
    """
    msgspec = _fast()
    if msgspec is not None and records_path is None:
        fast = _read_fast(msgspec, body)
        if fast is not None:
            return fast
    data = loads(body)
    found = find_records(data, records_path) if isinstance(data, dict | list) else None
    return data, found


def _read_fast(msgspec: Any, body: bytes) -> tuple[Any, Columns] | None:
    head = body[:64].lstrip()
    if head[:1] == b"[":
        columns = _columns_of(body)
        return None if columns is None else ([], columns)
    if head[:1] != b"{":
        return None
    try:
        envelope = msgspec.json.decode(body, type=dict[str, msgspec.Raw])
    except msgspec.DecodeError:
        return None
    # Only the envelope keys that hold records by convention: the pure rules for other keys
    # (one non-empty list of objects anywhere) need every list decoded anyway.
    lists = [
        key
        for key, raw in envelope.items()
        if key in RECORD_KEYS and bytes(memoryview(raw)[:64]).lstrip()[:1] == b"["
    ]
    if len(lists) != 1:
        return None
    key = lists[0]
    columns = _columns_of(memoryview(envelope[key]))
    if columns is None:
        return None
    data: dict[str, Any] = {}
    try:
        for name, raw in envelope.items():
            data[name] = [] if name == key else msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    for name, value in data.items():
        # Another conventional key holding records makes the answer ambiguous (pure rule).
        if name != key and name in RECORD_KEYS and _is_records(value):
            return None
    return data, columns


# --- pages joined, then one frame -------------------------------------------------------------


class Collector:
    """The records of every page, joined column by column while pages allow it."""

    def __init__(self) -> None:
        self.batches: list[Columns | list[Any]] = []
        self.count = 0

    def __len__(self) -> int:
        return self.count

    def add(self, records: Columns | list[Any]) -> None:
        """Append one page's records."""
        self.batches.append(records)
        self.count += len(records)

    def truncate(self, limit: int) -> None:
        """Keep the first ``limit`` records."""
        kept: list[Columns | list[Any]] = []
        total = 0
        batch: Columns | list[Any]
        for batch in self.batches:
            if total >= limit:
                break
            room = limit - total
            if len(batch) > room:
                if isinstance(batch, Columns):
                    batch = Columns(batch.names, batch.kinds, [v[:room] for v in batch.values])
                else:
                    batch = batch[:room]
            kept.append(batch)
            total += len(batch)
        self.batches, self.count = kept, total

    def frame(self, kind: str = "pandas", *, parse_dates: bool = True) -> Any:
        """One frame of every record so far."""
        joined = _join(self.batches)
        if isinstance(joined, Columns):
            built = (
                _pandas_of(joined, parse_dates)
                if kind == "pandas"
                else _polars_of(joined, parse_dates)
            )
            if built is not None:
                return built
            joined = joined.records()
        return to_frame(joined, parse_dates=parse_dates, kind=kind)


def _join(batches: list[Columns | list[Any]]) -> Columns | list[Any]:
    """All batches as one: columns when every page came as columns, else records."""
    if not batches:
        return []
    if all(isinstance(batch, Columns) for batch in batches):
        columns = [batch for batch in batches if isinstance(batch, Columns)]
        if len(columns) == 1:
            return columns[0]
        unset = _fast().UNSET
        names: list[str] = []
        kinds: dict[str, type | None] = {}
        for batch in columns:
            for name, kind in zip(batch.names, batch.kinds, strict=True):
                if name not in kinds:
                    names.append(name)
                    kinds[name] = kind
                elif kinds[name] is not kind:
                    kinds[name] = None
        values: list[list[Any]] = [[] for _ in names]
        for batch in columns:
            where = dict(zip(batch.names, batch.values, strict=True))
            for index, name in enumerate(names):
                # A key a page lacks is missing there: null for typed columns, unset else.
                if name in where:
                    values[index].extend(where[name])
                else:
                    fill = None if kinds[name] in (int, float, str) else unset
                    values[index].extend([fill] * batch.count)
        return Columns(names, [kinds[name] for name in names], values)
    records: list[Any] = []
    for each in batches:
        records.extend(each.records() if isinstance(each, Columns) else each)
    return records


def _holds_objects(columns: Columns) -> bool:
    """Whether a column of any values (``kind`` None) holds a JSON object to flatten."""
    if all(kind is not None for kind in columns.kinds):
        return False  # typed columns hold no objects: nothing to read out for this check
    return any(
        kind is None and any(isinstance(value, dict) for value in values)
        for kind, values in zip(columns.kinds, columns.values, strict=True)
    )


def _pandas_of(columns: Columns, parse_dates: bool) -> pd.DataFrame | None:
    """A pandas frame equal to ``pd.DataFrame(records)``, built column by column; None when a
    column holds objects to flatten. ``columns`` is used up (its lists emptied) on success."""
    import numpy as np
    import pandas as pd

    unset = _fast().UNSET
    if _holds_objects(columns):
        return None  # nested objects: json_normalize flattens them
    built: dict[str, Any] = {}
    for index, (name, kind) in enumerate(zip(columns.names, columns.kinds, strict=True)):
        # Each column's list is let go once its array is built: peak memory stays lower.
        values = columns.take(index)
        array: Any = None
        if kind is int:
            try:  # None (null or missing) or a number past int64 raise: inferred below
                array = np.array(values, dtype=np.int64)
            except (TypeError, OverflowError):
                array = None
        elif kind is float:
            array = np.array(values, dtype=np.float64)  # None → NaN, as pandas does
        elif kind is str:
            array = pd.array(values, dtype="str")  # None → NaN, as pandas does
        elif kind is bool and values.count(True) + values.count(False) == len(values):
            array = np.array(values, dtype=bool)
        if array is None:
            array = pd.Series([np.nan if value is unset else value for value in values]).array
        built[name] = array
    frame: pd.DataFrame = pd.DataFrame(built, index=pd.RangeIndex(columns.count), copy=False)
    if parse_dates:
        _parse_dates(frame)
    return frame


def _polars_of(columns: Columns, parse_dates: bool) -> Any:
    """A polars frame of ``columns``; None when a column holds objects to flatten.
    ``columns`` is used up (its lists emptied) on success."""
    pl = polars_module()
    unset = _fast().UNSET
    if _holds_objects(columns):
        return None  # nested objects: the pure path flattens them
    dtypes = {int: pl.Int64, float: pl.Float64, str: pl.String, bool: pl.Boolean}
    series = []
    for index, (name, kind) in enumerate(zip(columns.names, columns.kinds, strict=True)):
        # Each column's list is let go once its series is built: peak memory stays lower.
        values = columns.take(index)
        # A missing key (unset) is null in polars; a typed column is tried as it is first,
        # as polars refuses an unset value anyway (a scan saved on every boolean column).
        if kind is None and values.count(unset):
            values = [None if value is unset else value for value in values]
        try:
            built = pl.Series(name, values, dtype=dtypes[kind], strict=True) if kind else None
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            built = None
        if built is None:
            if kind is bool:
                values = [None if value is unset else value for value in values]
            built = _polars_series(pl, name, values, None)
        series.append(built)
        del values
    frame = pl.DataFrame(series)
    return _polars_dates(frame) if parse_dates else frame


def _polars_series(pl: Any, name: str, values: list[Any], dtype: Any) -> Any:
    """A polars column by pandas' rules: one JSON type (ints with floats: floats) keeps its
    type, anything else stays the Python objects it is; polars' own supertypes would turn
    ``1`` and ``"x"`` into strings, ``True`` and ``1`` into integers."""
    errors = (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError)
    if dtype is not None:
        try:
            return pl.Series(name, values, dtype=dtype, strict=True)
        except errors:
            pass  # an int past 64 bits, or (pages joined) another type: by the values below
    kinds = {type(value) for value in values if value is not None}
    if len(kinds) > 1 and kinds != {int, float}:
        return pl.Series(name, values, dtype=pl.Object)
    # One type: polars infers it (lists of one type too); ints past 64 bits stay exact.
    tries = {frozenset({int, float}): [pl.Float64], frozenset({int}): [pl.Int64, pl.Int128]}
    for each in tries.get(frozenset(kinds), [None]):
        try:
            return pl.Series(name, values, dtype=each, strict=True)
        except errors:
            continue
    return pl.Series(name, values, dtype=pl.Object)


def polars_module() -> Any:
    """The polars module, or :class:`ConfigError` saying how to install it."""
    try:
        import polars
    except ImportError:
        raise ConfigError(
            "polars frames need polars, which is not installed here. Install it with "
            "`pip install 'orange_nb[polars]'` (or `pip install polars`), or ask for pandas "
            'frames (frame="pandas", the default).'
        ) from None
    return polars


def check_kind(kind: str) -> str:
    """``kind`` when it is a frame kind, else :class:`ConfigError`."""
    if kind not in FRAME_KINDS:
        raise ConfigError(f"frame must be 'pandas' or 'polars', not {kind!r}.")
    if kind == "polars":
        polars_module()
    return kind


def _polars_dates(frame: Any) -> Any:
    """String columns whose sampled values are ISO 8601 dates or date-times, parsed."""
    pl = polars_module()
    for name, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        column = frame.get_column(name)
        sample = column.head(_DATE_HEAD).drop_nulls().head(_DATE_SAMPLE).to_list()
        if not sample:
            sample = column.drop_nulls().head(_DATE_SAMPLE).to_list()
        matches = [_ISO_DATETIME.fullmatch(value) for value in sample]
        if not sample or not all(matches):
            continue
        utc = any(match is not None and match["tz"] for match in matches)
        try:
            parsed = column.str.to_datetime(time_unit="us", time_zone="UTC" if utc else None)
        except (pl.exceptions.PolarsError, ValueError):
            parsed = _naive_as_utc(pl, column) if utc else None
        if parsed is not None:
            frame = frame.with_columns(parsed)
    return frame


def _naive_as_utc(pl: Any, column: Any) -> Any:
    """A UTC column whose naive values are read as UTC (the pandas rule), or None when a
    value does not parse (the column then stays text, as with pandas)."""
    try:
        aware = column.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
        # The naive values alone, so polars infers their format from one of them.
        rest = pl.select(pl.when(aware.is_null()).then(column)).to_series()
        naive = rest.str.to_datetime(time_unit="us", strict=False).dt.replace_time_zone("UTC")
        parsed = aware.fill_null(naive).alias(column.name)
    except (pl.exceptions.PolarsError, ValueError):
        return None
    return parsed if parsed.null_count() == column.null_count() else None


def _polars_of_records(records: list[dict[str, Any]], parse_dates: bool) -> Any:
    """The pure path into polars: nested objects flattened into ``parent.child`` columns,
    each column typed by :func:`_polars_series` (the rules of the pandas path)."""
    pl = polars_module()
    if not records:
        return pl.DataFrame()
    check_depth(records, "A record")
    if any(isinstance(value, dict) for record in records for value in record.values()):
        records = [_flat(record) for record in records]
    names = list(dict.fromkeys(name for record in records for name in record))
    frame = pl.DataFrame(
        [_polars_series(pl, name, [record.get(name) for record in records], None) for name in names]
    )
    return _polars_dates(frame) if parse_dates else frame


def _flat(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` with nested objects as ``parent.child`` keys, in ``json_normalize``'s order:
    the top level's own values first, then each nested object flattened in place; an empty
    object gives no column."""
    out = {key: value for key, value in record.items() if not isinstance(value, dict)}
    for key, value in record.items():
        if isinstance(value, dict):
            _flat_into(out, value, key + ".")
    return out


def _flat_into(out: dict[str, Any], node: dict[str, Any], prefix: str) -> None:
    # Recursive: check_depth bounded the nesting first.
    for key, value in node.items():
        if isinstance(value, dict):
            _flat_into(out, value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
