"""Property: for any frame, failures name only input rows and every row is counted once."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtrap_pandas.frames.dtypes import field_type
from mailtrap_pandas.frames.reasons import REASON_DTYPE
from mailtrap_pandas.frames.validate import FAILURE_COLUMNS, Reason
from mailtrap_pandas.jobs.validation import validate

FIELDS = [
    {"name": "Name", "data_type": "text", "merge_tag": "name"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]

garbage = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(pd.NA),
    st.sampled_from(["", " ", "nan", "None", "<NA>", "null", "N/A", "yes", "1,000", "4.5"]),
    st.sampled_from(["2024-02-30", "01/02/03", "2024-03-01", "inf", "x" * 300]),
    st.text(max_size=8),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.decimals(allow_nan=False, allow_infinity=False, places=2),
)
emails = st.one_of(
    garbage,
    st.sampled_from(["a@x.io", "A@X.io", " b@y.org ", "c@z.com", "bad@", "é@ü.de"]),
)


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=0, max_value=12))
    columns = {"email": draw(st.lists(emails, min_size=n, max_size=n))}
    for f in FIELDS:
        if draw(st.booleans()):
            columns[f["merge_tag"]] = draw(st.lists(garbage, min_size=n, max_size=n))
    if draw(st.booleans()):
        columns["extra"] = [1] * n
    df = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    index_kind = draw(st.sampled_from(["range", "strings", "shuffled", "multi"]))
    if index_kind == "strings":
        df.index = [f"r{i}" for i in range(n)]
    elif index_kind == "shuffled":
        df.index = draw(st.permutations(list(range(100, 100 + n))))
    elif index_kind == "multi":
        df.index = pd.MultiIndex.from_arrays([[i % 2 for i in range(n)], list(range(n))])
    return df


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    df=frames(),
    dedupe=st.sampled_from(["last", "first", "error"]),
    nulls=st.sampled_from(["skip", "error"]),
    unknown=st.sampled_from(["report", "error", "ignore"]),
)
def test_any_frame_is_fully_accounted_for(
    df: pd.DataFrame, dedupe: str, nulls: str, unknown: str
) -> None:
    r = validate(df, fields=FIELDS, dedupe=dedupe, nulls=nulls, unknown=unknown)  # type: ignore[arg-type]
    labels = set(df.index)
    row_failures = r.failures[r.failures["reason"] != Reason.UNKNOWN_COLUMN]
    failed = set(row_failures["row"])
    assert list(r.failures.columns) == FAILURE_COLUMNS
    assert failed <= labels
    assert (r.failures["row"].isna() == (r.failures["reason"] == Reason.UNKNOWN_COLUMN)).all()
    assert r.failures["reason"].dtype == REASON_DTYPE
    assert all(Reason(x) for x in r.failures["reason"])  # every value is a Reason
    assert r.failures["email"].dtype == "string"  # missing emails are <NA>
    assert r.n_valid + r.n_failed_rows + r.n_duplicates == len(df)
    assert len(failed) == r.n_failed_rows
    assert set(r.valid.index) <= labels and not failed & set(r.valid.index)
    assert set(r.duplicates["row"]) <= labels
    assert r.valid.index.is_unique
    for tag, data_type in r.fields.items():
        assert r.valid[tag].dtype == field_type(data_type).dtype
    # Missing values are <NA>, never text that says so.
    if "name" in r.valid:
        texts = {v.strip().lower() for v in r.valid["name"].dropna()}
        assert not texts & {"", "nan", "none", "<na>", "null", "n/a"}
    if len(r.valid):
        keys = r.valid["email"].str.lower()
        assert keys.is_unique
    assert r.ok == r.failures.empty
