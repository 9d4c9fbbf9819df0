"""polars users never touch pandas: ``pl_df.mailtrap`` verbs and ``frame=`` on exports.

Everything goes over HTTP to the emulator. Frames handed back are polars, typed by the
type table's polars dtypes, with the caller's row positions in a ``row`` column.
"""

from __future__ import annotations

import datetime as dt
import gzip
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest

import mailtrap_pandas.polars  # noqa: F401  (registers pl.DataFrame.mailtrap)
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames import reader
from mailtrap_pandas.jobs.exports import read_export, read_export_file
from tests.helpers import FAST

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]
#: The type table in polars (README "Types").
POLARS_TYPES = {
    "email": pl.String,
    "id": pl.String,
    "status": pl.Enum(["subscribed", "unsubscribed"]),
    "list_ids": pl.List(pl.Int64),
    "created_at": pl.Datetime("ms", "UTC"),
    "updated_at": pl.Datetime("ms", "UTC"),
    "age": pl.Int64,
    "city": pl.String,
    "score": pl.Float64,
    "vip": pl.Boolean,
    "born": pl.Date,
}


@pytest.fixture
def seeded(emu: Any) -> Any:
    emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}])
    return emu


def contacts() -> pl.DataFrame:
    """Row 1 has a bad email, row 2 a bad age, row 4 repeats row 0 (other case)."""
    return pl.DataFrame(
        {
            "Email": ["ann@x.io", "nope", "bob@x.io", "cy@x.io", "ANN@x.io"],
            "age": ["31", "40", "old", None, "33"],
            "city": ["Oslo", None, "Rome", "Lima", "Bergen"],
            "score": [1.5, None, 2.0, 3.25, 4.0],
            "vip": [True, False, None, True, False],
            "born": [dt.date(1990, 1, 2), None, None, dt.date(2000, 5, 6), None],
        }
    )


def test_validate_hands_back_polars(client: Any, seeded: Any) -> None:
    report = contacts().mailtrap.validate(client)
    assert not report.ok and report.n_rows == 5
    assert isinstance(report.failures, pl.DataFrame)
    assert report.failures.select("row", "column", "reason").rows() == [
        (1, "Email", "invalid_email"),
        (2, "age", "wrong_type"),
    ]
    valid = report.valid
    assert isinstance(valid, pl.DataFrame)
    assert valid["row"].to_list() == [3, 4]  # row 0 lost to its repeat, row 4 (dedupe="last")
    assert valid.schema == pl.Schema(
        {"row": pl.Int64, **{c: POLARS_TYPES[c] for c in ("email", *valid.columns[2:])}}
    )
    assert report.duplicates.rows() == [(0, "ann@x.io", 4)]
    assert report.pandas.valid.index.tolist() == [3, 4]  # the pandas result is still there


def test_failure_values_of_mixed_types_become_text(client: Any, seeded: Any) -> None:
    df = pl.DataFrame({"email": ["nope", "a@x.io"], "score": [1.0, None], "age": [4.5, None]})
    report = df.mailtrap.validate(client)
    assert report.failures.select("column", "value").rows() == [("email", "nope"), ("age", "4.5")]


def test_import_contacts_hands_back_polars(client: Any, seeded: Any) -> None:
    result = contacts().mailtrap.import_contacts(client, journal=False, list_ids=[1], **FAST)
    assert isinstance(result.rejected, pl.DataFrame)
    assert sorted(set(result.rejected["row"])) == [1, 2]
    assert result.imported_index.to_list() == [3, 4]
    assert isinstance(result.jobs, pl.DataFrame) and result.created == 2
    result.pandas.check_invariant(range(5))
    stored = read_export(client, progress=False, frame="polars").sort("email")
    assert stored["email"].to_list() == ["ANN@x.io", "cy@x.io"]
    assert stored.schema == pl.Schema(POLARS_TYPES)
    assert stored["list_ids"].to_list() == [[1], [1]]
    assert stored.filter(pl.col("email") == "cy@x.io")["born"].item() == dt.date(2000, 5, 6)


def test_payloads_plan_sync_list_and_events(client: Any, seeded: Any) -> None:
    df = contacts().filter(pl.int_range(pl.len()).is_in([0, 3]))
    bodies = list(df.mailtrap.to_import_payloads(client))
    assert len(bodies) == 1 and b'"ann@x.io"' in bodies[0]
    plan = df.mailtrap.plan(client, progress=False)
    assert isinstance(plan.rows, pl.DataFrame)
    assert plan.rows.select("row", "action").rows() == [(0, "create"), (1, "create")]
    applied = plan.apply(progress=False)
    assert isinstance(applied.rejected, pl.DataFrame) and applied.created == 2
    sync = df.mailtrap.sync_list(1, client, progress=False)
    assert isinstance(sync.adds, pl.DataFrame) and sync.adds["email"].to_list() == [
        "ann@x.io",
        "cy@x.io",
    ]
    events = df.mailtrap.send_events(
        client, email="Email", name="signed_up", dry_run=True, progress=False
    )
    assert isinstance(events.failed, pl.DataFrame) and len(events.payloads) == 2


def test_sync_sends_only_what_changed(client: Any, seeded: Any, tmp_path: Path) -> None:
    df = contacts().filter(pl.int_range(pl.len()).is_in([0, 3]))
    first = df.mailtrap.sync(client, journal=tmp_path / "j.sqlite", progress=False)
    assert isinstance(first.rejected, pl.DataFrame) and first.imported.created == 2
    again = df.mailtrap.sync(client, journal=tmp_path / "j.sqlite", progress=False)
    assert again.imported.created == 0 and len(again.unchanged) == 2


@pytest.mark.parametrize("frame", ["pandas", "polars", "arrow"])
def test_read_export_in_the_callers_frame(client: Any, seeded: Any, frame: str) -> None:
    seeded.seed(
        contacts=[{"email": "a@x.io", "fields": {"age": 3, "born": "1999-12-31"}, "list_ids": [1]}]
    )
    out = read_export(client, progress=False, frame=frame)  # type: ignore[call-overload]
    kind = {"pandas": "pandas", "polars": "polars", "arrow": "pyarrow"}[frame]
    assert type(out).__module__.split(".")[0] == kind
    if frame == "arrow":
        assert out.schema.field("status").type == pa.dictionary(pa.int8(), pa.string())
        assert out.schema.field("born").type == pa.date32()
        assert out.column("list_ids").to_pylist() == [[1]]


def test_arrow_export_makes_no_pandas_conversion(
    client: Any, seeded: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("converted to pandas")

    monkeypatch.setattr(reader, "_to_pandas", refuse)
    seeded.seed(contacts=[{"email": "a@x.io", "fields": {}}])
    table = read_export(client, progress=False, frame="arrow")
    assert table.column("email").to_pylist() == ["a@x.io"]


def test_read_export_file_frames(tmp_path: Path) -> None:
    path = tmp_path / "contacts.csv.gz"
    path.write_bytes(gzip.compress(b"Email,Status,Zip,Lists\r\na@x.io,Subscribed,00501,3;7\r\n"))
    out = read_export_file(path, fields={"zip": "text"}, frame="polars")
    assert out.rows() == [("a@x.io", "subscribed", [3, 7], "00501")]
    assert out.schema["status"] == POLARS_TYPES["status"]
    table = read_export_file(path, frame="arrow")
    assert table.column_names == ["email", "status", "list_ids", "Zip"]


def test_unknown_frame_fails_before_any_request(emu: Any, client: Any) -> None:
    with pytest.raises(InputError, match="frame must be one of"):
        read_export(client, frame="spark")  # type: ignore[call-overload]
    assert emu.state()["exports"] == 0


def test_namespace_registered_on_import_when_polars_is_loaded() -> None:
    """Importing the package registers pl_df.mailtrap if polars is already imported, and
    importing the package alone loads none of polars, DuckDB or Dask."""
    code = (
        "import sys, polars as pl, mailtrap_pandas;"
        "print(hasattr(pl.DataFrame({'email': ['a@x.io']}), 'mailtrap'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
    code = (
        "import sys, mailtrap_pandas;"
        "print(sorted(m for m in ('polars', 'duckdb', 'dask') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
