"""Export jobs: ``{P}/contacts/exports``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import ContactExport
from mailtrap_pandas.modes import Status


def export_filters(
    list_ids: Iterable[int] | None = None,
    status: Status | None = None,
) -> list[dict[str, Any]]:
    """Build the ``filters`` of an export request.

    Examples
    --------
    >>> export_filters([3], "subscribed")  # doctest: +NORMALIZE_WHITESPACE
    [{'name': 'list_id', 'operator': 'equal', 'value': [3]},
     {'name': 'subscription_status', 'operator': 'equal', 'value': 'subscribed'}]
    """
    filters: list[dict[str, Any]] = []
    if list_ids is not None:
        filters.append(
            {"name": "list_id", "operator": "equal", "value": [int(i) for i in list_ids]}
        )
    if status is not None:
        filters.append({"name": "subscription_status", "operator": "equal", "value": status})
    return filters


class Exports(Resource):
    """Create, poll and download contact exports (one in flight per account)."""

    def create(self, filters: list[dict[str, Any]] | None = None) -> ContactExport:
        """Start an export; no filters exports every contact.

        Raises
        ------
        ValidationError
            422 when another export is still running, or the filters are invalid.
        """
        body = {"filters": filters or []}
        path = self._client.contacts_path("exports")
        return cast(ContactExport, self._client.request("POST", path, json=body, policy="answered"))

    def get(self, export_id: int) -> ContactExport:
        """Status of an export; ``url`` is set once it is ``finished``."""
        path = self._client.contacts_path("exports", export_id)
        return cast(ContactExport, self._client.request("GET", path))

    def download(self, export: ContactExport | str, dest: str | os.PathLike[str]) -> Path:
        """Stream a finished export's ``.csv.gz`` file to ``dest``."""
        url = export if isinstance(export, str) else export["url"]
        if not url:
            raise ValueError("this export has no url yet; wait until its status is 'finished'")
        return self._client.download(url, dest)
