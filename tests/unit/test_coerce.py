"""frames/coerce.py: missing tokens, lossless coercion per data_type, the reasons of a rejection."""

from __future__ import annotations

import datetime as dt
import decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from mailtrap_pandas.frames.coerce import coerce
from mailtrap_pandas.frames.columns import MISSING_TOKENS
from mailtrap_pandas.frames.dtypes import TYPE_TABLE
from mailtrap_pandas.frames.reasons import Reason


def run(values: list[object], data_type: str, dtype: object = object) -> tuple[list, list, dict]:
    """(values, missing positions, {position: reason}) of one coercion."""
    c = coerce(pd.Series(values, dtype=dtype), data_type)
    reasons = {int(i): p.reason for p in c.problems for i in np.flatnonzero(p.mask)}
    return c.values.to_pylist(), np.flatnonzero(c.missing).tolist(), reasons


@pytest.mark.parametrize(
    "token", ["", "  ", "nan", "NaN", "None", "<NA>", "null", "NULL", "N/A", "n/a", "#N/A", "NaT"]
)
@pytest.mark.parametrize("data_type", list(TYPE_TABLE))
def test_missing_tokens_are_missing_in_every_type(token: str, data_type: str) -> None:
    values, missing, reasons = run([token], data_type)
    assert values == [None] and missing == [0] and reasons == {}


def test_na_is_not_a_missing_token() -> None:
    # Namibia's country code, and a common abbreviation, stays text.
    assert "na" not in MISSING_TOKENS
    assert run(["NA"], "text")[0] == ["NA"]


@pytest.mark.parametrize("missing", [None, np.nan, pd.NA, pd.NaT])
@pytest.mark.parametrize("data_type", list(TYPE_TABLE))
def test_missing_objects_are_missing(missing: object, data_type: str) -> None:
    assert run([missing, missing], data_type)[1] == [0, 1]


def test_integer_coercions() -> None:
    values, missing, reasons = run(
        ["42", 42.0, " 42 ", np.int32(7), "4.2e1", "-3", "+5", "42.0"], "integer"
    )
    assert values == [42, 42, 42, 7, 42, -3, 5, 42] and reasons == {} and missing == []
    assert run([1, None], "integer", "Int64")[0] == [1, None]
    assert run([1, 2], "integer", "uint8")[0] == [1, 2]


def test_integer_rejections() -> None:
    bad = ["4.5", 42.5, "1,000", "x", 2**63, "99999999999999999999", True, np.inf, "inf", 1e30]
    values, _, reasons = run(bad, "integer")
    assert values == [None] * len(bad)
    assert reasons == {
        0: Reason.NOT_LOSSLESS,
        1: Reason.NOT_LOSSLESS,
        2: Reason.WRONG_TYPE,
        3: Reason.WRONG_TYPE,
        4: Reason.OUT_OF_RANGE,
        5: Reason.OUT_OF_RANGE,
        6: Reason.WRONG_TYPE,
        7: Reason.NOT_FINITE,
        8: Reason.NOT_FINITE,
        9: Reason.OUT_OF_RANGE,
    }
    assert run([True, False], "integer", bool)[2] == {0: Reason.WRONG_TYPE, 1: Reason.WRONG_TYPE}
    assert run([2**64 - 1], "integer", "uint64")[2] == {0: Reason.OUT_OF_RANGE}


def test_thousands_separator_message_suggests_cleaning() -> None:
    c = coerce(pd.Series(["1,000"]), "integer")
    assert "thousands" in c.problems[0].message and "replace" in c.problems[0].message


def test_float_coercions_and_rejections() -> None:
    values, _, reasons = run(["1.5", 2, " 3e2 ", decimal.Decimal("0.25"), np.float32(0.5)], "float")
    assert values == [1.5, 2.0, 300.0, 0.25, 0.5] and reasons == {}
    _, _, reasons = run([np.inf, -np.inf, "x", "1e999", "-Infinity", True, 2**53 + 1], "float")
    assert reasons == {
        0: Reason.NOT_FINITE,
        1: Reason.NOT_FINITE,
        2: Reason.WRONG_TYPE,
        3: Reason.NOT_FINITE,
        4: Reason.NOT_FINITE,
        5: Reason.WRONG_TYPE,
        6: Reason.NOT_LOSSLESS,
    }
    assert run([1.5, np.nan, np.inf], "float", "float64")[2] == {2: Reason.NOT_FINITE}


def test_boolean_coercions() -> None:
    good = [True, False, "true", "FALSE", " yes ", "No", "y", "n", "T", "f", "1", "0", 1, 0, 1.0]
    values, _, reasons = run(good, "boolean")
    assert reasons == {}
    assert values == [True, False, True, False, True, False, True, False, True, False] + [
        True,
        False,
        True,
        False,
        True,
    ]
    _, _, reasons = run(["maybe", 2, "2", 0.5, dt.date(2024, 1, 1)], "boolean")
    assert reasons == {
        0: Reason.AMBIGUOUS_BOOLEAN,
        1: Reason.AMBIGUOUS_BOOLEAN,
        2: Reason.AMBIGUOUS_BOOLEAN,
        3: Reason.AMBIGUOUS_BOOLEAN,
        4: Reason.WRONG_TYPE,
    }


def test_date_coercions() -> None:
    day = dt.date(2024, 3, 1)
    good = [
        "2024-03-01",
        "2024/03/01",
        "2024.3.1",
        "20240301",
        "2024-03-01T00:00:00",
        "2024-03-01 00:00:00.000Z",
        day,
        dt.datetime(2024, 3, 1),
        pd.Timestamp("2024-03-01"),
        pd.Timestamp("2024-03-01", tz="Europe/Paris"),
        np.datetime64("2024-03-01"),
    ]
    values, _, reasons = run(good, "date")
    assert reasons == {} and values == [day] * len(good)
    assert run([day], "date", pd.ArrowDtype(pa.date32()))[0] == [day]
    assert run(["2024-03-01"], "date", pd.ArrowDtype(pa.string()))[0] == [day]


def test_date_rejections() -> None:
    bad = ["01/02/03", "03/01/2024", "2024-02-30", "0000-01-01", "Mars 1, 2024", 20240301]
    bad += ["2024-03-01 10:30", pd.Timestamp("2024-03-01 10:30"), True]
    _, _, reasons = run(bad, "date")
    assert reasons == {
        0: Reason.INVALID_DATE,
        1: Reason.INVALID_DATE,
        2: Reason.INVALID_DATE,
        3: Reason.INVALID_DATE,
        4: Reason.INVALID_DATE,
        5: Reason.WRONG_TYPE,
        6: Reason.NOT_LOSSLESS,
        7: Reason.NOT_LOSSLESS,
        8: Reason.WRONG_TYPE,
    }
    assert "yyyy-mm-dd" in coerce(pd.Series(["01/02/03"]), "date").problems[0].message


def test_datetime64_columns_to_dates() -> None:
    s = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-02 00:00", None], format="ISO8601"))
    assert coerce(s, "date").values.to_pylist() == [dt.date(2024, 1, 1), dt.date(2024, 1, 2), None]
    aware = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 05:00"])).dt.tz_localize(
        "America/New_York"
    )
    c = coerce(aware, "date")  # local midnight is that date, whatever UTC says
    assert c.values.to_pylist() == [dt.date(2024, 1, 1), None]
    assert c.problems[0].reason is Reason.NOT_LOSSLESS


def test_text_coercions() -> None:
    values, missing, reasons = run(["  keep spaces ", 501, np.int64(7), "é" * 255], "text")
    assert values == ["  keep spaces ", "501", "7", "é" * 255] and reasons == {}
    _, _, reasons = run(["x" * 256, 501.0, True, dt.date(2024, 1, 1), [1]], "text")
    assert reasons == {
        0: Reason.TEXT_TOO_LONG,
        1: Reason.WRONG_TYPE,
        2: Reason.WRONG_TYPE,
        3: Reason.WRONG_TYPE,
        4: Reason.WRONG_TYPE,
    }
    assert run([1, 2], "text", "int64")[0] == ["1", "2"]
    assert "astype" in coerce(pd.Series([501.0]), "text").problems[0].message


@pytest.mark.parametrize(
    "dtype", ["category", "string[pyarrow]", "string[python]", "str", pd.ArrowDtype(pa.string())]
)
def test_string_like_dtypes(dtype: object) -> None:
    assert run(["42", None, "x"], "integer", dtype)[2] == {2: Reason.WRONG_TYPE}


def test_categorical_of_numbers_and_arrow_numbers() -> None:
    assert run([1, 2, None], "integer", "category")[0] == [1, 2, None]
    assert run([1.0, None], "integer", pd.ArrowDtype(pa.float64()))[0] == [1, None]
    assert run([True, None], "boolean", "boolean")[0] == [True, None]


def test_empty_and_all_missing_columns() -> None:
    for data_type in TYPE_TABLE:
        assert run([], data_type)[0] == []
        assert run([None, None], data_type)[1] == [0, 1]
