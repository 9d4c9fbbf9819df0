"""Date strings as real exports write them: times of day, day/month order, month names."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.coerce import coerce
from mailtrap_pandas.frames.dates import DateOptions, date_options
from mailtrap_pandas.frames.reasons import Reason
from mailtrap_pandas.frames.validate import validate

D = dt.date


def read(values: list[object], **opts: object) -> tuple[list[object], dict[int, Reason]]:
    c = coerce(pd.Series(values, dtype=object), "date", date_options(**opts))  # type: ignore[arg-type]
    reasons = {int(i): p.reason for p in c.problems for i in np.flatnonzero(p.mask)}
    return c.values.to_pylist(), reasons


def test_textual_months_are_unambiguous() -> None:
    values, reasons = read(
        ["01 Nov 2024", "1-Nov-2024", "2 November 2024", "Nov 2, 2024", "November 2, 2024"]
        + ["nov 2 2024", "Sept 3, 2024", "Mar. 4, 2024", "Nov 2nd, 2024"]
    )
    assert reasons == {}
    assert values == [D(2024, 11, 1)] * 2 + [D(2024, 11, 2)] * 4 + [
        D(2024, 9, 3),
        D(2024, 3, 4),
        D(2024, 11, 2),
    ]


def test_unknown_month_names_and_impossible_days_are_invalid() -> None:
    _, reasons = read(["Foo 2, 2024", "31 Feb 2024", "Novembre 2, 2024"])
    assert reasons == {0: Reason.INVALID_DATE, 1: Reason.INVALID_DATE, 2: Reason.INVALID_DATE}


def test_day_month_order_needs_dayfirst() -> None:
    values, reasons = read(["03/04/2024", "13/04/2024", "03.04.2024"])
    assert values == [None] * 3 and set(reasons.values()) == {Reason.INVALID_DATE}
    c = coerce(pd.Series(["03/04/2024"]), "date")
    assert "dayfirst=True" in c.problems[0].message
    assert read(["03/04/2024", "13/04/2024", "3-4-2024"], dayfirst=True)[0] == [
        D(2024, 4, 3),
        D(2024, 4, 13),
        D(2024, 4, 3),
    ]
    values, reasons = read(["03/04/2024", "13/04/2024"], dayfirst=False)
    assert values == [D(2024, 3, 4), None] and reasons == {1: Reason.INVALID_DATE}


def test_truncate_time_keeps_the_date_as_written_in_its_own_offset() -> None:
    stamps = [
        "2024-11-01 13:45:00+02:00",
        "2024-11-01T23:30:00-05:00",  # 2024-11-02 in UTC: the written date wins
        "2024-11-01 13:45",
        "01 Nov 2024 13:45",
        pd.Timestamp("2024-11-01 23:30", tz="America/New_York"),
        dt.datetime(2024, 11, 1, 13, 45),
    ]
    values, reasons = read(stamps)
    assert values == [None] * 6 and set(reasons.values()) == {Reason.NOT_LOSSLESS}
    values, reasons = read(stamps, truncate_time=True)
    assert reasons == {} and values == [D(2024, 11, 1)] * 6
    typed = pd.Series(pd.to_datetime(["2024-11-01 23:30"]).tz_localize("Asia/Tokyo"))
    c = coerce(typed, "date", DateOptions(truncate_time=True))
    assert c.values.to_pylist() == [D(2024, 11, 1)] and not c.problems


def test_the_time_of_day_message_names_truncate_time() -> None:
    c = coerce(pd.Series(["2024-11-01 13:45:00+02:00"]), "date")
    assert c.problems[0].reason == Reason.NOT_LOSSLESS
    assert "truncate_time=True" in c.problems[0].message
    c = coerce(pd.Series([pd.Timestamp("2024-11-01 13:45")]), "date")
    assert "truncate_time=True" in c.problems[0].message


def test_midnight_is_not_a_time_of_day() -> None:
    values, reasons = read(["2024-11-01 00:00:00", "2024-11-01T00:00:00.000+02:00"])
    assert reasons == {} and values == [D(2024, 11, 1)] * 2


def test_date_format() -> None:
    values, reasons = read(
        ["03.04.2024", "2024-04-05", "3 Apr 2024", "04.13.2024", "x"], date_format="%d.%m.%Y"
    )
    assert values == [D(2024, 4, 3), D(2024, 4, 5), D(2024, 4, 3), None, None]
    assert reasons == {3: Reason.INVALID_DATE, 4: Reason.INVALID_DATE}
    values, reasons = read(["04/03/24 13:45 +0200"], date_format="%m/%d/%y %H:%M %z")
    assert values == [None] and reasons == {0: Reason.NOT_LOSSLESS}
    values, _ = read(["04/03/24 13:45 +0200"], date_format="%m/%d/%y %H:%M %z", truncate_time=True)
    assert values == [D(2024, 4, 3)]
    assert read(["Tue, 5 Nov 2024"], date_format="%a, %d %b %Y")[0] == [D(2024, 11, 5)]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"date_format": "%Q-%m"}, "%Q is not supported"),
        ({"date_format": "%m/%Y"}, "a day (%d)"),
        ({"date_format": "%d/%d/%Y"}, "twice"),
        ({"date_format": 5}, "strftime"),
        ({"dayfirst": "yes"}, "dayfirst"),
        ({"truncate_time": 1}, "truncate_time"),
    ],
)
def test_bad_date_options_are_input_errors(kwargs: dict[str, object], words: str) -> None:
    with pytest.raises(InputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        date_options(**kwargs)  # type: ignore[arg-type]
    df = pd.DataFrame({"email": ["a@x.io"]})
    with pytest.raises(InputError):
        validate(df, fields=[], **kwargs)  # type: ignore[arg-type]


def test_validate_applies_the_options_to_date_fields_only() -> None:
    fields = [
        {"name": "Optin time", "data_type": "date", "merge_tag": "optin"},
        {"name": "Note", "data_type": "text", "merge_tag": "note"},
    ]
    df = pd.DataFrame(
        {
            "email": ["a@x.io", "b@x.io"],
            "OPTIN_TIME": ["2024-11-01 13:45:00", "03/04/2024 08:00"],
            "note": ["03/04/2024", "13:45"],
        }
    )
    assert validate(df, fields=fields).n_failed_rows == 2
    r = validate(df, fields=fields, truncate_time=True, dayfirst=True)
    assert r.ok, r.failures
    assert r.valid["optin"].tolist() == [D(2024, 11, 1), D(2024, 4, 3)]
    assert r.valid["note"].tolist() == ["03/04/2024", "13:45"]
