"""The export file reader on files written by hand: every layout variation we tolerate."""

from __future__ import annotations

import datetime as dt
import gzip
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.dtypes import CONTACT_COLUMNS, contact_dtypes
from mailtrap_pandas.frames.reader import normalize_header
from mailtrap_pandas.jobs.exports import (
    ExportFormatWarning,
    ExportParseError,
    read_export_file,
)

FIELDS = [
    {"id": 1, "name": "Zip", "data_type": "text", "merge_tag": "zip"},
    {"id": 2, "name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"id": 3, "name": "Score", "data_type": "float", "merge_tag": "score"},
    {"id": 4, "name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"id": 5, "name": "Born", "data_type": "date", "merge_tag": "born"},
]
TYPES = {f["merge_tag"]: f["data_type"] for f in FIELDS}
HEADER = "id,email,status,list_ids,created_at,updated_at,zip,age,score,vip,born\n"


def write(tmp_path: Path, text: str, *, gz: bool = True, name: str = "export.csv.gz") -> Path:
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def read(tmp_path: Path, text: str, *, gz: bool = True, **kw: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning unless a test expects one
        return read_export_file(write(tmp_path, text, gz=gz), **kw)  # type: ignore[arg-type]


def ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_convert("UTC").as_unit("ms")


# -- the documented (emulator) layout --------------------------------------------------


def test_canonical_layout_typed_exactly(tmp_path: Path) -> None:
    text = HEADER + (
        "u1,a@x.io,subscribed,3;7,2026-04-28T12:40:45.519Z,2026-04-28T12:40:46.000Z,"
        "00501,-9223372036854775808,5e-324,true,0001-01-01\n"
        "u2,b@x.io,unsubscribed,,2026-04-28T12:40:45.519Z,2026-04-28T12:40:45.519Z,,,,,\n"
    )
    df = read(tmp_path, text, fields=FIELDS)
    assert df.dtypes.to_dict() == contact_dtypes(TYPES)
    assert list(df.columns) == list(contact_dtypes(TYPES))
    first = df.iloc[0]
    assert first["email"] == "a@x.io" and first["id"] == "u1"
    assert first["status"] == "subscribed"
    assert list(first["list_ids"]) == [3, 7]
    assert first["created_at"] == ts("2026-04-28T12:40:45.519Z")
    assert first["zip"] == "00501"
    assert first["age"] == -(2**63)
    assert first["score"] == 5e-324
    assert bool(first["vip"]) is True
    assert first["born"] == dt.date(1, 1, 1)
    second = df.iloc[1]
    assert list(second["list_ids"]) == []  # no lists: an empty list, not missing
    for col in ("zip", "age", "score", "vip", "born"):
        assert pd.isna(second[col]), col


def test_header_only_gives_zero_rows_with_dtypes(tmp_path: Path) -> None:
    df = read(tmp_path, HEADER, fields=FIELDS)
    assert len(df) == 0
    assert df.dtypes.to_dict() == contact_dtypes(TYPES)


# -- container variations ----------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
@pytest.mark.parametrize("name", ["export.csv.gz", "export.csv", "export"])
def test_gzip_sniffed_not_suffix(tmp_path: Path, gz: bool, name: str) -> None:
    path = write(tmp_path, "email,zip\na@x.io,00501\n", gz=gz, name=name)
    df = read_export_file(path)
    assert df["zip"].tolist() == ["00501"]


def test_bom_and_crlf(tmp_path: Path) -> None:
    df = read(tmp_path, "\ufeffEmail,Status\r\na@x.io,subscribed\r\nb@x.io,unsubscribed\r\n")
    assert list(df.columns) == ["email", "status"]
    assert df["email"].tolist() == ["a@x.io", "b@x.io"]


def test_quoted_newlines_commas_and_quotes(tmp_path: Path) -> None:
    text = 'email,zip,note\na@x.io,"1,2","line1\nline2, ""q"""\nb@x.io,"x\r\ny",\n'
    df = read(tmp_path, text)
    assert df["zip"].tolist() == ["1,2", "x\r\ny"]
    assert df["note"].tolist()[0] == 'line1\nline2, "q"'
    assert df["note"].isna().tolist() == [False, True]


def test_any_column_order_and_missing_optional_columns(tmp_path: Path) -> None:
    text = "age,Email,list_ids\n5,a@x.io,3\n"
    df = read(tmp_path, text, fields=FIELDS)
    # Canonical order; absent columns (id, status, timestamps, other fields) not invented.
    assert list(df.columns) == ["email", "list_ids", "age"]
    assert df["age"].dtype == "Int64"


def test_header_spellings_and_merge_tag_case(tmp_path: Path) -> None:
    text = "E-mail, List IDs ,Created At,UPDATED_AT,Contact ID,Subscription Status,ZIP,Age\n"
    text += "a@x.io,3;7,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,u1,Subscribed,00501,7\n"
    df = read(tmp_path, text, fields=FIELDS)
    assert list(df.columns) == [
        "email",
        "id",
        "status",
        "list_ids",
        "created_at",
        "updated_at",
        "zip",
        "age",
    ]
    assert df.dtypes.to_dict() == {c: contact_dtypes(TYPES)[c] for c in df.columns}


def test_blank_header_cells_get_names(tmp_path: Path) -> None:
    df = read(tmp_path, "email,,zip,\na@x.io,1,00501,\nb@x.io,,,\n")
    assert list(df.columns) == ["email", "unnamed_1", "zip", "unnamed_3"]
    assert df["zip"].tolist() == ["00501", pd.NA]
    assert df["unnamed_1"].tolist() == ["1", pd.NA]


def test_quoted_newline_in_header(tmp_path: Path) -> None:
    df = read(tmp_path, 'email,"Zip\nCode"\n"a@x.io","0\n1"\n')
    assert list(df.columns) == ["email", "Zip\nCode"]
    assert df["Zip\nCode"].tolist() == ["0\n1"]


def test_duplicate_meaning_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="both mean 'email'"):
        read(tmp_path, "email,Email\na@x.io,b@x.io\n")


# -- extra columns -----------------------------------------------------------------------


def test_extra_columns_silent_without_fields(tmp_path: Path) -> None:
    df = read(tmp_path, "email,zip,score\na@x.io,00501,1.5\n")
    # No fields: nothing to type against, text kept as text, no warning.
    assert df["zip"].dtype == "string[pyarrow]"
    assert df["score"].dtype == "string[pyarrow]"
    assert df["score"].tolist() == ["1.5"]


def test_extra_columns_warn_with_fields(tmp_path: Path) -> None:
    path = write(tmp_path, "email,zip,Engagement Score\na@x.io,00501,0.9\n")
    with pytest.warns(ExportFormatWarning, match="Engagement Score"):
        df = read_export_file(path, fields=FIELDS)
    assert list(df.columns) == ["email", "zip", "Engagement Score"]
    assert df["Engagement Score"].dtype == "string[pyarrow]"


def test_fields_as_mapping(tmp_path: Path) -> None:
    df = read(tmp_path, "email,age\na@x.io,42\n", fields={"age": "integer"})
    assert df["age"].tolist() == [42]


def test_unknown_data_type_in_fields(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown data_type"):
        read(tmp_path, "email\na@x.io\n", fields={"age": "number"})


# -- list memberships --------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    ["3;7", '"3,7"', "3|7", "3 7", '"[3, 7]"', '"[3,7]"', " 3 ; 7 ", "3;;7", "3;7;", '"3,7,"'],
)
def test_list_id_encodings(tmp_path: Path, cell: str) -> None:
    df = read(tmp_path, f"email,list_ids\na@x.io,{cell}\nb@x.io,\nc@x.io,[]\nd@x.io,9\n")
    assert df["list_ids"].dtype == CONTACT_COLUMNS["list_ids"]
    assert [list(v) for v in df["list_ids"]] == [[3, 7], [], [], [9]]


def test_bad_list_id_names_row_and_column(tmp_path: Path) -> None:
    with pytest.raises(ExportParseError, match=r"line 3 \(data row 2\), column 'list_ids'") as e:
        read(tmp_path, "email,list_ids\na@x.io,3\nb@x.io,3;x\n")
    assert e.value.row == 2 and e.value.line == 3 and e.value.column == "list_ids"


# -- timestamps --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-04-28T12:40:45.519Z", "2026-04-28T12:40:45.519Z"),
        ("2026-04-28T12:40:45Z", "2026-04-28T12:40:45Z"),
        ("2026-04-28T12:40:45.519", "2026-04-28T12:40:45.519Z"),  # naive = UTC
        ("2026-04-28 12:40:45", "2026-04-28T12:40:45Z"),
        ("2026-04-28T14:40:45.519+02:00", "2026-04-28T12:40:45.519Z"),
        ("1777380045519", "2026-04-28T12:40:45.519Z"),  # epoch ms
        ("2026-04-28T12:40:45.519999Z", "2026-04-28T12:40:45.519Z"),  # floored to ms
    ],
)
def test_timestamp_forms(tmp_path: Path, cell: str, expected: str) -> None:
    df = read(tmp_path, f"email,created_at\na@x.io,{cell}\nb@x.io,\n")
    assert df["created_at"].dtype == CONTACT_COLUMNS["created_at"]
    assert df["created_at"][0] == ts(expected)
    assert pd.isna(df["created_at"][1])


def test_timestamp_forms_mixed_in_one_column(tmp_path: Path) -> None:
    text = "email,updated_at\na@x.io,1777380045519\nb@x.io,2026-04-28T12:40:45.519Z\n"
    df = read(tmp_path, text)
    assert df["updated_at"].tolist() == [ts("2026-04-28T12:40:45.519Z")] * 2


def test_bad_timestamp(tmp_path: Path) -> None:
    with pytest.raises(ExportParseError, match="column 'created_at'.*'yesterday'"):
        read(tmp_path, "email,created_at\na@x.io,2026-01-01T00:00:00Z\nb@x.io,yesterday\n")


# -- status and field types --------------------------------------------------------------


def test_status_any_case(tmp_path: Path) -> None:
    df = read(tmp_path, "email,status\na,SUBSCRIBED\nb, Unsubscribed \nc,\n")
    assert df["status"].dtype == CONTACT_COLUMNS["status"]
    assert df["status"].tolist()[:2] == ["subscribed", "unsubscribed"]
    assert pd.isna(df["status"][2])


def test_unknown_status_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ExportParseError, match="column 'status'.*'bounced'"):
        read(tmp_path, "email,status\na,subscribed\nb,bounced\n")


def test_booleans_any_spelling(tmp_path: Path) -> None:
    cells = ["true", "FALSE", "1", "0", "Yes", "no", "True", ""]
    text = "email,vip\n" + "".join(f"x{i},{c}\n" for i, c in enumerate(cells))
    df = read(tmp_path, text, fields=FIELDS)
    assert df["vip"].dtype == "boolean"
    assert df["vip"].tolist() == [True, False, True, False, True, False, True, pd.NA]


def test_bad_boolean(tmp_path: Path) -> None:
    with pytest.raises(ExportParseError, match="column 'vip'.*'maybe'"):
        read(tmp_path, "email,vip\na,true\nb,maybe\n", fields=FIELDS)


def test_text_is_never_reinterpreted(tmp_path: Path) -> None:
    cells = ["00501", "NULL", "N/A", "nan", "None", "<NA>", " padded ", "true", "1e5"]
    text = "email,zip\n" + "".join(f'x{i},"{c}"\n' for i, c in enumerate(cells)) + "y,\n"
    df = read(tmp_path, text, fields=FIELDS)
    assert df["zip"].dtype == "string[pyarrow]"
    assert df["zip"].tolist()[:-1] == cells
    assert df["zip"].isna().tolist() == [False] * len(cells) + [True]


def test_integers_extremes_and_spaces(tmp_path: Path) -> None:
    text = "email,age\na,9223372036854775807\nb,-9223372036854775808\nc, 5 \nd,\n"
    df = read(tmp_path, text, fields=FIELDS)
    assert df["age"].dtype == "Int64"
    assert df["age"].tolist() == [2**63 - 1, -(2**63), 5, pd.NA]


@pytest.mark.parametrize("cell", ["1.5", "9223372036854775808", "12abc"])
def test_bad_integer(tmp_path: Path, cell: str) -> None:
    with pytest.raises(ExportParseError, match=f"line 3 \\(data row 2\\), column 'age'.*{cell}"):
        read(tmp_path, f"email,age\na,1\nb,{cell}\n", fields=FIELDS)


def test_floats_exact(tmp_path: Path) -> None:
    values = [5e-324, 2.2250738585072014e-308, 0.1, 1 / 3, -1.7976931348623157e308, 123456789.125]
    text = "email,score\n" + "".join(f"x{i},{v!r}\n" for i, v in enumerate(values))
    df = read(tmp_path, text, fields=FIELDS)
    assert df["score"].dtype == "Float64"
    assert df["score"].tolist() == values


def test_bad_float(tmp_path: Path) -> None:
    with pytest.raises(ExportParseError, match="column 'score'.*'1,5'"):
        read(tmp_path, 'email,score\na,1.5\nb,"1,5"\n', fields=FIELDS)


def test_dates(tmp_path: Path) -> None:
    cells = ["0001-01-01", "1900-02-28", "9999-12-31", "2020-01-02T00:00:00Z", "2020-01-03 00:00"]
    text = "email,born\n" + "".join(f"x{i},{c}\n" for i, c in enumerate(cells)) + "y,\n"
    df = read(tmp_path, text, fields=FIELDS)
    assert df["born"].dtype == pd.ArrowDtype(pa.date32())
    assert df["born"].tolist()[:-1] == [
        dt.date(1, 1, 1),
        dt.date(1900, 2, 28),
        dt.date(9999, 12, 31),
        dt.date(2020, 1, 2),
        dt.date(2020, 1, 3),
    ]
    assert pd.isna(df["born"].iloc[-1])


@pytest.mark.parametrize("cell", ["2020-01-02T10:00:00Z", "2020-13-01", "02/01/2020"])
def test_bad_date(tmp_path: Path, cell: str) -> None:
    with pytest.raises(ExportParseError, match="column 'born'"):
        read(tmp_path, f"email,born\na,2020-01-01\nb,{cell}\n", fields=FIELDS)


def test_error_line_counts_quoted_newlines(tmp_path: Path) -> None:
    text = 'email,zip,age\na,"one\ntwo\nthree",1\nb,x,oops\n'
    with pytest.raises(ExportParseError, match=r"line 5 \(data row 2\), column 'age'"):
        read(tmp_path, text, fields=FIELDS)


# -- columns= and structural errors ------------------------------------------------------


def test_columns_subset_in_given_order(tmp_path: Path) -> None:
    text = HEADER + "u1,a@x.io,subscribed,3,2026-01-01T00:00:00Z,2026-01-01T00:00:00Z,1,2,,,\n"
    df = read(tmp_path, text, fields=FIELDS, columns=["age", "email"])
    assert list(df.columns) == ["age", "email"]
    assert df.dtypes.to_dict() == {"age": pd.Int64Dtype(), "email": pd.StringDtype("pyarrow")}


def test_columns_unknown(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no column"):
        read(tmp_path, "email\na\n", columns=["nope"])


def test_email_is_required(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs an email column"):
        read(tmp_path, "id,status\nu1,subscribed\n")


@pytest.mark.parametrize("content", [b"", b"\n", gzip.compress(b"")])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "export.csv.gz"
    path.write_bytes(content)
    with pytest.raises(InputError, match="empty"):
        read_export_file(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes("email,zip\na@x.io,Zoë\n".encode("latin-1"))
    with pytest.raises(InputError):
        read_export_file(path)


def test_ragged_row(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read as CSV"):
        read(tmp_path, "email,zip\na,1,2\n")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such export file"):
        read_export_file(tmp_path / "nope.csv.gz")


def test_small_blocks_keep_rows_and_errors_aligned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mailtrap_pandas.frames.reader as export_file

    monkeypatch.setattr(export_file, "_BLOCK_SIZE", 64)  # many blocks of a few rows each
    rows = [
        f'x{i}@x.io,"{i};{i + 1}",{i},"t\n{i}",{"subscribed" if i % 2 else "Unsubscribed"}'
        for i in range(200)
    ]
    text = "email,list_ids,age,zip,status\n" + "\n".join(rows) + "\n"
    df = read(tmp_path, text, fields=FIELDS)
    assert len(df) == 200
    assert [list(v) for v in df["list_ids"]][150] == [150, 151]
    assert df["age"].tolist() == list(range(200))
    assert df["zip"][199] == "t\n199"
    assert df["status"][2] == "unsubscribed"
    bad = text.replace('x150@x.io,"150;151",150', 'x150@x.io,"150;oops",150')
    with pytest.raises(ExportParseError, match=r"line 302 \(data row 151\), column 'list_ids'"):
        read(tmp_path, bad, fields=FIELDS)


# -- frame="arrow": the typed columns without pandas -------------------------------------


def test_arrow_frame_is_the_typed_columns_and_status_the_categorical_layout(
    tmp_path: Path,
) -> None:
    text = HEADER + (
        "u1,a@x.io,subscribed,3;7,2026-04-28T12:40:45.519Z,,00501,41,1.5,true,2024-01-02\n"
        "u2,b@x.io,unsubscribed,,,,,,,,\n"
        "u3,c@x.io,,9,,,,,,,\n"
    )
    table = read_export_file(write(tmp_path, text), fields=FIELDS, frame="arrow")
    assert table.column_names == list(contact_dtypes(TYPES))
    types = {f.name: f.type for f in table.schema}
    assert types["status"] == pa.dictionary(pa.int8(), pa.string())
    assert types["list_ids"] == pa.list_(pa.int64())
    assert types["created_at"] == pa.timestamp("ms", "UTC")
    assert (types["age"], types["score"], types["vip"]) == (pa.int64(), pa.float64(), pa.bool_())
    assert (types["born"], types["zip"]) == (pa.date32(), pa.string())
    assert table.column("status").to_pylist() == ["subscribed", "unsubscribed", None]
    assert table.column("list_ids").to_pylist() == [[3, 7], [], [9]]
    assert table.column("born").to_pylist() == [dt.date(2024, 1, 2), None, None]
    # The same cells as the pandas frame.
    df = read(tmp_path, text, fields=FIELDS)
    assert table.column("status").to_pylist() == [
        None if pd.isna(s) else s for s in df["status"].tolist()
    ]


def test_arrow_frame_of_a_header_only_file_is_typed_all_the_same(tmp_path: Path) -> None:
    table = read_export_file(write(tmp_path, HEADER), fields=FIELDS, frame="arrow")
    assert table.num_rows == 0
    types = {f.name: f.type for f in table.schema}
    assert types["status"] == pa.dictionary(pa.int8(), pa.string())
    assert types["list_ids"] == pa.list_(pa.int64()) and types["age"] == pa.int64()


# -- error texts: the row, the column, the cell and what it should have been ---------------


def message(tmp_path: Path, text: str) -> str:
    with pytest.raises(InputError) as info:
        read(tmp_path, text, fields=FIELDS)
    return str(info.value)


@pytest.mark.parametrize(
    ("column", "cells", "bad", "expected"),
    [
        ("vip", ["true", "maybe"], "maybe", "a boolean (true/false, 1/0, yes/no)"),
        ("status", ["subscribed", "bounced"], "bounced", "a status (subscribed/unsubscribed)"),
        ("born", ["2020-01-01", "2020-13-01"], "2020-13-01", "a date (yyyy-mm-dd)"),
        ("created_at", ["2026-01-01T00:00:00Z", "yesterday"], "yesterday", "an ISO-8601 timestamp"),
        ("updated_at", ["1777380045519", "yesterday"], "yesterday", "an ISO-8601 timestamp"),
        # the bad item first in its row ("X" is no packaging to trim)
        ("list_ids", ["3", "X;4"], "X;4", "a list of list ids (such as 3;7)"),
        ("score", ["1.5", "1_5"], "1_5", "a float"),  # Python's float() reads 1_5, we don't
        # just below the lowest int64: the first cell out of range is named
        ("age", ["5", "-9223372036854775809"], "-9223372036854775809", "an integer"),
    ],
    ids=["boolean", "status", "date", "timestamp", "epoch-and-iso", "list-ids", "float", "int64"],
)
def test_an_unreadable_cell_is_named_with_its_row_line_column_and_type(
    tmp_path: Path, column: str, cells: list[str], bad: str, expected: str
) -> None:
    text = f"email,{column}\n" + "".join(f"x{i},{c}\n" for i, c in enumerate(cells))
    assert message(tmp_path, text) == (
        f"export file, line 3 (data row 2), column {column!r}: cannot read {bad!r} as {expected}"
    )


def test_the_first_unreadable_integer_is_named_after_every_readable_one(tmp_path: Path) -> None:
    # Arrow refuses the column; the cells are then checked one by one: each readable
    # int64 (the lowest, small ones either side of zero) passes, "1_000" (Python's int()
    # reads it) does not.
    cells = ["-9223372036854775808", "127", "-127", "9223372036854775807", "1_000"]
    text = "email,age\n" + "".join(f"x{i},{c}\n" for i, c in enumerate(cells))
    assert message(tmp_path, text) == (
        "export file, line 6 (data row 5), column 'age': cannot read '1_000' as an integer"
    )


def test_the_first_date_with_a_time_of_day_is_named_after_plain_dates_and_midnights(
    tmp_path: Path,
) -> None:
    cells = ["2020-01-01", "2020-01-01T00:00:00Z", "2020-01-02T10:00:00Z"]
    text = "email,born\n" + "".join(f"x{i},{c}\n" for i, c in enumerate(cells))
    assert message(tmp_path, text) == (
        "export file, line 4 (data row 3), column 'born': "
        "cannot read '2020-01-02T10:00:00Z' as a date (yyyy-mm-dd)"
    )


def test_a_column_arrow_refuses_but_no_cell_of_is_named_without_a_row(tmp_path: Path) -> None:
    # Full-width digits: Python's int() reads them, Arrow does not. No cell to point at.
    assert message(tmp_path, "email,age\nx,\uff15\n") == (
        "export file, column 'age': cannot read it as an integer"
    )


def test_iso_timestamps_of_every_zone_and_precision_in_one_column(tmp_path: Path) -> None:
    # Sub-millisecond digits, an offset and a naive time together: no single format.
    cells = ["2026-04-28T12:40:45.519999Z", "2026-04-28T14:40:45.5+02:00", "2026-04-28 12:40:45"]
    text = "email,created_at\n" + "".join(f"x{i},{c}\n" for i, c in enumerate(cells))
    df = read(tmp_path, text)
    assert df["created_at"].tolist() == [
        ts("2026-04-28T12:40:45.519Z"),
        ts("2026-04-28T12:40:45.500Z"),
        ts("2026-04-28T12:40:45Z"),
    ]


@pytest.mark.parametrize(
    "cell",
    [" 2026-04-28T14:40:45.519+02:00 ", " 2026-04-28T12:40:45.519 "],  # zoned, naive (= UTC)
    ids=["zoned", "naive"],
)
def test_common_iso_timestamps_are_read_by_arrow_not_by_pandas_parser(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cell: str
) -> None:
    # pandas' parser is the slow path (a Python object per cell): only for what Arrow's
    # parsers cannot read. Stray spaces are trimmed first.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandas' ISO-8601 parser used")

    monkeypatch.setattr(pd, "to_datetime", refuse)
    table = read_export_file(write(tmp_path, f"email,created_at\na,{cell}\n"), frame="arrow")
    assert table.column("created_at").to_pylist() == [ts("2026-04-28T12:40:45.519Z")]


def test_an_unreadable_first_row_is_on_the_line_after_the_header(tmp_path: Path) -> None:
    # A header over two lines (a quoted newline in "E-mail"'s cell): data row 1 is on line 3.
    assert message(tmp_path, '"E\nmail",age\nx,abc\n') == (
        "export file, line 3 (data row 1), column 'age': cannot read 'abc' as an integer"
    )


def test_the_parse_error_without_a_line_names_the_row_and_keeps_every_part() -> None:
    # The line is None when the file cannot be read again to count it.
    error = ExportParseError("age", 2, None, "abc", "an integer")
    assert str(error) == "export file, data row 2, column 'age': cannot read 'abc' as an integer"
    assert (error.column, error.row, error.line, error.value) == ("age", 2, None, "abc")


def test_an_unreadable_list_in_the_first_row_is_data_row_1(tmp_path: Path) -> None:
    assert message(tmp_path, "email,list_ids\nx,3;y\nz,4\n") == (
        "export file, line 2 (data row 1), column 'list_ids': "
        "cannot read '3;y' as a list of list ids (such as 3;7)"
    )


def test_a_header_name_loses_a_byte_order_mark_of_its_own() -> None:
    # The file's BOM is gone with utf-8-sig; a name handed over with one still matches.
    assert normalize_header("\ufeff Email Address ") == "email_address"
    assert normalize_header("Zip\ufeff") == "zip\ufeff"  # only a leading one is a BOM
    assert normalize_header("X-Mailer") == "x_mailer"  # the BOM alone, not other letters
