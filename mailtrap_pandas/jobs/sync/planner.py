"""The import planner of a sync: rows the account already holds are left out before encoding.

:class:`SyncPlanner` is the import's :class:`~mailtrap_pandas.jobs.imports.planner.Planner`
(validate -> dedupe -> encode, unchanged) with one more step, :meth:`SyncPlanner.select`,
between the dedupe and the encoder. It hashes each valid row (:mod:`.state`) and keeps only
the rows whose hash differs from the confirmed state, or, when reconciling, the rows whose
values differ from one export of the account (:func:`~..snapshot.compare_rows`, as plans do).
The same submitter sends them; when a job finishes, :meth:`SyncPlanner.confirm` writes the
hashes of its rows, and only then.

Before all that, :meth:`SyncPlanner.plan` hashes each *raw* input row (:mod:`.raw`) and
leaves out, unvalidated, the rows whose raw hash is the one stored for their email: the
rows of last night, exactly. Only the others are validated, compared and encoded. The raw
hash of every row whose content is confirmed (sent and finished, or found unchanged) is
written with it, so tomorrow those rows skip validation too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.encode import Chunk
from mailtrap_pandas.frames.schema import normalize_fields
from mailtrap_pandas.frames.validate import match_columns
from mailtrap_pandas.jobs.imports.job import Job
from mailtrap_pandas.jobs.imports.planner import Planner
from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.snapshot import compare_rows
from mailtrap_pandas.jobs.store import SyncStore
from mailtrap_pandas.jobs.sync.raw import RawRows, fingerprint
from mailtrap_pandas.jobs.sync.state import Hashes, SyncState, content_hashes

__all__ = ["SyncPlanner"]

_EMPTY = np.array([], dtype=np.uint64)


@dataclass(eq=False)
class SyncPlanner(Planner):
    """A planner that sends only the rows whose values the account does not hold yet."""

    store: SyncStore | None = None
    state: SyncState = field(default_factory=lambda: SyncState(_EMPTY, _EMPTY))
    #: An export indexed by email key (:func:`~..snapshot.index_snapshot`) when reconciling.
    snapshot: pd.DataFrame | None = None
    #: Labels of the rows left out, one Index per frame.
    unchanged: list[pd.Index] = field(default_factory=list)
    #: chunk number -> (email hashes, content hashes, raw hashes) of the rows sent, sorted
    #: by email hash.
    pending: dict[int, tuple[Hashes, Hashes, Hashes]] = field(default_factory=dict)
    _selected: tuple[Hashes, Hashes, Hashes] = (_EMPTY, _EMPTY, _EMPTY)
    _rejects_seen: int = 0
    #: Raw-row hashes of the frame being planned; None: unknown (no shortcut, none stored).
    _rows: RawRows | None = None

    @property
    def _store(self) -> SyncStore:
        assert self.store is not None, "SyncPlanner needs a store"
        return self.store

    def plan(self, frame: pd.DataFrame) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """As :meth:`Planner.plan`, for the rows whose raw values changed; remembers the
        hashes each chunk carries.
        """
        self._rows = self._raw_rows(frame)
        # Reconciling compares every row with the export: no shortcut by the state then.
        # dedupe "first"/"error" across a stream need every row's email: no shortcut either.
        shortcut = self.snapshot is None and (not self.stream or self.dedupe == "last")
        if self._rows is not None and shortcut:
            same = self.state.same_raw(self._rows.keys, self._rows.raws)
            if same.any():
                self.unchanged.append(frame.index[same])
                self.progress.skipped(int(same.sum()))
                frame = frame[~same]
        for chunk, valid in super().plan(frame):
            self.pending[chunk.number] = self._selected
            yield chunk, valid

    def _raw_rows(self, frame: pd.DataFrame) -> RawRows | None:
        """The raw hash of each row, or None when validation will refuse the frame itself."""
        kw = self.validate_kw
        columns = frame.columns
        if (
            not frame.index.is_unique
            or "schema" in kw
            or columns.has_duplicates
            or columns.nlevels > 1
        ):
            return None  # validation raises its own clear error (or maps columns otherwise)
        try:
            specs = normalize_fields(self.specs)
            mapping, _ = match_columns(list(frame.columns), specs, kw.get("columns"))
        except InputError:
            return None
        if "email" not in mapping.values():
            return None
        dtypes = [str(frame[c].dtype) for c in mapping]
        seed = fingerprint(self.specs, mapping, dtypes, kw, self.list_ids, self.exclude_list_ids)
        try:
            return RawRows(frame, mapping, seed, self._store.hash_key)
        except (TypeError, ValueError):  # values pandas cannot hash: validation will say why
            return None

    def select(self, valid: pd.DataFrame) -> pd.DataFrame:
        """Leave out the rows the account already holds; the rest go to the encoder."""
        key = self._store.hash_key
        keys = email_hashes(valid["email"], key)
        contents = content_hashes(valid, self.list_ids or (), self.exclude_list_ids or ())
        raws = (
            self._rows.at(valid.index)
            if self._rows is not None
            else np.zeros(len(valid), dtype=np.uint64)
        )
        by_state, repeat = self.state.compare(keys, contents)
        if self.snapshot is not None:
            diff = compare_rows(
                valid, self.snapshot, self.list_ids or (), self.exclude_list_ids or ()
            )
            same = diff.found & ~diff.changed
            if same.any():  # the export shows them: confirmed without sending anything
                self._store.confirm(keys[same], contents[same], raws[same])
            stale = by_state & ~same  # drift: the state says held, the account differs
            if stale.any():
                self._store.forget(keys[stale])
        else:
            same = by_state
            # Held already, but reached from other raw values (a new dtype, "42" for 42):
            # remember this raw row too, so the next sync skips its validation.
            learn = same & (raws != 0) & (self.state.raws_of(keys) != raws)
            if learn.any():
                self._store.confirm(keys[learn], contents[learn], raws[learn])
        # An email repeated in a later frame of a stream is sent, so that the last row wins
        # (the submitter orders the jobs) even when an earlier row of it was sent.
        same &= ~repeat
        self._mark_rejected_seen()
        if same.any():
            self.unchanged.append(valid.index[same])
            self.progress.skipped(int(same.sum()))
        send_keys, send_contents, send_raws = keys[~same], contents[~same], raws[~same]
        order = np.argsort(send_keys, kind="stable")
        self._selected = (send_keys[order], send_contents[order], send_raws[order])
        if not same.any():
            return valid
        kept: pd.DataFrame = valid[~same]
        return kept

    def confirm(self, job: Job) -> None:
        """``job`` finished: the account holds its rows' values; write their hashes."""
        sorted_keys, contents, raws = self.pending.get(job.chunk, (_EMPTY, _EMPTY, _EMPTY))
        if not len(sorted_keys):
            return
        keys = email_hashes(job.emails, self._store.hash_key)
        pos = np.searchsorted(sorted_keys, keys)
        pos[pos == len(sorted_keys)] = 0
        hit = sorted_keys[pos] == keys
        self._store.confirm(keys[hit], contents[pos[hit]], raws[pos[hit]])
        for list_id in self.list_ids or ():
            self._store.members_added(int(list_id), keys[hit])
        for list_id in self.exclude_list_ids or ():
            self._store.members_removed(int(list_id), keys[hit])

    def _mark_rejected_seen(self) -> None:
        """Rows rejected before encoding are still in the source: never "missing"."""
        new = self.outcomes.rejected[self._rejects_seen :]
        self._rejects_seen = len(self.outcomes.rejected)
        if new:
            emails = pd.Series([r["email"] for r in new], dtype=object)
            self.state.mark_seen(email_hashes(emails, self._store.hash_key))
