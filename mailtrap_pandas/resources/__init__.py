"""One module per remote resource of the Contacts API, each a small class bound to a client."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..client import Client


class Resource:
    """Base of the resource classes: holds the client whose ``request()`` they use."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"
