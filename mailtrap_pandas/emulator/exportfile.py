"""The export file: a gzip-compressed CSV. Its layout is OUR ASSUMPTION.

Mailtrap documents only that an export is a gzipped CSV (FACTS.md §7.1). The
emulator writes:

- UTF-8, comma-separated, a header row, LF line endings, RFC 4180 quoting
  (Python's ``csv`` module, ``QUOTE_MINIMAL``; a row with a carriage return in
  any cell is written with every cell quoted), no BOM;
- columns, in this order: ``id,email,status,list_ids,created_at,updated_at``,
  then one column per custom field, named by its merge tag, in field-creation
  order;
- ``list_ids``: the contact's list ids ascending, joined by ``;`` (``3;7``),
  empty when none;
- ``created_at`` / ``updated_at``: ISO 8601 UTC with milliseconds and ``Z``
  (``2026-04-28T12:40:45.519Z``);
- field values: text as is, integer in decimal, float as Python ``repr``
  (shortest round trip), boolean ``true``/``false``, date ``yyyy-mm-dd``; an
  unset value is an empty cell.

Rows are streamed out of SQLite in chunks (the store lock is released between
chunks) straight into a gzip stream, so a million contacts never sit in one
Python list.
"""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

import orjson

from mailtrap_pandas.emulator.rules.common import iso_ms
from mailtrap_pandas.emulator.store import Store

__all__ = ["FIXED_COLUMNS", "build_export"]

FIXED_COLUMNS = ("id", "email", "status", "list_ids", "created_at", "updated_at")
_CHUNK = 5_000


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _where(filters: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """SQL conditions for the filters: AND between filters, OR inside a list_id value."""
    clauses: list[str] = []
    args: list[Any] = []
    for f in filters:
        if f["name"] == "list_id":
            ids = list(f["value"])
            marks = ",".join("?" * len(ids))
            clauses.append(
                "EXISTS (SELECT 1 FROM memberships m WHERE m.contact_id = c.id "
                f"AND m.list_id IN ({marks}))"
            )
            args.extend(ids)
        else:
            clauses.append("c.status = ?")
            args.append(f["value"])
    return "".join(f" AND {c}" for c in clauses), args


def build_export(store: Store, account_id: int, filters: list[dict[str, Any]]) -> bytes:
    """Render the gzip CSV of every contact matching ``filters``.

    Parameters
    ----------
    store
        The emulator's state.
    account_id
        Whose contacts.
    filters
        Validated export filters
        (see :func:`~mailtrap_pandas.emulator.rules.exports.check_filters`).

    Returns
    -------
    bytes
        The ``.csv.gz`` file.
    """
    with store.read() as c:
        field_rows = c.execute(
            "SELECT id, merge_tag FROM fields WHERE account_id = ? ORDER BY id", (account_id,)
        ).fetchall()
    field_ids = [str(r["id"]) for r in field_rows]
    raw = io.BytesIO()
    # mtime=0: identical content gives identical bytes.
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as gz:
        text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
        writer = csv.writer(text, lineterminator="\n")
        # QUOTE_MINIMAL only quotes characters of the line terminator, so with
        # "\n" a bare "\r" would go out unquoted and split the row in most
        # readers; such (rare) rows are written fully quoted instead.
        careful = csv.writer(text, lineterminator="\n", quoting=csv.QUOTE_ALL)
        writer.writerow([*FIXED_COLUMNS, *(r["merge_tag"] for r in field_rows)])
        where, args = _where(filters)
        last = 0
        while True:
            # "+c.account_id" keeps SQLite from using the (account_id, email) index
            # here: that plan sorts the whole account per chunk (quadratic). The
            # rowid range scan makes each chunk O(chunk).
            with store.read() as c:
                rows = c.execute(
                    "SELECT c.seq, c.id, c.email, c.status, c.fields, c.created_at, c.updated_at, "
                    "(SELECT group_concat(list_id) FROM memberships m WHERE m.contact_id = c.id) "
                    f"FROM contacts c WHERE +c.account_id = ? AND c.seq > ?{where} "  # noqa: S608
                    "ORDER BY c.seq LIMIT ?",
                    (account_id, last, *args, _CHUNK),
                ).fetchall()
            if not rows:
                break
            for seq, cid, email, status, fields, created, updated, lists in rows:
                values = orjson.loads(fields)
                list_ids = (
                    ";".join(map(str, sorted(int(x) for x in lists.split(",")))) if lists else ""
                )
                row = [
                    cid,
                    email,
                    status,
                    list_ids,
                    iso_ms(created),
                    iso_ms(updated),
                    *(_cell(values.get(fid)) for fid in field_ids),
                ]
                if any("\r" in cell for cell in row):
                    careful.writerow(row)
                else:
                    writer.writerow(row)
                last = seq
        text.flush()
        text.detach()
    return raw.getvalue()
