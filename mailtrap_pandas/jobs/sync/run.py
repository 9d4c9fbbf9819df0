"""Incremental sync, the whole call in one page: state -> (export) -> plan -> submit -> confirm.

A sync is an import (:mod:`mailtrap_pandas.jobs.imports`) whose planner leaves out the rows
the account already holds (:class:`~.planner.SyncPlanner`), sent by the same submitter, whose
finished jobs confirm the state of their rows (``Submitter.on_done``). The state lives in the
import journal's file (:class:`~mailtrap_pandas.jobs.store.SyncStore`).

Decisions:

- **A crash loses nothing**: a row's hash is written only once its job finished, each batch
  in one transaction. A run killed mid-way leaves the unfinished rows unconfirmed, and the
  next run sends exactly those (and what changed since).
- **Nothing is skipped by the journal**: an incremental sync sends a body only when the
  account lacks its values, so a body that finished in an earlier run is sent again
  (``Submitter.resend_done``); an unfinished one is still resumed.
- **Reconcile** (``"always"``; ``"auto"`` on the first sync and when the last one is older than
  ``reconcile_after_days``): ONE export, compared with the source by
  :func:`~mailtrap_pandas.jobs.snapshot.compare_rows`. Rows it shows unchanged are confirmed
  without a request; rows that differ are sent whatever the state says (drift repaired).
- **Missing rows** (confirmed before, not in this source): kept, or taken off ``list_ids``
  with one more export (to learn their addresses: the store keeps only keyed hashes) and
  one import, refused above ``max_remove_fraction`` of a list's members. Contacts are never
  deleted.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.jobs.imports.outcomes import Outcomes
from mailtrap_pandas.jobs.imports.result import assemble
from mailtrap_pandas.jobs.imports.run import check_list_ids, import_contacts, prepare_run
from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.imports.submit import Submitter
from mailtrap_pandas.jobs.imports.verify import resolve_uncertain
from mailtrap_pandas.jobs.list_sync import TooManyRemovalsError
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.jobs.snapshot import id_set, index_snapshot, take_snapshot
from mailtrap_pandas.jobs.sources import Source, open_source
from mailtrap_pandas.jobs.store import Journal, SyncStore, open_journal
from mailtrap_pandas.jobs.sync.planner import SyncPlanner
from mailtrap_pandas.jobs.sync.result import SyncResult
from mailtrap_pandas.jobs.sync.state import SyncState
from mailtrap_pandas.limits import MAX_CONTACTS_PER_IMPORT
from mailtrap_pandas.modes import Missing, Reconcile

__all__ = ["RECONCILE", "SyncResult", "sync"]

RECONCILE = ("auto", "always", "never")
MISSING = ("keep", "remove_from_lists")
_DAY = 86_400.0


def _choose(reconcile: Reconcile, store: SyncStore, after_days: float, now: float) -> bool:
    if reconcile != "auto":
        return reconcile == "always"
    last = store.reconciled_at
    return last is None or now - last > after_days * _DAY


def sync(
    source: Source,
    client: Client | None = None,
    *,
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: Mapping[Any, str | None] | None = None,
    reconcile: Reconcile = "auto",
    journal: str | os.PathLike[str] | bool | Journal | None = None,
    progress: bool | None = None,
    missing: Missing = "keep",
    max_remove_fraction: float = 0.5,
    reconcile_after_days: float = 7.0,
    chunk_size: int = MAX_CONTACTS_PER_IMPORT,
    poll_interval: float = 1.0,
    max_poll_interval: float = 30.0,
    fields: Sequence[Mapping[str, Any]] | None = None,
    **validation: Any,
) -> SyncResult:
    """Send only the rows whose values the account does not hold yet (nightly sync).

    The first sync (reconciling) sends what differs from one export; each later sync sends
    the rows whose values or list memberships changed since the last *confirmed* sync, by a
    24-byte-per-email state kept in the journal file (email, content and raw-row hashes).

    Parameters
    ----------
    source : DataFrame, iterable of DataFrames, path or pyarrow Table/Dataset
        As for :func:`~mailtrap_pandas.import_contacts` (streams keep memory bounded).
    client : Client, optional
        Built from the environment when omitted.
    list_ids, exclude_list_ids : sequence of int, optional
        Lists every row is added to / taken off (part of what is compared).
    columns : dict, optional
        Frame column -> merge tag (or ``"email"``), as for validation.
    reconcile : {"auto", "always", "never"}
        ``"always"`` takes one export and compares the source with the account itself,
        repairing edits made elsewhere (drift); ``"never"`` trusts the stored state;
        ``"auto"`` reconciles on the first sync and when the last reconcile is older than
        ``reconcile_after_days``.
    journal : path, bool or Journal, optional
        The store file (state, journal); default the user's cache folder
        (``MAILTRAP_PANDAS_JOURNAL`` overrides). ``False``: a throwaway in-memory store,
        so every sync is a first sync.
    progress : bool, optional
        Show a progress bar (default ``True``).
    missing : {"keep", "remove_from_lists"}
        What to do with contacts an earlier sync confirmed that this source no longer
        holds: nothing (``"keep"``), or take them off ``list_ids``. Contacts are never
        deleted.
    max_remove_fraction : float
        ``missing="remove_from_lists"`` refuses (:class:`~mailtrap_pandas.TooManyRemovalsError`,
        an :class:`InputError`; nothing removed) to
        take off more than this share of a list's members: an empty or truncated source
        must not empty a list. ``1`` allows any.
    reconcile_after_days : float
        The age of the last reconcile after which ``"auto"`` reconciles again.
    chunk_size, poll_interval, max_poll_interval, fields
        As for :func:`~mailtrap_pandas.import_contacts`.
    **validation
        Validation options (``nulls``, ``dedupe``, ``unknown``, ...), passed to the same
        validation as an import.

    Returns
    -------
    SyncResult
        Every input row is in exactly one of ``sent``, ``unchanged``, ``rejected`` and
        ``duplicates``.

    Raises
    ------
    InputError
        Bad arguments, an unreadable source, or removals above ``max_remove_fraction``.

    Notes
    -----
    Cost of a sync without reconcile: one GET of the fields (none with ``fields=``), one
    GET of the lists when ``list_ids`` are given, then one import request per 50,000
    changed rows and its polls. A reconcile adds one export job.
    """
    if reconcile not in RECONCILE:
        allowed = ", ".join(map(repr, RECONCILE))
        raise InputError(f"reconcile must be one of {allowed}, not {reconcile!r}")
    if missing not in MISSING:
        raise InputError(f"missing must be 'keep' or 'remove_from_lists', not {missing!r}")
    if missing == "remove_from_lists" and not list_ids:
        raise InputError("missing='remove_from_lists' needs list_ids: the lists to take them off")
    if isinstance(max_remove_fraction, bool) or not 0 <= max_remove_fraction <= 1:
        raise InputError(
            f"max_remove_fraction must be a number from 0 to 1, not {max_remove_fraction!r}"
        )
    show = True if progress is None else bool(progress)
    start = client.stats["requests"] if client is not None else 0
    client, specs, size = prepare_run(client, fields, chunk_size)
    check_list_ids(client, list_ids, exclude_list_ids)
    store_file = open_journal(journal)
    try:
        store = SyncStore(store_file, client.base_url, client.account_id)
        began = time.time()
        reconciling = _choose(reconcile, store, reconcile_after_days, began)
        state = SyncState(*store.load())
        frames, total, stream = open_source(source, size)
        snapshot = take_snapshot(client, progress=show) if reconciling else None
        bar = Progress(show, total, client.budget, desc="sync")
        outcomes = Outcomes()
        validate_kw: dict[str, Any] = {
            "columns": columns,
            "nulls": "skip",
            "dedupe": "last",
            "unknown": "report",
            **validation,
        }
        planner = SyncPlanner(
            specs=specs,
            list_ids=list_ids,
            exclude_list_ids=exclude_list_ids,
            chunk_size=size,
            validate_kw=validate_kw,
            dedupe=validate_kw["dedupe"],
            stream=stream,
            outcomes=outcomes,
            progress=bar,
            store=store,
            state=state,
            snapshot=None if snapshot is None else index_snapshot(snapshot),
        )
        sub = Submitter(
            client=client,
            journal=store_file,
            planner=planner,
            outcomes=outcomes,
            progress=bar,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            on_done=planner.confirm,
            resend_done=True,
        )
        try:
            for frame in frames:
                for chunk, valid in planner.plan(frame):
                    sub.submit(chunk, valid)
            sub.poll()
            resolve_uncertain(sub)
            # Before the spool closes: the emails of failed jobs wait in it.
            imported = assemble(
                sub.jobs,
                outcomes,
                source=source if isinstance(source, pd.DataFrame) else None,
                last_wins_across_jobs=stream and validate_kw["dedupe"] == "last",
                requests=0,
            )
        finally:
            bar.close()
            sub.spool.close()  # the spool: an open temporary file until closed
        unseen = state.unseen()
        removed = pd.DataFrame({"email": pd.Series([], dtype="string")})
        if missing == "remove_from_lists" and len(unseen):
            assert list_ids is not None
            removed = _remove_missing(
                client,
                store,
                unseen,
                [int(i) for i in list_ids],
                snapshot,
                max_remove_fraction,
                show,
                poll_interval,
                max_poll_interval,
            )
        if reconciling:
            store.mark_reconciled(began)
        unchanged = planner.unchanged
        return SyncResult(
            imported=imported,
            unchanged=unchanged[0].append(unchanged[1:]) if unchanged else pd.Index([]),
            missing=len(unseen),
            removed=removed,
            reconciled=reconciling,
            requests=client.stats["requests"] - start,
        )
    finally:
        if store_file is not journal:  # ours to close; a Journal passed in stays open
            store_file.close()


def _remove_missing(
    client: Client,
    store: SyncStore,
    unseen: np.ndarray[Any, Any],
    list_ids: list[int],
    snapshot: pd.DataFrame | None,
    max_remove_fraction: float,
    progress: bool,
    poll_interval: float,
    max_poll_interval: float,
) -> pd.DataFrame:
    """Take the contacts of ``unseen`` (keyed email hashes) off ``list_ids``; return them."""
    # The store has no addresses: one export names them (the reconcile's, if there was one).
    snap = snapshot if snapshot is not None else take_snapshot(client, progress=progress)
    keys = email_hashes(snap["email"], store.hash_key)
    gone = np.isin(keys, unseen)
    memberships = [id_set(v) for v in snap["list_ids"].tolist()]
    wanted = set(list_ids)
    on_lists = np.array([bool(m & wanted) for m in memberships], dtype=bool)
    for list_id in list_ids:
        members = np.array([list_id in m for m in memberships], dtype=bool)
        removes = int((members & gone).sum())
        if removes > max_remove_fraction * int(members.sum()):
            err = TooManyRemovalsError(list_id, removes, int(members.sum()), max_remove_fraction)
            # The same error as sync_list's guard; the message says what was sent here.
            err.args = (
                f"refusing to take {removes:,} of the {int(members.sum()):,} members off list "
                f"{list_id}: more than max_remove_fraction={max_remove_fraction:g} allows; "
                "nothing was removed (the changed rows were sent). Check the source (an empty "
                "or truncated file would empty the list); if intended, pass a larger "
                "max_remove_fraction (1 allows any)",
            )
            raise err
    take = gone & on_lists
    # Not on the lists (or no longer in the account): nothing to do, stop tracking them.
    store.forget(np.setdiff1d(unseen, keys[take]))
    if not take.any():
        return pd.DataFrame({"email": pd.Series([], dtype="string")})
    frame = pd.DataFrame({"email": snap["email"][take].astype("string").to_numpy()})
    result = import_contacts(
        frame,
        client,
        exclude_list_ids=list_ids,
        fields=[],
        journal=False,  # idempotent and small; an earlier identical body must not skip it
        progress=progress,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
    )
    done = frame.loc[result.imported_index]
    done_keys = email_hashes(done["email"], store.hash_key)
    store.forget(done_keys)
    for list_id in list_ids:
        store.members_removed(list_id, done_keys)
    return done.reset_index(drop=True)
