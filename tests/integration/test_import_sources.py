"""import_contacts from streams: iterables of frames, Parquet, CSV, pyarrow datasets.

Each source kind goes through the emulator over HTTP with a small ``chunk_size``:
the invariant holds over the stream's labels (row numbers for paths and
datasets), duplicates across stream pieces are resolved as ``dedupe`` says,
and running the same call again with the journal submits nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from mailtrap_pandas.jobs.exports import read_export
from mailtrap_pandas.jobs.imports.run import import_contacts, to_import_payloads
from tests.helpers import FAST

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
    {"name": "Zip", "data_type": "text", "merge_tag": "zip"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
]
N = 3000
CHUNK = 700  # not a divisor of N, nor of the batch sizes: chunks straddle pieces


@pytest.fixture(autouse=True)
def seed_account(emu: Any) -> None:
    """The session's emulator (tests/conftest.py), reset, with this module's fields."""
    emu.seed(fields=FIELDS)


def contacts(n: int = N) -> pd.DataFrame:
    """Typed contacts with missing values in every field column; zips keep leading zeros."""
    idx = pd.RangeIndex(n)
    return pd.DataFrame(
        {
            "email": [f"user{i}@example.com" for i in idx],
            "age": pd.array([None if i % 7 == 0 else i for i in idx], "Int64"),
            "city": pd.array([None if i % 5 == 0 else f"City {i % 13}" for i in idx], "string"),
            "zip": [f"{i % 1000:05d}" for i in idx],
            "score": pd.array([None if i % 11 == 0 else i / 8 for i in idx], "Float64"),
            "vip": pd.array([None if i % 3 == 0 else i % 2 == 0 for i in idx], "boolean"),
        },
        index=idx,
    )


def run(emu: Any, source: Any, **kw: Any) -> Any:
    client = emu.client(rate_limit=None, max_retries=6)
    opts = {**FAST, "chunk_size": CHUNK, "journal": False, **kw}
    return import_contacts(source, client, **opts)


def stored(emu: Any) -> pd.DataFrame:
    return read_export(emu.client(rate_limit=None), progress=False).set_index("email")


def assert_all_stored(emu: Any, df: pd.DataFrame) -> None:
    """Every contact is in the account with its values (missing ones not sent)."""
    got = stored(emu).loc[df["email"]]
    assert len(got) == len(df)
    for col in ("age", "city", "zip", "score", "vip"):
        want = df[col].reset_index(drop=True).astype(object).where(df[col].notna().to_numpy())
        have = got[col].reset_index(drop=True).astype(object).where(got[col].notna().to_numpy())
        pd.testing.assert_series_equal(want, have, check_names=False, check_dtype=False)


def write_parquet(df: pd.DataFrame, path: Path, row_group_size: int = 1000) -> Path:
    table = pa.Table.from_pandas(df, preserve_index=False)
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


# -- one test per source kind ------------------------------------------------------------------


def test_iterable_of_frames(emu: Any) -> None:
    df = contacts()
    pieces = (df.iloc[i : i + 1100] for i in range(0, N, 1100))  # a generator, read once
    result = run(emu, pieces)
    result.check_invariant(df.index)
    assert result.ok, result
    assert result.created == N and result.imported_index.equals(df.index)
    assert result.imported_index.dtype == "int64"
    # chunks are cut per piece: 1100 -> 700 + 400
    assert list(result.jobs["rows"]) == [700, 400, 700, 400, 700, 100]
    assert_all_stored(emu, df)


@pytest.mark.parametrize("suffix", [".parquet", ".pq"])
def test_parquet_path(emu: Any, tmp_path: Path, suffix: str) -> None:
    df = contacts()
    path = write_parquet(df, tmp_path / f"contacts{suffix}")
    result = run(emu, path)
    result.check_invariant(pd.RangeIndex(N))
    assert result.ok and result.created == N
    # A file's rows are labelled by position: int64 labels, not one Python int per row.
    assert result.imported_index.dtype == "int64"
    assert result.imported_index.equals(pd.RangeIndex(N))
    assert_all_stored(emu, df)


@pytest.mark.parametrize("name", ["contacts.csv", "contacts.csv.gz"])
def test_csv_path_reads_text_as_text(emu: Any, tmp_path: Path, name: str) -> None:
    df = contacts()
    path = tmp_path / name
    df.to_csv(path, index=False)  # gzip from the suffix
    result = run(emu, str(path))
    result.check_invariant(pd.RangeIndex(N))
    assert result.ok and result.created == N
    assert stored(emu).loc["user501@example.com", "zip"] == "00501"
    assert_all_stored(emu, df)


def test_pyarrow_dataset_and_folder(emu: Any, tmp_path: Path) -> None:
    df = contacts()
    folder = tmp_path / "parts"
    folder.mkdir()
    # Two files: the dataset's row numbers run across both.
    write_parquet(df.iloc[:1800], folder / "part-0.parquet")
    write_parquet(df.iloc[1800:], folder / "part-1.parquet")
    result = run(emu, ds.dataset(folder))
    result.check_invariant(pd.RangeIndex(N))
    assert result.ok and result.created == N
    assert_all_stored(emu, df)
    # The folder path itself is read as the same dataset: same bodies, all already there.
    again = run(emu, folder)
    again.check_invariant(pd.RangeIndex(N))
    assert again.ok and again.updated == N


def test_pyarrow_table(emu: Any) -> None:
    df = contacts(1000)
    table = pa.Table.from_pandas(df, preserve_index=False)
    result = run(emu, table, chunk_size=300)
    result.check_invariant(pd.RangeIndex(1000))
    assert result.ok and result.created == 1000


# -- invalid rows, duplicates across pieces ------------------------------------------------------


def stream_with_trouble() -> tuple[list[pd.DataFrame], pd.Index]:
    """Three pieces; 'user5' again in piece 2 and 3, a bad email and a bad age in piece 2."""
    a = contacts(1000)
    b = contacts(1000).set_axis(pd.RangeIndex(1000, 2000))
    b["email"] = [f"other{i}@example.com" for i in range(1000)]
    b.loc[1000, "email"] = "USER5@example.com"  # repeat of row 5 (other case)
    b.loc[1001, "email"] = "not-an-email"
    b["age"] = b["age"].astype(object)
    b.loc[1002, "age"] = "old"
    c = pd.DataFrame({"email": ["user5@example.com"], "age": [99]}, index=[2000])
    return [a, b, c], pd.RangeIndex(2001)


def test_dedupe_last_across_pieces_later_row_wins(emu: Any) -> None:
    pieces, index = stream_with_trouble()
    result = run(emu, iter(pieces), dedupe="last")
    result.check_invariant(index)
    assert sorted(result.rejected.index.unique()) == [1001, 1002]
    # kept_row is the row whose values the account holds in the end.
    dups = result.duplicates.set_index("row")["kept_row"]
    assert dups.to_dict() == {5: 2000, 1000: 2000}
    assert stored(emu).loc["user5@example.com", "age"] == 99
    assert len(result.imported_index) == 2001 - 2 - 2
    assert len(result.retry_frame()) == 2


def test_dedupe_first_across_pieces_first_row_wins(emu: Any) -> None:
    pieces, index = stream_with_trouble()
    result = run(emu, iter(pieces), dedupe="first")
    result.check_invariant(index)
    dups = result.duplicates.set_index("row")["kept_row"]
    assert dups.to_dict() == {1000: 5, 2000: 5}
    assert stored(emu).loc["user5@example.com", "age"] == 5


def test_dedupe_error_across_pieces_rejects_repeats(emu: Any) -> None:
    pieces, index = stream_with_trouble()
    result = run(emu, iter(pieces), dedupe="error")
    result.check_invariant(index)
    reasons = result.rejected["reason"].groupby(level=0).first()
    assert reasons.loc[1000] == "duplicate_email" and reasons.loc[2000] == "duplicate_email"


def test_dry_run_of_a_parquet_stream_matches_the_frame(emu: Any, tmp_path: Path) -> None:
    df = contacts()
    path = write_parquet(df, tmp_path / "c.parquet")
    client = emu.client(rate_limit=None)
    streamed = list(to_import_payloads(path, client, chunk_size=1000))
    whole = list(to_import_payloads(df, client, chunk_size=1000))
    assert streamed == whole
    assert emu.state()["imports_accepted"] == 0


# -- resume ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["frames", "parquet", "csv", "dataset"])
def test_rerun_with_journal_submits_nothing(emu: Any, tmp_path: Path, kind: str) -> None:
    df = contacts(2000)
    parquet = write_parquet(df, tmp_path / "c.parquet")
    csv = tmp_path / "c.csv"
    df.to_csv(csv, index=False)

    def source() -> Any:
        if kind == "frames":
            return (df.iloc[i : i + 900] for i in range(0, 2000, 900))
        if kind == "parquet":
            return parquet
        if kind == "csv":
            return csv
        return ds.dataset(parquet)

    journal = tmp_path / "journal.sqlite"
    first = run(emu, source(), journal=journal, dedupe="first")
    first.check_invariant(df.index)
    accepted = emu.state()["imports_accepted"]
    assert first.ok and first.created == 2000 and accepted == len(first.jobs)
    again = run(emu, source(), journal=journal, dedupe="first")
    again.check_invariant(df.index)
    assert emu.state()["imports_accepted"] == accepted  # nothing sent again
    assert again.ok and again.created == 2000  # the journaled counts


def test_resume_stream_after_a_failed_job(emu: Any, tmp_path: Path) -> None:
    """Without resubmission a failed job's rows are rejected; the re-run resubmits that chunk."""
    df = contacts(2100)
    path = write_parquet(df, tmp_path / "c.parquet")
    journal = tmp_path / "journal.sqlite"
    emu.add_fault(**{"import": "fail", "times": 1})
    first = run(emu, path, journal=journal, retry_failed_jobs=0)
    first.check_invariant(df.index)
    assert set(first.rejected["reason"]) == {"import_failed"}
    assert emu.state()["imports_accepted"] == 3
    again = run(emu, path, journal=journal)
    again.check_invariant(df.index)
    assert again.ok and len(again.imported_index) == 2100
    assert emu.state()["imports_accepted"] == 4


def test_stream_failed_job_is_resubmitted_in_the_same_run(emu: Any, tmp_path: Path) -> None:
    df = contacts(2100)
    path = write_parquet(df, tmp_path / "c.parquet")
    emu.add_fault(**{"import": "fail", "times": 1})
    result = run(emu, path)
    result.check_invariant(df.index)
    assert result.ok and len(result.imported_index) == 2100
    assert emu.state()["imports_accepted"] == 4 and emu.state()["contacts"] == 2100
    assert int(result.jobs["resubmits"].sum()) == 1
