"""Contact lists: ``{P}/contacts/lists``."""

from __future__ import annotations

from typing import cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import ContactList


class Lists(Resource):
    """List, get, create, rename and delete contact lists."""

    def list(self) -> list[ContactList]:
        """All lists of the account."""
        return cast(list[ContactList], self._client.request("GET", self._path()))

    def get(self, list_id: int) -> ContactList:
        """One list by id."""
        return cast(ContactList, self._client.request("GET", self._path(list_id)))

    def create(self, name: str) -> ContactList:
        """Create a list (the API answers 200, not 201)."""
        body = {"name": name}
        return cast(
            ContactList, self._client.request("POST", self._path(), json=body, policy="answered")
        )

    def ensure(self, name: str) -> ContactList:
        """The list called ``name``, created if the account lacks it."""
        for existing in self.list():
            if existing["name"] == name:
                return existing
        return self.create(name)

    def update(self, list_id: int, name: str) -> ContactList:
        """Rename a list."""
        return cast(
            ContactList, self._client.request("PATCH", self._path(list_id), json={"name": name})
        )

    def delete(self, list_id: int) -> None:
        """Delete a list; its contacts are kept."""
        self._client.request("DELETE", self._path(list_id))

    def _path(self, *ids: int) -> str:
        return self._client.contacts_path("lists", *ids)
