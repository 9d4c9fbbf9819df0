"""Bulk import, the whole pipeline in one page: plan -> submit -> poll -> verify -> result.

Each step lives in its own module of this package, with its decisions in its docstring:

- :mod:`.planner` (pure): validate each frame, apply the match mode, dedupe across a
  stream, encode bodies of at most 50,000 contacts. :func:`to_import_payloads` is a planner
  alone.
- :mod:`.submit`: the journal's state machine, the per-email 422 split, polling the jobs.
- :mod:`.verify`: chunks whose answer never came, settled by ONE export.
- :mod:`.result`: :class:`~mailtrap_pandas.jobs.imports.result.ImportResult`, where every
  input row is accounted for exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.emails import email_key
from mailtrap_pandas.frames.encode import check_chunk_size, list_ids_arg
from mailtrap_pandas.frames.validate import check_frame
from mailtrap_pandas.jobs.imports.outcomes import Outcomes
from mailtrap_pandas.jobs.imports.planner import Planner
from mailtrap_pandas.jobs.imports.result import ImportResult, assemble
from mailtrap_pandas.jobs.imports.submit import Submitter
from mailtrap_pandas.jobs.imports.supersede import Superseded, can_reread, last_rows
from mailtrap_pandas.jobs.imports.verify import resolve_uncertain
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.jobs.snapshot import take_snapshot
from mailtrap_pandas.jobs.sources import Source, open_source
from mailtrap_pandas.jobs.store import Journal, open_journal
from mailtrap_pandas.jobs.validation import account_fields
from mailtrap_pandas.limits import MAX_CONTACTS_PER_IMPORT
from mailtrap_pandas.modes import MODES, Dedupe, Mode, Nulls, Unknown

__all__ = [
    "DEFAULT_JOURNAL",
    "ImportResult",
    "check_list_ids",
    "import_contacts",
    "prepare_run",
    "to_import_payloads",
]

#: ``journal=`` default: the file under the user's cache folder (:mod:`~.jobs.store`).
DEFAULT_JOURNAL = True


def prepare_run(
    client: Client | None, fields: Sequence[Mapping[str, Any]] | None, chunk_size: int
) -> tuple[Client, list[dict[str, Any]], int]:
    """What an import or a sync needs before reading a row: client, field definitions, chunk size.

    The chunk size is checked first (no request for a bad argument); the fields are
    fetched (one GET) only when the caller gave none.
    """
    size = check_chunk_size(chunk_size)
    client = ensure_client(client)
    specs = [dict(f) for f in fields] if fields is not None else account_fields(client)
    return client, specs, size


def _latest(
    source: Source,
    stream: bool,
    dedupe: Dedupe,
    specs: Sequence[Mapping[str, Any]],
    columns: Mapping[Any, str | None] | None,
    size: int,
) -> Superseded | None:
    """For ``dedupe="last"`` over a stream that can be read twice: every email's last row."""
    if not (stream and dedupe == "last" and can_reread(source)):
        return None
    frames, _, _ = open_source(source, size)
    return Superseded(last_rows(frames, specs, columns))


def _planner(
    source: Source,
    specs: Sequence[Mapping[str, Any]],
    size: int,
    stream: bool,
    *,
    list_ids: Sequence[int] | None,
    exclude_list_ids: Sequence[int] | None,
    policies: dict[str, Any],
    outcomes: Outcomes,
    progress: Progress,
    mode: Mode = "upsert",
    existing: set[str] | None = None,
    dry_run: bool = False,
) -> Planner:
    """The one Planner of an import, or of a dry run (:func:`to_import_payloads`).

    ``policies`` are :func:`~mailtrap_pandas.frames.validate.validate`'s keyword arguments.
    """
    dedupe: Dedupe = policies["dedupe"]
    latest = _latest(source, stream, dedupe, specs, policies["columns"], size)
    if dry_run and dedupe == "last" and latest is None:
        # A dry run can't wait on jobs: "last" needs a source it can read ahead.
        dedupe = "first"
    return Planner(
        specs=specs,
        list_ids=list_ids,
        exclude_list_ids=exclude_list_ids,
        chunk_size=size,
        validate_kw=policies,
        dedupe=dedupe,
        stream=stream,
        outcomes=outcomes,
        progress=progress,
        mode=mode,
        existing=existing,
        latest=latest,
    )


def check_list_ids(
    client: Client, list_ids: Sequence[int] | None, exclude_list_ids: Sequence[int] | None
) -> None:
    """Refuse unknown list ids now, for an import or a sync: the API would reject every chunk
    whole (422)."""
    wanted = set(list_ids_arg(list_ids, "list_ids")) | set(
        list_ids_arg(exclude_list_ids, "exclude_list_ids")
    )
    if not wanted:
        return
    missing = sorted(wanted - {int(x["id"]) for x in client.lists.list()})
    if missing:
        raise InputError(
            f"list id(s) {missing} do not exist in this account; "
            "see client.lists.list() or create them with client.lists.create(name)"
        )


def import_contacts(
    source: Source,
    client: Client | None = None,
    *,
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: Mapping[Any, str | None] | None = None,
    chunk_size: int = MAX_CONTACTS_PER_IMPORT,
    nulls: Nulls = "skip",
    dedupe: Dedupe = "last",
    unknown: Unknown = "report",
    journal: str | os.PathLike[str] | bool | Journal | None = DEFAULT_JOURNAL,
    progress: bool = True,
    wait: bool = True,
    poll_interval: float = 1.0,
    max_poll_interval: float = 30.0,
    fields: Sequence[Mapping[str, Any]] | None = None,
    mode: Mode = "upsert",
    retry_failed_jobs: int = 1,
    truncate_time: bool = False,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> ImportResult:
    """Validate, chunk and bulk-import contacts; every input row is accounted for.

    Parameters
    ----------
    source : DataFrame, iterable of DataFrames, path, pyarrow dataset, Arrow stream, Dask frame
        One row per contact with an email column. Paths: ``.parquet`` (read in
        record batches), ``.csv``/``.csv.gz`` (read in chunks, as text), or a
        folder (a pyarrow dataset). Any object with ``__arrow_c_stream__`` (a
        DuckDB relation, a polars DataFrame or LazyFrame, a RecordBatchReader,
        an ADBC result) is read batch by batch, a Dask frame partition by
        partition. Streams keep memory bounded; their rows are numbered by
        position.
    client : Client, optional
        Built from the environment when omitted.
    list_ids, exclude_list_ids : sequence of int, optional
        Lists every contact is added to / removed from.
    columns : dict, optional
        Frame column -> merge tag (or ``"email"``) for names that don't match;
        ``None`` leaves a column out (``result.not_sent`` lists it as ignored).
    chunk_size : int
        Contacts per import request, 1..50,000.
    nulls : {"skip", "error"}
        ``"skip"`` leaves missing values out, so stored values survive.
    dedupe : {"last", "first", "error"}
        Which row wins when an email repeats (see the module notes for streams).
    unknown : {"report", "error", "ignore"}
        Columns that match no field (never sent).
    journal : path, bool or Journal
        Where chunk submissions are recorded for resume; default the user's
        cache folder (``MAILTRAP_PANDAS_JOURNAL`` overrides), ``False`` off.
    progress : bool
        Show a ``tqdm.auto`` bar; ``False`` prints nothing.
    wait : bool
        ``False``: return right after submitting; ``result.wait()`` (or running
        the same call again) polls the jobs to the end.
    poll_interval, max_poll_interval : float
        Back-off bounds (seconds) of job polling.
    fields : list of dict, optional
        Field definitions (``{"name", "data_type", "merge_tag"}``); fetched
        with one request when omitted.
    mode : {"upsert", "update_only", "create_only"}
        ``"upsert"`` (the API's own behaviour) creates new contacts and updates
        existing ones. ``"update_only"`` sends only rows whose email is already
        in the account, ``"create_only"`` only rows whose email is not. Both
        take ONE export of the account first (never one request per contact)
        and compare emails case-insensitively; the other valid rows go to
        :attr:`ImportResult.skipped`. The snapshot is the reference: a contact
        created by someone else after it was taken is not seen, and on a re-run
        of ``"create_only"`` the rows an earlier run created are skipped as
        ``exists`` (nothing is sent twice).
    retry_failed_jobs : int
        How many times a chunk whose import job ends ``failed`` is sent again
        (imports are upserts, so this is safe); its rows are rejected with
        reason ``"import_failed"`` only after that. ``0``: never resend.
    truncate_time, dayfirst, date_format
        How date fields read their values, as for
        :func:`~mailtrap_pandas.validate`.

    Returns
    -------
    ImportResult
        Every input row is in exactly one of ``imported_index``, ``rejected``,
        ``duplicates`` and ``skipped``.

    Raises
    ------
    InputError
        Bad arguments or an unreadable source.
    AuthenticationError, PermissionDeniedError, NotFoundError
        The import cannot go on at all (already submitted chunks stay in the
        journal: run again once fixed).
    """
    if mode not in MODES:
        raise InputError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    if (
        isinstance(retry_failed_jobs, bool)
        or not isinstance(retry_failed_jobs, int)
        or retry_failed_jobs < 0
    ):
        raise InputError(f"retry_failed_jobs must be an integer >= 0; got {retry_failed_jobs!r}")
    if isinstance(source, pd.Series):
        check_frame(source, "import_contacts")  # before asking for a token
    start = client.stats["requests"] if client is not None else 0
    client, specs, size = prepare_run(client, fields, chunk_size)
    check_list_ids(client, list_ids, exclude_list_ids)
    frames, total, stream = open_source(source, size)
    existing = None
    if mode != "upsert":
        existing = set(email_key(take_snapshot(client, progress=progress)["email"]).dropna())
    bar = Progress(progress, total, client.budget)
    outcomes = Outcomes()
    policies = {
        "columns": columns,
        "nulls": nulls,
        "dedupe": dedupe,
        "unknown": unknown,
        "truncate_time": truncate_time,
        "dayfirst": dayfirst,
        "date_format": date_format,
    }
    planner = _planner(
        source,
        specs,
        size,
        stream,
        list_ids=list_ids,
        exclude_list_ids=exclude_list_ids,
        policies=policies,
        outcomes=outcomes,
        progress=bar,
        mode=mode,
        existing=existing,
    )
    store = open_journal(journal)

    def close_journal() -> None:
        if store is not journal:  # ours to close; a Journal passed in stays open
            store.close()

    sub = Submitter(
        client=client,
        journal=store,
        planner=planner,
        outcomes=outcomes,
        progress=bar,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        retry_failed_jobs=retry_failed_jobs,
    )
    kept = source if isinstance(source, pd.DataFrame) else None
    # A file can be read again, so retry_frame() gives back every rejected row.
    path = os.fspath(source) if isinstance(source, str | os.PathLike) else None

    def result(since: int, finish: Callable[[], ImportResult] | None = None) -> ImportResult:
        bar.close()
        if planner.latest is not None:
            outcomes.duplicates = planner.latest.settle(outcomes.duplicates)
        return assemble(
            sub.jobs,
            outcomes,
            source=kept,
            # A source read ahead sends each email's last row only: no job supersedes another.
            last_wins_across_jobs=stream and dedupe == "last" and planner.latest is None,
            requests=client.stats["requests"] - since,
            source_path=path,
            finish=finish,
        )

    spool_in_use = False  # wait=False: the bodies wait for result.wait()
    try:
        for frame in frames:
            for chunk, valid in planner.plan(frame):
                sub.submit(chunk, valid)
        if not wait:

            def finish() -> ImportResult:
                since = client.stats["requests"]
                try:
                    sub.poll()
                    resolve_uncertain(sub)
                    return result(since)  # before the spool closes: failed jobs' emails
                finally:
                    sub.spool.close()
                    close_journal()

            early = result(start, finish)
            spool_in_use = True
            return early
        sub.poll()
        resolve_uncertain(sub)
        return result(start)
    finally:
        bar.close()
        if not spool_in_use:
            # Also when an error stops the import: the spool is an open temporary file.
            sub.spool.close()
            close_journal()


def to_import_payloads(
    df: Source,
    client: Client | None = None,
    *,
    chunk_size: int = MAX_CONTACTS_PER_IMPORT,
    list_ids: Sequence[int] | None = None,
    exclude_list_ids: Sequence[int] | None = None,
    columns: Mapping[Any, str | None] | None = None,
    nulls: Nulls = "skip",
    dedupe: Dedupe = "last",
    unknown: Unknown = "report",
    fields: Sequence[Mapping[str, Any]] | None = None,
    truncate_time: bool = False,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> Iterator[bytes]:
    """The exact JSON bodies :func:`import_contacts` would POST, sending nothing.

    Only the field definitions are fetched (one GET) when ``fields`` is not
    given; with ``fields`` nothing touches the network and no token is needed.
    Rows that fail validation are left out, as an import would. The other
    parameters are those of :func:`import_contacts`.

    There is no ``mode``: a dry run takes no export of the account, so it cannot
    know which emails exist. Its bodies are those of ``mode="upsert"``; with
    ``"update_only"``/``"create_only"`` an import sends a subset of these rows.

    Yields
    ------
    bytes
        One ``{"contacts": [...]}`` body per chunk.
    """
    if isinstance(df, pd.DataFrame | pd.Series):
        check_frame(df, "to_import_payloads")
    if fields is not None:  # the definitions are all a dry run needs: no client, no token
        specs, size = [dict(f) for f in fields], check_chunk_size(chunk_size)
    else:
        _, specs, size = prepare_run(client, fields, chunk_size)
    frames, _, stream = open_source(df, size)
    policies = {
        "columns": columns,
        "nulls": nulls,
        "dedupe": dedupe,
        "unknown": unknown,
        "truncate_time": truncate_time,
        "dayfirst": dayfirst,
        "date_format": date_format,
    }
    planner = _planner(
        df,
        specs,
        size,
        stream,
        list_ids=list_ids,
        exclude_list_ids=exclude_list_ids,
        policies=policies,
        outcomes=Outcomes(),
        progress=Progress(False, None),
        dry_run=True,
    )
    for frame in frames:
        for chunk, _valid in planner.plan(frame):
            yield chunk.body
