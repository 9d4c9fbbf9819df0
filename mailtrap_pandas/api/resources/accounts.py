"""``GET /api/accounts``: the accounts a token can see."""

from __future__ import annotations

from typing import cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import Account


class Accounts(Resource):
    """Accounts visible to the client's token."""

    def list(self) -> list[Account]:
        """Return every account the token can access."""
        return cast(list[Account], self._client.request("GET", "/api/accounts"))
