"""Tokens and accounts: who may act on which account."""

from __future__ import annotations

from mailtrap_pandas.emulator.errors import Unauthorized
from mailtrap_pandas.emulator.rules.common import Json
from mailtrap_pandas.emulator.store import Store

__all__ = ["Accounts"]


class Accounts:
    """The one token the emulator accepts and the accounts it opens.

    Parameters
    ----------
    store
        Where the state lives.
    account_id, token
        The default account and the token that opens it.
    """

    def __init__(self, store: Store, account_id: int, token: str) -> None:
        self.store = store
        self.account_id = account_id
        self.token = token

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

    def add(self, account_id: int, name: str) -> None:
        """Let the token see one more (empty) account, like an organization token.

        Token-scoped paths keep acting on the first account; ``GET /api/accounts``
        lists them all. :meth:`forget_others` removes the extra accounts again.
        """
        self.store.ensure_account(int(account_id), self.token, name)

    def forget_others(self) -> None:
        """Remove every account but the default one (part of a reset)."""
        with self.store.tx() as c:
            c.execute("DELETE FROM accounts WHERE id != ?", (self.account_id,))

    def index(self, account_id: int) -> list[Json]:
        """``GET /api/accounts``: every account the token sees, first the default one."""
        with self.store.read() as c:
            rows = c.execute(
                "SELECT id, name FROM accounts WHERE token = ? ORDER BY id != ?, id",
                (self.token, account_id),
            ).fetchall()
        return [{"id": r["id"], "name": r["name"], "access_levels": [1000]} for r in rows]
