"""The request budget: pace requests *before* the API answers 429.

Mailtrap documents two limits (FACTS.md §4): 200 requests per 60 s per account
for the Contacts API and 150 requests per 10 s per token for everything. No
``Retry-After`` header is documented, so pacing has to happen on our side.

A :class:`RateBudget` holds sliding windows; :meth:`RateBudget.acquire` blocks
until every window has room and then records the request. Budgets are shared
through a process-wide registry keyed by (base URL, account) and (base URL,
token digest), so two ``Client`` objects in one notebook draw from the same
pool, as the server counts them; with a rate file (:class:`SharedSlots`),
several processes share the windows and the pause after a 429. Each process opens
one connection per rate file, shared by every budget on it and closed when the last
of them is closed or collected, or when the interpreter exits.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sqlite3
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mailtrap_pandas.private import private_file

__all__ = ["DEFAULT_LIMITS", "RateBudget", "SharedSlots", "Window", "parse_rate_limit"]


@dataclass(frozen=True)
class Window:
    """At most ``limit`` requests in any ``period`` seconds."""

    limit: int
    period: float
    scope: str = "account"  # "account" or "token": which key the window is shared by

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period <= 0:
            raise ValueError(f"a rate window needs limit >= 1 and period > 0, got {self}")


DEFAULT_LIMITS: tuple[Window, ...] = (
    Window(200, 60.0, "account"),
    Window(150, 10.0, "token"),
)


def parse_rate_limit(text: str) -> tuple[Window, ...] | None:
    """Parse ``"200/60"`` (requests/seconds, comma-separated for several) or ``"off"``.

    Examples
    --------
    >>> parse_rate_limit("200/60")
    (Window(limit=200, period=60.0, scope='account'),)
    >>> parse_rate_limit("off") is None
    True
    """
    text = text.strip().lower()
    if text in ("off", "none", "0", "false"):
        return None
    windows = []
    for part in text.split(","):
        try:
            limit, period = part.split("/")
            windows.append(Window(int(limit), float(period)))
        except ValueError as exc:
            raise ValueError(f"rate limit {part!r} is not of the form N/SECONDS or 'off'") from exc
    return tuple(windows)


@dataclass
class _Log:
    """Timestamps of recent requests in one window, guarded by the budget's lock."""

    window: Window
    times: deque[list[float]] = field(default_factory=deque)
    blocked_until: float = 0.0

    def wait_time(self, now: float) -> float:
        cutoff = now - self.window.period
        # Slots are re-stamped when their response arrives, so they are only
        # roughly ordered: prune and rank by value, not by position. Pruning only frees
        # memory: the wait below depends on the newest `limit` stamps alone. So the guard
        # (pruning only when something is old) changes no answer, and whether a stamp
        # exactly at the cutoff goes now or next time changes none either.
        if self.times and min(slot[0] for slot in self.times) <= cutoff:  # pragma: no mutate
            self.times = deque(
                slot
                for slot in self.times
                if slot[0] > cutoff  # pragma: no mutate  (> or >=: see above)
            )
        wait = max(0.0, self.blocked_until - now)
        if len(self.times) >= self.window.limit:
            stamps = sorted(slot[0] for slot in self.times)
            wait = max(wait, stamps[len(stamps) - self.window.limit] + self.window.period - now)
        return wait


class SharedSlots:
    """Request slots kept in a SQLite file, so that several processes pace as one.

    Each request takes one row per window key inside an ``IMMEDIATE``
    transaction (a file lock), after checking every window has room. Times are
    wall-clock seconds: processes share no monotonic clock. A 429 pause is a row
    of ``pauses`` (key -> until): every process checks it in the same
    transaction, so one process's 429 holds back the others too.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        private_file(path)  # 0600 (and so its -wal/-shm) before SQLite opens it
        self._db = sqlite3.connect(
            str(path), timeout=60, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS slots (key TEXT NOT NULL, t REAL NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS slots_key_t ON slots (key, t)")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS pauses (key TEXT PRIMARY KEY, until REAL NOT NULL)"
        )
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the file's connection; the rows stay for the other processes."""
        with self._lock:  # never in the middle of another thread's transaction
            self._db.close()

    def __enter__(self) -> SharedSlots:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def take(
        self,
        windows: Sequence[tuple[str, Window]],
        now: float,
        pause_keys: Sequence[str] = (),
    ) -> tuple[float, list[int]]:
        """Take a slot in every window, or return how long to wait first (and no slot).

        ``pause_keys``: the 429 pauses (see :meth:`pause`) this request must respect.
        """
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                longest = max(w.period for _, w in windows)
                db.execute("DELETE FROM slots WHERE t <= ?", (now - longest,))
                wait = 0.0
                for key in pause_keys:
                    row = db.execute("SELECT until FROM pauses WHERE key = ?", (key,)).fetchone()
                    if row is not None:
                        wait = max(wait, float(row[0]) - now)
                for key, w in windows:
                    stamps = [
                        row[0]
                        for row in db.execute(
                            "SELECT t FROM slots WHERE key = ? AND t > ? ORDER BY t",
                            (key, now - w.period),
                        )
                    ]
                    if len(stamps) >= w.limit:
                        wait = max(wait, stamps[len(stamps) - w.limit] + w.period - now)
                if wait > 0:
                    db.execute("ROLLBACK")
                    return wait, []
                ids = []
                for key, _ in windows:
                    cursor = db.execute("INSERT INTO slots (key, t) VALUES (?, ?)", (key, now))
                    assert cursor.lastrowid is not None  # an INSERT always sets it
                    ids.append(cursor.lastrowid)
                db.execute("COMMIT")
                return 0.0, ids
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def pause(self, keys: Sequence[str], until: float) -> None:
        """After a 429: no process sharing this file sends under ``keys`` before ``until``."""
        with self._lock:
            self._db.executemany(
                "INSERT INTO pauses (key, until) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET until = MAX(until, excluded.until)",
                [(key, until) for key in keys],
            )

    def settle(self, ids: Sequence[int], now: float) -> None:
        """Re-stamp a request's slots when its response arrives (see RateBudget.settle)."""
        with self._lock:
            marks = ",".join("?" * len(ids))
            self._db.execute(
                f"UPDATE slots SET t = MAX(t, ?) WHERE rowid IN ({marks})", (now, *ids)
            )


_REGISTRY: dict[tuple[str, ...], _Log] = {}
_REGISTRY_LOCK = threading.Lock()


@dataclass
class _OpenFile:
    slots: SharedSlots
    users: int = 0


# One connection per (process, rate file), counted by its users: a notebook that makes a
# Client per cell and never closes one holds one connection, not one per cell. The pid is
# part of the key because a SQLite connection must not cross a fork: a child opens its own,
# and leaves the ones it inherited alone.
_FILES: dict[tuple[int, str], _OpenFile] = {}
# Users gone without close(): their budget was garbage-collected. The collector may run
# in a thread that holds _REGISTRY_LOCK, so a finalizer must not take it: it only notes
# the key here, and the next open or close (or the interpreter's exit) settles it.
_COLLECTED: list[tuple[int, str]] = []


def _collected(key: tuple[int, str]) -> None:
    _COLLECTED.append(key)  # atomic: no lock needed, none may be taken


def _settle_collected() -> list[SharedSlots]:
    """Count the collected users out (under ``_REGISTRY_LOCK``); return what to close."""
    closing = []
    while _COLLECTED:
        key = _COLLECTED.pop()
        entry = _FILES.get(key)
        if entry is None or key[0] != os.getpid():
            continue
        entry.users -= 1
        if entry.users <= 0:
            del _FILES[key]
            closing.append(entry.slots)
    return closing


def _open_slots(path: str | os.PathLike[str]) -> tuple[tuple[int, str], SharedSlots]:
    key = (os.getpid(), os.path.realpath(os.path.expanduser(os.fspath(path))))
    # Read in `finally` only if _settle_collected() raised, which it does not: no mutant
    # of this line can change what happens.
    closing: list[SharedSlots] = []  # pragma: no mutate
    try:
        with _REGISTRY_LOCK:
            closing = _settle_collected()
            entry = _FILES.get(key)
            if entry is None:
                entry = _FILES[key] = _OpenFile(SharedSlots(path))  # may raise: closing still runs
            entry.users += 1
    finally:
        for slots in closing:  # nobody holds these any more
            slots.close()
    return key, entry.slots


def _release_slots(key: tuple[int, str]) -> None:
    """One user fewer; the last one closes the connection."""
    with _REGISTRY_LOCK:
        _COLLECTED.append(key)
        closing = _settle_collected()
    for slots in closing:
        slots.close()


@atexit.register
def _close_rate_files() -> None:
    """At exit, close this process's rate files, whoever still holds them."""
    with _REGISTRY_LOCK:
        mine = [key for key in _FILES if key[0] == os.getpid()]
        closing = [_FILES.pop(key).slots for key in mine]
        _COLLECTED.clear()
    for slots in closing:
        slots.close()


class RateBudget:
    """A thread-safe request budget made of one or more sliding windows.

    Parameters
    ----------
    windows : sequence of Window
        The limits to respect; ``()`` means no pacing at all.
    base_url, account_id, token : str
        Keys under which windows are shared process-wide. The token is hashed
        before use and never stored.
    clock, sleep : callables
        Injected for tests.
    shared_file : path, optional
        A SQLite file through which several processes share the windows
        (wall-clock time; see :class:`SharedSlots`). Its connection is released by
        :meth:`close`, when the budget is garbage-collected, or at interpreter exit.
    """

    def __init__(
        self,
        windows: Sequence[Window] = DEFAULT_LIMITS,
        *,
        base_url: str = "",  # pragma: no mutate  (a registry key: any constant shares alike)
        account_id: str = "",  # pragma: no mutate  (as base_url)
        token: str = "",  # pragma: no mutate  (as base_url)
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        shared: bool = True,
        shared_file: str | os.PathLike[str] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self.windows = tuple(windows)
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        self._logs: list[_Log] = []
        keys: list[tuple[str, Window]] = []
        for w in self.windows:
            key = (
                base_url,
                w.scope,
                account_id if w.scope == "account" else digest,
                str(w.limit),
                str(w.period),
            )
            keys.append(("|".join(key), w))
            if not shared:
                self._logs.append(_Log(w))
                continue
            with _REGISTRY_LOCK:
                self._logs.append(_REGISTRY.setdefault(key, _Log(w)))
        self._shared_file = shared_file if shared_file and self.windows else None
        self._file: SharedSlots | None = None
        self._release: weakref.finalize[Any, Any] | None = None
        if self._shared_file is not None:
            self._slots()  # open now: a file that cannot be opened fails here, not mid-job
        self._file_windows = keys
        # The server's 429 is about the account or the token, whatever limits we configured.
        self._pause_keys = (f"{base_url}|account|{account_id}", f"{base_url}|token|{digest}")
        # A 429 pause must hold even when no window is configured (pacing off).
        self._blocked_until = 0.0
        self.requests = 0
        self.waited = 0.0

    def __repr__(self) -> str:
        spec = ", ".join(f"{w.limit}/{w.period:g}s per {w.scope}" for w in self.windows)
        return f"RateBudget({spec or 'off'})"

    def close(self) -> None:
        """Release the rate file's connection (see ``shared_file``); a no-op without one.

        The budget stays usable: a later request opens the file again.
        """
        with self._lock:
            release, self._release, self._file = self._release, None, None
        # detach() hands the key back only if the collector has not used it: released once.
        found = release.detach() if release is not None else None
        if found is not None:
            _release_slots(found[2][0])

    def _slots(self) -> SharedSlots:
        """The rate file's slots, opened (again) if need be."""
        assert self._shared_file is not None
        with self._lock:
            if self._file is None:
                key, self._file = _open_slots(self._shared_file)
                # The finalizer holds the key, not the budget: a budget nobody closes is
                # still collected, and gives its connection back then.
                self._release = weakref.finalize(self, _collected, key)
            return self._file

    def acquire(self) -> float:
        """Block until a request may be sent, record it, and return the seconds waited."""
        return self.reserve()[1]

    def reserve(self) -> tuple[Any, float]:
        """Like :meth:`acquire`, and also return the request's slot for :meth:`settle`."""
        if self._shared_file is not None:
            return self._reserve_in_file()
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = max([self._blocked_until - now] + [log.wait_time(now) for log in self._logs])
                if wait <= 0:
                    slot = [now]
                    for log in self._logs:
                        log.times.append(slot)
                    self.requests += 1
                    self.waited += waited
                    return slot, waited
            self._sleep(wait)
            waited += wait

    def _reserve_in_file(self) -> tuple[Any, float]:
        waited = 0.0
        while True:
            pause = self._blocked_until - self._clock()
            if pause > 0:
                self._sleep(pause)
                waited += pause
                continue
            wait, ids = self._slots().take(self._file_windows, time.time(), self._pause_keys)
            if not ids:
                self._sleep(wait)
                waited += wait
                continue
            with self._lock:
                self.requests += 1
                self.waited += waited
            return ("file", ids), waited

    def settle(self, slot: Any) -> None:
        """Re-stamp a request's slot when its response arrives.

        The server counts a request when it arrives, which is after we sent it;
        counting from the response (which comes later still) keeps our windows
        at least as conservative as the server's, even when latencies vary.
        """
        if isinstance(slot, tuple):  # ("file", row ids)
            self._slots().settle(slot[1], time.time())
            return
        with self._lock:
            slot[0] = max(slot[0], self._clock())

    def penalize(self, seconds: float) -> None:
        """After a 429: send nothing more on any window for ``seconds``.

        With a shared file, the pause is written there too: every process sharing
        the file waits, not only this one.
        """
        with self._lock:
            until = self._clock() + seconds
            self._blocked_until = max(self._blocked_until, until)
            for log in self._logs:
                log.blocked_until = max(log.blocked_until, until)
        if self._shared_file is not None:
            self._slots().pause(self._pause_keys, time.time() + seconds)

    def seconds_for(self, n_requests: int) -> float:
        """Lower bound of the time ``n_requests`` more requests need under this budget.

        Used by progress bars to give an ETA that knows the pacing.
        """
        if not self.windows:
            return 0.0
        # n_requests <= 0 needs no test of its own: no window (limit >= 1) is then exceeded.
        return max(max(0, n_requests - w.limit) / w.limit * w.period for w in self.windows)
