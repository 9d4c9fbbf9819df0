"""The local store: ONE small SQLite file that makes re-running an import or events safe.

Each import chunk is keyed by (base URL, account id, SHA-256 of its exact
request body). Before the POST a row is written in state ``submitting``;
after the answer it becomes ``submitted`` (with the import id), ``rejected``
(a 422: nothing was accepted; the server's errors are kept so a re-run
rejects the same rows without asking again) or ``uncertain`` (the connection
dropped after sending). Polling moves it to ``finished`` / ``failed``; an
uncertain chunk found in an export becomes ``verified``. Each write is its own
committed transaction, so a SIGKILL can only lose the gap between the POST
and the write after it: a ``submitting`` row found on the next run is treated
as uncertain, never as "not sent".

The file holds no token and no contact data except, for 422 rejections, the
emails the server named. WAL mode and a busy timeout let two processes share
it. Tables are created by :meth:`Journal._migrate`: ``imports`` (this journal),
``event_ledger`` (:class:`EventLedger`, the custom events sent; schema version 2) and
``removal_ledger`` (:class:`RemovalLedger`, the rows of unfinished deletes and
(un)subscribes, keyed by HMACs, never addresses; schema version 3). One file, one
connection per process, for every record the package keeps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "ENV",
    "EventLedger",
    "Journal",
    "JournalEntry",
    "RemovalLedger",
    "State",
    "default_path",
    "open_journal",
]

ENV = "MAILTRAP_PANDAS_JOURNAL"

State = Literal[
    "submitting", "submitted", "uncertain", "rejected", "finished", "failed", "verified"
]
#: States after which the chunk's content is on the server (or known to be).
DONE_STATES = ("finished", "verified")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
    base_url     TEXT NOT NULL,
    account_id   TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    chunk        INTEGER NOT NULL,
    rows         INTEGER NOT NULL,
    state        TEXT NOT NULL,
    import_id    INTEGER,
    status       TEXT,
    created      INTEGER,
    updated      INTEGER,
    over_limit   INTEGER,
    detail       TEXT,
    submitted_at REAL,
    finished_at  REAL,
    changed_at   REAL NOT NULL,
    PRIMARY KEY (base_url, account_id, sha256)
);
CREATE TABLE IF NOT EXISTS event_ledger (
    key TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,           -- sending | sent | uncertain
    contact_id TEXT,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS removal_ledger (
    job TEXT NOT NULL,              -- HMAC of (account, verb, every target of the run)
    key TEXT NOT NULL,              -- HMAC of (account, the contact's email key or id)
    status TEXT NOT NULL,           -- sending | done | not_found
    updated_at REAL NOT NULL,
    PRIMARY KEY (job, key)
) WITHOUT ROWID;
"""
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class JournalEntry:
    """One chunk's record."""

    sha256: str
    chunk: int
    rows: int
    state: State
    import_id: int | None
    status: str | None
    created: int | None
    updated: int | None
    over_limit: int | None
    detail: Any
    submitted_at: float | None
    finished_at: float | None


def default_path() -> Path:
    """``$MAILTRAP_PANDAS_JOURNAL``, else ``$XDG_CACHE_HOME/mailtrap-pandas/journal.sqlite``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``.
    """
    explicit = os.environ.get(ENV)
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "mailtrap-pandas" / "journal.sqlite"


class Journal:
    """The journal of import chunks; one per file (``":memory:"`` for a throwaway one).

    Parameters
    ----------
    path : str or os.PathLike
        The SQLite file; its folder is created if needed.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # autocommit: every write below is committed before the call returns.
        self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) "
            "DO UPDATE SET value = excluded.value WHERE CAST(value AS INTEGER) < ?",
            (str(SCHEMA_VERSION), SCHEMA_VERSION),
        )

    # -- reads ----------------------------------------------------------------------------

    def get(self, base_url: str, account_id: str, sha256: str) -> JournalEntry | None:
        """The record of one chunk, or ``None`` if it was never seen."""
        row = self._db.execute(
            "SELECT * FROM imports WHERE base_url=? AND account_id=? AND sha256=?",
            (base_url, account_id, sha256),
        ).fetchone()
        if row is None:
            return None
        return JournalEntry(
            sha256=row["sha256"],
            chunk=row["chunk"],
            rows=row["rows"],
            state=row["state"],
            import_id=row["import_id"],
            status=row["status"],
            created=row["created"],
            updated=row["updated"],
            over_limit=row["over_limit"],
            detail=json.loads(row["detail"]) if row["detail"] else None,
            submitted_at=row["submitted_at"],
            finished_at=row["finished_at"],
        )

    def count(self, state: str | None = None) -> int:
        """Number of records (in ``state``, if given)."""
        if state is None:
            return int(self._db.execute("SELECT count(*) FROM imports").fetchone()[0])
        query = "SELECT count(*) FROM imports WHERE state=?"
        return int(self._db.execute(query, (state,)).fetchone()[0])

    # -- writes (each one committed on return) -------------------------------------------

    def begin(self, base_url: str, account_id: str, sha256: str, *, chunk: int, rows: int) -> None:
        """Record that the POST of this chunk is about to be sent."""
        now = time.time()
        self._db.execute(
            "INSERT OR REPLACE INTO imports (base_url, account_id, sha256, chunk, rows, state, "
            "submitted_at, changed_at) VALUES (?, ?, ?, ?, ?, 'submitting', ?, ?)",
            (base_url, account_id, sha256, chunk, rows, now, now),
        )

    def submitted(
        self, base_url: str, account_id: str, sha256: str, *, import_id: int, status: str
    ) -> None:
        """The server accepted the chunk as import ``import_id``."""
        self._update(
            base_url, account_id, sha256, state="submitted", import_id=import_id, status=status
        )

    def uncertain(self, base_url: str, account_id: str, sha256: str) -> None:
        """The connection dropped after sending: the server may or may not have the chunk."""
        self._update(base_url, account_id, sha256, state="uncertain")

    def rejected(self, base_url: str, account_id: str, sha256: str, *, detail: Any) -> None:
        """The server refused the whole request (422); ``detail`` is its parsed errors."""
        self._update(base_url, account_id, sha256, state="rejected", detail=json.dumps(detail))

    def finished(
        self,
        base_url: str,
        account_id: str,
        sha256: str,
        *,
        state: Literal["finished", "failed", "verified"],
        status: str,
        created: int | None = None,
        updated: int | None = None,
        over_limit: int | None = None,
    ) -> None:
        """The job reached a final status (or an uncertain chunk was verified)."""
        self._update(
            base_url,
            account_id,
            sha256,
            state=state,
            status=status,
            created=created,
            updated=updated,
            over_limit=over_limit,
            finished_at=time.time(),
        )

    def forget(self, base_url: str, account_id: str, sha256: str) -> None:
        """Drop a record: the server certainly did not take the chunk."""
        self._db.execute(
            "DELETE FROM imports WHERE base_url=? AND account_id=? AND sha256=?",
            (base_url, account_id, sha256),
        )

    def _update(self, base_url: str, account_id: str, sha256: str, **values: Any) -> None:
        values["changed_at"] = time.time()
        assignments = ", ".join(f"{name}=?" for name in values)
        self._db.execute(
            f"UPDATE imports SET {assignments} WHERE base_url=? AND account_id=? AND sha256=?",
            (*values.values(), base_url, account_id, sha256),
        )


def open_journal(journal: str | os.PathLike[str] | bool | Journal | None) -> Journal:
    """The journal an import uses.

    ``True``/``None`` -> the default path; ``False`` -> a throwaway in-memory
    journal (no resume); a path -> that file; a :class:`Journal` -> itself.
    """
    if isinstance(journal, Journal):
        return journal
    if journal is False:
        return Journal(":memory:")
    if journal is True or journal is None:
        return Journal(default_path())
    return Journal(journal)


class EventLedger:
    """The custom-events table of a journal file: which event keys were sent, or may have been.

    It shares the journal's connection, in which every statement commits on its own: a row is
    on disk before the request it guards leaves.
    """

    def __init__(self, journal: Journal) -> None:
        self._db = journal._db

    def status(self, key: str) -> str | None:
        """The ledger state of one event key, or ``None`` if it was never seen."""
        row = self._db.execute("SELECT status FROM event_ledger WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def claim(
        self, key: str, account: str, email: str, name: str, *, resend_uncertain: bool
    ) -> str | None:
        """Atomically take the right to send one event; return the state that stopped us.

        ``None`` means the row is now ``sending`` and ours. Check and write are
        one statement, so two processes sharing the journal never both send.
        """
        now = time.time()
        taken = self._db.execute(
            "INSERT INTO event_ledger (key, account, email, name, status, contact_id, updated_at)"
            " VALUES (?, ?, ?, ?, 'sending', NULL, ?) ON CONFLICT(key) DO NOTHING",
            (key, account, email, name, now),
        ).rowcount
        if not taken and resend_uncertain:
            taken = self._db.execute(
                "UPDATE event_ledger SET status='sending', updated_at=? "
                "WHERE key=? AND status IN ('sending', 'uncertain')",
                (now, key),
            ).rowcount
        return None if taken else self.status(key)

    def mark(
        self,
        key: str,
        account: str,
        email: str,
        name: str,
        status: str,
        contact_id: str | None = None,
    ) -> None:
        """Write the state of one event key."""
        # Committed at once: the row must be on disk before the request leaves.
        self._db.execute(
            "INSERT INTO event_ledger (key, account, email, name, status, contact_id, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET status=excluded.status,"
            " contact_id=excluded.contact_id, updated_at=excluded.updated_at",
            (key, account, email, name, status, contact_id, time.time()),
        )

    def forget(self, key: str) -> None:
        """Drop a key: the server certainly did not record the event."""
        self._db.execute("DELETE FROM event_ledger WHERE key = ?", (key,))


class RemovalLedger:
    """The removal table of a journal file: which targets of an unfinished run are settled.

    Deletes and (un)subscribes are idempotent, so the ledger only saves requests and keeps
    outcomes honest across a crash: a row is ``sending`` before its request and ``done`` or
    ``not_found`` after. Nothing in it names a contact: keys are HMAC-SHA256 digests under a
    random secret kept in this file's ``meta`` table (whoever holds the file and a candidate
    address can test it; nobody can read an address out of it). A run that settles every
    row drops its rows (:meth:`finish`), so the table holds only unfinished work.
    """

    def __init__(self, journal: Journal) -> None:
        self._db = journal._db
        self._secret = self._load_secret()

    def _load_secret(self) -> bytes:
        # INSERT OR IGNORE then read: two processes creating it at once agree on one value.
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('removal_secret', ?)",
            (secrets.token_hex(32),),
        )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'removal_secret'").fetchone()
        return bytes.fromhex(str(row[0]))

    def digest(self, *parts: str) -> str:
        """The keyed hash of ``parts`` (joined by newlines), as hex."""
        message = "\n".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def statuses(self, job: str) -> dict[str, str]:
        """Every key of ``job`` recorded so far -> its status."""
        rows = self._db.execute(
            "SELECT key, status FROM removal_ledger WHERE job = ?", (job,)
        ).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}

    def mark(self, job: str, key: str, status: str) -> None:
        """Write one row's status (committed before the call returns)."""
        self._db.execute(
            "INSERT INTO removal_ledger (job, key, status, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(job, key) DO UPDATE SET status = excluded.status, "
            "updated_at = excluded.updated_at",
            (job, key, status, time.time()),
        )

    def forget(self, job: str, key: str) -> None:
        """Drop one row: its request certainly did not reach the server."""
        self._db.execute("DELETE FROM removal_ledger WHERE job = ? AND key = ?", (job, key))

    def finish(self, job: str) -> None:
        """Drop a settled run's rows: a later run of the same targets starts afresh."""
        self._db.execute("DELETE FROM removal_ledger WHERE job = ?", (job,))

    def count(self, job: str | None = None) -> int:
        """Rows recorded (for ``job``, if given)."""
        if job is None:
            return int(self._db.execute("SELECT count(*) FROM removal_ledger").fetchone()[0])
        query = "SELECT count(*) FROM removal_ledger WHERE job = ?"
        return int(self._db.execute(query, (job,)).fetchone()[0])
