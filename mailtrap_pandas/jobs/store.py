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

The file holds no token and no plain email address. Where a record only has to
*recognize* an email or a contact (the events ledger, the emails a 422 named, the removal
ledger), it keeps a keyed hash: HMAC-SHA256 under a random secret made for this file alone
and kept in its ``meta`` table (:meth:`Journal.digest`, :meth:`Journal.email_hashes`), so the
file cannot be matched against a list of addresses without that secret. The file is created
``0600`` (its ``-wal``/``-shm`` too) and the default folder ``~/.cache/mailtrap-pandas``
``0700`` (:mod:`mailtrap_pandas.private`): a table added to this file by another feature gets
the same protection, and should use :meth:`Journal.digest` for anything naming a contact.

WAL mode and a busy timeout let two processes share it. Tables are created by
:meth:`Journal._migrate`: ``imports`` (this journal), ``event_ledger`` (:class:`EventLedger`,
the custom events sent), ``removal_ledger`` (:class:`RemovalLedger`, the rows of
unfinished deletes and (un)subscribes), and for incremental sync (:class:`SyncStore`, schema
version 6) ``sync_scopes`` (one row per base URL and account), ``sync_state`` (per email: a
64-bit content hash of what the account was last confirmed to hold, and since version 6 a
64-bit hash of the raw input row that validated to it, :mod:`mailtrap_pandas.jobs.sync.raw`)
and ``list_members`` (the list memberships this package added). Those keep 64-bit email
hashes keyed by a key derived from the file's secret, packed into 256 blobs per account by
their top byte: 16 bytes per email for the email and content hashes plus 8 for the raw
hash (24 in all), on disk as in memory, a million emails read in a few milliseconds, and a
batch of confirmations rewrites only the blobs it touches. Schema version 6 (a version 5
file gets the raw-hash column, unknown until the next sync confirms); a file of an earlier
version (plain emails in the events ledger and in 422 details) is rewritten to hashes when
first opened, with ``secure_delete`` so the plain text does not linger in free pages. One file, one
connection per process, for every record the package keeps.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.private import private_dir, private_file

__all__ = [
    "ENV",
    "SCHEMA_VERSION",
    "cache_dir",
    "EventLedger",
    "Journal",
    "JournalEntry",
    "RemovalLedger",
    "State",
    "SyncStore",
    "default_path",
    "open_journal",
]

ENV = "MAILTRAP_PANDAS_JOURNAL"

State = Literal[
    "submitting", "submitted", "uncertain", "rejected", "finished", "failed", "verified"
]
#: States after which the chunk's content is on the server (or known to be).
DONE_STATES = ("finished", "verified")
#: 2: events ledger; 3: removal ledger; 4: keyed hashes instead of plain emails;
#: 5: incremental-sync state.
SCHEMA_VERSION = 6

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
    key TEXT PRIMARY KEY,           -- keyed hash of the event's identity
    account TEXT NOT NULL,
    email TEXT NOT NULL,            -- keyed hash of the normalized email
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
CREATE TABLE IF NOT EXISTS sync_scopes (
    id            INTEGER PRIMARY KEY,
    base_url      TEXT NOT NULL,
    account_id    TEXT NOT NULL,
    reconciled_at REAL,
    UNIQUE (base_url, account_id)
);
CREATE TABLE IF NOT EXISTS sync_state (
    scope    INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,  -- top byte of the email hash: 256 rows per scope at most
    emails   BLOB NOT NULL,     -- sorted keyed 64-bit hashes of normalized emails
    contents BLOB NOT NULL,     -- their content hashes (values and list ids), same order
    raws     BLOB,              -- their raw-row hashes (0: unknown), same order; version 6
    PRIMARY KEY (scope, bucket)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS list_members (
    scope    INTEGER NOT NULL,
    list_id  INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    emails   BLOB NOT NULL,     -- sorted keyed email hashes this package put on the list
    PRIMARY KEY (scope, list_id, bucket)
) WITHOUT ROWID;
"""


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


def cache_dir(*, create: bool = False) -> Path:
    """The package's own folder: ``$XDG_CACHE_HOME/mailtrap-pandas`` (``~/.cache`` by default).

    With ``create=True`` it is created ``0700`` (or made ``0700`` if an older version
    created it with the umask's mode).
    """
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(cache).expanduser() / "mailtrap-pandas"
    return private_dir(folder) if create else folder


def default_path() -> Path:
    """``$MAILTRAP_PANDAS_JOURNAL``, else ``$XDG_CACHE_HOME/mailtrap-pandas/journal.sqlite``.

    ``XDG_CACHE_HOME`` defaults to ``~/.cache``.
    """
    explicit = os.environ.get(ENV)
    if explicit:
        return Path(explicit).expanduser()
    return cache_dir() / "journal.sqlite"


class Journal:
    """The journal of import chunks; one per file (``":memory:"`` for a throwaway one).

    Parameters
    ----------
    path : str or os.PathLike
        The SQLite file; its folder is created if needed.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = str(path)
        on_disk = self.path != ":memory:"
        if on_disk:
            if Path(self.path).expanduser().parent == cache_dir():
                cache_dir(create=True)
            # Before SQLite opens it: the file, and so its -wal and -shm, are 0600 from birth.
            private_file(self.path)
        # autocommit: every write below is committed before the call returns.
        self._db = sqlite3.connect(self.path, isolation_level=None)
        # First: every statement after it (the switch to WAL too) waits up to 30 s for a lock.
        self._db.execute("PRAGMA busy_timeout=30000")
        if on_disk:
            self._db.execute("PRAGMA journal_mode=WAL")
        # Deleted or rewritten rows are zeroed, not left in free pages.
        self._db.execute("PRAGMA secure_delete=ON")
        self._migrate()
        self._secret = self._load_secret()

    def __repr__(self) -> str:
        return f"Journal({self.path!r})"

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)
        self._db.execute("BEGIN IMMEDIATE")  # two processes opening an old file: one migrates
        try:
            row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row is not None else SCHEMA_VERSION
            if version < 4:
                self._hash_plain_emails()
            columns = {r[1] for r in self._db.execute("PRAGMA table_info(sync_state)")}
            if "raws" not in columns:  # version 5 -> 6: rows' raw hashes, unknown until synced
                self._db.execute("ALTER TABLE sync_state ADD COLUMN raws BLOB")
            self._db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                (str(max(version, SCHEMA_VERSION)),),
            )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _load_secret(self) -> bytes:
        """This file's HMAC key: 32 random bytes made once, on first use."""
        # INSERT OR IGNORE then read: two processes creating it at once agree on one value.
        # A file of version 3 has the removal ledger's secret: it becomes the file's, so
        # the digests of unfinished removal runs stay valid.
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) "
            "SELECT 'secret', value FROM meta WHERE key = 'removal_secret'"
        )
        self._db.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret', ?)",
            (os.urandom(32).hex(),),  # (secrets.token_hex(None) would hide a size mutant)
        )
        row = self._db.execute("SELECT value FROM meta WHERE key='secret'").fetchone()
        return bytes.fromhex(str(row[0]))

    def _hash_plain_emails(self) -> None:
        """Version 2/3 -> 4: the events ledger and 422 details keep keyed hashes."""
        self._secret = self._load_secret()
        ledger = self._db.execute("SELECT key, email FROM event_ledger").fetchall()
        for key, email in ledger:
            self._db.execute(
                "UPDATE event_ledger SET key=?, email=? WHERE key=?",
                (self.keyed(key), self.email_hash(email), key),
            )
        details = self._db.execute(
            "SELECT rowid, detail FROM imports WHERE detail IS NOT NULL"
        ).fetchall()
        for rowid, detail in details:
            self._db.execute(
                "UPDATE imports SET detail=? WHERE rowid=?",
                (json.dumps(self.hash_detail(json.loads(detail))), rowid),
            )

    # -- keyed hashes -------------------------------------------------------------------

    def digest(self, *parts: str) -> str:
        """HMAC-SHA256 of ``parts`` (joined by newlines) under this file's secret, as hex.

        Whoever holds the file and a candidate address can test it; nobody can read an
        address out of it.
        """
        message = "\n".join(parts).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def keyed(self, text: str) -> str:
        """The keyed hash of one string (see :meth:`digest`)."""
        return self.digest(text)

    def email_hashes(self, emails: Iterable[str] | pd.Series) -> list[str]:
        """Keyed hashes of emails under THE email key (:func:`email_key`: case, spaces)."""
        # (pragma: email_key gives the same keys for object and str input alike)
        keys = email_key(pd.Series(emails, dtype=object))  # pragma: no mutate
        return [self.keyed(f"email:{k}") for k in keys.tolist()]

    def email_hash(self, email: str) -> str:
        """The keyed hash of one email (see :meth:`email_hashes`)."""
        return self.email_hashes([email])[0]

    def hash_detail(self, detail: list[list[str]]) -> list[list[str]]:
        """A 422's ``[email, attribute, message]`` rows with each email as its keyed hash."""
        hashed = self.email_hashes([e for e, _, _ in detail])
        pairs = zip(hashed, detail, strict=True)  # pragma: no mutate (one hash per row, always)
        return [[h if e else "", a, m] for h, (e, a, m) in pairs]

    # -- reads ----------------------------------------------------------------------------

    def get(self, base_url: str, account_id: str, sha256: str) -> JournalEntry | None:
        """The record of one chunk, or ``None`` if it was never seen."""
        # The columns in JournalEntry's order, read by position (rows are plain tuples).
        row = self._db.execute(
            "SELECT sha256, chunk, rows, state, import_id, status, created, updated,"
            " over_limit, detail, submitted_at, finished_at FROM imports WHERE base_url=?"
            " AND account_id=? AND sha256=?",
            (base_url, account_id, sha256),
        ).fetchone()
        if row is None:
            return None
        values = list(row)
        detail = values[9]  # the server's errors as JSON, or NULL
        values[9] = json.loads(detail) if detail else None
        return JournalEntry(*values)

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
        # (pragma: "CHANGED_AT=?" names the same column: SQLite ignores the letter case)
        values["changed_at"] = time.time()  # pragma: no mutate
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
        self._journal = journal

    def status(self, key: str) -> str | None:
        """The ledger state of one event key, or ``None`` if it was never seen."""
        row = self._db.execute(
            "SELECT status FROM event_ledger WHERE key = ?", (self._journal.keyed(key),)
        ).fetchone()
        return None if row is None else str(row[0])

    def claim(
        self, key: str, account: str, email: str, name: str, *, resend_uncertain: bool
    ) -> str | None:
        """Atomically take the right to send one event; return the state that stopped us.

        ``None`` means the row is now ``sending`` and ours. Check and write are
        one statement, so two processes sharing the journal never both send.
        The key and the email are stored as keyed hashes.
        """
        now = time.time()
        stored, email = self._journal.keyed(key), self._journal.email_hash(email)
        taken = self._db.execute(
            "INSERT INTO event_ledger (key, account, email, name, status, contact_id, updated_at)"
            " VALUES (?, ?, ?, ?, 'sending', NULL, ?) ON CONFLICT(key) DO NOTHING",
            (stored, account, email, name, now),
        ).rowcount
        if not taken and resend_uncertain:
            taken = self._db.execute(
                "UPDATE event_ledger SET status='sending', updated_at=? "
                "WHERE key=? AND status IN ('sending', 'uncertain')",
                (now, stored),
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
            (
                self._journal.keyed(key),
                account,
                self._journal.email_hash(email),
                name,
                status,
                contact_id,
                time.time(),
            ),
        )

    def forget(self, key: str) -> None:
        """Drop a key: the server certainly did not record the event."""
        self._db.execute("DELETE FROM event_ledger WHERE key = ?", (self._journal.keyed(key),))


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
        self._journal = journal

    def digest(self, *parts: str) -> str:
        """The keyed hash of ``parts`` (joined by newlines), as hex: the file's secret."""
        return self._journal.digest(*parts)

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


Hashes = npt.NDArray[np.uint64]
_EMPTY: Hashes = np.array([], dtype=np.uint64)
_TOP_BYTE = np.uint64(56)
#: np.argsort's kind that keeps equal keys in their order: the newest entry of a key is last.
#: (A name, not a literal in the calls: numpy also takes "STABLE", a mutant nothing can see.)
_STABLE: Final = "stable"


def _blob(values: Hashes) -> bytes:
    # (pragma: the arrays are uint64 already and the machines little-endian: "<u8" changes
    # nothing a test can see, but keeps the file the same on a big-endian one)
    return np.ascontiguousarray(values, dtype="<u8").tobytes()  # pragma: no mutate


def _buckets(keys: Hashes) -> Iterator[tuple[int, npt.NDArray[np.intp]]]:
    """(bucket, positions of ``keys`` in it, in their order) for each bucket they touch."""
    if not len(keys):
        return
    # (pragma: as floats the top bytes 0..255 compare and convert alike)
    top = (keys >> _TOP_BYTE).astype(np.int64)  # pragma: no mutate
    order = np.argsort(top, kind=_STABLE)
    ranked = top[order]
    # (pragma: comparing with ranked[:1] splits a bucket into several; each reads what the
    # one before wrote, so only the number of writes would change)
    starts = np.flatnonzero(np.append(True, ranked[1:] != ranked[:-1]))  # pragma: no mutate
    stops = [*starts[1:], len(ranked)]
    for start, stop in zip(starts, stops, strict=True):  # pragma: no mutate (same length)
        yield int(ranked[start]), order[start:stop]


def _newest(keys: Hashes, *values: Hashes) -> tuple[Hashes, ...]:
    """Sorted by key, one entry per key: the one given last (newer entries come later)."""
    order = np.argsort(keys, kind=_STABLE)
    keys = keys[order]
    keep = np.ones(len(keys), dtype=bool)
    keep[:-1] = keys[1:] != keys[:-1]  # the last of each run of equal keys
    return (keys[keep], *(v[order][keep] for v in values))


def _raws(blob: bytes | None, n: int) -> Hashes:
    """A bucket's raw-row hashes; all unknown (0) in a bucket written before version 6."""
    if blob is None:
        return np.zeros(n, dtype=np.uint64)
    return np.frombuffer(blob, dtype="<u8")


class SyncStore:
    """The incremental-sync tables of a journal file, for one (base URL, account).

    Emails arrive already hashed with :attr:`hash_key` (a random key kept in the file), as
    unsigned 64-bit NumPy arrays; SQLite stores them as signed integers, bit for bit.

    Parameters
    ----------
    journal : Journal
        The file (its connection is shared: every write commits before returning).
    base_url, account_id : str
        Where the contacts live.
    """

    def __init__(self, journal: Journal, base_url: str, account_id: str) -> None:
        self._db = journal._db
        # SipHash (pandas.util.hash_array) takes a 16-character key: 96 bits of the file's
        # secret, through its HMAC, so the file keeps one secret for every keyed hash.
        derived = bytes.fromhex(journal.digest("sync: email hash key"))[:12]
        #: 16 characters: the ``hash_key`` of :func:`pandas.util.hash_array`.
        self.hash_key = base64.b64encode(derived).decode()
        self._db.execute(
            "INSERT OR IGNORE INTO sync_scopes (base_url, account_id) VALUES (?, ?)",
            (base_url, account_id),
        )
        self.scope = int(
            self._db.execute(
                "SELECT id FROM sync_scopes WHERE base_url=? AND account_id=?",
                (base_url, account_id),
            ).fetchone()[0]
        )

    # -- content hashes of confirmed rows ----------------------------------------------

    def count(self) -> int:
        """Emails with a confirmed state."""
        query = "SELECT coalesce(sum(length(emails)), 0) FROM sync_state WHERE scope=?"
        return int(self._db.execute(query, (self.scope,)).fetchone()[0]) // 8

    def load(self) -> tuple[Hashes, Hashes, Hashes]:
        """(email hashes, content hashes, raw-row hashes) of every confirmed email, sorted by
        email hash. A raw hash is 0 where unknown (see :mod:`mailtrap_pandas.jobs.sync.raw`).
        """
        rows = self._db.execute(
            "SELECT emails, contents, raws FROM sync_state WHERE scope=? ORDER BY bucket",
            (self.scope,),
        ).fetchall()
        if not rows:
            return _EMPTY.copy(), _EMPTY.copy(), _EMPTY.copy()
        # Sorted within a bucket, buckets in order of the top byte: sorted overall.
        keys = np.concatenate([np.frombuffer(r[0], dtype="<u8") for r in rows])
        contents = np.concatenate([np.frombuffer(r[1], dtype="<u8") for r in rows])
        raws = np.concatenate([_raws(r[2], len(r[0]) // 8) for r in rows])
        return keys, contents, raws

    def confirm(self, keys: Hashes, contents: Hashes, raws: Hashes | None = None) -> None:
        """The account now holds these contents for these emails (one transaction).

        ``raws``: the raw-row hashes that validate to these contents (0 or ``None``:
        unknown; the next sync validates those rows).
        """
        if raws is None:
            raws = np.zeros(len(keys), dtype=np.uint64)
        with self._transaction():
            for bucket, sel in _buckets(keys):
                old_keys, old_contents, old_raws = self._bucket(bucket)
                merged = _newest(
                    np.concatenate([old_keys, keys[sel]]),
                    np.concatenate([old_contents, contents[sel]]),
                    np.concatenate([old_raws, raws[sel]]),
                )
                self._write(bucket, *merged)

    def forget(self, keys: Hashes) -> None:
        """Drop the state of these emails: the next sync sends them whatever it finds."""
        with self._transaction():
            for bucket, sel in _buckets(keys):
                old_keys, old_contents, old_raws = self._bucket(bucket)
                keep = ~np.isin(old_keys, keys[sel])
                self._write(bucket, old_keys[keep], old_contents[keep], old_raws[keep])

    def _bucket(self, bucket: int) -> tuple[Hashes, Hashes, Hashes]:
        row = self._db.execute(
            "SELECT emails, contents, raws FROM sync_state WHERE scope=? AND bucket=?",
            (self.scope, bucket),
        ).fetchone()
        if row is None:
            return _EMPTY, _EMPTY, _EMPTY
        keys = np.frombuffer(row[0], dtype="<u8")
        return keys, np.frombuffer(row[1], dtype="<u8"), _raws(row[2], len(keys))

    def _write(self, bucket: int, keys: Hashes, contents: Hashes, raws: Hashes) -> None:
        if not len(keys):
            self._db.execute(
                "DELETE FROM sync_state WHERE scope=? AND bucket=?", (self.scope, bucket)
            )
            return
        self._db.execute(
            "INSERT OR REPLACE INTO sync_state (scope, bucket, emails, contents, raws) "
            "VALUES (?, ?, ?, ?, ?)",
            (self.scope, bucket, _blob(keys), _blob(contents), _blob(raws)),
        )

    @property
    def reconciled_at(self) -> float | None:
        """When the state was last compared with an export (epoch seconds), if ever."""
        row = self._db.execute(
            "SELECT reconciled_at FROM sync_scopes WHERE id=?", (self.scope,)
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def mark_reconciled(self, at: float) -> None:
        """Record a reconcile that began at ``at``."""
        self._db.execute("UPDATE sync_scopes SET reconciled_at=? WHERE id=?", (at, self.scope))

    # -- list memberships this package added ----------------------------------------------

    def members_added(self, list_id: int, keys: Hashes) -> None:
        """These emails were put on ``list_id`` by this package."""
        self._members_change(list_id, keys, added=True)

    def members_removed(self, list_id: int, keys: Hashes) -> None:
        """These emails are off ``list_id``: no longer ours to remove."""
        # (pragma: added=None is as false as False)
        self._members_change(list_id, keys, added=False)  # pragma: no mutate

    def members(self, list_id: int) -> Hashes:
        """Email hashes this package added to ``list_id`` (sorted)."""
        rows = self._db.execute(
            "SELECT emails FROM list_members WHERE scope=? AND list_id=? ORDER BY bucket",
            (self.scope, int(list_id)),
        ).fetchall()
        if not rows:
            return _EMPTY.copy()
        return np.concatenate([np.frombuffer(r[0], dtype="<u8") for r in rows])

    def _members_change(self, list_id: int, keys: Hashes, *, added: bool) -> None:
        where = "scope=? AND list_id=? AND bucket=?"
        with self._transaction():
            for bucket, sel in _buckets(keys):
                args = (self.scope, int(list_id), bucket)
                row = self._db.execute(
                    f"SELECT emails FROM list_members WHERE {where}", args
                ).fetchone()
                old = _EMPTY if row is None else np.frombuffer(row[0], dtype="<u8")
                new = np.union1d(old, keys[sel]) if added else np.setdiff1d(old, keys[sel])
                if len(new):
                    self._db.execute(
                        "INSERT OR REPLACE INTO list_members (scope, list_id, bucket, emails) "
                        "VALUES (?, ?, ?, ?)",
                        (*args, _blob(new)),
                    )
                else:
                    self._db.execute(f"DELETE FROM list_members WHERE {where}", args)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        # Many rows in one commit: all of them or none are on disk after a crash.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
