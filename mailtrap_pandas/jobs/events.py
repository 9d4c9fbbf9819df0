"""Custom events from a frame: one event per row, paced, and never fired twice.

The events endpoint has no idempotency key (FACTS.md §9), so a retry or a
re-run could record an event twice. A ledger (a table in the import journal's
SQLite file) remembers every event by a key made of the account, the
normalized email, the event name, a hash of its params and an optional caller
key column. An event is written to the ledger as ``sending`` before its
request and ``sent`` after the 201; a re-run skips both, so an event whose
outcome is unknown (the process died, or the connection dropped after
sending) is reported as *uncertain* and not repeated unless the caller asks
(``resend_uncertain=True``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import APIError, InputError, NotFoundError, TransportError
from mailtrap_pandas.frames.emails import normalize_emails
from mailtrap_pandas.frames.reasons import Reason, reason_column
from mailtrap_pandas.frames.validate import check_frame
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.jobs.store import EventLedger, Journal, open_journal
from mailtrap_pandas.limits import MAX_EVENT_NAME_LENGTH
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
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

__all__ = ["EventsResult", "send_events"]


@dataclass
class EventsResult:
    """What :func:`send_events` did, row by row.

    Attributes
    ----------
    sent : int
        Events recorded by the server in this run.
    skipped : int
        Rows whose event the ledger shows as already sent (earlier run or an
        identical row above), so they were not sent again.
    uncertain : DataFrame
        Rows whose event may or may not have been recorded; not repeated.
    failed : DataFrame
        Rows that were not recorded, aligned to the caller's original index,
        with ``email``, ``name``, ``reason`` and ``message``.
    """

    sent: int = 0
    skipped: int = 0
    #: With ``dry_run=True``: one dict per event that would be sent (row, email, name, params).
    payloads: list[dict[str, Any]] = field(default_factory=list)
    failed: pd.DataFrame = field(default_factory=lambda: _problems([]))
    uncertain: pd.DataFrame = field(default_factory=lambda: _problems([]))
    rows: int = 0

    @property
    def ok(self) -> bool:
        """True when every row's event is known to be recorded."""
        return len(self.failed) == 0 and len(self.uncertain) == 0

    def summary(self) -> pd.DataFrame:
        """The failed and uncertain rows grouped by reason: ``column, reason, rows``, most first.

        The frame every result's ``summary()`` gives (``column`` is ``None``: a whole row failed).
        """
        return outcome_summary(self.failed, self.uncertain)

    def counts(self) -> dict[str, Any]:
        """Counts, for ``--json`` output and logs."""
        return {
            "rows": self.rows,
            "sent": self.sent,
            "skipped": self.skipped,
            "failed": len(self.failed),
            "uncertain": len(self.uncertain),
        } | ({"would_send": len(self.payloads)} if self.payloads else {})

    def __repr__(self) -> str:
        if self.payloads:
            return (
                f"EventsResult(dry run: rows={self.rows:,}, would_send={len(self.payloads):,}, "
                f"skipped={self.skipped:,}, failed={len(self.failed):,})"
            )
        return (
            f"EventsResult(rows={self.rows:,}, sent={self.sent:,}, skipped={self.skipped:,}, "
            f"failed={len(self.failed):,}, uncertain={len(self.uncertain):,})"
        )

    def _repr_html_(self) -> str:
        problems = len(self.failed) + len(self.uncertain)
        verdict = f"{plural(self.sent, 'event')} sent" + (
            f", {plural(problems, 'row')} need a look" if problems else ""
        )
        parts = [
            heading("EventsResult", self.ok, verdict),
            counts(
                [
                    ("rows", self.rows, PLAIN),
                    ("sent", self.sent, GOOD),
                    ("already sent", self.skipped, PLAIN),
                    ("failed", len(self.failed), BAD),
                    ("uncertain", len(self.uncertain), WARN),
                ]
            ),
        ]
        if len(self.failed):
            parts += [
                section("Failed rows (<code>.failed</code>)"),
                table(self.failed, index="row", bad=["reason"], what="failed rows"),
            ]
        if len(self.uncertain):
            parts += [
                section("Uncertain (<code>.uncertain</code>): may have been recorded"),
                table(self.uncertain, index="row", what="rows"),
                note("not repeated; pass <code>resend_uncertain=True</code> to send them again"),
            ]
        return "<div>" + "\n".join(parts) + "</div>"


def _problems(rows: list[dict[str, Any]], index: list[Hashable] | None = None) -> pd.DataFrame:
    columns = ["email", "name", "reason", "message"]
    out = pd.DataFrame(rows, columns=columns, index=pd.Index(index or [], name="row"))
    # The package's one reason dtype, and <NA> for a missing email (never None or "nan").
    out["email"] = out["email"].astype("string")
    out["reason"] = reason_column(out["reason"], out.index)
    return out


def _scalar(value: Any) -> str | int | float | bool | None:
    """One param value as a JSON scalar (the API takes strings, numbers, booleans, null)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _email_column(df: pd.DataFrame, email: str | None) -> str:
    """The email column: the one named by ``email=``, else the one validate would match."""
    from mailtrap_pandas.frames.validate import email_columns

    if email is not None:
        if email not in df.columns:
            raise InputError(
                f"email={email!r} is not a column of the frame; it has "
                f"{[str(c) for c in df.columns]}"
            )
        return email
    found = email_columns(list(df.columns))
    if len(found) == 1:
        return str(found[0])
    if not found:
        raise InputError(
            f"no email column; the frame has {[str(c) for c in df.columns]}. "
            "Name one 'email' or pass email='<column>'"
        )
    raise InputError(f"columns {found} all look like the email; pass email='<column>' to choose")


def _event_key(account: str, email: str, name: str, params: dict[str, Any], key: Any) -> str:
    canonical = json.dumps(
        [account, email, name, params, None if key is None else str(key)],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def send_events(
    df: pd.DataFrame,
    client: Client | None = None,
    *,
    name: str | None = None,
    name_column: str | None = None,
    email: str | None = None,
    params: Sequence[str] | None = None,
    key: str | None = None,
    journal: bool | str | Path | Journal = True,
    progress: bool = True,
    resend_uncertain: bool = False,
    dry_run: bool = False,
) -> EventsResult:
    """Fire one custom event per row, paced by the client's budget, never twice.

    Parameters
    ----------
    df : DataFrame
        One row per event.
    client : Client, optional
        Defaults to ``Client()`` from the environment.
    name, name_column : str
        The event name for every row, or the column that holds each row's name
        (exactly one of the two).
    email : str, optional
        Column with the contact's email. When omitted, found the way
        :func:`~mailtrap_pandas.validate.validate` finds it: ``email``, or a
        name like ``Email``, ``E-mail``, ``email_address``.
    params : list of str, optional
        Columns sent as the event's params (missing values are sent as null).
    key : str, optional
        A column that makes an event unique beyond (email, name, params), such
        as an order id; two rows with equal keys are one event.
    journal : bool, str, Path or Journal
        Where the ledger lives: ``True`` for the default journal file,
        a path, or ``False`` for an in-memory ledger (no protection across runs).
    progress : bool
        Show a progress bar.
    resend_uncertain : bool
        Send again the events whose outcome an earlier run could not learn.
    dry_run : bool
        Send nothing and write nothing: ``result.payloads`` shows each event that
        would be sent (the ledger is read, so already-sent events are skipped).

    Returns
    -------
    EventsResult

    Raises
    ------
    InputError
        When a named column is missing or the name options are inconsistent.
    """
    check_frame(df, "send_events")
    if (name is None) == (name_column is None):
        raise InputError("give exactly one of name= and name_column=")
    email = _email_column(df, email)
    wanted = (
        [email]
        + ([name_column] if name_column else [])
        + list(params or [])
        + ([key] if key else [])
    )
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise InputError(
            f"column(s) {missing} not in the frame; it has {[str(c) for c in df.columns]}"
        )
    if name is not None and not (0 < len(name) <= MAX_EVENT_NAME_LENGTH):
        raise InputError(f"event name must be 1..{MAX_EVENT_NAME_LENGTH} characters")
    client = ensure_client(client)
    # The base URL too: an emulator and a real account may share an account id.
    account = f"{client.base_url}|{client.account_id}"
    store = open_journal(journal)
    ledger = EventLedger(store)
    result = EventsResult(rows=len(df))
    outcomes: dict[str, tuple[list[dict[str, Any]], list[Hashable]]] = {
        "failed": ([], []),
        "uncertain": ([], []),
    }
    param_cols = list(params or [])
    # The same normalization as validation: trimmed, domain lower-cased, syntax checked.
    emails = normalize_emails(df[email])
    addresses: list[str | None] = emails.normalized.to_pylist()
    keys: list[str | None] = emails.key.to_pylist()
    try:
        with Progress(progress, len(df), desc="events", unit="event") as bar:
            records = zip(df.index, df.itertuples(index=False, name=None), strict=True)
            for position, (label, row) in enumerate(records):
                bar.update(1)
                values = dict(zip(df.columns, row, strict=True))
                address = addresses[position]
                event = name if name is not None else _scalar(values[str(name_column)])
                outcome: tuple[str, Reason | None, str]
                if emails.missing[position]:
                    outcome = ("failed", Reason.MISSING_EMAIL, f"column {email!r} is empty")
                elif address is None:  # an address no contact can have: no request for it
                    address = str(values[email])
                    outcome = ("failed", Reason.INVALID_EMAIL, "not a valid email address")
                elif not isinstance(event, str) or not event or len(event) > MAX_EVENT_NAME_LENGTH:
                    outcome = (
                        "failed",
                        Reason.INVALID_NAME,
                        f"must be text of 1..{MAX_EVENT_NAME_LENGTH}",
                    )
                else:
                    payload = {str(c): _scalar(values[c]) for c in param_cols}
                    event_key = _event_key(
                        account, str(keys[position]), event, payload, values[key] if key else None
                    )
                    if dry_run:
                        outcome = (
                            ("skipped", None, "")
                            if ledger.status(event_key) == "sent"
                            else ("would_send", None, "")
                        )
                        if outcome[0] == "would_send":
                            result.payloads.append(
                                {"row": label, "email": address, "name": event, "params": payload}
                            )
                    else:
                        outcome = _send_one(
                            client,
                            ledger,
                            event_key,
                            account,
                            address,
                            event,
                            payload,
                            resend_uncertain,
                        )
                kind, reason, message = outcome
                if kind == "would_send":
                    continue
                if kind == "sent":
                    result.sent += 1
                elif kind == "skipped":
                    result.skipped += 1
                else:
                    rows, index = outcomes[kind]
                    rows.append(
                        {"email": address, "name": event, "reason": reason, "message": message}
                    )
                    index.append(label)
    finally:
        if store is not journal:  # ours to close; a Journal passed in stays open
            store.close()
    result.failed = _problems(*outcomes["failed"])
    result.uncertain = _problems(*outcomes["uncertain"])
    return result


def _send_one(
    client: Client,
    ledger: EventLedger,
    event_key: str,
    account: str,
    address: str,
    event: str,
    payload: dict[str, Any],
    resend_uncertain: bool,
) -> tuple[str, Reason | None, str]:
    """Send one event under the ledger's protection; return (outcome, reason, message).

    The outcome is ``sent``, ``skipped`` (the ledger has it), ``uncertain`` or ``failed``.
    """
    state = ledger.claim(event_key, account, address, event, resend_uncertain=resend_uncertain)
    if state == "sent":
        return "skipped", None, ""
    if state is not None:  # "sending" (a run died mid-request) or "uncertain"
        return "uncertain", Reason.OUTCOME_UNKNOWN, "an earlier attempt may have recorded it"
    try:
        answer = client.events.create(address, event, payload)
    except TransportError as exc:
        if exc.sent:
            ledger.mark(event_key, account, address, event, "uncertain")
            return "uncertain", Reason.OUTCOME_UNKNOWN, str(exc)
        ledger.forget(event_key)
        return "failed", Reason.NOT_SENT, str(exc)
    except NotFoundError:
        ledger.forget(event_key)
        return "failed", Reason.CONTACT_NOT_FOUND, f"no contact with email {address}"
    except APIError as exc:
        if exc.status >= 500:
            # The server may have recorded it before failing: never repeat it.
            ledger.mark(event_key, account, address, event, "uncertain")
            return "uncertain", Reason.OUTCOME_UNKNOWN, str(exc)
        ledger.forget(event_key)
        messages = "; ".join(f"{e.attribute}: {e.message}" for e in exc.errors)
        return "failed", Reason.SERVER_REJECTED, f"HTTP {exc.status}: {messages or exc}"
    ledger.mark(event_key, account, address, event, "sent", str(answer.get("contact_id", "")))
    return "sent", None, ""
