"""Custom fields: names and merge tags unique case-insensitively, at most 40 per account."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import NotFound, Unprocessable
from mailtrap_pandas.emulator.rules.common import Json, body_obj
from mailtrap_pandas.emulator.rules.lookups import count
from mailtrap_pandas.emulator.store import Store

__all__ = ["Fields", "MAX_FIELDS", "NAME_MAX", "RESERVED_TAGS"]

MAX_FIELDS = 40
NAME_MAX = 80
_MERGE_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Merge tags that would collide with the fixed columns of the export file.
RESERVED_TAGS = frozenset({"id", "email", "status", "list_ids", "created_at", "updated_at"})


def _json(r: sqlite3.Row) -> Json:
    return {
        "id": r["id"],
        "name": r["name"],
        "data_type": r["data_type"],
        "merge_tag": r["merge_tag"],
    }


def _row(c: sqlite3.Connection, acct: int, field_id: int) -> sqlite3.Row:
    r = c.execute(
        "SELECT * FROM fields WHERE account_id = ? AND id = ?", (acct, field_id)
    ).fetchone()
    if r is None:
        raise NotFound()
    return r  # type: ignore[no-any-return]


def _check_attrs(
    c: sqlite3.Connection,
    acct: int,
    payload: Json,
    skip_id: int | None,
    errors: v.Errors,
    required: bool,
) -> dict[str, str]:
    """Checked ``name`` / ``merge_tag`` (only those present unless ``required``)."""
    out: dict[str, str] = {}
    for attr in ("name", "merge_tag"):
        if not required and attr not in payload:
            continue
        value = v.check_name(payload.get(attr), attr, NAME_MAX, errors)
        if value is None:
            continue
        if attr == "merge_tag":
            if not _MERGE_TAG.match(value):
                v.add(errors, attr, "is invalid")
                continue
            if value.lower() in RESERVED_TAGS:
                v.add(errors, attr, "is reserved")
                continue
        sql = (
            f"SELECT id FROM fields WHERE account_id = ? AND lower({attr}) = lower(?) "  # noqa: S608
            "AND id != ?"
        )
        if c.execute(sql, (acct, value, skip_id or -1)).fetchone() is not None:
            v.add(errors, attr, "has already been taken")
            continue
        out[attr] = value
    return out


class Fields:
    """``…/contacts/fields`` and ``…/contacts/fields/{field_id}``.

    Parameters
    ----------
    store
        Where the state lives.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def index(self, acct: int) -> list[Json]:
        """``GET …/contacts/fields`` (custom fields only; the built-in email is not listed)."""
        with self.store.read() as c:
            rows = c.execute("SELECT * FROM fields WHERE account_id = ? ORDER BY id", (acct,))
            return [_json(r) for r in rows]

    def create(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/fields`` → the field (201)."""
        payload = body_obj(body)
        with self.store.tx() as c:
            if count(c, "fields", acct) >= MAX_FIELDS:
                raise Unprocessable({"base": [f"cannot have more than {MAX_FIELDS} fields"]})
            errors: v.Errors = {}
            attrs = _check_attrs(c, acct, payload, None, errors, required=True)
            data_type = payload.get("data_type")
            if data_type is None:
                v.add(errors, "data_type", "can't be blank")
            elif data_type not in v.DATA_TYPES:
                v.add(errors, "data_type", "is not included in the list")
            if errors:
                raise Unprocessable(dict(errors))
            cur = c.execute(
                "INSERT INTO fields (account_id, name, data_type, merge_tag) VALUES (?, ?, ?, ?)",
                (acct, attrs["name"], data_type, attrs["merge_tag"]),
            )
            return _json(_row(c, acct, int(cur.lastrowid or 0)))

    def get(self, acct: int, field_id: int) -> Json:
        """``GET …/contacts/fields/{field_id}``."""
        with self.store.read() as c:
            return _json(_row(c, acct, field_id))

    def update(self, acct: int, field_id: int, body: Any) -> Json:
        """``PATCH …/contacts/fields/{field_id}`` (name, merge_tag; never data_type)."""
        with self.store.tx() as c:
            row = _row(c, acct, field_id)
            payload = body_obj(body)
            errors: v.Errors = {}
            attrs = _check_attrs(c, acct, payload, field_id, errors, required=False)
            if "data_type" in payload and payload["data_type"] != row["data_type"]:
                v.add(errors, "data_type", "can't be changed")
            if errors:
                raise Unprocessable(dict(errors))
            for attr, value in attrs.items():
                sql = f"UPDATE fields SET {attr} = ? WHERE id = ?"  # noqa: S608 - fixed names
                c.execute(sql, (value, field_id))
            return _json(_row(c, acct, field_id))

    def delete(self, acct: int, field_id: int) -> None:
        """``DELETE …/contacts/fields/{field_id}`` (stored values become invisible)."""
        with self.store.tx() as c:
            _row(c, acct, field_id)
            c.execute("DELETE FROM fields WHERE id = ?", (field_id,))
