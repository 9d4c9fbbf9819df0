"""The events ledger: one send per event key, across calls and across processes sharing a file."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from mailtrap_pandas.jobs.store import EventLedger, Journal

Opener = Callable[[Path], Journal]


@pytest.fixture
def journal_at() -> Iterator[Opener]:
    """Opens journals, and closes every one of them after the test (Python 3.13 warns)."""
    opened: list[Journal] = []

    def open_at(path: Path) -> Journal:
        opened.append(Journal(path))
        return opened[-1]

    yield open_at
    for journal in opened:
        journal.close()


CLAIM = ("event-key-1", "https://mailtrap.io|7", "Ann@Example.com", "signup")


def rows(path: Path) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(
            "SELECT key, account, email, name, status, contact_id FROM event_ledger"
        ).fetchall()


def test_a_new_key_is_claimed_once(tmp_path: Path, journal_at: Opener) -> None:
    ledger = EventLedger(journal_at(tmp_path / "j.sqlite"))
    assert ledger.status("event-key-1") is None
    assert ledger.claim(*CLAIM, resend_uncertain=False) is None  # ours: now "sending"
    assert ledger.status("event-key-1") == "sending"
    journal = ledger._journal
    ((key, account, email, name, status, contact),) = rows(tmp_path / "j.sqlite")
    assert (key, email) == (journal.keyed("event-key-1"), journal.email_hash("ann@example.com"))
    assert (account, name, status, contact) == (CLAIM[1], "signup", "sending", None)
    # A second claim (another call, another process) is told what stopped it.
    assert ledger.claim(*CLAIM, resend_uncertain=False) == "sending"


def test_two_journals_on_one_file_never_both_claim(tmp_path: Path, journal_at: Opener) -> None:
    one = EventLedger(journal_at(tmp_path / "j.sqlite"))
    two = EventLedger(journal_at(tmp_path / "j.sqlite"))
    assert one.claim(*CLAIM, resend_uncertain=False) is None
    assert two.claim(*CLAIM, resend_uncertain=False) == "sending"
    assert two.status("event-key-1") == "sending"


def test_resend_uncertain_takes_back_sending_and_uncertain_but_never_sent(
    tmp_path: Path, journal_at: Opener
) -> None:
    ledger = EventLedger(journal_at(tmp_path / "j.sqlite"))
    key, account, email, name = CLAIM
    ledger.mark(key, account, email, name, "uncertain")
    assert ledger.claim(*CLAIM, resend_uncertain=False) == "uncertain"
    assert ledger.claim(*CLAIM, resend_uncertain=True) is None
    assert ledger.status(key) == "sending"
    assert ledger.claim(*CLAIM, resend_uncertain=True) is None  # a crashed "sending" too
    ledger.mark(key, account, email, name, "sent", contact_id="c-1")
    assert ledger.claim(*CLAIM, resend_uncertain=True) == "sent"
    assert ledger.status(key) == "sent"


def test_mark_upserts_the_status_and_contact(tmp_path: Path, journal_at: Opener) -> None:
    path = tmp_path / "j.sqlite"
    journal = journal_at(path)
    ledger = EventLedger(journal)
    key, account, email, name = CLAIM
    ledger.mark(key, account, email, name, "sending")
    ledger.mark(key, account, email, name, "sent", contact_id="c-9")
    ((stored_key, stored_account, stored_email, stored_name, status, contact),) = rows(path)
    assert (stored_account, stored_name, status, contact) == (account, name, "sent", "c-9")
    # Nothing in the file names the contact or the event: keyed hashes only.
    assert stored_key == journal.keyed(key) and stored_key != key
    assert stored_email == journal.email_hash("ann@example.com")
    assert stored_email == journal.email_hash(" ANN@example.com ")
    ledger.mark(key, account, email, name, "uncertain")
    assert rows(path)[0][4:] == ("uncertain", None)


def test_forget_drops_only_its_key(tmp_path: Path, journal_at: Opener) -> None:
    ledger = EventLedger(journal_at(tmp_path / "j.sqlite"))
    ledger.claim(*CLAIM, resend_uncertain=False)
    ledger.claim("event-key-2", *CLAIM[1:], resend_uncertain=False)
    ledger.forget("event-key-1")
    assert ledger.status("event-key-1") is None
    assert ledger.status("event-key-2") == "sending"
    assert ledger.claim(*CLAIM, resend_uncertain=False) is None  # free to send again
