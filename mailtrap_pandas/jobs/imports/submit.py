"""Submitting import bodies: the journal's state machine, the 422 split, and job polling.

Decisions (also in the README):

- **Journal.** Chunks are keyed by (base URL, account, SHA-256 of the body) in the local store
  (:mod:`mailtrap_pandas.jobs.store`): ``submitting`` before the POST, then ``submitted``,
  ``finished``/``failed``/``verified``, ``uncertain`` or ``rejected``. A re-run after success
  submits nothing and reports the journaled counts; the same data imported again *on purpose*
  needs ``journal=False``.
- **Per-email 422.** The rows the server names go to ``.rejected`` (stage ``"server"``, its
  attribute and message) and the rest of the chunk is re-encoded and resubmitted (a new body, a
  new hash). A 422 that names no email of the chunk rejects the whole chunk with its message:
  each round removes rows, so it always ends.
- **Dropped connection after sending** (``TransportError(sent=True)``, or a ``submitting`` row
  left by a crash): the chunk is *uncertain*, settled at the end by :mod:`.verify`.
- **Other submit failures** (5xx or 429 after the client's retries, a connection refused): the
  chunk's rows are rejected with reason ``"submit_failed"``; other chunks go on.
  401/403/404 stop the import.
- **Polling.** Every chunk is submitted first, then only the *oldest* unfinished job is
  polled, with exponential back-off from ``poll_interval`` (1 s) up to ``max_poll_interval``
  (30 s); when it finishes the next one is polled at once. A K-chunk import costs about K
  submits + K polls + a few back-off polls.
- **Failed job** (``status == "failed"``): imports are upserts, so sending the same body
  again is safe. The chunk is resubmitted at once, as a new job, up to ``retry_failed_jobs``
  times (default 1; 0 = never); only a further failure rejects its rows with reason
  ``"import_failed"``. Bodies wait for that in a :class:`~.spool.Spool` (an unlinked ``0600``
  temporary file), not in memory. ``retry_frame()`` gives rejected rows back, and running the
  same call again resubmits a failed chunk. (Events are never resubmitted: see
  :mod:`mailtrap_pandas.jobs.events`.)
- **dedupe="last" across a stream**: a chunk holding an email of an earlier chunk is submitted
  only once the job holding the earlier row has finished, so the last row wins; the earlier
  row is then reported in ``duplicates``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client
from mailtrap_pandas.api.retry import delays, wait_until
from mailtrap_pandas.errors import (
    AuthenticationError,
    MailtrapError,
    NotFoundError,
    PermissionDeniedError,
    TransportError,
    ValidationError,
)
from mailtrap_pandas.frames.encode import Chunk
from mailtrap_pandas.jobs.imports.job import FINAL_STATUSES, Job
from mailtrap_pandas.jobs.imports.outcomes import Outcomes
from mailtrap_pandas.jobs.imports.planner import Planner
from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.imports.spool import Spool
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.jobs.store import DONE_STATES, Journal

__all__ = ["Submitter"]


@dataclass(eq=False)
class Submitter:
    """Sends the planner's chunks, keeps the journal, and polls the jobs to the end."""

    client: Client
    journal: Journal
    planner: Planner
    outcomes: Outcomes
    progress: Progress
    poll_interval: float
    max_poll_interval: float
    retry_failed_jobs: int = 1
    sleep: Callable[[float], None] = time.sleep
    jobs: list[Job] = field(default_factory=list)
    spool: Spool = field(default_factory=Spool)
    #: Called once per job whose rows are known to be in the account (finished, verified,
    #: or found finished in the journal): an incremental sync confirms its state here.
    on_done: Callable[[Job], None] | None = None
    #: Send a chunk again even when the journal saw the same body finish in an earlier run.
    #: An incremental sync sends a row only when the account lacks its values, so a body
    #: that finished before (and was overwritten since) must go again.
    resend_done: bool = False

    @property
    def key(self) -> tuple[str, str]:
        """(base URL, account): where this import's journal rows belong."""
        return self.client.base_url, self.client.account_id

    def submit(self, chunk: Chunk, valid: pd.DataFrame) -> None:
        """Submit one chunk unless the journal says it was already taken care of."""
        base, account = self.key
        if self.planner.stream and self.planner.dedupe == "last" and self.planner.latest is None:
            self._wait_for_earlier(chunk)
        entry = self.journal.get(base, account, chunk.sha256)
        if entry is not None and self.resend_done and entry.state in DONE_STATES:
            # (pragma: begin() below replaces the row anyway; this says what happens)
            self.journal.forget(base, account, chunk.sha256)  # pragma: no mutate
            entry = None
        job = Job(chunk.number, chunk.sha256, chunk.index, chunk.emails)
        job.from_journal = entry is not None  # (a rejected entry makes no job: see below)
        if entry is not None and entry.state in ("submitted", "finished", "verified"):
            job.import_id = entry.import_id
            job.status = "verified" if entry.state == "verified" else entry.status or entry.state
            job.created, job.updated, job.over_limit = (
                entry.created,
                entry.updated,
                entry.over_limit,
            )
            job.submitted_at, job.finished_at = entry.submitted_at, entry.finished_at
            self._add(job, chunk.body)
            if entry.state in DONE_STATES:
                self.done(job)
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
            # Kept with keyed hashes of the emails: enough to recognize the rows again.
            detail = self.journal.hash_detail(
                # (pragma: an error without an email names no row, whatever stands for it)
                [[e.email or "", e.attribute, e.message] for e in exc.errors]  # pragma: no mutate
            )
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
            # pragma: no mutate start (a column None is recorded as "", as this one)
            self.outcomes.reject_rows(chunk.index, chunk.emails, "", "submit_failed", str(exc))
            # pragma: no mutate end
            return
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            self.journal.forget(base, account, chunk.sha256)
            raise
        except MailtrapError as exc:
            # The server answered "not done" (5xx/429 after retries): nothing was taken.
            self.journal.forget(base, account, chunk.sha256)
            # pragma: no mutate start (a column None is recorded as "", as this one)
            self.outcomes.reject_rows(chunk.index, chunk.emails, "", "submit_failed", str(exc))
            # pragma: no mutate end
            return
        job.import_id = int(answer["id"])
        # (pragma: the API answers "created" to every new import: fallback and answer agree)
        job.status = str(answer.get("status", "created"))  # pragma: no mutate
        self.journal.submitted(
            base, account, chunk.sha256, import_id=job.import_id, status=job.status
        )
        self._add(job, chunk.body)

    def done(self, job: Job) -> None:
        """The rows of ``job`` are in the account: tell :attr:`on_done`, then drop its emails.

        A confirmed job's result needs only its row labels; its emails are kept (in the
        spool) only when a later job of a one-shot stream may supersede its rows
        (``dedupe="last"``, see :func:`~mailtrap_pandas.jobs.imports.result.assemble`).
        Kept for every job, they grew an import's memory by ~30 bytes per row until its end.
        """
        if self.on_done is not None:
            self.on_done(job)
        planner = self.planner
        if not (planner.stream and planner.dedupe == "last" and planner.latest is None):
            # (pragma: empty is empty, whatever its dtype: nothing reads a confirmed job's emails)
            job.emails = pd.Series([], dtype=job.held_emails.dtype)  # pragma: no mutate

    def _add(self, job: Job, body: bytes | None = None) -> None:
        if job.status not in FINAL_STATUSES:
            if body is not None and self.retry_failed_jobs > 0:
                job.spooled = self.spool.put(body)
            # Every chunk is submitted before the first poll: emails held until each job
            # is confirmed grew the import's peak by ~30 bytes per row (import_slope).
            job.park(self.spool)
        self.jobs.append(job)
        self.progress.submitted(job.rows)
        if job.status in FINAL_STATUSES:
            self.progress.finished()

    def _apply_422(self, chunk: Chunk, valid: pd.DataFrame, detail: list[list[str]]) -> None:
        """Reject the rows the server named; resubmit the rest of the chunk.

        ``detail`` names emails by their keyed hash (:meth:`Journal.hash_detail`).
        """
        by_email: dict[str, list[tuple[str, str]]] = {}
        for email, attribute, message in detail:
            if email:
                by_email.setdefault(email, []).append((attribute, message))
        # pragma: no mutate start (by position only: the index, the dtypes and zip's strict
        # below change nothing a test can see; every array has one entry per row)
        keys = pd.Series(
            self.journal.email_hashes(chunk.emails), index=chunk.emails.index, dtype=object
        )
        named = keys.isin(by_email).to_numpy(dtype=bool)
        # pragma: no mutate end
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
            self.outcomes.reject_rows(
                chunk.index, chunk.emails, column, "server_rejected", messages
            )
            return
        # pragma: no mutate start
        hit = zip(chunk.index[named], chunk.emails[named], keys[named], strict=True)
        # pragma: no mutate end
        for label, email, key in hit:
            for attribute, message in by_email[key]:
                self.outcomes.reject(label, email, "server", attribute, "server_rejected", message)
        if self.planner.stream:
            origin = valid.loc[chunk.index[named]]
            self.outcomes.retry_rows.append(origin)  # typed values, the best a stream can give
        rest = valid.loc[chunk.index[~named]]
        fields = {c: t for c, t in self.planner.types.items() if c in rest.columns}
        size = max(1, len(rest))  # pragma: no mutate (one chunk: any size >= its rows does)
        for again in self.planner.encode(rest, fields, chunk_size=size, start=chunk.number):
            self.submit(again, valid)

    def _wait_for_earlier(self, chunk: Chunk) -> None:
        """dedupe="last" across a stream: the job holding an earlier row must finish first."""
        seen = self.planner.seen
        keys = email_hashes(chunk.emails)
        found, values = seen.lookup(keys)
        earlier = set(values[found].tolist())
        # (pragma: np.full of an int is int64 without the dtype too)
        seen.insert(keys, np.full(len(keys), chunk.number, dtype=np.int64))  # pragma: no mutate
        if earlier:
            self.poll(
                until=lambda: all(
                    j.status in FINAL_STATUSES for j in self.jobs if j.chunk in earlier
                )
            )

    def poll(self, until: Callable[[], bool] | None = None) -> None:
        """Poll the oldest unfinished job, backing off, until all (or ``until``) are done."""

        def step() -> bool | None:
            while True:
                pending = [
                    j
                    for j in self.jobs
                    if j.import_id is not None and j.status not in FINAL_STATUSES
                ]
                if not pending or (until is not None and until()):
                    return True  # pragma: no mutate (False is as much "done": not None)
                job = pending[0]
                assert job.import_id is not None
                data = self.client.imports.get(job.import_id)
                # (pragma: the fallback: the API always answers a job's status)
                job.status = str(data.get("status", ""))  # pragma: no mutate
                if job.status not in FINAL_STATUSES:
                    self.progress.waiting(2 * len(pending))
                    return None
                self._finished(job, data)  # the next job may be done too: ask at once
                if job.status == "failed" and job.resubmits < self.retry_failed_jobs:
                    self._resubmit(job)

        wait_until(
            step,
            waits=delays(self.poll_interval, factor=2, cap=self.max_poll_interval),
            sleep=self.sleep,
        )

    def _finished(self, job: Job, data: Mapping[str, Any]) -> None:
        base, account = self.key
        job.finished_at = time.time()
        job.created = data.get("created_contacts_count")
        job.updated = data.get("updated_contacts_count")
        job.over_limit = data.get("contacts_over_limit_count")
        state: Literal["finished", "failed"] = "finished" if job.status == "finished" else "failed"
        if state == "finished":
            # Before the journal's write: a crash between the two then leaves the rows
            # confirmed (not sent again) rather than finished but unconfirmed.
            self.done(job)
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

    def _resubmit(self, job: Job) -> None:
        """Send a failed job's body again, as a new job (an upsert of the same rows)."""
        assert job.spooled is not None
        body = self.spool.get(job.spooled)
        base, account = self.key
        job.resubmits += 1
        self.progress.say(
            f"import {job.import_id} failed: sending chunk {job.chunk} again "
            f"({job.resubmits}/{self.retry_failed_jobs})"
        )
        self.journal.begin(base, account, job.sha256, chunk=job.chunk, rows=job.rows)
        job.submitted_at, job.finished_at = time.time(), None
        job.created = job.updated = job.over_limit = None
        try:
            answer = self.client.imports.create(body)
        except TransportError as exc:
            if exc.sent:
                # As for a first submission: one export settles it at the end. The failed
                # job's id goes: polled by it, the chunk would be marked failed again.
                self.journal.uncertain(base, account, job.sha256)
                job.status, job.body, job.import_id = "uncertain", body, None
                self.progress.finished(-1)
                return
            self._still_failed(job)
            return
        except (AuthenticationError, PermissionDeniedError, NotFoundError):
            self._still_failed(job)
            raise
        except MailtrapError:
            # A 422, 5xx or 429 after retries: the server took nothing; the rows stay failed.
            self._still_failed(job)
            return
        job.import_id = int(answer["id"])
        # (pragma: the API answers "created" to every new import: fallback and answer agree)
        job.status = str(answer.get("status", "created"))  # pragma: no mutate
        self.journal.submitted(
            base, account, job.sha256, import_id=job.import_id, status=job.status
        )
        self.progress.finished(-1)  # counted again when the new job ends

    def _still_failed(self, job: Job) -> None:
        base, account = self.key
        job.status, job.finished_at = "failed", time.time()
        self.journal.finished(base, account, job.sha256, state="failed", status="failed")
