"""Contacts one at a time: create, read, upsert (PATCH), delete."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from typing import Any

import orjson

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import ContactNotFound, NotFound, Unprocessable
from mailtrap_pandas.emulator.rules.common import Json, body_obj, new_contact_id, now_ms
from mailtrap_pandas.emulator.rules.lookups import fields_by_tag, find_contact, list_ids, tags_by_id
from mailtrap_pandas.emulator.store import Store

__all__ = ["Contacts"]

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _contact_json(c: sqlite3.Connection, acct: int, row: sqlite3.Row) -> Json:
    tags = tags_by_id(c, acct)
    stored: dict[str, Any] = orjson.loads(row["fields"])
    # Unset fields are left out (never null), in field-creation order.
    fields = {
        tags[k]: val
        for k, val in sorted(stored.items(), key=lambda kv: int(kv[0]))
        if k in tags and val is not None
    }
    lists = [
        r[0]
        for r in c.execute(
            "SELECT list_id FROM memberships WHERE contact_id = ? ORDER BY list_id",
            (row["id"],),
        )
    ]
    return {
        "id": row["id"],
        "email": row["email"],
        "status": row["status"],
        "fields": fields,
        "list_ids": lists,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def _insert(
    c: sqlite3.Connection,
    acct: int,
    email: str,
    values: dict[str, Any],
    unsubscribed: bool,
    ms: int | None = None,
) -> str:
    """Store a new contact (unset and null values left out) and return its id."""
    ms = now_ms() if ms is None else ms
    cid = new_contact_id(ms)
    stored = {k: val for k, val in values.items() if val is not None}
    c.execute(
        "INSERT INTO contacts (id, account_id, email, email_key, status, fields, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            cid,
            acct,
            email,
            email.lower(),
            "unsubscribed" if unsubscribed else "subscribed",
            orjson.dumps(stored).decode(),
            ms,
            ms,
        ),
    )
    return cid


def _set_memberships(
    c: sqlite3.Connection, contact_id: str, add: Iterable[int], remove: Iterable[int]
) -> None:
    c.executemany(
        "INSERT OR IGNORE INTO memberships (contact_id, list_id) VALUES (?, ?)",
        [(contact_id, i) for i in add],
    )
    c.executemany(
        "DELETE FROM memberships WHERE contact_id = ? AND list_id = ?",
        [(contact_id, i) for i in remove],
    )


class Contacts:
    """``…/contacts`` and ``…/contacts/{id_or_email}``.

    Parameters
    ----------
    store
        Where the state lives.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, acct: int, body: Any) -> Json:
        """``POST …/contacts`` → the new contact (201)."""
        contact = body_obj(body, "contact")
        with self.store.tx() as c:
            errors: v.Errors = {}
            email = v.check_email(contact.get("email"), errors)
            values = v.check_field_values(contact.get("fields"), fields_by_tag(c, acct), errors)
            lists = v.check_list_ids(contact.get("list_ids"), "list_ids", list_ids(c, acct), errors)
            unsub = contact.get("unsubscribed", False)
            if not isinstance(unsub, bool):
                v.add(errors, "unsubscribed", "is invalid")
            if email and find_contact(c, acct, email) is not None:
                v.add(errors, "email", "has already been taken")
            if errors or email is None:
                raise Unprocessable(dict(errors))
            cid = _insert(c, acct, email, values, unsub)
            _set_memberships(c, cid, lists, ())
            row = find_contact(c, acct, cid)
            assert row is not None
            return _contact_json(c, acct, row)

    def get(self, acct: int, ident: str) -> Json:
        """``GET …/contacts/{id_or_email}``."""
        with self.store.read() as c:
            row = find_contact(c, acct, ident)
            if row is None:
                raise NotFound()
            return _contact_json(c, acct, row)

    def upsert(self, acct: int, ident: str, body: Any) -> tuple[str, Json]:
        """``PATCH …/contacts/{id_or_email}`` → (``"created"``/``"updated"``, contact).

        An unknown identifier that looks like a UUID is a 404; any other unknown
        identifier is taken as the email of a contact to create (upsert).
        """
        contact = body_obj(body, "contact")
        with self.store.tx() as c:
            row = find_contact(c, acct, ident)
            if row is None and _UUID.match(ident):
                raise NotFound()
            errors: v.Errors = {}
            email: str | None = None
            if "email" in contact or row is None:
                email = v.check_email(contact.get("email", ident), errors)
            values = v.check_field_values(contact.get("fields"), fields_by_tag(c, acct), errors)
            known = list_ids(c, acct)
            inc = v.check_list_ids(
                contact.get("list_ids_included"), "list_ids_included", known, errors
            )
            exc = v.check_list_ids(
                contact.get("list_ids_excluded"), "list_ids_excluded", known, errors
            )
            v.check_overlap(inc, exc, errors)
            unsub = contact.get("unsubscribed")
            if unsub is not None and not isinstance(unsub, bool):
                v.add(errors, "unsubscribed", "is invalid")
            if email is not None:
                other = find_contact(c, acct, email)
                if other is not None and (row is None or other["id"] != row["id"]):
                    v.add(errors, "email", "has already been taken")
            if errors:
                raise Unprocessable(dict(errors))
            if row is None:
                assert email is not None
                cid = _insert(c, acct, email, values, bool(unsub))
                action = "created"
            else:
                cid = row["id"]
                self._update(c, row, email, values, unsub)
                action = "updated"
            _set_memberships(c, cid, inc, exc)
            new_row = find_contact(c, acct, cid)
            assert new_row is not None
            return action, _contact_json(c, acct, new_row)

    @staticmethod
    def _update(
        c: sqlite3.Connection,
        row: sqlite3.Row,
        email: str | None,
        values: dict[str, Any],
        unsub: bool | None,
    ) -> None:
        """Merge a PATCH into an existing contact (``null`` clears a field)."""
        merged: dict[str, Any] = orjson.loads(row["fields"])
        for k, val in values.items():
            if val is None:
                merged.pop(k, None)
            else:
                merged[k] = val
        status = row["status"]
        if unsub is True:
            status = "unsubscribed"
        elif unsub is False:
            status = "subscribed"
        new_email = email if email is not None else row["email"]
        c.execute(
            "UPDATE contacts SET email = ?, email_key = ?, status = ?, fields = ?, "
            "updated_at = ? WHERE id = ?",
            (
                new_email,
                new_email.lower(),
                status,
                orjson.dumps(merged).decode(),
                now_ms(),
                row["id"],
            ),
        )

    def delete(self, acct: int, ident: str) -> None:
        """``DELETE …/contacts/{id_or_email}``."""
        with self.store.tx() as c:
            row = find_contact(c, acct, ident)
            if row is None:
                raise ContactNotFound()
            c.execute("DELETE FROM memberships WHERE contact_id = ?", (row["id"],))
            c.execute("DELETE FROM contacts WHERE id = ?", (row["id"],))
