"""read_export against the emulator over HTTP (nothing mocked)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pandas as pd
import pytest

from mailtrap_pandas.api.client import Client
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.frames.dtypes import contact_dtypes
from mailtrap_pandas.jobs.exports import ExportTimeoutError, read_export, read_export_file

FIELDS = [
    {"name": "Zip", "data_type": "text", "merge_tag": "zip"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "VIP", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]
TYPES = {f["merge_tag"]: f["data_type"] for f in FIELDS}


@pytest.fixture
def seeded(emu: Emulator) -> dict[str, Any]:
    emu.reset()
    seed = emu.seed(fields=FIELDS, lists=[{"name": "A"}, {"name": "B"}])
    a, b = (lst["id"] for lst in seed["lists"])
    emu.seed(
        contacts=[
            {
                "email": "a@x.io",
                "fields": {"zip": "00501", "age": 3, "score": 0.1, "vip": True},
                "list_ids": [a],
            },
            {"email": "b@x.io", "fields": {"born": "1900-01-01"}, "list_ids": [a, b]},
            {"email": "c@x.io", "fields": {}, "list_ids": [], "unsubscribed": True},
            {"email": "d@x.io", "fields": {"zip": "a,b\nc"}, "list_ids": [b]},
        ]
    )
    return {"a": a, "b": b}


def test_everything_typed(client: Client, seeded: dict[str, Any]) -> None:
    df = read_export(client, progress=False)
    assert df.dtypes.to_dict() == contact_dtypes(TYPES)
    df = df.set_index("email").sort_index()
    assert list(df.index) == ["a@x.io", "b@x.io", "c@x.io", "d@x.io"]
    assert df.loc["a@x.io", "zip"] == "00501"
    assert df.loc["a@x.io", "age"] == 3
    assert df.loc["a@x.io", "score"] == 0.1
    assert bool(df.loc["a@x.io", "vip"]) is True
    assert str(df.loc["b@x.io", "born"]) == "1900-01-01"
    assert sorted(df.loc["b@x.io", "list_ids"]) == [seeded["a"], seeded["b"]]
    assert list(df.loc["c@x.io", "list_ids"]) == []
    assert df.loc["c@x.io", "status"] == "unsubscribed"
    assert df.loc["d@x.io", "zip"] == "a,b\nc"
    assert pd.isna(df.loc["c@x.io", "age"])
    assert df["created_at"].notna().all() and df["id"].notna().all()


def test_filter_by_list(client: Client, seeded: dict[str, Any]) -> None:
    df = read_export(client, list_ids=[seeded["b"]], progress=False)
    assert sorted(df["email"]) == ["b@x.io", "d@x.io"]


def test_filter_by_status(client: Client, seeded: dict[str, Any]) -> None:
    df = read_export(client, status="unsubscribed", progress=False)
    assert df["email"].tolist() == ["c@x.io"]
    df = read_export(client, list_ids=[seeded["a"]], status="subscribed", progress=False)
    assert sorted(df["email"]) == ["a@x.io", "b@x.io"]


def test_columns_subset(client: Client, seeded: dict[str, Any]) -> None:
    df = read_export(client, columns=["age", "email"], progress=False)
    assert list(df.columns) == ["age", "email"]
    assert df.dtypes.to_dict() == {"age": pd.Int64Dtype(), "email": pd.StringDtype("pyarrow")}


def test_unknown_column_fails_before_any_export(
    emu: Emulator, client: Client, seeded: dict[str, Any]
) -> None:
    before = emu.state()
    with pytest.raises(InputError, match="unknown column"):
        read_export(client, columns=["nope"], progress=False)
    with pytest.raises(InputError, match="status"):
        read_export(client, status="bounced", progress=False)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="list_ids is empty"):
        read_export(client, list_ids=[], progress=False)
    assert emu.state()["exports"] == before["exports"]


def test_empty_account_has_columns_and_dtypes(emu: Emulator, client: Client) -> None:
    emu.reset()
    emu.seed(fields=FIELDS)
    df = read_export(client, progress=False)
    assert len(df) == 0
    assert df.dtypes.to_dict() == contact_dtypes(TYPES)


def test_slow_job_is_polled(emu: Emulator, client: Client, seeded: dict[str, Any]) -> None:
    emu.add_fault(job_delay_s=0.4)
    try:
        before = client.stats["requests"]
        t0 = time.monotonic()
        df = read_export(client, progress=False)
        took = time.monotonic() - t0
    finally:
        emu.clear_faults()
    assert len(df) == 4
    assert took >= 0.4
    # created -> started -> finished at 0.4 s a stage: a handful of polls, not a busy loop.
    polls = client.stats["requests"] - before
    assert 3 <= polls <= 8, polls


def test_waits_for_an_export_already_in_flight(
    emu: Emulator, client: Client, seeded: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    emu.add_fault(job_delay_s=0.5)
    try:
        other = client.exports.create([])  # someone else's export, still running
        assert other["status"] != "finished"
        with caplog.at_level(logging.INFO, logger="mailtrap_pandas.jobs.exports"):
            df = read_export(client, progress=False, timeout=30)
    finally:
        emu.clear_faults()
    assert len(df) == 4
    assert any("previous export" in r.getMessage() for r in caplog.records)
    assert client.exports.get(other["id"])["status"] == "finished"


def test_timeout_while_another_export_runs(
    emu: Emulator, client: Client, seeded: dict[str, Any]
) -> None:
    emu.add_fault(job_delay_s=2.0)
    try:
        client.exports.create([])
        with pytest.raises(ExportTimeoutError, match="previous export"):
            read_export(client, progress=False, timeout=0.5)
    finally:
        emu.clear_faults()
    # Let the blocking export finish so later tests are not held up.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            read_export(client, progress=False, timeout=10)
            break
        except ExportTimeoutError:  # pragma: no cover - only if the emulator is slow
            continue


def test_progress_bar_does_not_break(
    client: Client, seeded: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    df = read_export(client, progress=True)
    assert len(df) == 4
    assert "a@x.io" not in capsys.readouterr().err  # a spinner, never contact data


def test_read_export_file_from_url_and_client_fields(
    client: Client, seeded: dict[str, Any]
) -> None:
    export = client.exports.create([])
    while export["status"] != "finished":
        time.sleep(0.05)
        export = client.exports.get(export["id"])
    url = export["url"]
    assert url
    by_client = read_export_file(url, fields=client)
    assert by_client.dtypes.to_dict() == contact_dtypes(TYPES)
    no_fields = read_export_file(url)  # plain requests, no client
    assert no_fields["age"].dtype == "string[pyarrow]"
    assert no_fields["list_ids"].dtype == by_client["list_ids"].dtype
