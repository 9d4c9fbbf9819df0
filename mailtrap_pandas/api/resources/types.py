"""JSON shapes the API returns, as TypedDicts (frames are the model; these are the wire)."""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

from mailtrap_pandas.modes import DataType, Status

FieldValue = str | int | float | bool | None


class Contact(TypedDict):
    id: str
    email: str
    status: Status
    fields: dict[str, FieldValue]
    list_ids: list[int]
    created_at: int
    updated_at: int


class ContactList(TypedDict):
    id: int
    name: str


class ContactField(TypedDict):
    id: int
    name: str
    data_type: DataType
    merge_tag: str


class ContactImport(TypedDict):
    id: int
    status: Literal["created", "started", "finished", "failed"]
    created_contacts_count: NotRequired[int]
    updated_contacts_count: NotRequired[int]
    contacts_over_limit_count: NotRequired[int]


class ContactExport(TypedDict):
    id: int
    status: Literal["created", "started", "finished"]
    created_at: str
    updated_at: str
    url: str | None


class ContactEvent(TypedDict):
    contact_id: str
    contact_email: str
    name: str
    params: dict[str, Any]


class Account(TypedDict):
    id: int
    name: str
    access_levels: list[int]
