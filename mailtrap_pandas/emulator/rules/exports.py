"""Exports: filters, the job record (one in flight per account) and the finished files.

A finished export's ``url`` points at ``/_emulator/files/<name>``, which needs no
token, like the real API's pre-signed download URL: the random part of the
name is the secret (the name is only ever revealed to an authenticated caller).
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import NotFound, Unprocessable
from mailtrap_pandas.emulator.rules.common import Json, iso_ms, now_ms
from mailtrap_pandas.emulator.rules.jobboard import JobBoard
from mailtrap_pandas.emulator.store import Store

__all__ = ["EXPORT_BUSY", "Exports", "check_filters"]

EXPORT_BUSY = (
    "There is a previous export initiated. You will be notified by email once it is completed."
)


def _filter_ok(f: Any) -> bool:
    if not isinstance(f, dict) or f.get("operator") != "equal":
        return False
    if f.get("name") == "list_id":
        val = f.get("value")
        return (
            isinstance(val, list)
            and bool(val)
            # Ids beyond int64 cannot exist (and would overflow SQLite).
            and all(type(i) is int and v.INT_MIN <= i <= v.INT_MAX for i in val)
        )
    if f.get("name") == "subscription_status":
        return f.get("value") in ("subscribed", "unsubscribed")
    return False


def check_filters(body: Any) -> list[Json]:
    """Validate export filters; anything malformed → ``{"filters": "invalid"}``."""
    if body is None:
        return []
    if not isinstance(body, dict):
        raise Unprocessable({"filters": "invalid"})
    filters = body.get("filters")
    if filters is None:
        return []
    if not isinstance(filters, list) or not all(_filter_ok(f) for f in filters):
        raise Unprocessable({"filters": "invalid"})
    return filters


class Exports:
    """``POST …/contacts/exports``, ``GET …/contacts/exports/{export_id}`` and the files.

    Parameters
    ----------
    store
        Where the state lives.
    board
        Job controls (the runner's wake-up).
    """

    def __init__(self, store: Store, board: JobBoard) -> None:
        self.store = store
        self.board = board

    def create(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/exports`` → the export (201); one in flight per account."""
        filters = check_filters(body)
        with self.board.changed:
            with self.store.tx() as c:
                busy = c.execute(
                    "SELECT 1 FROM exports WHERE account_id = ? "
                    "AND status IN ('created', 'started')",
                    (acct,),
                ).fetchone()
                if busy is not None:
                    raise Unprocessable({"base": [EXPORT_BUSY]})
                ms = now_ms()
                cur = c.execute(
                    "INSERT INTO exports (account_id, status, filters, stage_at, created_at, "
                    "updated_at) VALUES (?, 'created', ?, ?, ?, ?)",
                    (acct, orjson.dumps(filters).decode(), time.time(), ms, ms),
                )
                export_id = int(cur.lastrowid or 0)
            self.board.changed.notify_all()
        return self.get(acct, export_id)

    def get(self, acct: int, export_id: int) -> Json:
        """``GET …/contacts/exports/{export_id}``; ``url`` is a path under ``/_emulator/files/``.

        The HTTP layer makes the URL absolute (it knows the host the client used).
        """
        with self.store.read() as c:
            r = c.execute(
                "SELECT * FROM exports WHERE account_id = ? AND id = ?", (acct, export_id)
            ).fetchone()
        if r is None:
            raise NotFound()
        url = f"/_emulator/files/{r['filename']}" if r["status"] == "finished" else None
        return {
            "id": r["id"],
            "status": r["status"],
            "created_at": iso_ms(r["created_at"]),
            "updated_at": iso_ms(r["updated_at"]),
            "url": url,
        }

    def file(self, name: str) -> bytes:
        """The bytes of an export file (no token: the URL itself is the secret)."""
        with self.store.read() as c:
            r = c.execute("SELECT data FROM files WHERE name = ?", (name,)).fetchone()
        if r is None:
            raise NotFound()
        return bytes(r[0])
