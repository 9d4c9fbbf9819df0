"""Contact lists: names unique case-insensitively, at most 50 per account."""

from __future__ import annotations

import sqlite3
from typing import Any

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import NotFound, Unprocessable
from mailtrap_pandas.emulator.rules.common import Json, body_obj
from mailtrap_pandas.emulator.rules.lookups import count
from mailtrap_pandas.emulator.store import Store

__all__ = ["LIST_NAME_MAX", "Lists", "MAX_LISTS"]

MAX_LISTS = 50
LIST_NAME_MAX = 255


def _row(c: sqlite3.Connection, acct: int, list_id: int) -> Json:
    r = c.execute(
        "SELECT id, name FROM lists WHERE account_id = ? AND id = ?", (acct, list_id)
    ).fetchone()
    if r is None:
        raise NotFound()
    return {"id": r["id"], "name": r["name"]}


def _check_name(c: sqlite3.Connection, acct: int, raw: Any, skip_id: int | None) -> str:
    errors: v.Errors = {}
    name = v.check_name(raw, "name", LIST_NAME_MAX, errors)
    if name is not None:
        clash = c.execute(
            "SELECT id FROM lists WHERE account_id = ? AND lower(name) = lower(?) AND id != ?",
            (acct, name, skip_id or -1),
        ).fetchone()
        if clash is not None:
            v.add(errors, "name", "has already been taken")
    if errors or name is None:
        raise Unprocessable(dict(errors))
    return name


class Lists:
    """``…/contacts/lists`` and ``…/contacts/lists/{list_id}``.

    Parameters
    ----------
    store
        Where the state lives.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def index(self, acct: int, search: str | None = None) -> list[Json]:
        """``GET …/contacts/lists`` (``search``: case-insensitive name prefix)."""
        with self.store.read() as c:
            rows = c.execute("SELECT id, name FROM lists WHERE account_id = ? ORDER BY id", (acct,))
            out = [{"id": r["id"], "name": r["name"]} for r in rows]
        if search:
            out = [x for x in out if str(x["name"]).lower().startswith(search.lower())]
        return out

    def create(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/lists`` → the list (the API answers 200, sic)."""
        payload = body_obj(body)
        with self.store.tx() as c:
            if count(c, "lists", acct) >= MAX_LISTS:
                raise Unprocessable({"base": [f"cannot have more than {MAX_LISTS} lists"]})
            name = _check_name(c, acct, payload.get("name"), None)
            cur = c.execute("INSERT INTO lists (account_id, name) VALUES (?, ?)", (acct, name))
            return {"id": cur.lastrowid, "name": name}

    def get(self, acct: int, list_id: int) -> Json:
        """``GET …/contacts/lists/{list_id}``."""
        with self.store.read() as c:
            return _row(c, acct, list_id)

    def update(self, acct: int, list_id: int, body: Any) -> Json:
        """``PATCH …/contacts/lists/{list_id}``."""
        with self.store.tx() as c:
            _row(c, acct, list_id)
            payload = body_obj(body)
            name = _check_name(c, acct, payload.get("name"), list_id)
            c.execute("UPDATE lists SET name = ? WHERE id = ?", (name, list_id))
            return {"id": list_id, "name": name}

    def delete(self, acct: int, list_id: int) -> None:
        """``DELETE …/contacts/lists/{list_id}`` (contacts are kept)."""
        with self.store.tx() as c:
            _row(c, acct, list_id)
            c.execute("DELETE FROM memberships WHERE list_id = ?", (list_id,))
            c.execute("DELETE FROM lists WHERE id = ?", (list_id,))
