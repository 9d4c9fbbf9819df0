"""``accounts``, ``fields`` and ``lists``: the account's settings, one request each."""

from __future__ import annotations

from typing import Any, get_args

import click

from mailtrap_pandas.cli.options import Settings, pass_settings
from mailtrap_pandas.cli.output import emit, table
from mailtrap_pandas.modes import DataType


def list_command(resource: str, columns: list[str], doc: str, name: str = "list") -> click.Command:
    """A command printing every row of ``client.<resource>.list()`` (one GET), as JSON under
    ``resource``."""

    @click.command(name, help=doc)
    @pass_settings
    def command(settings: Settings) -> None:
        rows = getattr(settings.client(), resource).list()
        emit(settings, {resource: rows}, table(rows, columns))

    return command


def delete_command(resource: str, noun: str, doc: str) -> click.Command:
    """A command deleting one row of ``client.<resource>`` by its id (``<NOUN>_ID``)."""

    @click.command("delete", help=doc)
    @click.argument(f"{noun}_id", type=int)
    @pass_settings
    def command(settings: Settings, /, **arguments: Any) -> None:
        row_id = arguments[f"{noun}_id"]
        getattr(settings.client(), resource).delete(row_id)
        emit(settings, {"deleted": row_id}, f"deleted {noun} {row_id}")

    return command


accounts = list_command(
    "accounts",
    ["id", "name", "access_levels"],
    """List the accounts the token can see.

    \b
    Example:
      mailtrap-pandas accounts
    """,
    name="accounts",
)


@click.group()
def fields() -> None:
    """Custom fields: list, create, delete.

    \b
    Example:
      mailtrap-pandas fields create "Zip code" text zip
    """


fields.add_command(
    list_command(
        "fields",
        ["id", "name", "data_type", "merge_tag"],
        """List the account's custom fields.

    \b
    Example:
      mailtrap-pandas fields list
    """,
    )
)


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


fields.add_command(
    delete_command(
        "fields",
        "field",
        """Delete a custom field.

    \b
    Example:
      mailtrap-pandas fields delete 12
    """,
    )
)


@click.group()
def lists() -> None:
    """Contact lists: list, create, rename, delete.

    \b
    Example:
      mailtrap-pandas lists create Newsletter
    """


lists.add_command(
    list_command(
        "lists",
        ["id", "name"],
        """List the account's contact lists.

    \b
    Example:
      mailtrap-pandas lists list
    """,
    )
)


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


lists.add_command(
    delete_command(
        "lists",
        "list",
        """Delete a contact list (its contacts are kept).

    \b
    Example:
      mailtrap-pandas lists delete 3
    """,
    )
)
