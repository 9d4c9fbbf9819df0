"""Frame -> bulk import request bodies, vectorized; no network.

The input is the ``.valid`` frame of a validation report: an ``email`` column
and one typed column per custom field, named by its merge tag (the dtypes of
:data:`mailtrap_pandas.frames.dtypes.TYPE_TABLE`). Each chunk of at most 50,000 rows
becomes one ``POST /contacts/imports`` body::

    {"contacts":[{"email":"a@x.io","fields":{"age":41},"list_ids_included":[3]},...]}

How: no dict is built per row. Each column of a chunk is turned into an Arrow
array of ready-made JSON fragments (``"tag":value``, or null when the value is
missing), the fragments are joined per row by ``binary_join_element_wise``
(nulls skipped, so a missing value is left out of ``fields`` and never
overwrites a stored one), and the rows are concatenated straight out of the
Arrow value buffer into the body. Floats are written in their shortest
round-trip form, so ``json.loads(body)`` gives back exactly the frame's values.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.columns import bits
from mailtrap_pandas.limits import MAX_CONTACTS_PER_IMPORT

__all__ = ["MAX_CHUNK_SIZE", "Chunk", "check_chunk_size", "encode_chunks"]

#: The API's limit of contacts per import request (FACTS.md §6).
MAX_CHUNK_SIZE = MAX_CONTACTS_PER_IMPORT

_SLICE = 16_384  # rows encoded at once inside a chunk: small intermediates
_HEAD = b'{"contacts":['
_TAIL = b"]}"


@dataclass(frozen=True, eq=False)
class Chunk:
    """One import request body and the rows it carries.

    Attributes
    ----------
    number : int
        0-based position of the chunk in the import.
    index : pandas.Index
        The caller's original labels of the rows in this chunk, in body order.
    emails : pandas.Series
        The (normalized) emails of those rows, indexed by ``index``.
    body : bytes
        The exact JSON request body.
    sha256 : str
        Hex SHA-256 of ``body``: the chunk's identity in the journal. Computed when
        first asked for: a dry run (``to_import_payloads``) never needs it.
    """

    number: int
    index: pd.Index
    emails: pd.Series
    body: bytes
    known_sha256: str | None = field(default=None, repr=False)

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of ``body`` (hashing 1,000,000 rows of bodies takes ~0.25 s)."""
        if self.known_sha256 is None:
            # Frozen: the digest is a cache of ``body``, not a change of the chunk.
            object.__setattr__(self, "known_sha256", hashlib.sha256(self.body).hexdigest())
        assert self.known_sha256 is not None
        return self.known_sha256

    @property
    def rows(self) -> int:
        """Number of contacts in the body."""
        return len(self.index)

    def __repr__(self) -> str:
        return (
            f"Chunk(number={self.number}, rows={self.rows}, bytes={len(self.body)}, "
            f"sha256={self.sha256[:12]}...)"
        )


def check_chunk_size(chunk_size: int) -> int:
    """Return ``chunk_size`` if it is an int in 1..50,000, else raise :class:`InputError`."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int | np.integer):
        raise InputError(f"chunk_size must be an integer, got {chunk_size!r}")
    if not 1 <= int(chunk_size) <= MAX_CHUNK_SIZE:
        raise InputError(
            f"chunk_size must be between 1 and {MAX_CHUNK_SIZE:,} (the API's limit per import), "
            f"got {chunk_size:,}"
        )
    return int(chunk_size)


def list_ids_arg(ids: Sequence[int] | None, name: str) -> list[int]:
    """Check a ``list_ids``-style argument: integers only, named in the error."""
    if ids is None:
        return []
    if isinstance(ids, int | np.integer):
        ids = [int(ids)]
    out: list[int] = []
    for i in ids:
        if isinstance(i, bool) or not isinstance(i, int | np.integer):
            raise InputError(f"{name} must be integers (list ids), got {i!r}")
        out.append(int(i))
    return out


def _suffix(included: list[int], excluded: list[int]) -> bytes:
    """The constant tail of every contact object (list ids are the same for all rows)."""
    out = b',"list_ids_included":' + orjson.dumps(included) if included else b""
    if excluded:
        out += b',"list_ids_excluded":' + orjson.dumps(excluded)
    return out + b"}"


def _as_arrow(series: pd.Series) -> pa.Array:
    # A pandas object: pyarrow reads NaN, None and NA as null (from_pandas is its default).
    arr = pa.array(series)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _valid(arr: pa.Array) -> npt.NDArray[np.bool_]:
    """Which values are not null, straight from the validity bitmap."""
    if not arr.null_count:
        return np.ones(len(arr), dtype=bool)
    return bits(arr.buffers()[0], arr.offset, len(arr))


#: Control characters: of the bytes JSON strings must escape, those orjson escapes for us.
_CONTROL = np.zeros(256, dtype=bool)
_CONTROL[:0x20] = True


def _escaped(arr: pa.Array) -> pa.Array:
    """The inside of JSON string literals (no quotes) of a string array; nulls stay null."""
    if not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    data = arr.buffers()[2]
    if data is None:  # no value bytes at all (allowed by older pyarrow): nothing to escape
        return arr
    # One pass over the value bytes finds what needs escaping (a regex per value cost
    # ten times more); the common case, plain text, passes through untouched.
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    raw = np.frombuffer(data, dtype=np.uint8)[offsets[0] : offsets[-1]]
    # Three comparisons over the bytes (vectorized) cost a fifth of a table lookup per byte.
    # No mutation of the first: `<= 0x20` or `< 33` would add the spaces, whose values
    # orjson would then escape to the same text, only slower.
    control = raw < 0x20  # pragma: no mutate
    special = control | (raw == 0x22) | (raw == 0x5C)
    if not special.any():
        return arr
    found = raw[special]
    out = arr
    # Replacing in every value costs less than picking out the values that need it.
    if (found == 0x5C).any():
        out = pc.replace_substring(out, "\\", "\\\\")
    if (found == 0x22).any():
        out = pc.replace_substring(out, '"', '\\"')
    if _CONTROL[found].any():  # a table: among `found`, `< 0x20` and `<= 0x20` agree
        # Control characters (\n, \u0000...): orjson escapes exactly as JSON requires,
        # and only these rare values pay for a Python call.
        at = np.flatnonzero(control) + offsets[0]
        odd = np.unique(np.searchsorted(offsets, at, side="right") - 1)
        values = arr.take(pa.array(odd)).to_pylist()
        # A null may keep bytes under it (columns.null_where): it stays null.
        exact = pa.array(
            [None if v is None else orjson.dumps(v)[1:-1].decode() for v in values], pa.string()
        )
        mask = np.zeros(len(arr), dtype=bool)
        mask[odd] = True
        out = pc.replace_with_mask(out, pa.array(mask), exact)
    return out


def _typed(series: pd.Series, data_type: str, tag: str) -> pa.Array:
    """One typed column as an Arrow array (nulls where missing), converted once per chunk."""
    if data_type == "text":
        return _as_arrow(series.astype("string[pyarrow]"))
    if data_type == "integer":
        return _as_arrow(series.astype("Int64"))
    if data_type == "float":
        # Float64, float64 or Int64 alike: NA and NaN become NaN. No mutation of the
        # arguments: with either one None or left out, pandas converts the same way.
        raw = series.to_numpy(
            dtype="float64",  # pragma: no mutate
            na_value=np.nan,  # pragma: no mutate
        )
        if np.isinf(raw).any():
            bad = series.index[np.isinf(raw)][0]
            raise InputError(f"row {bad!r}, column {tag!r}: infinity cannot be sent as JSON")
        # NaN is missing: never sent (JSON has no NaN, and it must not overwrite a value).
        return pa.array(raw, mask=np.isnan(raw))
    if data_type == "boolean":
        return _as_arrow(series.astype("boolean"))
    if data_type == "date":
        # A date32 column casts to itself without a copy.
        return pc.cast(_as_arrow(series), pa.date32())
    raise InputError(f"column {tag!r}: unknown Mailtrap data_type {data_type!r}")


_QUOTED = ("text", "date")  # data types written as JSON strings


def _const(text: str, where: npt.NDArray[np.bool_]) -> pa.Array:
    """``text`` where ``where`` is True, null elsewhere."""
    return pa.array([text]).take(pa.array(np.zeros(len(where), np.int8), mask=~where))


def _value_text(arr: pa.Array, data_type: str) -> tuple[pa.Array, pa.Array | None]:
    """The JSON text of one typed column's values (null where missing), and a tail or None."""
    if data_type == "text":
        return _escaped(arr), None
    # integers, booleans (true/false), dates (ISO), floats: shortest round trip
    text = pc.cast(arr, pa.string())
    if data_type != "float":
        return text, None
    # Arrow writes 1.0 as "1" and -0.0 as "-0"; add ".0" so they stay floats in JSON,
    # unless written with an exponent (1e+16). A missing value is NaN here: never integral.
    raw = np.asarray(arr)
    integral = raw == np.trunc(raw)
    if integral.any():
        pos = np.flatnonzero(integral)
        integral[pos] = ~np.asarray(pc.match_substring(text.take(pa.array(pos)), "e"))
    return text, _const(".0", integral)


@dataclass(frozen=True)
class _Field:
    """One field of a chunk, ready to be joined: its texts and what comes before them.

    ``pieces`` are the texts that can come before the value (see :func:`_layout`), or
    for a field of few distinct values, those texts with each value already appended
    (:attr:`_Column.table`; ``value`` is then None). ``pick`` picks one piece per row,
    ``present`` says whether the row has a value at all.
    """

    pieces: pa.Array
    pick: npt.NDArray[np.int8] | npt.NDArray[np.int32]
    present: npt.NDArray[np.bool_]
    value: pa.Array | None
    tail: pa.Array | None


#: A column of integers or dates whose values span fewer than this many (or an eighth of
#: the rows, if more) is written from a table of the texts of its range: ages, ratings,
#: counts, dates of a few decades.
_FEW = 1024


@dataclass(frozen=True)
class _Column:
    """One field's typed values, with what is written before each (once per frame).

    ``variants`` are the three texts that can come before a value (see :func:`_layout`).
    A column of booleans, or of integers or dates spanning few values, also has
    ``table``: each variant with each value's text appended, value ``lo + i`` at
    ``i``, so one ``take`` per row writes both (no cast, and one piece fewer to join
    per row; ~40 ms per 1,000,000 rows and field). Its texts are Arrow's own casts, so
    the bytes are those of :func:`_value_text`.
    """

    data_type: str
    arr: pa.Array
    variants: pa.Array
    table: pa.Array | None = None
    lo: int = 0

    def slice(self, begin: int, size: int) -> _Column:
        """The same column over rows ``begin:begin+size`` (zero-copy)."""
        return replace(self, arr=self.arr.slice(begin, size))


def _codes(arr: pa.Array, data_type: str) -> npt.NDArray[np.int64]:
    """Each row's value as an integer: 0/1 for a boolean, days for a date (nulls: any)."""
    # (no mutation of the casts: any integer or float type, copied or not, picks the same
    # table entries)
    if data_type == "boolean":
        return bits(arr.buffers()[1], arr.offset, len(arr)).astype(np.int64)  # pragma: no mutate
    dtype = np.int32 if data_type == "date" else np.int64
    values = np.frombuffer(arr.buffers()[1], dtype)[arr.offset : arr.offset + len(arr)]
    return values.astype(np.int64, copy=False)  # pragma: no mutate


def _column(key: str, data_type: str, arr: pa.Array) -> _Column:
    """A field's column, with the table of its texts when it has few distinct values."""
    quote = '"' if data_type in _QUOTED else ""
    variants = pa.array(['","fields":{' + key + quote, "," + key + quote, '",' + key + quote])
    column = _Column(data_type, arr, variants)
    # The table is a faster way to the same bytes, so mutants that skip it (another kind
    # name, no table), widen it (nulls' slots in the range, one day more) or pick another
    # entry for a missing value (never written) all send the same body: no mutation.
    if data_type == "boolean":  # pragma: no mutate
        lo, texts = 0, pa.array(["false", "true"])
    elif data_type in ("integer", "date") and arr.null_count < len(arr):  # pragma: no mutate
        present = _valid(arr)  # pragma: no mutate
        values = _codes(arr, data_type)[present]
        lo, hi = int(values.min()), int(values.max())
        # Python ints: no overflow at the ends of int64. No mutation: a bound one off, or
        # another share of the rows, tables a range more or less, to the same bytes.
        if hi - lo >= max(_FEW, len(arr) // 8):  # pragma: no mutate
            return column
        span = pa.array(np.arange(lo, hi + 1, dtype=np.int64))
        if data_type == "date":  # days fit int32, the storage of date32
            span = pa.array(np.arange(lo, hi + 1, dtype=np.int32))  # pragma: no mutate
            span = span.cast(pa.date32())
        texts = pc.cast(span, pa.string())
    else:
        return column
    m = len(texts)
    table = pc.binary_join_element_wise(  # pragma: no mutate
        variants.take(np.repeat(np.arange(3), m)), texts.take(np.tile(np.arange(m), 3)), ""
    )
    return replace(column, table=table, lo=lo)  # pragma: no mutate


@dataclass(frozen=True)
class _Layout:
    """The texts of one chunk's rows, before they are joined."""

    emails: pa.Array
    fields: list[_Field]
    ends: pa.Array
    end: npt.NDArray[np.int8]


_OPEN = '{"email":"'


def _layout(emails: pa.Array, columns: Sequence[_Column], suffix: str) -> _Layout:
    """The texts of one chunk's rows: each column turned into JSON text once per chunk.

    Each row is ``{"email":"``, the email, then per field the text before its value
    (null, so left out, where the value is missing) and the value, then the end of
    the row. What comes before a value depends on the fields present before it in
    that row: none (open ``"fields"``), an unquoted one (a comma) or a quoted one
    (its closing quote and a comma); the end of the row likewise. Those few variants
    are picked per row with NumPy: no per-field joins and no pass to strip a
    leading comma. (Per slice of a chunk, the same conversions cost ~0.05 s more
    per 1,000,000 rows in calls and copies.)
    """
    state = np.zeros(len(emails), np.int8)  # 0: no field yet, 1: last one unquoted, 2: quoted
    fields = []
    for col in columns:
        if col.table is not None:
            present = _valid(col.arr)
            # (no mutation: a missing value's entry is never written; the table's length is
            # a multiple of 3, so / and // agree)
            at = np.where(present, _codes(col.arr, col.data_type) - col.lo, 0)  # pragma: no mutate
            pick = state * np.int32(len(col.table) // 3) + at.astype(np.int32)  # pragma: no mutate
            fields.append(_Field(col.table, pick, present, None, None))
        else:
            value, tail = _value_text(col.arr, col.data_type)
            present = _valid(value)
            fields.append(_Field(col.variants, state.copy(), present, value, tail))
        state[present] = 2 if col.data_type in _QUOTED else 1
    ends = pa.array(['"' + suffix, "}" + suffix, '"}' + suffix])
    return _Layout(_escaped(emails), fields, ends, state)


def _rows(layout: _Layout, begin: int, length: int) -> pa.Array:
    """Rows ``begin:begin+length`` of a chunk, each followed by a comma, as Arrow strings.

    ONE ``binary_join_element_wise`` writes them all.
    """
    stop = begin + length
    args: list[pa.Array | str] = [_OPEN, layout.emails.slice(begin, length)]
    for f in layout.fields:
        picked = pa.array(f.pick[begin:stop], mask=~f.present[begin:stop])
        args.append(f.pieces.take(picked))
        if f.value is not None:
            args.append(f.value.slice(begin, length))
        if f.tail is not None:
            args.append(f.tail.slice(begin, length))
    args.append(layout.ends.take(pa.array(layout.end[begin:stop])))
    # "replace": a null argument is written as "" (the default null_replacement).
    return pc.binary_join_element_wise(*args, "", null_handling="replace")


def _row_bytes(rows: pa.Array) -> memoryview:
    """The concatenated rows, straight out of the Arrow value buffer (no copy)."""
    offsets = np.frombuffer(rows.buffers()[1], dtype=np.int32)
    start = int(offsets[rows.offset])
    stop = int(offsets[rows.offset + len(rows)])
    return memoryview(rows.buffers()[2])[start:stop]


def _body(emails: pa.Array, columns: Sequence[_Column], suffix: str) -> bytes:
    """``{"contacts":[row,row,...]}`` built in slices of a few thousand rows.

    Each slice's rows are copied into one growing buffer and their Arrow arrays
    freed at once, so the peak of a chunk is about one body, the chunk's value
    texts and the joined rows of one slice. (Keeping every slice until a final
    ``join`` held two bodies: the slices and the joined copy. Allocating the body
    at its exact size up front saved nothing: a fresh body costs its page faults
    either way, and growing a large buffer remaps it rather than copying it.)
    """
    layout = _layout(emails, columns, suffix)
    out = io.BytesIO()
    out.write(_HEAD)
    for begin in range(0, len(emails), _SLICE):
        rows = _rows(layout, begin, _SLICE)
        with _row_bytes(rows) as view:
            out.write(view)
        del rows
    if len(emails):
        out.seek(-1, io.SEEK_END)  # overwrite the last row's comma
    out.write(_TAIL)
    # getvalue() hands over BytesIO's own buffer (shrunk in place), not a copy.
    return out.getvalue()


def encode_chunks(
    valid: pd.DataFrame,
    fields: Mapping[str, str],
    *,
    list_ids_included: Sequence[int] | None = None,
    list_ids_excluded: Sequence[int] | None = None,
    chunk_size: int = MAX_CHUNK_SIZE,
    start: int = 0,
) -> Iterator[Chunk]:
    """Split a validated frame into import request bodies.

    Parameters
    ----------
    valid : pandas.DataFrame
        The ``.valid`` frame of a validation report: ``email`` then one typed
        column per merge tag, indexed by the caller's original labels.
    fields : mapping
        merge tag -> data_type (``"text"``, ``"integer"``, ``"float"``,
        ``"boolean"``, ``"date"``). Columns not listed are not sent.
    list_ids_included, list_ids_excluded : sequence of int, optional
        Lists every contact is added to / removed from.
    chunk_size : int
        Rows per body, 1..50,000.
    start : int
        Number of the first chunk (streams number chunks across frames).

    Yields
    ------
    Chunk
        One per ``chunk_size`` rows, lazily: only one body is built at a time.
        Missing values are left out of ``fields``.

    Raises
    ------
    InputError
        Bad ``chunk_size``, list ids, a missing email or an infinite float.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"email": ["a@x.io", "b@x.io"], "age": pd.array([41, None], "Int64")})
    >>> [c.body for c in encode_chunks(df, {"age": "integer"}, list_ids_included=[3])]
    [b'{"contacts":[{"email":"a@x.io","fields":{"age":41},"list_ids_included":[3]},\
{"email":"b@x.io","list_ids_included":[3]}]}']
    """
    size = check_chunk_size(chunk_size)
    included = list_ids_arg(list_ids_included, "list_ids")
    excluded = list_ids_arg(list_ids_excluded, "exclude_list_ids")
    overlap = sorted(set(included) & set(excluded))
    if overlap:
        raise InputError(f"list ids {overlap} are both included and excluded")
    suffix = _suffix(included, excluded).decode() + ","
    if not len(valid):
        return
    if "email" not in valid.columns:
        raise InputError("the frame has no 'email' column")
    # Each column is turned into Arrow once for the whole frame; chunks and the slices
    # inside them are zero-copy views of it (per chunk, the conversions cost as much again).
    emails = _as_arrow(valid["email"].astype("string[pyarrow]"))
    if emails.null_count:
        raise InputError("every row needs an email; validate the frame first")
    columns = [
        _column(orjson.dumps(tag).decode() + ":", data_type, _typed(valid[tag], data_type, tag))
        for tag, data_type in fields.items()
        if tag in valid.columns
    ]
    for number, begin in enumerate(range(0, len(valid), size), start=start):
        body = _body(
            emails.slice(begin, size),
            [col.slice(begin, size) for col in columns],
            suffix,
        )
        chunk = Chunk(
            number=number,
            index=valid.index[begin : begin + size],
            emails=valid["email"].iloc[begin : begin + size],
            body=body,
        )
        # Drop our references before building the next body: otherwise the previous
        # body stays alive next to the new one (the caller decides when it goes).
        del body
        yield chunk
        del chunk
