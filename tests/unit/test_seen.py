"""The compact email memory of streamed imports behaves like a dict of emails."""

from __future__ import annotations

import mmap

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_pandas.jobs.imports import seen as seen_module
from mailtrap_pandas.jobs.imports.seen import SeenEmails, SeenKeys, email_hashes


def test_case_insensitive_and_newest_value_wins() -> None:
    seen = SeenEmails()
    seen.insert(email_hashes(["A@x.io", "b@x.io"]), np.array([1, 2], dtype=np.int64))
    seen.insert(email_hashes(["a@X.IO"]), np.array([7], dtype=np.int64))
    found, values = seen.lookup(email_hashes(["a@x.io", "B@x.io", "c@x.io"]))
    assert found.tolist() == [True, True, False]
    assert values[:2].tolist() == [7, 2]
    assert len(seen) == 2


def test_labels_round_trip_for_any_hashable() -> None:
    seen = SeenEmails()
    for labels in (pd.RangeIndex(3, 6), pd.Index(["x", ("a", 1), -4], dtype=object)):
        assert seen.decode_labels(seen.encode_labels(labels)) == list(labels)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 400), max_size=60), max_size=25),
    st.sampled_from([seen_module._MAPPED_FROM, 0]),
)
def test_matches_a_plain_dict(batches: list[list[int]], mapped_from: int) -> None:
    # mapped_from=0: every run in its own memory mapping, as large runs are.
    seen_module._MAPPED_FROM, default = mapped_from, seen_module._MAPPED_FROM
    try:
        _matches_a_plain_dict(batches)
    finally:
        seen_module._MAPPED_FROM = default


def _matches_a_plain_dict(batches: list[list[int]]) -> None:
    seen, model = SeenEmails(), {}
    for number, batch in enumerate(batches):
        emails = [f"user{i}@example.com" for i in dict.fromkeys(batch)]
        keys = email_hashes(emails)
        found, values = seen.lookup(keys)
        assert found.tolist() == [e in model for e in emails]
        assert [int(v) for v, f in zip(values, found, strict=True) if f] == [
            model[e] for e in emails if e in model
        ]
        seen.insert(keys, np.full(len(keys), number, dtype=np.int64))
        model.update(dict.fromkeys(emails, number))
    assert len(seen) == len(model)


def test_runs_stop_growing_at_max_run_and_still_match(monkeypatch: pytest.MonkeyPatch) -> None:
    # Memory grows by the 16 bytes per email only: no merge builds a run past MAX_RUN.
    monkeypatch.setattr(seen_module, "MAX_RUN", 64)
    seen, model = SeenEmails(), {}
    for number in range(40):
        emails = [f"user{(number * 7 + i) % 500}@example.com" for i in range(20)]
        keys = email_hashes(emails)
        found, values = seen.lookup(keys)
        assert found.tolist() == [e in model for e in emails]
        assert [int(v) for v, f in zip(values, found, strict=True) if f] == [
            model[e] for e in emails if e in model
        ]
        seen.insert(keys, np.full(len(keys), number, dtype=np.int64))
        model.update(dict.fromkeys(emails, number))
    assert max(len(keys) for keys, _ in seen._runs) <= 64 and len(seen._runs) > 3
    assert len(seen) == len(model)


def test_a_key_given_twice_in_one_batch_keeps_the_later_value() -> None:
    seen = SeenEmails()
    seen.insert(email_hashes(["a@x.io", "A@x.io"]), np.array([1, 2], dtype=np.int64))
    found, values = seen.lookup(email_hashes(["a@x.io"]))
    assert found.tolist() == [True] and values.tolist() == [2]
    assert len(seen) == 1


def test_lookup_of_keys_past_either_end_of_a_run() -> None:
    seen = SeenEmails()
    keys = np.array([10, 20], dtype=np.uint64)
    seen.insert(keys, np.array([1, 2], dtype=np.int64))
    probe = np.array([5, 10, 15, 20, 25], dtype=np.uint64)
    found, values = seen.lookup(probe)
    assert found.tolist() == [False, True, False, True, False]
    assert values.tolist() == [0, 1, 0, 2, 0]
    single = SeenEmails()
    single.insert(np.array([10], dtype=np.uint64), np.array([4], dtype=np.int64))
    assert single.lookup(np.array([99, 10], dtype=np.uint64))[0].tolist() == [False, True]
    assert SeenEmails().lookup(probe)[0].tolist() == [False] * 5 and len(SeenEmails()) == 0


def test_empty_inserts_change_nothing() -> None:
    seen = SeenEmails()
    seen.insert(np.array([], dtype=np.uint64), np.array([], dtype=np.int64))
    assert seen._runs == [] and len(seen) == 0


def test_runs_merge_log_structured(monkeypatch: pytest.MonkeyPatch) -> None:
    # A new run merges into the one before while it is at least half its size, and no
    # merge makes a run larger than MAX_RUN: O(log n) runs, bounded transient memory.
    monkeypatch.setattr(seen_module, "MAX_RUN", 30)
    seen = SeenEmails()
    sizes = []
    for batch in range(6):
        keys = np.arange(batch * 10, batch * 10 + 10, dtype=np.uint64)
        seen.insert(keys, np.zeros(10, dtype=np.int64))
        sizes.append([len(k) for k, _ in seen._runs])
    # 20 + 10 = 30 is still a merge (at most MAX_RUN); 30 + 10 is not.
    assert sizes == [[10], [20], [30], [30, 10], [30, 20], [30, 30]]
    seen.insert(np.array([999], dtype=np.uint64), np.zeros(1, dtype=np.int64))
    assert [len(k) for k, _ in seen._runs] == [30, 30, 1]  # 1 is less than half of 30
    assert len(seen) == 61


def test_small_non_negative_int_labels_are_their_own_values() -> None:
    seen = SeenEmails()
    assert seen.encode_labels(pd.Index([0, 5, 2])).tolist() == [0, 5, 2]
    assert seen.encode_labels(pd.RangeIndex(0)).tolist() == []
    assert seen.decode_labels(np.array([0, 5], dtype=np.int64)) == [0, 5]
    # Others get slots -1, -2, ... in order, across calls.
    assert seen.encode_labels(pd.Index([-1, 3])).tolist() == [-1, -2]
    assert seen.encode_labels(pd.Index(["x"])).tolist() == [-3]
    assert seen.decode_labels(np.array([-3, -1, 0], dtype=np.int64)) == ["x", -1, 0]


def test_keyed_hashes_differ_by_key_and_stay_case_insensitive() -> None:
    plain = email_hashes(["a@x.io", None])  # type: ignore[list-item]
    one = email_hashes(["a@x.io", "A@X.IO"], hash_key="0123456789abcdef")
    other = email_hashes(["a@x.io"], hash_key="fedcba9876543210")
    assert one[0] == one[1] and one[0] != other[0] and one[0] != plain[0]
    assert plain[1] == email_hashes([""])[0]  # a missing email hashes as the empty one
    assert email_hashes(pd.Index(["a@x.io"]))[0] == plain[0]


def test_values_come_back_exactly_whatever_the_int64() -> None:
    # Values are row labels or chunk numbers: int64 end to end, never through a float.
    seen = SeenEmails()
    big = np.array([2**62 + 1, -(2**62) - 1], dtype=np.int64)
    seen.insert(email_hashes(["a@x.io", "b@x.io"]), big)
    found, values = seen.lookup(email_hashes(["b@x.io", "a@x.io", "c@x.io"]))
    assert values.dtype == np.int64 and found.dtype == np.bool_
    assert values.tolist() == [-(2**62) - 1, 2**62 + 1, 0]


def test_the_last_of_many_repeats_in_one_large_batch_wins() -> None:
    # Thousands of repeats in one batch: the sort that groups equal keys must keep
    # their order (stable), or an older row could win over a newer one.
    rng = np.random.default_rng(1)
    emails = [f"user{i}@example.com" for i in rng.integers(0, 50, 5_000)]
    seen = SeenEmails()
    seen.insert(email_hashes(emails), np.arange(len(emails), dtype=np.int64))
    last = {e: i for i, e in enumerate(emails)}
    found, values = seen.lookup(email_hashes(list(last)))
    assert found.all() and values.tolist() == list(last.values())


@pytest.mark.parametrize("mapped_from", [seen_module._MAPPED_FROM, 0])
def test_keys_a_float_could_not_tell_apart_stay_apart(
    monkeypatch: pytest.MonkeyPatch, mapped_from: int
) -> None:
    # 64-bit hashes that differ in their last bits only: a run kept as float64 would
    # merge them into one (found where nothing was inserted). mapped_from=0: in mappings.
    monkeypatch.setattr(seen_module, "_MAPPED_FROM", mapped_from)
    seen = SeenEmails()
    seen.insert(np.array([2**60 + 1], dtype=np.uint64), np.array([1], dtype=np.int64))
    seen.insert(np.array([2**60 + 3], dtype=np.uint64), np.array([3], dtype=np.int64))
    assert [len(keys) for keys, _ in seen._runs] == [2]  # merged
    found, values = seen.lookup(np.array([2**60 + 1, 2**60 + 2, 2**60 + 3], dtype=np.uint64))
    assert found.tolist() == [True, False, True] and values.tolist() == [1, 0, 3]


def test_a_merge_keeps_each_key_once_even_the_last_of_the_older_run() -> None:
    # The key replaced is the older run's largest: updated in place, not added again.
    seen = SeenEmails()
    seen.insert(np.array([10, 20], dtype=np.uint64), np.array([1, 2], dtype=np.int64))
    seen.insert(np.array([20], dtype=np.uint64), np.array([9], dtype=np.int64))
    assert [keys.tolist() for keys, _ in seen._runs] == [[10, 20]]
    assert seen.lookup(np.array([10, 20], dtype=np.uint64))[1].tolist() == [1, 9]


def test_a_run_under_half_the_one_before_is_not_merged_yet() -> None:
    seen = SeenEmails()
    seen.insert(np.arange(25, dtype=np.uint64), np.zeros(25, dtype=np.int64))
    seen.insert(np.arange(100, 110, dtype=np.uint64), np.zeros(10, dtype=np.int64))
    assert [len(keys) for keys, _ in seen._runs] == [25, 10]  # 2 x 10 < 25
    seen.insert(np.arange(200, 203, dtype=np.uint64), np.zeros(3, dtype=np.int64))
    assert [len(keys) for keys, _ in seen._runs] == [25, 10, 3]


def mapped(array: np.ndarray) -> bool:
    """Whether the array lives in an anonymous memory mapping of its own."""
    base = array.base
    return isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)


def test_runs_from_the_mapping_threshold_on_get_a_mapping_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A long-lived run in a mapping of its own is given back whole when merged away;
    # a smaller one stays on the heap. The threshold is in bytes and counts as mapped.
    monkeypatch.setattr(seen_module, "_MAPPED_FROM", 16 * 8)
    for size, expected in ((15, False), (16, True)):
        stored = SeenEmails()  # one batch: the run as given
        stored.insert(np.arange(size, dtype=np.uint64), np.zeros(size, dtype=np.int64))
        merged = SeenEmails()  # two batches merged into one run of the same size
        merged.insert(np.arange(size - 7, dtype=np.uint64), np.zeros(size - 7, dtype=np.int64))
        merged.insert(np.arange(100, 107, dtype=np.uint64), np.zeros(7, dtype=np.int64))
        for seen in (stored, merged):
            ((keys, values),) = seen._runs
            assert len(keys) == size
            assert mapped(keys) is expected and mapped(values) is expected


def test_labels_are_int64_whatever_the_integer_index_and_a_single_negative_gets_a_slot() -> None:
    seen = SeenEmails()
    narrow = seen.encode_labels(pd.Index([0, 5], dtype="int32"))
    assert narrow.dtype == np.int64 and narrow.tolist() == [0, 5]
    assert seen.encode_labels(pd.Index([-7])).tolist() == [-1]
    assert seen.decode_labels(np.array([-1, 5], dtype=np.int64)) == [-7, 5]


def test_seen_keys_is_a_set_of_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    # dedupe="last"'s read-ahead: 8 bytes per email; runs merged as SeenEmails's.
    monkeypatch.setattr(seen_module, "MAX_RUN", 64)
    keys = SeenKeys()
    rng = np.random.default_rng(1)
    all_keys = rng.permutation(np.arange(1, 2001, dtype=np.uint64) * 7919)
    for start in range(0, 1480, 37):
        batch = all_keys[start : start + 37]
        assert not keys.contains(batch).any()
        keys.add(batch)
    assert len(keys) == 1480 and all(len(run) <= 64 for run in keys._runs)
    assert all((np.diff(run.astype(np.int64)) > 0).all() for run in keys._runs)
    assert keys.contains(all_keys[:1480]).all() and not keys.contains(all_keys[1480:]).any()
    keys.add(np.array([], dtype=np.uint64))
    assert len(keys) == 1480


def test_seen_keys_runs_merge_log_structured(monkeypatch: pytest.MonkeyPatch) -> None:
    # As SeenEmails's runs: merged while the newest is at least half the one before, never
    # past MAX_RUN; each run sorted, and the union keeps every key once.
    monkeypatch.setattr(seen_module, "MAX_RUN", 30)
    keys, sizes = SeenKeys(), []
    for batch in range(6):
        keys.add(np.arange(batch * 10 + 9, batch * 10 - 1, -1).astype(np.uint64))  # unsorted
        sizes.append([len(run) for run in keys._runs])
    assert sizes == [[10], [20], [30], [30, 10], [30, 20], [30, 30]]
    keys.add(np.array([999], dtype=np.uint64))
    assert [len(run) for run in keys._runs] == [30, 30, 1] and len(keys) == 61
    assert [run.tolist() for run in keys._runs[:2]] == [list(range(30)), list(range(30, 60))]
    assert keys.contains(np.array([0, 59, 60, 999, 1000], dtype=np.uint64)).tolist() == [
        True,
        True,
        False,
        True,
        False,
    ]


def test_seen_keys_merge_when_the_newest_run_is_at_least_half_the_one_before() -> None:
    keys = SeenKeys()
    keys.add(np.arange(8, dtype=np.uint64))
    keys.add(np.arange(8, 11, dtype=np.uint64))  # 3 < 8 / 2: kept apart
    assert [len(run) for run in keys._runs] == [8, 3]
    keys.add(np.arange(11, 15, dtype=np.uint64))  # 4 >= 3 / 2, then 7 >= 8 / 2: one run
    assert [len(run) for run in keys._runs] == [15]
    again = SeenKeys()
    again.add(np.arange(8, dtype=np.uint64))
    again.add(np.arange(8, 12, dtype=np.uint64))  # exactly half: merged
    assert [run.tolist() for run in again._runs] == [list(range(12))]
