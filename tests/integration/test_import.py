"""import_contacts against the emulator over HTTP: faults, resume, cost, the invariant."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.errors import InputError
from mailtrap_pandas.jobs.imports.run import import_contacts, to_import_payloads
from tests.helpers import FAST, contacts

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
]


@pytest.fixture(autouse=True)
def seed_account(emu: Any) -> None:
    """The session's emulator (tests/conftest.py), reset, with this module's fields."""
    emu.seed(fields=FIELDS)


def run(emu: Any, df: pd.DataFrame, journal: Any = False, **kw: Any) -> Any:
    client = emu.client(rate_limit=None, max_retries=6)
    opts = {**FAST, "chunk_size": 1000, "journal": journal, **kw}
    result = import_contacts(df, client, **opts)
    result.check_invariant(df.index)
    return result


def test_happy_path_120k_rows_and_cost(emu: Any) -> None:
    df = contacts(120_000)
    # Polls back off from 1 s (the default schedule), so their count barely depends on how
    # fast the emulator runs when the lowest and newest runs share the cores.
    result = run(emu, df, chunk_size=40_000, poll_interval=1.0, max_poll_interval=2.0)
    assert result.ok, result
    assert (result.created, result.updated) == (120_000, 0)
    assert len(result.jobs) == 3 and set(result.jobs["status"]) == {"finished"}
    assert emu.state()["imports_accepted"] == 3
    # 1 fields GET + K submits + polls: at most 2K + small constant.
    assert result.requests <= 2 * 3 + 4, result.requests
    assert "ImportResult" in repr(result) and "<div>" in result._repr_html_()


def test_dry_run_sends_nothing(emu: Any) -> None:
    bodies = list(to_import_payloads(contacts(5), emu.client(rate_limit=None), chunk_size=2))
    assert len(bodies) == 3 and bodies[0].startswith(b'{"contacts":[')
    assert emu.state()["imports_accepted"] == 0


def test_local_rejects_and_duplicates_and_retry_frame(emu: Any) -> None:
    df = contacts(10).astype({"age": object})
    df.loc[3, "email"] = "not-an-email"
    df.loc[4, "age"] = "old"
    df.loc[9, "email"] = "USER0@example.com"
    result = run(emu, df, chunk_size=3)
    assert set(result.rejected.index) == {3, 4}
    assert set(result.rejected["stage"]) == {"local"}
    assert list(result.duplicates["row"]) == [0] and list(result.duplicates["kept_row"]) == [9]
    retry = result.retry_frame()
    assert list(retry.index) == [3, 4] and retry.loc[4, "age"] == "old"


def test_server_422_per_email_resubmits_the_rest(emu: Any) -> None:
    # A field the caller believes in but the account lacks: only row 2 sets it, so the
    # server refuses row 2 alone (per-email 422) and the rest must still go through.
    df = contacts(6).assign(ghost=pd.array([None, None, "boo", None, None, None], "string"))
    local = [*FIELDS, {"name": "Ghost", "data_type": "text", "merge_tag": "ghost"}]
    result = run(emu, df, chunk_size=6, fields=local)
    assert list(result.rejected.index) == [2]
    row = result.rejected.loc[2]
    assert (row["stage"], row["column"]) == ("server", "fields")
    assert "ghost" in row["message"]
    assert len(result.imported_index) == 5 and result.created == 5
    assert emu.state()["imports_accepted"] == 1


def test_server_base_error_rejects_whole_chunk(emu: Any) -> None:
    # A 422 that names no email (here injected): the whole chunk is rejected, once.
    emu.add_fault(method="POST", path="imports", status=422, times=2)
    result = run(emu, contacts(4), chunk_size=2)
    assert len(result.rejected.index.unique()) == 4
    assert set(result.rejected["stage"]) == {"server"}
    assert emu.state()["imports_accepted"] == 0


def test_500s_on_submit_and_on_poll(emu: Any) -> None:
    emu.add_fault(method="POST", path="imports", status=500, times=3)
    emu.add_fault(method="GET", path="imports/", status=503, times=3)
    result = run(emu, contacts(3000))
    assert result.ok and emu.state()["imports_accepted"] == 3


def test_429_storm(emu: Any) -> None:
    emu.add_fault(path="imports", status=429, times=4)
    result = run(emu, contacts(2000))
    assert result.ok and emu.state()["imports_accepted"] == 2


@pytest.mark.parametrize("drop", [True, "after"])
def test_dropped_connection_never_imports_twice(emu: Any, drop: Any) -> None:
    emu.add_fault(method="POST", path="imports", drop=drop, times=1)
    result = run(emu, contacts(3000))
    assert len(result.imported_index) == 3000, result.rejected
    assert emu.state()["imports_accepted"] == 3
    statuses = set(result.jobs["status"])
    assert statuses <= {"finished", "verified", "not_found"}


def test_failed_job_is_resubmitted_150k_rows_all_arrive(emu: Any) -> None:
    """One failed job in a 150,000-row import: its chunk is sent again, nothing is missing."""
    emu.add_fault(**{"import": "fail", "times": 1})
    df = contacts(150_000)
    result = run(emu, df, chunk_size=50_000)
    assert result.ok and len(result.imported_index) == 150_000
    state = emu.state()
    assert state["contacts"] == 150_000
    assert state["imports_accepted"] == 4  # 3 chunks + the failed one once more
    assert result.jobs["resubmits"].tolist() == [1, 0, 0]
    assert set(result.jobs["status"]) == {"finished"}
    assert result.created == 150_000


def test_second_failure_rejects_only_that_chunk(emu: Any) -> None:
    # Jobs fail as they are created: the 3 first submissions and chunk 0's resubmission.
    emu.add_fault(**{"import": "fail", "times": 4})
    df = contacts(3000)
    result = run(emu, df)
    rejected = result.rejected
    assert set(rejected["reason"]) == {"import_failed"}
    assert sorted(rejected.index) == list(range(1000))  # chunk 0 failed twice
    assert len(result.imported_index) == 2000 and emu.state()["contacts"] == 2000
    assert emu.state()["imports_accepted"] == 6
    assert result.jobs["resubmits"].tolist() == [1, 1, 1]
    assert len(result.retry_frame()) == 1000


def test_failed_jobs_name_their_rows_emails_after_wait_false(emu: Any) -> None:
    # A running job's emails wait in the spool, read back for the rows of a failed job,
    # also by result.wait() (before the spool is closed).
    emu.add_fault(**{"import": "fail", "times": 1})
    df = contacts(3000)
    client = emu.client(rate_limit=None)
    opts = {**FAST, "chunk_size": 1000, "journal": False, "retry_failed_jobs": 0}
    done = import_contacts(df, client, wait=False, **opts).wait()
    done.check_invariant(df.index)
    rejected = done.rejected.sort_index()
    assert rejected.index.tolist() == list(range(1000))
    assert rejected["email"].tolist() == df["email"][:1000].tolist()
    assert len(done.imported_index) == 2000


def test_retry_failed_jobs_two_and_bad_values(emu: Any) -> None:
    emu.add_fault(**{"import": "fail", "times": 2})
    df = contacts(1000)
    result = run(emu, df, retry_failed_jobs=2)
    assert result.ok and result.jobs["resubmits"].tolist() == [2]
    assert emu.state()["contacts"] == 1000
    for bad in (-1, 1.5, True, "1"):
        with pytest.raises(InputError, match="retry_failed_jobs"):
            run(emu, df, retry_failed_jobs=bad)


def test_failed_job_rejects_its_rows_then_rerun_resubmits(emu: Any, tmp_path: Path) -> None:
    emu.add_fault(**{"import": "fail", "times": 1})
    df = contacts(2000)
    first = run(emu, df, journal=tmp_path / "j.sqlite", retry_failed_jobs=0)
    assert set(first.rejected["reason"]) == {"import_failed"}
    assert len(first.retry_frame()) == 1000
    again = run(emu, df, journal=tmp_path / "j.sqlite")
    assert again.ok and len(again.imported_index) == 2000


def test_slow_jobs_wait_false_then_resume(emu: Any, tmp_path: Path) -> None:
    emu.add_fault(job_delay_s=0.3)
    df = contacts(3000)
    journal = tmp_path / "j.sqlite"
    client = emu.client(rate_limit=None)
    opts = {**FAST, "chunk_size": 1000, "journal": journal}
    pending = import_contacts(df, client, wait=False, **opts)
    assert pending.pending == 3 and not pending.ok
    done = pending.wait()
    done.check_invariant()
    assert done.ok and done.created == 3000
    # Running the call again after success submits nothing and reports the counts.
    before = emu.state()["imports_accepted"]
    again = run(emu, df, journal=journal)
    assert emu.state()["imports_accepted"] == before == 3
    assert again.created == 3000 and again.ok
    assert again.jobs["from_journal"].all() and not done.jobs["from_journal"].any()
    assert "3 jobs of an earlier run found in the journal" in again._repr_html_()
    # print(result) says so too: the counts are the earlier run's, and how to send again.
    assert "3 jobs of an earlier run found in the journal and not sent again" in repr(again)
    assert "journal=False (CLI --no-journal)" in repr(again)
    assert "journal" not in repr(done)


def test_pacing_never_draws_a_429() -> None:
    with Emulator(rate_limit=[(20, 2.0, "token")]) as emu:
        emu.seed(fields=FIELDS)
        client = emu.client()
        result = import_contacts(contacts(600), client, chunk_size=50, journal=False, **FAST)
        assert result.ok
        assert emu.state()["responses"].get("429", 0) == 0


CHILD = """
import sys
from mailtrap_pandas import Client
from mailtrap_pandas.jobs.imports.run import import_contacts
import pandas as pd
url, token, account, journal = sys.argv[1:5]
idx = pd.RangeIndex(0, 6000)
df = pd.DataFrame({"email": [f"user{i}@example.com" for i in idx], "age": list(idx)})
df["city"] = "Riga"
client = Client(token, account_id=account, base_url=url, rate_limit=None)
print("start", flush=True)
import_contacts(df, client, chunk_size=1000, journal=journal, progress=False, poll_interval=0.05)
"""


def test_resume_after_sigkill(tmp_path: Path) -> None:
    journal = tmp_path / "j.sqlite"
    with Emulator(rate_limit=None, db=tmp_path / "emu.sqlite") as emu:
        emu.seed(fields=FIELDS)
        emu.add_fault(job_delay_s=0.5)
        with subprocess.Popen(  # the with block closes the pipe after the kill
            [sys.executable, "-c", CHILD, emu.url, emu.token, str(emu.account_id), str(journal)],
            stdout=subprocess.PIPE,
            env={**os.environ},
        ) as child:
            # Generous: on a loaded machine the child takes long to import pandas.
            deadline = time.time() + 120
            while emu.state()["imports_accepted"] < 3 and time.time() < deadline:
                time.sleep(0.02)  # polls the emulator's counter, not a fixed wait
            child.send_signal(signal.SIGKILL)
            child.wait()
        accepted = emu.state()["imports_accepted"]
        assert 0 < accepted < 7
        emu.clear_faults()
        df = contacts(6000)
        result = run(emu, df, journal=journal)
        assert result.ok, (result.rejected, result.jobs.to_string())
        assert len(result.imported_index) == 6000
        assert emu.state()["imports_accepted"] == 6
