"""The CLI streams files through the library's one reader (issue 10, points 12 and 13).

CSV and Parquet go through ``jobs.sources.open_source`` / ``frames.files.read_text_chunks``
in the CLI and in ``import_contacts(path)`` alike: the same cells (BOM dropped, CRLF, ``NA``
as text, zip codes as text), the same rejected-rows file and summaries. The installed
command runs against the emulator over HTTP; batch boundaries are exercised in process
with a small ``BATCH_ROWS`` (memory itself is measured in benchmarks/bench_cli_stream.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import mailtrap_pandas.cli.options as cli_options
from mailtrap_pandas.cli import cli
from mailtrap_pandas.frames.files import read_frame, read_text_chunks
from mailtrap_pandas.jobs.exports import read_export
from mailtrap_pandas.jobs.imports.run import import_contacts
from mailtrap_pandas.jobs.sources import open_source, read_rows
from mailtrap_pandas.jobs.validation import validate
from tests.helpers import run_cli

FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Zip", "data_type": "text", "merge_tag": "zip"},
    {"name": "Country", "data_type": "text", "merge_tag": "country"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
]
HEADER = "Email,First Name,Zip,Country,Age,Latitude"


def crm_file(path: Path, rows: list[str]) -> Path:
    """A CSV the way Excel saves 'CSV UTF-8': a byte-order mark and CRLF line ends."""
    path.write_bytes(("\ufeff" + "\r\n".join([HEADER, *rows]) + "\r\n").encode("utf-8"))
    return path


ROWS = [
    "ann@example.com,Ann,00501,NA,34,-33.87",
    " Bob@Example.COM ,Bob,02134,PL,,+51.10",
    "not-an-email,Cy,94105,US,40,12.5",
    "dee@example.com,李,10001,NA,forty,-0.5",
    "eve@example.com,Eve 🎉,01234,DE,29,=1+1",
]


@pytest.fixture
def fields(emu: Any) -> Any:
    emu.seed(fields=FIELDS)
    return emu


# -- the one reader ----------------------------------------------------------------------------


def test_one_reader_whole_or_in_batches(tmp_path: Path) -> None:
    path = crm_file(tmp_path / "crm.csv", ROWS)
    whole = read_frame(path)
    assert list(whole.columns) == HEADER.split(",")  # no BOM in the first name
    batches = list(read_text_chunks(path, 2))
    assert [len(b) for b in batches] == [2, 2, 1]
    pd.testing.assert_frame_equal(pd.concat(batches), whole)
    frames, _, _ = open_source(path, 2)  # what import_contacts(path) streams
    pd.testing.assert_frame_equal(pd.concat(list(frames)), whole)
    assert whole.loc[0, "Country"] == "NA" and whole.loc[0, "Zip"] == "00501"
    assert whole.loc[1, "Age"] == "" and whole.loc[4, "Latitude"] == "=1+1"
    assert not whole.map(lambda v: "\r" in v).any().any()  # CRLF read like LF
    assert list(read_rows(path, [3, 1], batch_rows=2).index) == [1, 3]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"\xef\xbb\xbfEmail,Zip\r\n")
    [only] = list(read_text_chunks(empty, 2))
    assert list(only.columns) == ["Email", "Zip"] and only.empty


def test_import_contacts_path_reads_a_bom_file(fields: Any, client: Any, tmp_path: Path) -> None:
    path = crm_file(tmp_path / "crm.csv", ROWS)
    result = import_contacts(path, client, progress=False, journal=False, poll_interval=0.02)
    assert sorted(result.rejected.index.unique()) == [2, 3]  # bad email; age "forty"
    stored = read_export(client, progress=False).set_index("email")
    assert stored.loc["ann@example.com", ["zip", "country"]].tolist() == ["00501", "NA"]
    assert stored.loc["eve@example.com", "first_name"] == "Eve 🎉"
    retry = result.retry_frame()  # read again from the file, values as given
    pd.testing.assert_frame_equal(retry, read_frame(path).loc[[2, 3]])


# -- the installed command ---------------------------------------------------------------------


def test_validate_streams_with_the_same_summary(fields: Any, tmp_path: Path) -> None:
    path = crm_file(tmp_path / "crm.csv", ROWS)
    out = tmp_path / "failures.csv"
    data = json.loads(run_cli(fields, "--json", "validate", str(path), "-o", str(out), ok=3).stdout)
    whole = validate(read_frame(path), fields=FIELDS)
    assert (data["rows"], data["valid"], data["failed_rows"]) == (5, 3, 2)
    assert (data["rows"], data["valid"]) == (whole.n_rows, whole.n_valid)
    assert data["unknown_columns"] == ["Latitude"]
    assert pd.read_csv(out, dtype=str)["row"].tolist() == ["2", "3"]


def test_import_rejected_file_has_every_rejected_row_unchanged(
    fields: Any, client: Any, tmp_path: Path
) -> None:
    good = [f"user{i}@example.com,U{i},{i:05d},NA,{i},-{i}.5" for i in range(6)]
    path = crm_file(tmp_path / "crm.csv", ROWS + good)
    fields.add_fault(**{"import": "fail", "times": 1})  # the server side fails a whole job
    rejected = tmp_path / "rejected.parquet"
    done = run_cli(
        fields, "--json", "import", str(path), "--chunk-size", "4", "--no-journal",
        "--retry-failed-jobs", "0", "-o", str(rejected), ok=3,
    )  # fmt: skip
    data = json.loads(done.stdout)
    rows = data["imported"] + data["rejected"] + data["duplicates"] + data["skipped"]
    assert data["rows"] == rows == 11
    assert set(data["server"]) == {"created", "updated", "over_limit"}
    back = pd.read_parquet(rejected)
    # Rows 2 and 3 fail validation; the first job (rows 0 and 1: the file is read and
    # validated --chunk-size rows at a time) fails on the server side.
    assert data["rejected"] == len(back) == 4
    original = read_frame(path).loc[[0, 1, 2, 3]].reset_index(drop=True)
    pd.testing.assert_frame_equal(back, original, check_dtype=False)
    dry = tmp_path / "dry.csv"
    run_cli(fields, "import", str(path), "--dry-run", "-o", str(dry), ok=3)
    assert pd.read_csv(dry, dtype=str, keep_default_na=False)["Email"].tolist() == [
        "not-an-email",
        "dee@example.com",
    ]


def test_events_stream_a_bom_csv(fields: Any, client: Any, tmp_path: Path) -> None:
    client.contacts.upsert("ann@example.com")
    path = tmp_path / "orders.csv"
    path.write_bytes(
        b"\xef\xbb\xbfemail,order_id\r\nann@example.com,A-1\r\nann@example.com,A-2\r\n"
    )
    done = run_cli(fields, "--json", "events", str(path), "--name", "Purchase", "--key", "order_id")
    assert json.loads(done.stdout)["sent"] == 2


# -- batch boundaries, in process with small batches --------------------------------------------


def run_small_batches(
    emu: Any, monkeypatch: pytest.MonkeyPatch, *args: str, ok: int = 0
) -> dict[str, Any]:
    monkeypatch.setattr(cli_options, "BATCH_ROWS", 2)
    monkeypatch.setenv("MAILTRAP_API_TOKEN", emu.token)
    monkeypatch.setenv("MAILTRAP_BASE_URL", emu.url)
    monkeypatch.setenv("MAILTRAP_ACCOUNT_ID", str(emu.account_id))
    result = CliRunner().invoke(cli, ["--no-progress", "--json", *args])
    assert result.exit_code == ok, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.mark.parametrize("dedupe", ["first", "last"])
def test_validate_across_batches_counts_like_the_whole_file(
    fields: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dedupe: str
) -> None:
    rows = [
        *ROWS,
        "ANN@example.com,Annie,00501,NA,35,1",
        "x@y.io,X,1,NA,1,1",
        "bob@example.com,,,,,",
    ]
    path = crm_file(tmp_path / "crm.csv", rows)
    data = run_small_batches(fields, monkeypatch, "validate", str(path), "--dedupe", dedupe, ok=3)
    whole = validate(read_frame(path), fields=FIELDS, dedupe=dedupe)  # type: ignore[arg-type]
    got = (data["rows"], data["valid"], data["failed_rows"], data["duplicates"])
    assert got == (whole.n_rows, whole.n_valid, whole.n_failed_rows, whole.n_duplicates)
    assert got == (8, 4, 2, 2)


def test_events_across_batches_never_twice(
    fields: Any, client: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client.contacts.upsert("ann@example.com")
    path = tmp_path / "orders.csv"
    lines = ["email,order_id"] + [f"ann@example.com,A-{i % 3}" for i in range(5)] + ["nope,A-9"]
    path.write_text("\n".join(lines) + "\n")
    journal = str(tmp_path / "ledger.sqlite")
    args = ("events", str(path), "--name", "Purchase", "--key", "order_id", "--journal", journal)
    data = run_small_batches(fields, monkeypatch, *args, ok=3)
    assert (data["rows"], data["sent"], data["skipped"], data["failed"]) == (6, 3, 2, 1)
    again = run_small_batches(fields, monkeypatch, *args, ok=3)
    assert (again["sent"], again["skipped"]) == (0, 5)
