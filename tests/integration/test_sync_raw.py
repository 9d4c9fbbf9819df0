"""The raw-row shortcut of a sync, over HTTP: what skips validation, and what invalidates it.

A row whose raw input is unchanged since the last confirmed sync is unchanged without being
validated; a change of the field definitions, of the validation options or of a column's
dtype sends every row through validation again, and re-sends what now validates otherwise.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import mailtrap_pandas as mtp
from mailtrap_pandas.jobs.imports import planner as import_planner
from tests.helpers import FAST

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "Code", "data_type": "float", "merge_tag": "code"},
    {"name": "Signup", "data_type": "date", "merge_tag": "signup"},
]


def contacts(n: int) -> pd.DataFrame:
    idx = pd.RangeIndex(n)
    return pd.DataFrame(
        {
            "email": [f"User{i}@Example.com" for i in idx],
            "age": [str(20 + i % 50) for i in idx],
            "code": ["1.50"] * n,
            "signup": ["2024-04-03"] * n,
        },
        index=idx,
    )


@pytest.fixture(autouse=True)
def seed_account(emu: Any) -> None:
    """The session's emulator (tests/conftest.py), reset, with this module's fields."""
    emu.seed(fields=FIELDS)


@pytest.fixture
def validated(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows each sync passes to validation (the real validation runs; it is only counted)."""
    seen: list[int] = []
    real = import_planner.validate

    def counting(frame: pd.DataFrame, **kw: Any) -> Any:
        seen.append(len(frame))
        return real(frame, **kw)

    monkeypatch.setattr(import_planner, "validate", counting)
    return seen


def run(emu: Any, df: Any, journal: Path, check: bool = True, **kw: Any) -> mtp.SyncResult:
    result = mtp.sync(df, emu.client(rate_limit=None), **{**FAST, "journal": journal, **kw})
    if check:
        result.check_invariant(df.index)
    return result


def exported(emu: Any) -> pd.DataFrame:
    return mtp.read_export(emu.client(rate_limit=None), progress=False).set_index("email")


def test_unchanged_raw_rows_skip_validation(emu: Any, tmp_path: Path, validated: list[int]) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(200)
    assert len(run(emu, df, journal).sent) == 200
    changed = df.copy()
    changed.loc[[3, 150], "age"] = "99"
    validated.clear()
    second = run(emu, changed, journal)
    assert sorted(second.sent) == [3, 150] and len(second.unchanged) == 198
    assert validated == [2]  # only the two changed rows were validated
    assert exported(emu).loc["User3@example.com", "age"] == 99
    validated.clear()
    third = run(emu, changed, journal)
    assert len(third.sent) == 0 and len(third.unchanged) == 200 and validated == [0]
    with closing(sqlite3.connect(journal)) as db:  # 8 more bytes per email: the raw-row hash
        assert db.execute("SELECT sum(length(raws)) FROM sync_state").fetchone()[0] == 200 * 8


def test_changed_options_validate_again_and_resend(
    emu: Any, tmp_path: Path, validated: list[int]
) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(50).assign(signup="03/04/2024")  # 3 April or 4 March: dayfirst decides
    run(emu, df, journal, dayfirst=True)
    assert str(exported(emu).loc["User0@example.com", "signup"])[:10] == "2024-04-03"
    validated.clear()
    second = run(emu, df, journal, dayfirst=False)  # same raw rows, other options
    assert validated == [50] and len(second.sent) == 50
    assert str(exported(emu).loc["User0@example.com", "signup"])[:10] == "2024-03-04"
    validated.clear()
    again = run(emu, df, journal, dayfirst=False)
    assert validated == [0] and len(again.sent) == 0


def test_changed_field_definitions_validate_again_and_resend(
    emu: Any, tmp_path: Path, validated: list[int]
) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(40)
    run(emu, df, journal)
    assert exported(emu).loc["User0@example.com", "code"] == 1.5
    client = emu.client(rate_limit=None)
    code = next(f for f in client.fields.list() if f["merge_tag"] == "code")
    client.fields.delete(code["id"])
    client.fields.create("Code", "text", "code")  # the same column is now text: "1.50"
    validated.clear()
    second = run(emu, df, journal)
    assert validated == [40] and len(second.sent) == 40
    assert exported(emu).loc["User0@example.com", "code"] == "1.50"


def test_new_dtype_validates_again_sends_nothing_and_is_learned(
    emu: Any, tmp_path: Path, validated: list[int]
) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(60)
    run(emu, df, journal)
    typed = df.assign(age=df["age"].astype("Int64"))  # "41" -> 41: other raw, same values
    validated.clear()
    second = run(emu, typed, journal)
    assert validated == [60] and len(second.sent) == 0 and len(second.unchanged) == 60
    validated.clear()
    third = run(emu, typed, journal)
    assert validated == [0] and len(third.unchanged) == 60


def test_an_email_on_two_rows_is_left_to_dedupe(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(20)
    run(emu, df, journal)
    # Row 0 is exactly as confirmed, but a later row of the same email wins (dedupe="last").
    later = pd.DataFrame({"email": ["user0@example.com"], "age": ["77"]}, index=[20])
    both = pd.concat([df, later.assign(code="1.50", signup="2024-04-03")])
    result = run(emu, both, journal)
    assert list(result.sent) == [20]
    assert result.duplicates["row"].tolist() == [0]
    assert exported(emu).loc["User0@example.com", "age"] == 77
    # dedupe="first": the confirmed row 0 wins, and it is sent again (the account has 77).
    result = run(emu, both, journal, dedupe="first")
    assert list(result.sent) == [0] and result.duplicates["row"].tolist() == [20]
    assert exported(emu).loc["User0@example.com", "age"] == 20


def test_stream_repeats_across_frames_last_row_wins(emu: Any, tmp_path: Path) -> None:
    journal = tmp_path / "store.sqlite"
    df = contacts(100)
    run(emu, iter([df]), journal, check=False)
    # user5: unchanged in the first frame, changed in the second; user70: changed in the
    # first frame, unchanged (as confirmed) in the second. The last row of each must win.
    five = df.loc[[5]].assign(age="555").set_axis([101])
    seventy = df.loc[[70]].assign(age="700").set_axis([100])
    frames = [pd.concat([df.iloc[:60], seventy]), pd.concat([df.iloc[60:], five])]
    result = run(emu, iter(frames), journal, check=False)
    assert {101, 70} <= set(result.sent)
    ages = exported(emu)["age"]
    assert ages["User5@example.com"] == 555 and ages["User70@example.com"] == 40
    assert ages["User6@example.com"] == 26
