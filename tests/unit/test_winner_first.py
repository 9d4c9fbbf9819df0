"""dedupe picks the winning row before validity; missing emails and reasons alike everywhere."""

from __future__ import annotations

import pandas as pd
import pytest

from mailtrap_pandas.frames.reasons import REASON_DTYPE, Reason, reason_column
from mailtrap_pandas.frames.validate import validate

FIELDS = [{"name": "Rating", "data_type": "integer", "merge_tag": "rating"}]


def test_last_row_invalid_rejects_the_email_and_supersedes_the_older_row() -> None:
    df = pd.DataFrame({"email": ["ann@x.io", "ANN@x.io"], "rating": ["5", "five"]})
    r = validate(df, fields=FIELDS, dedupe="last")
    assert r.valid.empty  # the stale row 0 is never imported in place of row 1
    assert r.failures[["row", "reason"]].values.tolist() == [[1, "wrong_type"]]
    assert r.duplicates.to_dict("records") == [{"row": 0, "email": "ann@x.io", "kept_row": 1}]
    assert r.n_valid + r.n_failed_rows + r.n_duplicates == len(df)


def test_first_is_symmetric() -> None:
    df = pd.DataFrame({"email": ["ann@x.io", "ANN@x.io"], "rating": ["five", "5"]})
    r = validate(df, fields=FIELDS, dedupe="first")
    assert r.valid.empty
    assert r.failures[["row", "reason"]].values.tolist() == [[0, "wrong_type"]]
    assert r.duplicates.to_dict("records") == [{"row": 1, "email": "ANN@x.io", "kept_row": 0}]


@pytest.mark.parametrize("dedupe", ["last", "first"])
def test_a_losing_row_that_fails_stays_a_failure(dedupe: str) -> None:
    # Three rows of one email: the winner passes, a loser fails, another loser passes.
    df = pd.DataFrame(
        {"email": ["a@x.io", "a@x.io", "a@x.io"], "rating": ["1", "x", "3"]}, index=[10, 11, 12]
    )
    r = validate(df, fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    winner, loser = (12, 10) if dedupe == "last" else (10, 12)
    assert r.valid.index.tolist() == [winner]
    assert r.failures["row"].tolist() == [11]
    assert r.duplicates[["row", "kept_row"]].values.tolist() == [[loser, winner]]


def test_missing_emails_are_na_and_reasons_have_one_dtype() -> None:
    df = pd.DataFrame({"email": [None, "nan", "", float("nan"), "bad"], "rating": ["1"] * 5})
    r = validate(df, fields=FIELDS)
    assert r.failures["email"].dtype == "string"
    assert r.failures["email"].isna().tolist() == [True, True, True, True, False]
    assert r.failures["reason"].dtype == REASON_DTYPE
    assert (r.failures["reason"] == Reason.MISSING_EMAIL).sum() == 4
    assert r.failures["reason"].iloc[0] == "missing_email"


def test_reason_column_refuses_free_strings() -> None:
    assert reason_column([Reason.UNCERTAIN, "import_failed", None]).tolist() == [
        "uncertain",
        "import_failed",
        pd.NA,
    ]
    with pytest.raises(ValueError, match="rejected_422"):
        reason_column(["rejected_422"])
