"""Parse an export file (``.csv.gz`` or plain CSV) into a frame typed by the type table.

No network here: :mod:`mailtrap_pandas.jobs.exports` fetches the file, this module reads it.

The real file's layout is undocumented (FACTS.md §7.1), so the reader is driven by
the header and tolerant of everything a CSV writer could plausibly do differently:

- any column order, extra columns, missing optional columns (only ``email`` is required);
- gzip or plain text (sniffed from the magic bytes, never from the suffix);
- a UTF-8 byte order mark, CRLF line ends, quoted commas and newlines;
- header names in any case and spelling (``Email``, ``List IDs``, ``Created At``),
  merge tags in any case;
- list memberships as ``3;7``, ``3,7``, ``3|7``, ``3 7``, ``[3, 7]`` or empty;
- timestamps as ISO-8601 (with or without milliseconds, ``Z`` or offset; naive = UTC)
  or as epoch milliseconds;
- status and boolean words in any case.

Only an empty cell is missing. Text is never trimmed or reinterpreted: ``"00501"``,
``"NULL"`` and ``"N/A"`` stay what they are. A cell that cannot be read as its
column's type raises :class:`ExportParseError` naming the line, the row and the
column: the typed frame is the promise, so it is never quietly downgraded.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.dtypes import (
    ARROW_TO_PANDAS,
    CONTACT_COLUMNS,
    STATUS_DTYPE,
    TYPE_TABLE,
    field_type,
)
from mailtrap_pandas.frames.kinds import Frame, arrow_to_polars, check_frame

__all__ = [
    "ExportFormatWarning",
    "ExportParseError",
    "normalize_header",
    "parse_export_file",
]

_GZIP_MAGIC = b"\x1f\x8b"
#: Bytes of CSV text parsed and typed at a time.
_BLOCK_SIZE = 4 << 20

#: Header spellings (after :func:`normalize_header`) of the built-in contact columns.
_BUILTIN_ALIASES: dict[str, str] = {
    "email": "email",
    "email_address": "email",
    "e_mail": "email",
    "id": "id",
    "contact_id": "id",
    "uuid": "id",
    "status": "status",
    "subscription_status": "status",
    "list_ids": "list_ids",
    "list_id": "list_ids",
    "lists": "list_ids",
    "created_at": "created_at",
    "updated_at": "updated_at",
}

_TRUE = ("true", "1", "yes")
_FALSE = ("false", "0", "no")
_LIST_SEPARATORS = r"[;,|\s]+"
_MIDNIGHT = r"^\d{4}-\d{2}-\d{2}[T ]00:00(:00(\.0+)?)?(Z|[+-]00(:?00)?)?$"
#: A time of day with a zone after it (a date alone ends in "-28", which is no zone).
_ZONED = r"[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)\s*$"


class ExportFormatWarning(UserWarning):
    """The export file has columns the reader does not know; they are kept as text."""


class ExportParseError(InputError):
    """A cell of an export file cannot be read as its column's type.

    Attributes
    ----------
    column : str
        The column (its canonical name: built-in name or merge tag).
    row : int
        1-based data row (the header is not counted).
    line : int or None
        1-based line of the file where that row starts (quoted newlines counted).
    value : str
        The offending cell.
    """

    def __init__(self, column: str, row: int, line: int | None, value: str, expected: str) -> None:
        where = f"line {line} (data row {row})" if line is not None else f"data row {row}"
        super().__init__(
            f"export file, {where}, column {column!r}: cannot read {value!r} as {expected}"
        )
        self.column = column
        self.row = row
        self.line = line
        self.value = value


def normalize_header(name: str) -> str:
    """Canonical spelling of a header or merge tag: lower case, words joined by ``_``.

    Examples
    --------
    >>> normalize_header(" List IDs ")
    'list_ids'
    >>> normalize_header("Created-At")
    'created_at'
    """
    return re.sub(r"[\s\-.]+", "_", name.strip().lstrip("\ufeff").strip()).lower()


# -- reading the raw file ------------------------------------------------------------------


def _compression(path: Path) -> str | None:
    with path.open("rb") as fh:
        return "gzip" if fh.read(2) == _GZIP_MAGIC else None


def _text_stream(path: Path, compression: str | None) -> io.TextIOWrapper:
    raw = pa.input_stream(str(path), compression=compression)
    # utf-8-sig drops a BOM; newline="" lets the csv module see quoted CR/LF as data.
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")


def _read_header(path: Path, compression: str | None) -> list[str]:
    try:
        with _text_stream(path, compression) as text:
            header = next(csv.reader(text), None)
    except (UnicodeDecodeError, OSError, csv.Error) as exc:
        raise InputError(f"{path.name}: not a UTF-8 CSV export file ({exc})") from None
    if not header or all(not h.strip() for h in header):
        raise InputError(f"{path.name}: the export file is empty (no header row)")
    return header


def _line_of_row(path: Path, compression: str | None, row: int) -> int | None:
    """File line where data row ``row`` (0-based) starts; only used to word an error."""
    try:
        with _text_stream(path, compression) as text:
            reader = csv.reader(text)
            next(reader)
            start = reader.line_num + 1
            for i, _ in enumerate(reader):
                if i == row:
                    return start
                start = reader.line_num + 1
    except (UnicodeDecodeError, OSError, csv.Error):
        return None
    return None


# -- typing one column ---------------------------------------------------------------------


class _Column:
    """One string column being typed; knows how to word an error about one of its cells."""

    def __init__(
        self, name: str, values: pa.ChunkedArray, raise_at: Callable[[str, int, str], None]
    ) -> None:
        self.name = name
        self.values = values
        self._raise_at = raise_at

    def fail(self, bad: pa.Array, expected: str) -> None:
        """Raise for the first row where boolean array ``bad`` is true."""
        idx = int(pc.index(bad, True).as_py())
        self._raise_at(self.name, idx, expected)

    def fail_first(self, ok: Callable[[str], bool], expected: str) -> None:
        """Raise for the first non-missing cell ``ok`` rejects (slow path, errors only)."""
        for i, value in enumerate(self.values.to_pylist()):
            if value is not None and not ok(value):
                self._raise_at(self.name, i, expected)
        raise InputError(f"export file, column {self.name!r}: cannot read it as {expected}")


def _try_cast(values: pa.Array, target: pa.DataType) -> pa.Array | None:
    try:
        return pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _cast_or_fail(col: _Column, target: pa.DataType, ok: Callable[[str], bool], what: str) -> Any:
    out = _try_cast(col.values, target)
    if out is None:
        # Stray spaces around numbers are a writer's habit, not data: forgive them.
        out = _try_cast(pc.utf8_trim_whitespace(col.values), target)
    if out is None:
        col.fail_first(ok, what)
    return out


def _is_int(value: str) -> bool:
    try:
        return -(2**63) <= int(value.strip()) < 2**63 and "_" not in value
    except ValueError:
        return False


def _is_float(value: str) -> bool:
    try:
        float(value.strip())
    except ValueError:
        return False
    return "_" not in value


def _is_date(value: str) -> bool:
    value = value.strip()
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return len(value) == 10 or re.match(_MIDNIGHT, value) is not None


def _words(col: _Column, words: Sequence[str], what: str) -> pa.Array:
    """Index of each cell (trimmed, any case) in ``words``; missing stays missing."""
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(col.values))
    idx = pc.index_in(lowered, value_set=pa.array(list(words)))
    bad = pc.and_(pc.is_valid(lowered), pc.is_null(idx))
    if pc.any(bad).as_py():
        col.fail(bad, what)
    return idx


def _to_boolean(col: _Column) -> Any:
    idx = _words(col, _TRUE + _FALSE, "a boolean (true/false, 1/0, yes/no)")
    return pc.less(idx, len(_TRUE))


def _to_status(col: _Column) -> Any:
    """Category codes (0 subscribed, 1 unsubscribed, null missing) of a status column."""
    return _words(col, STATUS_DTYPE.categories.tolist(), "a status (subscribed/unsubscribed)")


def _to_date(col: _Column) -> Any:
    what = "a date (yyyy-mm-dd)"
    out = _try_cast(col.values, pa.date32())
    if out is not None:
        return out
    text = pc.utf8_trim_whitespace(col.values)
    long = pc.greater(pc.utf8_length(text), 10)  # null where missing: any/all skip it
    if pc.any(long).as_py():
        # A datetime at exactly midnight is a date written by a datetime-minded tool;
        # any other time of day would be truncated, so it is an error instead.
        if not pc.all(
            pc.or_kleene(pc.invert(long), pc.match_substring_regex(text, _MIDNIGHT))
        ).as_py():
            col.fail_first(_is_date, what)
        text = pc.if_else(long, pc.utf8_slice_codeunits(text, 0, 10), text)
    out = _try_cast(text, pa.date32())
    if out is None:
        col.fail_first(_is_date, what)
    return out


def _to_timestamp(col: _Column) -> Any:
    target = pa.timestamp("ms", "UTC")
    # The common case, zoned ISO-8601 cells as they are, without trimming and matching
    # them first. Skipping it changes no result (the slower path below reads the same),
    # so this line is not mutated.
    out = _try_cast(col.values, target)  # pragma: no mutate
    if out is not None:
        return out
    text = pc.utf8_trim_whitespace(col.values)
    # Epoch milliseconds (what the contacts endpoints send) may sit beside ISO strings.
    # Null where the cell is missing: any/all skip it, if_else keeps it missing.
    is_epoch = pc.match_substring_regex(text, r"^-?\d{1,18}$")
    if not pc.any(is_epoch).as_py():
        return _iso_timestamps(col, text, target)
    millis = pc.cast(pc.cast(pc.if_else(is_epoch, text, None), pa.int64()), target)
    if pc.all(is_epoch).as_py():
        return millis
    return pc.if_else(
        is_epoch, millis, _iso_timestamps(col, pc.if_else(is_epoch, None, text), target)
    )


def _iso_timestamps(col: _Column, text: Any, target: pa.DataType) -> Any:
    out = _try_cast(text, target)
    if out is not None:
        return out
    naive = _try_cast(text, pa.timestamp("ms"))
    if naive is not None:
        # A timestamp without a zone is read as UTC: the API speaks UTC only.
        return pc.cast(naive, target)
    # Mixed zones, sub-millisecond digits: pandas' ISO-8601 parser, floored to ms. Cells
    # with a zone and without one are parsed apart: pandas 2.2 gives a naive cell the
    # offset of a zoned cell before it, where it must be UTC.
    series = pd.Series(text.to_pylist(), dtype=object)
    zoned = np.asarray(pc.fill_null(pc.match_substring_regex(text, _ZONED), False), dtype=bool)
    parts = [
        pd.to_datetime(series[zoned], format="ISO8601", utc=True, errors="coerce"),
        pd.to_datetime(series[~zoned], format="ISO8601", errors="coerce").dt.tz_localize("UTC"),
    ]
    parsed = pd.concat([p for p in parts if len(p)]).sort_index()
    bad = series.notna() & parsed.isna()
    if bad.any():
        col._raise_at(col.name, int(np.flatnonzero(bad.to_numpy())[0]), "an ISO-8601 timestamp")
    return pa.array(parsed.dt.floor("ms"), type=target)  # whole milliseconds: a safe cast


def _to_list_ids(col: _Column) -> Any:
    what = "a list of list ids (such as 3;7)"
    # Brackets (JSON) and stray separators at either end ("3;7;") are packaging, not ids.
    text = pc.utf8_trim(col.values, characters="[] \t\r\n;,|")
    # A block's column is one array, and split makes a new one: its offsets start at 0.
    parts = pc.split_pattern_regex(pc.if_else(pc.equal(text, ""), None, text), _LIST_SEPARATORS)
    flat = parts.flatten()
    ids = _try_cast(flat, pa.int64())
    if ids is None:
        bad_items = pc.invert(pc.match_substring_regex(flat, r"^[+-]?\d{1,18}$"))
        # Map the first bad item back to its row through the list offsets.
        item = int(pc.index(bad_items, True).as_py())
        ends = np.asarray(parts.offsets)[1:]  # where each row's items end
        col._raise_at(col.name, int(np.searchsorted(ends, item, side="right")), what)
    # A missing cell means "member of no list": every contact has a (possibly empty) list
    # (the offsets carry no nulls). The type follows from the ids: list<int64>.
    return pa.ListArray.from_arrays(parts.offsets, ids)


# -- the frame -----------------------------------------------------------------------------

#: Arrow type of each kind's typed chunks (needed to build a column from zero chunks).
_ARROW_TYPES: dict[str, pa.DataType] = {
    "status": pa.int32(),
    "created_at": pa.timestamp("ms", "UTC"),
    "updated_at": pa.timestamp("ms", "UTC"),
    "list_ids": pa.list_(pa.int64()),
    **{name: row.arrow_type for name, row in TYPE_TABLE.items()},
}


def _kind(name: str, fields: Mapping[str, str] | None) -> str:
    """How a column is typed: its built-in name, its field's data_type, or text."""
    if name in CONTACT_COLUMNS:
        return name
    if fields and name in fields:
        return field_type(fields[name]).data_type
    # Whatever kind _typed does not know is read as text: the word itself (a mutant
    # "TEXT" included) changes nothing, hence no mutation of it.
    return "text"  # pragma: no mutate


def _typed(col: _Column, kind: str) -> Any:
    """Convert one block of one string column to the Arrow type of its kind."""
    if kind == "status":
        return _to_status(col)
    if kind in ("created_at", "updated_at"):
        return _to_timestamp(col)
    if kind == "list_ids":
        return _to_list_ids(col)
    if kind == "integer":
        return _cast_or_fail(col, pa.int64(), _is_int, "an integer")
    if kind == "float":
        return _cast_or_fail(col, pa.float64(), _is_float, "a float")
    if kind == "boolean":
        return _to_boolean(col)
    if kind == "date":
        return _to_date(col)
    return col.values  # text, email, id, and columns nobody told us about


def _to_pandas(kind: str, chunks: list[Any]) -> Any:
    """The pandas array of a column from its typed Arrow chunks."""
    values = pa.chunked_array(chunks, type=_ARROW_TYPES.get(kind, pa.string()))
    if kind == "status":
        codes = values.fill_null(-1).to_numpy().astype(np.int8)
        return pd.Categorical.from_codes(codes, dtype=STATUS_DTYPE)
    return pa.table({"c": values}).to_pandas(types_mapper=ARROW_TO_PANDAS.get)["c"].array


#: Arrow type of ``status`` in Arrow (and polars) results: the pandas categorical's own layout.
STATUS_ARROW = pa.dictionary(pa.int8(), pa.string())


def _to_arrow(kind: str, chunks: list[Any]) -> pa.ChunkedArray:
    """The Arrow column from its typed chunks, without a detour through pandas."""
    values = pa.chunked_array(chunks, type=_ARROW_TYPES.get(kind, pa.string()))
    if kind != "status":
        return values
    words = pa.array(STATUS_DTYPE.categories.tolist())  # Python strings: Arrow's string
    return pa.chunked_array(
        [pa.DictionaryArray.from_arrays(pc.cast(c, pa.int8()), words) for c in values.chunks],
        type=STATUS_ARROW,
    )


def parse_export_file(
    path: str | os.PathLike[str],
    fields: Mapping[str, str] | None = None,
    *,
    columns: Sequence[str] | None = None,
    frame: Frame = "pandas",
) -> Any:
    """Read an export file into a frame typed by the type table.

    Parameters
    ----------
    path : path-like
        The file, gzip-compressed or not.
    fields : mapping, optional
        The account's custom fields, merge tag -> ``data_type``. Columns that
        match a merge tag (in any case) get its dtype. When given, a column that
        is neither built-in nor a known merge tag is kept as text with an
        :class:`ExportFormatWarning`; without it, such columns are kept as text
        silently (the reader was not told what to expect).
    columns : sequence of str, optional
        Only these columns (canonical names: built-in names or merge tags), in
        this order. Unlisted columns are not even parsed.
    frame : {"pandas", "polars", "arrow"}
        What to build from the typed Arrow columns: a pandas frame, a polars
        frame, or the ``pyarrow.Table`` itself (no pandas at all).

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        Built-in columns present in the file (``email``, ``id``, ``status``,
        ``list_ids``, ``created_at``, ``updated_at``), then custom fields in the
        order of ``fields``, then other columns in file order. Columns absent
        from the file are not invented.

    Raises
    ------
    InputError
        The file is empty, not UTF-8 CSV, has no ``email`` column, has two
        columns with the same meaning, or ``columns`` names unknown columns.
    ExportParseError
        A cell cannot be read as its column's type (names line, row and column).
    """
    check_frame(frame)
    path = Path(path)
    compression = _compression(path)
    header = _read_header(path, compression)

    tags = {normalize_header(tag): tag for tag in (fields or {})}
    canonical: dict[str, int] = {}  # canonical name -> position in the header
    extras: list[str] = []
    for position, raw in enumerate(header):
        norm = normalize_header(raw)
        name = _BUILTIN_ALIASES.get(norm) or tags.get(norm)
        if name is None:
            # A header cell left blank (often a trailing comma) still needs a name.
            name = raw.lstrip("\ufeff").strip() or f"unnamed_{position}"
            extras.append(name)
        if name in canonical:
            first = header[canonical[name]]
            raise InputError(f"{path.name}: columns {first!r} and {raw!r} both mean {name!r}")
        canonical[name] = position
    if "email" not in canonical:
        raise InputError(
            f"{path.name}: an export file needs an email column; its columns are {header}"
        )
    if extras and fields is not None:
        warnings.warn(
            f"{path.name}: columns {extras} are neither contact attributes nor merge tags "
            "of the account's fields; they are kept as text",
            ExportFormatWarning,
            stacklevel=3,
        )

    order = [c for c in CONTACT_COLUMNS if c in canonical]
    order += [tag for tag in (fields or {}) if tag in canonical]
    order += extras
    if columns is not None:
        unknown = [c for c in columns if c not in canonical]
        if unknown:
            raise InputError(f"no column(s) {unknown} in the export; it has {order}")
        order = list(dict.fromkeys(columns))

    # pyarrow gets names of our own (c0, c1, ...): header cells may be blank or repeated.
    internal = [f"c{i}" for i in range(len(header))]
    raw_names = [internal[canonical[c]] for c in order]

    def raise_at(column: str, row: int, expected: str) -> None:
        value = pending[row].as_py()
        line = _line_of_row(path, compression, offset + row)
        raise ExportParseError(column, offset + row + 1, line, str(value), expected)

    kinds = {name: _kind(name, fields) for name in order}
    chunks: dict[str, list[Any]] = {name: [] for name in order}
    offset = 0
    pending: Any = None
    try:
        # Block by block: the file's text never sits in memory whole, only one
        # block of it beside the typed chunks (the frame's own size).
        reader = pacsv.open_csv(
            pa.input_stream(str(path), compression=compression),
            # skip_rows_after_names respects quotes (skip_rows does not).
            read_options=pacsv.ReadOptions(
                column_names=internal, skip_rows_after_names=1, block_size=_BLOCK_SIZE
            ),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                # Everything as text first: typing is ours, so that "00501" stays text
                # and an error can name the cell instead of pyarrow's block offset.
                column_types={raw: pa.string() for raw in raw_names},
                include_columns=raw_names,
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
        for batch in reader:
            for name, raw in zip(order, raw_names, strict=True):
                pending = batch.column(raw)
                chunks[name].append(_typed(_Column(name, pending, raise_at), kinds[name]))
            offset += batch.num_rows
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path.name}: cannot be read as CSV: {exc}") from None

    if frame != "pandas":
        arrays = [_to_arrow(kinds[name], chunks.pop(name)) for name in order]
        table = pa.Table.from_arrays(arrays, names=order)
        return table if frame == "arrow" else arrow_to_polars(table)
    data: dict[str, Any] = {}
    for name in order:
        data[name] = _to_pandas(kinds[name], chunks.pop(name))
    return pd.DataFrame(data, index=pd.RangeIndex(offset), copy=False)
