"""Contact lists: ``{P}/contacts/lists``."""

from __future__ import annotations

from typing import cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.types import ContactList
from mailtrap_pandas.errors import ValidationError


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
        """The list called ``name``, created if the account lacks it.

        Safe when two processes run the same setup at once: if the other one
        creates the list between our read and our create, the API answers
        ``422 name has already been taken``; the lists are then read again and
        the list the other process made is returned.

        Raises
        ------
        ValidationError
            The name is refused for another reason (too long, empty), or taken
            by a list this account still does not show.
        """
        found = self._named(name)
        if found is not None:
            return found
        try:
            return self.create(name)
        except ValidationError as exc:
            if not taken(exc, "name"):
                raise
            found = self._named(name)
            if found is None:
                raise
            return found

    def _named(self, name: str) -> ContactList | None:
        """The list called ``name``: exactly, else the one equal ignoring case.

        The API refuses a name that differs from an existing one only in case
        (``has already been taken``), so that list is the one ``name`` means.
        """
        lists = self.list()
        for existing in lists:
            if existing["name"] == name:
                return existing
        folded = [x for x in lists if x["name"].casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None

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


def taken(exc: ValidationError, attribute: str) -> bool:
    """Whether a 422 says ``attribute`` "has already been taken" (a create lost a race)."""
    return any(e.attribute == attribute and "already been taken" in e.message for e in exc.errors)
