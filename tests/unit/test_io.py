"""read_frame / write_frame: the files the CLI takes and gives."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.files import (
    check_output_path,
    neutralize_formulas,
    read_frame,
    write_frame,
)


def test_csv_is_read_as_raw_text(tmp_path: Path) -> None:
    f = tmp_path / "c.csv"
    f.write_text("Email,Zip,Age,Note\nann@example.com,00501,034,N/A\nbob@example.com,,1,\n")
    df = read_frame(f)
    assert df["Zip"].tolist() == ["00501", ""]  # leading zero kept, blank stays blank
    assert df["Age"].tolist() == ["034", "1"]
    assert df["Note"].tolist() == ["N/A", ""]  # validation decides what N/A means


def test_tsv_bom_and_compressed_csv(tmp_path: Path) -> None:
    tsv = tmp_path / "c.tsv"
    tsv.write_text("Email\tZip\nann@example.com\t02134\n")
    assert read_frame(tsv)["Zip"].tolist() == ["02134"]
    bom = tmp_path / "excel.csv"
    bom.write_bytes("\ufeffEmail\nann@example.com\n".encode())
    assert list(read_frame(bom).columns) == ["Email"]
    gz = tmp_path / "c.csv.gz"
    pd.DataFrame({"Email": ["a@x.io"], "Zip": ["00501"]}).to_csv(gz, index=False)
    assert read_frame(gz)["Zip"].tolist() == ["00501"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin.csv", "Email\nRen\xe9e@x.io\n".encode("latin-1"), "not UTF-8"),
        ("empty.csv", b"", "is empty"),
        ("data.json", b"{}", "unsupported file type"),
    ],
)
def test_bad_input_files_give_clear_errors(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_frame(f)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_frame(tmp_path / "nope.csv")


@pytest.mark.parametrize("name", ["x.txt", "x", "x.xls", "x.json"])
def test_unsupported_output_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(InputError, match="unsupported output type"):
        check_output_path(tmp_path / name)
    with pytest.raises(InputError, match="unsupported output type"):
        write_frame(pd.DataFrame({"a": [1]}), tmp_path / name)


def test_xlsx_without_openpyxl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "openpyxl", None)  # as if it were not installed
    with pytest.raises(InputError, match="needs openpyxl.*pip install openpyxl"):
        check_output_path(tmp_path / "x.xlsx")


def test_xlsx_round_trip_is_typed_and_never_a_formula(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "email": ["=a@x.io", "b@x.io"],
            "at": pd.to_datetime(["2024-01-01T10:00Z", None]),
            "zip": ["00501", "NA"],
            "n": pd.array([-5, None], dtype="Int64"),
            "f": pd.array([-33.86, None], dtype="Float64"),
            "b": pd.array([True, None], dtype="boolean"),
            "d": pd.Series([dt.date(2024, 3, 1), None], dtype=pd.ArrowDtype(pa.date32())),
        }
    )
    write_frame(df, tmp_path / "x.xlsx")
    back = read_frame(tmp_path / "x.xlsx")
    first = back.iloc[0].tolist()
    assert first == [
        "=a@x.io",
        dt.datetime(2024, 1, 1, 10),
        "00501",
        -5,
        -33.86,
        True,
        dt.datetime(2024, 3, 1),
    ]
    assert [type(v) for v in first[3:6]] == [int, float, bool]  # native cells, not text
    assert back.iloc[1].tolist() == ["b@x.io", "", "NA", "", "", "", ""]  # blank cells
    import openpyxl

    sheet = openpyxl.load_workbook(tmp_path / "x.xlsx").active
    assert sheet["A2"].data_type == "s"  # text, not a formula
    assert [sheet[c].data_type for c in ("D2", "E2", "F2", "G2")] == ["n", "n", "b", "d"]


def test_xlsx_input_keeps_native_types(tmp_path: Path) -> None:
    pd.DataFrame(
        {"email": ["a@x.io"], "joined": [dt.datetime(2024, 5, 6, 7, 8)], "age": [41]}
    ).to_excel(tmp_path / "in.xlsx", index=False)
    back = read_frame(tmp_path / "in.xlsx")
    assert back.loc[0, "joined"] == dt.datetime(2024, 5, 6, 7, 8) and back.loc[0, "age"] == 41


def test_neutralize_formulas_only_touches_risky_text() -> None:
    df = pd.DataFrame(
        {
            "t": ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "ok", None],
            "s": pd.Series(["=x", "y", None, None, None, None, None], dtype="string"),
            "n": [-1, 2, 3, 4, 5, 6, 7],
        }
    )
    out = neutralize_formulas(df)
    assert out["t"].tolist()[:6] == ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\tx", "ok"]
    assert out["t"].isna().tolist()[6] and out["s"].tolist()[:2] == ["'=x", "y"]
    assert out["n"].tolist() == df["n"].tolist()  # numbers are numbers
    assert df["t"].iloc[0] == "=1+1"  # the input is not modified


def _export_like() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "email": ["ann@example.com", "bob@example.com"],
            "list_ids": pd.Series([[3, 7], []], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
            "zip": pd.Series(["00501", None], dtype="string"),
            "created_at": pd.to_datetime(["2024-01-01T10:00Z", "2024-02-01T10:00Z"]),
            "note": ["=HYPERLINK(1)", "fine"],
        }
    )


def test_csv_output_joins_lists_and_keeps_values(tmp_path: Path) -> None:
    path = write_frame(_export_like(), tmp_path / "x.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["list_ids"].tolist() == ["3;7", ""]
    assert back["zip"].tolist() == ["00501", ""]
    assert back["note"].tolist() == ["=HYPERLINK(1)", "fine"]  # data, as it is
    escaped = write_frame(_export_like(), tmp_path / "y.csv", escape_formulas=True)
    back = pd.read_csv(escaped, dtype=str, keep_default_na=False)
    assert back["note"].tolist() == ["'=HYPERLINK(1)", "fine"]  # opted in


def test_parquet_output_is_typed_and_readable_by_plain_pandas(tmp_path: Path) -> None:
    path = write_frame(_export_like(), tmp_path / "x.parquet")
    back = pd.read_parquet(path)
    assert [list(v) for v in back["list_ids"]] == [[3, 7], []]
    assert back["note"].tolist() == ["=HYPERLINK(1)", "fine"]  # not a spreadsheet
    assert isinstance(back["created_at"].dtype, pd.DatetimeTZDtype)
    assert read_frame(path)["zip"].tolist()[0] == "00501"


def test_tsv_and_jsonl_output(tmp_path: Path) -> None:
    df = _export_like()
    tsv = write_frame(df, tmp_path / "x.tsv")
    assert read_frame(tsv)["list_ids"].tolist() == ["3;7", ""]
    jl = write_frame(df, tmp_path / "x.jsonl")
    back = read_frame(jl)
    assert back["email"].tolist() == df["email"].tolist()
