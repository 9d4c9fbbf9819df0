"""Lossless round trip: frame valid under the type table -> import -> export -> read_export.

Values and dtypes must come back equal. Proven against the emulator over HTTP.

What counts as valid text: any Unicode string of 1..255 code points without lone
surrogates (they cannot be encoded as UTF-8, so neither JSON nor CSV can carry
them). NUL, control characters, BOM, line and paragraph separators, quotes,
commas and newlines are all valid and round-trip. The empty string is "missing"
(an empty cell in the export), so it is not generated. A bare carriage return
is excluded from the generator: see :func:`test_bare_carriage_return`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailtrap_pandas.api.client import Client
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.frames.dtypes import CONTACT_COLUMNS, contact_dtypes, field_type
from mailtrap_pandas.jobs.exports import read_export

FIELDS = [
    {"name": "Zip", "data_type": "text", "merge_tag": "zip"},
    {"name": "Note", "data_type": "text", "merge_tag": "note"},
    {"name": "Visits", "data_type": "integer", "merge_tag": "visits"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]
TYPES = {f["merge_tag"]: f["data_type"] for f in FIELDS}
N_LISTS = 3

_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)),
    min_size=1,
    max_size=255,
)
VALUES: dict[str, st.SearchStrategy[Any]] = {
    # Zip codes: leading zeros are the classic casualty of a CSV round trip.
    "zip": st.from_regex(r"\A0[0-9]{1,9}\Z") | _text,
    "note": _text,
    "visits": st.integers(-(2**63), 2**63 - 1) | st.sampled_from([-(2**63), 2**63 - 1, 0]),
    "score": st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([5e-324, 2.2250738585072014e-308, 0.1 + 0.2, 1 / 3, -0.0]),
    "vip": st.booleans(),
    "born": st.dates() | st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
}


@st.composite
def contact_frames(draw: st.DrawFn) -> pd.DataFrame:
    """A frame valid under the type table, missing values possible in every field."""
    n = draw(st.integers(0, 6))
    data: dict[str, list[Any]] = {"email": [f"user{i}@example.com" for i in range(n)]}
    data["list_ids"] = [sorted(draw(st.sets(st.integers(0, N_LISTS - 1)))) for _ in range(n)]
    for tag, values in VALUES.items():
        data[tag] = [draw(st.none() | values) for _ in range(n)]
    dtypes = contact_dtypes(TYPES)
    return pd.DataFrame({col: pd.array(vals, dtype=dtypes[col]) for col, vals in data.items()})


def import_bodies(frame: pd.DataFrame, list_ids: list[int]) -> list[dict[str, Any]]:
    """The JSON the type table prescribes for each row (missing values left out)."""
    encode = {
        "text": str,
        "integer": int,
        "float": float,
        "boolean": bool,
        "date": lambda d: d.isoformat(),
    }
    bodies = []
    for row in frame.to_dict("records"):
        fields = {
            tag: encode[field_type(dt_).data_type](row[tag])
            for tag, dt_ in TYPES.items()
            if not pd.isna(row[tag])
        }
        included = [list_ids[i] for i in row["list_ids"]]
        bodies.append({"email": row["email"], "fields": fields, "list_ids_included": included})
    return bodies


def run_import(client: Client, bodies: list[dict[str, Any]]) -> None:
    job = client.imports.create(bodies)
    deadline = time.monotonic() + 20
    while job["status"] not in ("finished", "failed"):
        assert time.monotonic() < deadline, "import did not finish"
        time.sleep(0.02)
        job = client.imports.get(job["id"])
    assert job["status"] == "finished", job


@pytest.fixture(scope="module")
def session_client(emulator_session: Emulator) -> Iterator[Client]:
    """One client for the module: hypothesis runs many examples in one test call, and
    ``round_trip`` resets the session's emulator for each."""
    with emulator_session.client() as client:
        yield client


def round_trip(
    emu: Emulator, client: Client, frame: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Import ``frame`` into a fresh account, export it back: (read_export, expected)."""
    emu.reset()
    seed = emu.seed(fields=FIELDS, lists=[{"name": f"L{i}"} for i in range(N_LISTS)])
    list_ids = [lst["id"] for lst in seed["lists"]]
    if len(frame):
        run_import(client, import_bodies(frame, list_ids))
    out = read_export(client, progress=False, timeout=30)
    # Expected list ids are the seeded ids the frame's positions point at.
    expected = frame.copy()
    expected["list_ids"] = pd.array(
        [[list_ids[i] for i in ids] for ids in frame["list_ids"]], dtype=frame["list_ids"].dtype
    )
    return out, expected


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(frame=contact_frames())
def test_import_export_round_trip(
    emulator_session: Emulator, session_client: Client, frame: pd.DataFrame
) -> None:
    out, expected = round_trip(emulator_session, session_client, frame)
    # Every column of the table, in its dtype, whatever the data.
    assert out.dtypes.to_dict() == contact_dtypes(TYPES)
    out = out.set_index("email").loc[expected["email"]].reset_index()
    pd.testing.assert_frame_equal(out[list(expected.columns)], expected, check_exact=True)
    assert (out["status"] == "subscribed").all()
    for col in ("id", "created_at", "updated_at"):
        assert out[col].notna().all(), col
        assert out[col].dtype == CONTACT_COLUMNS[col]


def test_extremes_in_one_frame(emulator_session: Emulator, session_client: Client) -> None:
    """The edge values side by side (hypothesis may not pair them up)."""
    frame = pd.DataFrame(
        {
            "email": pd.array(["a@x.io", "b@x.io", "c@x.io"], dtype="string[pyarrow]"),
            "list_ids": pd.array([[0, 2], [], [1]], dtype=pd.ArrowDtype(pa.list_(pa.int64()))),
            "zip": pd.array(["00501", "NULL", None], dtype="string[pyarrow]"),
            "note": pd.array(['a,"b"\nc\x00\x1f\u2028\ufeff', " ", "N/A"], dtype="string[pyarrow]"),
            "visits": pd.array([-(2**63), 2**63 - 1, None], dtype="Int64"),
            "score": pd.array([5e-324, 1.7976931348623157e308, 0.1 + 0.2], dtype="Float64"),
            "vip": pd.array([True, False, None], dtype="boolean"),
            "born": pd.array(
                [dt.date(1, 1, 1), dt.date(9999, 12, 31), None], dtype=pd.ArrowDtype(pa.date32())
            ),
        }
    )
    out, expected = round_trip(emulator_session, session_client, frame)
    out = out.sort_values("email", ignore_index=True)
    pd.testing.assert_frame_equal(out[list(expected.columns)], expected, check_exact=True)


def test_bare_carriage_return(emulator_session: Emulator, session_client: Client) -> None:
    dtypes = contact_dtypes(TYPES)
    data = {"email": ["a@x.io"], "list_ids": [[]], "note": ["x\ry"]}
    frame = pd.DataFrame(
        {
            col: pd.array(data.get(col, [None]), dtype=dtypes[col])
            for col in ["email", "list_ids", *TYPES]
        }
    )
    out, expected = round_trip(emulator_session, session_client, frame)
    pd.testing.assert_frame_equal(out[list(expected.columns)], expected, check_exact=True)
