"""Bulk delete / unsubscribe / resubscribe against the emulator over real HTTP.

Faults are the emulator's own (503 answers, a connection dropped after processing); the
crash is a real SIGKILL of a child process; requests are counted by the client's stats
and by the emulator.
"""

from __future__ import annotations

import inspect
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner

import mailtrap_pandas as mtp
from mailtrap_pandas.api import retry
from mailtrap_pandas.api.ratelimit import DEFAULT_LIMITS
from mailtrap_pandas.cli import cli
from mailtrap_pandas.jobs.store import Journal, RemovalLedger

N = 300

# click < 8.2 folds stderr into stdout unless asked not to; 8.2 always keeps them apart.
_SEPARATE = {"mix_stderr": False} if "mix_stderr" in inspect.signature(CliRunner).parameters else {}


def email(i: int) -> str:
    return f"user{i:03d}@example.com"


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retries 10x sooner: what is retried and what it costs is the point, not the delay.
    monkeypatch.setattr(retry, "BASE_DELAY", retry.BASE_DELAY / 10)


@pytest.fixture
def account(emu: Any) -> dict[str, Any]:
    """300 contacts; every third in list A, every fifth in list B, every seventh unsubscribed."""
    seeded = emu.seed(lists=[{"name": "A"}, {"name": "B"}])
    a, b = (int(x["id"]) for x in seeded["lists"])
    contacts = [
        {
            "email": email(i),
            "list_ids": [x for x, on in ((a, i % 3 == 0), (b, i % 5 == 0)) if on],
            "unsubscribed": i % 7 == 0,
        }
        for i in range(N)
    ]
    return emu.seed(contacts=contacts)  # type: ignore[no-any-return]


def snapshot(client: Any) -> pd.DataFrame:
    df = mtp.read_export(client, progress=False).set_index("email").sort_index()
    df["list_ids"] = df["list_ids"].map(lambda ids: tuple(sorted(ids)))
    return df[["id", "status", "list_ids", "created_at", "updated_at"]]


def requests_of(client: Any) -> tuple[int, int]:
    return client.stats["requests"], client.stats["retries"]


# -- delete -----------------------------------------------------------------------------------


def test_delete_120_plus_5_unknown_under_503s_and_a_dropped_connection(
    emu: Any, client: Any, account: Any, tmp_path: Path
) -> None:
    before = snapshot(client)
    doomed = list(range(0, 240, 2))  # 120 contacts
    unknown = [f"ghost{i}@example.com" for i in range(5)]
    # Spelled as users type them: validation's normalization must still match each contact.
    typed = [f"  {email(i).upper()} " if i % 4 == 0 else email(i) for i in doomed]
    frame = pd.DataFrame(
        {"email": typed[:60] + unknown + typed[60:]},
        index=pd.Index([f"r{k}" for k in range(125)], name="ticket"),
    )
    labels_known = [f"r{k}" for k in list(range(60)) + list(range(65, 125))]
    labels_unknown = [f"r{k}" for k in range(60, 65)]
    emu.add_fault(method="DELETE", path=r"/contacts/user010", status=503, times=2)
    emu.add_fault(method="DELETE", path=r"/contacts/ghost2", status=503, times=1)
    # Processed, then the connection drops: the retry's 404 must still count as deleted.
    emu.add_fault(method="DELETE", path=r"/contacts/user102", drop="after", times=1)
    start, retries_before = requests_of(client)

    result = frame.mailtrap.delete_contacts(client, journal=tmp_path / "j.sqlite", progress=False)

    assert result.ok, result
    assert sorted(result.done.index) == sorted(labels_known)
    assert sorted(result.not_found.index) == sorted(labels_unknown)
    assert result.done.loc["r5", "email"] == email(10)
    assert len(result.failed) == len(result.uncertain) == 0
    assert result.done.loc["r50", "reason"] == "deleted"
    assert result.done.loc["r51", "email"] == email(102)  # behind the dropped connection
    assert "404 after an attempt" in result.done.loc["r51", "message"]
    # Rows + retries, nothing else: 125 DELETEs, 2 + 1 + 1 of them repeats.
    assert result.retries == 4 and result.requests == 125 + 4
    assert requests_of(client) == (start + 129, retries_before + 4)
    assert emu.state()["faults_pending"] == 0
    after = snapshot(client)
    gone = {email(i) for i in doomed}
    assert set(before.index) - set(after.index) == gone
    # Nothing else touched: the other 180 keep their id, status, lists and timestamps.
    pd.testing.assert_frame_equal(after, before.drop(index=sorted(gone)))
    # The ghost behind a 503 was never there: not found, not "deleted".
    assert result.not_found.loc["r62", "email"] == "ghost2@example.com"
    n = result.counts()
    assert (n["done"], n["not_found"], n["requests"]) == (120, 5, 129)
    assert result.summary().empty  # nothing failed: no group of failures
    html = result._repr_html_()
    assert "RemovalResult" in html and "120 contacts deleted" in html


def test_over_max_delete_deletes_nothing(emu: Any, client: Any, account: Any) -> None:
    frame = pd.DataFrame({"email": [email(i) for i in range(51)]})
    served = emu.state()["requests"]
    with pytest.raises(mtp.RemovalLimitError) as caught:
        frame.mailtrap.delete_contacts(client, max_delete=50, journal=False, progress=False)
    err = caught.value
    assert isinstance(err, mtp.InputError)
    assert (err.count, err.limit, err.parameter) == (51, 50, "max_delete")
    assert "51" in str(err) and "max_delete=50" in str(err)
    assert str(pickle.loads(pickle.dumps(err))) == str(err)
    with pytest.raises(mtp.RemovalLimitError, match="max_delete"):
        frame.mailtrap.unsubscribe(client, max_delete=10, journal=False, progress=False)
    assert emu.state()["requests"] == served  # before any request
    assert emu.state()["contacts"] == N
    # Duplicates and invalid rows do not count: 50 distinct contacts pass max_delete=50.
    frame = pd.DataFrame({"email": [email(i) for i in range(50)] + [email(0).upper(), "nope"]})
    result = frame.mailtrap.delete_contacts(client, max_delete=50, journal=False, progress=False)
    assert len(result.done) == 51 and len(result.failed) == 1


def test_dry_run_lists_exactly_what_would_be_deleted(
    emu: Any, client: Any, account: Any, tmp_path: Path
) -> None:
    frame = pd.DataFrame(
        {"email": [email(1), email(2), "bad@", None, email(1).upper()]},
        index=[10, 20, 30, 40, 50],
    )
    served = emu.state()["requests"]
    result = frame.mailtrap.delete_contacts(
        client, dry_run=True, max_delete=0, journal=tmp_path / "j.sqlite", progress=False
    )
    assert emu.state()["requests"] == served and result.requests == 0
    assert result.planned.index.tolist() == [10, 20, 50]
    # Shown as validation normalizes them: trimmed, domain lower-cased.
    assert result.planned["email"].tolist() == [email(1), email(2), "USER001@example.com"]
    assert result.failed["reason"].tolist() == ["invalid_email", "missing_email"]
    assert result.summary()["reason"].tolist() == ["invalid_email", "missing_email"]
    assert result.summary()["rows"].sum() == len(result.failed)
    assert "dry run" in repr(result) and result.counts()["would_send"] == 3
    assert emu.state()["contacts"] == N


def test_the_paced_eta_is_said_before_starting(
    emu: Any, account: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = pd.DataFrame({"email": [f"p{i}@example.com" for i in range(3000)]})
    with emu.client(rate_limit=DEFAULT_LIMITS) as paced:
        result = frame.mailtrap.delete_contacts(paced, dry_run=True, journal=False)
    # 3,000 requests at 200 per 60 s: the first 200 at once, then 14 minutes of pacing.
    assert result.eta_seconds == 840 and result.counts()["eta_s"] == 840
    err = capsys.readouterr().err
    assert "delete: 3,000 contacts, one request each; at least 14 min at 200/60s per account" in err


def test_rows_are_matched_by_id_from_an_export(emu: Any, client: Any, account: Any) -> None:
    export = mtp.read_export(client, progress=False)
    chosen = export[export["email"].isin([email(3), email(4)])].copy()
    bogus = pd.DataFrame(
        {"id": ["00000000-0000-4000-8000-000000000000", email(5), ""], "email": ["x@y.io"] * 3}
    )
    frame = pd.concat([chosen[["id", "email"]], bogus], ignore_index=True)
    start, _ = requests_of(client)
    result = frame.mailtrap.delete_contacts(client, journal=False, progress=False)
    assert result.done["email"].tolist() == sorted([email(3), email(4)])
    assert result.not_found["id"].tolist() == ["00000000-0000-4000-8000-000000000000"]
    # An email in the id column is never sent: the API would read it as an email.
    assert result.failed["reason"].tolist() == ["invalid_id", "missing_id"]
    assert requests_of(client)[0] - start == 3
    assert emu.state()["contacts"] == N - 2


def test_a_parquet_file_is_streamed(emu: Any, client: Any, account: Any, tmp_path: Path) -> None:
    path = tmp_path / "gone.parquet"
    pd.DataFrame({"email": [email(i) for i in range(7)]}).to_parquet(path, index=False)
    result = mtp.delete_contacts(path, client, journal=False, progress=False)
    assert result.done.index.tolist() == list(range(7)) and emu.state()["contacts"] == N - 7


def test_a_polars_frame_gets_polars_outcomes(emu: Any, client: Any, account: Any) -> None:
    pl = pytest.importorskip("polars")
    import mailtrap_pandas.polars  # noqa: F401  (registers pl.DataFrame.mailtrap)

    frame = pl.DataFrame({"email": [email(5), "ghost@example.com", "nope"]})
    result = frame.mailtrap.delete_contacts(client, journal=False, progress=False)
    assert isinstance(result.done, pl.DataFrame) and result.done["row"].to_list() == [0]
    assert result.not_found["row"].to_list() == [1] and result.failed["row"].to_list() == [2]
    assert result.pandas.requests == 2 and emu.state()["contacts"] == N - 1


# -- crash and resume -------------------------------------------------------------------------

CHILD = r"""
import sys

import pandas as pd

from mailtrap_pandas import Client, Window, delete_contacts

url, token, account, journal, frame = sys.argv[1:6]
# Paced at 40 requests/s so that the parent can kill it mid-run.
client = Client(token, account_id=account, base_url=url, rate_limit=[Window(20, 0.5)])
print("start", flush=True)
delete_contacts(pd.read_pickle(frame), client, journal=journal, progress=False)
print("done", flush=True)
"""


def test_sigkill_mid_run_then_rerun_repeats_no_finished_row(
    emu: Any, client: Any, account: Any, tmp_path: Path
) -> None:
    doomed = list(range(200))
    frame = pd.DataFrame({"email": [email(i) for i in doomed]})
    pickled, journal = tmp_path / "frame.pkl", tmp_path / "journal.sqlite"
    frame.to_pickle(pickled)
    argv = [emu.url, emu.token, str(emu.account_id), str(journal), str(pickled)]
    served = emu.state()["requests"]
    # The with block closes the pipes (an unclosed one is a ResourceWarning, hence an error).
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            assert child.stdout.readline().strip() == b"start", child.stderr.read().decode()
            deadline = time.monotonic() + 60
            while emu.state()["requests"] - served < 70 and time.monotonic() < deadline:
                if child.poll() is not None:
                    pytest.fail(f"the child ended before its kill point: {child.stderr.read()!r}")
                time.sleep(0.01)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    assert child.returncode == -signal.SIGKILL
    sent_by_child = emu.state()["requests"] - served
    assert 70 <= sent_by_child < 200  # killed mid-run
    store = Journal(journal)
    settled = store._db.execute(
        "SELECT count(*) FROM removal_ledger WHERE status IN ('done', 'not_found')"
    ).fetchone()[0]
    in_flight = store._db.execute(
        "SELECT count(*) FROM removal_ledger WHERE status = 'sending'"
    ).fetchone()[0]
    store.close()
    # The one row in flight was marked 'sending' before its request left: the kill may land
    # before the server saw it (then it is not among the requests served) or after.
    assert settled <= sent_by_child <= settled + in_flight and in_flight <= 1
    # The ledger names no contact: keyed hashes only.
    for file in tmp_path.glob("journal.sqlite*"):
        assert b"example.com" not in file.read_bytes()

    start, _ = requests_of(client)
    result = mtp.delete_contacts(frame, client, journal=journal, progress=False)

    # Only what was left is sent; the one in flight at the kill (if any) is sent again.
    assert result.requests == requests_of(client)[0] - start == 200 - settled
    assert result.ok and len(result.done) == 200 and len(result.not_found) == 0
    assert (result.done["reason"] == "earlier_run").sum() == settled
    assert emu.state()["contacts"] == N - 200
    assert {email(i) for i in range(200, N)} == set(
        mtp.read_export(client, progress=False)["email"]
    )
    # A settled run leaves nothing behind in the ledger.
    store = Journal(journal)
    assert RemovalLedger(store).count() == 0
    store.close()


def test_uncertain_rows_are_settled_by_running_again(
    emu: Any, client: Any, account: Any, tmp_path: Path
) -> None:
    frame = pd.DataFrame({"email": [email(1), email(2), email(3)]})
    journal = tmp_path / "j.sqlite"
    # More 503s than the client retries: the row's outcome is unknown.
    emu.add_fault(
        method="DELETE", path=r"/contacts/user002", status=503, times=client.max_retries + 1
    )
    first = frame.mailtrap.delete_contacts(client, journal=journal, progress=False)
    assert len(first.done) == 2 and first.uncertain.index.tolist() == [1]
    assert first.uncertain.loc[1, "reason"] == "outcome_unknown" and not first.ok
    start, _ = requests_of(client)
    again = frame.mailtrap.delete_contacts(client, journal=journal, progress=False)
    assert again.ok and requests_of(client)[0] - start == 1  # only the uncertain row
    assert again.done.loc[1, "reason"] == "deleted" and emu.state()["contacts"] == N - 3


# -- unsubscribe / resubscribe ----------------------------------------------------------------


def test_unsubscribe_flips_status_and_read_export_shows_it(
    emu: Any, client: Any, account: Any, tmp_path: Path
) -> None:
    # user007 is unsubscribed already (every seventh); nobody@ is not in the account.
    frame = pd.DataFrame({"email": [email(1), email(2), email(7), "nobody@example.com"]})
    ids = {c["email"]: c["id"] for c in account["contacts"]}
    # Tripwires: a PATCH for the contact already unsubscribed, or for the unknown address.
    emu.add_fault(method="PATCH", path=ids[email(7)], status=500)
    emu.add_fault(method="PATCH", path="nobody", status=500)
    result = frame.mailtrap.unsubscribe(client, journal=tmp_path / "j.sqlite", progress=False)
    assert emu.state()["faults_pending"] == 2 and result.retries == 0
    assert sorted(result.done["email"]) == [email(1), email(2), email(7)]
    assert result.done.loc[2, "reason"] == "unchanged"  # no request for it
    assert result.not_found["email"].tolist() == ["nobody@example.com"]
    assert emu.state()["contacts"] == N  # nothing created for the unknown address
    export = mtp.read_export(client, progress=False).set_index("email")
    assert (export.loc[[email(1), email(2), email(7)], "status"] == "unsubscribed").all()
    assert export.loc[email(3), "status"] == "subscribed"
    unsubscribed = export.reset_index()
    chosen = unsubscribed[unsubscribed["email"].isin([email(1), email(7)])][["id", "email"]]
    emu.clear_faults()
    start, _ = requests_of(client)
    back = chosen.mailtrap.resubscribe(client, journal=False, progress=False)
    assert len(back.done) == 2 and requests_of(client)[0] - start == 2  # by id: one PATCH each
    export = mtp.read_export(client, progress=False).set_index("email")
    assert export.loc[email(1), "status"] == export.loc[email(7), "status"] == "subscribed"
    assert export.loc[email(2), "status"] == "unsubscribed"


def test_unsubscribe_by_id_reports_unknown_ids_as_not_found(
    emu: Any, client: Any, account: Any
) -> None:
    export = mtp.read_export(client, progress=False)
    frame = export[export["email"] == email(4)][["id", "email"]]
    frame.loc[99] = ["00000000-0000-4000-8000-00000000abcd", "who@example.com"]
    result = frame.mailtrap.unsubscribe(client, journal=False, progress=False)
    assert result.done["email"].tolist() == [email(4)]
    assert result.not_found.index.tolist() == [99] and emu.state()["contacts"] == N


# -- command line -----------------------------------------------------------------------------


def cli_json(*args: str, ok: int = 0) -> Any:
    result = CliRunner(**_SEPARATE).invoke(
        cli, ["--json", "--no-progress", *args], catch_exceptions=False
    )
    assert result.exit_code == ok, (result.exit_code, result.stdout, result.stderr)
    return json.loads(result.stdout) if ok != 1 else result.stderr


@pytest.fixture
def env(emu: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("MAILTRAP_API_TOKEN", emu.token)
    monkeypatch.setenv("MAILTRAP_BASE_URL", emu.url)
    monkeypatch.setenv("MAILTRAP_ACCOUNT_ID", str(emu.account_id))
    return emu


def test_cli_delete_dry_run_guard_and_outcomes(env: Any, account: Any, tmp_path: Path) -> None:
    file = tmp_path / "gone.csv"
    pd.DataFrame({"email": [email(1), email(2), "ghost@example.com", "bad"]}).to_csv(
        file, index=False
    )
    journal = str(tmp_path / "j.sqlite")
    dry = cli_json("delete", str(file), "--dry-run", "--journal", journal, ok=3)
    assert (dry["would_send"], dry["failed"], dry["requests"]) == (3, 1, 0)
    refused = cli_json("delete", str(file), "--max-delete", "2", "--journal", journal, ok=1)
    assert "3 contacts is more than max_delete=2" in refused
    assert env.state()["contacts"] == N
    out = tmp_path / "outcomes.csv"
    done = cli_json("delete", str(file), "--journal", journal, "-o", str(out), ok=3)
    assert (done["done"], done["not_found"], done["failed"]) == (2, 1, 1)
    rows = pd.read_csv(out, dtype=str)
    assert sorted(rows["outcome"]) == ["done", "done", "failed", "not_found"]
    text = CliRunner(**_SEPARATE).invoke(cli, ["unsubscribe", str(file)], catch_exceptions=False)
    assert text.exit_code == 3 and "RemovalResult(unsubscribe" in text.stdout
    assert env.state()["contacts"] == N - 2


def test_cli_unsubscribe_then_resubscribe_a_file(
    env: Any, client: Any, account: Any, tmp_path: Path
) -> None:
    # The three removal commands are built by one factory: the same options, each its own job.
    file = tmp_path / "optouts.csv"
    pd.DataFrame({"email": [email(1), email(2)]}).to_csv(file, index=False)
    journal = str(tmp_path / "j.sqlite")

    def status() -> list[str]:
        export = mtp.read_export(client, progress=False).set_index("email")
        return export.loc[[email(1), email(2)], "status"].tolist()

    off = cli_json("unsubscribe", str(file), "--journal", journal)
    assert (off["done"], off["failed"]) == (2, 0)
    assert status() == ["unsubscribed", "unsubscribed"]
    out = tmp_path / "back.csv"
    back = cli_json("resubscribe", str(file), "--journal", journal, "-o", str(out))
    assert (back["done"], back["failed"]) == (2, 0)
    assert status() == ["subscribed", "subscribed"]
    assert pd.read_csv(out, dtype=str)["outcome"].tolist() == ["done", "done"]
    assert env.state()["contacts"] == N
