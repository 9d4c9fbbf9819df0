"""Incremental sync against the emulator over HTTP: exact rows sent, requests, drift, crashes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import mailtrap_pandas as mtp
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.jobs.imports.seen import email_hashes
from mailtrap_pandas.jobs.store import Journal, SyncStore
from tests.helpers import FAST, contacts

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
]


@pytest.fixture(autouse=True)
def seed_account(emu: Any) -> None:
    """The session's emulator (tests/conftest.py), reset, with this module's fields and lists."""
    emu.seed(fields=FIELDS, lists=[{"name": "Newsletter"}, {"name": "Partners"}])


def run(emu: Any, df: Any, journal: Path, **kw: Any) -> mtp.SyncResult:
    client = emu.client(rate_limit=None)
    opts = {**FAST, "journal": journal, **kw}
    result = mtp.sync(df, client, **opts)
    if isinstance(df, pd.DataFrame):
        result.check_invariant(df.index)
    return result


def by_email(emu: Any) -> pd.DataFrame:
    return mtp.read_export(emu.client(rate_limit=None), progress=False).set_index("email")


def test_second_sync_sends_exactly_the_changed_rows(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(3000)
    first = run(emu, df, journal)
    assert first.reconciled and first.ok  # the first sync compares with one export
    assert len(first.sent) == 3000 and len(first.unchanged) == 0
    accepted = emu.state()["imports_accepted"]

    changed = df.copy()
    edited = [5, 17, 1500, 2999]
    changed.loc[edited, "age"] += 1000
    changed.loc[[40, 41], "city"] = "Tallinn"
    changed = pd.concat([changed, contacts(3, start=3000)])  # 3 new contacts
    client = emu.client(rate_limit=None)
    second = mtp.sync(changed, client, journal=journal, progress=False)  # default polling
    second.check_invariant(changed.index)
    assert not second.reconciled
    assert sorted(second.sent) == sorted([*edited, 40, 41, 3000, 3001, 3002])
    assert len(second.unchanged) == 3000 - 6
    assert len(second.jobs) == 1 and emu.state()["imports_accepted"] == accepted + 1
    assert (second.imported.created, second.imported.updated) == (3, 6)
    # 1 GET fields + 1 import + its polls; no export.
    assert second.requests <= 6, second.requests
    stored = by_email(emu)
    assert stored.loc["user17@example.com", "age"] == 1017
    assert stored.loc["user41@example.com", "city"] == "Tallinn"
    assert "SyncResult" in repr(second) and "<div>" in second._repr_html_()
    assert second.counts()["sent"] == 9 and second.summary().empty

    third = mtp.sync(changed, client, journal=journal, progress=False)
    assert len(third.sent) == 0 and len(third.unchanged) == len(changed)
    assert third.requests == 1  # the field definitions only
    assert emu.state()["imports_accepted"] == accepted + 1


def test_list_ids_are_part_of_the_state_and_accessor_works(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(50)
    client = emu.client(rate_limit=None)
    df.mailtrap.sync(client, journal=journal, progress=False)
    with_list = df.mailtrap.sync(client, list_ids=[1], journal=journal, progress=False)
    assert len(with_list.sent) == 50  # the membership is new: every row goes again
    again = df.mailtrap.sync(client, list_ids=[1], journal=journal, progress=False)
    assert len(again.sent) == 0 and len(again.unchanged) == 50
    assert all(1 in set(v) for v in by_email(emu)["list_ids"])


def test_rejected_rows_are_reported_and_not_confirmed(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(10).astype({"age": object})
    df.loc[3, "age"] = "old"
    first = run(emu, df, journal)
    assert set(first.rejected.index) == {3} and len(first.sent) == 9
    df.loc[3, "age"] = 3
    second = run(emu, df, journal)
    assert list(second.sent) == [3] and len(second.unchanged) == 9


def test_drift_is_trusted_by_never_and_repaired_by_always(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(200)
    run(emu, df, journal)
    client = emu.client(rate_limit=None)
    # Someone edits two contacts in the web app, and deletes one.
    client.contacts.upsert("user7@example.com", fields={"age": 70})
    client.contacts.upsert("user9@example.com", fields={"city": "Oslo"})
    client.contacts.delete("user11@example.com")
    trusting = run(emu, df, journal, reconcile="never")
    assert len(trusting.sent) == 0 and not trusting.reconciled
    assert by_email(emu).loc["user7@example.com", "age"] == 70
    repaired = run(emu, df, journal, reconcile="always")
    assert repaired.reconciled
    assert sorted(repaired.sent) == [7, 9, 11] and len(repaired.unchanged) == 197
    stored = by_email(emu)
    assert stored.loc["user7@example.com", "age"] == 7
    assert stored.loc["user9@example.com", "city"] == "Riga"
    assert "user11@example.com" in stored.index


def test_auto_reconciles_when_the_state_is_old(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(20)
    assert run(emu, df, journal).reconciled
    assert not run(emu, df, journal).reconciled
    store = Journal(journal)
    client = emu.client(rate_limit=None)
    SyncStore(store, client.base_url, client.account_id).mark_reconciled(time.time() - 8 * 86400)
    store.close()
    assert run(emu, df, journal).reconciled
    assert run(emu, df, journal, reconcile_after_days=0).reconciled


def test_first_sync_costs_an_import_plus_one_export(emu: Any, tmp_path: Path) -> None:
    df = contacts(2500)
    client = emu.client(rate_limit=None)
    imported = mtp.import_contacts(df, client, chunk_size=1000, journal=False, progress=False)
    emu.reset()
    emu.seed(fields=FIELDS)
    synced = mtp.sync(df, client, chunk_size=1000, journal=tmp_path / "s.sqlite", progress=False)
    export = mtp.read_export(client, progress=False)  # noqa: F841  (what one export costs)
    before = client.stats["requests"]
    mtp.read_export(client, progress=False)
    export_cost = client.stats["requests"] - before
    assert len(synced.sent) == 2500
    assert synced.requests <= imported.requests + export_cost + 2, (
        synced.requests,
        imported.requests,
        export_cost,
    )


def test_streamed_source(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    path = tmp_path / "contacts.parquet"
    contacts(1000).to_parquet(path)
    first = run(emu, path, journal, chunk_size=300)
    assert len(first.sent) == 1000
    changed = contacts(1000)
    changed.loc[999, "age"] = -1
    frames = [changed.iloc[:400], changed.iloc[400:]]
    second = run(emu, iter(frames), journal)
    assert list(second.sent) == [999] and len(second.unchanged) == 999


def test_missing_rows_taken_off_the_lists_guarded(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(100)
    run(emu, df, journal, list_ids=[1])
    kept = df.drop(index=range(90, 100))
    keep = run(emu, kept, journal, list_ids=[1])
    assert keep.missing == 10 and len(keep.removed) == 0
    removed = run(emu, kept, journal, list_ids=[1], missing="remove_from_lists")
    assert removed.missing == 10
    assert sorted(removed.removed["email"]) == sorted(df.loc[90:99, "email"])
    stored = by_email(emu)
    assert len(stored) == 100  # never deleted
    assert all(1 not in set(stored.loc[e, "list_ids"]) for e in df.loc[90:99, "email"])
    assert all(1 in set(stored.loc[e, "list_ids"]) for e in kept["email"])
    again = run(emu, kept, journal, list_ids=[1], missing="remove_from_lists")
    assert again.missing == 0 and len(again.sent) == 0
    # An empty source must not empty the list.
    with pytest.raises(mtp.TooManyRemovalsError, match="max_remove_fraction"):
        run(emu, df.iloc[:0], journal, list_ids=[1], missing="remove_from_lists")
    assert all(1 in set(v) for v in by_email(emu).loc[kept["email"], "list_ids"])


def test_bad_arguments() -> None:
    df = contacts(1)
    with pytest.raises(mtp.InputError, match="reconcile"):
        mtp.sync(df, None, reconcile="sometimes", fields=[])  # type: ignore[arg-type]
    with pytest.raises(mtp.InputError, match="list_ids"):
        mtp.sync(df, None, missing="remove_from_lists", fields=[])


def test_store_keeps_keyed_hashes_never_addresses(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    run(emu, contacts(30), journal, list_ids=[1])
    raw = journal.read_bytes() + (
        Path(f"{journal}-wal").read_bytes() if Path(f"{journal}-wal").exists() else b""
    )
    assert b"user1@example.com" not in raw and b"example.com" not in raw
    with closing(sqlite3.connect(journal)) as db:  # sqlite3's own with block does not close
        version = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        assert int(version[0]) >= 3
        # 16 bytes per email on disk: two 8-byte hashes.
        stored = "SELECT sum(length(emails) + length(contents)) FROM sync_state"
        assert db.execute(stored).fetchone()[0] == 30 * 16
        assert db.execute("SELECT sum(length(emails)) FROM list_members").fetchone()[0] == 30 * 8


CHILD = """
import sys
import pandas as pd
from mailtrap_pandas import Client, sync
url, token, account, journal = sys.argv[1:5]
idx = pd.RangeIndex(0, 6000)
df = pd.DataFrame({"email": [f"user{i}@example.com" for i in idx], "age": list(idx)})
df["city"] = "Riga"
client = Client(token, account_id=account, base_url=url, rate_limit=None)
sync(df, client, chunk_size=1000, journal=journal, progress=False, reconcile="never",
     poll_interval=0.05)
"""


def test_kill_9_mid_sync_then_rerun_sends_only_unconfirmed_rows(tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    with Emulator(rate_limit=None, db=tmp_path / "emu.sqlite") as emu:
        emu.seed(fields=FIELDS)
        emu.add_fault(job_delay_s=0.4)
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, emu.url, emu.token, str(emu.account_id), str(journal)],
            env={**os.environ},
        )

        def confirmed() -> int:
            if not journal.exists():
                return 0
            try:
                with closing(sqlite3.connect(journal, timeout=5)) as db:
                    query = "SELECT coalesce(sum(length(emails)), 0) / 8 FROM sync_state"
                    return int(db.execute(query).fetchone()[0])
            except sqlite3.OperationalError:  # tables not created yet
                return 0

        deadline = time.time() + 60
        while confirmed() < 1000 and time.time() < deadline:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait()
        emu.clear_faults()
        df = contacts(6000)
        store = Journal(journal)
        client = emu.client(rate_limit=None)
        sync_store = SyncStore(store, client.base_url, client.account_id)
        keys, _, _ = sync_store.load()
        hashed = email_hashes(df["email"], sync_store.hash_key)
        store.close()
        was_confirmed = df.index[np.isin(hashed, keys)]
        assert 0 < len(was_confirmed) < 6000, len(was_confirmed)
        accepted = emu.state()["imports_accepted"]
        assert accepted <= 6

        result = run(emu, df, journal, reconcile="never", chunk_size=1000)
        assert result.ok, (result.rejected, result.jobs.to_string())
        assert sorted(result.unchanged) == sorted(was_confirmed)
        assert sorted(result.sent) == sorted(df.index.difference(was_confirmed))
        # Nothing sent twice: chunks in flight at the kill were resumed from the journal.
        assert emu.state()["imports_accepted"] == 6
        stored = by_email(emu)
        assert len(stored) == 6000 and stored.loc["user5999@example.com", "age"] == 5999


def members_of(emu: Any, list_id: int) -> set[str]:
    export = mtp.read_export(emu.client(rate_limit=None), list_ids=[list_id], progress=False)
    return set(export["email"])


def test_tracked_removal_leaves_hand_added_members(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    client = emu.client(rate_limit=None)
    hand = [f"hand{i}@example.com" for i in range(3)]  # added in the web app, or by a tool
    emu.seed(contacts=[{"email": e, "list_ids": [1]} for e in hand])
    ours = pd.DataFrame({"email": [f"ours{i}@example.com" for i in range(5)]})
    mtp.sync_list(ours, 1, client, progress=False, journal=journal).apply(progress=False)
    mtp.sync(contacts(4), client, list_ids=[1], journal=journal, progress=False)
    assert len(members_of(emu, 1)) == 3 + 5 + 4

    keep = pd.DataFrame({"email": ["ours0@example.com", "user0@example.com"]})
    tracked = mtp.sync_list(
        keep, 1, client, remove_missing="tracked", progress=False, journal=journal
    )
    gone = {f"ours{i}@example.com" for i in range(1, 5)} | {
        f"user{i}@example.com" for i in range(1, 4)
    }
    assert set(tracked.removes["email"]) == gone
    tracked.apply(progress=False, max_remove_fraction=1)
    assert members_of(emu, 1) == {*hand, "ours0@example.com", "user0@example.com"}
    again = mtp.sync_list(
        keep, 1, client, remove_missing="tracked", progress=False, journal=journal
    )
    assert again.removes.empty
    # remove_missing=True keeps its meaning: every member missing from the frame.
    everyone = mtp.sync_list(keep, 1, client, remove_missing=True, progress=False, journal=journal)
    assert set(everyone.removes["email"]) == set(hand)
    with pytest.raises(mtp.InputError, match="remove_missing"):
        mtp.sync_list(keep, 1, client, remove_missing="all", progress=False)  # type: ignore[arg-type]
