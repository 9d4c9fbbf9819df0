"""List membership sync on one export: :func:`sync_list` plans, :meth:`SyncPlan.apply` sends.

Only list memberships change: the frame's emails are added to the list and, with
``remove_missing``, members not in the frame are taken off, guarded by
``max_remove_fraction`` (:class:`TooManyRemovalsError`) so an empty or truncated
file never empties a list. The members come from one export (:mod:`.snapshot`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.frames.validate import check_frame
from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.snapshot import fingerprint, members_of, raise_if_stale, take_snapshot
from mailtrap_pandas.jobs.store import Journal, SyncStore, open_journal
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    PLAIN,
    WARN,
    counts,
    heading,
    note,
    plural,
    section,
    table,
)

if TYPE_CHECKING:
    from mailtrap_pandas.jobs.imports.run import ImportResult

__all__ = ["SyncPlan", "TooManyRemovalsError", "sync_list"]


class TooManyRemovalsError(InputError):
    """:meth:`SyncPlan.apply` would remove more members than ``max_remove_fraction`` allows.

    Attributes
    ----------
    list_id : int
        The list.
    removes, members : int
        Members the plan would remove, and the list's members in the snapshot.
    max_remove_fraction : float
        The limit that was exceeded.
    """

    def __init__(
        self,
        list_id: int,
        removes: int,
        members: int,
        max_remove_fraction: float,
        *,
        option: str = "max_remove_fraction=",
    ) -> None:
        self.list_id = list_id
        self.removes = removes
        self.members = members
        self.max_remove_fraction = max_remove_fraction
        share = removes / members if members else 1.0
        enough = math.ceil(share * 100) / 100  # rounded up: the suggestion must pass
        super().__init__(
            f"refusing to remove {removes:,} of the {plural(members, 'member')} of list "
            f"{list_id} ({share:.0%}): more than {option}{max_remove_fraction:g} allows; "
            "nothing was sent. Check the input (an empty or truncated file empties a list); "
            f"if the removals are intended, pass {option}{enough:g} or more (1 allows any)"
        )
        self._option = option

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _too_many_removals,
            (self.list_id, self.removes, self.members, self.max_remove_fraction, self._option),
        )


def _too_many_removals(
    list_id: int, removes: int, members: int, fraction: float, option: str
) -> TooManyRemovalsError:
    """Rebuild a pickled :class:`TooManyRemovalsError` (its ``option`` is keyword-only)."""
    return TooManyRemovalsError(list_id, removes, members, fraction, option=option)


@dataclass
class SyncPlan:
    """The membership changes that make list ``list_id`` match a frame.

    Attributes
    ----------
    list_id : int
        The list.
    adds : DataFrame
        Emails to add to the list, by the caller's labels; ``exists`` tells
        whether the contact exists or will be created.
    removes : DataFrame
        Members to take off the list (only with ``remove_missing=True``).
    unchanged : int
        Rows already on the list.
    members : int
        Members of the list in the snapshot (what ``max_remove_fraction`` of
        :meth:`apply` is a fraction of).
    rejected : DataFrame
        Validation failures of the frame's emails (``report.failures`` columns).
    """

    list_id: int
    adds: pd.DataFrame
    removes: pd.DataFrame
    unchanged: int
    members: int
    rejected: pd.DataFrame
    snapshot_fingerprint: str
    _client: Client = field(repr=False)
    _snapshot_columns: list[Any] = field(default_factory=list, repr=False)
    #: Where the members this package adds are recorded (``remove_missing="tracked"``): the
    #: ``journal`` of :func:`sync_list`, opened by :meth:`apply` and closed again (a plan
    #: may live long, or never be applied); ``False`` records nothing.
    _journal: str | os.PathLike[str] | bool | Journal | None = field(default=False, repr=False)

    @property
    def empty(self) -> bool:
        """True when applying would change nothing."""
        return len(self.adds) == 0 and len(self.removes) == 0

    @property
    def remove_fraction(self) -> float:
        """Removes as a fraction of the list's current members (0 when none)."""
        return len(self.removes) / self.members if self.members else 0.0

    def __repr__(self) -> str:
        return (
            f"SyncPlan(list_id={self.list_id}, members={self.members:,}, "
            f"add={len(self.adds):,}, remove={len(self.removes):,}, "
            f"unchanged={self.unchanged:,}, rejected={len(self.rejected):,})"
        )

    def _repr_html_(self) -> str:
        verdict = (
            "membership already matches"
            if self.empty
            else f"{plural(len(self.adds), 'add')}, {plural(len(self.removes), 'remove')} to apply"
        )
        parts = [
            heading(f"SyncPlan for list {self.list_id}", len(self.rejected) == 0, verdict),
            counts(
                [
                    ("add", len(self.adds), GOOD),
                    ("remove", len(self.removes), WARN),
                    ("unchanged", self.unchanged, PLAIN),
                    ("rejected", len(self.rejected), BAD),
                ],
                hide_zero=["rejected"],
            ),
            note(
                f"list {self.list_id} has {plural(self.members, 'member')}; nothing was sent; "
                "<code>sync.apply()</code> changes memberships only, and refuses to remove "
                "more than <code>max_remove_fraction</code> (default 0.5) of the members"
            ),
        ]
        if len(self.adds):
            adds = self.adds.assign(note=self.adds["exists"].map({True: "", False: "new contact"}))[
                ["email", "note"]
            ]
            parts += [section("Adds (<code>sync.adds</code>)"), table(adds, what="adds")]
        if len(self.removes):
            parts += [
                section("Removes (<code>sync.removes</code>)"),
                table(self.removes, what="removes"),
            ]
        return "<div>" + "\n".join(parts) + "</div>"

    def apply(
        self,
        *,
        progress: bool = True,
        check_stale: bool = True,
        journal: bool | str | os.PathLike[str] = False,
        max_remove_fraction: float = 0.5,
    ) -> dict[str, ImportResult]:
        """Send the adds and removes as bulk imports; returns one result per direction.

        Parameters
        ----------
        progress : bool
            Show progress bars.
        check_stale : bool
            Refuse (:class:`~.snapshot.StalePlanError`) when a fresh export differs from
            the plan's snapshot, so a member added meanwhile is not removed.
        journal : bool or path
            Passed to the imports; off by default for the reason given in
            :meth:`Plan.apply` (an add after a remove is the same body again).
        max_remove_fraction : float
            The most of the list's current members (:attr:`members`) a sync may
            remove, from 0 to 1. More raises :class:`TooManyRemovalsError` before
            anything is sent (no add either): an empty or truncated member file
            must not empty a list. ``1`` allows any removal.

        Returns
        -------
        dict
            ``{"adds": ImportResult, "removes": ImportResult}``, each key only
            when there was something to send.

        Raises
        ------
        TooManyRemovalsError
            Removals exceed ``max_remove_fraction`` of the members.
        StalePlanError
            The account changed since the plan's snapshot.
        """
        from mailtrap_pandas.jobs.imports.run import import_contacts

        if isinstance(max_remove_fraction, bool) or not 0 <= max_remove_fraction <= 1:
            raise InputError(
                f"max_remove_fraction must be a number from 0 to 1, not {max_remove_fraction!r}"
            )
        if len(self.removes) > max_remove_fraction * self.members:
            raise TooManyRemovalsError(
                self.list_id, len(self.removes), self.members, max_remove_fraction
            )
        out: dict[str, ImportResult] = {}
        if self.empty:
            return out
        if check_stale:
            raise_if_stale(
                self._client,
                self.snapshot_fingerprint,
                self._snapshot_columns,
                progress=progress,
                message="the account changed since this sync plan was made; make a new one "
                "(df.mailtrap.sync_list(...)) and review it before applying",
            )
        # Two imports: list_ids_included / _excluded apply to every contact of a body.
        sides = (("adds", [self.list_id], None), ("removes", None, [self.list_id]))
        for name, include, exclude in sides:
            rows = getattr(self, name)
            if len(rows):
                out[name] = import_contacts(
                    rows[["email"]],
                    self._client,
                    list_ids=include,
                    exclude_list_ids=exclude,
                    fields=[],
                    progress=progress,
                    journal=journal,
                )
        if self._journal is not False:  # what this package put on the list, for "tracked"
            store_file = open_journal(self._journal)
            try:
                store = SyncStore(store_file, self._client.base_url, self._client.account_id)
                for name, record in (
                    ("adds", store.members_added),
                    ("removes", store.members_removed),
                ):
                    if name in out:
                        done = getattr(self, name).loc[out[name].imported_index, "email"]
                        record(self.list_id, email_hashes(done, store.hash_key))
            finally:
                if store_file is not self._journal:  # ours to close; one passed in stays open
                    store_file.close()
        return out


def sync_list(
    df: pd.DataFrame,
    list_id: int,
    client: Client | None = None,
    *,
    remove_missing: bool | Literal["tracked"] = False,
    progress: bool = True,
    snapshot: pd.DataFrame | None = None,
    journal: str | os.PathLike[str] | bool | Journal | None = None,
) -> SyncPlan:
    """Plan the membership changes that make list ``list_id`` hold the frame's emails.

    Nothing is sent until :meth:`SyncPlan.apply`. Only the email column is
    used from the frame; field values and other lists are not touched. With
    ``remove_missing=True``, :meth:`SyncPlan.apply` refuses to remove more than
    half the list's members unless its ``max_remove_fraction`` says otherwise.

    Parameters
    ----------
    df : DataFrame
        Must have an email column (``email`` or a recognised alias).
    list_id : int
        The list to sync.
    client : Client, optional
        Defaults to ``Client()`` from the environment.
    remove_missing : bool or "tracked"
        ``True``: also take off the list its members that are not in the frame.
        ``"tracked"``: only those of them this package added to the list (by
        ``sync_list(...).apply()`` or :func:`~mailtrap_pandas.sync` with ``list_ids``,
        recorded in the store), never members added by hand or by other tools.
    progress : bool
        Show progress while exporting.
    snapshot : DataFrame, optional
        An unfiltered typed export to work from instead of taking a new one.
    journal : path, bool or Journal, optional
        The store that records the members this package adds (default the import
        journal's file); ``False`` records nothing.

    Returns
    -------
    SyncPlan

    Raises
    ------
    NotFoundError
        No list ``list_id`` in the account.
    """
    from mailtrap_pandas.jobs.validation import validate

    check_frame(df, "sync_list")
    client = ensure_client(client)
    client.lists.get(list_id)  # a clear 404 now rather than a rejected import later
    # No fields: every column but the email is ignored, never validated or sent.
    report = validate(df, fields=[], unknown="ignore")
    snap = take_snapshot(client, progress=progress) if snapshot is None else snapshot
    snap_key = email_key(snap["email"])
    members = members_of(snap, int(list_id))
    member_keys = set(snap_key[members])
    known_keys = set(snap_key)
    valid = report.valid
    key = email_key(valid["email"])
    is_member = key.isin(member_keys).to_numpy(dtype=bool)
    adds = pd.DataFrame(
        {
            "email": valid["email"][~is_member],
            "exists": key[~is_member].isin(known_keys).astype(bool),
        }
    )
    if remove_missing not in (True, False, "tracked"):
        raise InputError(f"remove_missing must be True, False or 'tracked', not {remove_missing!r}")
    # Opened now too, so that a store that cannot be opened fails before apply() sends.
    store_file = open_journal(journal)
    try:
        store = SyncStore(store_file, client.base_url, client.account_id)
        removes = pd.DataFrame({"email": pd.Series([], dtype="string")})
        if remove_missing:
            gone = members & ~snap_key.isin(set(key)).to_numpy(dtype=bool)
            if remove_missing == "tracked":
                ours = np.isin(email_hashes(snap["email"], store.hash_key), store.members(list_id))
                gone &= ours
            removes = pd.DataFrame({"email": snap["email"][gone].astype("string").to_numpy()})
    finally:
        if store_file is not journal:  # ours to close; apply() opens it again
            store_file.close()
    return SyncPlan(
        list_id=int(list_id),
        adds=adds,
        removes=removes,
        unchanged=int(is_member.sum()),
        members=int(members.sum()),
        rejected=report.failures,
        snapshot_fingerprint=fingerprint(snap),
        _client=client,
        _snapshot_columns=list(snap.columns),
        _journal=journal,
    )
