"""Bulk import jobs: ``{P}/contacts/imports``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import ContactImport


class Imports(Resource):
    """Create and poll bulk import jobs (upsert by email, at most 50,000 contacts each)."""

    def create(self, contacts: Sequence[dict[str, Any]] | bytes) -> ContactImport:
        """Start an import job.

        Parameters
        ----------
        contacts : sequence of dict, or bytes
            Items ``{"email", "fields", "list_ids_included", "list_ids_excluded"}``,
            or a whole request body already encoded as JSON (what the encoder yields).

        Raises
        ------
        ValidationError
            422 with per-email errors (``.by_email``); the whole request was rejected.
        """
        path = self._client.contacts_path("imports")
        if isinstance(contacts, bytes):
            data = self._client.request("POST", path, data=contacts, policy="answered")
        else:
            body = {"contacts": list(contacts)}
            data = self._client.request("POST", path, json=body, policy="answered")
        return cast(ContactImport, data)

    def get(self, import_id: int) -> ContactImport:
        """Status of an import; counts are present only once it is ``finished``."""
        path = self._client.contacts_path("imports", import_id)
        return cast(ContactImport, self._client.request("GET", path))
