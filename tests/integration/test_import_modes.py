"""import_contacts(mode=...): update_only / create_only through ONE export snapshot."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from mailtrap_pandas.errors import InputError
from mailtrap_pandas.jobs.exports import read_export
from mailtrap_pandas.jobs.imports.run import import_contacts
from tests.helpers import FAST

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
]


@pytest.fixture(autouse=True)
def seed_account(emu: Any) -> None:
    """The session's emulator, reset, holding user0..user4 (age 1, city Old)."""
    emu.seed(
        fields=FIELDS,
        contacts=[
            {"email": f"user{i}@example.com", "fields": {"age": 1, "city": "Old"}} for i in range(5)
        ],
    )


def frame() -> pd.DataFrame:
    """user3..user7, labels 103..107; user3 is written in capitals (case-insensitive match)."""
    emails = [f"user{i}@example.com" for i in range(3, 8)]
    emails[0] = emails[0].upper()
    return pd.DataFrame(
        {"email": emails, "age": [30, 40, 50, 60, 70], "city": "New"},
        index=pd.RangeIndex(103, 108),
    )


def run(emu: Any, df: pd.DataFrame, **kw: Any) -> Any:
    client = emu.client(rate_limit=None)
    result = import_contacts(df, client, chunk_size=2, journal=False, **{**FAST, **kw})
    result.check_invariant(df.index)
    return result


def stored(emu: Any) -> pd.DataFrame:
    return read_export(emu.client(rate_limit=None), progress=False).set_index("email")


def test_update_only_touches_existing_contacts_only(emu: Any) -> None:
    result = run(emu, frame(), mode="update_only")
    assert emu.state()["exports"] == 1  # one snapshot, never a GET per contact
    assert sorted(result.imported_index) == [103, 104]
    assert list(result.skipped.index) == [105, 106, 107]
    assert list(result.skipped.columns) == ["email", "reason"]
    assert set(result.skipped["reason"]) == {"not found (mode update_only)"}
    assert (result.created, result.updated) == (0, 2)
    after = stored(emu)
    assert len(after) == 5  # nobody created
    assert after.loc["user4@example.com", "age"] == 40
    assert after.loc["user0@example.com", "city"] == "Old"


def test_create_only_never_overwrites(emu: Any) -> None:
    result = run(emu, frame(), mode="create_only")
    assert sorted(result.imported_index) == [105, 106, 107]
    assert list(result.skipped.index) == [103, 104]
    assert set(result.skipped["reason"]) == {"exists (mode create_only)"}
    assert (result.created, result.updated) == (3, 0)
    after = stored(emu)
    assert len(after) == 8
    assert after.loc["user3@example.com", "age"] == 1  # untouched
    assert after.loc["user7@example.com", "age"] == 70


def test_upsert_is_the_default_and_takes_no_export(emu: Any) -> None:
    result = run(emu, frame())
    assert result.skipped.empty and len(result.imported_index) == 5
    assert emu.state()["exports"] == 0


@pytest.mark.parametrize(
    ("mode", "imported", "skipped"),
    [("create_only", ["d"], ["a", "e"]), ("update_only", ["a", "e"], ["d"])],
)
def test_modes_with_rejects_and_duplicates_keep_the_invariant(
    emu: Any, mode: str, imported: list[str], skipped: list[str]
) -> None:
    df = pd.DataFrame(
        {
            "email": [
                "user0@example.com",  # exists
                "bad-email",  # rejected locally
                "new1@example.com",
                "NEW1@example.com",  # duplicate of the previous row (dedupe="last")
                "user1@example.com",  # exists
            ],
            "age": [1, 2, 3, 4, 5],
        },
        index=["a", "b", "c", "d", "e"],
    )
    result = run(emu, df, mode=mode)
    assert sorted(result.imported_index) == imported
    assert sorted(result.skipped.index) == skipped
    assert list(result.rejected.index.unique()) == ["b"]
    assert list(result.duplicates["row"]) == ["c"]
    summary = result.counts()
    assert summary["skipped"] == len(skipped) and summary["rejected"] == 1
    assert summary["imported"] == len(imported) and not summary["ok"]
    assert f"{len(skipped)} skipped" in repr(result)
    assert "skipped" in result._repr_html_()


def test_mode_with_a_stream_of_frames(emu: Any) -> None:
    df = frame()
    pieces = [df.iloc[:2], df.iloc[2:]]
    result = import_contacts(
        iter(pieces), emu.client(rate_limit=None), chunk_size=2, journal=False,
        mode="create_only", **FAST,
    )  # fmt: skip
    result.check_invariant(df.index)
    assert sorted(result.skipped.index) == [103, 104]
    assert result.created == 3


def test_bad_mode_is_refused_before_anything_is_sent(emu: Any) -> None:
    with pytest.raises(InputError, match="mode"):
        run(emu, frame(), mode="insert")
    assert emu.state()["imports_accepted"] == 0
