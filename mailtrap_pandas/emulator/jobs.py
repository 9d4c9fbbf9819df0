"""Import and export jobs: created → started → finished (imports may end failed).

A :class:`JobRunner` owns one daemon thread. Each job waits ``job_delay_s``
in ``created``, then moves to ``started``, waits ``job_delay_s`` again, does
its work (applying an import in one transaction, or writing an export file),
and ends ``finished`` (or ``failed`` when an ``{"import": "fail"}`` fault
marked it). With the default delay of 0 a job finishes as soon as the worker
reaches it; jobs run one at a time, oldest first.

Under the ``manual`` policy no thread runs: :meth:`JobRunner.advance` moves
every unfinished job one stage, which makes lifecycle tests fully
deterministic.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from typing import Any, Literal

import orjson

from mailtrap_pandas.emulator.exportfile import build_export
from mailtrap_pandas.emulator.rules.common import now_ms
from mailtrap_pandas.emulator.state import Backend

__all__ = ["JobRunner", "JobPolicy"]

JobPolicy = Literal["auto", "manual"]
_IDLE_WAIT = 0.5
log = logging.getLogger("mailtrap_pandas.emulator")


class JobRunner:
    """Advance the jobs of a :class:`Backend`, in a thread or on demand.

    Parameters
    ----------
    backend
        The emulator state whose jobs to run.
    policy
        ``"auto"``: a background thread; ``"manual"``: only :meth:`advance`.
    """

    def __init__(self, backend: Backend, policy: JobPolicy = "auto") -> None:
        self.backend = backend
        self.policy = policy
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the worker thread (no-op under the manual policy)."""
        if self.policy == "manual" or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, name="mailtrap-emulator-jobs", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker thread and wait for it."""
        self._stop.set()
        self.backend.board.notify()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def advance(self) -> int:
        """Move every unfinished job one stage now, ignoring the delay; return how many."""
        moved = 0
        for kind, job in self._pending():
            self._step(kind, job)
            moved += 1
        return moved

    # ------------------------------------------------------------------ internals
    def _pending(self) -> list[tuple[str, Any]]:
        with self.backend.store.read() as c:
            imports = c.execute(
                "SELECT id, account_id, status, stage_at, fail FROM imports "
                "WHERE status IN ('created', 'started') ORDER BY id"
            ).fetchall()
            exports = c.execute(
                "SELECT id, account_id, status, stage_at, filters FROM exports "
                "WHERE status IN ('created', 'started') ORDER BY id"
            ).fetchall()
        return [("import", r) for r in imports] + [("export", r) for r in exports]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                waited = self._tick()
            except Exception:  # noqa: BLE001 - a closed store during shutdown must not crash
                if self._stop.is_set():
                    return
                raise
            if waited is not None:
                board = self.backend.board
                with board.changed:
                    if not self._stop.is_set():
                        board.changed.wait(timeout=waited)

    def _tick(self) -> float | None:
        """Advance the oldest due job; return how long to sleep, or None to loop at once."""
        pending = self._pending()
        if not pending:
            return _IDLE_WAIT
        delay = self.backend.board.delay_s
        now = time.time()
        soonest = _IDLE_WAIT
        for kind, job in pending:
            due = job["stage_at"] + delay
            if due <= now:
                try:
                    self._step(kind, job)
                except Exception:
                    # A bug must not kill the worker and freeze every later job.
                    log.exception("emulator %s job %s crashed; marking it failed", kind, job["id"])
                    self._set("imports" if kind == "import" else "exports", job["id"], "failed")
                return None
            soonest = min(soonest, due - now)
        return soonest

    def _step(self, kind: str, job: Any) -> None:
        table = "imports" if kind == "import" else "exports"
        if job["status"] == "created":
            self._set(table, job["id"], "started")
            return
        if kind == "import":
            self._finish_import(job)
        else:
            self._finish_export(job)

    def _set(self, table: str, job_id: int, status: str, **extra: Any) -> None:
        cols = "".join(f", {k} = ?" for k in extra)
        with self.backend.store.tx() as c:
            c.execute(
                f"UPDATE {table} SET status = ?, stage_at = ?, updated_at = ?{cols} "  # noqa: S608
                "WHERE id = ?",
                (status, time.time(), now_ms(), *extra.values(), job_id),
            )

    def _finish_import(self, job: Any) -> None:
        if job["fail"]:
            self._set("imports", job["id"], "failed", payload=None)
            return
        with self.backend.store.tx() as c:
            payload = c.execute("SELECT payload FROM imports WHERE id = ?", (job["id"],)).fetchone()
            items = orjson.loads(payload[0])
            created, updated, over = self.backend.imports.apply(c, job["account_id"], items)
            c.execute(
                "UPDATE imports SET status = 'finished', payload = NULL, created_count = ?, "
                "updated_count = ?, over_limit_count = ?, stage_at = ?, updated_at = ? "
                "WHERE id = ?",
                (created, updated, over, time.time(), now_ms(), job["id"]),
            )

    def _finish_export(self, job: Any) -> None:
        data = build_export(self.backend.store, job["account_id"], orjson.loads(job["filters"]))
        name = f"export-{job['id']}-{secrets.token_hex(8)}.csv.gz"
        with self.backend.store.tx() as c:
            c.execute("INSERT INTO files (name, data) VALUES (?, ?)", (name, data))
            c.execute(
                "UPDATE exports SET status = 'finished', filename = ?, stage_at = ?, "
                "updated_at = ? WHERE id = ?",
                (name, time.time(), now_ms(), job["id"]),
            )
