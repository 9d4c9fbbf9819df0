"""frames/columns.py: column names as keys, Arrow values back to the type table's pandas dtypes."""

from __future__ import annotations

import pandas as pd
import pytest

from mailtrap_pandas.frames.coerce import coerce
from mailtrap_pandas.frames.columns import column_key, to_pandas
from mailtrap_pandas.frames.dtypes import TYPE_TABLE, field_type


@pytest.mark.parametrize("data_type", list(TYPE_TABLE))
def test_to_pandas_gives_the_type_table_dtype(data_type: str) -> None:
    c = coerce(pd.Series([None], dtype=object), data_type)
    assert to_pandas(c.values, data_type).dtype == field_type(data_type).dtype


@pytest.mark.parametrize(
    ("name", "key"),
    [("First Name", "first_name"), ("first-name", "first_name"), (" FIRST__NAME ", "first_name")]
    + [(3, "3"), ("E-mail", "e_mail"), ("Prénom", "prénom")],
)
def test_column_key(name: object, key: str) -> None:
    assert column_key(name) == key
