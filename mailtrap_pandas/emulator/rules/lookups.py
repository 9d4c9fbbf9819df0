"""Queries several resources need, inside the caller's connection or transaction."""

from __future__ import annotations

import sqlite3

__all__ = ["count", "fields_by_tag", "find_contact", "list_ids", "tags_by_id"]


def fields_by_tag(c: sqlite3.Connection, acct: int) -> dict[str, tuple[str, str]]:
    """``{merge_tag: (field id as str, data_type)}`` in field-creation order."""
    rows = c.execute(
        "SELECT id, merge_tag, data_type FROM fields WHERE account_id = ? ORDER BY id", (acct,)
    )
    return {r["merge_tag"]: (str(r["id"]), r["data_type"]) for r in rows}


def tags_by_id(c: sqlite3.Connection, acct: int) -> dict[str, str]:
    """``{field id as str: merge_tag}`` (stored values are keyed by field id)."""
    rows = c.execute("SELECT id, merge_tag FROM fields WHERE account_id = ?", (acct,))
    return {str(r["id"]): r["merge_tag"] for r in rows}


def list_ids(c: sqlite3.Connection, acct: int) -> set[int]:
    """The ids of the account's lists."""
    rows = c.execute("SELECT id FROM lists WHERE account_id = ?", (acct,))
    return {r[0] for r in rows}


def count(c: sqlite3.Connection, table: str, acct: int) -> int:
    """Rows of ``table`` (a fixed name, never user input) in the account."""
    sql = f"SELECT COUNT(*) FROM {table} WHERE account_id = ?"  # noqa: S608 - fixed names
    return int(c.execute(sql, (acct,)).fetchone()[0])


def find_contact(c: sqlite3.Connection, acct: int, ident: str) -> sqlite3.Row | None:
    """The contact whose id or (case-insensitive) email is ``ident``."""
    return c.execute(  # type: ignore[no-any-return]
        "SELECT * FROM contacts WHERE account_id = ? AND (id = ? OR email_key = ?)",
        (acct, ident, ident.strip().lower()),
    ).fetchone()
