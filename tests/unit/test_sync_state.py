"""The sync state: content hashes, the in-memory state and its table in the store."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd

from mailtrap_pandas.jobs.store import Journal, SyncStore
from mailtrap_pandas.jobs.sync.raw import raw_hashes
from mailtrap_pandas.jobs.sync.state import SyncState, content_hashes


def frame(**columns: object) -> pd.DataFrame:
    base = {
        "email": ["a@x.io", "b@x.io"],
        "age": pd.array([1, None], dtype="Int64"),
        "name": pd.array(["Ann", None], dtype="string[pyarrow]"),
        "city": pd.array(["Riga", "Oslo"], dtype="string[pyarrow]"),
    }
    return pd.DataFrame({**base, **columns})


def test_content_hash_follows_values_not_column_order() -> None:
    df = frame()
    h = content_hashes(df)
    assert len(set(h.tolist())) == 2 and not (h & 1).any()  # low bit kept for "seen"
    assert (content_hashes(df[["city", "email", "name", "age"]]) == h).all()
    moved = frame(name=pd.array(["Ann", "Riga"], dtype="string[pyarrow]"), city=["Riga", None])
    moved["city"] = pd.array(["Riga", None], dtype="string[pyarrow]")
    assert content_hashes(moved)[1] != h[1]  # a value moved to another column is a change
    older = frame(age=pd.array([2, None], dtype="Int64"))
    assert content_hashes(older)[0] != h[0] and content_hashes(older)[1] == h[1]


def test_state_compare_marks_seen_and_repeats() -> None:
    keys = np.array([5, 9, 12], dtype=np.uint64)
    contents = np.array([100, 200, 300], dtype=np.uint64)
    state = SyncState(keys.copy(), contents.copy())
    same, repeat = state.compare(
        np.array([9, 12, 7], dtype=np.uint64), np.array([200, 302, 1], dtype=np.uint64)
    )
    assert same.tolist() == [True, False, False] and not repeat.any()
    assert state.unseen().tolist() == [5]
    same, repeat = state.compare(np.array([9], dtype=np.uint64), np.array([200], dtype=np.uint64))
    assert same.tolist() == [True] and repeat.tolist() == [True]


def test_store_merges_newest_forgets_and_tracks_members(tmp_path: object) -> None:
    with Journal(":memory:") as journal:
        store = SyncStore(journal, "http://x", "1")
        rng = np.random.default_rng(0)
        keys = rng.integers(0, 2**63, 5000, dtype=np.uint64) * np.uint64(2)
        store.confirm(keys, np.full(5000, 2, dtype=np.uint64))
        store.confirm(keys[:10], np.full(10, 4, dtype=np.uint64))  # newer values win
        loaded_keys, loaded, raws = store.load()
        assert not raws.any()  # confirmed without raw hashes: unknown
        assert store.count() == 5000 and (np.diff(loaded_keys.astype(object)) > 0).all()
        by_key = dict(zip(loaded_keys.tolist(), loaded.tolist(), strict=True))
        assert by_key[int(keys[0])] == 4 and by_key[int(keys[20])] == 2
        store.forget(keys[:100])
        assert store.count() == 4900
        store.members_added(3, keys[:50])
        store.members_removed(3, keys[:10])
        assert sorted(store.members(3).tolist()) == sorted(keys[10:50].tolist())
        assert len(store.members(4)) == 0
        other = SyncStore(journal, "http://x", "2")  # another account: its own state
        assert other.count() == 0 and other.hash_key == store.hash_key


def raw(values: list[object], dtype: object = object) -> list[int]:
    df = pd.DataFrame({"email": ["a@x.io"] * len(values), "v": pd.Series(values, dtype=dtype)})
    keys = np.ones(len(df), dtype=np.uint64)
    return raw_hashes(df, ["email", "v"], np.uint64(1), keys).tolist()


def test_raw_hash_tells_apart_what_validates_differently() -> None:
    # pandas alone hashes "nan" like NaN, "None" like None and 1 like "1": these do not.
    texts = raw(["nan", np.nan, "None", None, "<NA>", pd.NA, "1", 1, 1.0, True, "", "x"])
    assert len(set(texts[:2])) == 2 and len(set(texts[2:4])) == 2 and len(set(texts[4:6])) == 2
    assert len(set(texts[6:])) == 6
    assert raw([None, np.nan, pd.NA]) == [raw([None])[0]] * 3  # missing is missing
    assert raw(["a", "b"]) == raw(["a", "b"]) and raw(["a"]) != raw(["b"])
    assert raw([1, 2], "Int64") != raw([2, 1], "Int64")
    assert raw([True, None]) != raw([False, None]) and all(h & 1 for h in raw(["a", None]))


def test_same_raw_leaves_repeated_and_seen_emails_to_validation() -> None:
    keys = np.array([5, 9, 12, 20], dtype=np.uint64)
    raws = np.array([51, 91, 121, 0], dtype=np.uint64)  # 20: raw hash unknown
    state = SyncState(keys.copy(), np.zeros(4, dtype=np.uint64), raws.copy())
    rows = np.array([5, 9, 12, 12, 20, 7], dtype=np.uint64)
    same = state.same_raw(rows, np.array([51, 90, 121, 121, 0, 71], dtype=np.uint64))
    # 5 unchanged; 9 changed; 12 on two rows (dedupe decides); 20 unknown; 7 new.
    assert same.tolist() == [True, False, False, False, False, False]
    assert state.unseen().tolist() == [9, 12, 20]
    again = state.same_raw(np.array([5], dtype=np.uint64), np.array([51], dtype=np.uint64))
    assert again.tolist() == [False]  # seen earlier in this run: a stream's repeat
    assert state.raws_of(np.array([9, 7], dtype=np.uint64)).tolist() == [91, 0]


def test_store_keeps_every_hash_bit_for_bit_across_batches(tmp_path: Path) -> None:
    # Beyond a float's 53 bits: any float on the way would show. Python ints, so that the
    # arithmetic stays exact under NumPy 1.x too (there a uint64 scalar minus 1 is a float).
    big = 2**64 - 3
    with Journal(tmp_path / "j.sqlite") as journal:
        store = SyncStore(journal, "http://x", "1")
        keys = np.array([2, 4], dtype=np.uint64)  # one bucket (top byte 0)
        store.confirm(keys, np.array([big, 1], np.uint64), np.array([big - 1, 7], np.uint64))
        store.confirm(np.array([6], np.uint64), np.array([big - 2], np.uint64))  # raws unknown
        loaded = store.load()
        assert [a.dtype for a in loaded] == [np.uint64] * 3
        assert [a.tolist() for a in loaded] == [
            [2, 4, 6],
            [big, 1, big - 2],
            [big - 1, 7, 0],
        ]
        count = store.count()
        assert count == 3 and isinstance(count, int)


def test_store_the_last_of_repeated_emails_in_one_batch_wins() -> None:
    # Many emails in few buckets: an unstable sort anywhere would let an older value win.
    rng = np.random.default_rng(1)
    keys = (rng.integers(0, 2**40, 3000, dtype=np.uint64) | np.uint64(1)) << np.uint64(3)
    keys |= rng.integers(0, 4, 3000, dtype=np.uint64) << np.uint64(56)
    keys = np.unique(keys)
    n = len(keys)
    with Journal(":memory:") as journal:
        store = SyncStore(journal, "http://x", "1")
        store.confirm(
            np.concatenate([keys, keys, keys]),
            np.concatenate([np.full(n, 1), np.full(n, 2), np.full(n, 3)]).astype(np.uint64),
            np.concatenate([np.full(n, 4), np.full(n, 5), np.full(n, 6)]).astype(np.uint64),
        )
        loaded_keys, contents, raws = store.load()
        assert loaded_keys.tolist() == sorted(keys.tolist())
        assert set(contents.tolist()) == {3} and set(raws.tolist()) == {6}


def test_store_forgetting_a_whole_bucket_drops_its_row(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        store = SyncStore(journal, "http://x", "1")
        keys = np.array([1, 2, 2**63], dtype=np.uint64)
        store.confirm(keys, keys)
        store.forget(keys[:2])
        assert [a.tolist() for a in store.load()[:2]] == [[2**63], [2**63]]
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("SELECT bucket FROM sync_state").fetchall() == [(128,)]
        store.forget(keys)
        assert store.count() == 0 and [len(a) for a in store.load()] == [0, 0, 0]


def test_store_remembers_when_it_was_reconciled(tmp_path: Path) -> None:
    with Journal(tmp_path / "j.sqlite") as journal:
        store, other = SyncStore(journal, "http://x", "1"), SyncStore(journal, "http://x", "2")
        assert store.reconciled_at is None
        store.mark_reconciled(1234.5)
        assert store.reconciled_at == 1234.5 and other.reconciled_at is None
    with Journal(tmp_path / "j.sqlite") as journal:
        assert SyncStore(journal, "http://x", "1").reconciled_at == 1234.5


def test_store_hash_key_is_fixed_by_the_files_secret(tmp_path: Path) -> None:
    # The state on disk is hashed with this key: a file written before must keep its key.
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE meta SET value=? WHERE key='secret'", ("22" * 32,))
    with Journal(path) as journal:
        key = SyncStore(journal, "http://x", "1").hash_key
    assert key == "7eQKTDlEThSpbIrx"  # 16 characters: what pandas.util.hash_array takes
    assert pd.util.hash_array(np.array(["a@x.io"], dtype=object), hash_key=key).dtype == np.uint64
