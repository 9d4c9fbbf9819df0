"""frames/columns.py: column names as keys, Arrow values back to the type table's pandas dtypes."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailtrap_pandas.frames.coerce import coerce
from mailtrap_pandas.frames.columns import (
    _TOKEN_START,
    MISSING_TOKENS,
    as_mask,
    column_key,
    missing_strings,
    to_pandas,
)
from mailtrap_pandas.frames.dtypes import TYPE_TABLE, field_type


@pytest.mark.parametrize("data_type", list(TYPE_TABLE))
def test_to_pandas_gives_the_type_table_dtype(data_type: str) -> None:
    c = coerce(pd.Series([None], dtype=object), data_type)
    assert to_pandas(c.values, data_type).dtype == field_type(data_type).dtype


@pytest.mark.parametrize(
    ("name", "key"),
    [("First Name", "first_name"), ("first-name", "first_name"), (" FIRST__NAME ", "first_name")]
    + [(3, "3"), ("E-mail", "e_mail"), ("Prénom", "prénom")],
)
def test_column_key(name: object, key: str) -> None:
    assert column_key(name) == key


def _is_missing(value: str | None) -> bool:
    return value is None or value.lower() in MISSING_TOKENS


_TOKENISH = ["", "nan", "NaN", "NONE", "Null", "<NA>", "<na>", "N/A", "#n/a", "#N/A", "NaT"]
_NOT_TOKENS = ["NA", "na", "nann", "nul", "Company 7", "n", "#", "<", " nan", "\u212anan", "\u0130"]


@given(
    values=st.lists(
        st.none() | st.sampled_from(_TOKENISH + _NOT_TOKENS) | st.text(max_size=24), max_size=40
    ),
    start=st.integers(0, 3),
)
def test_missing_strings_finds_exactly_the_tokens(values: list[str | None], start: int) -> None:
    # Only values whose first byte can start a token are lower-cased and looked up: the
    # answer must be the same as looking up every value, also in a slice of an array.
    arr = pa.array(["x"] * start + values, pa.string()).slice(start)
    assert missing_strings(arr).tolist() == [_is_missing(v) for v in values]


def test_only_the_token_start_bytes_lower_case_to_a_token_start() -> None:
    # missing_strings looks up only values starting with one of these bytes: every
    # character of Unicode that Arrow lower-cases to a token's first character is one.
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    lowered = pc.utf8_lower(pa.array(chars)).to_pylist()
    firsts = {t[:1] for t in MISSING_TOKENS} - {""}
    starts = {c for c, low in zip(chars, lowered, strict=True) if low[:1] in firsts}
    assert starts and all(c.isascii() and _TOKEN_START[ord(c)] for c in starts)
    assert _TOKEN_START.sum() == len(starts)  # and no byte that starts none


@given(
    values=st.lists(st.none() | st.booleans(), max_size=70),
    start=st.integers(0, 9),
    chunked=st.booleans(),
)
def test_as_mask_reads_the_bitmaps_at_any_offset(
    values: list[bool | None], start: int, chunked: bool
) -> None:
    arr = pa.array([True] * start + values, pa.bool_()).slice(start)
    got = as_mask(pa.chunked_array([arr[:3], arr[3:]], pa.bool_()) if chunked else arr)
    assert got.dtype == bool and got.tolist() == [v is True for v in values]
