"""What an incremental sync did: :class:`SyncResult`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mailtrap_pandas.jobs.imports.result import ImportResult, InvariantError
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    PLAIN,
    WARN,
    counts,
    heading,
    note,
    plural,
    section,
    summary_text,
)

__all__ = ["SyncResult"]


@dataclass(eq=False)
class SyncResult:
    """What :func:`mailtrap_pandas.sync` did: rows sent, rows the account already held.

    Every input row is in exactly one of :attr:`sent`, :attr:`unchanged`, :attr:`rejected`
    (its index) and :attr:`duplicates` (``row``); :meth:`check_invariant` proves it.

    Attributes
    ----------
    imported : ImportResult
        The import of the rows that were sent (its jobs, counts and rejections).
    unchanged : pandas.Index
        Labels of the rows not sent because the account already holds exactly these values
        and list memberships (by the stored state, or by the export when reconciling).
    missing : int
        Emails confirmed by an earlier sync that this source no longer holds.
    removed : DataFrame
        ``email`` of the missing contacts taken off ``list_ids``
        (``missing="remove_from_lists"``); empty otherwise.
    reconciled : bool
        One export was taken and compared with the source (drift repaired).
    requests : int
        HTTP requests this call made (fields, lists, export, imports, polls, retries).
    """

    imported: ImportResult
    unchanged: pd.Index = field(default_factory=lambda: pd.Index([]))
    missing: int = 0
    removed: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"email": pd.Series([], dtype="string")})
    )
    reconciled: bool = False
    requests: int = 0

    @property
    def sent(self) -> pd.Index:
        """Labels of the rows sent, whose jobs finished (their values are now confirmed)."""
        return self.imported.imported_index

    @property
    def rejected(self) -> pd.DataFrame:
        """Rows refused locally or by the server, as :attr:`ImportResult.rejected`."""
        return self.imported.rejected

    @property
    def duplicates(self) -> pd.DataFrame:
        """Rows dropped for a repeated email, as :attr:`ImportResult.duplicates`."""
        return self.imported.duplicates

    @property
    def jobs(self) -> pd.DataFrame:
        """One row per import request, as :attr:`ImportResult.jobs`."""
        return self.imported.jobs

    @property
    def ok(self) -> bool:
        """True when nothing was rejected and every job finished."""
        return self.imported.ok

    def check_invariant(self, index: pd.Index | None = None) -> None:
        """Raise :class:`InvariantError` unless each input row is in exactly one outcome."""
        both = pd.Index(self.unchanged).intersection(pd.Index(self.sent))
        if len(both):
            raise InvariantError(f"rows both sent and unchanged: {list(both[:5])}")
        if index is None:
            self.imported.check_invariant(None)
            return
        rest = pd.Index(index).difference(pd.Index(self.unchanged))
        self.imported.check_invariant(rest)

    def summary(self) -> pd.DataFrame:
        """The rejections grouped by column and reason, as :meth:`ImportResult.summary`.

        Examples
        --------
        >>> SyncResult(ImportResult()).summary().columns.tolist()
        ['column', 'reason', 'rows']
        """
        return self.imported.summary()

    def counts(self) -> dict[str, Any]:
        """The counts as a plain dict (what the CLI prints with ``--json``).

        Examples
        --------
        >>> SyncResult(ImportResult(), unchanged=pd.Index([1, 2])).counts()["unchanged"]
        2
        """
        return {
            "ok": self.ok,
            "sent": len(self.sent),
            "unchanged": len(self.unchanged),
            "rejected": int(self.rejected.index.nunique()),
            "duplicates": len(self.duplicates),
            "missing": self.missing,
            "removed": len(self.removed),
            "reconciled": self.reconciled,
            "jobs": len(self.jobs),
            "requests": self.requests,
        }

    def _text(self) -> str:
        n = self.counts()
        parts = [
            f"{plural(n['sent'], 'row')} sent",
            f"{n['unchanged']:,} unchanged",
            f"{n['rejected']:,} rejected",
        ]
        if n["duplicates"]:
            parts.append(f"{plural(n['duplicates'], 'duplicate')} dropped")
        if n["missing"]:
            parts.append(f"{n['missing']:,} missing from the source ({n['removed']:,} removed)")
        cost = f"{plural(n['jobs'], 'job')}, {plural(n['requests'], 'request')}"
        text = ", ".join(parts) + "; " + cost
        return text + ("; reconciled with an export" if self.reconciled else "")

    def __repr__(self) -> str:
        parts = [
            f"<SyncResult {'ok' if self.ok else 'with problems'}: {self._text()}>",
            summary_text(self.summary(), "rejected by column and reason (result.summary())"),
        ]
        return "\n".join(p for p in parts if p)

    def _repr_html_(self) -> str:
        n = self.counts()
        verdict = f"{plural(n['sent'], 'row')} sent, {n['unchanged']:,} unchanged"
        if n["rejected"]:
            verdict += f", {plural(n['rejected'], 'row')} rejected"
        parts = [
            heading("SyncResult", self.ok, verdict),
            counts(
                [
                    ("sent", n["sent"], GOOD),
                    ("unchanged", n["unchanged"], PLAIN),
                    ("rejected rows", n["rejected"], BAD),
                    ("duplicates dropped", n["duplicates"], PLAIN),
                    ("missing from source", n["missing"], WARN),
                    ("removed from lists", n["removed"], WARN),
                    ("jobs", n["jobs"], PLAIN),
                    ("requests", n["requests"], PLAIN),
                ],
                hide_zero=[
                    "rejected rows",
                    "duplicates dropped",
                    "missing from source",
                    "removed from lists",
                ],
            ),
            note(
                html.escape(
                    "reconciled: one export was compared with the source"
                    if self.reconciled
                    else "compared with the stored state of the last confirmed sync"
                )
            ),
        ]
        inner = self.imported._repr_html_()
        parts += [section("The import of the rows sent (<code>result.imported</code>)"), inner]
        return "<div>" + "\n".join(parts) + "</div>"
