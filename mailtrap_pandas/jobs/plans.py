"""Plan-then-apply on one export: each row classified by the match mode, field changes listed.

A :class:`Plan` classifies each input row as ``create``, ``update``, ``unchanged``,
``skipped`` (by the match mode), ``duplicate`` or ``rejected`` and lists field-level
changes, against one snapshot of the account (:mod:`.snapshot`). :meth:`Plan.apply`
imports only creates and updates, and first takes a fresh fingerprint of the account:
if anything changed since the snapshot, it refuses (:class:`~.snapshot.StalePlanError`)
rather than overwrite someone else's edit.
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.encode import list_ids_arg
from mailtrap_pandas.frames.validate import check_frame
from mailtrap_pandas.jobs.snapshot import (
    compare_rows,
    fingerprint,
    index_snapshot,
    raise_if_stale,
    take_snapshot,
)
from mailtrap_pandas.modes import MODES, Dedupe, Mode, Nulls, Unknown
from mailtrap_pandas.reprs import (
    BAD,
    GOOD,
    PLAIN,
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

__all__ = ["Plan", "plan"]

#: Every ``Plan.rows["action"]`` value, in display order.
ACTIONS = ("create", "update", "unchanged", "skipped", "duplicate", "rejected")
CHANGE_COLUMNS = ["row", "email", "column", "old", "new"]


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
            raise_if_stale(
                self._client,
                self.snapshot_fingerprint,
                self._snapshot_columns,
                progress=progress,
                message="the account changed since this plan was made; make a new plan "
                "(df.mailtrap.plan(...)) and review it before applying",
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
