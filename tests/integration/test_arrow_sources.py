"""import_contacts from any Arrow stream (DuckDB, polars, RecordBatchReader, ``__arrow_c_stream__``)
and from Dask frames, over HTTP against the emulator.

Each source kind imports the same 2,500 typed contacts with ``chunk_size=700``: every row is
accounted for (labels are stream positions), the account holds the values, and pieces are
re-cut to the chunk size whatever the producer yields (small batches do not cost one request
each).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import dask.dataframe as dd
import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.jobs.exports import read_export
from mailtrap_pandas.jobs.imports.run import import_contacts, to_import_payloads
from mailtrap_pandas.jobs.sources import open_source
from tests.helpers import FAST

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
    {"name": "Zip", "data_type": "text", "merge_tag": "zip"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]
N = 2500
CHUNK = 700


def table(n: int = N) -> pa.Table:
    """Typed contacts with missing values in every field column; zips keep leading zeros."""
    idx = range(n)
    return pa.table(
        {
            "email": [f"user{i}@example.com" for i in idx],
            "age": pa.array([None if i % 7 == 0 else i for i in idx], pa.int64()),
            "city": [None if i % 5 == 0 else f"City {i % 13}" for i in idx],
            "zip": [f"{i % 1000:05d}" for i in idx],
            "score": [None if i % 11 == 0 else i / 8 for i in idx],
            "vip": [None if i % 3 == 0 else i % 2 == 0 for i in idx],
            "born": [dt.date(1990, 1, 1) + dt.timedelta(days=i) for i in idx],
        }
    )


@pytest.fixture
def seeded(emu: Any) -> Any:
    emu.seed(fields=FIELDS)
    return emu


def run(emu: Any, source: Any, **kw: Any) -> Any:
    with emu.client(max_retries=6) as client:
        return import_contacts(
            source, client, **{**FAST, "chunk_size": CHUNK, "journal": False, **kw}
        )


def assert_stored(emu: Any, want: pa.Table) -> None:
    """The account holds every row with its values (missing ones not sent)."""
    with emu.client() as client:
        got = read_export(client, progress=False, frame="polars")
    got = got.select(want.column_names).sort("email")
    expected = pl.from_arrow(want).sort("email")
    assert got.equals(expected), (got, expected)


def duckdb_relation(con: duckdb.DuckDBPyConnection) -> Any:
    data = table()  # noqa: F841 (DuckDB finds the local Arrow table by name)
    return con.sql("SELECT * FROM data ORDER BY email")


class Capsule:
    """Any producer that speaks only the Arrow PyCapsule stream protocol (like ADBC's)."""

    def __init__(self, data: pa.Table, max_chunksize: int) -> None:
        self.data = data
        self.max_chunksize = max_chunksize

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        reader = pa.RecordBatchReader.from_batches(
            self.data.schema, self.data.to_batches(max_chunksize=self.max_chunksize)
        )
        return reader.__arrow_c_stream__(requested_schema)


SOURCES = {
    "polars DataFrame": lambda: pl.from_arrow(table()),
    "polars LazyFrame": lambda: pl.from_arrow(table()).lazy().filter(pl.col("email").is_not_null()),
    "RecordBatchReader": lambda: pa.RecordBatchReader.from_batches(
        table().schema, table().to_batches(max_chunksize=333)
    ),
    "__arrow_c_stream__ only": lambda: Capsule(table(), 100),
    "Dask DataFrame": lambda: dd.from_pandas(table().to_pandas(), npartitions=9),
}


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_each_stream_kind_imports_every_row(seeded: Any, kind: str) -> None:
    result = run(seeded, SOURCES[kind]())
    result.check_invariant(pd.RangeIndex(N))
    assert result.ok, result
    assert result.created == N
    # Re-cut to the chunk size whatever the producer's batches: 700, 700, 700, 400.
    assert list(result.jobs["rows"]) == [700, 700, 700, 400]
    assert_stored(seeded, table())


@pytest.mark.parametrize("what", ["relation", "result"])
@pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")  # DuckDB's advice
def test_duckdb_query_as_a_source(seeded: Any, what: str) -> None:
    con = duckdb.connect()
    if what == "relation":
        source = duckdb_relation(con)
    else:
        # Not rel.sql_query(): DuckDB 1.1 prints a scanned Python object as a bare pointer.
        data = table()  # noqa: F841 (DuckDB finds the local Arrow table by name)
        source = con.execute("SELECT * FROM data ORDER BY email")
    result = run(seeded, source)
    result.check_invariant(pd.RangeIndex(N))
    assert result.ok and result.created == N
    assert list(result.jobs["rows"]) == [700, 700, 700, 400]
    assert_stored(seeded, table())


def test_duckdb_is_read_in_batches_of_the_chunk_size() -> None:
    con = duckdb.connect()
    frames, total, stream = open_source(duckdb_relation(con), 600)
    sizes = [len(f) for f in frames]
    assert stream and total is None
    assert sizes == [600, 600, 600, 600, 100]


def test_stream_rows_are_labelled_by_position_with_problems(seeded: Any) -> None:
    data = pl.from_arrow(table(1000)).with_columns(
        pl.when(pl.int_range(pl.len()) == 10)
        .then(pl.lit("not-an-email"))
        .otherwise(pl.col("email"))
        .alias("email")
    )
    data = pl.concat([data, data.slice(0, 1)])  # row 1000 repeats row 0
    result = run(seeded, data.lazy(), dedupe="first")
    result.check_invariant(pd.RangeIndex(1001))
    assert sorted(result.rejected.index.unique()) == [10]
    assert result.duplicates.set_index("row")["kept_row"].to_dict() == {1000: 0}


def test_dry_run_of_a_stream_matches_the_frame(seeded: Any) -> None:
    with seeded.client() as client:
        streamed = list(to_import_payloads(Capsule(table(), 64), client, chunk_size=1000))
        whole = list(to_import_payloads(table().to_pandas(), client, chunk_size=1000))
    assert streamed == whole


# dask's own read_parquet calls reset_index(inplace=True), deprecated in pandas 3 (not our code).
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.reset_index is deprecated")
def test_dask_partitions_are_relabelled_by_position(tmp_path: Path) -> None:
    """read_parquet gives every partition its own 0-based index: positions replace them."""
    for i in range(3):
        pq.write_table(table(50).slice(i * 10, 10), tmp_path / f"part-{i}.parquet")
    frames, _, stream = open_source(dd.read_parquet(str(tmp_path)), 1000)
    (frame,) = list(frames)  # small partitions joined up to the chunk size
    assert stream
    assert list(frame.index) == list(range(30))


def test_unreadable_source_names_what_is_accepted() -> None:
    with pytest.raises(InputError, match="__arrow_c_stream__"):
        open_source(42, 100)
