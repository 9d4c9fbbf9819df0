"""Bulk import: validate -> encode -> chunk -> submit under the budget -> poll -> gather.

Decisions (also for the README):

- **Cost.** Every chunk is submitted first, then only the *oldest* unfinished
  job is polled, with exponential back-off from ``poll_interval`` (1 s) up to
  ``max_poll_interval`` (30 s); when it finishes the next one is polled at once.
  A K-chunk import costs about K submits + K polls + a few back-off polls.
- **Per-email 422.** The rows the server names go to ``.rejected`` (stage
  ``"server"``, its attribute and message) and the rest of the chunk is
  re-encoded and resubmitted (a new body, a new hash). A 422 that names no
  email of the chunk rejects the whole chunk with its message: each round
  removes rows, so it always ends.
- **Failed job** (``status == "failed"``): its rows are rejected with reason
  ``"import_failed"``; it is not resubmitted in the same run (the API says
  nothing about why). ``retry_frame()`` gives the rows back, and running the
  same call again resubmits a failed chunk.
- **Dropped connection after sending** (``TransportError(sent=True)``, or a
  ``submitting`` journal row left by a crash): the chunk is *uncertain*. Once
  every other job has finished, ONE export is taken; if all of the chunk's
  emails are there with the chunk's field values and list ids, it counts as
  imported (status ``"verified"``, counts unknown), otherwise it is submitted
  again. Still uncertain after that: rejected with reason ``"uncertain"``.
  An upsert of identical values is harmless, so a false "verified" loses
  nothing; a resubmission only happens when the data is not there.
- **Other submit failures** (5xx or 429 after the client's retries, a
  connection refused): the chunk's rows are rejected with reason
  ``"submit_failed"``; other chunks go on. 401/403/404 stop the import.
- **Journal.** Chunks are keyed by (base URL, account, SHA-256 of the body);
  a re-run after success submits nothing and reports the journaled counts.
  The same data imported again *on purpose* needs ``journal=False``.
- **Streams** (iterables of frames, Parquet/CSV paths, pyarrow datasets) are
  validated and encoded frame by frame (Parquet in record batches of
  ``chunk_size`` rows). Emails seen are remembered as 64-bit hashes (16 bytes each).
  ``dedupe="first"``: a later repeat is dropped (``duplicates``).
  ``dedupe="last"``: the later row is sent in a later job, submitted only once
  the job holding the earlier row has finished, so the last row wins; the
  earlier row is then reported in ``duplicates``. ``dedupe="error"``: a later
  repeat is rejected (stage local). Labels of path/dataset sources are the
  0-based row numbers.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import orjson
import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import (
    AuthenticationError,
    InputError,
    MailtrapError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    ValidationError,
)
from mailtrap_pandas.frames.encode import Chunk, check_chunk_size, encode_chunks, list_ids_arg
from mailtrap_pandas.frames.normalize import email_key
from mailtrap_pandas.jobs.imports.result import (
    FINAL_STATUSES,
    JOB_COLUMNS,
    REJECTED_COLUMNS,
    ImportResult,
    empty_rejected,
    empty_skipped,
)
from mailtrap_pandas.jobs.imports.seen import SeenEmails, email_hashes
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.jobs.sources import Source, open_source
from mailtrap_pandas.jobs.store import Journal, open_journal

if TYPE_CHECKING:
    from mailtrap_pandas.frames.validate import ValidationReport

__all__ = ["DEFAULT_JOURNAL", "ImportResult", "import_contacts", "to_import_payloads"]

#: ``journal=`` default: the file under the user's cache folder (see :mod:`.journal`).
DEFAULT_JOURNAL = True
Mode = Literal["upsert", "update_only", "create_only"]
MODES: tuple[str, ...] = ("upsert", "update_only", "create_only")


# -- the run ---------------------------------------------------------------------------------


@dataclass(eq=False)
class _Job:
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


def _text(value: Any) -> str:
    return str(value.value) if isinstance(value, Enum) else ("" if value is None else str(value))


@dataclass(eq=False)
class _Run:
    client: Client
    journal: Journal
    specs: list[dict[str, Any]]
    list_ids: Sequence[int] | None
    exclude_list_ids: Sequence[int] | None
    chunk_size: int
    progress: Progress
    poll_interval: float
    max_poll_interval: float
    validate_kw: dict[str, Any]
    dedupe: str
    stream: bool
    mode: Mode = "upsert"
    #: Lower-cased emails of the account's snapshot (match modes other than upsert).
    existing: set[str] | None = None  # normalized emails of the account (match modes)
    sleep: Callable[[float], None] = time.sleep
    jobs: list[_Job] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[pd.DataFrame] = field(default_factory=list)
    skipped: list[pd.DataFrame] = field(default_factory=list)
    retry_rows: list[pd.DataFrame] = field(default_factory=list)
    # email -> row label (dedupe first/error) or chunk number (last), 16 bytes per email
    seen: SeenEmails = field(default_factory=SeenEmails)
    next_chunk: int = 0
    requests_at_start: int = 0

    @property
    def key(self) -> tuple[str, str]:
        return self.client.base_url, self.client.account_id

    # -- planning ------------------------------------------------------------------------

    def plan(self, frame: pd.DataFrame) -> Iterator[tuple[Chunk, pd.DataFrame]]:
        """Validate one frame, apply cross-stream dedupe, yield its chunks."""
        from mailtrap_pandas.jobs.validation import validate

        report: ValidationReport = validate(
            frame, self.client, fields=self.specs, **self.validate_kw
        )
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
            self._reject(rec.row, rec.email, "local", rec.column, _text(rec.reason), rec.message)
        if len(report.duplicates) and self.dedupe != "error":
            # With dedupe="error" the clashing rows are failures, already rejected above.
            self.duplicates.append(report.duplicates)
        # Rows that will never be sent still count as done, so the bar reaches 100%.
        self.progress.skipped(report.n_failed_rows + report.n_duplicates)
        valid = report.valid
        fields = {tag: dt for tag, dt in report.fields.items() if tag in valid.columns}
        valid = self._match(valid)
        if self.stream:
            valid = self._cross_frame(valid)
        if self.stream and not failures.empty:
            self.retry_rows.append(frame[frame.index.isin(failures["row"])])
        for chunk in encode_chunks(
            valid,
            fields,
            list_ids_included=self.list_ids,
            list_ids_excluded=self.exclude_list_ids,
            chunk_size=self.chunk_size,
            start=self.next_chunk,
        ):
            self.next_chunk = chunk.number + 1
            yield chunk, valid

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
            self.skipped.append(out)
            self.progress.skipped(int(drop.sum()))
        kept: pd.DataFrame = valid[~drop]
        return kept

    def _cross_frame(self, valid: pd.DataFrame) -> pd.DataFrame:
        if self.dedupe == "last":
            return valid  # ordered by _wait_for_earlier instead
        keys = email_hashes(valid["email"])
        repeat, values = self.seen.lookup(keys)
        if repeat.any():
            self.progress.skipped(int(repeat.sum()))
            rows = valid.index[repeat]
            if self.dedupe == "first":
                kept = self.seen.decode_labels(values[repeat])
                self.duplicates.append(
                    pd.DataFrame(
                        {"row": rows, "email": valid["email"][repeat].to_numpy(), "kept_row": kept}
                    )
                )
            else:
                for label, email in zip(rows, valid["email"][repeat], strict=True):
                    self._reject(
                        label,
                        email,
                        "local",
                        "email",
                        "duplicate_email",
                        "this email occurs in an earlier frame (dedupe='error')",
                    )
        self.seen.insert(keys[~repeat], self.seen.encode_labels(valid.index[~repeat]))
        return valid[~repeat]

    def _reject(
        self, row: Any, email: Any, stage: str, column: Any, reason: str, message: Any
    ) -> None:
        self.rejected.append(
            {
                "row": row,
                "email": _text(email),
                "stage": stage,
                "column": _text(column),
                "reason": reason,
                "message": _text(message),
            }
        )

    def _reject_chunk(self, chunk: Chunk, column: str, reason: str, message: str) -> None:
        for label, email in zip(chunk.index, chunk.emails, strict=True):
            self._reject(label, email, "server", column, reason, message)

    # -- submitting ----------------------------------------------------------------------

    def submit(self, chunk: Chunk, valid: pd.DataFrame) -> None:
        """Submit one chunk unless the journal says it was already taken care of."""
        base, account = self.key
        if self.stream and self.dedupe == "last":
            self._wait_for_earlier(chunk)
        entry = self.journal.get(base, account, chunk.sha256)
        job = _Job(chunk.number, chunk.sha256, chunk.index, chunk.emails)
        job.from_journal = entry is not None and entry.state != "rejected"
        if entry is not None and entry.state in ("submitted", "finished", "verified"):
            job.import_id = entry.import_id
            job.status = entry.status or entry.state
            if entry.state == "verified":
                job.status = "verified"
            job.created, job.updated, job.over_limit = (
                entry.created,
                entry.updated,
                entry.over_limit,
            )
            job.submitted_at, job.finished_at = entry.submitted_at, entry.finished_at
            self._add(job)
            return
        if entry is not None and entry.state in ("submitting", "uncertain"):
            # A crash or a dropped connection after sending: resolved by an export at the end.
            job.status, job.body, job.submitted_at = "uncertain", chunk.body, entry.submitted_at
            self._add(job)
            return
        if entry is not None and entry.state == "rejected":
            self._apply_422(chunk, valid, entry.detail)
            return
        self.journal.begin(base, account, chunk.sha256, chunk=chunk.number, rows=chunk.rows)
        job.submitted_at = time.time()
        try:
            answer = self.client.imports.create(chunk.body)
        except ValidationError as exc:
            detail = [[e.email or "", e.attribute, e.message] for e in exc.errors]
            self.journal.rejected(base, account, chunk.sha256, detail=detail)
            self._apply_422(chunk, valid, detail)
            return
        except TransportError as exc:
            if exc.sent:
                self.journal.uncertain(base, account, chunk.sha256)
                job.status, job.body = "uncertain", chunk.body
                self._add(job)
                return
            self.journal.forget(base, account, chunk.sha256)
            self._reject_chunk(chunk, "", "submit_failed", str(exc))
            return
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            self.journal.forget(base, account, chunk.sha256)
            raise
        except MailtrapError as exc:
            # The server answered "not done" (5xx/429 after retries): nothing was taken.
            self.journal.forget(base, account, chunk.sha256)
            self._reject_chunk(chunk, "", "submit_failed", str(exc))
            return
        job.import_id, job.status = int(answer["id"]), str(answer.get("status", "created"))
        self.journal.submitted(
            base, account, chunk.sha256, import_id=job.import_id, status=job.status
        )
        self._add(job)

    def _add(self, job: _Job) -> None:
        self.jobs.append(job)
        self.progress.submitted(len(job.index))
        if job.status in FINAL_STATUSES:
            self.progress.finished()

    def _apply_422(self, chunk: Chunk, valid: pd.DataFrame, detail: list[list[str]]) -> None:
        """Reject the rows the server named; resubmit the rest of the chunk."""
        by_email: dict[str, list[tuple[str, str]]] = {}
        for email, attribute, message in detail:
            if email:
                by_email.setdefault(email.strip().lower(), []).append((attribute, message))
        lowered = chunk.emails.astype(str).str.lower()
        named = lowered.isin(by_email).to_numpy()
        if not named.any():
            # A base error, or emails we did not send: the whole chunk is refused.
            messages = (
                "; ".join(
                    dict.fromkeys(
                        f"{a}: {m}" if a not in ("base", "error") else m for _, a, m in detail
                    )
                )
                or "rejected"
            )
            column = detail[0][1] if len(detail) == 1 else ""
            self._reject_chunk(chunk, column, "server_rejected", messages)
            return
        for label, email, low in zip(
            chunk.index[named], chunk.emails[named], lowered[named], strict=True
        ):
            for attribute, message in by_email[low]:
                self._reject(label, email, "server", attribute, "server_rejected", message)
        if self.stream:
            origin = valid.loc[chunk.index[named]]
            self.retry_rows.append(origin)  # typed values, the best a stream can give back
        rest = valid.loc[chunk.index[~named]]
        fields = {c: t for c, t in self._types().items() if c in rest.columns}
        for again in encode_chunks(
            rest,
            fields,
            list_ids_included=self.list_ids,
            list_ids_excluded=self.exclude_list_ids,
            chunk_size=max(1, len(rest)),
            start=chunk.number,
        ):
            self.submit(again, valid)

    def _types(self) -> dict[str, str]:
        return {str(f["merge_tag"]): str(f["data_type"]) for f in self.specs}

    def _wait_for_earlier(self, chunk: Chunk) -> None:
        """dedupe="last" across a stream: the job holding an earlier row must finish first."""
        keys = email_hashes(chunk.emails)
        found, values = self.seen.lookup(keys)
        earlier = set(values[found].tolist())
        self.seen.insert(keys, np.full(len(keys), chunk.number, dtype=np.int64))
        if earlier:
            self.poll(
                until=lambda: all(
                    j.status in FINAL_STATUSES for j in self.jobs if j.chunk in earlier
                )
            )

    # -- polling -------------------------------------------------------------------------

    def poll(self, until: Callable[[], bool] | None = None) -> None:
        """Poll the oldest unfinished job, backing off, until all (or ``until``) are done."""
        delay = self.poll_interval
        while True:
            pending = [
                j for j in self.jobs if j.import_id is not None and j.status not in FINAL_STATUSES
            ]
            if not pending or (until is not None and until()):
                return
            job = pending[0]
            assert job.import_id is not None
            data = self.client.imports.get(job.import_id)
            status = str(data.get("status", ""))
            job.status = status
            if status in FINAL_STATUSES:
                self._finished(job, data)
                continue  # the next job may be done too: ask at once
            self.progress.waiting(2 * len(pending))
            self.sleep(delay)
            delay = min(delay * 2, self.max_poll_interval)

    def _finished(self, job: _Job, data: Mapping[str, Any]) -> None:
        base, account = self.key
        job.finished_at = time.time()
        job.created = data.get("created_contacts_count")
        job.updated = data.get("updated_contacts_count")
        job.over_limit = data.get("contacts_over_limit_count")
        state: Literal["finished", "failed"] = "finished" if job.status == "finished" else "failed"
        self.journal.finished(
            base,
            account,
            job.sha256,
            state=state,
            status=job.status,
            created=job.created,
            updated=job.updated,
            over_limit=job.over_limit,
        )
        self.progress.finished()

    # -- uncertain chunks ----------------------------------------------------------------

    def resolve_uncertain(self) -> None:
        """One export decides each uncertain chunk: verified, or submitted again."""
        uncertain = [j for j in self.jobs if j.status == "uncertain"]
        if not uncertain:
            return
        self.poll()
        # A job accepted just before the connection dropped may still be running.
        ran = [
            j.finished_at - j.submitted_at for j in self.jobs if j.finished_at and j.submitted_at
        ]
        self.sleep(min(30.0, max([1.0, *ran])))
        present = self._export(uncertain)
        base, account = self.key
        for job in uncertain:
            assert job.body is not None
            if _all_present(orjson.loads(job.body)["contacts"], present, self._types()):
                job.status = "verified"
                self.journal.finished(
                    base, account, job.sha256, state="verified", status="verified"
                )
                self.progress.finished()
                job.body = None
                continue
            job.status = "not_found"
            self.journal.forget(base, account, job.sha256)
            again = Chunk(job.chunk, job.index, job.emails, job.body, job.sha256)
            job.body = None
            self.submit(again, pd.DataFrame())
        self.poll()
        for job in [j for j in self.jobs if j.status == "uncertain"]:
            job.status = "lost"
            for label, email in zip(job.index, job.emails, strict=True):
                self._reject(
                    label,
                    email,
                    "server",
                    "",
                    "uncertain",
                    "the connection dropped after sending, twice; run again to check",
                )

    def _export(self, uncertain: Sequence[_Job]) -> dict[str, dict[str, Any]]:
        """email (lower-cased) -> typed export row, for the emails of ``uncertain`` only.

        The package's own reader does the work (one CSV parser in the package);
        only the rows we need are turned into Python values.
        """
        from mailtrap_pandas.jobs.exports import read_export

        snapshot = read_export(self.client, progress=False)
        wanted = pd.Index(
            np.concatenate([j.emails.astype(str).str.lower().to_numpy() for j in uncertain])
        )
        if snapshot.empty:
            return {}
        keys = snapshot["email"].astype(str).str.strip().str.lower()
        hit = keys.isin(wanted).to_numpy()
        rows = snapshot[hit].to_dict("records")
        return {
            str(k): {str(c): v for c, v in r.items()} for k, r in zip(keys[hit], rows, strict=True)
        }

    # -- gathering -----------------------------------------------------------------------

    def result(self, source: pd.DataFrame | None) -> ImportResult:
        self.progress.close()
        done = [j for j in self.jobs if j.status in ("finished", "verified")]
        failed = [j for j in self.jobs if j.status == "failed"]
        rejected_rows = list(self.rejected)
        for job in failed:
            for label, email in zip(job.index, job.emails, strict=True):
                rejected_rows.append(
                    {
                        "row": label,
                        "email": str(email),
                        "stage": "server",
                        "column": "",
                        "reason": "import_failed",
                        "message": f"import {job.import_id} ended with status 'failed'",
                    }
                )
        rejected = empty_rejected()
        if rejected_rows:
            frame = pd.DataFrame(rejected_rows)
            rejected = frame[REJECTED_COLUMNS].astype("string").set_index(pd.Index(frame["row"]))
            rejected.index.name = None
        dups = [d for d in self.duplicates if len(d)]
        duplicates = (
            pd.concat(dups, ignore_index=True)
            if dups
            else pd.DataFrame({"row": [], "email": [], "kept_row": []})
        )
        if done:
            labels = pd.Index(np.concatenate([np.asarray(j.index, dtype=object) for j in done]))
            emails = pd.concat([j.emails for j in done]).astype(str).str.lower().to_numpy()
        else:
            labels, emails = pd.Index([]), np.array([], dtype=object)
        if self.stream and self.dedupe == "last" and len(labels):
            # The same email imported by two jobs: the later one (submitted after the
            # earlier finished) won; the earlier row is a duplicate.
            order = pd.Series(emails)
            superseded = order.duplicated(keep="last").to_numpy()
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
        skips = [s for s in self.skipped if len(s)]
        skipped = pd.concat(skips) if skips else empty_skipped()
        jobs = pd.DataFrame(
            [
                {
                    "chunk": j.chunk,
                    "rows": len(j.index),
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
                }
                for j in self.jobs
            ],
            columns=JOB_COLUMNS,
        )
        for col in ("chunk", "rows", "import_id", "created", "updated", "over_limit"):
            jobs[col] = jobs[col].astype("Int64")
        jobs["status"] = jobs["status"].astype("string")
        jobs["seconds"] = jobs["seconds"].astype("Float64")
        jobs["from_journal"] = jobs["from_journal"].astype("boolean")
        counted = jobs[jobs["status"] == "finished"]
        return ImportResult(
            created=int(counted["created"].fillna(0).sum()),
            updated=int(counted["updated"].fillna(0).sum()),
            over_limit=int(counted["over_limit"].fillna(0).sum()),
            rejected=rejected,
            jobs=jobs,
            duplicates=duplicates,
            skipped=skipped,
            imported_index=labels,
            requests=self.client.stats["requests"] - self.requests_at_start,
            _source=source,
            _retry_rows=pd.concat(self.retry_rows) if self.retry_rows else None,
        )

    def finish(self, source: pd.DataFrame | None) -> ImportResult:
        self.poll()
        self.resolve_uncertain()
        return self.result(source)


def _ts(value: float | None) -> pd.Timestamp | None:
    return None if value is None else pd.Timestamp(value, unit="s", tz="UTC")


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, list | np.ndarray) and bool(pd.isna(value)))


def _same(cell: Any, value: Any, data_type: str) -> bool:
    """Does the typed export value ``cell`` equal the JSON value ``value`` we sent?"""
    if _missing(cell):
        return False
    if data_type == "integer":
        return bool(int(cell) == int(value))
    if data_type == "float":
        return bool(float(cell) == float(value))
    if data_type == "boolean":
        return bool(cell) is bool(value)
    if data_type == "date":
        return bool(str(cell)[:10] == value)  # datetime.date or Timestamp -> yyyy-mm-dd
    return bool(str(cell) == value)


def _all_present(
    contacts: list[dict[str, Any]],
    present: Mapping[str, Mapping[str, Any]],
    types: Mapping[str, str],
) -> bool:
    """Are these contacts in the export with the values and list ids we sent?"""
    for contact in contacts:
        row = present.get(str(contact["email"]).lower())
        if row is None:
            return False
        for tag, value in contact.get("fields", {}).items():
            if not _same(row.get(tag), value, types.get(tag, "text")):
                return False
        stored = row.get("list_ids")
        lists = set() if stored is None or _missing(stored) else {int(x) for x in stored}
        if not set(contact.get("list_ids_included", [])) <= lists:
            return False
        if set(contact.get("list_ids_excluded", [])) & lists:
            return False
    return True


# -- the public functions ------------------------------------------------------------------


def _prepare(
    client: Client | None, fields: Sequence[Mapping[str, Any]] | None, chunk_size: int
) -> tuple[Client, list[dict[str, Any]], int]:
    from mailtrap_pandas.jobs.validation import account_fields

    size = check_chunk_size(chunk_size)
    client = ensure_client(client)
    specs = [dict(f) for f in fields] if fields is not None else account_fields(client)
    return client, specs, size


def _check_lists(
    client: Client, list_ids: Sequence[int] | None, exclude_list_ids: Sequence[int] | None
) -> None:
    """Refuse unknown list ids now: the API would reject every chunk whole (422)."""
    wanted = set(list_ids_arg(list_ids, "list_ids")) | set(
        list_ids_arg(exclude_list_ids, "exclude_list_ids")
    )
    if not wanted:
        return
    missing = sorted(wanted - {int(x["id"]) for x in client.lists.list()})
    if missing:
        raise InputError(
            f"list id(s) {missing} do not exist in this account; "
            "see client.lists.list() or create them with client.lists.create(name)"
        )


def import_contacts(
    source: Source,
    client: Client | None = None,
    *,
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: Mapping[Any, str] | None = None,
    chunk_size: int = 50_000,
    nulls: str = "skip",
    dedupe: str = "last",
    unknown: str = "report",
    journal: str | os.PathLike[str] | bool | Journal | None = DEFAULT_JOURNAL,
    progress: bool = True,
    wait: bool = True,
    poll_interval: float = 1.0,
    max_poll_interval: float = 30.0,
    fields: Sequence[Mapping[str, Any]] | None = None,
    mode: Mode = "upsert",
) -> ImportResult:
    """Validate, chunk and bulk-import contacts; every input row is accounted for.

    Parameters
    ----------
    source : DataFrame, iterable of DataFrames, path or pyarrow dataset
        One row per contact with an email column. Paths: ``.parquet`` (read in
        record batches), ``.csv``/``.csv.gz`` (read in chunks, as text), or a
        folder (a pyarrow dataset). Streams keep memory bounded.
    client : Client, optional
        Built from the environment when omitted.
    list_ids, exclude_list_ids : sequence of int, optional
        Lists every contact is added to / removed from.
    columns : dict, optional
        Frame column -> merge tag (or ``"email"``) for names that don't match.
    chunk_size : int
        Contacts per import request, 1..50,000.
    nulls : {"skip", "error"}
        ``"skip"`` leaves missing values out, so stored values survive.
    dedupe : {"last", "first", "error"}
        Which row wins when an email repeats (see the module notes for streams).
    unknown : {"report", "error", "ignore"}
        Columns that match no field (never sent).
    journal : path, bool or Journal
        Where chunk submissions are recorded for resume; default the user's
        cache folder (``MAILTRAP_PANDAS_JOURNAL`` overrides), ``False`` off.
    progress : bool
        Show a ``tqdm.auto`` bar; ``False`` prints nothing.
    wait : bool
        ``False``: return right after submitting; ``result.wait()`` (or running
        the same call again) polls the jobs to the end.
    poll_interval, max_poll_interval : float
        Back-off bounds (seconds) of job polling.
    fields : list of dict, optional
        Field definitions (``{"name", "data_type", "merge_tag"}``); fetched
        with one request when omitted.
    mode : {"upsert", "update_only", "create_only"}
        ``"upsert"`` (the API's own behaviour) creates new contacts and updates
        existing ones. ``"update_only"`` sends only rows whose email is already
        in the account, ``"create_only"`` only rows whose email is not. Both
        take ONE export of the account first (never one request per contact)
        and compare emails case-insensitively; the other valid rows go to
        :attr:`ImportResult.skipped`. The snapshot is the reference: a contact
        created by someone else after it was taken is not seen, and on a re-run
        of ``"create_only"`` the rows an earlier run created are skipped as
        ``exists`` (nothing is sent twice).

    Returns
    -------
    ImportResult
        Every input row is in exactly one of ``imported_index``, ``rejected``,
        ``duplicates`` and ``skipped``.

    Raises
    ------
    InputError
        Bad arguments or an unreadable source.
    AuthenticationError, PermissionDeniedError, NotFoundError
        The import cannot go on at all (already submitted chunks stay in the
        journal: run again once fixed).
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    start = client.stats["requests"] if client is not None else 0
    client, specs, size = _prepare(client, fields, chunk_size)
    _check_lists(client, list_ids, exclude_list_ids)
    frames, total, stream = open_source(source, size)
    existing = None
    if mode != "upsert":
        from mailtrap_pandas.jobs.exports import read_export

        existing = set(email_key(read_export(client, progress=progress)["email"]).dropna())
    bar = Progress(progress, total, client.budget)
    run = _Run(
        client=client,
        journal=open_journal(journal),
        specs=specs,
        list_ids=list_ids,
        exclude_list_ids=exclude_list_ids,
        chunk_size=size,
        progress=bar,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        validate_kw={"columns": columns, "nulls": nulls, "dedupe": dedupe, "unknown": unknown},
        dedupe=dedupe,
        stream=stream,
        mode=mode,
        existing=existing,
        requests_at_start=start,
    )
    kept = source if isinstance(source, pd.DataFrame) else None
    try:
        for frame in frames:
            for chunk, valid in run.plan(frame):
                run.submit(chunk, valid)
        if not wait:
            result = run.result(kept)

            def finish() -> ImportResult:
                run.requests_at_start = client.stats["requests"]
                return run.finish(kept)

            result._finish = finish
            return result
        return run.finish(kept)
    finally:
        bar.close()


def to_import_payloads(
    df: Source,
    client: Client | None = None,
    *,
    chunk_size: int = 50_000,
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: Mapping[Any, str] | None = None,
    nulls: str = "skip",
    dedupe: str = "last",
    unknown: str = "report",
    fields: Sequence[Mapping[str, Any]] | None = None,
) -> Iterator[bytes]:
    """The exact JSON bodies :func:`import_contacts` would POST, sending nothing.

    Only the field definitions are fetched (one GET) when ``fields`` is not
    given. Rows that fail validation are left out, as an import would.

    There is no ``mode``: a dry run takes no export of the account, so it cannot
    know which emails exist. Its bodies are those of ``mode="upsert"``; with
    ``"update_only"``/``"create_only"`` an import sends a subset of these rows.

    Yields
    ------
    bytes
        One ``{"contacts": [...]}`` body per chunk.
    """
    client_, specs, size = _prepare(client, fields, chunk_size)
    frames, _, stream = open_source(df, size)
    run = _Run(
        client=client_,
        journal=Journal(":memory:"),
        specs=specs,
        list_ids=list_ids,
        exclude_list_ids=exclude_list_ids,
        chunk_size=size,
        progress=Progress(False, None),
        poll_interval=1.0,
        max_poll_interval=30.0,
        validate_kw={"columns": columns, "nulls": nulls, "dedupe": dedupe, "unknown": unknown},
        dedupe=dedupe if dedupe != "last" else "first",  # a dry run can't wait on jobs
        stream=stream,
    )
    for frame in frames:
        for chunk, _valid in run.plan(frame):
            yield chunk.body
