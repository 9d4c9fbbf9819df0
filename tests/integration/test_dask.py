"""Dask frames: validated partition by partition into one report, imported partition by partition.

The gathered report must equal the report of the same rows validated as one pandas frame,
whatever the partitioning and the dedupe policy, repeats inside and across partitions
included.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtrap_pandas.jobs.imports.run import import_contacts
from mailtrap_pandas.jobs.validation import validate

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
]


def frame(emails: list[str], ages: list[Any]) -> pd.DataFrame:
    return pd.DataFrame(
        {"Email": emails, "age": ages, "city": [f"c{i}" for i in range(len(emails))]}
    )


def same_report(a: Any, b: Any) -> None:
    cols = ["row", "column", "reason"]
    fa = a.failures.sort_values(cols, key=lambda s: s.astype(str)).reset_index(drop=True)
    fb = b.failures.sort_values(cols, key=lambda s: s.astype(str)).reset_index(drop=True)
    assert fa[cols].astype(str).values.tolist() == fb[cols].astype(str).values.tolist()
    pd.testing.assert_frame_equal(
        a.valid.sort_index(), b.valid.sort_index(), check_index_type=False
    )
    da = a.duplicates.sort_values("row").astype(str).values.tolist()
    db = b.duplicates.sort_values("row").astype(str).values.tolist()
    assert da == db
    assert (a.n_rows, a.n_failed_rows, a.n_duplicates) == (
        b.n_rows,
        b.n_failed_rows,
        b.n_duplicates,
    )


EMAILS = st.sampled_from(["a@x.io", "A@x.io ", "b@x.io", "c@x.io", "bad", None, "d@x.io"])
AGES = st.sampled_from([1, "2", "x", None])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(EMAILS, AGES), min_size=1, max_size=14),
    nparts=st.integers(1, 4),
    dedupe=st.sampled_from(["last", "first", "error"]),
)
def test_dask_report_equals_the_whole_frames(rows: list[Any], nparts: int, dedupe: str) -> None:
    df = frame([e for e, _ in rows], [a for _, a in rows])
    whole = validate(df, fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    with dask.config.set(scheduler="sync"):
        parts = validate(dd.from_pandas(df, npartitions=nparts), fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    same_report(parts, whole)


def test_partitions_with_repeated_indexes_are_numbered_by_position(tmp_path: Any) -> None:
    a = frame(["a@x.io", "b@x.io"], [1, 2])
    b = frame(["A@x.io", "nope"], [3, 4])  # index 0, 1 again; repeats row 0
    ddf = dd.from_delayed([dask.delayed(a), dask.delayed(b)], meta=a.iloc[:0])
    report = validate(ddf, fields=FIELDS)
    assert report.valid.index.tolist() == [1, 2]
    assert report.duplicates[["row", "kept_row"]].values.tolist() == [[0, 2]]
    assert report.failures[["row", "column"]].values.tolist() == [[3, "Email"]]


def test_validate_fetches_fields_once_and_import_goes_partition_by_partition(
    emu: Any, client: Any
) -> None:
    emu.seed(fields=FIELDS)
    df = frame([f"u{i}@x.io" for i in range(1000)], list(range(1000)))
    ddf = dd.from_pandas(df, npartitions=7)
    before = client.stats["requests"]
    report = validate(ddf, client)
    assert client.stats["requests"] - before == 1  # the field definitions, nothing per partition
    assert report.ok and report.n_valid == 1000
    result = import_contacts(
        ddf, client, chunk_size=300, journal=False, progress=False, poll_interval=0.02
    )
    result.check_invariant(pd.RangeIndex(1000))
    assert result.ok and result.created == 1000
    assert list(result.jobs["rows"]) == [300, 300, 300, 100]


@pytest.mark.parametrize("dedupe", ["last", "first"])
def test_import_of_a_dask_frame_resolves_repeats_across_partitions(
    emu: Any, client: Any, dedupe: str
) -> None:
    emu.seed(fields=FIELDS)
    df = frame(["a@x.io", "b@x.io", "c@x.io", "A@x.io"], [1, 2, 3, 4])
    ddf = dd.from_pandas(df, npartitions=2)
    result = import_contacts(
        ddf, client, chunk_size=2, journal=False, progress=False, poll_interval=0.02, dedupe=dedupe
    )
    result.check_invariant(pd.RangeIndex(4))
    stored = {c["email"].lower(): c["fields"]["age"] for c in [client.contacts.get("a@x.io")]}
    assert stored == {"a@x.io": 4 if dedupe == "last" else 1}
