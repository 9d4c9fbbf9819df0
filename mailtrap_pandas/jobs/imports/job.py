"""One chunk on its way through the API: submitted, journaled, or uncertain."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from mailtrap_pandas.jobs.imports.spool import Spool

__all__ = ["FINAL_STATUSES", "Job"]

#: Job statuses that need no more polling. ``not_found``: an uncertain chunk the
#: export did not show, resubmitted as a new job; ``lost``: uncertain twice, its
#: rows rejected.
FINAL_STATUSES = ("finished", "failed", "verified", "not_found", "lost")


@dataclass(eq=False)
class Job:
    """One submitted (or journaled, or uncertain) chunk.

    Its emails (``emails``) are held in memory, or parked in a :class:`~.spool.Spool`
    (:meth:`park`) while the job runs and read back only when asked for. Its row labels
    (``index``) are kept as runs of consecutive positions (:class:`Runs`) when that is
    smaller: a stream's positions once validation dropped a few rows of a frame.
    """

    chunk: int
    sha256: str
    labels: pd.Index | Runs  # see index
    held_emails: pd.Series  # empty while parked
    import_id: int | None = None
    status: str = "created"
    created: int | None = None
    updated: int | None = None
    over_limit: int | None = None
    submitted_at: float | None = None
    finished_at: float | None = None
    body: bytes | None = None  # kept only while the outcome is uncertain
    from_journal: bool = False  # submitted by an earlier run; not sent again
    spooled: tuple[int, int] | None = None  # where the body waits in the Spool, until final
    resubmits: int = 0  # times this chunk was sent again after its job failed
    parked: tuple[Spool, tuple[int, int]] | None = None  # where the emails wait

    def __post_init__(self) -> None:
        runs = Runs.of(self.labels) if isinstance(self.labels, pd.Index) else None
        if runs is not None:  # not `or`: Runs has a length, so an empty one would be falsy
            self.labels = runs

    @property
    def index(self) -> pd.Index:
        """The caller's labels of the chunk's rows, in body order."""
        return self.labels.index() if isinstance(self.labels, Runs) else self.labels

    @property
    def rows(self) -> int:
        """How many rows the chunk carries."""
        return len(self.labels)

    @property
    def emails(self) -> pd.Series:
        """The (normalized) emails of the chunk's rows, indexed by ``index``."""
        if self.parked is None:
            return self.held_emails
        spool, where = self.parked
        return spool.get_emails(where, self.index, self.held_emails.dtype)

    @emails.setter
    def emails(self, value: pd.Series) -> None:
        self.held_emails, self.parked = value, None

    def park(self, spool: Spool) -> None:
        """Move the emails to ``spool``; :attr:`emails` reads them back from it."""
        if self.parked is None:
            self.parked = (spool, spool.put_emails(self.held_emails))
            # Not a zero-length slice: an Arrow slice would keep the whole buffer alive.
            # (pragma: Series(None) and Series() are as empty as Series([]))
            self.held_emails = pd.Series([], dtype=self.held_emails.dtype)  # pragma: no mutate


@dataclass(frozen=True, eq=False)
class Runs:
    """int64 labels as runs of consecutive values: ``starts[i]``, ``starts[i] + 1``, ...

    A job's labels live until the import's end; a stream's positions are a RangeIndex
    unless validation dropped rows of the frame, and then an int64 array (8 bytes per row,
    held for every job through the import). As runs, a few gaps cost 16 bytes each.
    """

    starts: npt.NDArray[np.int64]
    lengths: npt.NDArray[np.int64]
    name: object = None

    @classmethod
    def of(cls, labels: pd.Index) -> Runs | None:
        """``labels`` as runs, or None when that would not be smaller (or not int64)."""
        if isinstance(labels, pd.RangeIndex) or labels.dtype != np.int64:
            return None
        values = np.asarray(labels)
        breaks = np.flatnonzero(np.diff(values) != 1) + 1
        # Runs (16 bytes each) at least 4x smaller than the labels (8 bytes each), else
        # they would save little; fewer than 8 labels never qualify.
        if 8 * (len(breaks) + 1) > len(values):
            return None
        firsts = np.concatenate([[0], breaks])
        lengths = np.diff(np.append(firsts, len(values)))
        return cls(values[firsts].copy(), lengths.astype(np.int64), labels.name)

    def __len__(self) -> int:
        return int(self.lengths.sum())

    def index(self) -> pd.Index:
        """The labels, as the int64 Index they were."""
        n = len(self)
        ends = np.cumsum(self.lengths)
        offsets = np.repeat(self.starts - (ends - self.lengths), self.lengths)
        positions = np.arange(n, dtype=np.int64)  # pragma: no mutate (NumPy's default int here)
        out: pd.Index = pd.Index(positions + offsets, name=self.name)
        return out
