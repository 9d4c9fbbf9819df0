"""Custom events: ``POST {P}/contacts/{id or email}/events``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import ContactEvent, FieldValue


class Events(Resource):
    """Fire custom events on contacts."""

    def create(
        self, contact: str, name: str, params: Mapping[str, FieldValue] | None = None
    ) -> ContactEvent:
        """Record event ``name`` on ``contact`` (UUID or email).

        The API has no idempotency key, so this request is never repeated once
        the server may have received it (policy ``"unsent"``); use
        ``df.mailtrap.send_events`` for a ledger that prevents double firing.
        """
        body = {"name": name, "params": dict(params or {})}
        path = self._client.contacts_path(contact, "events")
        return cast(ContactEvent, self._client.request("POST", path, json=body, policy="unsent"))
