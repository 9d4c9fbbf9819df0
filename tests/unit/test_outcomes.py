"""The record of an import's rows that were not imported: one dict per problem, plain values."""

from __future__ import annotations

import enum

import numpy as np
import pandas as pd
import pytest

from mailtrap_pandas.frames.reasons import Reason
from mailtrap_pandas.jobs.imports.outcomes import Outcomes, email_text


@pytest.mark.parametrize("missing", [None, pd.NA, float("nan"), np.nan, "", "  \t"])
def test_a_missing_email_is_none_never_nan_or_blank(missing: object) -> None:
    assert email_text(missing) is None


@pytest.mark.parametrize(
    ("value", "text"),
    [("a@x.io", "a@x.io"), (" a@x.io ", " a@x.io "), (12, "12"), (1.5, "1.5")],
)
def test_an_email_is_kept_as_given(value: object, text: str) -> None:
    assert email_text(value) == text


def test_reject_records_one_row_of_plain_values() -> None:
    out = Outcomes()
    out.reject(7, float("nan"), "local", None, Reason.INVALID_EMAIL, Reason.WRONG_TYPE)
    out.reject("r", "b@x.io", "server", "fields", "server_rejected", 404)
    assert out.rejected == [
        {
            "row": 7,
            "email": None,
            "stage": "local",
            "column": "",
            "reason": "invalid_email",
            "message": "wrong_type",  # an Enum gives its value, not "Reason.WRONG_TYPE"
        },
        {
            "row": "r",
            "email": "b@x.io",
            "stage": "server",
            "column": "fields",
            "reason": "server_rejected",
            "message": "404",
        },
    ]
    assert type(out.rejected[0]["message"]) is str and type(out.rejected[0]["reason"]) is str


def test_any_enum_gives_its_value_not_its_name() -> None:
    class Where(enum.Enum):  # not a str subclass: str() of it would be "Where.HERE"
        HERE = "here"

    out = Outcomes()
    out.reject(0, "a@x.io", "local", Where.HERE, "wrong_type", Where.HERE)
    assert (out.rejected[0]["column"], out.rejected[0]["message"]) == ("here", "here")


def test_reject_refuses_a_reason_outside_the_family() -> None:
    with pytest.raises(ValueError, match="no_such_reason"):
        Outcomes().reject(0, "a@x.io", "local", "email", "no_such_reason", "m")


def test_reject_rows_gives_every_row_of_a_chunk_the_same_server_problem() -> None:
    out = Outcomes()
    index = pd.Index([3, 5])
    emails = pd.Series(["a@x.io", None], index=index)
    out.reject_rows(index, emails, "", Reason.SUBMIT_FAILED, "HTTP 500")
    assert {key: [r[key] for r in out.rejected] for key in out.rejected[0]} == {
        "row": [3, 5],
        "email": ["a@x.io", None],
        "stage": ["server", "server"],
        "column": ["", ""],
        "reason": ["submit_failed", "submit_failed"],
        "message": ["HTTP 500", "HTTP 500"],
    }
    with pytest.raises(ValueError):  # a label without its email is a bug, not a short record
        out.reject_rows(pd.Index([1, 2]), pd.Series(["a@x.io"]), "", "submit_failed", "m")


def test_a_new_record_is_empty_and_its_own() -> None:
    one, two = Outcomes(), Outcomes()
    one.reject(0, "a@x.io", "local", "email", "invalid_email", "m")
    one.duplicates.append(pd.DataFrame())
    assert two.rejected == [] and two.duplicates == [] and two.skipped == []
    assert two.retry_rows == [] and two.not_sent is None
