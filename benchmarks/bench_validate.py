"""Validate 1,000,000 rows x 8 fields: ours vs plain pandera, one process.

Run: ``.venv/bin/python -m benchmarks.bench_validate`` (or ``make bench``).

The baseline is what an analyst writes by hand: an equivalent
``DataFrameSchema`` (the type table's dtypes, ``coerce=True``, nullable
columns, text <= 255, a unique email matching a regex) run with
``schema.validate(df, lazy=True)``, catching ``SchemaErrors``. Both see the
same frame: object strings for numbers and dates, some missing values and a
few bad values. Target (issue 3): ours <= 1.5x pandera's time.
"""

from __future__ import annotations

import gc
import time
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pda

from mailtrap_pandas.frames.dtypes import MAX_TEXT_LENGTH, field_type
from mailtrap_pandas.jobs.validation import validate

FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Company", "data_type": "text", "merge_tag": "company"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Visits", "data_type": "integer", "merge_tag": "visits"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Signup", "data_type": "date", "merge_tag": "signup"},
    {"name": "Renewal", "data_type": "date", "merge_tag": "renewal"},
]


def make_frame(n_rows: int, seed: int = 0, *, clean: bool = False) -> pd.DataFrame:
    """Input as it arrives from a CSV or a spreadsheet: mixed dtypes, holes, a few bad values.

    ``clean=True`` leaves out the bad values and gives the date columns as
    ``datetime64`` at midnight, the only form plain pandera can coerce to
    ``date32``: a frame both validators accept, for a like-for-like timing.
    """
    rng = np.random.default_rng(seed)

    def holes(values: Any) -> Any:
        out = pd.Series(values, dtype=object)
        out[rng.random(n_rows) < 0.05] = None
        return out

    def spoil(series: pd.Series, bad: object, count: int = 10) -> pd.Series:
        if clean:
            return series
        series.iloc[rng.choice(n_rows, count, replace=False)] = bad
        return series

    names = np.array(["Ann", "Bob", "Zoë", "Łukasz", "Mary-Jane", "O'Neil", "李", "Joe"])
    days = rng.integers(0, 20_000, n_rows)
    dates = (np.datetime64("1970-01-01") + days).astype(str)
    emails = pd.Series([f"user{i}@Example.com" for i in range(n_rows)], dtype=object)
    return pd.DataFrame(
        {
            "email": spoil(emails, "not-an-email"),
            "first_name": holes(names[rng.integers(0, len(names), n_rows)]),
            "company": holes(np.char.add("Company ", rng.integers(0, 10**6, n_rows).astype(str))),
            "age": spoil(holes(rng.integers(18, 90, n_rows).astype(str)), "4.5"),
            "visits": pd.array(rng.integers(0, 1000, n_rows), dtype="Int64"),
            "score": spoil(holes(rng.random(n_rows).round(3).astype(str)), "n/a?"),
            "vip": spoil(holes(rng.random(n_rows) < 0.5), "maybe"),
            "signup": pd.Series(pd.to_datetime(dates))
            if clean
            else spoil(holes(dates), "31/12/2020"),
            "renewal": pd.Series(pd.to_datetime(dates)).where(rng.random(n_rows) > 0.05),
        }
    )


def pandera_schema() -> pda.DataFrameSchema:
    """The equivalent schema an analyst would write by hand for the same fields."""
    columns: dict[str, pda.Column] = {
        "email": pda.Column(
            field_type("text").dtype,
            pda.Check.str_matches(r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
            nullable=False,
            unique=True,
        )
    }
    for f in FIELDS:
        checks = (
            [pda.Check.str_length(max_value=MAX_TEXT_LENGTH)] if f["data_type"] == "text" else []
        )
        columns[f["merge_tag"]] = pda.Column(
            field_type(f["data_type"]).dtype, checks, nullable=True
        )
    return pda.DataFrameSchema(columns, coerce=True)


def _time(fn: Any) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _pandera(df: pd.DataFrame, schema: pda.DataFrameSchema) -> int:
    try:
        schema.validate(df, lazy=True)
    except pda.errors.SchemaErrors as exc:
        return len(exc.failure_cases)
    return 0


def _compare(df: pd.DataFrame, repeat: int) -> dict[str, Any]:
    schema = pandera_schema()
    ours = [_time(lambda: validate(df, fields=FIELDS)) for _ in range(repeat)]
    theirs = [_time(lambda: _pandera(df, schema)) for _ in range(repeat)]
    t_ours = min(t for t, _ in ours)
    t_pandera = min(t for t, _ in theirs)
    return {
        "ours_s": round(t_ours, 3),
        "pandera_s": round(t_pandera, 3),
        "ratio": round(t_ours / t_pandera, 3),
        "our_failures": len(ours[0][1].failures),
        "pandera_failure_cases": theirs[0][1],
    }


def run(n_rows: int = 1_000_000, repeat: int = 2) -> dict[str, Any]:
    """Time both validators on the same frames; return the figures (best of ``repeat``).

    ``messy`` is the frame of the issue (object strings, holes, a few bad
    values); ``clean`` is one both validators accept without a failure.
    """
    figures: dict[str, Any] = {"rows": n_rows, "fields": len(FIELDS), "target_ratio": 1.5}
    for name, clean in (("messy", False), ("clean", True)):
        result = _compare(make_frame(n_rows, clean=clean), repeat)
        figures[name] = result
        for key, value in result.items():
            print(f"{name:>6} {key:>22}: {value}")
    figures["ratio"] = max(figures["messy"]["ratio"], figures["clean"]["ratio"])
    print(f"worst ratio ours/pandera: {figures['ratio']} (target <= 1.5)")
    return figures


if __name__ == "__main__":
    run()
