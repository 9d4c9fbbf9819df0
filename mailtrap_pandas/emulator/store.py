"""SQLite storage for the emulator: schema, connection, one lock.

State lives in one SQLite database, in memory by default or in a file (the
CLI's ``--db FILE``) so it survives a restart. Every access goes through
:meth:`Store.tx` / :meth:`Store.read`, which hold one re-entrant lock: the
HTTP server is threaded and the job worker runs beside it, and a single
connection with a lock is simpler and fast enough for a local fake.

Custom field values are stored per contact as JSON keyed by the field's *id*
(not its merge tag), so renaming a merge tag keeps the values attached.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["Store"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fields (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    data_type TEXT NOT NULL,
    merge_tag TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contacts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    account_id INTEGER NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    status TEXT NOT NULL,
    fields TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (account_id, email_key)
);
CREATE TABLE IF NOT EXISTS memberships (
    contact_id TEXT NOT NULL,
    list_id INTEGER NOT NULL,
    PRIMARY KEY (contact_id, list_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS memberships_list ON memberships (list_id);
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    contact_id TEXT NOT NULL,
    name TEXT NOT NULL,
    params TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    payload BLOB,
    fail INTEGER NOT NULL DEFAULT 0,
    created_count INTEGER,
    updated_count INTEGER,
    over_limit_count INTEGER,
    stage_at REAL NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    filters TEXT NOT NULL,
    filename TEXT,
    stage_at REAL NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS files (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
"""

_WIPE = ("fields", "lists", "contacts", "memberships", "events", "imports", "exports", "files")


class Store:
    """One SQLite connection guarded by one lock.

    Parameters
    ----------
    path
        A file path to persist to, or ``None`` for an in-memory database.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self.lock = threading.RLock()
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so one API
        # action (e.g. a 50,000-row import) is exactly one transaction.
        self.conn = sqlite3.connect(
            self.path or ":memory:", check_same_thread=False, isolation_level=None
        )
        self.conn.row_factory = sqlite3.Row
        if self.path:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        with self.lock:
            self.conn.executescript(_SCHEMA)

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock and run the block in one write transaction."""
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Hold the lock for a consistent read."""
        with self.lock:
            yield self.conn

    def ensure_account(self, account_id: int, token: str, name: str) -> None:
        """Create the account row, or update its token, so a reopened file matches."""
        with self.tx() as c:
            c.execute(
                "INSERT INTO accounts (id, name, token) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET token = excluded.token",
                (account_id, name, token),
            )

    def wipe(self) -> None:
        """Delete all contacts, lists, fields, events, jobs and files (accounts stay)."""
        with self.tx() as c:
            for table in _WIPE:
                c.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            # Restart ids at 1 so a reset emulator is as predictable as a fresh one.
            c.execute("DELETE FROM sqlite_sequence")

    def close(self) -> None:
        """Close the connection."""
        with self.lock:
            self.conn.close()
