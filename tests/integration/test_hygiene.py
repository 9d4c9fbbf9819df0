"""plan / apply / sync_list against the emulator over HTTP (nothing mocked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import pytest

import mailtrap_pandas  # noqa: F401  (registers df.mailtrap)
from mailtrap_pandas.errors import InputError, NotFoundError
from mailtrap_pandas.jobs.exports import read_export
from mailtrap_pandas.jobs.list_sync import TooManyRemovalsError, sync_list
from mailtrap_pandas.jobs.plans import plan
from mailtrap_pandas.jobs.snapshot import StalePlanError, fingerprint

FIELDS = [
    {"name": "Age", "data_type": "integer", "merge_tag": "age"},
    {"name": "City", "data_type": "text", "merge_tag": "city"},
    {"name": "Score", "data_type": "float", "merge_tag": "score"},
    {"name": "Vip", "data_type": "boolean", "merge_tag": "vip"},
    {"name": "Born", "data_type": "date", "merge_tag": "born"},
]


@pytest.fixture
def account(emu: Any) -> dict[str, Any]:
    """Two lists; ann (full, on list A), bob (age only, no list), cy (on lists A and B)."""
    return emu.seed(  # type: ignore[no-any-return]
        fields=FIELDS,
        lists=[{"name": "A"}, {"name": "B"}],
        contacts=[
            {
                "email": "ann@example.com",
                "fields": {
                    "age": 30,
                    "city": "Riga",
                    "score": 1.5,
                    "vip": True,
                    "born": "2000-01-02",
                },
                "list_ids": [1],
            },
            {"email": "bob@example.com", "fields": {"age": 40}, "list_ids": []},
            {"email": "cy@example.com", "fields": {"city": "Oslo"}, "list_ids": [1, 2]},
        ],
    )


def frame() -> pd.DataFrame:
    """ann unchanged, bob updated, new created, a bad email, and a repeat of ann."""
    return pd.DataFrame(
        {
            "email": [
                "ann@example.com",
                "BOB@example.com",
                "new@example.com",
                "not-an-email",
                "ann@example.com",
            ],
            "age": [30, 41, 5, 1, 30],
            "city": ["Riga", "Paris", "Rome", None, "Riga"],
            "score": [1.5, 2.25, None, None, 1.5],
            "vip": [True, False, None, None, True],
            "born": ["2000-01-02", "1999-12-31", None, None, "2000-01-02"],
        },
        index=pd.Index(["p", "q", "r", "s", "t"], name="key"),
    )


def test_plan_classifies_rows_with_typed_field_changes(emu: Any, client: Any, account: Any) -> None:
    result = plan(frame(), client, progress=False)
    rows = result.rows
    assert list(rows.index) == ["p", "q", "r", "s", "t"]
    assert rows["action"].to_dict() == {
        "p": "duplicate",  # dedupe="last": "t" wins
        "q": "update",
        "r": "create",
        "s": "rejected",
        "t": "unchanged",
    }
    assert rows.loc["q", "email"].lower() == "bob@example.com"
    assert "'t'" in rows.loc["p", "reason"]
    assert rows.loc["s", "email"] == "not-an-email" and "email" in rows.loc["s", "reason"]
    assert set(rows.loc["q", "changed"].split()) == {"age", "city", "score", "vip", "born"}
    assert result.counts() == {
        "create": 1,
        "update": 1,
        "unchanged": 1,
        "skipped": 0,
        "duplicate": 1,
        "rejected": 1,
    }
    ch = result.changes.set_index("column")
    assert list(result.changes.columns) == ["row", "email", "column", "old", "new"]
    assert set(ch["row"]) == {"q"}  # creates carry no field changes, only updates
    # Old and new values are typed, not text; nothing stored shows as <NA>.
    assert ch.loc["age", "old"] == 40 and ch.loc["age", "new"] == 41
    assert not isinstance(ch.loc["age", "new"], str)
    assert ch.loc["city", "old"] is pd.NA and ch.loc["city", "new"] == "Paris"
    assert ch.loc["score", "new"] == 2.25 and isinstance(ch.loc["score", "new"], float)
    assert ch.loc["vip", "old"] is pd.NA and ch.loc["vip", "new"] is False
    assert ch.loc["born", "new"] == dt.date(1999, 12, 31)
    assert "Plan(" in repr(result) and "1 create, 1 update to apply" in result._repr_html_()
    assert list(result.to_apply().index) == ["q", "r"]


def test_plan_costs_one_export_not_one_get_per_contact(emu: Any, client: Any, account: Any) -> None:
    big = pd.DataFrame({"email": [f"u{i}@example.com" for i in range(300)], "age": 1})
    before = client.stats["requests"]
    plan(big, client, progress=False)
    used = client.stats["requests"] - before
    # 1 fields GET + 1 export POST + a few polls; never ~300.
    assert used <= 8, used
    assert emu.state()["exports"] == 1


def test_list_membership_change_is_an_update(emu: Any, client: Any, account: Any) -> None:
    df = pd.DataFrame({"email": ["ann@example.com", "bob@example.com", "cy@example.com"]})
    assert set(plan(df, client, progress=False).rows["action"]) == {"unchanged"}
    into_a = plan(df, client, progress=False, list_ids=[1]).rows
    # ann and cy are on list A already; bob is not.
    assert into_a["action"].tolist() == ["unchanged", "update", "unchanged"]
    assert into_a.loc[1, "changed"] == "list_ids"
    out_of_b = plan(df, client, progress=False, exclude_list_ids=[2]).rows
    assert out_of_b["action"].tolist() == ["unchanged", "unchanged", "update"]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("upsert", ["update", "create"]),
        ("update_only", ["update", "skipped"]),
        ("create_only", ["skipped", "create"]),
    ],
)
def test_modes_mark_skipped_rows(
    emu: Any, client: Any, account: Any, mode: str, expected: list[str]
) -> None:
    df = pd.DataFrame({"email": ["bob@example.com", "new@example.com"], "age": [99, 1]})
    result = plan(df, client, mode=mode, progress=False)  # type: ignore[arg-type]
    assert result.rows["action"].tolist() == expected
    skipped = result.rows[result.rows["action"] == "skipped"]
    assert all(mode in r for r in skipped["reason"])
    assert len(result.to_apply()) == expected.count("update") + expected.count("create")


def test_bad_mode_is_an_input_error(client: Any, account: Any) -> None:
    with pytest.raises(InputError, match="mode"):
        plan(frame(), client, mode="merge", progress=False)  # type: ignore[arg-type]


def test_nulls_skip_never_counts_a_missing_value_as_a_change(
    emu: Any, client: Any, account: Any
) -> None:
    df = pd.DataFrame(
        {
            "email": ["ann@example.com"],
            "age": pd.array([None], dtype="Int64"),
            "city": [None],
            "score": [float("nan")],
            "vip": pd.array([None], dtype="boolean"),
            "born": [pd.NaT],
        }
    )
    result = plan(df, client, progress=False, nulls="skip")
    assert result.rows["action"].tolist() == ["unchanged"]
    assert result.changes.empty


def test_apply_imports_only_creates_and_updates_then_plan_is_all_unchanged(
    emu: Any, client: Any, account: Any
) -> None:
    df = frame()
    first = plan(df, client, progress=False)
    imports_before = emu.state()["imports"]
    result = first.apply(progress=False)
    assert result.ok, result
    assert (result.created, result.updated) == (1, 1)
    assert emu.state()["imports"] == imports_before + 1
    after = read_export(client, progress=False).set_index("email")
    assert after.loc["bob@example.com", "age"] == 41
    assert after.loc["bob@example.com", "city"] == "Paris"
    assert after.loc["bob@example.com", "born"] == dt.date(1999, 12, 31)
    assert after.loc["new@example.com", "city"] == "Rome"
    assert after.loc["cy@example.com", "city"] == "Oslo"  # not in the frame: untouched
    assert "not-an-email" not in after.index
    again = plan(df, client, progress=False)
    assert again.counts()["create"] == again.counts()["update"] == 0
    assert again.counts()["unchanged"] == 3  # p is still a duplicate, s still rejected


def test_apply_twice_of_the_same_change_is_not_swallowed_by_the_journal(
    emu: Any, client: Any, account: Any
) -> None:
    df = pd.DataFrame({"email": ["bob@example.com"], "age": [41]})
    plan(df, client, progress=False).apply(progress=False)
    client.contacts.upsert("bob@example.com", fields={"age": 40})  # someone reverts it
    second = plan(df, client, progress=False)
    assert second.rows["action"].tolist() == ["update"]
    second.apply(progress=False)
    assert plan(df, client, progress=False).rows["action"].tolist() == ["unchanged"]


def test_stale_plan_is_refused_and_sends_no_import(emu: Any, client: Any, account: Any) -> None:
    stale = plan(frame(), client, progress=False)
    client.contacts.upsert("cy@example.com", fields={"city": "Bergen"})
    imports_before = emu.state()["imports"]
    with pytest.raises(StalePlanError, match="changed since"):
        stale.apply(progress=False)
    assert emu.state()["imports"] == imports_before


def test_stale_plan_by_list_membership_only(emu: Any, client: Any, account: Any) -> None:
    stale = plan(frame(), client, progress=False)
    client.contacts.upsert("bob@example.com", list_ids_included=[2])
    with pytest.raises(StalePlanError):
        stale.apply(progress=False)


def test_fingerprint_ignores_row_order(client: Any, account: Any) -> None:
    snap = read_export(client, progress=False)
    assert fingerprint(snap) == fingerprint(snap.iloc[::-1])
    assert fingerprint(snap) == fingerprint(read_export(client, progress=False))
    changed = snap.copy()
    changed.loc[0, "age"] = 31
    assert fingerprint(changed) != fingerprint(snap)


def test_plan_on_a_given_snapshot_takes_no_export(emu: Any, client: Any, account: Any) -> None:
    snap = read_export(client, progress=False)
    exports = emu.state()["exports"]
    result = plan(frame(), client, progress=False, snapshot=snap)
    assert emu.state()["exports"] == exports
    assert result.counts()["update"] == 1


def test_repeated_index_labels_are_refused(client: Any, account: Any) -> None:
    df = frame()
    df.index = ["a", "a", "b", "c", "d"]
    with pytest.raises(InputError, match="index"):
        plan(df, client, progress=False)


def test_accessor_forwards_plan(client: Any, account: Any) -> None:
    assert frame().mailtrap.plan(client, progress=False).counts()["create"] == 1


# -- sync_list -------------------------------------------------------------------------------


def members(client: Any, list_id: int) -> list[str]:
    return sorted(read_export(client, list_ids=[list_id], progress=False)["email"])


def test_sync_list_adds_existing_and_new_contacts(emu: Any, client: Any, account: Any) -> None:
    keep = pd.DataFrame({"email": ["ann@example.com", "bob@example.com", "eve@example.com"]})
    sync = sync_list(keep, 1, client, progress=False)
    assert sync.adds["email"].tolist() == ["bob@example.com", "eve@example.com"]
    assert sync.adds["exists"].tolist() == [True, False]
    assert sync.removes.empty and sync.unchanged == 1  # cy stays: remove_missing=False
    sync.apply(progress=False)
    assert members(client, 1) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
        "eve@example.com",
    ]
    assert members(client, 2) == ["cy@example.com"]  # another list: untouched
    assert sync_list(keep, 1, client, progress=False).empty


def test_sync_list_remove_missing(emu: Any, client: Any, account: Any) -> None:
    keep = pd.DataFrame({"email": ["ann@example.com", "bob@example.com"], "age": [1, 2]})
    sync = keep.mailtrap.sync_list(1, client, remove_missing=True, progress=False)
    assert sync.removes["email"].tolist() == ["cy@example.com"]
    assert sync.adds["email"].tolist() == ["bob@example.com"]
    assert "SyncPlan(" in repr(sync) and "Removes" in sync._repr_html_()
    sync.apply(progress=False)
    assert members(client, 1) == ["ann@example.com", "bob@example.com"]
    assert members(client, 2) == ["cy@example.com"]  # cy keeps its other list
    after = read_export(client, progress=False).set_index("email")
    assert after.loc["bob@example.com", "age"] == 40  # field values are not touched
    again = sync_list(keep, 1, client, remove_missing=True, progress=False)
    assert again.empty and again.unchanged == 2


def test_sync_list_readd_after_remove_is_sent(emu: Any, client: Any, account: Any) -> None:
    keep = pd.DataFrame({"email": ["bob@example.com"]})
    sync_list(keep, 2, client, progress=False).apply(progress=False)
    client.contacts.upsert("bob@example.com", list_ids_excluded=[2])
    sync_list(keep, 2, client, progress=False).apply(progress=False)
    assert "bob@example.com" in members(client, 2)


def test_sync_list_rejects_bad_emails_and_unknown_list(emu: Any, client: Any, account: Any) -> None:
    df = pd.DataFrame({"email": ["ann@example.com", "nope"]})
    sync = sync_list(df, 1, client, progress=False)
    assert sync.rejected["row"].tolist() == [1]
    exports = emu.state()["exports"]
    with pytest.raises(NotFoundError):
        sync_list(df, 999, client, progress=False)
    assert emu.state()["exports"] == exports  # failed before any export


def test_sync_list_stale_is_refused(emu: Any, client: Any, account: Any) -> None:
    sync = sync_list(
        pd.DataFrame({"email": ["ann@example.com"]}), 1, client, remove_missing=True, progress=False
    )
    client.contacts.upsert("dan@example.com", list_ids_included=[1])
    imports = emu.state()["imports"]
    with pytest.raises(StalePlanError):
        sync.apply(progress=False)
    assert emu.state()["imports"] == imports


def test_empty_sync_apply_sends_nothing(emu: Any, client: Any, account: Any) -> None:
    sync = sync_list(pd.DataFrame({"email": ["ann@example.com"]}), 1, client, progress=False)
    before = client.stats["requests"]
    assert sync.apply(progress=False) == {}
    assert client.stats["requests"] == before


# -- sync_list: a guard against emptying a list (issue 10, point 8) ---------------------------


def test_empty_member_frame_does_not_empty_the_list(emu: Any, client: Any) -> None:
    emu.seed(
        lists=[{"name": "A"}],
        contacts=[{"email": f"m{i}@example.com", "list_ids": [1]} for i in range(100)],
    )
    sync = sync_list(pd.DataFrame({"email": []}), 1, client, remove_missing=True, progress=False)
    assert sync.members == 100 and len(sync.removes) == 100
    assert "members=100" in repr(sync)
    imports = emu.state()["imports"]
    with pytest.raises(TooManyRemovalsError) as caught:
        sync.apply(progress=False)
    err = caught.value
    assert isinstance(err, InputError)
    assert (err.removes, err.members, err.max_remove_fraction) == (100, 100, 0.5)
    message = str(err)
    assert "refusing to remove 100 of the 100 members of list 1 (100%)" in message
    assert "max_remove_fraction=1 or more" in message and "nothing was sent" in message
    assert emu.state()["imports"] == imports  # nothing sent
    assert len(members(client, 1)) == 100


def test_remove_fraction_limit_and_override(emu: Any, client: Any) -> None:
    emu.seed(
        lists=[{"name": "A"}],
        contacts=[{"email": f"m{i}@example.com", "list_ids": [1]} for i in range(10)],
    )
    keep = pd.DataFrame({"email": [f"m{i}@example.com" for i in range(5)] + ["new@example.com"]})
    half = sync_list(keep, 1, client, remove_missing=True, progress=False)
    assert half.remove_fraction == 0.5  # exactly half: allowed by the default
    keep3 = keep.iloc[2:]
    seven = sync_list(keep3, 1, client, remove_missing=True, progress=False)
    with pytest.raises(TooManyRemovalsError, match=r"7 of the 10 members .*\(70%\).*=0\.7 or more"):
        seven.apply(progress=False)
    with pytest.raises(InputError, match="from 0 to 1"):
        seven.apply(progress=False, max_remove_fraction=1.5)
    assert len(members(client, 1)) == 10  # neither the adds nor the removes were sent
    done = seven.apply(progress=False, max_remove_fraction=0.7)
    assert set(done) == {"adds", "removes"}
    assert members(client, 1) == ["m2@example.com", "m3@example.com", "m4@example.com"] + [
        "new@example.com"
    ]
