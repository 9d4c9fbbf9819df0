"""Validation against the account's live custom fields: the one place that fetches their
definitions.

:mod:`mailtrap_pandas.frames.schema` and :mod:`mailtrap_pandas.frames.validate` are pure: they take
field definitions. The two public functions here accept a client instead and ask the API
(``GET .../contacts/fields``) only when no definitions were given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mailtrap_pandas.api.client import Client, ensure_client
from mailtrap_pandas.frames import schema as _schema
from mailtrap_pandas.frames import validate as _validate
from mailtrap_pandas.frames.validate import ValidationReport
from mailtrap_pandas.jobs.sources import is_dask_frame
from mailtrap_pandas.modes import Dedupe, Nulls, Unknown

if TYPE_CHECKING:
    import pandera.pandas as pda

__all__ = ["account_fields", "build_schema", "validate"]


def account_fields(client: Client | None = None) -> list[dict[str, Any]]:
    """The account's custom fields, ``[{"id", "name", "data_type", "merge_tag"}]``."""
    return [dict(f) for f in ensure_client(client).fields.list()]


def build_schema(
    fields_or_client: Client | Sequence[Mapping[str, Any]],
    *,
    columns: Mapping[Any, str] | None = None,
    unknown: Unknown = "report",
) -> pda.DataFrameSchema:
    """A pandera schema of the account's custom fields.

    Parameters
    ----------
    fields_or_client : Client or list of dict
        A client (fields are fetched with ``GET .../contacts/fields``) or field
        definitions ``{"name", "data_type", "merge_tag"}``.
    columns : dict, optional
        Frame column -> merge tag: name the schema's columns as the frame does.
    unknown : {"report", "error", "ignore"}
        ``"error"`` makes the schema strict (other columns fail); otherwise
        other columns pass through.

    Returns
    -------
    pandera.pandas.DataFrameSchema
        ``email`` (required, unique, syntax-checked) and one nullable column
        per field, with the dtype of the type table. ``schema.metadata`` keeps
        the field definitions, so :func:`validate` accepts the schema in place of a client.

    Examples
    --------
    >>> schema = build_schema([{"name": "Age", "data_type": "integer", "merge_tag": "age"}])
    >>> list(schema.columns), str(schema.columns["age"].dtype)
    (['email', 'age'], 'Int64')
    """
    if isinstance(fields_or_client, Client):
        fields_or_client = account_fields(fields_or_client)
    return _schema.build_schema(fields_or_client, columns=columns, unknown=unknown)


def validate(
    df: pd.DataFrame,
    client: Client | None = None,
    *,
    fields: Sequence[Mapping[str, Any]] | None = None,
    schema: pda.DataFrameSchema | None = None,
    columns: Mapping[Any, str | None] | None = None,
    dedupe: Dedupe = "last",
    nulls: Nulls = "skip",
    unknown: Unknown = "report",
    truncate_time: bool = False,
    dayfirst: bool | None = None,
    date_format: str | None = None,
) -> ValidationReport:
    """Check every row of a contacts frame against the account's custom fields.

    Parameters
    ----------
    df : pandas.DataFrame or dask.dataframe.DataFrame
        One row per contact, with an email column (``email``, ``Email``,
        ``E-mail``, ``email_address``... or mapped with ``columns=``). A Dask
        frame is validated partition by partition by Dask's scheduler and
        gathered into one report (rows numbered by position across partitions;
        emails repeated across partitions resolved by ``dedupe``).
    client : Client, optional
        Where the field definitions come from (``GET .../contacts/fields``).
        Built from the environment when neither ``client``, ``fields`` nor
        ``schema`` is given.
    fields : list of dict, optional
        Field definitions (``{"name", "data_type", "merge_tag"}``) to use
        instead of asking the API.
    schema : pandera.DataFrameSchema, optional
        A schema from :func:`~mailtrap_pandas.frames.schema.build_schema` (its field
        definitions are used).
    columns : dict, optional
        Frame column -> merge tag (or ``"email"``), for names that do not match;
        ``None`` leaves a column out (listed in ``ignored_columns``, not
        reported as unknown).
    dedupe : {"last", "first", "error"}
        Which row wins when an email occurs more than once (compared
        case-insensitively, after normalization); ``"error"`` fails them all.
    nulls : {"skip", "error"}
        ``"skip"``: a missing value is ``<NA>`` and is left out of the import,
        so a stored value survives. ``"error"``: every missing value of a
        matched column is a failure.
    unknown : {"report", "error", "ignore"}
        Columns that match no field: listed in ``unknown_columns`` with a
        reason in ``unknown_hints`` (all three policies; none is ever sent),
        shown by ``print(report)``; with ``"error"`` also one
        ``UNKNOWN_COLUMN`` failure per column (``row`` None).
    truncate_time : bool
        For date fields: keep the date of a value with a time of day, as
        written in its own offset (``"2024-11-01 13:45:00+02:00"`` is
        2024-11-01), instead of rejecting it as ``not_lossless``.
    dayfirst : bool, optional
        For date fields: read ``03/04/2024`` day first (``True``, 3 April) or
        month first (``False``, 4 March). ``None`` (default) rejects such
        values as ambiguous. Year-first and textual-month forms
        (``2024-04-03``, ``3 Apr 2024``, ``Apr 3, 2024``) never need it.
    date_format : str, optional
        For date fields: a ``strftime`` format (``"%d.%m.%Y"``) tried before
        the built-in forms.

    Returns
    -------
    ValidationReport

    Raises
    ------
    InputError
        The frame cannot be checked at all: no email column, duplicated column
        names, two columns for one field, a bad argument.
    ConfigurationError
        No client could be built from the environment (no token).

    Examples
    --------
    >>> df = pd.DataFrame({"Email": ["a@x.io", "bad"], "age": ["42", "4.5"]})
    >>> age = {"name": "Age", "data_type": "integer", "merge_tag": "age"}
    >>> report = validate(df, fields=[age])
    >>> report.ok, report.n_valid, report.n_failed_rows
    (False, 1, 1)
    >>> report.failures[["row", "column"]].values.tolist()
    [[1, 'Email'], [1, 'age']]
    >>> report.failures["reason"].tolist()
    ['invalid_email', 'not_lossless']
    """
    if not is_dask_frame(df):
        _validate.check_frame(df, "validate")  # before asking for a token
    if fields is None and schema is None:
        fields = account_fields(client)
    options: dict[str, Any] = {
        "fields": fields,
        "schema": schema,
        "columns": columns,
        "dedupe": dedupe,
        "nulls": nulls,
        "unknown": unknown,
        "truncate_time": truncate_time,
        "dayfirst": dayfirst,
        "date_format": date_format,
    }
    if is_dask_frame(df):
        return _validate_dask(df, options)
    return _validate.validate(df, **options)


def _validate_piece(part: pd.DataFrame, options: dict[str, Any]) -> ValidationReport:
    # Labels 0..n-1 within the piece: Dask partitions often repeat each other's index.
    return _validate.validate(part.reset_index(drop=True), **options)


def _validate_dask(ddf: Any, options: dict[str, Any]) -> ValidationReport:
    """Validate each partition where Dask runs it (a cluster included), gather one report.

    The field definitions were fetched once, here; workers never talk to the account.
    Rows are numbered by position across partitions, as in a streamed import.
    """
    from dask.base import compute
    from dask.delayed import delayed

    tasks = [delayed(_validate_piece)(part, options) for part in ddf.to_delayed()]
    reports: tuple[ValidationReport, ...] = compute(*tasks)  # type: ignore[no-untyped-call]
    offsets = np.cumsum([0, *(r.n_rows for r in reports)])[:-1]
    return _validate.gather(list(zip(offsets.tolist(), reports, strict=True)))
