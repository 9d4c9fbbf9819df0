"""THE type table: each data_type's dtypes, the clear error for an unknown one, the README table."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from mailtrap_pandas.frames.dtypes import (
    CONTACT_COLUMNS,
    TYPE_TABLE,
    contact_dtypes,
    field_type,
    readme_table,
)


@pytest.mark.parametrize(
    ("data_type", "dtype"),
    [
        ("text", pd.StringDtype("pyarrow")),
        ("integer", pd.Int64Dtype()),
        ("float", pd.Float64Dtype()),
        ("boolean", pd.BooleanDtype()),
        ("date", pd.ArrowDtype(pa.date32())),
    ],
)
def test_each_data_type_has_its_pandas_dtype(data_type: str, dtype: object) -> None:
    row = field_type(data_type)
    assert row.data_type == data_type
    assert row.dtype == dtype


def test_an_unknown_data_type_names_itself_and_the_known_ones() -> None:
    with pytest.raises(ValueError) as info:
        field_type("money")
    assert str(info.value) == (
        "unknown Mailtrap data_type 'money'; known: text, integer, float, boolean, date"
    )
    # `from None`: the KeyError of the table lookup is noise in the user's traceback.
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_contact_dtypes_are_the_built_in_columns_then_the_fields_in_order() -> None:
    out = contact_dtypes({"zip": "text", "age": "integer"})
    assert list(out) == [*CONTACT_COLUMNS, "zip", "age"]
    assert out["zip"] == pd.StringDtype("pyarrow") and out["age"] == pd.Int64Dtype()
    assert {k: out[k] for k in CONTACT_COLUMNS} == CONTACT_COLUMNS
    with pytest.raises(ValueError, match="'money'"):
        contact_dtypes({"price": "money"})


def test_readme_table_is_a_header_a_rule_and_one_row_per_type() -> None:
    lines = readme_table().split("\n")
    assert lines[:2] == ["| Mailtrap `data_type` | pandas dtype | JSON sent |", "|---|---|---|"]
    assert lines[2] == "| text | `string[pyarrow]` | string (<= 255 characters) |"
    assert len(lines) == 2 + len(TYPE_TABLE)
