"""The raw-row hash of an incremental sync: unchanged input rows skip validation.

Validating a row costs more than anything else a sync does with it, and on a nightly sync
99 % of the rows are exactly the rows of last night. So each input row also gets a 64-bit
hash of its *raw* values, as given (column names and dtypes included), before any
validation, and the state keeps it next to the content hash of the values sent
(:mod:`.state`). A row whose raw hash equals the one stored for its email was confirmed
before exactly as it is now: it is unchanged, and it is neither validated nor encoded.

Why that is safe: validation is a function of the raw row, the field definitions and the
validation options. All of these are in the hash (:func:`fingerprint`), so a raw hash that
matches means the row would validate to the very values the account was confirmed to hold.
A raw hash is stored only where the content hash it maps to is confirmed (a finished job,
or a comparison with the state or an export), and it is forgotten with it.

Rules that keep it exact (:meth:`SyncPlanner.plan`): rows whose raw hash is unknown or
differs take the full path (validate -> compare content -> encode); a change of the fields,
of the column map, of a column's dtype, of the validation options or of the list ids
changes every raw hash, so every row takes the full path once; reconciling compares every
row with the export (no raw shortcut); a row whose email occurs in another row of the
frame, or was seen earlier in the stream, takes the full path so that dedupe decides.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mailtrap_pandas.jobs.imports.seen import email_hashes

__all__ = ["RawRows", "fingerprint", "raw_hashes"]

Hashes = npt.NDArray[np.uint64]
#: Bump when what is hashed changes: every stored raw hash then misses once.
_VERSION = "raw-rows 1"
_PRIME = np.uint64(0x100000001B3)
_NULL = np.uint64(0x9E3779B97F4A7C15)  # a missing value: never equal to a value's hash
_UNKNOWN = np.uint64(0)


def _text_hash(text: str) -> np.uint64:
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def fingerprint(
    specs: Sequence[Mapping[str, Any]],
    mapping: Mapping[Any, str],
    dtypes: Sequence[str],
    options: Mapping[str, Any],
    include: Sequence[int] | None,
    exclude: Sequence[int] | None,
) -> np.uint64:
    """One 64-bit value for everything besides the row that decides what a row sends.

    The account's field definitions, the frame column -> merge tag map, each mapped
    column's dtype, the validation options and the list ids: when any of them changes,
    every raw hash changes, and every row is validated again.
    """
    fields = sorted(
        (str(f.get("merge_tag")), str(f.get("data_type")), str(f.get("name"))) for f in specs
    )
    parts = [
        _VERSION,
        repr(fields),
        repr([(repr(c), t, d) for (c, t), d in zip(mapping.items(), dtypes, strict=True)]),
        repr(sorted((k, repr(v)) for k, v in options.items())),
        repr(sorted(int(i) for i in include or ())),
        repr(sorted(int(i) for i in exclude or ())),
    ]
    return _text_hash("\x1e".join(parts))


def _strings(values: npt.NDArray[Any]) -> Hashes:
    """Hash an object column of str (and missing values): each string's bytes."""
    out: Hashes = pd.util.hash_array(values, categorize=False)
    # pandas hashes None like "None", NaN like "nan", NA like "<NA>": only where a hash is
    # one of those can a value be missing, so only those few are checked (no full isna).
    maybe = np.flatnonzero(np.isin(out, _null_like()))
    if len(maybe):
        out[maybe[np.asarray(pd.isna(values[maybe]), dtype=bool)]] = _NULL
    return out


@functools.cache
def _null_like() -> Hashes:
    """What pandas hashes each kind of missing value (None, NaN, NA, NaT) to."""
    kinds = [None, np.nan, pd.NA, pd.NaT]
    return np.array(
        [pd.util.hash_array(np.array([k], dtype=object), categorize=False)[0] for k in kinds],
        dtype=np.uint64,
    )


def _objects(values: npt.NDArray[Any]) -> Hashes:
    """Hash an object column exactly: equal hashes only for equal values of one type."""
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind == "string":  # str only, besides missing values
        return _strings(values)
    missing = np.asarray(pd.isna(values), dtype=bool)
    if kind == "boolean":
        bits = np.where(missing, False, values).astype(bool).astype(np.uint64) + np.uint64(1)
        out: Hashes = pd.util.hash_array(bits)
    elif kind == "empty":
        out = np.zeros(len(values), dtype=np.uint64)
    else:
        # Mixed or unusual values: the type's name and the repr tell 1, 1.0, "1", True apart.
        shown = np.array(
            [f"{type(v).__module__}.{type(v).__qualname__}:{v!r}" for v in values], dtype=object
        )
        out = pd.util.hash_array(shown, categorize=False)
    final: Hashes = np.where(missing, _NULL, out)
    return final


def _column(series: pd.Series) -> Hashes:
    """One 64-bit hash per value of one raw column; missing values all hash to one value."""
    dtype = series.dtype
    exact = (isinstance(dtype, np.dtype) and dtype.kind in "biufmM") or isinstance(
        dtype, pd.StringDtype | pd.DatetimeTZDtype | pd.BooleanDtype
    )
    exact = exact or isinstance(series.array, pd.arrays.IntegerArray | pd.arrays.FloatingArray)
    if not exact:  # object, categorical, Arrow and other dtypes: by the Python values
        return _objects(series.to_numpy(dtype=object))
    hashed = pd.util.hash_pandas_object(series, index=False, categorize=False)
    # A missing value gets its own hash, whatever pandas gives it.
    final: Hashes = np.where(series.isna().to_numpy(dtype=bool), _NULL, hashed.to_numpy())
    return final


class RawRows:
    """The raw hash and the email hash of each row of one input frame.

    Parameters
    ----------
    frame : DataFrame
        The input frame, as given.
    mapping : dict
        Frame column -> merge tag (or ``"email"``), as validation matches them.
    seed : numpy.uint64
        :func:`fingerprint` of the fields, map, dtypes, options and list ids.
    hash_key : str
        The store's key for email hashes.
    """

    def __init__(
        self, frame: pd.DataFrame, mapping: Mapping[Any, str], seed: np.uint64, hash_key: str
    ) -> None:
        self.index = frame.index
        email_col = next(c for c, t in mapping.items() if t == "email")
        #: Keyed hash of each row's email key (as the state keeps it; valid emails only).
        self.keys = email_hashes(frame[email_col], hash_key)
        #: The row's raw hash: never 0 (0 is "unknown" in the state).
        self.raws = raw_hashes(frame, list(mapping), seed, self.keys)

    def at(self, labels: pd.Index) -> Hashes:
        """Raw hashes of the rows with these labels (0 for a label not in the frame)."""
        pos = self.index.get_indexer(labels)
        out: Hashes = np.where(pos < 0, _UNKNOWN, self.raws[pos])
        return out


def raw_hashes(
    frame: pd.DataFrame, columns: Sequence[Any], seed: np.uint64, keys: Hashes
) -> Hashes:
    """Hash each row's raw values in ``columns`` (in that order) with ``seed`` and ``keys``.

    ``keys`` are the keyed email hashes: without the store's key the hash of a row cannot
    be computed, so the file does not tell whether it holds a given row.

    Examples
    --------
    >>> df = pd.DataFrame({"email": ["a@x.io", "b@x.io"], "age": ["41", "41"]})
    >>> keys = np.array([1, 1], dtype=np.uint64)
    >>> cols = ["email", "age"]
    >>> h = raw_hashes(df, cols, np.uint64(7), keys)
    >>> bool(h[0] != h[1]), bool((h == raw_hashes(df.copy(), cols, np.uint64(7), keys)).all())
    (True, True)
    >>> bool((h != raw_hashes(df, cols, np.uint64(8), keys)).all())
    True
    """
    out = np.full(len(frame), seed, dtype=np.uint64)
    for i, col in enumerate(columns):
        tag = _text_hash(f"{i}\x1f{col!r}")
        out = (out ^ (_column(frame[col]) + tag)) * _PRIME  # wraps around: wanted
    out = (out ^ keys) * _PRIME
    final: Hashes = pd.util.hash_array(out) | np.uint64(1)
    return final
