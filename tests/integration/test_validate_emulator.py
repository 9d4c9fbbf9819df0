"""validate() and build_schema() against the emulator's live custom fields, over HTTP.

The fields come from ``GET .../contacts/fields`` of the emulator; the valid rows
are then imported through the encoder, and the emulator (which enforces the
API's own rules) must accept every one of them and store the typed values.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import mailtrap_pandas.accessor  # noqa: F401  (registers df.mailtrap)
from mailtrap_pandas import Client, ConfigurationError
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.frames.encode import encode_chunks
from mailtrap_pandas.frames.validate import Reason
from mailtrap_pandas.jobs.validation import build_schema, validate
from tests.helpers import wait_for

FIELDS = [
    {"name": "First name", "data_type": "text", "merge_tag": "first_name"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]


@pytest.fixture(autouse=True)
def seed_account(emu: Emulator) -> None:
    """The session's emulator (tests/conftest.py), reset, with this module's fields."""
    emu.seed(fields=FIELDS)


def import_valid(client: Client, report: Any) -> None:
    """Send the valid rows as the import pipeline would, and wait for the job."""
    for chunk in encode_chunks(report.valid, report.fields):
        created = client.imports.create(chunk.body)
        job = wait_for(functools.partial(client.imports.get, created["id"]))
        assert job["status"] == "finished", job


def test_every_data_type_round_trips_through_the_emulator(client: Client) -> None:
    df = pd.DataFrame(
        {
            "Email": [" Ann@Example.COM ", "bob@x.io", "cy@x.io"],
            "First Name": ["Ann", "nan", "  Cy  "],
            "AGE": ["42", 7.0, None],
            "score": ["1.5", np.nan, 2],
            "VIP": ["yes", 0, None],
            "born": ["2024-03-01", dt.date(2020, 1, 2), pd.NaT],
        }
    )
    report = df.mailtrap.validate(client)
    assert report.ok, report.failures
    assert report.column_map == {
        "Email": "email",
        "First Name": "first_name",
        "AGE": "age",
        "score": "score",
        "VIP": "vip",
        "born": "born",
    }
    import_valid(client, report)
    ann = client.contacts.get("Ann@example.com")
    assert ann["fields"] == {
        "first_name": "Ann",
        "age": 42,
        "score": 1.5,
        "vip": True,
        "born": "2024-03-01",
    }
    bob = client.contacts.get("bob@x.io")["fields"]
    assert "first_name" not in bob or bob["first_name"] is None  # never the text "nan"
    assert client.contacts.get("cy@x.io")["fields"]["first_name"] == "  Cy  "


def test_every_reason_code_against_live_fields(client: Client) -> None:
    df = pd.DataFrame(
        {
            "email": ["a@x.io", None, "bad", "d@x.io", "e@x.io", "E@x.io", "g@x.io"],
            "first_name": ["x" * 256, "ok", "ok", "ok", "ok", "ok", None],
            "age": ["4.5", "x", 1, 2**63, 1, 1, 1],
            "score": [np.inf, 1, 1, 1, 1, 1, 1],
            "vip": ["maybe", True, True, True, True, True, True],
            "born": [
                "01/02/03",
                "2024-01-01 10:00",
                None,
                "2024-01-01",
                "2024-01-01",
                "2024-01-01",
                "2024-01-01",
            ],
            "notes": "x",
        },
        index=pd.MultiIndex.from_arrays([list("aabbccd"), range(7)]),
    )
    report = validate(df, client, dedupe="error", nulls="error", unknown="error")
    found = set(report.failures["reason"])
    # All twelve validation codes in one report (the rest of Reason is for imports and events).
    later = {"server_rejected", "import_failed", "submit_failed", "uncertain"}
    later |= {"invalid_name", "contact_not_found", "not_sent", "outcome_unknown"}
    assert found == {r.value for r in Reason} - later
    assert set(report.failures["row"].dropna()) <= set(df.index)
    assert report.n_valid + report.n_failed_rows + report.n_duplicates == len(df)


def test_odd_frames(client: Client) -> None:
    empty = pd.DataFrame({"email": pd.Series([], dtype="string[pyarrow]")})
    assert validate(empty, client).ok
    one = pd.DataFrame({"email": pd.Series(["a@x.io"], dtype="category")})
    assert validate(one, client).n_valid == 1
    arrow = pd.DataFrame(
        {
            "email": pd.Series(["a@x.io", "b@x.io"], dtype=pd.ArrowDtype(pa.string())),
            "age": pd.Series([1, None], dtype=pd.ArrowDtype(pa.int64())),
            0: [1, 2],
        }
    )
    arrow.index = pd.MultiIndex.from_tuples([("x", 1), ("x", 2)])
    report = validate(arrow, client)
    assert report.ok and report.unknown_columns == [0]
    assert report.valid.index.tolist() == [("x", 1), ("x", 2)]
    import_valid(client, report)
    assert client.contacts.get("a@x.io")["fields"]["age"] == 1


def test_build_schema_from_the_client(client: Client) -> None:
    schema = build_schema(client)
    assert list(schema.columns) == ["email"] + [f["merge_tag"] for f in FIELDS]
    assert str(schema.columns["age"].dtype) == "Int64"
    assert validate(pd.DataFrame({"email": ["a@x.io"], "age": ["1"]}), schema=schema).ok
    assert "age" in pd.DataFrame({"email": ["a@x.io"]}).mailtrap.schema(client).columns


def test_no_client_and_no_token_points_at_the_emulator() -> None:
    with pytest.raises(ConfigurationError, match="emulator"):
        pd.DataFrame({"email": ["a@x.io"]}).mailtrap.validate()
