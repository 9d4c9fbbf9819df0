"""build_schema(): a real pandera schema of the account's fields, from a list or a client."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
import pytest

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.dtypes import TYPE_TABLE, field_type
from mailtrap_pandas.frames.schema import build_schema, fields_from_schema
from mailtrap_pandas.jobs.validation import validate

FIELDS = [
    {"id": 1, "name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"id": 2, "name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"id": 3, "name": "Score", "data_type": "float", "merge_tag": "score"},
    {"id": 4, "name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"id": 5, "name": "Born", "data_type": "date", "merge_tag": "born"},
]


def test_one_nullable_column_per_field_with_the_type_table_dtype() -> None:
    schema = build_schema(FIELDS)
    assert isinstance(schema, pa.DataFrameSchema)
    assert list(schema.columns) == ["email", "first_name", "age", "score", "vip", "born"]
    for f in FIELDS:
        column = schema.columns[f["merge_tag"]]
        assert column.nullable and column.coerce and not column.required
        # pandera spells string[pyarrow] as pandas 3's "str" (na_value=nan); same storage.
        assert str(column.dtype) == str(pa.Column(field_type(f["data_type"]).dtype).dtype)
        assert column.title == f["name"] and column.metadata["data_type"] == f["data_type"]
    email = schema.columns["email"]
    assert email.required and email.unique and not email.nullable
    assert not schema.strict and build_schema(FIELDS, unknown="error").strict


def test_schema_validates_and_coerces_losslessly() -> None:
    df = pd.DataFrame(
        {
            "email": [" Ann@Example.COM", "b@x.io"],
            "first_name": ["Ann", None],
            "age": ["42", 7.0],
            "score": ["1.5", None],
            "vip": ["yes", "0"],
            "born": ["2024-03-01", "2024/01/02"],
        }
    )
    out = build_schema(FIELDS).validate(df)
    assert out["email"].tolist() == ["Ann@example.com", "b@x.io"]
    for f in FIELDS[1:]:
        assert out[f["merge_tag"]].dtype == field_type(f["data_type"]).dtype
    assert out["first_name"].dtype.storage == "pyarrow"  # pandera's str: see schema.py
    assert out["age"].tolist() == [42, 7]


def test_schema_reports_what_validate_rejects() -> None:
    df = pd.DataFrame(
        {
            "email": ["a@x.io", "bad"],
            "first_name": ["x" * 256, "ok"],
            "age": ["4.5", "1"],
            "vip": ["maybe", "y"],
            "born": ["01/02/03", "2024-01-01"],
        }
    )
    with pytest.raises(pa.errors.SchemaErrors) as info:
        build_schema(FIELDS).validate(df, lazy=True)
    cases = info.value.failure_cases
    failed = set(zip(cases["column"], cases["index"], strict=True))
    assert {("email", 1), ("first_name", 0), ("age", 0), ("vip", 0), ("born", 0)} <= failed


def test_columns_renames_schema_columns() -> None:
    schema = build_schema(FIELDS, columns={"First Name": "first_name", "Mail": "email"})
    assert "First Name" in schema.columns and "Mail" in schema.columns


def test_validate_accepts_the_schema_in_place_of_a_client() -> None:
    schema = build_schema(FIELDS)
    assert [f.as_dict() for f in fields_from_schema(schema)] == [
        {k: f[k] for k in ("name", "data_type", "merge_tag")} for f in FIELDS
    ]
    r = validate(pd.DataFrame({"email": ["a@x.io"], "age": ["3"]}), schema=schema)
    assert r.ok and r.fields == {"age": "integer"}
    with pytest.raises(InputError, match="not both"):
        validate(pd.DataFrame({"email": ["a@x.io"]}), schema=schema, fields=FIELDS)


def test_hand_written_schema_is_read_by_dtype() -> None:
    schema = pa.DataFrameSchema({n: pa.Column(t.dtype) for n, t in TYPE_TABLE.items()})
    assert {f.merge_tag: f.data_type for f in fields_from_schema(schema)} == {
        n: n for n in TYPE_TABLE
    }
    with pytest.raises(InputError, match="no Mailtrap data_type"):
        fields_from_schema(pa.DataFrameSchema({"x": pa.Column("int8")}))


def test_bad_definitions() -> None:
    with pytest.raises(InputError, match="repeated"):
        build_schema(FIELDS + FIELDS[:1])
    with pytest.raises(InputError, match="built-in"):
        build_schema([{"name": "E", "data_type": "text", "merge_tag": "email"}])
    with pytest.raises(InputError, match="unknown must be"):
        build_schema(FIELDS, unknown="nope")  # type: ignore[arg-type]
