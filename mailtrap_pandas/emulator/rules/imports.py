"""Bulk imports: request validation, the job record, and the upsert a finished job applies.

The job lifecycle itself (created → started → finished/failed) is run by
:class:`~mailtrap_pandas.emulator.jobs.JobRunner`, which calls :meth:`Imports.apply`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

import orjson

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import ImportUnprocessable, NotFound
from mailtrap_pandas.emulator.rules.common import Json, new_contact_id, now_ms
from mailtrap_pandas.emulator.rules.jobboard import JobBoard
from mailtrap_pandas.emulator.rules.lookups import count, fields_by_tag, list_ids
from mailtrap_pandas.emulator.store import Store

__all__ = ["Imports", "MAX_IMPORT"]

MAX_IMPORT = 50_000
# SQLite's default limit on host parameters is 999: look emails up in slices.
_IN_SLICE = 900


def _too_many(items: list[Any]) -> ImportUnprocessable:
    first = items[0].get("email") if isinstance(items[0], dict) else ""
    return ImportUnprocessable(
        [
            {
                "email": first if isinstance(first, str) else "",
                "errors": {"base": [f"cannot import more than {MAX_IMPORT} contacts at once"]},
            }
        ]
    )


def _merge(old: str, values: dict[str, Any]) -> str:
    """Stored field JSON with ``values`` applied (``None`` clears a field)."""
    merged: dict[str, Any] = orjson.loads(old)
    for k, val in values.items():
        if val is None:
            merged.pop(k, None)
        else:
            merged[k] = val
    return orjson.dumps(merged).decode()


class Imports:
    """``POST …/contacts/imports``, ``GET …/contacts/imports/{import_id}`` and the bulk upsert.

    Parameters
    ----------
    store
        Where the state lives.
    board
        Job controls (scripted failures, the runner's wake-up).
    max_contacts
        Account contact quota; new contacts past it are skipped and counted in
        ``contacts_over_limit_count``. ``None``: unlimited.
    """

    def __init__(self, store: Store, board: JobBoard, max_contacts: int | None = None) -> None:
        self.store = store
        self.board = board
        self.max_contacts = max_contacts

    def validate(self, acct: int, body: Any, cap: int | None = MAX_IMPORT) -> list[list[Any]]:
        """Check an import request; return normalised items or raise the import 422.

        Items are ``[email, fields_by_id, included, excluded]``; duplicates are
        kept in order (the last one wins when the job applies them).
        """
        items = body.get("contacts") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise ImportUnprocessable(
                [{"email": "", "errors": {"contacts": ["must be a non-empty array"]}}]
            )
        if cap is not None and len(items) > cap:
            raise _too_many(items)
        with self.store.read() as c:
            by_tag = fields_by_tag(c, acct)
            known = list_ids(c, acct)
        failures: list[Json] = []
        out: list[list[Any]] = []
        for item in items:
            errors: v.Errors = {}
            if not isinstance(item, dict):
                failures.append({"email": "", "errors": {"base": ["must be a hash"]}})
                continue
            raw_email = item.get("email")
            email = v.check_email(raw_email, errors)
            values = v.check_field_values(item.get("fields"), by_tag, errors)
            inc = v.check_list_ids(
                item.get("list_ids_included"), "list_ids_included", known, errors
            )
            exc = v.check_list_ids(
                item.get("list_ids_excluded"), "list_ids_excluded", known, errors
            )
            v.check_overlap(inc, exc, errors)
            if errors or email is None:
                shown = raw_email if isinstance(raw_email, str) else ""
                failures.append({"email": shown, "errors": dict(errors)})
            else:
                out.append([email, values, inc, exc])
        if failures:
            raise ImportUnprocessable(failures)
        return out

    def create(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/imports`` → ``{"id", "status"}`` (201); the job runs later."""
        items = self.validate(acct, body)
        ms = now_ms()
        with self.board.changed:
            fail = int(self.board.take_failure())
            with self.store.tx() as c:
                cur = c.execute(
                    "INSERT INTO imports (account_id, status, payload, fail, stage_at, created_at, "
                    "updated_at) VALUES (?, 'created', ?, ?, ?, ?, ?)",
                    (acct, orjson.dumps(items), fail, time.time(), ms, ms),
                )
                import_id = int(cur.lastrowid or 0)
            self.board.imports_accepted += 1
            self.board.changed.notify_all()
        return {"id": import_id, "status": "created"}

    def get(self, acct: int, import_id: int) -> Json:
        """``GET …/contacts/imports/{import_id}``; counts only once finished."""
        with self.store.read() as c:
            r = c.execute(
                "SELECT * FROM imports WHERE account_id = ? AND id = ?", (acct, import_id)
            ).fetchone()
        if r is None:
            raise NotFound()
        out: Json = {"id": r["id"], "status": r["status"]}
        if r["status"] == "finished":
            out["created_contacts_count"] = r["created_count"]
            out["updated_contacts_count"] = r["updated_count"]
            out["contacts_over_limit_count"] = r["over_limit_count"]
        return out

    def apply(
        self,
        c: sqlite3.Connection,
        acct: int,
        items: list[list[Any]],
        status_of: Callable[[int], str] | None = None,
    ) -> tuple[int, int, int]:
        """Upsert normalised items in the caller's transaction → (created, updated, over limit)."""
        latest: dict[str, tuple[int, list[Any]]] = {}
        for pos, item in enumerate(items):
            latest[item[0].lower()] = (pos, item)  # duplicates: the last one wins
        keys = list(latest)
        existing: dict[str, tuple[str, str]] = {}
        for start in range(0, len(keys), _IN_SLICE):
            chunk = keys[start : start + _IN_SLICE]
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT id, email_key, fields FROM contacts WHERE account_id = ? "  # noqa: S608
                f"AND email_key IN ({marks})"
            )
            for r in c.execute(sql, (acct, *chunk)):
                existing[r["email_key"]] = (r["id"], r["fields"])
        live_lists = list_ids(c, acct)
        total = count(c, "contacts", acct)
        ms = now_ms()
        inserts: list[tuple[Any, ...]] = []
        updates: list[tuple[Any, ...]] = []
        adds: list[tuple[str, int]] = []
        removes: list[tuple[str, int]] = []
        created = updated = over = 0
        for key, (pos, (email, values, inc, exc)) in sorted(
            latest.items(), key=lambda kv: kv[1][0]
        ):
            if key in existing:
                cid, old = existing[key]
                updates.append((_merge(old, values), ms, cid))
                updated += 1
            else:
                if self.max_contacts is not None and total >= self.max_contacts:
                    over += 1
                    continue
                cid = new_contact_id(ms)
                stored = {k: val for k, val in values.items() if val is not None}
                status = status_of(pos) if status_of else "subscribed"
                inserts.append(
                    (cid, acct, email, key, status, orjson.dumps(stored).decode(), ms, ms)
                )
                total += 1
                created += 1
            adds.extend((cid, i) for i in inc if i in live_lists)
            removes.extend((cid, i) for i in exc)
        c.executemany(
            "INSERT INTO contacts (id, account_id, email, email_key, status, fields, created_at, "
            "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            inserts,
        )
        c.executemany("UPDATE contacts SET fields = ?, updated_at = ? WHERE id = ?", updates)
        c.executemany("INSERT OR IGNORE INTO memberships (contact_id, list_id) VALUES (?, ?)", adds)
        c.executemany("DELETE FROM memberships WHERE contact_id = ? AND list_id = ?", removes)
        return created, updated, over
