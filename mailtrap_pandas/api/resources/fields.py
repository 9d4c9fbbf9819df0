"""Custom contact fields: ``{P}/contacts/fields``."""

from __future__ import annotations

from typing import cast

from mailtrap_pandas.api.resources import Resource
from mailtrap_pandas.api.resources.lists import taken
from mailtrap_pandas.api.resources.types import ContactField
from mailtrap_pandas.errors import InputError, ValidationError
from mailtrap_pandas.modes import DataType


class Fields(Resource):
    """List, get, create, update and delete custom fields."""

    def list(self) -> list[ContactField]:
        """All custom fields of the account."""
        return cast(list[ContactField], self._client.request("GET", self._path()))

    def get(self, field_id: int) -> ContactField:
        """One field by id."""
        return cast(ContactField, self._client.request("GET", self._path(field_id)))

    def create(self, name: str, data_type: DataType, merge_tag: str) -> ContactField:
        """Create a field (at most 40 per account; name and merge tag <= 80 characters)."""
        body = {"name": name, "data_type": data_type, "merge_tag": merge_tag}
        return cast(
            ContactField, self._client.request("POST", self._path(), json=body, policy="answered")
        )

    def ensure(self, name: str, data_type: DataType, merge_tag: str) -> ContactField:
        """The field with ``merge_tag``, created if the account lacks it.

        Safe when two processes run the same setup at once: if the other one
        creates the field between our read and our create, the API answers
        ``422 ... has already been taken``; the fields are then read again and
        the field the other process made is returned (its data type checked).

        Raises
        ------
        InputError
            When a field with that merge tag exists with another data type.
        ValidationError
            The field is refused for another reason, e.g. its ``name`` is taken
            by a field with a different merge tag.
        """
        found = self._tagged(merge_tag, data_type)
        if found is not None:
            return found
        try:
            return self.create(name, data_type, merge_tag)
        except ValidationError as exc:
            if not taken(exc, "merge_tag"):
                raise
            found = self._tagged(merge_tag, data_type)
            if found is None:
                raise
            return found

    def _tagged(self, merge_tag: str, data_type: DataType) -> ContactField | None:
        """The field with ``merge_tag`` (compared ignoring case, as the API does)."""
        for existing in self.list():
            if existing["merge_tag"].casefold() == merge_tag.casefold():
                if existing["data_type"] != data_type:
                    raise InputError(
                        f"field {existing['merge_tag']!r} exists as {existing['data_type']}, "
                        f"not {data_type}"
                    )
                return existing
        return None

    def update(
        self, field_id: int, *, name: str | None = None, merge_tag: str | None = None
    ) -> ContactField:
        """Rename a field or change its merge tag (its data type cannot change)."""
        body = {k: v for k, v in (("name", name), ("merge_tag", merge_tag)) if v is not None}
        return cast(ContactField, self._client.request("PATCH", self._path(field_id), json=body))

    def delete(self, field_id: int) -> None:
        """Delete a field (422 while automations, campaigns or segments use it)."""
        self._client.request("DELETE", self._path(field_id))

    def _path(self, *ids: int) -> str:
        return self._client.contacts_path("fields", *ids)
