"""Frame -> bulk import request bodies, vectorized; no network.

The input is the ``.valid`` frame of a validation report: an ``email`` column
and one typed column per custom field, named by its merge tag (the dtypes of
:data:`mailtrap_pandas.dtypes.TYPE_TABLE`). Each chunk of at most 50,000 rows
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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .errors import InputError

__all__ = ["MAX_CHUNK_SIZE", "Chunk", "check_chunk_size", "encode_chunks", "encode_rows"]

#: The API's limit of contacts per import request (FACTS.md §6).
MAX_CHUNK_SIZE = 50_000

_HEAD = b'{"contacts":['
_TAIL = b"]}"
# Any JSON control character forces the slow (exact, per value) escaping path.
_CONTROL = "[\x00-\x1f]"
_INTEGRAL = r"^-?[0-9]+$"


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
        Hex SHA-256 of ``body``: the chunk's identity in the journal.
    """

    number: int
    index: pd.Index
    emails: pd.Series
    body: bytes
    sha256: str

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


def _list_ids(ids: Sequence[int] | None, name: str) -> list[int]:
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
    out = b""
    if included:
        out += b',"list_ids_included":' + orjson.dumps(included)
    if excluded:
        out += b',"list_ids_excluded":' + orjson.dumps(excluded)
    return out + b"}"


def _as_arrow(series: pd.Series) -> pa.Array:
    arr = pa.array(series, from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr


def _json_strings(arr: pa.Array) -> pa.Array:
    """JSON string literals (with quotes) of a string array; nulls stay null."""
    arr = arr.cast(pa.large_string()) if pa.types.is_large_string(arr.type) else arr
    arr = arr.cast(pa.string())
    # Backslash first, then quotes: the usual two replacements cover almost every value.
    esc = pc.replace_substring(arr, "\\", "\\\\")
    esc = pc.replace_substring(esc, '"', '\\"')
    quoted = pc.binary_join_element_wise('"', esc, '"', "")
    ctrl = pc.match_substring_regex(arr, _CONTROL)
    if pc.any(ctrl).as_py():
        # Rare: control characters need \uXXXX escapes; let orjson do those values exactly.
        positions = np.flatnonzero(ctrl.fill_null(False).to_numpy(zero_copy_only=False))
        values = arr.take(pa.array(positions)).to_pylist()
        fixed = pa.array([orjson.dumps(v).decode() for v in values], pa.string())
        mask = np.zeros(len(arr), dtype=bool)
        mask[positions] = True
        quoted = pc.replace_with_mask(quoted, pa.array(mask), fixed)
    return quoted


def _json_values(series: pd.Series, data_type: str, tag: str) -> pa.Array:
    """JSON literals of one typed column; null where the value is missing."""
    if data_type == "text":
        return _json_strings(_as_arrow(series.astype("string[pyarrow]")))
    if data_type == "integer":
        return pc.cast(_as_arrow(series.astype("Int64")), pa.string())
    if data_type == "float":
        values = series.astype("Float64")
        raw = values.to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(raw).any():
            bad = values.index[np.isinf(raw)][0]
            raise InputError(f"row {bad!r}, column {tag!r}: infinity cannot be sent as JSON")
        # NaN is missing: never sent (JSON has no NaN, and it must not overwrite a value).
        arr = pa.array(raw, mask=np.isnan(raw))
        text = pc.cast(arr, pa.string())  # shortest round-trip digits
        # Arrow writes 1.0 as "1" and -0.0 as "-0"; keep them floats in JSON.
        integral = pc.match_substring_regex(text, _INTEGRAL)
        return pc.if_else(integral, pc.binary_join_element_wise(text, ".0", ""), text)
    if data_type == "boolean":
        return pc.if_else(_as_arrow(series.astype("boolean")), "true", "false")
    if data_type == "date":
        arr = _as_arrow(series)
        if not pa.types.is_date32(arr.type):
            arr = pc.cast(arr, pa.date32())
        return pc.binary_join_element_wise('"', pc.cast(arr, pa.string()), '"', "")
    raise InputError(f"column {tag!r}: unknown Mailtrap data_type {data_type!r}")


def encode_rows(
    valid: pd.DataFrame,
    fields: Mapping[str, str],
    *,
    list_ids_included: Sequence[int] | None = None,
    list_ids_excluded: Sequence[int] | None = None,
) -> pa.Array:
    """One JSON contact object per row, as an Arrow string array (no separators).

    Parameters
    ----------
    valid : pandas.DataFrame
        ``email`` plus one typed column per merge tag listed in ``fields``.
    fields : mapping
        merge tag -> Mailtrap data_type, for the columns to send.
    list_ids_included, list_ids_excluded : sequence of int, optional
        Lists every contact is added to / removed from.

    Returns
    -------
    pyarrow.Array
        Strings such as ``{"email":"a@x.io","fields":{"age":41}}``.
    """
    suffix = _suffix(
        _list_ids(list_ids_included, "list_ids"), _list_ids(list_ids_excluded, "exclude_list_ids")
    )
    if "email" not in valid.columns:
        raise InputError("the frame has no 'email' column")
    emails = _as_arrow(valid["email"].astype("string[pyarrow]"))
    if emails.null_count:
        raise InputError("every row needs an email; validate the frame first")
    # Each fragment carries its own leading comma, so joining with nulls as "" needs no
    # separator logic (and avoids null_handling="skip", which mis-sizes all-null inputs).
    fragments: list[pa.Array] = []
    for tag, data_type in fields.items():
        if tag not in valid.columns:
            continue
        values = _json_values(valid[tag], data_type, tag)
        fragments.append(
            pc.binary_join_element_wise("," + orjson.dumps(tag).decode() + ":", values, "")
        )
    head = pc.binary_join_element_wise('{"email":', _json_strings(emails), "")
    if not fragments:
        return pc.binary_join_element_wise(head, suffix.decode(), "")
    joined = pc.binary_join_element_wise(
        *fragments, "", null_handling="replace", null_replacement=""
    )
    del fragments
    inner = pc.utf8_slice_codeunits(joined, 1)  # drop the first fragment's comma
    with_fields = pc.binary_join_element_wise(head, ',"fields":{', inner, "}", "")
    # All fields missing: leave "fields" out instead of sending an empty object.
    body = pc.if_else(pc.equal(joined, ""), head, with_fields)
    return pc.binary_join_element_wise(body, suffix.decode(), "")


def _body(rows: pa.Array) -> bytes:
    """``{"contacts":[row,row,...]}`` copied once, straight from the Arrow buffers."""
    if len(rows) == 0:
        return _HEAD + _TAIL
    sep = pc.binary_join_element_wise(rows, ",", "")
    del rows
    offsets = np.frombuffer(sep.buffers()[1], dtype=np.int32)
    start = int(offsets[sep.offset])
    stop = int(offsets[sep.offset + len(sep)]) - 1  # drop the last separator
    data = memoryview(sep.buffers()[2])[start:stop]
    return b"".join((_HEAD, data, _TAIL))


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
    included = _list_ids(list_ids_included, "list_ids")
    excluded = _list_ids(list_ids_excluded, "exclude_list_ids")
    overlap = sorted(set(included) & set(excluded))
    if overlap:
        raise InputError(f"list ids {overlap} are both included and excluded")
    for number, begin in enumerate(range(0, len(valid), size), start=start):
        part = valid.iloc[begin : begin + size]
        rows = encode_rows(part, fields, list_ids_included=included, list_ids_excluded=excluded)
        body = _body(rows)
        del rows
        yield Chunk(
            number=number,
            index=part.index,
            emails=part["email"],
            body=body,
            sha256=hashlib.sha256(body).hexdigest(),
        )
