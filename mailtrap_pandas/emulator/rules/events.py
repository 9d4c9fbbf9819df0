"""Custom events recorded against a contact."""

from __future__ import annotations

from typing import Any

import orjson

from mailtrap_pandas.emulator import validate as v
from mailtrap_pandas.emulator.errors import NotFound, Unprocessable
from mailtrap_pandas.emulator.rules.common import Json, now_ms
from mailtrap_pandas.emulator.rules.lookups import find_contact
from mailtrap_pandas.emulator.store import Store

__all__ = ["EVENT_MAX", "Events"]

EVENT_MAX = 255


def _check_params(raw: Any, errors: v.Errors) -> dict[str, Any]:
    """Params are optional scalars; keys and string values up to 255 characters."""
    params = {} if raw is None else raw
    if not isinstance(params, dict):
        v.add(errors, "params", "must be a hash")
        return {}
    for key, val in params.items():
        if len(key) > EVENT_MAX:
            v.add(errors, "params", f"key '{key}' is too long")
        if isinstance(val, str) and len(val) > EVENT_MAX:
            v.add(errors, "params", f"value for '{key}' is too long")
        elif val is not None and not isinstance(val, str | int | float | bool):
            v.add(errors, "params", f"value for '{key}' is invalid")
    return params


class Events:
    """``POST …/contacts/{id_or_email}/events``.

    Parameters
    ----------
    store
        Where the state lives.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, acct: int, ident: str, body: Any) -> Json:
        """Record an event → the event (201, unwrapped)."""
        with self.store.tx() as c:
            row = find_contact(c, acct, ident)
            if row is None:
                raise NotFound()
            payload = body if isinstance(body, dict) else {}
            errors: v.Errors = {}
            name = v.check_name(payload.get("name"), "name", EVENT_MAX, errors)
            params = _check_params(payload.get("params", {}), errors)
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
