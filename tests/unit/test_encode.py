"""The import body encoder: exact round trip, chunk boundaries, nulls, list ids, hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math

import numpy as np
import orjson
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.encode import (
    _FEW,
    _SLICE,
    MAX_CHUNK_SIZE,
    _escaped,
    _row_bytes,
    check_chunk_size,
    encode_chunks,
)

FIELDS = {"name": "text", "age": "integer", "score": "float", "vip": "boolean", "born": "date"}
DTYPES = {
    "name": "string[pyarrow]",
    "age": "Int64",
    "score": "Float64",
    "vip": "boolean",
    "born": pd.ArrowDtype(pa.date32()),
}


def frame(rows: list[dict[str, object]], index: list[object] | None = None) -> pd.DataFrame:
    """A typed frame like ``ValidationReport.valid``."""
    data = {"email": pd.array([r["email"] for r in rows], dtype="string[pyarrow]")}
    for tag, dtype in DTYPES.items():
        data[tag] = pd.array([r.get(tag) for r in rows], dtype=dtype)
    return pd.DataFrame(data, index=index)


def decode(body: bytes) -> list[dict[str, object]]:
    parsed = json.loads(body)
    assert list(parsed) == ["contacts"]
    contacts: list[dict[str, object]] = parsed["contacts"]
    return contacts


def expected_fields(row: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for tag in FIELDS:
        value = row.get(tag)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        out[tag] = value.isoformat() if isinstance(value, dt.date) else value
    return out


# -- round trip ----------------------------------------------------------------------------

text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40
)  # any unicode incl. control chars, quotes, backslashes
floats = st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
    [5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.1, 1 / 3, 1e16]
)
ints = st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.sampled_from(
    [-(2**63), 2**63 - 1, 0]
)
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
row = st.fixed_dictionaries(
    {"email": text},
    optional={
        "name": st.none() | text,
        "age": st.none() | ints,
        "score": st.none() | floats,
        "vip": st.none() | st.booleans(),
        "born": st.none() | dates,
    },
)


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(row, min_size=1, max_size=30), size=st.integers(1, 7))
def test_round_trip_is_exact(rows: list[dict[str, object]], size: int) -> None:
    df = frame(rows, index=[f"r{i}" for i in range(len(rows))])
    chunks = list(encode_chunks(df, FIELDS, chunk_size=size))
    assert [c.number for c in chunks] == list(range(len(chunks)))
    decoded = [c for chunk in chunks for c in decode(chunk.body)]
    assert len(decoded) == len(rows)
    for got, want in zip(decoded, rows, strict=True):
        assert got["email"] == want["email"]
        fields = expected_fields(want)
        if fields:
            assert got["fields"] == fields
            for tag, value in fields.items():  # exact types too: 1.0 stays a float
                assert type(got["fields"][tag]) is type(value)  # type: ignore[index]
                if isinstance(value, float):
                    assert math.copysign(1, got["fields"][tag]) == math.copysign(1, value)  # type: ignore[index]
        else:
            assert "fields" not in got
    labels = [label for c in chunks for label in c.index]
    assert labels == list(df.index)


def test_floats_shortest_round_trip_form() -> None:
    df = frame([{"email": "a@x.io", "score": v} for v in (0.1, 1.0, 1e300, 5e-324, 1 / 3)])
    body = next(encode_chunks(df, {"score": "float"})).body
    assert b'"score":0.1}' in body and b'"score":1.0}' in body
    assert b'"score":1e+300}' in body and b'"score":5e-324}' in body
    assert b'"score":0.3333333333333333}' in body


def test_nan_is_missing_and_infinity_is_refused() -> None:
    df = pd.DataFrame(
        {"email": ["a@x.io", "b@x.io"], "score": pd.array([np.nan, 1.5], dtype="Float64")}
    )
    # Float64 keeps NaN apart from <NA>; NaN can't be JSON either way: treat it as missing.
    df.loc[0, "score"] = np.nan
    got = decode(next(encode_chunks(df, {"score": "float"})).body)
    assert got == [{"email": "a@x.io"}, {"email": "b@x.io", "fields": {"score": 1.5}}]
    bad = pd.DataFrame({"email": ["a@x.io"], "score": pd.array([np.inf], dtype="Float64")})
    with pytest.raises(InputError, match="score"):
        list(encode_chunks(bad, {"score": "float"}))


def test_control_characters_and_escapes() -> None:
    nasty = 'q"\\\n\t\x00\x1f\u2028é😀'
    df = frame([{"email": "a@x.io", "name": nasty}, {"email": 'b"@x', "name": "plain"}])
    body = next(encode_chunks(df, FIELDS)).body
    assert b"\n" not in body and b"\x00" not in body
    assert decode(body)[0]["fields"] == {"name": nasty}
    assert decode(body)[1] == {"email": 'b"@x', "fields": {"name": "plain"}}


# -- nulls, list ids, columns ---------------------------------------------------------------


def test_missing_values_are_left_out() -> None:
    df = frame(
        [
            {"email": "a@x.io", "name": None, "age": 3},
            {"email": "b@x.io"},
        ]
    )
    got = decode(next(encode_chunks(df, FIELDS)).body)
    assert got == [{"email": "a@x.io", "fields": {"age": 3}}, {"email": "b@x.io"}]


def test_list_ids_on_every_contact() -> None:
    df = frame([{"email": "a@x.io"}, {"email": "b@x.io", "vip": False}])
    chunk = next(
        encode_chunks(df, FIELDS, list_ids_included=[3, 4], list_ids_excluded=np.array([9]))
    )
    got = decode(chunk.body)
    assert got[0] == {"email": "a@x.io", "list_ids_included": [3, 4], "list_ids_excluded": [9]}
    assert got[1]["fields"] == {"vip": False}
    with pytest.raises(InputError, match="both included and excluded"):
        list(encode_chunks(df, FIELDS, list_ids_included=[1], list_ids_excluded=[1]))
    with pytest.raises(InputError, match="integers"):
        list(encode_chunks(df, FIELDS, list_ids_included=["3"]))  # type: ignore[list-item]


def test_only_listed_fields_are_sent() -> None:
    df = frame([{"email": "a@x.io", "name": "n", "age": 1}]).assign(extra="x")
    got = decode(next(encode_chunks(df, {"age": "integer"})).body)
    assert got == [{"email": "a@x.io", "fields": {"age": 1}}]


# -- chunking -------------------------------------------------------------------------------


def emails_frame(n: int) -> pd.DataFrame:
    emails = pd.array([f"u{i}@x.io" for i in range(n)], dtype="string[pyarrow]")
    return pd.DataFrame({"email": emails}, index=pd.RangeIndex(100, 100 + n))


@pytest.mark.parametrize(
    ("n", "size", "sizes"),
    [
        (0, 50_000, []),
        (1, 50_000, [1]),
        (50_000, 50_000, [50_000]),
        (50_001, 50_000, [50_000, 1]),
        (7, 3, [3, 3, 1]),
        (3, 1, [1, 1, 1]),
    ],
)
def test_chunk_boundaries(n: int, size: int, sizes: list[int]) -> None:
    chunks = list(encode_chunks(emails_frame(n), {}, chunk_size=size))
    assert [c.rows for c in chunks] == sizes
    assert [len(decode(c.body)) for c in chunks] == sizes
    if chunks:
        assert chunks[0].index[0] == 100 and chunks[-1].index[-1] == 100 + n - 1
        assert list(chunks[-1].emails) == [f"u{i}@x.io" for i in range(n - sizes[-1], n)]


@pytest.mark.parametrize("bad", [0, -1, 50_001, 1.5, True, "10"])
def test_chunk_size_limits(bad: object) -> None:
    with pytest.raises(InputError, match="chunk_size"):
        list(encode_chunks(emails_frame(3), {}, chunk_size=bad))  # type: ignore[arg-type]
    assert check_chunk_size(MAX_CHUNK_SIZE) == 50_000 and check_chunk_size(1) == 1


def test_hash_is_the_body_hash_and_stable() -> None:
    df = frame([{"email": f"u{i}@x.io", "age": i} for i in range(10)])
    a = list(encode_chunks(df, FIELDS, chunk_size=4))
    b = list(encode_chunks(df.copy(), FIELDS, chunk_size=4))
    assert [c.sha256 for c in a] == [c.sha256 for c in b]
    assert all(c.sha256 == hashlib.sha256(c.body).hexdigest() for c in a)
    assert len({c.sha256 for c in a}) == 3
    # Different list ids are a different request: a different identity.
    c = list(encode_chunks(df, FIELDS, chunk_size=4, list_ids_included=[1]))
    assert not {x.sha256 for x in a} & {x.sha256 for x in c}


def test_start_numbers_chunks_across_a_stream() -> None:
    chunks = list(encode_chunks(emails_frame(5), {}, chunk_size=2, start=7))
    assert [c.number for c in chunks] == [7, 8, 9]


def test_missing_email_is_refused() -> None:
    df = pd.DataFrame({"email": pd.array(["a@x.io", None], dtype="string[pyarrow]")})
    with pytest.raises(InputError, match="email"):
        list(encode_chunks(df, {}))


# -- slices, Arrow inputs, other dtypes (the mutation run found these untested) -------------


def test_field_columns_are_sliced_with_the_emails() -> None:
    # More rows than one slice (encoded at once inside a chunk): each slice's field values
    # stay with its emails.
    n = _SLICE + 5
    df = pd.DataFrame(
        {
            "email": pd.array([f"u{i}@x.io" for i in range(n)], dtype="string[pyarrow]"),
            "age": pd.array([i if i % 3 else None for i in range(n)], dtype="Int64"),
            "name": pd.array([f"n{i}" for i in range(n)], dtype="string[pyarrow]"),
        }
    )
    got = decode(next(encode_chunks(df, {"age": "integer", "name": "text"})).body)
    assert len(got) == n
    for i in (_SLICE - 1, _SLICE, _SLICE + 1, n - 1):  # every third row has no age
        fields = {"age": i, "name": f"n{i}"} if i % 3 else {"name": f"n{i}"}
        assert got[i] == {"email": f"u{i}@x.io", "fields": fields}


def test_multi_chunk_arrow_columns_are_encoded() -> None:
    def chunked(*parts: list[object], type_: pa.DataType) -> pd.Series:
        return pd.Series(pd.array(pa.chunked_array(list(parts), type_), dtype=pd.ArrowDtype(type_)))

    df = pd.DataFrame(
        {
            "email": chunked(["a@x.io"], ["b@x.io", "c@x.io"], type_=pa.string()),
            "name": chunked(["x"], ["y", None], type_=pa.string()),
            "born": chunked([dt.date(2024, 1, 2)], [None, dt.date(2024, 3, 4)], type_=pa.date32()),
        }
    )
    assert df["email"].array._pa_array.num_chunks == 2  # type: ignore[attr-defined]
    got = decode(next(encode_chunks(df, {"name": "text", "born": "date"})).body)
    assert got == [
        {"email": "a@x.io", "fields": {"name": "x", "born": "2024-01-02"}},
        {"email": "b@x.io", "fields": {"name": "y"}},
        {"email": "c@x.io", "fields": {"born": "2024-03-04"}},
    ]


def test_a_date_field_of_python_dates_with_nan_for_missing() -> None:
    df = pd.DataFrame(
        {"email": ["a@x.io", "b@x.io"], "born": pd.Series([dt.date(2024, 1, 2), np.nan])}
    )
    assert df["born"].dtype == object
    got = decode(next(encode_chunks(df, {"born": "date"})).body)
    assert got == [{"email": "a@x.io", "fields": {"born": "2024-01-02"}}, {"email": "b@x.io"}]


def test_a_datetime64_column_for_a_date_field_is_sent_as_a_date() -> None:
    df = pd.DataFrame(
        {
            "email": ["a@x.io", "b@x.io"],
            "born": pd.to_datetime(["2024-01-02", None]),
        }
    )
    got = decode(next(encode_chunks(df, {"born": "date"})).body)
    assert got == [{"email": "a@x.io", "fields": {"born": "2024-01-02"}}, {"email": "b@x.io"}]


@pytest.mark.parametrize("ids", [3, np.int64(3), [3], (3,), np.array([3])])
def test_a_single_list_id_may_be_a_bare_int(ids: object) -> None:
    chunk = next(encode_chunks(emails_frame(1), {}, list_ids_included=ids))  # type: ignore[arg-type]
    assert decode(chunk.body) == [{"email": "u0@x.io", "list_ids_included": [3]}]


def test_excluded_lists_alone() -> None:
    chunk = next(encode_chunks(emails_frame(1), {}, list_ids_excluded=5))  # type: ignore[arg-type]
    assert chunk.body == b'{"contacts":[{"email":"u0@x.io","list_ids_excluded":[5]}]}'


def test_error_texts_name_the_argument_the_row_and_the_column() -> None:
    df = emails_frame(2)
    with pytest.raises(InputError) as info:
        list(encode_chunks(df, {}, list_ids_excluded=[1, True]))
    assert str(info.value) == "exclude_list_ids must be integers (list ids), got True"
    with pytest.raises(InputError) as info:
        list(encode_chunks(df, {}, list_ids_included=["3"]))  # type: ignore[list-item]
    assert str(info.value) == "list_ids must be integers (list ids), got '3'"
    with pytest.raises(InputError) as info:
        list(encode_chunks(df, {}, list_ids_included=[2, 1], list_ids_excluded=[1, 2]))
    assert str(info.value) == "list ids [1, 2] are both included and excluded"
    with pytest.raises(InputError) as info:
        check_chunk_size(60_000)
    assert str(info.value) == (
        "chunk_size must be between 1 and 50,000 (the API's limit per import), got 60,000"
    )
    with pytest.raises(InputError) as info:
        check_chunk_size("7")  # type: ignore[arg-type]
    assert str(info.value) == "chunk_size must be an integer, got '7'"
    assert check_chunk_size(np.int64(7)) == 7  # type: ignore[arg-type]
    bad = pd.DataFrame(
        {"email": ["a@x.io", "b@x.io"], "score": pd.array([1.0, np.inf], dtype="Float64")},
        index=["first", "second"],
    )
    with pytest.raises(InputError) as info:
        list(encode_chunks(bad, {"score": "float"}))
    assert str(info.value) == "row 'second', column 'score': infinity cannot be sent as JSON"
    with pytest.raises(InputError) as info:
        list(encode_chunks(df.assign(x=1), {"x": "money"}))
    assert str(info.value) == "column 'x': unknown Mailtrap data_type 'money'"
    with pytest.raises(InputError) as info:
        list(encode_chunks(df.rename(columns={"email": "mail"}), {}))
    assert str(info.value) == "the frame has no 'email' column"
    with pytest.raises(InputError) as info:
        list(encode_chunks(pd.DataFrame({"email": ["a@x.io", None]}), {}))
    assert str(info.value) == "every row needs an email; validate the frame first"


def test_chunk_repr_and_rows() -> None:
    chunk = next(encode_chunks(emails_frame(2), {}))
    assert chunk.rows == 2
    assert repr(chunk) == (
        f"Chunk(number=0, rows=2, bytes={len(chunk.body)}, sha256={chunk.sha256[:12]}...)"
    )


def test_a_value_validation_blanked_stays_missing_whatever_its_bytes() -> None:
    # Validation nulls a blank or a "nan" without copying the strings: the bytes stay
    # under the null. A control character there must not bring the value back.
    from mailtrap_pandas.frames.validate import validate

    df = pd.DataFrame({"email": ["a@x.io", "b@x.io", "c@x.io"], "name": ["\n", ' "q\\\t', "nan"]})
    spec = [{"name": "Name", "data_type": "text", "merge_tag": "name"}]
    report = validate(df, fields=spec)
    (chunk,) = encode_chunks(report.valid, report.fields)
    assert decode(chunk.body) == [
        {"email": "a@x.io"},
        {"email": "b@x.io", "fields": {"name": ' "q\\\t'}},
        {"email": "c@x.io"},
    ]


def test_control_characters_only_under_nulls_leave_the_values_missing() -> None:
    # The only control character of the column is under a null (validation blanked
    # "\n"): the escaped values of that null alone are all None, still a string column.
    from mailtrap_pandas.frames.validate import validate

    df = pd.DataFrame({"email": ["a@x.io", "b@x.io"], "name": ["\n", "plain"]})
    spec = [{"name": "Name", "data_type": "text", "merge_tag": "name"}]
    report = validate(df, fields=spec)
    (chunk,) = encode_chunks(report.valid, report.fields)
    assert decode(chunk.body) == [
        {"email": "a@x.io"},
        {"email": "b@x.io", "fields": {"name": "plain"}},
    ]


def test_escaping_a_slice_reads_only_the_slice() -> None:
    # pandas 2's string[pyarrow] is Arrow `string`: each chunk escapes a zero-copy slice
    # of the column, whose offsets buffer goes on into the next rows.
    column = pa.array(["plain", "a\nb", 'q"'], pa.string())
    assert _escaped(column.slice(0, 1)).to_pylist() == ["plain"]
    assert _escaped(column.slice(1, 1)).to_pylist() == ["a\\nb"]
    assert _escaped(column.slice(2, 1)).to_pylist() == ['q\\"']


def test_row_bytes_are_the_rows_of_a_slice_only() -> None:
    rows = pa.array(["ab,", "cd,", "ef,"], pa.string())
    assert bytes(_row_bytes(rows.slice(1, 1))) == b"cd,"
    assert bytes(_row_bytes(rows.slice(1, 2))) == b"cd,ef,"


@pytest.mark.parametrize("special", ["\\", '"', "\n"])
def test_each_escape_alone_and_only_in_its_own_chunk(special: str) -> None:
    # One kind of special character at a time, in the row after a chunk boundary: each
    # chunk escapes what its own rows hold, and nothing of the next chunk's bytes.
    name = f"a{special}b"
    df = frame([{"email": "a@x.io", "name": "plain"}, {"email": "b@x.io", "name": name}])
    chunks = list(encode_chunks(df, {"name": "text"}, chunk_size=1))
    assert decode(chunks[0].body) == [{"email": "a@x.io", "fields": {"name": "plain"}}]
    assert decode(chunks[1].body) == [{"email": "b@x.io", "fields": {"name": name}}]


def _reference(df: pd.DataFrame, fields: dict[str, str]) -> bytes:
    """The body as orjson writes it, a dict per row (for fields orjson writes as we do)."""
    contacts = []
    for rec in df.astype(object).to_dict("records"):
        values = {t: rec[t] for t in fields if rec[t] is not pd.NA and rec[t] is not None}
        contacts.append(
            {"email": rec["email"], "fields": values} if values else {"email": rec["email"]}
        )
    return b'{"contacts":[' + b",".join(orjson.dumps(c) for c in contacts) + b"]}"


@pytest.mark.parametrize(
    "ages",
    [
        [18, None, 90, 18, -3],  # a few values: written from a table of their texts
        [2**63 - 1, None, 2**63 - 2],  # a small range at the ends of int64
        [-(2**63), -(2**63) + 1, None],
        [0, _FEW - 1, 5],  # the widest range still written from a table
        [0, _FEW, 5],  # one wider: cast value by value
        [-(2**63), 2**63 - 1],
        [None, None],
    ],
)
def test_integers_and_booleans_are_the_bytes_of_a_dict_per_row(ages: list[int | None]) -> None:
    n = len(ages)
    df = pd.DataFrame(
        {
            "email": [f"u{i}@x.io" for i in range(n)],
            "vip": pd.array([True, None, False, True, False, None, True][:n], "boolean"),
            "age": pd.array(ages, "Int64"),
            "name": pd.array(["a", None, 'q"', "b", None, "c", "d"][:n], "string"),
        }
    )
    fields = {"vip": "boolean", "age": "integer", "name": "text"}
    for size in (1, 2, n):
        bodies = [c.body for c in encode_chunks(df, fields, chunk_size=size)]
        assert bodies == [_reference(df.iloc[i : i + size], fields) for i in range(0, n, size)]


@pytest.mark.parametrize(
    ("first", "span"),
    [
        (dt.date(2020, 1, 1), 30),  # a few dates: written from a table of their texts
        (dt.date(1, 1, 1), 5),  # a small range at both ends of the calendar
        (dt.date(9999, 12, 26), 5),
        (dt.date(1969, 12, 1), _FEW - 1),  # the widest range still written from a table
        (dt.date(1969, 12, 1), _FEW),  # one wider: cast value by value
    ],
)
def test_dates_are_the_bytes_of_a_dict_per_row(first: dt.date, span: int) -> None:
    days = [0, span, None, span // 2, 1, None]
    df = pd.DataFrame(
        {
            "email": [f"u{i}@x.io" for i in range(len(days))],
            "born": pd.array(
                [None if d is None else first + dt.timedelta(days=d) for d in days],
                pd.ArrowDtype(pa.date32()),
            ),
            "vip": pd.array([True, None, False, True, False, None], "boolean"),
        }
    )
    fields = {"born": "date", "vip": "boolean"}
    for size in (1, 4, len(days)):
        bodies = [c.body for c in encode_chunks(df, fields, chunk_size=size)]
        assert bodies == [
            _reference(df.iloc[i : i + size], fields) for i in range(0, len(days), size)
        ]


def test_a_float_column_with_integral_values_across_the_slices_of_a_chunk() -> None:
    # The ".0" tail of integral floats is sliced with its values, slice by slice.
    n = _SLICE + 3
    scores = [float(i) if i % 2 else i + 0.5 for i in range(n)]
    df = pd.DataFrame(
        {"email": [f"u{i}@x.io" for i in range(n)], "score": pd.array(scores, "Float64")}
    )
    (chunk,) = encode_chunks(df, {"score": "float"})
    assert [c["fields"]["score"] for c in decode(chunk.body)] == scores
    assert b'"score":1.0}' in chunk.body and b'"score":0.5}' in chunk.body
