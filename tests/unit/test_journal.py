"""The run journal's state machine, paths and file safety."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mailtrap_pandas.jobs.store import ENV, Journal, default_path, open_journal

KEY = ("https://mailtrap.io", "7", "ab" * 32)


def test_state_machine(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        state_machine(j)


def state_machine(j: Journal) -> None:
    assert j.get(*KEY) is None
    j.begin(*KEY, chunk=0, rows=10)
    entry = j.get(*KEY)
    assert entry is not None and entry.state == "submitting" and entry.import_id is None
    assert (entry.sha256, entry.chunk, entry.rows, entry.status) == (KEY[2], 0, 10, None)
    assert entry.detail is None and entry.finished_at is None and entry.submitted_at is not None
    j.submitted(*KEY, import_id=42, status="created")
    entry = j.get(*KEY)
    assert entry is not None and (entry.state, entry.import_id) == ("submitted", 42)
    assert (entry.status, entry.chunk, entry.rows) == ("created", 0, 10)
    j.finished(*KEY, state="finished", status="finished", created=3, updated=7, over_limit=0)
    entry = j.get(*KEY)
    assert entry is not None and (entry.state, entry.status) == ("finished", "finished")
    assert (entry.created, entry.updated, entry.over_limit) == (3, 7, 0)
    assert entry.finished_at is not None and entry.submitted_at is not None
    assert j.count("finished") == 1 and j.count() == 1 and j.count("submitted") == 0


def test_rejected_keeps_the_server_errors_and_forget_drops(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        rejected_then_forgotten(j)


def rejected_then_forgotten(j: Journal) -> None:
    j.begin(*KEY, chunk=1, rows=2)
    j.rejected(*KEY, detail=[["a@x.io", "email", "is invalid"]])
    entry = j.get(*KEY)
    assert entry is not None and entry.detail == [["a@x.io", "email", "is invalid"]]
    assert (entry.state, entry.chunk, entry.rows) == ("rejected", 1, 2)
    j.forget(*KEY)
    assert j.get(*KEY) is None


def test_writes_survive_without_close_and_are_shared(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as a, Journal(path) as b:  # b: as a second process would see it
        a.begin(*KEY, chunk=0, rows=1)
        a.uncertain(*KEY)
        entry = b.get(*KEY)  # before a is closed
    assert entry is not None and entry.state == "uncertain"
    with closing(sqlite3.connect(path)) as db:  # sqlite3's own with block does not close
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_keys_are_per_account_and_base_url(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        j.begin(*KEY, chunk=0, rows=1)
        assert j.get("https://mailtrap.io", "8", KEY[2]) is None
        assert j.get("http://127.0.0.1:9", "7", KEY[2]) is None


def test_no_token_column(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as j:
        cols = [r[1] for r in j._db.execute("PRAGMA table_info(imports)")]
    assert not any("token" in c or "auth" in c for c in cols)


def test_default_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_path() == tmp_path / "mailtrap-pandas" / "journal.sqlite"
    monkeypatch.setenv(ENV, str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    for arg, path in [
        (True, str(tmp_path / "x.sqlite")),
        (False, ":memory:"),
        (str(tmp_path / "y.sqlite"), str(tmp_path / "y.sqlite")),
    ]:
        with open_journal(arg) as journal:
            assert journal.path == path
