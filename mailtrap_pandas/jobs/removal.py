"""Bulk delete, unsubscribe and resubscribe: one request per contact, paced, guarded, resumable.

The API has no bulk delete, so each contact costs one request under the client's shared
budget; the run says its paced ETA before starting (``budget.seconds_for``).

- **Matching.** By email, normalized and deduplicated exactly as validation does
  (:func:`~mailtrap_pandas.frames.emails.normalize_emails`; a missing or invalid address
  fails without a request), or by contact id when the frame has an ``id`` column (an
  export's UUIDs) and ``email=`` is not given.
- **Guard.** More distinct contacts than ``max_delete`` raises :class:`RemovalLimitError`
  before any request.
- **Unsubscribe by email.** ``PATCH`` by email is an upsert: it would *create* a contact
  for an unknown address. So the run takes ONE export (id, email, status) first, reports
  addresses the account lacks as ``not_found`` and PATCHes the others by their UUID;
  contacts already in the wanted state are done without a request.
- **Resume.** Both verbs are idempotent, so retries are safe. A ledger table in the one
  store (:class:`~mailtrap_pandas.jobs.store.RemovalLedger`, keyed hashes only) marks a row
  ``sending`` before its request and ``done``/``not_found`` after, so a re-run of the same
  targets sends only what is left, and a 404 for a row an earlier attempt may have deleted
  counts as done, not "never there". A run that settles every row drops its ledger rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import APIError, InputError, NotFoundError, TransportError
from mailtrap_pandas.frames.emails import email_key, normalize_emails
from mailtrap_pandas.jobs.exports import read_export
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.jobs.removal_result import RemovalResult, outcome_frame
from mailtrap_pandas.jobs.sources import Source, open_source
from mailtrap_pandas.jobs.store import Journal, RemovalLedger, open_journal
from mailtrap_pandas.modes import Status

__all__ = ["RemovalLimitError", "RemovalResult", "delete_contacts", "resubscribe", "unsubscribe"]

log = logging.getLogger(__name__)

Verb = Literal["delete", "unsubscribe", "resubscribe"]
Category = Literal["done", "not_found", "failed", "uncertain", "planned"]

DEFAULT_MAX_DELETE = 1000
_BATCH_ROWS = 50_000
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class _Action:
    """What one verb does to one contact: the request, the status after it, the words."""

    past: str  # "deleted", for messages
    status: Status | None  # the contact's status afterwards; None: the contact is gone

    def send(self, client: Client, ident: str) -> None:
        """The one request for the contact ``ident`` (a UUID, or an email for delete)."""
        if self.status is None:
            client.contacts.delete(ident)
        else:
            client.contacts.set_unsubscribed(ident, self.status == "unsubscribed")


#: Every verb's action, so the run below never branches on the verb's name to act.
_ACTIONS: dict[Verb, _Action] = {
    "delete": _Action("deleted", None),
    "unsubscribe": _Action("unsubscribed", "unsubscribed"),
    "resubscribe": _Action("resubscribed", "subscribed"),
}


class RemovalLimitError(InputError):
    """More contacts than ``max_delete``: nothing was sent.

    Attributes
    ----------
    count : int
        Distinct contacts the run would act on.
    limit : int
        The ``max_delete`` given.
    parameter : str
        ``"max_delete"``, the parameter to raise.
    """

    def __init__(self, verb: str, count: int, limit: int) -> None:
        self.verb = verb
        self.count = count
        self.limit = limit
        self.parameter = "max_delete"
        super().__init__(
            f"{verb}: {count:,} contacts is more than max_delete={limit:,}; nothing was sent. "
            f"Check the frame (dry_run=True lists them), then pass max_delete={count} "
            "if you mean it"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.verb, self.count, self.limit))


@dataclass
class _Row:
    """One input row and, once known, its outcome."""

    label: Hashable
    email: str | None
    id: str | None
    key: str | None = None  # what the account compares: email key or lower-cased id
    outcome: tuple[Category, str, str] | None = None  # (category, reason, message)
    first: int | None = None  # position of the row that stands for this contact


@dataclass
class Removal:
    """One run of a verb over a source: collect -> guard -> (export) -> send -> result."""

    verb: Verb
    client: Client
    email: str | None
    max_delete: int
    dry_run: bool
    progress: bool
    rows: list[_Row] = field(default_factory=list)
    by_id: bool = False
    _firsts: dict[str, int] = field(default_factory=dict)

    @property
    def action(self) -> _Action:
        """What this run's verb does to each contact."""
        return _ACTIONS[self.verb]

    # -- collect: read the source once, keeping only labels, emails and ids ---------------

    def collect(self, source: Source) -> None:
        """Read every row of ``source``; find each one's contact key (no request)."""
        frames, _, _ = open_source(source, _BATCH_ROWS)
        first = True
        for frame in frames:
            if first:
                self._choose_column(frame)
                first = False
            if self.by_id:
                self._collect_ids(frame)
            else:
                self._collect_emails(frame, str(self.email or "email"))

    def _choose_column(self, frame: pd.DataFrame) -> None:
        self.by_id = self.email is None and "id" in frame.columns
        column = "id" if self.by_id else (self.email or "email")
        if column not in frame.columns:
            raise InputError(
                f"column {column!r} not in the frame; it has {[str(c) for c in frame.columns]}. "
                "Pass email='<column>' to match by another email column"
            )

    def _collect_emails(self, frame: pd.DataFrame, column: str) -> None:
        emails = normalize_emails(frame[column])
        normalized = emails.normalized.to_pylist()
        keys = emails.key.to_pylist()
        raw = frame[column].tolist()
        for pos, label in enumerate(frame.index):
            if emails.missing[pos]:
                row = _Row(label, None, None)
                row.outcome = ("failed", "missing_email", f"column {column!r} is empty")
            elif normalized[pos] is None:
                row = _Row(label, str(raw[pos]), None)
                row.outcome = ("failed", "invalid_email", "not a valid email address")
            else:
                row = _Row(label, normalized[pos], None, key=keys[pos])
            self._add(row)

    def _collect_ids(self, frame: pd.DataFrame) -> None:
        ids = frame["id"].astype("string").str.strip()
        shown = frame["email"].astype("string") if "email" in frame.columns else None
        for pos, label in enumerate(frame.index):
            value = ids.iloc[pos]
            email = None if shown is None or pd.isna(shown.iloc[pos]) else str(shown.iloc[pos])
            if pd.isna(value) or not value:
                row = _Row(label, email, None)
                row.outcome = ("failed", "missing_id", "column 'id' is empty")
            elif not _UUID.match(str(value)):
                # Never sent: the API would read a non-UUID identifier as an email.
                row = _Row(label, email, str(value))
                row.outcome = ("failed", "invalid_id", "not a contact id (a UUID from an export)")
            else:
                row = _Row(label, email, str(value), key=str(value).lower())
            self._add(row)

    def _add(self, row: _Row) -> None:
        if row.key is not None:
            seen = self._firsts.get(row.key)
            if seen is None:
                self._firsts[row.key] = len(self.rows)
            else:
                row.first = seen
        self.rows.append(row)

    # -- guard --------------------------------------------------------------------------

    def guard(self) -> None:
        """Refuse more distinct contacts than ``max_delete``, before any request."""
        if not self.dry_run and len(self._firsts) > self.max_delete:
            raise RemovalLimitError(self.verb, len(self._firsts), self.max_delete)

    # -- run ----------------------------------------------------------------------------

    def run(self, store: Journal) -> RemovalResult:
        """Send what is left, row by row, under the ledger; return the result."""
        stats = dict(self.client.stats)
        ledger = RemovalLedger(store)
        account = f"{self.client.base_url}|{self.client.account_id}"
        mode = "id" if self.by_id else "email"
        digests = {key: ledger.digest(account, mode, key) for key in self._firsts}
        job = ledger.digest(account, self.verb, mode, *sorted(digests.values()))
        before = ledger.statuses(job)
        targets = [self.rows[pos] for pos in self._firsts.values()]
        for row in targets:
            status = before.get(digests[str(row.key)])
            settled: Category | None = (
                "done" if status == "done" else "not_found" if status == "not_found" else None
            )
            if settled is not None:
                row.outcome = (settled, "earlier_run", "settled by an earlier run of the same job")
        todo = [row for row in targets if row.outcome is None]
        if self.action.status is not None and not self.by_id and todo and not self.dry_run:
            todo = self._resolve_ids(todo)
        result = RemovalResult(self.verb, rows=len(self.rows), dry_run=self.dry_run)
        result.eta_seconds = self.client.budget.seconds_for(len(todo))
        budget = self.client.budget
        with Progress(self.progress, len(self.rows), budget, self.verb, logger=log) as bar:
            bar.update(len(self.rows) - len(todo))
            if todo:
                bar.announce(self._eta_text(len(todo), result.eta_seconds))
            for done, row in enumerate(todo):
                if self.dry_run:
                    row.outcome = ("planned", "", f"would be {self.action.past}")
                else:
                    key = digests[str(row.key)]
                    row.outcome = self._send(row, ledger, job, key, before.get(key) == "sending")
                bar.update(1)
                if done % 25 == 0:
                    bar.waiting(len(todo) - done)
        self._fill(result)
        unsettled = len(result.uncertain) or any(
            r.outcome is not None and r.outcome[1] in _SENT_FAILURES for r in targets
        )
        if not self.dry_run and not unsettled:
            ledger.finish(job)
        result.requests = self.client.stats["requests"] - stats["requests"]
        result.retries = self.client.stats["retries"] - stats["retries"]
        return result

    def _eta_text(self, n: int, seconds: float) -> str:
        budget = self.client.budget
        limits = ", ".join(f"{w.limit}/{w.period:g}s per {w.scope}" for w in budget.windows)
        if not limits:
            pace = "not paced"
        elif seconds < 1:
            pace = f"within the rate limit ({limits}): no waiting"
        else:
            pace = f"at least {_duration(seconds)} at {limits}"
        head = "dry run, nothing sent: " if self.dry_run else ""
        return f"{head}{self.verb}: {n:,} contacts, one request each; {pace}"

    def _resolve_ids(self, todo: list[_Row]) -> list[_Row]:
        """ONE export: unknown addresses are not found, contacts already so are done."""
        export = read_export(self.client, columns=["id", "email", "status"], progress=self.progress)
        known = dict(
            zip(
                email_key(export["email"]),
                zip(export["id"], export["status"].astype(str), strict=True),
                strict=True,
            )
        )
        left = []
        for row in todo:
            found = known.get(str(row.key))
            if found is None:
                row.outcome = ("not_found", "not_found", "no contact with this email")
                continue
            row.id = str(found[0])
            if found[1] == self.action.status:
                row.outcome = ("done", "unchanged", f"already {found[1]}")
                continue
            left.append(row)
        return left

    def _send(
        self, row: _Row, ledger: RemovalLedger, job: str, key: str, earlier: bool
    ) -> tuple[Category, str, str]:
        """One request under the ledger; ``earlier``: a past run may have sent it already."""
        ident = str(row.id if row.id is not None else row.email)
        ledger.mark(job, key, "sending")
        past = self.action.past
        try:
            self.action.send(self.client, ident)
        except NotFoundError as exc:
            if self.verb == "delete" and (earlier or exc.earlier_attempt_sent):
                ledger.mark(job, key, "done")
                return "done", past, "404 after an attempt that may have deleted it: gone"
            ledger.mark(job, key, "not_found")
            return "not_found", "not_found", "the account has no such contact (404)"
        except TransportError as exc:
            if exc.sent:
                return "uncertain", "outcome_unknown", str(exc)
            if not earlier:
                ledger.forget(job, key)
            return "failed", "not_sent", str(exc)
        except APIError as exc:
            if exc.status >= 500:
                return "uncertain", "outcome_unknown", str(exc)
            if not earlier and not exc.earlier_attempt_sent:
                ledger.forget(job, key)
            messages = "; ".join(f"{e.attribute}: {e.message}" for e in exc.errors)
            return "failed", f"rejected_{exc.status}", messages or str(exc)
        ledger.mark(job, key, "done")
        return "done", past, ""

    # -- result -------------------------------------------------------------------------

    def _fill(self, result: RemovalResult) -> None:
        groups: dict[str, tuple[list[dict[str, Any]], list[Hashable]]] = {}
        for row in self.rows:
            outcome = row.outcome
            if row.first is not None:  # a repeat of a contact above: its outcome, said so
                head = self.rows[row.first]
                assert head.outcome is not None
                message = f"same contact as row {head.label!r}"
                outcome = (head.outcome[0], head.outcome[1], message)
                row.id = row.id or head.id
            assert outcome is not None
            records, labels = groups.setdefault(outcome[0], ([], []))
            records.append(
                {"email": row.email, "id": row.id, "reason": outcome[1], "message": outcome[2]}
            )
            labels.append(row.label)
        for name in ("done", "not_found", "failed", "uncertain", "planned"):
            records, labels = groups.get(name, ([], []))
            setattr(result, name, outcome_frame(records, labels))


#: Failure reasons after a request: the job stays in the ledger so a re-run resumes it.
_SENT_FAILURES = ("not_sent",) + tuple(f"rejected_{s}" for s in range(400, 500))


def _duration(seconds: float) -> str:
    """``"14 min"``, ``"40 s"``, ``"2.5 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _remove(
    verb: Verb,
    source: Source,
    client: Client | None,
    email: str | None,
    dry_run: bool,
    max_delete: int,
    journal: bool | str | Path | Journal | None,
    progress: bool | None,
) -> RemovalResult:
    if isinstance(max_delete, bool) or not isinstance(max_delete, int) or max_delete < 0:
        raise InputError(f"max_delete must be a non-negative integer, not {max_delete!r}")
    job = Removal(
        verb,
        ensure_client(client),
        email=email,
        max_delete=max_delete,
        dry_run=dry_run,
        progress=True if progress is None else bool(progress),
    )
    job.collect(source)
    job.guard()
    store = open_journal(journal)
    try:
        return job.run(store)
    finally:
        if store is not journal:  # ours to close; a Journal passed in stays open
            store.close()


def delete_contacts(
    source: Source,
    client: Client | None = None,
    *,
    email: str | None = None,
    dry_run: bool = False,
    max_delete: int = DEFAULT_MAX_DELETE,
    journal: bool | str | Path | Journal | None = None,
    progress: bool | None = None,
) -> RemovalResult:
    """Delete the contacts of a frame (or file, or stream): one paced request each, resumable.

    Parameters
    ----------
    source : DataFrame, path, iterable of DataFrames, pyarrow Table or Dataset
        One row per contact. A file or stream is read once, keeping only each row's
        label and email (or id).
    client : Client, optional
        Defaults to ``Client()`` from the environment.
    email : str, optional
        The column of emails. By default the contacts are matched by the ``id`` column
        when there is one (a frame from an export), else by ``email``.
    dry_run : bool
        Send nothing: ``result.planned`` lists the rows that would be sent a DELETE.
    max_delete : int
        Refuse (:class:`RemovalLimitError`, before any request) to act on more distinct
        contacts than this.
    journal : bool, str, Path or Journal, optional
        The store whose ledger makes a re-run resume: default file when ``None`` or
        ``True``, a path, or ``False`` for an in-memory one (no resume).
    progress : bool, optional
        Show a progress bar and, before starting, the paced ETA (default: yes).

    Returns
    -------
    RemovalResult
        ``.done`` (deleted), ``.not_found`` (a 404: already gone, which is success too),
        ``.failed`` (no usable email or id; a refused request), ``.uncertain``.

    Raises
    ------
    RemovalLimitError
        More distinct contacts than ``max_delete``.
    InputError
        The email (or id) column is missing.

    Notes
    -----
    Deleting a contact removes it from every list; its custom events stay on the
    account's side but can no longer be reached through the API. Sending-side
    suppressions (Email Sending) are a different product and are not changed.

    Examples
    --------
    >>> import pandas as pd
    >>> from mailtrap_pandas import Emulator
    >>> with Emulator(rate_limit=None) as emu, emu.client() as client:
    ...     _ = client.contacts.create("ann@example.com")
    ...     frame = pd.DataFrame({"email": ["ANN@example.com", "nobody@example.com"]})
    ...     result = delete_contacts(frame, client, journal=False, progress=False)
    >>> result.done["email"].tolist(), result.not_found["email"].tolist()
    (['ANN@example.com'], ['nobody@example.com'])
    """
    return _remove("delete", source, client, email, dry_run, max_delete, journal, progress)


def unsubscribe(
    source: Source,
    client: Client | None = None,
    *,
    email: str | None = None,
    dry_run: bool = False,
    max_delete: int = DEFAULT_MAX_DELETE,
    journal: bool | str | Path | Journal | None = None,
    progress: bool | None = None,
) -> RemovalResult:
    """Unsubscribe the contacts of a frame (or file, or stream); create none.

    Parameters are those of :func:`delete_contacts`; ``max_delete`` guards the same way.
    Matched by email, the run first takes ONE export (a PATCH by email would create an
    unknown address): addresses the account lacks come back in ``.not_found`` without a
    request, contacts already unsubscribed in ``.done`` (reason ``unchanged``), the
    others are PATCHed by id. Matched by ``id``, each row is one PATCH (a 404 is
    ``.not_found``).

    Returns
    -------
    RemovalResult

    Raises
    ------
    RemovalLimitError
        More distinct contacts than ``max_delete``.
    InputError
        The email (or id) column is missing.
    """
    return _remove("unsubscribe", source, client, email, dry_run, max_delete, journal, progress)


def resubscribe(
    source: Source,
    client: Client | None = None,
    *,
    email: str | None = None,
    dry_run: bool = False,
    max_delete: int = DEFAULT_MAX_DELETE,
    journal: bool | str | Path | Journal | None = None,
    progress: bool | None = None,
) -> RemovalResult:
    """Resubscribe the contacts of a frame (or file, or stream); create none.

    The mirror of :func:`unsubscribe` (``unsubscribed: false``), with the same matching,
    guard and resume. Only re-subscribe people who asked for it.

    Returns
    -------
    RemovalResult

    Raises
    ------
    RemovalLimitError
        More distinct contacts than ``max_delete``.
    InputError
        The email (or id) column is missing.
    """
    return _remove("resubscribe", source, client, email, dry_run, max_delete, journal, progress)
