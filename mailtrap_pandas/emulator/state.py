"""One emulated Mailtrap account: the resources' rules assembled over one store.

:class:`Backend` owns the :class:`~mailtrap_pandas.emulator.store.Store` and
one object per resource (see :mod:`mailtrap_pandas.emulator.rules`); the HTTP
layer calls ``backend.<resource>.<action>``. What spans resources lives here:
counts, reset and seed (the control API's).
"""

from __future__ import annotations

from typing import Any

from mailtrap_pandas.emulator.rules.accounts import Accounts
from mailtrap_pandas.emulator.rules.common import Json, body_obj
from mailtrap_pandas.emulator.rules.contacts import Contacts
from mailtrap_pandas.emulator.rules.events import Events
from mailtrap_pandas.emulator.rules.exports import Exports
from mailtrap_pandas.emulator.rules.fields import Fields
from mailtrap_pandas.emulator.rules.imports import Imports
from mailtrap_pandas.emulator.rules.jobboard import JobBoard
from mailtrap_pandas.emulator.rules.lists import Lists
from mailtrap_pandas.emulator.rules.lookups import count
from mailtrap_pandas.emulator.store import Store

__all__ = ["Backend"]

_COUNTED = ("contacts", "lists", "fields", "imports", "exports", "events")
# SQLite's default limit on host parameters is 999: look emails up in slices.
_IN_SLICE = 900


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
    account_name
        The account's name in ``GET /api/accounts``.
    job_delay_s
        Seconds each import/export job stage takes.
    """

    def __init__(
        self,
        store: Store,
        *,
        account_id: int,
        token: str,
        max_contacts: int | None = None,
        account_name: str = "Emulator account",
        job_delay_s: float = 0.0,
    ) -> None:
        self.store = store
        self.account_id = account_id
        self.board = JobBoard(job_delay_s)
        self.accounts = Accounts(store, account_id, token)
        self.contacts = Contacts(store)
        self.events = Events(store)
        self.lists = Lists(store)
        self.fields = Fields(store)
        self.imports = Imports(store, self.board, max_contacts)
        self.exports = Exports(store, self.board)
        store.ensure_account(account_id, token, account_name)

    def counts(self) -> Json:
        """Row counts for ``GET /_emulator/state``."""
        with self.store.read() as c:
            return {t: count(c, t, self.account_id) for t in _COUNTED}

    def reset(self) -> None:
        """Wipe all data and job controls (the account and token stay)."""
        with self.board.changed:
            self.store.wipe()
            self.accounts.forget_others()
            self.board.reset()

    def seed(self, body: Any) -> Json:
        """Create fields, lists and contacts in one go (``POST /_emulator/seed``)."""
        payload = body_obj(body) if body is not None else {}
        acct = self.account_id
        fields = [self.fields.create(acct, f) for f in payload.get("fields") or []]
        lists = [self.lists.create(acct, x) for x in payload.get("lists") or []]
        raw = payload.get("contacts") or []
        contacts = self._seed_contacts(raw) if raw else []
        return {"fields": fields, "lists": lists, "contacts": contacts}

    def _seed_contacts(self, raw: list[Any]) -> list[Json]:
        acct = self.account_id
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
        # No 50,000 cap here: seeding a million contacts for a benchmark is fine.
        items = self.imports.validate(acct, {"contacts": converted}, cap=None)
        statuses = [
            "unsubscribed"
            if isinstance(x, dict)
            and (x.get("unsubscribed") is True or x.get("status") == "unsubscribed")
            else "subscribed"
            for x in raw
        ]
        contacts: list[Json] = []
        with self.store.tx() as c:
            self.imports.apply(c, acct, items, status_of=lambda pos: statuses[pos])
            keys = [item[0].lower() for item in items]
            for start in range(0, len(keys), _IN_SLICE):
                chunk = keys[start : start + _IN_SLICE]
                marks = ",".join("?" * len(chunk))
                sql = (
                    f"SELECT id, email FROM contacts WHERE account_id = ? "  # noqa: S608
                    f"AND email_key IN ({marks}) ORDER BY seq"
                )
                contacts.extend(
                    {"id": r["id"], "email": r["email"]} for r in c.execute(sql, (acct, *chunk))
                )
        return contacts
