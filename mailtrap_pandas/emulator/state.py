"""The rules of the Contacts API: one method per API action, no HTTP here.

:class:`Backend` validates input, enforces limits and reads/writes the
:class:`~mailtrap_pandas.emulator.store.Store`. It raises the errors of
:mod:`mailtrap_pandas.emulator.errors`, which carry the exact status and body.

Behaviour the public API leaves undocumented is decided here; every such
decision is listed in the package docstring of :mod:`mailtrap_pandas.emulator`.
"""

from __future__ import annotations

import functools
import os
import random
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import (
    ContactNotFound,
    ImportUnprocessable,
    NotFound,
    Unauthorized,
    Unprocessable,
)
from mailtrap_pandas.emulator.store import Store

__all__ = ["Backend", "MAX_FIELDS", "MAX_LISTS", "MAX_IMPORT", "new_contact_id"]

MAX_FIELDS = 40
MAX_LISTS = 50
MAX_IMPORT = 50_000
NAME_MAX = 80
LIST_NAME_MAX = 255
EVENT_MAX = 255
EXPORT_BUSY = (
    "There is a previous export initiated. You will be notified by email once it is completed."
)
_MERGE_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Merge tags that would collide with the fixed columns of the export file.
RESERVED_TAGS = frozenset({"id", "email", "status", "list_ids", "created_at", "updated_at"})
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

Json = dict[str, Any]
_RNG = random.Random(os.urandom(16))


def now_ms() -> int:
    """Current time as epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_contact_id(ms: int | None = None) -> str:
    """A UUIDv7-shaped id: 48-bit millisecond timestamp, version 7, random rest."""
    ms = now_ms() if ms is None else ms
    rand = _RNG.getrandbits(80)  # ids need uniqueness, not secrecy: skip a syscall each
    value = (ms & (2**48 - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & (2**62 - 1)
    return str(uuid.UUID(int=value))


def _body_obj(body: Any, key: str | None = None) -> Json:
    """The request object (optionally ``body[key]``), or a 422 if it is not an object."""
    if not isinstance(body, dict):
        raise Unprocessable({key or "base": ["can't be blank" if body is None else "is invalid"]})
    if key is None:
        return body
    inner = body.get(key)
    if not isinstance(inner, dict):
        raise Unprocessable({key: ["can't be blank" if inner is None else "must be a hash"]})
    return inner


class Backend:
    """State and rules of one emulated Mailtrap account.

    Parameters
    ----------
    store
        Where the state lives.
    account_id, token
        The one account this emulator serves and the token that opens it.
    max_contacts
        Account contact quota; contacts past it are skipped by imports and
        counted in ``contacts_over_limit_count``. ``None``: unlimited.
    """

    def __init__(
        self,
        store: Store,
        *,
        account_id: int,
        token: str,
        max_contacts: int | None = None,
        account_name: str = "Emulator account",
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.token = token
        self.account_name = account_name
        self.max_contacts = max_contacts
        self.job_delay_s = 0.0
        self.import_failures_pending = 0
        self.imports_accepted = 0
        self.jobs_changed = threading.Condition()
        store.ensure_account(account_id, token, account_name)

    # ----------------------------------------------------------------- auth
    def authenticate(self, token: str | None) -> int:
        """Return the account the token acts on by default (token-scoped paths), or 401."""
        if not token or token != self.token:
            raise Unauthorized()
        return self.account_id

    def can_access(self, token: str, account_id: int) -> bool:
        """Whether the token sees ``account_id`` (an account-scoped path)."""
        if token != self.token:
            return False
        with self.store.read() as c:
            row = c.execute(
                "SELECT 1 FROM accounts WHERE id = ? AND token = ?", (account_id, token)
            ).fetchone()
        return row is not None

    def add_account(self, account_id: int, name: str) -> None:
        """Let the token see one more (empty) account, like an organization token.

        Token-scoped paths keep acting on the first account; ``GET /api/accounts``
        lists them all. :meth:`reset` removes the extra accounts again.
        """
        self.store.ensure_account(int(account_id), self.token, name)

    def list_accounts(self, account_id: int) -> list[Json]:
        """``GET /api/accounts``: every account the token sees, first the default one."""
        with self.store.read() as c:
            rows = c.execute(
                "SELECT id, name FROM accounts WHERE token = ? ORDER BY id != ?, id",
                (self.token, account_id),
            ).fetchall()
        return [{"id": r["id"], "name": r["name"], "access_levels": [1000]} for r in rows]

    # --------------------------------------------------------------- helpers
    def _fields_by_tag(self, c: sqlite3.Connection, acct: int) -> dict[str, tuple[str, str]]:
        rows = c.execute(
            "SELECT id, merge_tag, data_type FROM fields WHERE account_id = ? ORDER BY id", (acct,)
        )
        return {r["merge_tag"]: (str(r["id"]), r["data_type"]) for r in rows}

    def _tags_by_id(self, c: sqlite3.Connection, acct: int) -> dict[str, str]:
        rows = c.execute("SELECT id, merge_tag FROM fields WHERE account_id = ?", (acct,))
        return {str(r["id"]): r["merge_tag"] for r in rows}

    def _list_ids(self, c: sqlite3.Connection, acct: int) -> set[int]:
        rows = c.execute("SELECT id FROM lists WHERE account_id = ?", (acct,))
        return {r[0] for r in rows}

    def _find_contact(self, c: sqlite3.Connection, acct: int, ident: str) -> sqlite3.Row | None:
        return c.execute(  # type: ignore[no-any-return]
            "SELECT * FROM contacts WHERE account_id = ? AND (id = ? OR email_key = ?)",
            (acct, ident, ident.strip().lower()),
        ).fetchone()

    def _insert_contact(
        self,
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

    def _contact_json(self, c: sqlite3.Connection, acct: int, row: sqlite3.Row) -> Json:
        tags = self._tags_by_id(c, acct)
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

    def _count(self, c: sqlite3.Connection, table: str, acct: int) -> int:
        sql = f"SELECT COUNT(*) FROM {table} WHERE account_id = ?"  # noqa: S608 - fixed names
        return int(c.execute(sql, (acct,)).fetchone()[0])

    def _set_memberships(
        self, c: sqlite3.Connection, contact_id: str, add: Iterable[int], remove: Iterable[int]
    ) -> None:
        c.executemany(
            "INSERT OR IGNORE INTO memberships (contact_id, list_id) VALUES (?, ?)",
            [(contact_id, i) for i in add],
        )
        c.executemany(
            "DELETE FROM memberships WHERE contact_id = ? AND list_id = ?",
            [(contact_id, i) for i in remove],
        )

    # -------------------------------------------------------------- contacts
    def create_contact(self, acct: int, body: Any) -> Json:
        """``POST …/contacts`` → the new contact (201)."""
        contact = _body_obj(body, "contact")
        with self.store.tx() as c:
            errors: v.Errors = {}
            email = v.check_email(contact.get("email"), errors)
            values = v.check_field_values(
                contact.get("fields"), self._fields_by_tag(c, acct), errors
            )
            lists = v.check_list_ids(
                contact.get("list_ids"), "list_ids", self._list_ids(c, acct), errors
            )
            unsub = contact.get("unsubscribed", False)
            if not isinstance(unsub, bool):
                v.add(errors, "unsubscribed", "is invalid")
            if email and self._find_contact(c, acct, email) is not None:
                v.add(errors, "email", "has already been taken")
            if errors or email is None:
                raise Unprocessable(dict(errors))
            cid = self._insert_contact(c, acct, email, values, unsub)
            self._set_memberships(c, cid, lists, ())
            row = self._find_contact(c, acct, cid)
            assert row is not None
            return self._contact_json(c, acct, row)

    def get_contact(self, acct: int, ident: str) -> Json:
        """``GET …/contacts/{id_or_email}``."""
        with self.store.read() as c:
            row = self._find_contact(c, acct, ident)
            if row is None:
                raise NotFound()
            return self._contact_json(c, acct, row)

    def upsert_contact(self, acct: int, ident: str, body: Any) -> tuple[str, Json]:
        """``PATCH …/contacts/{id_or_email}`` → (``"created"``/``"updated"``, contact).

        An unknown identifier that looks like a UUID is a 404; any other unknown
        identifier is taken as the email of a contact to create (upsert).
        """
        contact = _body_obj(body, "contact")
        with self.store.tx() as c:
            row = self._find_contact(c, acct, ident)
            if row is None and _UUID.match(ident):
                raise NotFound()
            errors: v.Errors = {}
            email: str | None = None
            if "email" in contact or row is None:
                email = v.check_email(contact.get("email", ident), errors)
            values = v.check_field_values(
                contact.get("fields"), self._fields_by_tag(c, acct), errors
            )
            known = self._list_ids(c, acct)
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
                other = self._find_contact(c, acct, email)
                if other is not None and (row is None or other["id"] != row["id"]):
                    v.add(errors, "email", "has already been taken")
            if errors:
                raise Unprocessable(dict(errors))
            ms = now_ms()
            if row is None:
                assert email is not None
                cid = self._insert_contact(c, acct, email, values, bool(unsub), ms)
                action = "created"
            else:
                cid = row["id"]
                merged: dict[str, Any] = orjson.loads(row["fields"])
                for k, val in values.items():
                    if val is None:
                        merged.pop(k, None)  # null clears the field
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
                    (new_email, new_email.lower(), status, orjson.dumps(merged).decode(), ms, cid),
                )
                action = "updated"
            self._set_memberships(c, cid, inc, exc)
            new_row = self._find_contact(c, acct, cid)
            assert new_row is not None
            return action, self._contact_json(c, acct, new_row)

    def delete_contact(self, acct: int, ident: str) -> None:
        """``DELETE …/contacts/{id_or_email}``."""
        with self.store.tx() as c:
            row = self._find_contact(c, acct, ident)
            if row is None:
                raise ContactNotFound()
            c.execute("DELETE FROM memberships WHERE contact_id = ?", (row["id"],))
            c.execute("DELETE FROM contacts WHERE id = ?", (row["id"],))

    def create_event(self, acct: int, ident: str, body: Any) -> Json:
        """``POST …/contacts/{id_or_email}/events`` → the event (201, unwrapped)."""
        with self.store.tx() as c:
            row = self._find_contact(c, acct, ident)
            if row is None:
                raise NotFound()
            payload = body if isinstance(body, dict) else {}
            errors: v.Errors = {}
            name = v.check_name(payload.get("name"), "name", EVENT_MAX, errors)
            params = payload.get("params", {})
            if params is None:
                params = {}
            if not isinstance(params, dict):
                v.add(errors, "params", "must be a hash")
                params = {}
            for key, val in params.items():
                if len(key) > EVENT_MAX:
                    v.add(errors, "params", f"key '{key}' is too long")
                if isinstance(val, str) and len(val) > EVENT_MAX:
                    v.add(errors, "params", f"value for '{key}' is too long")
                elif val is not None and not isinstance(val, str | int | float | bool):
                    v.add(errors, "params", f"value for '{key}' is invalid")
            if errors or name is None:
                raise Unprocessable(dict(errors))
            c.execute(
                "INSERT INTO events (account_id, contact_id, name, params, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (acct, row["id"], name, orjson.dumps(params).decode(), now_ms()),
            )
            return {
                "contact_id": row["id"],
                "contact_email": row["email"],
                "name": name,
                "params": params,
            }

    # ----------------------------------------------------------------- lists
    def list_lists(self, acct: int, search: str | None = None) -> list[Json]:
        """``GET …/contacts/lists`` (``search``: case-insensitive name prefix)."""
        with self.store.read() as c:
            rows = c.execute("SELECT id, name FROM lists WHERE account_id = ? ORDER BY id", (acct,))
            out = [{"id": r["id"], "name": r["name"]} for r in rows]
        if search:
            out = [x for x in out if str(x["name"]).lower().startswith(search.lower())]
        return out

    def _get_list_row(self, c: sqlite3.Connection, acct: int, list_id: int) -> Json:
        r = c.execute(
            "SELECT id, name FROM lists WHERE account_id = ? AND id = ?", (acct, list_id)
        ).fetchone()
        if r is None:
            raise NotFound()
        return {"id": r["id"], "name": r["name"]}

    def _check_list_name(
        self, c: sqlite3.Connection, acct: int, raw: Any, skip_id: int | None
    ) -> str:
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

    def create_list(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/lists`` → the list (the API answers 200, sic)."""
        payload = _body_obj(body)
        with self.store.tx() as c:
            if self._count(c, "lists", acct) >= MAX_LISTS:
                raise Unprocessable({"base": [f"cannot have more than {MAX_LISTS} lists"]})
            name = self._check_list_name(c, acct, payload.get("name"), None)
            cur = c.execute("INSERT INTO lists (account_id, name) VALUES (?, ?)", (acct, name))
            return {"id": cur.lastrowid, "name": name}

    def get_list(self, acct: int, list_id: int) -> Json:
        """``GET …/contacts/lists/{list_id}``."""
        with self.store.read() as c:
            return self._get_list_row(c, acct, list_id)

    def update_list(self, acct: int, list_id: int, body: Any) -> Json:
        """``PATCH …/contacts/lists/{list_id}``."""
        with self.store.tx() as c:
            self._get_list_row(c, acct, list_id)
            payload = _body_obj(body)
            name = self._check_list_name(c, acct, payload.get("name"), list_id)
            c.execute("UPDATE lists SET name = ? WHERE id = ?", (name, list_id))
            return {"id": list_id, "name": name}

    def delete_list(self, acct: int, list_id: int) -> None:
        """``DELETE …/contacts/lists/{list_id}`` (contacts are kept)."""
        with self.store.tx() as c:
            self._get_list_row(c, acct, list_id)
            c.execute("DELETE FROM memberships WHERE list_id = ?", (list_id,))
            c.execute("DELETE FROM lists WHERE id = ?", (list_id,))

    # ---------------------------------------------------------------- fields
    @staticmethod
    def _field_json(r: sqlite3.Row) -> Json:
        return {
            "id": r["id"],
            "name": r["name"],
            "data_type": r["data_type"],
            "merge_tag": r["merge_tag"],
        }

    def list_fields(self, acct: int) -> list[Json]:
        """``GET …/contacts/fields`` (custom fields only; the built-in email is not listed)."""
        with self.store.read() as c:
            rows = c.execute("SELECT * FROM fields WHERE account_id = ? ORDER BY id", (acct,))
            return [self._field_json(r) for r in rows]

    def _get_field_row(self, c: sqlite3.Connection, acct: int, field_id: int) -> sqlite3.Row:
        r = c.execute(
            "SELECT * FROM fields WHERE account_id = ? AND id = ?", (acct, field_id)
        ).fetchone()
        if r is None:
            raise NotFound()
        return r  # type: ignore[no-any-return]

    def _check_field_attrs(
        self,
        c: sqlite3.Connection,
        acct: int,
        payload: Json,
        skip_id: int | None,
        errors: v.Errors,
        required: bool,
    ) -> dict[str, str]:
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

    def create_field(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/fields`` → the field (201)."""
        payload = _body_obj(body)
        with self.store.tx() as c:
            if self._count(c, "fields", acct) >= MAX_FIELDS:
                raise Unprocessable({"base": [f"cannot have more than {MAX_FIELDS} fields"]})
            errors: v.Errors = {}
            attrs = self._check_field_attrs(c, acct, payload, None, errors, required=True)
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
            return self._field_json(self._get_field_row(c, acct, int(cur.lastrowid or 0)))

    def get_field(self, acct: int, field_id: int) -> Json:
        """``GET …/contacts/fields/{field_id}``."""
        with self.store.read() as c:
            return self._field_json(self._get_field_row(c, acct, field_id))

    def update_field(self, acct: int, field_id: int, body: Any) -> Json:
        """``PATCH …/contacts/fields/{field_id}`` (name, merge_tag; never data_type)."""
        with self.store.tx() as c:
            row = self._get_field_row(c, acct, field_id)
            payload = _body_obj(body)
            errors: v.Errors = {}
            attrs = self._check_field_attrs(c, acct, payload, field_id, errors, required=False)
            if "data_type" in payload and payload["data_type"] != row["data_type"]:
                v.add(errors, "data_type", "can't be changed")
            if errors:
                raise Unprocessable(dict(errors))
            for attr, value in attrs.items():
                sql = f"UPDATE fields SET {attr} = ? WHERE id = ?"  # noqa: S608 - fixed names
                c.execute(sql, (value, field_id))
            return self._field_json(self._get_field_row(c, acct, field_id))

    def delete_field(self, acct: int, field_id: int) -> None:
        """``DELETE …/contacts/fields/{field_id}`` (stored values become invisible)."""
        with self.store.tx() as c:
            self._get_field_row(c, acct, field_id)
            c.execute("DELETE FROM fields WHERE id = ?", (field_id,))

    # --------------------------------------------------------------- imports
    def validate_import(
        self, acct: int, body: Any, cap: int | None = MAX_IMPORT
    ) -> list[list[Any]]:
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
            first = items[0].get("email") if isinstance(items[0], dict) else ""
            raise ImportUnprocessable(
                [
                    {
                        "email": first if isinstance(first, str) else "",
                        "errors": {
                            "base": [f"cannot import more than {MAX_IMPORT} contacts at once"]
                        },
                    }
                ]
            )
        with self.store.read() as c:
            by_tag = self._fields_by_tag(c, acct)
            known = self._list_ids(c, acct)
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

    def create_import(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/imports`` → ``{"id", "status"}`` (201); the job runs later."""
        items = self.validate_import(acct, body)
        ms = now_ms()
        fail = 0
        with self.jobs_changed:
            if self.import_failures_pending > 0:
                self.import_failures_pending -= 1
                fail = 1
            with self.store.tx() as c:
                cur = c.execute(
                    "INSERT INTO imports (account_id, status, payload, fail, stage_at, created_at, "
                    "updated_at) VALUES (?, 'created', ?, ?, ?, ?, ?)",
                    (acct, orjson.dumps(items), fail, time.time(), ms, ms),
                )
                import_id = int(cur.lastrowid or 0)
            self.imports_accepted += 1
            self.jobs_changed.notify_all()
        return {"id": import_id, "status": "created"}

    def get_import(self, acct: int, import_id: int) -> Json:
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

    def apply_contacts(
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
        for start in range(0, len(keys), 900):
            chunk = keys[start : start + 900]
            marks = ",".join("?" * len(chunk))
            sql = (
                f"SELECT id, email_key, fields FROM contacts WHERE account_id = ? "  # noqa: S608
                f"AND email_key IN ({marks})"
            )
            for r in c.execute(sql, (acct, *chunk)):
                existing[r["email_key"]] = (r["id"], r["fields"])
        live_lists = self._list_ids(c, acct)
        total = self._count(c, "contacts", acct)
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
                merged: dict[str, Any] = orjson.loads(old)
                for k, val in values.items():
                    if val is None:
                        merged.pop(k, None)
                    else:
                        merged[k] = val
                updates.append((orjson.dumps(merged).decode(), ms, cid))
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

    # --------------------------------------------------------------- exports
    @staticmethod
    def check_filters(body: Any) -> list[Json]:
        """Validate export filters; anything malformed → ``{"filters": "invalid"}``."""
        if body is None:
            return []
        if not isinstance(body, dict):
            raise Unprocessable({"filters": "invalid"})
        filters = body.get("filters")
        if filters is None:
            return []
        if not isinstance(filters, list):
            raise Unprocessable({"filters": "invalid"})
        for f in filters:
            ok = isinstance(f, dict) and f.get("operator") == "equal"
            if ok and f.get("name") == "list_id":
                val = f.get("value")
                ok = (
                    isinstance(val, list)
                    and bool(val)
                    # Ids beyond int64 cannot exist (and would overflow SQLite).
                    and all(type(i) is int and v.INT_MIN <= i <= v.INT_MAX for i in val)
                )
            elif ok and f.get("name") == "subscription_status":
                ok = f.get("value") in ("subscribed", "unsubscribed")
            else:
                ok = False
            if not ok:
                raise Unprocessable({"filters": "invalid"})
        return filters

    def create_export(self, acct: int, body: Any) -> Json:
        """``POST …/contacts/exports`` → the export (201); one in flight per account."""
        filters = self.check_filters(body)
        with self.jobs_changed:
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
            self.jobs_changed.notify_all()
        return self.get_export(acct, export_id)

    def get_export(self, acct: int, export_id: int) -> Json:
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

    def get_file(self, name: str) -> bytes:
        """The bytes of an export file (no auth: the URL itself is the secret)."""
        with self.store.read() as c:
            r = c.execute("SELECT data FROM files WHERE name = ?", (name,)).fetchone()
        if r is None:
            raise NotFound()
        return bytes(r[0])

    # ---------------------------------------------------------------- control
    def counts(self) -> Json:
        """Row counts for ``GET /_emulator/state``."""
        with self.store.read() as c:
            return {
                t: self._count(c, t, self.account_id)
                for t in ("contacts", "lists", "fields", "imports", "exports", "events")
            }

    def reset(self) -> None:
        """Wipe all data and job controls (the account and token stay)."""
        with self.jobs_changed:
            self.store.wipe()
            with self.store.tx() as c:
                c.execute("DELETE FROM accounts WHERE id != ?", (self.account_id,))
            self.job_delay_s = 0.0
            self.import_failures_pending = 0
            self.imports_accepted = 0
            self.jobs_changed.notify_all()

    def seed(self, body: Any) -> Json:
        """Create fields, lists and contacts in one go (``POST /_emulator/seed``)."""
        payload = _body_obj(body) if body is not None else {}
        acct = self.account_id
        fields = [self.create_field(acct, f) for f in payload.get("fields") or []]
        lists = [self.create_list(acct, x) for x in payload.get("lists") or []]
        raw = payload.get("contacts") or []
        converted = [
            {
                "email": x.get("email"),
                "fields": x.get("fields"),
                "list_ids_included": x.get("list_ids"),
            }
            if isinstance(x, dict)
            else x
            for x in raw
        ]
        contacts: list[Json] = []
        if converted:
            # No 50,000 cap here: seeding a million contacts for a benchmark is fine.
            items = self.validate_import(acct, {"contacts": converted}, cap=None)
            statuses = [
                "unsubscribed"
                if isinstance(x, dict)
                and (x.get("unsubscribed") is True or x.get("status") == "unsubscribed")
                else "subscribed"
                for x in raw
            ]
            with self.store.tx() as c:
                self.apply_contacts(c, acct, items, status_of=lambda pos: statuses[pos])
                keys = [item[0].lower() for item in items]
                for start in range(0, len(keys), 900):
                    chunk = keys[start : start + 900]
                    marks = ",".join("?" * len(chunk))
                    sql = (
                        f"SELECT id, email FROM contacts WHERE account_id = ? "  # noqa: S608
                        f"AND email_key IN ({marks}) ORDER BY seq"
                    )
                    contacts.extend(
                        {"id": r["id"], "email": r["email"]} for r in c.execute(sql, (acct, *chunk))
                    )
        return {"fields": fields, "lists": lists, "contacts": contacts}


@functools.lru_cache(maxsize=8192)  # bulk-written contacts share timestamps
def iso_ms(ms: int) -> str:
    """Epoch milliseconds → ``2026-04-28T12:40:45.519Z``."""
    secs, rem = divmod(ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + f".{rem:03d}Z"
