"""Result objects of bulk operations, and the small helpers their reprs share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mailtrap_pandas.errors import MailtrapError
from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.frames.reasons import Reason
from mailtrap_pandas.jobs.imports.job import FINAL_STATUSES, Job, Runs
from mailtrap_pandas.jobs.imports.outcomes import Outcomes, email_text
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    PLAIN,
    counts,
    failure_summary,
    heading,
    not_sent_frame,
    not_sent_text,
    note,
    plural,
    section,
    summary_text,
    table,
)

__all__ = [
    "JOB_COLUMNS",
    "REJECTED_COLUMNS",
    "SKIPPED_COLUMNS",
    "ImportResult",
    "InvariantError",
    "assemble",
]

#: Columns of :attr:`ImportResult.rejected` (its index holds the caller's row labels).
REJECTED_COLUMNS = ["email", "stage", "column", "reason", "message"]
#: Columns of :attr:`ImportResult.skipped` (its index holds the caller's row labels).
SKIPPED_COLUMNS = ["email", "reason"]
#: Columns of :attr:`ImportResult.jobs`.
JOB_COLUMNS = [
    "chunk",
    "rows",
    "import_id",
    "status",
    "created",
    "updated",
    "over_limit",
    "submitted_at",
    "finished_at",
    "seconds",
    "from_journal",
    "resubmits",
]


class InvariantError(MailtrapError, AssertionError):
    """A row is unaccounted for, or counted twice (a bug: please report it)."""


def empty_rejected() -> pd.DataFrame:
    """An empty :attr:`ImportResult.rejected` frame."""
    return pd.DataFrame({c: pd.Series([], dtype="string") for c in REJECTED_COLUMNS})


def empty_skipped() -> pd.DataFrame:
    """An empty :attr:`ImportResult.skipped` frame."""
    return pd.DataFrame({c: pd.Series([], dtype="string") for c in SKIPPED_COLUMNS})


@dataclass(eq=False)
class ImportResult:
    """What :func:`mailtrap_pandas.import_contacts` did.

    Every input row ends in exactly one of :attr:`imported_index`,
    :attr:`rejected` (its index), :attr:`duplicates` (``row``) and
    :attr:`skipped` (its index): :meth:`check_invariant` proves it.

    Attributes
    ----------
    created, updated, over_limit : int
        The server's counts, summed over the finished jobs: contacts, not your
        rows, so they need not add up to :attr:`imported_index`. A contact sent
        by two jobs (``dedupe="last"`` across a stream) is counted by both, and
        chunks verified by an export after a dropped connection add rows but
        no counts. Reprs and summaries label them apart from the row counts.
    rejected : pandas.DataFrame
        One row per problem, indexed by the caller's original row labels (a row
        with two problems appears twice; ``rejected.index.unique()`` are the
        rows): ``email``, ``stage`` (``"local"``: validation, nothing sent;
        ``"server"``: the API refused it or its job failed), ``column``,
        ``reason``, ``message``.
    jobs : pandas.DataFrame
        One row per import request: ``chunk``, ``rows``, ``import_id``,
        ``status``, ``created``, ``updated``, ``over_limit``, ``submitted_at``,
        ``finished_at``, ``seconds``, ``from_journal``, ``resubmits`` (times the
        chunk was sent again after its job failed; ``import_id`` is the last job).
    duplicates : pandas.DataFrame
        ``row``, ``email``, ``kept_row``: rows dropped because a later (or,
        with ``dedupe="first"``, earlier) row has the same email.
    skipped : pandas.DataFrame
        Valid rows left out on purpose by the match mode (``mode="update_only"``
        or ``"create_only"``), indexed by the caller's row labels: ``email`` and
        ``reason`` (``"exists (mode create_only)"``, ``"not found (mode
        update_only)"``). Nothing was sent for them; they are not problems.
    imported_index : pandas.Index
        Labels of the rows carried by finished jobs. Rows past the account's
        contact limit are among them (the API only counts them: ``over_limit``).
    requests : int
        HTTP requests this import cost (validation, submits, polls, retries).
    not_sent : pandas.DataFrame
        The input columns that were not sent: ``column``, ``reason``
        (``"unknown"``: no field matches, or ``"ignored"``: ``None`` in
        ``columns=``) and ``message`` (with a did-you-mean suggestion).
    """

    created: int = 0
    updated: int = 0
    over_limit: int = 0
    rejected: pd.DataFrame = field(default_factory=empty_rejected)
    jobs: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=JOB_COLUMNS))
    duplicates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["row", "email", "kept_row"])
    )
    skipped: pd.DataFrame = field(default_factory=empty_skipped)
    imported_index: pd.Index = field(default_factory=lambda: pd.Index([]))
    requests: int = 0
    not_sent: pd.DataFrame = field(default_factory=not_sent_frame)
    _source: pd.DataFrame | None = field(default=None, repr=False)
    _retry_rows: pd.DataFrame | None = field(default=None, repr=False)
    #: A file source: read again by retry_frame() to give every rejected row back.
    _source_path: str | None = field(default=None, repr=False)
    _finish: Callable[[], ImportResult] | None = field(default=None, repr=False)

    @property
    def pending(self) -> int:
        """Jobs submitted but not finished yet (``wait=False``)."""
        if self.jobs.empty:
            return 0
        return int((~self.jobs["status"].isin(FINAL_STATUSES)).sum())

    @property
    def ok(self) -> bool:
        """True when nothing was rejected and every job finished."""
        return self.rejected.empty and self.pending == 0

    def wait(self) -> ImportResult:
        """Poll the pending jobs to the end (after ``wait=False``); update and return self."""
        if self._finish is not None and self.pending:
            done = self._finish()
            names = ("created", "updated", "over_limit", "rejected", "jobs", "duplicates")
            for name in (*names, "skipped"):
                setattr(self, name, getattr(done, name))
            self.imported_index = done.imported_index
            self.requests += done.requests
        return self

    def retry_frame(self) -> pd.DataFrame:
        """The rejected rows of the caller's original input, original columns and values.

        Fix them and pass the frame to ``import_contacts`` again. A file source
        (CSV, Parquet...) is read once more, streamed, to pick them out, so every
        rejected row comes back as the file has it. For other streams only rows
        rejected before their job was submitted (locally or by a 422) can be
        returned; the rows of a failed job are listed in :attr:`rejected` by email.
        """
        labels = self.rejected.index.unique()
        if self._source is not None:
            return self._source[self._source.index.isin(labels)]
        if self._source_path is not None:
            from mailtrap_pandas.jobs.sources import read_rows

            return read_rows(self._source_path, labels)
        if self._retry_rows is not None:
            return self._retry_rows[self._retry_rows.index.isin(labels)]
        return pd.DataFrame()

    def check_invariant(self, index: pd.Index | None = None) -> None:
        """Raise :class:`InvariantError` unless each row is in exactly one outcome.

        Parameters
        ----------
        index : pandas.Index, optional
            All input labels; defaults to the input frame's index when known.
        """
        imported = pd.Index(self.imported_index)
        rejected = pd.Index(self.rejected.index.unique())
        dropped = pd.Index(self.duplicates["row"])
        skipped = pd.Index(self.skipped.index)
        parts = {
            "imported": imported,
            "rejected": rejected,
            "duplicates": dropped,
            "skipped": skipped,
        }
        for name, part in parts.items():
            if name != "rejected" and part.has_duplicates:
                raise InvariantError(
                    f"rows counted twice as {name}: {list(part[part.duplicated()][:5])}"
                )
        names = list(parts)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                both = parts[a].intersection(parts[b])
                if len(both):
                    raise InvariantError(f"rows both {a} and {b}: {list(both[:5])}")
        if index is None and self._source is not None:
            index = self._source.index
        if index is not None:
            # Empty parts left out: pandas 2.2 warns that they will one day count for the dtype.
            nonempty = [p for p in parts.values() if len(p)]
            seen = nonempty[0].append(nonempty[1:]) if nonempty else imported
            missing = pd.Index(index).difference(seen)
            extra = seen.difference(pd.Index(index))
            if len(missing) or len(extra):
                raise InvariantError(
                    f"rows unaccounted for: {list(missing[:5])}; unknown rows: {list(extra[:5])}"
                )

    @property
    def rows(self) -> int:
        """Input rows accounted for: ``imported + rejected + duplicates + skipped``."""
        return (
            len(self.imported_index)
            + int(self.rejected.index.nunique())
            + len(self.duplicates)
            + len(self.skipped)
        )

    def summary(self) -> pd.DataFrame:
        """The rejections grouped by column and reason: ``column, reason, rows``, most first.

        ``rows`` sums to ``len(result.rejected)`` (a row rejected for two
        reasons counts in both groups).

        Examples
        --------
        >>> ImportResult().summary().columns.tolist()
        ['column', 'reason', 'rows']
        """
        return failure_summary(self.rejected)

    def counts(self) -> dict[str, Any]:
        """The counts as a plain dict (what the CLI prints with ``--json``).

        Row counts are at the top level and add up: ``rows == imported +
        rejected + duplicates + skipped``. The server's counts of contacts are
        apart, under ``server``, because they need not add up to rows (see
        :attr:`created`).

        Examples
        --------
        >>> ImportResult(created=2).counts()["server"]
        {'created': 2, 'updated': 0, 'over_limit': 0}
        """
        return {
            "ok": self.ok,
            "rows": self.rows,
            "imported": len(self.imported_index),
            "rejected": int(self.rejected.index.nunique()),
            "duplicates": len(self.duplicates),
            "skipped": len(self.skipped),
            "server": {
                "created": self.created,
                "updated": self.updated,
                "over_limit": self.over_limit,
            },
            "jobs": len(self.jobs),
            "pending": self.pending,
            "requests": self.requests,
        }

    def _summary(self) -> str:
        skipped = f", {len(self.skipped):,} skipped" if len(self.skipped) else ""
        return (
            f"rows: {len(self.imported_index):,} imported, "
            f"{self.rejected.index.nunique():,} rejected, "
            f"{plural(len(self.duplicates), 'duplicate')} dropped{skipped} "
            f"(of {plural(self.rows, 'row')}); "
            f"server counts, contacts per job: {self.created:,} created, "
            f"{self.updated:,} updated, {self.over_limit:,} over the limit; "
            f"{plural(len(self.jobs), 'job')}"
            + (f" ({self.pending:,} pending)" if self.pending else "")
            + f", {plural(self.requests, 'request')}"
        )

    def __repr__(self) -> str:
        parts = [
            f"<ImportResult {'ok' if self.ok else 'with problems'}: {self._summary()}>",
            summary_text(self.summary(), "rejected by column and reason (result.summary())"),
            not_sent_text(self.not_sent),
            self._resumed_text(),
        ]
        return "\n".join(p for p in parts if p)

    def _resumed_text(self) -> str:
        """A line when jobs came from the journal: nothing sent, the counts are an earlier run's."""
        resumed = int(self.jobs["from_journal"].sum()) if "from_journal" in self.jobs else 0
        if not resumed:
            return ""
        return (
            f"{plural(resumed, 'job')} of an earlier run found in the journal and not sent again "
            "(its counts are that run's); to send the same rows again on purpose, pass "
            "journal=False (CLI --no-journal)"
        )

    def _repr_html_(self) -> str:
        imported = len(self.imported_index)
        n_rejected = int(self.rejected.index.nunique())
        verdict = f"{plural(imported, 'row')} imported" + (
            f", {plural(n_rejected, 'row')} rejected" if n_rejected else ""
        )
        if self.pending:
            verdict += f", {plural(self.pending, 'job')} still running"
        parts = [
            heading("ImportResult", self.ok, verdict),
            section("Your rows"),
            counts(
                [
                    ("rows", self.rows, PLAIN),
                    ("imported", imported, GOOD),
                    ("rejected", n_rejected, BAD),
                    ("duplicates dropped", len(self.duplicates), PLAIN),
                    ("skipped", len(self.skipped), PLAIN),
                ],
                hide_zero=["rejected", "duplicates dropped", "skipped"],
            ),
            section("Server counts (contacts, per job)"),
            counts(
                [
                    ("created", self.created, PLAIN),
                    ("updated", self.updated, PLAIN),
                    ("over the limit", self.over_limit, BAD),
                    ("jobs", len(self.jobs), PLAIN),
                    ("requests", self.requests, PLAIN),
                ],
                hide_zero=["over the limit"],
            ),
            note(
                "the row counts add up to your input rows; the server counts contacts in "
                "each job, so a contact sent by two jobs counts twice and a chunk verified "
                "after a dropped connection counts none"
            ),
        ]
        if not self.not_sent.empty:
            parts += [
                section("Columns not sent (<code>result.not_sent</code>)"),
                table(self.not_sent, what="columns", limit=len(self.not_sent)),
            ]
        if not self.rejected.empty:
            parts += [
                section("Summary (<code>result.summary()</code>)"),
                table(self.summary(), bad=["reason"], numeric=["rows"], what="groups"),
                section("Rejected (<code>result.rejected</code>)"),
                table(
                    self.rejected,
                    index="row",
                    bad=["reason"],
                    what="problems",
                    where="result.rejected",
                ),
                note(
                    "<code>result.retry_frame()</code> gives these input rows back, "
                    "ready to fix and import again"
                ),
            ]
        if not self.skipped.empty:
            parts += [
                section("Skipped by the match mode (<code>result.skipped</code>)"),
                table(self.skipped, index="row", what="rows"),
            ]
        if not self.jobs.empty:
            jobs = self.jobs.drop(columns=["submitted_at", "finished_at"], errors="ignore")
            parts += [
                section("Jobs (<code>result.jobs</code>)"),
                table(
                    jobs,
                    numeric=[
                        "chunk",
                        "rows",
                        "import_id",
                        "created",
                        "updated",
                        "over_limit",
                        "seconds",
                    ],
                    what="jobs",
                ),
            ]
        if resumed := self._resumed_text():
            parts.append(note(resumed))
        return "<div>" + "\n".join(parts) + "</div>"


def _signed_int(index: pd.Index) -> bool:
    """A numpy signed-integer Index (stream positions are): int64 holds it exactly."""
    return isinstance(index.dtype, np.dtype) and index.dtype.kind == "i"


def _int_labels(parts: Sequence[pd.Index | Runs]) -> pd.Index:
    """Signed-integer labels (a stream's positions) of ``parts``, in order, as one Index.

    One run of consecutive integers (every row of a stream imported, the common case) is a
    RangeIndex: no memory per row. Otherwise 8 bytes per row, not a Python int (~36 bytes)
    per row as an object Index would hold, filled part by part: a part is often a
    RangeIndex, and materializing all of them before one concatenate held every label
    twice at the import's peak (so are runs, :class:`~.job.Runs`, one part at a time).
    """
    start = stop = None
    for part in (p for p in parts if len(p)):
        if isinstance(part, pd.RangeIndex) and part.step == 1:
            lo, hi = part.start, part.stop
        elif isinstance(part, Runs):
            if len(part.starts) > 1:
                break
            lo, hi = int(part.starts[0]), int(part.starts[0] + part.lengths[0])
        else:
            values = np.asarray(part)
            lo, hi = int(values[0]), int(values[-1]) + 1
            if hi - lo != len(values) or not (np.diff(values) == 1).all():
                break
        if start is not None and lo != stop:
            break
        start = lo if start is None else start
        stop = hi
    else:
        return pd.RangeIndex(start or 0, stop or 0)
    positions = np.empty(sum(len(p) for p in parts), dtype=np.int64)
    at = 0
    for part in parts:
        positions[at : at + len(part)] = part.index() if isinstance(part, Runs) else part
        at += len(part)
    return pd.Index(positions, copy=False)


def _count(value: Any) -> int:
    """A server count (missing, None or NA -> 0)."""
    return 0 if value is None or pd.isna(value) else int(value)


# -- assembling a result from the pipeline's record ------------------------------------------


def assemble(
    jobs: Sequence[Job],
    outcomes: Outcomes,
    *,
    source: pd.DataFrame | None,
    last_wins_across_jobs: bool,
    requests: int,
    source_path: str | None = None,
    finish: Callable[[], ImportResult] | None = None,
) -> ImportResult:
    """Build the :class:`ImportResult` of an import from its jobs and its record of rows.

    ``last_wins_across_jobs`` (a stream with ``dedupe="last"``): the same email imported by two
    jobs was submitted in order, so the later one won and the earlier row is a duplicate.
    ``source_path``: the file imported, read again by ``retry_frame()``. ``finish``: with
    ``wait=False``, what ``result.wait()`` runs to poll the jobs and build the final result.
    """
    done = [j for j in jobs if j.status in ("finished", "verified")]
    rejected_rows = list(outcomes.rejected)
    for job in (j for j in jobs if j.status == "failed"):
        for label, email in zip(job.index, job.emails, strict=True):
            rejected_rows.append(
                {
                    "row": label,
                    "email": email_text(email),
                    "stage": "server",
                    "column": "",
                    "reason": Reason.IMPORT_FAILED.value,
                    "message": f"import {job.import_id} ended with status 'failed'",
                }
            )
    rejected = empty_rejected()
    if rejected_rows:
        frame = pd.DataFrame(rejected_rows)
        rejected = frame[REJECTED_COLUMNS].astype("string").set_index(pd.Index(frame["row"]))
        rejected.index.name = None
    dups = [d for d in outcomes.duplicates if len(d)]
    duplicates = (
        pd.concat(dups, ignore_index=True)
        if dups
        else pd.DataFrame({"row": [], "email": [], "kept_row": []})
    )
    if done and all(isinstance(j.labels, Runs) or _signed_int(j.labels) for j in done):
        labels: pd.Index = _int_labels([j.labels for j in done])
    elif done:
        labels = pd.Index(np.concatenate([np.asarray(j.index, dtype=object) for j in done]))
    else:
        labels = pd.Index([])
    if last_wins_across_jobs and len(labels):
        # Only here are the emails of every imported row needed: as Python strings they
        # cost ~80 bytes per row, the largest part of an import's memory at its end.
        emails = email_key(pd.concat([j.emails for j in done])).to_numpy(dtype=object)
        superseded = pd.Series(emails).duplicated(keep="last").to_numpy()
        if superseded.any():
            last = pd.Series(labels.to_numpy(), index=emails).groupby(level=0).last()
            extra = pd.DataFrame(
                {
                    "row": labels[superseded],
                    "email": emails[superseded],
                    "kept_row": last.loc[emails[superseded]].to_numpy(),
                }
            )
            duplicates = pd.concat([duplicates, extra], ignore_index=True)
            labels = labels[~superseded]
    if source is not None:
        labels = source.index[source.index.isin(labels)]
    skips = [s for s in outcomes.skipped if len(s)]
    finished = [j for j in jobs if j.status == "finished"]  # verified jobs have no counts
    return ImportResult(
        created=sum(_count(j.created) for j in finished),
        updated=sum(_count(j.updated) for j in finished),
        over_limit=sum(_count(j.over_limit) for j in finished),
        rejected=rejected,
        jobs=_jobs_frame(jobs),
        duplicates=duplicates,
        skipped=pd.concat(skips) if skips else empty_skipped(),
        imported_index=labels,
        requests=requests,
        not_sent=outcomes.not_sent if outcomes.not_sent is not None else not_sent_frame(),
        _source=source,
        _retry_rows=pd.concat(outcomes.retry_rows) if outcomes.retry_rows else None,
        _source_path=source_path,
        _finish=finish,
    )


def _ts(value: float | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value, unit="s", tz="UTC")


def _jobs_frame(jobs: Sequence[Job]) -> pd.DataFrame:
    out = pd.DataFrame(
        [
            {
                "chunk": j.chunk,
                "rows": j.rows,
                "import_id": j.import_id,
                "status": j.status,
                "created": j.created,
                "updated": j.updated,
                "over_limit": j.over_limit,
                "submitted_at": _ts(j.submitted_at),
                "finished_at": _ts(j.finished_at),
                "seconds": (j.finished_at - j.submitted_at)
                if j.finished_at and j.submitted_at
                else None,
                "from_journal": j.from_journal,
                "resubmits": j.resubmits,
            }
            for j in jobs
        ],
        columns=JOB_COLUMNS,
    )
    for col in ("chunk", "rows", "import_id", "created", "updated", "over_limit", "resubmits"):
        out[col] = out[col].astype("Int64")
    out["status"] = out["status"].astype("string")
    out["seconds"] = out["seconds"].astype("Float64")
    out["from_journal"] = out["from_journal"].astype("boolean")
    return out
