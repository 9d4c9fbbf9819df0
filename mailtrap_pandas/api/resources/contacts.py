"""Single contacts: ``{P}/contacts`` and ``{P}/contacts/{id or email}``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import Contact, FieldValue


class Upserted(NamedTuple):
    """Result of :meth:`Contacts.upsert`: the API's ``action`` is kept, not dropped."""

    action: str  # "created" or "updated"
    contact: Contact


class Contacts(Resource):
    """Create, read, upsert and delete one contact at a time.

    For many contacts use bulk imports (``df.mailtrap.import_contacts``) and
    exports (``read_export``): the API has no list-all-contacts endpoint.
    """

    def create(
        self,
        email: str,
        *,
        fields: Mapping[str, FieldValue] | None = None,
        list_ids: Iterable[int] | None = None,
    ) -> Contact:
        """Create a contact (``POST {P}/contacts``, 201)."""
        body: dict[str, Any] = {"email": email}
        if fields:
            body["fields"] = dict(fields)
        if list_ids is not None:
            body["list_ids"] = list(list_ids)
        path = self._client.contacts_path()
        data = self._client.request("POST", path, json={"contact": body}, policy="answered")
        return cast(Contact, data["data"])

    def get(self, id_or_email: str) -> Contact:
        """Fetch one contact by UUID or email (the email is percent-encoded in the path)."""
        data = self._client.request("GET", self._client.contacts_path(id_or_email))
        return cast(Contact, data["data"])

    def upsert(
        self,
        email: str,
        *,
        fields: Mapping[str, FieldValue] | None = None,
        list_ids_included: Iterable[int] | None = None,
        list_ids_excluded: Iterable[int] | None = None,
        unsubscribed: bool | None = None,
        identifier: str | None = None,
    ) -> Upserted:
        """Create or update a contact (``PATCH {P}/contacts/{id or email}``).

        Parameters
        ----------
        email : str
            The contact's email (sent in the body, as the spec requires).
        fields : mapping, optional
            Merge tag -> value; keys left out keep their stored value.
        list_ids_included, list_ids_excluded : iterable of int, optional
            Lists to add the contact to / remove it from.
        unsubscribed : bool, optional
            Unsubscribe (True) the contact.
        identifier : str, optional
            UUID or email for the path; defaults to ``email``.

        Returns
        -------
        Upserted
            ``action`` ("created" or "updated") and the contact.
        """
        body: dict[str, Any] = {"email": email}
        if fields:
            body["fields"] = dict(fields)
        if list_ids_included is not None:
            body["list_ids_included"] = list(list_ids_included)
        if list_ids_excluded is not None:
            body["list_ids_excluded"] = list(list_ids_excluded)
        if unsubscribed is not None:
            body["unsubscribed"] = unsubscribed
        path = self._client.contacts_path(identifier or email)
        data = self._client.request("PATCH", path, json={"contact": body})
        return Upserted(str(data.get("action", "updated")), cast(Contact, data["data"]))

    def set_unsubscribed(self, id_or_email: str, unsubscribed: bool) -> Contact:
        """Unsubscribe (True) or resubscribe (False) an existing contact; create nothing.

        ``PATCH {P}/contacts/{id or email}`` with only ``unsubscribed`` in the body (no
        ``email``, as the official SDK sends it). Given a contact's UUID, an unknown
        contact is a 404; given an email, PATCH is an upsert and would create one, so the
        package's bulk verbs always pass a UUID.
        """
        body = {"contact": {"unsubscribed": bool(unsubscribed)}}
        data = self._client.request("PATCH", self._client.contacts_path(id_or_email), json=body)
        return cast(Contact, data["data"])

    def delete(self, id_or_email: str) -> None:
        """Delete a contact (204)."""
        self._client.request("DELETE", self._client.contacts_path(id_or_email))
