"""One chunk on its way through the API: submitted, journaled, or uncertain."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

__all__ = ["FINAL_STATUSES", "Job"]

#: Job statuses that need no more polling. ``not_found``: an uncertain chunk the
#: export did not show, resubmitted as a new job; ``lost``: uncertain twice, its
#: rows rejected.
FINAL_STATUSES = ("finished", "failed", "verified", "not_found", "lost")


@dataclass(eq=False)
class Job:
    """One submitted (or journaled, or uncertain) chunk."""

    chunk: int
    sha256: str
    index: pd.Index
    emails: pd.Series
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
