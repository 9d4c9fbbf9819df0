"""The removal ledger: a table of the one store, keyed hashes only (the file's secret)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from mailtrap_pandas.jobs.store import SCHEMA_VERSION, Journal, RemovalLedger


def version(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:  # sqlite3's own with block does not close
        return str(db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])


def test_an_older_store_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with closing(sqlite3.connect(path)) as db, db:  # a version-2 file: imports and events only
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '2')")
    Journal(path).close()
    assert version(path) == str(SCHEMA_VERSION)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".sqlite") == [path.name]
    with closing(sqlite3.connect(path)) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"imports", "event_ledger", "removal_ledger"} <= tables
    assert {"sync_scopes", "sync_state", "list_members"} <= tables


def test_digests_are_keyed_per_store_and_stable_within_one(tmp_path: Path) -> None:
    one, other = Journal(tmp_path / "a.sqlite"), Journal(tmp_path / "b.sqlite")
    first = RemovalLedger(one).digest("acct", "ann@example.com")
    assert RemovalLedger(one).digest("acct", "ann@example.com") == first  # same secret
    assert RemovalLedger(other).digest("acct", "ann@example.com") != first
    ledger = RemovalLedger(one)
    ledger.mark("job", first, "sending")
    ledger.mark("job", first, "done")
    assert ledger.statuses("job") == {first: "done"} and ledger.count("job") == 1
    ledger.finish("job")
    assert ledger.count() == 0
    one.close()
    other.close()
    assert b"ann@example.com" not in (tmp_path / "a.sqlite").read_bytes()


def test_a_version_3_removal_secret_becomes_the_files_secret(tmp_path: Path) -> None:
    # Digests of an unfinished removal run written by version 3 must still match.
    path = tmp_path / "journal.sqlite"
    with closing(sqlite3.connect(path)) as db, db:  # closed, and committed first
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema_version', '3')")
        db.execute("INSERT INTO meta VALUES ('removal_secret', ?)", ("ab" * 32,))
    journal = Journal(path)
    assert journal._secret == bytes.fromhex("ab" * 32)
    assert RemovalLedger(journal).digest("x") == journal.digest("x")
    journal.close()
