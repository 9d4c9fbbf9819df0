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
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from .client import Client, ensure_client
from .errors import InputError, MailtrapError

if TYPE_CHECKING:
    from .bulk import ImportResult
    from .validate import ValidationReport

__all__ = ["Plan", "StalePlanError", "SyncPlan", "plan", "sync_list"]

Mode = Literal["upsert", "update_only", "create_only"]
MODES = ("upsert", "update_only", "create_only")


class StalePlanError(MailtrapError):
    """The account changed between the plan's snapshot and :meth:`Plan.apply`."""


def fingerprint(snapshot: pd.DataFrame) -> str:
    """A digest of who is in the account and when each contact last changed."""
    if snapshot.empty:
        return hashlib.sha256(b"empty").hexdigest()
    keys = snapshot[["email", "updated_at"]].astype("string").fillna("")
    joined = (keys["email"].str.lower() + "|" + keys["updated_at"]).sort_values()
    return hashlib.sha256("\n".join(joined.tolist()).encode()).hexdigest()


def take_snapshot(client: Client, *, progress: bool = True) -> pd.DataFrame:
    """One export of the whole account, as a typed frame."""
    from .export import read_export

    return read_export(client, progress=progress)


def _email_key(emails: pd.Series) -> pd.Series:
    return emails.astype("string").str.strip().str.lower()


def _differs(new: pd.Series, old: pd.Series) -> pd.Series:
    """Row-wise: the new value is set and is not equal to the stored one."""
    new_set = new.notna()
    equal = (new.astype(object) == old.astype(object)) & old.notna()
    return (new_set & ~equal).astype(bool)


@dataclass
class Plan:
    """Per-row classification of a frame against one snapshot of the account.

    Attributes
    ----------
    rows : DataFrame
        Indexed by the caller's original labels: ``email``, ``action``, ``changed``
        (the merge tags that would change), ``reason``.
    changes : DataFrame
        One row per field-level change: ``row``, ``email``, ``column``, ``old``, ``new``.
    report : ValidationReport
        The validation the plan was built on.
    """

    rows: pd.DataFrame
    changes: pd.DataFrame
    report: ValidationReport
    mode: str
    snapshot_fingerprint: str
    list_ids: list[int] | None
    exclude_list_ids: list[int] | None
    _source: pd.DataFrame = field(repr=False)
    _client: Client = field(repr=False)
    _import_kwargs: dict[str, Any] = field(default_factory=dict, repr=False)

    def counts(self) -> dict[str, int]:
        """How many rows fall in each action."""
        order = ["create", "update", "unchanged", "skipped", "duplicate", "rejected"]
        counts = self.rows["action"].value_counts()
        return {a: int(counts.get(a, 0)) for a in order}

    def summary(self) -> dict[str, Any]:
        """Counts and settings, for ``--json`` output."""
        return {"mode": self.mode, "rows": len(self.rows), **self.counts()}

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v}" for k, v in self.counts().items())
        return f"Plan(mode={self.mode!r}, rows={len(self.rows)}, {body})"

    def _repr_html_(self) -> str:
        counts = self.counts()
        head = "".join(f"<th>{k}</th>" for k in counts)
        cells = "".join(f"<td>{v}</td>" for v in counts.values())
        html = (
            f"<b>Plan</b> (mode <code>{self.mode}</code>, {len(self.rows)} rows)"
            f"<table><tr>{head}</tr><tr>{cells}</tr></table>"
        )
        if len(self.changes):
            html += "<p>Field changes (first 20)</p>" + self.changes.head(20).to_html(index=False)
        rejected = self.rows[self.rows["action"] == "rejected"]
        if len(rejected):
            html += "<p>Rejected rows (first 20)</p>" + rejected.head(20).to_html()
        return html

    def to_apply(self) -> pd.DataFrame:
        """The input rows :meth:`apply` would import (creates and updates)."""
        wanted = self.rows.index[self.rows["action"].isin(["create", "update"])]
        return self._source.loc[wanted]

    def apply(self, *, progress: bool = True, check_stale: bool = True) -> ImportResult:
        """Import the creates and updates, after checking the snapshot is still current.

        Raises
        ------
        StalePlanError
            When the account changed since the plan's snapshot; make a new plan.
        """
        from .bulk import import_contacts

        if check_stale:
            now = fingerprint(take_snapshot(self._client, progress=progress))
            if now != self.snapshot_fingerprint:
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
            **self._import_kwargs,
        )


def plan(
    df: pd.DataFrame,
    client: Client | None = None,
    *,
    mode: Mode = "upsert",
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: dict[str, str] | None = None,
    dedupe: Literal["last", "first", "error"] = "last",
    nulls: Literal["skip", "error"] = "skip",
    progress: bool = True,
    snapshot: pd.DataFrame | None = None,
) -> Plan:
    """Classify each row against one export of the account, sending nothing.

    Parameters
    ----------
    df : DataFrame
        Contacts with an ``email`` column and custom-field columns.
    client : Client, optional
        Defaults to ``Client()`` from the environment.
    mode : {"upsert", "update_only", "create_only"}
        ``update_only`` skips emails the account lacks; ``create_only`` skips
        emails it already has.
    list_ids, exclude_list_ids : list of int, optional
        Lists the import would add contacts to / remove them from; a row whose
        only change is a list membership is an ``update``.
    columns, dedupe, nulls
        As for :func:`mailtrap_pandas.validate.validate`.
    progress : bool
        Show progress while exporting.
    snapshot : DataFrame, optional
        A typed export to plan against instead of taking a new one.

    Returns
    -------
    Plan
    """
    from .validate import validate

    if mode not in MODES:
        raise InputError(f"mode must be one of {MODES}, not {mode!r}")
    client = ensure_client(client)
    fields = client.fields.list()
    report = validate(df, fields=fields, columns=columns, dedupe=dedupe, nulls=nulls)
    snap = take_snapshot(client, progress=progress) if snapshot is None else snapshot
    include = [int(i) for i in list_ids or []]
    exclude = [int(i) for i in exclude_list_ids or []]

    action = pd.Series("rejected", index=df.index, dtype=object)
    reason = pd.Series("", index=df.index, dtype=object)
    changed = pd.Series("", index=df.index, dtype=object)
    failed = report.failures
    if len(failed):
        for label, grp in failed.groupby("row", sort=False, dropna=False):
            if label in reason.index:
                reason.loc[[label]] = "; ".join(grp["column"].astype(str) + ": " + grp["message"])
    if len(report.duplicates):
        dup_rows = report.duplicates["row"].tolist()
        action.loc[dup_rows] = "duplicate"
        reason.loc[dup_rows] = "same email as row " + report.duplicates["kept_row"].astype(str)

    valid = report.valid
    key = _email_key(valid["email"])
    existing = snap.assign(_key=_email_key(snap["email"])).drop_duplicates("_key").set_index("_key")
    found = key.isin(existing.index)
    old = existing.reindex(key.where(found).tolist())
    old.index = valid.index

    change_rows: list[pd.DataFrame] = []
    any_change = pd.Series(False, index=valid.index)
    for tag in [c for c in valid.columns if c != "email"]:
        if tag not in old.columns:
            diff = valid[tag].notna()
            old_values = pd.Series(pd.NA, index=valid.index, dtype=object)
        else:
            diff = _differs(valid[tag], old[tag])
            old_values = old[tag].astype(object)
        diff &= found
        if diff.any():
            any_change |= diff
            change_rows.append(
                pd.DataFrame(
                    {
                        "row": valid.index[diff],
                        "email": valid["email"][diff].to_numpy(),
                        "column": tag,
                        "old": old_values[diff].to_numpy(),
                        "new": valid[tag][diff].astype(object).to_numpy(),
                    }
                )
            )
            changed.loc[valid.index[diff]] += tag + " "
    if include or exclude:
        member = old["list_ids"] if "list_ids" in old else pd.Series(None, index=valid.index)
        ids = member.map(lambda v: set() if v is None or not hasattr(v, "__iter__") else set(v))
        list_change = ids.map(lambda s: bool(set(include) - s) or bool(set(exclude) & s))
        list_change = list_change.astype(bool) & found
        any_change |= list_change
        changed.loc[valid.index[list_change]] += "list_ids "

    valid_action = pd.Series("unchanged", index=valid.index, dtype=object)
    valid_action[~found] = "create"
    valid_action[found & any_change] = "update"
    if mode == "update_only":
        reason.loc[valid.index[~found]] = "not in the account (mode update_only)"
        valid_action[~found] = "skipped"
    elif mode == "create_only":
        reason.loc[valid.index[found]] = "already in the account (mode create_only)"
        valid_action[found] = "skipped"
    action.loc[valid.index] = valid_action

    rows = pd.DataFrame(
        {
            "email": df_emails(df, report),
            "action": action,
            "changed": changed.str.strip(),
            "reason": reason,
        },
        index=df.index,
    )
    columns_out = ["row", "email", "column", "old", "new"]
    changes = (
        pd.concat(change_rows, ignore_index=True)
        if change_rows
        else pd.DataFrame(columns=columns_out)
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
        _import_kwargs={"columns": columns, "dedupe": dedupe, "nulls": nulls, "fields": fields},
    )


def df_emails(df: pd.DataFrame, report: ValidationReport) -> pd.Series:
    """The email of each input row: normalized where valid, else as given."""
    source = (
        report.column_map_inverse().get("email", "email")
        if hasattr(report, "column_map_inverse")
        else next((c for c, t in report.column_map.items() if t == "email"), "email")
    )
    raw = (
        df[source].astype("string")
        if source in df.columns
        else pd.Series(pd.NA, index=df.index, dtype="string")
    )
    out = raw.copy()
    out.loc[report.valid.index] = report.valid["email"].astype("string")
    return out


@dataclass
class SyncPlan:
    """The membership changes that make list ``list_id`` match a frame.

    Attributes
    ----------
    adds : DataFrame
        Emails to add to the list (``exists`` tells whether the contact exists
        or will be created).
    removes : DataFrame
        Members to take off the list (only with ``remove_missing=True``).
    """

    list_id: int
    adds: pd.DataFrame
    removes: pd.DataFrame
    unchanged: int
    rejected: pd.DataFrame
    _client: Client = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"SyncPlan(list_id={self.list_id}, add={len(self.adds)}, "
            f"remove={len(self.removes)}, unchanged={self.unchanged}, "
            f"rejected={len(self.rejected)})"
        )

    def _repr_html_(self) -> str:
        html = f"<b>{self.__repr__()}</b>"
        if len(self.adds):
            html += "<p>Adds (first 20)</p>" + self.adds.head(20).to_html()
        if len(self.removes):
            html += "<p>Removes (first 20)</p>" + self.removes.head(20).to_html()
        return html

    def apply(self, *, progress: bool = True) -> dict[str, ImportResult]:
        """Send the adds and removes as bulk imports; returns one result per direction."""
        from .bulk import import_contacts

        out: dict[str, ImportResult] = {}
        if len(self.adds):
            out["adds"] = import_contacts(
                self.adds[["email"]],
                self._client,
                list_ids=[self.list_id],
                fields=[],
                progress=progress,
            )
        if len(self.removes):
            out["removes"] = import_contacts(
                self.removes[["email"]].reset_index(drop=True),
                self._client,
                exclude_list_ids=[self.list_id],
                fields=[],
                progress=progress,
            )
        return out


def sync_list(
    df: pd.DataFrame,
    list_id: int,
    client: Client | None = None,
    *,
    remove_missing: bool = False,
    progress: bool = True,
    snapshot: pd.DataFrame | None = None,
) -> SyncPlan:
    """Plan the membership changes that make list ``list_id`` hold the frame's emails.

    Nothing is sent until :meth:`SyncPlan.apply`. Only ``email`` is used from
    the frame; field values are not touched.

    Parameters
    ----------
    df : DataFrame
        Must have an ``email`` column.
    list_id : int
        The list to sync.
    client : Client, optional
        Defaults to ``Client()`` from the environment.
    remove_missing : bool
        Also take off the list its members that are not in the frame.
    progress : bool
        Show progress while exporting.
    snapshot : DataFrame, optional
        A typed export to work from instead of taking a new one.
    """
    from .validate import validate

    client = ensure_client(client)
    client.lists.get(list_id)  # a clear 404 now rather than a rejected import later
    emails = df[["email"]] if "email" in df.columns else df
    report = validate(emails, fields=[], unknown="ignore")
    snap = take_snapshot(client, progress=progress) if snapshot is None else snapshot
    snap_key = _email_key(snap["email"])
    members = snap["list_ids"].map(lambda v: v is not None and list_id in list(v)).astype(bool)
    member_keys = set(snap_key[members])
    known_keys = set(snap_key)
    valid = report.valid
    key = _email_key(valid["email"])
    is_member = key.isin(member_keys)
    adds = pd.DataFrame(
        {"email": valid["email"][~is_member], "exists": key[~is_member].isin(known_keys)}
    )
    removes = pd.DataFrame({"email": pd.Series([], dtype="string")})
    if remove_missing:
        gone = members & ~snap_key.isin(set(key))
        removes = pd.DataFrame({"email": snap["email"][gone].to_numpy()})
    rejected_rows: list[Hashable] = list(dict.fromkeys(report.failures["row"].tolist()))
    return SyncPlan(
        list_id=int(list_id),
        adds=adds,
        removes=removes,
        unchanged=int(is_member.sum()),
        rejected=report.failures.set_index("row").loc[rejected_rows]
        if rejected_rows
        else report.failures,
        _client=client,
    )
