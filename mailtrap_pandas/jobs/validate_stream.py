"""Validate a file or a stream frame by frame: memory bounded by the frame, counts of the whole.

The CLI's ``validate`` and ``import --dry-run`` use this, so a 5,000,000-row
CSV never sits in memory at once. Each frame is checked by
:func:`~mailtrap_pandas.frames.validate.validate`, and the report is the one
the whole file would get, as :func:`~mailtrap_pandas.frames.validate.gather`
gives for a Dask frame, without keeping the valid rows: emails are remembered
as 64-bit hashes (:mod:`.imports.seen`, 16 bytes an email), so duplicates
across frames are resolved by ``dedupe`` as in one frame (the first or last
row wins and ``kept_row`` names the final winner; with ``"error"`` every
occurrence fails).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client
from mailtrap_pandas.frames.validate import (
    FAILURE_COLUMNS,
    Reason,
    ValidationReport,
    validate,
)
from mailtrap_pandas.jobs.imports.seen import SeenEmails, email_hashes
from mailtrap_pandas.jobs.sources import Source, open_source
from mailtrap_pandas.jobs.validation import account_fields
from mailtrap_pandas.modes import Dedupe, Nulls, Unknown

__all__ = ["StreamedReport", "validate_stream"]


@dataclass(repr=False)  # the report's own repr, not a dump of every frame
class StreamedReport(ValidationReport):
    """A :class:`~mailtrap_pandas.frames.validate.ValidationReport` of a whole stream.

    It holds every failure and duplicate of every frame, and the counts, but
    not the valid rows themselves (that would be the whole file in memory):
    :attr:`valid` is empty and :attr:`n_valid` counts them. A row dropped (or
    failed) because of a row in a later frame shows that row's spelling of
    the address in ``email``; addresses compare case-insensitively anyway.
    """

    n_valid_rows: int = 0

    @property
    def n_valid(self) -> int:
        """Valid rows of the whole stream; ``n_valid + n_failed_rows + n_duplicates == n_rows``."""
        return self.n_valid_rows


@dataclass
class _Totals:
    """What :func:`validate_stream` adds up, frame after frame."""

    dedupe: Dedupe
    first: ValidationReport | None = None
    failures: list[pd.DataFrame] = field(default_factory=list)
    duplicates: list[pd.DataFrame] = field(default_factory=list)
    n_rows: int = 0
    n_valid: int = 0
    n_failed: int = 0
    n_duplicates: int = 0
    seen: SeenEmails = field(default_factory=SeenEmails)
    #: dedupe="error": hashes of emails already failed as repeats (a later one fails too).
    errored: set[int] = field(default_factory=set)
    #: first/last: hashes whose winner so far is a row that failed (it is not a duplicate).
    failed_winners: set[int] = field(default_factory=set)
    #: A failed winner beaten by a row of another frame -> that row (for kept_row chains).
    relinks: dict[Any, Any] = field(default_factory=dict)

    def add(self, report: ValidationReport, frame: pd.DataFrame) -> None:
        failures = report.failures
        if self.first is None:
            self.first = report
        else:  # problems of a whole column (row None) are the same in every frame
            failures = failures[failures["row"].notna()]
        self.failures.append(failures)
        if len(report.duplicates):
            self.duplicates.append(report.duplicates)
        self.n_rows += report.n_rows
        self.n_failed += report.n_failed_rows
        self.n_duplicates += report.n_duplicates
        self.n_valid += report.n_valid
        if self.dedupe == "error":
            self._clashed_within(report)
            self._across(report)
        else:
            self._winners_across(report, frame)

    def _winners_across(self, report: ValidationReport, frame: pd.DataFrame) -> None:
        """first/last across frames, as validate() does in one frame.

        The winner of an email is picked among every row with a valid address,
        failed or not (validate's rule): a valid row beaten by a row of another
        frame is dropped as a duplicate; a failed row stays a failure.
        """
        failures = report.failures[report.failures["row"].notna()]
        bad_address = failures["reason"].isin([Reason.MISSING_EMAIL, Reason.INVALID_EMAIL])
        no_address = set(failures.loc[bad_address, "row"])
        failed = failures[~failures["row"].isin(no_address)].drop_duplicates("row")
        labels = pd.Index(list(report.valid.index) + list(failed["row"]))
        if labels.empty:
            return
        addresses = pd.Series(
            list(report.valid["email"].astype(str)) + list(failed["email"].astype(str))
        )
        ok = np.r_[np.ones(len(report.valid), bool), np.zeros(len(failed), bool)]
        keys = email_hashes(addresses)
        order = np.argsort(frame.index.get_indexer(labels), kind="stable")
        if self.dedupe == "last":
            order = order[::-1]
        # This frame's winner of each email: its first (or last) row with that address.
        _, pick = np.unique(keys[order], return_index=True)
        win = order[pick]
        keys, labels, ok = keys[win], labels[win], ok[win]
        emails = addresses.to_numpy(dtype=object)[win]
        found, values = self.seen.lookup(keys)
        earlier = self.seen.decode_labels(values[found])
        if self.dedupe == "first":
            # An earlier frame has the winner: this frame's winner loses.
            for label, email, is_ok, winner in zip(
                labels[found], emails[found], ok[found], earlier, strict=True
            ):
                if is_ok:
                    self._dropped(pd.Index([label]), [email], [winner])
                else:
                    self.relinks[label] = winner
            new = ~found
        else:
            # This frame's winner beats the earlier frames' one.
            for key, email, label, winner in zip(
                keys[found], emails[found], earlier, labels[found], strict=True
            ):
                if int(key) in self.failed_winners:
                    self.relinks[label] = winner
                else:
                    self._dropped(pd.Index([label]), [email], [winner])
            new = np.ones(len(keys), bool)
        self.seen.insert(keys[new], self.seen.encode_labels(labels[new]))
        for key, is_ok in zip(keys[new], ok[new], strict=True):
            if is_ok:
                self.failed_winners.discard(int(key))
            else:
                self.failed_winners.add(int(key))

    def _clashed_within(self, report: ValidationReport) -> None:
        """Emails this frame failed as repeats also fail where an earlier frame kept them."""
        failures = report.failures
        clashed = failures.loc[failures["reason"] == Reason.DUPLICATE_EMAIL, "email"]
        if clashed.empty:
            return
        keys = email_hashes(clashed)
        found, values = self.seen.lookup(keys)
        rows: list[Any] = []
        shown: list[str] = []
        for key, value, email, hit in zip(keys, values, clashed, found, strict=True):
            if hit and int(key) not in self.errored:
                rows += self.seen.decode_labels(np.array([value], dtype=np.int64))
                shown.append(str(email))
            self.errored.add(int(key))
        if rows:
            self._failed(report, rows, shown)

    def _across(self, report: ValidationReport) -> None:
        """dedupe="error": this frame's valid rows that repeat an earlier frame's fail."""
        valid = report.valid
        if valid.empty:
            return
        labels = valid.index
        emails = valid["email"].astype(str).to_numpy()
        keys = email_hashes(valid["email"])
        found, values = self.seen.lookup(keys)
        # dedupe="error": every occurrence among rows that otherwise pass fails.
        errored = np.array([int(k) in self.errored for k in keys], dtype=bool)
        clash = found | errored
        if clash.any():
            rows: list[Any] = list(labels[clash])
            shown: list[str] = list(emails[clash])
            # The earlier occurrence was counted valid: it fails too (once per email).
            first_time = found & ~errored
            for value, email, key in zip(
                values[first_time], emails[first_time], keys[first_time], strict=True
            ):
                rows += self.seen.decode_labels(np.array([value], dtype=np.int64))
                shown.append(str(email))
                self.errored.add(int(key))
            self.errored.update(int(k) for k in keys[clash])
            self._failed(report, rows, shown)
        self.seen.insert(keys[~clash], self.seen.encode_labels(labels[~clash]))

    def _dropped(self, rows: pd.Index, emails: Any, kept: list[Any]) -> None:
        self.duplicates.append(pd.DataFrame({"row": rows, "email": emails, "kept_row": kept}))
        self.n_duplicates += len(rows)
        self.n_valid -= len(rows)

    def _failed(self, report: ValidationReport, rows: list[Any], emails: list[str]) -> None:
        column = next((c for c, t in report.column_map.items() if t == "email"), "email")
        self.failures.append(
            pd.DataFrame(
                {
                    "row": rows,
                    "email": emails,
                    "column": column,
                    "value": emails,
                    "reason": Reason.DUPLICATE_EMAIL,
                    "message": "this email occurs more than once (dedupe='error')",
                },
                columns=FAILURE_COLUMNS,
            )
        )
        # As validate() does with "error": the clashing rows are listed, no row kept.
        self.duplicates.append(pd.DataFrame({"row": rows, "email": emails, "kept_row": None}))
        self.n_failed += len(rows)
        self.n_valid -= len(rows)

    def report(self, policies: Mapping[str, Any]) -> StreamedReport:
        first = self.first
        failures = _concat(self.failures, FAILURE_COLUMNS)
        if len(failures) and first is not None:
            failures = failures.astype({"reason": first.failures["reason"].dtype})
            failures = failures.sort_values("row", kind="stable", na_position="first")
            failures = failures.reset_index(drop=True)
        duplicates = _concat(self.duplicates, ["row", "email", "kept_row"])
        if self.dedupe != "error" and len(duplicates):
            # Row 0 lost to row 1 in its frame, row 1 to row 9 later: row 0's winner is 9.
            beaten = {
                **self.relinks,
                **dict(zip(duplicates["row"], duplicates["kept_row"], strict=True)),
            }

            def winner(row: Any) -> Any:
                while row in beaten:
                    row = beaten[row]
                return row

            duplicates["kept_row"] = [winner(k) for k in duplicates["kept_row"]]
            duplicates = duplicates.sort_values("row", kind="stable", ignore_index=True)
        return StreamedReport(
            failures=failures,
            valid=first.valid.iloc[:0] if first is not None else pd.DataFrame({"email": []}),
            duplicates=duplicates,
            unknown_columns=list(first.unknown_columns) if first is not None else [],
            ignored_columns=list(first.ignored_columns) if first is not None else [],
            unknown_hints=dict(first.unknown_hints) if first is not None else {},
            column_map=dict(first.column_map) if first is not None else {},
            fields=dict(first.fields) if first is not None else {},
            dedupe=policies["dedupe"],
            nulls=policies["nulls"],
            unknown=policies["unknown"],
            n_rows=self.n_rows,
            n_failed_rows=self.n_failed,
            n_duplicates=self.n_duplicates,
            n_valid_rows=self.n_valid,
        )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)


def validate_stream(
    source: Source,
    client: Client | None = None,
    *,
    fields: Sequence[Mapping[str, Any]] | None = None,
    columns: Mapping[Any, str] | None = None,
    dedupe: Dedupe = "last",
    nulls: Nulls = "skip",
    unknown: Unknown = "report",
    batch_rows: int = 50_000,
    **options: Any,
) -> StreamedReport:
    """Validate a file (CSV, Parquet), a folder or a stream of frames, one frame at a time.

    Parameters
    ----------
    source : path, iterable of DataFrames, pyarrow Table or Dataset, or DataFrame
        What :func:`~mailtrap_pandas.import_contacts` accepts; files are read
        by the same streaming reader (:func:`~mailtrap_pandas.sources.open_source`).
    client : Client, optional
        Where the field definitions come from (one GET) unless ``fields`` is given.
    fields, columns, dedupe, nulls, unknown
        As for :func:`~mailtrap_pandas.jobs.validation.validate`.
    batch_rows : int
        Rows per frame read from a file.
    **options
        Passed to :func:`~mailtrap_pandas.frames.validate.validate` for every
        frame (``truncate_time``, ``dayfirst``, ``date_format``).

    Returns
    -------
    StreamedReport
        Failures, duplicates and counts of the whole stream, as one frame of
        all the rows would give them; ``valid`` is not kept.

    Examples
    --------
    >>> frames = [pd.DataFrame({"email": ["a@x.io", "b@x.io"]}),
    ...           pd.DataFrame({"email": ["A@x.io", "bad"]}, index=[2, 3])]
    >>> report = validate_stream(frames, fields=[], dedupe="first")
    >>> report.n_rows, report.n_valid, report.n_failed_rows, report.n_duplicates
    (4, 2, 1, 1)
    >>> report.duplicates.values.tolist()
    [[2, 'A@x.io', 0]]
    """
    policies: dict[str, Any] = {"dedupe": dedupe, "nulls": nulls, "unknown": unknown}
    specs = [dict(f) for f in fields] if fields is not None else account_fields(client)
    frames, _total, _stream = open_source(source, batch_rows)
    totals = _Totals(dedupe)
    for frame in frames:
        report = validate(frame, fields=specs, columns=columns, **policies, **options)
        totals.add(report, frame)  # type: ignore[arg-type]
    return totals.report(policies)
