"""The pure half of an import: validate -> match mode -> dedupe across a stream -> encode.

Nothing here sends a request: :func:`~mailtrap_pandas.jobs.imports.run.to_import_payloads` is a
planner alone, and an import is a planner feeding the submitter. Rows that will never be sent
are recorded in :class:`~mailtrap_pandas.jobs.imports.outcomes.Outcomes` as they are found.

Streams (iterables of frames, Parquet/CSV paths, pyarrow datasets) are planned frame by frame.
Emails seen are remembered as 64-bit hashes (:mod:`.seen`, 16 bytes each):
``dedupe="first"`` drops a later repeat (``duplicates``), also of a first row that failed;
``dedupe="error"`` rejects it (stage local). ``dedupe="last"``: a source that can be read
twice was read ahead (:mod:`.supersede`), so only each email's last row is sent and a last
row that fails keeps the older ones out; a one-shot iterator lets a repeat through and the
submitter orders the jobs so that the last row wins (see :mod:`.submit`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.frames.encode import Chunk, encode_chunks
from mailtrap_pandas.frames.reasons import Reason
from mailtrap_pandas.frames.validate import validate
from mailtrap_pandas.jobs.imports.outcomes import Outcomes
from mailtrap_pandas.jobs.imports.seen import SeenEmails, email_hashes
from mailtrap_pandas.jobs.imports.supersede import Superseded
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.modes import Dedupe, Mode

__all__ = ["Planner"]


@dataclass(eq=False)
class Planner:
    """Turns each frame of a source into import bodies, recording the rows left out."""

    specs: Sequence[Mapping[str, Any]]
    list_ids: Sequence[int] | None
    exclude_list_ids: Sequence[int] | None
    chunk_size: int
    validate_kw: dict[str, Any]
    dedupe: Dedupe
    stream: bool
    outcomes: Outcomes
    progress: Progress
    mode: Mode = "upsert"
    #: Email keys of the account's snapshot (match modes other than upsert).
    existing: set[str] | None = None
    # email -> row label (dedupe first/error) or chunk number (last), 16 bytes per email
    seen: SeenEmails = field(default_factory=SeenEmails)
    next_chunk: int = 0
    #: dedupe="last" over a source read twice: each email's last row is known ahead.
    latest: Superseded | None = None

    @cached_property
    def types(self) -> dict[str, str]:
        """merge tag -> data_type of the account's fields."""
        return {str(f["merge_tag"]): str(f["data_type"]) for f in self.specs}

    def plan(self, frame: pd.DataFrame) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """Validate one frame, apply the match mode and cross-stream dedupe, yield its chunks."""
        report = validate(frame, fields=self.specs, **self.validate_kw)
        if self.outcomes.not_sent is None:  # the same for every frame of a stream
            self.outcomes.not_sent = report.not_sent
        frame_level = report.failures[report.failures["row"].isna()]
        if len(frame_level):
            # unknown="error": a column the account has no field for. Send nothing.
            names = ", ".join(repr(c) for c in frame_level["column"])
            raise InputError(
                f"column(s) {names} match no custom field of the account (unknown='error'); "
                "rename them with columns=, create the fields, or use unknown='report'"
            )
        failures = report.failures
        for rec in failures.itertuples(index=False):
            self.outcomes.reject(
                rec.row, rec.email, "local", rec.column, str(rec.reason), rec.message
            )
        if len(report.duplicates) and self.dedupe != "error":
            # With dedupe="error" the clashing rows are failures, already rejected above.
            self.outcomes.duplicates.append(report.duplicates)
        # Rows that will never be sent still count as done, so the bar reaches 100%.
        self.progress.skipped(report.n_failed_rows + report.n_duplicates)
        valid = report.valid
        fields = {tag: dt for tag, dt in report.fields.items() if tag in valid.columns}
        if self.latest is not None:
            before = len(valid)
            valid = self.latest.drop(frame, valid)
            self.progress.skipped(before - len(valid))
        valid = self._match(valid)
        if self.stream:
            valid = self._cross_frame(valid)
            if self.dedupe == "first":
                self._claim_failed(failures)
        if self.stream and not failures.empty:
            self.outcomes.retry_rows.append(frame[frame.index.isin(failures["row"])])
        valid = self.select(valid)
        for chunk in self.encode(valid, fields, chunk_size=self.chunk_size, start=self.next_chunk):
            self.next_chunk = chunk.number + 1
            yield chunk, valid

    def select(self, valid: pd.DataFrame) -> pd.DataFrame:
        """The rows to encode, of the valid rows the match mode and the dedupe kept: all.

        An incremental sync overrides this to leave out rows the account already holds
        (:class:`mailtrap_pandas.jobs.sync.planner.SyncPlanner`).
        """
        return valid

    def encode(
        self, valid: pd.DataFrame, fields: Mapping[str, str], *, chunk_size: int, start: int
    ) -> Iterator[Chunk]:
        """Encode typed rows into bodies with this import's list ids."""
        return encode_chunks(
            valid,
            fields,
            list_ids_included=self.list_ids,
            list_ids_excluded=self.exclude_list_ids,
            chunk_size=chunk_size,
            start=start,
        )

    def _match(self, valid: pd.DataFrame) -> pd.DataFrame:
        """Keep the rows the match mode allows; the others go to ``skipped``.

        Runs before the cross-frame dedupe: every row of one email gets the same
        answer from the snapshot, so the order does not change who is skipped.
        """
        if self.mode == "upsert" or self.existing is None or valid.empty:
            return valid
        exists = np.asarray(email_key(valid["email"]).isin(self.existing), dtype=bool)
        drop = exists if self.mode == "create_only" else ~exists
        if drop.any():
            reason = (
                "exists (mode create_only)"
                if self.mode == "create_only"
                else "not found (mode update_only)"
            )
            out = valid.loc[drop, ["email"]].astype({"email": "string"})
            out["reason"] = pd.Series(reason, index=out.index, dtype="string")
            self.outcomes.skipped.append(out)
            self.progress.skipped(int(drop.sum()))
        kept: pd.DataFrame = valid[~drop]
        return kept

    def _claim_failed(self, failures: pd.DataFrame) -> None:
        """dedupe="first" across frames: a first row that failed still claims its email.

        Its later repeats are then duplicates of it (never imported in its place).
        """
        rows = failures[failures["row"].notna()]
        no_email = rows["row"][rows["reason"].isin([Reason.MISSING_EMAIL, Reason.INVALID_EMAIL])]
        rows = rows[~rows["row"].isin(no_email)].drop_duplicates("row")
        if rows.empty:
            return
        keys = email_hashes(rows["email"])
        found, _ = self.seen.lookup(keys)
        new = ~pd.Series(keys).duplicated().to_numpy() & ~found
        labels = pd.Index(rows["row"].tolist())[new]
        self.seen.insert(keys[new], self.seen.encode_labels(labels))

    def _cross_frame(self, valid: pd.DataFrame) -> pd.DataFrame:
        if self.dedupe == "last":
            return valid  # read ahead (self.latest), or ordered by the submitter
        keys = email_hashes(valid["email"])
        repeat, values = self.seen.lookup(keys)
        if repeat.any():
            self.progress.skipped(int(repeat.sum()))
            rows = valid.index[repeat]
            if self.dedupe == "first":
                kept = self.seen.decode_labels(values[repeat])
                self.outcomes.duplicates.append(
                    pd.DataFrame(
                        {"row": rows, "email": valid["email"][repeat].to_numpy(), "kept_row": kept}
                    )
                )
            else:
                for label, email in zip(rows, valid["email"][repeat], strict=True):
                    self.outcomes.reject(
                        label,
                        email,
                        "local",
                        "email",
                        Reason.DUPLICATE_EMAIL,
                        "this email occurs in an earlier frame (dedupe='error')",
                    )
        self.seen.insert(keys[~repeat], self.seen.encode_labels(valid.index[~repeat]))
        return valid[~repeat]
