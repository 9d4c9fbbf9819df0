"""One chunk on its way through the API: submitted, journaled, or uncertain."""

from __future__ import annotations

from dataclasses import dataclass

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
    (:meth:`park`) while the job runs and read back only when asked for.
    """

    chunk: int
    sha256: str
    index: pd.Index
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
            self.held_emails = pd.Series([], dtype=self.held_emails.dtype)
