"""Every mode and policy a public function takes, as a ``Literal`` type spelled once.

The library's signatures, the CLI's ``click.Choice`` lists (``typing.get_args``) and the
checks of the values all read these, so a new mode is added in one place.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "MODES",
    "DataType",
    "Dedupe",
    "Missing",
    "Mode",
    "Nulls",
    "Reconcile",
    "Status",
    "Unknown",
]

#: A custom field's type, as the API spells it.
DataType = Literal["text", "integer", "float", "boolean", "date"]
#: A contact's subscription status (an export filter, a contact's state).
Status = Literal["subscribed", "unsubscribed"]
#: ``import_contacts(mode=)`` and ``plan(mode=)``: what an import may do to the account.
Mode = Literal["upsert", "update_only", "create_only"]
MODES: tuple[Mode, ...] = get_args(Mode)
#: ``dedupe=``: which row wins when an email repeats, or reject the repeats.
Dedupe = Literal["last", "first", "error"]
#: ``nulls=``: a missing field value is left unsent, or rejects its row.
Nulls = Literal["skip", "error"]
#: ``unknown=``: a column matching no field is reported, rejected, or silently left out.
Unknown = Literal["report", "error", "ignore"]
#: ``sync(reconcile=)``: when to compare with one export of the account first.
Reconcile = Literal["auto", "always", "never"]
#: ``sync(missing=)``: what to do with rows gone from the source since the last sync.
Missing = Literal["keep", "remove_from_lists"]
