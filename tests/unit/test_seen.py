"""The compact email memory of streamed imports behaves like a dict of emails."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailtrap_pandas.jobs.imports import seen as seen_module
from mailtrap_pandas.jobs.imports.seen import SeenEmails, email_hashes


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
