"""The store's file: where it lives, its mode, its secret, and what older versions become."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mailtrap_pandas.jobs.store import (
    SCHEMA_VERSION,
    EventLedger,
    Journal,
    RemovalLedger,
    SyncStore,
    cache_dir,
    default_path,
)

KEY = ("https://mailtrap.io", "7", "ab" * 32)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def meta(path: Path, key: str) -> str | None:
    with closing(sqlite3.connect(path)) as db:
        row = db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return None if row is None else str(row[0])


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    # The usual umask: without care, the store would be readable by everyone.
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_the_cache_folder_is_under_home_unless_xdg_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_dir() == tmp_path / ".cache" / "mailtrap-pandas"
    assert default_path() == tmp_path / ".cache" / "mailtrap-pandas" / "journal.sqlite"
    assert not (tmp_path / ".cache").exists()  # asking where it is creates nothing


def test_the_default_store_makes_its_folder_private(tmp_path: Path) -> None:
    folder = cache_dir()
    folder.mkdir(parents=True, mode=0o755)  # as an older version left it
    os.chmod(folder, 0o755)
    Journal(default_path()).close()
    assert mode(folder) == 0o700 and mode(default_path()) == 0o600
    assert cache_dir(create=True) == folder


def test_a_store_elsewhere_leaves_the_cache_folder_alone(tmp_path: Path) -> None:
    with Journal(tmp_path / "own.sqlite") as j:
        j.begin(*KEY, chunk=0, rows=1)
    assert mode(tmp_path / "own.sqlite") == 0o600
    assert not cache_dir().exists()


def test_a_memory_store_writes_no_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    with Journal(":memory:") as j:
        j.begin(*KEY, chunk=0, rows=1)
        assert j.get(*KEY) is not None and repr(j) == "Journal(':memory:')"
    assert list(tmp_path.iterdir()) == []


def test_the_secret_is_32_random_bytes_per_file_and_keys_every_hash(tmp_path: Path) -> None:
    with Journal(tmp_path / "a.sqlite") as a, Journal(tmp_path / "b.sqlite") as b:
        secret = bytes.fromhex(str(meta(tmp_path / "a.sqlite", "secret")))
        assert len(secret) == 32 and meta(tmp_path / "b.sqlite", "secret") != secret.hex()
        expected = hmac.new(secret, b"one\ntwo", hashlib.sha256).hexdigest()
        assert a.digest("one", "two") == expected and b.digest("one", "two") != expected
        assert a.keyed("one") == a.digest("one")
        assert a.email_hash(" Ann@X.io ") == a.keyed("email:ann@x.io")
        assert a.email_hashes(pd.Series(["B@x.io"], dtype="string")) == [a.keyed("email:b@x.io")]
    with Journal(tmp_path / "a.sqlite") as again:  # the same file keeps its secret
        assert again.digest("one", "two") == expected


def test_a_422_detail_keeps_hashes_and_the_rows_without_email(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        detail = [["Ann@X.io", "fields", "unknown field"], ["", "base", "too many"]]
        assert j.hash_detail(detail) == [
            [j.email_hash("ann@x.io"), "fields", "unknown field"],
            ["", "base", "too many"],
        ]
        assert j.hash_detail([]) == []


def old_file(path: Path, version: int) -> None:
    """A file as an older version wrote it: plain emails in the events ledger and in the
    422 details, the removal ledger's own secret (version 3), no raw hashes (before 6)."""
    with Journal(path) as j:
        j.begin(*KEY, chunk=0, rows=2)
        j.rejected(*KEY, detail=[])
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM meta WHERE key='secret'")
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(version),))
        db.execute("INSERT INTO meta VALUES ('removal_secret', ?)", ("11" * 32,))
        db.execute(
            "INSERT INTO event_ledger (key, account, email, name, status, updated_at)"
            " VALUES ('event-1', 'acct', 'ann@x.io', 'signup', 'sent', 0)"
        )
        detail = json.dumps([["Ann@X.io", "fields", "bad"], ["", "base", "oops"]])
        db.execute("UPDATE imports SET detail=?", (detail,))
        db.execute("DROP TABLE sync_state")
        db.execute(
            "CREATE TABLE sync_state (scope INTEGER NOT NULL, bucket INTEGER NOT NULL,"
            " emails BLOB NOT NULL, contents BLOB NOT NULL, PRIMARY KEY (scope, bucket))"
            " WITHOUT ROWID"
        )
        db.execute("INSERT INTO sync_scopes (id, base_url, account_id) VALUES (1, 'u', 'a')")
        keys = np.array([5, 2**63 + 9], dtype="<u8")  # buckets 0 and 128
        for k in keys:
            db.execute(
                "INSERT INTO sync_state VALUES (1, ?, ?, ?)",
                (
                    int(k >> np.uint64(56)),
                    k.tobytes(),
                    np.array([k + np.uint64(1)], "<u8").tobytes(),
                ),
            )


@pytest.mark.parametrize("version", [2, 3])
def test_a_version_2_or_3_file_is_rewritten_to_keyed_hashes(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.sqlite"
    old_file(path, version)
    with Journal(path) as j:
        assert meta(path, "schema_version") == str(SCHEMA_VERSION)
        assert meta(path, "secret") == "11" * 32  # the removal ledger's: its digests stay
        assert EventLedger(j).status("event-1") == "sent"
        with closing(sqlite3.connect(path)) as db:
            ((key, email),) = db.execute("SELECT key, email FROM event_ledger").fetchall()
        assert (key, email) == (j.keyed("event-1"), j.email_hash("ann@x.io"))
        entry = j.get(*KEY)
        assert entry is not None
        assert entry.detail == [[j.email_hash("ann@x.io"), "fields", "bad"], ["", "base", "oops"]]
    with Journal(path) as j:  # opened again: hashed once, never twice
        assert EventLedger(j).status("event-1") == "sent"
        assert j.get(*KEY).detail[0][0] == j.email_hash("ann@x.io")  # type: ignore[union-attr]
    assert b"ann@x.io" not in path.read_bytes() and b"Ann@X.io" not in path.read_bytes()


@pytest.mark.parametrize("version", [4, 5])
def test_a_version_4_or_5_file_keeps_its_hashes_and_gains_raw_hashes(
    tmp_path: Path, version: int
) -> None:
    path = tmp_path / "old.sqlite"
    old_file(path, version)
    with Journal(path) as j:
        assert meta(path, "schema_version") == str(SCHEMA_VERSION)
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("SELECT key FROM event_ledger").fetchone()[0] == "event-1"
        store = SyncStore(j, "u", "a")
        keys, contents, raws = store.load()
        assert keys.tolist() == [5, 2**63 + 9] and contents.tolist() == [6, 2**63 + 10]
        assert raws.dtype == np.uint64 and raws.tolist() == [0, 0]  # unknown until synced
        # A bucket written before version 6 takes new rows, and keeps its raws unknown.
        store.confirm(np.array([7], np.uint64), np.array([8], np.uint64), np.array([3], np.uint64))
        assert [a.tolist() for a in store.load()] == [
            [5, 7, 2**63 + 9],
            [6, 8, 2**63 + 10],
            [0, 3, 0],
        ]


def test_a_newer_file_keeps_its_version(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    Journal(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value=? WHERE key='schema_version'", (str(SCHEMA_VERSION + 1),))
    Journal(path).close()
    assert meta(path, "schema_version") == str(SCHEMA_VERSION + 1)


def test_a_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    old_file(path, 3)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE imports SET detail='not json'")
    with pytest.raises(json.JSONDecodeError):
        Journal(path)
    assert meta(path, "schema_version") == "3"
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT key, email FROM event_ledger").fetchone() == (
            "event-1",
            "ann@x.io",
        )


def test_the_removal_ledger_forgets_one_row_and_counts(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        ledger = RemovalLedger(j)
        ledger.mark("job-1", "a", "sending")
        ledger.mark("job-1", "b", "sending")
        ledger.mark("job-2", "a", "done")
        ledger.forget("job-1", "a")
        assert ledger.statuses("job-1") == {"b": "sending"}
        assert ledger.statuses("job-2") == {"a": "done"}
        assert (ledger.count(), ledger.count("job-1"), ledger.count("job-3")) == (2, 1, 0)
