"""``dedupe="last"`` across a stream: know each email's last row before sending any.

Per frame, validation picks the winner of an email first and rejects the
email when that row fails (the older rows are superseded, never imported in
its place). Across frames the same rule needs to know the future: a source
that can be read twice (a path, a pyarrow table or dataset, a list of frames)
is read once ahead, email column only, to find each email's last row: every
email is held as a 64-bit hash (8 bytes per email) during the read-ahead, and a
row number only for the emails that occur more than once; only these are kept
after it (an email seen once is its own last row), so the import that follows
holds no per-row state for them. The import then sends a row only
if it is its email's last one; a later row that fails validation keeps every
earlier row of its email out.

A one-shot iterator (a generator, ``read_csv(chunksize=...)``) cannot be read
twice; it keeps the older behaviour: a later repeat is sent in a later job once
the earlier one finished, and a later row that fails cannot recall an earlier
row already sent (the README says so).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mailtrap_pandas.frames.emails import normalize_emails
from mailtrap_pandas.frames.schema import normalize_fields
from mailtrap_pandas.frames.validate import match_columns
from mailtrap_pandas.jobs.imports.seen import SeenEmails, SeenKeys, email_hashes

__all__ = ["Superseded", "can_reread", "last_rows"]


def can_reread(source: object) -> bool:
    """Can ``source`` be opened a second time and give the same rows in the same order?"""
    if isinstance(source, str | os.PathLike | pa.Table | pd.DataFrame):
        return True
    try:
        import pyarrow.dataset as ds

        if isinstance(source, ds.Dataset):
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(source, Iterable) and iter(source) is not source


def last_rows(
    frames: Iterator[pd.DataFrame],
    specs: Sequence[Mapping[str, Any]],
    columns: Mapping[Any, str | None] | None,
) -> SeenEmails:
    """email hash -> stream position of the last row whose email is valid, for the emails
    that occur more than once (:meth:`Superseded.drop` keeps a row whose email has no entry).

    While reading, every email's hash is held (8 bytes per email, :class:`SeenKeys`), and
    a position only for the emails met again. Every email's hash and last position, kept
    for the whole import, were the largest state that grew with its rows (import_slope).
    """
    fields = normalize_fields(specs)
    seen = SeenKeys()
    repeated = SeenEmails()  # few, unless the source repeats; newer positions win
    position = 0
    for frame in frames:
        mapping, _ = match_columns(list(frame.columns), fields, columns)
        email = [c for c, tag in mapping.items() if tag == "email"]
        if email:
            normalized = normalize_emails(frame[email[0]]).normalized
            ok = np.flatnonzero(np.asarray(normalized.is_valid().to_numpy(zero_copy_only=False)))
            if len(ok):
                emails = pd.Series(normalized.take(pa.array(ok)).to_pylist(), dtype=object)
                keys = email_hashes(emails)
                # Sorted stably, so the last of equal keys is the frame's last row of them.
                order = np.argsort(keys, kind="stable")
                keys, at = keys[order], (position + ok[order]).astype(np.int64)
                same_next = keys[1:] == keys[:-1]
                first = np.append(True, ~same_next)
                last = np.append(~same_next, True)
                known = seen.contains(keys)
                # The last row of each key met before, or more than once in this frame.
                again = last & (known | ~first)
                repeated.insert(keys[again], at[again])
                seen.add(keys[first & ~known])
        position += len(frame)
    return repeated


@dataclass
class Superseded:
    """Rows of a stream dropped because a later row has the same email (``dedupe="last"``)."""

    last: SeenEmails
    position: int = 0
    _rows: list[pd.DataFrame] = field(default_factory=list)
    _winner_labels: dict[int, Any] = field(default_factory=dict)
    _settled: bool = False

    def drop(self, frame: pd.DataFrame, valid: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``valid`` (a part of ``frame``) that are their email's last row.

        Must see every frame of the stream, in order, exactly once.
        """
        start, self.position = self.position, self.position + len(frame)
        # Labels of winners met in this frame (asked for by rows of earlier frames).
        for pos in [p for p, label in self._winner_labels.items() if label is _PENDING]:
            if start <= pos < self.position:
                self._winner_labels[pos] = frame.index[pos - start]
        if valid.empty:
            return valid
        here = start + frame.index.get_indexer(valid.index)
        found, winner = self.last.lookup(email_hashes(valid["email"]))
        later = found & (winner != here)
        if not later.any():
            return valid
        frame_end = self.position
        labels = [
            frame.index[w - start] if w < frame_end else self._ask(int(w)) for w in winner[later]
        ]
        self._rows.append(
            pd.DataFrame(
                {
                    "row": valid.index[later],
                    "email": valid["email"][later].to_numpy(),
                    "kept_row": pd.Series(labels, dtype=object).to_numpy(),
                    "_winner": winner[later],
                }
            )
        )
        kept: pd.DataFrame = valid[~later]
        return kept

    def settle(self, duplicates: list[pd.DataFrame]) -> list[pd.DataFrame]:
        """``duplicates`` with the superseded rows added (once) and every ``kept_row`` final.

        A row a frame kept over its repeats may itself be superseded by a later frame:
        its repeats then name the row that won in the end.
        """
        later = self.frame()
        if self._settled or not len(later):
            return duplicates
        self._settled = True
        final = dict(zip(later["row"], later["kept_row"], strict=True))
        fixed = [d.assign(kept_row=[final.get(k, k) for k in d["kept_row"]]) for d in duplicates]
        return [*fixed, later]

    def _ask(self, position: int) -> object:
        self._winner_labels.setdefault(position, _PENDING)
        return _PENDING

    def frame(self) -> pd.DataFrame:
        """``row``, ``email``, ``kept_row`` of every superseded row."""
        if not self._rows:
            return pd.DataFrame({"row": [], "email": [], "kept_row": []})
        out = pd.concat(self._rows, ignore_index=True)
        pending = np.array([k is _PENDING for k in out["kept_row"]], dtype=bool)
        if pending.any():
            out.loc[pending, "kept_row"] = [
                self._winner_labels.get(int(w)) for w in out.loc[pending, "_winner"]
            ]
        return out.drop(columns="_winner")


class _Pending:
    def __repr__(self) -> str:
        return "<pending>"


_PENDING: Any = _Pending()
