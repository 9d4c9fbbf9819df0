"""A pandas column as one Arrow array and back, its missing values, and its name's key.

The plumbing every value rule shares (:mod:`.coerce` for fields, :mod:`.emails` for the
email column): Arrow compute kernels for strings, NumPy masks for rows, and the one place
that sorts the values of a mixed object column by Python type.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from mailtrap_pandas.frames.dtypes import field_type

__all__ = [
    "INT64_MAX",
    "MISSING_TOKENS",
    "Mask",
    "as_mask",
    "as_strings",
    "bits",
    "column_key",
    "kinds_of",
    "missing_strings",
    "null_where",
    "to_arrow",
    "to_pandas",
]

Mask = npt.NDArray[np.bool_]

#: Strings that mean "no value" (compared after trimming, case-insensitively).
#: "NA" is deliberately absent: it is Namibia's country code and a common abbreviation.
MISSING_TOKENS: frozenset[str] = frozenset(
    {"", "nan", "none", "null", "<na>", "n/a", "#n/a", "nat"}
)

INT64_MAX = 2**63 - 1
# pyarrow < 16 has no string_view type at all, so nothing can be one there.
_is_string_view: Callable[[pa.DataType], bool] = getattr(
    pa.types, "is_string_view", lambda _t: False
)


def bits(buffer: pa.Buffer, offset: int, length: int) -> Mask:
    """``length`` bits of an Arrow bitmap from bit ``offset``, as a NumPy bool array."""
    if not length:
        return np.zeros(0, dtype=bool)
    unpacked = np.unpackbits(
        np.frombuffer(buffer, np.uint8), count=offset + length, bitorder="little"
    )
    return unpacked[offset:].view(np.bool_)


def as_mask(mask: Any) -> Mask:
    """An Arrow boolean array (nulls count as False) as a NumPy bool array."""
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    if not isinstance(mask, pa.BooleanArray):
        return np.asarray(pc.fill_null(mask, False).to_numpy(zero_copy_only=False), dtype=bool)
    # Straight from the bitmaps: ~15x faster than fill_null + to_numpy.
    validity, values = mask.buffers()
    out = bits(values, mask.offset, len(mask))
    if mask.null_count:
        out &= bits(validity, mask.offset, len(mask))
    return out


def null_where(arr: pa.Array, mask: Mask) -> pa.Array:
    """``arr`` with nulls where ``mask`` is True."""
    if not mask.any():
        return arr
    t = arr.type
    flat = pa.types.is_string(t) or pa.types.is_primitive(t)
    if arr.offset or not flat:
        return pc.if_else(pa.array(mask), pa.nulls(len(arr), t), arr)
    # A new validity bitmap over the same value buffers (no copy of the values, which an
    # if_else makes: ~25 ms per 1,000,000 strings); the values under a null are unused.
    keep = ~np.asarray(mask, dtype=bool)
    if arr.null_count:
        keep &= as_mask(pc.is_valid(arr))
    validity = pa.py_buffer(np.packbits(keep, bitorder="little"))
    return pa.Array.from_buffers(t, len(arr), [validity, *arr.buffers()[1:]])


def column_key(name: object) -> str:
    """The comparison key of a column name: case-folded, non-alphanumerics as one ``_``.

    Examples
    --------
    >>> column_key("First Name"), column_key("first-name "), column_key("FIRST_NAME")
    ('first_name', 'first_name', 'first_name')
    """
    return re.sub(r"[\W_]+", "_", str(name).casefold()).strip("_")


def as_strings(arr: pa.Array) -> pa.Array:
    """``arr`` as Arrow ``string`` (decimals as their exact digits)."""
    return arr if pa.types.is_string(arr.type) else pc.cast(arr, pa.string())


#: No value longer than this (bytes) can be a missing token: 4 characters of up to 4 bytes.
_TOKEN_BYTES = 4 * max(len(t) for t in MISSING_TOKENS)


def _token_starts() -> Mask:
    """First bytes of values that can lower-case to a token: the tokens' first characters
    in either case. (No character outside ASCII lower-cases to "n", "<" or "#":
    tests/unit/test_columns.py checks all of Unicode.)"""
    starts = np.zeros(256, dtype=bool)
    for token in MISSING_TOKENS:
        for c in token[:1] + token[:1].upper():
            starts[ord(c)] = True
    return starts


_TOKEN_START = _token_starts()


def _maybe_tokens(trimmed: pa.Array) -> npt.NDArray[np.intp]:
    """Positions of the values that could be a missing token: short, and empty or starting
    with a byte some token can start with (``"Company 7"`` cannot: it is never lower-cased).
    """
    n = len(trimmed)
    if not pa.types.is_string(trimmed.type):
        short = pc.less_equal(pc.binary_length(trimmed), _TOKEN_BYTES)
        return np.flatnonzero(as_mask(short))
    offsets = np.frombuffer(trimmed.buffers()[1], np.int32)[trimmed.offset : trimmed.offset + n + 1]
    lengths = np.diff(offsets)
    data = trimmed.buffers()[2]
    if data is None or not len(data):
        return np.flatnonzero(lengths <= _TOKEN_BYTES)
    raw = np.frombuffer(data, np.uint8)
    first = raw[np.minimum(offsets[:-1], len(raw) - 1)]  # an empty value reads its neighbour
    return np.flatnonzero((lengths <= _TOKEN_BYTES) & ((lengths == 0) | _TOKEN_START[first]))


def missing_strings(trimmed: pa.Array) -> Mask:
    """Which trimmed strings are null or one of :data:`MISSING_TOKENS`."""
    missing = as_mask(pc.is_null(trimmed))
    # Only a short value whose first byte may start a token can be one: lower-case and look
    # up those alone (looking up every short value cost ~35 ms per 1,000,000).
    short = _maybe_tokens(trimmed)
    if len(short):
        lowered = pc.utf8_lower(trimmed.take(pa.array(short)))
        missing[short] |= as_mask(pc.is_in(lowered, value_set=pa.array(MISSING_TOKENS)))
    return missing


def to_arrow(values: pd.Series) -> pa.Array | None:
    """The column as one Arrow array, or None when an object column mixes Python types.

    Missing values (NaN, None, NA, NaT) become nulls.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, OverflowError):
        return None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if (
        values.dtype == object
        and (pa.types.is_floating(arr.type) or pa.types.is_integer(arr.type))
        and any(isinstance(v, bool | np.bool_) for v in values)
    ):
        # Arrow reads True as 1.0 next to floats; a boolean is not a number here.
        return None
    if values.dtype == object and pa.types.is_timestamp(arr.type) and arr.type.tz is not None:
        # Arrow would move every value into the first value's time zone; dates are
        # judged in each value's own zone, so take the per-value path.
        return None
    if pa.types.is_large_string(arr.type) or _is_string_view(arr.type):
        arr = pc.cast(arr, pa.string())
    return arr


def to_pandas(values: pa.Array, data_type: str) -> pd.api.extensions.ExtensionArray:
    """An Arrow array of the type table as a pandas array of the table's dtype."""
    dtype = field_type(data_type).dtype
    if data_type in ("integer", "float", "boolean"):
        mask = as_mask(pc.is_null(values))
        filler = {"integer": 0, "float": 0.0, "boolean": False}[data_type]
        raw = pc.fill_null(values, filler).to_numpy(zero_copy_only=False)
        cls = {"integer": pd.arrays.IntegerArray, "float": pd.arrays.FloatingArray}.get(
            data_type, pd.arrays.BooleanArray
        )
        out: pd.api.extensions.ExtensionArray = cls(raw, mask)
        return out
    if data_type == "text":
        return pd.array(values, dtype=dtype)
    return pd.arrays.ArrowExtensionArray(values)


def _kind_of_type(t: type) -> str:
    """The Arrow-friendly group of the values of one Python type in a mixed column."""
    if t is type(None) or t is type(pd.NA) or t is type(pd.NaT):
        return "missing"
    if issubclass(t, bool | np.bool_):
        return "bool"
    if issubclass(t, int | np.integer):
        return "int"
    if issubclass(t, float | np.floating):
        return "float"  # NaN becomes a null, hence missing, on the way to Arrow
    if issubclass(t, str | decimal.Decimal):
        return "str"
    if issubclass(t, dt.datetime | np.datetime64):
        return "datetime"
    if issubclass(t, dt.date):
        return "date"
    return "other"


_type_of = np.frompyfunc(type, 1, 1)


def kinds_of(objects: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The kind of every value, classified once per distinct type (not once per value)."""
    types = _type_of(objects) if len(objects) else np.empty(0, object)
    codes, distinct = pd.factorize(types)
    kinds = np.array([_kind_of_type(t) for t in distinct] + ["other"], dtype=object)[codes]
    ints = np.flatnonzero(kinds == "int")
    if len(ints):
        try:
            pa.array(objects[ints], pa.int64())
        except (OverflowError, pa.ArrowInvalid):
            big = [not -(2**63) <= int(v) <= INT64_MAX for v in objects[ints]]
            kinds[ints[np.array(big, dtype=bool)]] = "bigint"
    return kinds
