"""Fault matrix: a 120,010-row import under every fault the emulator can script.

Each case drives the emulator's fault API (or kills the importing process) and then
checks the same four promises:

1. every input row ends in exactly one of imported / rejected / deduplicated
   (``check_invariant`` and an independent check of the three label sets);
2. the emulator accepted each chunk once: ``imports_accepted`` equals the number of
   chunk submissions that should have been taken (a failed job is accepted but changes
   nothing, so re-running after it costs exactly one more);
3. the emulator ends with one contact per distinct valid email, with the values of the
   row that won deduplication;
4. outside the 429 storm the client never draws a 429: the emulator runs its DEFAULT
   documented limits and the client paces with the matching budget from ``limited_emu.client()``.

A table of cases and outcomes is printed in the terminal summary.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mailtrap_pandas.api import retry
from mailtrap_pandas.emulator import Emulator
from mailtrap_pandas.errors import MailtrapError
from mailtrap_pandas.jobs.imports.result import ImportResult, InvariantError
from mailtrap_pandas.jobs.imports.run import import_contacts
from mailtrap_pandas.jobs.store import Journal

pytestmark = pytest.mark.slow

TABLE = "fault matrix: 120,010-row import, chunk_size=40,000"
FIELDS = [
    {"name": "City", "data_type": "text", "merge_tag": "city"},
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Joined", "data_type": "date", "merge_tag": "joined"},
]
CHUNK = 40_000
BASE_ROWS = 120_006
# Small poll intervals keep the file fast; the back-off logic is the same.
FAST: dict[str, Any] = {
    "chunk_size": CHUNK,
    "progress": False,
    "poll_interval": 0.05,
    "max_poll_interval": 0.5,
}
# Rows broken on purpose, by position among the base rows: (column, bad value).
BROKEN: dict[int, tuple[str, Any]] = {
    7: ("email", "not-an-email"),
    20_011: ("email", None),
    45_000: ("age", "old"),
    70_000: ("age", 1.5),
    95_000: ("joined", "2024-13-01"),
    119_000: ("city", "x" * 256),
}
# Later rows repeating an earlier email in another case: dedupe="last" keeps the later.
REPEATED = [5, 40_005, 80_005, 119_999]
SUBMIT = r"/contacts/imports$"
POLL = r"/contacts/imports/\d+$"


def label(i: int) -> str:
    # The caller's own labels (not positions), so a mix-up between the two shows.
    return f"row-{i:06d}"


@dataclass(frozen=True)
class Data:
    df: pd.DataFrame
    rejected: frozenset[str]
    duplicates: dict[str, str]  # dropped label -> kept label
    distinct_valid: int


def build_data() -> Data:
    i = np.arange(BASE_ROWS)
    df = pd.DataFrame(
        {
            "email": np.array([f"user{k}@example.com" for k in i], dtype=object),
            "city": np.array(["Riga", "Tallinn", "Vilnius"], dtype=object)[i % 3],
            "age": (i % 90).astype(object),
            "joined": (np.datetime64("2020-01-01") + (i % 1500)).astype(str).astype(object),
        }
    )
    for pos, (column, value) in BROKEN.items():
        df.loc[pos, column] = value
    repeats = pd.DataFrame(
        {
            "email": [f"USER{k}@EXAMPLE.COM" for k in REPEATED],
            "city": "Winner",
            "age": 99,
            "joined": "2024-02-29",
        }
    )
    df = pd.concat([df, repeats], ignore_index=True)
    df.index = pd.Index([label(k) for k in range(len(df))])
    dups = {label(k): label(BASE_ROWS + n) for n, k in enumerate(REPEATED)}
    rejected = frozenset(label(k) for k in BROKEN)
    return Data(df, rejected, dups, len(df) - len(rejected) - len(dups))


@pytest.fixture(scope="module")
def data() -> Data:
    built = build_data()
    # Three full chunks exactly: the expected accepted counts below rely on it.
    assert built.distinct_valid == 3 * CHUNK
    return built


@pytest.fixture(autouse=True)
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # Retry back-off 10x shorter: the matrix checks what is retried and what is not, and
    # what it costs in requests; tests/unit/test_retry.py covers the delays themselves.
    monkeypatch.setattr(retry, "BASE_DELAY", retry.BASE_DELAY / 10)


@pytest.fixture
def limited_emu() -> Iterator[Emulator]:
    # A fresh emulator per case with the DEFAULT documented rate limits ON.
    with Emulator() as emulator:
        emulator.seed(fields=FIELDS)
        yield emulator


# -- the checks every case shares -------------------------------------------------------------


def check_rows(result: ImportResult, data: Data, *, extra_rejected: int = 0) -> None:
    """Each input row in exactly one outcome, checked twice (library and here)."""
    result.check_invariant(data.df.index)
    imported = pd.Index(result.imported_index)
    rejected = pd.Index(result.rejected.index.unique())
    dropped = pd.Index(result.duplicates["row"])
    assert not imported.has_duplicates and not dropped.has_duplicates
    assert imported.intersection(rejected).empty
    assert imported.intersection(dropped).empty
    assert rejected.intersection(dropped).empty
    together = imported.append(rejected).append(dropped)
    assert len(together) == len(data.df)
    assert set(together) == set(data.df.index)
    # The deliberately broken rows are rejected locally, naming their column.
    local = result.rejected[result.rejected["stage"] == "local"]
    assert set(local.index) == set(data.rejected)
    for pos, (column, _) in BROKEN.items():
        assert column in set(local.loc[[label(pos)], "column"])
    assert dict(zip(result.duplicates["row"], result.duplicates["kept_row"], strict=True)) == (
        data.duplicates
    )
    assert len(rejected) == len(data.rejected) + extra_rejected


def check_server(limited_emu: Emulator, data: Data, *, accepted: int, storm_429s: int = 0) -> None:
    state = limited_emu.state()
    assert state["imports_accepted"] == accepted, state
    assert state["contacts"] == data.distinct_valid, state
    # Exactly the scripted 429s (none outside the storm): the budget paced the rest.
    assert state["responses"].get("429", 0) == storm_429s, state["responses"]
    assert state["faults_pending"] == 0, "a scripted fault never fired: the case tested nothing"
    # The row that won deduplication is the one stored (last row wins, case-insensitively).
    client = limited_emu.client()
    winner = client.contacts.get("user5@example.com")["fields"]
    assert (winner["age"], winner["city"]) == (99, "Winner")
    plain = client.contacts.get("user6@example.com")["fields"]
    assert (plain["age"], plain["city"], plain["joined"]) == (6, "Riga", "2020-01-07")


def statuses(result: ImportResult) -> str:
    counts = Counter(result.jobs["status"].astype(str))
    return " ".join(f"{status}x{n}" for status, n in sorted(counts.items()))


def row(
    case: str, fault: str, result: ImportResult, limited_emu: Emulator, **extra: Any
) -> dict[str, Any]:
    state = limited_emu.state()
    return {
        "case": case,
        "fault": fault,
        **extra,
        "imported": len(result.imported_index),
        "rejected": result.rejected.index.nunique(),
        "dups": len(result.duplicates),
        "jobs": statuses(result),
        "accepted": state["imports_accepted"],
        "contacts": state["contacts"],
        "429s": state["responses"].get("429", 0),
        "5xx": sum(n for code, n in state["responses"].items() if code.startswith("5")),
    }


# -- scripted faults ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    fault: str  # for the table
    faults: tuple[dict[str, Any], ...] = ()
    # "complete": the first run imports everything; "partial": it rejects one chunk's rows
    # with `reason`, and a re-run with the same journal finishes; "raises": the first run
    # stops with a MailtrapError, and a re-run finishes.
    first: str = "complete"
    reason: str = ""
    accepted: int = 3
    storm_429s: int = 0
    max_retries: int = 6
    retry_failed_jobs: int = 1
    job_statuses: frozenset[str] = field(default_factory=lambda: frozenset({"finished"}))


def _5xx(status: int, where: str) -> Case:
    method, path = ("POST", SUBMIT) if where == "submit" else ("GET", POLL)
    return Case(
        f"{where}_{status}",
        f"{status} x2 on {method} {'imports' if where == 'submit' else 'imports/<id>'}",
        ({"method": method, "path": path, "status": status, "times": 2},),
    )


CASES = [
    Case("baseline", "none"),
    Case(
        "429_storm",
        # Consecutive 429s on whatever comes (the fields GET), then on the next submits,
        # then on the next polls: the storm spans every kind of request the import makes.
        "429 x3 any, x2 submit, x3 poll",
        (
            {"status": 429, "times": 3},
            {"method": "POST", "path": SUBMIT, "status": 429, "times": 2},
            {"method": "GET", "path": POLL, "status": 429, "times": 3},
        ),
        storm_429s=8,
    ),
    *(_5xx(status, where) for where in ("submit", "poll") for status in (500, 502, 503)),
    Case(
        "submit_503_exhausted",
        "503 x3 on submit, max_retries=2",
        ({"method": "POST", "path": SUBMIT, "status": 503, "times": 3},),
        first="partial",
        reason="submit_failed",
        max_retries=2,
    ),
    Case(
        "poll_503_exhausted",
        "503 x3 on poll, max_retries=2",
        ({"method": "GET", "path": POLL, "status": 503, "times": 3},),
        first="raises",
        max_retries=2,
    ),
    Case(
        "drop_before_accept",
        "connection dropped before the server read the submit",
        ({"method": "POST", "path": SUBMIT, "drop": True, "times": 1},),
        # Uncertain -> one export -> not there -> submitted again (once).
        job_statuses=frozenset({"finished", "not_found"}),
    ),
    Case(
        "drop_after_accept",
        "connection dropped after the server accepted the submit",
        ({"method": "POST", "path": SUBMIT, "drop": "after", "times": 1},),
        # Uncertain -> one export -> all there -> verified, never submitted again.
        job_statuses=frozenset({"finished", "verified"}),
    ),
    Case(
        "drop_poll",
        "connection dropped on 2 polls",
        ({"method": "GET", "path": POLL, "drop": True, "times": 2},),
    ),
    Case(
        "failed_job",
        "first import job ends 'failed'",
        ({"import": "fail", "times": 1},),
        # The failed job was accepted (and changed nothing); its chunk is sent once more.
        accepted=4,
    ),
    Case(
        "failed_job_no_resubmit",
        "first import job ends 'failed', retry_failed_jobs=0",
        ({"import": "fail", "times": 1},),
        first="partial",
        reason="import_failed",
        retry_failed_jobs=0,
        # The re-run resubmits only the failed chunk.
        accepted=4,
    ),
    Case("slow_jobs", "job_delay_s=0.3 per stage", ({"job_delay_s": 0.3},)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fault_case(
    case: Case, data: Data, limited_emu: Emulator, tmp_path: Path, outcome_table: Any
) -> None:
    started = time.monotonic()
    for spec in case.faults:
        limited_emu.add_fault(**spec)
    client = limited_emu.client(max_retries=case.max_retries, rng=random.Random(0))
    journal = tmp_path / "journal.sqlite"
    fast = {**FAST, "retry_failed_jobs": case.retry_failed_jobs}
    runs = 1
    if case.first == "raises":
        with pytest.raises(MailtrapError) as info:
            import_contacts(data.df, client, journal=journal, **fast)
        # A clear API error, never a broken invariant or an internal exception.
        assert not isinstance(info.value, InvariantError)
        assert limited_emu.state()["imports_accepted"] == case.accepted  # all submitted once
        first_note = type(info.value).__name__
        result = import_contacts(data.df, client, journal=journal, **fast)
        runs = 2
    else:
        result = import_contacts(data.df, client, journal=journal, **fast)
        first_note = f"{result.rejected.index.nunique()} rejected"
        if case.first == "partial":
            chunk_rows = result.rejected[result.rejected["reason"] == case.reason]
            assert len(chunk_rows) == CHUNK and chunk_rows.index.is_unique
            check_rows(result, data, extra_rejected=CHUNK)
            assert len(result.retry_frame()) == CHUNK + len(data.rejected)
            result = import_contacts(data.df, client, journal=journal, **fast)
            runs = 2
    check_rows(result, data)
    assert set(result.jobs["status"].astype(str)) == set(case.job_statuses)
    check_server(limited_emu, data, accepted=case.accepted, storm_429s=case.storm_429s)
    outcome_table(
        TABLE,
        row(
            case.id,
            case.fault,
            result,
            limited_emu,
            runs=runs,
            first_run=first_note,
            secs=f"{time.monotonic() - started:.1f}",
        ),
    )


# -- SIGKILL at random points, then run again -------------------------------------------------

CHILD = r"""
import sys

import pandas as pd

from mailtrap_pandas import Client
from mailtrap_pandas.api import retry
from mailtrap_pandas.jobs.imports.run import import_contacts

url, token, account, journal, frame, chunk = sys.argv[1:7]
df = pd.read_pickle(frame)
# The default budget is the emulator's DEFAULT limits: the child paces like the parent.
client = Client(token, account_id=account, base_url=url)
print("start", flush=True)
import_contacts(
    df, client, journal=journal, chunk_size=int(chunk), progress=False,
    poll_interval=0.05, max_poll_interval=0.5,
)
print("done", flush=True)
"""


def kill_plan(seed: int) -> tuple[int, float]:
    """(accepted imports to wait for, then seconds more) before the SIGKILL."""
    rng = random.Random(seed)
    return rng.randint(0, 3), round(rng.uniform(0.0, 0.6), 3)


@pytest.mark.parametrize("seed", range(5))
def test_sigkill_then_rerun(
    seed: int, data: Data, limited_emu: Emulator, tmp_path: Path, outcome_table: Any
) -> None:
    started = time.monotonic()
    after, delay = kill_plan(seed)
    frame = tmp_path / "frame.pkl"
    data.df.to_pickle(frame)
    journal = tmp_path / "journal.sqlite"
    # Slow jobs while the child runs, so kills also land while it polls (the last job
    # needs >= 1 s after its submit, more than the longest extra delay of 0.6 s).
    limited_emu.add_fault(job_delay_s=0.5)
    argv = [
        limited_emu.url,
        limited_emu.token,
        str(limited_emu.account_id),
        str(journal),
        str(frame),
        str(CHUNK),
    ]
    # The with block closes the pipes (an unclosed one is a ResourceWarning, hence an error).
    with subprocess.Popen(
        [sys.executable, "-c", CHILD, *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ},
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        try:
            first_line = child.stdout.readline().strip()
            assert first_line == b"start", child.stderr.read().decode()
            deadline = time.monotonic() + 60
            while limited_emu.state()["imports_accepted"] < after and time.monotonic() < deadline:
                if child.poll() is not None:
                    pytest.fail(f"the child ended before its kill point: {child.stderr.read()!r}")
                time.sleep(0.01)  # polls the emulator's counter, not a fixed wait
            # The kill point itself: a seeded extra delay after the N-th accepted chunk.
            time.sleep(delay)
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
    # Killed, not finished: otherwise the case would test nothing.
    assert child.returncode == -signal.SIGKILL
    at_kill = limited_emu.state()["imports_accepted"]
    states = {}
    if journal.exists():
        book = Journal(journal)
        states = {
            s: n
            for s in ("submitting", "submitted", "uncertain", "finished")
            if (n := book.count(s))
        }
        book.close()
    limited_emu.clear_faults()
    result = import_contacts(data.df, limited_emu.client(), journal=journal, **FAST)
    check_rows(result, data)
    # Each chunk accepted exactly once over both processes, whatever the kill point.
    check_server(limited_emu, data, accepted=3)
    outcome_table(
        TABLE,
        row(
            f"sigkill_seed{seed}",
            f"SIGKILL after {after} accepted + {delay}s",
            result,
            limited_emu,
            runs=2,
            first_run=f"killed; accepted {at_kill}; journal {states or 'empty'}",
            secs=f"{time.monotonic() - started:.1f}",
        ),
    )
