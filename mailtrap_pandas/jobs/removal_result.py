"""What a delete, unsubscribe or resubscribe run did, row by row: :class:`RemovalResult`.

Every input row lands in exactly one of ``done``, ``not_found``, ``failed``,
``uncertain`` (or, for a dry run, ``planned``), each a frame on the caller's index.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    MUTED,
    PLAIN,
    WARN,
    counts,
    heading,
    note,
    outcome_summary,
    plural,
    section,
    table,
)

__all__ = ["COLUMNS", "RemovalResult", "outcome_frame"]

#: The columns of every outcome frame.
COLUMNS = ["email", "id", "reason", "message"]

_PAST = {"delete": "deleted", "unsubscribe": "unsubscribed", "resubscribe": "resubscribed"}


def outcome_frame(records: Sequence[dict[str, Any]], labels: Sequence[Hashable]) -> pd.DataFrame:
    """An outcome frame: one record per row, indexed by the caller's row labels."""
    frame = pd.DataFrame(list(records), columns=COLUMNS, index=pd.Index(list(labels), name="row"))
    return frame.astype("string")


def _empty() -> pd.DataFrame:
    return outcome_frame([], [])


@dataclass
class RemovalResult:
    """What :func:`~mailtrap_pandas.delete_contacts`, ``unsubscribe`` or ``resubscribe`` did.

    Attributes
    ----------
    verb : str
        ``"delete"``, ``"unsubscribe"`` or ``"resubscribe"``.
    rows : int
        Input rows.
    done : DataFrame
        Rows whose contact is now deleted / unsubscribed / resubscribed (this run, an
        earlier run of the same job, or already so in the account).
    not_found : DataFrame
        Rows whose contact the account does not have (a 404). For a delete that is
        success too: the contact is gone.
    failed : DataFrame
        Rows not acted on: no usable email or id (no request sent), or a request refused.
    uncertain : DataFrame
        Rows whose request may or may not have been applied; both verbs are idempotent,
        so running again settles them.
    planned : DataFrame
        ``dry_run=True``: the rows that would be sent a request (nothing was sent).
    requests : int
        HTTP requests this run sent (``client.stats``), retries included.
    retries : int
        Of those, repeats after a 429, a 5xx or a lost connection.
    eta_seconds : float
        The pacing's lower bound on the run's time, said before starting.

    All frames have the columns ``email``, ``id``, ``reason`` and ``message``, on the
    caller's index (named ``row``).
    """

    verb: str
    rows: int = 0
    done: pd.DataFrame = field(default_factory=_empty)
    not_found: pd.DataFrame = field(default_factory=_empty)
    failed: pd.DataFrame = field(default_factory=_empty)
    uncertain: pd.DataFrame = field(default_factory=_empty)
    planned: pd.DataFrame = field(default_factory=_empty)
    requests: int = 0
    retries: int = 0
    eta_seconds: float = 0.0
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        """True when no row failed and none is uncertain (``not_found`` is not a failure)."""
        return len(self.failed) == 0 and len(self.uncertain) == 0

    def summary(self) -> pd.DataFrame:
        """The failed and uncertain rows grouped by reason: ``column, reason, rows``, most first.

        The frame every result's ``summary()`` gives (``column`` is ``None``: a whole row failed).
        """
        return outcome_summary(self.failed, self.uncertain)

    def counts(self) -> dict[str, Any]:
        """Counts, for ``--json`` output and logs."""
        out: dict[str, Any] = {
            "verb": self.verb,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "done": len(self.done),
            "not_found": len(self.not_found),
            "failed": len(self.failed),
            "uncertain": len(self.uncertain),
            "requests": self.requests,
            "retries": self.retries,
            "eta_s": round(self.eta_seconds, 1),
        }
        if self.dry_run:
            out["would_send"] = len(self.planned)
        return out

    def __repr__(self) -> str:
        if self.dry_run:
            return (
                f"RemovalResult({self.verb}, dry run: rows={self.rows}, "
                f"would_send={len(self.planned)}, done={len(self.done)}, "
                f"not_found={len(self.not_found)}, failed={len(self.failed)})"
            )
        return (
            f"RemovalResult({self.verb}: rows={self.rows}, done={len(self.done)}, "
            f"not_found={len(self.not_found)}, failed={len(self.failed)}, "
            f"uncertain={len(self.uncertain)}, requests={self.requests})"
        )

    def _repr_html_(self) -> str:
        past = _PAST.get(self.verb, self.verb)
        problems = len(self.failed) + len(self.uncertain)
        if self.dry_run:
            verdict = f"dry run: {plural(len(self.planned), 'contact')} would be {past}"
        else:
            verdict = f"{plural(len(self.done), 'contact')} {past}" + (
                f", {plural(problems, 'row')} need a look" if problems else ""
            )
        items = [
            ("rows", self.rows, PLAIN),
            (past, len(self.done), GOOD),
            ("not found", len(self.not_found), MUTED),
            ("failed", len(self.failed), BAD),
            ("uncertain", len(self.uncertain), WARN),
            ("requests", self.requests, PLAIN),
        ]
        if self.dry_run:
            items.insert(1, ("would send", len(self.planned), PLAIN))
        parts = [heading(f"RemovalResult ({self.verb})", self.ok, verdict), counts(items)]
        shown = [
            ("planned", "Would be sent (<code>.planned</code>)", ()),
            ("failed", "Failed rows (<code>.failed</code>)", ("reason",)),
            ("uncertain", "Uncertain (<code>.uncertain</code>): run again to settle", ()),
            ("not_found", "Not in the account (<code>.not_found</code>)", ()),
        ]
        for name, title, bad in shown:
            frame = getattr(self, name)
            if len(frame):
                parts += [section(title), table(frame, index="row", bad=bad, what="rows")]
        if self.eta_seconds:
            parts.append(note(f"paced: at least {self.eta_seconds:,.0f} s under the rate limit"))
        return "<div>" + "\n".join(parts) + "</div>"
