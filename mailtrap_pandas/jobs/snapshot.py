"""THE export snapshot: one export of the account, its fingerprint, stale check, row comparison.

The API has no "list contacts" endpoint, so everything that needs to know what the
account holds starts from ONE export (never one GET per contact): the match modes
of an import, the verification of uncertain chunks, plans (:mod:`.plans`), the
list sync (:mod:`.list_sync`) and the reconcile of an incremental sync
(:mod:`.sync`). They all take it with :func:`take_snapshot`, compare rows with
:func:`compare_rows`, read list memberships with :func:`id_set` and refuse a
stale plan with :func:`raise_if_stale`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from mailtrap_pandas.api.client import Client
from mailtrap_pandas.errors import MailtrapError
from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.jobs.exports import read_export

__all__ = [
    "RowDiff",
    "StalePlanError",
    "compare_rows",
    "fingerprint",
    "id_set",
    "index_snapshot",
    "members_of",
    "raise_if_stale",
    "take_snapshot",
]


class StalePlanError(MailtrapError):
    """The account changed between a plan's snapshot and its ``apply()``."""


def take_snapshot(client: Client, *, progress: bool = True) -> pd.DataFrame:
    """One export of the whole account, as a typed frame."""
    return read_export(client, progress=progress)


def fingerprint(snapshot: pd.DataFrame) -> str:
    """A digest of everything an export says about the account, in any row order.

    Every column takes part (not only ``updated_at``): a list membership or a
    field could change within the timestamp's resolution, and a stale plan
    must never pass for a fresh one. Rows are hashed one by one and the hashes
    sorted, because two exports of an unchanged account may list contacts in
    a different order.
    """
    if snapshot.empty:
        return hashlib.sha256(b"empty:" + ",".join(map(str, snapshot.columns)).encode()).hexdigest()
    text = pd.DataFrame(
        {str(c): _as_text(snapshot[c]) for c in sorted(snapshot.columns, key=str)},
        index=pd.RangeIndex(len(snapshot)),
    )
    hashes = np.sort(pd.util.hash_pandas_object(text, index=False).to_numpy())
    return hashlib.sha256(hashes.tobytes()).hexdigest()


def _as_text(column: pd.Series) -> pd.Series:
    """A column as text for hashing; list cells (``list_ids``) as sorted ``;``-joined ids."""
    if "list<" in str(column.dtype) or column.dtype == object:
        return pd.Series([_cell_text(v) for v in column.tolist()], dtype=object)
    return column.astype("string").fillna(_NA_TEXT).astype(object).reset_index(drop=True)


_NA_TEXT = "\x00NA"  # cannot come out of an export cell, so <NA> never equals a value


def _cell_text(value: Any) -> str:
    if isinstance(value, list | tuple | np.ndarray):
        return ";".join(map(str, sorted(id_set(value))))
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return _NA_TEXT
    return str(value)


def id_set(value: Any) -> frozenset[int]:
    """List ids of one export cell (a list, an array, or missing) as a set."""
    if value is None or value is pd.NA or isinstance(value, float | str):
        return frozenset()
    try:
        return frozenset(int(x) for x in value)
    except TypeError:
        return frozenset()


def members_of(snapshot: pd.DataFrame, list_id: int) -> npt.NDArray[np.bool_]:
    """Row-wise: the contact is a member of list ``list_id`` in the export."""
    return np.array([list_id in id_set(v) for v in snapshot["list_ids"].tolist()], dtype=bool)


def raise_if_stale(
    client: Client, snapshot_fingerprint: str, columns: list[Any], *, progress: bool, message: str
) -> None:
    """Take a fresh export and refuse when it differs from the one a plan was made against.

    Parameters
    ----------
    client : Client
        The account.
    snapshot_fingerprint : str
        :func:`fingerprint` of the plan's snapshot.
    columns : list
        The snapshot's columns (a caller's ``snapshot=`` may have fewer than an export).
    progress : bool
        Show the export's progress.
    message : str
        The error's message: what changed, and which call makes a new plan.

    Raises
    ------
    StalePlanError
        The account changed since the snapshot.
    """
    fresh = take_snapshot(client, progress=progress)
    if _fingerprint_like(fresh, columns) != snapshot_fingerprint:
        raise StalePlanError(message)


def _fingerprint_like(fresh: pd.DataFrame, columns: list[Any]) -> str:
    """Fingerprint of a fresh export restricted to the columns the plan's snapshot had.

    A caller's ``snapshot=`` may carry fewer columns than a full export; only
    those can be compared.
    """
    if not columns:
        return fingerprint(fresh)
    missing = [c for c in columns if c not in fresh.columns]
    if missing:  # a column (a field) disappeared: certainly changed
        return "changed"
    return fingerprint(fresh[columns])


def index_snapshot(snap: pd.DataFrame) -> pd.DataFrame:
    """An export indexed by email key (first row of each email), for :func:`compare_rows`."""
    return (
        snap.assign(_key=email_key(snap["email"]))
        .drop_duplicates("_key")
        .set_index("_key", drop=True)
    )


@dataclass
class RowDiff:
    """What :func:`compare_rows` found, one entry per valid row."""

    #: The email is in the snapshot.
    found: npt.NDArray[np.bool_]
    #: Found, and a value or a list membership would change.
    changed: npt.NDArray[np.bool_]
    #: The merge tags (and ``list_ids``) that would change, space-separated.
    names: npt.NDArray[Any]
    #: Frames of ``row, email, column, old, new``, one row per field-level change.
    changes: list[pd.DataFrame]


def compare_rows(
    valid: pd.DataFrame,
    existing: pd.DataFrame,
    include: Sequence[int] = (),
    exclude: Sequence[int] = (),
) -> RowDiff:
    """Compare typed rows with an export: the ONE frame-against-account comparison.

    :func:`~.plans.plan` and the reconcile of an incremental sync both use it. A missing new
    value is never a change (with ``nulls="skip"`` it is not sent, so the stored value
    survives); a list membership changes when an ``include`` list is not held or an
    ``exclude`` one is.

    Parameters
    ----------
    valid : DataFrame
        The ``valid`` frame of a validation report.
    existing : DataFrame
        :func:`index_snapshot` of an export.
    include, exclude : sequence of int
        The lists the import adds the rows to / takes them off.
    """
    key = email_key(valid["email"])
    found = key.isin(existing.index).to_numpy(dtype=bool)
    old = existing.reindex(pd.Index(key.to_numpy()))
    old.index = valid.index

    change_rows: list[pd.DataFrame] = []
    any_change = np.zeros(len(valid), dtype=bool)
    valid_changed = np.full(len(valid), "", dtype=object)
    for tag in [c for c in valid.columns if c != "email"]:
        if tag in old.columns:
            diff = _differs(valid[tag], old[tag]).to_numpy(dtype=bool, copy=True)
            old_values = old[tag]
        else:  # a field with no column in the snapshot: nothing is stored
            diff = valid[tag].notna().to_numpy(dtype=bool, copy=True)
            old_values = pd.Series(pd.NA, index=valid.index, dtype=object)
        diff &= found
        if diff.any():
            any_change |= diff
            valid_changed[diff] += tag + " "
            change_rows.append(
                pd.DataFrame(
                    {
                        "row": valid.index[diff],
                        "email": valid["email"].to_numpy()[diff],
                        "column": tag,
                        "old": old_values.astype(object).to_numpy()[diff],
                        "new": valid[tag].astype(object).to_numpy()[diff],
                    }
                )
            )
    if include or exclude:
        stored = old["list_ids"].tolist() if "list_ids" in old.columns else [None] * len(old)
        want, drop = set(include), set(exclude)
        list_change = np.array(
            [bool(want - id_set(v)) or bool(drop & id_set(v)) for v in stored], dtype=bool
        )
        list_change &= found
        any_change |= list_change
        valid_changed[list_change] += "list_ids "
    return RowDiff(found, any_change, valid_changed, change_rows)


def _differs(new: pd.Series, old: pd.Series) -> pd.Series:
    """Row-wise: the new value is set and differs from the stored one (or none is stored).

    A missing new value is never a change: with ``nulls="skip"`` it is left
    out of the import, so the stored value survives.
    """
    new_set = new.notna().to_numpy(dtype=bool)
    old_set = old.notna().to_numpy(dtype=bool)
    if new.dtype == old.dtype:
        # Same type-table dtype on both sides: compare vectorized; <NA> results
        # only occur where a side is missing, which the masks cover.
        unequal = new.ne(old).fillna(True).to_numpy(dtype=bool)
    else:  # e.g. a snapshot passed in by the caller with other dtypes
        unequal = np.array(
            [not _same(a, b) for a, b in zip(new.tolist(), old.tolist(), strict=True)], dtype=bool
        )
    return pd.Series(new_set & (~old_set | unequal), index=new.index)


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False
