"""A compact memory of the emails a streamed import has seen, for dedupe across frames.

A dict of 5,000,000 email strings costs about a gigabyte; this keeps a 64-bit
hash and a 64-bit value per email (16 bytes) in a few sorted NumPy runs,
merged log-structured style so that inserting stays cheap. Two different
emails share a hash with probability about n^2 / 2^65 (7e-7 for 5 million),
which would make one of them look like a repeat; that is the price of bounded
memory, and it is stated in the README.
"""

from __future__ import annotations

import mmap
from collections.abc import Hashable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from mailtrap_pandas.frames.emails import email_key

__all__ = ["SeenEmails", "SeenKeys", "email_hashes"]

Keys = npt.NDArray[np.uint64]
#: Largest run a merge makes (entries of 16 bytes): see :meth:`SeenEmails.insert`.
MAX_RUN = 1 << 20
Values = npt.NDArray[np.int64]
#: NumPy's stable sort. A name, not the word at the call: NumPy reads the kind by its first
#: letter in any case, so "STABLE" there would be a mutant no test could tell apart.
_STABLE: Final = "stable"


def email_hashes(emails: pd.Series | pd.Index | Sequence[str], hash_key: str | None = None) -> Keys:
    """Stable 64-bit hashes of emails, compared case-insensitively.

    ``hash_key`` (16 characters) keys the hash: what an incremental sync keeps in its
    store, so the file alone does not reveal whether an address is in it.

    Examples
    --------
    >>> a, b = email_hashes(["Ann@Example.com", "ann@example.COM"])
    >>> bool(a == b)
    True
    """
    keys = email_key(pd.Series(emails)).fillna("").to_numpy()  # strings: an object array
    # Emails are mostly distinct: factorizing first (categorize) would only cost time. The
    # hashes are the same either way, so that argument is not mutated.
    if hash_key is None:
        return pd.util.hash_array(
            keys,
            categorize=False,  # pragma: no mutate
        )
    return pd.util.hash_array(
        keys,
        hash_key=hash_key,
        categorize=False,  # pragma: no mutate
    )


class SeenEmails:
    """email hash -> an int64 value (a row label or a chunk number); newer inserts win."""

    def __init__(self) -> None:
        self._runs: list[tuple[Keys, Values]] = []
        self._labels: list[Hashable] = []  # labels that are not small non-negative ints

    def __len__(self) -> int:
        # Older runs may still hold keys a newer run replaced: count distinct keys.
        if not self._runs:
            return 0
        return int(np.unique(np.concatenate([keys for keys, _ in self._runs])).size)

    def lookup(self, keys: Keys) -> tuple[npt.NDArray[np.bool_], Values]:
        """For each key: whether it was seen, and its latest value (0 where not seen)."""
        found = np.zeros(len(keys), dtype=bool)
        values = np.zeros(len(keys), dtype=np.int64)
        # Newest first: it wins. (No run is empty: insert() skips an empty batch.)
        for run_keys, run_values in reversed(self._runs):
            pos = np.searchsorted(run_keys, keys)
            pos[pos == len(run_keys)] = 0
            hit = (run_keys[pos] == keys) & ~found
            values[hit] = run_values[pos[hit]]
            found |= hit
        return found, values

    def insert(self, keys: Keys, values: Values) -> None:
        """Remember ``keys`` with ``values`` (replacing older values of the same keys)."""
        if not len(keys):
            return
        order = np.argsort(keys, kind=_STABLE)
        self._runs.append(_last_of_each(keys[order], values[order]))
        # Merge while the newest run is at least half the size of the one before it:
        # O(log n) runs to search, and each email is copied O(log n) times in all. Runs stop
        # growing at MAX_RUN entries, so a merge's transient (its output, 16 bytes per entry,
        # and a mask) stays a constant instead of growing with the stream, and memory grows
        # by the 16 bytes per email alone; past MAX_RUN, a lookup searches one more sorted
        # run per MAX_RUN emails.
        while (
            len(self._runs) > 1
            and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0])
            and len(self._runs[-1][0]) + len(self._runs[-2][0]) <= MAX_RUN
        ):
            new = self._runs.pop()
            self._runs.append(_merge(self._runs.pop(), new))

    def encode_labels(self, labels: pd.Index) -> Values:
        """Row labels as int64 values: small non-negative ints as themselves, others by slot."""
        if pd.api.types.is_integer_dtype(labels.dtype) and (len(labels) == 0 or labels.min() >= 0):
            return np.asarray(labels, dtype=np.int64)
        start = len(self._labels)
        self._labels.extend(labels)
        # NumPy's default integer is int64 on 64-bit Linux and macOS (and everywhere from
        # NumPy 2 on): no test here can tell the dtype's mutants apart; it stays for the rest.
        slots = np.arange(
            start,
            start + len(labels),
            dtype=np.int64,  # pragma: no mutate
        )
        return -1 - slots

    def decode_labels(self, values: Values) -> list[Any]:
        """The row labels behind values made by :meth:`encode_labels`."""
        return [int(v) if v >= 0 else self._labels[-1 - int(v)] for v in values]


class SeenKeys:
    """A set of email hashes, 8 bytes each: :class:`SeenEmails` without values.

    For ``dedupe="last"``'s read-ahead (:func:`~.supersede.last_rows`), which needs to know
    whether an email came before, and a position only for the few that repeat.
    """

    def __init__(self) -> None:
        self._runs: list[Keys] = []

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def contains(self, keys: Keys) -> npt.NDArray[np.bool_]:
        """For each key: whether it was added."""
        found = np.zeros(len(keys), dtype=bool)
        for run in self._runs:
            pos = np.searchsorted(run, keys)
            pos[pos == len(run)] = 0
            found |= run[pos] == keys
        return found

    def add(self, keys: Keys) -> None:
        """Add ``keys``: distinct, and none of them added before (see :meth:`contains`)."""
        if not len(keys):
            return
        self._runs.append(_stored(np.sort(keys)))
        # Merged as SeenEmails's runs (see SeenEmails.insert): O(log n) runs, none past
        # MAX_RUN entries, so a merge's transient stays a constant.
        while (
            len(self._runs) > 1
            and 2 * len(self._runs[-1]) >= len(self._runs[-2])
            and len(self._runs[-1]) + len(self._runs[-2]) <= MAX_RUN
        ):
            new = self._runs.pop()
            self._runs.append(_union(self._runs.pop(), new))


def _union(old: Keys, new: Keys) -> Keys:
    """Two sorted runs with no key in common, as one (written by position, as :func:`_merge`)."""
    slots = np.searchsorted(old, new) + np.arange(len(new))
    from_old = np.ones(len(old) + len(new), dtype=bool)
    # (pragma: None written into a bool array is False too)
    from_old[slots] = False  # pragma: no mutate
    out = _empty(len(from_old), old.dtype)
    out[from_old] = old
    out[slots] = new
    return out


def _last_of_each(keys: Keys, values: Values) -> tuple[Keys, Values]:
    """Of sorted keys, keep one entry per key: the last (newest) of each run of equals."""
    if len(keys) >= 2:
        keep = np.append(keys[1:] != keys[:-1], True)
        keys, values = keys[keep], values[keep]
    return _stored(keys), _stored(values)


def _merge(old: tuple[Keys, Values], new: tuple[Keys, Values]) -> tuple[Keys, Values]:
    """Two sorted runs of distinct keys as one; ``new``'s value wins for a key in both.

    Written straight into the output by position (no concatenation and argsort of both
    runs, which needed ~4.5x the entries at once): the new keys' places in the output
    come from ``searchsorted``, the old keys fill the rest in order.
    """
    old_keys, old_values = old
    new_keys, new_values = new
    pos = np.searchsorted(old_keys, new_keys)
    at = np.minimum(pos, len(old_keys) - 1)
    hit = old_keys[at] == new_keys
    if hit.any():
        # Runs are our own writable arrays (copies or _empty's); the old run is dropped
        # after this merge.
        old_values[at[hit]] = new_values[hit]
    fresh = ~hit
    slots = pos[fresh] + np.arange(int(fresh.sum()))
    n = len(old_keys) + len(slots)
    from_old = np.zeros(n, dtype=bool)
    from_old[slots] = True  # the new keys' places, then the rest: inverted in place
    np.logical_not(from_old, out=from_old)
    keys = _empty(n, old_keys.dtype)
    keys[from_old] = old_keys
    keys[slots] = new_keys[fresh]
    values = _empty(n, old_values.dtype)
    values[from_old] = old_values
    values[slots] = new_values[fresh]
    return keys, values


#: Arrays from this size on get a memory mapping of their own (see :func:`_empty`).
_MAPPED_FROM = 1 << 18


def _empty(n: int, dtype: np.dtype[Any]) -> npt.NDArray[Any]:
    """An uninitialised array for a run, in its own anonymous memory mapping when large.

    Runs live for the whole stream while the per-frame work (pandas, hashing) allocates
    and frees blocks of a few megabytes around them. From the malloc heap (where glibc
    puts blocks below its dynamic mmap threshold, which rises to 32 MB once pandas frees
    such a block), a long-lived run on top of freed blocks keeps them from being returned
    to the system: measured, 14 bytes of RSS per row of a 4,000,000-row stream on top of
    the 16 the hashes need. A mapping of its own is given back whole when the run is
    merged away.
    """
    nbytes = n * dtype.itemsize
    if not nbytes or nbytes < _MAPPED_FROM:
        return np.empty(n, dtype=dtype)
    out: npt.NDArray[Any] = np.frombuffer(mmap.mmap(-1, nbytes), dtype=dtype)  # n of them
    return out


def _stored(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """``array`` as a run keeps it (:func:`_empty`)."""
    if array.nbytes < _MAPPED_FROM:
        return array
    out = _empty(len(array), array.dtype)
    out[:] = array
    return out
