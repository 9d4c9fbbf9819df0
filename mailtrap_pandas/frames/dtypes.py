"""THE type table: Mailtrap ``data_type`` <-> pandas dtype <-> Arrow type <-> JSON.

Used by the schema (what validation coerces to), the encoder (how values are
written into import bodies) and the export reader (how the CSV is typed).
Keep the README's "Types" table in sync: ``tests/unit/test_docs.py`` compares
it with :data:`TYPE_TABLE`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from mailtrap_pandas.limits import MAX_TEXT_LENGTH
from mailtrap_pandas.modes import DataType

__all__ = [
    "ARROW_TO_PANDAS",
    "CONTACT_COLUMNS",
    "DATA_TYPES",
    "MAX_TEXT_LENGTH",
    "TYPE_TABLE",
    "STATUS_DTYPE",
    "FieldType",
    "contact_dtypes",
    "field_type",
    "readme_table",
]


@dataclass(frozen=True)
class FieldType:
    """How one Mailtrap ``data_type`` is held in pandas, in Arrow and on the wire."""

    data_type: DataType
    dtype_name: str  # as printed in the README
    arrow_type: pa.DataType
    json: str  # what the JSON body carries, as printed in the README

    @property
    def dtype(self) -> pd.api.extensions.ExtensionDtype:
        """The pandas dtype of a column of this type in frames we return."""
        return _DTYPES[self.data_type]


# Keep README.md's "Types" table in sync (a test checks it).
TYPE_TABLE: dict[str, FieldType] = {
    "text": FieldType("text", "string[pyarrow]", pa.string(), "string (<= 255 characters)"),
    "integer": FieldType("integer", "Int64", pa.int64(), "integer"),
    "float": FieldType("float", "Float64", pa.float64(), "number (shortest round-trip form)"),
    "boolean": FieldType("boolean", "boolean", pa.bool_(), "true / false"),
    "date": FieldType("date", "date32[pyarrow]", pa.date32(), '"yyyy-mm-dd"'),
}
DATA_TYPES: tuple[str, ...] = tuple(TYPE_TABLE)

_DTYPES: dict[str, pd.api.extensions.ExtensionDtype] = {
    "text": pd.StringDtype("pyarrow"),
    "integer": pd.Int64Dtype(),
    "float": pd.Float64Dtype(),
    "boolean": pd.BooleanDtype(),
    "date": pd.ArrowDtype(pa.date32()),
}

STATUS_DTYPE = pd.CategoricalDtype(["subscribed", "unsubscribed"])

#: Built-in contact attributes and their dtypes in frames we return.
CONTACT_COLUMNS: dict[str, object] = {
    "email": pd.StringDtype("pyarrow"),
    "id": pd.StringDtype("pyarrow"),
    "status": STATUS_DTYPE,
    "list_ids": pd.ArrowDtype(pa.list_(pa.int64())),
    "created_at": pd.DatetimeTZDtype("ms", "UTC"),
    "updated_at": pd.DatetimeTZDtype("ms", "UTC"),
}

#: Arrow type -> pandas dtype of the frames we return: a ``types_mapper`` for ``to_pandas``.
ARROW_TO_PANDAS: dict[pa.DataType, object] = {
    **{row.arrow_type: row.dtype for row in TYPE_TABLE.values()},
    pa.large_string(): pd.StringDtype("pyarrow"),
    pa.list_(pa.int64()): CONTACT_COLUMNS["list_ids"],
}


def field_type(data_type: str) -> FieldType:
    """The table row of ``data_type``; a clear error for an unknown one.

    Examples
    --------
    >>> field_type("integer").dtype
    Int64Dtype()
    """
    try:
        return TYPE_TABLE[data_type]
    except KeyError:
        known = ", ".join(TYPE_TABLE)
        raise ValueError(f"unknown Mailtrap data_type {data_type!r}; known: {known}") from None


def contact_dtypes(fields: dict[str, str]) -> dict[str, object]:
    """Dtypes of a contacts frame: built-in columns, then one per field merge tag.

    Parameters
    ----------
    fields : dict
        merge tag -> data_type.
    """
    out = dict(CONTACT_COLUMNS)
    out.update({tag: field_type(dt).dtype for tag, dt in fields.items()})
    return out


def readme_table() -> str:
    """The Markdown table of :data:`TYPE_TABLE`, as it appears in the README."""
    rows = [
        "| Mailtrap `data_type` | pandas dtype | JSON sent |",
        "|---|---|---|",
    ]
    rows += [f"| {t.data_type} | `{t.dtype_name}` | {t.json} |" for t in TYPE_TABLE.values()]
    return "\n".join(rows)
