"""Where the rows of an import end up that are not imported: rejected, duplicate, skipped.

The planner, the submitter and the verifier record here as they go; :mod:`.result` turns the
record into the frames of :class:`~mailtrap_pandas.jobs.imports.result.ImportResult`. Each row
is recorded once, and ``ImportResult.check_invariant`` proves it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pandas as pd

from mailtrap_pandas.frames.reasons import Reason

__all__ = ["Outcomes", "email_text"]


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else ("" if value is None else str(value))


def email_text(value: Any) -> str | None:
    """An email for ``rejected``: None (shown as <NA>) when missing, never 'nan' or ''."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    text = str(value)
    return text if text.strip() else None


@dataclass(eq=False)
class Outcomes:
    """The running record of one import's non-imported rows."""

    #: One dict per problem: row, email, stage, column, reason, message.
    rejected: list[dict[str, Any]] = field(default_factory=list)
    #: Frames of ``row, email, kept_row``.
    duplicates: list[pd.DataFrame] = field(default_factory=list)
    #: Frames of ``email, reason`` indexed by row label (match modes).
    skipped: list[pd.DataFrame] = field(default_factory=list)
    #: Original rows of a stream that failed, for ``retry_frame()``.
    retry_rows: list[pd.DataFrame] = field(default_factory=list)
    #: The columns not sent (``ValidationReport.not_sent``), from the first frame validated.
    not_sent: pd.DataFrame | None = None

    def reject(
        self, row: Any, email: Any, stage: str, column: Any, reason: Reason | str, message: Any
    ) -> None:
        """Record one problem of one row."""
        self.rejected.append(
            {
                "row": row,
                "email": email_text(email),
                "stage": stage,
                "column": _text(column),
                "reason": Reason(reason).value,  # a free string here is a bug
                "message": _text(message),
            }
        )

    def reject_rows(
        self, index: pd.Index, emails: pd.Series, column: str, reason: Reason | str, message: str
    ) -> None:
        """Record the same server-side problem for every row of a chunk."""
        for label, email in zip(index, emails, strict=True):
            self.reject(label, email, "server", column, reason, message)
