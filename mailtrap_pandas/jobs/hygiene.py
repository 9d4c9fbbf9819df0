"""List hygiene on one export: plan-then-apply, match modes, and list membership sync.

The API has no "list contacts" endpoint, so everything here starts from ONE
export of the account (never one GET per contact). A :class:`Plan` classifies
each input row as ``create``, ``update``, ``unchanged``, ``skipped`` (by the
match mode), ``duplicate`` or ``rejected`` and lists field-level changes.
:meth:`Plan.apply` imports only creates and updates, and first takes a fresh
fingerprint of the account: if anything changed since the snapshot, it refuses
(:class:`StalePlanError`) rather than overwrite someone else's edit.
"""

from __future__ import annotations

import hashlib
import html
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import InputError, MailtrapError
from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.frames.encode import list_ids_arg
from mailtrap_pandas.frames.validate import check_frame
from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.store import Journal, SyncStore, open_journal
from mailtrap_pandas.modes import MODES, Dedupe, Mode, Nulls, Unknown
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    PLAIN,
    WARN,
    counts,
    heading,
    not_sent_text,
    note,
    plural,
    section,
    summary_text,
    table,
)

if TYPE_CHECKING:
    from mailtrap_pandas.frames.validate import ValidationReport
    from mailtrap_pandas.jobs.imports.run import ImportResult

__all__ = [
    "Plan",
    "RowDiff",
    "StalePlanError",
    "SyncPlan",
    "TooManyRemovalsError",
    "compare_rows",
    "index_snapshot",
    "plan",
    "sync_list",
]

#: Every ``Plan.rows["action"]`` value, in display order.
ACTIONS = ("create", "update", "unchanged", "skipped", "duplicate", "rejected")
CHANGE_COLUMNS = ["row", "email", "column", "old", "new"]


class StalePlanError(MailtrapError):
    """The account changed between the plan's snapshot and :meth:`Plan.apply`."""


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
        return ";".join(map(str, sorted(_id_set(value))))
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return _NA_TEXT
    return str(value)


def _id_set(value: Any) -> frozenset[int]:
    """List ids of one export cell (a list, an array, or missing) as a set."""
    if value is None or value is pd.NA or isinstance(value, float | str):
        return frozenset()
    try:
        return frozenset(int(x) for x in value)
    except TypeError:
        return frozenset()


def take_snapshot(client: Client, *, progress: bool = True) -> pd.DataFrame:
    """One export of the whole account, as a typed frame."""
    from mailtrap_pandas.jobs.exports import read_export

    return read_export(client, progress=progress)


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


@dataclass
class Plan:
    """Per-row classification of a frame against one snapshot of the account.

    Attributes
    ----------
    rows : DataFrame
        Indexed by the caller's original labels: ``email``, ``action`` (create,
        update, unchanged, skipped, duplicate, rejected), ``changed`` (the
        merge tags, and ``list_ids``, that would change, space-separated) and
        ``reason`` (why a row is rejected, skipped or a duplicate).
    changes : DataFrame
        One row per field-level change of an ``update``: ``row``, ``email``,
        ``column`` (merge tag), ``old`` and ``new`` (typed values, ``<NA>`` for
        none stored).
    report : ValidationReport
        The validation the plan was built on.
    mode : str
        The match mode.
    snapshot_fingerprint : str
        Digest of the export the plan was made against (see :func:`fingerprint`).
    list_ids, exclude_list_ids : list of int or None
        The list changes the import would make.
    """

    rows: pd.DataFrame
    changes: pd.DataFrame
    report: ValidationReport
    mode: Mode
    snapshot_fingerprint: str
    list_ids: list[int] | None
    exclude_list_ids: list[int] | None
    _source: pd.DataFrame = field(repr=False)
    _client: Client = field(repr=False)
    _import_kwargs: dict[str, Any] = field(default_factory=dict, repr=False)
    _snapshot_columns: list[Any] = field(default_factory=list, repr=False)

    def counts(self) -> dict[str, int]:
        """How many rows fall in each action."""
        counts = self.rows["action"].value_counts()
        return {a: int(counts.get(a, 0)) for a in ACTIONS}

    def summary(self) -> pd.DataFrame:
        """The validation failures behind the rejected rows: ``column, reason, rows``.

        Most rows first; ``rows`` sums to ``len(plan.report.failures)``.
        """
        return self.report.summary()

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:,}" for k, v in self.counts().items())
        parts = [
            f"Plan(mode={self.mode!r}, rows={len(self.rows):,}, {body})",
            summary_text(self.summary(), "rejected by column and reason (plan.summary())"),
            not_sent_text(self.report.not_sent),
        ]
        return "\n".join(p for p in parts if p)

    def _repr_html_(self) -> str:
        n = self.counts()
        todo = n["create"] + n["update"]
        verdict = (
            f"{plural(n['create'], 'create')}, {plural(n['update'], 'update')} to apply"
            if todo
            else "nothing to change"
        )
        if n["rejected"]:
            verdict += f"; {plural(n['rejected'], 'row')} rejected"
        tones = {"create": GOOD, "update": GOOD, "rejected": BAD}
        parts = [
            heading("Plan", n["rejected"] == 0, verdict),
            counts(
                [(action, v, tones.get(action, PLAIN)) for action, v in n.items()],
                hide_zero=["skipped", "duplicate", "rejected"],
            ),
            note(
                f"mode {html.escape(self.mode)}; nothing was sent. <code>plan.apply()</code> "
                "imports the creates and updates, and refuses if the account changed since "
                "this plan's export."
            ),
        ]
        if n["rejected"]:
            parts.append(section("Summary (<code>plan.summary()</code>)"))
            parts.append(table(self.summary(), bad=["reason"], numeric=["rows"], what="groups"))
        if not self.report.not_sent.empty:
            parts.append(section("Columns not sent (<code>plan.report.not_sent</code>)"))
            parts.append(table(self.report.not_sent, what="columns", limit=99))
        if len(self.changes):
            changes = self.changes.sort_values("row", kind="stable")
            parts.append(section("Field changes (<code>plan.changes</code>)"))
            parts.append(
                table(
                    changes,
                    numeric=["row"],
                    code=["old", "new"],
                    what="changes",
                    where="plan.changes",
                )
            )
        creates = self.rows[self.rows["action"] == "create"]
        if len(creates):
            parts.append(section("New contacts"))
            parts.append(table(creates[["email"]], index="row", what="creates", where="plan.rows"))
        rejected = self.rows[self.rows["action"] == "rejected"]
        if len(rejected):
            parts.append(section("Rejected rows"))
            parts.append(
                table(
                    rejected[["email", "reason"]],
                    index="row",
                    bad=["reason"],
                    what="rejected rows",
                    where="plan.rows",
                )
            )
        return "<div>" + "\n".join(parts) + "</div>"

    def to_apply(self) -> pd.DataFrame:
        """The input rows :meth:`apply` would import (creates and updates)."""
        wanted = self.rows["action"].isin(["create", "update"]).to_numpy()
        return self._source[wanted]

    def apply(
        self,
        *,
        progress: bool = True,
        check_stale: bool = True,
        journal: bool | str | os.PathLike[str] = False,
    ) -> ImportResult:
        """Import the creates and updates, after checking the snapshot is still current.

        Parameters
        ----------
        progress : bool
            Show progress bars (export and import).
        check_stale : bool
            Take a fresh export first and refuse when the account changed
            (one export job). ``False`` skips that check.
        journal : bool or path
            Passed to :func:`~mailtrap_pandas.jobs.imports.run.import_contacts`. Off by
            default: a plan is already a diff against a fresh export, and the
            journal would silently skip a body it saw finish before (the
            same change made again after someone reverted it).

        Returns
        -------
        ImportResult

        Raises
        ------
        StalePlanError
            When the account changed since the plan's snapshot; make a new plan.
        """
        from mailtrap_pandas.jobs.imports.run import import_contacts

        if check_stale:
            fresh = take_snapshot(self._client, progress=progress)
            if _fingerprint_like(fresh, self._snapshot_columns) != self.snapshot_fingerprint:
                raise StalePlanError(
                    "the account changed since this plan was made; make a new plan "
                    "(df.mailtrap.plan(...)) and review it before applying"
                )
        return import_contacts(
            self.to_apply(),
            self._client,
            list_ids=self.list_ids,
            exclude_list_ids=self.exclude_list_ids,
            progress=progress,
            journal=journal,
            **self._import_kwargs,
        )


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

    :func:`plan` and the reconcile of an incremental sync both use it. A missing new value is
    never a change (with ``nulls="skip"`` it is not sent, so the stored value survives); a
    list membership changes when an ``include`` list is not held or an ``exclude`` one is.

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
            [bool(want - _id_set(v)) or bool(drop & _id_set(v)) for v in stored], dtype=bool
        )
        list_change &= found
        any_change |= list_change
        valid_changed[list_change] += "list_ids "
    return RowDiff(found, any_change, valid_changed, change_rows)


def plan(
    df: pd.DataFrame,
    client: Client | None = None,
    *,
    mode: Mode = "upsert",
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: Mapping[Any, str | None] | None = None,
    dedupe: Dedupe = "last",
    nulls: Nulls = "skip",
    unknown: Unknown = "report",
    progress: bool = True,
    snapshot: pd.DataFrame | None = None,
    truncate_time: bool = False,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> Plan:
    """Classify each row against one export of the account, sending nothing.

    Parameters
    ----------
    df : DataFrame
        Contacts with an email column and custom-field columns.
    client : Client, optional
        Defaults to ``Client()`` from the environment.
    mode : {"upsert", "update_only", "create_only"}
        ``update_only`` skips emails the account lacks; ``create_only`` skips
        emails it already has.
    list_ids, exclude_list_ids : list of int, optional
        Lists the import would add contacts to / remove them from; a row whose
        only change is a list membership is an ``update``.
    columns, dedupe, nulls, unknown
        As for :func:`mailtrap_pandas.frames.validate.validate`. With ``nulls="skip"``
        a missing value is never a change (it would not be sent).
    progress : bool
        Show progress while exporting.
    snapshot : DataFrame, optional
        An unfiltered :func:`~mailtrap_pandas.read_export` frame to plan
        against instead of taking a new one.
    truncate_time, dayfirst, date_format
        How date fields read their values, as for
        :func:`~mailtrap_pandas.validate.validate` (and for :meth:`Plan.apply`).

    Returns
    -------
    Plan

    Raises
    ------
    InputError
        An unknown ``mode``, or a frame that cannot be validated at all.

    Notes
    -----
    Cost: one GET of the fields and one export job (none with ``snapshot=``),
    whatever the number of rows.
    """
    from mailtrap_pandas.jobs.validation import validate

    check_frame(df, "plan")
    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, not {mode!r}")
    client = ensure_client(client)
    fields = client.fields.list()
    dates: dict[str, Any] = {
        "truncate_time": truncate_time,
        "dayfirst": dayfirst,
        "date_format": date_format,
    }
    report = validate(
        df, fields=fields, columns=columns, dedupe=dedupe, nulls=nulls, unknown=unknown, **dates
    )
    snap = take_snapshot(client, progress=progress) if snapshot is None else snapshot
    include = list_ids_arg(list_ids, "list_ids")
    exclude = list_ids_arg(exclude_list_ids, "exclude_list_ids")

    index = df.index
    action = np.full(len(df), "rejected", dtype=object)
    reason = np.full(len(df), "", dtype=object)
    changed = np.full(len(df), "", dtype=object)

    failed = report.failures[report.failures["row"].notna()]
    for label, grp in failed.groupby("row", sort=False):
        text = "; ".join(f"{c}: {m}" for c, m in zip(grp["column"], grp["message"], strict=True))
        reason[index.get_loc(label)] = text
    if report.dedupe != "error":  # with "error" every occurrence is already a failure
        for label, kept in zip(
            report.duplicates["row"], report.duplicates["kept_row"], strict=True
        ):
            pos = index.get_loc(label)
            action[pos] = "duplicate"
            reason[pos] = f"same email as row {kept!r}"

    valid = report.valid
    valid_pos = index.get_indexer(valid.index)
    diff = compare_rows(valid, index_snapshot(snap), include, exclude)
    found, any_change, change_rows = diff.found, diff.changed, diff.changes
    valid_changed = diff.names

    valid_action = np.where(found, np.where(any_change, "update", "unchanged"), "create")
    valid_action = valid_action.astype(object)
    valid_reason = np.full(len(valid), "", dtype=object)
    if mode == "update_only":
        valid_action[~found] = "skipped"
        valid_reason[~found] = "not in the account (mode update_only)"
    elif mode == "create_only":
        valid_action[found] = "skipped"
        valid_reason[found] = "already in the account (mode create_only)"
    action[valid_pos] = valid_action
    reason[valid_pos] = valid_reason
    changed[valid_pos] = [c.strip() for c in valid_changed]

    rows = pd.DataFrame(
        {
            "email": df_emails(df, report).to_numpy(),
            "action": action,
            "changed": changed,
            "reason": reason,
        },
        index=df.index,
    )
    changes = (
        pd.concat(change_rows, ignore_index=True)
        if change_rows
        else pd.DataFrame({c: pd.Series([], dtype=object) for c in CHANGE_COLUMNS})
    )
    return Plan(
        rows=rows,
        changes=changes,
        report=report,
        mode=mode,
        snapshot_fingerprint=fingerprint(snap),
        list_ids=include or None,
        exclude_list_ids=exclude or None,
        _source=df,
        _client=client,
        _import_kwargs={
            "columns": columns,
            "dedupe": dedupe,
            "nulls": nulls,
            "unknown": unknown,
            "fields": fields,
            **dates,
        },
        _snapshot_columns=list(snap.columns),
    )


def df_emails(df: pd.DataFrame, report: ValidationReport) -> pd.Series:
    """The email of each input row: normalized where valid, else as given.

    The email column is the one validation matched (``report.column_map``
    maps frame column -> ``"email"``), whatever the caller named it.
    """
    source = next(col for col, tag in report.column_map.items() if tag == "email")
    out: pd.Series = df[source].astype("string").str.strip()
    if len(report.valid):
        where = df.index.get_indexer(report.valid.index)
        out.iloc[where] = report.valid["email"].astype("string").to_numpy()
    return out


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
    #: The store recording the members this package added (``remove_missing="tracked"``).
    _store: SyncStore | None = field(default=None, repr=False)

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
            Refuse (:class:`StalePlanError`) when a fresh export differs from
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
            fresh = take_snapshot(self._client, progress=progress)
            if _fingerprint_like(fresh, self._snapshot_columns) != self.snapshot_fingerprint:
                raise StalePlanError(
                    "the account changed since this sync plan was made; make a new one "
                    "(df.mailtrap.sync_list(...)) and review it before applying"
                )
        # Two imports: list_ids_included / _excluded apply to every contact of a body.
        if len(self.adds):
            out["adds"] = import_contacts(
                self.adds[["email"]],
                self._client,
                list_ids=[self.list_id],
                fields=[],
                progress=progress,
                journal=journal,
            )
        if len(self.removes):
            out["removes"] = import_contacts(
                self.removes[["email"]],
                self._client,
                exclude_list_ids=[self.list_id],
                fields=[],
                progress=progress,
                journal=journal,
            )
        if self._store is not None:  # what this package put on the list, for "tracked"
            for name, record in (
                ("adds", self._store.members_added),
                ("removes", self._store.members_removed),
            ):
                if name in out:
                    done = getattr(self, name).loc[out[name].imported_index, "email"]
                    record(self.list_id, email_hashes(done, self._store.hash_key))
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
    members = np.array([int(list_id) in _id_set(v) for v in snap["list_ids"].tolist()], dtype=bool)
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
    store = SyncStore(open_journal(journal), client.base_url, client.account_id)
    removes = pd.DataFrame({"email": pd.Series([], dtype="string")})
    if remove_missing:
        gone = members & ~snap_key.isin(set(key)).to_numpy(dtype=bool)
        if remove_missing == "tracked":
            ours = np.isin(email_hashes(snap["email"], store.hash_key), store.members(list_id))
            gone &= ours
        removes = pd.DataFrame({"email": snap["email"][gone].astype("string").to_numpy()})
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
        _store=store,
    )
