"""``accounts``, ``fields`` and ``lists``: the account's settings, one request each."""

from __future__ import annotations

from typing import get_args

import click

from mailtrap_pandas.cli.options import Settings, pass_settings
from mailtrap_pandas.cli.output import emit, table
from mailtrap_pandas.modes import DataType


@click.command()
@pass_settings
def accounts(settings: Settings) -> None:
    """List the accounts the token can see.

    \b
    Example:
      mailtrap-pandas accounts
    """
    rows = settings.client().accounts.list()
    emit(settings, {"accounts": rows}, table(rows, ["id", "name", "access_levels"]))


@click.group()
def fields() -> None:
    """Custom fields: list, create, delete.

    \b
    Example:
      mailtrap-pandas fields create "Zip code" text zip
    """


@fields.command("list")
@pass_settings
def fields_list(settings: Settings) -> None:
    """List the account's custom fields.

    \b
    Example:
      mailtrap-pandas fields list
    """
    rows = settings.client().fields.list()
    emit(settings, {"fields": rows}, table(rows, ["id", "name", "data_type", "merge_tag"]))


@fields.command("create")
@click.argument("name")
@click.argument("data_type", type=click.Choice(get_args(DataType)))
@click.argument("merge_tag")
@pass_settings
def fields_create(settings: Settings, name: str, data_type: DataType, merge_tag: str) -> None:
    """Create a custom field.

    \b
    Example:
      mailtrap-pandas fields create "Signup date" date signup_date
    """
    row = settings.client().fields.create(name, data_type, merge_tag)
    emit(settings, {"field": row}, f"created field {row['id']} ({row['merge_tag']})")


@fields.command("delete")
@click.argument("field_id", type=int)
@pass_settings
def fields_delete(settings: Settings, field_id: int) -> None:
    """Delete a custom field.

    \b
    Example:
      mailtrap-pandas fields delete 12
    """
    settings.client().fields.delete(field_id)
    emit(settings, {"deleted": field_id}, f"deleted field {field_id}")


@click.group()
def lists() -> None:
    """Contact lists: list, create, rename, delete.

    \b
    Example:
      mailtrap-pandas lists create Newsletter
    """


@lists.command("list")
@pass_settings
def lists_list(settings: Settings) -> None:
    """List the account's contact lists.

    \b
    Example:
      mailtrap-pandas lists list
    """
    rows = settings.client().lists.list()
    emit(settings, {"lists": rows}, table(rows, ["id", "name"]))


@lists.command("create")
@click.argument("name")
@pass_settings
def lists_create(settings: Settings, name: str) -> None:
    """Create a contact list.

    \b
    Example:
      mailtrap-pandas lists create "Spring webinar"
    """
    row = settings.client().lists.create(name)
    emit(settings, {"list": row}, f"created list {row['id']} ({row['name']})")


@lists.command("rename")
@click.argument("list_id", type=int)
@click.argument("name")
@pass_settings
def lists_rename(settings: Settings, list_id: int, name: str) -> None:
    """Rename a contact list.

    \b
    Example:
      mailtrap-pandas lists rename 3 "Spring webinar 2027"
    """
    row = settings.client().lists.update(list_id, name)
    emit(settings, {"list": row}, f"renamed list {row['id']} to {row['name']}")


@lists.command("delete")
@click.argument("list_id", type=int)
@pass_settings
def lists_delete(settings: Settings, list_id: int) -> None:
    """Delete a contact list (its contacts are kept).

    \b
    Example:
      mailtrap-pandas lists delete 3
    """
    settings.client().lists.delete(list_id)
    emit(settings, {"deleted": list_id}, f"deleted list {list_id}")
