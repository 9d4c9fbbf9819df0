"""Remote custom-field definitions -> a pandera ``DataFrameSchema``.

:func:`build_schema` documents an account's fields as a schema users can read,
print or run themselves (``schema.validate(df, lazy=True)``). Each column is
translated from one field definition by :func:`field_column`, with the dtype of
the type table (:mod:`mailtrap_pandas.frames.dtypes`) and a parser that applies the
same lossless coercions as :func:`mailtrap_pandas.frames.validate.validate`.

One pandera limitation: on pandas 3, pandera coerces ``string[pyarrow]`` to
``StringDtype("pyarrow", na_value=nan)`` (pandas' ``str``), so a text column
coming out of ``schema.validate`` holds NaN, not ``<NA>``, for missing values.
:func:`~mailtrap_pandas.frames.validate.validate` returns the type table's dtype.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pandera.pandas as pda

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.coerce import coerce
from mailtrap_pandas.frames.columns import to_pandas
from mailtrap_pandas.frames.dtypes import MAX_TEXT_LENGTH, TYPE_TABLE, field_type
from mailtrap_pandas.frames.emails import EMAIL_PATTERN, normalize_emails
from mailtrap_pandas.modes import Unknown

__all__ = [
    "FieldSpec",
    "build_schema",
    "field_column",
    "fields_from_schema",
    "normalize_fields",
]

METADATA_KEY = "mailtrap_fields"


@dataclass(frozen=True)
class FieldSpec:
    """One custom field: display name, ``data_type`` and merge tag."""

    name: str
    data_type: str
    merge_tag: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "data_type": self.data_type, "merge_tag": self.merge_tag}


def normalize_fields(fields: Sequence[Mapping[str, Any]]) -> list[FieldSpec]:
    """Check field definitions and return them as :class:`FieldSpec` s.

    Raises
    ------
    InputError
        A definition lacks ``merge_tag`` or ``data_type``, names an unknown
        ``data_type``, or repeats a merge tag.
    """
    out: list[FieldSpec] = []
    for f in fields:
        if not isinstance(f, Mapping) or "merge_tag" not in f or "data_type" not in f:
            raise InputError(f"a field definition needs 'merge_tag' and 'data_type', got {f!r}")
        if f["data_type"] not in TYPE_TABLE:
            raise InputError(
                f"field {f['merge_tag']!r} has unknown data_type {f['data_type']!r}; "
                f"known: {list(TYPE_TABLE)}"
            )
        tag = str(f["merge_tag"])
        out.append(FieldSpec(str(f.get("name") or tag), str(f["data_type"]), tag))
    tags = [f.merge_tag for f in out]
    repeated = sorted({t for t in tags if tags.count(t) > 1})
    if repeated:
        raise InputError(f"merge tags repeated in the field definitions: {repeated}")
    if "email" in tags:
        raise InputError("'email' is the built-in contact email, not a custom field merge tag")
    return out


def fields_from_schema(schema: pda.DataFrameSchema) -> list[FieldSpec]:
    """The field definitions a schema was built from (or read from its column dtypes)."""
    meta = (schema.metadata or {}).get(METADATA_KEY)
    if meta is not None:
        return normalize_fields(meta)
    by_dtype = {str(t.dtype): name for name, t in TYPE_TABLE.items()}
    by_dtype.update({t.dtype_name: name for name, t in TYPE_TABLE.items()})
    out = []
    for name, column in schema.columns.items():
        if name == "email":
            continue
        data_type = by_dtype.get(str(column.dtype))
        if data_type is None:
            raise InputError(
                f"schema column {name!r} has dtype {column.dtype}, which is no Mailtrap data_type"
            )
        out.append({"name": str(name), "data_type": data_type, "merge_tag": str(name)})
    return normalize_fields(out)


def _lossless_parser(data_type: str) -> pda.Parser:
    """Coerce what converts without loss; leave the rest as given for pandera to report."""

    def parse(series: pd.Series) -> pd.Series:
        result = coerce(series, data_type)
        typed = pd.Series(to_pandas(result.values, data_type), index=series.index)
        bad = [p.mask for p in result.problems]
        if not bad:
            return typed
        mixed = typed.astype(object)
        for mask in bad:
            mixed[mask] = series[mask].astype(object)
        return mixed

    return pda.Parser(parse, name=f"lossless_{data_type}")


def _email_parser(series: pd.Series) -> pd.Series:
    emails = normalize_emails(series)
    normalized = pd.Series(to_pandas(emails.normalized, "text"), index=series.index)
    return normalized.where(~emails.invalid, series.astype(object))


def field_column(spec: FieldSpec) -> pda.Column:
    """The pandera column of one field: the type table's dtype, nullable, lossless parser."""
    checks = [pda.Check.str_length(max_value=MAX_TEXT_LENGTH)] if spec.data_type == "text" else []
    return pda.Column(
        field_type(spec.data_type).dtype,
        checks=checks,
        parsers=[_lossless_parser(spec.data_type)],
        nullable=True,
        coerce=True,
        required=False,
        title=spec.name,
        description=f"custom field {spec.name!r} ({spec.data_type}), merge tag {spec.merge_tag}",
        metadata={"data_type": spec.data_type, "merge_tag": spec.merge_tag, "name": spec.name},
    )


def _email_syntax(series: pd.Series) -> pd.Series:
    # validate()'s own test, not str_matches(EMAIL_PATTERN): pandas 2.2 hands a
    # string[pyarrow] pattern to Arrow's RE2, which refuses its look-ahead.
    return pd.Series(~normalize_emails(series).invalid, index=series.index)


def email_column() -> pda.Column:
    """The required ``email`` column: trimmed, domain lower-cased, syntax checked, unique."""
    return pda.Column(
        field_type("text").dtype,
        checks=[pda.Check(_email_syntax, name="email_syntax", error=f"matches {EMAIL_PATTERN}")],
        parsers=[pda.Parser(_email_parser, name="normalize_email")],
        nullable=False,
        unique=True,
        coerce=True,
        required=True,
        description="contact email: trimmed, domain lower-cased",
    )


def build_schema(
    fields: Sequence[Mapping[str, Any]],
    *,
    columns: Mapping[Any, str] | None = None,
    unknown: Unknown = "report",
) -> pda.DataFrameSchema:
    """A pandera schema of the account's custom fields.

    Parameters
    ----------
    fields : list of dict
        Field definitions ``{"name", "data_type", "merge_tag"}``.
        :func:`mailtrap_pandas.build_schema` also takes a client and fetches them.
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
        the field definitions, so :func:`~mailtrap_pandas.frames.validate.validate`
        accepts the schema in place of a client.

    Examples
    --------
    >>> schema = build_schema([{"name": "Age", "data_type": "integer", "merge_tag": "age"}])
    >>> list(schema.columns), str(schema.columns["age"].dtype)
    (['email', 'age'], 'Int64')
    """
    if unknown not in ("report", "error", "ignore"):
        raise InputError(f"unknown must be 'report', 'error' or 'ignore', not {unknown!r}")
    specs = normalize_fields(fields)
    names = {tag: col for col, tag in (columns or {}).items()}
    schema_columns: dict[Any, pda.Column] = {names.get("email", "email"): email_column()}
    for spec in specs:
        schema_columns[names.get(spec.merge_tag, spec.merge_tag)] = field_column(spec)
    return pda.DataFrameSchema(
        schema_columns,
        strict=unknown == "error",
        coerce=True,
        name="mailtrap contacts",
        metadata={METADATA_KEY: [s.as_dict() for s in specs]},
    )
