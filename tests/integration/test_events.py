"""send_events against the emulator over HTTP: typed params, ledger, faults, no double firing."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mailtrap_pandas  # noqa: F401  (registers df.mailtrap)
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.jobs.events import send_events
from mailtrap_pandas.jobs.store import Journal

EVENTS_PATH = r"/contacts/[^/]+/events$"


@pytest.fixture
def account(emu: Any) -> None:
    emu.seed(
        contacts=[
            {"email": "ann@example.com"},
            {"email": "bob@example.com"},
            {"email": "cy@example.com"},
        ]
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "journal.sqlite"


def recorded(emu: Any) -> int:
    return int(emu.state()["events"])


def stored_events(emu: Any) -> list[tuple[str, dict[str, Any]]]:
    """(name, params) of every event the emulator holds, oldest first."""
    import orjson

    with emu.store.tx() as c:
        rows = c.execute("SELECT name, params FROM events ORDER BY rowid").fetchall()
    return [(r[0], orjson.loads(r[1])) for r in rows]


def orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "email": ["ann@example.com", "bob@example.com", "cy@example.com"],
            "items": pd.array([3, None, 1], dtype="Int64"),
            "total": [9.5, 0.25, float("nan")],
            "gift": pd.array([True, False, None], dtype="boolean"),
            "note": ["hi", None, "ünï"],
            "at": pd.to_datetime(["2024-05-01 10:00", None, "2024-05-02 00:00"], utc=True),
        },
        index=pd.Index([10, 20, 30], name="order"),
    )


def test_one_event_per_row_with_typed_params(emu: Any, client: Any, account: None, ledger: Path):
    result = send_events(
        orders(),
        client,
        name="purchase",
        params=["items", "total", "gift", "note", "at"],
        journal=ledger,
        progress=False,
    )
    assert result.ok, result
    assert (result.sent, result.skipped, result.rows) == (3, 0, 3)
    assert recorded(emu) == 3
    stored = stored_events(emu)
    assert [name for name, _ in stored] == ["purchase"] * 3
    ann, bob, cy = (params for _, params in stored)
    assert ann == {
        "items": 3,
        "total": 9.5,
        "gift": True,
        "note": "hi",
        "at": "2024-05-01T10:00:00+00:00",
    }
    assert isinstance(ann["items"], int) and isinstance(ann["gift"], bool)
    assert bob == {"items": None, "total": 0.25, "gift": False, "note": None, "at": None}
    assert cy["total"] is None and cy["gift"] is None and cy["note"] == "ünï"
    assert result.counts() == {"rows": 3, "sent": 3, "skipped": 0, "failed": 0, "uncertain": 0}
    assert "EventsResult(" in repr(result) and "3 events sent" in result._repr_html_()


def test_name_column_and_accessor(emu: Any, client: Any, account: None, ledger: Path) -> None:
    df = pd.DataFrame(
        {"email": ["ann@example.com", "ann@example.com"], "event": ["signup", "login"]}
    )
    result = df.mailtrap.send_events(client, name_column="event", journal=ledger, progress=False)
    assert result.sent == 2
    assert [name for name, _ in stored_events(emu)] == ["signup", "login"]


def test_name_options_are_checked(client: Any) -> None:
    df = pd.DataFrame({"email": ["ann@example.com"], "event": ["x"]})
    with pytest.raises(InputError, match="exactly one"):
        send_events(df, client, progress=False, journal=False)
    with pytest.raises(InputError, match="exactly one"):
        send_events(df, client, name="a", name_column="event", progress=False, journal=False)
    with pytest.raises(InputError, match="not in the frame"):
        send_events(df, client, name="a", params=["nope"], progress=False, journal=False)
    with pytest.raises(InputError, match="characters"):
        send_events(df, client, name="x" * 256, progress=False, journal=False)


def test_key_column_separates_otherwise_identical_events(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    df = pd.DataFrame(
        {"email": ["ann@example.com"] * 3, "order_id": ["A1", "A2", "A1"], "amount": [5, 5, 5]}
    )
    result = send_events(
        df,
        client,
        name="purchase",
        params=["amount"],
        key="order_id",
        journal=ledger,
        progress=False,
    )
    assert (result.sent, result.skipped) == (2, 1)
    assert recorded(emu) == 2


def test_missing_email_and_unknown_contact_fail_with_caller_labels(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    df = pd.DataFrame(
        {"email": ["ann@example.com", None, "ghost@example.com", "  "]},
        index=pd.Index(["a", "b", "c", "d"]),
    )
    result = send_events(df, client, name="visit", journal=ledger, progress=False)
    assert result.sent == 1 and not result.ok
    failed = result.failed
    assert list(failed.columns) == ["email", "name", "reason", "message"]
    assert failed["reason"].to_dict() == {
        "b": "missing_email",
        "c": "contact_not_found",
        "d": "missing_email",
    }
    # The summary groups them by reason, most rows first (a whole row fails: no column).
    assert result.summary().values.tolist() == [
        [None, "missing_email", 2],
        [None, "contact_not_found", 1],
    ]
    assert recorded(emu) == 1
    # A failure is not in the ledger as sent: once the contact exists it goes through.
    client.contacts.create("ghost@example.com")
    again = send_events(df, client, name="visit", journal=ledger, progress=False)
    assert (again.sent, again.skipped) == (1, 1)
    assert recorded(emu) == 2


def test_identical_rows_within_one_call_fire_once(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    df = pd.DataFrame({"email": ["ann@example.com", "ANN@Example.com ", "bob@example.com"]})
    result = send_events(df, client, name="welcome", journal=ledger, progress=False)
    assert (result.sent, result.skipped) == (2, 1)
    assert recorded(emu) == 2


def test_rerun_with_the_same_journal_sends_nothing(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    kw: dict[str, Any] = {"name": "purchase", "params": ["items", "total"], "progress": False}
    first = send_events(orders(), client, journal=ledger, **kw)
    assert first.sent == 3
    before = client.stats["requests"]
    second = send_events(orders(), client, journal=ledger, **kw)
    assert (second.sent, second.skipped) == (0, 3)
    assert client.stats["requests"] == before  # not even a request
    assert recorded(emu) == 3
    # A changed param is another event.
    changed = orders()
    changed.loc[10, "items"] = 4
    third = send_events(changed, client, journal=ledger, **kw)
    assert (third.sent, third.skipped) == (1, 2)
    assert recorded(emu) == 4


def test_ledger_lives_in_the_journal_file(emu: Any, client: Any, account: None, ledger: Path):
    send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    with closing(sqlite3.connect(ledger)) as db:
        rows = db.execute("SELECT email, name, status FROM event_ledger").fetchall()
    # Emails are kept as keyed hashes (the ledger only needs to recognize them).
    store = Journal(ledger)
    hashed = store.email_hashes(["ann@example.com", "bob@example.com", "cy@example.com"])
    store.close()
    assert sorted(rows) == sorted((h, "purchase", "sent") for h in hashed)
    assert b"@example.com" not in ledger.read_bytes()


def test_default_journal_is_used_across_runs(emu: Any, client: Any, account: None) -> None:
    # conftest points XDG_CACHE_HOME at a temp dir, so journal=True is safe here.
    send_events(orders(), client, name="purchase", progress=False)
    again = send_events(orders(), client, name="purchase", progress=False)
    assert (again.sent, again.skipped) == (0, 3)
    assert recorded(emu) == 3


def test_journal_false_is_in_memory(emu: Any, client: Any, account: None, tmp_path: Path) -> None:
    result = send_events(orders(), client, name="purchase", journal=False, progress=False)
    assert result.sent == 3
    assert not (tmp_path / "cache").exists()  # nothing written to the default journal
    # No memory across runs without a journal: that is what journal=False means.
    assert send_events(orders(), client, name="purchase", journal=False, progress=False).sent == 3
    assert recorded(emu) == 6


def test_500_is_uncertain_not_retried_and_not_resent(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    emu.add_fault(method="POST", path=EVENTS_PATH, status=500, times=1)
    first = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert first.sent == 2 and not first.ok
    assert list(first.uncertain.index) == [10]
    assert first.uncertain.loc[10, "reason"] == "outcome_unknown"
    assert emu.state()["responses"].get("500") == 1
    assert client.stats["retries"] == 0  # the client did not repeat the POST
    second = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert (second.sent, second.skipped, len(second.uncertain)) == (0, 2, 1)
    assert recorded(emu) == 2
    third = send_events(
        orders(), client, name="purchase", journal=ledger, progress=False, resend_uncertain=True
    )
    assert (third.sent, third.skipped, len(third.uncertain)) == (1, 2, 0)
    assert recorded(emu) == 3
    fourth = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert (fourth.sent, fourth.skipped) == (0, 3) and fourth.ok


def test_drop_after_processing_is_uncertain_and_never_doubled(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    emu.add_fault(method="POST", path=EVENTS_PATH, drop="after", times=1)
    first = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert list(first.uncertain.index) == [10]
    assert recorded(emu) == 3  # the server did record the dropped one
    second = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert second.sent == 0 and recorded(emu) == 3


def test_drop_before_processing_is_uncertain_too(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    # The client cannot tell a connection closed before processing from one closed
    # after (both look like "sent, no answer"), so the event policy does not repeat it.
    emu.add_fault(method="POST", path=EVENTS_PATH, drop=True, times=1)
    first = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert list(first.uncertain.index) == [10]
    assert client.stats["retries"] == 0
    assert recorded(emu) == 2  # it really was not recorded ...
    again = send_events(
        orders(), client, name="purchase", journal=ledger, progress=False, resend_uncertain=True
    )
    assert again.sent == 1  # ... so resend_uncertain=True is what the caller needs here
    assert recorded(emu) == 3


def test_429_is_retried_by_the_client_and_sent_once(emu: Any, account: None, ledger: Path) -> None:
    client = emu.client(sleep=lambda s: None)
    emu.add_fault(method="POST", path=EVENTS_PATH, status=429, times=2)
    result = send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    assert result.ok and result.sent == 3
    assert recorded(emu) == 3


def test_422_fails_the_row_without_ledger_entry(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    df = pd.DataFrame({"email": ["ann@example.com"], "p": ["x" * 300]})
    result = send_events(df, client, name="e", params=["p"], journal=ledger, progress=False)
    assert result.failed.loc[0, "reason"] == "server_rejected"
    assert "HTTP 422" in result.failed.loc[0, "message"]
    assert "too long" in result.failed.loc[0, "message"]
    with closing(sqlite3.connect(ledger)) as db:
        assert db.execute("SELECT count(*) FROM event_ledger").fetchone()[0] == 0


def test_progress_off_prints_nothing(
    client: Any, account: None, ledger: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    send_events(orders(), client, name="purchase", journal=ledger, progress=False)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_dry_run_sends_and_writes_nothing(
    emu: Any, client: Any, account: None, ledger: Path
) -> None:
    df = orders()
    requests_before = emu.state()["requests"]
    preview = send_events(
        df, client, name="Purchase", params=["total"], journal=ledger, progress=False, dry_run=True
    )
    assert preview.sent == 0 and recorded(emu) == 0
    assert [p["row"] for p in preview.payloads] == list(df.index)
    assert preview.payloads[0]["name"] == "Purchase" and "total" in preview.payloads[0]["params"]
    assert preview.counts()["would_send"] == len(df) and "dry run" in repr(preview)
    assert emu.state()["requests"] == requests_before  # the ledger is read, nothing is sent
    sent = send_events(
        df, client, name="Purchase", params=["total"], journal=ledger, progress=False
    )
    assert sent.sent == len(df)
    again = send_events(
        df, client, name="Purchase", params=["total"], journal=ledger, progress=False, dry_run=True
    )
    assert again.payloads == [] and again.skipped == len(df)  # already sent: nothing to preview


def test_invalid_email_fails_without_a_request(emu: Any, client: Any, ledger: Path) -> None:
    df = pd.DataFrame({"email": ["not-an-email", " Ann@Example.COM "]})
    client.contacts.create("Ann@example.com")
    before = emu.state()["requests"]
    result = send_events(df, client, name="visit", journal=ledger, progress=False)
    assert result.failed["reason"].tolist() == ["invalid_email"]
    assert result.sent == 1 and emu.state()["requests"] == before + 1  # normalized, sent once
