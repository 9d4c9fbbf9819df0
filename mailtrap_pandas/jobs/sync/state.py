"""What an incremental sync remembers: a 64-bit content hash per email (and a raw-row hash).

A row's *content hash* covers its typed values (by merge tag, in a fixed order, missing values
a missing number left out, a missing text a fixed marker) and the list ids the sync adds it
to or takes it off. The email is hashed with the store's key (:class:`~.store.SyncStore`), so
the file never holds an address. Two rows hash the same only when their import bodies would
carry the same contact, up to a 2^-63 chance per row.

In memory the confirmed state is three ``uint64`` arrays sorted by email hash (email hash,
content hash, raw-row hash of :mod:`.raw`): 24 bytes per email. The lowest bit of a content
hash is always 0 on disk; in memory it marks the emails this run's source held, so the
emails that disappeared from the source cost nothing more to find.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["SyncState", "content_hashes"]

Hashes = npt.NDArray[np.uint64]
_SEEN = np.uint64(1)
_PRIME = np.uint64(0x100000001B3)  # FNV-1a's 64-bit prime: spreads each column's bits


def _text_hash(text: str) -> np.uint64:
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


def _numbers(column: pd.Series) -> tuple[Hashes, npt.NDArray[np.bool_]] | None:
    """(64-bit hash, present) of a number, boolean or date column; ``None`` for text."""
    arr = pa.array(column)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    kind = arr.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return None
    present = arr.is_valid().to_numpy(zero_copy_only=False)
    if pa.types.is_floating(kind):
        bits = arr.cast(pa.float64()).fill_null(0.0).to_numpy().view(np.uint64)
    elif pa.types.is_date32(kind):
        bits = arr.view(pa.int32()).fill_null(0).to_numpy().astype(np.uint64)
    elif pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        bits = arr.cast(pa.int64()).fill_null(0).to_numpy().view(np.uint64)
    else:  # not a type-table dtype: pandas hashes it, whatever it is
        bits = pd.util.hash_pandas_object(column, index=False).to_numpy(dtype=np.uint64)
    return pd.util.hash_array(bits), present


def content_hashes(
    valid: pd.DataFrame, include: Sequence[int] = (), exclude: Sequence[int] = ()
) -> Hashes:
    """One hash per row of a validated frame: its values and the sync's list ids.

    Parameters
    ----------
    valid : DataFrame
        The ``valid`` frame of a validation report (``email`` and typed field columns).
    include, exclude : sequence of int
        The lists the rows are added to / taken off.

    Notes
    -----
    Numbers, booleans and dates are hashed from their bits, vectorized. The text columns are
    joined into one string per row (Arrow, missing values as ``"\\x00"``) and hashed at once:
    turning strings into Python objects is the cost, so it is paid once per row, not once per
    text column.

    Examples
    --------
    >>> a = pd.DataFrame({"email": ["a@x.io"], "age": pd.array([41], dtype="Int64")})
    >>> b = a.assign(age=pd.array([42], dtype="Int64"))
    >>> bool(content_hashes(a)[0] == content_hashes(a.copy())[0])
    True
    >>> bool(content_hashes(a)[0] == content_hashes(b)[0])
    False
    >>> bool(content_hashes(a)[0] == content_hashes(a, include=[3])[0])
    False
    """
    tags = sorted(str(c) for c in valid.columns if c != "email")
    lists = repr((sorted({int(i) for i in include}), sorted({int(i) for i in exclude})))
    out = np.full(len(valid), _text_hash(lists), dtype=np.uint64)
    texts: list[str] = []
    for tag in tags:
        hashed = _numbers(valid[tag])
        if hashed is None:
            texts.append(tag)
            continue
        values, present = hashed
        mixed = (out ^ (values + _text_hash(tag))) * _PRIME  # wraps around: wanted
        # A missing value is not sent (the stored one survives): it must not change the hash.
        out = np.where(present, mixed, out)
    if texts:
        arrays = [pa.array(valid[t], type=pa.large_string()) for t in texts]
        joined = (
            pc.binary_join_element_wise(
                *arrays,
                pa.scalar("\x1f", pa.large_string()),
                null_handling="replace",
                null_replacement="\x00",
            )
            if len(arrays) > 1
            else pc.fill_null(arrays[0], "\x00")
        )
        if isinstance(joined, pa.ChunkedArray):
            joined = joined.combine_chunks()
        strings = joined.to_numpy(zero_copy_only=False)
        text_hash = pd.util.hash_array(strings, categorize=False)
        out = (out ^ (text_hash + _text_hash("\x1f".join(texts)))) * _PRIME
    # Final avalanche, then the lowest bit is left for SyncState's "seen" mark.
    return pd.util.hash_array(out) & ~_SEEN


class SyncState:
    """The confirmed content hash of each email, and which emails this run's source held.

    Parameters
    ----------
    keys : ndarray of uint64
        Keyed email hashes, sorted.
    contents : ndarray of uint64
        Their content hashes (lowest bit 0).
    raws : ndarray of uint64, optional
        Their raw-row hashes (0: unknown).
    """

    def __init__(self, keys: Hashes, contents: Hashes, raws: Hashes | None = None) -> None:
        self.keys = keys
        self.contents = contents
        #: Raw-row hashes (:mod:`.raw`), 0 where unknown.
        self.raws = np.zeros(len(keys), dtype=np.uint64) if raws is None else raws

    def __len__(self) -> int:
        return len(self.keys)

    def compare(
        self, keys: Hashes, contents: Hashes
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """For each row: does the state hold exactly this content, and was the email seen
        earlier in this run (a repeat across the frames of a stream)? Marks the emails seen.
        """
        if not len(self.keys):
            none = np.zeros(len(keys), dtype=bool)
            return none, none.copy()
        pos, hit = self._find(keys)
        stored = self.contents[pos]
        same = hit & ((stored & ~_SEEN) == contents)
        repeat = hit & ((stored & _SEEN) != 0)
        self.contents[pos[hit]] |= _SEEN
        return same, repeat

    def same_raw(self, keys: Hashes, raws: Hashes) -> npt.NDArray[np.bool_]:
        """For each row: the state holds exactly this raw row for its email, and no row of
        this run claimed the email yet. Those rows are unchanged; they are marked seen.

        A row repeating an email within ``keys``, or an email seen earlier in the run, is
        never "same": the full path (validation, dedupe) decides what happens to it.
        """
        if not len(self.keys):
            return np.zeros(len(keys), dtype=bool)
        pos, found = self._find(keys)
        # An email on several rows of the frame (whatever their values): leave all of them
        # to validation's dedupe. Only emails the state holds can be "same", so counting
        # those is enough.
        counts = np.bincount(pos[found], minlength=len(self.keys))
        same = found & (counts[pos] == 1) & (self.raws[pos] == raws) & (raws != 0)  # 0: unknown
        same &= (self.contents[pos] & _SEEN) == 0
        self.contents[pos[same]] |= _SEEN
        out: npt.NDArray[np.bool_] = same
        return out

    def raws_of(self, keys: Hashes) -> Hashes:
        """The stored raw-row hash of each email (0 where unknown or absent)."""
        if not len(self.keys):
            return np.zeros(len(keys), dtype=np.uint64)
        pos, hit = self._find(keys)
        out: Hashes = np.where(hit, self.raws[pos], np.uint64(0))
        return out

    def mark_seen(self, keys: Hashes) -> None:
        """These emails are in the source (whatever their content)."""
        if not len(self.keys):
            return
        pos, hit = self._find(keys)
        self.contents[pos[hit]] |= _SEEN

    def _find(self, keys: Hashes) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
        """Position of each key in the state, and whether it is there."""
        # Sorted needles walk the sorted state in order: several times faster than random.
        order = np.argsort(keys)
        pos = np.empty(len(keys), dtype=np.intp)
        pos[order] = np.searchsorted(self.keys, keys[order])
        pos[pos == len(self.keys)] = 0
        return pos, self.keys[pos] == keys

    def unseen(self) -> Hashes:
        """Email hashes of the state that this run's source did not hold."""
        out: Hashes = self.keys[(self.contents & _SEEN) == 0]
        return out
