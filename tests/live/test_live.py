"""Opt-in checks against the real API, to keep the emulator honest.

Run with ``MAILTRAP_TEST_LIVE=1 MAILTRAP_API_TOKEN=... pytest tests/live`` (and
``MAILTRAP_ACCOUNT_ID`` when the token sees several accounts). The read-only
checks and a throwaway list are always safe; the import check writes two
contacts and runs only with ``MAILTRAP_TEST_LIVE_WRITE=1`` as well.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator

import pandas as pd
import pytest

import mailtrap_pandas as mtp

# Read before tests/conftest.py's autouse fixture clears MAILTRAP_* for each test.
ENV = {k: v for k, v in os.environ.items() if k.startswith("MAILTRAP_")}
LIVE = ENV.get("MAILTRAP_TEST_LIVE") == "1"
WRITE = ENV.get("MAILTRAP_TEST_LIVE_WRITE") == "1"

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        not LIVE, reason="talks to the real Mailtrap API: set MAILTRAP_TEST_LIVE=1 and a token"
    ),
]


@pytest.fixture
def live() -> Iterator[mtp.Client]:
    with mtp.Client(
        ENV.get("MAILTRAP_API_TOKEN"),
        account_id=ENV.get("MAILTRAP_ACCOUNT_ID"),
        base_url=ENV.get("MAILTRAP_BASE_URL"),
    ) as client:
        yield client


@pytest.fixture
def scratch_list(live: mtp.Client) -> Iterator[dict[str, object]]:
    created = live.lists.create(f"mailtrap-pandas live test {uuid.uuid4().hex[:8]}")
    try:
        yield dict(created)
    finally:
        live.lists.delete(created["id"])


def test_accounts_fields_and_schema(live: mtp.Client) -> None:
    assert live.accounts.list()
    assert live.account_id
    fields = live.fields.list()
    assert all(f["data_type"] in ("text", "integer", "float", "boolean", "date") for f in fields)
    schema = mtp.build_schema(fields)
    assert "email" in schema.columns


def test_list_round_trip_and_empty_export(live: mtp.Client, scratch_list: dict) -> None:
    list_id = int(scratch_list["id"])  # type: ignore[call-overload]
    assert live.lists.get(list_id)["name"] == scratch_list["name"]
    renamed = live.lists.update(list_id, f"{scratch_list['name']} renamed")
    assert renamed["name"].endswith("renamed")
    frame = mtp.read_export(live, list_ids=[list_id], progress=False)
    assert frame.empty
    assert str(frame["email"].dtype) == "string" and "list_ids" in frame


@pytest.mark.skipif(not WRITE, reason="writes contacts: also set MAILTRAP_TEST_LIVE_WRITE=1")
def test_import_and_export_back(live: mtp.Client, scratch_list: dict) -> None:
    list_id = int(scratch_list["id"])  # type: ignore[call-overload]
    tag = uuid.uuid4().hex[:8]
    df = pd.DataFrame({"email": [f"mtp-live-{tag}-{i}@example.com" for i in range(2)]})
    result = df.mailtrap.import_contacts(live, list_ids=[list_id], journal=False, progress=False)
    assert result.ok and len(result.imported_index) == 2
    time.sleep(1)
    back = mtp.read_export(live, list_ids=[list_id], progress=False)
    assert sorted(back["email"]) == sorted(df["email"])
    for email in df["email"]:
        live.contacts.delete(email)
