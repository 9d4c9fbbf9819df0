"""One module per remote resource of the Contacts API, each a small class bound to a client.

The resources depend on the :class:`Transport` protocol below, not on ``Client`` itself, so the
client can build them without an import cycle.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from mailtrap_pandas.api.retry import Policy


class Transport(Protocol):
    """What a resource needs of a client: the path builder and the one request path."""

    def contacts_path(self, *segments: object) -> str: ...

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        params: dict[str, Any] | None = None,
        policy: Policy = "idempotent",
    ) -> Any: ...

    def download(
        self, url: str, dest: str | os.PathLike[str], *, chunk_size: int = 1 << 20
    ) -> Path: ...


class Resource:
    """Base of the resource classes: holds the client whose ``request()`` they use."""

    def __init__(self, client: Transport) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._client!r})"
