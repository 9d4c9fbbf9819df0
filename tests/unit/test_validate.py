"""validate() and ValidationReport with field lists (no server)."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mailtrap_pandas.errors import ConfigurationError, InputError
from mailtrap_pandas.frames.dtypes import field_type
from mailtrap_pandas.frames.validate import FAILURE_COLUMNS, Reason, ValidationReport
from mailtrap_pandas.jobs.validation import validate

FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]


def check_invariants(df: pd.DataFrame, r: ValidationReport) -> None:
    assert list(r.failures.columns) == FAILURE_COLUMNS
    assert r.n_valid + r.n_failed_rows + r.n_duplicates == len(df) == r.n_rows
    labels = set(df.index)
    assert {x for x in r.failures["row"] if x is not None} <= labels
    assert set(r.valid.index) <= labels
    failed = {x for x in r.failures["row"] if x is not None}
    assert not failed & set(r.valid.index)
    assert len(failed) == r.n_failed_rows
    assert r.valid.columns[0] == "email"
    assert r.valid["email"].dtype == field_type("text").dtype
    for tag, data_type in r.fields.items():
        assert r.valid[tag].dtype == field_type(data_type).dtype


def reasons(r: ValidationReport) -> list[tuple[object, object, Reason]]:
    return list(zip(r.failures["row"], r.failures["column"], r.failures["reason"], strict=True))


def test_every_data_type_valid_and_typed() -> None:
    df = pd.DataFrame(
        {
            "email": [" Ann@Example.COM ", "bob@x.io"],
            "first_name": ["Ann", None],
            "age": ["42", 7.0],
            "score": ["1.5", None],
            "vip": ["yes", 0],
            "born": ["2024-03-01", dt.date(2020, 1, 2)],
        },
        index=[10, 20],
    )
    r = validate(df, fields=FIELDS)
    check_invariants(df, r)
    assert r.ok and repr(r).startswith("<ValidationReport ok: 2 rows, 2 valid")
    assert r.valid["email"].tolist() == ["Ann@example.com", "bob@x.io"]
    assert r.valid.loc[10, "age"] == 42 and r.valid.loc[20, "vip"] is np.False_
    assert r.valid.loc[20, "first_name"] is pd.NA and r.valid.loc[20, "score"] is pd.NA
    assert r.valid.loc[10, "born"] == dt.date(2024, 3, 1)
    assert list(r.valid.columns) == ["email", "first_name", "age", "score", "vip", "born"]
    r.raise_for_failures()  # nothing to raise


def test_every_row_reason_at_once() -> None:
    df = pd.DataFrame(
        {
            "email": ["a@x.io", None, "bad", "c@x.io", "d@x.io"],
            "first_name": ["x" * 256, "ok", "ok", "ok", "ok"],
            "age": ["4.5", "x", 1, 2**63, "1"],
            "score": [np.inf, 1, 1, 1, 1],
            "vip": ["maybe", True, True, True, True],
            "born": ["01/02/03", "2024-01-01 10:00", "2024-01-01", "2024-01-01", "2024-01-01"],
        },
        index=list("abcde"),
    )
    r = validate(df, fields=FIELDS)
    check_invariants(df, r)
    assert not r.ok and r.n_failed_rows == 4 and r.valid.index.tolist() == ["e"]
    assert reasons(r) == [
        ("a", "first_name", Reason.TEXT_TOO_LONG),
        ("a", "age", Reason.NOT_LOSSLESS),
        ("a", "score", Reason.NOT_FINITE),
        ("a", "vip", Reason.AMBIGUOUS_BOOLEAN),
        ("a", "born", Reason.INVALID_DATE),
        ("b", "email", Reason.MISSING_EMAIL),
        ("b", "age", Reason.WRONG_TYPE),
        ("b", "born", Reason.NOT_LOSSLESS),
        ("c", "email", Reason.INVALID_EMAIL),
        ("d", "age", Reason.OUT_OF_RANGE),
    ]
    assert r.failures.loc[8, "email"] == "bad" and r.failures.loc[8, "value"] == "bad"
    assert r.failures.loc[1, "email"] == "a@x.io" and r.failures.loc[1, "value"] == "4.5"
    assert all(isinstance(m, str) and m for m in r.failures["message"])
    with pytest.raises(InputError, match=r"10 validation failures in 4 rows: row 'a', column"):
        r.raise_for_failures()


def test_missing_values_never_become_strings() -> None:
    tokens = [None, np.nan, pd.NA, "", "  ", "nan", "NaN", "None", "<NA>", "null", "N/A"]
    df = pd.DataFrame(
        {"email": [f"u{i}@x.io" for i in range(len(tokens))], "first_name": tokens},
    )
    r = validate(df, fields=FIELDS)
    assert r.ok and r.valid["first_name"].isna().all()
    as_json = r.valid.to_json(orient="records")
    for text in ('"nan"', '"None"', '"<NA>"', '"null"', '"NaN"'):
        assert text not in as_json
    assert all(rec["first_name"] is None for rec in json.loads(as_json))


def test_nulls_error_reports_each_missing_value_but_not_absent_columns() -> None:
    df = pd.DataFrame({"email": ["a@x.io", "b@x.io"], "age": [None, 1], "vip": ["", True]})
    r = validate(df, fields=FIELDS, nulls="error")
    assert reasons(r) == [(0, "age", Reason.MISSING_VALUE), (0, "vip", Reason.MISSING_VALUE)]
    assert r.nulls == "error" and "first_name" not in r.valid.columns
    assert validate(df, fields=FIELDS, nulls="skip").ok


@pytest.mark.parametrize(("dedupe", "kept"), [("last", [2, 3]), ("first", [0, 3])])
def test_dedupe_first_last(dedupe: str, kept: list[int]) -> None:
    df = pd.DataFrame({"email": ["a@x.io", "bad", " A@X.IO", "b@x.io"]})
    r = validate(df, fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    check_invariants(df, r)
    assert r.valid.index.tolist() == kept and r.n_duplicates == 1 and r.dedupe == dedupe
    assert r.duplicates.to_dict("records") == [
        {
            "row": 0 if dedupe == "last" else 2,
            "email": r.duplicates["email"][0],
            "kept_row": kept[0],
        }
    ]
    assert r.failures["reason"].tolist() == [Reason.INVALID_EMAIL]


@pytest.mark.parametrize("length", [31, 32, 33, 70])
def test_dedupe_finds_a_repeat_of_any_length(length: int) -> None:
    # Keys of up to 32 bytes are first compared by a hash of their padded bytes, longer
    # ones apart: a repeat is found on either side of the boundary, also between
    # emails that differ only past the 32nd byte or by their length.
    base = "a" * 10 + "@" + "d" * (length - 14) + ".io"
    near = ["b" + base[1:], base[:-4] + "e.io", "a" + base]
    df = pd.DataFrame({"email": [base, *near, base.upper(), "short@x.io"]})
    r = validate(df, fields=FIELDS)
    check_invariants(df, r)
    assert r.valid.index.tolist() == [1, 2, 3, 4, 5]
    assert r.duplicates.to_dict("records") == [{"row": 0, "email": base, "kept_row": 4}]


def test_keys_equal_once_padded_are_left_to_the_exact_path() -> None:
    from mailtrap_pandas.frames.validate import _surely_distinct

    assert _surely_distinct(pa.array(["a@x.io", "b@x.io", "a" * 40, "b" * 40]))
    assert not _surely_distinct(pa.array(["a", "a\0"]))  # same 32 padded bytes
    assert not _surely_distinct(pa.array(["a" * 40, "b", "a" * 40]))
    assert not _surely_distinct(pa.array(["a", None, "b"]))


def test_dedupe_error_fails_every_occurrence_and_ignores_failed_rows() -> None:
    df = pd.DataFrame({"email": ["a@x.io", "A@x.io", "c@x.io", "c@x.io"], "age": [1, 2, 3, "x"]})
    r = validate(df, fields=FIELDS, dedupe="error")
    check_invariants(df, r)
    assert reasons(r) == [
        (0, "email", Reason.DUPLICATE_EMAIL),
        (1, "email", Reason.DUPLICATE_EMAIL),
        (3, "age", Reason.WRONG_TYPE),
    ]
    assert r.valid.index.tolist() == [2]  # row 3 failed, so c@x.io is not a duplicate
    assert r.duplicates["row"].tolist() == [0, 1] and r.duplicates["kept_row"].isna().all()


def test_unknown_columns_policies() -> None:
    df = pd.DataFrame({"email": ["a@x.io"], "notes": ["x"], 7: [1]})
    for policy in ("report", "ignore"):
        r = validate(df, fields=FIELDS, unknown=policy)  # type: ignore[arg-type]
        assert r.ok and r.unknown_columns == ["notes", 7] and "notes" not in r.valid
    r = validate(df, fields=FIELDS, unknown="error")
    check_invariants(df, r)
    assert reasons(r) == [(None, "notes", Reason.UNKNOWN_COLUMN), (None, 7, Reason.UNKNOWN_COLUMN)]
    assert r.n_failed_rows == 0 and r.n_valid == 1 and not r.ok


def test_column_matching_by_case_space_punctuation_and_display_name() -> None:
    df = pd.DataFrame(
        {"E-mail": ["a@x.io"], "First Name": ["Ann"], "AGE": [3], "Vip!": [1], "BORN ": [None]}
    )
    r = validate(df, fields=FIELDS)
    assert r.column_map == {
        "E-mail": "email",
        "First Name": "first_name",
        "AGE": "age",
        "Vip!": "vip",
        "BORN ": "born",
    }
    assert r.fields == {
        "first_name": "text",
        "age": "integer",
        "vip": "boolean",
        "born": "date",
    }
    assert r.valid.columns.tolist() == ["email", "first_name", "age", "vip", "born"]


def test_explicit_column_map() -> None:
    df = pd.DataFrame({"Mail": ["a@x.io"], "Given": ["Ann"], "first_name": ["dup?"]})
    r = validate(df, fields=FIELDS, columns={"Mail": "email", "Given": "first_name"})
    assert r.column_map == {"Mail": "email", "Given": "first_name"}
    assert r.valid.loc[0, "first_name"] == "Ann" and r.unknown_columns == ["first_name"]
    with pytest.raises(InputError, match="not a field merge tag"):
        validate(df, fields=FIELDS, columns={"Mail": "email", "Given": "nope"})
    with pytest.raises(InputError, match="not a column of the frame"):
        validate(df, fields=FIELDS, columns={"Nope": "email"})


def test_two_columns_for_one_field_is_an_input_error() -> None:
    df = pd.DataFrame({"email": ["a@x.io"], "First Name": ["A"], "first_name": ["B"]})
    with pytest.raises(InputError, match="all match 'first_name'"):
        validate(df, fields=FIELDS)


def test_no_email_column_names_the_columns() -> None:
    with pytest.raises(InputError, match=r"no email column; the frame has \['name', 0\]"):
        validate(pd.DataFrame({"name": ["a"], 0: [1]}), fields=FIELDS)


def test_duplicated_column_names() -> None:
    df = pd.DataFrame([["a@x.io", 1, 2]], columns=["email", "age", "age"])
    with pytest.raises(InputError, match=r"duplicated column names \['age'\]"):
        validate(df, fields=FIELDS)


def test_bad_arguments() -> None:
    df = pd.DataFrame({"email": ["a@x.io"]})
    with pytest.raises(InputError, match="dedupe"):
        validate(df, fields=FIELDS, dedupe="middle")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="nulls"):
        validate(df, fields=FIELDS, nulls="drop")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown"):
        validate(df, fields=FIELDS, unknown="x")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="DataFrame"):
        validate([1, 2], fields=FIELDS)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown data_type"):
        validate(df, fields=[{"name": "x", "data_type": "list", "merge_tag": "x"}])
    with pytest.raises(InputError, match="needs 'merge_tag'"):
        validate(df, fields=[{"name": "x"}])


def test_no_client_and_no_token_says_how_to_set_one() -> None:
    with pytest.raises(ConfigurationError, match="MAILTRAP_API_TOKEN"):
        validate(pd.DataFrame({"email": ["a@x.io"]}))


def test_empty_frame_and_one_column() -> None:
    empty = pd.DataFrame({"email": pd.Series([], dtype=object), "age": pd.Series([], dtype=object)})
    r = validate(empty, fields=FIELDS)
    check_invariants(empty, r)
    assert r.ok and r.n_rows == 0 and r.valid.columns.tolist() == ["email", "age"]
    one = pd.DataFrame({"email": ["a@x.io", "b"]})
    r = validate(one, fields=FIELDS)
    check_invariants(one, r)
    assert r.valid.columns.tolist() == ["email"] and r.n_failed_rows == 1
    assert validate(pd.DataFrame({"email": []}), fields=[]).ok


def test_multiindex_rows_are_reported_as_tuples() -> None:
    idx = pd.MultiIndex.from_tuples([("x", 1), ("x", 2), ("y", 1)], names=["k", "n"])
    df = pd.DataFrame({"email": ["a@x.io", "bad", "a@x.io"], "age": [1, 2, 3]}, index=idx)
    r = validate(df, fields=FIELDS)
    check_invariants(df, r)
    assert r.failures["row"].tolist() == [("x", 2)]
    assert r.valid.index.tolist() == [("y", 1)] and r.valid.index.names == ["k", "n"]
    assert r.duplicates.to_dict("records") == [
        {"row": ("x", 1), "email": "a@x.io", "kept_row": ("y", 1)}
    ]


def test_categorical_arrow_and_mixed_object_columns() -> None:
    df = pd.DataFrame(
        {
            "email": pd.Series(["a@x.io", "b@x.io", "c@x.io"], dtype="category"),
            "first_name": pd.Series(["A", None, "C"], dtype=pd.ArrowDtype(pa.string())),
            "age": pd.Series([1, None, 3], dtype=pd.ArrowDtype(pa.int64())),
            "score": pd.Series(["1", 2, 3.5], dtype=object),
            "vip": pd.Series(["yes", None, "no"], dtype="category"),
            "born": pd.Series([dt.date(2024, 1, 1), None, dt.date(2024, 1, 3)], dtype=object),
        }
    )
    r = validate(df, fields=FIELDS)
    check_invariants(df, r)
    assert r.ok and r.valid["score"].tolist() == [1.0, 2.0, 3.5]
    assert r.valid["vip"].tolist() == [True, pd.NA, False]


def test_non_string_column_names() -> None:
    df = pd.DataFrame({"email": ["a@x.io"], 0: [1], 1.5: ["x"]})
    r = validate(df, fields=FIELDS)
    assert r.unknown_columns == [0, 1.5]
    r = validate(df, fields=FIELDS, columns={0: "age"})
    assert r.valid["age"].tolist() == [1]


def test_html_repr_shows_counts_failures_and_map() -> None:
    df = pd.DataFrame({"email": [f"bad{i}" for i in range(30)], "note": 1})
    r = validate(df, fields=FIELDS)
    page = r._repr_html_()
    assert "30 failed" in page and "first 20 of 30 failures" in page
    assert page.count("<tr>") >= 21 and "note" in page and "invalid_email" in page
