"""Contact data at rest: the package's folder is 0700, its files 0600, and no plain email
is kept where a keyed hash does (events ledger, the emails a 422 named)."""

from __future__ import annotations

import os
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mailtrap_pandas.api.ratelimit import RateBudget, Window
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.jobs.events import send_events
from mailtrap_pandas.jobs.imports.run import import_contacts
from mailtrap_pandas.jobs.store import (
    SCHEMA_VERSION,
    EventLedger,
    Journal,
    cache_dir,
    default_path,
)

FIELDS = [{"name": "Age", "data_type": "integer", "merge_tag": "age"}]
EMAILS = ["Ann.Private@Example.com", "bob.private@example.com", "cy.private@example.com"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def seed_account(emu: Emulator) -> None:
    """The session's emulator (tests/conftest.py), reset, with this module's fields."""
    emu.seed(fields=FIELDS)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    # The usual shared-server umask: without care, files would be world-readable.
    old = os.umask(0o022)
    yield
    os.umask(old)


def frame() -> pd.DataFrame:
    # Row 1 sets a field the account lacks: the server's 422 names its email.
    return pd.DataFrame(
        {
            "email": EMAILS,
            "age": [30, 40, 50],
            "ghost": pd.array([None, "boo", None], "string"),
        }
    )


def store_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{path}{suffix}").exists()
    )


def assert_no_plain_email(data: bytes) -> None:
    for email in EMAILS:
        for variant in (email, email.lower(), email.split("@")[0].lower()):
            assert variant.encode() not in data, variant


def test_default_store_is_private_and_keeps_no_plain_email(emu: Emulator) -> None:
    folder = cache_dir()
    folder.mkdir(parents=True, mode=0o755)  # as an older version left it
    os.chmod(folder, 0o755)
    client = emu.client(rate_limit=None)
    local = [*FIELDS, {"name": "Ghost", "data_type": "text", "merge_tag": "ghost"}]
    opts: dict[str, Any] = {"progress": False, "poll_interval": 0.05, "fields": local}
    result = import_contacts(frame(), client, **opts)
    assert list(result.rejected.index) == [1]  # the 422 named row 1 (the journal keeps it)
    sent = send_events(frame(), client, name="signup", progress=False)
    assert (sent.sent, len(sent.failed)) == (2, 1)  # row 1's contact was never created
    path = default_path()
    assert path.parent == folder and mode(folder) == 0o700
    for suffix in ("", "-wal", "-shm"):
        extra = Path(f"{path}{suffix}")
        if extra.exists():
            assert mode(extra) == 0o600, extra
    assert_no_plain_email(store_bytes(path))
    # The re-run needs only the hashes: the 422 row is rejected again without asking,
    # and no event is sent twice.
    before = emu.state()["imports_accepted"]
    again = import_contacts(frame(), client, **opts)
    assert list(again.rejected.index) == [1] and emu.state()["imports_accepted"] == before
    twice = send_events(frame(), client, name="signup", progress=False)
    assert (twice.sent, twice.skipped) == (0, 2)
    assert_no_plain_email(store_bytes(path))


def test_a_version_2_store_is_rewritten_to_hashes_and_still_never_sends_twice(
    emu: Emulator, tmp_path: Path
) -> None:
    path = tmp_path / "old.sqlite"
    client = emu.client(rate_limit=None)
    df = frame().drop(columns="ghost")
    import_contacts(df, client, journal=False, progress=False, poll_interval=0.05)
    first = send_events(df, client, name="signup", journal=path, progress=False)
    assert first.sent == 3
    # Turn the file into what version 2 wrote: the event keys unkeyed, emails in plain text.
    journal = Journal(path)
    ledger = EventLedger(journal)
    rows = journal._db.execute("SELECT key FROM event_ledger").fetchall()
    assert len(rows) == 3
    journal.close()
    from mailtrap_pandas.jobs import events

    account = f"{client.base_url}|{client.account_id}"
    plain = [(events._event_key(account, e.lower(), "signup", {}, None), e.lower()) for e in EMAILS]
    with closing(sqlite3.connect(path)) as db, db:  # closing: sqlite3's with only commits
        db.execute("DELETE FROM event_ledger")
        db.executemany(
            "INSERT INTO event_ledger (key, account, email, name, status, updated_at) "
            "VALUES (?, ?, ?, 'signup', 'sent', 0)",
            [(k, account, e) for k, e in plain],
        )
        db.execute("UPDATE meta SET value='2' WHERE key='schema_version'")
    db.close()
    assert EMAILS[1].encode() in store_bytes(path)
    journal = Journal(path)  # migrates
    assert journal._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[
        0
    ] == str(SCHEMA_VERSION)
    ledger = EventLedger(journal)
    assert all(ledger.status(k) == "sent" for k, _ in plain)
    journal.close()
    assert_no_plain_email(store_bytes(path))
    again = send_events(df, client, name="signup", journal=path, progress=False)
    assert (again.sent, again.skipped) == (0, 3)


def test_rate_file_and_downloads_are_private(emu: Emulator, tmp_path: Path) -> None:
    rate = tmp_path / "rates" / "rate.sqlite"
    budget = RateBudget([Window(10, 1.0)], shared_file=rate)
    budget.acquire()
    budget.close()
    assert mode(rate) == 0o600 and mode(rate.parent) == 0o700
    client = emu.client(rate_limit=None)
    client.contacts.create("ann@example.com")
    export = client.exports.create()
    while export["status"] not in ("finished", "failed"):
        time.sleep(0.05)
        export = client.exports.get(export["id"])
    dest = client.exports.download(export, tmp_path / "out.csv.gz")
    assert mode(dest) == 0o600
