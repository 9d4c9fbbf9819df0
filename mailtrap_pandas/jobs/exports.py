"""Export job -> ``.csv.gz`` -> typed DataFrame.

:func:`read_export` runs an export job end to end: it creates the job (waiting for
a previous export to finish when the account already has one in flight), polls
it under the client's rate budget, streams the file to a temporary file, parses
it with pyarrow (:mod:`mailtrap_pandas.frames.reader`) and deletes the file.

:func:`read_export_file` reads a file the user downloaded from the web app.
"""

from __future__ import annotations

import logging
import os
import random
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, overload

import pandas as pd

from mailtrap_pandas.api.client import Client, download, ensure_client
from mailtrap_pandas.api.resources.exports import export_filters
from mailtrap_pandas.api.resources.types import ContactExport
from mailtrap_pandas.api.retry import delays, wait_until
from mailtrap_pandas.errors import (
    InputError,
    MailtrapError,
    ValidationError,
)
from mailtrap_pandas.frames.dtypes import CONTACT_COLUMNS, DATA_TYPES
from mailtrap_pandas.frames.kinds import Frame, check_frame
from mailtrap_pandas.frames.reader import ExportFormatWarning, ExportParseError, parse_export_file
from mailtrap_pandas.jobs.progress import Progress
from mailtrap_pandas.modes import Status

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ExportFormatWarning",
    "ExportParseError",
    "ExportTimeoutError",
    "read_export",
    "read_export_file",
]

log = logging.getLogger(__name__)

#: Poll back-off: the first poll comes quickly (small exports finish in ~200 ms,
#: FACTS.md §7), later ones stretch out (x1.5 up to 10 s) so a long export costs
#: few requests: ~10 polls in the first 30 s, then 6 a minute.
POLL_FIRST_S = 0.25
POLL_MAX_S = 10.0
POLL_FACTOR = 1.5
#: Waiting for someone else's export: nothing to see for a while, start slower.
BUSY_FIRST_S = 1.0

_IN_FLIGHT = "previous export"

FieldsArg: TypeAlias = Client | Sequence[Mapping[str, Any]] | Mapping[str, str] | None


class ExportTimeoutError(MailtrapError, TimeoutError):
    """An export did not finish (or could not start) within ``timeout`` seconds.

    Attributes
    ----------
    export_id : int or None
        The export that was still running, if ours had started.
    """

    def __init__(self, message: str, export_id: int | None = None) -> None:
        super().__init__(message)
        self.export_id = export_id


def _field_types(fields: FieldsArg) -> dict[str, str] | None:
    """merge tag -> data_type from any of the accepted ``fields`` forms."""
    if fields is None:
        return None
    if isinstance(fields, Client):
        fields = list(fields.fields.list())
    if isinstance(fields, Mapping):
        out = {str(tag): str(dt) for tag, dt in fields.items()}
    else:
        try:
            out = {str(f["merge_tag"]): str(f["data_type"]) for f in fields}
        except (KeyError, TypeError):
            raise InputError(
                "fields must be a Client, a list of field dicts with 'merge_tag' and "
                "'data_type' (what client.fields.list() returns), or {merge_tag: data_type}"
            ) from None
    unknown = {tag: dt for tag, dt in out.items() if dt not in DATA_TYPES}
    if unknown:
        raise InputError(f"unknown data_type in fields: {unknown}; known: {list(DATA_TYPES)}")
    return out


def _is_in_flight(err: ValidationError) -> bool:
    return any(_IN_FLIGHT in e.message.lower() for e in err.errors)


def _start(
    client: Client,
    filters: list[dict[str, Any]],
    deadline: float | None,
    bar: Progress,
    rng: random.Random,
) -> ContactExport:
    """Create the export; while another is in flight (422), wait and try again."""

    def attempt() -> ContactExport | None:
        try:
            return client.exports.create(filters)
        except ValidationError as err:
            if not _is_in_flight(err):
                raise
        bar.say("waiting for a previous export of this account to finish")
        # The API does not say which export blocks us or when it ends, so try again.
        return None

    return wait_until(
        attempt,
        waits=delays(BUSY_FIRST_S, factor=POLL_FACTOR, cap=POLL_MAX_S, rng=rng),
        deadline=deadline,
        on_timeout=lambda: ExportTimeoutError(
            "timed out waiting for a previous export of this account to finish "
            "(the API allows one export in flight per account)"
        ),
    )


def _finish(
    client: Client,
    export: ContactExport,
    deadline: float | None,
    bar: Progress,
    rng: random.Random,
) -> ContactExport:
    """Poll until ``finished``; every poll goes through the client's rate budget."""
    latest = [export]  # the newest answer; refreshed after each wait

    def poll() -> ContactExport | None:
        current = latest[0]
        if current["status"] == "finished" and current.get("url"):
            return current
        bar.say(f"export {current['id']}: {current['status']}")
        return None

    def timed_out() -> ExportTimeoutError:
        current = latest[0]
        return ExportTimeoutError(
            f"export {current['id']} did not finish in time (status {current['status']!r}); "
            "it keeps running on the server and blocks new exports until it finishes",
            current["id"],
        )

    def sleep_then_fetch(seconds: float) -> None:
        time.sleep(seconds)
        latest[0] = client.exports.get(latest[0]["id"])

    return wait_until(
        poll,
        waits=delays(POLL_FIRST_S, factor=POLL_FACTOR, cap=POLL_MAX_S, rng=rng),
        sleep=sleep_then_fetch,
        deadline=deadline,
        on_timeout=timed_out,
    )


@overload
def read_export(
    client: Client | None = ...,
    *,
    list_ids: Sequence[int] | None = ...,
    status: Status | None = ...,
    columns: Sequence[str] | None = ...,
    progress: bool = ...,
    timeout: float | None = ...,
    frame: Literal["pandas"] = ...,
) -> pd.DataFrame: ...
@overload
def read_export(
    client: Client | None = ...,
    *,
    list_ids: Sequence[int] | None = ...,
    status: Status | None = ...,
    columns: Sequence[str] | None = ...,
    progress: bool = ...,
    timeout: float | None = ...,
    frame: Literal["arrow"],
) -> pa.Table: ...
@overload
def read_export(
    client: Client | None = ...,
    *,
    list_ids: Sequence[int] | None = ...,
    status: Status | None = ...,
    columns: Sequence[str] | None = ...,
    progress: bool = ...,
    timeout: float | None = ...,
    frame: Frame,
) -> Any: ...
def read_export(
    client: Client | None = None,
    *,
    list_ids: Sequence[int] | None = None,
    status: Status | None = None,
    columns: Sequence[str] | None = None,
    progress: bool = True,
    timeout: float | None = None,
    frame: Frame = "pandas",
) -> Any:
    """Export contacts into a DataFrame typed by the type table.

    Parameters
    ----------
    client : Client, optional
        Defaults to a client built from the environment.
    list_ids : sequence of int, optional
        Only contacts in any of these lists.
    status : {"subscribed", "unsubscribed"}, optional
        Only contacts with this status.
    columns : sequence of str, optional
        Only these columns (built-in names or merge tags), in this order.
    progress : bool
        Show a ``tqdm`` spinner while waiting and downloading.
    timeout : float, optional
        Give up after this many seconds (waiting for a previous export included).
        ``None`` waits as long as it takes.
    frame : {"pandas", "polars", "arrow"}
        The kind of frame returned. ``"arrow"`` is the parser's own
        ``pyarrow.Table`` (no pandas conversion at all); ``"polars"`` a polars
        frame over it (``pip install 'mailtrap-pandas[polars]'``).

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        ``email`` and ``id`` (``string[pyarrow]``), ``status`` (categorical
        subscribed/unsubscribed), ``list_ids`` (list of int64, empty when none),
        ``created_at``/``updated_at`` (``datetime64[ms, UTC]``), then one column
        per custom field in its type-table dtype. Missing values are ``<NA>``.
        In polars: ``String``, ``Enum``, ``List(Int64)``, ``Datetime("ms", "UTC")``,
        ``Int64``, ``Float64``, ``Boolean``, ``Date``; in Arrow the same types
        (``status`` dictionary-encoded).

    Raises
    ------
    ExportTimeoutError
        ``timeout`` passed before the export finished.
    ExportParseError
        A cell of the file does not fit its column's type.
    InputError
        Bad arguments (unknown status or column).
    APIError
        The API refused the export (other than "one in flight", which is waited out).

    Notes
    -----
    The API allows one export in flight per account: when another is running,
    this waits for it (saying so on the progress bar and in the log) instead of
    failing. The file is streamed to a temporary file and deleted after parsing.

    Examples
    --------
    >>> from mailtrap_pandas import Emulator
    >>> with Emulator(rate_limit=None) as emu, emu.client() as client:
    ...     _ = client.contacts.create("ann@example.com")
    ...     df = read_export(client, progress=False)
    >>> df["email"].tolist(), str(df["created_at"].dtype)
    (['ann@example.com'], 'datetime64[ms, UTC]')
    """
    check_frame(frame)
    if status not in (None, "subscribed", "unsubscribed"):
        raise InputError(f"status must be 'subscribed', 'unsubscribed' or None, not {status!r}")
    if isinstance(list_ids, int | str):
        raise InputError("list_ids must be a sequence of list ids, such as [3, 7]")
    if list_ids is not None and len(list_ids) == 0:
        # "members of none of these lists" would be an empty export: surely a mistake.
        raise InputError("list_ids is empty; pass None to export contacts of every list")
    client = ensure_client(client)
    # Fields first: a bad `columns` fails before we start an export that blocks others.
    fields = _field_types(client) or {}
    if columns is not None:
        if isinstance(columns, str):
            raise InputError("columns must be a list of column names, not one string")
        known = [*CONTACT_COLUMNS, *fields]
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise InputError(f"unknown column(s) {unknown}; this account's columns are {known}")
    filters = export_filters(list_ids, status)
    deadline = None if timeout is None else time.monotonic() + timeout
    rng = random.Random()
    with Progress(progress, None, desc="export", spinner=True, logger=log) as bar:
        bar.say("starting export")
        export = _start(client, filters, deadline, bar, rng)
        export = _finish(client, export, deadline, bar, rng)
        bar.say(f"export {export['id']}: downloading")
        with tempfile.TemporaryDirectory(prefix="mailtrap-export-") as tmp:
            path = client.exports.download(export, Path(tmp) / "export.csv.gz")
            bar.say(f"export {export['id']}: parsing {path.stat().st_size:,} bytes")
            return parse_export_file(path, fields, columns=columns, frame=frame)


def _is_url(value: object) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://"))


def _download(url: str, dest: Path, client: Client | None) -> None:
    """Stream ``url`` to ``dest``, through the client's settings when there is one."""
    if client is not None:
        client.download(url, dest)
    else:
        download(url, dest)


@overload
def read_export_file(
    path_or_url: str | os.PathLike[str],
    *,
    fields: FieldsArg = ...,
    columns: Sequence[str] | None = ...,
    frame: Literal["pandas"] = ...,
) -> pd.DataFrame: ...
@overload
def read_export_file(
    path_or_url: str | os.PathLike[str],
    *,
    fields: FieldsArg = ...,
    columns: Sequence[str] | None = ...,
    frame: Literal["arrow"],
) -> pa.Table: ...
@overload
def read_export_file(
    path_or_url: str | os.PathLike[str],
    *,
    fields: FieldsArg = ...,
    columns: Sequence[str] | None = ...,
    frame: Frame,
) -> Any: ...
def read_export_file(
    path_or_url: str | os.PathLike[str],
    *,
    fields: FieldsArg = None,
    columns: Sequence[str] | None = None,
    frame: Frame = "pandas",
) -> Any:
    """Read an export file (for example one downloaded from the web app) into a typed frame.

    Parameters
    ----------
    path_or_url : path-like or str
        A local file, gzip-compressed or plain CSV (sniffed, whatever the suffix),
        or an ``https://`` URL, streamed to a temporary file first.
    fields : Client, list of dict or mapping, optional
        The account's custom fields, to type their columns: a :class:`Client`
        (fields are fetched), what ``client.fields.list()`` returns, or
        ``{merge_tag: data_type}``. Without it, built-in columns are typed and
        every other column is kept as text (``string[pyarrow]``). With it, a
        column that is neither built-in nor a known merge tag is kept as text
        with an :class:`ExportFormatWarning`.
    columns : sequence of str, optional
        Only these columns (built-in names or merge tags), in this order.
    frame : {"pandas", "polars", "arrow"}
        The kind of frame returned, as in :func:`read_export`.

    Returns
    -------
    pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The file's columns under their canonical names (header spelling and case
        do not matter), typed as in :func:`read_export`. Columns the file lacks
        are not invented; only ``email`` is required.

    Raises
    ------
    InputError
        No ``email`` column, an empty or non-CSV file, or unknown ``columns``.
    ExportParseError
        A cell does not fit its column's type; names the line, row and column.

    Examples
    --------
    >>> import gzip, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "contacts.csv.gz"
    >>> _ = path.write_bytes(gzip.compress(b"Email,Zip,Lists\\r\\na@x.io,00501,3;7\\r\\n"))
    >>> df = read_export_file(path, fields={"zip": "text"})
    >>> df.loc[0, "zip"], list(df.loc[0, "list_ids"])
    ('00501', [3, 7])
    """
    check_frame(frame)
    client = fields if isinstance(fields, Client) else None
    types = _field_types(fields)
    if not _is_url(path_or_url):
        path = Path(path_or_url)
        if not path.is_file():
            raise InputError(f"no such export file: {path}")
        return parse_export_file(path, types, columns=columns, frame=frame)
    with tempfile.TemporaryDirectory(prefix="mailtrap-export-") as tmp:
        dest = Path(tmp) / "export.csv.gz"
        _download(str(path_or_url), dest, client)
        return parse_export_file(dest, types, columns=columns, frame=frame)
